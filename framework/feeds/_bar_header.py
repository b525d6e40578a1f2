"""The header of a bar file: which columns hold a bar, whatever their case and common names.

Names are compared stripped and lower-cased. ``open``, ``high``, ``low`` and ``close`` are
needed as such; the time may be ``time``, ``date``, ``datetime``, ``timestamp`` or ``ts``, or,
when none of those is there, an unnamed first column (how pandas writes its index); the volume
may be ``volume`` or ``vol``; ``symbol`` is optional. Every other column is not part of a bar:
it is named in :attr:`Header.ignored` so the reader can tell the user, never dropped silently.
A name that could be read two ways (two time columns, ``close`` twice) is an error.

Tables (Parquet, Feather, DataFrames) follow the same rules, with their column names for the
header row; only the wording of a refusal differs (``table=True``).
"""

from __future__ import annotations

from typing import NamedTuple

from ._bar_columns import Layout

TIME_NAMES = ("time", "date", "datetime", "timestamp", "ts")
VOLUME_NAMES = ("volume", "vol")
PRICE_NAMES = ("open", "high", "low", "close")

_NEEDED = (
    "need time, open, high, low, close and volume in any order and case: the time may be "
    "named date, datetime, timestamp or ts, or be an unnamed first column, the volume vol"
)
_TABLE_NEEDED = (
    "need time, open, high, low, close and volume in any order and case: the time may be "
    "named date, datetime, timestamp or ts, or be an unnamed DataFrame index, the volume vol"
)


class Header(NamedTuple):
    """Where a bar's fields are, and the columns (as the file names them) left unread."""

    layout: Layout
    ignored: tuple[str, ...]


def read_header(names: list[str], *, table: bool = False) -> Header:
    """The :class:`Header` of a file whose header row has ``names`` (of a table whose columns
    have them, with ``table``; an unnamed DataFrame index is passed as an empty name).

    Raises ``ValueError`` with a one-line reason when a bar's column is missing or ambiguous.
    """
    keys = _keys(names)
    indexes = [
        time_column(names, table=table),
        *(_one(names, keys, (name,), name, table=table) for name in PRICE_NAMES),
        _one(names, keys, VOLUME_NAMES, "volume", table=table),
    ]
    found = _one(names, keys, ("symbol",), "symbol", required=False, table=table)
    symbol = found if found >= 0 else None
    used = {*indexes, symbol}
    ignored = tuple(_shown(names, i, table) for i in range(len(names)) if i not in used)
    return Header(Layout(required=tuple(indexes), symbol=symbol, width=len(names)), ignored)


def time_column(names: list[str], *, table: bool = False) -> int:
    """The index of the time column among header ``names``; ``ValueError`` if there is none
    or more than one."""
    keys = _keys(names)
    named = [i for i, key in enumerate(keys) if key in TIME_NAMES]
    if not named and keys and keys[0] == "":
        return 0
    return _one(names, keys, TIME_NAMES, "time", table=table)


def _keys(names: list[str]) -> list[str]:
    # A UTF-8 byte order mark (Excel's "CSV UTF-8") is not part of the first name.
    return [name.strip().lstrip("\ufeff").strip().lower() for name in names]


def _one(
    names: list[str],
    keys: list[str],
    aliases: tuple[str, ...],
    role: str,
    required: bool = True,
    *,
    table: bool = False,
) -> int:
    found = [i for i, key in enumerate(keys) if key in aliases]
    if len(found) == 1:
        return found[0]
    subject = "the table" if table else "header"
    if found:
        columns = ", ".join(_shown(names, i, table) for i in found)
        raise ValueError(f"{subject} has {len(found)} {role} columns ({columns}); keep one")
    if not required:
        return -1
    if table:
        hint = "; data without volume needs a volume column added (0 if unknown)"
        shown = ", ".join(_shown(names, i, table) for i in range(len(names)))
        raise ValueError(
            f"the table lacks {role}: found columns {shown} ({_TABLE_NEEDED})"
            + (hint if role == "volume" else "")
        )
    hint = "; a file without volume needs a volume column added (0 if unknown)"
    raise ValueError(
        f'header lacks {role}: found "{",".join(map(str.strip, names))}" ({_NEEDED})'
        + (hint if role == "volume" else "")
    )


def _shown(names: list[str], index: int, table: bool = False) -> str:
    name = names[index].strip().lstrip("\ufeff")
    return name or ("(index)" if table else f"(unnamed column {index + 1})")
