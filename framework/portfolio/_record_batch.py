"""Encoding a batch of records into columns at once, a field at a time.

:class:`~._records.Records` takes records on a backtest's hot path. Encoding each on arrival
costs a generated function call and a Python step per field; holding them and encoding a
batch a field at a time lets C loops (``map``, ``array.extend``, ``list.count``) do the
per-row work. The result is the same rows the row-by-row code writes, for the batches it can
encode: every value of the exact type its column holds, every text already in its table. A
batch with anything else (a new symbol, an int in a float column) returns None and goes row
by row, which handles every case; that happens a few times per run, not per record. An int
beyond its column's range is found by ``array.extend`` itself (OverflowError), the caller's
cue to go row by row too.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._records import Column

#: What a dense column holds, by kind: the one type its values may have, or None for kinds
#: encoded by identity (flags, enum members).
_VALUE_TYPES = {"float": float, "int": int, "small_int": int, "text": str}


class BatchPlan:
    """How to encode the fields of one layout, prepared once."""

    __slots__ = ("dense", "sparse")

    def __init__(self, names: Sequence[str], columns: Sequence[Column]) -> None:
        #: Per dense column: its field's getter, its kind, and for flags and enums the code
        #: of each member by ``id`` (compared by identity, as the row-by-row code does:
        #: hashing an Enum member runs Python code).
        self.dense: list[tuple[Callable[[Any], Any], str, dict[int, int] | None]] = []
        #: Per sparse column: its getter and the column.
        self.sparse: list[tuple[Callable[[Any], Any], Column]] = []
        for name, column in zip(names, columns, strict=True):
            getter = operator.attrgetter(name)
            if not column.is_dense:
                self.sparse.append((getter, column))
            elif column.kind in _VALUE_TYPES:
                self.dense.append((getter, column.kind, None))
            else:
                by_id = {id(member): code for code, member in enumerate(column.members)}
                self.dense.append((getter, column.kind, by_id))


def encode_batch(
    plan: BatchPlan, text_indexes: Sequence[dict[str, int] | None], records: Sequence[Any]
) -> tuple[list[list[Any]], list[list[tuple[int, Any]]]] | None:
    """The values of each dense column for ``records``, in order, and for each sparse column
    the (position in the batch, value) pairs that differ from its default; None when the
    batch must go row by row. ``text_indexes`` holds each TEXT column's table index, in the
    order of the dense columns."""
    dense: list[list[Any]] = []
    for (getter, kind, by_id), index in zip(plan.dense, text_indexes, strict=True):
        values = list(map(getter, records))
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
    stored = [_not_default(column, list(map(getter, records))) for getter, column in plan.sparse]
    return dense, stored


def _not_default(column: Column, values: list[Any]) -> list[tuple[int, Any]]:
    if column.freeze is not None:
        values = list(map(column.freeze, values))
    default = column.default
    if values.count(default) == len(values) and set(map(type, values)) <= {type(default)}:
        return []  # the common case: nothing set
    if default is None and column.freeze is None:
        return [(i, v) for i, v in enumerate(values) if v is not None]
    cls = default.__class__
    return [(i, v) for i, v in enumerate(values) if v.__class__ is not cls or v != default]
