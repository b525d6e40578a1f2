import csv
import io
from pathlib import Path

import pytest

from framework import ParameterError, backtest
from framework.cli import main
from framework.sweeps import Grid, LocalBackend, SweepRow, WindowSize, sweep, walk_forward
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


ACCEPTED_FORMS = "an axis is a range NAME=START:STOP[:STEP] or a list NAME=V1,V2,..."


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("fast=5-20", "--grid fast=5-20: '5-20' is not an int (for a range write fast=5:20); "),
        ("fast=5,ten", "--grid fast=5,ten: 'ten' is not an int; "),
        ("fast=5:20:2.5", "--grid fast=5:20:2.5: 5.0 is not an int; "),
        ("qty=1,lots", "--grid qty=1,lots: 'lots' is not a float; "),
    ],
)
def test_a_value_of_the_wrong_type_fails_the_sweep_before_it_runs(spec, message):
    class Refuses(LocalBackend):
        def run(self, jobs, on_row=None):
            raise AssertionError("nothing may run")

    with pytest.raises(ParameterError) as caught:
        sweep("sma_cross", [AAPL], Grid.parse([spec]), backend=Refuses(workers=1))
    assert str(caught.value) == message + ACCEPTED_FORMS


def test_a_grid_whose_every_combination_is_rejected_fails_the_sweep():
    grid = Grid.parse(["fast=30,40", "slow=20,30"])
    message = (
        "no combination of --grid fast=30,40 --grid slow=20,30 can run: SmaCross rejects all 4 "
        "(first: fast=30 slow=20: fast (30) must be shorter than slow (20))"
    )
    with pytest.raises(ParameterError) as caught:
        sweep("sma_cross", [AAPL], grid, backend=LocalBackend(workers=1))
    assert str(caught.value) == message
    train, test = WindowSize.parse("5000", "--train"), WindowSize.parse("2000", "--test")
    with pytest.raises(ParameterError, match="no combination of --grid fast=30,40"):
        walk_forward("sma_cross", [AAPL], grid, train=train, test=test,
                     backend=LocalBackend(workers=1))  # fmt: skip


def test_values_out_of_bounds_are_skipped_combinations_not_grid_errors():
    swept = sweep("sma_cross", [AAPL], Grid.parse(["fast=0,5"]), backend=LocalBackend(workers=1))
    assert [r.params for r in swept.ranked] == [{"fast": 5}]
    assert swept.skipped[0].reason == "parameter 'fast' must be >= 1, got 0"


@pytest.mark.parametrize(
    ("grids", "error"),
    [
        (["fast=5-20"], "tradewire: error: --grid fast=5-20: '5-20' is not an int"),
        (["fast=30", "slow=20"], "tradewire: error: no combination of --grid fast=30 --grid"),
    ],
)
def test_sweep_command_that_would_run_nothing_exits_2_with_one_line(capsys, grids, error):
    args = ["sweep", "sma_cross", "--data", str(AAPL), "--workers", "1"]
    code = main([*args, *(a for g in grids for a in ("--grid", g))])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(error), lines
