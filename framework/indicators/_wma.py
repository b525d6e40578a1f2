"""Weighted moving average: linearly rising weights over a sliding window."""

from __future__ import annotations

from math import fsum
from operator import mul

from ._base import _INF, _NEG_INF, Indicator, check_period, reject_input


class WMA(Indicator):
    """Linearly weighted moving average of the last ``period`` inputs.

    The newest input weighs ``period``, the one before it ``period - 1``, and so on down to 1
    for the oldest: ``WMA_t = (period * x_t + (period - 1) * x_{t-1} + ... + 1 * x_{t-period+1})
    / (period * (period + 1) / 2)``. Warm-up: ``update`` returns None for the first
    ``period - 1`` inputs; the ``period``-th input yields the first value.

    Each update is O(1): a ring buffer holds the window, with its plain sum ``S`` and weighted
    sum ``N``. When ``x`` enters and ``old`` leaves every weight drops by one, so
    ``N' = N - S + period * x`` and ``S' = S - old + x``. Once per pass over the ring, when it
    is in chronological order, both are recomputed exactly with ``math.fsum``, so float error
    cannot drift whatever the length of the series.

    Non-finite inputs raise :class:`~framework.DataError` (a ``ValueError``) and leave the
    state unchanged. ``period`` must be an int >= 1, else :class:`~framework.ConfigError`.
    """

    __slots__ = ("_divisor", "_i", "_passes", "_sum", "_weighted", "_weights", "_window")

    def __init__(self, period: int) -> None:
        period = check_period("WMA", period)
        super().__init__(period, warmup=period)
        self._divisor = period * (period + 1) / 2
        self._weights = range(1, period + 1)
        self._window = [0.0] * period
        self._i = 0
        # As in SMA: counting passes leaves one test per update on the common path.
        self._passes = 0
        self._sum = 0.0
        self._weighted = 0.0

    @property
    def count(self) -> int:
        """How many updates were accepted since construction or the last :meth:`reset`."""
        return self._passes * self._period + self._i

    def update(self, x: float) -> float | None:
        """Add one input; return the weighted mean of the last ``period`` inputs, or None."""
        if not _NEG_INF < x < _INF:
            raise reject_input("WMA", x=x)
        window = self._window
        i = self._i
        old = window[i]
        window[i] = x
        i += 1
        period = self._period
        if i == period:
            self._i = 0
            self._passes += 1
            self._sum = fsum(window)
            weighted = self._weighted = fsum(map(mul, self._weights, window))
        else:
            self._i = i
            if not self._passes:
                # The first window is summed exactly when it is complete.
                return None
            s = self._sum
            weighted = self._weighted = self._weighted - s + period * x
            self._sum = s - old + x
        value = self._value = weighted / self._divisor
        return value

    def reset(self) -> None:
        """Forget every input, as if newly constructed with the same period."""
        super().reset()
        self._window = [0.0] * self._period
        self._i = 0
        self._passes = 0
        self._sum = 0.0
        self._weighted = 0.0
