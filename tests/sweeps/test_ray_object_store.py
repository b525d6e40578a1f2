"""Ray sweeps put each data source in the object store once, as an Arrow table, and tasks
replay it from there: the tables equal the local backend's, no task reads the file, one put
per source, and a worker maps a put table without copying it."""

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq
import pytest

from framework.sweeps import (
    DataSlice,
    Grid,
    LocalBackend,
    RayBackend,
    TableSlice,
    WindowSize,
    _shared_data,
    sweep,
    walk_forward,
)

ray = pytest.importorskip("ray", reason="Ray not installed: pip install '.[ray]'")

ROOT = Path(__file__).resolve().parents[2]
AAPL = ROOT / "examples" / "data" / "AAPL.csv"
MSFT = ROOT / "examples" / "data" / "MSFT.csv"

# 6 combinations; fast=20 with slow=20 is invalid.
GRID = Grid.parse(["fast=5,10,20", "slow=20,40"])


@pytest.fixture(scope="module")
def ray_session():
    # As in test_ray_backend.py: a small local instance for the module.
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="warning")
    yield
    ray.shutdown()


@pytest.fixture
def puts(monkeypatch):
    """Every object the sweep puts in the store, in order (ray.put, wrapped)."""
    put = ray.put
    seen = []

    def counting_put(value, *args, **kwargs):
        seen.append(value)
        return put(value, *args, **kwargs)

    monkeypatch.setattr(ray, "put", counting_put)
    return seen


def parquet_of(csv_path, folder):
    # The CSV's columns as they are: epoch-second times, no symbol column (the file names it).
    path = folder / f"{csv_path.stem}.parquet"
    pq.write_table(pv.read_csv(csv_path), path, row_group_size=3000)
    return path


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_ray_sweep_table_equals_the_local_one_with_one_put_per_source(
    kind, ray_session, puts, tmp_path
):
    data = [AAPL, MSFT] if kind == "csv" else [parquet_of(AAPL, tmp_path)]
    local = sweep("sma_cross", data, GRID, backend=LocalBackend(workers=2))
    assert puts == []
    remote = sweep("sma_cross", data, GRID, backend=RayBackend())
    assert remote.to_csv() == local.to_csv()
    assert len(remote.ranked) == 5
    # Once per source, not once per task; and as Arrow tables, which Ray keeps out of band.
    assert len(puts) == len(data)
    assert all(isinstance(table, pa.Table) for table in puts)


def test_ray_walk_forward_equals_the_local_one_with_windows_as_rows_of_one_put(ray_session, puts):
    options = {
        "train": WindowSize(bars=3000),
        "test": WindowSize(bars=2000),
        "rank_by": "total_return",
    }
    local = walk_forward("sma_cross", [AAPL, MSFT], GRID, backend=LocalBackend(2), **options)
    remote = walk_forward("sma_cross", [AAPL, MSFT], GRID, backend=RayBackend(), **options)
    assert remote.to_csv() == local.to_csv()
    assert len(remote.windows) == 4
    # The train windows are rows of each file's table; each test window is one job's, which
    # that job reads itself.
    assert [table.num_rows for table in puts] == [10_000, 10_000]


def test_ray_tasks_replay_the_put_tables_and_never_read_the_file(
    ray_session, monkeypatch, tmp_path
):
    data = tmp_path / "AAPL.csv"
    shutil.copy(AAPL, data)
    local = sweep("sma_cross", [data], GRID, backend=LocalBackend(workers=2))
    share_data = _shared_data.share_data
    handed = []

    def share_then_delete(jobs, put):
        # After the driver has read and put the data, before any task runs.
        shared = share_data(jobs, put)
        handed.extend(shared)
        data.unlink()
        return shared

    monkeypatch.setattr(_shared_data, "share_data", share_then_delete)
    remote = sweep("sma_cross", [data], GRID, backend=RayBackend())
    assert not data.exists()
    assert remote.to_csv() == local.to_csv()
    assert len(handed) == 5  # the invalid combination never reaches a backend
    for job in handed:
        (item,) = job.data
        assert isinstance(item, TableSlice) and not isinstance(item, DataSlice)
        assert isinstance(item.table, ray.ObjectRef)
    assert len({job.data[0].table for job in handed}) == 1


def test_a_worker_maps_a_put_table_without_copying_it(ray_session):
    def arrow_memory_of(table):
        # What the worker's Arrow allocator holds with the table in hand, and whether the
        # table's buffers are read-only (mapped from the object store), not the worker's own.
        column = table.column("close").chunk(0)
        return pa.total_allocated_bytes(), table.nbytes, column.buffers()[1].is_mutable

    table = pa.table({"close": pa.array(range(1_000_000), pa.float64())})
    # Defined in the test, so Ray ships the function itself rather than its module's name.
    task = ray.remote(num_cpus=1)(arrow_memory_of)
    allocated, size, mutable = ray.get(task.remote(ray.put(table)))
    assert size == 8_000_000
    assert allocated < size
    assert not mutable
