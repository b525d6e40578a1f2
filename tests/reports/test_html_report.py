import json
import re
from pathlib import Path

import pytest
import trio

from framework import backtest
from framework.reports import build_report, build_report_async, render_html, write_html, write_png
from strategies.sma_cross import SmaCross

ROOT = Path(__file__).resolve().parents[2]
AAPL = ROOT / "examples" / "data" / "AAPL.csv"
MSFT = ROOT / "examples" / "data" / "MSFT.csv"

pytest.importorskip("plotly", reason="the HTML report needs plotly: pip install '.[report]'")

#: Evaluated in the page after load: what each chart actually drew, and the tables.
CHARTS_PROBE = """
(() => ({
  charts: [...document.querySelectorAll('.js-plotly-plot')].map(p => ({
    id: p.id,
    traces: (p.data || []).map(t => ({name: t.name, points: (t.x || []).length})),
    svg: p.querySelectorAll('svg.main-svg').length,
    drawn: p.querySelectorAll('.scatterlayer .trace').length,
  })),
  tables: [...document.querySelectorAll('table')].map(t => [t.id, t.rows.length]),
  plotly: typeof Plotly,
}))()
"""


@pytest.fixture(scope="module")
def two_symbol_result():
    return backtest(SmaCross(fast=10, slow=30), [AAPL, MSFT])


async def test_report_opens_in_chromium_with_charts_and_no_errors_or_requests(
    tmp_path, open_in_chromium, two_symbol_result
):
    report = await build_report_async(two_symbol_result, data=[AAPL, MSFT])
    page = write_html(report, tmp_path / "report.html")
    with trio.fail_after(90):
        load = await open_in_chromium(page, expression=CHARTS_PROBE)
    assert load.problems == []
    assert load.outside_requests == []
    value = load.value
    assert value["plotly"] == "object"
    charts = {c["id"]: c for c in value["charts"]}
    assert set(charts) == {"equity-chart", "price-chart-AAPL", "price-chart-MSFT"}
    equity = charts["equity-chart"]
    assert [t["name"] for t in equity["traces"]] == ["equity", "drawdown %"]
    assert all(t["points"] > 100 for t in equity["traces"])
    for symbol in ("AAPL", "MSFT"):
        chart = charts[f"price-chart-{symbol}"]
        assert [t["name"] for t in chart["traces"]] == [symbol, "buy", "sell"]
        assert chart["traces"][0]["points"] > 1_000
    assert all(c["svg"] >= 1 and c["drawn"] == len(c["traces"]) for c in charts.values())
    tables = dict(value["tables"])
    assert tables["trades"] == len(two_symbol_result.trades) + 1
    assert tables["monthly-returns"] == 2  # header + 2024
    assert tables["stats"] >= len(two_symbol_result.stats)


def test_html_requests_nothing_from_outside(two_symbol_result):
    text = render_html(build_report(two_symbol_result, data=[AAPL]))
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?(https?:)?//""", text)
    assert "cdn.plot.ly" not in text.split("</head>")[1]
    assert "<script" in text.split("</head>")[0]  # plotly.js inlined in the head


def test_same_result_gives_the_same_bytes(two_symbol_result):
    first = render_html(build_report(two_symbol_result, data=[AAPL, MSFT]))
    second = render_html(build_report(two_symbol_result, data=[AAPL, MSFT]))
    assert first == second


def test_saved_json_without_equity_rebuilds_the_runs_equity_from_fills_and_closes():
    result = backtest(SmaCross(fast=10, slow=30), [AAPL])
    saved = json.loads(result.to_json())
    saved.pop("equity", None)
    saved.pop("equity_curve", None)
    rebuilt = build_report(saved, data=[AAPL])
    direct = build_report(result)
    assert rebuilt.equity_source.startswith("rebuilt")
    assert rebuilt.equity.values[-1] == pytest.approx(result.final_equity, abs=1e-6)
    assert min(rebuilt.drawdown.values) == pytest.approx(-result.stats["max_drawdown"], abs=1e-12)
    assert rebuilt.monthly_returns == pytest.approx(direct.monthly_returns)


def test_without_data_files_the_report_still_renders_from_trades(two_symbol_result):
    saved = json.loads(two_symbol_result.to_json())
    saved.pop("equity", None)
    saved.pop("equity_curve", None)
    report = build_report(saved)
    assert report.equity_source.startswith("closed trades")
    assert report.prices == {}
    text = render_html(report)
    assert 'id="no-prices"' in text and 'id="equity-chart"' in text


def test_png_is_a_png(tmp_path, two_symbol_result):
    pytest.importorskip("matplotlib")
    out = write_png(build_report(two_symbol_result), tmp_path / "equity.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000
