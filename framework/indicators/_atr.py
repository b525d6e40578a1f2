"""Average true range with Wilder's smoothing."""

from __future__ import annotations

import math

from ._base import _INF, _NEG_INF, Indicator, check_period, reject_input


class ATR(Indicator):
    """Wilder's average true range of OHLC bars.

    ``update(high, low, close)`` takes one bar. Its true range is
    ``TR = max(high - low, |high - prev_close|, |low - prev_close|)``, and ``high - low`` for the
    first bar. The first ATR is the simple mean of the first ``period`` true ranges; after that
    ``ATR_t = (ATR_{t-1} * (period - 1) + TR_t) / period``. Warm-up: ``update`` returns None for
    the first ``period - 1`` bars; the ``period``-th bar yields the first value.

    O(1) per update. Non-finite prices, or ``high < low``, raise :class:`~framework.DataError`
    (a ``ValueError``) and leave the state unchanged. ``period`` must be an int >= 1, else
    :class:`~framework.ConfigError`.
    """

    __slots__ = ("_atr", "_prev_close")

    def __init__(self, period: int = 14) -> None:
        period = check_period("ATR", period)
        super().__init__(period, warmup=period)
        # NaN compares False with everything, so the first bar's true range is high - low.
        self._prev_close = math.nan
        # Sum of true ranges during warm-up, then the Wilder average.
        self._atr = 0.0

    def update(self, high: float, low: float, close: float) -> float | None:
        """Add one bar; return the current ATR, or None while warming up."""
        if not (_NEG_INF < low <= high < _INF and _NEG_INF < close < _INF):
            raise reject_input("ATR", "high must be >= low", high=high, low=low, close=close)
        prev_close = self._prev_close
        # Equal to the max() of the three ranges given low <= high, without the calls: a gap up
        # or down makes the range to the previous close the widest.
        if prev_close > high:
            tr = prev_close - low
        elif prev_close < low:
            tr = high - prev_close
        else:
            tr = high - low
        self._prev_close = close
        count = self._count + 1
        self._count = count
        period = self._period
        if count > period:
            atr = (self._atr * (period - 1) + tr) / period
        elif count < period:
            # True ranges are >= 0, so a plain sum has no cancellation to fear.
            self._atr += tr
            return None
        else:
            atr = (self._atr + tr) / period
        self._atr = atr
        self._value = atr
        return atr

    def reset(self) -> None:
        """Forget every input, as if newly constructed with the same period."""
        super().reset()
        self._prev_close = math.nan
        self._atr = 0.0
