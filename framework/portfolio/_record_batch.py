"""Encoding a batch of records into columns at once, a field at a time.

:class:`~._records.Records` takes records on a backtest's hot path. Encoding each on arrival
costs a generated function call and a Python step per field; holding them and encoding a
batch a field at a time lets C loops (``map``, ``array.extend``, ``list.count``) do the
per-row work. The result is the same rows the row-by-row code writes, for the batches it can
encode: every value of the exact type its column holds, every text already in its table. A
batch with anything else (a new symbol, an int in a float column) returns None and goes row
by row, which handles every case; that happens a few times per run, not per record.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._records import Column

_INT_RANGES = {"int": (-(2**63), 2**63 - 1), "small_int": (-128, 127)}


def encode_batch(
    names: Sequence[str],
    columns: Sequence[Column],
    text_indexes: Sequence[dict[str, int] | None],
    records: Sequence[Any],
) -> tuple[list[list[Any]], list[list[tuple[int, Any]]]] | None:
    """Encode ``records`` (the fields ``names``, kept as ``columns``) for appending: the
    values of each dense column in order, and for each sparse column the (position in the
    batch, value) pairs that differ from its default. None when the batch must go row by row.
    """
    dense: list[list[Any]] = []
    stored: list[list[tuple[int, Any]]] = []
    for name, column, index in zip(names, columns, text_indexes, strict=True):
        values = list(map(operator.attrgetter(name), records))
        if column.is_dense:
            encoded = _encode_dense(column, index, values)
            if encoded is None:
                return None
            dense.append(encoded)
        else:
            stored.append(_not_default(column, values))
    return dense, stored


def _encode_dense(column: Column, index: dict[str, int] | None, values: list[Any]) -> Any:
    kind = column.kind
    types = set(map(type, values))
    if kind == "float":
        return values if types == {float} else None
    if kind in _INT_RANGES:
        low, high = _INT_RANGES[kind]
        return values if types == {int} and low <= min(values) and max(values) <= high else None
    if kind == "text":
        if types != {str}:
            return None
        assert index is not None
        codes = list(map(index.get, values))
        return None if None in codes else codes
    # flag, choice: by identity, as the row-by-row code compares (hashing an Enum member
    # runs Python code).
    by_id = {id(member): code for code, member in enumerate(column.members)}
    codes = list(map(by_id.get, map(id, values)))
    return None if None in codes else codes


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
