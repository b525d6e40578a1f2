"""Finished orders leave the broker's live book for compact columns, and still answer."""

import pickle

import attrs

from framework.execution import BrokerConfig, Order, OrderStatus


def fields(order: Order) -> dict:
    # Order compares by identity: a finished order read back is an equal copy, field by field.
    return attrs.asdict(order, recurse=False)


def live_book(desk) -> dict[int, Order]:
    # What the broker keeps as objects; what the memory of a long run depends on.
    return desk.broker._orders


class Ends:
    """Each order's fields when it was first seen finished, to check nothing changes after."""

    def __init__(self, desk) -> None:
        self.desk = desk
        self.held: dict[int, Order] = {}
        self.at_end: dict[int, dict] = {}

    def hold(self, *orders: Order) -> None:
        for order in orders:
            self.held[order.order_id] = order

    def look(self) -> None:
        for order_id, order in self.held.items():
            if not order.is_open and order_id not in self.at_end:
                self.at_end[order_id] = fields(order)

    def assert_unchanged(self) -> None:
        self.look()
        for order_id, ended in self.at_end.items():
            assert fields(self.held[order_id]) == ended, f"order {order_id} changed after it ended"
            assert fields(self.desk.broker.order(order_id)) == ended


def test_filled_orders_leave_the_live_book_and_answer_by_id(desk):
    desk.bar(0, 100.0)
    sent = []
    for i in range(1, 201):
        sent.append(desk.buy(1) if i % 2 else desk.sell(1))
        desk.bar(i, 100.0 + i % 7)
        assert len(live_book(desk)) == 0  # bounded: nothing finished stays an object
    assert [o.order_id for o in desk.broker.orders()] == list(range(1, 201))
    for order in sent:
        assert order.status is OrderStatus.FILLED
        assert fields(desk.broker.order(order.order_id)) == fields(order)
    assert desk.broker.statistics().orders == 200
    assert desk.broker.statistics().open_orders == 0


def test_a_bracket_stays_live_until_all_three_orders_have_ended(desk):
    desk.bar(0, 100.0)
    bracket = desk.broker.submit_bracket("s", "AAPL", "buy", 10, take_profit=110.0, stop_loss=95.0)
    ends = Ends(desk)
    ends.hold(bracket.entry, bracket.take_profit, bracket.stop_loss)
    desk.bar(1, 100.0, 101.0, 99.0)  # the entry fills; its exits now work
    assert bracket.entry.status is OrderStatus.FILLED
    assert set(live_book(desk)) == {1, 2, 3}  # the exits read the entry's fill
    ends.look()
    desk.bar(2, 100.0, 111.0, 99.0)  # the take-profit fills, the stop-loss is cancelled
    assert live_book(desk) == {} and desk.broker._oco == {}
    assert bracket.stop_loss.reason == "oco"
    ends.assert_unchanged()


def test_an_order_that_ends_after_later_ones_fills_the_row_kept_for_it(desk):
    desk.bar(0, 100.0)
    far = desk.buy(1, limit=50.0)  # works for a long time
    later = [desk.buy(1) for _ in range(3)]
    desk.bar(1, 100.0)
    assert set(live_book(desk)) == {far.order_id}
    assert desk.broker.order(far.order_id) is far  # still live: the very object
    assert [o.order_id for o in desk.broker.orders()] == [1, 2, 3, 4]
    snapshot = desk.broker.order_records()
    assert fields(snapshot[0]) == fields(far) and far.is_open
    assert desk.broker.cancel(far)
    assert live_book(desk) == {}
    assert [fields(o) for o in desk.broker.orders()] == [fields(o) for o in (far, *later)]
    assert snapshot[0].status is OrderStatus.ACCEPTED  # the snapshot kept the order as it was
    again = desk.broker.order_records()
    assert [fields(o) for o in again] == [fields(o) for o in desk.broker.orders()]
    assert [fields(o) for o in pickle.loads(pickle.dumps(again))] == [fields(o) for o in again]


def test_nothing_changes_an_order_after_it_ends(make_desk):
    desk = make_desk(BrokerConfig(latency_ms=30_000))
    desk.quote(0, 100.0, 100.1)
    ends = Ends(desk)
    broker = desk.broker
    rejected = desk.buy(1, symbol="NOPRICE")
    bracket = broker.submit_bracket("s", "AAPL", "buy", 5, take_profit=103.0, stop_loss=97.0)
    pair = broker.submit_oco("s", "AAPL", "sell", 2, limit=104.0, stop=95.0)
    ioc = desk.buy(1, limit=90.0, tif="ioc")
    day = desk.sell(1, limit=200.0, tif="day")
    racing = desk.sell(1, limit=100.5)
    ends.hold(rejected, *attrs.astuple(bracket, recurse=False), *pair, ioc, day, racing)
    desk.quote(1, 100.0, 100.1)
    assert broker.cancel(racing)  # the cancel is in flight when the order fills
    ends.look()
    desk.quote(1, 100.6, 100.7, seconds=15)
    assert racing.status is OrderStatus.FILLED and racing.pending
    for i, (bid, ask) in enumerate([(101.0, 101.1), (103.5, 103.6), (104.5, 104.6)], start=2):
        desk.quote(i, bid, ask)
        ends.look()
    desk.quote(2000, 100.0, 100.1)  # the day order expires
    ends.look()
    assert {o.status for o in ends.held.values()} >= {
        OrderStatus.REJECTED,
        OrderStatus.FILLED,
        OrderStatus.CANCELLED,
        OrderStatus.EXPIRED,
    }
    ends.assert_unchanged()
    assert live_book(desk) == {}
    stats = broker.statistics()
    orders = broker.orders()
    assert stats.orders == len(orders) == len(ends.held)
    for status in (OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.EXPIRED):
        assert getattr(stats, status.value) == sum(o.status is status for o in orders)


def test_unknown_order_ids_raise_key_error(desk):
    desk.bar(0, 100.0)
    desk.buy(1, limit=50.0)
    desk.buy(1)
    desk.bar(1, 100.0)
    for unknown in (0, -1, 3, 99, "2"):
        try:
            desk.broker.order(unknown)
        except KeyError:
            continue
        raise AssertionError(f"order({unknown!r}) answered")
