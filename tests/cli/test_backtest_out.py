"""``tradewire backtest --out DIR`` writes the run's tables as Parquet, beside --json."""

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from framework.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = str(ROOT / "examples" / "data" / "AAPL.csv")


def test_out_writes_parquet_tables_holding_what_the_json_holds(tmp_path):
    out, as_json = tmp_path / "result.parquet", tmp_path / "result.json"
    outputs = ["--out", str(out), "--json", str(as_json)]
    code = main(
        ["backtest", "sma_cross", "--data", SAMPLE, *outputs, "--commission", "per_share:0.005"]
    )
    assert code == 0
    document = json.loads(as_json.read_bytes())
    fills = pd.read_parquet(out / "fills.parquet")
    assert len(fills) == len(document["fills"]) > 100
    first = document["fills"][0]
    assert fills["time"].iloc[0] == pd.Timestamp(first["time"])
    assert fills["commission"].tolist() == [f["commission"] for f in document["fills"]]
    trades = pd.read_parquet(out / "trades.parquet")
    assert trades["pnl"].tolist() == [t["pnl"] for t in document["trades"]]
    orders = pq.read_table(out / "orders.parquet")
    assert orders.column("status").to_pylist() == [o["status"] for o in document["orders"]]
    assert pq.read_table(out / "equity.parquet").num_rows == document["bars"]
    run = json.loads(pq.read_schema(out / "trades.parquet").metadata[b"tradewire"])
    assert run["stats"] == document["stats"]
    assert run["params"] == document["params"] == {"fast": 10, "slow": 30, "qty": 100.0}
    assert (
        json.loads((out / "stats.json").read_bytes())["final_equity"] == (document["final_equity"])
    )


def test_out_onto_a_file_fails_before_the_run(tmp_path, capsys):
    in_the_way = tmp_path / "result.parquet"
    in_the_way.write_text("x")
    missing = str(tmp_path / "missing.csv")  # the run would fail on it, had it started
    assert main(["backtest", "sma_cross", "--data", missing, "--out", str(in_the_way)]) == 2
    error = capsys.readouterr().err
    assert "result.parquet exists and is not a directory" in error
    assert "missing.csv" not in error
