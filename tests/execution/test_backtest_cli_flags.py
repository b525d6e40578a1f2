"""``tradewire backtest`` cost flags and CSV exports."""

import csv
import json
from pathlib import Path

import pytest

from framework.cli import main

SAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "data" / "AAPL.csv")


def run_json(tmp_path: Path, *flags: str) -> dict:
    out = tmp_path / f"r{len(list(tmp_path.iterdir()))}.json"
    assert main(["backtest", "sma_cross", "--data", SAMPLE, "--json", str(out), "-q", *flags]) == 0
    return json.loads(out.read_bytes())


def test_commission_and_slippage_flags_change_the_result_by_hand(tmp_path):
    base = run_json(tmp_path)
    fills = base["fills"]
    costly = run_json(tmp_path, "--commission", "per_share:0.005,min=1", "--slippage", "bps:2")
    assert costly["stats"]["commissions"] == pytest.approx(1.0 * len(fills))
    slip = sum(f["qty"] * f["price"] * 2 / 10_000 for f in fills)
    assert costly["final_equity"] == pytest.approx(
        base["final_equity"] - len(fills) - slip, abs=1e-6
    )


def test_trades_and_fills_csv(tmp_path, capsys):
    trades, fills = tmp_path / "trades.csv", tmp_path / "fills.csv"
    code = main(
        ["backtest", "sma_cross", "--data", SAMPLE, "--trades-csv", str(trades),
         "--fills-csv", str(fills)]
    )  # fmt: skip
    assert code == 0
    with trades.open(newline="") as handle:
        trade_rows = list(csv.DictReader(handle))
    with fills.open(newline="") as handle:
        fill_rows = list(csv.DictReader(handle))
    out = capsys.readouterr().out
    assert f"trades         {len(trade_rows):,}" in out
    assert f"fills          {len(fill_rows):,}" in out
    assert fill_rows[0]["side"] == "buy" and float(fill_rows[0]["qty"]) == 100.0


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--commission", "per_share"], "--commission 'per_share': expected one of"),
        (["--slippage", "bps:x"], "--slippage 'bps:x': could not convert"),
    ],
)
def test_bad_cost_flags_exit_2_with_one_line(capsys, flags, message):
    assert main(["backtest", "sma_cross", "--data", SAMPLE, *flags]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"tradewire: error: {message}")
