"""A result keeps its fills, trades and orders as columns: what it writes (JSON, CSV, Arrow),
compares and pickles is what the same result made of the objects gives."""

from __future__ import annotations

import pickle
from pathlib import Path

import attrs
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from record_strategies import fill_records, order_records, trade_records

from framework import Bar, ListFeed, OrderFilled, RunResult, Strategy, backtest
from framework.execution import (
    Order,
    RiskLimits,
    parse_commission,
)
from framework.execution._simulated_broker import ORDER_LAYOUT
from framework.portfolio import Records
from framework.portfolio._records import FILL_LAYOUT
from framework.portfolio._trades import TRADE_LAYOUT
from framework.results._run_result import (
    _FILLS,
    _ORDERS,
    _TRADES,
    fill_to_dict,
    order_to_dict,
    trade_to_dict,
)

AAPL = Path(__file__).resolve().parents[2] / "examples" / "data" / "AAPL.csv"
MINUTE = 60 * 10**9
T0 = 1_704_205_800 * 10**9


class Busy(Strategy):
    """Brackets, a cancelled limit, a rejected order, stops, and an order left open at the
    end; keeps every order and fill it was given."""

    def on_start(self) -> None:
        self.n = 0
        self.sent: list[Order] = []
        self.fills: list[OrderFilled] = []
        self.resting: Order | None = None

    def on_bar(self, bar: Bar) -> None:
        self.n += 1
        step = self.n % 40
        if step == 1 and not self.open_orders(bar.symbol) and not self.position(bar.symbol).qty:
            bracket = self.bracket(
                bar.symbol, "buy", 100, take_profit=bar.close * 1.003, stop_loss=bar.close * 0.997
            )
            self.sent += [bracket.entry, bracket.take_profit, bracket.stop_loss]
        elif step == 10:
            self.resting = self.sell(bar.symbol, 10, limit=bar.close * 1.5)
            self.sent.append(self.resting)
        elif step == 12 and self.resting is not None:
            self.cancel(self.resting)
        elif step == 20:
            self.sent.append(self.buy(bar.symbol, 10_000))  # over max_position: rejected
        elif step in (30, 31):
            self.sent.append(self.sell(bar.symbol, 50) if step == 30 else self.buy(bar.symbol, 50))

    def on_stop(self) -> None:
        self.sent.append(self.buy("AAPL", 1, limit=1.0))  # still open when the run ends

    def on_fill(self, fill: OrderFilled) -> None:
        self.fills.append(fill)


@pytest.fixture(scope="module")
def run() -> tuple[RunResult, Busy]:
    strategy = Busy()
    result = backtest(
        strategy,
        [AAPL],
        commission=parse_commission("percent:0.013"),
        risk=RiskLimits(max_position=1_000),
    )
    return result, strategy


def as_objects(result: RunResult) -> RunResult:
    """The same result with plain tuples of objects, as results were kept before columns."""
    return attrs.evolve(
        result,
        fills=tuple(result.fills),
        trades=tuple(result.trades),
        orders=tuple(result.orders),
    )


def fields(order: Order) -> dict:
    return attrs.asdict(order, recurse=False)


def test_a_results_records_are_columns_equal_to_the_objects_of_the_run(run):
    result, strategy = run
    assert all(isinstance(r, Records) for r in (result.fills, result.trades, result.orders))
    assert result.fills == strategy.fills and list(result.fills) == strategy.fills
    by_id = {o.order_id: o for o in result.orders}
    assert [o.order_id for o in result.orders] == sorted(by_id)
    assert {o.status.value for o in result.orders} >= {"filled", "cancelled", "rejected"}
    for order in strategy.sent:
        if order.order_id in by_id:  # the on_stop order came after the result's snapshot
            assert fields(by_id[order.order_id]) == fields(order)
    assert result.stats["orders"] == len(result.orders)


def test_json_csv_and_arrow_from_the_columns_equal_those_from_the_objects(run, tmp_path):
    result, _ = run
    objects = as_objects(result)
    assert result.to_json() == objects.to_json()
    result.write_json(tmp_path / "columns.json")
    objects.write_json(tmp_path / "objects.json")
    assert (tmp_path / "columns.json").read_bytes() == (tmp_path / "objects.json").read_bytes()
    for write in ("write_fills_csv", "write_trades_csv"):
        getattr(result, write)(tmp_path / "columns.csv")
        getattr(objects, write)(tmp_path / "objects.csv")
        assert (tmp_path / "columns.csv").read_bytes() == (tmp_path / "objects.csv").read_bytes()
    for name in ("fills", "trades", "orders", "equity"):
        columns, made = result.arrow.table(name), objects.arrow.table(name)
        assert columns.schema == made.schema
        assert columns.equals(made), name
    assert result == objects


def test_values_a_column_cannot_hold_are_written_as_they_were():
    # Int prices (as a feed of JSON numbers gives) stay ints: 10, not 10.0, in the JSON.
    bars = [
        Bar(
            symbol="X",
            interval="1m",
            ts_open=T0 + i * MINUTE,
            open=10 + i,
            high=12 + i,
            low=9 + i,
            close=11 + i,
            volume=1,
            ts_event=T0 + (i + 1) * MINUTE,
            ts_recv=T0 + (i + 1) * MINUTE,
        )
        for i in range(6)
    ]

    class Flip(Strategy):
        def on_bar(self, bar: Bar) -> None:
            if self.position("X").qty:
                self.close("X")
            else:
                self.buy("X", 2)

    result = backtest(Flip(), [ListFeed(bars)])
    objects = as_objects(result)
    assert [type(f.price) for f in result.fills] == [int] * len(result.fills)
    assert b'"price": 11,' in result.to_json()
    assert result.to_json() == objects.to_json()
    for name in ("fills", "trades", "orders"):
        assert result.arrow.table(name).equals(objects.arrow.table(name)), name
    assert result.orders[-1].is_open  # the last order never filled


def test_a_result_pickles_equal_and_smaller_than_its_objects(run):
    result, _ = run
    again = pickle.loads(pickle.dumps(result))
    assert again == result
    assert again.to_json() == result.to_json()
    assert len(pickle.dumps(result)) < len(pickle.dumps(as_objects(result)))


# Times a result can print (1970 to 2100), and numbers of every kind a record may hold.
times = st.integers(min_value=0, max_value=4_102_444_800 * 10**9)
numbers = st.floats() | st.integers(min_value=-(10**6), max_value=10**6)
symbols = st.sampled_from(["AAPL", "MSFT", ""])
ids = st.integers(1, 10**6)
fill_lists = st.lists(
    fill_records(ids=ids, symbols=symbols, numbers=numbers, times=times, flags=st.booleans())
)
trade_lists = st.lists(
    trade_records(symbols=symbols, sides=st.sampled_from([1, -1]), numbers=numbers, times=times)
)
order_lists = st.lists(
    order_records(
        ids=ids,
        strategy_ids=st.sampled_from(["SmaCross", "kill_switch"]),
        symbols=symbols,
        numbers=numbers,
        times=times,
        reasons=st.sampled_from(["", "oco", "no_price"]),
    )
)


@given(fill_lists, trade_lists, order_lists)
def test_dicts_read_from_columns_serialise_like_those_of_the_objects(fills, trades, orders):
    for records, layout, form, to_dict in (
        (fills, FILL_LAYOUT, _FILLS, fill_to_dict),
        (trades, TRADE_LAYOUT, _TRADES, trade_to_dict),
        (orders, ORDER_LAYOUT, _ORDERS, order_to_dict),
    ):
        from_objects = orjson.dumps([to_dict(r) for r in records])
        assert orjson.dumps(form.dicts(Records(layout, records))) == from_objects
