"""The quote fill rules: buys at the ask, sells at the bid, limits when the other side
crosses, stops on the side they trade, partial fills against quoted sizes."""

import pytest
from factories import MINUTE, T0

from framework import OrderCancelled
from framework.execution import BrokerConfig, FillModel, OrderStatus


@pytest.fixture
def sized(make_desk):
    return make_desk(BrokerConfig(fill_model=FillModel(quote_sizes=True)))


def test_market_orders_take_the_ask_and_the_bid_of_the_next_quote(desk):
    desk.quote(0, 9.9, 10.1)
    desk.buy(3)
    desk.sell(2)
    desk.quote(1, 10.0, 10.2)
    assert desk.prices() == [("buy", 3.0, 10.2), ("sell", 2.0, 10.0)]
    assert all(f.ts_event == T0 + MINUTE for f in desk.fills)


def test_a_missing_side_falls_back_to_the_last_price(desk):
    desk.quote(0, 9.9, 10.1)
    desk.buy(1)
    desk.quote(1, None, None, last=10.05)
    assert desk.prices() == [("buy", 1.0, 10.05)]


def test_an_order_waits_when_the_quote_has_no_price_for_its_side(desk):
    desk.quote(0, 9.9, 10.1)
    order = desk.sell(1)
    desk.quote(1, None, 10.2)  # no bid and no last price
    assert desk.fills == [] and order.is_open
    desk.quote(2, 10.0, 10.2)
    assert desk.prices() == [("sell", 1.0, 10.0)]


def test_buy_limit_fills_at_the_ask_once_the_ask_crosses_it(desk):
    desk.quote(0, 10.0, 10.2)
    desk.buy(1, limit=10.0)
    desk.quote(1, 9.95, 10.05)  # bid below the limit does not matter for a buy
    assert desk.fills == []
    desk.quote(2, 9.8, 9.9)  # ask through the limit: price improvement to the ask
    assert desk.prices() == [("buy", 1.0, 9.9)]


def test_sell_limit_fills_at_the_bid_once_the_bid_crosses_it(desk):
    desk.quote(0, 10.0, 10.2)
    desk.sell(1, limit=10.5)
    desk.quote(1, 10.4, 10.6)
    desk.quote(2, 10.5, 10.7)
    assert desk.prices() == [("sell", 1.0, 10.5)]


def test_stops_trigger_on_the_side_they_trade_and_fill_there(desk):
    desk.quote(0, 10.0, 10.2)
    desk.buy(1, stop=10.5)
    desk.sell(1, stop=9.5)
    desk.quote(1, 10.45, 10.55)  # ask reaches the buy stop
    desk.quote(2, 9.45, 9.55)  # bid reaches the sell stop
    assert desk.prices() == [("buy", 1.0, 10.55), ("sell", 1.0, 9.45)]


def test_stop_limit_on_quotes_triggers_then_waits_for_its_limit(desk):
    desk.quote(0, 10.0, 10.2)
    order = desk.buy(1, stop=10.5, limit=10.4)
    desk.quote(1, 10.5, 10.6)  # triggers (ask >= 10.5), ask above the limit
    assert order.is_triggered and desk.fills == []
    desk.quote(2, 10.3, 10.4)
    assert desk.prices() == [("buy", 1.0, 10.4)]


def test_quoted_sizes_limit_each_fill_and_the_rest_keeps_working(sized):
    sized.quote(0, 10.0, 10.1, bid_size=5, ask_size=5)
    order = sized.buy(10)
    sized.quote(1, 10.0, 10.1, bid_size=5, ask_size=4)
    assert order.status is OrderStatus.PARTIALLY_FILLED and order.leaves_qty == 6
    sized.quote(2, 10.1, 10.2, bid_size=5, ask_size=100)
    assert sized.prices() == [("buy", 4.0, 10.1), ("buy", 6.0, 10.2)]
    assert order.status is OrderStatus.FILLED
    assert order.avg_fill_price == pytest.approx((4 * 10.1 + 6 * 10.2) / 10)


def test_orders_share_a_quoted_size_in_time_priority(sized):
    sized.quote(0, 10.0, 10.1)
    first = sized.buy(3)
    second = sized.buy(3)
    sized.quote(1, 10.0, 10.1, ask_size=4)
    assert [(f.order_id, f.qty) for f in sized.fills] == [(first.order_id, 3), (second.order_id, 1)]


def test_a_missing_size_does_not_limit_the_fill(sized):
    sized.quote(0, 10.0, 10.1)
    sized.sell(50)
    sized.quote(1, 10.0, 10.1, ask_size=1)  # bid_size missing
    assert sized.prices() == [("sell", 50.0, 10.0)]


def test_ioc_fills_what_the_quote_offers_and_cancels_the_rest(sized):
    sized.quote(0, 10.0, 10.1)
    order = sized.buy(10, tif="ioc")
    sized.quote(1, 10.0, 10.1, ask_size=4)
    sized.quote(2, 10.0, 10.1, ask_size=100)
    assert sized.prices() == [("buy", 4.0, 10.1)]
    assert order.status is OrderStatus.CANCELLED and order.filled_qty == 4
    assert [e.reason for e in sized.of(OrderCancelled)] == ["ioc"]


@pytest.mark.parametrize(("size", "filled"), [(9.0, 0.0), (10.0, 10.0)])
def test_fok_fills_completely_or_not_at_all(sized, size, filled):
    sized.quote(0, 10.0, 10.1)
    order = sized.buy(10, tif="fok")
    sized.quote(1, 10.0, 10.1, ask_size=size)
    assert order.filled_qty == filled
    assert order.status is (OrderStatus.FILLED if filled else OrderStatus.CANCELLED)


def test_ioc_limit_not_marketable_at_the_first_quote_is_cancelled(desk):
    desk.quote(0, 10.0, 10.1)
    order = desk.buy(1, limit=10.0, tif="ioc")
    desk.quote(1, 9.9, 10.05)
    desk.quote(2, 9.8, 9.9)
    assert desk.fills == [] and order.reason == "ioc"


def test_without_quote_sizes_a_quote_fills_any_quantity(desk):
    desk.quote(0, 10.0, 10.1)
    desk.buy(1_000)
    desk.quote(1, 10.0, 10.1, ask_size=1)
    assert desk.prices() == [("buy", 1000.0, 10.1)]


def test_an_order_sent_while_handling_a_quote_waits_for_the_next_one(desk):
    seen = []

    def react(event):
        seen.append(event)
        if len(desk.fills) == 1 and len(seen) == 2:  # accepted, then the first fill
            desk.buy(1)

    desk.broker.register_owner("s", lambda e: (desk.events.append(e), react(e)))
    desk.quote(0, 10.0, 10.1)
    desk.buy(1)
    desk.quote(1, 10.0, 10.2)
    assert desk.prices() == [("buy", 1.0, 10.2)]
    desk.quote(2, 10.0, 10.3)
    assert desk.prices() == [("buy", 1.0, 10.2), ("buy", 1.0, 10.3)]


def test_a_triggered_stop_keeps_filling_as_a_market_order(sized):
    sized.quote(0, 10.0, 10.1)
    order = sized.buy(10, stop=10.5)
    sized.quote(1, 10.5, 10.6, ask_size=4)  # triggers; 4 of 10
    sized.quote(2, 10.2, 10.3, ask_size=50)  # back below the stop: still fills the rest
    assert sized.prices() == [("buy", 4.0, 10.6), ("buy", 6.0, 10.3)]
    assert order.is_triggered and order.status is OrderStatus.FILLED
