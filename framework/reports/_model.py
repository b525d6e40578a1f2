"""What a report shows, gathered from a run result (in memory or saved as JSON).

:func:`build_report` (or :func:`build_report_async` inside Trio) is the way in: it takes a
:class:`~framework.RunResult` or the dict that ``--json`` wrote, plus optionally the run's bar
files for the candles, and returns a :class:`ReportData` whose charts are already on a grid
of at most :data:`~framework.reports.MAX_CHART_TIMES` time slots (:mod:`._chart`), so writing
HTML or PNG from it costs about the same for a 10k-bar and a 1M-bar run.

What the strategies drew with ``Strategy.plot`` comes with a :class:`~framework.RunResult`
(:attr:`~framework.RunResult.plots`); a saved JSON result does not hold it.

Where the equity curve comes from, in order of preference:

1. the run itself (a :class:`~framework.RunResult`, or a saved result with an ``equity`` entry);
2. rebuilt from the fills and the bar closes of the data files (a saved result without one);
3. closed trades only: start cash plus realised PnL at each exit (no data files given).

``ReportData.equity_source`` names which, and the report prints it.
"""

from __future__ import annotations

import bisect
import datetime as _dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import trio

from .._time import nanos_from_iso
from ._buckets import MAX_CHART_TIMES
from ._chart import ChartData, SeriesPoints, build_chart
from ._prices import FillRecord, PriceRecorder, record_prices_async

if TYPE_CHECKING:
    from .._plots import PlotSeries
    from ..results._run_result import RunResult

EQUITY_FROM_RUN = "the equity curve of the run"
EQUITY_REBUILT = "rebuilt from the fills and the bar closes of the data files"
EQUITY_FROM_TRADES = "closed trades only (pass the data files for a marked-to-market curve)"
_EPOCH = _dt.datetime(1970, 1, 1)
PLOTS_NOT_SAVED = (
    "A saved JSON result does not hold what the strategy drew with Strategy.plot; the report "
    "of a run (backtest --report, or build_report on a RunResult) draws it."
)


@attrs.frozen(slots=True, kw_only=True)
class ReportData:
    """Everything a report shows: the charts on their grid (the PNG draws the same equity and
    drawdown), the tables and monthly returns exact."""

    title: str
    strategy: str
    params: dict[str, Any]
    start_cash: float
    final_equity: float
    stats: dict[str, Any]
    fills: tuple[dict[str, Any], ...]
    trades: tuple[dict[str, Any], ...]
    equity: SeriesPoints
    drawdown: SeriesPoints
    monthly_returns: dict[tuple[int, int], float | None]
    chart: ChartData
    equity_source: str
    data_issues: dict[str, Any] = attrs.Factory(dict)
    plots_note: str = ""
    """Why the strategy's plots are missing, when they are."""


def build_report(
    result: RunResult | Mapping[str, Any],
    *,
    data: Sequence[str | Path] = (),
    title: str | None = None,
    limit: int = MAX_CHART_TIMES,
    **feed_options: Any,
) -> ReportData:
    """Synchronous :func:`build_report_async`, for scripts and the command line."""
    return trio.run(
        lambda: build_report_async(result, data=data, title=title, limit=limit, **feed_options)
    )


async def build_report_async(
    result: RunResult | Mapping[str, Any],
    *,
    data: Sequence[str | Path] = (),
    title: str | None = None,
    limit: int = MAX_CHART_TIMES,
    **feed_options: Any,
) -> ReportData:
    """Gather a report from ``result``; with ``data`` (the run's bar files, opened with
    ``feed_options`` as the backtest did), draw the candles and buy and hold and, if needed,
    rebuild equity. Charts get at most ``limit`` time slots."""
    plots: Sequence[PlotSeries]
    if isinstance(result, Mapping):
        summary: Mapping[str, Any] = result
        times, values = _equity_of_dict(result)
        plots, plots_note = (), PLOTS_NOT_SAVED
    else:
        summary = result.to_dict()
        times, values = result.equity_ts, result.equity  # no copy: a 1M-bar run has 1M
        plots, plots_note = result.plots, ""
    start_cash = float(summary["start_cash"])
    fills = tuple(summary.get("fills", ()))
    trades = tuple(summary.get("trades", ()))
    rebuild = times is None and bool(data)
    recorder = PriceRecorder(
        limit=limit,
        fills=[FillRecord.from_dict(f) for f in fills] if rebuild else (),
        rebuild_equity=start_cash if rebuild else None,
        benchmark=str(summary.get("stats", {}).get("benchmark") or "") or None,
    )
    if data:
        await record_prices_async(recorder, data, **feed_options)
    if times is not None and values is not None:
        source = EQUITY_FROM_RUN
    elif rebuild:
        source = EQUITY_REBUILT
        times, values = recorder.equity_ts, recorder.equity
    else:
        source = EQUITY_FROM_TRADES
        curve = _equity_of_trades(start_cash, trades)
        times, values = [t for t, _ in curve], [v for _, v in curve]
    chart = build_chart(
        start_cash=start_cash,
        equity_ts=times,
        equity=values,
        prices=recorder if data else None,
        plots=plots,
        trades=trades,
        limit=limit,
    )
    params = dict(summary.get("params", {}))
    strategy = str(summary.get("strategy", ""))
    return ReportData(
        title=title or f"{strategy} {' '.join(f'{k}={v}' for k, v in params.items())}".strip(),
        strategy=strategy,
        params=params,
        start_cash=start_cash,
        final_equity=float(summary.get("final_equity", start_cash)),
        stats=dict(summary.get("stats", {})),
        fills=fills,
        trades=trades,
        equity=chart.points(chart.equity),
        drawdown=chart.points(chart.drawdown),
        monthly_returns=monthly_returns(times, values, start_cash),
        chart=chart,
        equity_source=source,
        data_issues=dict(summary.get("data_issues", {})),
        plots_note=plots_note,
    )


def monthly_returns(
    times: Sequence[int], values: Sequence[float], start_cash: float
) -> dict[tuple[int, int], float | None]:
    """(year, month) → the month's return: its last equity over the previous month's last
    (the first month's over the start cash), months in UTC; None where that base is not
    positive. Months without a sample are absent. ``times`` sorted, UTC ns: one binary search
    per month, however many samples."""
    returns: dict[tuple[int, int], float | None] = {}
    if not times:
        return returns
    base = start_cash
    month = _month_of(times[0])
    start = 0
    while start < len(times):
        following = (month[0] + month[1] // 12, month[1] % 12 + 1)
        end = bisect.bisect_left(times, _month_start(following), start)
        if end > start:
            last = values[end - 1]
            returns[month] = last / base - 1 if base > 0 else None
            base = last
        month, start = following, end
    return returns


def _month_of(ts: int) -> tuple[int, int]:
    moment = _EPOCH + _dt.timedelta(microseconds=ts // 1_000)
    return moment.year, moment.month


def _month_start(month: tuple[int, int]) -> int:
    delta = _dt.datetime(month[0], month[1], 1) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000


def _equity_of_dict(
    result: Mapping[str, Any],
) -> tuple[Sequence[int] | None, Sequence[float] | None]:
    """A saved equity curve, if the result has one: ``{"time": [...], "equity": [...]}``-like
    columns or a list of ``[time, value]`` pairs / ``{"time", "equity"}`` rows; times as ISO
    strings or nanoseconds."""
    curve = result.get("equity_curve", result.get("equity"))
    if not curve:
        return None, None
    if isinstance(curve, Mapping):
        time_key = next((k for k in ("time", "times", "ts") if k in curve), None)
        value_key = next((k for k in ("equity", "value", "values") if k in curve), None)
        if time_key is None or value_key is None:
            return None, None
        rows = list(zip(curve[time_key], curve[value_key], strict=True))
    else:
        rows = [
            (row.get("time", row.get("ts")), row.get("equity", row.get("value")))
            if isinstance(row, Mapping)
            else (row[0], row[1])
            for row in curve
        ]
    times = [_nanos(t) for t, _ in rows]
    return times, [float(v) for _, v in rows]


def _nanos(value: Any) -> int:
    if isinstance(value, str):
        return nanos_from_iso(value.replace("Z", "+00:00"))
    return int(value)


def _equity_of_trades(
    start_cash: float, trades: Sequence[Mapping[str, Any]]
) -> list[tuple[int, float]]:
    points: list[tuple[int, float]] = []
    if trades:
        points.append((min(_nanos(t["entry_time"]) for t in trades), start_cash))
    value = start_cash
    for trade in sorted(trades, key=lambda t: _nanos(t["exit_time"])):
        value += float(trade["pnl"])
        points.append((_nanos(trade["exit_time"]), value))
    return points
