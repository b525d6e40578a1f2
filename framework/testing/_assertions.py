"""Assertions about runs: no look-ahead, determinism.

Both raise :class:`AssertionError` with a message that says what went wrong where, so they
read well in pytest and work in any other test runner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .._backtest import backtest_async
from .._events import Bar
from .._failure import run_sync
from .._intervals import Interval
from .._strategy import Strategy
from .._time import iso_from_nanos
from ..results._run_result import RunResult
from ._backtester import Data, build_feeds, check_fresh_data, split_options
from ._capture import CapturedEvents, Delivery, capture_events, captured_by
from ._golden import unified_diff

#: Problems listed in one failure message; the rest are counted.
MAX_REPORTED = 10


def assert_no_lookahead(seen: CapturedEvents | Strategy | Iterable[Delivery]) -> None:
    """Assert that the strategy never saw a bar before it was final.

    ``seen`` is what :func:`capture_events` (or the ``tradewire_backtest`` fixture) recorded,
    or a strategy that was captured. Checks every bar delivered:

    - it was final when delivered: ``bar.ts_event`` is not later than the strategy's clock;
    - it is not final at its own open (``ts_event > ts_open``; ticks excepted), which would
      mean its close was known before its period ran;
    - per symbol and interval, bars arrive in time order: each opens after the previous one
      and becomes final no earlier.
    """
    __tracebackhide__ = True  # pytest shows the failure at the caller
    deliveries = _deliveries(seen)
    problems: list[str] = []
    last: dict[tuple[str, str], Bar] = {}
    for index, delivery in enumerate(deliveries):
        bar = delivery.event
        if not isinstance(bar, Bar):
            continue
        where = f"delivery {index} ({delivery.hook}): {_describe(bar)}"
        if bar.ts_event > delivery.clock_ns:
            problems.append(
                f"{where} is final at {iso_from_nanos(bar.ts_event)} but was delivered at "
                f"{iso_from_nanos(delivery.clock_ns)}"
            )
        if bar.ts_event <= bar.ts_open and not _is_tick(bar.interval):
            problems.append(f"{where} is final at its own open time: its close was known early")
        key = (bar.symbol, bar.interval)
        previous = last.get(key)
        if previous is not None:
            if bar.ts_open <= previous.ts_open:
                problems.append(
                    f"{where} arrived after the bar that opened at "
                    f"{iso_from_nanos(previous.ts_open)} (out of order or repeated)"
                )
            elif bar.ts_event < previous.ts_event:
                problems.append(
                    f"{where} became final before the previous bar of its stream "
                    f"({iso_from_nanos(previous.ts_event)})"
                )
        last[key] = bar
    if problems:
        raise AssertionError(_listing("look-ahead: the strategy saw bars early", problems))


def assert_deterministic(
    strategy_factory: Callable[[], Strategy],
    data: Data,
    *,
    runs: int = 2,
    cash: float = 100_000.0,
    **options: Any,
) -> RunResult:
    """Run fresh strategies from ``strategy_factory`` over ``data`` ``runs`` times and assert
    that every run gives the same ``to_json()`` bytes and delivers the same events, at the same
    clock times, to the strategy. Returns the first run's result.

    ``data`` is paths, events, or a callable building fresh feeds (not feed objects, which may
    keep state); ``options`` are those of :class:`Backtester`. Calls ``trio.run``; from an
    async test use :func:`assert_deterministic_async`.
    """
    __tracebackhide__ = True
    result: RunResult = run_sync(
        lambda: assert_deterministic_async(strategy_factory, data, runs=runs, cash=cash, **options)
    )
    return result


async def assert_deterministic_async(
    strategy_factory: Callable[[], Strategy],
    data: Data,
    *,
    runs: int = 2,
    cash: float = 100_000.0,
    **options: Any,
) -> RunResult:
    """:func:`assert_deterministic` from inside a Trio run."""
    __tracebackhide__ = True
    if runs < 2:
        raise ValueError(f"determinism needs at least 2 runs, got {runs}")
    check_fresh_data(data)
    feed_options, broker_options = split_options(options)
    first: tuple[RunResult, bytes, list[Delivery]] | None = None
    for run in range(1, runs + 1):
        strategy = strategy_factory()
        if captured_by(strategy) is not None:
            raise ValueError("strategy_factory must build a new strategy on every call")
        captured = capture_events(strategy)
        feeds = build_feeds(data, **feed_options)
        result = await backtest_async(strategy, feeds, cash=cash, **broker_options)
        data_json = result.to_json()
        if first is None:
            first = (result, data_json, captured.deliveries)
            continue
        _, first_json, first_deliveries = first
        if data_json != first_json:
            diff = unified_diff(first_json, data_json, "run 1", f"run {run}")
            raise AssertionError(f"run {run} gave a different result than run 1:\n{diff}")
        mismatch = _first_difference(first_deliveries, captured.deliveries)
        if mismatch is not None:
            raise AssertionError(f"run {run} delivered different events than run 1: {mismatch}")
    assert first is not None
    return first[0]


# -- helpers ---------------------------------------------------------------------------------


def _deliveries(seen: CapturedEvents | Strategy | Iterable[Delivery]) -> list[Delivery]:
    if isinstance(seen, CapturedEvents):
        return seen.deliveries
    if isinstance(seen, Strategy):
        captured = captured_by(seen)
        if captured is None:
            raise ValueError(
                f"strategy {seen.strategy_id!r} was not captured: call capture_events() before "
                "the run, or run it with the tradewire_backtest fixture"
            )
        return captured.deliveries
    return list(seen)


def _describe(bar: Bar) -> str:
    return f"{bar.symbol} {bar.interval} bar opened {iso_from_nanos(bar.ts_open)}"


def _is_tick(label: str) -> bool:
    try:
        return Interval.parse(label).unit == "tick"
    except ValueError:
        return False


def _listing(title: str, problems: list[str]) -> str:
    shown = problems[:MAX_REPORTED]
    more = len(problems) - len(shown)
    lines = [f"{title} ({len(problems)} problem{'s' if len(problems) != 1 else ''}):"]
    lines += [f"  - {p}" for p in shown]
    if more:
        lines.append(f"  ... and {more} more")
    return "\n".join(lines)


def _first_difference(first: list[Delivery], other: list[Delivery]) -> str | None:
    for index, (a, b) in enumerate(zip(first, other, strict=False)):
        if a != b:
            return f"delivery {index}: {a!r} != {b!r}"
    if len(first) != len(other):
        return f"{len(first)} deliveries, then {len(other)}"
    return None
