"""Cash, positions, profit and loss, and the equity curve."""

from __future__ import annotations

import math
from array import array

import attrs

from .._events import OrderFilled
from ._equity import DEFAULT_MAX_SAMPLES, EquityCurve
from ._records import FILL_LAYOUT, Records
from ._trades import Trade, TradeBook


@attrs.define(slots=True, kw_only=True, eq=False)
class Position:
    """The holding in one symbol: signed quantity (negative = short) at an average price.

    Owned by the portfolio; strategies read it.
    """

    symbol: str
    qty: float = 0.0
    avg_price: float = 0.0
    realized_pnl: float = 0.0

    @property
    def is_flat(self) -> bool:
        return self.qty == 0

    def unrealized_pnl(self, price: float) -> float:
        """Profit of the open quantity if it were closed at ``price``."""
        return (price - self.avg_price) * self.qty


class Portfolio:
    """Tracks cash and positions from fills and values them at the latest marks.

    Accounting identities (checked by a state machine in tests/portfolio):
    ``equity == cash + sum(qty * last price)`` over open positions, and
    ``equity == start_cash + realized_pnl + unrealized_pnl - commissions``.
    A position without a mark yet is valued at its average price. One equity sample is kept
    per distinct mark time (the last mark at a time wins); long runs thin the curve
    (:mod:`._equity`: ``equity_resolution`` in ns, ``max_equity_samples``) without changing any
    statistic.
    """

    def __init__(
        self,
        cash: float = 100_000.0,
        *,
        equity_resolution: int | None = None,
        max_equity_samples: int = DEFAULT_MAX_SAMPLES,
    ) -> None:
        self.start_cash = float(cash)
        self.cash = float(cash)
        self._curve_settings = (equity_resolution, max_equity_samples)
        self.positions: dict[str, Position] = {}
        self.last_price: dict[str, float] = {}
        #: Each symbol's first price, for the buy-and-hold returns (docs/statistics.md): set by
        #: the broker at the symbol's first priced market event (marking does not look).
        self.first_price: dict[str, float] = {}
        self.commissions = 0.0
        #: Every fill booked, oldest first, kept as columns (about 50 bytes each).
        self.fills: Records[OrderFilled] = Records(FILL_LAYOUT)
        self.trades = TradeBook()
        self._open: dict[str, Position] = {}
        self._curve = EquityCurve(resolution=equity_resolution, max_samples=max_equity_samples)
        # The curve's lists of new samples, held here too: mark() appends to them on every bar.
        self._equity_ts = self._curve.new_times
        self._equity = self._curve.new_values
        self._room = self._curve.room
        # The last sample's time, i.e. _equity_ts[-1], kept apart because mark() compares
        # with it on every bar and reading an array item builds a new int.
        self._last_mark_ts = -1
        # Whether the last sample still needs valuing. With several open positions, valuing
        # them all on each mark would cost O(positions) per bar; instead the sample is valued
        # once, when its time's marks are over (the next time's first mark, a fill, a reader).
        # It equals what valuing after the last mark at that time gives.
        self._unvalued = False

    def empty_like(self) -> Portfolio:
        """A new portfolio with this one's starting cash and equity curve settings."""
        resolution, max_samples = self._curve_settings
        return Portfolio(
            self.start_cash, equity_resolution=resolution, max_equity_samples=max_samples
        )

    def position(self, symbol: str) -> Position:
        """The position in ``symbol`` (flat if never traded)."""
        pos = self.positions.get(symbol)
        if pos is None:
            pos = self.positions[symbol] = Position(symbol=symbol)
        return pos

    def equity(self) -> float:
        """Cash plus the market value of open positions at their last marks."""
        last = self.last_price
        value = self.cash
        for symbol, pos in self._open.items():
            value += pos.qty * last.get(symbol, pos.avg_price)
        return value

    def market_value(self) -> float:
        """Signed market value of open positions."""
        return self.equity() - self.cash

    def gross_exposure(self) -> float:
        """Sum of absolute position values at their last marks."""
        last = self.last_price
        return sum(abs(p.qty) * last.get(s, p.avg_price) for s, p in self._open.items())

    def net_exposure(self) -> float:
        """Signed sum of position values at their last marks (longs minus shorts)."""
        return self.market_value()

    def realized_pnl(self) -> float:
        """Profit booked by closing positions, over all symbols, before commissions."""
        return sum(p.realized_pnl for p in self.positions.values())

    def unrealized_pnl(self) -> float:
        """Profit of the open positions at their last marks."""
        last = self.last_price
        return sum(p.unrealized_pnl(last.get(s, p.avg_price)) for s, p in self._open.items())

    def open_positions(self) -> dict[str, Position]:
        """The positions that are not flat, by symbol."""
        return dict(self._open)

    def apply_fill(self, fill: OrderFilled) -> None:
        """Book a fill: cash, position, realised PnL, commission and round-trip trades."""
        if self._unvalued:
            self._value_sample()  # as the book was before this fill
        pos = self.positions.get(fill.symbol) or self.position(fill.symbol)
        signed = fill.qty * fill.side.sign
        self.cash -= signed * fill.price + fill.commission
        self.commissions += fill.commission
        old_qty = pos.qty
        new_qty = old_qty + signed
        realized = 0.0
        if old_qty == 0 or (old_qty > 0) == (signed > 0):
            pos.avg_price = (abs(old_qty) * pos.avg_price + fill.qty * fill.price) / abs(new_qty)
        else:
            closed = min(abs(signed), abs(old_qty))
            realized = (fill.price - pos.avg_price) * closed * (1 if old_qty > 0 else -1)
            pos.realized_pnl += realized
            if new_qty == 0:
                pos.avg_price = 0.0
            elif (new_qty > 0) != (old_qty > 0):
                pos.avg_price = fill.price
        pos.qty = new_qty
        if new_qty == 0:
            self._open.pop(fill.symbol, None)
        else:
            self._open[fill.symbol] = pos
        self.fills.append(fill)
        self.trades.on_fill(fill, old_qty, new_qty, realized)
        self.last_price.setdefault(fill.symbol, fill.price)

    def mark(self, symbol: str, price: float, ts: int) -> None:
        """Value ``symbol`` at ``price`` from time ``ts`` on, and sample equity."""
        # Runs once per bar: flat and single-position books are valued inline (the same
        # arithmetic as equity(), so the same floats); larger books once per mark time.
        if self._unvalued and ts != self._last_mark_ts:
            self._value_sample()
        self.last_price[symbol] = price
        open_ = self._open
        if not open_:
            equity = self.cash
        elif len(open_) == 1 and symbol in open_:
            equity = self.cash + open_[symbol].qty * price
        else:
            self._unvalued = True
            equity = math.nan
        if ts == self._last_mark_ts:
            if self._equity:  # the curve's replace_last(), inline: every mark but one at a time
                self._equity[-1] = equity
            else:
                self._curve.values[-1] = equity
        else:
            self._last_mark_ts = ts
            self._equity_ts.append(ts)
            self._equity.append(equity)
            self._room -= 1
            if not self._room:
                self._room = self._curve.settle()

    def _value_sample(self) -> None:
        """Value the last sample, whose time's marks are over (or are read now)."""
        self._curve.replace_last(self.equity())
        self._unvalued = False

    @property
    def equity_curve(self) -> tuple[array[int], array[float]]:
        """(times in ns, equity values): one sample per distinct mark time, thinned in long
        runs as :mod:`framework.portfolio._equity` describes."""
        if self._unvalued:
            self._value_sample()
        curve = self._curve
        self._room = curve.settle()
        if curve.resolution is not None:
            self._room = curve.thin()  # the newest samples too, at the same resolution
        return curve.times, curve.values

    def drawdown(self) -> tuple[float, int]:
        """(max drawdown as a fraction of the peak, its longest duration in ns) over every
        equity sample, thinned ones included."""
        if self._unvalued:
            self._value_sample()
        return self._curve.drawdown()

    @property
    def closed_trades(self) -> Records[Trade]:
        return self.trades.closed
