"""Catalog queries: which files and row groups a query needs, and reading exactly those.

A query names symbols, a bar size and a half-open span of open times ``[start, end)``. Two
prunings happen before a byte of data is read: partitions (the symbol and interval
directories) are chosen from their paths by ``pyarrow.dataset``'s Hive partition filter, and
within each file only the row groups whose ``time`` statistics (min and max, in every footer)
meet the span are kept (``ParquetFileFragment.split_by_row_group``). The rows of those row
groups are then filtered exactly, so a query returns the requested span and nothing else.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.dataset as ds

from .._errors import ConfigError
from .._time import nanos_from_datetime, nanos_from_iso
from ..feeds._bar_table import BAR_SCHEMA
from ._checked import PartitionKey
from ._files import StoredFile, read_footer, unreadable

#: Bound of a query: int UTC nanoseconds, an aware datetime, or ISO-8601 text with an offset
#: (or a bare date, read as midnight UTC).
TimeBound = int | _dt.datetime | str

_TIME_TYPE = BAR_SCHEMA.field("time").type

#: Batches a stream reads ahead of its consumer, one row group at a time (pyarrow's default,
#: 16 batches of 4 files, would hold some 20 MB per stream: a backtest has one per symbol).
STREAM_READAHEAD = 2

#: How the catalog's directory names map to columns (values percent-decoded; see _layout).
PARTITIONING = ds.HivePartitioning(
    pa.schema([("symbol", pa.string()), ("interval", pa.string())]), segment_encoding="uri"
)


@attrs.frozen(slots=True, kw_only=True)
class ScanStatistics:
    """What a query reads: partitions chosen, and of their files and row groups, how many are
    read (``files``, ``row_groups``) out of how many are stored (``row_groups_total``)."""

    partitions: int
    files: int
    row_groups: int
    row_groups_total: int
    #: Rows in the row groups read; the query returns these minus those outside the span.
    rows_scanned: int


@attrs.frozen(slots=True, kw_only=True)
class _FileScan:
    stored: StoredFile
    #: One fragment per row group to read, in file order.
    row_groups: tuple[ds.ParquetFileFragment, ...]


@attrs.frozen(slots=True, kw_only=True)
class _PartitionScan:
    key: PartitionKey
    #: Every file of the partition, in time order (also those with nothing to read).
    files: tuple[_FileScan, ...]


class BarScanner:
    """A planned catalog query (:meth:`Catalog.scanner`): read it with :meth:`to_table` or
    stream it with :meth:`to_reader`; :meth:`statistics` tells how much it reads."""

    def __init__(self, partitions: list[_PartitionScan], time_filter: ds.Expression | None) -> None:
        self._partitions = partitions
        self._filter = time_filter

    @property
    def partitions(self) -> list[PartitionKey]:
        """(symbol, interval) of each partition the query reads, sorted."""
        return [part.key for part in self._partitions]

    def statistics(self) -> ScanStatistics:
        """What this query reads, decided from the files' footers before any row is read."""
        files = [f for part in self._partitions for f in part.files]
        return ScanStatistics(
            partitions=len(self._partitions),
            files=sum(1 for f in files if f.row_groups),
            row_groups=sum(len(f.row_groups) for f in files),
            row_groups_total=sum(f.stored.row_groups for f in files),
            rows_scanned=sum(rg.row_groups[0].num_rows for f in files for rg in f.row_groups),
        )

    def to_table(self) -> pa.Table:
        """The bars in :data:`BAR_SCHEMA`, in time order; several partitions are merged by
        time, then symbol, then bar size."""
        tables = [self._read(f) for part in self._partitions for f in part.files if f.row_groups]
        if not tables:
            return BAR_SCHEMA.empty_table()
        table = pa.concat_tables(tables)
        if len(self._partitions) > 1:
            table = table.sort_by(
                [("time", "ascending"), ("symbol", "ascending"), ("interval", "ascending")]
            )
        return table

    def to_reader(self) -> pa.RecordBatchReader:
        """The bars as a stream of record batches, read one row group at a time, so memory
        stays at a few row groups however long the span. Partition after partition (in
        :attr:`partitions` order), each in time order: one reader per partition is one
        time-ordered stream; :meth:`to_table` merges partitions by time."""
        return pa.RecordBatchReader.from_batches(BAR_SCHEMA, self._batches())

    def _read(self, scan: _FileScan) -> pa.Table:
        try:
            return _dataset(scan).to_table(filter=self._filter)
        except (pa.ArrowException, OSError) as exc:
            raise unreadable(scan.stored.path, exc) from None

    def _batches(self) -> Iterator[pa.RecordBatch]:
        for part in self._partitions:
            for scan in part.files:
                if not scan.row_groups:
                    continue
                try:
                    batches = _dataset(scan).to_batches(
                        filter=self._filter,
                        batch_readahead=STREAM_READAHEAD,
                        fragment_readahead=1,
                    )
                    for batch in batches:
                        if batch.num_rows:
                            yield batch
                except (pa.ArrowException, OSError) as exc:
                    raise unreadable(scan.stored.path, exc) from None


def plan(
    files: dict[PartitionKey, list[Path]],
    *,
    base_dir: Path,
    selected: list[PartitionKey],
    start: int | None,
    end: int | None,
) -> BarScanner:
    """The scanner reading ``selected`` partitions of the tree at ``base_dir`` between
    ``start`` (inclusive) and ``end`` (exclusive) open times."""
    time_filter = _time_filter(start, end)
    every = [str(path) for paths in files.values() for path in paths]
    dataset = ds.dataset(
        every,
        schema=BAR_SCHEMA,
        format="parquet",
        partitioning=PARTITIONING,
        partition_base_dir=str(base_dir),
    )
    where = _partition_filter(selected)
    if time_filter is not None:
        where = where & time_filter
    scans: dict[PartitionKey, list[_FileScan]] = {key: [] for key in selected}
    owner = {str(path): key for key, paths in files.items() for path in paths}
    for fragment in dataset.get_fragments(filter=where):
        path = Path(fragment.path)
        try:
            stored = read_footer(path, fragment.metadata)
            row_groups = fragment.split_by_row_group(where, schema=BAR_SCHEMA)
        except (pa.ArrowException, OSError) as exc:
            raise unreadable(path, exc) from None
        scans[owner[fragment.path]].append(_FileScan(stored=stored, row_groups=tuple(row_groups)))
    partitions = [
        _PartitionScan(key=key, files=tuple(sorted(scans[key], key=lambda s: s.stored.first)))
        for key in sorted(selected)
    ]
    return BarScanner(partitions, time_filter)


def time_bound(value: TimeBound | None, name: str) -> int | None:
    """A query bound as int UTC nanoseconds; ConfigError for naive or unreadable times."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ConfigError(f"{name}: expected a time, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            raise ConfigError(f"{name} {value} has no zone; give an aware time (e.g. UTC)")
        # pandas.Timestamp is a datetime with a nanosecond field datetime itself lacks.
        return nanos_from_datetime(value) + int(getattr(value, "nanosecond", 0))
    if isinstance(value, str):
        text = value.strip()
        try:
            day = _dt.date.fromisoformat(text) if len(text) == 10 else None
            if day is not None:
                return nanos_from_datetime(
                    _dt.datetime(day.year, day.month, day.day, tzinfo=_dt.UTC)
                )
            return nanos_from_iso(text)
        except ValueError as exc:
            raise ConfigError(
                f"{name} {value!r}: expected ISO-8601 with an offset (2024-01-02T14:30:00Z) "
                f"or a date ({exc})"
            ) from None
    raise ConfigError(f"{name}: expected a time, got {type(value).__name__}")


def _dataset(scan: _FileScan) -> Any:
    return ds.FileSystemDataset(list(scan.row_groups), BAR_SCHEMA, ds.ParquetFileFormat())


def _time_filter(start: int | None, end: int | None) -> ds.Expression | None:
    time = ds.field("time")
    parts = []
    if start is not None:
        parts.append(time >= pa.scalar(start, _TIME_TYPE))
    if end is not None:
        parts.append(time < pa.scalar(end, _TIME_TYPE))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else parts[0] & parts[1]


def _partition_filter(selected: list[PartitionKey]) -> ds.Expression:
    symbol, interval = ds.field("symbol"), ds.field("interval")
    where: ds.Expression | None = None
    for key in selected:
        one = (symbol == key[0]) & (interval == key[1])
        where = one if where is None else where | one
    return where if where is not None else ds.scalar(False)
