"""`tradewire backtest` and `tradewire sweep` take Parquet and Feather files and directories of
them as --data, with the results of the CSV files of the same bars; walk-forward says in one
line that it cuts CSV files only."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from framework.cli import main

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


def test_walk_forward_over_parquet_says_it_needs_csv(tmp_path, capsys):
    (parquet, _) = converted(tmp_path, ".parquet")
    walk = ["--grid", "fast=5,10", "--train", "3000", "--test", "1000"]
    assert main(["sweep", "sma_cross", "--data", parquet, *walk]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"tradewire: error: walk-forward windows (--train/--test) need CSV bar files for now, "
        f"not {parquet}; sweep the whole data without --train/--test, or convert it to CSV"
    ]


def test_backtest_help_names_the_formats(capsys):
    with pytest.raises(SystemExit):
        main(["backtest", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert ".parquet, .feather/.arrow file or a directory of them" in help_text
