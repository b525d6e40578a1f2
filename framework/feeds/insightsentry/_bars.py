"""Bar assembly: from series frames to final :class:`~framework.Bar` events, exactly once.

The server never says "this bar is closed" (protocol 3.4, 9.6). :class:`BarAssembler` keeps one
in-progress bar per stream (``code``, ``bar_label``) and upserts it by time. A bar becomes final
when a newer bar arrives or when the server clock (heartbeat ``server_time``) passes its end.

**Event time of a final bar.** ``ts_event`` is the earliest of the bounds the frames themselves
give on the bar's end, each of which the true end cannot exceed:

- ``bar_end + 1 s``, when a frame reported ``bar_end`` while this bar was its newest bar;
- ``ts_open + interval`` for fixed-size intervals (seconds to weeks; sessions may cut a bar
  short, never make it longer);
- the open time of the next bar, when a newer bar is what proved this one final.

Only frame data is used, never the receiving clock, so replaying a recording gives the same
``ts_event`` values, and a strategy never sees a bar before its period has ended. ``ts_recv`` is
the receive time of the frame (or heartbeat) that made the bar final.

A heartbeat closes the in-progress bar once ``server_time`` reaches the same bound
(``bar_end + 1 s`` or ``ts_open + interval``). An in-progress bar is never emitted as final
just because the data ended.

Reconnect bursts repeat bars already emitted: points at or before the last final bar are
counted as ``duplicates`` when unchanged and as ``corrections`` (logged, not re-emitted) when
their values differ. Every new or changed in-progress bar is returned as a
:class:`~framework.BarUpdate` (``ts_event`` = the frame's ``last_update``, else its receive time).

Ticks (``1T``) are final on arrival: each becomes a ``Bar`` with open = high = low = close =
price and ``ts_event`` = ``ts_open`` = trade time. Ticks older than the newest tick already
emitted are dropped as duplicates; ticks at that same time are matched as a multiset on
(time, price, size, trade id), so identical trades inside one frame are all kept.

Points without open/high/low in a bar (non-tick) series are rejected and counted; a missing
volume counts as 0.

**Holes.** With ``detect_gaps``, a frame whose oldest new bar starts at least two bar sizes
after the newest bar already known for its stream (final or in progress) reveals a hole: the
periods between may hold bars that never arrived (a reconnect burst that does not reach back,
updates lost in flight) or none at all (a session break). Each hole is listed once as a
:class:`BarHole` for :meth:`BarAssembler.take_holes`; bars of fixed sizes only (not ticks or
months). Holes inside one frame are the server's own data and are trusted.
:meth:`BarAssembler.backfill` turns a REST answer for a hole into final bars (flagged
``is_backfill``) through the same validation, remembered as final so that a later burst
repeating them counts as duplicates.
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter, deque
from collections.abc import Iterable
from typing import Final

import attrs

from ..._errors import DecodeError, InvalidEvent
from ..._events import Bar, BarUpdate
from ..._intervals import Interval
from ..._time import NANOS_PER_SECOND
from ._codec import SeriesFrame, SeriesPoint, log_safe

logger = logging.getLogger(__name__)

#: How many final bars per stream are remembered to tell a duplicate from a correction.
DEFAULT_HISTORY: Final = 1024

_Values = tuple[float | None, float | None, float | None, float, float | None]
_TickKey = tuple[int, float, float | None, str | None]


@attrs.frozen(slots=True, kw_only=True)
class AssemblerStatistics:
    """Counters of a :class:`BarAssembler` since it was created."""

    #: Final bars (and ticks) emitted.
    emitted: int
    #: ``BarUpdate`` events emitted for in-progress bars.
    updates: int
    #: Points already covered by emitted bars, unchanged (reconnect bursts).
    duplicates: int
    #: Points that changed a bar already emitted as final; logged, not re-emitted.
    corrections: int
    #: Points rejected by the decoder or unusable as bars.
    rejected: int


@attrs.frozen(slots=True, kw_only=True)
class BarHole:
    """Bar periods of one stream with no data: open times ``ts_from`` .. ``ts_to`` inclusive.

    ``ts_next`` is the open time of the bar right after the hole (already received).
    """

    code: str
    interval: str
    ts_from: int
    ts_to: int
    ts_next: int


@attrs.define(slots=True)
class _Stream:
    code: str
    label: str
    interval: Interval
    current: SeriesPoint | None = None
    #: ``bar_end + 1 s`` of the current bar, when a frame reported it.
    current_end_ns: int | None = None
    last_final_ns: int | None = None
    history: dict[int, _Values] = attrs.Factory(dict)
    history_order: deque[int] = attrs.Factory(deque)
    last_tick_ns: int | None = None
    tick_boundary: Counter[_TickKey] = attrs.Factory(Counter)


def _values(point: SeriesPoint) -> _Values:
    return (point.open, point.high, point.low, point.close, point.volume)


class BarAssembler:
    """Turns series frames into final bars and in-progress updates; sans-IO and deterministic.

    ``streams``, when given, lists the ``(code, bar_label)`` pairs subscribed to; frames for
    any other stream raise :class:`~framework.DecodeError` with reason ``unknown_code``.
    ``history`` bounds how many final bars per stream are remembered for correction checks.
    """

    def __init__(
        self,
        streams: Iterable[tuple[str, str]] | None = None,
        *,
        history: int = DEFAULT_HISTORY,
        detect_gaps: bool = False,
    ) -> None:
        self._allowed: frozenset[tuple[str, str]] | None = None
        self._streams: dict[tuple[str, str], _Stream] = {}
        self._history = history
        self._detect_gaps = detect_gaps
        self._holes: list[BarHole] = []
        self._emitted = self._updates = self._duplicates = 0
        self._corrections = self._rejected = 0
        self.set_streams(streams)

    def set_streams(self, streams: Iterable[tuple[str, str]] | None) -> None:
        """Replace the allowed streams (after a new subscription); state of others is dropped."""
        if streams is None:
            self._allowed = None
            return
        self._allowed = frozenset(streams)
        for key in [key for key in self._streams if key not in self._allowed]:
            del self._streams[key]

    def statistics(self) -> AssemblerStatistics:
        """A snapshot of the counters."""
        return AssemblerStatistics(
            emitted=self._emitted,
            updates=self._updates,
            duplicates=self._duplicates,
            corrections=self._corrections,
            rejected=self._rejected,
        )

    def _stream(self, frame: SeriesFrame) -> _Stream:
        key = (frame.code, frame.bar_label)
        stream = self._streams.get(key)
        if stream is not None:
            return stream
        if self._allowed is not None and key not in self._allowed:
            raise DecodeError("unknown_code", log_safe(f"no subscription for {key[0]}@{key[1]}"))
        try:
            interval = Interval.parse(frame.bar_label)
        except ValueError:
            raise DecodeError("bad_field", log_safe(f"bar_type={frame.bar_label!r}")) from None
        stream = self._streams[key] = _Stream(frame.code, frame.bar_label, interval)
        return stream

    def on_series(self, frame: SeriesFrame, recv_ns: int) -> list[Bar | BarUpdate]:
        """Fold one series frame in; returns final bars (oldest first), then an update.

        Raises :class:`~framework.DecodeError` (``unknown_code``) for a stream not subscribed.
        """
        stream = self._stream(frame)
        self._rejected += len(frame.rejected)
        if stream.interval.unit == "tick":
            return list(self._on_ticks(stream, frame, recv_ns))
        return self._on_bars(stream, frame, recv_ns)

    def take_holes(self) -> list[BarHole]:
        """The holes found since the last call (only with ``detect_gaps``), oldest first."""
        holes, self._holes = self._holes, []
        return holes

    def newest_open(self, code: str, label: str) -> int | None:
        """Open time of the newest bar known for a stream (in progress or final), or None."""
        stream = self._streams.get((code, label))
        if stream is None:
            return None
        if stream.current is not None:
            return stream.current.time_ns
        return stream.last_final_ns

    def backfill(
        self, frame: SeriesFrame, hole: BarHole, recv_ns: int
    ) -> tuple[list[Bar], int | None]:
        """Final bars for the periods of ``hole`` from a REST ``frame`` of its stream.

        Returns the bars (oldest first, ``is_backfill=True``) and the oldest time the frame
        reaches back to (None when it has no points), so the caller can tell a hole the answer
        did not cover. A bar's ``ts_event`` is its end bound as for live bars: the next point's
        open, ``bar_end``-free, or the open plus the bar size. Bars already emitted are skipped.
        """
        stream = self._streams.get((frame.code, frame.bar_label))
        if stream is None or (frame.code, frame.bar_label) != (hole.code, hole.interval):
            return [], None
        self._rejected += len(frame.rejected)
        points = sorted((p for p in frame.points if p.open is not None), key=lambda p: p.time_ns)
        oldest = points[0].time_ns if points else None
        inside = {p.time_ns: p for p in points if hole.ts_from <= p.time_ns <= hole.ts_to}
        times = sorted(inside)
        bars: list[Bar] = []
        last_final = stream.last_final_ns
        for index, time_ns in enumerate(times):
            if time_ns in stream.history:
                self._duplicates += 1
                continue
            next_ns = times[index + 1] if index + 1 < len(times) else hole.ts_next
            end = self._end_bound(stream, time_ns, None, next_ns)
            assert end is not None
            bar = self._final(stream, inside[time_ns], end, recv_ns)
            if bar is not None:
                bars.append(attrs.evolve(bar, is_backfill=True))
        if last_final is not None and (stream.last_final_ns or 0) < last_final:
            stream.last_final_ns = last_final  # never move the final frontier backwards
        return bars, oldest

    def on_server_time(self, server_time_ns: int, recv_ns: int) -> list[Bar]:
        """Close in-progress bars whose end the server clock has reached.

        Returns the bars made final, ordered by ``ts_event`` then stream.
        """
        closed: list[Bar] = []
        for stream in self._streams.values():
            current = stream.current
            if current is None:
                continue
            end = self._end_bound(stream, current.time_ns, stream.current_end_ns, None)
            if end is None or server_time_ns < end:
                continue
            bar = self._final(stream, current, end, recv_ns)
            stream.current = None
            stream.current_end_ns = None
            if bar is not None:
                closed.append(bar)
        closed.sort(key=lambda bar: (bar.ts_event, bar.symbol, bar.interval))
        return closed

    # -- bars --------------------------------------------------------------------------------

    def _on_bars(self, stream: _Stream, frame: SeriesFrame, recv_ns: int) -> list[Bar | BarUpdate]:
        by_time: dict[int, SeriesPoint] = {}
        for point in sorted(frame.points, key=lambda p: p.time_ns):
            by_time[point.time_ns] = point  # a later point for the same time wins
        if not by_time:
            return []
        newest = max(by_time)
        candidates: dict[int, SeriesPoint] = {}
        ends: dict[int, int] = {}
        previous = stream.current
        if previous is not None:
            candidates[previous.time_ns] = previous
            if stream.current_end_ns is not None:
                ends[previous.time_ns] = stream.current_end_ns
        for time_ns, point in by_time.items():
            if point.open is None:
                self._rejected += 1
                logger.warning(
                    "rejected %s@%s point at %s: no open/high/low in a bar series",
                    stream.code,
                    stream.label,
                    time_ns,
                )
                continue
            if stream.last_final_ns is not None and time_ns <= stream.last_final_ns:
                self._seen_final(stream, point)
                continue
            known = candidates.get(time_ns)
            if known is not None and _values(known) == _values(point):
                self._duplicates += 1
            candidates[time_ns] = point
            if time_ns == newest and frame.bar_end_ns is not None and frame.bar_end_ns >= time_ns:
                ends[time_ns] = frame.bar_end_ns + NANOS_PER_SECOND
        if not candidates:
            return []
        if self._detect_gaps:
            self._find_hole(stream, previous, candidates)
        times = sorted(candidates)
        out: list[Bar | BarUpdate] = []
        for time_ns, next_ns in itertools.pairwise(times):
            end = self._end_bound(stream, time_ns, ends.get(time_ns), next_ns)
            assert end is not None  # next_ns is always a bound
            bar = self._final(stream, candidates[time_ns], end, recv_ns)
            if bar is not None:
                out.append(bar)
        last = candidates[times[-1]]
        stream.current = last
        stream.current_end_ns = ends.get(last.time_ns)
        if (
            previous is None
            or previous.time_ns != last.time_ns
            or _values(previous) != _values(last)
        ):
            update = self._update(stream, last, frame, recv_ns)
            if update is not None:
                out.append(update)
        return out

    def _find_hole(
        self, stream: _Stream, previous: SeriesPoint | None, candidates: dict[int, SeriesPoint]
    ) -> None:
        size = stream.interval.nanos
        known = [t for t in (stream.last_final_ns,) if t is not None]
        if previous is not None:
            known.append(previous.time_ns)
        if size is None or not known:
            return
        frontier = max(known)
        newer = [t for t in candidates if t > frontier]
        if not newer:
            return
        first = min(newer)
        if first - frontier >= 2 * size:
            self._holes.append(
                BarHole(
                    code=stream.code,
                    interval=stream.label,
                    ts_from=frontier + size,
                    ts_to=first - size,
                    ts_next=first,
                )
            )

    def _end_bound(
        self, stream: _Stream, time_ns: int, reported_end: int | None, next_ns: int | None
    ) -> int | None:
        bounds = [b for b in (reported_end, next_ns) if b is not None and b > time_ns]
        size = stream.interval.nanos
        if size is not None:
            bounds.append(time_ns + size)
        return min(bounds) if bounds else None

    def _final(self, stream: _Stream, point: SeriesPoint, end_ns: int, recv_ns: int) -> Bar | None:
        stream.last_final_ns = point.time_ns
        values = _values(point)
        stream.history[point.time_ns] = values
        stream.history_order.append(point.time_ns)
        if len(stream.history_order) > self._history:
            del stream.history[stream.history_order.popleft()]
        assert point.open is not None and point.high is not None and point.low is not None
        try:
            bar = Bar(
                symbol=stream.code,
                interval=stream.label,
                ts_open=point.time_ns,
                open=point.open,
                high=point.high,
                low=point.low,
                close=point.close,
                volume=point.volume or 0.0,
                ts_event=end_ns,
                ts_recv=recv_ns,
            )
        except InvalidEvent as exc:
            self._rejected += 1
            logger.warning("rejected %s@%s bar: %s", stream.code, stream.label, exc)
            return None
        self._emitted += 1
        return bar

    def _update(
        self, stream: _Stream, point: SeriesPoint, frame: SeriesFrame, recv_ns: int
    ) -> BarUpdate | None:
        assert point.open is not None and point.high is not None and point.low is not None
        try:
            update = BarUpdate(
                symbol=stream.code,
                interval=stream.label,
                ts_open=point.time_ns,
                open=point.open,
                high=point.high,
                low=point.low,
                close=point.close,
                volume=point.volume or 0.0,
                ts_event=frame.last_update_ns if frame.last_update_ns is not None else recv_ns,
                ts_recv=recv_ns,
            )
        except InvalidEvent as exc:
            self._rejected += 1
            logger.warning("rejected %s@%s bar update: %s", stream.code, stream.label, exc)
            return None
        self._updates += 1
        return update

    def _seen_final(self, stream: _Stream, point: SeriesPoint) -> None:
        known = stream.history.get(point.time_ns)
        if known is None or known == _values(point):
            self._duplicates += 1
            return
        self._corrections += 1
        logger.warning(
            "late correction ignored for final bar %s@%s at %s: %s -> %s",
            stream.code,
            stream.label,
            point.time_ns,
            known,
            _values(point),
        )

    # -- ticks -------------------------------------------------------------------------------

    def _on_ticks(self, stream: _Stream, frame: SeriesFrame, recv_ns: int) -> Iterable[Bar]:
        start = stream.last_tick_ns
        before = stream.tick_boundary.copy() if start is not None else Counter[_TickKey]()
        here: Counter[_TickKey] = Counter()
        out: list[Bar] = []
        for point in sorted(frame.points, key=lambda p: p.time_ns):
            key = (point.time_ns, point.close, point.volume, point.trade_id)
            if start is not None and point.time_ns <= start:
                if point.time_ns < start:
                    self._duplicates += 1
                    continue
                here[key] += 1
                if here[key] <= before[key]:
                    self._duplicates += 1
                    continue
            if stream.last_tick_ns is None or point.time_ns > stream.last_tick_ns:
                stream.last_tick_ns = point.time_ns
                stream.tick_boundary = Counter()
            stream.tick_boundary[key] += 1
            try:
                bar = Bar(
                    symbol=stream.code,
                    interval=stream.label,
                    ts_open=point.time_ns,
                    open=point.close,
                    high=point.close,
                    low=point.close,
                    close=point.close,
                    volume=point.volume or 0.0,
                    ts_event=point.time_ns,
                    ts_recv=recv_ns,
                )
            except InvalidEvent as exc:
                self._rejected += 1
                logger.warning("rejected %s tick: %s", stream.code, exc)
                continue
            self._emitted += 1
            out.append(bar)
        return out
