"""Encoding a batch of records into columns at once, a field at a time.

:class:`~._records.Records` takes records on a backtest's hot path. Encoding each on arrival
costs a generated function call and a Python step per field; holding them and encoding a
batch lets C loops do the per-row work: one ``attrgetter`` call reads a record's fields,
``zip`` turns the rows into columns, ``map`` and ``list.count`` check and encode them, and
:func:`extend_column` packs a column with ``struct`` (``array.extend`` parses each value like a
function argument: three to five times slower).

The result is the same rows the row-by-row code writes, for the batches it can encode: every
value of the exact type its column holds, every text already in its table. A batch with
anything else (a new symbol, an int in a float column) returns None and goes row by row,
which handles every case; that happens a few times per run, not per record. An int beyond its
column's range is found when it is packed (OverflowError), the caller's cue to go row by row
too.
"""

from __future__ import annotations

import operator
import struct
from array import array
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._records import Column

#: What a dense column holds, by kind: the one type its values may have, or None for kinds
#: encoded by identity (flags, enum members).
_VALUE_TYPES = {"float": float, "int": int, "small_int": int, "text": str}


class BatchPlan:
    """How to encode the fields of one layout, prepared once."""

    __slots__ = ("dense", "fields", "sparse")

    def __init__(self, names: Sequence[str], columns: Sequence[Column]) -> None:
        #: A record's fields as a tuple, in layout order.
        self.fields: Callable[[Any], tuple[Any, ...]] = operator.attrgetter(*names)
        #: Per dense column: its field's position, its kind, and for flags and enums the code
        #: of each member by ``id`` (compared by identity, as the row-by-row code does:
        #: hashing an Enum member runs Python code).
        self.dense: list[tuple[int, str, dict[int, int] | None]] = []
        #: Per sparse column: its field's position and the column.
        self.sparse: list[tuple[int, Column]] = []
        for k, column in enumerate(columns):
            if not column.is_dense:
                self.sparse.append((k, column))
            elif column.kind in _VALUE_TYPES:
                self.dense.append((k, column.kind, None))
            else:
                by_id = {id(member): code for code, member in enumerate(column.members)}
                self.dense.append((k, column.kind, by_id))


def encode_batch(
    plan: BatchPlan, text_indexes: Sequence[dict[str, int] | None], records: Sequence[Any]
) -> tuple[list[Sequence[Any]], list[list[tuple[int, Any]]]] | None:
    """The values of each dense column for ``records``, in order, and for each sparse column
    the (position in the batch, value) pairs that differ from its default; None when the
    batch must go row by row. ``text_indexes`` holds each TEXT column's table index, in the
    order of the dense columns."""
    fields = list(zip(*map(plan.fields, records), strict=True))
    dense: list[Sequence[Any]] = []
    for (k, kind, by_id), index in zip(plan.dense, text_indexes, strict=True):
        values: Sequence[Any] = fields[k]
        if by_id is not None:
            codes = list(map(by_id.get, map(id, values)))
            if None in codes:
                return None
            dense.append(codes)
            continue
        if set(map(type, values)) != {_VALUE_TYPES[kind]}:
            return None
        if index is not None:
            values = list(map(index.get, values))
            if None in values:
                return None
        dense.append(values)
    stored = [_not_default(column, fields[k]) for k, column in plan.sparse]
    return dense, stored


def extend_column(column: array[Any], values: Sequence[Any]) -> None:
    """Append ``values`` to ``column``: OverflowError for a value beyond its type's range (and
    BufferError while the array is exported, as ``array.extend`` would)."""
    try:
        packed = struct.pack(f"{len(values)}{column.typecode}", *values)
    except struct.error as exc:  # an int out of range: say it as array.extend would
        raise OverflowError(str(exc)) from None
    column.frombytes(packed)


def _not_default(column: Column, values: Sequence[Any]) -> list[tuple[int, Any]]:
    if column.freeze is not None:
        values = list(map(column.freeze, values))
    default = column.default
    if values.count(default) == len(values) and set(map(type, values)) <= {type(default)}:
        return []  # the common case: nothing set
    if default is None and column.freeze is None:
        return [(i, v) for i, v in enumerate(values) if v is not None]
    cls = default.__class__
    return [(i, v) for i, v in enumerate(values) if v.__class__ is not cls or v != default]
