"""A directory whose files' readers would hold too much at once is staged (each file copied in
turn to a temporary Arrow file, then merged from there): the run, its messages and its
progress are the unstaged run's, and nothing is left behind. Files, tables and directories are
read without pyarrow.dataset."""

from __future__ import annotations

import math
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
import trio
from factories import bars_table, collect

from framework import BarTableError
from framework.feeds import ArrowFeed, _arrow_staging
from framework.feeds._arrow_source import PARQUET_PAGE_BYTES, streams_of
from framework.feeds._arrow_staging import staging_pays

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_704_205_800


@pytest.fixture
def temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where staged files go during the test."""
    folder = tmp_path / "temporary"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def staging(monkeypatch: pytest.MonkeyPatch, *, on: bool) -> None:
    monkeypatch.setattr(_arrow_staging, "READ_AHEAD_BUDGET", -1 if on else 1 << 40)


def three_files(root: Path, **columns: Any) -> Path:
    """Three symbols' files of 3,000 minute bars, row groups of 1,000."""
    root.mkdir()
    for symbol in ("AAA", "BBB", "CCC"):
        table = bars_table(3_000, **columns)
        pq.write_table(table, root / f"{symbol}.parquet", row_group_size=1_000)
    return root


def read(source: Any, **options: Any) -> tuple[list[Any], ArrowFeed]:
    feed = ArrowFeed(source, **options)
    return trio.run(collect, feed), feed


def test_a_staged_directory_reads_as_it_does_unstaged(tmp_path, temporary, monkeypatch):
    root = three_files(tmp_path / "data")
    staging(monkeypatch, on=False)
    expected, _ = read(root)
    staging(monkeypatch, on=True)
    bars, feed = read(root)
    assert bars == expected
    assert len(bars) == 9_000
    assert feed.progress() == (9_000, 9_000)
    assert list(temporary.iterdir()) == []


def test_dictionary_encoded_symbols_are_staged_as_they_are_read(tmp_path, temporary, monkeypatch):
    root = tmp_path / "data"
    root.mkdir()
    for part, pair in enumerate((("AAA", "BBB"), ("CCC", "DDD"))):
        # Row groups of other symbols: a dictionary may differ from batch to batch.
        symbols = [pair[i % 2] if i < 1_000 else pair[i % 2].lower() for i in range(2_000)]
        table = bars_table(2_000, time=[T0 + 60 * (i // 2) for i in range(2_000)])
        table = table.append_column("symbol", pa.array(symbols).dictionary_encode())
        pq.write_table(table, root / f"part-{part}.parquet", row_group_size=1_000)
    staging(monkeypatch, on=False)
    expected, _ = read(root, interval="1m")
    staging(monkeypatch, on=True)
    bars, _ = read(root, interval="1m")
    assert bars == expected
    assert {b.symbol for b in bars} == {"AAA", "BBB", "CCC", "DDD", "aaa", "bbb", "ccc", "ddd"}


def test_a_bad_row_of_a_staged_file_is_named_by_its_place_in_the_file(
    tmp_path, temporary, monkeypatch
):
    close = [10.5] * 3_000
    close[1_234] = math.nan
    root = three_files(tmp_path / "data", close=close)
    staging(monkeypatch, on=True)
    with pytest.RaisesGroup(BarTableError) as caught:
        read(root)
    (error,) = caught.value.exceptions
    assert str(error) == (
        f"{root / 'AAA.parquet'}: row 1234 (row group 1, offset 234), column close: "
        "NaN or infinite value (nan)"
    )
    assert list(temporary.iterdir()) == []


def test_a_damaged_file_in_a_staged_directory_is_named_as_unstaged(
    tmp_path, temporary, monkeypatch
):
    root = three_files(tmp_path / "data")
    path = root / "BBB.parquet"
    data = bytearray(path.read_bytes())
    start = pq.ParquetFile(path).metadata.row_group(1).column(3).data_page_offset
    data[start + 20 : start + 200] = b"\xff" * 180
    path.write_bytes(bytes(data))
    messages = []
    for on in (False, True):
        staging(monkeypatch, on=on)
        with pytest.RaisesGroup(BarTableError) as caught:
            read(root)
        messages.append(str(caught.value.exceptions[0]))
    assert messages[0] == messages[1]
    assert messages[1].startswith(f"{path}: row group 1 (rows 1000..1999) cannot be read: ")
    assert list(temporary.iterdir()) == []


async def test_a_cancelled_staged_run_leaves_nothing_behind(tmp_path, temporary, monkeypatch):
    root = three_files(tmp_path / "data")
    staging(monkeypatch, on=True)
    feed = ArrowFeed(root)
    send, receive = trio.open_memory_channel[Any](0)
    async with trio.open_nursery() as nursery:
        await nursery.start(feed.run, send)
        async with receive:
            assert len(await receive.receive()) > 0
            assert any(temporary.iterdir())
            nursery.cancel_scope.cancel()
    assert list(temporary.iterdir()) == []


def test_directories_of_many_large_files_are_staged_and_of_few_are_not(tmp_path, monkeypatch):
    root = three_files(tmp_path / "data")
    streams = streams_of(root)
    try:
        columns = [["time", "open", "high", "low", "close", "volume"]] * 3
        held = [
            stream.read_ahead_bytes(names) for stream, names in zip(streams, columns, strict=True)
        ]
        assert 0 < held[0] <= 6 * 2 * PARQUET_PAGE_BYTES
        assert streams[0].read_ahead_bytes(["time"]) < held[0]
        assert not staging_pays(streams, columns)
        assert not staging_pays(streams[:1], columns[:1])  # one file is read as it is
        monkeypatch.setattr(_arrow_staging, "READ_AHEAD_BUDGET", sum(held) - 1)
        assert staging_pays(streams, columns)
    finally:
        for stream in streams:
            stream.close()


def test_a_feather_file_holds_one_record_batch_at_a_time(tmp_path):
    path = tmp_path / "AAA.feather"
    feather.write_feather(bars_table(10_000), path, chunksize=1_000, compression="uncompressed")
    (stream,) = streams_of(path)
    try:
        assert 0 < stream.read_ahead_bytes([]) < path.stat().st_size / 5
    finally:
        stream.close()
    assert len(read(path)[0]) == 10_000


# -- imports ------------------------------------------------------------------------------------


def loads_dataset(code: str) -> bool:
    probe = f"import sys\n{code}\nprint('pyarrow.dataset' in sys.modules)\n"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return out.strip() == "True"


def test_files_tables_and_directories_are_read_without_pyarrow_dataset(tmp_path):
    table = bars_table(100)
    pq.write_table(table, tmp_path / "AAA.parquet")
    feather.write_feather(table, tmp_path / "AAA.feather")
    (tmp_path / "plain").mkdir()
    pq.write_table(table, tmp_path / "plain" / "AAA.parquet")
    pq.write_table(table, tmp_path / "plain" / "BBB.parquet")
    hive = tmp_path / "hive" / "symbol=AAA" / "interval=1m"
    hive.mkdir(parents=True)
    pq.write_table(table, hive / "part-0.parquet")
    run = (
        "import framework\nfrom strategies.sma_cross import SmaCross\n"
        "framework.backtest(SmaCross(), {source})"
    )
    for name in ("AAA.parquet", "AAA.feather", "plain", "hive"):
        assert not loads_dataset(run.format(source=repr(str(tmp_path / name)))), name
    in_memory = (
        "import pyarrow as pa\n"
        "table = pa.table({'time': [1704205800 + 60 * i for i in range(50)], "
        "'open': [10.0] * 50, 'high': [11.0] * 50, 'low': [9.0] * 50, 'close': [10.5] * 50, "
        "'volume': [1.0] * 50})\n"
    )
    assert not loads_dataset(in_memory + run.format(source="{'AAA': table}"))
    assert pa.table({"x": [1]}).num_rows == 1  # pyarrow itself is fine to load
