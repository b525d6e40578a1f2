"""Pre-trade checks, the kill switch and the daily loss limit: rejections are events."""

import pytest
from factories import MINUTE, T0, bar

from framework import (
    ListFeed,
    OrderCancelled,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
    OrderSide,
    Strategy,
    TradingHalted,
    TradingResumed,
    backtest,
)
from framework.execution import (
    KILL_SWITCH_OWNER,
    BrokerConfig,
    BrokerStatistics,
    OrderStatus,
    RiskLimits,
)


def risky(make_desk, **limits):
    return make_desk(BrokerConfig(risk=RiskLimits(**limits)))


def reasons(desk):
    return [(e.reason, e.detail) for e in desk.of(OrderRejected)]


def test_no_trading_without_a_price(desk):
    order = desk.buy(1)
    assert order.status is OrderStatus.REJECTED and order.reason == "no_price"
    (rejected,) = desk.of(OrderRejected)
    assert "no price for AAPL yet" in rejected.detail
    desk.bar(0, 10.0)
    assert desk.buy(1).status is OrderStatus.ACCEPTED


def test_the_price_check_can_be_switched_off(make_desk):
    desk = risky(make_desk, require_price=False)
    assert desk.buy(1).status is OrderStatus.ACCEPTED
    desk.bar(0, 10.0)
    assert desk.prices() == [("buy", 1.0, 10.0)]


def test_max_order_value_uses_the_limit_else_the_last_price(make_desk):
    desk = risky(make_desk, max_order_value=1_000.0)
    desk.bar(0, 10.0)
    assert desk.buy(100).status is OrderStatus.ACCEPTED  # 100 × 10 = 1000: at the limit
    assert desk.buy(101).reason == "max_order_value"
    assert desk.buy(100, limit=10.5).reason == "max_order_value"
    assert desk.buy(100, limit=9.5).status is OrderStatus.ACCEPTED
    assert "order value 1,010.00 exceeds the limit of 1,000.00" in reasons(desk)[0][1]


def test_max_position_counts_open_orders_on_the_same_side(make_desk):
    desk = risky(make_desk, max_position=100)
    desk.bar(0, 10.0)
    desk.buy(60)
    desk.bar(1, 10.0)  # long 60
    desk.buy(30, limit=9.0)  # worst case 90
    assert desk.buy(20).reason == "max_position"  # worst case 110
    assert desk.sell(160).status is OrderStatus.ACCEPTED  # to short 100: allowed
    assert desk.sell(1).reason == "max_position"  # 60 - 160 - 1 = -101


def test_orders_that_reduce_a_position_above_the_limit_pass(make_desk):
    # A position can exceed the limit when the limit is lowered or a book is restored.
    desk = risky(make_desk, max_position=50)
    desk.bar(0, 10.0)
    desk.portfolio.apply_fill(
        OrderFilled(
            order_id=0,
            symbol="AAPL",
            side=OrderSide.BUY,
            qty=80,
            price=10.0,
            commission=0.0,
            ts_event=T0,
            ts_recv=T0,
        )
    )
    assert desk.sell(10).status is OrderStatus.ACCEPTED
    assert desk.buy(1).reason == "max_position"


def test_long_only_refuses_orders_that_could_go_short(make_desk):
    desk = risky(make_desk, long_only=True)
    desk.bar(0, 10.0)
    assert desk.sell(1).reason == "long_only"
    desk.buy(10)
    desk.bar(1, 10.0)
    assert desk.sell(10).status is OrderStatus.ACCEPTED
    assert desk.sell(1).reason == "long_only"  # 10 - 10 - 1 < 0 if everything filled


def test_max_open_orders_counts_every_order_of_a_bracket(make_desk):
    desk = risky(make_desk, max_open_orders=3)
    desk.bar(0, 10.0)
    desk.buy(1, limit=9.0)
    bracket = desk.broker.submit_bracket("s", "AAPL", "buy", 1, take_profit=11.0, stop_loss=9.5)
    assert {o.status for o in (bracket.entry, bracket.take_profit, bracket.stop_loss)} == {
        OrderStatus.REJECTED
    }
    assert reasons(desk)[0][0] == "max_open_orders"
    assert desk.buy(1, limit=9.0).status is OrderStatus.ACCEPTED
    assert desk.buy(1, limit=9.0).status is OrderStatus.ACCEPTED
    assert desk.buy(1, limit=9.0).reason == "max_open_orders"


def test_a_modify_that_adds_too_much_is_rejected_and_the_order_keeps_working(make_desk):
    desk = risky(make_desk, max_position=10)
    desk.bar(0, 10.0)
    order = desk.buy(5, limit=9.0)
    desk.broker.modify(order, qty=11)
    (rejected,) = desk.of(OrderModifyRejected)
    assert rejected.reason == "max_position" and order.qty == 5 and order.is_open


def test_kill_switch_cancels_flattens_and_halts(make_desk):
    desk = make_desk()
    desk.bar(0, 10.0, symbol="AAPL")
    desk.bar(0, 20.0, symbol="MSFT")
    desk.buy(5, symbol="AAPL")
    desk.sell(3, symbol="MSFT")
    desk.bar(1, 10.0, symbol="AAPL")
    desk.bar(1, 20.0, symbol="MSFT")
    resting = desk.buy(1, limit=5.0)
    desk.broker.trip_kill_switch("risk desk said so")
    (halted,) = desk.of(TradingHalted)
    assert halted.reason == "risk desk said so"
    assert resting.status is OrderStatus.CANCELLED and resting.reason == "kill_switch"
    flatten = desk.broker.open_orders()
    assert [(o.strategy_id, o.symbol, o.side.value, o.qty) for o in flatten] == [
        (KILL_SWITCH_OWNER, "AAPL", "sell", 5.0),
        (KILL_SWITCH_OWNER, "MSFT", "buy", 3.0),
    ]
    assert desk.buy(1).reason == "kill_switch"
    desk.bar(2, 9.0, symbol="AAPL")
    desk.bar(2, 21.0, symbol="MSFT")
    assert desk.portfolio.open_positions() == {}
    desk.broker.reset_kill_switch()
    assert len(desk.of(TradingResumed)) == 1
    assert desk.buy(1).status is OrderStatus.ACCEPTED


def test_daily_loss_limit_halts_entries_but_not_exits_until_the_next_session(make_desk):
    desk = risky(make_desk, daily_loss_limit=500.0)
    desk.bar(0, 100.0)
    desk.buy(100)
    desk.bar(1, 100.0, close=96.0)  # -400: under the limit
    assert desk.buy(1, limit=90.0).status is OrderStatus.ACCEPTED
    desk.bar(2, 96.0, close=94.0)  # -600 at the close
    desk.bar(3, 94.0, close=99.0)  # recovered to -100, but the limit was reached today
    entry = desk.buy(1)
    assert entry.reason == "daily_loss_limit"
    assert "loss 600.00 reached the limit of 500.00" in reasons(desk)[0][1]
    assert desk.sell(50).status is OrderStatus.ACCEPTED  # reduces the position
    desk.bar(600, 99.0)  # the next UTC day
    assert desk.buy(1).status is OrderStatus.ACCEPTED


class Greedy(Strategy):
    """Buys far more than the risk limits allow on every bar and records what it hears."""

    def on_start(self) -> None:
        self.heard: list[str] = []

    def on_bar(self, bar) -> None:
        self.buy(bar.symbol, 1_000)

    def on_order(self, event) -> None:
        self.heard.append(getattr(event, "reason", type(event).__name__))


def test_rejections_reach_on_order_and_never_raise_inside_the_strategy():
    strategy = Greedy()
    events = [bar(i, 10.0) for i in range(3)]
    result = backtest(strategy, [ListFeed(events)], risk=RiskLimits(max_position=500))
    assert strategy.heard == ["max_position"] * 3
    assert result.fills == () and result.stats["orders_rejected"] == 3


def test_quantity_mistakes_still_raise():
    class Zero(Strategy):
        def on_bar(self, bar) -> None:
            self.buy(bar.symbol, 0)

    with pytest.raises(ValueError, match="positive finite"):
        backtest(Zero(), [ListFeed([bar(0, 10.0)])])


def test_cancelled_orders_of_the_kill_switch_reach_their_strategy(make_desk):
    desk = make_desk()
    desk.bar(0, 10.0)
    desk.buy(1, limit=5.0)
    desk.broker.trip_kill_switch()
    assert [e.reason for e in desk.of(OrderCancelled)] == ["kill_switch"]
    assert desk.clock.now() == T0 + MINUTE


def test_broker_statistics_count_the_outcomes(make_desk):
    desk = risky(make_desk, max_order_value=50.0)
    desk.bar(0, 10.0)
    desk.buy(1)
    desk.buy(10)  # 100 > 50: rejected
    resting = desk.buy(1, limit=5.0)
    desk.broker.modify(resting, limit=6.0)
    desk.broker.cancel(resting)
    desk.bar(1, 10.0)
    assert desk.broker.statistics() == BrokerStatistics(
        orders=3,
        fills=1,
        rejected=1,
        cancelled=1,
        expired=0,
        modified=1,
        open_orders=0,
        halted=None,
    )
