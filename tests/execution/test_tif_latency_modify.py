"""Time in force and sessions, latency, cancel and modify."""

import datetime as dt

import pytest
from factories import MINUTE, T0

from framework import (
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderModified,
    OrderModifyRejected,
)
from framework.execution import BrokerConfig, DailySessions, FillModel, OrderStatus

HOUR = 60 * MINUTE
DAY = 24 * HOUR
# T0 is 2024-01-02 14:30 UTC: the next UTC midnight is 9.5 hours (570 minutes) later.
MIDNIGHT = T0 + 570 * MINUTE


def test_default_session_is_the_utc_day_and_a_boundary_opens_the_next():
    sessions = DailySessions()
    assert sessions.bounds(T0) == (MIDNIGHT - DAY, MIDNIGHT)
    assert sessions.bounds(MIDNIGHT - 1) == (MIDNIGHT - DAY, MIDNIGHT)
    assert sessions.bounds(MIDNIGHT) == (MIDNIGHT, MIDNIGHT + DAY)
    assert sessions.session_end(MIDNIGHT) == MIDNIGHT + DAY


def test_session_in_a_zone_follows_daylight_saving():
    fx = DailySessions(dt.time(17), "America/New_York")
    # 5 pm New York is 22:00 UTC in winter (EST) and 21:00 UTC in summer (EDT).
    winter = fx.session_end(T0)  # 2024-01-02
    assert winter == MIDNIGHT - 2 * HOUR
    summer_noon = T0 + 180 * DAY  # 2024-06-30 14:30 UTC
    assert fx.session_end(summer_noon) == summer_noon + 6 * HOUR + 30 * MINUTE
    with pytest.raises(ValueError, match="unknown time zone"):
        DailySessions(dt.time(0), "Mars/Olympus")


def test_day_order_expires_at_the_session_change_stamped_with_the_boundary(desk):
    desk.bar(0, 100.0)
    order = desk.buy(1, limit=90.0, tif="day")
    assert order.expire_at == MIDNIGHT
    desk.bar(568, 95.0)  # opens 23:58, before midnight: still working
    desk.bar(569, 92.0, 93.0, 91.0)  # opens 23:59: still working, not reached
    assert order.is_open and desk.of(OrderExpired) == []
    desk.bar(570, 80.0)  # opens at midnight: expires first, so the gap does not fill it
    (expired,) = desk.of(OrderExpired)
    assert (expired.order_id, expired.ts_event) == (order.order_id, MIDNIGHT)
    assert order.status is OrderStatus.EXPIRED and desk.fills == []
    assert desk.broker.open_orders() == []


def test_day_order_fills_on_a_bar_that_opened_before_the_boundary(desk):
    desk.bar(0, 100.0)
    desk.buy(1, limit=90.0, tif="day")
    desk.bar(569, 92.0, 93.0, 89.0, minutes=2)  # opens 23:59, ends after midnight
    assert desk.prices() == [("buy", 1.0, 90.0)]


def test_day_order_expires_at_the_next_quote_after_the_change(desk):
    desk.quote(0, 100.0, 100.1)
    order = desk.sell(1, limit=110.0, tif="day")
    desk.quote(571, 100.0, 100.1)
    assert order.status is OrderStatus.EXPIRED
    assert desk.of(OrderExpired)[0].ts_event == MIDNIGHT


def test_session_boundary_is_configurable(make_desk):
    desk = make_desk(BrokerConfig(sessions=DailySessions(dt.time(21))))
    desk.bar(0, 100.0)
    order = desk.buy(1, limit=90.0, tif="day")
    assert order.expire_at == MIDNIGHT - 3 * HOUR
    desk.bar(390, 95.0)  # 21:00 UTC
    assert desk.of(OrderExpired)[0].ts_event == MIDNIGHT - 3 * HOUR


def test_gtc_orders_do_not_expire(desk):
    desk.bar(0, 100.0)
    order = desk.buy(1, limit=90.0)
    desk.bar(3 * 24 * 60, 95.0)
    assert order.is_open and order.expire_at is None


def test_an_oco_pair_expires_together(desk):
    desk.bar(0, 100.0)
    limit, stop = desk.broker.submit_oco("s", "AAPL", "sell", 1, limit=110.0, stop=90.0, tif="day")
    desk.bar(600, 100.0)
    assert {e.order_id for e in desk.of(OrderExpired)} == {limit.order_id, stop.order_id}


def test_latency_delays_activation_in_event_time(make_desk):
    desk = make_desk(BrokerConfig(latency_ms=90_000))  # 1.5 bars of one minute
    desk.bar(0, 100.0)
    order = desk.buy(1)
    assert order.status is OrderStatus.SUBMITTED and desk.of(OrderAccepted) == []
    assert order.ts_active == T0 + MINUTE + 90 * 10**9
    desk.bar(1, 101.0)  # opened at T0+1m: before the order reached the market
    desk.bar(2, 102.0)  # opened at T0+2m: still before T0+2.5m
    assert desk.fills == [] and desk.of(OrderAccepted) == []
    desk.bar(3, 103.0)  # a bar acts at its open: activation (stamped when due), then the fill
    accepted, fill = desk.events
    assert isinstance(accepted, OrderAccepted) and accepted.ts_event == order.ts_active
    assert (fill.price, fill.ts_event) == (103.0, T0 + 3 * MINUTE)


def test_latency_lets_an_order_fill_before_its_cancel_arrives(make_desk):
    desk = make_desk(BrokerConfig(latency_ms=30_000))
    desk.quote(0, 10.0, 10.1)
    order = desk.sell(1, limit=10.5)  # reaches the market at +30 s
    desk.quote(1, 10.0, 10.1)
    assert desk.broker.cancel(order)  # sent at 1:00, arrives at 1:30
    assert order.is_open and order.pending
    desk.quote(1, 10.6, 10.7, seconds=15)  # 1:15: the order is still working
    assert desk.prices() == [("sell", 1.0, 10.6)]
    desk.quote(2, 10.6, 10.7)
    assert order.status is OrderStatus.FILLED and desk.of(OrderCancelled) == []


def test_a_cancel_in_flight_takes_effect_when_it_arrives(make_desk):
    desk = make_desk(BrokerConfig(latency_ms=30_000))
    desk.quote(0, 10.0, 10.1)
    order = desk.sell(1, limit=10.5)
    desk.quote(1, 10.0, 10.1)
    desk.broker.cancel(order)
    desk.quote(2, 10.6, 10.7)  # would fill, but the cancel arrived at 1:30
    (cancelled,) = desk.of(OrderCancelled)
    assert cancelled.ts_event == T0 + MINUTE + 30 * 10**9 and cancelled.reason == "requested"
    assert desk.fills == []


def test_modify_changes_price_and_quantity(desk):
    desk.bar(0, 100.0)
    order = desk.buy(5, limit=95.0)
    desk.broker.modify(order, qty=8, limit=97.0)
    (modified,) = desk.of(OrderModified)
    assert (modified.qty, modified.limit_price, modified.stop_price) == (8, 97.0, None)
    desk.bar(1, 98.0, 98.5, 96.5)
    assert desk.prices() == [("buy", 8.0, 97.0)]


def test_modify_rejections_are_events(make_desk):
    desk = make_desk(BrokerConfig(fill_model=FillModel(quote_sizes=True)))
    desk.quote(0, 10.0, 10.1)
    partly = desk.buy(10)
    desk.quote(1, 10.0, 10.1, ask_size=4)
    desk.broker.modify(partly, qty=4)  # not above the 4 already filled
    done = desk.sell(1)
    desk.quote(2, 10.0, 10.1, ask_size=0)
    desk.broker.modify(done, qty=2)  # filled meanwhile
    assert [(e.order_id, e.reason) for e in desk.of(OrderModifyRejected)] == [
        (partly.order_id, "qty_below_filled"),
        (done.order_id, "not_open"),
    ]
    assert partly.qty == 10 and partly.filled_qty == 4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs qty=, limit= or stop="),
        ({"qty": 0}, "positive finite"),
        ({"stop": 9.0}, "limit order: no stop"),
    ],
)
def test_impossible_modifications_are_programming_errors(desk, kwargs, message):
    desk.bar(0, 10.0)
    order = desk.buy(1, limit=9.5)
    with pytest.raises(ValueError, match=message):
        desk.broker.modify(order, **kwargs)


def test_oco_member_quantities_follow_the_group(desk):
    desk.bar(0, 10.0)
    limit, _ = desk.broker.submit_oco("s", "AAPL", "sell", 1, limit=11.0, stop=9.0)
    with pytest.raises(ValueError, match="follows its group"):
        desk.broker.modify(limit, qty=2)
    desk.broker.modify(limit, limit=12.0)
    assert limit.limit_price == 12.0


def test_cancel_of_a_finished_order_is_false(desk):
    desk.bar(0, 10.0)
    order = desk.buy(1)
    desk.bar(1, 10.0)
    assert desk.broker.cancel(order) is False
    assert desk.of(OrderCancelled) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"qty": -1}, "positive finite"),
        ({"qty": 1, "limit": float("nan")}, "limit price must be a positive finite"),
        ({"qty": 1, "tif": "week"}, "time in force must be one of"),
        ({"qty": 1, "stop": 9.0, "tif": "ioc"}, "not to stops"),
    ],
)
def test_bad_orders_are_programming_errors(desk, kwargs, message):
    desk.bar(0, 10.0)
    with pytest.raises(ValueError, match=message):
        desk.buy(**kwargs)


def test_bracket_prices_on_the_wrong_side_are_programming_errors(desk):
    desk.bar(0, 10.0)
    with pytest.raises(ValueError, match="buy bracket needs stop_loss <"):
        desk.broker.submit_bracket("s", "AAPL", "buy", 1, take_profit=9.0, stop_loss=11.0)
    with pytest.raises(ValueError, match="sell bracket"):
        desk.broker.submit_bracket(
            "s", "AAPL", "sell", 1, entry_limit=10.0, take_profit=9.0, stop_loss=9.5
        )
