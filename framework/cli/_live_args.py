"""Arguments shared by the live commands: subscriptions, server URL, API key, recording."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import stat
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import trio

from .._errors import ConfigError
from .._secret import Secret
from ..adapters.insightsentry import DEFAULT_URL, Subscription
from ..recording import Durability

log = logging.getLogger(__name__)

API_KEY_ENV = "INSIGHTSENTRY_API_KEY"


def add_subscription_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--series",
        action="append",
        default=[],
        metavar="CODE[@INTERVAL]",
        help="bar series to subscribe to, e.g. NASDAQ:AAPL@1m (INTERVAL: 1s, 5m, 1h, 1D, 1W, "
        "1M, tick; default 1m); repeatable",
    )
    parser.add_argument(
        "--quote",
        action="append",
        default=[],
        metavar="CODE",
        help="quote stream to subscribe to, e.g. NASDAQ:TSLA; repeatable",
    )
    parser.add_argument(
        "--bars",
        type=int,
        default=None,
        metavar="N",
        help="bars of history each series subscription asks for in its first message",
    )
    parser.add_argument(
        "--url", default=DEFAULT_URL, help=f"feed URL, ws:// or wss:// (default {DEFAULT_URL})"
    )
    parser.add_argument(
        "--rest-url",
        metavar="URL",
        help="REST API for warm-up history and gap backfill, http:// or https:// (default: "
        "InsightSentry's when --url is InsightSentry's; off otherwise)",
    )
    parser.add_argument(
        "--no-backfill", action="store_true", help="report gaps instead of filling them over REST"
    )
    parser.add_argument(
        "--api-key-file",
        metavar="PATH",
        help=f"read the API key from PATH instead of ${API_KEY_ENV} (never pass it as an argument)",
    )
    parser.add_argument("--duration", type=float, metavar="SECONDS", help="stop after SECONDS")
    parser.add_argument(
        "--durability",
        choices=[d.value for d in Durability],
        default=Durability.GROUP.value,
        help="journal durability: process (survives a crash of tradewire), group (also fsync "
        "every 200 ms), strict (fsync before delivery)",
    )


def subscriptions_from(args: argparse.Namespace) -> list[Subscription]:
    subs = [Subscription.parse_cli("series", text) for text in args.series]
    if args.bars is not None:
        import attrs

        subs = [attrs.evolve(s, bars=args.bars) for s in subs]
    subs += [Subscription.parse_cli("quote", text) for text in args.quote]
    if not subs:
        raise ConfigError("subscribe to something: give --series CODE[@INTERVAL] or --quote CODE")
    return subs


def checked_url(url: str, *, option: str, schemes: tuple[str, ...]) -> str:
    """``url`` if it has one of ``schemes``, a host and no port outside 1..65535.

    Checked before anything connects: a bad port otherwise surfaces deep inside a connection
    attempt, as a ``ValueError`` from ``urllib`` wrapped in exception groups.
    Raises :class:`ConfigError` (one line, naming ``option``).
    """
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # an unbalanced IPv6 bracket
        raise ConfigError(f"{option} is not a URL: {url!r}") from None
    if parts.scheme not in schemes:
        wanted = " or ".join(f"{scheme}://" for scheme in schemes)
        raise ConfigError(f"{option} must start with {wanted}, got {url!r}")
    if not parts.hostname:
        raise ConfigError(f"{option} has no host: {url!r}")
    try:
        port = parts.port
    except ValueError:  # out of 0..65535, or not a number
        port = 0
    if port == 0:
        raise ConfigError(f"{option}: the port must be a number in 1..65535, got {url!r}")
    return url


def feed_url_from(args: argparse.Namespace) -> str:
    """``--url``, checked: ws:// or wss://, a host, a valid port."""
    return checked_url(args.url, option="--url", schemes=("ws", "wss"))


def rest_url_from(args: argparse.Namespace) -> str | None:
    """``--rest-url`` (None when not given), checked: http:// or https://, a host, a port."""
    if args.rest_url is None:
        return None
    return checked_url(args.rest_url, option="--rest-url", schemes=("http", "https"))


def api_key_from(args: argparse.Namespace) -> Secret:
    """The key from ``--api-key-file`` or the environment; never from the command line."""
    if args.api_key_file:
        path = Path(args.api_key_file)
        try:
            mode = path.stat().st_mode
            text = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the API key file {path}: {exc.strerror}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("API key file %s is readable by others; chmod 600 it", path)
        if not text:
            raise ConfigError(f"the API key file {path} is empty")
        return Secret(text)
    value = os.environ.get(API_KEY_ENV, "").strip()
    if not value:
        raise ConfigError(f"no API key: set ${API_KEY_ENV} or pass --api-key-file PATH")
    return Secret(value)


def durability_from(args: argparse.Namespace) -> Durability:
    return Durability(args.durability)


async def stop_on_signals(stop: Callable[[], None], cancel_scope: trio.CancelScope) -> None:
    """First Ctrl+C (or SIGTERM) stops gracefully; a second one cancels at once."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        first = True
        async for _ in signals:
            if first:
                log.warning("stopping: finishing what was received (Ctrl+C again to abort)")
                stop()
                first = False
            else:
                cancel_scope.cancel()
