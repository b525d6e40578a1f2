"""Replay of bar files: CSV with a header naming time, open, high, low, close, volume and
optionally symbol columns, in any order and case (aliases in :mod:`._bar_header`; the rules
for users are in docs/data.md).

The time is the bar's open time: an epoch number in one unit per file, ISO-8601 with an
offset, or, in the zone the user names with ``tz``, a naive time or a date
(:mod:`._bar_times`). Without a ``symbol`` column every row belongs to the feed's ``symbol``
(default: the file name without extension). A bar becomes final, and is delivered, at its open
time plus the bar size; the bar size is given or detected from the smallest step between the
first rows (on the zone's wall clock when the times are naive, so a daylight-saving change
does not make a 23-hour bar). Columns that are not part of a bar are named once, in a warning
and in :meth:`BarFileFeed.statistics`.

The file is streamed: memory does not grow with its length. A bad row (unparsable, NaN,
negative price, high < low, time going backwards, a repeated bar) stops the run with a
:class:`~framework.BarFileError` naming file, line and reason, unless ``skip_bad_rows`` is set;
then it is counted in :meth:`BarFileFeed.statistics` and logged, and the run goes on. What no
skipping would mend stops the run either way: a header without a bar's column, naive times
without a zone, a file sorted newest-first.

The file is read in chunks of :data:`~framework.feeds.REPLAY_BATCH_SIZE` lines. A chunk is
first read as a whole, column by column (:mod:`._bar_columns`); a chunk where that finds
anything unusual is read again row by row, which names the line and reason of each bad row.
The column reader accepts only what the row reader would, with the same values, so it
changes the speed, never the bars or the errors.
"""

from __future__ import annotations

import csv
import datetime as _dt
import itertools
import logging
import math
import operator
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import attrs
import trio

from .._errors import BarFileError, ConfigError, InvalidEvent
from .._events import Bar, bar_unchecked, new_bar
from .._intervals import Interval
from .._time import NANOS_PER_SECOND, wall_nanos
from ._bar_columns import Layout, clean_columns
from ._bar_header import read_header
from ._bar_times import NO_ZONE, TimeReader, checked_time_options
from ._feed import REPLAY_BATCH_SIZE, EventBatch
from ._rejections import Rejections

log = logging.getLogger(__name__)

#: Rows read ahead, through the row reader, to check the order and detect the bar size.
DETECT_ROWS = 64

#: (line, symbol, open time in ns, (open, high, low, close, volume)) of a parsed row.
_ParsedRow = tuple[int, str, int, tuple[float, ...]]


@attrs.frozen(slots=True, kw_only=True)
class BarFileStatistics:
    """What a bar-file feed read: bars delivered, rows skipped by reason, a few examples."""

    path: str
    bars: int
    skipped: int
    skipped_by_reason: dict[str, int]
    examples: tuple[str, ...]
    #: Columns of the file that are not part of a bar, as the header names them.
    ignored_columns: tuple[str, ...] = ()
    #: The unit of epoch-number times (s, ms, us, ns), given or decided; None before reading.
    time_unit: str | None = None

    @classmethod
    def of(
        cls,
        path: str,
        bars: int,
        rejections: Rejections,
        ignored_columns: tuple[str, ...],
        time_unit: str | None,
    ) -> BarFileStatistics:
        """The statistics of a reader that counted its skipped rows in ``rejections``."""
        return cls(
            path=path,
            bars=bars,
            skipped=rejections.total,
            skipped_by_reason=dict(rejections.by_reason),
            examples=tuple(rejections.examples),
            ignored_columns=ignored_columns,
            time_unit=time_unit,
        )


class _Chunk(NamedTuple):
    """Consecutive lines of the file, their text and csv's rows of them; ``lines`` is None
    for the quoted tail of a file (see :func:`_chunks`), which only csv reads."""

    first_line: int
    lines: list[str] | None
    text: str
    rows: Iterable[list[str]]


class BarFileFeed:
    """A replay feed over one bar file.

    ``tz`` is the zone (IANA name such as ``America/New_York``, ``UTC``, or a tzinfo) of the
    file's naive times and dates, which are refused without it; times with an offset keep
    theirs. ``time_unit`` (s, ms, us, ns) is the unit of epoch-number times; without it the
    first row's magnitude decides, and rows of another magnitude are bad rows.
    """

    is_live = False

    def __init__(
        self,
        path: str | Path,
        *,
        symbol: str | None = None,
        interval: Interval | str | None = None,
        skip_bad_rows: bool = False,
        tz: str | _dt.tzinfo | None = None,
        time_unit: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.name = f"bars:{self.path.name}"
        self.symbol = symbol or self.path.stem
        self.interval = Interval.parse(interval) if isinstance(interval, str) else interval
        if self.interval is not None and self.interval.nanos is None:
            raise ConfigError(f"bar files need a fixed bar size, not {self.interval}")
        self.skip_bad_rows = skip_bad_rows
        self.tz, self.time_unit = checked_time_options(tz, time_unit)
        self._times = TimeReader(zone=self.tz, unit=time_unit or "s", by_magnitude=False)
        self._ignored: tuple[str, ...] = ()
        self._unit: str | None = time_unit
        self._bars = 0
        self._rejections = Rejections(skip=skip_bad_rows)
        self._handle: Any = None
        self._size = 0
        # Of the pass over the file in progress: the open time of the last bar accepted, per
        # symbol and over all symbols, against which order and repeats are judged.
        self._last_time: dict[str, int] = {}
        self._last_any = -1

    def progress(self) -> tuple[int, int]:
        """(bytes read, file size) so far: cheap, for progress bars polling from another task.

        Bytes are counted at the read buffer, so they run ahead of the bars delivered by at
        most one buffer; (0, 0) before the run opens the file.
        """
        handle = self._handle
        if handle is None or handle.closed:
            return (self._size, self._size) if self._size else (0, 0)
        return min(handle.buffer.tell(), self._size), self._size

    def statistics(self) -> BarFileStatistics:
        """What the feed has read so far: bars delivered, rows skipped and why."""
        return BarFileStatistics.of(
            str(self.path), self._bars, self._rejections, self._ignored, self._unit
        )

    async def run(
        self,
        send: trio.MemorySendChannel[EventBatch],
        *,
        task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Read the file and send its bars in batches, then close ``send`` (the
        :class:`~framework.Feed` contract). A bad row raises
        :class:`~framework.BarFileError` naming the file and line, or is skipped and counted
        with ``skip_bad_rows``; a file that cannot be opened raises it before ``started()``."""
        async with send:
            try:
                handle = self.path.open(newline="", encoding="utf-8")
            except OSError as exc:
                raise BarFileError(str(self.path), 0, f"cannot open: {exc.strerror}") from exc
            with handle:
                self._size = os.fstat(handle.fileno()).st_size
                self._handle = handle
                task_status.started()
                for batch in self._batches_of(handle):
                    await send.send(batch)

    # -- parsing ---------------------------------------------------------------------------

    def _bars_of(self, lines: Iterable[str]) -> Iterator[Bar]:
        """The bars of ``lines`` (the header line first), one at a time."""
        for batch in self._batches_of(lines):
            yield from batch

    def _batches_of(self, lines: Iterable[str]) -> Iterator[list[Bar]]:
        """The bars of ``lines`` (the header line first) in non-empty batches of at most
        REPLAY_BATCH_SIZE."""
        path = str(self.path)
        lines = iter(lines)
        try:
            # csv reads one record, however many lines it spans, and no further.
            names = next(csv.reader(lines))
        except StopIteration:
            raise BarFileError(path, 1, "empty file (expected a header row)") from None
        try:
            layout, self._ignored = read_header(names)
        except ValueError as exc:
            raise BarFileError(path, 1, str(exc)) from None
        if self._ignored:
            log.warning(
                "%s: ignoring columns that are not part of a bar: %s",
                path,
                ", ".join(self._ignored),
            )
        lines, first_row, first_line = self._first_row(lines)
        time_index = layout.required[0]
        first_time = first_row[time_index] if len(first_row) > time_index else None
        self._times = TimeReader.for_file(first_time, first_line, zone=self.tz, unit=self.time_unit)
        self._unit = self._times.unit
        self._last_time = {}
        self._last_any = -1
        chunks = _chunks(lines)
        # The first rows take the row path, up to the end of the chunk where there are enough
        # of them: order and bar size are judged on them before any bar is made.
        head: list[_ParsedRow] = []
        parsed: Iterator[_ParsedRow] = iter(())
        for chunk in chunks:
            parsed = self._parse_rows(chunk.rows, chunk.first_line, layout)
            head.extend(itertools.islice(parsed, DETECT_ROWS - len(head)))
            if len(head) >= DETECT_ROWS:
                break
        _check_oldest_first(path, head)
        step = self.interval.nanos if self.interval is not None else None
        label = self.interval.label if self.interval is not None else ""
        if step is None:
            times = [t for _, _, t, _ in head]
            if self._times.local and self.tz is not None:
                times = [wall_nanos(t, self.tz) for t in times]
            step, label = _detect_interval(path, times)
        yield from _batched(self._accept_rows(itertools.chain(head, parsed), step, label))
        for chunk in chunks:
            bars = None
            if chunk.lines is not None:
                bars = self._accept_chunk(chunk.lines, chunk.text, layout, step, label)
            if bars is not None:
                yield bars
            else:
                parsed = self._parse_rows(chunk.rows, chunk.first_line, layout)
                yield from _batched(self._accept_rows(parsed, step, label))

    def _first_row(self, lines: Iterator[str]) -> tuple[Iterator[str], list[str], int]:
        """(``lines`` as they were, the fields of the first data row, its line number): that
        row's time decides the unit of the file's epoch times."""
        seen: list[str] = []
        for line in lines:
            seen.append(line)
            if line.strip():
                break
        fields = next(csv.reader(seen[-1:]), [])
        return itertools.chain(seen, lines), fields, 1 + len(seen)

    # -- the column path: a whole chunk of good rows at once -------------------------------

    def _accept_chunk(
        self, lines: list[str], text: str, layout: Layout, step: int, label: str
    ) -> list[Bar] | None:
        """The bars of a chunk whose every row is good and in order; None for any other."""
        columns = clean_columns(lines, text, layout, self._times)
        if columns is None:
            return None
        times, symbols, values = columns
        if not self._in_order(times, symbols):
            return None
        if symbols is None:
            self._last_time[self.symbol] = times[-1]
        else:
            # Times never fall within the chunk, so each symbol's last entry is its latest.
            self._last_time.update(zip(symbols, times, strict=True))
        self._last_any = times[-1]
        final = list(map(step.__add__, times))
        bars = list(
            map(
                bar_unchecked,
                itertools.repeat(self.symbol) if symbols is None else symbols,
                itertools.repeat(label),
                times,
                *values,
                final,
                final,
            )
        )
        self._bars += len(bars)
        return bars

    def _in_order(self, times: list[int], symbols: list[str] | None) -> bool:
        """Whether the row path would accept every row of a chunk on time: none going
        backwards, none a second bar for its symbol at a time."""
        if symbols is None:
            return times[0] > self._last_any and all(map(operator.lt, times, times[1:]))
        if not (times[0] >= self._last_any and all(map(operator.le, times, times[1:]))):
            return False
        pairs = list(zip(symbols, times, strict=True))
        if len(set(pairs)) < len(pairs):
            return False
        # Only a row at the last accepted time can repeat a bar from before the chunk.
        last_time, last_any = self._last_time, self._last_any
        return not any(last_time.get(s) == ts for s, ts in pairs if ts == last_any)

    # -- the row path: exact reasons for every bad row -------------------------------------

    def _accept_rows(self, parsed: Iterable[_ParsedRow], step: int, label: str) -> Iterator[Bar]:
        """The bars of parsed rows, rejecting rows out of order, repeated or inconsistent."""
        last_time = self._last_time
        for line, symbol, ts, (o, h, low, c, v) in parsed:
            if ts < self._last_any:
                self._reject(line, "time_backwards", "time goes backwards")
                continue
            if last_time.get(symbol) == ts:
                self._reject(line, "duplicate", f"second bar for {symbol} at the same time")
                continue
            try:
                bar = new_bar(symbol, label, ts, o, h, low, c, v, ts + step, ts + step)
            except InvalidEvent as exc:
                self._reject(line, "invalid_bar", str(exc))
                continue
            last_time[symbol] = ts
            self._last_any = ts
            self._bars += 1
            yield bar

    def _parse_rows(
        self, rows: Iterable[list[str]], first_line: int, layout: Layout
    ) -> Iterator[_ParsedRow]:
        ti, oi, hi, li, ci, vi = layout.required
        symbol_index = layout.symbol
        width = layout.width
        default_symbol = self.symbol
        parse_time = self._times.parse
        line = first_line - 1
        for row in rows:
            line += 1
            if not row:
                continue
            if len(row) != width:
                self._reject(line, "bad_row", f"expected {width} fields, found {len(row)}")
                continue
            try:
                values = (
                    float(row[oi]),
                    float(row[hi]),
                    float(row[li]),
                    float(row[ci]),
                    float(row[vi]),
                )
            except ValueError:
                self._reject(line, "bad_number", f"unparsable number in {row!r:.120}")
                continue
            if not all(map(math.isfinite, values)):
                self._reject(line, "non_finite", f"NaN or infinite value in {row!r:.120}")
                continue
            ts = parse_time(row[ti])
            if ts is None:
                reason, detail = self._times.problem(row[ti])
                if reason == NO_ZONE:
                    raise BarFileError(str(self.path), line, detail)
                self._reject(line, reason, detail)
                continue
            symbol = row[symbol_index].strip() if symbol_index is not None else default_symbol
            if not symbol:
                self._reject(line, "bad_symbol", "empty symbol")
                continue
            yield line, symbol, ts, values

    def _reject(self, line: int, reason: str, detail: str) -> None:
        self._rejections.reject(BarFileError(str(self.path), line, detail), reason)


def _chunks(lines: Iterator[str]) -> Iterator[_Chunk]:
    """The data lines in chunks of REPLAY_BATCH_SIZE, numbered from line 2.

    From the first chunk with a quote on, the rest of the file is one chunk that only csv
    reads: a quoted field may span lines, and a chunk boundary must not cut it.
    """
    first_line = 2
    while chunk := list(itertools.islice(lines, REPLAY_BATCH_SIZE)):
        text = "".join(chunk)
        if '"' in text:
            yield _Chunk(first_line, None, "", csv.reader(itertools.chain(chunk, lines)))
            return
        yield _Chunk(first_line, chunk, text, csv.reader(chunk))
        first_line += len(chunk)


def _check_oldest_first(path: str, head: list[_ParsedRow]) -> None:
    """Refuse a file whose first rows go back in time and never forward: sorted newest-first,
    which skipping rows would not mend and reordering silently would hide."""
    times = [ts for _, _, ts, _ in head]
    if len(set(times)) < 2 or not all(map(operator.ge, times, times[1:])):
        return
    line = next(line for line, _, ts, _ in head if ts < times[0])
    raise BarFileError(
        path,
        line,
        f"rows are sorted newest-first (time decreases from line {head[0][0]} on); "
        "sort the file oldest-first",
    )


def _batched(bars: Iterator[Bar]) -> Iterator[list[Bar]]:
    while batch := list(itertools.islice(bars, REPLAY_BATCH_SIZE)):
        yield batch


_KNOWN_STEPS = [
    (Interval("week", 1), 7 * 86_400),
    (Interval("day", 1), 86_400),
    (Interval("hour", 1), 3_600),
    (Interval("minute", 1), 60),
    (Interval("second", 1), 1),
]


def _detect_interval(path: str, times: list[int]) -> tuple[int, str]:
    steps = [b - a for a, b in itertools.pairwise(times) if b > a]
    if not steps:
        raise BarFileError(
            path, 2, "cannot detect the bar size from the first rows; pass an interval (e.g. 1m)"
        )
    step = min(steps)
    seconds, remainder = divmod(step, NANOS_PER_SECOND)
    if remainder == 0:
        for unit, unit_seconds in _KNOWN_STEPS:
            if seconds % unit_seconds == 0:
                return step, Interval(unit.unit, seconds // unit_seconds).label
    return step, f"{step}ns"
