"""Live sessions: paper trading and recording on the InsightSentry feed.

:func:`paper_trade` runs strategies on the live feed with the simulated broker, optionally
journalling every frame first, and returns the same :class:`RunResult` a backtest returns;
replaying the journal with :func:`~framework.backtest` reproduces its orders and fills.

With the REST API (``rest_url``; by default the vendor's when ``url`` is the vendor's
WebSocket, otherwise none) the session warms its strategies up with the history they declare
(:meth:`Strategy.warmup_bars <framework.Strategy.warmup_bars>`) and backfills holes in the bar
streams; both are journalled, so the replay reproduces them (see ``docs/history.md``).
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import orjson
import trio

from ... import __version__
from ..._engine import Engine
from ..._events import TimerFired
from ..._secret import Secret, as_secret, secret_filter
from ..._strategy import Strategy
from ...execution import BrokerConfig, PaperJournal, SimulatedBroker
from ...portfolio import Portfolio
from ...portfolio._equity import equity_resolution as equity_resolution_nanos
from ...recording import AsyncRecordingWriter, Durability, RecordKind, open_recording_writer
from ...results import RunResult
from ._live_feed import DEFAULT_URL, InsightSentryFeed, LiveFeedConfig
from ._rest import DEFAULT_REST_URL, RestConfig, open_history_client
from ._subscriptions import API_KEY_NAME, Subscription

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
    rest_url: str | None = None,
    rest_config: RestConfig | None = None,
    warmup_bars: int = 0,
    backfill: bool = True,
) -> AsyncIterator[InsightSentryFeed]:
    """A live feed, journalling to ``record`` (a new file) when given.

    With a REST base URL (``rest_url``, else ``rest_config.base_url`` when ``rest_config`` is
    given, else the vendor's when ``url`` is the vendor's WebSocket) the feed fetches
    ``warmup_bars`` of history per series before it connects and, with ``backfill``, fills
    holes in bar streams. Without one, a requested warm-up is skipped (logged) and holes are
    not looked for. The REST client and the journal are closed (the journal synced) when the
    block ends, whatever the outcome. While the block runs, log output is scrubbed of the key
    (:func:`~framework._secret.secret_filter`); nothing is left on the loggers afterwards.
    """
    async with _open_session(
        subscriptions,
        api_key=api_key,
        url=url,
        record=record,
        durability=durability,
        config=config,
        ssl_context=ssl_context,
        rest_url=rest_url,
        rest_config=rest_config,
        warmup_bars=warmup_bars,
        backfill=backfill,
    ) as (feed, _):
        yield feed


@contextlib.asynccontextmanager
async def _open_session(
    subscriptions: Sequence[Subscription],
    *,
    api_key: Secret | str,
    url: str,
    record: str | Path | None,
    durability: Durability,
    config: LiveFeedConfig | None,
    ssl_context: ssl.SSLContext | None,
    rest_url: str | None,
    rest_config: RestConfig | None,
    warmup_bars: int,
    backfill: bool,
    timer_strategies: Sequence[str] = (),
) -> AsyncIterator[tuple[InsightSentryFeed, AsyncRecordingWriter | None]]:
    """:func:`open_live_feed`, and the recording's writer (None without ``record``).
    ``timer_strategies`` names the strategies whose timer firings the session records."""
    secret = as_secret(api_key, name=API_KEY_NAME)
    config = config or LiveFeedConfig()
    async with contextlib.AsyncExitStack() as stack:
        # First, so that whatever the session logs is scrubbed; removed when the block ends.
        stack.enter_context(secret_filter(secret))
        base = rest_url or (rest_config.base_url if rest_config is not None else None)
        if base is None and url == DEFAULT_URL:
            base = DEFAULT_REST_URL
        if base is None and warmup_bars:
            log.info("no REST API configured for %s: strategies start without warm-up", url)
        history = None
        if base is not None and (warmup_bars > 0 or backfill):
            rest = attrs.evolve(rest_config or RestConfig(), base_url=base)
            history = await stack.enter_async_context(
                open_history_client(api_key=secret, config=rest)
            )
        warmup = warmup_bars if history is not None else 0
        journal = None
        if record is not None:
            meta: dict[str, Any] = {
                "source": "insightsentry",
                "url": url,
                "subscriptions": [s.name for s in subscriptions],
                "dialect": config.dialect.name.lower(),
                "tradewire": __version__,
                "rest_url": base if history is not None else None,
                "warmup_bars": warmup,
                # Tells the replay to look for holes as this session did.
                "backfill": history is not None and backfill,
            }
            if timer_strategies:
                # Tells the replay to fire these strategies' timers where the session did.
                meta["timer_strategies"] = list(timer_strategies)
            writer = await stack.enter_async_context(
                open_recording_writer(Path(record), meta=meta, durability=durability)
            )
            journal = writer.append_nowait
        else:
            writer = None
        feed = InsightSentryFeed(
            subscriptions,
            api_key=secret,
            url=url,
            config=config,
            ssl_context=ssl_context,
            journal=journal,
            history=history,
            warmup_bars=warmup,
            backfill=backfill,
        )
        yield feed, writer


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
    rest_url: str | None = None,
    rest_config: RestConfig | None = None,
    warmup: bool = True,
    backfill: bool = True,
    equity_resolution: str | None = "1m",
) -> RunResult:
    """Run ``strategies`` on the live feed until ``duration`` seconds pass or the engine is
    stopped (``on_engine`` receives the engine, e.g. to call ``stop()`` on Ctrl+C).

    Stopping is graceful: the feed stops reading, every frame already journalled is still
    delivered, then ``on_stop`` runs. Terminal feed errors propagate as FeedError.

    ``journal`` keeps the paper book (orders, fills, positions, cash) crash-safely, one
    record per step with the bars delivered and the strategies' saved states
    (:meth:`~framework.Strategy.on_save`): a new file starts a book with ``cash``; an existing
    one is restored first, so a restarted session resumes the same book and states and does
    not deliver again the bars it had delivered, or fails with
    :class:`~framework.RecordingError` saying why not.

    With ``record``, every timer firing is recorded with its place in the event stream, so
    the replay of the recording fires the strategies' timers where this session did.

    With a REST API (``rest_url``, ``rest_config``: see :func:`open_live_feed`), ``warmup``
    fetches the largest :meth:`~framework.Strategy.warmup_bars` of the strategies before the
    live data (orders are refused until it is delivered; a failure raises
    :class:`~framework.HistoryError`) and ``backfill`` fills holes in the bar streams.

    The equity curve keeps one sample per ``equity_resolution`` of market time (default one
    minute; None keeps every mark until the curve is full, then thins it), so a session that
    runs for weeks holds a curve of a fixed size per day; every statistic stays exact
    (``docs/statistics.md``).
    """
    resolution = equity_resolution_nanos(equity_resolution)
    needed = max((s.warmup_bars() for s in strategies), default=0) if warmup else 0
    async with _open_session(
        subscriptions,
        api_key=api_key,
        url=url,
        record=record,
        durability=durability,
        config=config,
        ssl_context=ssl_context,
        rest_url=rest_url,
        rest_config=rest_config,
        warmup_bars=needed,
        backfill=backfill,
        timer_strategies=[s.strategy_id for s in strategies],
    ) as (feed, writer):
        broker = SimulatedBroker(Portfolio(cash, equity_resolution=resolution), broker_config)
        with contextlib.ExitStack() as stack:
            if journal is not None:
                # Resume the book of an earlier session (or start a new journal), then journal
                # every order transaction before its events reach a strategy.
                book = stack.enter_context(PaperJournal.open(journal))
                book.restore(broker)
                book.attach(broker)
            engine = Engine(feeds=[feed], strategies=list(strategies), broker=broker)
            if journal is not None:
                book.follow(engine)
            if writer is not None:
                engine.record_timers(_timer_recorder(writer))
            if on_engine is not None:
                on_engine(engine, feed)
            async with trio.open_nursery() as nursery:
                if duration is not None:
                    nursery.start_soon(_stop_after, engine, duration)
                await engine.run()
                nursery.cancel_scope.cancel()
            if journal is not None:
                book.commit()
    return RunResult.from_engine(engine)


def _timer_recorder(writer: AsyncRecordingWriter) -> Callable[[int, TimerFired], None]:
    """A TIMER record per firing: after how many bars and quotes it fired, and which timer
    (``RecordingFeed`` replays it there)."""

    def record(position: int, timer: TimerFired) -> None:
        payload = orjson.dumps(
            {
                "after": position,
                "strategy": timer.strategy_id,
                "name": timer.name,
                "due": timer.ts_event,
            }
        )
        writer.append_nowait(
            RecordKind.TIMER, payload, time.time_ns(), int(trio.current_time() * 1e9)
        )

    return record


async def _stop_after(engine: Engine, seconds: float) -> None:
    await trio.sleep(seconds)
    engine.stop()
