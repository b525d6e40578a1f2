"""Sized orders match backtrader's order_target_percent, order_target_value and
order_target_size on the same real bars: the same quantity on every call, the same fills.

backtrader (a test dependency, pinned in the ``test`` extra) is the reference. The bars are
GOOG.csv (daily, 2004-2013) and EURUSD.csv (hourly, 2017-2018), as in
test_trailing_vs_backtrader.py. Both sides start with the same cash, pay nothing for trading,
call the same target method with the same target on the same bar, and fill market orders at
the next bar's open.

backtrader sizes a target value with the bar's close (``data.close[0]``) and rounds the
difference of values toward zero to whole units (``int(cash // price)``); tradewire sizes
with the symbol's last price, which for bars is the same close, and rounds the difference
toward zero to whole lots, 1 unit by default (docs/execution.md, section 8). Both count only
the position, not open orders: here no order is open when the next call comes (a market
order fills at the next bar's open, before that bar reaches the strategy). Equity for a
percentage is cash plus positions at the close in both. backtrader checks cash when an order
is submitted and again when it executes; every order below completes, which the test
asserts, so its checks never step in.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import Any

import backtrader as bt
import pytest
from backtrader_data import DATA, Row, as_bars, backtrader_feed, read_rows

from framework import Bar, ListFeed, OrderFilled, Strategy, backtest

CASH = 100_000.0
#: (bar index of the call, signed quantity of the order it sent, or None for no order).
Calls = list[tuple[int, float | None]]
#: (bar label, price, signed quantity) of each fill: the label is the bar's open time
#: (hourly) or its date at midnight (daily), where both sides see the fill happen.
Fills = list[tuple[datetime.datetime, float, float]]
#: bar index -> target (None: no call on that bar).
Schedule = Callable[[int], float | None]


FILES = {
    "GOOG": (DATA / "GOOG.csv", "%Y-%m-%d", datetime.timedelta(days=1)),
    "EURUSD": (DATA / "EURUSD.csv", "%Y-%m-%d %H:%M:%S", datetime.timedelta(hours=1)),
}


@pytest.fixture(scope="module")
def rows() -> dict[str, list[Row]]:
    return {name: read_rows(path, fmt) for name, (path, fmt, _) in FILES.items()}


def every(step: int, targets: Sequence[float]) -> Schedule:
    """Call on every ``step``-th bar, cycling through ``targets``."""
    return lambda k: None if k % step else targets[(k // step) % len(targets)]


def sma_signal(closes: Sequence[float], period: int, high: float, low: float) -> Schedule:
    """Call on every bar once the SMA exists: ``high`` above it, ``low`` at or below it.

    The signal is computed once from the closes and given to both sides, so that only the
    sizing is compared, not two SMA implementations' last bits.
    """
    targets: list[float | None] = [None] * len(closes)
    for k in range(period - 1, len(closes)):
        sma = sum(closes[k - period + 1 : k + 1]) / period
        targets[k] = high if closes[k] > sma else low
    return lambda k: targets[k]


# -- backtrader --------------------------------------------------------------------------------


class _Reference(bt.Strategy):  # type: ignore[misc]
    params = (("kind", None), ("schedule", None))

    def __init__(self) -> None:
        self.calls: Calls = []
        self.fills: Fills = []
        self.unfinished: list[str] = []

    def notify_order(self, order: Any) -> None:
        if order.status == order.Completed:
            (execution,) = order.executed.exbits
            when = bt.num2date(order.executed.dt)
            if self.data._timeframe == bt.TimeFrame.Days:
                when = datetime.datetime.combine(when.date(), datetime.time())
            self.fills.append((when, execution.price, float(execution.size)))
        elif order.status in (order.Canceled, order.Margin, order.Rejected, order.Expired):
            self.unfinished.append(order.getstatusname())

    def next(self) -> None:
        k = len(self) - 1
        target = self.p.schedule(k)
        if target is None:
            return
        method = {
            "percent": self.order_target_percent,
            "value": self.order_target_value,
            "qty": self.order_target_size,
        }[self.p.kind]
        order = method(target=target)
        self.calls.append((k, None if order is None else float(order.size)))


def backtrader_run(name: str, kind: str, schedule: Schedule) -> tuple[Calls, Fills, list[str]]:
    path, fmt, step = FILES[name]
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(backtrader_feed(path, fmt, None if step.days else 60))
    cerebro.broker.setcash(CASH)
    cerebro.addstrategy(_Reference, kind=kind, schedule=schedule)
    (strategy,) = cerebro.run()
    return strategy.calls, strategy.fills, strategy.unfinished


# -- tradewire ---------------------------------------------------------------------------------


class _Targets(Strategy):
    """The same calls; a fill arrives before ``on_bar`` of the bar it happened on."""

    def __init__(self, kind: str, schedule: Schedule) -> None:
        super().__init__()
        self.kind = kind
        self.schedule = schedule
        self.bars = 0
        self.calls: Calls = []
        self.fills: Fills = []

    def on_fill(self, fill: OrderFilled) -> None:
        when = datetime.datetime.fromtimestamp(fill.ts_event / 1e9, datetime.UTC)
        self.fills.append((when.replace(tzinfo=None), fill.price, fill.side.sign * fill.qty))

    def on_bar(self, bar: Bar) -> None:
        k = self.bars
        self.bars += 1
        target = self.schedule(k)
        if target is None:
            return
        method = {
            "percent": self.order_target_percent,
            "value": self.order_target_value,
            "qty": self.order_target_qty,
        }[self.kind]
        order = method(bar.symbol, target)
        self.calls.append((k, None if order is None else order.side.sign * order.qty))


def tradewire_run(rows: list[Row], name: str, kind: str, schedule: Schedule) -> tuple[Calls, Fills]:
    step = FILES[name][2]
    bars = as_bars(rows, name, step)
    strategy = _Targets(kind, schedule)
    backtest(strategy, [ListFeed(bars)], cash=CASH)
    return strategy.calls, strategy.fills


# -- the comparison ----------------------------------------------------------------------------


def compare(name: str, kind: str, schedule: Schedule, rows: list[Row]) -> tuple[Calls, Fills]:
    their_calls, their_fills, unfinished = backtrader_run(name, kind, schedule)
    assert not unfinished, f"backtrader did not complete some orders: {unfinished}"
    our_calls, our_fills = tradewire_run(rows, name, kind, schedule)
    assert len(our_calls) == len(their_calls)
    differing = [(o, t) for o, t in zip(our_calls, their_calls, strict=True) if o != t]
    assert not differing, f"{len(differing)} of {len(our_calls)} orders differ: {differing[:5]}"
    assert len(our_fills) == len(their_fills)
    differing = [(o, t) for o, t in zip(our_fills, their_fills, strict=True) if o != t]
    assert not differing, f"{len(differing)} of {len(our_fills)} fills differ: {differing[:5]}"
    return our_calls, our_fills


PERCENT_TARGETS = (0.9, 0.3, 0.0, 0.6, -0.3, 0.5, -0.5, 0.0, 0.8, 0.8)


@pytest.mark.parametrize("name", ["GOOG", "EURUSD"])
def test_order_target_percent_on_a_schedule_matches_backtrader(name, rows):
    calls, fills = compare(name, "percent", every(5, PERCENT_TARGETS), rows[name])
    sent = [qty for _, qty in calls if qty is not None]
    assert len(sent) > 0.8 * len(calls) > 300
    assert len(fills) == len(sent)
    # Long and short, buys and sells, flattening and reversing through zero all happened.
    assert min(sent) < 0 < max(sent)
    # A repeated target (0.8, 0.8) rebalances by the price move only: a small order.
    assert min(abs(q) for q in sent) < 0.05 * max(abs(q) for q in sent)


@pytest.mark.parametrize("name", ["GOOG", "EURUSD"])
def test_order_target_percent_on_an_sma_signal_matches_backtrader(name, rows):
    closes = [row[4] for row in rows[name]]
    calls, fills = compare(name, "percent", sma_signal(closes, 20, 0.95, 0.2), rows[name])
    assert len(calls) == len(closes) - 19
    # Called on every bar: most calls rebalance a little, some find nothing to do (less than
    # one unit off the target), which both sides report as no order.
    assert sum(qty is None for _, qty in calls) > 0
    assert len(fills) > 0.3 * len(calls)


VALUE_TARGETS = {
    "GOOG": (50_000.0, 20_000.0, 0.0, -30_000.0, 75_000.0, 75_000.0, -10_000.0),
    "EURUSD": (60_000.0, 15_000.0, 0.0, -40_000.0, 90_000.0, 90_000.0, -5_000.0),
}


@pytest.mark.parametrize("name", ["GOOG", "EURUSD"])
def test_order_target_value_matches_backtrader(name, rows):
    calls, fills = compare(name, "value", every(7, VALUE_TARGETS[name]), rows[name])
    sent = [qty for _, qty in calls if qty is not None]
    assert len(fills) == len(sent) > 200
    assert min(sent) < 0 < max(sent)


QTY_TARGETS = {
    "GOOG": (100.0, 30.0, 0.0, -50.0, 60.0, 60.0, -20.0),
    "EURUSD": (40_000.0, 10_000.0, 0.0, -20_000.0, 70_000.0, 70_000.0, -5_000.0),
}


@pytest.mark.parametrize("name", ["GOOG", "EURUSD"])
def test_order_target_qty_matches_backtrader_order_target_size(name, rows):
    calls, _ = compare(name, "qty", every(6, QTY_TARGETS[name]), rows[name])
    targets = QTY_TARGETS[name]
    # The repeated target sends nothing the second time, as backtrader returns None.
    repeats = [qty for k, qty in calls if targets[(k // 6) % len(targets)] == targets[5]]
    assert None in repeats
    assert {abs(q) for _, q in calls if q is not None} <= {
        abs(a - b) for a in (*targets, 0.0) for b in (*targets, 0.0)
    }
