"""Order sizing: the quantity that reaches a target position, value or fraction of equity.

The strategy's ``order_target_qty``, ``order_target_value``, ``order_target_percent`` and
``buy``/``sell(size=...)`` are thin callers of :func:`target_qty_order`,
:func:`target_value_order`, :func:`target_percent_order` and :func:`fraction_order`, which
return the signed quantity to send (+ buy, − sell; 0.0 when there is nothing to send). The
rules, in docs/execution.md, section 8:

- **Price.** The symbol's last price, the one the portfolio marks with (its last bar's close,
  its last quote's trade price else mid, or its first fill): :func:`sizing_price`. Without
  one there is nothing to size with: :class:`~framework.ConfigError`.
- **Current position.** The position plus the unfilled quantity of the account's open market
  orders in the symbol (they fill at the next price, whatever it is); orders with a price
  condition (limit, stop, trailing, touched, bracket exits) are not counted.
- **Rounding.** A quantity computed from money is rounded toward zero to a whole number of
  lots (:class:`LotSizes`: 1 unit unless configured, None for any fraction), in decimal, so
  0.3 / 0.1 is 3 lots, not the 2.9999999999999996 of binary floats. A target of zero closes
  the whole position, whatever the lot.
- **Cash.** A sized buy never costs more than the available cash at the sizing price: the
  portfolio's cash after the open market orders filled at their symbols' last prices; the
  part of a buy that covers a short is always allowed. There are no margin accounts, so
  nothing lifts this limit; sells are not limited by cash (a short sale's proceeds are cash,
  as in the portfolio's accounting).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Protocol

import attrs

from .._errors import ConfigError, ParameterError
from .._events import OrderSide
from ..portfolio import Portfolio
from ._orders import QTY_EPSILON, Order, OrderType, TriggerOptions


def _is_number(value: Any) -> bool:
    """A real number (numpy's too), not a bool: True is not a quantity."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_lot(where: str, lot: Any) -> float | None:
    if lot is None:
        return None
    if not _is_number(lot):
        raise ConfigError(f"{where}: a lot size is a number > 0 or None, got {lot!r}")
    value = float(lot)
    if not (value > 0 and math.isfinite(value)):
        raise ConfigError(f"{where}: a lot size is a finite number > 0 or None, got {lot!r}")
    return value


def _default_lot(value: Any) -> float | None:
    return _check_lot("LotSizes default", value)


def _symbol_lots(value: Mapping[str, float | None]) -> dict[str, float | None]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"LotSizes symbols: a mapping of symbol to lot size, got {value!r}")
    return {str(symbol): _check_lot(f"LotSizes {symbol}", lot) for symbol, lot in value.items()}


@attrs.frozen(slots=True, kw_only=True)
class LotSizes:
    """The quantity step of sized orders, per symbol: quantities computed from money are
    rounded toward zero to a multiple of it.

    ``default`` applies to symbols not in ``symbols``: 1.0 (whole units: shares, contracts)
    unless set; ``0.01`` or ``1000`` for lots of FX, ``0.0001`` for crypto, None for any
    fraction (no rounding). ``BrokerConfig(lots=LotSizes(symbols={"FX:EURUSD": 1000}))``.
    Quantities given by hand (``buy(symbol, qty)``, ``order_target_qty``) are never rounded.
    """

    default: float | None = attrs.field(default=1.0, converter=_default_lot)
    symbols: Mapping[str, float | None] = attrs.field(
        factory=dict, converter=_symbol_lots, hash=False
    )

    def of(self, symbol: str) -> float | None:
        """The lot size of ``symbol``."""
        return self.symbols.get(symbol, self.default)


class _Configured(Protocol):
    @property
    def lots(self) -> LotSizes: ...


class SizingBroker(Protocol):
    """What sizing reads of a broker (a :class:`SimulatedBroker`): its portfolio, its lot
    sizes and its open orders. A Protocol, so the broker, whose configuration holds
    :class:`LotSizes`, and this module do not import each other."""

    @property
    def portfolio(self) -> Portfolio: ...

    @property
    def config(self) -> _Configured: ...

    def open_orders(self, symbol: str | None = None) -> list[Order]: ...


class SizeOptions(TriggerOptions, total=False):
    """The keyword arguments of ``Strategy.buy`` / ``sell`` besides ``limit``, ``stop`` and
    ``tif``: a trailing or touched order's terms, and ``size``, a fraction of equity."""

    size: float | None


def sizing_price(portfolio: Portfolio, symbol: str) -> float:
    """The price sizing uses: the symbol's last price, as the portfolio marks it."""
    price = portfolio.last_price.get(symbol)
    if price is None:
        raise ConfigError(
            f"cannot size an order for {symbol}: no price yet. Sizing uses the symbol's last "
            "price (its last bar's close, quote or fill); size after its first bar or quote "
            "(self.portfolio.last_price has no entry for it until then)"
        )
    return price


def check_fraction(name: str, value: Any, *, low: float, high: float, low_open: bool) -> float:
    """``value`` as a float within [low, high] (``low_open``: (low, high]); ParameterError."""
    if not _is_number(value):
        raise ParameterError(f"{name} is a fraction of equity (0.5 = 50 %), got {value!r}")
    fraction = float(value)
    inside = low < fraction <= high if low_open else low <= fraction <= high
    if not inside:
        interval = f"({low:g}, {high:g}]" if low_open else f"[{low:g}, {high:g}]"
        raise ParameterError(
            f"{name} is a fraction of equity in {interval} (0.5 = 50 %), got {value!r}; "
            "orders are limited to the cash available (there are no margin accounts)"
        )
    return fraction


def _finite(name: str, value: Any) -> float:
    if not _is_number(value):
        raise ParameterError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ParameterError(f"{name} must be a finite number, got {value!r}")
    return number


def pending_qty(broker: SizingBroker, symbol: str) -> float:
    """Signed unfilled quantity of the account's open market orders in ``symbol``."""
    pending = 0.0
    for order in broker.open_orders(symbol):
        if order.type is OrderType.MARKET and order.is_open:
            pending += order.side.sign * order.leaves_qty
    return pending


def available_cash(broker: SizingBroker) -> float:
    """The portfolio's cash once every open market order has filled at its symbol's last
    price (buys spend, sells bring in; an order for a symbol without a price is left out)."""
    last = broker.portfolio.last_price
    cash = broker.portfolio.cash
    for order in broker.open_orders():
        if order.type is OrderType.MARKET and order.is_open:
            price = last.get(order.symbol)
            if price is not None:
                cash -= order.side.sign * order.leaves_qty * price
    return cash


def _decimal(value: float) -> Decimal:
    # The shortest repr, not the binary value: 0.1 is one tenth here.
    return Decimal(repr(float(value)))


def lots_worth(
    value: float, price: float, lot: float | None, *, cash: float | None = None, cover: float = 0.0
) -> float:
    """The largest quantity worth at most ``value`` at ``price``, rounded toward zero to a
    whole number of ``lot`` (any fraction with None). With ``cash``, a buy's limit: at most
    what ``cash`` buys at ``price``, or ``cover`` (the short it closes) if that is more.

    In decimal, on the numbers' shortest representations: 0.9 at 3.0 is 3 lots of 0.1.
    """
    dprice = _decimal(price)
    qty = _decimal(value) / dprice
    if cash is not None:
        qty = min(qty, max(_decimal(cover), _decimal(cash) / dprice))
    if qty <= 0:
        return 0.0
    if lot is None:
        return float(qty)
    step = _decimal(lot)
    return float((qty / step).to_integral_value(rounding=ROUND_FLOOR) * step)


def _current(broker: SizingBroker, symbol: str) -> float:
    """The position in ``symbol`` with the account's open market orders."""
    position = broker.portfolio.positions.get(symbol)
    return (0.0 if position is None else position.qty) + pending_qty(broker, symbol)


def target_qty_order(broker: SizingBroker, symbol: str, qty: float) -> float:
    """Signed quantity that takes the position (with open market orders) to ``qty``:
    exactly, neither rounded nor limited by cash (the quantity is the caller's)."""
    target = _finite("order_target_qty's qty", qty)
    delta = target - _current(broker, symbol)
    return 0.0 if abs(delta) <= QTY_EPSILON else delta


def target_value_order(broker: SizingBroker, symbol: str, value: float) -> float:
    """Signed quantity that moves the position's value (with open market orders, at the
    sizing price) toward ``value``: the difference, rounded toward zero to whole lots, a buy
    limited by the available cash. A target of zero closes the whole position."""
    target = _finite("order_target_value's value", value)
    return _toward_value(broker, symbol, target)


def target_percent_order(broker: SizingBroker, symbol: str, fraction: float) -> float:
    """:func:`target_value_order` of ``fraction`` × equity (cash plus positions at their
    last prices); ``fraction`` within [-1, 1]."""
    target = check_fraction(
        "order_target_percent's fraction", fraction, low=-1, high=1, low_open=False
    )
    if target == 0:
        return _toward_value(broker, symbol, 0.0)
    sizing_price(broker.portfolio, symbol)  # no price, no sizing: before equity says less
    equity = broker.portfolio.equity()
    # A bust account has nothing to size with; a target of zero still closes.
    return 0.0 if equity <= 0 else _toward_value(broker, symbol, target * equity)


def _toward_value(broker: SizingBroker, symbol: str, target: float) -> float:
    current = _current(broker, symbol)
    if target == 0:
        return 0.0 if abs(current) <= QTY_EPSILON else -current
    price = sizing_price(broker.portfolio, symbol)
    # The difference of values, as backtrader's order_target_value computes it.
    delta = target - current * price
    lot = broker.config.lots.of(symbol)
    if delta > 0:
        cash = available_cash(broker)
        return lots_worth(delta, price, lot, cash=cash, cover=max(-current, 0.0))
    return -lots_worth(-delta, price, lot)


def fraction_order(broker: SizingBroker, symbol: str, side: OrderSide, size: float) -> float:
    """Quantity of a ``side`` order worth ``size`` × equity at the sizing price, in whole
    lots, a buy limited by the available cash; ``size`` within (0, 1]."""
    fraction = check_fraction("size", size, low=0, high=1, low_open=True)
    portfolio = broker.portfolio
    price = sizing_price(portfolio, symbol)
    value = fraction * portfolio.equity()
    if value <= 0:
        return 0.0  # a bust account has nothing to size with
    lot = broker.config.lots.of(symbol)
    if side is OrderSide.SELL:
        return lots_worth(value, price, lot)
    cover = max(-_current(broker, symbol), 0.0)
    return lots_worth(value, price, lot, cash=available_cash(broker), cover=cover)
