"""Pre-trade risk checks and the daily loss limit.

The broker runs :func:`check_entry` on every new order (and on every modification that adds
quantity or moves a price) before the order exists for the market. A failed check is an
:class:`~framework.OrderRejected` (or :class:`~framework.OrderModifyRejected`) event with a
stable ``reason`` label and a ``detail`` in words; it never raises into the strategy. Checks
run in this order and the first failure wins:

==================  =========================================================================
``kill_switch``     trading is halted by the kill switch
``no_price``        ``require_price`` and the symbol has no price yet (no bar/quote/fill seen)
``max_open_orders`` open orders (all symbols, all strategies) plus the new ones > limit
``max_order_value`` qty × reference price > limit (limit price, else stop, else last price)
``max_position``    the position if this and every open order on the same side filled > limit
``long_only``       the position if this and every open sell filled would be short
``daily_loss_limit`` the order adds exposure and the session's loss has reached the limit
==================  =========================================================================
"""

from __future__ import annotations

import bisect
import math
from typing import Any

import attrs

from ..portfolio import Portfolio
from ._sessions import DailySessions


def _optional_positive(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{attribute.name} must be a finite number > 0 or None, got {value!r}")


@attrs.frozen(slots=True, kw_only=True)
class RiskLimits:
    """Pre-trade limits; None switches a limit off. The defaults only refuse orders for a
    symbol that has no price yet.

    ``max_position`` is an absolute quantity per symbol, ``max_order_value`` a notional in
    account currency, ``daily_loss_limit`` a loss in account currency measured from the
    equity at the start of the session (marked to market, commissions included).
    """

    max_position: float | None = attrs.field(default=None, validator=_optional_positive)
    max_order_value: float | None = attrs.field(default=None, validator=_optional_positive)
    max_open_orders: int | None = attrs.field(default=None, validator=_optional_positive)
    require_price: bool = True
    long_only: bool = False
    daily_loss_limit: float | None = attrs.field(default=None, validator=_optional_positive)


#: (reason label, detail) of a failed check.
Rejection = tuple[str, str]


@attrs.define(slots=True, kw_only=True)
class OrderIntent:
    """What a check needs to know about one order (new, or the added part of a modify).

    ``signed_qty`` is the quantity that would add to the position (+ buys, − sells; 0 for a
    modification that only moves a price); ``value_qty`` the quantity valued by
    ``max_order_value`` (default: ``abs(signed_qty)``).
    """

    symbol: str
    signed_qty: float
    price: float | None
    new_orders: int = 1
    value_qty: float | None = None


def check_entry(
    limits: RiskLimits,
    intent: OrderIntent,
    *,
    halted: str | None,
    portfolio: Portfolio,
    open_orders: int,
    open_buys: float,
    open_sells: float,
    session_loss: float | None,
) -> Rejection | None:
    """Run the checks in the documented order; None if the order may go to the market.

    ``open_buys``/``open_sells`` are the unfilled quantities of the symbol's open orders on
    each side (a one-cancels-other group counted once); ``session_loss`` the loss so far in
    this session (None when no daily limit is set).
    """
    symbol = intent.symbol
    if halted is not None:
        return "kill_switch", f"trading is halted: {halted}"
    last = portfolio.last_price.get(symbol)
    if limits.require_price and last is None:
        return "no_price", f"no price for {symbol} yet: wait for its first bar or quote"
    if limits.max_open_orders is not None:
        count = open_orders + intent.new_orders
        if count > limits.max_open_orders:
            return (
                "max_open_orders",
                f"{count} open orders would exceed the limit of {limits.max_open_orders}",
            )
    qty = abs(intent.signed_qty) if intent.value_qty is None else intent.value_qty
    price = intent.price if intent.price is not None else last
    if limits.max_order_value is not None and price is not None:
        value = qty * price
        if value > limits.max_order_value:
            return (
                "max_order_value",
                f"order value {value:,.2f} exceeds the limit of {limits.max_order_value:,.2f}",
            )
    if not intent.signed_qty:
        return None
    position = portfolio.positions[symbol].qty if symbol in portfolio.positions else 0.0
    if limits.max_position is not None:
        if intent.signed_qty > 0:
            worst = position + open_buys + intent.signed_qty
        else:
            worst = position - open_sells + intent.signed_qty
        if abs(worst) > limits.max_position and abs(worst) > abs(position):
            return (
                "max_position",
                f"{symbol} position could reach {worst:g}, beyond the limit of "
                f"{limits.max_position:g}",
            )
    if limits.long_only and intent.signed_qty < 0:
        worst = position - open_sells + intent.signed_qty
        if worst < 0:
            return (
                "long_only",
                f"{symbol} position could reach {worst:g} if every open sell filled; "
                "short positions are not allowed",
            )
    if (
        limits.daily_loss_limit is not None
        and session_loss is not None
        and session_loss >= limits.daily_loss_limit
        and abs(position + intent.signed_qty) > abs(position)
    ):
        return (
            "daily_loss_limit",
            f"this session's loss {session_loss:,.2f} reached the limit of "
            f"{limits.daily_loss_limit:,.2f}: only orders that reduce positions are accepted",
        )
    return None


class SessionLoss:
    """The largest loss of this session so far, from the portfolio's equity curve.

    Evaluated lazily when an order is checked, so it costs nothing per bar: the equity
    samples added since the last check are scanned once. The session's starting equity is the
    last sample before the session began; when the curve begins inside the session (a new run,
    or a book restored from a paper journal) it is the first sample, or the equity now.
    """

    __slots__ = ("_low", "_seen", "_session", "_sessions", "_start_equity")

    def __init__(self, sessions: DailySessions) -> None:
        self._sessions = sessions
        self._session = -1
        self._start_equity = 0.0
        self._low = math.inf
        # The time of the newest sample already read: a long run thins its curve, so an
        # index into it would not stay valid.
        self._seen = -1

    def loss(self, portfolio: Portfolio, now: int) -> float:
        """Start-of-session equity minus the lowest equity seen since (≥ 0)."""
        times, values = portfolio.equity_curve
        start = self._sessions.session_start(now)
        if start != self._session:
            self._session = start
            index = bisect.bisect_left(times, start)
            self._seen = times[index - 1] if index else -1
            if index:
                self._start_equity = values[index - 1]
            elif len(values):
                # The curve begins inside this session (a run or a restored book starts).
                self._start_equity = values[0]
            else:
                self._start_equity = portfolio.equity()
            self._low = self._start_equity
        low = self._low
        for index in range(bisect.bisect_left(times, self._seen), len(values)):
            if values[index] < low:
                low = values[index]
        # The last sample may still be overwritten in place (another mark at the same time),
        # so it is read again next time.
        if len(times):
            self._seen = max(self._seen, times[-1])
        self._low = low = min(low, portfolio.equity())
        return max(0.0, self._start_equity - low)
