"""Where a catalog keeps its files: one Hive partition per symbol and bar size.

::

    DIR/bars/symbol=<symbol>/interval=<label>/part-<n>.parquet

Partition values are percent-encoded (RFC 3986, UTF-8): every character but ASCII letters,
digits and ``_ . - ~`` becomes ``%XX``, so ``NASDAQ:AAPL`` lives in ``symbol=NASDAQ%3AAAPL``
and ``EUR/USD`` in ``symbol=EUR%2FUSD``. A value can then never leave its directory (``/``),
break the ``key=value`` form (``=``), or trip a file system that refuses ``:``, and it
decodes back to exactly what was written. It is also the decoding pyarrow's Hive
partitioning applies by default (``segment_encoding="uri"``), so ``pyarrow.dataset`` reads
the tree as a plain Hive dataset. ``<n>`` only keeps names unique: the files of a partition
are ordered by the times in them, never by their names.
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

#: The folder under the catalog root holding the bar partitions.
BARS_DIR = "bars"

_PART = re.compile(r"^part-(\d+)\.parquet$")


def escape(value: str) -> str:
    """``value`` as a partition directory value (see the module docstring)."""
    return urllib.parse.quote(value, safe="")


def unescape(segment: str) -> str:
    """The value :func:`escape` turned into ``segment``."""
    return urllib.parse.unquote(segment, errors="strict")


def partition_dir(root: Path, symbol: str, interval: str) -> Path:
    """The directory of one symbol's bars of one size."""
    return root / BARS_DIR / f"symbol={escape(symbol)}" / f"interval={escape(interval)}"


def part_name(number: int) -> str:
    return f"part-{number}.parquet"


def part_number(path: Path) -> int | None:
    """The ``<n>`` of a ``part-<n>.parquet`` name, None for any other name."""
    match = _PART.match(path.name)
    return int(match.group(1)) if match else None


def discover(root: Path) -> dict[tuple[str, str], list[Path]]:
    """Every partition's data files, by (symbol, interval), in no particular order.

    Only names of the layout count: temporary files (``.part-<n>.parquet.tmp``) and anything
    else a user drops into the tree are not part of the catalog.
    """
    found: dict[tuple[str, str], list[Path]] = {}
    bars = root / BARS_DIR
    if not bars.is_dir():
        return found
    for symbol_dir in sorted(bars.glob("symbol=*")):
        for interval_dir in sorted(symbol_dir.glob("interval=*")):
            files = [p for p in interval_dir.iterdir() if part_number(p) is not None]
            if files:
                key = (
                    unescape(symbol_dir.name.partition("=")[2]),
                    unescape(interval_dir.name.partition("=")[2]),
                )
                found[key] = files
    return found
