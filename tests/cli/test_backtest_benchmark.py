"""`tradewire backtest --benchmark SYMBOL_OR_FILE`: the benchmark's return, alpha and beta in
the summary, the JSON, the Parquet directory and the report's statistics table; one clear
line for a benchmark that cannot be used."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from framework.cli import main
from framework.results._display import statistic_label

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
AAPL, MSFT = str(EXAMPLES / "AAPL.csv"), str(EXAMPLES / "MSFT.csv")
STRATEGY = "strategies.sma_cross:SmaCross"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["backtest", STRATEGY, "--data", AAPL, *args])
    out, err = capsys.readouterr()
    return code, out, err


def summary_line(out: str, label: str) -> str:
    (line,) = [line for line in out.splitlines() if line.startswith(label + " ")]
    return line


def test_a_benchmark_file_shows_in_the_summary_json_and_parquet(tmp_path, capsys):
    out_dir, json_file = str(tmp_path / "out"), str(tmp_path / "r.json")
    code, out, _ = run(capsys, "--benchmark", MSFT, "--json", json_file, "--out", out_dir)
    assert code == 0
    stats = json.loads((tmp_path / "r.json").read_text())["stats"]
    assert stats["benchmark"] == "MSFT"
    assert {"benchmark_return", "alpha", "beta"} <= stats.keys()
    assert all(isinstance(stats[k], float) for k in ("benchmark_return", "alpha", "beta"))
    line = summary_line(out, "benchmark")
    assert line == (
        f"benchmark      MSFT {stats['benchmark_return'] * 100:.2f}%"
        f" (alpha {stats['alpha'] * 100:.2f}%, beta {stats['beta']:.2f})"
    )
    assert summary_line(out, "buy & hold").startswith("buy & hold     -21.81% (AAPL)")
    written = json.loads((tmp_path / "out" / "stats.json").read_text())["stats"]
    assert written == stats


def test_a_benchmark_symbol_of_the_data_gives_what_its_file_gives(tmp_path, capsys):
    # SmaCross trades every symbol it gets bars of: a run over both files is another run, so
    # the benchmark's own figure is what must agree.
    json_file = str(tmp_path / "a.json")
    code, out, _ = run(capsys, "--data", MSFT, "--benchmark", "MSFT", "--json", json_file)
    assert code == 0
    both = json.loads((tmp_path / "a.json").read_text())["stats"]
    assert both["benchmark"] == "MSFT"
    assert both["benchmark_return"] == both["buy_and_hold_by_symbol"]["MSFT"]
    code, _, _ = run(capsys, "--benchmark", MSFT, "--json", str(tmp_path / "b.json"))
    alone = json.loads((tmp_path / "b.json").read_text())["stats"]
    assert alone["benchmark_return"] == both["benchmark_return"]
    assert "buy & hold     " in out and "(equal weight of 2 symbols)" in out


def test_the_report_lists_the_new_statistics_and_the_benchmark(tmp_path, capsys):
    report = tmp_path / "r.html"
    code, _, _ = run(capsys, "--benchmark", MSFT, "--report", str(report))
    assert code == 0
    page = report.read_text(encoding="utf-8")
    for key in ("buy_and_hold_return", "buy_and_hold_by_symbol", "calmar", "sqn", "expectancy",
                "best_trade", "worst_trade", "avg_trade_duration_s", "max_trade_duration_s",
                "max_consecutive_losses", "avg_win", "avg_loss", "benchmark", "benchmark_return",
                "alpha", "beta"):  # fmt: skip
        label = html.escape(statistic_label(key).label)
        assert f'title="{key}">{label}<' in page, key


@pytest.mark.parametrize(
    ("benchmark", "message"),
    [
        (
            "NOPE",
            "benchmark 'NOPE' is not a symbol of the run's data (its symbols: AAPL); give one "
            "of them, or a bar file of the benchmark",
        ),
        ("missing.csv", "benchmark missing.csv: data file not found: missing.csv"),
    ],
)
def test_a_benchmark_that_cannot_be_used_is_one_error_line(
    benchmark, message, capsys, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "--benchmark", benchmark, "--json", "r.json")
    assert code == 2
    assert err.strip().splitlines() == [f"tradewire: error: {message}"]
    assert not (tmp_path / "r.json").exists()
