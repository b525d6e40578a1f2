"""MACD: the spread between a fast and a slow EMA, with its signal line and histogram."""

from __future__ import annotations

from .._errors import ConfigError
from ._base import _INF, _NEG_INF, Indicator, check_period, reject_input
from ._ema import EMA


class MACD(Indicator):
    """Moving average convergence/divergence.

    ``macd = EMA(fast_period) - EMA(slow_period)`` of the input, ``signal`` is the
    ``signal_period`` EMA of ``macd`` and ``histogram = macd - signal``. ``value`` is ``macd``.
    Every EMA is this package's :class:`EMA` (``alpha = 2 / (n + 1)``, seeded with the simple
    mean of its own first ``n`` inputs), so ``macd`` equals the difference of two ``EMA``
    objects fed the same series. Warm-up: ``update`` returns None, and every output is None,
    for the first ``slow_period + signal_period - 2`` inputs; the next one yields the first
    values (the ``macd`` line exists from input ``slow_period`` on, but the signal needs
    ``signal_period`` of them).

    TA-Lib's MACD instead seeds its fast EMA at input ``slow_period``, with the mean of the
    ``fast_period`` inputs ending there, so its values differ from these by a term that decays
    by ``1 - 2 / (fast_period + 1)`` per input (docs/indicators.md gives it exactly).

    O(1) per update. Non-finite inputs raise :class:`~framework.DataError` (a ``ValueError``)
    and leave the state unchanged. Each period must be an int >= 1 and ``fast_period`` less
    than ``slow_period``, else :class:`~framework.ConfigError`.
    """

    __slots__ = ("_fast", "_histogram", "_signal", "_signal_ema", "_slow")

    def __init__(
        self, fast_period: int = 12, slow_period: int = 26, signal_period: int = 9
    ) -> None:
        fast_period = check_period("MACD", fast_period, "fast_period")
        slow_period = check_period("MACD", slow_period, "slow_period")
        signal_period = check_period("MACD", signal_period, "signal_period")
        if fast_period >= slow_period:
            raise ConfigError(
                f"MACD: fast_period must be less than slow_period, got {fast_period} and "
                f"{slow_period}"
            )
        super().__init__(slow_period, warmup=slow_period + signal_period - 1)
        self._fast = EMA(fast_period)
        self._slow = EMA(slow_period)
        self._signal_ema = EMA(signal_period)
        self._signal: float | None = None
        self._histogram: float | None = None

    @property
    def fast_period(self) -> int:
        """The period of the fast EMA."""
        return self._fast.period

    @property
    def slow_period(self) -> int:
        """The period of the slow EMA (also :attr:`period`)."""
        return self._period

    @property
    def signal_period(self) -> int:
        """The period of the signal line's EMA."""
        return self._signal_ema.period

    @property
    def macd(self) -> float | None:
        """The fast EMA minus the slow EMA, or None while warming up."""
        return self._value

    @property
    def signal(self) -> float | None:
        """The EMA of :attr:`macd`, or None while warming up."""
        return self._signal

    @property
    def histogram(self) -> float | None:
        """``macd - signal``, or None while warming up."""
        return self._histogram

    def update(self, x: float) -> float | None:
        """Add one input; return the MACD line, or None while warming up."""
        if not _NEG_INF < x < _INF:
            raise reject_input("MACD", x=x)
        fast = self._fast.update(x)
        slow = self._slow.update(x)
        self._count += 1
        if fast is None or slow is None:
            return None
        line = fast - slow
        signal = self._signal_ema.update(line)
        if signal is None:
            return None
        self._value = line
        self._signal = signal
        self._histogram = line - signal
        return line

    def reset(self) -> None:
        """Forget every input, as if newly constructed with the same periods."""
        super().reset()
        self._fast.reset()
        self._slow.reset()
        self._signal_ema.reset()
        self._signal = None
        self._histogram = None
