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

    __slots__ = ("_i", "_passes", "_sum", "_window")

    def __init__(self, period: int) -> None:
        period = check_period("SMA", period)
        super().__init__(period, warmup=period)
        self._window = [0.0] * period
        self._i = 0
        # Full passes over the ring so far. Counting passes instead of updates leaves one
        # test per update on the common path: the average exists once a pass is complete.
        self._passes = 0
        self._sum = 0.0

    @property
    def count(self) -> int:
        """How many updates were accepted since construction or the last :meth:`reset`."""
        return self._passes * self._period + self._i

    def update(self, x: float) -> float | None:
        """Add one input; return the mean of the last ``period`` inputs, or None in warm-up."""
        if not _NEG_INF < x < _INF:
            raise reject_input("SMA", x=x)
        window = self._window
        i = self._i
        old = window[i]
        window[i] = x
        i += 1
        if i == self._period:
            self._i = 0
            self._passes += 1
            s = self._sum = fsum(window)
        else:
            self._i = i
            s = self._sum = self._sum + x - old
            if not self._passes:
                return None
        value = self._value = s / self._period
        return value

    def reset(self) -> None:
        """Forget every input, as if newly constructed with the same period."""
        super().reset()
        self._window = [0.0] * self._period
        self._i = 0
        self._passes = 0
        self._sum = 0.0
