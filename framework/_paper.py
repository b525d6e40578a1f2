"""Live sessions: paper trading and recording on the InsightSentry feed.

:func:`paper_trade` runs strategies on the live feed with the simulated broker, optionally
journalling every frame first, and returns the same :class:`RunResult` a backtest returns;
replaying the journal with :func:`~framework.backtest` reproduces its orders and fills.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import trio

from . import __version__
from ._engine import Engine
from ._results import RunResult
from ._strategy import Strategy
from .execution import BrokerConfig, PaperJournal, SimulatedBroker
from .feeds.insightsentry import Subscription
from .feeds.insightsentry._live_feed import DEFAULT_URL, InsightSentryFeed, LiveFeedConfig
from .portfolio import Portfolio
from .recording import Durability, Secret, install_secret_filter, open_recording_writer

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def open_live_feed(
    subscriptions: Sequence[Subscription],
    *,
    api_key: Secret | str,
    url: str = DEFAULT_URL,
    record: str | Path | None = None,
    durability: Durability = Durability.GROUP,
    config: LiveFeedConfig | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[InsightSentryFeed]:
    """A live feed, journalling to ``record`` (a new file) when given.

    The journal is closed (and synced) when the block ends, whatever the outcome.
    """
    secret = api_key if isinstance(api_key, Secret) else Secret(api_key)
    install_secret_filter(secret)
    config = config or LiveFeedConfig()
    if record is None:
        yield InsightSentryFeed(
            subscriptions, api_key=secret, url=url, config=config, ssl_context=ssl_context
        )
        return
    meta: dict[str, Any] = {
        "source": "insightsentry",
        "url": url,
        "subscriptions": [s.name for s in subscriptions],
        "dialect": config.dialect.name.lower(),
        "tradewire": __version__,
    }
    async with open_recording_writer(Path(record), meta=meta, durability=durability) as writer:
        yield InsightSentryFeed(
            subscriptions,
            api_key=secret,
            url=url,
            config=config,
            ssl_context=ssl_context,
            journal=writer.append_nowait,
        )


async def paper_trade(
    strategies: Sequence[Strategy],
    subscriptions: Sequence[Subscription],
    *,
    api_key: Secret | str,
    url: str = DEFAULT_URL,
    record: str | Path | None = None,
    duration: float | None = None,
    cash: float = 100_000.0,
    durability: Durability = Durability.GROUP,
    config: LiveFeedConfig | None = None,
    ssl_context: ssl.SSLContext | None = None,
    on_engine: Callable[[Engine, InsightSentryFeed], None] | None = None,
    journal: str | Path | None = None,
    broker_config: BrokerConfig | None = None,
) -> RunResult:
    """Run ``strategies`` on the live feed until ``duration`` seconds pass or the engine is
    stopped (``on_engine`` receives the engine, e.g. to call ``stop()`` on Ctrl+C).

    Stopping is graceful: the feed stops reading, every frame already journalled is still
    delivered, then ``on_stop`` runs. Terminal feed errors propagate as FeedError.

    ``journal`` keeps the paper book (orders, fills, positions, cash) crash-safely: a new file
    starts a book with ``cash``; an existing one is restored first, so a restarted session
    resumes the same book, or fails with :class:`~framework.RecordingError` saying why not.
    """
    async with open_live_feed(
        subscriptions,
        api_key=api_key,
        url=url,
        record=record,
        durability=durability,
        config=config,
        ssl_context=ssl_context,
    ) as feed:
        broker = SimulatedBroker(Portfolio(cash), broker_config)
        with contextlib.ExitStack() as stack:
            if journal is not None:
                # Resume the book of an earlier session (or start a new journal), then journal
                # every order transaction before its events reach a strategy.
                book = stack.enter_context(PaperJournal.open(journal))
                book.restore(broker)
                book.attach(broker)
            engine = Engine(feeds=[feed], strategies=list(strategies), broker=broker)
            if on_engine is not None:
                on_engine(engine, feed)
            async with trio.open_nursery() as nursery:
                if duration is not None:
                    nursery.start_soon(_stop_after, engine, duration)
                await engine.run()
                nursery.cancel_scope.cancel()
    return RunResult.from_engine(engine)


async def _stop_after(engine: Engine, seconds: float) -> None:
    await trio.sleep(seconds)
    engine.stop()
