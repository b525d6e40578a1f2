"""The report's charts in a real browser (Debian's Chromium, driven over the DevTools protocol):
what they drew, that they move together, what a user sees and what hovering a trade says."""

import datetime as dt
import io
import random
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from framework import Strategy, backtest
from framework.indicators import RSI
from framework.reports import MAX_CHART_TIMES, build_report, write_html
from strategies.sma_cross import SmaCross

ROOT = Path(__file__).resolve().parents[2]
AAPL = ROOT / "examples" / "data" / "AAPL.csv"
MSFT = ROOT / "examples" / "data" / "MSFT.csv"

#: Resolves once the page's script has built the charts and the browser has painted them.
READY = """
new Promise((resolve) => {
  const report = () => window.tradewireReport;
  const wait = () => (report() && report().ready ? resolve(true) : setTimeout(wait, 20));
  wait();
})
"""
#: Two animation frames: what a range change sets off has run and been painted.
FRAMES = "new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"
#: What each chart drew: series and how many points that are not gaps, panes, sizes.
DRAWN = """
(() => tradewireReport.charts.map((c) => ({
  id: c.id,
  kind: c.kind,
  symbol: c.symbol,
  panes: c.chart.panes().length,
  width: document.getElementById(c.id).getBoundingClientRect().width,
  series: Object.fromEntries(Object.entries(c.series).map(([name, s]) => [name, {
    points: s.data().filter((d) => d.value !== undefined || d.open !== undefined).length,
    pane: s.getPane().paneIndex(),
    min: Math.min(...s.data().filter((d) => d.value !== undefined).map((d) => d.value)),
    max: Math.max(...s.data().filter((d) => d.value !== undefined).map((d) => d.value)),
  }])),
})))()
"""
RANGES = "tradewireReport.charts.map((c) => c.chart.timeScale().getVisibleLogicalRange())"


def set_range(chart: int, start: float, end: float) -> str:
    return (
        f"tradewireReport.charts[{chart}].chart.timeScale()"
        f".setVisibleLogicalRange({{from: {start}, to: {end}}})"
    )


def shown(value: float) -> str:
    """A number as the tooltip writes it: grouped, 2 decimals from 1,000, 4 from 1, else 6."""
    digits = 2 if value >= 1_000 else 4 if value >= 1 else 6
    return f"{value:,.{digits}f}".rstrip("0").rstrip(".")


async def wait_ready(tab):
    with trio.fail_after(60):
        assert await tab.evaluate(READY) is True


def colour_counts(png: bytes, box, colours, tolerance=12):
    """How many pixels inside ``box`` (left, top, right, bottom) are each of ``colours``."""
    image = pytest.importorskip("PIL.Image").open(io.BytesIO(png)).convert("RGB")
    region = image.crop(tuple(int(v) for v in box))
    counts = dict.fromkeys(colours, 0)
    for n, pixel in region.getcolors(region.width * region.height):
        for name, rgb in colours.items():
            if all(abs(a - b) <= tolerance for a, b in zip(pixel, rgb, strict=True)):
                counts[name] += n
    return counts, region


async def test_backtest_report_draws_candles_smas_and_trade_lines_that_move_together(
    tmp_path, open_in_chromium
):
    page = tmp_path / "r.html"
    command = [sys.executable, "-m", "framework", "backtest", "strategies.sma_cross:SmaCross"]
    command += ["--data", str(AAPL), "--report", str(page), "-q"]
    with trio.fail_after(120):
        await trio.run_process(command, stdout=subprocess.DEVNULL)
    result = await trio.to_thread.run_sync(lambda: backtest(SmaCross(), [AAPL], plots=True))
    # A trade that spans a few bars, and a window of bars around it.
    first_bar = int(AAPL.read_text().splitlines()[1].split(",")[0]) + 60
    number, trade = next(
        (i, t) for i, t in enumerate(result.trades) if t.exit_time - t.entry_time >= 10 * 60 * 10**9
    )
    entry_slot = (trade.entry_time // 10**9 - first_bar) // 60
    exit_slot = (trade.exit_time // 10**9 - first_bar) // 60
    window = (entry_slot - 40, exit_slot + 40)

    async def interact(tab):
        await wait_ready(tab)
        found = {"drawn": await tab.evaluate(DRAWN)}
        found["lines_whole_run"] = await tab.evaluate("tradewireReport.tradeLinesDrawn()")
        # Moving the price chart moves the equity chart, and the other way round.
        await tab.evaluate(set_range(0, *window))
        await tab.evaluate(FRAMES)
        found["after_price_moved"] = await tab.evaluate(RANGES)
        await tab.evaluate(set_range(1, 5_000, 5_200))
        await tab.evaluate(FRAMES)
        found["after_equity_moved"] = await tab.evaluate(RANGES)
        await tab.evaluate(set_range(1, *window))
        await tab.evaluate(FRAMES)
        found["lines_in_window"] = await tab.evaluate("tradewireReport.tradeLinesDrawn()")
        found["layout"] = await tab.evaluate(
            "({inner: innerWidth, client: document.documentElement.clientWidth, "
            "box: (() => { const r = document.getElementById('price-chart-AAPL')"
            ".getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })()})"
        )
        screenshot = await tab.screenshot()
        # Point at the middle of the trade's line: the tooltip tells its P&L.
        point = await tab.evaluate(f"tradewireReport.tradePoint('AAPL', {number})")
        await tab.mouse_move(point["x"], point["y"])
        await tab.evaluate(FRAMES)
        found["tooltip"] = await tab.evaluate(
            "(() => { const t = document.getElementById('trade-tooltip'); "
            "return {hidden: t.hidden, text: t.textContent, kind: t.className}; })()"
        )
        await tab.mouse_move(5, 5)
        await tab.evaluate(FRAMES)
        found["tooltip_after"] = await tab.evaluate(
            "document.getElementById('trade-tooltip').hidden"
        )
        return found, screenshot

    with trio.fail_after(120):
        load = await open_in_chromium(page, interact=interact)
    assert load.problems == []
    assert load.outside_requests == []
    found, screenshot = load.value

    price, equity = found["drawn"]
    assert (price["id"], price["kind"], equity["id"]) == (
        "price-chart-AAPL",
        "symbol",
        "equity-chart",
    )
    assert price["series"]["candles"]["points"] == 10_000
    assert price["series"]["volume"]["points"] == 10_000
    closes = [float(row.split(",")[4]) for row in AAPL.read_text().splitlines()[1:]]
    for name in ("price/sma_fast", "price/sma_slow"):
        sma = price["series"][name]
        assert sma["points"] == 10_000 - 29 and sma["pane"] == 0
        assert min(closes) <= sma["min"] <= sma["max"] <= max(closes)
    assert set(equity["series"]) == {"equity", "buyAndHold", "drawdown"}
    assert equity["series"]["drawdown"]["pane"] == 1
    assert equity["series"]["equity"]["points"] == 10_000
    assert found["lines_whole_run"] == len(result.trades)

    start, end = window
    assert found["after_price_moved"] == [{"from": start, "to": end}] * 2
    assert found["after_equity_moved"] == [{"from": 5_000, "to": 5_200}] * 2
    assert 1 <= found["lines_in_window"] < len(result.trades)

    # Full width: every chart spans the page, the page the window.
    layout = found["layout"]
    assert layout["inner"] == 1400 and layout["client"] >= 1380
    assert {c["width"] for c in found["drawn"]} == {layout["client"]}

    # What a user sees of the price chart: candles both ways, both averages, the trade.
    png = pytest.importorskip("PIL.Image").open(io.BytesIO(screenshot))
    assert png.size == (1400, 900)
    colours = {
        "up": (38, 166, 154),
        "down": (239, 83, 80),
        "sma_fast": (255, 109, 0),
        "sma_slow": (41, 98, 255),
        "trade": (22, 163, 74) if trade.pnl >= 0 else (220, 38, 38),
    }
    counts, region = colour_counts(screenshot, layout["box"], colours)
    assert all(n > 30 for n in counts.values()), counts
    assert len(region.getcolors(region.width * region.height)) > 50  # not blank

    tooltip = found["tooltip"]
    entry = dt.datetime.fromtimestamp(trade.entry_time // 10**9, dt.UTC)
    exit_ = dt.datetime.fromtimestamp(trade.exit_time // 10**9, dt.UTC)
    assert tooltip["hidden"] is False
    assert tooltip["text"].startswith(f"AAPL long {trade.qty:g}: {entry:%Y-%m-%d %H:%M} @ ")
    assert f"→ {exit_:%Y-%m-%d %H:%M} @ " in tooltip["text"]
    assert tooltip["text"].endswith(f"P&L {'+' if trade.pnl >= 0 else '-'}{shown(abs(trade.pnl))}")
    assert tooltip["kind"] == ("profit" if trade.pnl >= 0 else "loss")
    assert found["tooltip_after"] is True


class RsiDips(Strategy):
    """Buys a dip of the RSI, sells its recovery; plots the RSI in a panel of its own."""

    def on_start(self):
        self.rsi = {}

    def on_bar(self, bar):
        rsi = self.rsi.setdefault(bar.symbol, RSI(14))
        value = rsi.update(bar.close)
        self.plot("rsi", value, panel="rsi", symbol=bar.symbol)
        if value is None:
            return
        held = self.position(bar.symbol).qty
        if held == 0 and value < 25:
            self.buy(bar.symbol, 10)
        elif held > 0 and value > 60:
            self.close(bar.symbol)


async def test_an_indicator_in_a_panel_of_its_own_under_each_symbol(tmp_path, open_in_chromium):
    result = await trio.to_thread.run_sync(lambda: backtest(RsiDips(), [AAPL, MSFT], plots=True))
    report = await trio.to_thread.run_sync(lambda: build_report(result, data=[AAPL, MSFT]))
    page = write_html(report, tmp_path / "rsi.html")

    async def interact(tab):
        await wait_ready(tab)
        drawn = await tab.evaluate(DRAWN)
        await tab.evaluate(set_range(1, 100, 300))
        await tab.evaluate(FRAMES)
        return drawn, await tab.evaluate(RANGES)

    with trio.fail_after(120):
        load = await open_in_chromium(page, interact=interact)
    assert load.problems == [] and load.outside_requests == []
    drawn, ranges = load.value
    assert [(c["kind"], c["symbol"], c["panes"]) for c in drawn] == [
        ("symbol", "AAPL", 2),
        ("symbol", "MSFT", 2),
        ("equity", None, 2),
    ]
    for chart in drawn[:2]:
        rsi = chart["series"]["rsi/rsi"]
        assert rsi["pane"] == 1 and rsi["points"] == 10_000 - 14
        assert 0 <= rsi["min"] < 25 and 60 < rsi["max"] <= 100
        assert chart["series"]["candles"]["pane"] == 0
    assert ranges == [{"from": 100, "to": 300}] * 3


def write_random_walk(path: Path, bars: int) -> None:
    rng = random.Random(11)
    price, lines = 100.0, ["time,open,high,low,close,volume"]
    for i in range(bars):
        o = price
        c = round(max(1.0, o * (1 + rng.gauss(0, 0.002))), 2)
        h, lo = round(max(o, c) * 1.001, 2), round(min(o, c) * 0.999, 2)
        lines.append(f"{1_704_205_800 + 60 * i},{o},{h},{lo},{c},{rng.randint(1, 999)}")
        price = c
    path.write_text("\n".join(lines) + "\n")


async def test_a_100k_bar_report_is_bucketed_small_and_draws(tmp_path, open_in_chromium):
    data = tmp_path / "walk.csv"
    write_random_walk(data, 100_000)
    result = await trio.to_thread.run_sync(lambda: backtest(SmaCross(), [data], plots=True))
    report = await trio.to_thread.run_sync(lambda: build_report(result, data=[data]))
    page = write_html(report, tmp_path / "walk.html")
    chart = report.chart
    assert chart.bucketed and len(chart.times) <= MAX_CHART_TIMES
    (candles,) = chart.candles.values()
    assert candles.bars == 100_000
    assert max(h for h in candles.high if h is not None) == max(
        float(row.split(",")[2]) for row in data.read_text().splitlines()[1:]
    )
    assert page.stat().st_size < 3_000_000
    assert "100,000 bars drawn in" in page.read_text(encoding="utf-8")

    async def interact(tab):
        await wait_ready(tab)
        return await tab.evaluate(DRAWN), await tab.evaluate("tradewireReport.tradeLinesDrawn()")

    with trio.fail_after(120):
        load = await open_in_chromium(page, interact=interact)
    assert load.problems == [] and load.outside_requests == []
    drawn, lines = load.value
    assert drawn[0]["series"]["candles"]["points"] == sum(c is not None for c in candles.close)
    assert lines == len(chart.trades[candles.symbol].pnl) > 0
