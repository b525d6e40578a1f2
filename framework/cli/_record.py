"""Record a live InsightSentry session: every frame journalled with its receive time.

The API key comes from $INSIGHTSENTRY_API_KEY (or --api-key-file) and never reaches the file:
outbound frames are redacted before they are written. Ctrl+C stops cleanly with everything
recorded so far intact; `tradewire inspect FILE` summarises the result.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

import trio

from ._live_args import (
    add_subscription_arguments,
    api_key_from,
    durability_from,
    feed_url_from,
    rest_url_from,
    stop_on_signals,
    subscriptions_from,
)
from ._progress import can_redraw

if TYPE_CHECKING:
    from .._engine import Engine
    from ..adapters.insightsentry import InsightSentryFeed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_subscription_arguments(parser)
    parser.add_argument("--out", required=True, metavar="FILE.twrec", help="the new journal")
    parser.add_argument("-q", "--quiet", action="store_true", help="no live view, no summary")


def run(args: argparse.Namespace) -> int:
    from ..adapters.insightsentry._session import paper_trade

    subscriptions = subscriptions_from(args)
    url, rest_url = feed_url_from(args), rest_url_from(args)
    api_key = api_key_from(args)
    show_view = can_redraw(sys.stdout) and not args.quiet
    seen: dict[str, InsightSentryFeed] = {}

    async def main() -> None:
        async with trio.open_nursery() as nursery:

            def attach(engine: Engine, feed: InsightSentryFeed) -> None:
                seen["feed"] = feed
                nursery.start_soon(stop_on_signals, engine.stop, nursery.cancel_scope)
                if show_view:
                    from ._live_view import show_live_view

                    nursery.start_soon(show_live_view, engine, feed)

            await paper_trade(
                [],
                subscriptions,
                api_key=api_key,
                url=url,
                rest_url=rest_url,
                backfill=not args.no_backfill,
                record=args.out,
                duration=args.duration,
                durability=durability_from(args),
                on_engine=attach,
            )
            nursery.cancel_scope.cancel()

    trio.run(main)
    if not args.quiet and "feed" in seen:
        stats = seen["feed"].statistics()
        print(
            f"recorded {stats.frames:,} frames to {args.out} "
            f"({stats.connects} connection(s), {stats.processor.bars:,} final bars)"
        )
    return 0
