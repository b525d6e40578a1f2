"""Reports: a self-contained HTML file (TradingView's lightweight-charts inlined) and a PNG of
the equity curve.

``build_report(result, data=[...])`` gathers what to show; ``write_html`` and ``write_png``
write it. The chart library is fetched from the npm registry when tradewire is installed
(docs/reports.md); matplotlib, for the PNG, is optional (``pip install 'tradewire[report]'``)
and imported only when writing one.
"""

from ._buckets import MAX_CHART_TIMES as MAX_CHART_TIMES
from ._chart import CandleColumns as CandleColumns
from ._chart import ChartData as ChartData
from ._chart import PlotColumn as PlotColumn
from ._chart import SeriesPoints as SeriesPoints
from ._chart import TradeLines as TradeLines
from ._html import render_html as render_html
from ._html import write_html as write_html
from ._model import ReportData as ReportData
from ._model import build_report as build_report
from ._model import build_report_async as build_report_async
from ._png import write_png as write_png
from ._prices import FillRecord as FillRecord
from ._prices import PriceRecorder as PriceRecorder
from ._prices import record_prices as record_prices
from ._prices import record_prices_async as record_prices_async

__all__ = [
    "MAX_CHART_TIMES",
    "CandleColumns",
    "ChartData",
    "FillRecord",
    "PlotColumn",
    "PriceRecorder",
    "ReportData",
    "SeriesPoints",
    "TradeLines",
    "build_report",
    "build_report_async",
    "record_prices",
    "record_prices_async",
    "render_html",
    "write_html",
    "write_png",
]
