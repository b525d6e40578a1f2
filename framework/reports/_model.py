"""What a report shows, gathered from a run result (in memory or saved as JSON).

:func:`build_report` (or :func:`build_report_async` inside Trio) is the way in: it takes a
:class:`~framework.RunResult` or the dict that ``--json`` wrote, plus optionally the run's bar
files for price charts, and returns a :class:`ReportData` whose series are already decimated,
so writing HTML or PNG from it costs the same for a 1k-bar and a 1M-bar run.

Where the equity curve comes from, in order of preference:

1. the run itself (a :class:`~framework.RunResult`, or a saved result with an ``equity`` entry);
2. rebuilt from the fills and the bar closes of the data files (a saved result without one);
3. closed trades only: start cash plus realised PnL at each exit (no data files given).

``ReportData.equity_source`` names which, and the report prints it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import trio

from .._time import nanos_from_iso
from ._digest import CHART_BUCKETS, EquityDigest, SeriesPoints
from ._prices import FillRecord, PriceRecorder, record_prices_async

if TYPE_CHECKING:
    from ..results._run_result import RunResult

EQUITY_FROM_RUN = "the equity curve of the run"
EQUITY_REBUILT = "rebuilt from the fills and the bar closes of the data files"
EQUITY_FROM_TRADES = "closed trades only (pass the data files for a marked-to-market curve)"


@attrs.frozen(slots=True, kw_only=True)
class ReportData:
    """Everything a report shows; series decimated for charts, tables exact."""

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
    prices: dict[str, SeriesPoints]
    equity_source: str
    data_issues: dict[str, Any] = attrs.Factory(dict)


def build_report(
    result: RunResult | Mapping[str, Any],
    *,
    data: Sequence[str | Path] = (),
    title: str | None = None,
    buckets: int = CHART_BUCKETS,
    **feed_options: Any,
) -> ReportData:
    """Synchronous :func:`build_report_async`, for scripts and the command line."""
    return trio.run(
        lambda: build_report_async(result, data=data, title=title, buckets=buckets, **feed_options)
    )


async def build_report_async(
    result: RunResult | Mapping[str, Any],
    *,
    data: Sequence[str | Path] = (),
    title: str | None = None,
    buckets: int = CHART_BUCKETS,
    **feed_options: Any,
) -> ReportData:
    """Gather a report from ``result``; with ``data`` (the run's bar files, opened with
    ``feed_options`` as the backtest did), draw prices and, if needed, rebuild equity."""
    if isinstance(result, Mapping):
        summary: Mapping[str, Any] = result
        times, values = _equity_of_dict(result)
    else:
        summary = result.to_dict()
        times, values = result.equity_ts, result.equity  # no copy: a 1M-bar run has 1M
    start_cash = float(summary["start_cash"])
    digest = EquityDigest(start_cash, buckets=buckets)
    fills = tuple(summary.get("fills", ()))
    trades = tuple(summary.get("trades", ()))
    rebuild = times is None and bool(data)
    recorder = PriceRecorder(
        buckets=buckets,
        fills=[FillRecord.from_dict(f) for f in fills] if rebuild else (),
        rebuild_equity=digest if rebuild else None,
    )
    if data:
        await record_prices_async(recorder, data, **feed_options)
    if times is not None and values is not None:
        digest.add_all(times, values)
        source = EQUITY_FROM_RUN
    elif rebuild:
        source = EQUITY_REBUILT
    else:
        for trade_time, value in _equity_of_trades(start_cash, trades):
            digest.add(trade_time, value)
        source = EQUITY_FROM_TRADES
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
        equity=digest.equity.points(),
        drawdown=digest.drawdown.points(),
        monthly_returns=digest.monthly_returns(),
        prices=recorder.prices(),
        equity_source=source,
        data_issues=dict(summary.get("data_issues", {})),
    )


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
