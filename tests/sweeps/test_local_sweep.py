import csv
import io
from pathlib import Path

import pytest

from framework import ParameterError, backtest
from framework.cli import main
from framework.sweeps import Grid, LocalBackend, SweepRow, sweep
from strategies.sma_cross import SmaCross

ROOT = Path(__file__).resolve().parents[2]
AAPL = ROOT / "examples" / "data" / "AAPL.csv"

GRID = Grid.parse(["fast=5,10,20", "slow=10,30"])  # (10, 10) and (20, 10) are invalid


@pytest.fixture(scope="module")
def swept():
    return sweep("sma_cross", [AAPL], GRID, backend=LocalBackend(workers=2), rank_by="sharpe")


def test_each_row_equals_a_plain_backtest_with_those_parameters(swept):
    for row in swept.ranked:
        result = backtest(SmaCross(**row.params), [AAPL])
        assert row.stats == result.stats
        assert row.final_equity == result.final_equity
        assert row.bars == 10_000


def test_rows_are_ranked_best_first_and_invalid_combinations_are_skipped(swept):
    sharpes = [row.stats["sharpe"] for row in swept.ranked]
    assert sharpes == sorted(sharpes, reverse=True)
    assert [r.params for r in swept.skipped] == [{"fast": 10, "slow": 10}, {"fast": 20, "slow": 10}]
    assert swept.skipped[0].reason == "fast (10) must be shorter than slow (10)"
    assert swept.rows[-2:] == tuple(swept.skipped)
    assert swept.best() == swept.ranked[0]


def test_lower_is_better_for_drawdown_and_ties_keep_grid_order():
    rows = sweep("sma_cross", [AAPL], Grid.parse(["fast=5,10", "slow=30"]), rank_by="max_drawdown",
                 backend=LocalBackend(workers=1))  # fmt: skip
    drawdowns = [r.stats["max_drawdown"] for r in rows.ranked]
    assert drawdowns == sorted(drawdowns)
    tied = sweep("sma_cross", [AAPL], Grid.parse(["qty=1,1", "fast=5"]), rank_by="trades",
                 backend=LocalBackend(workers=2))  # fmt: skip
    assert [r.number for r in tied.ranked] == [0, 1]


def test_csv_has_every_row_with_exact_floats(swept):
    rows = list(csv.DictReader(io.StringIO(swept.to_csv())))
    assert len(rows) == len(GRID)
    first = swept.ranked[0]
    assert float(rows[0]["sharpe"]) == first.stats["sharpe"]
    assert rows[0]["rank"] == "1" and rows[-1]["rank"] == ""
    assert rows[-1]["status"] == "skipped"


def test_unknown_parameter_or_statistic_fails_the_whole_sweep():
    with pytest.raises(ParameterError, match="SmaCross has no parameter 'speed'"):
        sweep("sma_cross", [AAPL], Grid.parse(["speed=1,2"]))
    with pytest.raises(ValueError, match="cannot rank by 'luck'"):
        sweep("sma_cross", [AAPL], Grid.parse(["fast=5"]), rank_by="luck",
              backend=LocalBackend(workers=1))  # fmt: skip


def test_sweep_command_prints_the_top_rows_and_writes_csv(tmp_path, capsys):
    out = tmp_path / "sweep.csv"
    code = main(["sweep", "sma_cross", "--data", str(AAPL), "--grid", "fast=5,10,20",
                 "--grid", "slow=10,30", "--workers", "2", "--top", "2", "--out", str(out),
                 "--rank-by", "total_return"])  # fmt: skip
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    header = ["rank", "fast", "slow", "total_return", "sharpe", "max_drawdown", "trades"]
    assert lines[0].split() == header
    assert len(lines) == 4 and lines[-1].startswith("4 ran, 2 skipped")
    assert len(out.read_text().splitlines()) == 7


def test_rows_pickle_small():
    import pickle

    row = SweepRow(number=3, params={"fast": 5}, status="ok", stats={"sharpe": 1.5})
    assert pickle.loads(pickle.dumps(row)) == row


def test_bad_data_stops_the_sweep_with_the_file_and_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("time,open,high,low,close,volume\n1704205800,1,1,1,1,1\n1704205860,x,1,1,1,1\n")
    code = main(["sweep", "sma_cross", "--data", str(bad), "--interval", "1m",
                 "--grid", "fast=5,6", "--workers", "2"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("tradewire: error: backtest with fast=5 failed: ")
    assert err[0].endswith(f"{bad}:3: unparsable number in ['1704205860', 'x', '1', '1', '1', '1']")


def test_costs_apply_to_every_backtest_of_the_sweep(tmp_path):
    free, costly = tmp_path / "free.csv", tmp_path / "costly.csv"
    base = [
        "sweep",
        "sma_cross",
        "--data",
        str(AAPL),
        "--grid",
        "fast=5,10",
        "--workers",
        "1",
        "-q",
    ]
    assert main([*base, "--out", str(free)]) == 0
    assert main([*base, "--out", str(costly), "--commission", "fixed:1"]) == 0
    rows = {p: list(csv.DictReader(io.StringIO(p.read_text()))) for p in (free, costly)}
    for a, b in zip(rows[free], rows[costly], strict=True):
        assert float(b["commissions"]) == float(a["fills"])  # 1 per order, one fill per order
