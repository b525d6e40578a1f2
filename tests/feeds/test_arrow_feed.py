"""ArrowFeed reads bars as people hold them (pandas and polars frames, pyarrow tables, Parquet
and Feather files, Hive-partitioned directories) by the bar file's rules, and a run over any of
them is the run over the CSV of the same bars."""

from __future__ import annotations

import datetime as dt
import itertools
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
import trio
from factories import bars_table, collect, write_csv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framework import (
    BarFileError,
    BarFileFeed,
    BarTableError,
    ConfigError,
    RunResult,
    backtest,
    feeds_for,
)
from framework.feeds import REPLAY_BATCH_SIZE, ArrowFeed, _arrow_feed
from framework.feeds._arrow_source import hive_partition
from framework.feeds._bar_table import BAR_SCHEMA, bars_to_table
from framework.testing import Backtester
from strategies.sma_cross import SmaCross

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "data"
SYMBOLS = ("AAPL", "MSFT")
T0 = 1_704_205_800  # 2024-01-02T14:30:00Z
NS = 10**9


def example(symbol: str) -> pa.Table:
    """examples/data/SYMBOL.csv as pyarrow reads it: int64 times, float prices."""
    return pacsv.read_csv(EXAMPLES / f"{symbol}.csv")


def long_table() -> pa.Table:
    """Both symbols in one table with a symbol column, oldest first, AAPL first at a time (the
    order the engine gives two files at the same time)."""
    parts = [
        example(s).append_column("symbol", pa.array([s] * example(s).num_rows)) for s in SYMBOLS
    ]
    table = pa.concat_tables(parts)
    order = pc.sort_indices(table, sort_keys=[("time", "ascending")])
    return table.take(order)  # sort_indices is stable: AAPL's rows stay first at a time


def read(source: Any, **options: Any) -> tuple[list[Any], ArrowFeed]:
    feed = ArrowFeed(source, **options)
    return trio.run(collect, feed), feed


def run(data: Any, **options: Any) -> RunResult:
    return backtest(SmaCross(), data, **options)


def assert_same_run(result: RunResult, expected: RunResult) -> None:
    assert result.bars == expected.bars == 20_000
    assert result.fills == expected.fills
    assert result.trades == expected.trades
    assert result.final_equity == expected.final_equity
    assert list(result.equity) == list(expected.equity)
    assert result.stats == expected.stats


@pytest.fixture(scope="module")
def csv_run() -> RunResult:
    return run([EXAMPLES / f"{s}.csv" for s in SYMBOLS])


# -- the same bars in every form: the same run -----------------------------------------------


def pandas_frames(tmp_path: Path) -> Any:
    pd = pytest.importorskip("pandas")
    return {s: pd.read_csv(EXAMPLES / f"{s}.csv") for s in SYMBOLS}


def pandas_long_frame(tmp_path: Path) -> Any:
    pytest.importorskip("pandas")
    frame = long_table().to_pandas()
    assert list(frame.columns) == ["time", "open", "high", "low", "close", "volume", "symbol"]
    return frame


def pandas_datetime_index(tmp_path: Path) -> Any:
    pd = pytest.importorskip("pandas")
    frames = {}
    for s in SYMBOLS:
        frame = pd.read_csv(EXAMPLES / f"{s}.csv")
        frame.index = pd.to_datetime(frame.pop("time"), unit="s", utc=True)
        frame.index.name = None  # an unnamed DatetimeIndex is the time
        frames[s] = frame
    return frames


def polars_frames(tmp_path: Path) -> Any:
    pl = pytest.importorskip("polars")
    return {s: pl.read_csv(EXAMPLES / f"{s}.csv") for s in SYMBOLS}


def polars_long_frame(tmp_path: Path) -> Any:
    pl = pytest.importorskip("polars")
    return pl.from_arrow(long_table())


def zoned_tables(tmp_path: Path) -> Any:
    tables = {}
    for s in SYMBOLS:
        table = example(s)
        millis = pc.multiply(table["time"], 1000)
        times = millis.cast(pa.timestamp("ms", "Asia/Tokyo"))
        tables[s] = table.set_column(0, "Timestamp", times)
    return tables


def record_batch_readers(tmp_path: Path) -> Any:
    return {
        s: pa.RecordBatchReader.from_batches(
            example(s).schema, example(s).to_batches(max_chunksize=777)
        )
        for s in SYMBOLS
    }


def parquet_files(tmp_path: Path) -> Any:
    paths = []
    for s in SYMBOLS:
        path = tmp_path / f"{s}.parquet"
        pq.write_table(example(s), path, row_group_size=3_000)  # four row groups
        assert pq.ParquetFile(path).num_row_groups == 4
        assert pq.read_table(path).equals(example(s))
        paths.append(path)
    return paths


def feather_files(tmp_path: Path) -> Any:
    paths = []
    for s in SYMBOLS:
        path = tmp_path / f"{s}.feather"
        feather.write_feather(example(s), path, chunksize=1_000)
        assert feather.read_table(path).equals(example(s))
        paths.append(path)
    return paths


def arrow_stream_files(tmp_path: Path) -> Any:
    paths = []
    for s in SYMBOLS:
        path = tmp_path / f"{s}.arrow"
        with pa.ipc.new_stream(path, example(s).schema) as writer:  # the stream format
            writer.write_table(example(s), max_chunksize=4_000)
        paths.append(path)
    return paths


def hive_directory(tmp_path: Path) -> Any:
    root = tmp_path / "bars"
    table = long_table()
    ds.write_dataset(
        table,
        root,
        format="parquet",
        partitioning=["symbol"],
        partitioning_flavor="hive",
        max_rows_per_group=2_500,
    )
    assert sorted(p.parent.name for p in root.rglob("*.parquet")) == [
        "symbol=AAPL",
        "symbol=MSFT",
    ]
    back = ds.dataset(root, partitioning="hive").to_table()
    for s in SYMBOLS:
        rows = back.filter(pc.field("symbol") == s).drop(["symbol"])
        assert rows.cast(example(s).schema).equals(example(s))
    return root


def pandas_hive_directory(tmp_path: Path) -> Any:
    pytest.importorskip("pandas")
    root = tmp_path / "frames"
    long_table().to_pandas().to_parquet(root, partition_cols=["symbol"])
    return root


FORMS = [
    pandas_frames,
    pandas_long_frame,
    pandas_datetime_index,
    polars_frames,
    polars_long_frame,
    zoned_tables,
    record_batch_readers,
    parquet_files,
    feather_files,
    arrow_stream_files,
    hive_directory,
    pandas_hive_directory,
]


@pytest.mark.parametrize("form", FORMS, ids=lambda form: form.__name__)
def test_every_form_of_the_same_bars_gives_the_run_of_the_csv_files(tmp_path, csv_run, form):
    assert_same_run(run(form(tmp_path)), csv_run)


def test_the_test_kit_runs_over_frames_and_tables(csv_run):
    backtester = Backtester()
    strategy = SmaCross()
    result = backtester(strategy, {s: example(s) for s in SYMBOLS})
    assert_same_run(result, csv_run)
    assert len(backtester.seen(strategy).bars) == 20_000
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(EXAMPLES / "AAPL.csv")
    alone = backtester(SmaCross(), frame, symbol="AAPL")
    assert alone.fills == run(EXAMPLES / "AAPL.csv").fills


def test_a_feed_sends_the_bars_the_bar_file_feed_sends(tmp_path):
    (path,) = parquet_files(tmp_path)[:1]
    bars, feed = read(path)
    expected = trio.run(collect, BarFileFeed(EXAMPLES / "AAPL.csv"))
    assert bars == expected
    assert feed.statistics().bars == 10_000
    assert feed.statistics().time_unit == "s"
    assert feed.progress() == (10_000, 10_000)
    assert bars_to_table(bars).schema == BAR_SCHEMA


def test_a_bar_table_reads_back_as_the_same_bars(tmp_path):
    bars, _ = read(example("AAPL"), symbol="AAPL")
    table = bars_to_table(bars)
    path = tmp_path / "bars.parquet"
    pq.write_table(table, path)
    again, feed = read(path)
    assert again == bars
    assert feed.statistics().ignored_columns == ()


async def test_parquet_is_read_a_chunk_at_a_time(tmp_path):
    table = example("AAPL")
    path = tmp_path / "AAPL.parquet"
    pq.write_table(table, path, row_group_size=1_000)
    feed = ArrowFeed(path)
    send, receive = trio.open_memory_channel[Any](0)
    with mock.patch.object(_arrow_feed, "CHUNK_ROWS", 2_000):
        async with trio.open_nursery() as nursery:
            await nursery.start(feed.run, send)
            async with receive:
                first = await receive.receive()
                assert len(first) == REPLAY_BATCH_SIZE
                done, total = feed.progress()
                # Two row groups of ten make the first 1024 bars; the feed may have read a
                # third for the next batch, which waits on the unbuffered channel.
                assert done <= 3_000
                assert total == 10_000
                async for _ in receive:
                    pass
    assert feed.progress() == (10_000, 10_000)


async def test_batches_are_full_but_the_last_whatever_rows_are_skipped():
    table = example("AAPL")
    closes = table["close"].to_pylist()
    for row in range(5, 10_000, 997):
        closes[row] = float("nan")  # chunks of 4096 rows give odd runs of bars
    feed = ArrowFeed(table.set_column(4, "close", pa.array(closes)), symbol="A", skip_bad_rows=True)
    send, receive = trio.open_memory_channel[Any](100)
    sizes = []
    async with trio.open_nursery() as nursery:
        await nursery.start(feed.run, send)
        async with receive:
            async for batch in receive:
                sizes.append(len(batch))
    kept = 10_000 - feed.statistics().skipped
    assert sizes == [REPLAY_BATCH_SIZE] * (kept // REPLAY_BATCH_SIZE) + [kept % REPLAY_BATCH_SIZE]


# -- columns ----------------------------------------------------------------------------------


def test_names_and_aliases_match_in_any_case_and_extra_columns_are_reported(caplog):
    table = pa.table(
        {
            "Date": [T0, T0 + 60],
            "Adj Close": [1.0, 1.0],
            "OPEN": [10.0, 10.0],
            "High": [11, 11],  # integers are numbers too
            "low": pa.array([9.0, 9.0], pa.float32()),
            "Close": pa.array(["10.5", "10.25"]),  # text read as a bar file reads it
            "Vol": pa.array([100, 200], pa.uint32()),
            "Symbol": pa.array(["X", "Y"]).dictionary_encode(),
        }
    )
    bars, feed = read(table)
    assert [(b.symbol, b.ts_open, b.high, b.close, b.volume) for b in bars] == [
        ("X", T0 * NS, 11.0, 10.5, 100.0),
        ("Y", (T0 + 60) * NS, 11.0, 10.25, 200.0),
    ]
    assert feed.statistics().ignored_columns == ("Adj Close",)
    assert "Table: ignoring columns that are not part of a bar: Adj Close" in caplog.text


@pytest.mark.parametrize(
    ("time", "options", "expected"),
    [
        (pa.array([T0, T0 + 60]), {}, T0),
        (pa.array([T0 * 1000, (T0 + 60) * 1000]), {}, T0),  # ms by magnitude
        (pa.array([T0 * 10**6, (T0 + 60) * 10**6], pa.uint64()), {}, T0),
        (pa.array([T0 * NS, (T0 + 60) * NS]), {}, T0),
        (pa.array([T0 * 1000, (T0 + 60) * 1000]), {"time_unit": "ms"}, T0),
        (pa.array([T0 + 0.25, T0 + 60.25]), {}, T0 + 0.25),
        (pa.array([T0, T0 + 60], pa.timestamp("s", "UTC")), {}, T0),
        (pa.array([T0 * NS, (T0 + 60) * NS], pa.timestamp("ns", "America/New_York")), {}, T0),
        (pa.array([T0 * 1000, (T0 + 60) * 1000], pa.timestamp("ms")), {"tz": "UTC"}, T0),
        # 09:30 in New York is 14:30 UTC in January
        (
            pa.array([dt.datetime(2024, 1, 2, 9, 30), dt.datetime(2024, 1, 2, 9, 31)]),
            {"tz": "America/New_York"},
            T0,
        ),
        (pa.array(["2024-01-02T14:30:00Z", "2024-01-02T14:31:00Z"]), {}, T0),
        (pa.array(["2024-01-02 09:30:00", "2024-01-02 09:31:00"]), {"tz": "America/New_York"}, T0),
    ],
    ids=lambda v: str(getattr(v, "type", v)),
)
def test_every_time_type_reads_to_the_bar_file_times(time, options, expected):
    (first, second), _ = read(bars_table(2, time=time), symbol="X", **options)
    assert first.ts_open == T0 * NS + round((expected - T0) * NS)
    assert first.interval == "1m"
    assert second.ts_open - first.ts_open == 60 * NS


def test_dates_are_midnights_of_the_zone_and_the_bar_size_is_a_day():
    days = pa.array([dt.date(2024, 3, 8), dt.date(2024, 3, 11), dt.date(2024, 3, 12)])
    bars, _ = read(bars_table(3, time=days), symbol="X", tz="America/New_York")
    assert [b.interval for b in bars] == ["1D"] * 3
    # New York moves to daylight time on 2024-03-10: midnight is 05:00, then 04:00 UTC.
    assert [dt.datetime.fromtimestamp(b.ts_open / NS, dt.UTC).hour for b in bars] == [5, 4, 4]


def test_naive_timestamps_in_a_zone_match_naive_text_in_a_bar_file(tmp_path):
    start = dt.datetime(2021, 11, 6, 22)  # through the night New York sets clocks back
    walls = [start + dt.timedelta(minutes=30 * i) for i in range(12) if i != 7]
    path = write_csv(
        str(tmp_path / "X.csv"), [f"{w:%Y-%m-%d %H:%M:%S},10,11,9,10,1" for w in walls]
    )
    expected = trio.run(collect, BarFileFeed(path, tz="America/New_York", interval="30m"))
    table = bars_table(len(walls), time=pa.array(walls, pa.timestamp("us")))
    bars, _ = read(table, symbol="X", tz="America/New_York", interval="30m")
    assert [b.ts_open for b in bars] == [b.ts_open for b in expected]


def test_a_pandas_index_counts_as_the_time_only_when_it_holds_times():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(bars_table(3).to_pydict())
    frame.index = pd.DatetimeIndex(
        pd.to_datetime(frame.pop("time"), unit="s", utc=True), name="Date"
    )
    bars, feed = read(frame, symbol="X")
    assert [b.ts_open for b in bars] == [(T0 + 60 * i) * NS for i in range(3)]
    filtered = pd.DataFrame(bars_table(4).to_pydict()).iloc[1:]  # an index of row numbers
    bars, feed = read(filtered, symbol="X")
    assert [b.ts_open for b in bars] == [(T0 + 60 * i) * NS for i in range(1, 4)]
    assert feed.statistics().ignored_columns == ()


def test_an_interval_column_or_folder_gives_the_bar_size(tmp_path):
    table = bars_table(3, interval=["5m"] * 3)
    bars, feed = read(table, symbol="X")
    assert [(b.interval, b.ts_event - b.ts_open) for b in bars] == [("5m", 300 * NS)] * 3
    assert feed.statistics().ignored_columns == ()
    folder = tmp_path / "symbol=X" / "interval=1h"
    folder.mkdir(parents=True)
    pq.write_table(bars_table(2), folder / "part-0.parquet")
    bars, _ = read(tmp_path)
    assert [(b.symbol, b.interval) for b in bars] == [("X", "1h")] * 2


def test_the_symbol_comes_from_the_column_folder_option_or_file_name(tmp_path):
    pq.write_table(bars_table(2), tmp_path / "ABC.parquet")
    assert {b.symbol for b in read(tmp_path / "ABC.parquet")[0]} == {"ABC"}
    assert {b.symbol for b in read(tmp_path / "ABC.parquet", symbol="Z")[0]} == {"Z"}
    with_column = bars_table(2, symbol=[" Q ", "Q"])
    assert {b.symbol for b in read(with_column, symbol="Z")[0]} == {"Q"}
    folder = tmp_path / "hive" / "symbol=NASDAQ%3AAAPL"
    folder.mkdir(parents=True)
    pq.write_table(bars_table(2), folder / "part-0.parquet")
    assert {b.symbol for b in read(tmp_path / "hive")[0]} == {"NASDAQ:AAPL"}
    message = 'Table has no symbol column: name the symbol with symbol="AAPL"'
    with pytest.RaisesGroup(pytest.RaisesExc(ConfigError, match=message)):
        trio.run(collect, ArrowFeed(bars_table(2)))


def test_hive_folders_are_read_as_pyarrow_dataset_reads_them(tmp_path):
    for name in ["symbol=NASDAQ%3AAAPL", "interval=1m", "year=2024", "plain", "a=b=c"]:
        (tmp_path / name).mkdir()
        pq.write_table(pa.table({"x": [1]}), tmp_path / name / "part.parquet")
    for path in sorted(tmp_path.rglob("*.parquet")):
        expected = ds.dataset(path, partitioning="hive", partition_base_dir=str(tmp_path))
        fragment = next(iter(expected.get_fragments()))
        keys = ds.get_partition_keys(fragment.partition_expression)
        assert hive_partition(path.relative_to(tmp_path)) == {k: str(v) for k, v in keys.items()}


def test_a_directory_merges_its_files_by_time_whatever_their_names(tmp_path):
    table = example("AAPL")
    # Two parts of one series, the later one first in name order, and another symbol.
    pq.write_table(table.slice(5_000), tmp_path / "a-late.parquet")
    pq.write_table(table.slice(0, 5_000), tmp_path / "b-early.parquet")
    (tmp_path / "symbol=MSFT").mkdir()
    feather.write_feather(example("MSFT"), tmp_path / "symbol=MSFT" / "c.feather")
    (tmp_path / "README.txt").write_text("not data")
    bars, _ = read(tmp_path, symbol="AAPL")
    assert len(bars) == 20_000
    assert all(a.ts_event <= b.ts_event for a, b in itertools.pairwise(bars))
    aapl = [b for b in bars if b.symbol == "AAPL"]
    assert aapl == trio.run(collect, BarFileFeed(EXAMPLES / "AAPL.csv"))


def test_feeds_for_a_directory_reads_its_csv_files_beside_its_arrow_files(tmp_path):
    (tmp_path / "symbol=AAPL").mkdir()
    pq.write_table(example("AAPL"), tmp_path / "symbol=AAPL" / "part-0.parquet")
    (tmp_path / "symbol=MSFT").mkdir()
    (tmp_path / "symbol=MSFT" / "bars.csv").write_bytes((EXAMPLES / "MSFT.csv").read_bytes())
    feeds = feeds_for(tmp_path)
    assert [type(f).__name__ for f in feeds] == ["ArrowFeed", "BarFileFeed"]
    result = run(tmp_path)
    assert result.bars == 20_000
    assert {f.symbol for f in result.fills} == {"AAPL", "MSFT"}


def test_a_record_batch_reader_is_read_once_and_says_so():
    reader = pa.RecordBatchReader.from_batches(bars_table(2).schema, bars_table(2).to_batches())
    feed = ArrowFeed(reader, symbol="X")
    assert len(trio.run(collect, feed)) == 2
    with pytest.RaisesGroup(pytest.RaisesExc(ConfigError, match="can be read once")):
        trio.run(collect, feed)


def test_what_is_no_data_is_a_config_error_naming_what_is_accepted(tmp_path):
    with pytest.raises(ConfigError, match="cannot read bars from a dict_keys: give a pandas"):
        ArrowFeed({}.keys())
    with pytest.raises(ConfigError, match="polars LazyFrame holds no data yet"):
        pl = pytest.importorskip("polars")
        ArrowFeed(pl.DataFrame({"a": [1]}).lazy())
    with pytest.raises(
        ConfigError, match=r"unsupported data file .*x\.txt: expected \.csv, \.parquet"
    ):
        (tmp_path / "x.txt").write_text("")
        feeds_for(tmp_path / "x.txt")
    with pytest.raises(ConfigError, match=r"symbol= does not apply to \{symbol: data\}"):
        feeds_for({"A": bars_table()}, symbol="B")
    (tmp_path / "empty").mkdir()
    with pytest.RaisesGroup(pytest.RaisesExc(ConfigError, match=r"no \.parquet, \.feather")):
        trio.run(collect, ArrowFeed(tmp_path / "empty"))


# -- the same rules as bar files ---------------------------------------------------------------

#: Rows a table can hold that a bar file reads, good and bad: (time, open, high, low, close,
#: volume) as text, ``{t}`` the row's time in seconds.
ROW_KINDS = {
    "good": ("{t}", "10.5", "11", "9.5", "10", "100"),
    "spaces": (" {t} ", " 10.5", "11 ", "9.5", "10", "\t5 "),
    "exponent": ("{t}", "1.05e1", "11", "9.5", "10", "1e3"),
    "decimal_time": ("{t}.5", "10.5", "11", "9.5", "10", "1"),
    "iso_time": ("{iso}", "10.5", "11", "9.5", "10", "1"),
    "nan": ("{t}", "10.5", "11", "9.5", "nan", "1"),
    "inf": ("{t}", "10.5", "inf", "9.5", "10", "1"),
    "negative": ("{t}", "10.5", "11", "-9.5", "10", "1"),
    "high_below_low": ("{t}", "10.5", "9", "11", "10", "1"),
    "word": ("{t}", "10.5", "11", "9.5", "10", "many"),
    "empty": ("{t}", "", "11", "9.5", "10", "1"),
    "backwards": ("{back}", "10.5", "11", "9.5", "10", "1"),
    "repeat": ("{repeat}", "10.5", "11", "9.5", "10", "1"),
    "other_unit": ("{t}000", "10.5", "11", "9.5", "10", "1"),
    "naive_time": ("{naive}", "10.5", "11", "9.5", "10", "1"),
    "skipped_time": ("2024-03-10 02:30:00", "10.5", "11", "9.5", "10", "1"),
    "past_2262": ("99999999999", "10.5", "11", "9.5", "10", "1"),
    "negative_time": ("-{t}", "10.5", "11", "9.5", "10", "1"),
}


@st.composite
def text_rows(draw: st.DrawFn) -> list[tuple[str, ...]]:
    kinds = draw(st.lists(st.sampled_from(sorted(ROW_KINDS)), min_size=1, max_size=30))
    t = T0
    rows = []
    for kind in kinds:
        moment = dt.datetime.fromtimestamp(t, dt.UTC)
        fields = {
            "t": t,
            "iso": moment.isoformat(),
            "naive": f"{moment:%Y-%m-%d %H:%M:%S}",
            "back": t - 120,
            "repeat": t - 60,
        }
        rows.append(tuple(field.format(**fields) for field in ROW_KINDS[kind]))
        t += 60
    return rows


def outcome(read_bars: Any) -> tuple[Any, ...]:
    """(bars, skipped by reason) of a read, or the row (from 0) where it stopped; the reasons'
    wording differs where a table knows more (the column)."""
    try:
        bars, feed = read_bars()
    except ExceptionGroup as group:  # from the nursery collect() opens
        (error,) = group.exceptions
        if isinstance(error, BarFileError):
            return ("error", error.line - 2)
        assert isinstance(error, BarTableError)
        # What concerns the whole source (no bar size to detect) a bar file puts on line 2.
        return ("error", 0 if error.row is None else error.row)
    return (bars, feed.statistics().skipped_by_reason)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=text_rows(),
    chunk=st.integers(min_value=1, max_value=5),
    skip=st.booleans(),
    interval=st.sampled_from(["1m", None]),
    tz=st.sampled_from([None, "America/New_York"]),
)
def test_a_table_of_text_reads_as_the_bar_file_of_that_text(
    tmp_path_factory, rows, chunk, skip, interval, tz
):
    path = tmp_path_factory.mktemp("files") / "X.csv"
    write_csv(str(path), [",".join(row) for row in rows])
    names = ["time", "open", "high", "low", "close", "volume"]
    table = pa.table({n: pa.array([row[i] for row in rows]) for i, n in enumerate(names)})
    options = {"skip_bad_rows": skip, "interval": interval, "tz": tz}

    def from_file() -> Any:
        feed = BarFileFeed(path, **options)
        return trio.run(collect, feed), feed

    with (
        mock.patch.object(_arrow_feed, "CHUNK_ROWS", chunk),
        mock.patch.object(_arrow_feed, "MIN_CHUNK_ROWS", chunk),
    ):
        assert outcome(lambda: read(table, symbol="X", **options)) == outcome(from_file)


@settings(max_examples=100, deadline=None)
@given(
    closes=st.lists(
        st.floats(min_value=0.01, max_value=1e6, allow_nan=False), min_size=2, max_size=40
    ),
    chunk=st.integers(min_value=1, max_value=7),
    symbols=st.integers(min_value=1, max_value=3),
)
def test_chunks_of_any_size_give_the_same_bars(closes, chunk, symbols):
    n = len(closes)
    table = pa.table(
        {
            "time": [T0 + 60 * (i // symbols) for i in range(n)],
            "symbol": [f"S{i % symbols}" for i in range(n)],
            "open": closes,
            "high": [c * 1.01 for c in closes],
            "low": [c * 0.99 for c in closes],
            "close": closes,
            "volume": [1.0] * n,
        }
    )
    whole, _ = read(table, interval="1m")
    with (
        mock.patch.object(_arrow_feed, "CHUNK_ROWS", chunk),
        mock.patch.object(_arrow_feed, "MIN_CHUNK_ROWS", chunk),
    ):
        assert read(table, interval="1m")[0] == whole
    assert [(b.symbol, b.close) for b in whole] == list(
        zip(table["symbol"].to_pylist(), closes, strict=True)
    )


# -- imports ------------------------------------------------------------------------------------


def loaded_after(code: str) -> list[str]:
    probe = (
        f"{code}\nprint(','.join(m for m in ('pandas', 'polars', 'pyarrow') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import sys\n" + probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [name for name in out.strip().split(",") if name]


def test_import_and_a_csv_backtest_load_neither_pandas_nor_polars():
    assert loaded_after("import framework, framework.feeds") == []
    loaded = loaded_after(
        "import framework\nfrom strategies.sma_cross import SmaCross\n"
        "framework.backtest(SmaCross(), ['examples/data/AAPL.csv'])"
    )
    assert "pandas" not in loaded
    assert "polars" not in loaded


def test_a_parquet_backtest_loads_neither_pandas_nor_polars(tmp_path):
    path = tmp_path / "AAPL.parquet"
    pq.write_table(example("AAPL"), path)
    loaded = loaded_after(
        "import framework\nfrom strategies.sma_cross import SmaCross\n"
        f"framework.backtest(SmaCross(), [{str(path)!r}])"
    )
    assert "pyarrow" in loaded
    assert "pandas" not in loaded
    assert "polars" not in loaded
