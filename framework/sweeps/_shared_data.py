"""A sweep's data read once on the driver and shared as Arrow tables: how the Ray backend gives
every task its bars without every task reading and parsing the file.

For each data source (a file or directory, with the jobs' feed options) the driver runs the
feeds a task would run (:func:`~._jobs.feeds_of`), so the bars are the ones a local worker
replays, and keeps them as a :data:`~framework.feeds._bar_table.BAR_SCHEMA` table, which
``put`` (``ray.put``) stores once. Jobs then carry :class:`~._jobs.TableSlice` items, the
reference and for a walk-forward window the rows it covers, instead of the path; a task
replays them with an :class:`~framework.feeds.ArrowFeed` over a zero-copy slice. Ray keeps a
table's Arrow buffers out of band in its shared-memory object store, so workers on the
driver's node map them without a copy, and another node fetches each table once.

A window is also read by its own feed, and refers to rows of the source's table only if it
gave exactly those rows: its bar size is detected from its own first rows, and bad rows
around it may be kept or skipped differently. A window that differs gets a table of its own,
put once and shared by that window's jobs.

What stays a path, read by every task as before:

- recordings (``.twrec``: quotes, gaps and more, not only bars) and any other feed that is
  not a bar reader;
- a source the driver cannot read (a bad row, a missing column, symbol= with several files):
  each task then fails with the error the local backend gives;
- bars whose size label does not give their length (sub-second sizes, labelled in ns), which
  a bar table cannot carry; and empty windows, which cost a task nothing to read;
- data only one job reads (a walk-forward test window, a one-combination grid): reading it
  on the driver first would only add work.
"""

from __future__ import annotations

import bisect
import logging
from array import array
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from .._backtest import feeds_for
from .._intervals import Interval
from ..catalog._replay_tables import replay_tables
from ..feeds._arrow_feed import ArrowFeed
from ..feeds._bar_file import BarFileFeed
from ._jobs import SweepJob, SweepRow, TableSlice, feeds_of, run_job
from ._windows import DataSlice

log = logging.getLogger(__name__)

#: Stores a table and returns what a worker gets it back by (``ray.put``).
Put = Callable[[pa.Table], Any]


def share_data(jobs: Sequence[SweepJob], put: Put) -> list[SweepJob]:
    """``jobs`` with their data as TableSlices wherever it can be shared (see the module
    docstring); each table is put once, however many jobs use it."""
    sharing = _Sharing(put, Counter(_uses(jobs)))
    return [attrs.evolve(job, data=sharing.data_of(job)) for job in jobs]


def tables_of(job: SweepJob) -> list[Any]:
    """The tables (on the driver: references) of ``job``'s TableSlices, in order."""
    return [item.table for item in job.data if isinstance(item, TableSlice)]


def run_shared_job(job: SweepJob, *tables: Any) -> SweepRow:
    """:func:`~._jobs.run_job` with ``tables`` (:func:`tables_of` the job) in its
    TableSlices. Ray resolves references passed as arguments, not those inside the job,
    and has every table on the worker's node before the task starts."""
    given = iter(tables)
    data = tuple(
        attrs.evolve(item, table=next(given)) if isinstance(item, TableSlice) else item
        for item in job.data
    )
    return run_job(attrs.evolve(job, data=data))


class _Source:
    """The bars of one source read whole and put: a table per feed (a directory of CSV files
    gives one each), and what workers get each back by."""

    def __init__(self, tables: list[pa.Table], refs: list[Any], labels: list[str]) -> None:
        self.tables = tables
        self.refs = refs
        self.labels = labels
        self._times: array[int] | None = None

    def rows_of(self, window: pa.Table) -> tuple[int, int] | None:
        """The rows ``[start, end)`` of the source's table that equal ``window`` (the bars a
        window's own feed gave), if there are such rows."""
        if len(self.tables) != 1 or not window.num_rows:
            return None
        table = self.tables[0]
        if self._times is None:
            self._times = array("q", table.column("time").cast(pa.int64()).to_pylist())
        start = bisect.bisect_left(self._times, window.column("time").cast(pa.int64())[0].as_py())
        end = start + window.num_rows
        if end <= table.num_rows and table.slice(start, window.num_rows).equals(window):
            return start, end
        return None


class _Sharing:
    """Sources and slices already read, so that each is read and put once."""

    def __init__(self, put: Put, uses: Counter[Hashable]) -> None:
        self.put = put
        #: How many jobs read each (item, feed options).
        self.uses = uses
        self.sources: dict[Hashable, _Source | None] = {}
        self.items: dict[Hashable, tuple[DataSlice | TableSlice, ...]] = {}
        self.readable: dict[Hashable, bool] = {}

    def data_of(self, job: SweepJob) -> tuple[DataSlice | TableSlice, ...]:
        options = job.feed_options
        key = _options_key(job)
        if any(self.uses[item, key] < 2 for item in job.data):
            return job.data
        if not self._readable_together(job, key):
            return job.data
        return tuple(shared for item in job.data for shared in self._item(item, options, key))

    def _readable_together(self, job: SweepJob, key: Hashable) -> bool:
        """Whether a backtest accepts the job's whole files together, as each task would
        check them (symbol= names the symbol of one file only, say)."""
        paths = tuple(i.path for i in job.data if isinstance(i, DataSlice) and i.is_whole)
        if len(paths) < 2:
            return True
        if (paths, key) not in self.readable:
            try:
                feeds_for(list(paths), **job.feed_options)
            except Exception:
                self.readable[paths, key] = False
            else:
                self.readable[paths, key] = True
        return self.readable[paths, key]

    def _item(
        self, item: DataSlice | TableSlice, options: dict[str, Any], key: Hashable
    ) -> tuple[DataSlice | TableSlice, ...]:
        if isinstance(item, TableSlice):
            return (item,)
        if (item, key) not in self.items:
            self.items[item, key] = self._share(item, options, key)
        return self.items[item, key]

    def _share(
        self, item: DataSlice, options: dict[str, Any], key: Hashable
    ) -> tuple[DataSlice | TableSlice, ...]:
        if item.is_whole:
            source = self._source(item.path, options, key)
            if source is None:
                return (item,)
            return tuple(
                TableSlice(table=ref, label=label)
                for ref, label in zip(source.refs, source.labels, strict=True)
            )
        try:
            feeds = feeds_of(item, options)
        except Exception:
            return (item,)  # each task meets the same error
        window = _tables_of(feeds)
        if window is None or len(window) != 1 or not window[0].num_rows:
            return (item,)
        start, end = item.byte_range or item.row_range or (0, 0)
        label = f"{_label(feeds[0])}[{start}:{end}]"
        source = self._source(item.path, options, key)
        rows = source.rows_of(window[0]) if source is not None else None
        if source is not None and rows is not None:
            return (TableSlice(table=source.refs[0], rows=rows, label=label),)
        return (TableSlice(table=self.put(window[0]), label=label),)

    def _source(self, path: str, options: dict[str, Any], key: Hashable) -> _Source | None:
        if (path, key) not in self.sources:
            self.sources[path, key] = self._read_source(path, options)
        return self.sources[path, key]

    def _read_source(self, path: str, options: dict[str, Any]) -> _Source | None:
        try:
            feeds = list(feeds_for(path, **options))
        except Exception as exc:
            # Each task meets the same error and reports it as the local backend does.
            log.debug("%s: left for each task to read: %s", path, exc)
            return None
        tables = _tables_of(feeds)
        if tables is None:
            return None
        return _Source(tables, [self.put(table) for table in tables], [_label(f) for f in feeds])


def _tables_of(feeds: Sequence[Any]) -> list[pa.Table] | None:
    """The bars each of ``feeds`` delivers, as it delivers them in a backtest; None if one is
    not a bar reader, cannot be read, or has bars a table cannot carry exactly."""
    if not all(isinstance(feed, BarFileFeed | ArrowFeed) for feed in feeds):
        return None
    tables = []
    for feed in feeds:
        try:
            read = replay_tables(feed)
        except Exception as exc:
            # Each task meets the same error and reports it as the local backend does.
            log.debug("%s: left for each task to read: %s", _label(feed), exc)
            return None
        if read.quotes.num_rows or not _sizes_carried(read.bars):
            return None
        tables.append(read.bars)
    return tables


def _sizes_carried(table: pa.Table) -> bool:
    """Whether every bar size label of ``table`` gives its length back exactly, as the table
    replays bars: final at the open time plus the length of the label."""
    for label in pc.unique(table.column("interval")).to_pylist():
        try:
            interval = Interval.parse(label)
        except ValueError:
            return False
        if interval.label != label or interval.nanos is None:
            return False
    return True


def _label(feed: Any) -> str:
    return str(feed.label if isinstance(feed, ArrowFeed) else feed.path)


def _uses(jobs: Sequence[SweepJob]) -> Iterator[Hashable]:
    """(item, feed options) of every job's data, once per job that reads it."""
    for job in jobs:
        key = _options_key(job)
        yield from ((item, key) for item in job.data)


def _options_key(job: SweepJob) -> Hashable:
    # The same file read with other options is other bars.
    return tuple(sorted(job.feed_options.items()))
