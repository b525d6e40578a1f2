"""Walk-forward windows over bar files, and a feed that replays one window of a file.

Windows are cut as :func:`plan_windows` says.

The files are indexed once (bar time → byte offset of its row), so a job reads only the bytes
of its window: a sweep of many windows over a 1M-bar file costs each worker its window, not the
file. A :class:`DataSlice` is what travels to a worker process (path and byte range, plain
values), and :class:`BarFileWindowFeed` replays it through the ordinary bar-file parser.

Parquet and Feather files are indexed by row number instead (:class:`ArrowFileIndex`, reading
the time column only), and a window is replayed by an :class:`~framework.feeds.ArrowFeed` over
its rows, which for Parquet skips the row groups before them unread. Directories are not cut.
"""

from __future__ import annotations

import bisect
import csv
import datetime as _dt
import re
from array import array
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import trio

from .._errors import ConfigError
from .._intervals import Interval
from .._time import iso_from_nanos
from ..feeds._bar_file import BarFileFeed
from ..feeds._bar_header import time_column
from ..feeds._bar_times import TimeReader, checked_time_options
from ..feeds._feed import REPLAY_BATCH_SIZE, EventBatch

_BARS = re.compile(r"^\d+$")
#: Files cut by row number (ArrowFileIndex).
_ARROW_SUFFIXES = (".parquet", ".parq", ".pq", ".feather", ".arrow", ".ipc")


@attrs.frozen(slots=True, kw_only=True)
class DataSlice:
    """A data file, whole (both ranges None), or the rows of a bar file in ``[start, end)``
    bytes, or the rows ``[start, end)`` of a Parquet or Feather file."""

    path: str
    byte_range: tuple[int, int] | None = None
    row_range: tuple[int, int] | None = None

    @property
    def is_whole(self) -> bool:
        """True for the whole file: neither a byte range nor a row range."""
        return self.byte_range is None and self.row_range is None


@attrs.frozen(slots=True, kw_only=True)
class WalkWindow:
    """One walk-forward step: train and test time ranges (bar open times, UTC ns, end
    exclusive) and the slices of every data file that fall in them."""

    index: int
    train: tuple[int, int]
    test: tuple[int, int]
    train_data: tuple[DataSlice, ...]
    test_data: tuple[DataSlice, ...]

    def describe(self) -> dict[str, str]:
        """The window's four bounds as ISO-8601 UTC text, keyed ``train_start`` ...
        ``test_end``."""
        return {
            "train_start": iso_from_nanos(self.train[0]),
            "train_end": iso_from_nanos(self.train[1]),
            "test_start": iso_from_nanos(self.test[0]),
            "test_end": iso_from_nanos(self.test[1]),
        }


@attrs.frozen(slots=True)
class WindowSize:
    """A window length: a number of bars, or a duration in nanoseconds."""

    bars: int | None = None
    nanos: int | None = None

    @classmethod
    def parse(cls, text: str, option: str) -> WindowSize:
        """``5000`` (bars) or a duration like ``90m``, ``12h``, ``5D``, ``2W``."""
        text = text.strip()
        if _BARS.match(text):
            if int(text) < 1:
                raise ConfigError(f"{option} must be at least 1 bar, got {text}")
            return cls(bars=int(text))
        try:
            nanos = Interval.parse(text).nanos
        except ValueError:
            nanos = None
        if not nanos:
            raise ConfigError(
                f"{option} takes a number of bars (5000) or a duration (90m, 12h, 5D, 2W), "
                f"got {text!r}"
            )
        return cls(nanos=nanos)


class FileIndex:
    """Bar times and row offsets of one bar file (rows with unreadable times are left out:
    they stay inside whichever window's bytes surround them).

    Times are read as the bar-file feed reads them, with ``tz`` and ``time_unit`` as given to
    it. Without ``tz``, naive times are indexed as if UTC: cutting needs only their order, so
    the windows hold the same rows, but their reported bounds are then the file's wall clock.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        tz: str | _dt.tzinfo | None = None,
        time_unit: str | None = None,
    ) -> None:
        self.path = str(path)
        self.times: array[int] = array("q")
        self.offsets: array[int] = array("q")
        zone, time_unit = checked_time_options(tz, time_unit)
        zone = zone or _dt.UTC  # only the order matters for cutting (see FileIndex)
        with open(self.path, "rb") as handle:
            header = handle.readline()
            try:
                column = time_column(next(csv.reader([header.decode("utf-8")]), []))
            except ValueError as exc:
                raise ConfigError(f"{self.path}: {exc}") from None
            offset = len(header)
            times: TimeReader | None = None
            for line in handle:
                fields = line.split(b",")
                if times is None and line.strip():
                    # The first data row decides the unit, as in the feed.
                    times = TimeReader.for_file(
                        fields[column].decode("utf-8", "replace") if len(fields) > column else None,
                        0,
                        zone=zone,
                        unit=time_unit,
                    )
                if times is not None and len(fields) > column:
                    ts = times.parse(fields[column].decode("utf-8", "replace"))
                    if ts is not None:
                        self.times.append(ts)
                        self.offsets.append(offset)
                offset += len(line)
        self.size = offset

    def byte_range(self, start: int, end: int) -> tuple[int, int]:
        """Bytes of the rows with ``start <= time < end``."""
        return _range(self, start, end)

    def cut(self, start: int, end: int) -> DataSlice:
        """The slice of the file with the rows ``start <= time < end``."""
        return DataSlice(path=self.path, byte_range=self.byte_range(start, end))


class ArrowFileIndex:
    """Bar times and row numbers of one Parquet or Feather file, read from its time column by
    the feed's rules (:class:`FileIndex` says how, for bar files); rows whose times cannot be
    read are left out and stay inside whichever window surrounds them."""

    def __init__(
        self,
        path: str | Path,
        *,
        tz: str | _dt.tzinfo | None = None,
        time_unit: str | None = None,
    ) -> None:
        # Imported here: pyarrow loads only for sweeps over Arrow data.
        import pyarrow.compute as pc

        from ..feeds._arrow_columns import TimeColumn, table_layout
        from ..feeds._arrow_source import streams_of

        self.path = str(path)
        self.times: array[int] = array("q")
        self.offsets: array[int] = array("q")
        zone, time_unit = checked_time_options(tz, time_unit)
        zone = zone or _dt.UTC  # only the order matters for cutting (see FileIndex)
        (stream,) = streams_of(Path(path))
        try:
            layout = table_layout(stream)
            column = layout.time
            reader = TimeColumn(
                stream.schema.field(column).type,
                zone=zone,
                time_unit=time_unit,
                label=stream.label,
                column=column,
            )
            self.size = 0
            for chunk in stream.chunks(65_536, [column]):
                raw = chunk.batch.column(0)
                if not self.size:
                    reader.start(reader.raw(raw, 0))
                nanos = reader.convert(raw)
                rows = pc.indices_nonzero(pc.is_valid(nanos)).to_pylist()
                self.times.extend(nanos.drop_null().to_pylist())
                self.offsets.extend(chunk.first_row + row for row in rows)
                self.size = chunk.first_row + chunk.batch.num_rows
        finally:
            stream.close()

    def row_range(self, start: int, end: int) -> tuple[int, int]:
        """Row numbers ``[first, last)`` of the rows with ``start <= time < end``."""
        return _range(self, start, end)

    def cut(self, start: int, end: int) -> DataSlice:
        """The slice of the file with the rows ``start <= time < end``."""
        return DataSlice(path=self.path, row_range=self.row_range(start, end))


def _range(index: FileIndex | ArrowFileIndex, start: int, end: int) -> tuple[int, int]:
    """Offsets (bytes or rows) of the indexed rows with ``start <= time < end``."""
    first = bisect.bisect_left(index.times, start)
    last = bisect.bisect_left(index.times, end)
    begin = index.offsets[first] if first < len(index.offsets) else index.size
    stop = index.offsets[last] if last < len(index.offsets) else index.size
    return begin, stop


def plan_windows(
    data: Sequence[str | Path],
    *,
    train: WindowSize,
    test: WindowSize,
    tz: str | _dt.tzinfo | None = None,
    time_unit: str | None = None,
) -> list[WalkWindow]:
    """Cut walk-forward windows over ``data``; ``tz`` and ``time_unit`` read the times as the
    feeds do.

    Windows are cut on the timeline of the first data file: a :class:`WindowSize` in bars
    (``--train 5000 --test 1000``) counts its distinct bar times, one in time
    (``--train 30D --test 5D``) measures from its first bar. Window *k*
    trains on ``[k·test, k·test + train)`` and tests on the ``test`` bars right after, so test
    windows follow each other without overlap; the last one may be shorter. Every data file is
    cut at the same times.

    Windows are cut in bar files, Parquet and Feather files; a directory or a recording is
    refused with a ConfigError saying so (a whole-data sweep reads it)."""
    indexes: list[FileIndex | ArrowFileIndex] = []
    for path in data:
        suffix = Path(path).suffix.lower()
        if suffix == ".csv" and not Path(path).is_dir():
            indexes.append(FileIndex(path, tz=tz, time_unit=time_unit))
        elif suffix in _ARROW_SUFFIXES and not Path(path).is_dir():
            indexes.append(ArrowFileIndex(path, tz=tz, time_unit=time_unit))
        else:
            raise ConfigError(
                f"walk-forward windows (--train/--test) cut .csv, .parquet and .feather files, "
                f"not {path}; sweep the whole data without --train/--test"
            )
    timeline = _distinct(indexes[0].times)
    if not timeline:
        raise ConfigError(f"{indexes[0].path}: no bars to cut into windows")
    cuts = _cuts(timeline, train, test)
    if not cuts:
        raise ConfigError(
            f"the data ({len(timeline):,} bars) is too short for one train and one test window"
        )
    windows = []
    for index, (train_range, test_range) in enumerate(cuts):
        windows.append(
            WalkWindow(
                index=index,
                train=train_range,
                test=test_range,
                train_data=tuple(ix.cut(*train_range) for ix in indexes),
                test_data=tuple(ix.cut(*test_range) for ix in indexes),
            )
        )
    return windows


def _distinct(times: array[int]) -> list[int]:
    timeline: list[int] = []
    for ts in times:
        if not timeline or ts > timeline[-1]:
            timeline.append(ts)
    return timeline


def _cuts(
    timeline: list[int], train: WindowSize, test: WindowSize
) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    end_of_data = timeline[-1] + 1
    cuts = []
    if train.bars is not None and test.bars is not None:
        k = 0
        while True:
            a = k * test.bars
            b = a + train.bars
            if b >= len(timeline):
                break
            c = min(b + test.bars, len(timeline))
            end = timeline[c] if c < len(timeline) else end_of_data
            cuts.append(((timeline[a], timeline[b]), (timeline[b], end)))
            k += 1
        return cuts
    if train.nanos is None or test.nanos is None:
        raise ConfigError("--train and --test must both be bar counts or both be durations")
    start = timeline[0]
    k = 0
    while True:
        a = start + k * test.nanos
        b = a + train.nanos
        c = b + test.nanos
        if b > timeline[-1]:
            break
        first = bisect.bisect_left(timeline, b)
        if first < len(timeline) and timeline[first] < c:
            cuts.append(((a, b), (b, min(c, end_of_data))))
        k += 1
    return cuts


class BarFileWindowFeed(BarFileFeed):
    """A :class:`~framework.BarFileFeed` over the rows of one byte range of its file."""

    def __init__(self, path: str | Path, *, byte_range: tuple[int, int], **options: Any) -> None:
        super().__init__(path, **options)
        self.byte_range = byte_range
        self.name = f"bars:{self.path.name}[{byte_range[0]}:{byte_range[1]}]"
        self._file_first_row: tuple[list[str], int] = ([], 2)

    async def run(
        self,
        send: trio.MemorySendChannel[EventBatch],
        *,
        task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Send the bars of the byte range in batches, then close ``send``; times are read by
        the rules the file's first row sets, so every window of a file reads them alike."""
        async with send:
            with open(self.path, "rb") as handle:  # noqa: ASYNC230 - local file, as BarFileFeed
                task_status.started()
                batch: list[Any] = []
                for bar in self._bars_of(self._lines(handle)):
                    batch.append(bar)
                    if len(batch) >= REPLAY_BATCH_SIZE:
                        await send.send(batch)
                        batch = []
                if batch:
                    await send.send(batch)

    def _first_row(self, lines: Iterator[str]) -> tuple[Iterator[str], list[str], int]:
        # The file's first row decides the time unit, not the window's: every window of a
        # file reads its times alike.
        return (lines, *self._file_first_row)

    def _lines(self, handle: Any) -> Iterator[str]:
        header = handle.readline().decode("utf-8")
        for number, line in enumerate(handle, start=2):
            if line.strip():
                self._file_first_row = (next(csv.reader([line.decode("utf-8")])), number)
                break
        yield header
        start, end = self.byte_range
        handle.seek(start)
        position = start
        for line in handle:
            if position >= end:
                break
            position += len(line)
            yield line.decode("utf-8")
