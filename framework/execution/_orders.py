"""Orders as the broker tracks them: type, time in force, status, and linked groups.

An :class:`Order` is owned and mutated by the broker; strategies read it. Its life::

    SUBMITTED ──(latency elapsed)──▶ ACCEPTED ──▶ PARTIALLY_FILLED ──▶ FILLED
        │                               │                │
        └──────────────┬────────────────┴────────────────┴──▶ CANCELLED | EXPIRED
    REJECTED (pre-trade checks; never worked)

With zero latency an order is ACCEPTED as soon as it is submitted.
"""

from __future__ import annotations

import enum
import math

import attrs

from .._events import OrderSide

#: Quantities closer than this count as equal: fills are floats, and ``qty - filled`` must
#: not leave a remainder of 1e-16 working forever.
QTY_EPSILON = 1e-9


class OrderType(enum.Enum):
    """How an order is priced; derived from which of ``limit`` and ``stop`` are given."""

    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class TimeInForce(enum.Enum):
    """How long an order works (exact rules in docs/execution.md).

    ``DAY`` until the end of the session it was submitted in; ``GTC`` until filled or
    cancelled; ``IOC`` fills what it can at the first price it sees and cancels the rest;
    ``FOK`` fills completely at the first price it sees or not at all.
    """

    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"

    @classmethod
    def parse(cls, value: TimeInForce | str) -> TimeInForce:
        """``"gtc"`` (any case) or a member → the member; ValueError for anything else."""
        if isinstance(value, TimeInForce):
            return value
        found = _TIF_BY_NAME.get(value) if isinstance(value, str) else None
        if found is None:
            found = _TIF_BY_NAME.get(str(value).lower())
        if found is None:
            names = ", ".join(repr(m.value) for m in cls)
            raise ValueError(f"time in force must be one of {names}, got {value!r}")
        return found


_TIF_BY_NAME = {member.value: member for member in TimeInForce}


class OrderStatus(enum.Enum):
    """Where an order is in its life."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REJECTED = "rejected"

    @property
    def is_open(self) -> bool:
        """True while the order may still fill."""
        return self in OPEN_STATUSES


#: A tuple, not a set: ``in`` compares enum members by identity in C, while hashing an enum
#: member calls Python code.
OPEN_STATUSES = (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)


@attrs.frozen(slots=True, kw_only=True)
class PendingChange:
    """A cancel or modify request on its way to the market (latency); takes effect at ``at``.

    For a modify, None leaves that field unchanged.
    """

    at: int
    cancel: bool = False
    qty: float | None = None
    limit_price: float | None = None
    stop_price: float | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class Order:
    """A working or finished order. Owned and mutated by the broker; strategies only read it.

    ``ts_active`` is when it reaches the market (submission plus latency); ``expire_at`` the
    session boundary a ``day`` order expires at. ``parent_id`` links a bracket's exits to its
    entry (they work only once the entry has filled, for the quantity it filled);
    ``oco_id`` links the members of a one-cancels-other group. ``reason`` says why an order
    was rejected, cancelled or expired.
    """

    order_id: int
    strategy_id: str
    symbol: str
    side: OrderSide
    qty: float
    type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    stop_price: float | None = None
    tif: TimeInForce = TimeInForce.GTC
    ts_submitted: int
    ts_active: int = 0
    expire_at: int | None = None
    status: OrderStatus = OrderStatus.ACCEPTED
    filled_qty: float = 0.0
    filled_value: float = 0.0
    commission: float = 0.0
    is_triggered: bool = False
    parent_id: int | None = None
    child_ids: tuple[int, ...] = ()
    oco_id: int | None = None
    reason: str = ""
    pending: list[PendingChange] = attrs.Factory(list)

    @property
    def leaves_qty(self) -> float:
        """Quantity still to fill."""
        return self.qty - self.filled_qty

    @property
    def is_open(self) -> bool:
        """True while the order may still fill."""
        return self.status in OPEN_STATUSES

    @property
    def avg_fill_price(self) -> float | None:
        """Quantity-weighted average price of the fills so far; None before the first."""
        return self.filled_value / self.filled_qty if self.filled_qty else None

    @property
    def next_due(self) -> int:
        """The earliest time something scheduled happens to this order (activation, a
        pending change, expiry); a huge number when nothing is scheduled."""
        due = _NEVER
        if self.status is OrderStatus.SUBMITTED:
            due = self.ts_active
        if self.pending and self.pending[0].at < due:
            due = self.pending[0].at
        if self.expire_at is not None and self.expire_at < due:
            due = self.expire_at
        return due


_NEVER = 2**63 - 1


@attrs.frozen(slots=True)
class Bracket:
    """The three orders of a bracket: the entry and its two exits, which form an OCO pair."""

    entry: Order
    take_profit: Order
    stop_loss: Order


def order_type_for(limit: float | None, stop: float | None) -> OrderType:
    """The order type implied by which prices are given."""
    if limit is None:
        return OrderType.MARKET if stop is None else OrderType.STOP
    return OrderType.LIMIT if stop is None else OrderType.STOP_LIMIT


def check_quantity(qty: float) -> float:
    """Return ``qty`` as a float, or raise ValueError unless it is finite and positive."""
    value = float(qty)
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"order quantity must be a positive finite number, got {qty!r}")
    return value


def check_price(name: str, price: float | None) -> float | None:
    """Return ``price`` as a float (or None), or raise ValueError unless finite and positive."""
    if price is None:
        return None
    value = float(price)
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} price must be a positive finite number, got {price!r}")
    return value


def parse_side(side: OrderSide | str) -> OrderSide:
    """``"buy"``/``"sell"`` (any case) or a member → the member; ValueError otherwise."""
    if isinstance(side, OrderSide):
        return side
    try:
        return OrderSide(str(side).lower())
    except ValueError:
        raise ValueError(f"side must be 'buy' or 'sell', got {side!r}") from None
