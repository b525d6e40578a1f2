"""What the catalog accepts: a table in :data:`~framework.feeds._bar_table.BAR_SCHEMA`, with
valid bars, each (symbol, interval) strictly increasing in time.

Nothing is repaired behind the user's back: a missing column, a null, a naive timestamp, an
impossible bar, a repeated or backwards time is a one-line :class:`~framework.BarTableError`
naming the source (``Table``, ``DataFrame``, ``bars``), the row (counted from 0, as DataFrame
positions are), the column and the reason. The only change
made is the spelling of a bar size (``01m`` is stored as ``1m``), so one size is one partition.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .._errors import BarTableError, ConfigError, InvalidEvent
from .._events import Bar, new_bar
from .._intervals import Interval
from .._time import iso_from_nanos
from ..feeds._bar_table import BAR_SCHEMA, bars_to_table, interval_nanos

#: The price and volume columns, in BAR_SCHEMA order.
VALUE_COLUMNS = ("open", "high", "low", "close", "volume")

#: (symbol, interval) of one partition.
PartitionKey = tuple[str, str]


def bar_table(
    data: Any,
    *,
    symbol: str | None = None,
    interval: str | None = None,
    source: str | None = None,
) -> pa.Table:
    """``data`` as a checked :data:`BAR_SCHEMA` table.

    ``data`` is a pyarrow Table, RecordBatch or RecordBatchReader, anything pyarrow takes as a
    table (a pandas or polars DataFrame), or an iterable of :class:`~framework.Bar`. ``symbol``
    and ``interval`` fill those columns when the table has none. ``source`` names the data in
    errors (default: its kind).
    """
    source = source or source_label(data)
    table = _as_table(data, source)
    names = set(table.column_names)
    extra = [name for name in table.column_names if name not in BAR_SCHEMA.names]
    if extra:
        expected = ", ".join(BAR_SCHEMA.names)
        raise BarTableError(source, f"not a bar column (expected {expected})", column=extra[0])
    table = _filled(table, "symbol", symbol, names)
    table = _filled(table, "interval", interval, names)
    missing = [name for name in BAR_SCHEMA.names if name not in table.column_names]
    if missing:
        expected = ", ".join(BAR_SCHEMA.names)
        raise BarTableError(source, f"missing column {missing[0]} (expected {expected})")
    columns = [_column(table, field, source) for field in BAR_SCHEMA]
    table = pa.Table.from_arrays(columns, schema=BAR_SCHEMA)
    table = _canonical_intervals(table)
    _check_values(table, source)
    return table


def partitions(table: pa.Table, source: str) -> dict[PartitionKey, pa.Table]:
    """The rows of each (symbol, interval), in table order; BarTableError unless each is
    strictly increasing in time (sorted, no repeated bar)."""
    if table.num_rows == 0:
        return {}
    keys = table.group_by(["symbol", "interval"], use_threads=False).aggregate([])
    pairs = list(zip(keys["symbol"].to_pylist(), keys["interval"].to_pylist(), strict=True))
    groups: dict[PartitionKey, pa.Table] = {}
    for symbol, label in sorted(pairs):
        if len(pairs) == 1:
            rows, positions = table, None
        else:
            mask = pc.and_(pc.equal(table["symbol"], symbol), pc.equal(table["interval"], label))
            rows, positions = table.filter(mask), pc.indices_nonzero(mask)
        _check_order(rows, positions, symbol, label, source)
        groups[(symbol, label)] = rows
    return groups


def describe(symbol: str, label: str, ts: int) -> str:
    return f"{symbol} {label} {iso_from_nanos(ts)}"


def source_label(data: Any) -> str:
    """What to call ``data`` in messages: ``Table``, ``DataFrame``, ``bars``..."""
    if isinstance(data, pa.Table | pa.RecordBatch | pa.RecordBatchReader):
        return type(data).__name__
    if hasattr(data, "__arrow_c_stream__") or type(data).__module__.startswith("pandas"):
        return type(data).__name__
    return "bars"


def _as_table(data: Any, source: str) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    if hasattr(data, "__arrow_c_stream__") or type(data).__module__.startswith("pandas"):
        try:
            return pa.table(data)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise BarTableError(source, f"cannot be read as a table ({exc})") from None
    if isinstance(data, Iterable) and not isinstance(data, str | bytes):
        bars = list(data)
        wrong = next((b for b in bars if not isinstance(b, Bar)), None)
        if wrong is not None:
            raise ConfigError(f"expected bars or a table, got a {type(wrong).__name__}")
        return bars_to_table(bars)
    raise ConfigError(f"expected bars or a table, got {type(data).__name__}")


def _filled(table: pa.Table, name: str, value: str | None, names: set[str]) -> pa.Table:
    if value is None:
        return table
    if name in names:
        raise ConfigError(f"{name}={value!r} given, but the table has a {name} column")
    return table.append_column(name, pa.array([value] * table.num_rows, pa.string()))


def _column(table: pa.Table, field: pa.Field, source: str) -> pa.ChunkedArray:
    column = table[field.name]
    kind = column.type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if field.name == "time":
        if not pa.types.is_timestamp(kind):
            raise BarTableError(
                source,
                f"expected timestamps with a zone, got {kind} "
                "(the catalog does not guess an epoch unit)",
                column="time",
            )
        if kind.tz is None:
            raise BarTableError(
                source,
                "naive timestamps; give them a zone (UTC or the exchange's)",
                column="time",
            )
    elif pa.types.is_string(field.type):
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            raise BarTableError(source, f"expected strings, got {kind}", column=field.name)
    elif not (pa.types.is_floating(kind) or pa.types.is_integer(kind)):
        raise BarTableError(source, f"expected numbers, got {kind}", column=field.name)
    if column.null_count:
        row = pc.index(pc.is_null(column), True).as_py()
        raise BarTableError(source, "null", row=row, column=field.name)
    try:
        return column.cast(field.type)
    except pa.ArrowInvalid as exc:
        raise BarTableError(source, str(exc), column=field.name) from None


def _canonical_intervals(table: pa.Table) -> pa.Table:
    labels = pc.unique(table["interval"]).to_pylist()
    spelled: dict[str, str] = {}
    for label in labels:
        try:
            canonical = Interval.parse(label).label
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        interval_nanos(canonical)  # months and ticks have no fixed length: refused here
        if canonical != label:
            spelled[label] = canonical
    if not spelled:
        return table
    fixed = [spelled.get(label, label) for label in table["interval"].to_pylist()]
    return table.set_column(1, BAR_SCHEMA.field("interval"), pa.array(fixed, pa.string()))


def _check_values(table: pa.Table, source: str) -> None:
    if table.num_rows == 0:
        return
    empty = pc.equal(pc.utf8_length(table["symbol"]), 0)
    if pc.any(empty).as_py():
        row = pc.index(empty, True).as_py()
        raise BarTableError(source, "empty symbol", row=row, column="symbol")
    times = table["time"].cast(pa.int64())
    if pc.min(times).as_py() < 0:
        row = pc.index(pc.less(times, 0), True).as_py()
        raise BarTableError(source, "time before 1970 is not supported", row=row, column="time")
    opens, highs, lows, closes, volumes = (table[name] for name in VALUE_COLUMNS)
    # Bar's own rule over whole columns; comparisons with NaN are false, so NaN fails too.
    checks = [
        pc.greater(lows, 0),
        pc.less_equal(lows, opens),
        pc.less_equal(opens, highs),
        pc.less_equal(lows, closes),
        pc.less_equal(closes, highs),
        pc.less(highs, math.inf),
        pc.greater_equal(volumes, 0),
        pc.less(volumes, math.inf),
    ]
    valid = functools.reduce(pc.and_, checks)
    if pc.all(valid).as_py():
        return
    row = pc.index(valid, False).as_py()
    bar = table.slice(row, 1).to_pylist()[0]
    ts = int(times[row].as_py())
    try:
        o, h, low, c, v = (float(bar[k]) for k in VALUE_COLUMNS)
        new_bar(bar["symbol"], bar["interval"], ts, o, h, low, c, v, ts, ts)
    except InvalidEvent as exc:
        raise BarTableError(source, str(exc), row=row) from None
    raise AssertionError("a row failed the column check but passed the bar check")


def _check_order(
    rows: pa.Table, positions: pa.Array | None, symbol: str, label: str, source: str
) -> None:
    if rows.num_rows < 2:
        return
    times = rows["time"].cast(pa.int64())
    later = pc.subtract(times.slice(1), times.slice(0, rows.num_rows - 1))
    bad = pc.less_equal(later, 0)
    if not pc.any(bad).as_py():
        return
    at = pc.index(bad, True).as_py() + 1
    row = at if positions is None else positions[at].as_py()
    before = row - 1 if positions is None else positions[at - 1].as_py()
    ts = times[at].as_py()
    if later[at - 1].as_py() == 0:
        reason = f"repeats the bar of row {before}"
    else:
        reason = f"is earlier than row {before}; bars must be sorted by time"
    raise BarTableError(source, f"{describe(symbol, label, ts)} {reason}", row=row, column="time")
