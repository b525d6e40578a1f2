"""The catalog: layout, writes and their overlap rule, queries by exact span, pruning, errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from factories import MINUTE, T0, bar

from framework import BarTableError, ConfigError, DataError
from framework.catalog import Catalog, CatalogEntry
from framework.feeds._bar_table import BAR_SCHEMA, bars_to_table


def series(n: int, *, symbol: str = "AAPL", first: int = 0, close: float = 100.0) -> list:
    return [bar(first + i, close + (first + i) % 7, symbol=symbol) for i in range(n)]


def times(table: pa.Table) -> list[int]:
    return table["time"].cast(pa.int64()).to_pylist()


def files_of(root: Path) -> list[Path]:
    return sorted(root.rglob("*.parquet"))


# --- layout ------------------------------------------------------------------------------


def test_write_lays_out_a_hive_partition_per_symbol_and_interval(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.write_bars(series(10) + series(10, symbol="MSFT"))
    names = [p.relative_to(tmp_path).as_posix() for p in files_of(tmp_path)]
    assert names == [
        "bars/symbol=AAPL/interval=1m/part-0.parquet",
        "bars/symbol=MSFT/interval=1m/part-0.parquet",
    ]


@pytest.mark.parametrize(
    ("symbol", "directory"),
    [
        ("NASDAQ:AAPL", "symbol=NASDAQ%3AAAPL"),
        ("EUR/USD", "symbol=EUR%2FUSD"),
        ("A=B%C", "symbol=A%3DB%25C"),
        ("BRK.B", "symbol=BRK.B"),
        ("Δ 1", "symbol=%CE%94%201"),
    ],
)
def test_symbols_are_percent_encoded_and_round_trip(tmp_path, symbol, directory):
    catalog = Catalog(tmp_path)
    catalog.write_bars(series(5, symbol=symbol))
    [path] = files_of(tmp_path)
    assert path.parent.parent.name == directory
    assert [e.symbol for e in catalog.entries()] == [symbol]
    assert catalog.bars(symbol)["symbol"].to_pylist() == [symbol] * 5
    # pyarrow's own Hive reading decodes the directory names the same way.
    plain = ds.dataset(tmp_path / "bars", format="parquet", partitioning="hive").to_table()
    assert set(plain["symbol"].to_pylist()) == {symbol}


def test_files_are_sorted_with_row_groups_of_the_set_size_and_time_statistics(tmp_path):
    Catalog(tmp_path, row_group_rows=100).write_bars(series(250))
    [path] = files_of(tmp_path)
    metadata = pq.read_metadata(path)
    assert [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)] == [
        100,
        100,
        50,
    ]
    time_index = BAR_SCHEMA.get_field_index("time")
    for i in range(metadata.num_row_groups):
        stats = metadata.row_group(i).column(time_index).statistics
        assert stats.has_min_max
    assert metadata.row_group(0).sorting_columns[0].column_index == time_index
    table = pq.read_table(path)
    assert table.schema.equals(BAR_SCHEMA)
    assert times(table) == sorted(times(table))


# --- entries -----------------------------------------------------------------------------


def test_entries_give_span_rows_and_files_as_the_files_hold_them(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.write_bars(series(30) + series(12, symbol="MSFT", first=5))
    entries = catalog.entries()
    assert [(e.symbol, e.interval, e.rows) for e in entries] == [
        ("AAPL", "1m", 30),
        ("MSFT", "1m", 12),
    ]
    for entry in entries:
        direct = pa.concat_tables(pq.read_table(p) for p in entry.files)
        assert entry.rows == direct.num_rows
        assert entry.start == pc.min(direct["time"]).cast(pa.int64()).as_py()
        assert entry.end == pc.max(direct["time"]).cast(pa.int64()).as_py() + MINUTE
    assert entries[1] == CatalogEntry(
        symbol="MSFT",
        interval="1m",
        start=T0 + 5 * MINUTE,
        end=T0 + 17 * MINUTE,
        rows=12,
        files=entries[1].files,
    )


def test_an_absent_directory_is_an_empty_catalog_and_is_not_created(tmp_path):
    catalog = Catalog(tmp_path / "nothing")
    assert catalog.entries() == []
    assert not (tmp_path / "nothing").exists()


# --- queries -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, range(0, 20)),
        (0, 20, range(0, 20)),  # start at the first bar, end at the last bar's close
        (5, 9, range(5, 9)),  # both at bar times: start in, end out
        (4.5, 9.5, range(5, 10)),  # between bars
        (-10, 3, range(0, 3)),  # start before the data
        (17, 40, range(17, 20)),  # end after the data
        (19, 20, range(19, 20)),  # just the last bar
        (20, 30, range(0)),  # after the data
        (-30, -10, range(0)),  # before the data
        (None, 1, range(0, 1)),
        (19.5, None, range(0)),
    ],
)
def test_a_query_returns_exactly_the_half_open_span(tmp_path, start, end, expected):
    catalog = Catalog(tmp_path, row_group_rows=4)
    catalog.write_bars(series(20))

    def at(minutes):
        return None if minutes is None else T0 + int(minutes * MINUTE)

    table = catalog.bars(start=at(start), end=at(end))
    assert times(table) == [T0 + i * MINUTE for i in expected]
    assert table.schema.equals(BAR_SCHEMA)
    streamed = catalog.scanner(start=at(start), end=at(end)).to_reader().read_all()
    assert times(streamed) == times(table)


def test_query_bounds_take_datetimes_iso_text_and_dates(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.write_bars(series(20))
    start = dt.datetime(2024, 1, 2, 14, 35, tzinfo=dt.UTC)
    by_datetime = catalog.bars(start=start, end="2024-01-02T09:40:00-05:00")
    assert times(by_datetime) == [T0 + i * MINUTE for i in range(5, 10)]
    assert catalog.bars(start="2024-01-02", end="2024-01-03").num_rows == 20
    with pytest.raises(ConfigError, match="no zone"):
        catalog.bars(start=dt.datetime(2024, 1, 2))
    with pytest.raises(ConfigError, match="offset"):
        catalog.bars(start="2024-01-02T14:30:00")
    with pytest.raises(ConfigError, match="not before end"):
        catalog.bars(start=T0 + MINUTE, end=T0)


def test_a_query_spanning_files_and_symbols_is_merged_in_time_order(tmp_path):
    catalog = Catalog(tmp_path, row_group_rows=3)
    catalog.write_bars(series(10))
    catalog.write_bars(series(10, first=10))
    catalog.write_bars(series(20, symbol="MSFT"))
    table = catalog.bars(start=T0 + 8 * MINUTE, end=T0 + 12 * MINUTE)
    assert list(zip(times(table), table["symbol"].to_pylist(), strict=True)) == [
        (T0 + i * MINUTE, symbol) for i in range(8, 12) for symbol in ("AAPL", "MSFT")
    ]
    only = catalog.bars(["MSFT"], interval="1m", start=T0 + 8 * MINUTE, end=T0 + 12 * MINUTE)
    assert only["symbol"].to_pylist() == ["MSFT"] * 4


def test_a_stream_of_one_partition_is_in_time_order_across_files(tmp_path):
    catalog = Catalog(tmp_path, row_group_rows=7)
    for first in (40, 0, 20):  # written out of order: files are ordered by time, not name
        catalog.write_bars(series(20, first=first))
    reader = catalog.scanner("AAPL").to_reader()
    assert times(reader.read_all()) == [T0 + i * MINUTE for i in range(60)]


def test_unknown_symbols_and_intervals_are_config_errors_naming_what_there_is(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.write_bars(series(3))
    with pytest.raises(ConfigError, match=r"no bars of MSFT \(it has AAPL\)"):
        catalog.bars("MSFT")
    with pytest.raises(ConfigError, match=r"no 5m bars of AAPL \(it has 1m\)"):
        catalog.bars("AAPL", interval="5m")


# --- pruning -----------------------------------------------------------------------------


def test_a_query_reads_only_the_row_groups_its_span_needs(tmp_path):
    catalog = Catalog(tmp_path, row_group_rows=100)
    catalog.write_bars(series(1_000))
    catalog.write_bars(series(1_000, symbol="MSFT"))
    start, end = T0 + 250 * MINUTE, T0 + 420 * MINUTE
    scanner = catalog.scanner("AAPL", start=start, end=end)
    stats = scanner.statistics()
    # 250..419 lies in row groups 2, 3 and 4 of AAPL's ten; MSFT's partition is not opened.
    assert (stats.partitions, stats.files, stats.row_groups) == (1, 1, 3)
    assert stats.row_groups_total == 10
    assert stats.rows_scanned == 300
    assert scanner.to_table().num_rows == 170

    # The same pruning, seen from pyarrow's side of the files.
    dataset = ds.dataset(tmp_path / "bars", format="parquet", partitioning="hive")
    where = (
        (ds.field("symbol") == "AAPL")
        & (ds.field("time") >= pa.scalar(start, BAR_SCHEMA.field("time").type))
        & (ds.field("time") < pa.scalar(end, BAR_SCHEMA.field("time").type))
    )
    [fragment] = dataset.get_fragments(filter=where)
    kept = [rg.row_groups[0].id for rg in fragment.split_by_row_group(where)]
    assert kept == [2, 3, 4]


def test_a_query_outside_every_file_reads_no_row_group(tmp_path):
    catalog = Catalog(tmp_path, row_group_rows=10)
    catalog.write_bars(series(100))
    stats = catalog.scanner(start=T0 + 500 * MINUTE).statistics()
    assert (stats.files, stats.row_groups, stats.row_groups_total) == (0, 0, 10)


# --- the overlap rule --------------------------------------------------------------------


def test_writing_the_same_bars_again_writes_nothing(tmp_path):
    catalog = Catalog(tmp_path)
    first = catalog.write_bars(series(50))
    again = catalog.write_bars(series(50))
    assert (first[0].written, first[0].already_stored) == (50, 0)
    assert (again[0].written, again[0].already_stored, again[0].files) == (0, 50, ())
    assert len(files_of(tmp_path)) == 1
    assert catalog.entries()[0].rows == 50


def test_a_longer_series_adds_only_its_new_bars_in_a_new_file(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.write_bars(series(50))
    [write] = catalog.write_bars(series(80, first=20))
    assert (write.written, write.already_stored) == (50, 30)
    assert (write.start, write.end) == (T0 + 20 * MINUTE, T0 + 100 * MINUTE)
    assert len(write.files) == 1
    assert times(catalog.bars()) == [T0 + i * MINUTE for i in range(100)]


def test_new_bars_around_a_stored_file_go_to_files_on_either_side(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.write_bars(series(10, first=40))
    [write] = catalog.write_bars(series(100))
    assert (write.written, write.already_stored, len(write.files)) == (90, 10, 2)
    spans = [
        (pc.min(pq.read_table(p)["time"]), pc.max(pq.read_table(p)["time"]))
        for p in catalog.entries()[0].files
    ]
    starts = [s.cast(pa.int64()).as_py() for s, _ in spans]
    assert starts == [T0, T0 + 40 * MINUTE, T0 + 50 * MINUTE]
    assert times(catalog.bars()) == [T0 + i * MINUTE for i in range(100)]


def test_a_gap_between_stored_files_can_be_filled(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.write_bars(series(10))
    catalog.write_bars(series(10, first=30))
    [write] = catalog.write_bars(series(20, first=10))
    assert write.written == 20
    assert times(catalog.bars()) == [T0 + i * MINUTE for i in range(40)]


def test_a_changed_bar_is_refused_and_nothing_is_written(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.write_bars(series(10))
    before = files_of(tmp_path)
    changed = series(20)
    changed[4] = bar(4, 999.0)
    with pytest.raises(DataError) as caught:
        catalog.write_bars(series(5, symbol="MSFT") + changed)
    message = str(caught.value)
    assert "\n" not in message
    assert "AAPL 1m 2024-01-02T14:34:00Z: open 999.0 differs from 104.0 stored in" in message
    assert "part-0.parquet" in message
    # Neither MSFT (checked first) nor AAPL's new bars were written.
    assert files_of(tmp_path) == before
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_new_bar_inside_a_stored_span_is_refused(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.write_bars([bar(i, 100.0) for i in (0, 1, 2, 5, 6)])
    with pytest.raises(DataError, match=r"AAPL 1m 2024-01-02T14:33:00Z: not in .*part-0"):
        catalog.write_bars([bar(3, 100.0)])


@pytest.mark.parametrize("row_group_rows", [3, 1_000])
def test_overlap_is_checked_across_every_row_group_of_a_stored_file(tmp_path, row_group_rows):
    catalog = Catalog(tmp_path, row_group_rows=row_group_rows)
    stored = [bar(i, 100.0 + i % 5) for i in range(40) if i != 31]
    catalog.write_bars(stored)
    [again] = catalog.write_bars([*stored[10:], bar(40, 1.0)])
    assert (again.written, again.already_stored) == (1, 29)
    changed = list(stored)
    changed[25] = bar(25, 7.0)
    with pytest.raises(DataError, match=r"AAPL 1m 2024-01-02T14:55:00Z: open 7.0 differs"):
        catalog.write_bars(changed)
    with pytest.raises(DataError, match=r"AAPL 1m 2024-01-02T15:01:00Z: not in"):
        catalog.write_bars([bar(i, 100.0 + i % 5) for i in range(20, 36)])


# --- what is accepted --------------------------------------------------------------------


def test_a_table_a_reader_and_a_pandas_frame_are_accepted(tmp_path):
    pandas = pytest.importorskip("pandas")
    table = bars_to_table(series(10))
    Catalog(tmp_path / "a").write_bars(table)
    Catalog(tmp_path / "b").write_bars(
        pa.RecordBatchReader.from_batches(BAR_SCHEMA, table.to_batches())
    )
    frame = pandas.DataFrame(
        {
            "time": pandas.date_range(
                "2024-01-02 09:30", periods=10, freq="min", tz="America/New_York"
            ),
            "open": 1.0,
            "high": 2.0,
            "low": 1.0,
            "close": 2,
            "volume": 5,
        }
    )
    Catalog(tmp_path / "c").write_bars(frame, symbol="AAPL", interval="1m")
    for name in "abc":
        entry = Catalog(tmp_path / name).entries()[0]
        assert (entry.symbol, entry.interval, entry.start, entry.rows) == ("AAPL", "1m", T0, 10)


def test_a_spelling_of_a_bar_size_is_stored_under_its_label(tmp_path):
    table = bars_to_table(series(3)).set_column(1, "interval", pa.array(["01m"] * 3, pa.string()))
    Catalog(tmp_path).write_bars(table)
    assert Catalog(tmp_path).entries()[0].interval == "1m"


def _edit(table: pa.Table, name: str, values: list) -> pa.Table:
    index = table.schema.get_field_index(name)
    return table.set_column(index, name, pa.array(values, type=table.schema.field(name).type))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda t: t.drop_columns(["volume"]),
            r"^Table: missing column volume \(expected symbol, interval, time, open",
        ),
        (
            lambda t: t.append_column("vwap", pa.array([1.0] * 5)),
            r"^Table: column vwap: not a bar column",
        ),
        (
            lambda t: t.set_column(2, "time", t["time"].cast(pa.timestamp("ns"))),
            r"^Table: column time: naive timestamps",
        ),
        (
            lambda t: t.set_column(2, "time", t["time"].cast(pa.int64())),
            r"^Table: column time: expected timestamps with a zone, got int64",
        ),
        (
            lambda t: t.set_column(3, "open", pa.array([1.0, None, 1.0, 1.0, 1.0])),
            r"^Table: row 1, column open: null$",
        ),
        (
            lambda t: _edit(t, "close", [100.0, 101.0, float("nan"), 103.0, 104.0]),
            r"^Table: row 2: bar AAPL: close must be a finite positive price, got nan$",
        ),
        (
            lambda t: _edit(t, "high", [100.0, 101.0, 102.0, 1.0, 104.0]),
            r"^Table: row 3: bar AAPL: inconsistent OHLC",
        ),
        (
            lambda t: _edit(t, "volume", [1.0, 1.0, 1.0, 1.0, float("inf")]),
            r"^Table: row 4: bar AAPL: volume must be a finite size",
        ),
        (
            lambda t: t.take([0, 1, 3, 2, 4]),
            r"^Table: row 3, column time: AAPL 1m 2024-01-02T14:32:00Z is earlier than row 2; bars "
            "must be sorted by time$",
        ),
        (
            lambda t: t.take([0, 1, 1, 2, 3]),
            r"^Table: row 2, column time: AAPL 1m 2024-01-02T14:31:00Z repeats the bar of row 1$",
        ),
        (lambda t: _edit(t, "interval", ["1M"] * 5), "fixed bar size"),
        (
            lambda t: _edit(t, "symbol", ["AAPL", "", "AAPL", "AAPL", "AAPL"]),
            r"^Table: row 1, column symbol: empty symbol$",
        ),
    ],
)
def test_bad_tables_are_refused_with_one_line_naming_row_and_reason(tmp_path, change, message):
    table = change(bars_to_table(series(5)))
    with pytest.raises((BarTableError, ConfigError), match=message) as caught:
        Catalog(tmp_path).write_bars(table)
    assert "\n" not in str(caught.value)
    assert files_of(tmp_path) == []


def test_order_is_judged_per_symbol_with_rows_counted_in_the_table_given(tmp_path):
    mixed = [bar(0, 1.0), bar(0, 1.0, symbol="MSFT"), bar(1, 1.0), bar(0, 1.0, symbol="MSFT")]
    with pytest.raises(
        DataError,
        match=r"^bars: row 3, column time: MSFT 1m 2024-01-02T14:30:00Z repeats the bar of row 1$",
    ):
        Catalog(tmp_path).write_bars(mixed)
    Catalog(tmp_path).write_bars(mixed[:3])
    assert [e.rows for e in Catalog(tmp_path).entries()] == [2, 1]


# --- damaged catalogs --------------------------------------------------------------------


def test_a_corrupt_file_is_one_line_naming_it(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.write_bars(series(10))
    [path] = files_of(tmp_path)
    path.write_bytes(b"PAR1 this is not parquet")
    for attempt in (catalog.entries, catalog.bars, lambda: catalog.write_bars(series(3))):
        with pytest.raises(BarTableError) as caught:
            attempt()
        message = str(caught.value)
        assert message.startswith(f"{path}: unreadable Parquet file (")
        assert "\n" not in message


def test_a_foreign_parquet_file_in_a_partition_is_named(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.write_bars(series(10))
    [path] = files_of(tmp_path)
    pq.write_table(pa.table({"x": [1]}), path.with_name("part-7.parquet"))
    with pytest.raises(DataError, match=r"part-7.parquet: not a catalog bar file \(columns x\)"):
        catalog.entries()


def test_files_outside_the_layout_are_ignored(tmp_path):
    catalog = Catalog(tmp_path)
    catalog.write_bars(series(10))
    [path] = files_of(tmp_path)
    path.with_name("notes.txt").write_text("mine")
    path.with_name(".part-9.parquet.tmp").write_bytes(b"half")
    assert catalog.entries()[0].rows == 10
    assert catalog.bars().num_rows == 10
