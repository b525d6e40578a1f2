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
from collections.abc import Callable
from typing import Any, TypedDict

import attrs

from .._errors import ParameterError
from .._events import OrderSide

#: Quantities closer than this count as equal: fills are floats, and ``qty - filled`` must
#: not leave a remainder of 1e-16 working forever.
QTY_EPSILON = 1e-9


class OrderType(enum.Enum):
    """How an order is priced; derived from the prices and offsets it is sent with.

    ``limit`` and ``stop`` give the first four; ``trail`` or ``trail_percent`` a trailing
    stop (with ``limit_offset``, a trailing stop-limit); ``touch`` a market-if-touched order.
    """

    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP_MARKET = "trailing_stop_market"
    TRAILING_STOP_LIMIT = "trailing_stop_limit"
    MARKET_IF_TOUCHED = "market_if_touched"

    @property
    def is_trailing(self) -> bool:
        """True for the trailing stops, whose stop price follows the market."""
        return self in TRAILING_TYPES


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
TRAILING_TYPES = (OrderType.TRAILING_STOP_MARKET, OrderType.TRAILING_STOP_LIMIT)
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


@attrs.frozen(slots=True, kw_only=True)
class TriggerTerms:
    """What makes an order a trailing stop or a market-if-touched order (checked by
    :func:`check_trigger_terms`): a trailing distance, as a price offset or a fraction of the
    price, with a limit offset for a trailing stop-limit; or a touch price."""

    trail_offset: float | None = None
    trail_percent: float | None = None
    limit_offset: float | None = None
    touch_price: float | None = None

    @property
    def type(self) -> OrderType:
        if self.touch_price is not None:
            return OrderType.MARKET_IF_TOUCHED
        if self.limit_offset is not None:
            return OrderType.TRAILING_STOP_LIMIT
        return OrderType.TRAILING_STOP_MARKET


@attrs.define(slots=True, kw_only=True, eq=False)
class Order:
    """A working or finished order. Owned and mutated by the broker; strategies only read it.

    ``ts_active`` is when it reaches the market (submission plus latency); ``expire_at`` the
    session boundary a ``day`` order expires at. ``parent_id`` links a bracket's exits to its
    entry (they work only once the entry has filled, for the quantity it filled);
    ``oco_id`` links the members of a one-cancels-other group. ``reason`` says why an order
    was rejected, cancelled or expired.

    A trailing stop has its offset in ``trail_offset`` (a price distance) or
    ``trail_percent`` (a fraction of the price) and its current stop in ``stop_price`` (None
    until the trail starts, when the order reaches the market); a trailing stop-limit also
    has ``limit_offset``, and its ``limit_price`` follows the stop at that distance (below
    it for a sell, above it for a buy). A market-if-touched order triggers at
    ``touch_price``. These four are kept together in ``trigger_terms``, None for every other
    order: one field for every order to carry, not four.
    """

    order_id: int
    strategy_id: str
    symbol: str
    side: OrderSide
    qty: float
    type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    stop_price: float | None = None
    trigger_terms: TriggerTerms | None = None
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
    def trail_offset(self) -> float | None:
        """A trailing stop's distance from the price it trails, as a price offset."""
        terms = self.trigger_terms
        return None if terms is None else terms.trail_offset

    @property
    def trail_percent(self) -> float | None:
        """A trailing stop's distance as a fraction of the price it trails (0.02: 2 %)."""
        terms = self.trigger_terms
        return None if terms is None else terms.trail_percent

    @property
    def limit_offset(self) -> float | None:
        """How far beyond its stop a trailing stop-limit's limit is."""
        terms = self.trigger_terms
        return None if terms is None else terms.limit_offset

    @property
    def touch_price(self) -> float | None:
        """The price a market-if-touched order triggers at."""
        terms = self.trigger_terms
        return None if terms is None else terms.touch_price

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


def _order_constructor() -> Callable[..., Order]:
    """``Order(...)``, generated without keyword-only parameters.

    ``Order.__init__`` (attrs, ``kw_only``) keeps its defaults in a dict, and CPython looks
    each one the caller leaves out up there: a new market order leaves out 18, nearly half
    the cost of creating it. This function takes the same arguments (by keyword) with its
    defaults in a tuple, and sets the same fields. Validators, converters and
    ``__attrs_post_init__`` would not run: Order has none, and this refuses to be built if
    it ever gets one.
    """
    fields = attrs.fields(Order)
    if hasattr(Order, "__attrs_post_init__") or any(
        f.validator is not None or f.converter is not None or not f.init for f in fields
    ):
        raise TypeError("Order's fields must stay plain for _order_constructor")
    namespace: dict[str, Any] = {"new": object.__new__, "cls": Order}
    required = [f.name for f in fields if f.default is attrs.NOTHING]
    optional = []
    body = []
    for field in fields:
        name = field.name
        default: Any = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            if default.takes_self:
                raise TypeError(f"Order.{name}: a factory taking self is not supported")
            # A fresh value per order, as attrs makes it; None stands for "not given".
            namespace[f"factory_{name}"] = default.factory
            optional.append(f"{name}=None")
            body.append(f"    order.{name} = factory_{name}() if {name} is None else {name}")
            continue
        if default is not attrs.NOTHING:
            namespace[f"default_{name}"] = default
            optional.append(f"{name}=default_{name}")
        body.append(f"    order.{name} = {name}")
    header = f"def new_order({', '.join(required + optional)}):"
    source = "\n".join([header, "    order = new(cls)", *body, "    return order", ""])
    exec(compile(source, "<Order constructor>", "exec"), namespace)
    constructor: Callable[..., Order] = namespace["new_order"]
    return constructor


#: Builds an Order from keyword arguments, as ``Order(...)`` does, faster (see above).
new_order = _order_constructor()


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


class TriggerOptions(TypedDict, total=False):
    """The keyword arguments of ``Strategy.buy`` / ``sell`` that make a trailing stop
    (``trail`` or ``trail_percent``, with ``limit_offset`` a trailing stop-limit) or a
    market-if-touched order (``touch``); see :func:`check_trigger_terms`."""

    trail: float | None
    trail_percent: float | None
    limit_offset: float | None
    touch: float | None


def trigger_terms_of(
    caller: str,
    options: TriggerOptions,
    *,
    limit: float | None,
    stop: float | None,
    tif: TimeInForce | str,
) -> TriggerTerms | None:
    """:func:`check_trigger_terms` of keyword arguments gathered as ``options`` by ``caller``
    (TypeError for a name it does not take, as Python would raise)."""
    for name in options:
        if name not in TriggerOptions.__optional_keys__:
            raise TypeError(f"{caller}() got an unexpected keyword argument {name!r}")
    return check_trigger_terms(
        limit=limit,
        stop=stop,
        trail=options.get("trail"),
        trail_percent=options.get("trail_percent"),
        limit_offset=options.get("limit_offset"),
        touch=options.get("touch"),
        tif=TimeInForce.parse(tif),
    )


def check_trigger_terms(
    *,
    limit: float | None,
    stop: float | None,
    trail: float | None,
    trail_percent: float | None,
    limit_offset: float | None,
    touch: float | None,
    tif: TimeInForce,
) -> TriggerTerms | None:
    """The terms of a trailing stop (``trail`` or ``trail_percent``, with ``limit_offset`` a
    trailing stop-limit; ``stop`` is then its first stop price) or a market-if-touched order
    (``touch``); None when none of them is given. ValueError for a combination that makes no
    order: both offsets, an offset with a limit, a touch price with anything else, a
    trailing or touched order with ``ioc``/``fok``."""
    if trail is None and trail_percent is None and limit_offset is None and touch is None:
        return None
    if touch is not None:
        extra = [
            f"{name}="
            for name, value in (
                ("limit", limit),
                ("stop", stop),
                ("trail", trail),
                ("trail_percent", trail_percent),
                ("limit_offset", limit_offset),
            )
            if value is not None
        ]
        if extra:
            raise ValueError(
                "a market-if-touched order (touch=) is a market order once touched: it takes "
                f"no {', '.join(extra)}"
            )
        touch = check_price("touch", touch)
    else:
        if trail is not None and trail_percent is not None:
            raise ValueError(
                "give trail= (a price offset) or trail_percent= (a fraction), not both"
            )
        if trail is None and trail_percent is None:
            raise ValueError(
                "limit_offset= makes a trailing stop-limit: it needs trail= or trail_percent="
            )
        if limit is not None:
            raise ValueError(
                "a trailing stop-limit's limit follows its stop: give limit_offset=, not limit="
            )
        if trail is not None:
            trail = float(trail)
            if not (trail > 0 and math.isfinite(trail)):
                raise ValueError(f"trail must be a positive finite price offset, got {trail!r}")
        if trail_percent is not None:
            trail_percent = float(trail_percent)
            if not 0 < trail_percent < 1:
                raise ValueError(
                    "trail_percent is a fraction of the price (0.02 for 2%) between 0 and 1, "
                    f"got {trail_percent!r}"
                )
        if limit_offset is not None:
            limit_offset = float(limit_offset)
            if not (limit_offset >= 0 and math.isfinite(limit_offset)):
                raise ValueError(
                    f"limit_offset must be a finite price distance >= 0, got {limit_offset!r}"
                )
    if tif is TimeInForce.IOC or tif is TimeInForce.FOK:
        what = "market-if-touched orders" if touch is not None else "trailing stops"
        raise ValueError(f"{tif.value} applies to market and limit orders, not to {what}")
    return TriggerTerms(
        trail_offset=trail,
        trail_percent=trail_percent,
        limit_offset=limit_offset,
        touch_price=touch,
    )


def trail_distance(order: Order, price: float) -> float:
    """How far a trailing stop stays from ``price``: its offset, or its fraction of it."""
    terms = order.trigger_terms
    assert terms is not None
    if terms.trail_offset is not None:
        return terms.trail_offset
    assert terms.trail_percent is not None
    return price * terms.trail_percent


def check_quantity(qty: float | None) -> float:
    """Return ``qty`` as a float, or raise ValueError unless it is finite and positive
    (:class:`~framework.ParameterError` when it is missing: ``Strategy.buy(symbol)``)."""
    if qty is None:
        raise ParameterError(
            "order quantity missing: give a quantity, or size= (a fraction of equity) to "
            "buy and sell"
        )
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
