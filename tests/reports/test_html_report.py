"""The HTML report's file: what its JSON document draws, that it is self-contained, and how it
is built from a saved result. What a browser makes of it: test_chart_in_browser.py."""

import json
import math
import re
from pathlib import Path

import pytest

from framework import ConfigError, backtest
from framework.cli import main
from framework.indicators import SMA
from framework.reports import build_report, render_html, write_png
from framework.reports._assets import chart_library, read_chart_library
from strategies.sma_cross import SmaCross

ROOT = Path(__file__).resolve().parents[2]
AAPL = ROOT / "examples" / "data" / "AAPL.csv"
MSFT = ROOT / "examples" / "data" / "MSFT.csv"


def page_data(text: str) -> dict:
    """The JSON document the page's script draws from, with its times rebuilt."""
    found = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', text)
    assert found is not None
    data = json.loads(found.group(1))
    times, t = [], 0
    for step in data["timeSteps"]:
        t += step
        times.append(t)
    data["times"] = times
    return data


def closes_of(path: Path) -> list[tuple[int, float]]:
    """(bar close time in seconds, close) of a one-minute bar file."""
    rows = path.read_text().splitlines()[1:]
    return [(int(r.split(",")[0]) + 60, float(r.split(",")[4])) for r in rows]


@pytest.fixture(scope="module")
def two_symbol_result():
    return backtest(SmaCross(fast=10, slow=30), [AAPL, MSFT], plots=True)


@pytest.fixture(scope="module")
def two_symbol_page(two_symbol_result):
    return render_html(build_report(two_symbol_result, data=[AAPL, MSFT]))


def test_the_page_carries_its_chart_library_once_and_requests_nothing(two_symbol_page):
    head, body = two_symbol_page.split("</head>")
    version, library = chart_library()
    assert head.count(library) == 1 and library not in body
    assert "TradingView Lightweight Charts" in library and re.fullmatch(r"5\.\d+\.\d+", version)
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=""", two_symbol_page)
    assert "plotly" not in two_symbol_page.lower()
    # Attribution the library's licence asks for.
    assert f"TradingView Lightweight Charts™ {version}" in body


def test_every_bar_is_a_candle_on_the_grid_when_the_run_is_short(two_symbol_page):
    data = page_data(two_symbol_page)
    assert data["width"] == 1
    charts = {c["symbol"]: c for c in data["charts"] if c["kind"] == "symbol"}
    assert set(charts) == {"AAPL", "MSFT"}
    for symbol, path in (("AAPL", AAPL), ("MSFT", MSFT)):
        candles = charts[symbol]["candles"]
        drawn = {
            t: c for t, c in zip(data["times"], candles["close"], strict=True) if c is not None
        }
        assert drawn == dict(closes_of(path))


def test_the_smas_are_drawn_over_their_symbols_candles(two_symbol_page):
    data = page_data(two_symbol_page)
    for chart in (c for c in data["charts"] if c["kind"] == "symbol"):
        (price,) = chart["panels"]
        assert price["name"] == "price"
        assert [s["name"] for s in price["series"]] == ["sma_fast", "sma_slow"]
        closes = closes_of(AAPL if chart["symbol"] == "AAPL" else MSFT)
        for series, length in zip(price["series"], (10, 30), strict=True):
            sma = SMA(length)
            expected = {t: sma.update(c) for t, c in closes}
            drawn = dict(zip(data["times"], series["values"], strict=True))
            # The strategy plots once both averages are ready: from the slow one's warm-up.
            assert [t for t, v in drawn.items() if v is not None] == [t for t, _ in closes[29:]]
            for t, value in drawn.items():
                if value is not None:
                    assert value == pytest.approx(expected[t], rel=1e-7)


def test_trade_lines_join_each_entry_to_its_exit_at_the_fill_prices(
    two_symbol_result, two_symbol_page
):
    data = page_data(two_symbol_page)
    times = data["times"]
    for chart in (c for c in data["charts"] if c["kind"] == "symbol"):
        lines = chart["trades"]
        trades = [t for t in two_symbol_result.trades if t.symbol == chart["symbol"]]
        assert len(lines["pnl"]) == len(trades) > 10
        assert lines["pnl"] == [t.pnl for t in trades]
        assert lines["entryPrice"] == [t.entry_price for t in trades]
        assert lines["exitPrice"] == [t.exit_price for t in trades]
        # A fill at a bar's open sits at the slot of the bar that closed then.
        assert [times[i] for i in lines["entry"]] == [t.entry_time // 10**9 for t in trades]
        assert [times[i] for i in lines["exit"]] == [t.exit_time // 10**9 for t in trades]


def test_equity_drawdown_and_buy_and_hold_are_on_the_grid(two_symbol_result, two_symbol_page):
    data = page_data(two_symbol_page)
    (equity,) = [c for c in data["charts"] if c["kind"] == "equity"]
    assert len(equity["equity"]) == len(data["times"])
    assert equity["equity"][-1] == pytest.approx(two_symbol_result.final_equity, rel=1e-8)
    assert min(v for v in equity["drawdown"] if v is not None) == pytest.approx(
        -two_symbol_result.stats["max_drawdown"], rel=1e-7
    )
    held = [v for v in equity["buyAndHold"] if v is not None]
    expected = 100_000 * (1 + two_symbol_result.stats["buy_and_hold_return"])
    assert held[-1] == pytest.approx(expected, rel=1e-7)  # drawn to 8 digits


def test_same_result_gives_the_same_bytes(two_symbol_result, two_symbol_page):
    assert render_html(build_report(two_symbol_result, data=[AAPL, MSFT])) == two_symbol_page


def test_names_that_would_end_the_script_element_stay_inside_it():
    from framework import Strategy

    class Odd(Strategy):
        name = "</script><b>x"

        def on_bar(self, bar):
            self.plot("</script>", bar.close, panel="<p>")

    text = render_html(build_report(backtest(Odd(), [AAPL], plots=True), data=[AAPL]))
    assert text.count("</script>") == text.count("<script")
    assert page_data(text)["charts"][0]["panels"][0]["name"] == "<p>"


def test_backtest_report_from_the_command_line_draws_the_smas(tmp_path):
    out = tmp_path / "r.html"
    command = ["backtest", "strategies.sma_cross:SmaCross", "--data", str(AAPL), "-q"]
    assert main([*command, "--report", str(out)]) == 0
    data = page_data(out.read_text(encoding="utf-8"))
    (chart, _) = data["charts"]
    assert [s["name"] for s in chart["panels"][0]["series"]] == ["sma_fast", "sma_slow"]
    assert sum(v is not None for v in chart["candles"]["close"]) == 10_000


def test_saved_json_without_equity_rebuilds_the_runs_equity_from_fills_and_closes():
    result = backtest(SmaCross(fast=10, slow=30), [AAPL], plots=True)
    saved = json.loads(result.to_json())
    saved.pop("equity", None)
    saved.pop("equity_curve", None)
    rebuilt = build_report(saved, data=[AAPL])
    direct = build_report(result)
    assert rebuilt.equity_source.startswith("rebuilt")
    assert rebuilt.equity.values[-1] == pytest.approx(result.final_equity, abs=1e-6)
    assert min(rebuilt.drawdown.values) == pytest.approx(-result.stats["max_drawdown"], abs=1e-12)
    assert rebuilt.monthly_returns == pytest.approx(direct.monthly_returns)
    # A saved result holds no plots, and says so.
    assert rebuilt.chart.plots == () and "Strategy.plot" in rebuilt.plots_note


def test_without_data_files_the_report_still_renders_from_trades(two_symbol_result):
    saved = json.loads(two_symbol_result.to_json())
    saved.pop("equity", None)
    saved.pop("equity_curve", None)
    report = build_report(saved)
    assert report.equity_source.startswith("closed trades")
    assert report.chart.candles == {} and report.chart.buy_and_hold == ()
    text = render_html(report)
    assert 'id="no-prices"' in text and 'id="equity-chart"' in text
    (equity,) = page_data(text)["charts"]
    assert equity["buyAndHold"] is None


def test_monthly_returns_chain_month_ends(two_symbol_result):
    report = build_report(two_symbol_result)
    ((month, value),) = report.monthly_returns.items()
    assert month == (2024, 1)
    assert value == pytest.approx(two_symbol_result.final_equity / 100_000 - 1, abs=1e-12)


def test_a_missing_chart_library_is_a_config_error_saying_how_to_get_it(tmp_path):
    with pytest.raises(ConfigError, match=r"lightweight-charts.*npm registry.*pip install -e \."):
        read_chart_library(tmp_path)


def test_png_is_a_png(tmp_path, two_symbol_result):
    pytest.importorskip("matplotlib")
    out = write_png(build_report(two_symbol_result), tmp_path / "equity.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000


def test_nan_plots_are_gaps_not_values():
    from framework import Strategy

    class Gappy(Strategy):
        def on_start(self):
            self.n = 0

        def on_bar(self, bar):
            self.n += 1
            self.plot("every_other", None if self.n % 2 else bar.close, panel="gaps")

    report = build_report(backtest(Gappy(), [AAPL], plots=True), data=[AAPL])
    (column,) = report.chart.plots
    assert sum(v is None for v in column.values) == 5_000
    assert all(v is None or math.isfinite(v) for v in column.values)


def test_a_benchmark_among_the_symbols_is_drawn_as_the_start_cash_held_in_it(two_symbol_result):
    saved = json.loads(two_symbol_result.to_json())
    saved["stats"]["benchmark"] = "MSFT"  # as --benchmark MSFT names it
    report = build_report(saved, data=[AAPL, MSFT])
    assert report.chart.benchmark_name == "MSFT"
    curve = [v for v in report.chart.benchmark if v is not None]
    msft = [c for _, c in closes_of(MSFT)]
    # Bought at the first close of the run, marked at each close since.
    assert curve == pytest.approx([100_000 * c / msft[0] for c in msft], rel=1e-12)
    (equity,) = [c for c in page_data(render_html(report))["charts"] if c["kind"] == "equity"]
    assert equity["benchmarkName"] == "MSFT"
    assert equity["benchmark"][-1] == pytest.approx(100_000 * msft[-1] / msft[0], rel=1e-7)
    # Without the benchmark's bars there is nothing to draw.
    assert build_report(saved, data=[AAPL]).chart.benchmark == ()


def test_backtest_benchmark_curve_ends_at_the_benchmark_return():
    result = backtest(SmaCross(), [AAPL, MSFT], benchmark="MSFT", plots=True)
    report = build_report(result, data=[AAPL, MSFT])
    last = [v for v in report.chart.benchmark if v is not None][-1]
    assert last == pytest.approx(100_000 * (1 + result.stats["benchmark_return"]), rel=1e-12)
