"""Orders as the broker tracks them, and the commands that create them."""

from __future__ import annotations

import enum
import math

import attrs

from .._events import OrderSide


class OrderType(enum.Enum):
    """How an order is priced. Limit and stop types arrive with the full fill models."""

    MARKET = "market"


class OrderStatus(enum.Enum):
    """Where an order is in its life."""

    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)


@attrs.define(slots=True, kw_only=True, eq=False)
class Order:
    """A working or finished order. Owned and mutated by the broker; strategies only read it."""

    order_id: int
    strategy_id: str
    symbol: str
    side: OrderSide
    qty: float
    type: OrderType = OrderType.MARKET
    ts_submitted: int
    status: OrderStatus = OrderStatus.ACCEPTED
    filled_qty: float = 0.0

    @property
    def leaves_qty(self) -> float:
        """Quantity still to fill."""
        return self.qty - self.filled_qty


def check_quantity(qty: float) -> float:
    """Return ``qty`` as a float, or raise ValueError unless it is finite and positive."""
    value = float(qty)
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"order quantity must be a positive finite number, got {qty!r}")
    return value
