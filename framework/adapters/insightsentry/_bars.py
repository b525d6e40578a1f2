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
counted as ``duplicates`` when unchanged and as ``corrections`` (counted in the feed health,
not re-emitted) when their values differ. Every new or changed in-progress bar is returned as a
:class:`~framework.BarUpdate` (``ts_event`` = the frame's ``last_update``, else its receive time).

**What is remembered per stream.** To tell a duplicate from a correction, each stream keeps
the open times and values of its newest final bars packed in a byte array (8 bytes a time, 40
a bar's values: 48 bytes a bar, not the 300 a dict of tuples takes). How many is its *window*: a
reconnect burst repeats the newest ``bars`` (``max_dp``) points of a subscription, so
:meth:`FrameProcessor.set_subscriptions` sizes each stream's window by its subscription
(:func:`history_window`), and :meth:`BarAssembler.set_streams` drops everything of the streams
no longer subscribed. The check is exact for every bar in the window; a repeated point older
than the window cannot be checked and counts as a duplicate.

Problems (corrections, rejected points and bars) are counted by kind in a
:class:`~._health.FeedHealth`, which logs the first of each kind and then only summaries.

Ticks (``1T``) are final on arrival: each becomes a ``Bar`` with open = high = low = close =
price and ``ts_event`` = ``ts_open`` = trade time. Ticks older than the newest tick already
emitted are dropped as duplicates; ticks at that same time are matched as a multiset on
(time, price, size, trade id), so identical trades inside one frame are all kept.

Points without open/high/low in a bar (non-tick) series are rejected and counted; a missing
volume counts as 0, also when telling a repeated point from a changed one.

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
import math
import struct
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from ..._errors import ConfigError, DecodeError, InvalidEvent
from ..._events import (
    Bar,
    BarUpdate,
    bar_unchecked,
    bar_update_unchecked,
    new_bar,
    new_bar_update,
)
from ..._intervals import Interval
from ..._time import NANOS_PER_SECOND
from ._codec import log_safe
from ._frame_records import SeriesFrame, SeriesPoint
from ._health import FeedHealth

#: How many final bars per stream are remembered to tell a duplicate from a correction, for a
#: stream whose burst size is not known (an assembler or processor not told its subscriptions).
DEFAULT_HISTORY: Final = 1024

#: The burst size assumed for a series subscription that sets no ``bars``: the 2026 docs give
#: a default of 1, but servers have sent up to 100 recent bars (``recent_bars``) and 120
#: one-minute bars to a client that sent no size (protocol reference 3.4).
UNSIZED_BURST_BARS: Final = 128

#: The fewest final bars remembered per stream, whatever its burst size: a server whose clock
#: runs ahead of its queued updates sends late updates for bars the clock already closed, and
#: they may reach back more than one bar.
MIN_HISTORY: Final = 32

#: A stream's rows grow this much past its window before the oldest bars are cut, so the cut
#: happens once per this many bars, not once per bar.
_SLACK_FRACTION: Final = 4
_MIN_SLACK: Final = 8

#: One remembered final bar: open time (ns), open, high, low, close, volume.
_ROW: Final = struct.Struct("<q5d")
_ROW_SIZE: Final = _ROW.size
#: The open times of the rows, as 8-byte words: the first of every six.
_WORDS_PER_ROW: Final = _ROW_SIZE // 8

_pack_row: Final = _ROW.pack

_INF: Final = math.inf

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
    #: The interval's fixed size (None for ticks and months), looked up once.
    size_ns: int | None
    is_tick: bool
    #: Open time and values of the in-progress bar (both None when there is none).
    current_ns: int | None = None
    current: _Values | None = None
    #: True when the current values passed every check of a ``Bar`` as they came in.
    current_checked: bool = False
    #: ``bar_end + 1 s`` of the current bar, when a frame reported it.
    current_end_ns: int | None = None
    last_final_ns: int | None = None
    #: How many of the newest final bars the correction check covers, and how many bytes of
    #: rows are kept before the oldest are cut.
    window: int = DEFAULT_HISTORY
    capacity: int = DEFAULT_HISTORY * _ROW_SIZE
    #: The final bars remembered, ascending by open time, one :data:`_ROW` each.
    final_rows: bytearray = attrs.Factory(bytearray)
    last_tick_ns: int | None = None
    tick_boundary: Counter[_TickKey] = attrs.Factory(Counter)


def _values(point: SeriesPoint) -> _Values:
    # A missing volume is 0 in the bar, so it is 0 when values are compared too.
    return (point.open, point.high, point.low, point.close, point.volume or 0.0)


def history_window(bars: int | None) -> int:
    """How many final bars a stream remembers for a subscription of ``bars`` initial bars
    (``max_dp``; None when the subscription sets none): every bar a reconnect burst can repeat,
    and at least :data:`MIN_HISTORY`."""
    return max(UNSIZED_BURST_BARS if bars is None else bars, MIN_HISTORY)


def _time_of(point: SeriesPoint) -> int:
    return point.time_ns


def _set_window(stream: _Stream, window: int) -> None:
    stream.window = window
    stream.capacity = (window + max(window // _SLACK_FRACTION, _MIN_SLACK)) * _ROW_SIZE
    if len(stream.final_rows) > stream.capacity:
        _trim(stream)


def _trim(stream: _Stream) -> None:
    """Keep the newest ``window`` final bars of ``stream``."""
    rows = stream.final_rows
    drop = len(rows) - stream.window * _ROW_SIZE
    if drop > 0:
        del rows[:drop]


def _remember(stream: _Stream, time_ns: int, values: _Values) -> None:
    """Keep a final bar's values for the correction check."""
    o, h, low, c, v = values
    row = _ROW.pack(time_ns, o, h, low, c, v)
    rows = stream.final_rows
    index = _find(rows, time_ns)
    if index < 0:  # newer than every row: the usual case
        rows += row
    else:  # a backfilled bar, older than the newest final one
        at = index * _ROW_SIZE
        if _ROW.unpack_from(rows, at)[0] == time_ns:
            rows[at : at + _ROW_SIZE] = row
            return
        rows[at:at] = row
    if len(rows) > stream.capacity:
        _trim(stream)


def _find(rows: bytearray, time_ns: int) -> int:
    """The index of the first row opened at or after ``time_ns``; -1 if there is none."""
    if not rows or _ROW.unpack_from(rows, len(rows) - _ROW_SIZE)[0] < time_ns:
        return -1
    with memoryview(rows) as view, view.cast("q") as words, words[::_WORDS_PER_ROW] as times:
        return bisect_left(times, time_ns)


def _known(stream: _Stream, time_ns: int) -> _Values | None:
    """The values of the final bar opened at ``time_ns``, if it is still remembered."""
    rows = stream.final_rows
    index = _find(rows, time_ns)
    if index < 0:
        return None
    row_time, o, h, low, c, v = _ROW.unpack_from(rows, index * _ROW_SIZE)
    return (o, h, low, c, v) if row_time == time_ns else None


class BarAssembler:
    """Turns series frames into final bars and in-progress updates; sans-IO and deterministic.

    ``streams``, when given, lists the ``(code, bar_label)`` pairs subscribed to; frames for
    any other stream raise :class:`~framework.DecodeError` with reason ``unknown_code``. Given
    as a mapping, its values are each stream's window: how many final bars are remembered for
    correction checks (see :meth:`set_streams`). ``history`` is the window of a stream given
    none. Problems are counted (and their warnings rate-limited) in ``health``, a
    :class:`~._health.FeedHealth` of the assembler's own when None.
    """

    def __init__(
        self,
        streams: Iterable[tuple[str, str]] | Mapping[tuple[str, str], int] | None = None,
        *,
        history: int = DEFAULT_HISTORY,
        detect_gaps: bool = False,
        health: FeedHealth | None = None,
    ) -> None:
        if type(history) is not int or history < 1:
            raise ConfigError(f"history must be an integer >= 1, got {history!r}")
        self._allowed: frozenset[tuple[str, str]] | None = None
        self._windows: Mapping[tuple[str, str], int] = {}
        self._streams: dict[tuple[str, str], _Stream] = {}
        self._history = history
        self._detect_gaps = detect_gaps
        self._health = FeedHealth() if health is None else health
        self._holes: list[BarHole] = []
        self._emitted = self._updates = self._duplicates = 0
        self._corrections = self._rejected = 0
        self.set_streams(streams)

    def set_streams(
        self, streams: Iterable[tuple[str, str]] | Mapping[tuple[str, str], int] | None
    ) -> None:
        """Replace the allowed streams (after a new subscription); all state of the others
        (bar in progress, final bars remembered, holes not yet taken) is dropped. None allows
        every stream and drops nothing.

        A mapping gives each stream its window (at least 1): how many of its newest final bars
        are remembered, so that a repeated point in that reach is told apart exactly as a
        duplicate or a correction (:func:`history_window` sizes it from a subscription's
        ``bars``). A stream already known takes its new window at once.
        """
        if streams is None:
            self._allowed = None
            return
        if isinstance(streams, Mapping):
            windows = dict(streams)
            for key, window in windows.items():
                if type(window) is not int or window < 1:
                    raise ConfigError(f"window of {key!r} must be an integer >= 1, got {window!r}")
            self._windows = windows
            self._allowed = frozenset(windows)
        else:
            self._windows = {}
            self._allowed = frozenset(streams)
        allowed = self._allowed
        # A new dict, not deletions: a dict never gives back the table it grew to.
        self._streams = {key: s for key, s in self._streams.items() if key in allowed}
        self._holes = [h for h in self._holes if (h.code, h.interval) in allowed]
        for key, stream in self._streams.items():
            _set_window(stream, self._windows.get(key, self._history))

    def remembered(self, code: str, label: str) -> int:
        """How many final bars of a stream are remembered for correction checks (0 for a
        stream not known): at most its window plus a slack of a quarter of it."""
        stream = self._streams.get((code, label))
        return 0 if stream is None else len(stream.final_rows) // _ROW_SIZE

    def stream_count(self) -> int:
        """How many streams the assembler holds state for."""
        return len(self._streams)

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
        stream = self._streams[key] = _Stream(
            frame.code, frame.bar_label, interval, interval.nanos, interval.unit == "tick"
        )
        _set_window(stream, self._windows.get(key, self._history))
        return stream

    def on_series(self, frame: SeriesFrame, recv_ns: int) -> list[Bar | BarUpdate]:
        """Fold one series frame in; returns final bars (oldest first), then an update.

        Raises :class:`~framework.DecodeError` (``unknown_code``) for a stream not subscribed.
        """
        stream = self._stream(frame)
        self._rejected += len(frame.rejected)
        if stream.is_tick:
            return list(self._on_ticks(stream, frame, recv_ns))
        return self._on_bars(stream, frame, recv_ns)

    def on_bar_values(
        self,
        code: str,
        label: str,
        time_ns: int,
        values: tuple[float, float, float, float, float],
        bar_end_ns: int,
        last_update_ns: int,
        recv_ns: int,
    ) -> list[Bar | BarUpdate] | None:
        """:meth:`on_series` for the common frame: one bar of a bar stream already known,
        the in-progress bar again or a newer one (the shape of
        :func:`~._fast_path.single_bar_values`, so times are ints >= 0). Same events, same
        counters.

        Returns None, having changed nothing, for anything else (an unknown stream or a tick
        stream, a bar older than the in-progress one or already final, values or a receive
        time a ``Bar`` would refuse); the caller then takes the general path.
        """
        out: list[Bar | BarUpdate] = []
        if self.bar_values_into(
            out, code, label, time_ns, values, bar_end_ns, last_update_ns, recv_ns, True
        ):
            return out
        return None

    def bar_values_into(
        self,
        out: list[Any],
        code: str,
        label: str,
        time_ns: int,
        values: tuple[float, float, float, float, float],
        bar_end_ns: int,
        last_update_ns: int,
        recv_ns: int,
        updates: bool,
    ) -> bool:
        """:meth:`on_bar_values` for callers that gather the events of many frames: appends
        them to ``out`` and returns True, or returns False having changed nothing. With
        ``updates`` false the ``BarUpdate`` is counted but not made (as a caller that drops
        updates would count it)."""
        stream = self._streams.get((code, label))
        if stream is None or stream.is_tick:
            return False
        last_final = stream.last_final_ns
        previous_ns = stream.current_ns
        o, h, low, c, v = values
        if not (
            # ohlcv_is_valid, inlined
            0 < low <= o <= h
            and low <= c <= h
            and h < _INF
            and 0 <= v < _INF
            and type(recv_ns) is int
            and recv_ns >= 0
            and (last_final is None or time_ns > last_final)
            and (previous_ns is None or time_ns >= previous_ns)
        ):
            return False
        end_ns = bar_end_ns + NANOS_PER_SECOND if bar_end_ns >= time_ns else None
        if previous_ns is None or time_ns > previous_ns:
            if self._detect_gaps:
                self._find_hole(stream, previous_ns, (time_ns,))
            previous = stream.current
            if previous is not None and previous_ns is not None:
                # _end_bound and _final, inlined: this runs once per bar of every stream.
                final_end = time_ns
                reported = stream.current_end_ns
                if reported is not None and previous_ns < reported < final_end:
                    final_end = reported
                size = stream.size_ns
                if size is not None and previous_ns + size < final_end:
                    final_end = previous_ns + size
                if stream.current_checked:
                    # Checked as it came in, so new_bar's checks pass: the open time and
                    # receive time are ints >= 0 and the end bound lies after the open.
                    # _remember, inlined: the bar in progress is newer than every final bar.
                    stream.last_final_ns = previous_ns
                    po, ph, pl, pc, pv = previous
                    rows = stream.final_rows
                    rows += _pack_row(previous_ns, po, ph, pl, pc, pv)
                    if len(rows) > stream.capacity:
                        _trim(stream)
                    out.append(
                        bar_unchecked(
                            code,
                            label,
                            previous_ns,
                            po,
                            ph,
                            pl,
                            pc,
                            pv or 0.0,
                            final_end,
                            recv_ns,
                            False,
                        )
                    )
                    self._emitted += 1
                else:
                    bar = self._final(stream, previous_ns, previous, final_end, recv_ns)
                    if bar is not None:
                        out.append(bar)
            stream.current_end_ns = end_ns
        else:
            if end_ns is not None:
                stream.current_end_ns = end_ns
            if stream.current == values:
                self._duplicates += 1
                return True
        stream.current_ns = time_ns
        stream.current = values
        stream.current_checked = True
        if updates:
            # The checks BarUpdate applies all passed above.
            out.append(
                bar_update_unchecked(
                    code, label, time_ns, o, h, low, c, v or 0.0, last_update_ns, recv_ns
                )
            )
        self._updates += 1
        return True

    def take_holes(self) -> list[BarHole]:
        """The holes found since the last call (only with ``detect_gaps``), oldest first."""
        holes, self._holes = self._holes, []
        return holes

    def newest_open(self, code: str, label: str) -> int | None:
        """Open time of the newest bar known for a stream (in progress or final), or None."""
        stream = self._streams.get((code, label))
        if stream is None:
            return None
        if stream.current_ns is not None:
            return stream.current_ns
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
        points = sorted((p for p in frame.points if p.open is not None), key=_time_of)
        oldest = points[0].time_ns if points else None
        inside = {p.time_ns: p for p in points if hole.ts_from <= p.time_ns <= hole.ts_to}
        times = sorted(inside)
        bars: list[Bar] = []
        last_final = stream.last_final_ns
        for index, time_ns in enumerate(times):
            if _known(stream, time_ns) is not None:
                self._duplicates += 1
                continue
            next_ns = times[index + 1] if index + 1 < len(times) else hole.ts_next
            end = self._end_bound(stream, time_ns, None, next_ns)
            assert end is not None
            bar = self._final(stream, time_ns, _values(inside[time_ns]), end, recv_ns)
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
            time_ns = stream.current_ns
            if current is None or time_ns is None:
                continue
            end = self._end_bound(stream, time_ns, stream.current_end_ns, None)
            if end is None or server_time_ns < end:
                continue
            bar = self._final(stream, time_ns, current, end, recv_ns)
            stream.current_ns = stream.current = stream.current_end_ns = None
            if bar is not None:
                closed.append(bar)
        closed.sort(key=lambda bar: (bar.ts_event, bar.symbol, bar.interval))
        return closed

    # -- bars --------------------------------------------------------------------------------

    def _on_bars(self, stream: _Stream, frame: SeriesFrame, recv_ns: int) -> list[Bar | BarUpdate]:
        by_time: dict[int, _Values] = {}
        for point in sorted(frame.points, key=_time_of):
            by_time[point.time_ns] = _values(point)  # a later point for the same time wins
        if not by_time:
            return []
        newest = max(by_time)
        candidates: dict[int, _Values] = {}
        ends: dict[int, int] = {}
        previous_ns, previous = stream.current_ns, stream.current
        if previous_ns is not None and previous is not None:
            candidates[previous_ns] = previous
            if stream.current_end_ns is not None:
                ends[previous_ns] = stream.current_end_ns
        for time_ns, values in by_time.items():
            if values[0] is None:
                self._rejected += 1
                self._health.count(
                    "rejected_point",
                    "rejected %s@%s point at %s: no open/high/low in a bar series",
                    stream.code,
                    stream.label,
                    time_ns,
                )
                continue
            if stream.last_final_ns is not None and time_ns <= stream.last_final_ns:
                self._seen_final(stream, time_ns, values)
                continue
            known = candidates.get(time_ns)
            if known is not None and known == values:
                self._duplicates += 1
            candidates[time_ns] = values
            if time_ns == newest and frame.bar_end_ns is not None and frame.bar_end_ns >= time_ns:
                ends[time_ns] = frame.bar_end_ns + NANOS_PER_SECOND
        if not candidates:
            return []
        if self._detect_gaps:
            self._find_hole(stream, previous_ns, candidates)
        times = sorted(candidates)
        out: list[Bar | BarUpdate] = []
        for time_ns, next_ns in itertools.pairwise(times):
            end = self._end_bound(stream, time_ns, ends.get(time_ns), next_ns)
            assert end is not None  # next_ns is always a bound
            bar = self._final(stream, time_ns, candidates[time_ns], end, recv_ns)
            if bar is not None:
                out.append(bar)
        last_ns = times[-1]
        last = candidates[last_ns]
        stream.current_ns = last_ns
        stream.current = last
        stream.current_checked = False
        stream.current_end_ns = ends.get(last_ns)
        if previous_ns != last_ns or previous != last:
            ts_event = frame.last_update_ns if frame.last_update_ns is not None else recv_ns
            update = self._update(stream, last_ns, last, ts_event, recv_ns)
            if update is not None:
                out.append(update)
        return out

    def _find_hole(self, stream: _Stream, previous_ns: int | None, times: Iterable[int]) -> None:
        size = stream.size_ns
        known = [t for t in (stream.last_final_ns, previous_ns) if t is not None]
        if size is None or not known:
            return
        frontier = max(known)
        newer = [t for t in times if t > frontier]
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

    @staticmethod
    def _end_bound(
        stream: _Stream, time_ns: int, reported_end: int | None, next_ns: int | None
    ) -> int | None:
        """The earliest bound on the end of the bar opened at ``time_ns`` (module docstring)."""
        size = stream.size_ns
        best = None if size is None else time_ns + size
        for bound in (reported_end, next_ns):
            if bound is not None and bound > time_ns and (best is None or bound < best):
                best = bound
        return best

    def _final(
        self, stream: _Stream, time_ns: int, values: _Values, end_ns: int, recv_ns: int
    ) -> Bar | None:
        stream.last_final_ns = time_ns
        _remember(stream, time_ns, values)
        o, h, low, c, v = values
        assert o is not None and h is not None and low is not None
        try:
            bar = new_bar(
                stream.code, stream.label, time_ns, o, h, low, c, v or 0.0, end_ns, recv_ns
            )
        except InvalidEvent as exc:
            self._rejected += 1
            self._health.count(
                "rejected_bar", "rejected %s@%s bar: %s", stream.code, stream.label, exc
            )
            return None
        self._emitted += 1
        return bar

    def _update(
        self, stream: _Stream, time_ns: int, values: _Values, ts_event: int, recv_ns: int
    ) -> BarUpdate | None:
        o, h, low, c, v = values
        assert o is not None and h is not None and low is not None
        try:
            update = new_bar_update(
                stream.code, stream.label, time_ns, o, h, low, c, v or 0.0, ts_event, recv_ns
            )
        except InvalidEvent as exc:
            self._rejected += 1
            self._health.count(
                "rejected_update", "rejected %s@%s bar update: %s", stream.code, stream.label, exc
            )
            return None
        self._updates += 1
        return update

    def _seen_final(self, stream: _Stream, time_ns: int, values: _Values) -> None:
        known = _known(stream, time_ns)
        if known is None or known == values:
            self._duplicates += 1
            return
        self._corrections += 1
        self._health.count(
            "late_correction",
            "late correction ignored for final bar %s@%s at %s: %s -> %s",
            stream.code,
            stream.label,
            time_ns,
            known,
            values,
        )

    # -- ticks -------------------------------------------------------------------------------

    def _on_ticks(self, stream: _Stream, frame: SeriesFrame, recv_ns: int) -> Iterable[Bar]:
        start = stream.last_tick_ns
        before = stream.tick_boundary.copy() if start is not None else Counter[_TickKey]()
        here: Counter[_TickKey] = Counter()
        out: list[Bar] = []
        for point in sorted(frame.points, key=_time_of):
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
                self._health.count("rejected_tick", "rejected %s tick: %s", stream.code, exc)
                continue
            self._emitted += 1
            out.append(bar)
        return out
