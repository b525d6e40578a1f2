"""Simple moving average over a sliding window."""

from __future__ import annotations

from math import fsum

from ._base import _INF, _NEG_INF, Indicator, check_period, reject_input


class SMA(Indicator):
    """Simple moving average: the arithmetic mean of the last ``period`` inputs.

    ``SMA_t = (x_{t-period+1} + ... + x_t) / period``. Warm-up: ``update`` returns None for the
    first ``period - 1`` inputs; the ``period``-th input yields the first value.

    Each update is O(1): a ring buffer holds the window and a running sum is adjusted by the
    input that enters and the one that leaves. Once per pass over the ring the sum is
    recomputed exactly with ``math.fsum``, so float error cannot accumulate: it stays within a
    few ulps of the window's largest value, whatever the length of the series. (This runs on
    every bar of every backtest, so the common path is kept to a handful of operations.)

    Non-finite inputs raise :class:`~framework.DataError` (a ``ValueError``) and leave the
    state unchanged. ``period`` must be an int >= 1, else :class:`~framework.ConfigError`.
    """

    __slots__ = ("_i", "_sum", "_window")

    def __init__(self, period: int) -> None:
        period = check_period("SMA", period)
        super().__init__(period, warmup=period)
        self._window = [0.0] * period
        self._i = 0
        self._sum = 0.0

    def update(self, x: float) -> float | None:
        """Add one input; return the mean of the last ``period`` inputs, or None in warm-up."""
        if not _NEG_INF < x < _INF:
            raise reject_input("SMA", x=x)
        window = self._window
        i = self._i
        old = window[i]
        window[i] = x
        i += 1
        count = self._count = self._count + 1
        period = self._period
        if i == period:
            self._i = 0
            s = self._sum = fsum(window)
        else:
            self._i = i
            s = self._sum = self._sum + x - old
        if count < period:
            return None
        value = self._value = s / period
        return value

    def reset(self) -> None:
        """Forget every input, as if newly constructed with the same period."""
        super().reset()
        self._window = [0.0] * self._period
        self._i = 0
        self._sum = 0.0
