"""The bar catalog: a directory of Parquet files, one Hive partition per symbol and bar size.

Layout and escaping are in :mod:`._layout`, what is accepted in :mod:`._checked`, queries in
:mod:`._scan`; the rules for users are in docs/catalog.md.

Writing never replaces what is stored. Each partition is a set of files whose time spans do
not overlap, each sorted by time with row groups of at most ``row_group_rows`` rows and
min/max statistics. A write compares its rows with the stored ones first:

* a row at a time already stored must be identical to it, and is then skipped: importing the
  same file twice, or a longer download of the same series, adds only what is new;
* a row that differs from the stored one at its time, or a new time inside a stored file's
  span (between its first and last bar), is refused with one line naming symbol, bar size,
  time and file, and nothing at all is written;
* new rows go into new files, split at stored files so spans stay disjoint.

New files are written under temporary names and renamed only when every file of the write is
complete, so a failed write leaves the catalog as it was. One writer at a time: two
processes writing to one catalog at once are not supported.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from .._errors import ConfigError, DataError
from .._intervals import Interval
from .._time import iso_from_nanos
from ..feeds._bar_table import BAR_SCHEMA, COMPRESSION, interval_nanos
from ._checked import (
    VALUE_COLUMNS,
    PartitionKey,
    bar_table,
    describe,
    partitions,
    source_label,
)
from ._files import TIME_COLUMN, StoredFile, read_footer, unreadable
from ._layout import BARS_DIR, discover, part_name, part_number, partition_dir
from ._scan import BarScanner, TimeBound, plan, time_bound

#: Rows in a row group (the unit a query reads or skips). 64 Ki one-minute bars are about
#: 45 sessions of a US stock or 6 weeks of a 24/7 market, ~3.5 MB in memory: a month's query
#: reads one or two row groups, and a footer stays small even for decades of data.
ROW_GROUP_ROWS = 65_536

#: One partition's write: its key, the rows given, those not stored yet, its stored files.
_Pending = tuple[PartitionKey, pa.Table, pa.Table, list[StoredFile]]


@attrs.frozen(slots=True, kw_only=True)
class CatalogEntry:
    """What a catalog holds for one symbol and bar size.

    ``start`` is the open time of the first bar, ``end`` the close of the last (its open time
    plus the bar size), both int UTC nanoseconds: the stored bars cover ``[start, end)``, the
    span ``catalog.bars(start=entry.start, end=entry.end)`` returns whole.
    """

    symbol: str
    interval: str
    start: int
    end: int
    rows: int
    #: The partition's files, in time order.
    files: tuple[Path, ...]


@attrs.frozen(slots=True, kw_only=True)
class CatalogWrite:
    """What one :meth:`Catalog.write_bars` did for one symbol and bar size.

    ``start`` and ``end`` span the rows given (``[start, end)`` as in :class:`CatalogEntry`);
    of those rows ``written`` were new and ``already_stored`` were skipped as identical.
    """

    symbol: str
    interval: str
    start: int
    end: int
    written: int
    already_stored: int
    #: The files this write added.
    files: tuple[Path, ...]


class Catalog:
    """Bars stored as a Hive-partitioned Parquet dataset under ``path`` (docs/catalog.md).

    Nothing is created until the first write. Every method reads the directory afresh, so
    files written by another :class:`Catalog` (or process) are seen by the next call.
    """

    def __init__(self, path: str | os.PathLike[str], *, row_group_rows: int = ROW_GROUP_ROWS):
        if row_group_rows < 1:
            raise ConfigError(f"row_group_rows must be at least 1, got {row_group_rows}")
        self.path = Path(path)
        self.row_group_rows = row_group_rows

    def __repr__(self) -> str:
        return f"Catalog({str(self.path)!r})"

    def entries(self) -> list[CatalogEntry]:
        """One entry per symbol and bar size, sorted by symbol then bar size; read from the
        files' footers only. :class:`~framework.BarTableError` naming the file if one cannot be
        read."""
        found = []
        for (symbol, label), paths in sorted(discover(self.path).items()):
            stored = self._stored(paths)
            found.append(
                CatalogEntry(
                    symbol=symbol,
                    interval=label,
                    start=stored[0].first,
                    end=stored[-1].last + interval_nanos(label),
                    rows=sum(f.rows for f in stored),
                    files=tuple(f.path for f in stored),
                )
            )
        return found

    def write_bars(
        self, data: Any, *, symbol: str | None = None, interval: str | None = None
    ) -> list[CatalogWrite]:
        """Store ``data``'s bars; one :class:`CatalogWrite` per symbol and bar size in it.

        ``data`` is a ``BAR_SCHEMA``-shaped pyarrow Table, RecordBatch
        or RecordBatchReader, a pandas or polars DataFrame of those columns, or an iterable of
        :class:`~framework.Bar`; ``symbol`` / ``interval`` fill a column the table lacks.
        ``time`` is the open time, a timestamp with a zone. Each symbol's bars of one size
        must be in strictly increasing time; a bad table is a :class:`~framework.BarTableError`
        naming row, column and reason. Rows already stored are skipped if identical; anything
        that would change or interleave stored bars is refused (docs/catalog.md) with a
        :class:`~framework.DataError`. Either way nothing is written.
        """
        source = source_label(data)
        table = bar_table(data, symbol=symbol, interval=interval, source=source)
        found = discover(self.path)
        pending: list[_Pending] = []
        # Every partition is checked before anything is written: a refusal writes nothing.
        for key, rows in partitions(table, source).items():
            stored = self._stored(found.get(key, []))
            pending.append((key, rows, _unstored(rows, stored, key), stored))
        return self._write(pending, found)

    def scanner(
        self,
        symbols: str | Iterable[str] | None = None,
        interval: str | None = None,
        start: TimeBound | None = None,
        end: TimeBound | None = None,
    ) -> BarScanner:
        """The query of :meth:`bars`, planned but not read: its :meth:`~BarScanner.statistics`
        tell which row groups it reads; :meth:`~BarScanner.to_reader` streams it."""
        lo, hi = time_bound(start, "start"), time_bound(end, "end")
        if lo is not None and hi is not None and lo >= hi:
            raise ConfigError(f"start {iso_from_nanos(lo)} is not before end {iso_from_nanos(hi)}")
        found = discover(self.path)
        selected = self._select(found, symbols, interval)
        return plan(found, base_dir=self.path / BARS_DIR, selected=selected, start=lo, end=hi)

    def bars(
        self,
        symbols: str | Iterable[str] | None = None,
        interval: str | None = None,
        start: TimeBound | None = None,
        end: TimeBound | None = None,
    ) -> pa.Table:
        """The stored bars of ``symbols`` (default: all) of bar size ``interval`` (default:
        every size) whose open time is in ``[start, end)``, as a BAR_SCHEMA table in time
        order (several symbols merged by time, then symbol).

        ``start`` is inclusive and ``end`` exclusive, each int UTC nanoseconds, an aware
        datetime or ISO-8601 text with an offset (a bare date is midnight UTC); None leaves
        that side open. Only the partitions and row groups the query needs are read. A
        symbol or bar size the catalog does not have is a ConfigError.
        """
        return self.scanner(symbols, interval, start, end).to_table()

    def _stored(self, paths: list[Path]) -> list[StoredFile]:
        return sorted((read_footer(p) for p in paths), key=lambda f: f.first)

    def _select(
        self,
        found: dict[PartitionKey, list[Path]],
        symbols: str | Iterable[str] | None,
        interval: str | None,
    ) -> list[PartitionKey]:
        keys = sorted(found)
        if symbols is not None:
            wanted = [symbols] if isinstance(symbols, str) else list(symbols)
            have = {symbol for symbol, _ in keys}
            for symbol in wanted:
                if symbol not in have:
                    raise ConfigError(
                        f"catalog {self.path} has no bars of {symbol}"
                        + (f" (it has {', '.join(sorted(have))})" if have else " (it is empty)")
                    )
            keys = [key for key in keys if key[0] in wanted]
        if interval is not None:
            try:
                label = Interval.parse(interval).label
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            sizes = sorted({k[1] for k in keys})
            keys = [key for key in keys if key[1] == label]
            if not keys:
                raise ConfigError(
                    f"catalog {self.path} has no {label} bars"
                    + (f" of {', '.join(wanted)}" if symbols is not None else "")
                    + (f" (it has {', '.join(sizes)})" if sizes else " (it is empty)")
                )
        return keys

    def _write(
        self,
        pending: list[_Pending],
        found: dict[PartitionKey, list[Path]],
    ) -> list[CatalogWrite]:
        written: list[CatalogWrite] = []
        renames: list[tuple[Path, Path]] = []
        try:
            for key, given, new, stored in pending:
                directory = partition_dir(self.path, *key)
                numbers = [part_number(p) for p in found.get(key, [])]
                next_number = max((n for n in numbers if n is not None), default=-1) + 1
                files = []
                for run in _runs(new, stored):
                    final = directory / part_name(next_number)
                    next_number += 1
                    temporary = directory / f".{final.name}.tmp"
                    directory.mkdir(parents=True, exist_ok=True)
                    renames.append((temporary, final))
                    self._write_file(temporary, run)
                    files.append(final)
                written.append(_summary(key, given, new, tuple(files)))
            for temporary, final in renames:
                os.replace(temporary, final)
        except BaseException:
            for temporary, _ in renames:
                temporary.unlink(missing_ok=True)
            raise
        return written

    def _write_file(self, path: Path, rows: pa.Table) -> None:
        with pq.ParquetWriter(
            path,
            BAR_SCHEMA,
            compression=COMPRESSION,
            write_statistics=True,
            sorting_columns=[pq.SortingColumn(TIME_COLUMN)],
        ) as writer:
            writer.write_table(rows, row_group_size=self.row_group_rows)


def _unstored(rows: pa.Table, stored: list[StoredFile], key: PartitionKey) -> pa.Table:
    """The rows of one partition not stored yet; DataError if a row conflicts with a stored
    one or would land inside a stored file's span. ``rows`` being sorted, the rows within a
    file's span are one slice of it, and what is kept is the slices between: no copies."""
    times = rows["time"].cast(pa.int64())
    kept: list[pa.Table] = []
    cursor = 0
    for stored_file in stored:  # sorted by time, spans disjoint
        first = pc.sum(pc.less(times, stored_file.first)).as_py() or 0
        after = pc.sum(pc.less_equal(times, stored_file.last)).as_py() or 0
        if after == first:
            continue
        _check_identical(rows.slice(first, after - first), stored_file, key)
        kept.append(rows.slice(cursor, first - cursor))
        cursor = after
    kept.append(rows.slice(cursor))
    return pa.concat_tables(kept)


def _check_identical(given: pa.Table, stored_file: StoredFile, key: PartitionKey) -> None:
    """DataError unless every row of ``given`` (sorted, inside ``stored_file``'s span) is a
    row of the file. The file is read a batch at a time beside the matching slice of
    ``given``, both being sorted, so memory stays at a batch however large the overlap."""
    times = given["time"].cast(pa.int64())
    column = ds.field("time")
    span = (column >= given["time"][0]) & (column <= given["time"][-1])
    cursor = 0
    for batch in _batches(stored_file.path, span):
        stored_times = batch["time"].cast(pa.int64())
        rest = times.slice(cursor)
        if pc.any(pc.less(rest, stored_times[0])).as_py():
            break  # the row at the cursor falls between stored rows: reported below
        rows = pc.sum(pc.less_equal(rest, stored_times[-1])).as_py() or 0
        window = given.slice(cursor, rows)
        where = pc.index_in(window["time"], value_set=batch["time"]).combine_chunks()
        missing = pc.is_null(where)
        if pc.any(missing).as_py():
            cursor += pc.index(missing, True).as_py()
            break
        _check_values_equal(window, batch.take(where), stored_file, key)
        cursor += rows
    if cursor < given.num_rows:
        raise DataError(
            f"{describe(*key, times[cursor].as_py())}: not in {stored_file.path}, which holds "
            f"{iso_from_nanos(stored_file.first)} .. {iso_from_nanos(stored_file.last)}; "
            "the catalog never interleaves new bars with stored ones"
        )


def _batches(path: Path, where: ds.Expression) -> Iterator[pa.RecordBatch]:
    """The non-empty batches of one catalog file meeting ``where``, in file order."""
    try:
        dataset = ds.dataset(path, schema=BAR_SCHEMA, format="parquet")
        for batch in dataset.to_batches(filter=where):
            if batch.num_rows:
                yield batch
    except (pa.ArrowException, OSError) as exc:
        raise unreadable(path, exc) from None


def _check_values_equal(
    given: pa.Table, stored: pa.RecordBatch, stored_file: StoredFile, key: PartitionKey
) -> None:
    for name in VALUE_COLUMNS:
        same = pc.equal(given[name], stored[name])
        if not pc.all(same).as_py():
            at = pc.index(same, False).as_py()
            ts = given["time"].cast(pa.int64())[at].as_py()
            raise DataError(
                f"{describe(*key, ts)}: {name} {given[name][at].as_py()!r} differs from "
                f"{stored[name][at].as_py()!r} stored in {stored_file.path}; "
                "the catalog never replaces stored bars"
            )


def _runs(new: pa.Table, stored: list[StoredFile]) -> list[pa.Table]:
    """``new`` cut wherever a stored file lies between two of its rows, so no file written
    spans a stored one."""
    if new.num_rows == 0:
        return []
    times = new["time"].cast(pa.int64())
    cuts = [0]
    for stored_file in stored:
        cut = pc.sum(pc.less(times, stored_file.first)).as_py() or 0
        if 0 < cut < new.num_rows and cut != cuts[-1]:
            cuts.append(cut)
    cuts.append(new.num_rows)
    return [new.slice(a, b - a) for a, b in itertools.pairwise(cuts)]


def _summary(
    key: PartitionKey, given: pa.Table, new: pa.Table, files: tuple[Path, ...]
) -> CatalogWrite:
    times = given["time"].cast(pa.int64())
    return CatalogWrite(
        symbol=key[0],
        interval=key[1],
        start=times[0].as_py(),
        end=times[-1].as_py() + interval_nanos(key[1]),
        written=new.num_rows,
        already_stored=given.num_rows - new.num_rows,
        files=files,
    )
