"""A result's records as Arrow tables hold exactly what its objects hold, and the frames
pandas and polars make of them agree with the CSV files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import attrs
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from framework import Bar, ListFeed, RunResult, Strategy, backtest
from framework.execution import Order, RiskLimits, parse_commission
from framework.results._run_result import FILL_COLUMNS, TRADE_COLUMNS, csv_money, order_to_dict
from framework.results._tables import EQUITY_SCHEMA, FILL_SCHEMA, ORDER_SCHEMA, TRADE_SCHEMA

AAPL = Path(__file__).resolve().parents[2] / "examples" / "data" / "AAPL.csv"
MINUTE = 60 * 10**9
T0 = 1_704_205_800 * 10**9
UTC_NS = pa.timestamp("ns", tz="UTC")


class EveryOrderKind(Strategy):
    """Brackets (parent and OCO links, limit and stop exits), a limit order cancelled, a
    market order the risk limit rejects, shorts covered by a stop: every column gets values
    and nulls."""

    def on_start(self) -> None:
        self.n = 0
        self.resting: Order | None = None

    def on_bar(self, bar: Bar) -> None:
        self.n += 1
        step = self.n % 50
        if step == 1 and not self.open_orders(bar.symbol) and not self.position(bar.symbol).qty:
            self.bracket(
                bar.symbol,
                "buy",
                100,
                take_profit=bar.close * 1.003,
                stop_loss=bar.close * 0.997,
            )
        elif step == 10:
            self.resting = self.sell(bar.symbol, 10, limit=bar.close * 1.5)
        elif step == 12 and self.resting is not None:
            self.cancel(self.resting)
        elif step == 20:
            self.buy(bar.symbol, 10_000)  # over max_position: rejected
        elif step == 30:
            self.sell(bar.symbol, 50)
        elif step == 31:
            self.buy(bar.symbol, 50, stop=bar.close * 1.0005)


class DoNothing(Strategy):
    def on_bar(self, bar: Bar) -> None:
        pass


@pytest.fixture(scope="module")
def result() -> RunResult:
    return backtest(
        EveryOrderKind(),
        [AAPL],
        commission=parse_commission("percent:0.013"),
        risk=RiskLimits(max_position=1_000),
    )


def rows(table: pa.Table) -> list[dict[str, Any]]:
    """The table's rows with times as int ns, the form the objects keep them in."""
    columns = [
        column.cast(pa.int64()) if column.type == UTC_NS else column for column in table.columns
    ]
    return pa.Table.from_arrays(columns, names=table.column_names).to_pylist()


def test_the_run_exercises_every_order_column(result):
    statuses = {o.status.value for o in result.orders}
    assert {"filled", "cancelled", "rejected"} <= statuses
    assert {o.type.value for o in result.orders} >= {"market", "limit", "stop"}
    assert any(o.parent_id is not None for o in result.orders)
    assert any(o.oco_id is not None for o in result.orders)
    assert any(t.side < 0 for t in result.trades) and any(t.side > 0 for t in result.trades)
    assert all(f.commission > 0 for f in result.fills)


def test_tables_have_utc_nanosecond_times_and_the_documented_columns(result):
    tables = result.arrow
    assert tables.fills.schema == FILL_SCHEMA
    assert tables.trades.schema == TRADE_SCHEMA
    assert tables.orders.schema == ORDER_SCHEMA
    assert tables.equity.schema == EQUITY_SCHEMA
    assert tuple(tables.fills.column_names) == FILL_COLUMNS
    assert tuple(tables.trades.column_names) == TRADE_COLUMNS
    json_keys = list(order_to_dict(result.orders[0]))
    assert tables.orders.column_names == [*json_keys, "last_fill_time"]
    assert tables.equity.column_names == ["time", "equity"]
    for table, name in [
        (tables.fills, "time"),
        (tables.trades, "entry_time"),
        (tables.trades, "exit_time"),
        (tables.orders, "submitted"),
        (tables.orders, "last_fill_time"),
        (tables.equity, "time"),
    ]:
        assert table.schema.field(name).type == UTC_NS


def test_fills_table_rows_are_the_fills(result):
    assert rows(result.arrow.fills) == [
        {
            "time": f.ts_event,
            "order_id": f.order_id,
            "symbol": f.symbol,
            "side": f.side.value,
            "qty": f.qty,
            "price": f.price,
            "commission": f.commission,
            "is_intrabar_guess": f.is_intrabar_guess,
        }
        for f in result.fills
    ]


def test_trades_table_rows_are_the_trades(result):
    assert rows(result.arrow.trades) == [
        {
            "symbol": t.symbol,
            "side": {1: "long", -1: "short"}[t.side],
            "qty": t.qty,
            "entry_time": t.entry_time,
            "entry_price": t.entry_price,
            "exit_time": t.exit_time,
            "exit_price": t.exit_price,
            "pnl": t.pnl,
            "commission": t.commission,
        }
        for t in result.trades
    ]


def test_orders_table_rows_are_the_orders_with_their_last_fill_time(result):
    last_fill = {}
    for f in result.fills:
        last_fill[f.order_id] = f.ts_event
    expected = [
        {
            "order_id": o.order_id,
            "strategy": o.strategy_id,
            "symbol": o.symbol,
            "side": o.side.value,
            "type": o.type.value,
            "qty": o.qty,
            "limit_price": o.limit_price,
            "stop_price": o.stop_price,
            "tif": o.tif.value,
            "submitted": o.ts_submitted,
            "status": o.status.value,
            "filled_qty": o.filled_qty,
            "avg_fill_price": o.avg_fill_price,
            "commission": o.commission,
            "parent_id": o.parent_id,
            "oco_id": o.oco_id,
            "reason": o.reason,
            "last_fill_time": last_fill.get(o.order_id),
        }
        for o in result.orders
    ]
    assert rows(result.arrow.orders) == expected
    assert any(row["last_fill_time"] is None for row in expected)
    assert any(row["limit_price"] is None for row in expected)


def test_equity_table_is_the_equity_curve(result):
    assert rows(result.arrow.equity) == [
        {"time": t, "equity": v} for t, v in zip(result.equity_ts, result.equity, strict=True)
    ]


def test_equity_table_from_plain_lists_matches_the_compact_arrays(result):
    listed = attrs.evolve(result, equity_ts=list(result.equity_ts), equity=list(result.equity))
    assert listed.arrow.equity.equals(result.arrow.equity)


def test_tables_are_built_once_and_a_changed_result_gets_its_own(result):
    assert result.arrow is result.arrow
    fewer = attrs.evolve(result, fills=result.fills[:3])
    assert fewer.arrow.fills.num_rows == 3
    assert result.arrow.fills.num_rows == len(result.fills)


def test_pandas_fills_and_trades_match_the_csv_files(result, tmp_path):
    result.write_fills_csv(tmp_path / "fills.csv")
    result.write_trades_csv(tmp_path / "trades.csv")
    for name, money, times in [
        ("fills", ["commission"], ["time"]),
        ("trades", ["pnl", "commission"], ["entry_time", "exit_time"]),
    ]:
        frame = result.to_pandas(name)
        csv = pd.read_csv(tmp_path / f"{name}.csv")
        assert list(frame.columns) == list(csv.columns)
        assert len(frame) == len(csv) == len(getattr(result, name)) > 10
        for column in times:
            assert str(frame[column].dtype) == "datetime64[ns, UTC]"
            assert (frame[column] == pd.to_datetime(csv[column], utc=True)).all()
        for column in money:
            # The CSV rounds float noise out of money columns; the table keeps it, as the JSON.
            records = getattr(result, name)
            rounded = [
                csv_money(value, notional=_notional(record))
                for value, record in zip(frame[column], records, strict=True)
            ]
            assert rounded == csv[column].tolist()
        rest = [c for c in csv.columns if c not in money and c not in times]
        pd.testing.assert_frame_equal(
            frame[rest].astype(object), csv[rest].astype(object), check_dtype=False
        )


def _notional(record: Any) -> float:
    if hasattr(record, "entry_price"):
        return abs(record.qty) * max(abs(record.entry_price), abs(record.exit_price))
    return record.qty * record.price


@pytest.mark.parametrize("name", ["fills", "trades", "orders", "equity"])
def test_polars_and_pandas_frames_hold_the_table(result, name):
    table = result.arrow.table(name)
    polars_frame = result.to_polars(name)
    assert polars_frame.columns == table.column_names
    assert polars_frame.to_arrow().cast(table.schema).equals(table)
    pandas_frame = result.to_pandas(name)
    assert list(pandas_frame.columns) == table.column_names
    assert len(pandas_frame) == table.num_rows
    assert pa.Table.from_pandas(pandas_frame, preserve_index=False).cast(table.schema).equals(table)


def test_frames_default_to_the_fills(result):
    assert len(result.to_pandas()) == len(result.to_polars()) == len(result.fills)


def test_an_unknown_table_name_is_a_value_error_naming_the_choices(result):
    with pytest.raises(ValueError, match="'fills', 'trades', 'orders', 'equity'"):
        result.to_pandas("fill")
    with pytest.raises(ValueError, match="no result table 'x'"):
        result.to_polars("x")


@pytest.mark.parametrize(("method", "module"), [("to_pandas", "pandas"), ("to_polars", "polars")])
def test_a_missing_frame_library_names_the_extra_to_install(result, monkeypatch, method, module):
    monkeypatch.setitem(sys.modules, module, None)  # import now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'tradewire\[frames\]'"):
        getattr(result, method)("trades")


def test_a_run_without_records_has_empty_tables_of_the_same_schemas():
    empty = backtest(DoNothing(), [ListFeed([])])
    tables = empty.arrow
    assert [t.num_rows for t in (tables.fills, tables.trades, tables.orders)] == [0, 0, 0]
    assert tables.fills.schema == FILL_SCHEMA and tables.orders.schema == ORDER_SCHEMA
    assert empty.to_pandas("trades").empty
    assert empty.to_polars("orders").schema["submitted"] == pl.Datetime("ns", "UTC")


def test_times_keep_their_nanoseconds():
    bars = [
        Bar(
            symbol="X",
            interval="1m",
            ts_open=T0 + i * MINUTE + 123_456_789,
            open=100.0 + i,
            high=101.0 + i,
            low=99.0 + i,
            close=100.0 + i,
            volume=1.0,
            ts_event=T0 + (i + 1) * MINUTE + 123_456_789,
            ts_recv=T0 + (i + 1) * MINUTE + 123_456_789,
        )
        for i in range(6)
    ]

    class BuyThenSell(Strategy):
        def on_bar(self, bar: Bar) -> None:
            if bar.close == 101.0:
                self.buy("X", 1)
            elif bar.close == 103.0:
                self.sell("X", 1)

    run = backtest(BuyThenSell(), [ListFeed(bars)])
    assert rows(run.arrow.fills)[0]["time"] == run.fills[0].ts_event
    assert run.fills[0].ts_event % 10**9 == 123_456_789
    assert run.to_pandas("equity")["time"].iloc[-1].value == run.equity_ts[-1]
