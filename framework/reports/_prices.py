"""Price data for reports, read again from the run's bar files.

A run result carries fills, trades and equity but no bars: keeping a 1M-bar series in every
result would cost memory and bytes nobody asked for. A report that draws prices therefore
replays the data files through an :class:`~framework.Engine` with no strategy and a
:class:`PriceRecorder` observer, which keeps a decimated close series per symbol (bounded
memory, see :mod:`._digest`). The files are merged and parsed exactly as the backtest did.

The same pass can rebuild the equity curve of a saved result that lacks one: fills are booked
in time order (cash −= signed qty × price + commission) and open positions are marked at each
bar's close when the bar becomes final — the identity the portfolio keeps
(equity = cash + Σ qty × last price).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import trio

from .._backtest import feeds_for
from .._engine import Engine
from .._events import Bar, Event
from .._time import nanos_from_iso
from ._digest import CHART_BUCKETS, Decimator, EquityDigest, SeriesPoints


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
    """Engine observer: a decimated close series per symbol, optionally rebuilding equity.

    With ``rebuild_equity`` set to an :class:`EquityDigest`, ``fills`` are booked as bars pass
    their times and one equity sample is taken per bar (see the module docstring).
    """

    def __init__(
        self,
        *,
        buckets: int = CHART_BUCKETS,
        fills: Iterable[FillRecord] = (),
        rebuild_equity: EquityDigest | None = None,
    ) -> None:
        self._buckets = buckets
        self.closes: dict[str, Decimator] = {}
        self._equity = rebuild_equity
        self._fills = sorted(fills, key=lambda f: f.ts)
        self._next_fill = 0
        self._cash = rebuild_equity.start_cash if rebuild_equity is not None else 0.0
        self._positions: dict[str, float] = {}
        self._last: dict[str, float] = {}

    def on_event(self, event: Event) -> None:
        if event.__class__ is not Bar:
            return
        bar: Bar = event
        series = self.closes.get(bar.symbol)
        if series is None:
            series = self.closes[bar.symbol] = Decimator(self._buckets)
        series.add(bar.ts_event, bar.close)
        if self._equity is not None:
            self._book_until(bar.ts_event)
            self._last[bar.symbol] = bar.close
            value = self._cash
            for symbol, qty in self._positions.items():
                value += qty * self._last.get(symbol, 0.0)
            self._equity.add(bar.ts_event, value)

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

    def prices(self) -> dict[str, SeriesPoints]:
        """Symbol → decimated closes, symbols sorted."""
        return {symbol: self.closes[symbol].points() for symbol in sorted(self.closes)}


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
