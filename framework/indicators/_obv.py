"""On-balance volume: volume added on up closes and subtracted on down closes."""

from __future__ import annotations

import math

from ._base import _INF, _NEG_INF, Indicator, reject_input


class OBV(Indicator):
    """Granville's on-balance volume, a running total that starts at 0.

    Each bar adds its volume when its close is above the previous close, subtracts it when
    below, and leaves the total unchanged when equal. The first bar has no previous close and
    adds nothing, so the first value is 0.0 (as TradingView's ``ta.obv``); TA-Lib starts the
    total at the first bar's volume instead, so its values are these plus that constant. OBV
    has no look-back: ``period`` is 1 and the first ``update`` yields a value.

    O(1) per update; the total is a compensated sum (its exact rounding error is carried), so
    fractional volumes added and subtracted over a long run do not drift. ``update(close,
    volume)`` with a non-finite close or volume, or a negative volume, raises
    :class:`~framework.DataError` (a ``ValueError``) and leaves the state unchanged.
    """

    __slots__ = ("_comp", "_prev_close", "_total")

    def __init__(self) -> None:
        super().__init__(1, warmup=1)
        # NaN compares False with everything, so the first bar neither adds nor subtracts.
        self._prev_close = math.nan
        self._total = 0.0
        self._comp = 0.0

    def update(self, close: float, volume: float) -> float:
        """Add one bar; return the running total."""
        if not (_NEG_INF < close < _INF and 0.0 <= volume < _INF):
            raise reject_input("OBV", "volume must be >= 0", close=close, volume=volume)
        prev_close = self._prev_close
        self._prev_close = close
        self._count += 1
        if close > prev_close:
            step = volume
        elif close < prev_close:
            step = -volume
        else:
            value = self._value = self._total + self._comp
            return value
        # TwoSum: the rounding error of each addition, carried exactly.
        s = self._total
        t = s + step
        bp = t - s
        self._comp += (s - (t - bp)) + (step - bp)
        self._total = t
        value = self._value = t + self._comp
        return value

    def reset(self) -> None:
        """Forget every input, as if newly constructed."""
        super().reset()
        self._prev_close = math.nan
        self._total = 0.0
        self._comp = 0.0
