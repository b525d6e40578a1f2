"""`tradewire backtest` and `tradewire sweep` read the bar files people have, with --tz and
--time-unit, and refuse the rest in one line (the rules: docs/data.md)."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pytest

from framework import BarFileError, backtest
from framework.cli import main
from framework.sweeps import WindowSize, plan_windows
from strategies.sma_cross import SmaCross

T0 = 1_704_205_800  # 2024-01-02T14:30:00Z


def closes(n: int) -> list[float]:
    return [100 + 10 * math.sin(i / 7) for i in range(n)]


def write(path: Path, header: str, times: list[str]) -> str:
    rows = [
        f"{t},{c},{c + 1},{c - 1},{c},1000" for t, c in zip(times, closes(len(times)), strict=True)
    ]
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def goog(tmp_path: Path) -> str:
    """backtesting.py's GOOG.csv shape: pandas' unnamed index, dates, capitalised columns."""
    days = [dt.date(2004, 8, 19) + dt.timedelta(days=i) for i in range(300)]
    return write(tmp_path / "GOOG.csv", ",Open,High,Low,Close,Volume", [str(d) for d in days])


@pytest.fixture
def eurusd(tmp_path: Path) -> str:
    """backtesting.py's EURUSD.csv shape: naive hourly times."""
    start = dt.datetime(2017, 4, 19, 9)
    times = [str(start + dt.timedelta(hours=i)) for i in range(600)]
    return write(tmp_path / "EURUSD.csv", ",Open,High,Low,Close,Volume", times)


def run_json(tmp_path: Path, *args: str) -> dict[str, object]:
    out = tmp_path / "result.json"
    assert main(["backtest", "sma_cross", *args, "--json", str(out), "-q"]) == 0
    result: dict[str, object] = json.loads(out.read_bytes())
    return result


def test_backtest_reads_a_daily_file_with_tz(tmp_path, goog, capsys):
    result = run_json(tmp_path, "--data", goog, "--tz", "America/New_York")
    assert result["bars"] == 300
    assert result["fills"][0]["time"].endswith("T04:00:00Z")  # type: ignore[index]


def test_backtest_without_tz_says_in_one_line_which_option_reads_the_file(goog, capsys):
    assert main(["backtest", "sma_cross", "--data", goog]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"tradewire: error: {goog}:2: time '2004-08-19' has no zone: ")
    assert "--tz ZONE" in line and "tz=" in line


def test_sweep_and_walk_forward_read_naive_times_with_tz(tmp_path, eurusd, capsys):
    grid = ["--grid", "fast=5,10", "--grid", "slow=20", "--workers", "1"]
    assert main(["sweep", "sma_cross", "--data", eurusd, "--tz", "UTC", *grid]) == 0
    assert "2 ran" in capsys.readouterr().out
    walk = ["--train", "300", "--test", "100", "--tz", "Europe/London"]
    assert main(["sweep", "sma_cross", "--data", eurusd, *grid, *walk]) == 0
    assert main(["sweep", "sma_cross", "--data", eurusd, *grid]) == 2
    assert "has no zone" in capsys.readouterr().err


def test_backtest_reads_millisecond_times_and_time_unit_names_the_unit(tmp_path, capsys):
    ms = write(tmp_path / "BTC.csv", "timestamp,open,high,low,close,volume",
               [str((T0 + 60 * i) * 1_000) for i in range(500)])  # fmt: skip
    seconds = write(tmp_path / "BTC_s.csv", "time,open,high,low,close,volume",
                    [str(T0 + 60 * i) for i in range(500)])  # fmt: skip
    detected = run_json(tmp_path, "--data", ms, "--symbol", "X")
    assert detected == run_json(tmp_path, "--data", ms, "--time-unit", "ms", "--symbol", "X")
    assert detected == run_json(tmp_path, "--data", seconds, "--symbol", "X")
    assert main(["backtest", "sma_cross", "--data", ms, "--time-unit", "s"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith("is after 2262-04-11, the last time bar files can hold")


def test_backtest_names_a_newest_first_file(tmp_path, capsys):
    path = write(tmp_path / "X.csv", "time,open,high,low,close,volume",
                 [str(T0 - 60 * i) for i in range(100)])  # fmt: skip
    for extra in ([], ["--interval", "1m"]):
        assert main(["backtest", "sma_cross", "--data", path, *extra]) == 2
        assert capsys.readouterr().err.splitlines() == [
            f"tradewire: error: {path}:3: rows are sorted newest-first (time decreases from "
            "line 2 on); sort the file oldest-first"
        ]


def test_framework_backtest_takes_tz_and_time_unit(goog, eurusd):
    result = backtest(SmaCross(fast=5, slow=20), [goog], tz="America/New_York")
    assert result.bars == 300
    assert backtest(SmaCross(fast=5, slow=20), [eurusd], tz="UTC", time_unit="s").bars == 600
    with pytest.raises(BarFileError, match="has no zone"):
        backtest(SmaCross(fast=5, slow=20), [goog])


def test_walk_forward_windows_read_times_as_the_bar_file_feed_does(tmp_path, eurusd):
    ms = write(tmp_path / "BTC.csv", "timestamp,open,high,low,close,volume",
               [str((T0 + 60 * i) * 1_000) for i in range(500)])  # fmt: skip
    train, test = WindowSize.parse("300", "--train"), WindowSize.parse("100", "--test")
    (first, _) = plan_windows([ms], train=train, test=test)
    assert first.describe()["train_start"] == "2024-01-02T14:30:00Z"
    (first, _, _) = plan_windows([eurusd], train=train, test=test, tz="America/New_York")
    assert first.describe()["train_start"] == "2017-04-19T13:00:00Z"
    # Without the zone the rows cut are the same; the bounds are the file's wall clock.
    (plain, _, _) = plan_windows([eurusd], train=train, test=test)
    assert plain.describe()["train_start"] == "2017-04-19T09:00:00Z"
    assert plain.train_data == first.train_data
