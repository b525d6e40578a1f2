"""The HTML report: one self-contained file that opens offline.

Charts are drawn in the browser by TradingView's lightweight-charts (Apache-2.0; fetched at
install time, :mod:`._assets`), inlined once in the page's head with the report's own script;
the data go in as one JSON document (columns on the shared grid of :mod:`._chart`). Tables are
plain HTML. The page requests nothing from any server, and the same report data give the same
bytes: nothing in it depends on when or where it was written.

The page, top to bottom: one chart per symbol (candles, volume, the strategy's series over the
price and in panels of their own, trade lines), the equity chart (equity, buy and hold,
drawdown), the statistics, monthly returns and the trades. Every chart spans the window and
they zoom and scroll together.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from .._plots import PRICE_PANEL
from ..results._display import format_percent, format_statistic, statistic_label
from ._assets import chart_library, report_script
from ._buckets import width_label
from ._chart import PlotColumn, TradeLines
from ._model import ReportData

#: Trades listed in full; longer lists show the first and last half of this many.
MAX_TRADE_ROWS = 2_000
#: Significant digits of a derived value drawn (equity, indicators): finer than any pixel,
#: and a third of the bytes of a float's full repr.
DRAWN_DIGITS = 8
#: Height in CSS pixels of a symbol's price pane, of each panel below it, of the equity chart.
PRICE_HEIGHT = 460
PANEL_HEIGHT = 150
EQUITY_HEIGHT = 380

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; }
.text { padding: 0 16px; }
h1 { font-size: 1.5em; margin: 0.6em 0 0.2em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
.note { color: #666; }
.chart { width: 100%; position: relative; }
.legend { padding: 6px 16px 2px; font-size: 12px; color: #444; }
.legend b { margin-right: 10px; }
.legend .item { margin-right: 12px; white-space: nowrap; }
.legend .item i { display: inline-block; width: 10px; height: 10px; margin-right: 4px;
  vertical-align: -1px; border-radius: 2px; }
.legend .panel { margin: 0 8px 0 6px; color: #777; }
#trade-tooltip { position: absolute; z-index: 10; pointer-events: none; background: #fff;
  border: 1px solid #ccc; border-left-width: 4px; padding: 4px 8px; font-size: 12px;
  box-shadow: 0 2px 6px rgba(0, 0, 0, 0.15); white-space: nowrap; }
#trade-tooltip.profit { border-left-color: #16a34a; }
#trade-tooltip.loss { border-left-color: #dc2626; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 2px 8px; border-bottom: 1px solid #e4e4e4; text-align: right; }
th:first-child, td:first-child { text-align: left; }
table.stats td:first-child { color: #555; }
td.pos { background: rgba(46, 160, 67, var(--a)); }
td.neg { background: rgba(218, 54, 51, var(--a)); }
footer { margin: 2em 0 1em; font-size: 12px; }
"""


def render_html(report: ReportData) -> str:
    """The report as one HTML document (the chart library and the data inlined)."""
    version, library = chart_library()
    title = html.escape(report.title or "tradewire report")
    chart = report.chart
    charts, blocks = _charts(report)
    payload = {
        # The first time, then the step to each next one: mostly one short number a slot.
        "timeSteps": [b - a for a, b in zip((0, *chart.times), chart.times, strict=False)],
        "width": chart.width_s,
        "secondsVisible": any(t % 60 for t in chart.times),
        "charts": charts,
    }
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        f"<style>{_STYLE}</style>",
        # Inlined: the page must work offline and request nothing.
        f"<script>{library}</script>",
        "</head><body>",
        '<div class="text">',
        f"<h1>{title}</h1>",
        _header(report),
        '<h2 id="prices-title">Prices, the strategy\'s series and trades</h2>',
        _chart_notes(report),
        "</div>",
        *blocks["symbols"],
        '<div class="text"><h2 id="equity-title">Equity, buy and hold and drawdown</h2>',
        f'<p class="note">Equity: {html.escape(report.equity_source)}.'
        + (
            ""
            if chart.buy_and_hold
            else " Buy and hold needs the run's data files (<code>--data</code>)."
        )
        + "</p></div>",
        *blocks["equity"],
        '<div class="text">',
        '<h2 id="stats-title">Statistics</h2>',
        _stats_table(report.stats, report),
        '<h2 id="monthly-title">Monthly returns</h2>',
        _monthly_table(report.monthly_returns),
        '<h2 id="trades-title">Trades</h2>',
        _trade_table(report.trades),
        f'<footer class="note">Charts: TradingView Lightweight Charts™ {html.escape(version)}, '
        "Copyright TradingView, Inc. (https://www.tradingview.com/), Apache License 2.0.</footer>",
        "</div>",
        f'<script type="application/json" id="report-data">{_json(payload)}</script>',
        f"<script>{report_script()}</script>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def write_html(report: ReportData, path: str | Path) -> Path:
    """Write :func:`render_html` to ``path`` (UTF-8, folders created); returns the path."""
    out = Path(path)
    text = render_html(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out


def _json(payload: Any) -> str:
    # "<" only occurs inside JSON strings, where \u003c means the same: no "</script>" can end
    # the element early, whatever a symbol or a series is called.
    return orjson.dumps(payload).decode().replace("<", "\\u003c")


# -- sections -------------------------------------------------------------------------------


def _header(report: ReportData) -> str:
    params = " ".join(f"{k}={v}" for k, v in report.params.items()) or "defaults"
    lines = [
        f"strategy <b>{html.escape(report.strategy)}</b> with {html.escape(params)}",
        f"start cash {report.start_cash:,.2f}, final equity {report.final_equity:,.2f}",
    ]
    for source, reasons in report.data_issues.items():
        counts = ", ".join(f"{n} {reason}" for reason, n in sorted(dict(reasons).items()))
        lines.append(f"skipped rows in {html.escape(str(source))}: {html.escape(counts)}")
    return "".join(f'<p class="note">{line}</p>' for line in lines)


def _chart_notes(report: ReportData) -> str:
    chart = report.chart
    notes: list[str] = []
    if not chart.candles:
        notes.append(
            '<p class="note" id="no-prices">No price data: pass the run\'s data files '
            "(<code>--data</code>) to draw candles, trades and buy and hold.</p>"
        )
    if chart.bucketed:
        bars = sum(c.bars for c in chart.candles.values())
        drawn = f"{bars:,} bars" if bars else "the run"
        notes.append(
            f'<p class="note" id="bucketed">{drawn} drawn in {len(chart.times):,} time slots of '
            f"{width_label(chart.width_s)}: each candle spans its slot (first open, highest "
            "high, lowest low, last close, summed volume), lines show the slot's last value and "
            "drawdown its deepest. Statistics and tables use every bar.</p>"
        )
    thinned = [t for t in chart.trades.values() if t.total > len(t.pnl)]
    for lines in thinned:
        notes.append(
            f'<p class="note">{html.escape(lines.symbol)}: {len(lines.pnl):,} of '
            f"{lines.total:,} trades drawn, evenly spread (the table and statistics have all)."
            "</p>"
        )
    if report.plots_note:
        notes.append(f'<p class="note" id="plots-note">{html.escape(report.plots_note)}</p>')
    notes.append(
        '<p class="note">Drag or scroll to move, wheel or pinch to zoom: every chart follows. '
        "Bars sit at the time they closed (UTC), as the strategy saw them; hover a trade line "
        "for its P&amp;L.</p>"
    )
    return "".join(notes)


def _charts(report: ReportData) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """The chart entries of the JSON document and the HTML blocks that hold them."""
    chart = report.chart
    entries: list[dict[str, Any]] = []
    blocks: dict[str, list[str]] = {"symbols": [], "equity": []}
    symbols = sorted(set(chart.candles) | {p.symbol for p in chart.plots if p.symbol is not None})
    if not symbols and chart.plots:
        symbols = [""]  # series without a symbol and no prices: one chart of their own
    used: set[str] = set()
    for number, symbol in enumerate(symbols):
        own = [p for p in chart.plots if p.symbol in (symbol, None)]
        panels = _panels(own)
        element = f"price-chart-{_slug(symbol) or 'plots'}"
        if element in used:
            element = f"{element}-{number}"
        used.add(element)
        candles = chart.candles.get(symbol)
        entries.append(
            {
                "kind": "symbol",
                "symbol": symbol,
                "element": element,
                "legend": f"legend-{number}",
                "candles": None
                if candles is None
                else {
                    "open": candles.open,
                    "high": candles.high,
                    "low": candles.low,
                    "close": candles.close,
                    "volume": candles.volume,
                },
                "trades": _trade_entry(chart.trades.get(symbol)) if candles is not None else None,
                "panels": panels,
            }
        )
        height = PRICE_HEIGHT + PANEL_HEIGHT * sum(p["name"] != PRICE_PANEL for p in panels)
        name = html.escape(symbol or "the strategy's series")
        blocks["symbols"].append(
            f'<div class="legend" id="legend-{number}"><b>{name}</b></div>'
            f'<div class="chart" id="{element}" data-symbol="{html.escape(symbol)}" '
            f'style="height:{height}px"></div>'
        )
    entries.append(
        {
            "kind": "equity",
            "element": "equity-chart",
            "legend": "legend-equity",
            "equity": _drawn(chart.equity),
            "drawdown": _drawn(chart.drawdown),
            "buyAndHold": _drawn(chart.buy_and_hold) or None,
            "benchmark": _drawn(chart.benchmark) or None,
            "benchmarkName": chart.benchmark_name,
        }
    )
    blocks["equity"].append(
        '<div class="legend" id="legend-equity"><b>equity</b></div>'
        f'<div class="chart" id="equity-chart" style="height:{EQUITY_HEIGHT}px"></div>'
    )
    return entries, blocks


def _panels(plots: Sequence[PlotColumn]) -> list[dict[str, Any]]:
    """The price panel first, then the others in the order first plotted."""
    order: dict[str, list[dict[str, Any]]] = {PRICE_PANEL: []}
    for plot in plots:
        name = plot.name if plot.strategy == plots[0].strategy else f"{plot.strategy}.{plot.name}"
        order.setdefault(plot.panel, []).append({"name": name, "values": _drawn(plot.values)})
    return [{"name": panel, "series": series} for panel, series in order.items() if series]


def _drawn(column: Sequence[float | None]) -> list[float | None]:
    return [None if v is None else float(f"{v:.{DRAWN_DIGITS}g}") for v in column]


def _trade_entry(lines: TradeLines | None) -> dict[str, Any] | None:
    if lines is None or not lines.pnl:
        return None
    return {
        "entry": lines.entry_slot,
        "exit": lines.exit_slot,
        "entryPrice": lines.entry_price,
        "exitPrice": lines.exit_price,
        "pnl": lines.pnl,
        "long": lines.long,
        "qty": lines.qty,
        "entryTime": lines.entry_time,
        "exitTime": lines.exit_time,
    }


def _stats_table(stats: Mapping[str, Any], report: ReportData) -> str:
    # Labels and units from the one place the summary and sweep tables use too, so a figure
    # reads the same in the terminal and here; the key stays in a tooltip, for the JSON.
    rows = [("final_equity", report.final_equity), *stats.items()]
    body = "".join(
        f'<tr><td title="{html.escape(name)}">{html.escape(statistic_label(name).label)}</td>'
        f"<td>{html.escape(format_statistic(name, value))}</td></tr>"
        for name, value in rows
    )
    return f'<table id="stats" class="stats">{body}</table>'


def _monthly_table(returns: Mapping[tuple[int, int], float | None]) -> str:
    if not returns:
        return '<p class="note" id="monthly-returns">No equity samples.</p>'
    years = sorted({year for year, _ in returns})
    head = "".join(f"<th>{m}</th>" for m in _MONTHS)
    rows: list[str] = []
    for year in years:
        cells: list[str] = []
        compound: float | None = 1.0
        for month in range(1, 13):
            value = returns.get((year, month))
            if (year, month) in returns and value is None:
                compound = None
            elif value is not None and compound is not None:
                compound *= 1 + value
            cells.append(_return_cell(value))
        total = compound - 1 if compound is not None else None
        rows.append(f"<tr><td>{year}</td>{''.join(cells)}{_return_cell(total)}</tr>")
    return (
        f'<table id="monthly-returns"><tr><th>year</th>{head}<th>year</th></tr>'
        f"{''.join(rows)}</table>"
    )


def _return_cell(value: float | None) -> str:
    if value is None:
        return "<td></td>"
    alpha = min(abs(value) * 10, 0.8)
    kind = "pos" if value > 0 else "neg" if value < 0 else ""
    return f'<td class="{kind}" style="--a:{alpha:.2f}">{format_percent(value)}</td>'


def _trade_table(trades: Sequence[Mapping[str, Any]]) -> str:
    if not trades:
        return '<p class="note" id="trades">No closed trades.</p>'
    columns = ("symbol", "side", "qty", "entry_time", "entry_price", "exit_time", "exit_price")
    shown: Iterable[tuple[int, Mapping[str, Any]]] = enumerate(trades, 1)
    note = ""
    if len(trades) > MAX_TRADE_ROWS:
        half = MAX_TRADE_ROWS // 2
        shown = [*list(shown)[:half], *list(enumerate(trades, 1))[-half:]]
        note = (
            f'<p class="note">{len(trades):,} trades: the first and last {half:,} are listed; '
            "the full list is in the JSON result.</p>"
        )
    head = "".join(f"<th>{c.replace('_', ' ')}</th>" for c in ("#", *columns, "pnl"))
    rows = []
    for number, trade in shown:
        cells = "".join(f"<td>{_format_cell(trade.get(c))}</td>" for c in columns)
        pnl = float(trade.get("pnl", 0.0))
        kind = "pos" if pnl > 0 else "neg" if pnl < 0 else ""
        rows.append(
            f'<tr><td>{number}</td>{cells}<td class="{kind}" style="--a:0.25">{pnl:,.2f}</td></tr>'
        )
    return f'{note}<table id="trades"><tr>{head}</tr>{"".join(rows)}</table>'


def _format_cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    return html.escape(str(value))


def _slug(symbol: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in symbol)
