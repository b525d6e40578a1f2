"""The HTML report: one self-contained file that opens offline.

Charts are Plotly figures (zoom, pan, hover) with plotly.js inlined once in the page's head,
so the file makes no request to any CDN; tables are plain HTML. The same report data give the
same bytes: nothing in the page depends on when or where it was written.

Plotly is imported here and only here, when a report is written, so ``import framework`` and
``tradewire --help`` never pay for it.
"""

from __future__ import annotations

import datetime as _dt
import html
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._errors import ConfigError
from ..results._display import format_percent, format_statistic, statistic_label
from ._digest import SeriesPoints
from ._model import ReportData

#: Trades listed in full; longer lists show the first and last half of this many.
MAX_TRADE_ROWS = 2_000
#: Fill markers drawn per symbol; more are thinned evenly (the trade list stays exact).
MAX_FILL_MARKERS = 5_000

_EPOCH = _dt.datetime(1970, 1, 1)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_PLOT_CONFIG = {"displaylogo": False, "responsive": True}
_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.8em; }
.note { color: #666; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 2px 8px; border-bottom: 1px solid #e4e4e4; text-align: right; }
th:first-child, td:first-child { text-align: left; }
table.stats td:first-child { color: #555; }
td.pos { background: rgba(46, 160, 67, var(--a)); }
td.neg { background: rgba(218, 54, 51, var(--a)); }
.chart { width: 100%; }
"""


def plotly_available() -> bool:
    """Whether the report can be written (plotly installed: ``pip install 'tradewire[report]'``)."""
    try:
        import plotly  # noqa: F401
    except ImportError:
        return False
    return True


def render_html(report: ReportData) -> str:
    """The report as one HTML document (plotly.js inlined)."""
    try:
        from plotly.offline import get_plotlyjs
    except ImportError as exc:
        raise ConfigError("the HTML report needs plotly: pip install 'tradewire[report]'") from exc
    title = html.escape(report.title or "tradewire report")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{title}</title>",
        f"<style>{_STYLE}</style>",
        # Inlined: the page must work offline and request nothing.
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        "</head><body>",
        f"<h1>{title}</h1>",
        _header(report),
        '<h2 id="stats-title">Statistics</h2>',
        _stats_table(report.stats, report),
        '<h2 id="equity-title">Equity and drawdown</h2>',
        f'<p class="note">Equity: {html.escape(report.equity_source)}.</p>',
        _equity_figure(report),
        '<h2 id="prices-title">Prices, entries and exits</h2>',
        _price_figures(report),
        '<h2 id="monthly-title">Monthly returns</h2>',
        _monthly_table(report.monthly_returns),
        '<h2 id="trades-title">Trades</h2>',
        _trade_table(report.trades),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def write_html(report: ReportData, path: str | Path) -> Path:
    """Write :func:`render_html` to ``path`` (UTF-8, folders created); returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(report), encoding="utf-8")
    return out


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


def _equity_figure(report: ReportData) -> str:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.04
    )
    fig.add_trace(
        go.Scatter(
            x=_times(report.equity.times),
            y=list(report.equity.values),
            name="equity",
            mode="lines",
            line={"color": "#1f77b4", "width": 1.5},
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=_times(report.drawdown.times),
            y=[v * 100 for v in report.drawdown.values],
            name="drawdown %",
            mode="lines",
            fill="tozeroy",
            line={"color": "#d62728", "width": 1},
        ),
        row=2,
        col=1,
    )
    fig.update_yaxes(title_text="equity", row=1, col=1)
    fig.update_yaxes(title_text="drawdown %", row=2, col=1)
    fig.update_xaxes(title_text="time (UTC)", row=2, col=1)
    fig.update_layout(height=560, margin={"l": 60, "r": 20, "t": 20, "b": 40}, showlegend=False)
    return _figure_html(fig, "equity-chart")


def _price_figures(report: ReportData) -> str:
    if not report.prices:
        return (
            '<p class="note" id="no-prices">No price data: pass the run\'s data files '
            "(<code>--data</code>) to draw prices with entries and exits.</p>"
        )
    import plotly.graph_objects as go

    blocks: list[str] = []
    for symbol, closes in report.prices.items():
        fig = go.Figure()
        fig.add_trace(
            go.Scatter(
                x=_times(closes.times),
                y=list(closes.values),
                name=symbol,
                mode="lines",
                line={"color": "#444", "width": 1},
            )
        )
        fills = [f for f in report.fills if f.get("symbol") == symbol]
        for side, symbol_shape, colour in (
            ("buy", "triangle-up", "#2ca02c"),
            ("sell", "triangle-down", "#d62728"),
        ):
            chosen = _thin([f for f in fills if str(f.get("side")).lower() == side])
            if not chosen:
                continue
            fig.add_trace(
                go.Scatter(
                    x=[_plot_time_iso(str(f["time"])) for f in chosen],
                    y=[f["price"] for f in chosen],
                    name=side,
                    mode="markers",
                    marker={"symbol": symbol_shape, "size": 9, "color": colour},
                    text=[f"{side} {f['qty']:g} @ {f['price']:g}" for f in chosen],
                    hoverinfo="text+x",
                )
            )
        fig.update_layout(
            title={"text": html.escape(symbol)},
            height=420,
            margin={"l": 60, "r": 20, "t": 40, "b": 40},
            xaxis_title="time (UTC)",
        )
        note = ""
        if closes.samples > len(closes.times):
            note = (
                f'<p class="note">{closes.samples:,} bars drawn as {len(closes.times):,} points '
                "(each span's low and high kept).</p>"
            )
        blocks.append(note + _figure_html(fig, f"price-chart-{_slug(symbol)}"))
    return "\n".join(blocks)


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


# -- plotly glue ----------------------------------------------------------------------------


def _figure_html(fig: Any, div_id: str) -> str:
    body: str = fig.to_html(
        full_html=False, include_plotlyjs=False, div_id=div_id, config=_PLOT_CONFIG
    )
    return f'<div class="chart">{body}</div>'


def _thin(fills: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    if len(fills) <= MAX_FILL_MARKERS:
        return fills
    step = len(fills) / MAX_FILL_MARKERS
    return [fills[int(i * step)] for i in range(MAX_FILL_MARKERS)]


def _times(times: SeriesPoints | Sequence[int]) -> list[str]:
    values = times.times if isinstance(times, SeriesPoints) else times
    return [_plot_time(ts) for ts in values]


def _plot_time(ts: int) -> str:
    # plotly.js has no time zones: naive UTC strings, labelled "UTC" on the axis.
    moment = _EPOCH + _dt.timedelta(microseconds=ts // 1_000)
    return moment.isoformat(sep=" ")


def _plot_time_iso(text: str) -> str:
    return text.rstrip("Z").replace("T", " ")


def _slug(symbol: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in symbol)
