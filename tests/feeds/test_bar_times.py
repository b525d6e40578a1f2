"""The time rules under bar files: the wall clock's shortcut gives the zone's own answers, and
the unit bands meet where docs/data.md says."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework._time import MAX_NANOS, WallClock, nanos_from_wall, unit_of_magnitude, unit_range

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "America/St_Johns",  # changed at 00:01 until 2011, off the hour
    "Australia/Lord_Howe",  # a 30-minute change
    "America/Sao_Paulo",  # changed at midnight
    "Pacific/Apia",  # skipped 2011-12-30 entirely
    "Asia/Kolkata",
]


@functools.cache
def changes(zone: str, year: int) -> list[dt.datetime]:
    """The wall-clock times, just before, at which ``zone`` changed offset in ``year``."""
    tz = zoneinfo.ZoneInfo(zone)
    found = []
    at = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    step = dt.timedelta(hours=1)
    while at.year == year:
        if at.astimezone(tz).utcoffset() != (at + step).astimezone(tz).utcoffset():
            low, high = at, at + step
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                if middle.astimezone(tz).utcoffset() == low.astimezone(tz).utcoffset():
                    low = middle
                else:
                    high = middle
            found.append(low.astimezone(tz).replace(tzinfo=None))
        at += step
    return found


@st.composite
def wall_runs(draw: st.DrawFn, zone: str) -> list[dt.datetime]:
    """Times in runs, as a file has them, often through a change of the zone's offset."""
    start = draw(st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2040, 1, 1)))
    near = changes(zone, start.year)
    if near and draw(st.booleans()):
        start = draw(st.sampled_from(near)) - dt.timedelta(seconds=draw(st.integers(0, 7_200)))
    steps = draw(st.lists(st.integers(0, 3_600_000_000), max_size=30))
    times = [start]
    for step in steps:
        times.append(times[-1] + dt.timedelta(microseconds=step))
    return times


@settings(max_examples=500, deadline=None)
@given(data=st.data(), zone=st.sampled_from(ZONES))
def test_the_wall_clock_shortcut_gives_what_the_zone_gives(data, zone):
    times = data.draw(wall_runs(zone))
    tz = zoneinfo.ZoneInfo(zone)
    clock = WallClock(tz)
    assert [clock.nanos(t) for t in times] == [nanos_from_wall(t, tz) for t in times]


@pytest.mark.parametrize(
    ("zone", "wall", "expected"),
    [
        ("America/New_York", dt.datetime(2021, 3, 14, 2, 30), None),  # skipped
        ("America/New_York", dt.datetime(2021, 11, 7, 1, 30), "2021-11-07T05:30:00+00:00"),
        ("Australia/Lord_Howe", dt.datetime(2021, 10, 3, 2, 15), None),
        ("Pacific/Apia", dt.datetime(2011, 12, 30, 12), None),
    ],
)
def test_skipped_and_doubled_times(zone, wall, expected):
    nanos = WallClock(zoneinfo.ZoneInfo(zone)).nanos(wall)
    if expected is None:
        assert nanos is None
    else:
        assert nanos == dt.datetime.fromisoformat(expected).timestamp() * 10**9


@pytest.mark.parametrize(
    ("value", "unit"),
    [
        (0, "s"),
        (10**11 - 1, "s"),
        (10**11, "ms"),
        (10**14 - 1, "ms"),
        (10**14, "us"),
        (10**17 - 1, "us"),
        (10**17, "ns"),
        (MAX_NANOS, "ns"),
    ],
)
def test_unit_bands_meet_at_1e11_1e14_1e17(value, unit):
    assert unit_of_magnitude(value) == unit


def test_every_unit_reads_up_to_the_last_int64_nanosecond():
    assert [unit_range(u, by_magnitude=False)[1] for u in ("s", "ms", "us", "ns")] == [
        MAX_NANOS // 10**9,
        MAX_NANOS // 10**6,
        MAX_NANOS // 10**3,
        MAX_NANOS,
    ]
    assert unit_range("ms", by_magnitude=True) == (10**11, MAX_NANOS // 10**6)
