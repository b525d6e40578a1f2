"""The bar fill rules of docs/execution.md, each on hand-built bars."""

import pytest
from factories import MINUTE, T0

from framework import OrderCancelled, OrderFilled
from framework.execution import OrderStatus, OrderType

BAR0_END = T0 + MINUTE  # when orders sent after bar 0 are submitted


def test_market_order_fills_at_the_next_bar_open_stamped_with_its_open_time(desk):
    desk.bar(0, 10.0)
    desk.buy(5)
    desk.bar(1, 10.5, 11.0, 10.2, 10.8)
    (fill,) = desk.fills
    assert (fill.price, fill.qty, fill.ts_event, fill.is_intrabar_guess) == (
        10.5,
        5,
        T0 + MINUTE,
        False,
    )


@pytest.mark.parametrize(
    ("bar", "expected"),
    [
        ((9.0, 9.5, 8.8, 9.2), 9.0),  # opens below the limit: gap through, the better open
        ((10.5, 10.6, 9.9, 10.2), 10.0),  # trades down through the limit: the limit
        ((10.5, 10.6, 10.0, 10.2), 10.0),  # touches the limit exactly: fills (touch rule)
    ],
)
def test_buy_limit_fills_at_the_open_after_a_gap_else_at_the_limit(desk, bar, expected):
    desk.bar(0, 10.5)
    order = desk.buy(3, limit=10.0)
    assert order.type is OrderType.LIMIT
    desk.bar(1, *bar)
    assert desk.prices() == [("buy", 3.0, expected)]
    assert order.status is OrderStatus.FILLED and order.avg_fill_price == expected


def test_limit_rests_until_the_range_reaches_it(desk):
    desk.bar(0, 10.5)
    order = desk.sell(2, limit=11.0)
    desk.bar(1, 10.5, 10.9, 10.4)
    desk.bar(2, 10.7, 10.95, 10.6)
    assert desk.fills == [] and order.status is OrderStatus.ACCEPTED
    desk.bar(3, 11.3, 11.5, 11.1)  # gaps up through the sell limit: the open
    assert desk.prices() == [("sell", 2.0, 11.3)]
    assert desk.fills[0].ts_event == T0 + 3 * MINUTE


@pytest.mark.parametrize(
    ("side", "stop", "bar", "expected", "intrabar"),
    [
        ("buy", 11.0, (11.4, 11.6, 11.2, 11.5), 11.4, False),  # gaps above: the worse open
        ("buy", 11.0, (10.5, 11.2, 10.4, 11.1), 11.0, True),  # trades through: the stop
        ("sell", 9.0, (8.5, 8.7, 8.2, 8.4), 8.5, False),  # gaps below: the open
        ("sell", 9.0, (9.5, 9.6, 8.9, 9.1), 9.0, True),  # trades through: the stop
    ],
)
def test_stop_fills_at_the_open_after_a_gap_else_at_the_stop(
    desk, side, stop, bar, expected, intrabar
):
    desk.bar(0, 10.0)
    order = getattr(desk, side)(4, stop=stop)
    desk.bar(1, *bar)
    (fill,) = desk.fills
    assert fill.price == expected
    assert fill.ts_event == (T0 + 2 * MINUTE if intrabar else T0 + MINUTE)
    assert not fill.is_intrabar_guess
    assert order.is_triggered and order.status is OrderStatus.FILLED


def test_stop_not_reached_does_not_fill(desk):
    desk.bar(0, 10.0)
    desk.buy(1, stop=11.0)
    desk.sell(1, stop=9.0)
    desk.bar(1, 10.0, 10.99, 9.01)
    assert desk.fills == []


def test_stop_limit_triggered_at_the_open_works_as_a_limit_from_the_open(desk):
    desk.bar(0, 10.0)
    within = desk.buy(1, stop=10.5, limit=11.0)
    assert within.type is OrderType.STOP_LIMIT
    beyond = desk.buy(1, stop=10.5, limit=11.2)
    desk.bar(1, 11.5, 11.6, 11.1)  # opens above both limits; the low returns to 11.2 only
    assert [(f.order_id, f.price) for f in desk.fills] == [(beyond.order_id, 11.2)]
    assert within.is_triggered and within.status is OrderStatus.ACCEPTED
    desk.bar(2, 11.3, 11.4, 10.9)  # now a plain limit at 11.0
    assert desk.fills[-1].order_id == within.order_id and desk.fills[-1].price == 11.0


def test_stop_limit_triggered_inside_the_bar_fills_at_the_stop_only_if_within_the_limit(desk):
    desk.bar(0, 10.0)
    marketable = desk.buy(1, stop=10.5, limit=10.6)
    pullback = desk.buy(1, stop=10.5, limit=10.2)  # wants a pullback after the breakout
    desk.bar(1, 10.1, 10.8, 10.0)
    # The low (10.0) is below 10.2, but whether it came after the high is unknown: no fill.
    assert [(f.order_id, f.price) for f in desk.fills] == [(marketable.order_id, 10.5)]
    assert pullback.is_triggered
    desk.bar(2, 10.4, 10.5, 10.1)
    assert desk.fills[-1].order_id == pullback.order_id and desk.fills[-1].price == 10.2


def test_both_stop_loss_and_take_profit_inside_one_bar_fill_the_stop_loss(desk):
    desk.bar(0, 100.0)
    bracket = desk.broker.submit_bracket("s", "AAPL", "buy", 10, take_profit=110.0, stop_loss=95.0)
    desk.bar(1, 100.0, 101.0, 99.0)  # entry at the open; neither exit reached
    desk.bar(2, 100.0, 112.0, 94.0)  # both exits inside one bar
    entry, stop_loss = desk.fills
    assert entry.order_id == bracket.entry.order_id and entry.price == 100.0
    assert stop_loss.order_id == bracket.stop_loss.order_id
    assert (stop_loss.price, stop_loss.is_intrabar_guess) == (95.0, True)
    assert bracket.take_profit.status is OrderStatus.CANCELLED
    assert bracket.take_profit.reason == "oco"
    assert desk.portfolio.position("AAPL").qty == 0


def test_short_bracket_pessimism_fills_the_stop_above(desk):
    desk.bar(0, 100.0)
    bracket = desk.broker.submit_bracket("s", "AAPL", "sell", 5, take_profit=90.0, stop_loss=104.0)
    desk.bar(1, 100.0)
    desk.bar(2, 99.0, 105.0, 89.0)
    assert desk.fills[-1].order_id == bracket.stop_loss.order_id
    assert (desk.fills[-1].price, desk.fills[-1].is_intrabar_guess) == (104.0, True)


@pytest.mark.parametrize(
    ("open_", "winner", "price"),
    [(93.0, "stop_loss", 93.0), (111.0, "take_profit", 111.0)],
)
def test_a_gap_through_an_exit_is_no_guess(desk, open_, winner, price):
    desk.bar(0, 100.0)
    bracket = desk.broker.submit_bracket("s", "AAPL", "buy", 10, take_profit=110.0, stop_loss=95.0)
    desk.bar(1, 100.0)
    desk.bar(2, open_, max(open_, 112.0), min(open_, 90.0))
    fill = desk.fills[-1]
    assert fill.order_id == getattr(bracket, winner).order_id
    assert (fill.price, fill.is_intrabar_guess, fill.ts_event) == (price, False, T0 + 2 * MINUTE)


def test_only_one_exit_inside_the_bar_fills_without_a_guess(desk):
    desk.bar(0, 100.0)
    bracket = desk.broker.submit_bracket("s", "AAPL", "buy", 10, take_profit=110.0, stop_loss=95.0)
    desk.bar(1, 100.0, 111.0, 99.0)  # entry at the open, then the take-profit in the same bar
    assert [(f.order_id, f.price, f.is_intrabar_guess) for f in desk.fills] == [
        (bracket.entry.order_id, 100.0, False),
        (bracket.take_profit.order_id, 110.0, False),
    ]
    assert bracket.stop_loss.status is OrderStatus.CANCELLED


def test_limit_entry_filled_inside_a_bar_takes_the_stop_loss_if_the_bar_reached_it(desk):
    desk.bar(0, 100.0)
    bracket = desk.broker.submit_bracket(
        "s", "AAPL", "buy", 10, entry_limit=98.0, take_profit=104.0, stop_loss=96.0
    )
    desk.bar(1, 100.0, 105.0, 95.0)  # entry at 98 inside the bar; both exits also inside
    assert [(f.order_id, f.price, f.is_intrabar_guess) for f in desk.fills] == [
        (bracket.entry.order_id, 98.0, False),
        (bracket.stop_loss.order_id, 96.0, True),
    ]
    assert bracket.take_profit.status is OrderStatus.CANCELLED


def test_limit_entry_filled_inside_a_bar_leaves_the_take_profit_for_the_next_bar(desk):
    desk.bar(0, 100.0)
    bracket = desk.broker.submit_bracket(
        "s", "AAPL", "buy", 10, entry_limit=98.0, take_profit=104.0, stop_loss=96.0
    )
    desk.bar(1, 100.0, 105.0, 97.0)  # entry at 98; take-profit range reached, stop not
    assert [f.order_id for f in desk.fills] == [bracket.entry.order_id]
    desk.bar(2, 103.0, 104.5, 102.0)
    assert desk.fills[-1].order_id == bracket.take_profit.order_id
    assert desk.fills[-1].price == 104.0


def test_unfilled_bracket_entry_cancelled_cancels_its_exits(desk):
    desk.bar(0, 100.0)
    bracket = desk.broker.submit_bracket(
        "s", "AAPL", "buy", 10, entry_limit=90.0, take_profit=110.0, stop_loss=85.0
    )
    desk.bar(1, 100.0, 120.0, 91.0)  # exits would trigger, but they are not working yet
    assert desk.fills == []
    assert desk.broker.cancel(bracket.entry)
    reasons = {e.order_id: e.reason for e in desk.of(OrderCancelled)}
    assert reasons == {
        bracket.entry.order_id: "requested",
        bracket.take_profit.order_id: "parent_cancelled",
        bracket.stop_loss.order_id: "parent_cancelled",
    }
    assert desk.broker.open_orders() == []


def test_oco_pair_first_fill_cancels_the_other(desk):
    desk.bar(0, 100.0)
    desk.buy(10)
    desk.bar(1, 100.0)
    limit, stop = desk.broker.submit_oco("s", "AAPL", "sell", 10, limit=105.0, stop=97.0)
    desk.bar(2, 101.0, 106.0, 100.0)
    assert desk.fills[-1].order_id == limit.order_id and desk.fills[-1].price == 105.0
    assert stop.status is OrderStatus.CANCELLED and stop.reason == "oco"


@pytest.mark.parametrize(("tif", "open_", "filled"), [("ioc", 10.2, False), ("fok", 9.9, True)])
def test_ioc_and_fok_on_bars_only_take_the_open(desk, tif, open_, filled):
    desk.bar(0, 10.0)
    order = desk.buy(1, limit=10.0, tif=tif)
    desk.bar(1, open_, 10.3, 9.5)  # the low would reach the limit later: does not count
    if filled:
        assert desk.prices() == [("buy", 1.0, open_)]
    else:
        assert desk.fills == []
        assert order.status is OrderStatus.CANCELLED and order.reason == tif


def test_an_order_never_fills_on_a_bar_that_opened_before_it_was_sent(desk):
    # AAPL and MSFT bars both end at T0+1m; an AAPL order sent while handling the MSFT bar
    # must not fill at the open of an AAPL bar that began a minute earlier.
    desk.bar(0, 50.0, symbol="MSFT")
    desk.bar(-1, 9.0, symbol="AAPL")  # a price for AAPL (its bar before)
    desk.buy(1, symbol="AAPL")
    desk.bar(0, 10.0, symbol="AAPL")  # opened at T0, before the order (sent at T0+1m)
    assert desk.fills == []
    desk.bar(1, 10.5, symbol="AAPL")
    assert desk.prices() == [("buy", 1.0, 10.5)]


def test_fills_sum_to_the_position_and_events_arrive_before_the_mark(desk):
    desk.bar(0, 10.0)
    desk.buy(4)
    desk.sell(1, limit=10.4)
    seen = []
    desk.broker.add_listener(
        lambda e: seen.append((type(e).__name__, desk.portfolio.last_price["AAPL"]))
    )
    desk.bar(1, 10.2, 10.5, 10.1, 10.45)
    assert [name for name, _ in seen] == ["OrderFilled", "OrderFilled"]
    assert all(last == 10.0 for _, last in seen)  # the close mark comes after
    assert desk.portfolio.position("AAPL").qty == 3
    assert sum(f.qty * f.side.sign for f in desk.fills if isinstance(f, OrderFilled)) == 3


def test_cancelling_one_member_of_an_oco_pair_cancels_both(desk):
    desk.bar(0, 100.0)
    limit, stop = desk.broker.submit_oco("s", "AAPL", "sell", 10, limit=105.0, stop=97.0)
    assert desk.broker.cancel(stop)
    assert [(e.order_id, e.reason) for e in desk.of(OrderCancelled)] == [
        (stop.order_id, "requested"),
        (limit.order_id, "oco"),
    ]
    desk.bar(1, 106.0)
    assert desk.fills == []
