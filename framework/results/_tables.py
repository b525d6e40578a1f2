"""A run's fills, trades, orders and equity curve as Arrow tables.

The columns are those of the CSV files and the JSON result, one row per object, with values
exactly as the objects hold them (money columns are not rounded, as the CSV files round them).
Times are ``timestamp[ns, UTC]``; sides, order types, statuses and times in force are their
lower-case labels (``buy``, ``long``, ``stop_limit``, ``gtc``); a missing price, parent or time is
null::

    fills   time, order_id, symbol, side, qty, price, commission, is_intrabar_guess
    trades  symbol, side, qty, entry_time, entry_price, exit_time, exit_price, pnl, commission
    orders  the JSON result's order fields, then last_fill_time
    equity  time, equity

pandas and polars read these tables without copying the numbers; neither is imported here.
A run's records (:class:`~framework.portfolio.Records`) become tables without building their
objects: number and time columns are Arrow arrays over the records' own memory, labels are
looked up per distinct value.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from .._events import OrderFilled
from ..execution import Order
from ..execution._simulated_broker import ORDER_LAYOUT
from ..portfolio import Records, Trade
from ..portfolio._records import FILL_LAYOUT
from ..portfolio._trades import TRADE_LAYOUT

_TIME = pa.timestamp("ns", tz="UTC")

FILL_SCHEMA = pa.schema(
    [
        pa.field("time", _TIME, nullable=False),
        pa.field("order_id", pa.int64(), nullable=False),
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("side", pa.string(), nullable=False),
        pa.field("qty", pa.float64(), nullable=False),
        pa.field("price", pa.float64(), nullable=False),
        pa.field("commission", pa.float64(), nullable=False),
        pa.field("is_intrabar_guess", pa.bool_(), nullable=False),
    ]
)
TRADE_SCHEMA = pa.schema(
    [
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("side", pa.string(), nullable=False),
        pa.field("qty", pa.float64(), nullable=False),
        pa.field("entry_time", _TIME, nullable=False),
        pa.field("entry_price", pa.float64(), nullable=False),
        pa.field("exit_time", _TIME, nullable=False),
        pa.field("exit_price", pa.float64(), nullable=False),
        pa.field("pnl", pa.float64(), nullable=False),
        pa.field("commission", pa.float64(), nullable=False),
    ]
)
#: The names of the JSON result's order fields (``submitted`` is the submission time), so a
#: column reads the same in both; ``last_fill_time`` is when the order last filled.
ORDER_SCHEMA = pa.schema(
    [
        pa.field("order_id", pa.int64(), nullable=False),
        pa.field("strategy", pa.string(), nullable=False),
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("side", pa.string(), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("qty", pa.float64(), nullable=False),
        pa.field("limit_price", pa.float64()),
        pa.field("stop_price", pa.float64()),
        pa.field("tif", pa.string(), nullable=False),
        pa.field("submitted", _TIME, nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("filled_qty", pa.float64(), nullable=False),
        pa.field("avg_fill_price", pa.float64()),
        pa.field("commission", pa.float64(), nullable=False),
        pa.field("parent_id", pa.int64()),
        pa.field("oco_id", pa.int64()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("last_fill_time", _TIME),
    ]
)
EQUITY_SCHEMA = pa.schema(
    [pa.field("time", _TIME, nullable=False), pa.field("equity", pa.float64(), nullable=False)]
)

#: The tables of a result, by the name :meth:`ResultTables.table` takes.
TABLE_NAMES = ("fills", "trades", "orders", "equity")


@attrs.frozen(slots=True, kw_only=True)
class ResultTables:
    """A run's records as Arrow tables (schemas: :data:`FILL_SCHEMA`, :data:`TRADE_SCHEMA`,
    :data:`ORDER_SCHEMA`, :data:`EQUITY_SCHEMA`)."""

    fills: pa.Table
    trades: pa.Table
    orders: pa.Table
    equity: pa.Table

    def table(self, name: str) -> pa.Table:
        """The table called ``name`` (one of :data:`TABLE_NAMES`); ValueError otherwise."""
        if name not in TABLE_NAMES:
            names = ", ".join(repr(n) for n in TABLE_NAMES)
            raise ValueError(f"no result table {name!r}: choose one of {names}")
        table: pa.Table = getattr(self, name)
        return table


def result_tables(
    *,
    fills: Sequence[OrderFilled],
    trades: Sequence[Trade],
    orders: Sequence[Order],
    equity_ts: Sequence[int],
    equity: Sequence[float],
) -> ResultTables:
    """Build every table of a result from its objects."""
    return ResultTables(
        fills=fills_table(fills),
        trades=trades_table(trades),
        orders=orders_table(orders, fills),
        equity=equity_table(equity_ts, equity),
    )


def fills_table(fills: Sequence[OrderFilled]) -> pa.Table:
    if not isinstance(fills, Records):
        fills = Records(FILL_LAYOUT, fills)
    return pa.Table.from_arrays(
        [
            _records_column(fills, "ts_event", _TIME),
            _records_column(fills, "order_id", pa.int64()),
            _records_column(fills, "symbol", pa.string()),
            _records_column(fills, "side", pa.string(), _enum_value),
            _records_column(fills, "qty", pa.float64()),
            _records_column(fills, "price", pa.float64()),
            _records_column(fills, "commission", pa.float64()),
            _records_column(fills, "is_intrabar_guess", pa.bool_()),
        ],
        schema=FILL_SCHEMA,
    )


def trades_table(trades: Sequence[Trade]) -> pa.Table:
    if not isinstance(trades, Records):
        trades = Records(TRADE_LAYOUT, trades)
    return pa.Table.from_arrays(
        [
            _records_column(trades, "symbol", pa.string()),
            _trade_sides(trades),
            _records_column(trades, "qty", pa.float64()),
            _records_column(trades, "entry_time", _TIME),
            _records_column(trades, "entry_price", pa.float64()),
            _records_column(trades, "exit_time", _TIME),
            _records_column(trades, "exit_price", pa.float64()),
            _records_column(trades, "pnl", pa.float64()),
            _records_column(trades, "commission", pa.float64()),
        ],
        schema=TRADE_SCHEMA,
    )


def orders_table(orders: Sequence[Order], fills: Sequence[OrderFilled]) -> pa.Table:
    """The orders, with the time of each one's last fill taken from ``fills`` (an order
    keeps its fill count and average price, not when it filled)."""
    if not isinstance(fills, Records):
        fills = Records(FILL_LAYOUT, fills)
    if not isinstance(orders, Records):
        orders = Records(ORDER_LAYOUT, orders)
    last_fill: dict[int, int] = {}
    for order_id, ts in zip(fills.values("order_id"), fills.values("ts_event"), strict=True):
        last_fill[order_id] = max(ts, last_fill.get(order_id, ts))
    filled_qty = _records_column(orders, "filled_qty", pa.float64())
    filled_value = _records_column(orders, "filled_value", pa.float64())
    return pa.Table.from_arrays(
        [
            _records_column(orders, "order_id", pa.int64()),
            _records_column(orders, "strategy_id", pa.string()),
            _records_column(orders, "symbol", pa.string()),
            _records_column(orders, "side", pa.string(), _enum_value),
            _records_column(orders, "type", pa.string(), _enum_value),
            _records_column(orders, "qty", pa.float64()),
            _records_column(orders, "limit_price", pa.float64()),
            _records_column(orders, "stop_price", pa.float64()),
            _records_column(orders, "tif", pa.string(), _enum_value),
            _records_column(orders, "ts_submitted", _TIME),
            _records_column(orders, "status", pa.string(), _enum_value),
            filled_qty,
            # Order.avg_fill_price: the same IEEE division, None where nothing filled.
            pc.if_else(
                pc.not_equal(filled_qty, 0.0),
                pc.divide(filled_value, filled_qty),
                pa.scalar(None, pa.float64()),
            ),
            _records_column(orders, "commission", pa.float64()),
            _records_column(orders, "parent_id", pa.int64()),
            _records_column(orders, "oco_id", pa.int64()),
            _records_column(orders, "reason", pa.string()),
            pa.array(
                [last_fill.get(order_id) for order_id in orders.values("order_id")],
                type=_TIME,
            ),
        ],
        schema=ORDER_SCHEMA,
    )


def equity_table(times: Sequence[int], values: Sequence[float]) -> pa.Table:
    return pa.Table.from_arrays(
        [
            _column(times, ("q", "l"), pa.int64()).cast(_TIME),
            _column(values, ("d",), pa.float64()),
        ],
        schema=EQUITY_SCHEMA,
    )


def _records_column(
    records: Records[Any],
    name: str,
    type_: pa.DataType,
    label: Callable[[Any], Any] | None = None,
) -> pa.Array:
    """Field ``name`` of every record as an Arrow array of ``type_``, ``label`` applied to
    each value (to each distinct one, for a column of codes).

    Over the column's own memory where it holds the values exactly (the rows after that,
    usually none, are converted one by one). Zero-copy: while the table lives, the records'
    owner continues on a copy of the column when it next appends."""
    count = len(records)
    if not records.layout.column(name).is_dense:
        values = records.values(name)
        return pa.array(values if label is None else list(map(label, values)), type=type_)
    view = records.dense_prefix(name)
    head = _array_over(view, type_, records.labels(name), label)
    if len(view) == count:
        return head
    rest = records.values(name, len(view), count)
    tail = pa.array(rest if label is None else list(map(label, rest)), type=type_)
    return pa.concat_arrays([head, tail])


#: Arrow's type of a column of codes (text, ``one_of`` and flag fields), by array typecode.
_CODE_TYPES = {"B": pa.uint8(), "H": pa.uint16(), "I": pa.uint32(), "Q": pa.uint64()}


def _array_over(
    view: memoryview,
    type_: pa.DataType,
    labels: Sequence[Any],
    label: Callable[[Any], Any] | None,
) -> pa.Array:
    if sys.byteorder != "little":  # Arrow's byte order
        values = view.tolist()
        if labels:
            values = [labels[code] for code in values]
        return pa.array(values if label is None else list(map(label, values)), type=type_)
    buffers = [None, pa.py_buffer(view)]
    if view.format in _CODE_TYPES:  # codes of a text, one_of or flag field
        codes = pa.Array.from_buffers(_CODE_TYPES[view.format], len(view), buffers)
        if pa.types.is_boolean(type_):
            return codes.cast(pa.bool_())
        names = list(labels) if label is None else list(map(label, labels))
        return pa.array(names, type=type_).take(codes)
    if view.format == "b":
        return pa.Array.from_buffers(pa.int8(), len(view), buffers).cast(type_)
    # 'd' float64 or 'q' int64: a timestamp[ns] is an int64 too.
    return pa.Array.from_buffers(type_, len(view), buffers)


def _trade_sides(trades: Records[Trade]) -> pa.Array:
    """``long`` / ``short`` from the sign of each trade's side."""
    view = trades.dense_prefix("side")
    signs = _array_over(view, pa.int8(), (), None)
    head = pc.if_else(pc.greater(signs, 0), "long", "short").cast(pa.string())
    rest = ["long" if side > 0 else "short" for side in trades.values("side", len(view))]
    return pa.concat_arrays([head, pa.array(rest, type=pa.string())]) if rest else head


def _enum_value(member: Any) -> Any:
    return member.value


def _column(values: Sequence[Any], formats: tuple[str, ...], type_: pa.DataType) -> pa.Array:
    """``values`` as an Arrow array. The equity curve is kept in compact arrays (one sample
    per bar): their bytes are copied in one go instead of converting a million numbers one
    at a time (70x faster). A copy, not a view: a view would lock the array against growing
    while the table lives."""
    try:
        view = memoryview(values)  # type: ignore[arg-type]
    except TypeError:
        view = None
    if (
        view is not None
        and view.format in formats
        and view.itemsize == 8
        and view.ndim == 1
        and sys.byteorder == "little"  # Arrow's byte order
    ):
        return pa.Array.from_buffers(type_, len(view), [None, pa.py_buffer(view.tobytes())])
    return pa.array(list(values), type=type_)
