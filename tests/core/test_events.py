import math

import attrs
import pytest
from factories import MINUTE, T0, bar
from hypothesis import given

from framework import Bar, BarUpdate, InvalidEvent, Quote
from framework._events import (
    bar_unchecked,
    bar_update_unchecked,
    new_bar,
    new_bar_update,
)
from framework.testing import bars

_BAR_FIELDS = tuple(field.name for field in attrs.fields(Bar))


def test_bar_keeps_its_values():
    b = bar(0, 10.0, open=9.0, high=11.0, low=8.5)
    assert (b.open, b.high, b.low, b.close) == (9.0, 11.0, 8.5, 10.0)
    assert b.ts_event == T0 + MINUTE


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("open", math.nan, "open must be a finite positive price"),
        ("high", math.inf, "high must be a finite positive price"),
        ("low", -1.0, "low must be a finite positive price"),
        ("close", 0.0, "close must be a finite positive price"),
        ("volume", -5.0, "volume must be a finite size"),
        ("high", 9.5, "inconsistent OHLC"),
    ],
)
def test_bar_rejects_impossible_values(field, value, message):
    fields = dict(
        symbol="X",
        interval="1m",
        ts_open=0,
        open=10.0,
        high=11.0,
        low=9.0,
        close=10.5,
        volume=1.0,
        ts_event=60,
        ts_recv=60,
    )
    fields[field] = value
    with pytest.raises(InvalidEvent, match=message):
        Bar(**fields)


def test_bar_rejects_float_time_and_event_before_open():
    with pytest.raises(InvalidEvent, match="ts_open must be a non-negative int"):
        Bar(
            symbol="X",
            interval="1m",
            ts_open=1.5,
            open=1,
            high=1,
            low=1,
            close=1,
            volume=0,
            ts_event=2,
            ts_recv=2,
        )
    with pytest.raises(InvalidEvent, match="before ts_open"):
        Bar(
            symbol="X",
            interval="1m",
            ts_open=10,
            open=1,
            high=1,
            low=1,
            close=1,
            volume=0,
            ts_event=5,
            ts_recv=5,
        )


def test_events_are_frozen():
    b = bar(0, 10.0)
    with pytest.raises(AttributeError):
        b.close = 3.0  # type: ignore[misc]


def test_quote_allows_missing_fields_but_rejects_crossed_and_negative():
    q = Quote(symbol="X", bid=None, ask=10.0, ts_event=1, ts_recv=1)
    assert q.bid is None
    with pytest.raises(InvalidEvent, match=r"bid 11\.0 above ask 10\.0"):
        Quote(symbol="X", bid=11.0, ask=10.0, ts_event=1, ts_recv=1)
    with pytest.raises(InvalidEvent, match="bid_size"):
        Quote(symbol="X", bid=1.0, bid_size=-1.0, ts_event=1, ts_recv=1)


@given(bars(symbols=["X:Y"], max_bars=3, gaps=True))
def test_unchecked_constructors_build_the_same_frozen_events(generated):
    # The fast constructors the bar file reader and the live codec use after their own checks.
    checked = generated[-1]
    fields = [getattr(checked, name) for name in _BAR_FIELDS]
    fast = bar_unchecked(*fields)
    assert type(fast) is Bar
    assert (fast, hash(fast), repr(fast)) == (checked, hash(checked), repr(checked))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fast.close = 1.0  # type: ignore[misc]
    update = bar_update_unchecked(*fields[:-1])
    assert type(update) is BarUpdate
    assert update == BarUpdate(**{name: getattr(checked, name) for name in _BAR_FIELDS[:-1]})


def test_positional_constructors_check_like_the_classes():
    fields = ["X", "1m", 0, 10.0, 11.0, 9.0, 10.5, 1.0, MINUTE, MINUTE]
    names = _BAR_FIELDS[:-1]
    assert new_bar(*fields) == Bar(**dict(zip(names, fields, strict=True)))
    assert new_bar_update(*fields) == BarUpdate(**dict(zip(names, fields, strict=True)))
    bad = [*fields[:4], 8.0, *fields[5:]]  # high below low
    for build, cls in ((new_bar, Bar), (new_bar_update, BarUpdate)):
        with pytest.raises(InvalidEvent) as fast:
            build(*bad)
        with pytest.raises(InvalidEvent) as checked:
            cls(**dict(zip(names, bad, strict=True)))
        assert str(fast.value) == str(checked.value)
    with pytest.raises(InvalidEvent, match="before ts_open"):
        new_bar("X", "1m", MINUTE, 10.0, 11.0, 9.0, 10.5, 1.0, 0, MINUTE)
