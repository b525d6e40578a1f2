"""Trading costs: commission and slippage models, pluggable like httpx transports.

A commission model is any object with ``order_commission(filled_qty, filled_value)``: the
*total* commission of one order that has filled ``filled_qty`` for ``filled_value`` so far.
The broker charges each fill the increase, so a per-order minimum or a fixed fee is paid once
per order however many partial fills it has.

A slippage model is any object with ``slipped_price(side, price, bid, ask)``: the price a fill
at ``price`` actually gets. ``bid``/``ask`` are the quote the fill came from (None with bars).
The broker never lets slippage push a fill beyond an order's limit price.

:func:`parse_commission` and :func:`parse_slippage` read the command-line forms
(``per_share:0.005,min=1``, ``bps:2``, ...).
"""

from __future__ import annotations

import math
from typing import Any, Protocol, TypeVar

import attrs

from .._errors import ConfigError
from .._events import OrderSide

_M = TypeVar("_M")


class CommissionModel(Protocol):
    """What the broker asks a commission model."""

    def order_commission(self, filled_qty: float, filled_value: float) -> float:
        """Total commission of an order that has filled ``filled_qty`` for ``filled_value``."""
        ...


class SlippageModel(Protocol):
    """What the broker asks a slippage model."""

    def slipped_price(
        self, side: OrderSide, price: float, bid: float | None, ask: float | None
    ) -> float:
        """The price a ``side`` fill at ``price`` gets after slippage."""
        ...


def _non_negative(_instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{attribute.name} must be a finite number >= 0, got {value!r}")


def _positive(_instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{attribute.name} must be a finite number > 0, got {value!r}")


# -- commission ------------------------------------------------------------------------------


@attrs.frozen(slots=True)
class NoCommission:
    """Trading is free (the default)."""

    def order_commission(self, filled_qty: float, filled_value: float) -> float:
        """The commission of an order that has filled ``filled_qty`` for ``filled_value``."""
        return 0.0


@attrs.frozen(slots=True)
class PerShareCommission:
    """``rate`` per unit filled; an order that fills at all pays at least ``minimum``."""

    rate: float = attrs.field(converter=float, validator=_non_negative)
    minimum: float = attrs.field(
        default=0.0, converter=float, validator=_non_negative, kw_only=True
    )

    def order_commission(self, filled_qty: float, filled_value: float) -> float:
        """The commission of an order that has filled ``filled_qty`` for ``filled_value``."""
        if filled_qty <= 0:
            return 0.0
        return max(self.rate * filled_qty, self.minimum)


@attrs.frozen(slots=True)
class PercentageCommission:
    """``percent`` % of the filled value (0.1 means 0.1 %); at least ``minimum`` per order."""

    percent: float = attrs.field(converter=float, validator=_non_negative)
    minimum: float = attrs.field(
        default=0.0, converter=float, validator=_non_negative, kw_only=True
    )

    def order_commission(self, filled_qty: float, filled_value: float) -> float:
        """The commission of an order that has filled ``filled_qty`` for ``filled_value``."""
        if filled_qty <= 0:
            return 0.0
        return max(self.percent / 100.0 * filled_value, self.minimum)


@attrs.frozen(slots=True)
class FixedCommission:
    """``amount`` per order that fills at all, whatever its size."""

    amount: float = attrs.field(converter=float, validator=_non_negative)

    def order_commission(self, filled_qty: float, filled_value: float) -> float:
        """The commission of an order that has filled ``filled_qty`` for ``filled_value``."""
        return self.amount if filled_qty > 0 else 0.0


# -- slippage --------------------------------------------------------------------------------


@attrs.frozen(slots=True)
class NoSlippage:
    """Fills at the price the fill rules give (the default)."""

    def slipped_price(
        self, side: OrderSide, price: float, bid: float | None, ask: float | None
    ) -> float:
        """The price a ``side`` fill at ``price`` gets after this slippage."""
        return price


@attrs.frozen(slots=True)
class TickSlippage:
    """``ticks`` × ``tick_size`` worse than the fill price: buys pay more, sells get less."""

    ticks: float = attrs.field(converter=float, validator=_non_negative)
    tick_size: float = attrs.field(default=0.01, converter=float, validator=_positive, kw_only=True)

    def slipped_price(
        self, side: OrderSide, price: float, bid: float | None, ask: float | None
    ) -> float:
        """The price a ``side`` fill at ``price`` gets after this slippage."""
        return price + side.sign * self.ticks * self.tick_size


def _below_10000(_instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    _non_negative(_instance, attribute, value)
    if value >= 10_000:
        raise ValueError(f"{attribute.name} must be under 10000 (100 %), got {value!r}")


@attrs.frozen(slots=True)
class BpsSlippage:
    """``bps`` basis points (1/10 000) of the fill price worse: price × (1 ± bps/10 000)."""

    bps: float = attrs.field(converter=float, validator=_below_10000)

    def slipped_price(
        self, side: OrderSide, price: float, bid: float | None, ask: float | None
    ) -> float:
        """The price a ``side`` fill at ``price`` gets after this slippage."""
        return price * (1.0 + side.sign * self.bps / 10_000.0)


@attrs.frozen(slots=True)
class SpreadSlippage:
    """``fraction`` of the quoted spread (ask − bid) worse; nothing without a two-sided quote
    (bars carry no spread)."""

    fraction: float = attrs.field(converter=float, validator=_non_negative)

    def slipped_price(
        self, side: OrderSide, price: float, bid: float | None, ask: float | None
    ) -> float:
        """The price a ``side`` fill at ``price`` gets after this slippage."""
        if bid is None or ask is None:
            return price
        return price + side.sign * self.fraction * (ask - bid)


# -- command-line forms ----------------------------------------------------------------------

#: The ``--commission`` forms the command line accepts (:func:`parse_commission`).
COMMISSION_FORMS = "none, per_share:RATE[,min=M], percent:PCT[,min=M], fixed:AMOUNT"
#: The ``--slippage`` forms the command line accepts (:func:`parse_slippage`).
SLIPPAGE_FORMS = "none, ticks:N[,tick=SIZE], bps:BPS, spread:FRACTION"


def parse_commission(text: str) -> CommissionModel:
    """Read ``per_share:0.005,min=1``, ``percent:0.1``, ``fixed:1`` or ``none``.

    Raises :class:`~framework.ConfigError` naming the accepted forms.
    """
    kind, value, options = _split(text, "--commission", COMMISSION_FORMS)
    minimum = options.pop("min", None) if kind in ("per_share", "percent") else None
    model: CommissionModel | None = None
    try:
        if kind == "none" and value is None:
            model = NoCommission()
        elif kind == "per_share" and value is not None:
            model = PerShareCommission(value, minimum=minimum or 0.0)
        elif kind == "percent" and value is not None:
            model = PercentageCommission(value, minimum=minimum or 0.0)
        elif kind == "fixed" and value is not None:
            model = FixedCommission(value)
    except ValueError as exc:
        raise ConfigError(f"--commission {text!r}: {exc}") from exc
    return _checked(model, text, "--commission", COMMISSION_FORMS, options)


def parse_slippage(text: str) -> SlippageModel:
    """Read ``ticks:1,tick=0.01``, ``bps:2``, ``spread:0.5`` or ``none``.

    Raises :class:`~framework.ConfigError` naming the accepted forms.
    """
    kind, value, options = _split(text, "--slippage", SLIPPAGE_FORMS)
    model: SlippageModel | None = None
    try:
        if kind == "none" and value is None:
            model = NoSlippage()
        elif kind == "ticks" and value is not None:
            model = TickSlippage(value, tick_size=options.pop("tick", 0.01))
        elif kind == "bps" and value is not None:
            model = BpsSlippage(value)
        elif kind == "spread" and value is not None:
            model = SpreadSlippage(value)
    except ValueError as exc:
        raise ConfigError(f"--slippage {text!r}: {exc}") from exc
    return _checked(model, text, "--slippage", SLIPPAGE_FORMS, options)


def _split(text: str, flag: str, forms: str) -> tuple[str, float | None, dict[str, float]]:
    head, *rest = text.strip().split(",")
    kind, sep, raw = head.partition(":")
    value: float | None = None
    options: dict[str, float] = {}
    try:
        if sep:
            value = float(raw)
        for item in rest:
            key, eq, number = item.partition("=")
            if not eq:
                raise ValueError(f"option {item!r} is not name=value")
            options[key.strip()] = float(number)
    except ValueError as exc:
        raise ConfigError(f"{flag} {text!r}: {exc}; expected one of {forms}") from None
    return kind.strip().lower(), value, options


def _checked(model: _M | None, text: str, flag: str, forms: str, options: dict[str, float]) -> _M:
    if model is None:
        raise ConfigError(f"{flag} {text!r}: expected one of {forms}")
    if options:
        raise ConfigError(f"{flag} {text!r}: unknown option {', '.join(sorted(options))}")
    return model
