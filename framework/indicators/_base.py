"""What every indicator shares: parameter checks, the rejection of non-finite input, and the
read-only ``period`` / ``count`` / ``value`` / ``ready`` view of its state."""

from __future__ import annotations

import math
import operator

from .._errors import ConfigError, DataError

#: Bounds for the chained comparison ``_NEG_INF < x < _INF``: one expression that is False for
#: NaN and for both infinities, cheaper on the hot path than a call to ``math.isfinite``. Both
#: bounds are constants: ``-_INF`` would build a new float on every call.
_INF = math.inf
_NEG_INF = -math.inf


def check_period(owner: str, period: int, name: str = "period") -> int:
    """Return ``period`` as an ``int`` if it is an integer >= 1, else raise :class:`ConfigError`."""
    # bool is an int subclass, but SMA(True) is a mistake, not a period of 1.
    if not isinstance(period, bool):
        try:
            value = operator.index(period)
        except TypeError:
            pass
        else:
            if value >= 1:
                return value
    raise ConfigError(f"{owner}: {name} must be an int >= 1, got {period!r}")


def reject_input(owner: str, reason: str = "", **inputs: float) -> DataError:
    """Build the error for input that failed the hot-path check.

    Kept off the hot path: ``update`` does one cheap comparison and calls this only to explain a
    failure. A non-finite input is named; otherwise ``reason`` says what was inconsistent.
    """
    for name, value in inputs.items():
        if not math.isfinite(value):
            return DataError(f"{owner}.update: {name} must be a finite number, got {value!r}")
    listed = ", ".join(f"{name}={value!r}" for name, value in inputs.items())
    return DataError(f"{owner}.update: {reason} ({listed})")


class Indicator:
    """Base of the incremental indicators: warm-up bookkeeping and the read-only state view.

    Subclasses set ``_warmup`` (updates needed before the first value) and keep ``_count`` and
    ``_value`` current in ``update``.
    """

    __slots__ = ("_count", "_period", "_value", "_warmup")

    _count: int
    _period: int
    _value: float | None
    _warmup: int

    def __init__(self, period: int, warmup: int) -> None:
        self._period = period
        self._warmup = warmup
        self._count = 0
        self._value = None

    @property
    def period(self) -> int:
        """The look-back length the indicator was built with."""
        return self._period

    @property
    def count(self) -> int:
        """How many updates were accepted since construction or the last :meth:`reset`."""
        return self._count

    @property
    def value(self) -> float | None:
        """The current value, or None while warming up."""
        return self._value

    @property
    def ready(self) -> bool:
        """True once the warm-up is complete and :attr:`value` is a float."""
        return self.count >= self._warmup

    def reset(self) -> None:
        """Forget every input, as if newly constructed with the same parameters."""
        self._count = 0
        self._value = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(period={self._period}, count={self.count}, "
            f"value={self._value!r})"
        )


class Bands(Indicator):
    """An indicator with a middle line (its ``value``) and an upper and a lower band around it.

    Subclasses set ``_value``, ``_upper``, ``_lower`` and ``_width`` together in ``update``;
    the class docstring of each says how its bands are drawn.
    """

    __slots__ = ("_lower", "_upper", "_width")

    _upper: float | None
    _lower: float | None
    _width: float | None

    def __init__(self, period: int, warmup: int) -> None:
        super().__init__(period, warmup)
        self._upper = self._lower = self._width = None

    @property
    def middle(self) -> float | None:
        """The middle line (also :attr:`value`), or None while warming up."""
        return self._value

    @property
    def upper(self) -> float | None:
        """The upper band, or None while warming up."""
        return self._upper

    @property
    def lower(self) -> float | None:
        """The lower band, or None while warming up."""
        return self._lower

    @property
    def width(self) -> float | None:
        """``upper - lower``, or None while warming up."""
        return self._width

    def reset(self) -> None:
        """Forget every input, as if newly constructed with the same parameters."""
        super().reset()
        self._upper = self._lower = self._width = None
