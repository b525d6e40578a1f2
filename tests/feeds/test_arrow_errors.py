"""Bad bars in Arrow form stop the run with one line naming source, row (row group and offset
in Parquet), column and reason, as a bad row of a bar file does; ``skip_bad_rows`` counts them
by reason instead. Nothing is dropped or reordered silently."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
import trio
from factories import bars_table, collect

from framework import BarTableError, ConfigError, DataError, backtest
from framework.cli import main
from framework.feeds import ArrowFeed
from strategies.sma_cross import SmaCross

T0 = 1_704_205_800  # 2024-01-02T14:30:00Z
NS = 10**9


def second(good: Any, bad: Any, n: int = 5) -> list[Any]:
    """A column of ``n`` values, ``bad`` the second (row 1)."""
    return [good, bad] + [good] * (n - 2)


def error_of(source: Any, **options: Any) -> str:
    """The one-line message the run over ``source`` stops with."""
    options.setdefault("symbol", "AAPL")
    with pytest.RaisesGroup(BarTableError) as caught:
        trio.run(collect, ArrowFeed(source, **options))
    (error,) = caught.value.exceptions
    message = str(error)
    assert "\n" not in message
    return message


NEEDED = (
    "(need time, open, high, low, close and volume in any order and case: the time may be named "
    "date, datetime, timestamp or ts, or be an unnamed DataFrame index, the volume vol)"
)

BAD = {
    "text that is no number": (
        {"close": pa.array(second("10.5", "abc"))},
        "row 1, column close: unparsable number 'abc'",
    ),
    "a null": ({"close": second(10.5, None)}, "row 1, column close: no value (null)"),
    "NaN": ({"close": second(10.5, math.nan)}, "row 1, column close: NaN or infinite value (nan)"),
    "infinity": (
        {"volume": second(1.0, math.inf)},
        "row 1, column volume: NaN or infinite value (inf)",
    ),
    "high below low": (
        {"high": second(11.0, 8.0)},
        "row 1: bar AAPL: inconsistent OHLC (open=10.0, high=8.0, low=9.0, close=10.5): "
        "need low <= open, close <= high",
    ),
    "a negative price": (
        {"open": second(10.0, -10.0)},
        "row 1: bar AAPL: open must be a finite positive price, got -10.0",
    ),
    "a time going back": (
        {"time": [T0, T0 + 60, T0 + 30, T0 + 120, T0 + 180]},
        "row 2, column time: time goes backwards",
    ),
    "a repeated bar": (
        {"time": [T0, T0 + 60, T0 + 60, T0 + 120, T0 + 180]},
        "row 2, column time: second bar for AAPL at the same time",
    ),
    "a null time": ({"time": second(T0, None)}, "row 1, column time: no time (null)"),
    "a time before 1970": (
        {"time": pa.array(second(T0, -5), pa.timestamp("s", "UTC"))},
        "row 1, column time: time '1969-12-31T23:59:55+00:00' is before 1970, which bars "
        "cannot hold",
    ),
    "a time of another magnitude": (
        {"time": [T0 * 1000, T0 + 60] + [(T0 + 60 * i) * 1000 for i in range(2, 5)]},
        "row 1, column time: time '1704205860' reads as seconds, but this file's times are "
        "milliseconds (by the magnitude of row 0's time); name the unit with --time-unit "
        "(time_unit= in Python)",
    ),
    "an empty symbol": (
        {"symbol": second("AAPL", "  ")},
        "row 1, column symbol: empty symbol",
    ),
    "a null symbol": ({"symbol": second("AAPL", None)}, "row 1, column symbol: no symbol (null)"),
}


@pytest.mark.parametrize(("columns", "message"), BAD.values(), ids=BAD.keys())
def test_a_bad_row_of_a_table_is_one_line_naming_row_column_and_reason(columns, message):
    assert error_of(bars_table(**columns)) == f"Table: {message}"


@pytest.mark.parametrize(("columns", "message"), BAD.values(), ids=BAD.keys())
def test_a_bad_row_of_a_parquet_file_names_its_row_group_and_offset(tmp_path, columns, message):
    path = tmp_path / "AAPL.parquet"
    pq.write_table(bars_table(**columns), path, row_group_size=2)
    row = int(message.split()[1].rstrip(",:"))
    located = message.replace(f"row {row}", f"row {row} (row group {row // 2}, offset {row % 2})")
    assert error_of(path) == f"{path}: {located}"


def test_a_bad_row_deep_in_a_parquet_file_is_named_by_row_group_and_offset(tmp_path):
    n = 10_000
    closes = [10.5] * n
    closes[7_777] = math.nan
    path = tmp_path / "AAPL.parquet"
    pq.write_table(bars_table(n, close=closes), path, row_group_size=3_000)
    assert error_of(path) == (
        f"{path}: row 7777 (row group 2, offset 1777), column close: NaN or infinite value (nan)"
    )


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (
            {"close": [True] * 5},
            "Table: column close: holds bool values, not numbers",
        ),
        (
            {"time": [[1]] * 5},
            "Table: column time: holds list<item: int64> values, not times: epoch numbers, "
            "timestamps, dates or text",
        ),
        (
            {"symbol": [1.5] * 5},
            "Table: column symbol: holds double values, not symbols (text)",
        ),
        (
            {"time": pa.array([dt.datetime(2024, 1, 2, 9, 30)] * 5, pa.timestamp("us"))},
            "Table: column time: holds times without a zone (timestamp[us]): name the zone of the "
            'data\'s times with --tz ZONE (tz="ZONE" in Python), e.g. UTC or America/New_York, '
            "or store times with a zone (pandas: .dt.tz_localize(ZONE))",
        ),
        (
            {"time": pa.array([dt.date(2024, 1, 2)] * 5)},
            "Table: column time: holds dates (date32[day]): name the zone of the data's times "
            'with --tz ZONE (tz="ZONE" in Python), e.g. UTC or America/New_York, or store times '
            "with a zone (pandas: .dt.tz_localize(ZONE))",
        ),
        (
            {"Date": [T0] * 5},
            "Table: the table has 2 time columns (time, Date); keep one",
        ),
    ],
    ids=["bool", "list", "symbol", "naive", "dates", "two times"],
)
def test_a_column_that_cannot_hold_its_part_refuses_the_table(columns, message):
    with_skipping = error_of(bars_table(**columns), skip_bad_rows=True)
    assert with_skipping == message


def test_a_missing_column_is_named_with_the_columns_found():
    table = bars_table().drop_columns(["volume"])
    assert error_of(table) == (
        f"Table: the table lacks volume: found columns time, open, high, low, close {NEEDED}; "
        "data without volume needs a volume column added (0 if unknown)"
    )


def test_naive_text_times_without_a_zone_refuse_the_table_even_when_skipping():
    times = [f"2024-01-02 09:3{i}:00" for i in range(5)]
    message = error_of(bars_table(time=times), skip_bad_rows=True)
    assert message.startswith(
        "Table: row 0, column time: time '2024-01-02 09:30:00' has no zone: name the zone of "
        "the file's times with --tz ZONE"
    )


def test_a_time_the_clocks_skip_is_a_bad_row():
    walls = [dt.datetime(2024, 3, 10, 1, 0) + dt.timedelta(minutes=30 * i) for i in range(5)]
    table = bars_table(time=pa.array(walls, pa.timestamp("s")))
    assert error_of(table, tz="America/New_York", interval="30m") == (
        "Table: row 2, column time: time '2024-03-10T02:00:00' does not exist in "
        "America/New_York (clocks skip it)"
    )


def test_newest_first_is_named_as_such_whatever_the_options():
    table = bars_table(time=[T0 + 60 * (4 - i) for i in range(5)])
    expected = (
        "Table: row 1, column time: rows are sorted newest-first (time decreases from row 0 "
        "on); sort them oldest-first"
    )
    assert error_of(table) == expected
    assert error_of(table, skip_bad_rows=True, interval="1m") == expected


def test_a_dataframe_is_named_in_messages():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(bars_table(close=second(10.5, math.nan)).to_pydict())
    assert error_of(frame) == (
        "DataFrame: row 1, column close: no value (null: NaN, None or NaT in pandas)"
    )
    mixed = pd.DataFrame(bars_table().to_pydict())
    mixed["close"] = pd.Series([10.5, "abc", 10.5, None, 10.5], dtype=object)
    assert error_of(mixed) == "DataFrame: row 1, column close: unparsable number 'abc'"
    with pytest.raises(BarTableError, match=r"^DataFrame\['X'\]: row 1, column close: no v"):
        backtest(SmaCross(), {"X": frame})


def test_polars_frames_are_named_in_messages():
    pl = pytest.importorskip("polars")
    frame = pl.from_arrow(bars_table(close=second(10.5, None)))
    assert error_of(frame) == "DataFrame: row 1, column close: no value (null)"


# -- damaged files ----------------------------------------------------------------------------


def test_a_truncated_parquet_file_is_named_not_a_pyarrow_traceback(tmp_path):
    path = tmp_path / "AAPL.parquet"
    pq.write_table(bars_table(1_000), path)
    data = path.read_bytes()
    assert pq.read_table(path).num_rows == 1_000
    path.write_bytes(data[: len(data) // 2])
    assert error_of(path) == (
        f"{path}: not a readable Parquet file (Parquet magic bytes not found in footer. Either "
        "the file is corrupted or this is not a parquet file.)"
    )
    with pytest.raises(DataError, match="not a readable Parquet file"):
        backtest(SmaCross(), path)


def test_damaged_pages_name_the_file_and_row_group(tmp_path):
    path = tmp_path / "AAPL.parquet"
    pq.write_table(bars_table(3_000), path, row_group_size=1_000, compression="snappy")
    data = bytearray(path.read_bytes())
    start = pq.ParquetFile(path).metadata.row_group(1).column(3).data_page_offset
    data[start + 20 : start + 200] = b"\xff" * 180
    path.write_bytes(bytes(data))
    message = error_of(path)
    assert message.startswith(f"{path}: row group 1 (rows 1000..1999) cannot be read: ")
    assert message.endswith("; the file is damaged")


def test_a_truncated_feather_file_is_named(tmp_path):
    path = tmp_path / "AAPL.feather"
    feather.write_feather(bars_table(1_000), path)
    path.write_bytes(path.read_bytes()[:200])
    message = error_of(path)
    assert message.startswith(f"{path}: not a readable Feather/Arrow IPC file (")
    assert message.endswith(
        "Feather V1 files are not read: rewrite with pyarrow.feather.write_feather"
    )


def test_the_command_line_shows_a_bad_parquet_row_in_one_line(tmp_path, capsys):
    path = tmp_path / "AAPL.parquet"
    pq.write_table(bars_table(50, close=[10.5] * 3 + [math.nan] + [10.5] * 46), path)
    assert main(["backtest", "sma_cross", "--data", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"tradewire: error: {path}: row 3 (row group 0, offset 3), column close: "
        "NaN or infinite value (nan)"
    ]


# -- skipping ---------------------------------------------------------------------------------


def test_skip_bad_rows_counts_every_reason_and_keeps_the_rest_in_order():
    n = 12
    close = [10.5] * n
    close[2] = math.nan
    high = [11.0] * n
    high[4] = 8.0
    times = [T0 + 60 * i for i in range(n)]
    times[6] = times[5]  # a repeat
    times[8] = T0  # back in time
    symbols = ["AAPL"] * n
    symbols[10] = None
    table = bars_table(n, close=close, high=high, time=times, symbol=symbols)
    feed = ArrowFeed(table, skip_bad_rows=True, interval="1m")
    bars = trio.run(collect, feed)
    assert [b.ts_open for b in bars] == [
        times[i] * NS for i in range(n) if i not in (2, 4, 6, 8, 10)
    ]
    stats = feed.statistics()
    assert stats.bars == len(bars) == 7
    assert stats.skipped_by_reason == {
        "non_finite": 1,
        "invalid_bar": 1,
        "duplicate": 1,
        "time_backwards": 1,
        "bad_symbol": 1,
    }
    assert stats.examples[0] == "Table: row 2, column close: NaN or infinite value (nan)"


def test_skipped_rows_reach_the_result_and_the_command_line(tmp_path, capsys):
    n = 200
    close = [10.5 + (i % 7) * 0.1 for i in range(n)]
    close[3] = close[50] = math.nan
    table = bars_table(n, close=close, high=[12.0] * n)
    result = backtest(SmaCross(), {"AAPL": table}, skip_bad_rows=True)
    assert result.bars == n - 2
    assert result.data_issues == {"arrow:Table['AAPL']": {"non_finite": 2}}
    path = tmp_path / "AAPL.parquet"
    pq.write_table(table, path)
    assert main(["backtest", "sma_cross", "--data", str(path), "--skip-bad-rows"]) == 0
    assert "skipped rows   arrow:AAPL.parquet: 2 non_finite" in capsys.readouterr().out


def test_two_files_of_a_directory_holding_one_bar_is_a_duplicate(tmp_path):
    pq.write_table(bars_table(5), tmp_path / "a.parquet")
    pq.write_table(bars_table(3, time=[T0 + 240, T0 + 300, T0 + 360]), tmp_path / "b.parquet")
    assert error_of(tmp_path) == (
        f"{tmp_path / 'b.parquet'}: second bar for AAPL 1m at 2024-01-02T14:34:00Z; "
        f"{tmp_path / 'a.parquet'} holds one too"
    )
    feed = ArrowFeed(tmp_path, symbol="AAPL", skip_bad_rows=True)
    bars = trio.run(collect, feed)
    assert [b.ts_open // NS - T0 for b in bars] == [0, 60, 120, 180, 240, 300, 360]
    assert feed.statistics().skipped_by_reason == {"duplicate": 1}


def test_interval_column_conflicts_are_refused():
    mixed = bars_table(interval=["1m", "1m", "5m", "1m", "1m"])
    assert error_of(mixed) == (
        "Table: column interval: holds bar sizes 1m and 5m: one bar size per file or table "
        "(split it, e.g. into interval=... folders)"
    )
    assert error_of(bars_table(interval=["1m"] * 5), interval="5m") == (
        "Table: column interval: the data say the bar size is 1m, but interval=5m was given"
    )
    assert error_of(bars_table(interval=["1 minute"] * 5)).startswith(
        "Table: column interval: bad interval '1 minute'"
    )
    with pytest.raises(ConfigError, match="fixed bar size"):
        ArrowFeed(bars_table(), interval="1M")
