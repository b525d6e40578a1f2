"""Trading sessions: where ``day`` orders expire and the daily loss limit resets.

A session is one calendar day in a time zone, starting at a local time of day (default: the
UTC calendar day, 00:00 to 00:00). An instant exactly on a boundary belongs to the session that
starts there. Sessions are computed from event time, never from the wall clock.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import attrs

_NANOS_PER_SECOND = 1_000_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _check_zone(_instance: object, _attribute: object, value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc


@attrs.frozen(slots=True)
class DailySessions:
    """One session per day, starting at ``start`` local time in the IANA zone ``tz``.

    ``DailySessions()`` is the UTC calendar day; ``DailySessions(dt.time(17), "America/New_York")``
    is the FX day that rolls at 5 pm New York time (daylight saving handled by the zone).
    """

    start: dt.time = dt.time(0)
    tz: str = attrs.field(default="UTC", validator=_check_zone)
    _cache: list[int] = attrs.field(factory=lambda: [1, 0], init=False, eq=False, repr=False)

    def bounds(self, ts: int) -> tuple[int, int]:
        """``(start, end)`` in UTC nanoseconds of the session containing ``ts``:
        ``start <= ts < end``."""
        lo, hi = self._cache
        if lo <= ts < hi:
            return lo, hi
        zone = zoneinfo.ZoneInfo(self.tz)
        seconds = ts // _NANOS_PER_SECOND
        local_day = (_EPOCH + dt.timedelta(seconds=seconds)).astimezone(zone).date()
        lo = self._boundary(local_day, zone)
        if lo > ts:
            hi = lo
            lo = self._boundary(local_day - dt.timedelta(days=1), zone)
        else:
            hi = self._boundary(local_day + dt.timedelta(days=1), zone)
        self._cache[:] = [lo, hi]
        return lo, hi

    def session_end(self, ts: int) -> int:
        """The first session boundary strictly after ``ts``."""
        return self.bounds(ts)[1]

    def session_start(self, ts: int) -> int:
        """The boundary that opened the session containing ``ts``."""
        return self.bounds(ts)[0]

    def _boundary(self, day: dt.date, zone: zoneinfo.ZoneInfo) -> int:
        local = dt.datetime.combine(day, self.start, tzinfo=zone)
        delta = local.astimezone(dt.UTC) - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * _NANOS_PER_SECOND + delta.microseconds * 1000
