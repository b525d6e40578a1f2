"""Performance statistics of a run. Definitions (all documented in docs/statistics.md):

- ``total_return``: final equity / start cash − 1.
- ``buy_and_hold_by_symbol``: each symbol's last mark / its first mark − 1;
  ``buy_and_hold_return``: their mean (an equal-weight buy of every symbol at its first price,
  held to the end).
- ``annualized_return``: (1 + total_return) ** (1 / years) − 1, years = span / 365.25 days;
  None when the span is under one day.
- daily returns: equity at the last sample of each UTC day, relative to the previous day's
  (the first day's relative to the start cash).
- ``volatility``: standard deviation (sample, n−1) of daily returns × √252.
- ``sharpe``: mean daily return / its standard deviation × √252 (risk-free rate 0).
- ``sortino``: mean daily return / downside deviation × √252, downside deviation =
  √(mean(min(r, 0)²)).
- ``calmar``: annualized_return / max_drawdown.
- ``max_drawdown``: largest fall from a running equity peak, as a positive fraction of the peak.
- ``max_drawdown_duration_s``: longest time from a peak until equity regained it (or the end).
- ``win_rate``: winning trades / trades; ``profit_factor``: gross profit / gross loss (None
  without losing trades); ``avg_trade_pnl``: mean net PnL per trade.
- a trade's return: its net PnL / (its quantity × its entry price); ``expectancy``: the mean
  trade return; ``best_trade``, ``worst_trade``: the largest and smallest trade return
  (``best_trade_pnl``, ``worst_trade_pnl``: in money).
- ``sqn``: √trades × mean PnL / standard deviation (n − 1) of PnL.
- ``avg_win``, ``avg_loss``: mean PnL of winning (> 0) and of losing (< 0) trades.
- ``max_consecutive_losses``: the longest run of losing trades, in the order they closed.
- ``avg_trade_duration_s``, ``max_trade_duration_s``: exit time − entry time of trades.
- ``exposure_time``: fraction of the run's span (first to last equity sample) during which
  some position was open (closed trades, and a trade still open at the end up to the end).
- ``fills``; ``commissions``: sum of all commissions paid; ``intrabar_guess_fills``: fills
  whose price relied on an assumption about the path inside a bar.
- with a benchmark (:mod:`._benchmark`): ``benchmark``, ``benchmark_return``, ``alpha``,
  ``beta``.
Undefined figures are None (``null`` in JSON).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .._events import OrderFilled
from .._time import NANOS_PER_SECOND
from ._benchmark import BenchmarkPrices, benchmark_statistics
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
    first_prices: Mapping[str, float] | None = None,
    last_prices: Mapping[str, float] | None = None,
    benchmark: BenchmarkPrices | None = None,
) -> dict[str, Any]:
    """Compute the statistics listed in the module docstring. ``drawdown`` (max drawdown, its
    duration in ns) is given when the curve was thinned (:meth:`Portfolio.drawdown`), else it
    is computed from the curve. ``first_prices`` and ``last_prices`` (symbol -> first and last
    mark, :attr:`Portfolio.first_price`, :attr:`Portfolio.last_price`) give the buy-and-hold
    returns; ``benchmark`` adds its return, alpha and beta."""
    final = equity[-1] if len(equity) else start_cash
    total_return = final / start_cash - 1 if start_cash else None
    span = (equity_ts[-1] - equity_ts[0]) if len(equity_ts) > 1 else 0
    annualized = None
    if total_return is not None and span >= _NANOS_PER_DAY and final > 0:
        years = span / (365.25 * _NANOS_PER_DAY)
        annualized = _power(1 + total_return, 1 / years) - 1
    day_ends, closes = _daily_closes(equity_ts, equity)
    daily = _returns([start_cash, *closes])
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
    by_symbol = _buy_and_hold(first_prices or {}, last_prices or {})
    held = [r for r in by_symbol.values() if r is not None]
    stats: dict[str, Any] = {
        "total_return": total_return,
        "annualized_return": annualized,
        "buy_and_hold_return": math.fsum(held) / len(held) if held else None,
        "buy_and_hold_by_symbol": by_symbol,
        "volatility": volatility,
        "sharpe": sharpe,
        "sortino": sortino,
        "calmar": annualized / max_dd if annualized is not None and max_dd > 0 else None,
        "max_drawdown": max_dd,
        "max_drawdown_duration_s": max_dd_ns / NANOS_PER_SECOND,
        **_trade_statistics(trades),
        "exposure_time": _exposure(trades, open_trade_entries, equity_ts),
        "fills": len(fills),
        "commissions": commissions,
        "intrabar_guess_fills": _true_count(fills, "is_intrabar_guess"),
    }
    if benchmark is not None:
        stats.update(
            benchmark_statistics(
                benchmark,
                start_cash=start_cash,
                equity_ts=equity_ts,
                day_ends=day_ends,
                closes=closes,
            )
        )
    return stats


def _trade_statistics(trades: Sequence[Trade]) -> dict[str, Any]:
    """The figures of closed trades, in the order the statistics list them."""
    # Passes over the columns rather than lists of their values: a long run holds hundreds of
    # thousands of trades, and fsum is exact, whatever order and grouping it is fed.
    n = len(trades)
    pnls = _field(trades, "pnl")
    wins = sum(1 for pnl in pnls if pnl > 0)
    losses = sum(1 for pnl in pnls if pnl < 0)
    gross_profit = math.fsum(pnl for pnl in pnls if pnl > 0)
    gross_loss = -math.fsum(pnl for pnl in pnls if pnl < 0)
    mean_pnl = math.fsum(pnls) / n if n else None
    sqn = None
    if mean_pnl is not None and n >= 2:
        std = math.sqrt(math.fsum((p - mean_pnl) * (p - mean_pnl) for p in pnls) / (n - 1))
        if std > 0:
            sqn = math.sqrt(n) * mean_pnl / std
    returns = _trade_returns(trades, pnls)
    entries, exits = _field(trades, "entry_time"), _field(trades, "exit_time")
    durations = list(map(operator.sub, exits, entries))
    return {
        "trades": n,
        "win_rate": wins / n if n else None,
        "profit_factor": gross_profit / gross_loss if gross_loss > 0 else None,
        "sqn": sqn,
        "expectancy": math.fsum(returns) / len(returns) if returns else None,
        "avg_trade_pnl": mean_pnl,
        "avg_win": gross_profit / wins if wins else None,
        "avg_loss": -gross_loss / losses if losses else None,
        "best_trade": max(returns, default=None),
        "worst_trade": min(returns, default=None),
        "best_trade_pnl": max(pnls, default=None),
        "worst_trade_pnl": min(pnls, default=None),
        "max_consecutive_losses": _longest_run(pnl < 0 for pnl in pnls),
        # Summed as ints, exactly: a float sum would round beyond 2**53 ns (104 days).
        "avg_trade_duration_s": sum(durations) / n / NANOS_PER_SECOND if n else None,
        "max_trade_duration_s": max(durations) / NANOS_PER_SECOND if n else None,
    }


def _trade_returns(trades: Sequence[Trade], pnls: Sequence[float]) -> list[float]:
    """Each trade's net PnL over what it put at stake (quantity × entry price); a trade with
    nothing at stake (a zero price) has no return."""
    stakes = map(operator.mul, _field(trades, "qty"), _field(trades, "entry_price"))
    return [pnl / abs(stake) for pnl, stake in zip(pnls, stakes, strict=True) if stake]


def _longest_run(flags: Iterable[bool]) -> int:
    longest = current = 0
    for flag in flags:
        current = current + 1 if flag else 0
        longest = max(longest, current)
    return longest


def _buy_and_hold(first: Mapping[str, float], last: Mapping[str, float]) -> dict[str, float | None]:
    """Symbol -> its last mark / its first mark − 1 (None for a first mark of zero or less),
    symbols sorted."""
    return {
        symbol: last.get(symbol, first[symbol]) / first[symbol] - 1 if first[symbol] > 0 else None
        for symbol in sorted(first)
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


def _daily_closes(times: Sequence[int], values: Sequence[float]) -> tuple[list[int], list[float]]:
    """The time and value of each UTC day's last sample, days in the order of the samples."""
    ends: list[int] = []
    closes: list[float] = []
    if _is_sorted(times):
        # A day's close is its last sample: one binary search per day, not a step per sample.
        i, n = 0, len(times)
        while i < n:
            i = bisect.bisect_left(times, (times[i] // _NANOS_PER_DAY + 1) * _NANOS_PER_DAY, i)
            ends.append(times[i - 1])
            closes.append(values[i - 1])
    else:
        current_day = None
        for ts, value in zip(times, values, strict=True):
            day = ts // _NANOS_PER_DAY
            if day != current_day:
                ends.append(ts)
                closes.append(value)
                current_day = day
            else:
                ends[-1] = ts
                closes[-1] = value
    return ends, closes


def _returns(closes: Sequence[float]) -> list[float]:
    """Each close relative to the one before it, skipping those after a close of zero or less."""
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
