"""A run's benchmark: its prices, and the strategy's return, alpha and beta against it.

A benchmark is one instrument's price series: the closes of its bars (or its quotes' marks),
either of a symbol of the run's own data, recorded as the run delivers it
(:class:`BenchmarkRecorder` on the bus), or read from a bar file of its own. Definitions
(docs/statistics.md, "Benchmark"), with B(t) the benchmark's last price at or before t and
t0, t1 the run's first and last equity sample times:

- ``benchmark_return``: B(t1) / B(t0) − 1, buying the benchmark when the run starts (at its
  first price after t0 if it has none by then) and holding it to the end;
- benchmark daily returns: B at each day's last equity sample time (the days of the strategy's
  daily returns), relative to the day before (the first day's relative to B(t0));
- ``beta``: cov(strategy daily returns, benchmark daily returns) / var(benchmark daily
  returns), over the days both are defined;
- ``alpha``: the mean daily excess return, strategy − beta × benchmark, over those days,
  × 252 (annualised as Sharpe and volatility are, risk-free rate 0).
"""

from __future__ import annotations

import bisect
import itertools
import math
from array import array
from collections.abc import Sequence
from typing import Any

import attrs

from .._events import Bar, Event, Quote
from .._time import NANOS_PER_SECOND

_NANOS_PER_DAY = 86_400 * NANOS_PER_SECOND
_TRADING_DAYS = 252


@attrs.frozen(slots=True, kw_only=True)
class BenchmarkPrices:
    """A benchmark's name and its prices in time order (``times`` in UTC ns, non-decreasing)."""

    name: str
    times: Sequence[int] = attrs.field(eq=False, repr=False)
    prices: Sequence[float] = attrs.field(eq=False, repr=False)

    def price_at(self, ts: int) -> float | None:
        """The last price at or before ``ts`` (None before the first)."""
        i = bisect.bisect_right(self.times, ts)
        return self.prices[i - 1] if i else None

    def first_after(self, ts: int, until: int) -> float | None:
        """The first price after ``ts`` and at or before ``until``."""
        i = bisect.bisect_right(self.times, ts)
        return self.prices[i] if i < len(self.times) and self.times[i] <= until else None


class BenchmarkRecorder:
    """Keeps one instrument's prices as events arrive: each bar's close and each quote's mark.

    With ``daily``, it keeps the first price and each UTC day's last one only: enough for a
    symbol of the run's own data, whose every bar is also an equity sample, so that no day's
    last sample comes before the benchmark's last price of that day (B at that sample is the
    day's last price).
    """

    __slots__ = ("_daily", "_last_day", "name", "prices", "symbols", "times")

    def __init__(self, name: str, *, daily: bool = False) -> None:
        self.name = name
        self.times: array[int] = array("q")
        self.prices: array[float] = array("d")
        #: Symbols seen by :meth:`on_event` (a file must hold one).
        self.symbols: set[str] = set()
        self._daily = daily
        self._last_day = -1

    def on_bar(self, bar: Bar) -> None:
        self._add(bar.ts_event, bar.close)

    def on_quote(self, quote: Quote) -> None:
        mark = quote.mark_price
        if mark is not None:
            self._add(quote.ts_event, mark)

    def on_event(self, event: Event) -> None:
        """An engine observer's view: bars and quotes of every symbol, the rest ignored."""
        cls = event.__class__
        if cls is Bar:
            self.symbols.add(event.symbol)  # type: ignore[attr-defined]
            self.on_bar(event)  # type: ignore[arg-type]
        elif cls is Quote:
            self.symbols.add(event.symbol)  # type: ignore[attr-defined]
            self.on_quote(event)  # type: ignore[arg-type]

    def _add(self, ts: int, price: float) -> None:
        day = ts // _NANOS_PER_DAY
        if self._daily and day == self._last_day and len(self.times) > 1:
            self.times[-1] = ts
            self.prices[-1] = price
        else:
            self.times.append(ts)
            self.prices.append(price)
            self._last_day = day

    def result(self) -> BenchmarkPrices:
        return BenchmarkPrices(name=self.name, times=self.times, prices=self.prices)


def benchmark_statistics(
    benchmark: BenchmarkPrices,
    *,
    start_cash: float,
    equity_ts: Sequence[int],
    day_ends: Sequence[int],
    closes: Sequence[float],
) -> dict[str, Any]:
    """``benchmark``, ``benchmark_return``, ``alpha`` and ``beta`` of a run whose equity
    samples span ``equity_ts``, its days ending at ``day_ends`` with equity ``closes``."""
    figures: dict[str, Any] = {
        "benchmark": benchmark.name,
        "benchmark_return": None,
        "alpha": None,
        "beta": None,
    }
    if not len(equity_ts):
        return figures
    t0, t1 = equity_ts[0], equity_ts[-1]
    start = benchmark.price_at(t0)
    bought = start if start is not None else benchmark.first_after(t0, t1)
    end = benchmark.price_at(t1)
    if bought is not None and end is not None and bought > 0:
        figures["benchmark_return"] = end / bought - 1
    ours = [start_cash, *closes]
    theirs = [start, *map(benchmark.price_at, day_ends)]
    pairs = [
        (s1 / s0 - 1, b1 / b0 - 1)
        for (s0, b0), (s1, b1) in itertools.pairwise(zip(ours, theirs, strict=True))
        if s0 > 0 and b0 is not None and b1 is not None and b0 > 0
    ]
    if len(pairs) < 2:
        return figures
    n = len(pairs)
    mean_s = math.fsum(s for s, _ in pairs) / n
    mean_b = math.fsum(b for _, b in pairs) / n
    variance = math.fsum((b - mean_b) * (b - mean_b) for _, b in pairs)
    if variance > 0:
        beta = math.fsum((s - mean_s) * (b - mean_b) for s, b in pairs) / variance
        figures["beta"] = beta
        figures["alpha"] = (mean_s - beta * mean_b) * _TRADING_DAYS
    return figures
