import json
import subprocess
import sys
from pathlib import Path

import pytest

from framework.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = str(ROOT / "examples" / "data" / "AAPL.csv")


def test_json_output_is_byte_identical_across_runs(tmp_path, capsys):
    outs = []
    for name in ("a.json", "b.json"):
        out = tmp_path / name
        code = main(
            [
                "backtest",
                "strategies.sma_cross:SmaCross",
                "--data",
                SAMPLE,
                "--param",
                "fast=10",
                "--param",
                "slow=30",
                "--json",
                str(out),
            ]
        )
        assert code == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    result = json.loads(outs[0])
    assert list(result)[:6] == ["strategy", "params", "start_cash", "final_equity", "bars", "fills"]
    assert result["bars"] == 10_000
    assert result["fills"][0].keys() >= {"time", "symbol", "side", "qty", "price", "commission"}
    assert result["fills"][0]["time"].endswith("Z")
    assert result["trades"][0].keys() >= {
        "symbol",
        "qty",
        "entry_time",
        "entry_price",
        "exit_time",
        "exit_price",
        "pnl",
    }
    assert result["stats"]["trades"] == len(result["trades"])
    assert "final equity" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "fast=ten"], "parameter 'fast' takes int, got 'ten'"),
        (["--param", "speed=3"], "SmaCross has no parameter 'speed' (parameters: fast, slow, qty)"),
        (["--param", "fast"], "--param expects name=value, got 'fast'"),
        (["--param", "fast=40"], "fast (40) must be shorter than slow (30)"),
    ],
)
def test_bad_parameters_exit_2_with_one_line(capsys, args, message):
    code = main(["backtest", "sma_cross", "--data", SAMPLE, *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == [f"tradewire: error: {message}"]
    assert "Traceback" not in err


def test_bad_row_reports_file_and_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("time,open,high,low,close,volume\n1704205800,1,1,1,1,1\n1704205860,x,1,1,1,1\n")
    assert main(["backtest", "sma_cross", "--data", str(bad), "--interval", "1m"]) == 2
    assert f"{bad}:3: unparsable number" in capsys.readouterr().err
    assert (
        main(["backtest", "sma_cross", "--data", str(bad), "--interval", "1m", "--skip-bad-rows"])
        == 0
    )
    assert "1 bad_number" in capsys.readouterr().out


def test_unknown_strategy_and_missing_file(capsys):
    assert main(["backtest", "nope", "--data", SAMPLE]) == 2
    assert "no strategy plugin named 'nope'" in capsys.readouterr().err
    assert main(["backtest", "sma_cross", "--data", "missing.csv"]) == 2
    assert "data file not found: missing.csv" in capsys.readouterr().err


def test_strategy_from_a_file_path(tmp_path, capsys):
    user = tmp_path / "mine.py"
    user.write_text(
        "from framework import Strategy\n"
        "class BuyOnce(Strategy):\n"
        "    def on_bar(self, bar):\n"
        "        if self.position(bar.symbol).qty == 0:\n"
        "            self.buy(bar.symbol, 1)\n"
    )
    out = tmp_path / "r.json"
    assert main(["backtest", f"{user}:BuyOnce", "--data", SAMPLE, "--json", str(out), "-q"]) == 0
    assert len(json.loads(out.read_bytes())["fills"]) == 1


def test_python_dash_m_framework_and_list_command():
    listed = subprocess.run(
        [sys.executable, "-m", "framework", "list"], capture_output=True, text=True, check=True
    )
    assert "sma_cross" in listed.stdout and "bollinger_reversion" in listed.stdout
    assert "trend_pullback" in listed.stdout


def test_list_shows_the_built_in_feeds(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "bar_file" in out and "recording" in out and "insightsentry" in out


def test_recordings_replay_paced_with_speed(tmp_path):
    sample = ROOT / "examples" / "data" / "sample.twrec"
    fast, paced = tmp_path / "fast.json", tmp_path / "paced.json"
    assert main(["backtest", "sma_cross", "--data", str(sample), "--json", str(fast), "-q"]) == 0
    assert (
        main(
            [
                "backtest",
                "sma_cross",
                "--data",
                str(sample),
                "--json",
                str(paced),
                "-q",
                "--speed",
                "1000",
            ]
        )
        == 0
    )
    assert fast.read_bytes() == paced.read_bytes()
