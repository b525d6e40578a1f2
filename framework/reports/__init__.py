"""Reports: a self-contained HTML file (Plotly charts inlined) and a PNG of the equity curve.

``build_report(result, data=[...])`` gathers what to show; ``write_html`` and ``write_png``
write it. Plotly and matplotlib are optional (``pip install 'tradewire[report]'``) and imported
only when writing.
"""

from ._digest import CHART_BUCKETS as CHART_BUCKETS
from ._digest import Decimator as Decimator
from ._digest import EquityDigest as EquityDigest
from ._digest import SeriesPoints as SeriesPoints
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
    "CHART_BUCKETS",
    "Decimator",
    "EquityDigest",
    "FillRecord",
    "PriceRecorder",
    "ReportData",
    "SeriesPoints",
    "build_report",
    "build_report_async",
    "record_prices",
    "record_prices_async",
    "render_html",
    "write_html",
    "write_png",
]
