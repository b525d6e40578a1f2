"""Backtests for tests: any kind of data in, a :class:`~framework.RunResult` out, and what the
strategy saw on the side.

:class:`Backtester` is what the ``tradewire_backtest`` fixture returns. It runs a strategy over
bar files, recordings, in-memory events or feeds in simulated time with the real engine and
broker (the same path as :func:`framework.backtest`), and captures every event delivered to the
strategy (:func:`~framework.testing.capture_events`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeAlias

from .._backtest import backtest_async, data_items, feeds_for, is_data_source
from .._errors import ConfigError
from .._events import Event
from .._failure import run_sync
from .._strategy import Strategy
from ..feeds._feed import Feed, ListFeed
from ..results._run_result import RunResult
from ._capture import CapturedEvents, capture_events, captured_by

#: What the test kit accepts as data: what :func:`framework.feeds_for` reads (a path to bar
#: files, Parquet or Feather files or recordings, a pandas or polars DataFrame, a pyarrow
#: Table, ``{symbol: data}``), a sequence of those, events (delivered through one in-memory
#: feed, in the order given) or feeds, or a callable that builds fresh feeds for each run.
Data: TypeAlias = (
    str | Path | Mapping[str, Any] | Sequence[Any] | Callable[[], Sequence[Feed]] | Any
)


#: Options of :func:`framework.feeds_for`; every other option goes to the broker.
FEED_OPTIONS = frozenset(inspect.signature(feeds_for).parameters) - {"data"}


def split_options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(feed options, broker options) of the keyword options given to a run."""
    feed = {k: v for k, v in options.items() if k in FEED_OPTIONS}
    return feed, {k: v for k, v in options.items() if k not in FEED_OPTIONS}


def build_feeds(data: Data, **feed_options: Any) -> list[Feed]:
    """Turn :data:`Data` into feeds: paths through :func:`framework.feeds_for` (with
    ``feed_options``), events into one :class:`~framework.ListFeed`, feeds as they are."""
    if is_data_source(data):
        return feeds_for(data, **feed_options)
    if callable(data):
        return list(data())
    paths: list[Any] = []
    events: list[Event] = []
    feeds: list[Feed] = []
    for item in data_items(data):
        if is_data_source(item):
            paths.append(item)
        elif isinstance(item, Event):
            events.append(item)
        elif isinstance(item, Feed):
            feeds.append(item)
        else:
            raise ConfigError(
                f"cannot run over {type(item).__name__} items: give paths, frames, events or feeds"
            )
    if paths:
        feeds.extend(feeds_for(paths, **feed_options))
    if events or not feeds:
        # An empty sequence is no events (a generator may draw none), not a mistake.
        feeds.append(ListFeed(events, name="events"))
    return feeds


def check_fresh_data(data: Data) -> None:
    """Refuse feed objects where a run must be repeatable: a feed may keep state (a
    recording's bar assembler, a file's counters) from one run to the next."""
    if callable(data) or is_data_source(data):
        return
    if any(isinstance(item, Feed) for item in data_items(data)):
        raise ConfigError(
            "pass paths, events, or a callable that builds fresh feeds: a feed object may keep "
            "state from one run to the next"
        )


class Backtester:
    """Runs strategies over data in simulated time and remembers what each one saw.

    ``backtester(strategy, data)`` returns the :class:`~framework.RunResult` (fills, trades,
    equity curve, statistics); :meth:`seen` returns the events delivered to the strategy. It
    calls ``trio.run``, so use it from synchronous tests; async tests ``await``
    :meth:`run_async`. A strategy instance runs once, as with the engine.
    """

    def __init__(self, *, cash: float = 100_000.0, capture: bool = True) -> None:
        self.cash = cash
        self.capture = capture
        #: Every result returned so far, oldest first.
        self.results: list[RunResult] = []

    def __call__(
        self, strategy: Strategy, data: Data, *, cash: float | None = None, **options: Any
    ) -> RunResult:
        """Run ``strategy`` over ``data``. ``options`` go to :func:`framework.feeds_for`
        (``symbol=``, ``interval=``, ``skip_bad_rows=``) or, the others, to the broker as in
        :func:`framework.backtest` (``commission=``, ``slippage=``, ``risk=``, ...)."""
        result: RunResult = run_sync(lambda: self.run_async(strategy, data, cash=cash, **options))
        return result

    async def run_async(
        self, strategy: Strategy, data: Data, *, cash: float | None = None, **options: Any
    ) -> RunResult:
        """The same as calling the backtester, from inside a Trio run."""
        if self.capture:
            capture_events(strategy)
        feed_options, broker_options = split_options(options)
        result = await backtest_async(
            strategy,
            build_feeds(data, **feed_options),
            cash=self.cash if cash is None else cash,
            **broker_options,
        )
        self.results.append(result)
        return result

    def seen(self, strategy: Strategy) -> CapturedEvents:
        """Every event delivered to ``strategy`` during its run, with the clock at delivery."""
        captured = captured_by(strategy)
        if captured is None:
            raise ConfigError(
                f"strategy {strategy.strategy_id!r} was not run by this backtester with capture on"
            )
        return captured
