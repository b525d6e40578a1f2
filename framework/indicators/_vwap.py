"""Volume-weighted average price, cumulative or restarted at each UTC day."""

from __future__ import annotations

from typing import Literal

from .._errors import ConfigError, DataError
from ._base import _INF, _NEG_INF, Indicator, reject_input

#: Nanoseconds in a UTC day: Unix time has no leap seconds, so days are exact multiples.
_NS_PER_DAY = 86_400 * 1_000_000_000


class VWAP(Indicator):
    """Volume-weighted average of the typical price ``(high + low + close) / 3``.

    ``VWAP = sum(typical_price * volume) / sum(volume)`` over the bars of the current session.
    With ``anchor="day"`` (the default, like TradingView's session anchor) a session is a UTC
    calendar day: ``update`` takes the bar's open time ``ts_open`` (``Bar.ts_open``, integer UTC
    nanoseconds) and a bar opening on a later day than the previous one restarts both sums.
    The open time, not ``ts_event``, decides: a bar from 23:00 to 24:00 belongs to the day it
    traded in, although it became final at midnight. With ``anchor=None`` the sums run from
    construction or the last :meth:`reset`, and ``ts_open`` is not needed (for daily or longer
    bars, where a daily anchor would make VWAP each bar's own typical price).

    Warm-up: the value is None, and :attr:`ready` False, while the session has seen no
    volume; otherwise the first ``update`` yields a value, so ``ready`` can turn False again
    at the start of a session whose first bars have zero volume. VWAP has no look-back:
    ``period`` is 1 and :attr:`count` counts every accepted update, across sessions.

    O(1) per update; the two sums are plain sums of terms of one sign, whose relative error
    stays within ``n`` ulps for ``n`` bars. ``update`` with non-finite prices or volume,
    ``high < low``, a negative volume, or (with the daily anchor) a ``ts_open`` on an earlier
    day than the previous bar's raises :class:`~framework.DataError` (a ``ValueError``) and
    leaves the state unchanged. An ``anchor`` other than ``"day"`` or None, or a daily-anchored
    ``update`` without ``ts_open``, raises :class:`~framework.ConfigError`.
    """

    __slots__ = ("_anchor", "_day", "_price_volume", "_volume")

    def __init__(self, anchor: Literal["day"] | None = "day") -> None:
        if anchor not in ("day", None):
            raise ConfigError(f"VWAP: anchor must be 'day' or None, got {anchor!r}")
        super().__init__(1, warmup=1)
        self._anchor = anchor
        self._day: int | None = None
        self._price_volume = 0.0
        self._volume = 0.0

    @property
    def anchor(self) -> Literal["day"] | None:
        """``"day"`` if the sums restart at each UTC day, None if they never do."""
        return self._anchor

    @property
    def ready(self) -> bool:
        """True while the current session has volume, so :attr:`value` is a float."""
        return self._value is not None

    def update(
        self, high: float, low: float, close: float, volume: float, ts_open: int | None = None
    ) -> float | None:
        """Add one bar; return the session's VWAP, or None while it has no volume."""
        if not (_NEG_INF < low <= high < _INF and _NEG_INF < close < _INF and 0.0 <= volume < _INF):
            raise reject_input(
                "VWAP",
                "need high >= low and volume >= 0",
                high=high,
                low=low,
                close=close,
                volume=volume,
            )
        if self._anchor is not None:
            if ts_open is None:
                raise ConfigError("VWAP(anchor='day').update needs ts_open, the bar's open time")
            day = ts_open // _NS_PER_DAY
            last_day = self._day
            if day != last_day:
                if last_day is not None and day < last_day:
                    raise DataError(
                        f"VWAP.update: ts_open={ts_open!r} is on an earlier UTC day than the "
                        "previous bar"
                    )
                self._day = day
                self._price_volume = 0.0
                self._volume = 0.0
                self._value = None
        price_volume = self._price_volume + (high + low + close) / 3.0 * volume
        total = self._volume + volume
        self._price_volume = price_volume
        self._volume = total
        self._count += 1
        if total > 0.0:
            value = self._value = price_volume / total
            return value
        return None

    def reset(self) -> None:
        """Forget every input, as if newly constructed with the same anchor."""
        super().reset()
        self._day = None
        self._price_volume = 0.0
        self._volume = 0.0
