"""Simple moving average over a sliding window."""

from __future__ import annotations

from itertools import chain
from math import fsum

from ._base import _INF, Indicator, check_period, reject_input


class SMA(Indicator):
    """Simple moving average: the arithmetic mean of the last ``period`` inputs.

    ``SMA_t = (x_{t-period+1} + ... + x_t) / period``. Warm-up: ``update`` returns None for the
    first ``period - 1`` inputs; the ``period``-th input yields the first value.

    Each update is O(1): a ring buffer holds the window and a running sum is adjusted by the
    input that enters and the one that leaves. The running sum is compensated (each addition's
    rounding error is captured exactly and carried), and it is recomputed from the window with
    ``math.fsum`` every ``period`` updates, so float error cannot drift over millions of updates
    and a window of small values right after a huge one is still exact to an ulp or two.

    Non-finite inputs raise :class:`~framework.DataError` (a ``ValueError``) and leave the
    state unchanged. ``period`` must be an int >= 1, else :class:`~framework.ConfigError`.
    """

    __slots__ = ("_comp", "_i", "_sum", "_window")

    def __init__(self, period: int) -> None:
        period = check_period("SMA", period)
        super().__init__(period, warmup=period)
        self._window = [0.0] * period
        self._i = 0
        self._sum = 0.0
        self._comp = 0.0

    def update(self, x: float) -> float | None:
        """Add one input; return the mean of the last ``period`` inputs, or None in warm-up."""
        if not -_INF < x < _INF:
            raise reject_input("SMA", x=x)
        window = self._window
        i = self._i
        old = window[i]
        window[i] = x
        i += 1
        self._count += 1
        period = self._period
        if i == period:
            # Once per pass over the ring: exact re-summation bounds the drift of the running sum.
            # The remainder fsum rounded away is kept too: once the large values in this window
            # leave, it may be most of what is left.
            self._i = 0
            s = fsum(window)
            self._comp = c = fsum(chain(window, (-s,)))
        else:
            self._i = i
            if self._count < period:
                # The first complete window is summed exactly above; no running sum needed yet.
                return None
            # Two error-free additions (Knuth's TwoSum): s + x, then - old. The exact rounding
            # errors go to the compensation term, so adding and later removing the same value
            # cancels exactly even when it dwarfed the rest of the window.
            s = self._sum
            t = s + x
            bp = t - s
            c = self._comp + ((s - (t - bp)) + (x - bp))
            s = t - old
            bp = s - t
            c += (t - (s - bp)) - (old + bp)
            self._comp = c
        self._sum = s
        value = (s + c) / period
        self._value = value
        return value

    def reset(self) -> None:
        """Forget every input, as if newly constructed with the same period."""
        super().reset()
        self._window = [0.0] * self._period
        self._i = 0
        self._sum = 0.0
        self._comp = 0.0
