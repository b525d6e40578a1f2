"""A PNG of the equity curve and drawdown, for terminals and CI logs.

Drawn with matplotlib's Agg canvas on a plain ``Figure`` (no pyplot, so no global state and no
display needed). matplotlib is imported only when a PNG is written.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from .._errors import ConfigError
from ._model import ReportData

_EPOCH = _dt.datetime(1970, 1, 1)


def write_png(
    report: ReportData, path: str | Path, *, width: float = 10, height: float = 6
) -> Path:
    """Write the equity curve (top) and drawdown (bottom) of ``report`` to ``path``."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ConfigError("the PNG needs matplotlib: pip install 'tradewire[report]'") from exc
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    times = [_EPOCH + _dt.timedelta(microseconds=t // 1_000) for t in report.equity.times]
    top.plot(times, report.equity.values, color="#1f77b4", linewidth=1.2)
    top.set_ylabel("equity")
    top.set_title(report.title or "equity", loc="left")
    top.grid(alpha=0.3)
    dd_times = [_EPOCH + _dt.timedelta(microseconds=t // 1_000) for t in report.drawdown.times]
    dd = [v * 100 for v in report.drawdown.values]
    bottom.fill_between(dd_times, dd, 0, color="#d62728", alpha=0.4, linewidth=0)
    bottom.set_ylabel("drawdown %")
    bottom.set_xlabel("time (UTC)")
    bottom.grid(alpha=0.3)
    fig.autofmt_xdate()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    return out
