"""Records kept as columns give back exactly what went in: every field, its type and its bits."""

import gc
import pickle

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from record_strategies import fill_records, order_records, trade_records

from framework import OrderFilled, OrderSide
from framework.execution import Order, OrderStatus, PendingChange
from framework.execution._simulated_broker import ORDER_LAYOUT
from framework.portfolio import Records, Trade
from framework.portfolio._records import FILL_LAYOUT, FLOAT, INT, RecordLayout
from framework.portfolio._trades import TRADE_LAYOUT

# Values a column holds as it is, and values it must keep beside the column (an int price,
# an id past int64, a symbol that is not a str): both must come back exactly.
ids = st.integers(min_value=0, max_value=2**63 - 1) | st.integers(min_value=2**63, max_value=2**70)
times = st.integers(min_value=0, max_value=2**63 - 1)
numbers = st.floats() | st.integers(min_value=-(10**20), max_value=10**20)
texts = st.sampled_from(["AAPL", "MSFT", "NASDAQ:TSLA", ""]) | st.text(max_size=4)
flags = st.booleans() | st.sampled_from([0, 1])

fills = fill_records(ids=ids, symbols=texts | st.none(), numbers=numbers, times=times, flags=flags)
trades = trade_records(
    symbols=texts, sides=st.sampled_from([1, -1]) | st.integers(), numbers=numbers, times=times
)
pending_changes = st.builds(
    PendingChange,
    at=times,
    cancel=st.booleans(),
    qty=st.none() | numbers,
    limit_price=st.none() | numbers,
    stop_price=st.none() | numbers,
)
orders = order_records(
    ids=ids,
    strategy_ids=texts,
    symbols=texts,
    numbers=numbers,
    times=times,
    reasons=st.sampled_from(["", "oco", "requested"]) | st.text(max_size=3) | st.none(),
    ts_active=times,
    expire_at=st.none() | times,
    is_triggered=flags,
    child_ids=st.lists(ids, max_size=2).map(tuple),
    pending=st.lists(pending_changes, max_size=2),
)
LAYOUTS = {OrderFilled: FILL_LAYOUT, Trade: TRADE_LAYOUT, Order: ORDER_LAYOUT}
records_lists = st.one_of(st.lists(fills), st.lists(trades), st.lists(orders))


def exact(record: object) -> list[tuple[type, str]]:
    """Each field's type and repr: tells 10 from 10.0, -0.0 from 0.0, and sees NaN equal."""
    return [(type(value), repr(value)) for value in attrs.astuple(record, recurse=False)]


def store_of(records: list) -> Records:
    layout = LAYOUTS[type(records[0])] if records else FILL_LAYOUT
    return Records(layout, records)


@given(records_lists, st.data())
def test_records_give_back_exactly_what_was_appended(records, data):
    store = store_of(records)
    assert len(store) == len(records)
    assert [exact(r) for r in store] == [exact(r) for r in records]
    if records:
        i = data.draw(st.integers(-len(records), len(records) - 1))
        assert exact(store[i]) == exact(records[i])
    with pytest.raises(IndexError):
        store[len(records)]
    with pytest.raises(IndexError):
        store[-len(records) - 1]


@given(records_lists, st.slices(20))
def test_a_slice_is_a_list_of_the_records(records, part):
    store = store_of(records)
    assert [exact(r) for r in store[part]] == [exact(r) for r in records[part]]


@given(records_lists, st.data())
def test_values_read_a_field_without_building_records(records, data):
    store = store_of(records)
    start = data.draw(st.integers(0, len(records)))
    stop = data.draw(st.integers(start, len(records)))
    for name in store.layout.names:
        got = store.values(name, start, stop)
        assert [repr(v) for v in got] == [repr(getattr(r, name)) for r in records[start:stop]]


@given(records_lists)
def test_records_pickle_to_equal_records(records):
    store = store_of(records)
    again = pickle.loads(pickle.dumps(store))
    assert [exact(r) for r in again] == [exact(r) for r in records]
    assert again.layout == store.layout


@given(records_lists)
def test_records_equal_the_objects_field_by_field(records):
    # NaN equals nothing, not even itself once copied; Order compares by identity, records
    # compare every class by value.
    assume(not any(_has_nan(attrs.astuple(r)) for r in records))
    store = store_of(records)
    assert store == records
    assert records == store
    assert store == tuple(records)
    assert store == pickle.loads(pickle.dumps(store))
    if records and isinstance(records[0], (OrderFilled, Trade)):
        assert list(store) == records


def _has_nan(value: object) -> bool:
    if isinstance(value, (tuple, list)):
        return any(_has_nan(v) for v in value)
    return isinstance(value, float) and value != value


def fill(i: int, symbol: str = "AAPL") -> OrderFilled:
    return OrderFilled(
        order_id=i,
        symbol=symbol,
        side=OrderSide.BUY,
        qty=1.0,
        price=10.0 + i,
        commission=0.0,
        ts_event=i,
        ts_recv=i,
    )


def test_equal_runs_of_fills_are_equal_records_and_others_are_not():
    assert Records(FILL_LAYOUT, [fill(1), fill(2)]) == Records(FILL_LAYOUT, [fill(1), fill(2)])
    assert Records(FILL_LAYOUT, [fill(1), fill(2)]) != Records(FILL_LAYOUT, [fill(1), fill(3)])
    assert Records(FILL_LAYOUT, [fill(1)]) != Records(FILL_LAYOUT, [fill(1), fill(2)])
    assert Records(FILL_LAYOUT) == ()
    assert Records(FILL_LAYOUT) == []
    assert Records(FILL_LAYOUT, [fill(1)]) != [object()]
    assert fill(1) in Records(FILL_LAYOUT, [fill(1)])
    assert fill(2) not in Records(FILL_LAYOUT, [fill(1)])


def test_a_snapshot_keeps_its_rows_while_the_owner_appends():
    store = Records(FILL_LAYOUT, [fill(1), fill(2)])
    snapshot = store.snapshot()
    store.append(fill(3, symbol="NEW"))
    assert len(snapshot) == 2 and len(store) == 3
    assert list(snapshot) == [fill(1), fill(2)]
    with pytest.raises(TypeError, match="read-only"):
        snapshot.append(fill(4))


def test_more_distinct_strings_than_a_byte_holds_widen_the_codes():
    symbols = [f"S{i}" for i in range(70_000)]
    store = Records(FILL_LAYOUT, (fill(i, symbol=s) for i, s in enumerate(symbols)))
    assert store.values("symbol") == symbols
    assert store[300].symbol == "S300" and store[-1].symbol == "S69999"


def test_an_exported_column_does_not_stop_the_owner_appending():
    store = Records(FILL_LAYOUT, [fill(1), fill(2)])
    snapshot = store.snapshot()
    exported = snapshot.dense_prefix("price")  # as an Arrow table over the column holds it
    store.append(fill(3))
    store.extend([fill(4), fill(5, symbol=f"X{'y' * 300}")])
    assert exported.tolist() == [11.0, 12.0]
    assert list(store) == [fill(i) for i in range(1, 5)] + [fill(5, symbol=f"X{'y' * 300}")]
    assert list(snapshot) == [fill(1), fill(2)]


def test_the_dense_prefix_stops_at_the_first_value_kept_beside_the_column():
    store = Records(FILL_LAYOUT, [fill(1), attrs.evolve(fill(2), price=12), fill(3)])
    assert store.dense_prefix("price").tolist() == [11.0]
    assert store.dense_prefix("qty").tolist() == [1.0, 1.0, 1.0]
    assert store.values("price") == [11.0, 12, 13.0]
    assert type(store[1].price) is int
    with pytest.raises(ValueError, match="sparse"):
        Records(ORDER_LAYOUT).dense_prefix("limit_price")


def test_blank_rows_are_put_later_and_a_view_replaces_the_ones_still_blank():
    store = Records(FILL_LAYOUT, [fill(1)])
    store.pad(2)
    store.put(2, attrs.evolve(fill(3), price=5))
    view = store.view(4, {1: fill(2), 3: fill(4)})
    assert list(view) == [fill(1), fill(2), attrs.evolve(fill(3), price=5), fill(4)]
    assert view.values("order_id") == [1, 2, 3, 4]
    store.put(1, fill(20))  # the owner fills its blank row: the view keeps what it was given
    assert view[1] == fill(2)
    assert pickle.loads(pickle.dumps(view)) == view
    with pytest.raises(ValueError, match="past the end"):
        store.view(5, {})


def test_a_layout_must_give_every_field_a_column():
    with pytest.raises(TypeError, match="each of its fields"):
        RecordLayout(Trade, symbol=INT, qty=FLOAT)


def test_a_filled_market_order_costs_nothing_for_fields_it_does_not_use():
    # Nor for those it repeats: its id is its row's, it was active when submitted, it filled
    # its quantity, without commission.
    store = Records(ORDER_LAYOUT)
    store.append(
        Order(
            order_id=1,
            strategy_id="s",
            symbol="AAPL",
            side=OrderSide.BUY,
            qty=2.0,
            ts_submitted=60,
            ts_active=60,
            status=OrderStatus.FILLED,
            filled_qty=2.0,
            filled_value=21.0,
        )
    )
    assert all(not stored for stored in store._sparse if stored is not None)
    assert store.values("order_id") == [1] and store[0].filled_qty == 2.0


def test_a_value_like_the_usual_one_but_not_exactly_is_stored():
    order = Order(
        order_id=7,  # not its row's id
        strategy_id="s",
        symbol="AAPL",
        side=OrderSide.BUY,
        qty=2.0,
        ts_submitted=60,
        ts_active=61,
        filled_qty=2,  # an int where qty is a float
        commission=-0.0,  # the other zero
    )
    store = Records(ORDER_LAYOUT, [order])
    assert exact(store[0]) == exact(order)
    assert [exact(r) for r in pickle.loads(pickle.dumps(store))] == [exact(order)]


def test_records_are_freed_as_soon_as_the_last_reference_goes():
    # A cycle would keep a run's columns (tens of MB) until a full collection.
    Records(FILL_LAYOUT, [fill(1)]).snapshot()  # the generated code is compiled once
    gc.collect()
    gc.disable()
    try:
        store = Records(FILL_LAYOUT, [fill(1), fill(2)])
        views = [store.snapshot(), store.view(3, {2: fill(3)}), pickle.loads(pickle.dumps(store))]
        store.extend(fill(i, symbol=f"S{i}") for i in range(300))  # widened on the way
        del store, views
        assert gc.collect() == 0
    finally:
        gc.enable()


@given(records_lists, st.lists(st.integers(0, 40), max_size=4))
def test_records_held_for_a_batch_read_back_the_same_at_any_point(records, reads_at):
    # Appends are encoded a batch at a time (a column at a time when the batch allows, row by
    # row when it holds a value its column keeps aside); reads in between see every row.
    from framework.portfolio import _records

    saved = _records.SETTLE_ROWS
    _records.SETTLE_ROWS = 3
    try:
        store = Records(LAYOUTS[type(records[0])] if records else FILL_LAYOUT)
        for n, record in enumerate(records, 1):
            store.append(record)
            if n in reads_at:
                assert [exact(r) for r in store] == [exact(r) for r in records[:n]]
        assert [exact(r) for r in store] == [exact(r) for r in records]
    finally:
        _records.SETTLE_ROWS = saved


@given(records_lists)
def test_counts_of_a_field_equal_counting_the_records(records):
    store = store_of(records)
    for name in store.layout.names:
        column = store.layout.column(name)
        if column.kind in ("text", "choice", "flag"):
            expected: dict = {}
            for record in records:
                value = getattr(record, name)
                expected[value] = expected.get(value, 0) + 1
            assert store.counts(name) == expected
