"""Round-trip trades built from fills.

A trade opens when a position leaves flat and closes when it returns to flat. A fill that flips
a position closes the trade at the fill and opens a new one in the other direction with the
remaining quantity. Closed trades are kept as columns (:mod:`._records`), about 50 bytes each.
"""

from __future__ import annotations

import attrs

from .._drafts import unchecked_constructor
from .._events import OrderFilled
from ._records import FLOAT, INT, SMALL_INT, TEXT, RecordLayout, Records, sparse


@attrs.frozen(slots=True, kw_only=True, weakref_slot=False)
class Trade:
    """A closed round trip.

    ``side`` is +1 for long, -1 for short; ``qty`` the largest absolute position held; prices are
    quantity-weighted averages; ``pnl`` is realised profit net of commissions.
    """

    symbol: str
    side: int
    qty: float
    entry_time: int
    entry_price: float
    exit_time: int
    exit_price: float
    pnl: float
    commission: float


_new_trade = unchecked_constructor(Trade)  # a closed trade is built from checked fills

#: How a trade book keeps its closed trades.
TRADE_LAYOUT: RecordLayout[Trade] = RecordLayout(
    Trade,
    symbol=TEXT,
    side=SMALL_INT,
    qty=FLOAT,
    entry_time=INT,
    entry_price=FLOAT,
    exit_time=INT,
    exit_price=FLOAT,
    pnl=FLOAT,
    commission=sparse(0.0),
)


@attrs.define(slots=True)
class _OpenTrade:
    side: int
    entry_time: int
    entry_qty: float = 0.0
    entry_value: float = 0.0
    exit_qty: float = 0.0
    exit_value: float = 0.0
    max_qty: float = 0.0
    realized: float = 0.0
    commission: float = 0.0


class TradeBook:
    """Collects round trips per symbol as fills arrive."""

    def __init__(self) -> None:
        self.closed: Records[Trade] = Records(TRADE_LAYOUT)
        self._open: dict[str, _OpenTrade] = {}

    def on_fill(self, fill: OrderFilled, old_qty: float, new_qty: float, realized: float) -> None:
        signed = fill.qty * fill.side.sign
        current = self._open.get(fill.symbol)
        if current is None:
            current = self._open[fill.symbol] = _OpenTrade(
                side=1 if signed > 0 else -1, entry_time=fill.ts_event
            )
        opening = fill.qty if old_qty == 0 or (old_qty > 0) == (signed > 0) else 0.0
        closing = fill.qty - opening
        if closing and new_qty and (new_qty > 0) != (old_qty > 0):
            # A flip: only |old_qty| closes this trade, the rest opens the next one.
            closing = abs(old_qty)
        share = closing / fill.qty if fill.qty else 0.0
        current.entry_qty += opening
        current.entry_value += opening * fill.price
        current.exit_qty += closing
        current.exit_value += closing * fill.price
        current.realized += realized
        current.commission += fill.commission * (share if closing else 1.0)
        current.max_qty = max(current.max_qty, abs(new_qty) if new_qty * current.side > 0 else 0.0)
        if new_qty == 0 or ((new_qty > 0) != (old_qty > 0) and old_qty != 0):
            self._close(fill, current)
            if new_qty != 0:
                rest = abs(new_qty)
                self._open[fill.symbol] = _OpenTrade(
                    side=1 if new_qty > 0 else -1,
                    entry_time=fill.ts_event,
                    entry_qty=rest,
                    entry_value=rest * fill.price,
                    max_qty=rest,
                    commission=fill.commission * (1.0 - share),
                )

    def open_entry_times(self) -> list[int]:
        """Entry times of the trades still open, one per symbol."""
        return [trade.entry_time for trade in self._open.values()]

    def _close(self, fill: OrderFilled, trade: _OpenTrade) -> None:
        del self._open[fill.symbol]
        self.closed.append(
            _new_trade(
                fill.symbol,
                trade.side,
                trade.max_qty,
                trade.entry_time,
                trade.entry_value / trade.entry_qty if trade.entry_qty else 0.0,
                fill.ts_event,
                trade.exit_value / trade.exit_qty if trade.exit_qty else 0.0,
                trade.realized - trade.commission,
                trade.commission,
            )
        )
