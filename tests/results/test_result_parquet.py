"""A result written as Parquet reads back, with pyarrow, pandas and polars, as the same
tables, and each file says which run it came from."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pandas as pd
import polars as pl
import polars.testing
import pyarrow.parquet as pq
import pytest

from framework import ConfigError, RunResult, backtest
from framework.execution import parse_commission
from framework.results._parquet import METADATA_KEY, run_document
from strategies.sma_cross import SmaCross

AAPL = Path(__file__).resolve().parents[2] / "examples" / "data" / "AAPL.csv"
TABLES = ("fills", "trades", "orders", "equity")


@pytest.fixture(scope="module")
def result() -> RunResult:
    return backtest(SmaCross(fast=5, slow=20), [AAPL], commission=parse_commission("percent:0.01"))


@pytest.fixture
def written(result, tmp_path) -> Path:
    out = tmp_path / "nested" / "result.parquet"
    result.write_parquet(out)
    return out


def test_the_directory_holds_one_file_per_table_and_stats_json(written):
    assert written.is_dir()
    assert sorted(p.name for p in written.iterdir()) == sorted(
        [*(f"{name}.parquet" for name in TABLES), "stats.json"]
    )


@pytest.mark.parametrize("name", TABLES)
def test_pyarrow_reads_back_the_table_and_the_run_in_its_metadata(result, written, name):
    table = pq.read_table(written / f"{name}.parquet")
    assert table.equals(result.arrow.table(name))
    assert table.schema.equals(result.arrow.table(name).schema)  # types and nullability
    document = json.loads(table.schema.metadata[METADATA_KEY])
    assert document == json.loads(json.dumps(run_document(result)))
    assert document["strategy"] == "SmaCross"
    assert document["params"] == {"fast": 5, "slow": 20, "qty": 100.0}
    assert document["start_cash"] == result.start_cash
    assert document["final_equity"] == result.final_equity
    assert document["stats"] == result.stats


@pytest.mark.parametrize("name", TABLES)
def test_pandas_reads_back_the_frame_of_to_pandas(result, written, name):
    frame = pd.read_parquet(written / f"{name}.parquet")
    assert len(frame) == result.arrow.table(name).num_rows > 0
    pd.testing.assert_frame_equal(frame, result.to_pandas(name))


@pytest.mark.parametrize("name", TABLES)
def test_polars_reads_back_the_frame_of_to_polars(result, written, name):
    frame = pl.read_parquet(written / f"{name}.parquet")
    polars.testing.assert_frame_equal(frame, result.to_polars(name))


def test_stats_json_is_the_run_document(result, written):
    assert json.loads((written / "stats.json").read_bytes()) == json.loads(
        json.dumps(run_document(result))
    )


def test_writing_again_replaces_the_files_of_an_earlier_result(result, written):
    fewer = attrs.evolve(result, fills=result.fills[:2])
    fewer.write_parquet(written)
    assert pq.read_table(written / "fills.parquet").num_rows == 2


def test_a_file_in_the_way_is_a_config_error(result, tmp_path):
    path = tmp_path / "result.parquet"
    path.write_text("not a directory")
    with pytest.raises(ConfigError, match="exists and is not a directory"):
        result.write_parquet(path)
    assert path.read_text() == "not a directory"
