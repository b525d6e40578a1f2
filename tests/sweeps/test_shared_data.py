"""Sharing a sweep's data as tables read once on the driver (what the Ray backend puts in its
object store), tested with a plain list standing in for the store: the same rows as jobs that
read the files, each source put once, and what stays a path."""

import datetime as dt
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq
import pytest

from framework.sweeps import (
    DataSlice,
    Grid,
    SweepJob,
    TableSlice,
    WindowSize,
    plan_windows,
    run_job,
)
from framework.sweeps._shared_data import run_shared_job, share_data, tables_of

ROOT = Path(__file__).resolve().parents[2]
AAPL = ROOT / "examples" / "data" / "AAPL.csv"
MSFT = ROOT / "examples" / "data" / "MSFT.csv"
RECORDING = ROOT / "examples" / "data" / "sample.twrec"

GRID = Grid.parse(["fast=5,10", "slow=30"])


class Store:
    """Stands in for ray.put: keeps what was put, gives the table itself back."""

    def __init__(self):
        self.tables = []

    def put(self, table):
        self.tables.append(table)
        return table


def jobs_over(data, grid=GRID, **feed_options):
    slices = tuple(d if isinstance(d, DataSlice) else DataSlice(path=str(d)) for d in data)
    return [
        SweepJob(number=n, strategy="sma_cross", params=p, data=slices, feed_options=feed_options)
        for n, p in enumerate(grid)
    ]


def rows_both_ways(jobs, store):
    shared = share_data(jobs, store.put)
    read = [run_job(job) for job in jobs]
    replayed = [run_shared_job(job, *tables_of(job)) for job in shared]
    return shared, read, replayed


def parquet_of(csv_path, tmp_path):
    # The CSV's columns as they are: epoch-second times, no symbol column (the file names it).
    path = tmp_path / f"{csv_path.stem}.parquet"
    pq.write_table(pv.read_csv(csv_path), path, row_group_size=3000)
    return path


def naive_new_york_with_a_bad_row(tmp_path):
    new_york = ZoneInfo("America/New_York")
    lines = ["Datetime,Open,High,Low,Close,Volume"]
    for row in AAPL.read_text().splitlines()[1:3001]:
        seconds, rest = row.split(",", 1)
        wall = dt.datetime.fromtimestamp(int(seconds), new_york).replace(tzinfo=None)
        lines.append(f"{wall.isoformat()},{rest}")
    lines.insert(500, "2024-01-02T12:00:00,1,x,1,1,1")
    path = tmp_path / "aapl_ny.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("kind", ["csv", "parquet", "two_files", "options"])
def test_jobs_over_shared_tables_give_the_rows_of_jobs_that_read_the_files(kind, tmp_path):
    options = {}
    if kind == "csv":
        data = [AAPL]
    elif kind == "parquet":
        data = [parquet_of(AAPL, tmp_path)]
    elif kind == "two_files":
        data = [AAPL, MSFT]
    else:
        data = [naive_new_york_with_a_bad_row(tmp_path)]
        options = {"tz": "America/New_York", "skip_bad_rows": True, "symbol": "X", "interval": "1m"}
    store = Store()
    shared, read, replayed = rows_both_ways(jobs_over(data, **options), store)
    assert replayed == read
    assert all(row.status == "ok" and row.bars for row in read)
    assert all(isinstance(item, TableSlice) for job in shared for item in job.data)
    assert len(store.tables) == len(data)


def test_each_source_is_put_once_and_windows_are_rows_of_it():
    windows = plan_windows([AAPL, MSFT], train=WindowSize(bars=3000), test=WindowSize(bars=2000))
    grid = Grid.parse(["fast=5,10", "slow=20,30"])
    jobs = [job for w in windows for job in jobs_over(w.train_data, grid)]
    store = Store()
    shared = share_data(jobs, store.put)
    assert len(store.tables) == 2
    assert [t.num_rows for t in store.tables] == [10_000, 10_000]
    first, last = shared[0].data[0], shared[-1].data[0]
    assert (first.rows, last.rows) == ((0, 3000), (6000, 9000))
    assert first.table is store.tables[0] and shared[-1].data[1].table is store.tables[1]
    some = [0, len(jobs) - 1]
    assert [run_shared_job(shared[i], *tables_of(shared[i])) for i in some] == [
        run_job(jobs[i]) for i in some
    ]


def test_a_window_whose_own_bar_size_differs_gets_a_table_of_its_own(tmp_path):
    # 1-minute bars, then 5-minute bars: the whole file reads as 1m, a window of the 5-minute
    # part detects 5m from its own first rows, as its task reading the file would.
    rows = AAPL.read_text().splitlines()
    start = int(rows[1].split(",")[0])
    lines = [rows[0]]
    for i, row in enumerate(rows[1:1201]):
        rest = row.split(",", 1)[1]
        lines.append(f"{start + (60 * i if i < 200 else 12_000 + 300 * (i - 200))},{rest}")
    path = tmp_path / "sparse.csv"
    path.write_text("\n".join(lines) + "\n")
    windows = plan_windows([path], train=WindowSize(bars=300), test=WindowSize(bars=200))
    grid = Grid.parse(["fast=3,5", "slow=10"])
    jobs = [job for w in windows[:2] for job in jobs_over(w.train_data, grid)]
    store = Store()
    shared, read, replayed = rows_both_ways(jobs, store)
    assert replayed == read
    assert shared[0].data[0].rows == (0, 300)
    assert shared[-1].data[0].rows is None
    assert store.tables[-1].column("interval").unique().to_pylist() == ["5m"]
    assert len(store.tables) == 2


def test_what_cannot_be_shared_stays_a_path_for_each_task(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("time,open,high,low,close,volume\n1704205800,1,1,1,1,1\n1704205860,x,1,1,1,1\n")
    empty_window = DataSlice(path=str(AAPL), byte_range=(32, 32))
    cases = [
        jobs_over([RECORDING]),  # quotes and more, not a table of bars
        jobs_over([bad], interval="1m"),  # each task raises the error, worded as locally
        jobs_over([AAPL, MSFT], symbol="X"),  # symbol= names the symbol of one file only
        jobs_over([AAPL], Grid.parse(["fast=5"])),  # one job: reading it first adds work
        jobs_over([empty_window], interval="1m"),
    ]
    store = Store()
    for jobs in cases:
        assert share_data(jobs, store.put) == jobs
    assert store.tables == []


def test_a_directory_of_bar_files_gives_a_table_per_file_in_the_order_a_backtest_reads_them(
    tmp_path,
):
    folder = tmp_path / "bars"
    folder.mkdir()
    shutil.copy(AAPL, folder / "AAPL.csv")
    shutil.copy(MSFT, folder / "MSFT.csv")
    store = Store()
    shared, read, replayed = rows_both_ways(jobs_over([folder]), store)
    assert replayed == read
    assert [item.label for item in shared[0].data] == [
        str(folder / f) for f in ("AAPL.csv", "MSFT.csv")
    ]
    assert [t.column("symbol")[0].as_py() for t in store.tables] == ["AAPL", "MSFT"]
    assert all(isinstance(t, pa.Table) for t in store.tables)
