"""Replay of bars in Arrow form: Parquet and Feather files, directories of them, pandas and
polars DataFrames, pyarrow Tables and RecordBatchReaders.

The rules are the bar file's (docs/data.md): columns found by the same names and aliases in
any case, extra columns named once, the time read to UTC by the same rules (epoch numbers in
one unit per source, decided by the first row's magnitude unless ``time_unit`` names it;
zone-aware timestamps as they are; naive timestamps, dates and naive text only with ``tz``),
the bar size given, read from an ``interval`` column, or detected from the first rows, rows
oldest-first, and every bad row either stops the run with one line naming source, row and
column (:class:`~framework.BarTableError`) or, with ``skip_bad_rows``, is counted by reason.
Nothing is reordered or dropped silently. Rows count from 0, as DataFrame positions do; a
Parquet file's messages add the row group and the offset in it.

Sources are read a chunk of :data:`CHUNK_ROWS` rows at a time (:mod:`._arrow_source`), and each
chunk is checked with whole-column pyarrow compute operations (:mod:`._arrow_columns`); a chunk
where anything is wrong, or out of order, is read again row by row, which words each bad row's
reason exactly as a bar file's row reader would. So the column path decides speed, never the
bars or the errors.

The files of a directory are read side by side and merged by the time bars become final, ties
going to the file that comes first in path order: the order the engine gives several feeds
(:mod:`._arrow_merge`). Two files holding a bar for the same symbol, bar size and time is an
error (or, skipping, the second is a ``duplicate``). Memory stays bounded however many files
there are: the rows converted at once are shared out among the files (:data:`MERGE_ROWS`),
and files whose readers would together hold too much are staged first (:mod:`._arrow_staging`).
"""

from __future__ import annotations

import datetime as _dt
import functools
import itertools
import logging
import math
import operator
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import trio

from .._errors import BarTableError, ConfigError, InvalidEvent
from .._events import Bar, bar_unchecked, new_bar
from .._intervals import Interval
from .._time import MAX_NANOS, iso_from_nanos, wall_nanos
from ._arrow_columns import (
    BatchColumns,
    TableLayout,
    TimeColumn,
    int64_scalar,
    shown,
    table_layout,
)
from ._arrow_merge import BarMerge
from ._arrow_source import Chunk, Stream, check_data, streams_of
from ._arrow_staging import StagingArea, staging_pays
from ._bar_file import DETECT_ROWS, BarFileStatistics
from ._bar_table import interval_label
from ._bar_times import NO_ZONE, checked_time_options
from ._feed import REPLAY_BATCH_SIZE, EventBatch
from ._rejections import Rejections

log = logging.getLogger(__name__)

#: Rows converted at once from one source: enough for whole-column work to pay for its calls,
#: few enough that the bars made of them stay small (measured on 1M bars: 4096 reads 25% faster
#: and peaks 65 MB lower than 65536, as fewer live objects make the garbage collector's passes
#: short).
CHUNK_ROWS = 4_096
#: Rows converted at once over all the files of a directory read side by side, each file
#: taking its share (at most CHUNK_ROWS): the bars held while they are merged, some 300 bytes
#: each, however many files there are.
MERGE_ROWS = 65_536
#: Rows converted at once from each file however many a directory holds: each chunk costs
#: about 0.1 ms of calls, a bar about 1 us (1M bars read in 1.8 s in chunks of 1024, 2.3 s
#: of 256, 3.5 s of 64).
MIN_CHUNK_ROWS = 128


class ArrowFeed:
    """A replay feed over bars in Arrow form, read by the bar file's rules (docs/data.md).

    ``source`` is a pandas or polars DataFrame, a pyarrow Table, RecordBatch or
    RecordBatchReader (anything with ``__arrow_c_stream__``), or a path to a ``.parquet``,
    ``.feather`` or ``.arrow`` file or to a directory of them (Hive ``key=value`` folders give
    ``symbol`` and ``interval``). ``symbol`` names the symbol of rows without a symbol column
    (default: the file name without extension; data in memory needs it); ``label`` names the
    source in messages (default: the path, or the kind of object: ``DataFrame``).

    ``tz`` is the zone of naive timestamps, dates and naive text times, which are refused
    without it; ``time_unit`` (s, ms, us, ns) the unit of epoch-number times; ``interval`` the
    bar size of sources without an ``interval`` column (default: detected from the first rows).

    ``rows`` = ``(start, end)`` reads only those rows of a file (a walk-forward window), its
    times by the rules its first row sets for the whole file; messages keep the file's row
    numbers.

    :meth:`run` sends batches of at most REPLAY_BATCH_SIZE bars, waiting on the channel when
    the engine is behind (memory stays flat with the length of the source), closes the channel
    at the end, and closes files on cancellation too. A RecordBatchReader can be read once.
    """

    is_live = False

    def __init__(
        self,
        source: Any,
        *,
        symbol: str | None = None,
        interval: Interval | str | None = None,
        skip_bad_rows: bool = False,
        tz: str | _dt.tzinfo | None = None,
        time_unit: str | None = None,
        label: str | None = None,
        rows: tuple[int, int] | None = None,
    ) -> None:
        if isinstance(source, str | os.PathLike):
            path = Path(source)
            self.label = label or str(path)
            self.name = f"arrow:{path.name}" + (f"[{rows[0]}:{rows[1]}]" if rows else "")
        else:
            check_data(source)
            self.label = label or type(source).__name__
            self.name = f"arrow:{self.label}"
        if rows is not None and not (isinstance(source, str | os.PathLike) and rows[0] >= 0):
            raise ConfigError("rows= takes (start, end) rows of a file")
        self.rows = rows
        self.source = source
        # A reader hands its batches out once; a second run would silently see no bars.
        self._one_pass = isinstance(source, pa.RecordBatchReader)
        self._runs = 0
        self.symbol = symbol
        self.interval = Interval.parse(interval) if isinstance(interval, str) else interval
        if self.interval is not None and self.interval.nanos is None:
            raise ConfigError(f"bar data need a fixed bar size, not {self.interval}")
        self.skip_bad_rows = skip_bad_rows
        self.tz, self.time_unit = checked_time_options(tz, time_unit)
        self._streams: list[Stream] = []
        self._ignored: tuple[str, ...] = ()
        self._unit: str | None = time_unit
        self._bars = 0
        self._rejections = Rejections(skip=skip_bad_rows)

    def progress(self) -> tuple[int, int]:
        """(rows read, rows in all) so far: cheap, for progress bars polling from another
        task; the total is 0 while unknown (a RecordBatchReader, an IPC stream)."""
        streams = self._streams
        done = sum(stream.rows_read for stream in streams)
        totals = [stream.total_rows for stream in streams]
        return done, (0 if None in totals else sum(t or 0 for t in totals))

    def statistics(self) -> BarFileStatistics:
        """Bars delivered, rows skipped by reason with examples, columns ignored."""
        return BarFileStatistics.of(
            self.label, self._bars, self._rejections, self._ignored, self._unit
        )

    async def run(
        self,
        send: trio.MemorySendChannel[EventBatch],
        *,
        task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Read the data and send its bars in batches, then close ``send`` (the
        :class:`~framework.Feed` contract). A bad row raises
        :class:`~framework.BarTableError` (or is skipped and counted with
        ``skip_bad_rows``); a ``RecordBatchReader`` read by an earlier run raises
        :class:`~framework.ConfigError`, since it can be read only once."""
        async with send:
            self._runs += 1
            if self._one_pass and self._runs > 1:
                raise ConfigError(
                    f"{self.label} was read by an earlier run: a RecordBatchReader can be read "
                    "once; pass a Table, or a fresh reader for each run"
                )
            streams = streams_of(self.source, label=self.label)
            self._streams = list(streams)
            if self.rows is not None and len(streams) > 1:
                raise ConfigError(f"rows= takes rows of one file, and {self.label} is a directory")
            try:
                task_status.started()
                readers = self._readers(streams)
                with StagingArea() as staging:
                    if staging_pays(streams, [reader.layout.columns for reader in readers]):
                        await self._stage(readers, staging)
                    for batch in self._batches(readers):
                        await send.send(batch)
            finally:
                for stream in streams:
                    stream.close()

    # -- reading -----------------------------------------------------------------------------

    def _readers(self, streams: list[Stream]) -> list[_StreamReader]:
        """A reader per stream, converting its share of the rows at once."""
        if len(streams) == 1:
            rows = CHUNK_ROWS
        else:
            rows = max(MIN_CHUNK_ROWS, min(CHUNK_ROWS, MERGE_ROWS // len(streams)))
        readers = [_StreamReader(self, stream, rows) for stream in streams]
        ignored = dict.fromkeys(name for reader in readers for name in reader.layout.ignored)
        self._ignored = tuple(ignored)
        if self._ignored:
            log.warning(
                "%s: ignoring columns that are not part of a bar: %s",
                self.label,
                ", ".join(self._ignored),
            )
        return readers

    async def _stage(self, readers: list[_StreamReader], staging: StagingArea) -> None:
        """Copy each stream to ``staging`` in turn, so that only one file's reader is open at a
        time; a checkpoint between files keeps the run cancellable."""
        for index, reader in enumerate(readers):
            await trio.lowlevel.checkpoint()
            reader.stream = staging.stage(reader.stream, reader.rows, reader.layout.columns)
            self._streams[index] = reader.stream

    def _batches(self, readers: list[_StreamReader]) -> Iterator[list[Bar]]:
        """The bars of ``readers`` in batches of REPLAY_BATCH_SIZE (the last may be shorter)."""
        if len(readers) == 1:
            runs = readers[0].bars()
        else:
            merge = BarMerge(
                [reader.bars() for reader in readers],
                several_symbols=[reader.layout.symbol is not None for reader in readers],
                repeated=functools.partial(self._repeated, readers),
            )
            runs = merge.runs()
        size = REPLAY_BATCH_SIZE
        batch: list[Bar] = []
        for run in runs:
            taken, count = 0, len(run)
            while taken < count:
                if not batch and count - taken >= size:
                    yield run[taken : taken + size]
                    taken += size
                    continue
                room = size - len(batch)
                batch += run[taken : taken + room]
                taken += room
                if len(batch) == size:
                    yield batch
                    batch = []
            del run  # the merge reads on while its bars are let go
        if batch:
            yield batch

    def _repeated(self, readers: list[_StreamReader], bar: Bar, index: int, other: int) -> None:
        """Reject ``bar`` of stream ``index``, which stream ``other`` holds too."""
        self._bars -= 1
        self._reject(
            BarTableError(
                readers[index].stream.label,
                f"second bar for {bar.symbol} {bar.interval} at "
                f"{iso_from_nanos(bar.ts_open)}; {readers[other].stream.label} holds one too",
            ),
            "duplicate",
        )

    def _reject(self, error: BarTableError, reason: str) -> None:
        self._rejections.reject(error, reason)


class _StreamReader:
    """The bars of one stream, in chunks, by the rules in the module docstring."""

    def __init__(self, feed: ArrowFeed, stream: Stream, rows: int) -> None:
        self.feed = feed
        self.stream = stream
        self.rows = rows
        self.layout: TableLayout = table_layout(stream)
        layout = self.layout
        symbol = layout.symbol_value or feed.symbol or stream.stem
        if layout.symbol is None and symbol is None:
            raise ConfigError(
                f'{stream.label} has no symbol column: name the symbol with symbol="AAPL", '
                'or pass {"AAPL": data}'
            )
        #: The symbol of rows without a symbol column.
        self.symbol: str = symbol or ""
        self.times = TimeColumn(
            stream.schema.field(layout.time).type,
            zone=feed.tz,
            time_unit=feed.time_unit,
            label=stream.label,
            column=layout.time,
        )
        self.label = ""
        self.step = 0
        # The open time of the last bar accepted, per symbol and over all symbols, against
        # which order and repeats are judged (the bar file reader's rule).
        self.last_time: dict[str, int] = {}
        self.last_any = -1

    def bars(self) -> Iterator[list[Bar]]:
        """Lists of the stream's bars, in order, one per chunk read (some may be empty)."""
        span = self.feed.rows
        if span is not None and span[0] > 0:
            # The file's first row sets the rules of its times, not the window's.
            top = next(self.stream.chunks(1, [self.layout.time]), None)
            self.stream.rows_read = 0
            if top is not None:
                self.times.start(self.times.raw(top.batch.column(0), 0))
        chunks = self.stream.chunks(self.rows, self.layout.columns, span)
        first = next(chunks, None)
        if first is None:
            return
        if self.times.reader is None:
            self.times.start(self.times.raw(first.batch.column(0), 0))
        if self.feed._unit is None:
            self.feed._unit = self.times.unit
        # The first rows that read as bars, however many chunks hold them, are judged before
        # any bar is made: the order of the stream and its bar size.
        read: list[tuple[Chunk, BatchColumns]] = []
        head: list[tuple[Chunk, int, int]] = []
        for chunk in itertools.chain([first], chunks):
            columns = BatchColumns(chunk.batch, self.layout, self.times)
            read.append((chunk, columns))
            head.extend(self._good_rows(chunk, columns, DETECT_ROWS - len(head)))
            if len(head) >= DETECT_ROWS:
                break
        self._judge_head(head)
        self._fix_bar_size([columns for _, columns in read], [ts for _, _, ts in head])
        for chunk, columns in read:
            yield self._accept(chunk, columns)
        del read
        for chunk in chunks:
            yield self._accept(chunk, BatchColumns(chunk.batch, self.layout, self.times))

    # -- the first rows: order and bar size ------------------------------------------------

    def _good_rows(
        self, chunk: Chunk, columns: BatchColumns, wanted: int
    ) -> list[tuple[Chunk, int, int]]:
        """(chunk, row, time) of the first ``wanted`` rows of ``chunk`` that read as bars."""
        count = chunk.batch.num_rows
        if columns.clean:
            rows = list(range(min(wanted, count)))
        else:
            rows = []
            for i in range(count):
                if len(rows) == wanted:
                    break
                problem = self._problem(chunk, columns, i)
                if problem is None:
                    rows.append(i)
                elif problem[0] == NO_ZONE or not self.feed.skip_bad_rows:
                    # As a bar file's first rows are read: the first bad row stops the run
                    # before order and bar size are judged. Skipped, it is counted when its
                    # chunk is read.
                    raise problem[1]
        times = columns.times
        return [(chunk, i, times[i].as_py()) for i in rows]

    def _judge_head(self, head: list[tuple[Chunk, int, int]]) -> None:
        """Refuse a stream whose first rows only go back in time: sorted newest-first, which
        skipping rows would not mend and reordering silently would hide."""
        times = [ts for _, _, ts in head]
        if len(set(times)) < 2 or not all(map(operator.ge, times, times[1:])):
            return
        chunk, i, _ = next(entry for entry in head if entry[2] < times[0])
        since = head[0][0].first_row + head[0][1]
        raise BarTableError(
            self.stream.label,
            f"rows are sorted newest-first (time decreases from row {since} on); "
            "sort them oldest-first",
            **self._where(chunk, i),
            column=shown(self.layout.time),
        )

    def _fix_bar_size(self, read: list[BatchColumns], times: list[int]) -> None:
        """The bar size: stated by an interval column or folder, given, or detected from the
        smallest step between the first rows' ``times``."""
        given = self.feed.interval
        stated = self.layout.interval_value
        for columns in read if self.layout.interval is not None else ():
            assert columns.intervals is not None
            values = pc.unique(columns.intervals).drop_null().to_pylist()
            if values:
                stated = values[0]
                break
        if stated is not None:
            self._set_bar_size(stated)
            if given is not None and given.label != self.label:
                raise BarTableError(
                    self.stream.label,
                    f"the data say the bar size is {self.label}, but interval={given.label} "
                    "was given",
                    column=self.layout.interval or "interval (from the folder name)",
                )
            return
        if given is not None:
            assert given.nanos is not None
            self.step, self.label = given.nanos, given.label
            return
        if self.times.local and self.feed.tz is not None:
            times = [wall_nanos(t, self.feed.tz) for t in times]
        steps = [b - a for a, b in itertools.pairwise(times) if b > a]
        if not steps:
            raise BarTableError(
                self.stream.label,
                "cannot detect the bar size from the first rows; pass interval= (e.g. 1m; "
                "--interval on the command line) or add an interval column",
            )
        self.step = min(steps)
        self.label = interval_label(self.step)

    def _set_bar_size(self, text: str) -> None:
        column = self.layout.interval or "interval (from the folder name)"
        try:
            interval = Interval.parse(text.strip())
        except ValueError as exc:
            raise BarTableError(self.stream.label, str(exc), column=column) from None
        if interval.nanos is None:
            raise BarTableError(
                self.stream.label, f"bar data need a fixed bar size, not {text}", column=column
            )
        if self.label and interval.label != self.label:
            raise BarTableError(
                self.stream.label,
                f"holds bar sizes {self.label} and {interval.label}: one bar size per file "
                "or table (split it, e.g. into interval=... folders)",
                column=column,
            )
        self.step, self.label = interval.nanos, interval.label

    # -- a chunk -----------------------------------------------------------------------------

    def _accept(self, chunk: Chunk, columns: BatchColumns) -> list[Bar]:
        if columns.intervals is not None:
            for text in pc.unique(columns.intervals).drop_null().to_pylist():
                self._set_bar_size(text)
        if columns.clean and self._in_order(columns):
            return self._clean_bars(columns)
        return self._row_bars(chunk, columns)

    def _in_order(self, columns: BatchColumns) -> bool:
        """Whether the row path would accept every row of a clean chunk on time: none going
        backwards, none a second bar for its symbol at a time."""
        times = columns.times
        n = len(times)
        if n == 0:
            return True
        first = times[0].as_py()
        earlier, later = times.slice(0, n - 1), times.slice(1)
        if columns.symbols is None:
            return first > self.last_any and _all(pc.less(earlier, later))
        if first < self.last_any or not _all(pc.less_equal(earlier, later)):
            return False
        if not _all(pc.less(earlier, later)):
            # Rows of several symbols at one time: no (time, symbol) twice.
            pairs = pa.table({"t": times, "s": columns.symbols}).sort_by(
                [("t", "ascending"), ("s", "ascending")]
            )
            t, s = pairs["t"], pairs["s"]
            repeated = pc.and_(
                pc.equal(t.slice(0, n - 1), t.slice(1)), pc.equal(s.slice(0, n - 1), s.slice(1))
            )
            if pc.any(repeated).as_py():
                return False
        if first == self.last_any:
            # Only a row at the last accepted time can repeat a bar from before the chunk.
            for symbol, ts in zip(columns.symbols.to_pylist(), times.to_pylist(), strict=True):
                if ts != first:
                    break
                if self.last_time.get(symbol) == ts:
                    return False
        return True

    def _clean_bars(self, columns: BatchColumns) -> list[Bar]:
        times = columns.times.to_pylist()
        values = [column.to_pylist() for column in columns.values]
        if times[-1] + self.step <= MAX_NANOS:
            # Added by pyarrow, a quarter of the cost of adding Python ints one by one; the
            # times are in order, so the last is the largest and nothing can overflow.
            final = pc.add(columns.times, int64_scalar(self.step)).to_pylist()
        else:
            final = list(map(self.step.__add__, times))
        if columns.symbols is None:
            symbols: Iterable[str] = itertools.repeat(self.symbol)
            self.last_time[self.symbol] = times[-1]
        else:
            names = columns.symbols.to_pylist()
            symbols = names
            last = times[-1]
            for symbol, ts in zip(reversed(names), reversed(times), strict=True):
                if ts != last:
                    break
                self.last_time[symbol] = ts
        self.last_any = times[-1]
        bars = list(
            map(bar_unchecked, symbols, itertools.repeat(self.label), times, *values, final, final)
        )
        self.feed._bars += len(bars)
        return bars

    def _row_bars(self, chunk: Chunk, columns: BatchColumns) -> list[Bar]:
        """The bars of a chunk row by row, each bad row rejected with its reason, in the bar
        file reader's order of checks."""
        times = columns.times.to_pylist()
        o, h, low, c, v = (column.to_pylist() for column in columns.values)
        symbols = columns.symbols.to_pylist() if columns.symbols is not None else None
        intervals_ok = (
            columns.intervals.is_valid().to_pylist() if columns.intervals is not None else None
        )
        step, label, last_time = self.step, self.label, self.last_time
        isfinite = math.isfinite
        bars: list[Bar] = []
        for i, ts in enumerate(times):
            symbol = self.symbol if symbols is None else symbols[i]
            values = (o[i], h[i], low[i], c[i], v[i])
            if (
                ts is None
                or not symbol
                or None in values
                or not all(map(isfinite, values))
                or (intervals_ok is not None and not intervals_ok[i])
            ):
                reason, error = self._problem(chunk, columns, i) or ("", None)
                assert error is not None
                if reason == NO_ZONE:
                    raise error  # no skipping mends naive times without a zone
                self.feed._reject(error, reason)
                continue
            assert symbol is not None
            if ts < self.last_any:
                self._reject_row(chunk, i, "time_backwards", "time goes backwards")
                continue
            if last_time.get(symbol) == ts:
                self._reject_row(chunk, i, "duplicate", f"second bar for {symbol} at the same time")
                continue
            try:
                bar = new_bar(symbol, label, ts, *values, ts + step, ts + step)
            except InvalidEvent as exc:
                self.feed._reject(
                    BarTableError(self.stream.label, str(exc), **self._where(chunk, i)),
                    "invalid_bar",
                )
                continue
            last_time[symbol] = ts
            self.last_any = ts
            bars.append(bar)
        self.feed._bars += len(bars)
        return bars

    def _problem(
        self, chunk: Chunk, columns: BatchColumns, i: int
    ) -> tuple[str, BarTableError] | None:
        """(reason, error) of row ``i`` if it does not read as a bar, order aside."""
        reason, column, detail = columns.problem(i)
        if not reason:
            return None
        return reason, BarTableError(
            self.stream.label, detail, **self._where(chunk, i), column=column
        )

    def _reject_row(self, chunk: Chunk, i: int, reason: str, detail: str) -> None:
        self.feed._reject(
            BarTableError(
                self.stream.label, detail, **self._where(chunk, i), column=shown(self.layout.time)
            ),
            reason,
        )

    @staticmethod
    def _where(chunk: Chunk, i: int) -> dict[str, Any]:
        """Where row ``i`` of ``chunk`` is, as BarTableError takes it."""
        if chunk.row_group is None or chunk.group_offset is None:
            return {"row": chunk.first_row + i}
        return {
            "row": chunk.first_row + i,
            "row_group": chunk.row_group,
            "offset": chunk.group_offset + i,
        }


def _all(mask: pa.Array) -> bool:
    return pc.all(mask, skip_nulls=False).as_py() is True
