"""The fill rules: whether an order fills against a bar or a quote, and at what price.

Pure functions over one order and one price snapshot; the broker decides which orders are
eligible and applies costs. The rules, stated for buys (sells mirror them: swap high and low,
"at or below" and "at or above"), are documented with examples in docs/execution.md:

Bars (open, high, low; an order is eligible for a bar that opens at or after it became active):

- market: the open.
- limit L: the open if open <= L (it gapped through: a better price), else L if low <= L.
- stop S: the open if open >= S (gap through: a worse price), else S if high >= S; a stop
  triggered earlier (and partly filled against quote sizes) is a market order.
- stop-limit S/L: triggers like a stop; triggered at the open it is a limit from the open on;
  triggered inside the bar at S it fills at S if S <= L, otherwise it rests as a limit from
  the next bar (whether the price came back to L after touching S is unknown).
- ``ioc``/``fok``: only the open counts (that is the first price the order meets).
- trailing stop / trailing stop-limit: a stop / stop-limit at its current stop (and limit),
  which :func:`trailed_stop` moves after each bar, from the close (as backtrader's StopTrail).
- market-if-touched T: the open if open <= T (a buy gapped through: a better price), else T
  if low <= T; a touched order partly filled against quote sizes is a market order.

Quotes (an order is eligible for a quote at or after it became active): buys trade at the ask,
sells at the bid (the last price when that side is missing):

- market: the ask; limit L: the ask if ask <= L; stop S: triggers when ask >= S, then fills
  at that ask; stop-limit S/L: triggers when ask >= S, then fills at the ask if ask <= L;
  trailing stops as stops at their current stop, moved after each quote from its mark price;
  market-if-touched T: triggers when ask <= T, then fills at the ask as a market order.
"""

from __future__ import annotations

import attrs

from ._orders import Order, OrderType, trail_distance


@attrs.frozen(slots=True, kw_only=True)
class FillModel:
    """Options of the fill rules.

    ``quote_sizes``: a quote fills at most its quoted size on each side (``ask_size`` for
    buys, ``bid_size`` for sells), shared by the orders it fills in time priority; the rest
    keeps working (``ioc``: is cancelled; ``fok``: nothing fills unless all of it can).
    A missing size means no limit.
    """

    quote_sizes: bool = False


#: (fill price or None, filled at the bar's open, the order's stop triggered on this bar)
BarMatch = tuple[float | None, bool, bool]


def match_bar(order: Order, open_: float, high: float, low: float) -> BarMatch:
    """Apply the bar rules to ``order`` (its ``is_triggered`` is read, not written)."""
    sign = order.side.sign
    if sign < 0:
        # Mirror a sell into a buy: negate prices, and the high becomes the low.
        open_, high, low = -open_, -low, -high
    kind = order.type
    if kind is OrderType.MARKET or (kind is OrderType.STOP and order.is_triggered):
        return open_ * sign, True, False
    if kind is OrderType.TRAILING_STOP_MARKET:
        kind = OrderType.STOP  # at its current stop
        if order.is_triggered:
            return open_ * sign, True, False
        if order.stop_price is None:
            return None, False, False  # its trail has not started: nothing to trigger at
    elif kind is OrderType.TRAILING_STOP_LIMIT:
        kind = OrderType.STOP_LIMIT
        if order.stop_price is None:
            return None, False, False
    elif kind is OrderType.MARKET_IF_TOUCHED:
        if order.is_triggered:
            return open_ * sign, True, False
        touch = order.touch_price
        assert touch is not None
        price, at_open, _ = _limit(open_, low, touch * sign, sign, triggered=True)
        return price, at_open, price is not None
    limit = order.limit_price * sign if order.limit_price is not None else 0.0
    stop = order.stop_price * sign if order.stop_price is not None else 0.0
    if kind is OrderType.LIMIT or (kind is OrderType.STOP_LIMIT and order.is_triggered):
        return _limit(open_, low, limit, sign, triggered=False)
    if open_ >= stop:
        if kind is OrderType.STOP:
            return open_ * sign, True, True
        return _limit(open_, low, limit, sign, triggered=True)
    if high >= stop:
        if kind is OrderType.STOP or stop <= limit:
            return stop * sign, False, True
        return None, False, True
    return None, False, False


def _limit(open_: float, low: float, limit: float, sign: int, *, triggered: bool) -> BarMatch:
    if open_ <= limit:
        return open_ * sign, True, triggered
    if low <= limit:
        return limit * sign, False, triggered
    return None, False, triggered


def match_open(order: Order, open_: float) -> float | None:
    """The ``ioc``/``fok`` rule on bars: the open if a market or limit order can take it."""
    if order.type is OrderType.MARKET:
        return open_
    limit = order.limit_price
    if (
        order.type is OrderType.LIMIT
        and limit is not None
        and order.side.sign * (limit - open_) >= 0
    ):
        return open_
    return None


#: (fill price or None, the order's stop triggered at this quote)
QuoteMatch = tuple[float | None, bool]


def match_quote(order: Order, price: float) -> QuoteMatch:
    """Apply the quote rules; ``price`` is the ask for a buy, the bid for a sell."""
    sign = order.side.sign
    kind = order.type
    if kind is OrderType.MARKET:
        return price, False
    if kind is OrderType.TRAILING_STOP_MARKET or kind is OrderType.TRAILING_STOP_LIMIT:
        if order.stop_price is None:
            return None, False  # its trail has not started: nothing to trigger at
        kind = OrderType.STOP if kind is OrderType.TRAILING_STOP_MARKET else OrderType.STOP_LIMIT
    elif kind is OrderType.MARKET_IF_TOUCHED:
        touch = order.touch_price
        assert touch is not None
        if order.is_triggered or sign * (touch - price) >= 0:
            return price, True
        return None, False
    triggered = False
    if kind is not OrderType.LIMIT and not order.is_triggered:
        assert order.stop_price is not None
        if sign * (price - order.stop_price) < 0:
            return None, False
        triggered = True
        if kind is OrderType.STOP:
            return price, True
    if kind is OrderType.STOP:  # triggered earlier: a stop fills when it triggers
        return price, triggered
    assert order.limit_price is not None
    if sign * (order.limit_price - price) >= 0:
        return price, triggered
    return None, triggered


def trailed_stop(order: Order, price: float) -> float | None:
    """Where a trailing stop moves once the market has traded at ``price`` (a bar's close, a
    quote's mark): its distance from ``price``, below for a sell and above for a buy, if that
    is tighter than its current stop (or it has none yet); None when it stays. It never
    loosens."""
    distance = trail_distance(order, price)
    current = order.stop_price
    if order.side.sign > 0:
        stop = price + distance
        return stop if current is None or stop < current else None
    stop = price - distance
    return stop if current is None or stop > current else None


def worse_first(orders_and_prices: list[tuple[Order, float]]) -> tuple[Order, float]:
    """Of several orders that could each fill inside one bar, the one worst for the account
    (a buy's highest price, a sell's lowest): the pessimistic intra-bar assumption."""
    return max(orders_and_prices, key=lambda pair: pair[1] * pair[0].side.sign)
