"""Performance statistics of a run. Definitions (all documented in docs/statistics.md):

- ``total_return``: final equity / start cash − 1.
- ``annualized_return``: (1 + total_return) ** (1 / years) − 1, years = span / 365.25 days;
  None when the span is under one day.
- daily returns: equity at the last sample of each UTC day, relative to the previous day's
  (the first day's relative to the start cash).
- ``volatility``: standard deviation (sample, n−1) of daily returns × √252.
- ``sharpe``: mean daily return / its standard deviation × √252 (risk-free rate 0).
- ``sortino``: mean daily return / downside deviation × √252, downside deviation =
  √(mean(min(r, 0)²)).
- ``max_drawdown``: largest fall from a running equity peak, as a positive fraction of the peak.
- ``max_drawdown_duration_s``: longest time from a peak until equity regained it (or the end).
- ``win_rate``: winning trades / trades; ``profit_factor``: gross profit / gross loss (None
  without losing trades); ``avg_trade_pnl``: mean net PnL per trade.
- ``exposure_time``: fraction of the run's span (first to last equity sample) during which
  some position was open (closed trades, and a trade still open at the end up to the end).
- ``fills``; ``commissions``: sum of all commissions paid; ``intrabar_guess_fills``: fills
  whose price relied on an assumption about the path inside a bar.
Undefined figures are None (``null`` in JSON).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import operator
from collections.abc import Iterable, Sequence
from typing import Any

from .._events import OrderFilled
from .._time import NANOS_PER_SECOND
from ._equity import DrawdownTracker
from ._records import Records
from ._trades import Trade

_NANOS_PER_DAY = 86_400 * NANOS_PER_SECOND
_TRADING_DAYS = 252


def compute_statistics(
    *,
    start_cash: float,
    equity_ts: Sequence[int],
    equity: Sequence[float],
    trades: Sequence[Trade],
    fills: Sequence[OrderFilled],
    commissions: float,
    open_trade_entries: Sequence[int] = (),
    drawdown: tuple[float, int] | None = None,
) -> dict[str, Any]:
    """Compute the statistics listed in the module docstring. ``drawdown`` (max drawdown, its
    duration in ns) is given when the curve was thinned (:meth:`Portfolio.drawdown`), else it
    is computed from the curve."""
    final = equity[-1] if len(equity) else start_cash
    total_return = final / start_cash - 1 if start_cash else None
    span = (equity_ts[-1] - equity_ts[0]) if len(equity_ts) > 1 else 0
    annualized = None
    if total_return is not None and span >= _NANOS_PER_DAY and final > 0:
        years = span / (365.25 * _NANOS_PER_DAY)
        annualized = _power(1 + total_return, 1 / years) - 1
    daily = _daily_returns(equity_ts, equity, start_cash)
    volatility = sharpe = sortino = None
    if len(daily) >= 2:
        mean = math.fsum(daily) / len(daily)
        # Products, not ** 2: a float power raises OverflowError where a product gives inf,
        # and an equity that touched zero makes returns of 1e200 and more.
        std = math.sqrt(math.fsum((r - mean) * (r - mean) for r in daily) / (len(daily) - 1))
        volatility = std * math.sqrt(_TRADING_DAYS)
        if std > 0:
            sharpe = mean / std * math.sqrt(_TRADING_DAYS)
        downside = math.sqrt(math.fsum(min(r, 0.0) * min(r, 0.0) for r in daily) / len(daily))
        if downside > 0:
            sortino = mean / downside * math.sqrt(_TRADING_DAYS)
    max_dd, max_dd_ns = drawdown if drawdown is not None else _drawdown(equity_ts, equity)
    # Passes over the columns rather than lists of their values: a long run holds hundreds of
    # thousands of trades, and fsum is exact, whatever order and grouping it is fed.
    pnls = _field(trades, "pnl")
    wins = sum(1 for pnl in pnls if pnl > 0)
    gross_profit = math.fsum(pnl for pnl in pnls if pnl > 0)
    gross_loss = -math.fsum(pnl for pnl in pnls if pnl < 0)
    return {
        "total_return": total_return,
        "annualized_return": annualized,
        "volatility": volatility,
        "sharpe": sharpe,
        "sortino": sortino,
        "max_drawdown": max_dd,
        "max_drawdown_duration_s": max_dd_ns / NANOS_PER_SECOND,
        "trades": len(trades),
        "win_rate": wins / len(trades) if trades else None,
        "profit_factor": gross_profit / gross_loss if gross_loss > 0 else None,
        "avg_trade_pnl": math.fsum(pnls) / len(trades) if trades else None,
        "exposure_time": _exposure(trades, open_trade_entries, equity_ts),
        "fills": len(fills),
        "commissions": commissions,
        "intrabar_guess_fills": _true_count(fills, "is_intrabar_guess"),
    }


def _field(records: Sequence[Any], name: str) -> Sequence[Any]:
    """Field ``name`` of every record: a view of the column of :class:`~._records.Records`
    when the column holds every row as it is (no objects kept: each is made as it is read),
    else the values, else read from each object."""
    if isinstance(records, Records):
        column = records.layout.column(name)
        if column.is_dense and not column.members and column.kind != "text":
            prefix = records.dense_prefix(name)
            if len(prefix) == len(records):
                return prefix
        return records.values(name)
    return [getattr(record, name) for record in records]


def _true_count(records: Sequence[Any], name: str) -> int:
    """How many records have a true field ``name``."""
    if isinstance(records, Records):
        return sum(count for value, count in records.counts(name).items() if value)
    return sum(1 for record in records if getattr(record, name))


def _power(base: float, exponent: float) -> float:
    """``base ** exponent`` for a positive base, inf where the float power would overflow."""
    try:
        return math.pow(base, exponent)
    except OverflowError:
        return math.inf


def _daily_returns(times: Sequence[int], values: Sequence[float], start: float) -> list[float]:
    closes = [start]
    if _is_sorted(times):
        # A day's close is its last sample: one binary search per day, not a step per sample.
        i, n = 0, len(times)
        while i < n:
            i = bisect.bisect_left(times, (times[i] // _NANOS_PER_DAY + 1) * _NANOS_PER_DAY, i)
            closes.append(values[i - 1])
    else:
        current_day = None
        for ts, value in zip(times, values, strict=True):
            day = ts // _NANOS_PER_DAY
            if day != current_day:
                closes.append(value)
                current_day = day
            else:
                closes[-1] = value
    return [b / a - 1 for a, b in itertools.pairwise(closes) if a > 0]


def _is_sorted(times: Sequence[int]) -> bool:
    return all(map(operator.le, times, itertools.islice(times, 1, None)))


def _drawdown(times: Sequence[int], values: Sequence[float]) -> tuple[float, int]:
    if not len(times):
        return 0.0, 0
    tracker = DrawdownTracker()
    tracker.feed(times, values, 0, len(times))
    return tracker.result(times[-1])


def _exposure(
    trades: Sequence[Trade], open_entries: Sequence[int], times: Sequence[int]
) -> float | None:
    if len(times) < 2 or times[-1] <= times[0]:
        return None
    entries, exits = _field(trades, "entry_time"), _field(trades, "exit_time")
    last = times[-1]
    still_open = [(entry, last) for entry in open_entries]
    spans: Iterable[tuple[int, int]]
    if all(itertools.starmap(operator.le, itertools.pairwise(zip(entries, exits, strict=True)))):
        # Trades close in entry order in most runs: take them as they are read, without a
        # list of a tuple per trade (tens of MB for a long run).
        spans = heapq.merge(zip(entries, exits, strict=True), sorted(still_open))
    else:
        spans = sorted([*zip(entries, exits, strict=True), *still_open])
    covered = 0
    end = times[0]
    for entry, exit_ in spans:
        start = max(entry, end)
        if exit_ > start:
            covered += min(exit_, times[-1]) - start
            end = exit_
    return covered / (times[-1] - times[0])
