"""Price data for reports, read again from the run's bar files.

A run result carries fills, trades and equity but no bars: keeping a 1M-bar series in every
result would cost memory and bytes nobody asked for. A report that draws prices therefore
replays the data files through an :class:`~framework.Engine` with no strategy and a
:class:`PriceRecorder` observer, which keeps each symbol's candles in time buckets (bounded
memory, see :mod:`._buckets`) and the buy-and-hold curve. The files are merged and parsed
exactly as the backtest did, so the prices drawn are the prices traded.

Buy and hold is the statistics' ``buy_and_hold_return`` as a curve: the start cash split
equally between the symbols, each share bought at its symbol's first close and marked at its
last close since (cash until the symbol's first bar). The recorder keeps, per bar time, the
sum over symbols of (last close / first close − 1); divided by the number of symbols, plus
one, times the start cash, it is the curve.

The same pass can rebuild the equity curve of a saved result that lacks one: fills are booked
in time order (cash −= signed qty × price + commission) and open positions are marked at each
bar's close when the bar becomes final — the identity the portfolio keeps
(equity = cash + Σ qty × last price).
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import trio

from .._backtest import feeds_for
from .._engine import Engine
from .._events import Bar, Event
from .._time import nanos_from_iso
from ._buckets import MAX_CHART_TIMES, CandleBuckets


@attrs.frozen(slots=True, kw_only=True)
class FillRecord:
    """A fill as a report needs it: time (UTC ns), symbol, signed quantity, price, commission."""

    ts: int
    symbol: str
    signed_qty: float
    price: float
    commission: float

    @classmethod
    def from_dict(cls, fill: Mapping[str, Any]) -> FillRecord:
        """From an entry of a result's ``fills`` list (as ``RunResult.to_dict`` writes it)."""
        sign = 1.0 if str(fill["side"]).lower() == "buy" else -1.0
        return cls(
            ts=nanos_from_iso(str(fill["time"]).replace("Z", "+00:00")),
            symbol=str(fill["symbol"]),
            signed_qty=sign * float(fill["qty"]),
            price=float(fill["price"]),
            commission=float(fill.get("commission") or 0.0),
        )


class PriceRecorder:
    """Engine observer: each symbol's candles (:class:`CandleBuckets`) and the buy-and-hold
    curve's samples; optionally the equity curve, rebuilt.

    With ``rebuild_equity`` set to the start cash, ``fills`` are booked as bars pass their
    times and one equity sample is taken per bar time (see the module docstring), kept in
    :attr:`equity_ts` and :attr:`equity`. With ``benchmark`` naming a symbol, that symbol's
    closes are kept whole too, for the benchmark's curve.
    """

    def __init__(
        self,
        *,
        limit: int = MAX_CHART_TIMES,
        fills: Iterable[FillRecord] = (),
        rebuild_equity: float | None = None,
        benchmark: str | None = None,
    ) -> None:
        self._limit = limit
        #: The closes of the run's benchmark, when it is one of the symbols (stats' "benchmark").
        self.benchmark = benchmark
        self.benchmark_ts = array("q")
        self.benchmark_closes = array("d")
        self.candles: dict[str, CandleBuckets] = {}
        #: Per bar time (UTC ns): Σ over symbols of last close / first close − 1.
        self.held_ts = array("q")
        self.held_excess = array("d")
        self._first: dict[str, float] = {}
        self._held: dict[str, float] = {}
        self._excess = 0.0
        self._rebuild = rebuild_equity is not None
        self.equity_ts = array("q")
        self.equity = array("d")
        self._fills = sorted(fills, key=lambda f: f.ts)
        self._next_fill = 0
        self._cash = rebuild_equity or 0.0
        self._positions: dict[str, float] = {}
        self._last: dict[str, float] = {}

    def on_event(self, event: Event) -> None:
        if event.__class__ is not Bar:
            return
        bar: Bar = event
        symbol, close, ts = bar.symbol, bar.close, bar.ts_event
        candles = self.candles.get(symbol)
        if candles is None:
            candles = self.candles[symbol] = CandleBuckets(self._limit)
            if close > 0:
                self._first[symbol] = close
        candles.add(ts, bar.open, bar.high, bar.low, close, bar.volume)
        if symbol == self.benchmark:
            self.benchmark_ts.append(ts)
            self.benchmark_closes.append(close)
        first = self._first.get(symbol)
        if first is not None:
            held = close / first - 1
            self._excess += held - self._held.get(symbol, 0.0)
            self._held[symbol] = held
        times = self.held_ts
        if times and times[-1] == ts:
            self.held_excess[-1] = self._excess
        else:
            times.append(ts)
            self.held_excess.append(self._excess)
        if self._rebuild:
            self._book_until(ts)
            self._last[symbol] = close
            value = self._cash
            for held_symbol, qty in self._positions.items():
                value += qty * self._last.get(held_symbol, 0.0)
            if self.equity_ts and self.equity_ts[-1] == ts:
                self.equity[-1] = value
            else:
                self.equity_ts.append(ts)
                self.equity.append(value)

    def _book_until(self, ts: int) -> None:
        fills = self._fills
        while self._next_fill < len(fills) and fills[self._next_fill].ts <= ts:
            fill = fills[self._next_fill]
            self._next_fill += 1
            self._cash -= fill.signed_qty * fill.price + fill.commission
            qty = self._positions.get(fill.symbol, 0.0) + fill.signed_qty
            if qty == 0:
                self._positions.pop(fill.symbol, None)
            else:
                self._positions[fill.symbol] = qty
                self._last.setdefault(fill.symbol, fill.price)

    @property
    def symbols(self) -> list[str]:
        """The symbols seen, sorted."""
        return sorted(self.candles)

    def benchmark_curve(self, start_cash: float, start: int) -> tuple[array[int], list[float]]:
        """The start cash put into the benchmark when the run starts (``start``, UTC ns): at
        its last close by then, or its first after (the statistics' ``benchmark_return``,
        docs/statistics.md), marked at each close since."""
        times, closes = self.benchmark_ts, self.benchmark_closes
        i = bisect.bisect_right(times, start)
        bought = closes[i - 1] if i else closes[0] if closes else 0.0
        if bought <= 0:
            return array("q"), []
        first = max(i - 1, 0)
        return times[first:], [start_cash * c / bought for c in closes[first:]]

    def buy_and_hold(self, start_cash: float) -> tuple[array[int], list[float]]:
        """The buy-and-hold curve: times (UTC ns) and values (see the module docstring)."""
        count = len(self._first)
        if not count:
            return array("q"), []
        return self.held_ts, [start_cash * (1 + x / count) for x in self.held_excess]


async def record_prices_async(
    recorder: PriceRecorder, data: Sequence[str | Path], **feed_options: Any
) -> None:
    """Replay the bar files ``data`` (as :func:`~framework.feeds_for` opens them) into
    ``recorder``. Cancelling stops the replay; the recorder keeps what it saw."""
    engine = Engine(feeds=feeds_for(data, **feed_options))
    engine.add_observer(recorder.on_event)
    await engine.run()


def record_prices(recorder: PriceRecorder, data: Sequence[str | Path], **feed_options: Any) -> None:
    """Synchronous :func:`record_prices_async`."""
    trio.run(lambda: record_prices_async(recorder, data, **feed_options))
