"""A user's tests for SmaCross, using each tool of the tradewire test kit.

The fixtures (tradewire_backtest, tradewire_golden, sim_config, sim_server) come from the
plugin that installing tradewire registers with pytest: there is no conftest.py to write.
"""

from pathlib import Path

import pytest
import trio

from framework import Bar, Engine, FeedDisconnected, Interval, OrderSide
from framework.adapters.insightsentry import (
    BackoffPolicy,
    InsightSentryFeed,
    LiveFeedConfig,
    Subscription,
)
from framework.adapters.insightsentry.sim import DEFAULT_API_KEY, Fault, FaultSpec
from framework.testing import (
    StrategyHarness,
    assert_deterministic,
    assert_no_lookahead,
    capture_events,
)
from strategies.sma_cross import SmaCross

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "sample.twrec"


# -- a backtest over a bar file or a recorded session: result and events seen --------------


def test_sma_cross_trades_the_recorded_session(tradewire_backtest):
    strategy = SmaCross(fast=5, slow=20)
    result = tradewire_backtest(strategy, SAMPLE)
    seen = tradewire_backtest.seen(strategy)

    assert result.trades
    assert {bar.symbol for bar in seen.bars} == {"NASDAQ:AAPL", "NASDAQ:MSFT"}
    assert len(seen.fills) == len(result.fills)
    assert_no_lookahead(seen)


def test_sma_cross_waits_for_the_slow_average_before_trading(tradewire_backtest):
    strategy = SmaCross(fast=10, slow=30)
    tradewire_backtest(strategy, DATA / "AAPL.csv")
    seen = tradewire_backtest.seen(strategy)

    first_fill = next(i for i, event in enumerate(seen.events) if event in seen.fills)
    bars_before = sum(1 for event in seen.events[:first_fill] if isinstance(event, Bar))
    assert bars_before > 30


def test_sma_cross_runs_are_identical():
    assert_deterministic(lambda: SmaCross(fast=5, slow=20), [DATA / "AAPL.csv", SAMPLE])


# -- golden results ----------------------------------------------------------------------------


def test_sma_cross_over_aapl_matches_the_golden_summary(tradewire_backtest, tradewire_golden):
    result = tradewire_backtest(SmaCross(fast=10, slow=30), DATA / "AAPL.csv")
    # Any JSON-able value works; a summary keeps the golden file short.
    summary = {
        "fills": len(result.fills),
        "trades": len(result.trades),
        "final_equity": result.final_equity,
        "max_drawdown": result.stats["max_drawdown"],
    }
    tradewire_golden(summary)


# -- unit tests without an engine: a handful of hand-written bars ------------------------------


def test_sma_cross_buys_on_the_cross_and_fills_at_the_next_open():
    harness = StrategyHarness(SmaCross(fast=2, slow=3, qty=10), symbol="AAPL")
    harness.bars([10, 9, 8, 9])  # fast crosses below, then starts to turn
    assert harness.orders == []

    harness.bar(11)  # fast (10) crosses above slow (9.33)
    [order] = harness.orders
    assert (order.side, order.qty) == (OrderSide.BUY, 10)
    assert harness.fills == []  # a market order waits for the next bar

    harness.bar(12, open=11.5)
    [fill] = harness.fills
    assert fill.price == 11.5
    assert harness.position("AAPL").qty == 10


def test_sma_cross_closes_the_position_on_the_cross_below():
    harness = StrategyHarness(SmaCross(fast=2, slow=3, qty=10))
    harness.bars([10, 9, 8, 9, 11, 12])  # buys after 11, filled at 12
    harness.bars([10, 8])  # fast falls below slow at 8: close
    harness.bar(7)
    assert [f.side for f in harness.fills] == [OrderSide.BUY, OrderSide.SELL]
    assert harness.position().is_flat
    assert harness.trades[0].pnl == (7 - 12) * 10


# -- live code against the simulated InsightSentry server (needs pytest-trio) ------------------


@pytest.mark.tradewire_sim(
    speed=1_200.0,  # 20 simulated minutes per real second
    trade_interval=0.01,
    heartbeat_interval=0.2,
    # Drop the first connection once 30 frames are out: the feed must reconnect and the
    # strategy must still see every bar once, in order.
    faults=[FaultSpec(fault=Fault.DROP, after_frames=30, connections={1})],
)
async def test_sma_cross_paper_trades_through_a_dropped_connection(sim_server):
    strategy = SmaCross(fast=5, slow=20)
    seen = capture_events(strategy)
    feed = InsightSentryFeed(
        [Subscription(code="NASDAQ:AAPL", interval=Interval.parse("1m"), bars=40)],
        api_key=DEFAULT_API_KEY,
        url=sim_server.url,
        # Quick reconnects, and a short wait for the close handshake when the engine stops.
        config=LiveFeedConfig(backoff=BackoffPolicy(initial=0.05), close_timeout=0.25),
    )
    engine = Engine(feeds=[feed], strategies=[strategy])
    delivered = []

    def stop_after_60_bars(event):  # an observer sees every event, after the strategies
        delivered.append(event)
        if sum(isinstance(e, Bar) for e in delivered) == 60:
            engine.stop()

    engine.add_observer(stop_after_60_bars)
    with trio.fail_after(20):
        await engine.run()

    assert any(isinstance(event, FeedDisconnected) for event in delivered)
    assert len(sim_server.connections()) >= 2
    assert seen.bars == [e for e in delivered if isinstance(e, Bar)]
    assert_no_lookahead(seen)
