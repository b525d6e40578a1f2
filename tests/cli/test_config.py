import json
from pathlib import Path

import pytest

from framework.cli import main
from framework.cli._main import parse_args

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "data" / "AAPL.csv"


def write_config(folder: Path, text: str) -> Path:
    path = folder / "tradewire.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_backtest_runs_from_the_config_file_alone(tmp_path, capsys):
    config = write_config(
        tmp_path,
        f"""
        [backtest]
        strategy = "sma_cross"
        data = ["{SAMPLE}"]
        cash = 50_000
        params = {{ fast = 5, slow = 20 }}
        json = "result.json"
        quiet = true
        """,
    )
    assert main(["--config", str(config), "backtest"]) == 0
    result = json.loads((tmp_path / "result.json").read_bytes())  # relative to the file
    assert result["params"] == {"fast": 5, "slow": 20, "qty": 100.0}
    assert result["start_cash"] == 50_000
    assert capsys.readouterr().out == ""


def test_command_line_flags_override_the_file(tmp_path):
    config = write_config(
        tmp_path,
        f"""
        [backtest]
        strategy = "sma_cross"
        data = ["{SAMPLE}", "other.csv"]
        cash = 50_000
        params = {{ fast = 5, slow = 20 }}
        """,
    )
    args = parse_args(
        [
            "--config",
            str(config),
            "backtest",
            "--data",
            "mine.csv",
            "--cash",
            "7",
            "--param",
            "fast=8",
            "bollinger_reversion",
        ]
    )
    assert args.strategy == "bollinger_reversion"
    assert args.data == ["mine.csv"]  # replaced, not appended to the file's list
    assert args.cash == 7.0
    # NAME=VALUE options merge; the command line's value comes later and wins.
    assert args.param == ["fast=5", "slow=20", "fast=8"]


def test_default_file_in_the_working_directory_is_read(tmp_path, monkeypatch):
    write_config(tmp_path, 'strategy = "sma_cross"\ndata = ["bars.csv"]\n[sweep]\nworkers = 3\n')
    monkeypatch.chdir(tmp_path)
    args = parse_args(["sweep", "--grid", "fast=5:10:5"])
    assert (args.strategy, args.data, args.workers) == ("sma_cross", ["bars.csv"], 3)
    # Top-level keys reach every command that has the option.
    assert parse_args(["backtest"]).data == ["bars.csv"]


def test_sweep_grid_from_a_table(tmp_path):
    config = write_config(
        tmp_path,
        """
        [sweep]
        strategy = "sma_cross"
        data = ["a.csv"]
        grid = { fast = "5:50:5", slow = [20, 30, 50] }
        workers = 2
        backend = "ray"
        """,
    )
    args = parse_args(["--config", str(config), "sweep", "--grid", "slow=60"])
    assert args.grid == ["fast=5:50:5", "slow=20,30,50", "slow=60"]
    assert args.workers == 2 and args.backend == "ray"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[backtest]\nsped = 3\n", "unknown key 'sped' in [backtest]"),
        ("[bakctest]\ncash = 3\n", "unknown table [bakctest]"),
        ("colour = 'red'\n", "unknown key 'colour'"),
        ("[backtest]\ncash = 'lots'\n", "[backtest] cash: could not convert"),
        ("[backtest]\ncash = -5\n", "[backtest] cash: must be positive"),
        ("[backtest]\nquiet = 'yes'\n", "[backtest] quiet: expected true or false"),
        ("[sweep]\nbackend = 'dask'\n", "[sweep] backend: 'dask' is not one of local, ray"),
        ("[backtest\n", "not valid TOML"),
    ],
)
def test_bad_config_is_one_error_line_naming_file_and_key(tmp_path, capsys, text, message):
    config = write_config(tmp_path, text)
    assert main(["--config", str(config), "list"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"tradewire: error: {config}")
    assert message in err[0]


def test_missing_config_file_is_an_error(tmp_path, capsys):
    assert main(["--config", str(tmp_path / "nope.toml"), "list"]) == 2
    assert "config file not found" in capsys.readouterr().err
