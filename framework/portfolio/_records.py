"""Records kept as columns: fills, trades and finished orders at a few dozen bytes each.

A long backtest keeps hundreds of thousands of fills, trades and orders. As objects each
costs 250-450 bytes (a boxed float or int per field); as a row of typed arrays it costs
50-70. :class:`Records` is a read-only sequence of records of one attrs class, kept in
columns that a :class:`RecordLayout` declares, one per field:

- ``FLOAT``, ``INT``: 8 bytes a row (``array('d')``, ``array('q')``);
- ``SMALL_INT``: 1 byte (-128 to 127); ``FLAG``: 1 byte (a bool);
- ``TEXT``: 1 byte (2, then 4, past 256 and 65,536 distinct strings), the position in the
  field's table of distinct strings (symbols, strategy ids);
- ``one_of(Enum)``: 1 byte, the member's position;
- ``sparse(...)``: nothing for a row at the default, a dict entry for the rare others (an
  order's limit price, parent, reason).

Reading an item builds the record again, equal to the one appended (field by field, even
for a class that compares by identity). A value its column cannot hold as it is (an int
price in a ``FLOAT`` column, a symbol that is not a str) is kept as it is beside the column,
so the record comes back exactly: the JSON result writes ``10`` for an int and ``10.0`` for a
float. Readers that want columns, not objects (the JSON writer, the Arrow tables, the
statistics), use :meth:`Records.values` and :meth:`Records.dense_prefix`.

Appending and reading run on a backtest's hot path, so the code that moves one record in or
out is generated per layout, as attrs generates ``__init__``: straight-line attribute reads
and list appends, no loop over fields. Each column's new values wait in a list and go into
its array :data:`SETTLE_ROWS` at a time (or at the next read) with one ``struct.pack``: an
``array.append`` parses its argument like a function call's, several times the cost. They
are encoded while the record is at hand; encoding a batch of held records later was slower,
as each record is out of the CPU's caches by then.
"""

from __future__ import annotations

import collections
import itertools
import math
import operator
import struct
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar, overload

import attrs

from .._events import OrderFilled, OrderSide

T = TypeVar("T")

_INT64 = (-(2**63), 2**63 - 1)
_INT8 = (-128, 127)
#: Typecodes of a TEXT column's codes, narrowest first, and the largest code each holds.
_CODE_TYPES = (("B", 0xFF), ("H", 0xFFFF), ("I", 0xFFFF_FFFF), ("Q", 2**64 - 1))
_FLAGS = (False, True)

#: Rows whose encoded values are staged in lists before they are packed into the columns.
SETTLE_ROWS = 1024


@attrs.frozen(slots=True)
class Column:
    """How one field is kept; use the constants and functions below, not this class."""

    kind: str
    typecode: str = ""
    members: tuple[Any, ...] = ()
    default: Any = None
    #: Applied to a sparse value when it is stored and when it is read back (``tuple`` in,
    #: ``list`` out: a list field comes back as a fresh list each time).
    freeze: Callable[[Any], Any] | None = None
    thaw: Callable[[Any], Any] | None = None
    #: A sparse field whose usual value is another (dense) field's of the same record...
    like: str | None = None
    #: ... or the row number plus this.
    row_offset: int | None = None

    @property
    def is_dense(self) -> bool:
        return self.kind != "sparse"


FLOAT = Column("float", "d")
INT = Column("int", "q")
SMALL_INT = Column("small_int", "b")
FLAG = Column("flag", "B", members=_FLAGS)
TEXT = Column("text", "B")


def one_of(members: Iterable[Any]) -> Column:
    """A field holding one of ``members`` (an Enum class), kept as its position."""
    return Column("choice", "B", members=tuple(members))


def sparse(
    default: Any = None,
    *,
    freeze: Callable[[Any], Any] | None = None,
    thaw: Callable[[Any], Any] | None = None,
    like: str | None = None,
    row_offset: int | None = None,
) -> Column:
    """A field that is nearly always ``default`` (exactly: same type, same value, same sign
    of zero), or the value of the field named ``like``, or the row number plus
    ``row_offset``: only the other rows are stored."""
    return Column(
        "sparse", default=default, freeze=freeze, thaw=thaw, like=like, row_offset=row_offset
    )


class RecordLayout(Generic[T]):
    """The columns of an attrs class's fields, in field order: ``RecordLayout(Trade,
    symbol=TEXT, side=SMALL_INT, qty=FLOAT, ...)``. Every field needs a column."""

    __slots__ = ("_code", "columns", "dense", "index", "names", "record_class")

    def __init__(self, record_class: type[T], **columns: Column) -> None:
        fields = [f.name for f in attrs.fields(record_class)]  # type: ignore[arg-type]
        if sorted(fields) != sorted(columns):
            raise TypeError(
                f"the layout of {record_class.__name__} must give a column to each of its "
                f"fields {fields}, got {list(columns)}"
            )
        for name, column in columns.items():
            if column.like is not None and not columns.get(column.like, TEXT).is_dense:
                raise TypeError(f"{name} is like {column.like}, which must be a dense field")
        self.record_class = record_class
        self.names = tuple(columns)
        self.columns = tuple(columns.values())
        self.index = {name: k for k, name in enumerate(self.names)}
        #: Field number -> position among the dense columns.
        self.dense = {
            k: i for i, k in enumerate(k for k, c in enumerate(self.columns) if c.is_dense)
        }
        self._code: dict[str, Any] = {}

    def column(self, name: str) -> Column:
        return self.columns[self.index[name]]

    def compiled(self, what: str) -> Any:
        """The generated code ``what`` (``append``, ``put`` or ``read``), compiled once."""
        code = self._code.get(what)
        if code is None:
            source = _read_source(self) if what == "read" else _write_source(self, what)
            code = self._code[what] = compile(source, f"<records {what} {self}>", "exec")
        return code

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RecordLayout):
            return NotImplemented
        return (self.record_class, self.names, self.columns) == (
            other.record_class,
            other.names,
            other.columns,
        )

    def __hash__(self) -> int:
        return hash((self.record_class, self.names))

    def __repr__(self) -> str:
        return f"RecordLayout({self.record_class.__name__})"

    def __reduce__(self) -> tuple[Any, ...]:
        return _layout, (self.record_class, tuple(zip(self.names, self.columns, strict=True)))


def _layout(record_class: type[Any], columns: tuple[tuple[str, Column], ...]) -> RecordLayout[Any]:
    """An unpickled layout: the one already made if equal (its code is compiled)."""
    layout = RecordLayout(record_class, **dict(columns))
    try:
        return _UNPICKLED.setdefault(layout, layout)
    except TypeError:  # a sparse default that cannot be hashed
        return layout


_UNPICKLED: dict[RecordLayout[Any], RecordLayout[Any]] = {}


class _Widen(Exception):
    """A TEXT column's table outgrew its codes' typecode: widen, then append again."""


class Records(Sequence[T], Generic[T]):
    """Records of one class kept in columns (see the module docstring).

    A read-only ``Sequence``: ``len``, indexes (negative too), slices (a list), iteration,
    ``==`` with another ``Records`` or a list or tuple of records (field by field). Its owner
    appends with :meth:`append`; :meth:`snapshot` gives readers a fixed view of the rows so far
    that shares the storage. Pickles as its columns.
    """

    __slots__ = (
        "_append_row",
        "_columns",
        "_indexes",
        "_layout",
        "_length",
        "_odd",
        "_odd_rows",
        "_put_row",
        "_read_only",
        "_read_row",
        "_replaced",
        "_sparse",
        "_stage",
        "_staged",
        "_texts",
    )
    # The generated code (see _bind).
    _append_row: Callable[[Records[T], T, int], None]
    _put_row: Callable[[Records[T], T, int], None]
    _read_row: Callable[[Records[T], int], T]

    def __init__(self, layout: RecordLayout[T], records: Iterable[T] = ()) -> None:
        self._layout = layout
        cols = layout.columns
        self._columns: list[array[Any]] = [array(c.typecode) for c in cols if c.is_dense]
        # Per field (None where it does not apply): the table of a TEXT field and its index
        # (code 0 is "", so that the placeholder of a blank row or a value kept beside the
        # column reads as something), a sparse field's stored rows, values a column could not
        # hold (row -> value).
        self._texts: list[list[str] | None] = [[""] if c.kind == "text" else None for c in cols]
        self._indexes: list[dict[str, int] | None] = [
            {"": 0} if c.kind == "text" else None for c in cols
        ]
        self._sparse: list[dict[int, Any] | None] = [None if c.is_dense else {} for c in cols]
        self._odd: list[dict[int, Any]] = [{} for _ in cols]
        self._odd_rows: set[int] = set()
        self._replaced: dict[int, T] = {}
        # The encoded values of the last rows, per dense column, not yet in the columns:
        # appended to lists while the record is at hand, packed into the arrays a batch at a
        # time (_settle).
        self._stage: list[list[Any]] = [[] for _ in self._columns]
        self._staged = 0
        self._length = 0
        self._read_only = False
        self._bind()
        self.extend(records)

    # -- writing (the owner) ---------------------------------------------------------------

    def append(self, record: T) -> None:
        """Add ``record`` as the last row (its fields are copied; it is not kept)."""
        if self._read_only:
            raise TypeError("these records are a read-only snapshot")
        n = self._length
        while True:
            try:
                self._append_row(self, record, n)
                break
            except _Widen:
                # A TEXT table outgrew its codes: the staged rows go in first, at the width
                # they fit, then the columns widen.
                self._settle()
                self._copy_columns(n)
        self._length = n + 1
        self._staged += 1
        if self._staged >= SETTLE_ROWS:
            self._settle()

    def _settle(self) -> None:
        """Move the staged values into the columns, each column's with one ``struct.pack``."""
        if not self._staged:
            return
        first = self._length - self._staged
        self._staged = 0
        try:
            self._pack_staged()
        except BufferError:  # an Arrow table still reads a column: go on with copies
            self._copy_columns(first)
            self._pack_staged()
        for values in self._stage:
            values.clear()

    def _pack_staged(self) -> None:
        for column, values in zip(self._columns, self._stage, strict=True):
            column.frombytes(struct.pack(f"{len(values)}{column.typecode}", *values))

    def extend(self, records: Iterable[T]) -> None:
        for record in records:
            self.append(record)

    def put(self, row: int, record: T) -> None:
        """Replace row ``row`` (for an owner that fills rows out of order, see :meth:`pad`)."""
        self._check_writable()
        self._settle()
        if not 0 <= row < self._length:
            raise IndexError(f"row {row} out of range")
        self._forget(row)
        while True:
            try:
                self._put_row(self, record, row)
                break
            except _Widen:
                self._copy_columns(self._length)

    def pad(self, count: int) -> None:
        """Append ``count`` blank rows, to be filled with :meth:`put`. A blank row reads as
        nonsense: the owner keeps track of which rows are blank."""
        n = self._check_writable()
        self._settle()
        try:
            for column in self._columns:
                column.extend(itertools.repeat(0, count))
        except BufferError:
            self._copy_columns(n)
            for column in self._columns:
                column.extend(itertools.repeat(0, count))
        self._length = n + count

    def snapshot(self) -> Records[T]:
        """The rows so far, read-only, sharing this store's memory (its owner may go on
        appending: the snapshot keeps its length)."""
        return self.view(self._length, {})

    def view(self, length: int, replaced: Mapping[int, T]) -> Records[T]:
        """A read-only snapshot of rows ``0`` to ``length - 1`` in which the rows of
        ``replaced`` read as those records (copied now) instead: an owner that fills rows
        out of order hands out its blank rows' records this way. Rows past the stored ones
        must all be replaced."""
        self._settle()
        replaced = {**self._replaced, **replaced}
        if any(r not in replaced for r in range(self._stored(), length)):
            raise ValueError("rows past the end must be replaced")
        other: Records[T] = Records.__new__(Records)
        other._layout = self._layout
        other._stage = []
        other._staged = 0
        other._columns = list(self._columns)
        other._texts = self._texts
        other._indexes = self._indexes
        other._sparse = self._sparse
        other._odd = self._odd
        other._odd_rows = self._odd_rows
        other._replaced = {row: self._copy(r) for row, r in replaced.items() if row < length}
        other._length = length
        other._read_only = True
        other._bind()
        return other

    # -- reading ---------------------------------------------------------------------------

    @property
    def layout(self) -> RecordLayout[T]:
        return self._layout

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        self._settle()
        if isinstance(index, slice):
            return [self._read(i) for i in range(*index.indices(self._length))]
        i = operator.index(index)
        if i < 0:
            i += self._length
        if not 0 <= i < self._length:
            raise IndexError("records index out of range")
        return self._read(i)

    def __iter__(self) -> Iterator[T]:
        self._settle()
        if self._replaced:
            for i in range(self._length):
                yield self._read(i)
        else:
            read = self._read_row
            for i in range(self._length):
                yield read(self, i)

    def __contains__(self, value: object) -> bool:
        self._settle()
        return any(self._same(i, value) for i in range(self._length))

    def values(self, name: str, start: int = 0, stop: int | None = None) -> list[Any]:
        """Field ``name`` of rows ``start`` to ``stop - 1`` (default: all), as the records
        read back would hold it, without building the records."""
        self._settle()
        start, stop, _ = slice(start, stop).indices(self._length)
        k = self._layout.index[name]
        column = self._layout.columns[k]
        count = max(stop - start, 0)
        if not column.is_dense:
            stored = self._sparse[k]
            assert stored is not None
            if column.like is not None:
                out = self.values(column.like, start, stop)
                for row, value in _in_range(stored, start, stop):
                    out[row - start] = value
            elif column.row_offset is not None:
                out = list(range(start + column.row_offset, stop + column.row_offset))
                for row, value in _in_range(stored, start, stop):
                    out[row - start] = value
            elif not stored:
                out = [column.default] * count
            else:
                out = list(map(stored.get, range(start, stop), itertools.repeat(column.default)))
            if column.thaw is not None:
                out = list(map(column.thaw, out))
        else:
            raw = self._columns[self._layout.dense[k]][start:stop]
            if column.kind == "text":
                texts = self._texts[k]
                assert texts is not None
                out = list(map(texts.__getitem__, raw))
            elif column.members:
                out = list(map(column.members.__getitem__, raw))
            else:
                out = raw.tolist()
            if len(out) < count:  # rows past the stored ones are all replaced
                out.extend(itertools.repeat(None, count - len(out)))
        for row, value in _in_range(self._odd[k], start, stop):
            out[row - start] = value
        for row, record in _in_range(self._replaced, start, stop):
            value = getattr(record, name)
            out[row - start] = column.thaw(value) if column.thaw is not None else value
        return out

    def counts(self, name: str) -> dict[Any, int]:
        """How many rows hold each value of field ``name``: for fields of a few distinct
        values (a flag, an enum, a symbol), counted on the codes without a list of values."""
        self._settle()
        column = self._layout.column(name)
        if not column.is_dense or column.kind not in ("text", "choice", "flag"):
            return dict(collections.Counter(self.values(name)))
        prefix = self.dense_prefix(name)
        labels = self.labels(name)
        counted: collections.Counter[Any] = collections.Counter()
        for code, count in collections.Counter(prefix).items():
            counted[labels[code]] += count
        counted.update(self.values(name, len(prefix)))  # rows past the prefix, if any
        return dict(counted)

    def labels(self, name: str) -> Sequence[Any]:
        """What the codes of :meth:`dense_prefix` stand for: the table of a ``TEXT`` field,
        the members of a ``one_of`` field, ``(False, True)`` for a ``FLAG``."""
        self._settle()
        k = self._layout.index[name]
        texts = self._texts[k]
        return texts if texts is not None else self._layout.columns[k].members

    def dense_prefix(self, name: str) -> memoryview:
        """The longest run of first rows whose field ``name`` its column holds exactly, as a
        view of the column (codes for TEXT, ``one_of`` and FLAG fields: see :meth:`labels`);
        read the rows after it with :meth:`values`. A sparse field has no column: ValueError.

        While the view (or an Arrow array over it) lives, the column cannot grow; the owner
        continues on a copy when it next appends.
        """
        self._settle()
        k = self._layout.index[name]
        if not self._layout.columns[k].is_dense:
            raise ValueError(f"{name} is a sparse field: read it with values()")
        end = min([self._length, *self._odd[k], *self._replaced])
        end = min(end, len(self._columns[self._layout.dense[k]]))
        return memoryview(self._columns[self._layout.dense[k]])[:end]

    # -- comparing, pickling ---------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        self._settle()
        if isinstance(other, Records):
            if other._layout != self._layout or len(other) != self._length:
                return False
            return all(self.values(n) == other.values(n) for n in self._layout.names)
        if isinstance(other, (list, tuple)):
            if len(other) != self._length:
                return False
            try:
                return all(
                    self.values(n) == [getattr(r, n) for r in other] for n in self._layout.names
                )
            except AttributeError:
                return False
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Records of {self._length} {self._layout.record_class.__name__}>"

    def __reduce__(self) -> tuple[Any, ...]:
        self._settle()
        compact = self._compacted()
        n = compact._length
        state = (
            [column[:n] for column in compact._columns],
            compact._texts,
            [None if s is None else _below(s, n) for s in compact._sparse],
            [_below(odd, n) for odd in compact._odd],
        )
        return _unpickle, (self._layout, n, self._read_only, state)

    # -- internals -------------------------------------------------------------------------

    def _stored(self) -> int:
        """How many of the first rows the columns hold (the rest of a view is replaced)."""
        if not self._columns:
            return self._length
        return min(self._length, len(self._columns[0]))

    def _check_writable(self) -> int:
        if self._read_only:
            raise TypeError("these records are a read-only snapshot")
        return self._length

    def _read(self, i: int) -> T:
        replaced = self._replaced.get(i) if self._replaced else None
        if replaced is not None:
            return self._copy(replaced)
        return self._read_row(self, i)

    def _read_odd(self, i: int) -> T:
        """Row ``i``, which holds a value its column could not: field by field."""
        fields = {}
        for k, name in enumerate(self._layout.names):
            odd = self._odd[k]
            fields[name] = odd[i] if i in odd else self.values(name, i, i + 1)[0]
        return self._layout.record_class(**fields)

    def _copy(self, record: T) -> T:
        fields = {}
        for name, column in zip(self._layout.names, self._layout.columns, strict=True):
            value = getattr(record, name)
            fields[name] = column.thaw(value) if column.thaw is not None else value
        return self._layout.record_class(**fields)

    def _same(self, i: int, record: object) -> bool:
        try:
            return all(
                self.values(n, i, i + 1)[0] == getattr(record, n) for n in self._layout.names
            )
        except AttributeError:
            return False

    def _forget(self, row: int) -> None:
        for stored in (*self._sparse, *self._odd):
            if stored:
                stored.pop(row, None)
        self._odd_rows.discard(row)

    def _keep_odd(self, row: int, values: list[tuple[int, Any]]) -> None:
        for k, value in values:
            self._odd[k][row] = value
        self._odd_rows.add(row)

    def _new_text(self, k: int, text: str) -> int:
        texts, index = self._texts[k], self._indexes[k]
        assert texts is not None and index is not None
        code = index[text] = len(texts)
        texts.append(text)
        column = self._columns[self._layout.dense[k]]
        if code > dict(_CODE_TYPES)[column.typecode]:
            raise _Widen
        return code

    def _copy_columns(self, length: int) -> None:
        """Replace every column by a copy of its first ``length`` rows (TEXT codes widened
        to fit their tables), and rebind the generated code to the copies."""
        columns = []
        dense = [k for k, c in enumerate(self._layout.columns) if c.is_dense]
        for k, column in zip(dense, self._columns, strict=True):
            typecode: Any = column.typecode
            texts = self._texts[k]
            if texts is not None:
                typecode = next(t for t, top in _CODE_TYPES if len(texts) - 1 <= top)
            columns.append(array(typecode, column[:length]))
        self._columns = columns
        self._bind()

    def _bind(self) -> None:
        """Generate (once per layout) and bind the code that appends, replaces and reads.

        The code gets the store as an argument rather than holding it: a store must not
        reference itself, or it would be freed by the cycle collector only, much later."""
        names: dict[str, Any] = {
            "cls": self._layout.record_class,
            "odd_rows": self._odd_rows,
            "read_odd": Records._read_odd,
            "new_text": Records._new_text,
            "keep_odd": Records._keep_odd,
            "copysign": math.copysign,
        }
        columns = iter(self._columns)
        stages = iter(self._stage)  # empty for a read-only view
        for k, column in enumerate(self._layout.columns):
            if column.is_dense:
                names[f"c{k}"] = next(columns)
                names[f"a{k}"] = next(stages, []).append
                names[f"m{k}"] = self._texts[k] if column.kind == "text" else column.members
                names[f"i{k}"] = self._indexes[k]
                names[f"id{k}"] = {id(m): code for code, m in enumerate(column.members)}
            else:
                names[f"s{k}"] = self._sparse[k]
                names[f"d{k}"] = column.default
                names[f"f{k}"] = column.freeze
                names[f"t{k}"] = column.thaw
        for what in ("append", "put", "read"):
            exec(self._layout.compiled(what), names)
        # Out of their own globals, or each function and its globals would form a cycle.
        self._append_row = names.pop("append")
        self._put_row = names.pop("put")
        self._read_row = names.pop("read")

    def _compacted(self) -> Records[T]:
        """These rows with the replaced ones written in, in a store of their own."""
        if not self._replaced:
            return self
        stored = self._stored()
        own: Records[T] = Records(self._layout)
        own._columns = [column[:stored] for column in self._columns]
        own._texts = [None if t is None else list(t) for t in self._texts]
        own._indexes = [None if i is None else dict(i) for i in self._indexes]
        own._sparse = [None if s is None else _below(s, stored) for s in self._sparse]
        own._odd = [_below(odd, stored) for odd in self._odd]
        own._odd_rows = {r for rows in own._odd for r in rows}
        own._length = stored
        own._bind()
        # Rows past the stored ones are all replaced, so they append in order.
        for row in sorted(self._replaced):
            if row < stored:
                own.put(row, self._replaced[row])
            else:
                own.append(self._replaced[row])
        own._settle()
        return own


def _in_range(rows: Mapping[int, Any], start: int, stop: int) -> list[tuple[int, Any]]:
    """The items of ``rows`` whose row is in [start, stop), whichever is shorter to scan."""
    if not rows:
        return []
    if len(rows) <= stop - start:
        return [(r, v) for r, v in rows.items() if start <= r < stop]
    return [(r, rows[r]) for r in range(start, stop) if r in rows]


def _below(rows: dict[int, Any], end: int) -> dict[int, Any]:
    return {r: v for r, v in rows.items() if r < end}


def _unpickle(
    layout: RecordLayout[T], length: int, read_only: bool, state: tuple[Any, ...]
) -> Records[T]:
    columns, texts, stored, odd = state
    records: Records[T] = Records(layout)
    records._columns = columns
    records._texts = texts
    records._indexes = [None if t is None else {s: i for i, s in enumerate(t)} for t in texts]
    records._sparse = stored
    records._odd = odd
    records._odd_rows = {r for rows in odd for r in rows}
    records._length = length
    records._read_only = read_only
    records._bind()
    return records


# -- generated code --------------------------------------------------------------------------


def _write_source(layout: RecordLayout[Any], what: str) -> str:
    """``append(store, r, n)`` or ``put(store, r, n)``: row ``n`` from record ``r``. Reads
    every field, encodes, and only then writes, so a record that fails (a missing field)
    leaves no trace; a value its column cannot hold goes to ``keep_odd``."""
    lines = [f"def {what}(store, r, n):"]
    lines += [f"    v{k} = r.{name}" for k, name in enumerate(layout.names)]
    # Fields stored only where they differ from another field or the row number are
    # compared with the raw values, before encoding replaces them with codes.
    for k, column in enumerate(layout.columns):
        if column.like is not None:
            lines.append(f"    keep{k} = {_differs(f'v{k}', f'v{layout.index[column.like]}')}")
        elif column.row_offset is not None:
            lines.append(f"    keep{k} = {_differs(f'v{k}', f'(n + {column.row_offset})')}")
    lines.append("    odd = None")
    for k, column in enumerate(layout.columns):
        lines += [f"    {line}" for line in _encode_lines(k, column)]
    for k, column in enumerate(layout.columns):
        if column.is_dense:
            lines.append(f"    a{k}(v{k})" if what == "append" else f"    c{k}[n] = v{k}")
    for k, column in enumerate(layout.columns):
        if column.is_dense:
            continue
        if column.like is not None or column.row_offset is not None:
            lines.append(f"    if keep{k}: s{k}[n] = v{k}")
        elif column.default is None and column.freeze is None:
            lines.append(f"    if v{k} is not None: s{k}[n] = v{k}")
        elif isinstance(column.default, float):
            lines.append(f"    if {_differs(f'v{k}', f'd{k}')}: s{k}[n] = v{k}")
        else:
            lines.append(
                f"    if v{k}.__class__ is not d{k}.__class__ or v{k} != d{k}: s{k}[n] = v{k}"
            )
    lines.append("    if odd is not None: keep_odd(store, n, odd)")
    return "\n".join(lines) + "\n"


def _differs(value: str, usual: str) -> str:
    """An expression: whether ``value`` must be stored to come back exactly, rather than read
    as ``usual`` (another type, another value, NaN, or a zero of the other sign)."""
    return (
        f"({value}.__class__ is not {usual}.__class__ or {value} != {usual}"
        f" or ({value} == 0 and {value}.__class__ is float"
        f" and copysign(1.0, {value}) != copysign(1.0, {usual})))"
    )


def _encode_lines(k: int, column: Column) -> list[str]:
    v = f"v{k}"
    odd = f"odd = (odd or []) + [({k}, {v})]"
    kind = column.kind
    if kind == "float":
        return [f"if {v}.__class__ is not float:", f"    {odd}", f"    {v} = 0.0"]
    if kind in ("int", "small_int"):
        low, high = _INT64 if kind == "int" else _INT8
        return [
            f"if {v}.__class__ is not int or not {low} <= {v} <= {high}:",
            f"    {odd}",
            f"    {v} = 0",
        ]
    if kind == "text":
        return [
            f"if {v}.__class__ is str:",
            f"    code = i{k}.get({v})",
            f"    {v} = new_text(store, {k}, {v}) if code is None else code",
            "else:",
            f"    {odd}",
            f"    {v} = 0",
        ]
    if kind in ("flag", "choice"):
        # By identity: hashing an Enum member runs Python code, and ``is`` tests are the
        # cheapest thing there is for a handful of members.
        if len(column.members) > 8:
            return [
                f"code = id{k}.get(id({v}))",
                "if code is None:",
                f"    {odd}",
                "    code = 0",
                f"{v} = code",
            ]
        lines = []
        for code in range(len(column.members)):
            lines += [f"{'if' if code == 0 else 'elif'} {v} is m{k}[{code}]:", f"    {v} = {code}"]
        return [*lines, "else:", f"    {odd}", f"    {v} = 0"]
    assert kind == "sparse"
    return [f"{v} = f{k}({v})"] if column.freeze is not None else []


def _read_source(layout: RecordLayout[Any]) -> str:
    """``read(store, i)``: the record of row ``i``."""
    args = []
    for k, (name, column) in enumerate(zip(layout.names, layout.columns, strict=True)):
        if column.is_dense:
            value = _dense_read(k, column)
        elif column.like is not None:
            j = layout.index[column.like]
            value = f"s{k}.get(i, {_dense_read(j, layout.columns[j])})"
        elif column.row_offset is not None:
            value = f"s{k}.get(i, i + {column.row_offset})"
        elif column.default is None:
            value = f"s{k}.get(i)"
        else:
            value = f"s{k}.get(i, d{k})"
        if column.thaw is not None:
            value = f"t{k}({value})"
        args.append(f"{name}={value}")
    return (
        "def read(store, i):\n"
        "    if odd_rows and i in odd_rows:\n"
        "        return read_odd(store, i)\n"
        f"    return cls({', '.join(args)})\n"
    )


def _dense_read(k: int, column: Column) -> str:
    return f"m{k}[c{k}[i]]" if column.kind in ("text", "choice", "flag") else f"c{k}[i]"


# -- the portfolio's records -----------------------------------------------------------------

#: How a portfolio keeps its fills: about 40 bytes each instead of 300.
FILL_LAYOUT: RecordLayout[OrderFilled] = RecordLayout(
    OrderFilled,
    order_id=INT,
    symbol=TEXT,
    side=one_of(OrderSide),
    qty=FLOAT,
    price=FLOAT,
    commission=sparse(0.0),  # without a commission model, always 0.0
    ts_event=INT,
    ts_recv=INT,
    is_intrabar_guess=FLAG,
    strategy_id=TEXT,
)
