"""Conversions between integer UTC nanoseconds and the units found on the wire and in files.

tradewire keeps every timestamp as an ``int`` of nanoseconds since the Unix epoch, UTC. These
helpers are the only place where seconds, milliseconds, ISO-8601 strings and wall-clock times
in a named zone are converted.
"""

from __future__ import annotations

import datetime as _dt
import zoneinfo

NANOS_PER_SECOND = 1_000_000_000
NANOS_PER_MILLI = 1_000_000

#: The last time an int64 of nanoseconds holds (2262-04-11T23:47:16Z): times are stored in
#: int64 arrays, so a later one is an error at the edge, not an OverflowError deep inside.
MAX_NANOS = 2**63 - 1

#: Nanoseconds per unit of an integer epoch time, by the unit's short name.
TIME_UNITS: dict[str, int] = {"s": NANOS_PER_SECOND, "ms": NANOS_PER_MILLI, "us": 1_000, "ns": 1}

#: Where each unit's magnitudes end: an epoch number below 1e11 is seconds, below 1e14
#: milliseconds, below 1e17 microseconds, else nanoseconds. Each bound is year 5138 in the
#: smaller unit and 1973-03-03 in the larger, so real data of 1973..2262 is never misread.
UNIT_BOUNDS: tuple[tuple[str, int], ...] = (
    ("s", 10**11),
    ("ms", 10**14),
    ("us", 10**17),
    ("ns", MAX_NANOS + 1),
)

UNIT_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_NAIVE_EPOCH = _dt.datetime(1970, 1, 1)
_NANOS_PER_HOUR = 3_600 * NANOS_PER_SECOND


def unit_of_magnitude(value: float) -> str:
    """The unit (see :data:`UNIT_BOUNDS`) an epoch number of this size is read in."""
    for unit, bound in UNIT_BOUNDS:
        if value < bound:
            return unit
    return "ns"


def unit_range(unit: str, *, by_magnitude: bool) -> tuple[int, int]:
    """[low, high] of the integer epoch times read in ``unit``: times from 1970 that fit
    :data:`MAX_NANOS`, and, when the unit came from the magnitude rule, within its band."""
    high = MAX_NANOS // TIME_UNITS[unit]
    if not by_magnitude:
        return 0, high
    bounds = dict(UNIT_BOUNDS)
    names = [name for name, _ in UNIT_BOUNDS]
    index = names.index(unit)
    low = bounds[names[index - 1]] if index else 0
    return low, min(high, bounds[unit] - 1)


def time_zone(name: str | _dt.tzinfo) -> _dt.tzinfo:
    """A zone by IANA name (``America/New_York``, ``UTC``); a tzinfo passes through.

    Raises ``ValueError`` naming the zone when the name is unknown.
    """
    if isinstance(name, _dt.tzinfo):
        return name
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}: give an IANA name such as America/New_York, or UTC"
        ) from exc


def nanos_from_seconds(seconds: float) -> int:
    """Unix seconds (int or float, as the wire sends them) to nanoseconds, rounded to 1 µs.

    Rounding to the microsecond keeps float noise (``1767797141.237``) out of the integer.
    """
    return round(seconds * 1_000_000) * 1_000


def nanos_from_millis(millis: float) -> int:
    """Unix milliseconds to nanoseconds."""
    return round(millis * 1_000) * 1_000


def iso_from_nanos(nanos: int) -> str:
    """Nanoseconds to ISO-8601 UTC with a ``Z`` suffix and only the fraction digits needed."""
    seconds, rest = divmod(nanos, NANOS_PER_SECOND)
    stamp = (_EPOCH + _dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    if rest:
        return f"{stamp}.{rest:09d}".rstrip("0") + "Z"
    return stamp + "Z"


def nanos_from_iso(text: str) -> int:
    """ISO-8601 with an explicit offset (or ``Z``) to nanoseconds.

    Raises ``ValueError`` for strings without an offset: a naive time is ambiguous.
    """
    parsed = _dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"time {text!r} has no UTC offset")
    return nanos_from_datetime(parsed)


def nanos_from_datetime(moment: _dt.datetime) -> int:
    """An aware datetime to nanoseconds."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * NANOS_PER_SECOND + delta.microseconds * 1_000


def nanos_from_wall(wall: _dt.datetime, zone: _dt.tzinfo) -> int | None:
    """A naive wall-clock time in ``zone`` to nanoseconds; None if the zone's clocks skip it.

    A time that happens twice (clocks set back) is its first occurrence.
    """
    utc = wall.replace(tzinfo=zone).astimezone(_dt.UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != wall:
        return None  # in a gap: the round trip lands elsewhere
    return nanos_from_datetime(utc)


class WallClock:
    """:func:`nanos_from_wall` for many times of one zone, at a few arithmetic operations each
    while they stay in one hour of the wall clock.

    The zone's offset is looked up once per hour, and used only for an hour whose first and
    last microsecond both exist with the same offset: zones change offset at most once in an
    hour, so then none of it is skipped or doubled, and the results are nanos_from_wall's.
    Only the last hour is kept, so memory does not grow with the number of times.
    """

    def __init__(self, zone: _dt.tzinfo) -> None:
        self.zone = zone
        self._hour: int | None = None
        self._offset: int | None = None

    def nanos(self, wall: _dt.datetime) -> int | None:
        """A naive wall-clock time to nanoseconds; None if the zone's clocks skip it."""
        delta = wall - _NAIVE_EPOCH
        nanos = (delta.days * 86_400 + delta.seconds) * NANOS_PER_SECOND
        nanos += delta.microseconds * 1_000
        hour = nanos // _NANOS_PER_HOUR
        if hour != self._hour:
            self._hour, self._offset = hour, self._offset_through(hour)
        if self._offset is None:
            return nanos_from_wall(wall, self.zone)  # an hour with a change of offset
        return nanos - self._offset

    def _offset_through(self, hour: int) -> int | None:
        start = _NAIVE_EPOCH + _dt.timedelta(hours=hour)
        last = start + _dt.timedelta(hours=1, microseconds=-1)
        first_nanos, last_nanos = (
            nanos_from_wall(start, self.zone),
            nanos_from_wall(last, self.zone),
        )
        if first_nanos is None or last_nanos is None:
            return None
        offset = hour * _NANOS_PER_HOUR - first_nanos
        return offset if last_nanos == first_nanos + _NANOS_PER_HOUR - 1_000 else None


def wall_nanos(nanos: int, zone: _dt.tzinfo) -> int:
    """``nanos`` moved by the zone's UTC offset at that moment: its wall clock, as ns."""
    moment = _EPOCH + _dt.timedelta(microseconds=nanos // 1_000)
    offset = moment.astimezone(zone).utcoffset() or _dt.timedelta(0)
    return nanos + (offset.days * 86_400 + offset.seconds) * NANOS_PER_SECOND
