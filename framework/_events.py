"""Typed events: market data (nouns), notifications (past tense).

All events are frozen, slotted attrs classes with keyword-only fields. Time is integer UTC
nanoseconds: ``ts_event`` is when the thing happened (for a bar: when it became final, so a
strategy can never look ahead), ``ts_recv`` when tradewire received it. Constructors reject
impossible values with :class:`~framework.InvalidEvent`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable

import attrs

from ._drafts import unchecked_constructor
from ._errors import InvalidEvent


class Event:
    """Base class of every event; ``ts_event`` orders events in time."""

    __slots__ = ()
    ts_event: int


def _check_time(name: str, value: int) -> None:
    if type(value) is not int or value < 0:
        raise InvalidEvent(f"{name} must be a non-negative int of UTC nanoseconds, got {value!r}")


def _check_price(owner: str, name: str, value: float | None) -> None:
    if value is not None and not (value > 0 and value != math.inf):
        raise InvalidEvent(f"{owner}: {name} must be a finite positive price, got {value!r}")


def _check_size(owner: str, name: str, value: float | None) -> None:
    if value is not None and not (value >= 0 and value != math.inf):
        raise InvalidEvent(f"{owner}: {name} must be a finite size >= 0, got {value!r}")


def ohlcv_is_valid(o: float, h: float, low: float, c: float, v: float) -> bool:
    """The price and volume check of :class:`Bar`, as one expression for batch producers."""
    # One chained comparison covers NaN (all comparisons false), sign and range consistency.
    return 0 < low <= o <= h and low <= c <= h and h < math.inf and 0 <= v < math.inf


def _check_ohlcv(owner: str, o: float, h: float, low: float, c: float, v: float) -> None:
    if ohlcv_is_valid(o, h, low, c, v):
        return
    for name, value in (("open", o), ("high", h), ("low", low), ("close", c)):
        _check_price(owner, name, value)
    _check_size(owner, "volume", v)
    raise InvalidEvent(
        f"{owner}: inconsistent OHLC (open={o!r}, high={h!r}, low={low!r}, close={c!r}): "
        "need low <= open, close <= high"
    )


@attrs.frozen(slots=True, kw_only=True, weakref_slot=False)
class Bar(Event):
    """A final OHLCV bar.

    ``ts_open`` is the bar's open time; ``ts_event`` when it became final (for a bar file: the
    open time plus the bar size); ``ts_recv`` when tradewire received it. ``interval`` is the
    bar size label (``1m``, ``1D``). ``is_backfill`` marks bars fetched to fill a gap.
    """

    symbol: str
    interval: str
    ts_open: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    ts_event: int
    ts_recv: int
    is_backfill: bool = False

    def __attrs_post_init__(self) -> None:
        _check_ohlcv(f"bar {self.symbol}", self.open, self.high, self.low, self.close, self.volume)
        _check_time("ts_open", self.ts_open)
        _check_time("ts_event", self.ts_event)
        _check_time("ts_recv", self.ts_recv)
        if self.ts_event < self.ts_open:
            raise InvalidEvent(f"bar {self.symbol}: ts_event is before ts_open")


@attrs.frozen(slots=True, kw_only=True, weakref_slot=False)
class BarUpdate(Event):
    """The current state of a bar that is still in progress (it may change until final).

    Delivered only to strategies that ask for it; never counted as a final bar.
    """

    symbol: str
    interval: str
    ts_open: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    ts_event: int
    ts_recv: int

    def __attrs_post_init__(self) -> None:
        _check_ohlcv(
            f"bar update {self.symbol}", self.open, self.high, self.low, self.close, self.volume
        )
        _check_time("ts_open", self.ts_open)
        _check_time("ts_event", self.ts_event)
        _check_time("ts_recv", self.ts_recv)


@attrs.frozen(slots=True, kw_only=True)
class Quote(Event):
    """A full top-of-book snapshot for one symbol; fields the venue never sent are None.

    ``status`` is the market session as the venue labels it (``OPEN``, ``CLOSED``, ``PRE``,
    ``POST``), kept opaque.
    """

    symbol: str
    bid: float | None = None
    ask: float | None = None
    bid_size: float | None = None
    ask_size: float | None = None
    last_price: float | None = None
    last_size: float | None = None
    volume: float | None = None
    status: str | None = None
    ts_last: int | None = None
    ts_event: int
    ts_recv: int

    def __attrs_post_init__(self) -> None:
        owner = f"quote {self.symbol}"
        _check_price(owner, "bid", self.bid)
        _check_price(owner, "ask", self.ask)
        _check_price(owner, "last_price", self.last_price)
        _check_size(owner, "bid_size", self.bid_size)
        _check_size(owner, "ask_size", self.ask_size)
        _check_size(owner, "last_size", self.last_size)
        _check_size(owner, "volume", self.volume)
        if self.bid is not None and self.ask is not None and self.bid > self.ask:
            raise InvalidEvent(f"{owner}: bid {self.bid!r} above ask {self.ask!r}")
        _check_time("ts_event", self.ts_event)
        _check_time("ts_recv", self.ts_recv)
        if self.ts_last is not None:
            _check_time("ts_last", self.ts_last)

    @property
    def mark_price(self) -> float | None:
        """The price positions are valued at: the last trade, else the bid/ask midpoint,
        else None (the quote does not move the mark)."""
        if self.last_price is not None:
            return self.last_price
        if self.bid is not None and self.ask is not None:
            return (self.bid + self.ask) / 2
        return None


@attrs.frozen(slots=True, kw_only=True)
class TimerFired(Event):
    """A timer set by a strategy came due; ``ts_event`` is the time it was due.

    Published on the bus like market data; ``strategy_id`` names the strategy that set it,
    which alone receives it in ``on_timer`` (observers see every timer)."""

    name: str
    ts_event: int
    ts_recv: int
    strategy_id: str = ""


# -- feed health -----------------------------------------------------------------------------


@attrs.frozen(slots=True, kw_only=True)
class FeedConnected(Event):
    """The feed opened a connection and sent its subscriptions."""

    feed: str
    attempt: int
    ts_event: int
    ts_recv: int


@attrs.frozen(slots=True, kw_only=True)
class FeedDisconnected(Event):
    """The feed lost its connection; ``reason`` says why, ``reconnect_in`` is the backoff (s)."""

    feed: str
    reason: str
    reconnect_in: float | None
    ts_event: int
    ts_recv: int


@attrs.frozen(slots=True, kw_only=True)
class FeedStale(Event):
    """No data for ``symbol`` (or the whole feed when symbol is None) for ``silent_for`` s."""

    feed: str
    symbol: str | None
    silent_for: float
    ts_event: int
    ts_recv: int


@attrs.frozen(slots=True, kw_only=True)
class FeedResumed(Event):
    """Data flows again for ``symbol`` (or the whole feed) after a stale period."""

    feed: str
    symbol: str | None
    ts_event: int
    ts_recv: int


@attrs.frozen(slots=True, kw_only=True)
class BarGap(Event):
    """Bars between ``ts_from`` and ``ts_to`` (open times) were missed and could not be filled."""

    symbol: str
    interval: str
    ts_from: int
    ts_to: int
    ts_event: int
    ts_recv: int


@attrs.frozen(slots=True, kw_only=True)
class WarmupStarted(Event):
    """History follows, fed through the same bar path as live data; orders are refused
    (``OrderRejected`` with reason ``warmup``) until :class:`WarmupCompleted`.

    ``bars`` is how many final bars per series were asked for. ``ts_event`` is the event time
    of the first history bar, so merged replays keep it in front of them.
    """

    feed: str
    bars: int
    ts_event: int
    ts_recv: int


@attrs.frozen(slots=True, kw_only=True)
class WarmupCompleted(Event):
    """The history is in (``bars`` final bars in all); live data follows and orders count.

    ``ts_event`` is the event time of the last history bar.
    """

    feed: str
    bars: int
    ts_event: int
    ts_recv: int


@attrs.frozen(slots=True, kw_only=True)
class DataRejected(Event):
    """Input was rejected before reaching any strategy; ``reason`` is a stable label."""

    source: str
    reason: str
    detail: str
    ts_event: int
    ts_recv: int


# -- orders ----------------------------------------------------------------------------------


class OrderSide(enum.Enum):
    """Direction of an order or fill; ``sign`` is +1 for buys, -1 for sells."""

    BUY = "buy"
    SELL = "sell"

    sign: int

    def __init__(self, value: str) -> None:
        # A plain attribute, not a property: fills read it several times each.
        self.sign = 1 if value == "buy" else -1


class OrderEvent(Event):
    """Base class of the events of one order: accepted, rejected, cancelled, expired,
    modified, modification refused, filled.

    The broker publishes them on the bus; ``strategy_id`` names the strategy that placed the
    order, which alone receives them in ``on_order``/``on_fill``, while observers, results
    and journals may subscribe to every one (``bus.subscribe(OrderEvent, handler)``)."""

    __slots__ = ()
    order_id: int
    symbol: str
    strategy_id: str


@attrs.frozen(slots=True, kw_only=True)
class OrderAccepted(OrderEvent):
    """The broker accepted an order; it is now working."""

    order_id: int
    symbol: str
    ts_event: int
    ts_recv: int
    strategy_id: str = ""


@attrs.frozen(slots=True, kw_only=True)
class OrderRejected(OrderEvent):
    """The broker refused an order before it could work.

    ``reason`` is a stable label for counting and branching (``max_position``, ``no_price``,
    ``kill_switch``, ...; the full list is in docs/execution.md); ``detail`` says it in words.
    """

    order_id: int
    symbol: str
    reason: str
    detail: str = ""
    ts_event: int
    ts_recv: int
    strategy_id: str = ""


@attrs.frozen(slots=True, kw_only=True)
class OrderCancelled(OrderEvent):
    """A working order was cancelled; ``reason`` is a stable label.

    ``requested`` (by the strategy), ``oco`` (a linked order filled or was cancelled),
    ``parent_cancelled`` (a bracket entry ended unfilled), ``ioc`` / ``fok`` (the unfilled
    remainder of an immediate order), ``kill_switch``.
    """

    order_id: int
    symbol: str
    reason: str
    ts_event: int
    ts_recv: int
    strategy_id: str = ""


@attrs.frozen(slots=True, kw_only=True)
class OrderExpired(OrderEvent):
    """A ``day`` order reached the end of its session unfilled (or partly filled);
    ``ts_event`` is the session boundary."""

    order_id: int
    symbol: str
    ts_event: int
    ts_recv: int
    strategy_id: str = ""


@attrs.frozen(slots=True, kw_only=True)
class OrderModified(OrderEvent):
    """A working order now has the quantity and prices given (None: the order has none)."""

    order_id: int
    symbol: str
    qty: float
    limit_price: float | None
    stop_price: float | None
    ts_event: int
    ts_recv: int
    strategy_id: str = ""


@attrs.frozen(slots=True, kw_only=True)
class OrderModifyRejected(OrderEvent):
    """A modification was refused; the order keeps working unchanged (unless it has ended).

    ``reason`` is a stable label (``not_open``, ``qty_below_filled``, or a risk check's).
    """

    order_id: int
    symbol: str
    reason: str
    detail: str = ""
    ts_event: int
    ts_recv: int
    strategy_id: str = ""


@attrs.frozen(slots=True, kw_only=True)
class TradingHalted(Event):
    """The kill switch tripped: open orders were cancelled, positions are being flattened and
    new orders are rejected until trading resumes."""

    reason: str
    ts_event: int
    ts_recv: int


@attrs.frozen(slots=True, kw_only=True)
class TradingResumed(Event):
    """The kill switch was reset; new orders are accepted again."""

    ts_event: int
    ts_recv: int


@attrs.frozen(slots=True, kw_only=True, weakref_slot=False)
class OrderFilled(OrderEvent):
    """An order was filled, wholly or in part; ``ts_event`` is the time of the price used."""

    order_id: int
    symbol: str
    side: OrderSide
    qty: float
    price: float
    commission: float
    ts_event: int
    ts_recv: int
    #: True when the fill price came from an assumption about the path inside one bar.
    is_intrabar_guess: bool = False
    strategy_id: str = ""


#: Build a :class:`Bar` from its fields, positionally, without running its checks, at about a
#: fifth of the cost (:mod:`._drafts`). Only for producers that have already applied the same
#: checks to a whole batch (the bar file reader, the live codec); anything else must call
#: ``Bar(...)`` or :func:`new_bar`.
bar_unchecked: Callable[..., Bar] = unchecked_constructor(Bar)

#: The same for :class:`BarUpdate`.
bar_update_unchecked: Callable[..., BarUpdate] = unchecked_constructor(BarUpdate)


def new_bar(
    symbol: str,
    interval: str,
    ts_open: int,
    open: float,
    high: float,
    low: float,
    close: float,
    volume: float,
    ts_event: int,
    ts_recv: int,
    is_backfill: bool = False,
) -> Bar:
    """``Bar(...)`` with positional arguments, for producers of many bars: the same checks
    and :class:`~framework.InvalidEvent`, and :func:`bar_unchecked`'s speed when they pass."""
    if (
        ohlcv_is_valid(open, high, low, close, volume)
        and type(ts_open) is int
        and type(ts_event) is int
        and type(ts_recv) is int
        and 0 <= ts_open <= ts_event
        and ts_recv >= 0
    ):
        return bar_unchecked(
            symbol, interval, ts_open, open, high, low, close, volume, ts_event, ts_recv,
            is_backfill,
        )  # fmt: skip
    # Something fails: the checked constructor raises and words the reason.
    return Bar(
        symbol=symbol,
        interval=interval,
        ts_open=ts_open,
        open=open,
        high=high,
        low=low,
        close=close,
        volume=volume,
        ts_event=ts_event,
        ts_recv=ts_recv,
        is_backfill=is_backfill,
    )


def new_bar_update(
    symbol: str,
    interval: str,
    ts_open: int,
    open: float,
    high: float,
    low: float,
    close: float,
    volume: float,
    ts_event: int,
    ts_recv: int,
) -> BarUpdate:
    """``BarUpdate(...)`` with positional arguments; as :func:`new_bar`."""
    if (
        ohlcv_is_valid(open, high, low, close, volume)
        and type(ts_open) is int
        and type(ts_event) is int
        and type(ts_recv) is int
        and ts_open >= 0
        and ts_event >= 0
        and ts_recv >= 0
    ):
        return bar_update_unchecked(
            symbol, interval, ts_open, open, high, low, close, volume, ts_event, ts_recv
        )
    return BarUpdate(
        symbol=symbol,
        interval=interval,
        ts_open=ts_open,
        open=open,
        high=high,
        low=low,
        close=close,
        volume=volume,
        ts_event=ts_event,
        ts_recv=ts_recv,
    )
