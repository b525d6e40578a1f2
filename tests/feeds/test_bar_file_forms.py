"""The bar files people have: exports of pandas, Yahoo, backtesting.py, ccxt and Binance read as
docs/data.md says, and what cannot be read refused in one line that says what to do."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import pytest
import trio
from factories import collect, write_csv

from framework import Bar, BarFileError, BarFileFeed, ConfigError

T0 = 1_704_205_800  # 2024-01-02T14:30:00Z
NS = 10**9
GOOG_HEADER = ",Open,High,Low,Close,Volume"
YAHOO_HEADER = "Date,Open,High,Low,Close,Adj Close,Volume"


def read(path: str | Path, **options: Any) -> tuple[list[Bar], BarFileFeed]:
    feed = BarFileFeed(path, **options)
    return trio.run(collect, feed), feed


def error_of(path: str | Path, **options: Any) -> str:
    """The one BarFileError message reading ``path`` ends with."""
    with pytest.RaisesGroup(BarFileError) as caught:
        read(path, **options)
    (error,) = caught.value.exceptions
    return str(error)


def utc(*fields: int) -> int:
    return int(dt.datetime(*fields, tzinfo=dt.UTC).timestamp()) * NS


# -- columns ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "time,open,high,low,close,volume",
        "Time,Open,High,Low,Close,Volume",
        "date,open,high,low,close,volume",
        "Datetime,Open,High,Low,Close,Volume",
        "timestamp,open,high,low,close,volume",  # ccxt
        "ts,open,high,low,close,vol",
        GOOG_HEADER,  # pandas' unnamed index
        " TIME , OPEN , HIGH , LOW , CLOSE , VOLUME ",
        "\ufefftime,open,high,low,close,volume",  # Excel's "CSV UTF-8"
    ],
)
def test_time_and_volume_columns_are_found_by_any_usual_name_and_case(tmp_path, header):
    path = write_csv(str(tmp_path / "X.csv"), [f"{T0},10,11,9,10.5,100"], header=header)
    (bar,), feed = read(path, interval="1m")
    assert (bar.ts_open, bar.open, bar.close, bar.volume) == (T0 * NS, 10.0, 10.5, 100.0)
    assert feed.statistics().ignored_columns == ()


def test_columns_in_any_order_with_a_symbol(tmp_path):
    path = write_csv(
        str(tmp_path / "X.csv"),
        ["100,10.5,9,11,10,A,2024-01-02T14:30:00Z"],
        header="Vol,Close,Low,High,Open,Symbol,Date",
    )
    (bar,), _ = read(path, interval="1m")
    assert (bar.symbol, bar.open, bar.high, bar.low, bar.close, bar.volume) == (
        "A",
        10.0,
        11.0,
        9.0,
        10.5,
        100.0,
    )


def test_extra_columns_are_reported_once_in_the_log_and_the_statistics(tmp_path, caplog):
    rows = [f"{T0 + 60 * i},10,11,9,10,9.9,100,0" for i in range(3_000)]  # three chunks
    path = write_csv(str(tmp_path / "Y.csv"), rows, header=f"{YAHOO_HEADER},Dividends")
    with caplog.at_level(logging.WARNING):
        bars, feed = read(path)
    assert len(bars) == 3_000
    assert feed.statistics().ignored_columns == ("Adj Close", "Dividends")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"{path}: ignoring columns that are not part of a bar: Adj Close, Dividends"
    ]


def test_an_unnamed_first_column_is_an_ignored_index_when_a_time_column_is_named(tmp_path):
    path = write_csv(
        str(tmp_path / "X.csv"),
        [f"{i},{T0 + 60 * i},10,11,9,10,1" for i in range(3)],
        header=",time,open,high,low,close,volume",
    )
    bars, feed = read(path)
    assert [b.ts_open for b in bars] == [(T0 + 60 * i) * NS for i in range(3)]
    assert feed.statistics().ignored_columns == ("(unnamed column 1)",)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            "Date,Open,High,Low,Close",
            'X.csv:1: header lacks volume: found "Date,Open,High,Low,Close" (need time, open, '
            "high, low, close and volume in any order and case: the time may be named date, "
            "datetime, timestamp or ts, or be an unnamed first column, the volume vol); a file "
            "without volume needs a volume column added (0 if unknown)",
        ),
        ("Date,Time,Open,High,Low,Close,Volume", "X.csv:1: header has 2 time columns (Date, Time)"),
        ("time,open,high,low,close,close,volume", "X.csv:1: header has 2 close columns"),
        ("time,open,high,low,close,volume,vol", "X.csv:1: header has 2 volume columns"),
        ("when,open,high,low,close,volume", 'X.csv:1: header lacks time: found "when,open,'),
    ],
)
def test_a_header_missing_or_doubling_a_bar_column_is_refused_naming_it(tmp_path, header, message):
    path = write_csv(str(tmp_path / "X.csv"), [], header=header)
    assert message in error_of(path)


# -- zones ------------------------------------------------------------------------------------


def test_backtesting_py_daily_file_reads_with_a_zone_as_midnight_there(tmp_path):
    rows = [
        "2004-08-19,100,104.06,95.96,100.34,22351900",
        "2004-08-20,101.01,109.08,100.5,108.31,1",
    ]
    path = write_csv(str(tmp_path / "GOOG.csv"), rows, header=GOOG_HEADER)
    bars, _ = read(path, tz="America/New_York")
    assert [b.ts_open for b in bars] == [utc(2004, 8, 19, 4), utc(2004, 8, 20, 4)]  # EDT
    assert bars[0].interval == "1D"
    assert bars[0].ts_event == utc(2004, 8, 20, 4)
    bars, _ = read(path, tz="UTC")
    assert bars[0].ts_open == utc(2004, 8, 19)


def test_naive_times_are_the_wall_clock_of_the_zone(tmp_path):
    rows = [
        "2017-04-19 09:00:00,1.0716,1.0722,1.07083,1.07219,1413",
        "2017-04-19 10:00:00,1.07214,1.07296,1.07214,1.0726,1241",
    ]
    path = write_csv(str(tmp_path / "EURUSD.csv"), rows, header=GOOG_HEADER)
    bars, _ = read(path, tz="Europe/London")
    assert [b.ts_open for b in bars] == [utc(2017, 4, 19, 8), utc(2017, 4, 19, 9)]  # BST
    assert bars[0].interval == "1h"
    bars, _ = read(path, tz=dt.timezone(dt.timedelta(hours=-5)))  # a tzinfo works as well
    assert bars[0].ts_open == utc(2017, 4, 19, 14)


@pytest.mark.parametrize("skip_bad_rows", [False, True])
@pytest.mark.parametrize("time", ["2004-08-19", "2017-04-19 09:00:00", "2017-04-19T09:00"])
def test_naive_times_without_a_zone_refuse_the_file_in_one_line(tmp_path, time, skip_bad_rows):
    path = write_csv(str(tmp_path / "G.csv"), [f"{time},10,11,9,10,1"], header=GOOG_HEADER)
    message = error_of(path, skip_bad_rows=skip_bad_rows)
    assert message == (
        f"{path}:2: time {time!r} has no zone: name the zone of the file's times with --tz ZONE "
        '(tz="ZONE" in Python), e.g. UTC or America/New_York; times may be Unix s/ms/us/ns '
        "(1704205800), ISO-8601 with an offset (2024-01-02T09:30:00-05:00) or, given a zone, "
        "naive times (2017-04-19 09:00:00) and dates (2004-08-19)"
    )


def test_a_time_with_an_offset_keeps_it_whatever_the_zone(tmp_path):
    path = write_csv(str(tmp_path / "X.csv"), ["2024-01-02T09:30:00-05:00,10,11,9,10,1"])
    (bar,), _ = read(path, interval="1m", tz="Asia/Tokyo")
    assert bar.ts_open == T0 * NS


def test_a_time_the_clocks_skip_is_a_bad_row_and_a_repeated_one_its_first(tmp_path):
    rows = [
        "2021-03-14 01:00:00,10,11,9,10,1",
        "2021-03-14 02:30:00,10,11,9,10,1",  # spring forward: 02:00-03:00 does not happen
        "2021-03-14 03:00:00,10,11,9,10,1",
    ]
    path = write_csv(str(tmp_path / "X.csv"), rows)
    message = error_of(path, interval="1h", tz="America/New_York")
    assert message.endswith(
        "X.csv:3: time '2021-03-14 02:30:00' does not exist in America/New_York (clocks skip it)"
    )
    bars, feed = read(path, interval="1h", tz="America/New_York", skip_bad_rows=True)
    assert [b.ts_open for b in bars] == [utc(2021, 3, 14, 6), utc(2021, 3, 14, 7)]
    assert feed.statistics().skipped_by_reason == {"bad_time": 1}
    path = write_csv(str(tmp_path / "X.csv"), ["2021-11-07 01:30:00,10,11,9,10,1"])
    (bar,), _ = read(path, interval="1h", tz="America/New_York")
    assert bar.ts_open == utc(2021, 11, 7, 5, 30)  # 01:30 EDT, the first of the two


def test_a_daylight_saving_change_among_the_first_days_does_not_shorten_the_bar(tmp_path):
    days = [dt.date(2021, 3, 1) + dt.timedelta(days=i) for i in range(20)]  # over Mar 14
    path = write_csv(str(tmp_path / "BTC.csv"), [f"{d},10,11,9,10,1" for d in days])
    bars, _ = read(path, tz="America/New_York")
    assert {b.interval for b in bars} == {"1D"}
    assert bars[14].ts_open - bars[13].ts_open == 23 * 3_600 * NS


def test_times_before_1970_are_refused_by_name(tmp_path):
    path = write_csv(str(tmp_path / "X.csv"), ["1969-07-20,10,11,9,10,1"])
    assert error_of(path, tz="UTC").endswith(
        "X.csv:2: time '1969-07-20' is before 1970, which bar files cannot hold"
    )


# -- epoch units ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "unit", "ts_open"),
    [
        ("1704205800", "s", T0 * NS),
        ("1704205800000", "ms", T0 * NS),  # ccxt, Binance
        ("1704205800000000", "us", T0 * NS),
        ("1704205800000000000", "ns", T0 * NS),
        ("0", "s", 0),
        ("9223372036", "s", 9_223_372_036 * NS),  # the last whole second int64 ns hold
        ("100000000000", "ms", 100_000_000_000 * 10**6),  # 1e11: 1973-03-03 in ms
        ("100000000000000", "us", 100_000_000_000_000 * 1_000),  # 1e14
        ("100000000000000000", "ns", 100_000_000_000_000_000),  # 1e17
        ("1704205800000.5", "ms", T0 * NS + 500_000),
    ],
)
def test_the_first_rows_magnitude_picks_the_unit_of_epoch_times(tmp_path, first, unit, ts_open):
    path = write_csv(str(tmp_path / "X.csv"), [f"{first},10,11,9,10,1"])
    (bar,), feed = read(path, interval="1m")
    assert bar.ts_open == ts_open
    assert feed.statistics().time_unit == unit


@pytest.mark.parametrize(
    ("first", "unit_name"),
    [("99999999999", "seconds"), ("99999999999999", "milliseconds")],
)
def test_the_top_of_a_units_band_is_past_2262_and_a_row_error(tmp_path, first, unit_name):
    path = write_csv(str(tmp_path / "X.csv"), [f"{first},10,11,9,10,1"])
    assert error_of(path, interval="1m").endswith(
        f"X.csv:2: time '{first}' in {unit_name} is after 2262-04-11, "
        "the last time bar files can hold"
    )


def test_a_row_of_another_magnitude_is_a_bad_row_with_the_reason(tmp_path):
    ms = T0 * 1_000
    rows = [f"{ms},10,11,9,10,1", f"{T0 + 60},10,11,9,10,1", f"{ms + 120_000},10,11,9,10,1"]
    path = write_csv(str(tmp_path / "X.csv"), rows)
    assert error_of(path, interval="1m").endswith(
        f"X.csv:3: time '{T0 + 60}' reads as seconds, but this file's times are milliseconds "
        "(by the magnitude of line 2's time); name the unit with --time-unit (time_unit= in "
        "Python)"
    )
    bars, feed = read(path, interval="1m", skip_bad_rows=True)
    assert [b.ts_open for b in bars] == [T0 * NS, (T0 + 120) * NS]
    assert feed.statistics().skipped_by_reason == {"time_unit": 1}


def test_numbers_after_a_first_row_that_is_not_one_are_seconds(tmp_path):
    rows = ["2024-01-02T14:30:00Z,10,11,9,10,1", f"{T0 * 1_000 + 60_000},10,11,9,10,1"]
    path = write_csv(str(tmp_path / "X.csv"), rows)
    assert "file's times are seconds (the default, as line 2's time is not an epoch number)" in (
        error_of(path, interval="1m")
    )


def test_time_unit_reads_times_the_magnitude_rule_would_not(tmp_path):
    rows = ["63072000000,10,11,9,10,1", "63072060000,10,11,9,10,1"]  # 1972-01-01 in ms
    path = write_csv(str(tmp_path / "X.csv"), rows)
    bars, feed = read(path, time_unit="ms")
    assert [b.ts_open for b in bars] == [utc(1972, 1, 1), utc(1972, 1, 1, 0, 1)]
    assert (bars[0].interval, feed.statistics().time_unit) == ("1m", "ms")
    assert "in seconds is after 2262-04-11" in error_of(path)


def test_epoch_times_past_2262_are_a_row_error_not_an_overflow(tmp_path):
    path = write_csv(str(tmp_path / "X.csv"), [f"{T0 * 1_000},10,11,9,10,1"])
    assert error_of(path, interval="1m", time_unit="s").endswith(
        f"X.csv:2: time '{T0 * 1_000}' in seconds (the unit given with --time-unit / time_unit=) "
        "is after 2262-04-11, the last time bar files can hold"
    )


def test_a_bad_zone_or_unit_is_a_config_error_at_once(tmp_path):
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Olympus': give an IANA name"):
        BarFileFeed(tmp_path / "X.csv", tz="Mars/Olympus")
    with pytest.raises(ConfigError, match="time unit 'sec' is not one of s, ms, us, ns"):
        BarFileFeed(tmp_path / "X.csv", time_unit="sec")


# -- order ------------------------------------------------------------------------------------


@pytest.mark.parametrize("options", [{}, {"interval": "1m"}, {"skip_bad_rows": True}])
def test_a_file_sorted_newest_first_is_named_as_such(tmp_path, options):
    path = write_csv(str(tmp_path / "X.csv"), [f"{T0 - 60 * i},10,11,9,10,1" for i in range(100)])
    assert error_of(path, **options) == (
        f"{path}:3: rows are sorted newest-first (time decreases from line 2 on); "
        "sort the file oldest-first"
    )


def test_a_newest_first_file_with_symbols_is_named_from_its_first_decrease(tmp_path):
    rows = ["A,2024-01-03,1,1,1,1,1", "B,2024-01-03,1,1,1,1,1", "A,2024-01-02,1,1,1,1,1"]
    path = write_csv(str(tmp_path / "X.csv"), rows, header="symbol,date,open,high,low,close,vol")
    assert error_of(path, tz="UTC").endswith(
        "X.csv:4: rows are sorted newest-first (time decreases from line 2 on); "
        "sort the file oldest-first"
    )


def test_one_row_back_in_an_oldest_first_file_is_time_going_backwards(tmp_path):
    rows = [f"{T0 + 60},10,11,9,10,1", f"{T0},10,11,9,10,1", f"{T0 + 120},10,11,9,10,1"]
    path = write_csv(str(tmp_path / "X.csv"), rows)
    assert error_of(path, interval="1m").endswith("X.csv:3: time goes backwards")
