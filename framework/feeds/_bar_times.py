"""The time field of a bar file, read to UTC nanoseconds by rules fixed once per file.

A field is one of:

- an epoch number (integer, or decimal rounded to the microsecond) in one unit for the
  whole file: the ``time_unit`` the user names, else the one the first data row's magnitude
  picks (:data:`~framework._time.UNIT_BOUNDS`; seconds if that row's time is not a number).
  Under the magnitude rule a number of another magnitude is a bad row, never a guess;
- ISO-8601 with an offset or ``Z``: that instant, whatever the zone;
- ISO-8601 without one (``2017-04-19 09:00:00``, or a date, ``2004-08-19``, meaning its
  midnight): a wall-clock time in the zone the user names. Without a zone such a file is
  refused as a whole, by :data:`NO_ZONE`, as no skipping of rows would make it right.

Times must fall in 1970..2262 (int64 nanoseconds). The bar file's row reader and its column
reader both read through one :class:`TimeReader`, so they cannot disagree.
"""

from __future__ import annotations

import datetime as _dt
import math
import re

from .._errors import ConfigError
from .._time import (
    MAX_NANOS,
    TIME_UNITS,
    UNIT_NAMES,
    WallClock,
    nanos_from_datetime,
    nanos_from_wall,
    time_zone,
    unit_of_magnitude,
    unit_range,
)

#: A field that starts like an ISO-8601 date (the year and its dash).
_iso_shaped = re.compile(r"\d{4}-").match

#: The reason of a naive time in a file read without a zone: the caller refuses the file.
NO_ZONE = "no_zone"

#: Years of ISO times worth converting: the zone of one in 1969 may still put it in 1970.
_YEARS = (1969, 2262)

ACCEPTED_FORMS = (
    "times may be Unix s/ms/us/ns (1704205800), ISO-8601 with an offset "
    "(2024-01-02T09:30:00-05:00) or, given a zone, naive times (2017-04-19 09:00:00) "
    "and dates (2004-08-19)"
)


class TimeReader:
    """Reads a bar file's time fields; :meth:`parse` is the hot path, :meth:`problem` words
    why it refused a field."""

    def __init__(
        self,
        *,
        zone: _dt.tzinfo | None,
        unit: str,
        by_magnitude: bool,
        decided_by: str = "",
    ) -> None:
        self.zone = zone
        self.unit = unit
        self.by_magnitude = by_magnitude
        #: Set once a naive time was read: the file's times are the zone's wall clock.
        self.local = False
        self._decided_by = decided_by
        self._factor = TIME_UNITS[unit]
        self._per_micro = self._factor // 1_000
        self._low, self._high = unit_range(unit, by_magnitude=by_magnitude)
        self._wall_clock = WallClock(zone or _dt.UTC)

    @classmethod
    def for_file(
        cls,
        first_time: str | None,
        first_line: int,
        *,
        zone: _dt.tzinfo | None,
        unit: str | None,
    ) -> TimeReader:
        """The reader of a file whose first data row has time field ``first_time``."""
        return cls.for_first(first_time, f"line {first_line}", zone=zone, unit=unit)

    @classmethod
    def for_first(
        cls,
        first_time: str | None,
        where: str,
        *,
        zone: _dt.tzinfo | None,
        unit: str | None,
    ) -> TimeReader:
        """The reader of data whose first time, at ``where`` (``line 2``, ``row 0``), is
        ``first_time`` as text (None if it has none)."""
        if unit is not None:
            return cls(zone=zone, unit=unit, by_magnitude=False)
        value = _number(first_time) if first_time is not None else None
        if value is None or not 0 <= value <= MAX_NANOS:
            return cls(
                zone=zone,
                unit="s",
                by_magnitude=True,
                decided_by=f"the default, as {where}'s time is not an epoch number",
            )
        return cls(
            zone=zone,
            unit=unit_of_magnitude(value),
            by_magnitude=True,
            decided_by=f"by the magnitude of {where}'s time",
        )

    @property
    def bounds(self) -> tuple[int, int]:
        """[low, high] of the epoch numbers accepted in the reader's unit, as :meth:`parse`
        checks them (for whole-column readers that must accept exactly the same)."""
        return self._low, self._high

    def parse(self, text: str) -> int | None:
        """UTC nanoseconds of one field; None if the file's rules do not accept it."""
        try:
            value = int(text)
        except ValueError:
            return self._parse_other(text.strip())
        if self._low <= value <= self._high:
            return value * self._factor
        return None

    def parse_ascending_ints(self, values: list[int]) -> list[int] | None:
        """:meth:`parse` of fields that all read as ints, at once, for a caller that uses the
        result only if it ascends: then the ends alone need a range check (and a scan for
        the minimum would cost the plain file's chunk reader a few percent)."""
        if values[0] >= self._low and values[-1] <= self._high:
            return list(map(self._factor.__mul__, values))
        return None

    def parse_many(self, fields: list[str]) -> list[int | None]:
        """:meth:`parse` of each field; quicker for a column of ISO-8601 times."""
        if all(map(_iso_shaped, fields)):
            # Four digits and a dash are no int nor float, so parse() would get here too.
            return [self._parse_iso(field.strip()) for field in fields]
        return list(map(self.parse, fields))

    def _parse_other(self, text: str) -> int | None:
        try:
            number = float(text)
        except ValueError:
            return self._parse_iso(text)
        # Chained comparisons are false for NaN, and inf is past the high end.
        if not self._low <= number <= self._high:
            return None
        if number.is_integer():
            return int(number) * self._factor
        if self._per_micro:
            return round(number * self._per_micro) * 1_000
        return round(number)

    def _parse_iso(self, text: str) -> int | None:
        try:
            moment = _dt.datetime.fromisoformat(text)
        except ValueError:
            return None
        if not _YEARS[0] <= moment.year <= _YEARS[1]:
            return None  # no zone moves it into 1970..2262, and astimezone could overflow
        if moment.tzinfo is not None:
            nanos: int | None = nanos_from_datetime(moment)
        elif self.zone is None:
            return None
        else:
            nanos = self._wall_clock.nanos(moment)
            self.local = True
        if nanos is None or not 0 <= nanos <= MAX_NANOS:
            return None
        return nanos

    def problem(self, text: str) -> tuple[str, str]:
        """(reason, detail) of a field :meth:`parse` refused; reason :data:`NO_ZONE` for a
        naive time without a zone, which the caller refuses for the whole file."""
        shown = f"{text.strip()!r:.60}"
        value = _number(text)
        if value is None:
            return self._iso_problem(text.strip(), shown)
        if value < 0:
            return "bad_time", f"time {shown} is before 1970, which bar files cannot hold"
        if value > MAX_NANOS:
            return "bad_time", f"time {shown} is after 2262-04-11 in any unit"
        if self.by_magnitude and unit_of_magnitude(value) != self.unit:
            return "time_unit", (
                f"time {shown} reads as {UNIT_NAMES[unit_of_magnitude(value)]}, but this "
                f"file's times are {UNIT_NAMES[self.unit]} ({self._decided_by}); "
                "name the unit with --time-unit (time_unit= in Python)"
            )
        given = "" if self.by_magnitude else " (the unit given with --time-unit / time_unit=)"
        return "bad_time", (
            f"time {shown} in {UNIT_NAMES[self.unit]}{given} is after 2262-04-11, "
            "the last time bar files can hold"
        )

    def _iso_problem(self, text: str, shown: str) -> tuple[str, str]:
        try:
            moment = _dt.datetime.fromisoformat(text)
        except ValueError:
            return "bad_time", f"unparsable time {shown}; {ACCEPTED_FORMS}"
        if moment.tzinfo is None and self.zone is None:
            return NO_ZONE, (
                f"time {shown} has no zone: name the zone of the file's times with --tz ZONE "
                f'(tz="ZONE" in Python), e.g. UTC or America/New_York; {ACCEPTED_FORMS}'
            )
        before = f"time {shown} is before 1970, which bar files cannot hold"
        after = f"time {shown} is after 2262-04-11, the last time bar files can hold"
        if not _YEARS[0] <= moment.year <= _YEARS[1]:
            return "bad_time", before if moment.year < _YEARS[0] else after
        if self.zone is not None and moment.tzinfo is None:
            nanos = nanos_from_wall(moment, self.zone)
            if nanos is None:
                return "bad_time", f"time {shown} does not exist in {self.zone} (clocks skip it)"
        else:
            nanos = nanos_from_datetime(moment)
        return "bad_time", before if nanos < 0 else after


def _number(text: str) -> float | None:
    """``text`` as int or float(), as :meth:`TimeReader.parse` reads numbers; None if it is
    no finite number."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def checked_time_options(
    tz: str | _dt.tzinfo | None, time_unit: str | None
) -> tuple[_dt.tzinfo | None, str | None]:
    """``tz`` as a zone and ``time_unit`` checked, as every bar reader takes them; one-line
    :class:`~framework.ConfigError` for an unknown zone or unit."""
    try:
        zone = time_zone(tz) if tz is not None else None
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if time_unit is not None and time_unit not in TIME_UNITS:
        raise ConfigError(
            f"time unit {time_unit!r} is not one of {', '.join(TIME_UNITS)} "
            "(seconds, milliseconds, microseconds, nanoseconds)"
        )
    return zone, time_unit
