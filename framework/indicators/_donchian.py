"""Donchian channels: the highest high and lowest low of a sliding window."""

from __future__ import annotations

from ._base import _INF, _NEG_INF, Bands, check_period, reject_input
from ._extremes import WindowExtremes


class DonchianChannels(Bands):
    """Donchian channels over the last ``period`` bars.

    ``upper`` is the highest high and ``lower`` the lowest low of the window, ``middle`` their
    mean ``(upper + lower) / 2`` and ``width = upper - lower``. ``value`` is ``middle``. The
    current bar is part of its own window (as TA-Lib's MAX/MIN and TradingView's Donchian
    channels have it): a breakout strategy compares a bar with the bands of the bar *before*.
    Warm-up: ``update`` returns None and every band is None for the first ``period - 1`` bars;
    the ``period``-th bar yields the first bands.

    O(1) amortised per update (monotonic deques, see ``WindowExtremes``). ``update(high,
    low)`` with non-finite prices or ``high < low`` raises :class:`~framework.DataError` (a
    ``ValueError``) and leaves the state unchanged. ``period`` must be an int >= 1, else
    :class:`~framework.ConfigError`.
    """

    __slots__ = ("_extremes",)

    def __init__(self, period: int = 20) -> None:
        period = check_period("DonchianChannels", period)
        super().__init__(period, warmup=period)
        self._extremes = WindowExtremes(period)

    def update(self, high: float, low: float) -> float | None:
        """Add one bar; return the new middle band, or None while warming up."""
        if not _NEG_INF < low <= high < _INF:
            raise reject_input("DonchianChannels", "high must be >= low", high=high, low=low)
        upper, lower = self._extremes.push(high, low)
        count = self._count + 1
        self._count = count
        if count < self._period:
            return None
        middle = self._value = 0.5 * (upper + lower)
        self._upper = upper
        self._lower = lower
        self._width = upper - lower
        return middle

    def reset(self) -> None:
        """Forget every input, as if newly constructed with the same period."""
        super().reset()
        self._extremes.clear()
