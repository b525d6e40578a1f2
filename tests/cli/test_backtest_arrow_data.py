"""`tradewire backtest` and `tradewire sweep` take Parquet and Feather files and directories of
them as --data, with the results of the CSV files of the same bars, walk-forward windows
included."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
import trio
from factories import collect

from framework import DataError
from framework.cli import main
from framework.feeds import ArrowFeed
from framework.sweeps import BarFileWindowFeed, WindowSize, plan_windows

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
AAPL, MSFT = str(EXAMPLES / "AAPL.csv"), str(EXAMPLES / "MSFT.csv")


def converted(tmp_path: Path, suffix: str) -> list[str]:
    """AAPL.csv and MSFT.csv written as ``suffix`` files, read back to check them."""
    paths = []
    for csv in (AAPL, MSFT):
        table = pacsv.read_csv(csv)
        path = tmp_path / Path(csv).with_suffix(suffix).name
        if suffix == ".parquet":
            pq.write_table(table, path, row_group_size=4_000)
            assert pq.read_table(path).equals(table)
        else:
            feather.write_feather(table, path)
            assert feather.read_table(path).equals(table)
        paths.append(str(path))
    return paths


def result_of(tmp_path: Path, *data: str) -> dict[str, object]:
    out = tmp_path / "result.json"
    args = ["backtest", "sma_cross", *(x for path in data for x in ("--data", path))]
    assert main([*args, "--json", str(out), "-q"]) == 0
    result: dict[str, object] = json.loads(out.read_bytes())
    return result


@pytest.fixture(scope="module")
def csv_result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return result_of(tmp_path_factory.mktemp("csv"), AAPL, MSFT)


@pytest.mark.parametrize("suffix", [".parquet", ".feather"])
def test_backtest_over_arrow_files_is_the_backtest_over_the_csv_files(tmp_path, csv_result, suffix):
    result = result_of(tmp_path, *converted(tmp_path, suffix))
    assert result["bars"] == 20_000
    assert result["fills"] == csv_result["fills"]
    assert result["trades"] == csv_result["trades"]
    assert result == csv_result


def test_backtest_over_a_directory_reads_every_file_in_it(tmp_path, csv_result):
    folder = tmp_path / "bars"
    folder.mkdir()
    for path in converted(tmp_path, ".parquet"):
        Path(path).rename(folder / Path(path).name)
    assert result_of(tmp_path, str(folder)) == csv_result


def test_sweep_over_parquet_ranks_as_over_csv(tmp_path, capsys):
    grid = ["--grid", "fast=5,10", "--grid", "slow=20,30", "--workers", "1"]
    csv_out, parquet_out = tmp_path / "csv.csv", tmp_path / "parquet.csv"
    assert main(["sweep", "sma_cross", "--data", AAPL, *grid, "--out", str(csv_out), "-q"]) == 0
    (parquet, _) = converted(tmp_path, ".parquet")
    sweep = ["sweep", "sma_cross", "--data", parquet, *grid, "--out", str(parquet_out), "-q"]
    assert main(sweep) == 0
    assert parquet_out.read_text() == csv_out.read_text()


@pytest.mark.parametrize("suffix", [".parquet", ".feather"])
def test_walk_forward_over_arrow_files_is_the_walk_forward_over_the_csv(tmp_path, suffix):
    walk = ["--grid", "fast=5,10", "--grid", "slow=20", "--train", "3000", "--test", "1500"]
    walk += ["--workers", "1", "-q"]
    csv_out, arrow_out = tmp_path / "csv.csv", tmp_path / "arrow.csv"
    assert main(["sweep", "sma_cross", "--data", AAPL, *walk, "--out", str(csv_out)]) == 0
    (path, _) = converted(tmp_path, suffix)
    assert main(["sweep", "sma_cross", "--data", path, *walk, "--out", str(arrow_out)]) == 0
    assert arrow_out.read_text() == csv_out.read_text()
    assert len(csv_out.read_text().splitlines()) > 4  # several windows


def test_parquet_windows_hold_the_rows_of_the_csv_windows(tmp_path):
    (path, _) = converted(tmp_path, ".parquet")  # row groups of 4000: windows cut through them
    train, test = WindowSize.parse("2500", "--train"), WindowSize.parse("1200", "--test")
    from_csv = plan_windows([AAPL], train=train, test=test)
    from_parquet = plan_windows([path], train=train, test=test)
    assert [(w.train, w.test) for w in from_parquet] == [(w.train, w.test) for w in from_csv]
    for by_rows, by_bytes in zip(from_parquet, from_csv, strict=True):
        (rows,), (csv_slice,) = by_rows.test_data, by_bytes.test_data
        assert rows.row_range is not None and rows.byte_range is None
        bars = trio.run(collect, ArrowFeed(path, rows=rows.row_range))
        expected = trio.run(collect, BarFileWindowFeed(AAPL, byte_range=csv_slice.byte_range))
        assert [(b.ts_open, b.close) for b in bars] == [(b.ts_open, b.close) for b in expected]


def test_a_bad_row_in_a_window_is_named_by_its_row_in_the_file(tmp_path):
    table = pacsv.read_csv(AAPL)
    closes = table["close"].to_pylist()
    closes[6_500] = float("nan")
    path = tmp_path / "AAPL.parquet"
    pq.write_table(table.set_column(4, "close", pa.array(closes)), path, row_group_size=4_000)
    feed = ArrowFeed(path, rows=(6_000, 7_000))
    with pytest.RaisesGroup(pytest.RaisesExc(DataError)) as caught:
        trio.run(collect, feed)
    assert str(caught.value.exceptions[0]) == (
        f"{path}: row 6500 (row group 1, offset 2500), column close: NaN or infinite value (nan)"
    )


def test_walk_forward_over_a_directory_says_what_it_cuts(tmp_path, capsys):
    walk = ["--grid", "fast=5,10", "--train", "3000", "--test", "1000"]
    assert main(["sweep", "sma_cross", "--data", str(tmp_path), *walk]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "tradewire: error: walk-forward windows (--train/--test) cut .csv, .parquet and "
        f".feather files, not {tmp_path}; sweep the whole data without --train/--test"
    ]


def test_backtest_help_names_the_formats(capsys):
    with pytest.raises(SystemExit):
        main(["backtest", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert ".parquet, .feather/.arrow file or a directory of them" in help_text
