import csv
import datetime as dt
import io
import itertools
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from framework import ConfigError, backtest
from framework.cli import main
from framework.sweeps import (
    BarFileWindowFeed,
    Grid,
    LocalBackend,
    WindowSize,
    plan_windows,
    walk_forward,
)
from strategies.sma_cross import SmaCross

ROOT = Path(__file__).resolve().parents[2]
AAPL = ROOT / "examples" / "data" / "AAPL.csv"
MSFT = ROOT / "examples" / "data" / "MSFT.csv"
MINUTE = 60 * 10**9


def bars(n):
    return WindowSize.parse(str(n), "--train")


def test_bar_windows_roll_by_the_test_size_and_never_overlap():
    windows = plan_windows([AAPL], train=bars(5000), test=bars(1000))
    assert len(windows) == 5
    first_bar = 1_704_205_800 * 10**9
    assert windows[0].train == (first_bar, first_bar + 5000 * MINUTE)
    assert windows[0].test == (first_bar + 5000 * MINUTE, first_bar + 6000 * MINUTE)
    for before, after in itertools.pairwise(windows):
        assert after.test[0] == before.test[1]
        assert after.train[0] == before.train[0] + 1000 * MINUTE


def test_duration_windows_and_a_shorter_last_test_window():
    windows = plan_windows(
        [AAPL], train=WindowSize.parse("2D", "--train"), test=WindowSize.parse("1D", "--test")
    )
    day = 86_400 * 10**9
    assert [w.test[1] - w.test[0] for w in windows[:-1]] == [day] * (len(windows) - 1)
    assert 0 < windows[-1].test[1] - windows[-1].test[0] <= day
    with pytest.raises(ConfigError, match="both be bar counts or both be durations"):
        plan_windows([AAPL], train=bars(10), test=WindowSize.parse("1D", "--test"))
    with pytest.raises(ConfigError, match="too short"):
        plan_windows([AAPL], train=bars(10_000), test=bars(10))
    with pytest.raises(ConfigError, match="number of bars"):
        WindowSize.parse("5 days", "--test")


def test_a_window_feed_replays_exactly_the_rows_of_its_window(tmp_path):
    window = plan_windows([AAPL, MSFT], train=bars(3000), test=bars(2000))[1]
    lines = AAPL.read_text().splitlines()
    # Window 1 trains on bars 2000..4999 and tests on 5000..6999 (line 1 is the header).
    sliced = tmp_path / "AAPL.csv"
    sliced.write_text("\n".join([lines[0], *lines[5001:7001]]) + "\n")
    expected = backtest(SmaCross(), [sliced])
    feed = BarFileWindowFeed(AAPL, byte_range=window.test_data[0].byte_range)
    got = backtest(SmaCross(), [feed])
    assert got.bars == 2000
    assert (got.fills, got.final_equity, got.stats) == (
        expected.fills,
        expected.final_equity,
        expected.stats,
    )
    assert window.test_data[1].path == str(MSFT)


def test_walk_forward_tests_each_windows_best_parameters_out_of_sample():
    grid = Grid.parse(["fast=5,10", "slow=10,30"])
    result = walk_forward("sma_cross", [AAPL], grid, train=bars(5000), test=bars(2500),
                          rank_by="total_return", backend=LocalBackend(workers=2))  # fmt: skip
    assert len(result.windows) == 2
    for w in result.windows:
        best = w.train.best()
        assert w.params == best.params
        assert w.train.ranked[0].stats["total_return"] == max(
            r.stats["total_return"] for r in w.train.ranked
        )
        assert w.test.bars == 2500
    growth = (1 + result.windows[0].test.stats["total_return"]) * (
        1 + result.windows[1].test.stats["total_return"]
    )
    assert result.out_of_sample_return() == pytest.approx(growth - 1)
    rows = list(csv.DictReader(io.StringIO(result.to_csv())))
    assert [r["window"] for r in rows] == ["0", "1"]
    assert rows[0]["test_start"] == "2024-01-06T01:50:00Z"


def test_walk_forward_command(tmp_path, capsys):
    out = tmp_path / "wf.csv"
    code = main(["sweep", "sma_cross", "--data", str(AAPL), "--grid", "fast=5,10",
                 "--grid", "slow=30", "--train", "5000", "--test", "2500", "--workers", "2",
                 "--rank-by", "total_return", "--out", str(out)])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "out-of-sample return (test windows compounded)" in printed
    assert len(out.read_text().splitlines()) == 3
    assert (
        main(["sweep", "sma_cross", "--data", str(AAPL), "--grid", "fast=5", "--train", "50"]) == 2
    )
    assert "needs both --train and --test" in capsys.readouterr().err


def test_walk_forward_reads_naive_times_in_the_zone_given(tmp_path):
    # AAPL's rows with their times written as New York wall-clock times, no offset.
    new_york = ZoneInfo("America/New_York")
    rows = AAPL.read_text().splitlines()[1:4001]
    naive = tmp_path / "aapl_ny.csv"
    lines = ["Datetime,Open,High,Low,Close,Volume"]
    for row in rows:
        seconds, rest = row.split(",", 1)
        wall = dt.datetime.fromtimestamp(int(seconds), new_york).replace(tzinfo=None)
        lines.append(f"{wall:%Y-%m-%d %H:%M:%S},{rest}")
    naive.write_text("\n".join(lines) + "\n")
    result = walk_forward(
        "sma_cross",
        [naive],
        Grid.parse(["fast=5,10", "slow=30"]),
        train=bars(2000),
        test=bars(1000),
        backend=LocalBackend(workers=1),
        feed_options={"tz": "America/New_York"},
    )
    first_bar = 1_704_205_800 * 10**9  # 2024-01-02 09:30 in New York
    assert result.windows[0].window.train == (first_bar, first_bar + 2000 * MINUTE)
