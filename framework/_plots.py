"""What strategies draw: values recorded per bar with ``Strategy.plot``, kept as columns.

``self.plot("rsi", value, panel="rsi")`` in a hook records ``value`` at the strategy's clock
(event time in a backtest), in the series named by the strategy, ``name`` and ``symbol``. A
series is two compact arrays, times (``array('q')``, UTC nanoseconds) and values
(``array('d')``): 16 bytes a sample, where a tuple of floats would cost about 50.

Recording is on only in runs that keep plots (``backtest(..., plots=True)``, which
``tradewire backtest --report`` asks for); elsewhere ``plot`` returns at once, and the engine
does nothing per bar for it either way. The report draws a series on its symbol's price
chart (``panel="price"``) or on a panel of its own below it, one panel per ``panel`` name;
see docs/reports.md.
"""

from __future__ import annotations

import math
from array import array

from ._errors import ConfigError

#: The panel that overlays a series on its symbol's candles.
PRICE_PANEL = "price"


class PlotSeries:
    """One series a strategy plotted: its samples in time order. ``None`` is recorded as NaN,
    a gap in the line. A time repeats when the strategy plotted twice at one time; the report
    keeps the last value."""

    __slots__ = ("name", "panel", "strategy", "symbol", "ts", "values")

    def __init__(self, strategy: str, name: str, panel: str, symbol: str | None) -> None:
        self.strategy = strategy
        self.name = name
        self.panel = panel
        #: The symbol whose chart it belongs to; None: every symbol's (or a panel of its own).
        self.symbol = symbol
        self.ts = array("q")
        self.values = array("d")

    def __len__(self) -> int:
        return len(self.ts)

    def __repr__(self) -> str:
        where = f", symbol={self.symbol!r}" if self.symbol is not None else ""
        return (
            f"PlotSeries({self.strategy!r}, {self.name!r}, panel={self.panel!r}{where}, "
            f"{len(self.ts):,} samples)"
        )


class PlotRecorder:
    """A strategy's plotted series, by (name, symbol), in the order first plotted. A series'
    panel is the one its first sample named."""

    __slots__ = ("series", "strategy")

    def __init__(self, strategy: str) -> None:
        self.strategy = strategy
        self.series: dict[tuple[str, str | None], PlotSeries] = {}

    def record(
        self, name: str, value: float | None, panel: str, symbol: str | None, now: int
    ) -> None:
        series = self.series.get((name, symbol))
        if series is None:
            series = self._new_series(name, panel, symbol)
        try:
            series.values.append(math.nan if value is None else value)
        except TypeError:
            raise TypeError(
                f"plot {name!r}: the value must be a number or None, not {type(value).__name__}"
            ) from None
        series.ts.append(now)

    def _new_series(self, name: str, panel: str, symbol: str | None) -> PlotSeries:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"plot: the name must be a non-empty string, not {name!r}")
        if not isinstance(panel, str) or not panel:
            raise ConfigError(f"plot {name!r}: panel must be a non-empty string, not {panel!r}")
        if symbol is not None and not isinstance(symbol, str):
            raise ConfigError(f"plot {name!r}: symbol must be a string or None, not {symbol!r}")
        series = self.series[(name, symbol)] = PlotSeries(self.strategy, name, panel, symbol)
        return series
