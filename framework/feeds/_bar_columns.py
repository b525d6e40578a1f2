"""Bar-file rows read a chunk at a time, column by column, for chunks where all rows are good.

:func:`clean_columns` turns a chunk of lines into columns with a few whole-column operations
instead of a Python loop per row, and gives up (returns None) at the first sign of anything
the row-by-row reader in :mod:`._bar_file` would reject or read differently; that reader then
takes the chunk and words the reason. So this module decides speed only, never a result:
every value it returns is the one the row reader would produce.

Two readers, tried in order:

- numbers only (no symbol column, integer epoch times, plain decimals): the chunk becomes
  one flat JSON array for orjson, whose float parsing rounds exactly as ``float()`` does (a
  test in tests/feeds pins that);
- anything else without quotes: fields split on commas, converted per column.

Times go through the file's :class:`~._bar_times.TimeReader`, the row reader's own.
"""

from __future__ import annotations

import itertools
import math
import operator
from array import array
from typing import TYPE_CHECKING, NamedTuple

import orjson

if TYPE_CHECKING:
    from ._bar_times import TimeReader

#: Characters that make a chunk more than plain non-negative numbers to JSON: brackets and
#: braces (nesting), quotes, the letters of true, false and null, and the minus sign ("-0"
#: is the int 0 to JSON but the float -0.0 to float()).
_NOT_PLAIN_NUMBERS = ("[", "]", "{", "}", '"', "t", "f", "n", "-")

#: (open times in ns, symbols or None for the feed's own, [open, high, low, close, volume])
Columns = tuple[list[int], list[str] | None, list[list[float]]]


class Layout(NamedTuple):
    """Where the columns are: index of time, open, high, low, close, volume; of the symbol
    (None without a symbol column); and how many fields a row has."""

    required: tuple[int, ...]
    symbol: int | None
    width: int


def clean_columns(lines: list[str], text: str, layout: Layout, times: TimeReader) -> Columns | None:
    """The columns of unquoted ``lines`` (``text`` is their concatenation), or None unless
    every line is a row the row reader would accept as it stands, its time read by ``times``.

    Order in time and repeated bars are left to the caller, which knows the rows before; it
    must drop columns whose times do not ascend, as integer times are range-checked at the
    ends only (:meth:`~._bar_times.TimeReader.parse_ascending_ints`).
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None  # a lone carriage return: csv decides what it means
    columns = None
    if layout.symbol is None:
        columns = _number_columns(text, len(lines), layout, times)
    if columns is None:
        columns = _field_columns(lines, text, layout, times)
    if columns is None or not all_bars_valid(*columns[2]):
        return None
    return columns


def all_bars_valid(
    o: list[float], h: list[float], low: list[float], c: list[float], v: list[float]
) -> bool:
    """Whether :func:`~framework._events.ohlcv_is_valid` holds for every row of the columns;
    may say False for a chunk of valid rows whose volumes add up past the largest float (the
    row reader then takes it), never True for an invalid row.

    Column by column, as C loops: a Python call per row cost a chunk reader a fifth of its
    time. NaN fails every comparison, so a NaN price fails one of the four orderings, after
    which min and max (which NaN would fool) see none; a NaN volume makes the sum NaN.
    """
    if not low:
        return True
    le = operator.le
    return (
        all(map(le, low, o))
        and all(map(le, o, h))
        and all(map(le, low, c))
        and all(map(le, c, h))
        and min(low) > 0
        and max(h) < math.inf
        and min(v) >= 0
        and sum(v) < math.inf
    )


def _number_columns(text: str, rows: int, layout: Layout, times: TimeReader) -> Columns | None:
    if any(char in text for char in _NOT_PLAIN_NUMBERS):
        return None
    # One flat array with a null after each line: a row has the right width exactly when
    # the nulls fall every width + 1 values. No other value is null, as no "n" is left.
    body = text[:-1] if text.endswith("\n") else text
    try:
        values = orjson.loads("[" + body.replace("\n", ",null,") + ",null]")
    except orjson.JSONDecodeError:
        return None  # a field that is not a JSON number; the field reader may still read it
    stride = layout.width + 1
    if len(values) != rows * stride or values[layout.width :: stride] != [None] * rows:
        return None
    ti, oi, hi, li, ci, vi = (values[i::stride] for i in layout.required)
    try:
        # Only ints fit an int64 array (at the cost of a type check per value in C): floats
        # are decimal times, which the field reader rounds as the row reader does; ints past
        # int64 are refused as times anyway.
        array("q", ti)
    except (TypeError, OverflowError):
        return None
    nanos = times.parse_ascending_ints(ti)
    if nanos is None:
        return None
    prices = [list(map(float, column)) for column in (oi, hi, li, ci, vi)]
    return nanos, None, prices


def _field_columns(
    lines: list[str], text: str, layout: Layout, times: TimeReader
) -> Columns | None:
    width = layout.width
    if set(map(str.count, lines, itertools.repeat(","))) != {width - 1}:
        return None  # a blank line, or a row with too few or too many fields
    end = width * len(lines)
    fields = text.replace("\n", ",").split(",")
    ti, oi, hi, li, ci, vi = (fields[i:end:width] for i in layout.required)
    try:
        prices = _floats([oi, hi, li, ci])
        volumes = list(map(float, vi))
    except ValueError:
        return None
    nanos = _times(ti, times)
    if nanos is None:
        return None
    symbols = None
    if layout.symbol is not None:
        symbols = list(map(str.strip, fields[layout.symbol : end : width]))
        if not all(symbols):
            return None
    return nanos, symbols, [*prices, volumes]


def _floats(columns: list[list[str]]) -> list[list[float]]:
    """float() of every field of ``columns``; a string repeated among them is converted once.

    Prices move on a tick grid, so the price columns of a chunk share few distinct strings,
    and a dict lookup costs a fraction of float(). Raises ValueError as float() does.
    """
    distinct = set().union(*columns)
    if 2 * len(distinct) > sum(map(len, columns)):
        return [list(map(float, column)) for column in columns]
    value_of = dict(zip(distinct, map(float, distinct), strict=True))
    return [list(map(value_of.__getitem__, column)) for column in columns]


def _times(fields: list[str], times: TimeReader) -> list[int] | None:
    """Open times in ns of a time column, as ``times`` reads them; None if one is refused."""
    try:
        values = list(map(int, fields))
    except ValueError:
        pass  # decimal or ISO-8601 times
    else:
        # The reader's parse() tries int() first too, so these are the times it gives.
        return times.parse_ascending_ints(values)
    parsed = times.parse_many(fields)
    nanos = [ts for ts in parsed if ts is not None]
    return nanos if len(nanos) == len(parsed) else None
