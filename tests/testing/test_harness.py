"""StrategyHarness: strategies driven by hand, synchronously, with the real broker rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from framework import (
    Bar,
    ConfigError,
    EngineError,
    ListFeed,
    OrderAccepted,
    OrderSide,
    Strategy,
    TimerFired,
    backtest,
)
from framework.execution import OrderStatus
from framework.testing import StrategyHarness, bars
from strategies.sma_cross import SmaCross

MINUTE = 60_000_000_000


class BuyEveryBar(Strategy):
    """Buys one unit on every bar; records its lifecycle."""

    def on_start(self) -> None:
        self.started_at = self.clock.now()
        self.stops = 0

    def on_bar(self, bar: Bar) -> None:
        self.buy(bar.symbol, 1)

    def on_stop(self) -> None:
        self.stops += 1


class Ticker(Strategy):
    """Sets a repeating timer and counts its firings."""

    def on_start(self) -> None:
        self.fired: list[int] = []
        self.set_timer("tick", every=MINUTE)

    def on_timer(self, timer: TimerFired) -> None:
        self.fired.append(timer.ts_event)


def test_an_order_fills_at_the_next_bars_open_not_the_bar_that_triggered_it():
    harness = StrategyHarness(BuyEveryBar(), symbol="AAPL")
    first = harness.bar(10.0, open=9.0)
    [order] = harness.orders
    assert order.status is OrderStatus.ACCEPTED
    assert order.ts_submitted == first.ts_event
    assert harness.fills == []
    assert harness.open_orders == [order]

    second = harness.bar(12.0, open=11.0)
    assert [(f.price, f.ts_event) for f in harness.fills] == [(11.0, second.ts_open)]
    assert order.status is OrderStatus.FILLED
    assert len(harness.orders) == 2
    assert harness.position("AAPL").qty == 1
    assert harness.portfolio.equity() == pytest.approx(harness.portfolio.cash + 12.0)


def test_bars_follow_each_other_per_symbol_and_default_their_range_to_open_and_close():
    harness = StrategyHarness(SmaCross(), start_ns=0, interval="5m")
    a = harness.bar(10.0, open=8.0)
    b = harness.bar(20.0, symbol="MSFT")
    c = harness.bar(11.0)
    assert (a.ts_open, a.ts_event, a.low, a.high) == (0, 5 * MINUTE, 8.0, 10.0)
    assert (b.symbol, b.ts_open) == ("MSFT", 0)
    assert c.ts_open == a.ts_event
    assert harness.now == c.ts_event
    assert harness.seen.bars == [a, b, c]


def test_a_quote_fills_a_buy_at_the_ask():
    harness = StrategyHarness(BuyEveryBar())
    harness.bar(10.0)
    harness.quote(bid=10.1, ask=10.3)
    [fill] = harness.fills
    assert (fill.side, fill.price) == (OrderSide.BUY, 10.3)


def test_on_start_runs_before_the_first_event_with_the_clock_at_its_time_and_on_stop_once():
    strategy = BuyEveryBar()
    harness = StrategyHarness(strategy, start_ns=7 * MINUTE)
    bar = harness.bar(5.0)
    assert strategy.started_at == bar.ts_event
    harness.stop()
    harness.stop()
    assert strategy.stops == 1
    with pytest.raises(EngineError, match="stopped"):
        harness.bar(6.0)


def test_timers_fire_before_later_events_and_when_the_clock_is_advanced():
    strategy = Ticker()
    harness = StrategyHarness(strategy, start_ns=0)
    harness.start()
    harness.bar(1.0, ts_open=2 * MINUTE)  # final at 3 min: timers due at 1, 2, 3 min fire first
    assert strategy.fired == [MINUTE, 2 * MINUTE, 3 * MINUTE]
    harness.advance_to(5 * MINUTE)
    assert strategy.fired[-2:] == [4 * MINUTE, 5 * MINUTE]
    assert harness.seen.timers[-1].ts_event == 5 * MINUTE


def test_the_harness_needs_a_fixed_bar_size():
    with pytest.raises(ConfigError, match="fixed bar size"):
        StrategyHarness(SmaCross(), interval="1M")


def test_feeding_prebuilt_events_and_reading_order_events():
    harness = StrategyHarness(BuyEveryBar(), symbol="X:Y")
    built = [
        Bar(
            symbol="X:Y",
            interval="1m",
            ts_open=i * MINUTE,
            open=5.0,
            high=5.0,
            low=5.0,
            close=5.0,
            volume=1.0,
            ts_event=(i + 1) * MINUTE,
            ts_recv=(i + 1) * MINUTE,
        )
        for i in range(3)
    ]
    harness.feed(built)
    assert len(harness.orders) == 3
    assert len(harness.fills) == 2
    accepted = harness.seen.of_type(OrderAccepted)
    assert [a.order_id for a in accepted] == [o.order_id for o in harness.orders]


@settings(max_examples=40, deadline=None)
@given(bars(symbols=["NASDAQ:AAPL", "NASDAQ:MSFT"], max_bars=80, gaps=True, regimes=2))
def test_the_harness_fills_exactly_like_a_backtest(generated):
    harness = StrategyHarness(SmaCross(fast=3, slow=7))
    harness.feed(generated)
    harness.stop()
    result = backtest(SmaCross(fast=3, slow=7), [ListFeed(generated)])
    assert harness.fills == list(result.fills)
    assert harness.portfolio.equity() == result.final_equity
