"""Average directional index with the directional indicators +DI and -DI (Wilder)."""

from __future__ import annotations

import math

from ._base import _INF, _NEG_INF, Indicator, check_period, reject_input


class ADX(Indicator):
    """Wilder's average directional index and directional indicators, each in ``[0, 100]``.

    Each bar after the first gives ``up = high - prev_high`` and ``down = prev_low - low``;
    ``+DM = up`` if ``up > down`` and ``up > 0``, else 0; ``-DM = down`` if ``down > up`` and
    ``down > 0``, else 0; and the true range ``TR = max(high - low, |high - prev_close|,
    |low - prev_close|)``. Each of the three is averaged with Wilder's smoothing: the simple
    mean of its first ``period`` values, then ``avg = (avg * (period - 1) + new) / period``.
    ``plus_di = 100 * avg(+DM) / avg(TR)`` and ``minus_di = 100 * avg(-DM) / avg(TR)`` (both 0
    when the average true range is 0); ``DX = 100 * |plus_di - minus_di| / (plus_di +
    minus_di)`` (0 when both are 0); ``adx`` is DX smoothed the same way (the mean of the first
    ``period`` DX values, then Wilder's recurrence). ``value`` is ``adx``.

    This is Wilder's definition, as TradingView computes it. TA-Lib seeds the three averages
    with ``period - 1`` values followed by one smoothing step instead, so its +DI/-DI and ADX
    start out different and converge to these (docs/indicators.md).

    Warm-up: ``update`` returns None, and ``adx``, ``plus_di`` and ``minus_di`` are None, for
    the first ``2 * period - 1`` bars; the ``2 * period``-th bar yields the first values (the
    directional indicators exist from bar ``period + 1``, but every output appears together).

    O(1) per update. ``update(high, low, close)`` with non-finite prices, or ``high < low``,
    raises :class:`~framework.DataError` (a ``ValueError``) and leaves the state unchanged.
    ``period`` must be an int >= 1, else :class:`~framework.ConfigError`.
    """

    __slots__ = (
        "_adx",
        "_minus_di",
        "_minus_dm",
        "_plus_di",
        "_plus_dm",
        "_prev_close",
        "_prev_high",
        "_prev_low",
        "_tr",
    )

    def __init__(self, period: int = 14) -> None:
        period = check_period("ADX", period)
        super().__init__(period, warmup=2 * period)
        self._prev_high = math.nan
        self._prev_low = math.nan
        self._prev_close = math.nan
        # Sums during warm-up, then Wilder averages.
        self._tr = 0.0
        self._plus_dm = 0.0
        self._minus_dm = 0.0
        self._adx = 0.0
        self._plus_di: float | None = None
        self._minus_di: float | None = None

    @property
    def adx(self) -> float | None:
        """The average directional index, or None while warming up."""
        return self._value

    @property
    def plus_di(self) -> float | None:
        """The positive directional indicator +DI, or None while warming up."""
        return self._plus_di

    @property
    def minus_di(self) -> float | None:
        """The negative directional indicator -DI, or None while warming up."""
        return self._minus_di

    def update(self, high: float, low: float, close: float) -> float | None:
        """Add one bar; return the current ADX, or None while warming up."""
        if not (_NEG_INF < low <= high < _INF and _NEG_INF < close < _INF):
            raise reject_input("ADX", "high must be >= low", high=high, low=low, close=close)
        prev_high = self._prev_high
        prev_low = self._prev_low
        prev_close = self._prev_close
        self._prev_high = high
        self._prev_low = low
        self._prev_close = close
        count = self._count + 1
        self._count = count
        if count == 1:
            return None
        up = high - prev_high
        down = prev_low - low
        plus_dm = up if up > down and up > 0.0 else 0.0
        minus_dm = down if down > up and down > 0.0 else 0.0
        # The same branch-free-of-calls true range as ATR's, valid because low <= high.
        if prev_close > high:
            tr = prev_close - low
        elif prev_close < low:
            tr = high - prev_close
        else:
            tr = high - low
        period = self._period
        if count <= period:
            # All three are >= 0, so plain sums have no cancellation to fear.
            self._tr += tr
            self._plus_dm += plus_dm
            self._minus_dm += minus_dm
            return None
        if count == period + 1:
            avg_tr = (self._tr + tr) / period
            avg_plus = (self._plus_dm + plus_dm) / period
            avg_minus = (self._minus_dm + minus_dm) / period
        else:
            keep = period - 1
            avg_tr = (self._tr * keep + tr) / period
            avg_plus = (self._plus_dm * keep + plus_dm) / period
            avg_minus = (self._minus_dm * keep + minus_dm) / period
        self._tr = avg_tr
        self._plus_dm = avg_plus
        self._minus_dm = avg_minus
        # A directional move is never wider than the true range, so a zero average true range
        # means both directional averages are zero too: no direction at all.
        if avg_tr > 0.0:
            plus_di = 100.0 * (avg_plus / avg_tr)
            minus_di = 100.0 * (avg_minus / avg_tr)
        else:
            plus_di = minus_di = 0.0
        di_sum = plus_di + minus_di
        dx = 100.0 * (abs(plus_di - minus_di) / di_sum) if di_sum > 0.0 else 0.0
        warmup = self._warmup
        if count < warmup:
            self._adx += dx
            return None
        if count == warmup:
            adx = (self._adx + dx) / period
        else:
            adx = (self._adx * (period - 1) + dx) / period
        self._adx = adx
        self._value = adx
        self._plus_di = plus_di
        self._minus_di = minus_di
        return adx

    def reset(self) -> None:
        """Forget every input, as if newly constructed with the same period."""
        super().reset()
        self._prev_high = math.nan
        self._prev_low = math.nan
        self._prev_close = math.nan
        self._tr = 0.0
        self._plus_dm = 0.0
        self._minus_dm = 0.0
        self._adx = 0.0
        self._plus_di = None
        self._minus_di = None
