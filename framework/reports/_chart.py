"""What the report's charts draw, on one grid of time slots shared by every chart.

Every chart of the page (one per symbol, with its candles, volume, the strategy's series and
the trade lines; one for equity, drawdown and buy and hold) draws on the same grid of times
(:mod:`._buckets`), so slot ``i`` is the same time everywhere and the charts zoom and scroll
together by slot. Each series is a column of values aligned with the grid, None where it has
nothing: a gap in a line, an empty slot under a candle.

Times are UTC seconds. A bar is placed at its ``ts_event``, the moment it became final and a
strategy saw it; a strategy's plots, the equity marks and fills are stamped on the same clock,
so each lines up with the bar it came from.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .._time import nanos_from_iso
from ._buckets import (
    MAX_CHART_TIMES,
    WIDTHS_S,
    drawdowns,
    grid,
    last_by_bucket,
    min_by_bucket,
)

if TYPE_CHECKING:
    from .._plots import PlotSeries
    from ._prices import PriceRecorder

#: Trade lines drawn per symbol; more are thinned evenly (the trade table and statistics
#: keep every trade).
MAX_TRADE_LINES = 10_000
_NS = 1_000_000_000

Column = tuple[float | None, ...]


@attrs.frozen(slots=True, kw_only=True)
class SeriesPoints:
    """A series as points: times in UTC nanoseconds and values (the PNG's equity and
    drawdown: the chart's slots that hold a value)."""

    times: tuple[int, ...]
    values: tuple[float, ...]
    samples: int
    """How many samples went in."""


@attrs.frozen(slots=True, kw_only=True)
class CandleColumns:
    """One symbol's candles on the grid: OHLCV per slot, None where the symbol has no bar."""

    symbol: str
    open: Column
    high: Column
    low: Column
    close: Column
    volume: Column
    bars: int
    """Bars that went in."""


@attrs.frozen(slots=True, kw_only=True)
class PlotColumn:
    """A series a strategy drew with ``Strategy.plot``, on the grid."""

    strategy: str
    name: str
    panel: str
    symbol: str | None
    values: Column
    samples: int


@attrs.frozen(slots=True, kw_only=True)
class TradeLines:
    """One symbol's closed trades as lines from entry to exit: grid slots, prices, P&L."""

    symbol: str
    entry_slot: tuple[int, ...]
    exit_slot: tuple[int, ...]
    entry_price: tuple[float, ...]
    exit_price: tuple[float, ...]
    pnl: tuple[float, ...]
    long: tuple[bool, ...]
    qty: tuple[float, ...]
    entry_time: tuple[int, ...]
    """UTC seconds, exact (not bucketed), for the tooltip."""
    exit_time: tuple[int, ...]
    total: int
    """Closed trades of the symbol; more than drawn when thinned."""


@attrs.frozen(slots=True, kw_only=True)
class ChartData:
    """Everything the charts draw, aligned with :attr:`times`."""

    width_s: int
    """Width of a slot in seconds; the run's own bar times when :attr:`bucketed` is False."""
    times: tuple[int, ...]
    """Start of each slot, UTC seconds."""
    candles: dict[str, CandleColumns]
    plots: tuple[PlotColumn, ...]
    trades: dict[str, TradeLines]
    equity: Column
    drawdown: Column
    buy_and_hold: Column
    """Empty without price data."""
    benchmark: Column = ()
    """The start cash in the run's benchmark (``stats["benchmark"]``), when it is one of the
    symbols of the data; else empty."""
    benchmark_name: str = ""

    equity_samples: int
    """Equity samples that went in."""

    @property
    def bucketed(self) -> bool:
        """Whether slots are buckets of several bars (a long run) rather than bar times."""
        return self.width_s > WIDTHS_S[0]

    def points(self, column: Column) -> SeriesPoints:
        """``column`` (the equity or drawdown) as the points of the slots that hold a value."""
        pairs = [(t * _NS, v) for t, v in zip(self.times, column, strict=True) if v is not None]
        return SeriesPoints(
            times=tuple(t for t, _ in pairs),
            values=tuple(v for _, v in pairs),
            samples=self.equity_samples,
        )


def build_chart(
    *,
    start_cash: float,
    equity_ts: Sequence[int],
    equity: Sequence[float],
    prices: PriceRecorder | None,
    plots: Sequence[PlotSeries],
    trades: Sequence[Mapping[str, Any]],
    limit: int = MAX_CHART_TIMES,
) -> ChartData:
    """Put every series on one grid of at most ``limit`` slots (see the module docstring)."""
    candles = prices.candles if prices is not None else {}
    held_ts, held = prices.buy_and_hold(start_cash) if prices is not None else ((), [])
    bench_ts: Sequence[int] = ()
    bench: Sequence[float] = ()
    benchmark = prices.benchmark if prices is not None else None
    if prices is not None and benchmark and len(prices.benchmark_ts) and len(equity_ts):
        bench_ts, bench = prices.benchmark_curve(start_cash, equity_ts[0])
    start_width = max((c.width_s for c in candles.values()), default=WIDTHS_S[0])
    candle_times = [[k * c.width_s * _NS for k in c.keys] for c in candles.values()]
    sources = [*candle_times, equity_ts, held_ts, *(p.ts for p in plots)]
    width, keys = grid(start_width, sources, limit)
    slot = {key: i for i, key in enumerate(keys)}
    for bars in candles.values():
        bars.widen(width)
    width_ns = width * _NS
    return ChartData(
        width_s=width,
        times=tuple(key * width for key in keys),
        candles={
            symbol: _candle_columns(symbol, candles[symbol], slot, len(keys))
            for symbol in sorted(candles)
        },
        plots=tuple(_plot_column(p, width, keys) for p in plots),
        trades=_trade_lines(trades, keys, width_ns),
        equity=_on_grid(last_by_bucket(equity_ts, equity, width), keys),
        drawdown=_on_grid(min_by_bucket(equity_ts, drawdowns(equity, start_cash), width), keys),
        buy_and_hold=_on_grid(last_by_bucket(held_ts, held, width), keys) if len(held) else (),
        benchmark=_on_grid(last_by_bucket(bench_ts, bench, width), keys) if len(bench) else (),
        benchmark_name=(benchmark or "") if len(bench) else "",
        equity_samples=len(equity_ts),
    )


def _candle_columns(symbol: str, bars: Any, slot: Mapping[int, int], size: int) -> CandleColumns:
    columns: list[list[float | None]] = [[None] * size for _ in range(5)]
    for i, key in enumerate(bars.keys):
        at = slot[key]
        columns[0][at] = bars.opens[i]
        columns[1][at] = bars.highs[i]
        columns[2][at] = bars.lows[i]
        columns[3][at] = bars.closes[i]
        columns[4][at] = bars.volumes[i]
    o, h, lo, c, v = (tuple(column) for column in columns)
    return CandleColumns(symbol=symbol, open=o, high=h, low=lo, close=c, volume=v, bars=bars.bars)


def _plot_column(series: PlotSeries, width: int, keys: Sequence[int]) -> PlotColumn:
    return PlotColumn(
        strategy=series.strategy,
        name=series.name,
        panel=series.panel,
        symbol=series.symbol,
        values=_on_grid(last_by_bucket(series.ts, series.values, width), keys),
        samples=len(series.ts),
    )


def _on_grid(values: Mapping[int, float], keys: Sequence[int]) -> Column:
    get = values.get
    return tuple(get(key) for key in keys)


def _trade_lines(
    trades: Sequence[Mapping[str, Any]], keys: Sequence[int], width_ns: int
) -> dict[str, TradeLines]:
    by_symbol: dict[str, list[Mapping[str, Any]]] = {}
    for trade in trades:
        by_symbol.setdefault(str(trade["symbol"]), []).append(trade)
    lines: dict[str, TradeLines] = {}
    if not keys:
        return lines
    for symbol in sorted(by_symbol):
        every = by_symbol[symbol]
        shown = every
        if len(every) > MAX_TRADE_LINES:
            step = len(every) / MAX_TRADE_LINES
            shown = [every[int(i * step)] for i in range(MAX_TRADE_LINES)]
        entry_ns = [_nanos(t["entry_time"]) for t in shown]
        exit_ns = [_nanos(t["exit_time"]) for t in shown]
        lines[symbol] = TradeLines(
            symbol=symbol,
            entry_slot=tuple(_slot_of(ts, keys, width_ns) for ts in entry_ns),
            exit_slot=tuple(_slot_of(ts, keys, width_ns) for ts in exit_ns),
            entry_price=tuple(float(t["entry_price"]) for t in shown),
            exit_price=tuple(float(t["exit_price"]) for t in shown),
            pnl=tuple(float(t["pnl"]) for t in shown),
            long=tuple(str(t.get("side", "long")) == "long" for t in shown),
            qty=tuple(float(t["qty"]) for t in shown),
            entry_time=tuple(ts // _NS for ts in entry_ns),
            exit_time=tuple(ts // _NS for ts in exit_ns),
            total=len(every),
        )
    return lines


def _slot_of(ts: int, keys: Sequence[int], width_ns: int) -> int:
    """The slot of time ``ts``: its bucket's, or the first after it (a fill at a bar's open
    happens in the bar that closes at the next slot)."""
    return min(bisect.bisect_left(keys, ts // width_ns), len(keys) - 1)


def _nanos(value: Any) -> int:
    if isinstance(value, str):
        return nanos_from_iso(value.replace("Z", "+00:00"))
    return int(value)
