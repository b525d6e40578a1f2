"""Slow stochastic oscillator: where the close sits in the recent range, smoothed twice."""

from __future__ import annotations

from ._base import _INF, _NEG_INF, Indicator, check_period, reject_input
from ._extremes import WindowExtremes
from ._sma import SMA


class Stochastic(Indicator):
    """Slow stochastic %K and %D, in ``[0, 100]`` (up to rounding of the averages).

    The raw (fast) %K of a bar is ``100 * (close - LL) / (HH - LL)``, where ``HH`` and ``LL``
    are the highest high and lowest low of the last ``period`` bars; a flat window
    (``HH == LL``) gives 50, the neutral midpoint, as RSI does for a series that never moved.
    ``k`` (slow %K) is the simple moving average of the last ``k_smoothing`` raw values and
    ``d`` (slow %D) the simple moving average of the last ``d_smoothing`` values of ``k``.
    ``value`` is ``k``. With ``k_smoothing=1`` this is the fast stochastic. Warm-up: ``update``
    returns None, and ``k`` and ``d`` are None, for the first
    ``period + k_smoothing + d_smoothing - 3`` bars; the next one yields the first values.

    O(1) amortised per update (monotonic deques for the range, ring buffers for the averages).
    ``update(high, low, close)`` with non-finite prices, or a close outside ``[low, high]``,
    raises :class:`~framework.DataError` (a ``ValueError``) and leaves the state unchanged.
    Each of ``period``, ``k_smoothing`` and ``d_smoothing`` must be an int >= 1, else
    :class:`~framework.ConfigError`.
    """

    __slots__ = ("_d", "_d_sma", "_extremes", "_k_sma")

    def __init__(self, period: int = 14, k_smoothing: int = 3, d_smoothing: int = 3) -> None:
        period = check_period("Stochastic", period)
        k_smoothing = check_period("Stochastic", k_smoothing, "k_smoothing")
        d_smoothing = check_period("Stochastic", d_smoothing, "d_smoothing")
        super().__init__(period, warmup=period + k_smoothing + d_smoothing - 2)
        self._extremes = WindowExtremes(period)
        self._k_sma = SMA(k_smoothing)
        self._d_sma = SMA(d_smoothing)
        self._d: float | None = None

    @property
    def k_smoothing(self) -> int:
        """How many raw %K values the slow %K averages."""
        return self._k_sma.period

    @property
    def d_smoothing(self) -> int:
        """How many slow %K values %D averages."""
        return self._d_sma.period

    @property
    def k(self) -> float | None:
        """Slow %K, or None while warming up."""
        return self._value

    @property
    def d(self) -> float | None:
        """Slow %D, the average of the last ``d_smoothing`` values of ``k``, or None."""
        return self._d

    def update(self, high: float, low: float, close: float) -> float | None:
        """Add one bar; return slow %K, or None while warming up."""
        if not _NEG_INF < low <= close <= high < _INF:
            raise reject_input(
                "Stochastic", "need low <= close <= high", high=high, low=low, close=close
            )
        highest, lowest = self._extremes.push(high, low)
        count = self._count + 1
        self._count = count
        if count < self._period:
            return None
        span = highest - lowest
        raw = 100.0 * (close - lowest) / span if span > 0.0 else 50.0
        k = self._k_sma.update(raw)
        if k is None:
            return None
        d = self._d_sma.update(k)
        if d is None:
            return None
        self._value = k
        self._d = d
        return k

    def reset(self) -> None:
        """Forget every input, as if newly constructed with the same parameters."""
        super().reset()
        self._extremes.clear()
        self._k_sma.reset()
        self._d_sma.reset()
        self._d = None
