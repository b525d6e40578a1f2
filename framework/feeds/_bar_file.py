"""Replay of bar files: CSV with header ``time,open,high,low,close,volume[,symbol]``.

``time`` is the bar's open time, as Unix seconds (integer or decimal) or ISO-8601 with a UTC
offset. Without a ``symbol`` column every row belongs to the feed's ``symbol`` (default: the
file name without extension). A bar becomes final, and is delivered, at its open time plus the
bar size; the bar size is given or detected from the smallest step between the first rows.

The file is streamed: memory does not grow with its length. A bad row (unparsable, NaN,
negative price, high < low, time going backwards, a repeated bar) stops the run with a
:class:`~framework.BarFileError` naming file, line and reason, unless ``skip_bad_rows`` is set;
then it is counted in :meth:`BarFileFeed.statistics` and logged, and the run goes on.
"""

from __future__ import annotations

import csv
import itertools
import logging
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import trio

from .._errors import BarFileError, ConfigError, InvalidEvent
from .._events import Bar
from .._intervals import Interval
from .._time import NANOS_PER_SECOND, nanos_from_iso
from ._feed import REPLAY_BATCH_SIZE, EventBatch

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("time", "open", "high", "low", "close", "volume")
#: Rows read ahead to detect the bar size when none is given.
DETECT_ROWS = 64
#: Bad-row examples kept for the report when skipping.
KEPT_EXAMPLES = 10


@attrs.frozen(slots=True, kw_only=True)
class BarFileStatistics:
    """What a bar-file feed read: bars delivered, rows skipped by reason, a few examples."""

    path: str
    bars: int
    skipped: int
    skipped_by_reason: dict[str, int]
    examples: tuple[str, ...]


class BarFileFeed:
    """A replay feed over one bar file."""

    is_live = False

    def __init__(
        self,
        path: str | Path,
        *,
        symbol: str | None = None,
        interval: Interval | str | None = None,
        skip_bad_rows: bool = False,
    ) -> None:
        self.path = Path(path)
        self.name = f"bars:{self.path.name}"
        self.symbol = symbol or self.path.stem
        self.interval = Interval.parse(interval) if isinstance(interval, str) else interval
        if self.interval is not None and self.interval.nanos is None:
            raise ConfigError(f"bar files need a fixed bar size, not {self.interval}")
        self.skip_bad_rows = skip_bad_rows
        self._bars = 0
        self._skipped: dict[str, int] = {}
        self._examples: list[str] = []
        self._handle: Any = None
        self._size = 0

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
        return BarFileStatistics(
            path=str(self.path),
            bars=self._bars,
            skipped=sum(self._skipped.values()),
            skipped_by_reason=dict(self._skipped),
            examples=tuple(self._examples),
        )

    async def run(
        self,
        send: trio.MemorySendChannel[EventBatch],
        *,
        task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        async with send:
            try:
                handle = self.path.open(newline="", encoding="utf-8")
            except OSError as exc:
                raise BarFileError(str(self.path), 0, f"cannot open: {exc.strerror}") from exc
            with handle:
                self._size = os.fstat(handle.fileno()).st_size
                self._handle = handle
                task_status.started()
                batch: list[Bar] = []
                for bar in self._bars_of(handle):
                    batch.append(bar)
                    if len(batch) >= REPLAY_BATCH_SIZE:
                        await send.send(batch)
                        batch = []
                if batch:
                    await send.send(batch)

    # -- parsing ---------------------------------------------------------------------------

    def _bars_of(self, handle: Any) -> Iterator[Bar]:
        path = str(self.path)
        rows = csv.reader(handle)
        try:
            header = next(rows)
        except StopIteration:
            raise BarFileError(path, 1, "empty file (expected a header row)") from None
        columns = [name.strip().lower() for name in header]
        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        if missing:
            raise BarFileError(
                path, 1, f"header lacks {', '.join(missing)} (need {','.join(REQUIRED_COLUMNS)})"
            )
        index = [columns.index(name) for name in REQUIRED_COLUMNS]
        symbol_index = columns.index("symbol") if "symbol" in columns else None
        width = len(columns)

        parsed = self._parse_rows(rows, index, symbol_index, width)
        step = self.interval.nanos if self.interval is not None else None
        label = self.interval.label if self.interval is not None else ""
        head: list[tuple[int, str, int, tuple[float, ...]]] = []
        if step is None:
            for item in parsed:
                head.append(item)
                if len(head) >= DETECT_ROWS:
                    break
            step, label = _detect_interval(path, [t for _, _, t, _ in head])
        last_time: dict[str, int] = {}
        last_any = -1
        for line, symbol, ts, (o, h, low, c, v) in _chain(head, parsed):
            if ts < last_any:
                self._reject(line, "time_backwards", "time goes backwards")
                continue
            if last_time.get(symbol) == ts:
                self._reject(line, "duplicate", f"second bar for {symbol} at the same time")
                continue
            try:
                bar = Bar(
                    symbol=symbol,
                    interval=label,
                    ts_open=ts,
                    open=o,
                    high=h,
                    low=low,
                    close=c,
                    volume=v,
                    ts_event=ts + step,
                    ts_recv=ts + step,
                )
            except InvalidEvent as exc:
                self._reject(line, "invalid_bar", str(exc))
                continue
            last_time[symbol] = ts
            last_any = ts
            self._bars += 1
            yield bar

    def _parse_rows(
        self,
        rows: Iterator[list[str]],
        index: list[int],
        symbol_index: int | None,
        width: int,
    ) -> Iterator[tuple[int, str, int, tuple[float, ...]]]:
        ti, oi, hi, li, ci, vi = index
        default_symbol = self.symbol
        line = 1
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
            ts = _parse_time(row[ti])
            if ts is None:
                self._reject(line, "bad_time", f"unparsable time {row[ti]!r:.60}")
                continue
            symbol = row[symbol_index].strip() if symbol_index is not None else default_symbol
            if not symbol:
                self._reject(line, "bad_symbol", "empty symbol")
                continue
            yield line, symbol, ts, values

    def _reject(self, line: int, reason: str, detail: str) -> None:
        if not self.skip_bad_rows:
            raise BarFileError(str(self.path), line, detail)
        self._skipped[reason] = self._skipped.get(reason, 0) + 1
        message = f"{self.path}:{line}: {detail}"
        if len(self._examples) < KEPT_EXAMPLES:
            self._examples.append(message)
        log.warning("skipped bad row %s", message)


def _chain(
    head: list[tuple[int, str, int, tuple[float, ...]]],
    rest: Iterator[tuple[int, str, int, tuple[float, ...]]],
) -> Iterator[tuple[int, str, int, tuple[float, ...]]]:
    yield from head
    yield from rest


def _parse_time(text: str) -> int | None:
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            return nanos_from_iso(text)
        except ValueError:
            return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    if seconds.is_integer():
        return int(seconds) * NANOS_PER_SECOND
    return round(seconds * 1_000_000) * 1_000


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
