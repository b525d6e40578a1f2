"""One figure reads the same in the backtest summary, the sweep table and the HTML report."""

from __future__ import annotations

import re
from pathlib import Path

from framework import backtest
from framework.cli import main
from framework.results._display import format_statistic
from strategies.sma_cross import SmaCross

AAPL = Path(__file__).resolve().parents[2] / "examples" / "data" / "AAPL.csv"


def test_backtest_sweep_and_report_print_the_same_figures(tmp_path, capsys):
    stats = backtest(SmaCross(fast=10, slow=30), [AAPL]).stats
    expected = {
        name: format_statistic(name, stats[name])
        for name in ("total_return", "sharpe", "max_drawdown", "trades")
    }
    assert expected["total_return"].endswith("%")  # a percentage, not 0.0878

    report = tmp_path / "run.html"
    data = ["--data", str(AAPL)]
    assert main(["backtest", "sma_cross", *data, "--report", str(report)]) == 0
    summary = capsys.readouterr().out
    assert main(["sweep", "sma_cross", *data, "--grid", "fast=10", "--grid", "slow=30"]) == 0
    header, row, *_ = capsys.readouterr().out.splitlines()
    html = report.read_text(encoding="utf-8")

    table = dict(zip(header.split(), row.split(), strict=True))
    assert {name: table[name] for name in expected} == expected
    lines = {line[:15].strip(): line[15:] for line in summary.splitlines()}
    assert lines["return"].split()[0] == expected["total_return"]
    assert lines["sharpe"] == expected["sharpe"]
    assert lines["max drawdown"].split()[0] == expected["max_drawdown"]
    assert lines["trades"] == expected["trades"]
    for name, text in expected.items():
        cell = re.search(rf'<td title="{name}">[^<]*</td><td>([^<]*)</td>', html)
        assert cell is not None and cell[1] == text, name
