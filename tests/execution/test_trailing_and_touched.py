"""Trailing stops and market-if-touched orders: each rule of docs/execution.md on hand-built
bars and quotes, their argument checks, modification, brackets and OCO pairs, records."""

from __future__ import annotations

import pytest
from factories import MINUTE, T0, bar

from framework import (
    Bar,
    ListFeed,
    OrderCancelled,
    OrderModified,
    OrderRejected,
    Strategy,
    backtest,
)
from framework.execution import BrokerConfig, FillModel, Order, OrderStatus, OrderType
from framework.execution._paper_journal import _order_from_json, _order_to_json
from framework.testing import StrategyHarness

# -- the trail on bars -------------------------------------------------------------------------


def test_a_sell_trailing_stop_starts_below_the_last_close_and_follows_the_closes_up(desk):
    desk.bar(0, 10.0)
    order = desk.sell(2, trail=1.0)
    assert order.type is OrderType.TRAILING_STOP_MARKET
    assert (order.trail_offset, order.stop_price, order.status) == (1.0, 9.0, OrderStatus.ACCEPTED)
    desk.bar(1, 10.2, 11.5, 10.1, 11.0)  # the high does not move it: the close does
    assert order.stop_price == 10.0
    desk.bar(2, 11.0, 11.2, 10.5, 10.6)  # a lower close never loosens it
    assert order.stop_price == 10.0 and desk.fills == []
    desk.bar(3, 10.5, 10.6, 9.9, 10.0)  # trades through the stop: fills at it
    (fill,) = desk.fills
    assert (fill.price, fill.qty, fill.ts_event, fill.is_intrabar_guess) == (
        10.0,
        2.0,
        T0 + 4 * MINUTE,
        False,
    )
    assert order.is_triggered and order.status is OrderStatus.FILLED


def test_a_buy_trailing_stop_follows_the_closes_down_and_fills_at_the_open_after_a_gap(desk):
    desk.bar(0, 10.0)
    order = desk.buy(1, trail=0.5)
    assert order.stop_price == 10.5
    desk.bar(1, 10.0, 10.2, 9.0, 9.2)
    assert order.stop_price == 9.7
    desk.bar(2, 10.1, 10.3, 10.0, 10.2)  # opens above the stop: the (worse) open
    (fill,) = desk.fills
    assert (fill.price, fill.ts_event) == (10.1, T0 + 2 * MINUTE)


def test_a_trail_in_percent_keeps_that_fraction_of_the_close(desk):
    desk.bar(0, 200.0)
    order = desk.sell(1, trail_percent=0.05)
    assert order.trail_percent == 0.05 and order.stop_price == 200.0 - 200.0 * 0.05
    desk.bar(1, 200.0, 241.0, 199.0, 240.0)
    assert order.stop_price == 240.0 - 240.0 * 0.05


def test_the_bar_an_order_is_first_matched_on_uses_the_stop_of_the_close_before_it(desk):
    desk.bar(0, 10.0)
    order = desk.sell(1, trail=1.0)  # stop 9.0
    # Rises to 12 and closes there, after dipping to 9.5: the stop of 9.0 is not reached;
    # only after the bar does the stop move up to 11.0.
    desk.bar(1, 10.0, 12.0, 9.5, 12.0)
    assert desk.fills == [] and order.stop_price == 11.0


def test_stop_gives_the_first_stop_and_the_trail_moves_it_only_when_tighter(desk):
    desk.bar(0, 10.0)
    order = desk.sell(1, stop=8.0, trail=1.0)
    assert order.stop_price == 8.0
    desk.bar(1, 10.0, 10.0, 8.5, 8.5)  # 8.5 - 1 is looser than 8: stays
    assert order.stop_price == 8.0
    desk.bar(2, 8.5, 9.6, 8.4, 9.5)
    assert order.stop_price == 8.5


def test_a_trailing_stop_without_a_first_stop_needs_a_price(desk):
    order = desk.sell(1, trail=1.0)  # the ordinary require_price check
    assert order.status is OrderStatus.REJECTED and order.reason == "no_price"
    unchecked = type(desk)(BrokerConfig(risk=_no_price_check()))
    order = unchecked.sell(1, trail=1.0)  # refused all the same: nothing to trail from
    assert order.status is OrderStatus.REJECTED and order.reason == "no_price"
    (rejected,) = unchecked.of(OrderRejected)
    assert "trailing stop without stop=" in rejected.detail
    assert unchecked.sell(1, trail=1.0, stop=5.0).status is OrderStatus.ACCEPTED
    assert unchecked.buy(1, touch=5.0).status is OrderStatus.ACCEPTED


def _no_price_check():
    from framework.execution import RiskLimits

    return RiskLimits(require_price=False)


def test_with_latency_the_trail_starts_from_the_last_price_when_the_order_arrives(make_desk):
    desk = make_desk(BrokerConfig(latency_ms=60_000))  # arrives when bar 2 opens
    desk.bar(0, 10.0)
    order = desk.sell(1, trail=1.0)
    assert order.status is OrderStatus.SUBMITTED and order.stop_price is None
    desk.bar(1, 10.0, 12.0, 9.0, 12.0)  # before it arrives: neither matched nor trailed
    assert order.stop_price is None
    desk.bar(2, 12.0, 12.5, 11.5, 12.0)  # arrives at this bar's open: starts from 12.0
    assert order.status is OrderStatus.ACCEPTED and order.stop_price == 11.0
    assert desk.fills == []


# -- trailing stop-limits on bars --------------------------------------------------------------


def test_a_trailing_stop_limit_keeps_its_limit_at_the_offset_beyond_the_stop(desk):
    desk.bar(0, 10.0)
    order = desk.sell(1, trail=1.0, limit_offset=0.25)
    assert order.type is OrderType.TRAILING_STOP_LIMIT
    assert (order.stop_price, order.limit_price, order.limit_offset) == (9.0, 8.75, 0.25)
    desk.bar(1, 10.0, 11.0, 10.0, 11.0)
    assert (order.stop_price, order.limit_price) == (10.0, 9.75)
    desk.bar(2, 11.0, 11.0, 9.8, 9.9)  # triggered inside the bar at the stop, within the limit
    assert desk.prices() == [("sell", 1.0, 10.0)]

    buy = desk.buy(1, trail=1.0, limit_offset=0.5)
    assert (buy.stop_price, buy.limit_price) == (10.9, 11.4)


def test_a_trailing_stop_limit_gapped_past_its_limit_rests_at_the_frozen_limit(desk):
    desk.bar(0, 10.0)
    order = desk.sell(1, trail=1.0, limit_offset=0.5)  # stop 9.0, limit 8.5
    desk.bar(1, 8.0, 8.4, 7.5, 8.2)  # opens below the limit: triggered, the limit not reached
    assert order.is_triggered and desk.fills == []
    desk.bar(2, 8.2, 8.45, 8.1, 8.4)
    assert desk.fills == [] and (order.stop_price, order.limit_price) == (9.0, 8.5)
    desk.bar(3, 8.4, 8.7, 8.3, 8.6)  # a limit now: fills at 8.5 when the range reaches it
    assert desk.prices() == [("sell", 1.0, 8.5)]


def test_a_trailing_stop_limit_triggered_at_the_open_fills_there_within_the_limit(desk):
    desk.bar(0, 10.0)
    desk.sell(1, trail=1.0, limit_offset=0.5)
    desk.bar(1, 8.8, 8.9, 8.0, 8.1)  # opens below 9.0, above the 8.5 limit
    assert desk.prices() == [("sell", 1.0, 8.8)]
    assert desk.fills[0].ts_event == T0 + MINUTE


def test_a_limit_offset_of_zero_puts_the_limit_at_the_stop(desk):
    desk.bar(0, 10.0)
    order = desk.buy(1, trail_percent=0.1, limit_offset=0)
    assert order.limit_price == order.stop_price == 11.0


# -- market-if-touched on bars -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "touch", "bar", "expected", "at_open"),
    [
        ("buy", 9.5, (9.2, 9.4, 9.0, 9.3), 9.2, True),  # opens below: the (better) open
        ("buy", 9.5, (10.0, 10.1, 9.4, 9.6), 9.5, False),  # falls to it: the touch price
        ("buy", 9.5, (10.0, 10.1, 9.5, 9.6), 9.5, False),  # touches it exactly
        ("sell", 10.5, (10.8, 11.0, 10.7, 10.9), 10.8, True),
        ("sell", 10.5, (10.0, 10.6, 9.9, 10.4), 10.5, False),
    ],
)
def test_market_if_touched_fills_at_the_open_after_a_gap_else_at_the_touch_price(
    desk, side, touch, bar, expected, at_open
):
    desk.bar(0, 10.0)
    order = getattr(desk, side)(3, touch=touch)
    assert order.type is OrderType.MARKET_IF_TOUCHED and order.touch_price == touch
    desk.bar(1, *bar)
    (fill,) = desk.fills
    assert (fill.price, fill.is_intrabar_guess) == (expected, False)
    assert fill.ts_event == (T0 + MINUTE if at_open else T0 + 2 * MINUTE)
    assert order.is_triggered and order.status is OrderStatus.FILLED


def test_market_if_touched_waits_until_the_price_comes_to_it(desk):
    desk.bar(0, 10.0)
    buy = desk.buy(1, touch=9.5)
    sell = desk.sell(1, touch=10.5)
    desk.bar(1, 10.0, 10.49, 9.51, 10.0)
    assert desk.fills == [] and not buy.is_triggered and not sell.is_triggered


# -- quotes ------------------------------------------------------------------------------------


def test_on_quotes_a_trailing_stop_follows_the_mark_and_triggers_on_its_side(desk):
    desk.quote(0, 9.9, 10.1)  # mark: the mid, 10.0
    order = desk.sell(1, trail=0.5)
    assert order.stop_price == 9.5
    desk.quote(1, 10.4, 10.6)
    assert order.stop_price == 10.0
    desk.quote(2, 10.1, 10.3, last=10.8)  # the last trade is the mark: 10.3
    assert order.stop_price == 10.3 and desk.fills == []
    desk.quote(3, 10.3, 10.5)  # the bid reaches the stop: fills at the bid
    assert desk.prices() == [("sell", 1.0, 10.3)]


def test_on_quotes_a_buy_trailing_stop_limit_fills_at_the_ask_within_its_limit(desk):
    desk.quote(0, 9.9, 10.1)
    order = desk.buy(1, trail=0.2, limit_offset=0.1)  # stop 10.2, limit 10.3
    desk.quote(1, 9.7, 9.9)  # mid 9.8: stop 10.0, limit 10.1
    assert (order.stop_price, order.limit_price) == (10.0, 10.1)
    desk.quote(2, 10.1, 10.2)  # ask through the stop and the limit: triggered, no fill
    assert order.is_triggered and desk.fills == []
    desk.quote(3, 9.95, 10.05)
    assert desk.prices() == [("buy", 1.0, 10.05)]


def test_on_quotes_market_if_touched_triggers_on_its_side_and_fills_there(desk):
    desk.quote(0, 9.9, 10.1)
    buy = desk.buy(1, touch=9.5)
    desk.quote(1, 9.45, 9.55)  # the bid below does not matter for a buy
    assert desk.fills == []
    desk.quote(2, 9.3, 9.4)
    assert desk.prices() == [("buy", 1.0, 9.4)] and buy.is_triggered


def test_touched_with_quote_sizes_the_rest_fills_as_a_market_order(make_desk):
    desk = make_desk(BrokerConfig(fill_model=FillModel(quote_sizes=True)))
    desk.quote(0, 10.0, 10.2)
    order = desk.sell(5, touch=10.5)
    desk.quote(1, 10.5, 10.7, bid_size=2)
    desk.quote(2, 10.1, 10.3, bid_size=10)  # below the touch price: a market order now
    assert desk.prices() == [("sell", 2.0, 10.5), ("sell", 3.0, 10.1)]
    assert order.status is OrderStatus.FILLED


# -- arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"trail": 1.0, "trail_percent": 0.1}, "not both"),
        ({"trail": 0.0}, "positive finite price offset"),
        ({"trail": float("nan")}, "positive finite price offset"),
        ({"trail_percent": 1.0}, "fraction of the price"),
        ({"trail_percent": 0.0}, "fraction of the price"),
        ({"trail_percent": 2}, "fraction of the price"),
        ({"limit_offset": 0.5}, "needs trail= or trail_percent="),
        ({"trail": 1.0, "limit": 9.0}, "give limit_offset=, not limit="),
        ({"trail": 1.0, "limit_offset": -0.1}, "limit_offset must be"),
        ({"touch": 9.0, "limit": 9.0}, "takes no limit="),
        ({"touch": 9.0, "stop": 9.0, "trail": 1.0}, "takes no stop=, trail="),
        ({"touch": 0.0}, "touch price must be"),
        ({"trail": 1.0, "tif": "ioc"}, "ioc applies to market and limit orders, not to trailing"),
        ({"touch": 9.0, "tif": "fok"}, "not to market-if-touched"),
    ],
)
def test_combinations_that_make_no_order_raise(options, message):
    strategy = Strategy()
    harness = StrategyHarness(strategy)
    harness.bar(10.0)
    with pytest.raises(ValueError, match=message):
        strategy.sell("TEST", 1, **options)
    assert harness.orders == []


def test_an_unknown_keyword_is_a_type_error_and_none_values_make_an_ordinary_order():
    strategy = Strategy()
    harness = StrategyHarness(strategy)
    harness.bar(10.0)
    with pytest.raises(TypeError, match="buy\\(\\) got an unexpected keyword argument 'trial'"):
        strategy.buy("TEST", 1, trial=1.0)  # type: ignore[call-arg]
    order = strategy.buy("TEST", 1, limit=9.0, trail=None, touch=None)
    assert order.type is OrderType.LIMIT and order.trigger_terms is None


def test_the_broker_needs_an_offset_for_a_trailing_stop(desk):
    desk.bar(0, 10.0)
    with pytest.raises(ValueError, match="needs trail= or trail_percent="):
        desk.broker.submit_trailing_stop("s", "AAPL", "sell", 1, stop=9.0)
    with pytest.raises(ValueError, match="needs trail= or trail_percent="):
        desk.broker.submit_trailing_stop("s", "AAPL", "sell", 1, limit_offset=0.1)


# -- modification ------------------------------------------------------------------------------


def test_modifying_a_trailing_stop_moves_its_stop_and_it_trails_on_from_there(desk):
    desk.bar(0, 10.0)
    order = desk.sell(1, trail=1.0, limit_offset=0.5)
    desk.broker.modify(order, stop=8.0, qty=2)
    (modified,) = desk.of(OrderModified)
    assert (modified.stop_price, modified.limit_price, modified.qty) == (8.0, 7.5, 2.0)
    desk.bar(1, 10.0, 10.0, 9.0, 9.5)
    assert (order.stop_price, order.limit_price) == (8.5, 8.0)
    with pytest.raises(ValueError, match="its limit follows its stop"):
        desk.broker.modify(order, limit=9.0)


def test_a_market_if_touched_order_changes_only_its_quantity(desk):
    desk.bar(0, 10.0)
    order = desk.buy(1, touch=9.0)
    for price in ({"stop": 9.5}, {"limit": 9.5}):
        with pytest.raises(ValueError, match="only its quantity can change"):
            desk.broker.modify(order, **price)
    desk.broker.modify(order, qty=4)
    assert order.qty == 4.0 and order.touch_price == 9.0


# -- brackets and OCO pairs --------------------------------------------------------------------


def test_a_bracket_stop_loss_can_trail_from_its_stop_loss_once_the_entry_filled(desk):
    desk.bar(0, 10.0)
    bracket = desk.broker.submit_bracket(
        "s", "AAPL", "buy", 3, take_profit=15.0, stop_loss=9.0, trail=1.0
    )
    stop = bracket.stop_loss
    assert stop.type is OrderType.TRAILING_STOP_MARKET and stop.stop_price == 9.0
    desk.bar(1, 10.0, 10.5, 9.8, 10.5)  # the entry fills at the open; the exit trails after
    assert stop.stop_price == 9.5
    desk.bar(2, 10.5, 12.0, 10.5, 12.0)
    assert stop.stop_price == 11.0
    desk.bar(3, 11.9, 11.9, 10.8, 11.0)
    assert desk.prices() == [("buy", 3.0, 10.0), ("sell", 3.0, 11.0)]
    assert bracket.take_profit.status is OrderStatus.CANCELLED


def test_an_exit_that_trails_fills_as_a_guess_in_the_bar_its_entry_filled_inside(desk):
    desk.bar(0, 10.0)
    bracket = desk.broker.submit_bracket(
        "s", "AAPL", "buy", 1, entry_limit=9.5, take_profit=12.0, stop_loss=9.0, trail=2.0
    )
    desk.bar(1, 10.0, 10.0, 8.5, 9.0)  # entry at 9.5 inside the bar, then the stop-loss at 9.0
    assert desk.prices() == [("buy", 1.0, 9.5), ("sell", 1.0, 9.0)]
    assert desk.fills[1].is_intrabar_guess and bracket.stop_loss.status is OrderStatus.FILLED


def test_an_oco_stop_can_trail(desk):
    desk.bar(0, 100.0)
    limit, stop = desk.broker.submit_oco(
        "s", "AAPL", "sell", 2, limit=120.0, stop=90.0, trail_percent=0.05
    )
    assert stop.type is OrderType.TRAILING_STOP_MARKET and stop.stop_price == 90.0
    desk.bar(1, 100.0, 110.0, 100.0, 110.0)
    assert stop.stop_price == 110.0 - 110.0 * 0.05
    desk.bar(2, 110.0, 110.0, 104.0, 105.0)
    assert desk.prices() == [("sell", 2.0, 104.5)]
    assert limit.status is OrderStatus.CANCELLED and limit.reason == "oco"


# -- what the broker keeps ---------------------------------------------------------------------


def test_only_symbols_with_trailing_orders_pay_for_trailing(desk):
    desk.bar(0, 10.0, symbol="MSFT")
    desk.bar(0, 10.0)
    desk.buy(1, limit=5.0)
    order = desk.sell(1, trail=1.0)
    assert desk.broker._trailing == {"AAPL"}
    desk.broker.cancel(order)
    desk.bar(1, 10.0)
    assert desk.broker._trailing == set()
    assert [type(e) for e in desk.of(OrderCancelled)] == [OrderCancelled]


def test_finished_orders_keep_their_offsets_and_touch_price(desk):
    desk.bar(0, 10.0)
    orders = [
        desk.sell(1, trail=1.0),
        desk.sell(1, trail_percent=0.02, limit_offset=0.1),
        desk.buy(1, touch=9.9),
    ]
    desk.bar(1, 10.0, 10.0, 8.0, 8.0)
    assert all(o.status is OrderStatus.FILLED for o in orders)
    for order in orders:
        kept = desk.broker.order(order.order_id)
        assert kept is not order
        for name in ("type", "stop_price", "limit_price", "trail_offset", "trail_percent"):
            assert getattr(kept, name) == getattr(order, name)
        assert (kept.limit_offset, kept.touch_price) == (order.limit_offset, order.touch_price)


def test_the_journal_keeps_the_new_fields_and_reads_records_without_them(desk):
    desk.bar(0, 10.0)
    trailing = desk.sell(1, trail_percent=0.02, limit_offset=0.1)
    touched = desk.buy(1, touch=9.9)
    plain = desk.buy(1, limit=9.0)
    for order in (trailing, touched):
        back = _order_from_json(_order_to_json(order))
        for name in ("type", "stop_price", "limit_price", "trail_offset", "trail_percent"):
            assert getattr(back, name) == getattr(order, name)
        assert (back.limit_offset, back.touch_price) == (order.limit_offset, order.touch_price)
    record = _order_to_json(plain)
    assert not {"trail", "trail_percent", "limit_offset", "touch"} & set(record)
    back = _order_from_json(record)  # as a journal written before these fields existed
    assert (back.trail_offset, back.trail_percent, back.limit_offset, back.touch_price) == (
        None,
        None,
        None,
        None,
    )


# -- from a strategy ---------------------------------------------------------------------------


class _Protected(Strategy):
    """Buys on the first bar, protects the position with a trailing stop once it is held, and
    buys more if the price dips to 9.0."""

    def on_start(self) -> None:
        self.sent: list[Order] = []

    def on_bar(self, bar: Bar) -> None:
        if not self.sent:
            self.sent.append(self.buy(bar.symbol, 2))
        elif len(self.sent) == 1 and self.position(bar.symbol).qty:
            self.sent.append(self.sell(bar.symbol, 2, trail_percent=0.1))
            self.sent.append(self.buy(bar.symbol, 1, touch=9.0))


def test_a_strategy_sends_them_with_buy_and_sell():
    strategy = _Protected()
    harness = StrategyHarness(strategy)
    harness.bars([10.0, 10.0, 12.0, 11.5])
    entry, trailing, touched = strategy.sent
    assert trailing.type is OrderType.TRAILING_STOP_MARKET and trailing.stop_price == 12.0 - 1.2
    harness.bar(10.0, open=11.0, high=11.0, low=8.5)
    assert [(f.order_id, f.price) for f in harness.fills] == [
        (entry.order_id, 10.0),
        (trailing.order_id, 10.8),
        (touched.order_id, 9.0),
    ]
    with pytest.raises(ValueError, match="not both"):
        strategy.sell("TEST", 1, trail=1.0, trail_percent=0.1)


def test_orders_sent_during_warm_up_are_refused_as_what_they_are():
    strategy = Strategy()
    harness = StrategyHarness(strategy)
    harness.bar(10.0)
    strategy._set_warming_up(True)
    bracket = strategy.bracket("TEST", "buy", 1, take_profit=12.0, stop_loss=9.0, trail=0.5)
    orders = [
        strategy.sell("TEST", 1, trail=1.0),
        strategy.buy("TEST", 1, trail_percent=0.1, limit_offset=0.2, stop=11.0),
        strategy.buy("TEST", 1, touch=9.0),
        bracket.stop_loss,
        strategy.oco("TEST", "sell", 1, limit=12.0, stop=9.0, trail_percent=0.01)[1],
    ]
    assert [o.type for o in orders] == [
        OrderType.TRAILING_STOP_MARKET,
        OrderType.TRAILING_STOP_LIMIT,
        OrderType.MARKET_IF_TOUCHED,
        OrderType.TRAILING_STOP_MARKET,
        OrderType.TRAILING_STOP_MARKET,
    ]
    assert all(o.status is OrderStatus.REJECTED and o.reason == "warmup" for o in orders)
    assert (orders[1].stop_price, orders[1].limit_price) == (11.0, 11.2)
    with pytest.raises(ValueError, match="takes no limit="):
        strategy.buy("TEST", 1, touch=9.0, limit=9.0)


def test_results_list_them_with_their_type_and_last_stop():
    strategy = _Protected()
    result = backtest(
        strategy,
        [ListFeed([bar(i, c, high=c + 0.5, low=c - 0.5) for i, c in enumerate(CLOSES)])],
    )
    _, trailing, touched = strategy.sent
    rows = {row["order_id"]: row for row in result.to_dict()["orders"]}
    assert rows[trailing.order_id]["type"] == "trailing_stop_market"
    assert rows[trailing.order_id]["stop_price"] == trailing.stop_price
    assert rows[touched.order_id]["type"] == "market_if_touched"
    assert rows[touched.order_id]["stop_price"] is None
    table = result.arrow.orders.to_pylist()
    assert [row["type"] for row in table] == [rows[r["order_id"]]["type"] for r in table]
    assert all(row["status"] == "filled" for row in rows.values())


CLOSES = [10.0, 10.0, 12.0, 11.5, 10.5, 9.0]
