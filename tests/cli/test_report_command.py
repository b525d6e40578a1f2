import json
from pathlib import Path

import pytest

from framework.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = str(ROOT / "examples" / "data" / "AAPL.csv")

pytest.importorskip("matplotlib", reason="the PNG needs matplotlib: pip install '.[report]'")


def backtest(*extra: str) -> int:
    return main(["backtest", "sma_cross", "--data", SAMPLE, "-q", *extra])


def test_backtest_writes_report_and_png_and_leaves_json_unchanged(tmp_path):
    assert backtest("--json", str(tmp_path / "plain.json")) == 0
    html, png = tmp_path / "run.html", tmp_path / "run.png"
    assert (
        backtest("--json", str(tmp_path / "with.json"), "--report", str(html), "--png", str(png))
        == 0
    )
    assert (tmp_path / "plain.json").read_bytes() == (tmp_path / "with.json").read_bytes()
    text = html.read_text(encoding="utf-8")
    assert 'id="equity-chart"' in text and 'id="price-chart-AAPL"' in text
    assert "the equity curve of the run" in text
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_report_command_rebuilds_a_report_from_saved_json(tmp_path, capsys):
    result = tmp_path / "r.json"
    assert backtest("--json", str(result)) == 0
    out = tmp_path / "out.html"
    code = main(
        ["report", str(result), "-o", str(out), "--data", SAMPLE, "--png", str(tmp_path / "e.png")]
    )
    assert code == 0
    assert capsys.readouterr().out.splitlines() == [f"wrote {out}", f"wrote {tmp_path / 'e.png'}"]
    text = out.read_text(encoding="utf-8")
    assert 'id="price-chart-AAPL"' in text
    assert "rebuilt from the fills and the bar closes" in text
    trades = len(json.loads(result.read_bytes())["trades"])
    assert text.count("<tr><td>") >= trades


def test_report_without_data_defaults_next_to_the_result(tmp_path):
    result = tmp_path / "r.json"
    assert backtest("--json", str(result)) == 0
    assert main(["report", str(result), "-q"]) == 0
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="no-prices"' in text and "closed trades only" in text


def test_report_of_something_else_is_one_error_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    assert main(["report", str(bad)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"tradewire: error: {bad} is not a tradewire result (no start_cash)"
    )
    assert main(["report", str(tmp_path / "missing.json")]) == 2
    assert "result file not found" in capsys.readouterr().err


def test_report_command_reads_naive_times_in_the_zone_given(tmp_path, capsys):
    # backtesting.py's layout: an unnamed date column, dates without a zone.
    daily = tmp_path / "GOOG.csv"
    rows = [
        f"2004-08-{day:02d},{100 + day},{102 + day},{99 + day},{101 + day},1000"
        for day in range(19, 31)
    ]
    daily.write_text(",Open,High,Low,Close,Volume\n" + "\n".join(rows) + "\n")
    result = tmp_path / "r.json"
    assert (
        main(
            [
                "backtest",
                "sma_cross",
                "--data",
                str(daily),
                "--tz",
                "UTC",
                "-q",
                "--json",
                str(result),
            ]
        )
        == 0
    )
    out = tmp_path / "out.html"
    assert main(["report", str(result), "-o", str(out), "--data", str(daily)]) == 2
    assert "--tz" in capsys.readouterr().err
    assert main(["report", str(result), "-o", str(out), "--data", str(daily), "--tz", "UTC"]) == 0
    assert 'id="price-chart-GOOG"' in out.read_text(encoding="utf-8")
