"""Columns of a table of bars, read a batch at a time by the rules of bar files.

:func:`table_layout` finds a bar's columns among a table's names with the bar file's header
rules (:mod:`._bar_header`), and refuses a column whose type cannot hold its role (a ``bool``
close). :class:`TimeColumn` reads the time column, whatever its type, to UTC nanoseconds by
the bar file's time rules (:mod:`._bar_times`): epoch numbers in one unit per source, zone-aware
timestamps as they are, naive timestamps and dates as wall-clock times in the zone given, text
as a bar file's text. :class:`BatchColumns` converts one record batch with whole-column pyarrow
compute operations and says whether every row is a good bar; the feed words a bad row's reason
with :meth:`BatchColumns.problem`, which looks at that row alone.

pyarrow imports pandas, when it is installed, the first time it converts a Python value
(``pa.scalar``, ``pa.array``, or a plain number passed to a compute function); nothing here
does, so reading a Parquet file costs no pandas import. Scalars and arrays of Python numbers
are built from buffers instead (:func:`int64_scalar` and friends).
"""

from __future__ import annotations

import datetime as _dt
import math
from array import array
from collections.abc import Sequence
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from .._errors import BarTableError
from .._time import MAX_NANOS, NANOS_PER_SECOND, TIME_UNITS, nanos_from_wall
from ._arrow_source import Stream, pandas_index_column
from ._bar_header import read_header
from ._bar_times import TimeReader

#: The value columns of a bar, in the order bars take them.
VALUE_ROLES = ("open", "high", "low", "close", "volume")

_HOUR = 3_600 * NANOS_PER_SECOND
_DAY = 86_400 * NANOS_PER_SECOND
#: Wall-clock times are taken from two days before 1970 (a zone east of UTC may put them in
#: 1970) to two days before the last int64 nanosecond (so no offset can overflow).
_WALL_LOW = -2 * _DAY
_WALL_HIGH = MAX_NANOS - 2 * _DAY
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_NAIVE_EPOCH = _dt.datetime(1970, 1, 1)

_TIME_FORMS = "times: epoch numbers, timestamps, dates or text"
#: Zones without daylight saving or any change of offset, by IANA name.
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu", "GMT", "Etc/GMT"})


# -- scalars and arrays without pyarrow's pandas probe -----------------------------------------


def int64_array(values: Sequence[int]) -> pa.Array:
    """An int64 array of Python ints."""
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(array("q", values))])


def float64_array(values: Sequence[float]) -> pa.Array:
    """A float64 array of Python floats."""
    return pa.Array.from_buffers(
        pa.float64(), len(values), [None, pa.py_buffer(array("d", values))]
    )


def int64_scalar(value: int) -> pa.Scalar:
    return int64_array([value])[0]


def float64_scalar(value: float) -> pa.Scalar:
    return float64_array([value])[0]


_NULL_INT64 = pa.nulls(1, pa.int64())[0]
_NULL_FLOAT64 = pa.nulls(1, pa.float64())[0]
_ZERO = int64_scalar(0)
_ZERO_F = float64_scalar(0.0)
_INF = float64_scalar(math.inf)


# -- the layout ----------------------------------------------------------------------------


class TableLayout(NamedTuple):
    """Which columns of a stream hold a bar, as the stream names them.

    ``symbol`` and ``interval`` are None when the stream has no such column; then
    ``symbol_value`` / ``interval_value`` hold the Hive partition's value, if any.
    """

    time: str
    values: tuple[str, ...]
    symbol: str | None
    interval: str | None
    symbol_value: str | None
    interval_value: str | None
    ignored: tuple[str, ...]
    #: What a missing value is called in messages (pandas says NaN where Arrow has a null).
    missing: str = "null"

    @property
    def columns(self) -> list[str]:
        """The columns to read, in the order :class:`BatchColumns` takes them."""
        extra = [name for name in (self.symbol, self.interval) if name is not None]
        return [self.time, *self.values, *extra]


def table_layout(stream: Stream) -> TableLayout:
    """The :class:`TableLayout` of ``stream``; BarTableError naming the source when a bar's
    column is missing, doubled, or of a type that cannot hold it."""
    schema = stream.schema
    names = list(schema.names)
    index = [n for n in names if pandas_index_column(n)]
    # An unnamed pandas index is the time when it holds times and no column is named as one;
    # one of row numbers is no part of a bar, nor of the data.
    time_index = [n for n in index if _is_typed_time(schema.field(n).type)][:1]
    intervals = [n for n in names if n.strip().lower() == "interval"]
    if len(intervals) > 1:
        raise BarTableError(
            stream.label, f"the table has {len(intervals)} interval columns; keep one"
        )
    header = time_index + [n for n in names if n not in index and n not in intervals]
    try:
        layout, _ = read_header(["" if n in index else n for n in header], table=True)
    except ValueError as exc:
        raise BarTableError(stream.label, str(exc)) from None
    time, *values = (header[i] for i in layout.required)
    symbol = header[layout.symbol] if layout.symbol is not None else None
    used = {*layout.required, layout.symbol}
    ignored = tuple(header[i] for i in range(len(header)) if i not in used)
    partition = {key.strip().lower(): value for key, value in stream.partition.items()}
    interval = intervals[0] if intervals else None
    found = TableLayout(
        time=time,
        values=tuple(values),
        symbol=symbol,
        interval=interval,
        symbol_value=partition.get("symbol") if symbol is None else None,
        interval_value=partition.get("interval") if interval is None else None,
        ignored=ignored,
        missing=stream.missing,
    )
    _check_types(stream, found)
    return found


def _check_types(stream: Stream, layout: TableLayout) -> None:
    schema = stream.schema

    def refuse(column: str, wanted: str) -> None:
        kind = schema.field(column).type
        raise BarTableError(
            stream.label, f"holds {kind} values, not {wanted}", column=shown(column)
        )

    if not _is_time_type(_value_type(schema.field(layout.time).type)):
        refuse(layout.time, _TIME_FORMS)
    for name in layout.values:
        if not _is_number_type(_value_type(schema.field(name).type)):
            refuse(name, "numbers")
    if layout.symbol is not None:
        kind = _value_type(schema.field(layout.symbol).type)
        if not (_is_text_type(kind) or pa.types.is_integer(kind) or pa.types.is_null(kind)):
            refuse(layout.symbol, "symbols (text)")
    if layout.interval is not None:
        kind = _value_type(schema.field(layout.interval).type)
        if not (_is_text_type(kind) or pa.types.is_null(kind)):
            refuse(layout.interval, "bar sizes (text such as 1m or 1D)")


def shown(column: str) -> str:
    """A column's name in messages: the index of a pandas frame is ``(index)``."""
    return "(index)" if pandas_index_column(column) else column


def _value_type(kind: pa.DataType) -> pa.DataType:
    return kind.value_type if pa.types.is_dictionary(kind) else kind


def _is_text_type(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


def _is_number_type(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
        or _is_text_type(kind)
        or pa.types.is_null(kind)
    )


def _is_typed_time(kind: pa.DataType) -> bool:
    kind = _value_type(kind)
    return bool(pa.types.is_timestamp(kind) or pa.types.is_date(kind))


def _is_time_type(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_timestamp(kind)
        or pa.types.is_date(kind)
        or _is_text_type(kind)
        or pa.types.is_null(kind)
    )


# -- times -----------------------------------------------------------------------------------


class TimeColumn:
    """Reads one source's time column to UTC ns (int64, null where refused), by the bar
    file's rules; :meth:`problem` words why a value was refused.

    ``kind`` is one of ``epoch`` (integers), ``decimal`` (floats), ``aware`` (timestamps with
    a zone), ``wall`` (naive timestamps and dates, in ``zone``), ``text`` or ``null``.
    """

    def __init__(
        self,
        kind: pa.DataType,
        *,
        zone: _dt.tzinfo | None,
        time_unit: str | None,
        label: str,
        column: str,
    ) -> None:
        kind = _value_type(kind)
        self.type = kind
        self.zone = zone
        self.time_unit = time_unit
        self.local = False
        #: The reader of epoch numbers and text, set by :meth:`start`.
        self.reader: TimeReader | None = None
        self._unit_factor = 1
        if pa.types.is_timestamp(kind):
            self._unit_factor = TIME_UNITS[kind.unit]
            self.kind = "aware" if kind.tz is not None else "wall"
        elif pa.types.is_date32(kind):
            self.kind, self._unit_factor = "wall", _DAY
        elif pa.types.is_date64(kind):
            self.kind, self._unit_factor = "wall", TIME_UNITS["ms"]
        elif pa.types.is_integer(kind):
            self.kind = "epoch"
        elif pa.types.is_floating(kind):
            self.kind = "decimal"
        elif pa.types.is_null(kind):
            self.kind = "null"
        else:
            self.kind = "text"
        if self.kind == "wall":
            if zone is None:
                what = "dates" if pa.types.is_date(kind) else "times without a zone"
                raise BarTableError(
                    label,
                    f"holds {what} ({kind}): name the zone of the data's times with --tz ZONE "
                    '(tz="ZONE" in Python), e.g. UTC or America/New_York, or store times with a '
                    "zone (pandas: .dt.tz_localize(ZONE))",
                    column=shown(column),
                )
            self.local = True
            self._offsets = _ZoneOffsets(zone)
        # The wording of refused wall-clock times and text: the bar file's own.
        self._text = TimeReader(zone=zone, unit=time_unit or "s", by_magnitude=False)

    @property
    def unit(self) -> str | None:
        """The unit of epoch-number times (given or decided), None for typed times."""
        return self.reader.unit if self.reader is not None else None

    def start(self, first: Any) -> None:
        """Fix the source's rules from its first row's time (a Python value, None if null):
        the unit of epoch numbers, as in a bar file."""
        if self.kind in ("epoch", "decimal", "text", "null"):
            text = None if first is None else (first if isinstance(first, str) else repr(first))
            self.reader = TimeReader.for_first(text, "row 0", zone=self.zone, unit=self.time_unit)
            self._text = self.reader

    def convert(self, column: pa.Array) -> pa.Array:
        """UTC ns of every value of ``column``; null where the rules refuse one."""
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        if self.kind == "epoch":
            return self._epoch(column)
        if self.kind == "decimal":
            return self._decimal(column)
        if self.kind == "aware":
            raw = column.cast(pa.int64())
            high = MAX_NANOS // self._unit_factor
            return pc.multiply(_within(raw, 0, high), int64_scalar(self._unit_factor))
        if self.kind == "wall":
            return self._wall(column)
        if self.kind == "null":
            return pa.nulls(len(column), pa.int64())
        return self._parsed(column)

    def raw(self, column: pa.Array, row: int) -> Any:
        """The value of ``column`` at ``row`` as :meth:`problem` takes it (an int for typed
        times: Python's datetime cannot hold every timestamp)."""
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        if pa.types.is_date32(self.type):
            column = column.cast(pa.int32())
        elif self.kind in ("aware", "wall"):
            column = column.cast(pa.int64())
        return column[row].as_py()

    def problem(self, value: Any) -> tuple[str, str]:
        """(reason, detail) of a value :meth:`convert` refused; reason
        :data:`~._bar_times.NO_ZONE` for naive text without a zone, which refuses the source."""
        if value is None:
            return "null", "no time (null)"
        if self.kind in ("epoch", "decimal", "text"):
            text = value if isinstance(value, str) else repr(value)
            return self._text.problem(text)
        if self.kind == "aware":
            shown_time = _typed_text(value * self._unit_factor, aware=True)
            when = "before 1970" if value < 0 else "after 2262-04-11"
            return "bad_time", f"time {shown_time!r} is {when}, which bars cannot hold"
        wall = value * self._unit_factor
        if not _WALL_LOW <= wall <= _WALL_HIGH:
            when = "before 1970" if wall < 0 else "after 2262-04-11"
            return "bad_time", f"time {_typed_text(wall, aware=False)!r} is {when}"
        if pa.types.is_date(self.type):
            text = (_NAIVE_EPOCH + _dt.timedelta(microseconds=wall // 1_000)).date().isoformat()
        else:
            text = _typed_text(wall, aware=False)
        return self._text.problem(text)

    # -- the conversions, a column at a time -----------------------------------------------------

    def _epoch(self, column: pa.Array) -> pa.Array:
        assert self.reader is not None
        low, high = self.reader.bounds
        if pa.types.is_unsigned_integer(column.type):
            # Casting a uint64 past int64 fails for the whole column: refuse those first.
            column = column.cast(pa.uint64())
            bound = pa.Array.from_buffers(pa.uint64(), 1, [None, pa.py_buffer(array("Q", [high]))])
            column = pc.if_else(pc.greater(column, bound[0]), pa.nulls(1, pa.uint64())[0], column)
        raw = column.cast(pa.int64())
        return pc.multiply(_within(raw, low, high), int64_scalar(TIME_UNITS[self.reader.unit]))

    def _decimal(self, column: pa.Array) -> pa.Array:
        # TimeReader.parse of a decimal field: whole numbers times the unit, others rounded
        # (half to even, as Python's round) to the microsecond, in float64 as it computes.
        assert self.reader is not None
        low, high = self.reader.bounds
        values = column.cast(pa.float64())
        inside = pc.and_(
            pc.greater_equal(values, float64_scalar(_float_at_least(low))),
            pc.less_equal(values, float64_scalar(_float_at_most(high))),
        )
        values = pc.if_else(inside, values, _NULL_FLOAT64)
        factor = TIME_UNITS[self.reader.unit]
        whole = pc.multiply(values.cast(pa.int64(), safe=False), int64_scalar(factor))
        per_micro = factor // 1_000
        if per_micro:
            scaled = pc.multiply(values, float64_scalar(float(per_micro)))
            rounded = pc.multiply(
                pc.round(scaled, round_mode="half_to_even").cast(pa.int64(), safe=False),
                int64_scalar(1_000),
            )
        else:
            rounded = pc.round(values, round_mode="half_to_even").cast(pa.int64(), safe=False)
        return pc.if_else(pc.equal(pc.floor(values), values), whole, rounded)

    def _wall(self, column: pa.Array) -> pa.Array:
        if pa.types.is_date32(self.type):
            raw = column.cast(pa.int32()).cast(pa.int64())
        else:
            raw = column.cast(pa.int64())
        factor = self._unit_factor
        wall = pc.multiply(
            _within(raw, -(-_WALL_LOW // factor), _WALL_HIGH // factor), int64_scalar(factor)
        )
        return _within(self._offsets.utc(wall), 0, MAX_NANOS)

    def _parsed(self, column: pa.Array) -> pa.Array:
        assert self.reader is not None
        if not pa.types.is_string(column.type):
            column = column.cast(pa.string())
        texts = column.to_pylist()
        if column.null_count:
            parse = self.reader.parse
            nanos = [None if text is None else parse(text) for text in texts]
        else:
            nanos = self.reader.parse_many(texts)
        self.local = self.reader.local
        # Valid times are never negative: -1 marks the refused ones for the null mask.
        values = int64_array([-1 if ts is None else ts for ts in nanos])
        return pc.if_else(pc.less(values, _ZERO), _NULL_INT64, values)


class _ZoneOffsets:
    """Wall-clock ns of a zone to UTC ns, a column at a time: the zone's offset is looked up
    once per hour of the wall clock in the column, as :class:`~framework._time.WallClock`
    does per time, and an hour with a change of clocks is converted time by time."""

    def __init__(self, zone: _dt.tzinfo) -> None:
        self.zone = zone
        self._fixed: int | None = None
        if isinstance(zone, _dt.timezone) or getattr(zone, "key", None) in _UTC_NAMES:
            offset = zone.utcoffset(None) or _dt.timedelta(0)
            self._fixed = (offset.days * 86_400 + offset.seconds) * NANOS_PER_SECOND

    def utc(self, wall: pa.Array) -> pa.Array:
        if self._fixed is not None:
            return pc.subtract(wall, int64_scalar(self._fixed)) if self._fixed else wall
        # Hours counted from two days before 1970, so that integer division floors.
        shift = -_WALL_LOW
        hours = pc.divide(pc.add(wall, int64_scalar(shift)), int64_scalar(_HOUR))
        distinct = pc.unique(hours).drop_null()
        starts = [hour * _HOUR - shift for hour in distinct.to_pylist()]
        offsets = [self._offset(start) for start in starts]
        shifted = pc.take(
            int64_array([0 if o is None else o for o in offsets]),
            pc.index_in(hours, value_set=distinct),
        )
        utc = pc.subtract(wall, shifted)
        changing = [h for h, o in zip(distinct.to_pylist(), offsets, strict=True) if o is None]
        if not changing:
            return utc
        # Hours in which the clocks change (twice a year in zones with daylight saving).
        in_change = pc.is_in(hours, value_set=int64_array(changing))
        values = utc.to_pylist()
        walls = wall.to_pylist()
        for row in pc.indices_nonzero(in_change).to_pylist():
            moment = _NAIVE_EPOCH + _dt.timedelta(microseconds=walls[row] // 1_000)
            nanos = nanos_from_wall(moment, self.zone)
            values[row] = -1 if nanos is None else nanos + walls[row] % 1_000
        rebuilt = int64_array([-1 if v is None else v for v in values])
        return pc.if_else(pc.less(rebuilt, _ZERO), _NULL_INT64, rebuilt)

    def _offset(self, start: int) -> int | None:
        """The zone's offset (ns) through the wall-clock hour from ``start``; None if the
        clocks change in it."""
        wall = _NAIVE_EPOCH + _dt.timedelta(microseconds=start // 1_000)
        first = nanos_from_wall(wall, self.zone)
        last = nanos_from_wall(wall + _dt.timedelta(hours=1, microseconds=-1), self.zone)
        if first is None or last is None or last != first + _HOUR - 1_000:
            return None
        return start - first


# -- a batch ---------------------------------------------------------------------------------


class BatchColumns:
    """One record batch converted: UTC times, float values, symbols; :attr:`clean` is True
    when every row is a bar a bar file would accept on its own (order is the caller's)."""

    def __init__(
        self,
        batch: pa.RecordBatch,
        layout: TableLayout,
        times: TimeColumn,
    ) -> None:
        self.batch = batch
        self.layout = layout
        self._times = times
        columns = batch.columns
        self.times = times.convert(columns[0])
        self.values = [_numbers(column) for column in columns[1:6]]
        position = 6
        self.symbols: pa.Array | None = None
        if layout.symbol is not None:
            self.symbols = _symbols(columns[position])
            position += 1
        self.intervals: pa.Array | None = None
        if layout.interval is not None:
            self.intervals = _text(columns[position])
        checks = [_bars_valid(*self.values), pc.is_valid(self.times)]
        if self.symbols is not None:
            checks.append(pc.greater(pc.utf8_length(self.symbols), _ZERO.cast(pa.int32())))
        if self.intervals is not None:
            checks.append(pc.is_valid(self.intervals))
        mask = checks[0]
        for check in checks[1:]:
            mask = pc.and_(mask, check)
        self.clean = pc.all(mask, skip_nulls=False).as_py() is True

    def problem(self, row: int) -> tuple[str, str | None, str]:
        """(reason, column, detail) of the first thing wrong with ``row`` that is not its
        order or its OHLC consistency, checked as a bar file checks a row: numbers, NaN and
        infinity, time, symbol, bar size; ("", None, "") when there is none."""
        layout = self.layout
        columns = self.batch.columns
        for name, column, values in zip(layout.values, columns[1:6], self.values, strict=True):
            if values[row].is_valid and not math.isnan(values[row].as_py()):
                continue
            raw = column[row].as_py()
            if raw is None:
                return "null", shown(name), f"no value ({layout.missing})"
            if isinstance(raw, str):
                try:
                    float(raw)
                except ValueError:
                    return "bad_number", shown(name), f"unparsable number {raw!r:.60}"
        for name, column, values in zip(layout.values, columns[1:6], self.values, strict=True):
            value = values[row].as_py()
            if not math.isfinite(value):
                raw = column[row].as_py()
                return "non_finite", shown(name), f"NaN or infinite value ({raw})"
        if not self.times[row].is_valid:
            reason, detail = self._times.problem(self._times.raw(columns[0], row))
            if reason == "null":
                detail = f"no time ({layout.missing})"
            return reason, shown(layout.time), detail
        if self.symbols is not None:
            symbol = self.symbols[row].as_py()
            if symbol is None:
                return "bad_symbol", layout.symbol, f"no symbol ({layout.missing})"
            if not symbol:
                return "bad_symbol", layout.symbol, "empty symbol"
        if self.intervals is not None and not self.intervals[row].is_valid:
            return "bad_interval", layout.interval, f"no bar size ({layout.missing})"
        return "", None, ""


def _numbers(column: pa.Array) -> pa.Array:
    """A value column as float64: numbers cast, text read as float() reads it (NaN where it
    cannot, the row's problem words why), null where null."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.dictionary_decode(), kind.value_type
    if pa.types.is_float64(kind):
        return column
    if _is_text_type(kind):
        texts = column.cast(pa.string()).to_pylist()
        # Prices move on a tick grid: few distinct strings, each converted once.
        values = {text: _float(text) for text in set(texts)}
        return float64_array([values[text] for text in texts])
    if pa.types.is_null(kind):
        return pa.nulls(len(column), pa.float64())
    return column.cast(pa.float64(), safe=False)


def _float(text: str | None) -> float:
    if text is None:
        return math.nan
    try:
        return float(text)
    except ValueError:
        return math.nan


def _symbols(column: pa.Array) -> pa.Array:
    return pc.utf8_trim_whitespace(_text(column))


def _text(column: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    return column if pa.types.is_string(column.type) else column.cast(pa.string())


def _bars_valid(o: pa.Array, h: pa.Array, low: pa.Array, c: pa.Array, v: pa.Array) -> pa.Array:
    """:func:`~framework._events.ohlcv_is_valid` of every row, null for a null value."""
    checks = [
        pc.less(_ZERO_F, low),
        pc.less_equal(low, o),
        pc.less_equal(o, h),
        pc.less_equal(low, c),
        pc.less_equal(c, h),
        pc.less(h, _INF),
        pc.less_equal(_ZERO_F, v),
        pc.less(v, _INF),
    ]
    mask = checks[0]
    for check in checks[1:]:
        mask = pc.and_(mask, check)
    return mask


def _within(values: pa.Array, low: int, high: int) -> pa.Array:
    """``values`` with those outside [low, high] made null."""
    inside = pc.and_(
        pc.greater_equal(values, int64_scalar(low)), pc.less_equal(values, int64_scalar(high))
    )
    return pc.if_else(inside, values, _NULL_INT64)


def _float_at_least(value: int) -> float:
    """The smallest float not below ``value``: float comparisons must refuse what Python's
    exact int/float comparison refuses."""
    number = float(value)
    return number if number >= value else math.nextafter(number, math.inf)


def _float_at_most(value: int) -> float:
    number = float(value)
    return number if number <= value else math.nextafter(number, -math.inf)


def _typed_text(nanos: int, *, aware: bool) -> str:
    """A time for messages: ISO-8601 when Python's datetime holds it, else the number."""
    try:
        if aware:
            return (_EPOCH + _dt.timedelta(microseconds=nanos // 1_000)).isoformat()
        return (_NAIVE_EPOCH + _dt.timedelta(microseconds=nanos // 1_000)).isoformat()
    except OverflowError:
        return f"{nanos} ns"
