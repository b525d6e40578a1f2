"""Frames in, events out: the one path every InsightSentry frame takes, live or replayed.

:class:`FrameProcessor` decodes a text frame, assembles bars, merges quotes and turns
rejections into counted :class:`~framework.DataRejected` notifications. It is sans-IO and
deterministic: the same frames with the same receive times give the same events, which is why
a recording replays exactly what a paper run saw.

With ``backfill``, the processor also watches for holes in bar streams: each hole opens a
:class:`~framework.adapters.insightsentry.BackfillRequest` (taken by the live feed with
:meth:`FrameProcessor.take_backfill_requests`), and every later bar or bar update of that
stream is held until :meth:`FrameProcessor.backfill_response` brings the answer: the
backfilled bars, then the held events, in order. Other streams are never held. At most
``max_held`` events wait per stream; past that the oldest hole is given up as a
:class:`~framework.BarGap` so memory stays bounded. REST answers for warm-up and downloads go
through :meth:`FrameProcessor.process_history`, the same decoder and assembler as frames.

Data problems (rejected frames, late corrections, bars given up as gaps) are counted by kind in
the processor's :class:`~._health.FeedHealth`: each kind is logged in full once, then only in
periodic summaries, and :meth:`FrameProcessor.log_health_summary` writes one line with every
count when the feed ends; :attr:`ProcessorStatistics.health` has the counts.

Per-stream state lives only as long as the stream's subscription:
:meth:`FrameProcessor.set_subscriptions` sizes what the assembler remembers of each stream by
the subscription's burst size and drops everything of the streams left out (their bars,
quotes, held events and backfill requests).

Connection changes are journalled as small JSON records; :func:`connection_payload` and
:func:`event_from_connection_payload` convert them both ways.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import orjson

from ..._errors import DecodeError
from ..._events import Bar, BarGap, BarUpdate, DataRejected, Event, FeedConnected, FeedDisconnected
from ..._intervals import Interval
from ...recording import RecordKind
from ._bars import BarAssembler, BarHole, history_window
from ._codec import DEFAULT_MAX_BYTES, decode_document, decode_frame, log_safe
from ._fast_path import SingleBar, single_bar_values
from ._frame_records import (
    Frame,
    FrameKind,
    HeartbeatFrame,
    QuotesFrame,
    SeriesFrame,
    SeriesPoint,
)
from ._health import FeedHealth
from ._history import BackfillRequest
from ._quotes import QuoteBook
from ._subscriptions import SubscriptionSet

log = logging.getLogger(__name__)

#: Events of one stream held while its backfill is under way, before the oldest hole is
#: given up (a live feed's backfill deadline normally ends the wait long before).
DEFAULT_MAX_HELD = 10_000

#: Byte limit for one REST answer (30000 bars are about 4 MB).
HISTORY_MAX_BYTES = 64 * 1024 * 1024


@attrs.frozen(slots=True, kw_only=True)
class ProcessorStatistics:
    """Frames seen by kind, rejections by reason, events produced."""

    frames: dict[str, int]
    rejected: dict[str, int]
    bars: int
    updates: int
    quotes: int
    duplicates: int
    corrections: int
    #: Bars delivered from REST answers to fill holes.
    backfilled: int = 0
    #: ``BarGap`` events delivered (holes that could not be filled, wholly or in part).
    gaps: int = 0
    #: Holes whose REST answer is still awaited.
    pending_backfills: int = 0
    #: Data problems by kind (:class:`~._health.FeedHealth`): ``late_correction``,
    #: ``rejected:<reason>`` for each ``DataRejected``, ``rejected_point``, ``rejected_bar``,
    #: ``rejected_update``, ``rejected_tick``, ``bar_gap``, ``held_dropped``, and in a replay
    #: ``replay_record_not_understood`` and ``replay_backfill_not_found``.
    health: Mapping[str, int] = attrs.field(factory=dict)


class _Slot:
    """A place in a stream's held events for the answer to one backfill request."""

    __slots__ = ("events", "request")

    def __init__(self, request: BackfillRequest) -> None:
        self.request = request
        self.events: list[Event] | None = None


class FrameProcessor:
    """Decodes frames into events for the subscribed streams.

    ``updates`` selects whether in-progress :class:`~framework.BarUpdate` events are produced
    (they are only useful to strategies that ask for them). ``backfill`` turns on hole
    detection and holding (see the module docstring).

    The most common frame (one bar of a stream already seen, see
    :func:`~._fast_path.single_bar_values`) takes a fast path from the parsed JSON straight to the
    assembler's state; it yields the same events and counts as the general path, which
    handles everything else. ``fast_path=False`` turns it off, to cross-check the two.

    Problems are counted in ``health`` (a :class:`~._health.FeedHealth` named after
    ``source`` when None), which also rate-limits their warnings.
    """

    def __init__(
        self,
        subscriptions: SubscriptionSet | None,
        *,
        source: str,
        max_bytes: int = DEFAULT_MAX_BYTES,
        updates: bool = True,
        backfill: bool = False,
        max_held: int = DEFAULT_MAX_HELD,
        fast_path: bool = True,
        health: FeedHealth | None = None,
    ) -> None:
        self.source = source
        self.max_bytes = max_bytes
        self.updates = updates
        self.backfill = backfill
        self.max_held = max_held
        self.fast_path = fast_path
        #: The values of the last frame the fast path took, for process() to build its record.
        self._taken: SingleBar = ("", "", 0, (0.0, 0.0, 0.0, 0.0, 0.0), 0, 0)
        # The fast path parses before applying the byte limit, so it takes only messages
        # short enough that no UTF-8 encoding of them can exceed it.
        self._fast_max_chars = max_bytes // 4 if fast_path else -1
        #: Where the processor counts data problems (read :attr:`ProcessorStatistics.health`).
        self.health = FeedHealth(source) if health is None else health
        self._health = self.health
        self._bars = BarAssembler(detect_gaps=backfill, health=self._health)
        self._next_request = 1
        self._new_requests: list[BackfillRequest] = []
        self._pending: dict[int, BackfillRequest] = {}
        self._held: dict[tuple[str, str], list[Event | _Slot]] = {}
        self._backfilled = self._gaps = 0
        self._quotes = QuoteBook()
        self._frames: Counter[str] = Counter()
        self._rejected: Counter[str] = Counter()
        self._counts = Counter[str]()
        self.set_subscriptions(subscriptions)

    def set_subscriptions(self, subscriptions: SubscriptionSet | None) -> None:
        """Accept data only for ``subscriptions`` (None: accept every code).

        Each series stream remembers as many final bars as its reconnect burst can repeat
        (:func:`~._bars.history_window` of its ``bars``). Everything held for a stream or code
        left out is dropped: its bar in progress and final bars, its quote snapshot, its
        backfill requests (a later answer to one settles nothing) and the events held behind
        them, which are never delivered (counted as ``held_dropped`` in the health).
        """
        if subscriptions is None:
            self._bars.set_streams(None)
            self._quotes.set_codes(None)
            return
        self._bars.set_streams(
            {
                sub.stream_key: history_window(sub.bars)
                for sub in subscriptions
                if sub.type == "series"
            }
        )
        self._quotes.set_codes(subscriptions.quote_codes)
        self._drop_backfills(subscriptions.series_keys)

    def _drop_backfills(self, keep: frozenset[tuple[str, str]]) -> None:
        self._new_requests = [r for r in self._new_requests if r.stream in keep]
        for request_id in [i for i, r in self._pending.items() if r.stream not in keep]:
            del self._pending[request_id]
        for key in [key for key in self._held if key not in keep]:
            queue = self._held.pop(key)
            dropped = sum(1 for item in queue if not isinstance(item, _Slot))
            if dropped:
                self._health.count(
                    "held_dropped",
                    "%d event(s) of %s@%s held for a backfill dropped: no longer subscribed",
                    dropped,
                    key[0],
                    key[1],
                )

    def log_health_summary(self) -> None:
        """Log one line with every problem counted since the processor was made (WARNING if
        there were any), with the last of those not yet logged; for the end of a feed."""
        self._health.log_summary()

    def process(self, text: str, recv_ns: int) -> tuple[list[Event], Frame | None]:
        """Decode one frame; returns the events it yields and the frame (None if rejected)."""
        events, frame = self.process_live(text, recv_ns)
        if isinstance(frame, str):
            code, label, time_ns, (o, h, low, c, v), bar_end_ns, update_ns = self._taken
            point = SeriesPoint(time_ns=time_ns, open=o, high=h, low=low, close=c, volume=v)
            frame = SeriesFrame(
                code=code,
                bar_label=label,
                bar_end_ns=bar_end_ns,
                last_update_ns=update_ns,
                points=(point,),
            )
        return events, frame

    def process_live(self, text: str, recv_ns: int) -> tuple[list[Event], Frame | str | None]:
        """As :meth:`process`, except that a frame the fast path took comes back as its code
        alone (a ``str``): all the live feed needs of it, without building the record."""
        doc = self._parse(text)
        if doc is not None:
            common = single_bar_values(doc)
            if common is not None:
                events = self._on_single_bar(common, recv_ns)
                if events is not None:
                    self._taken = common
                    return events, common[0]
        return self._process_general(text, doc, recv_ns)

    def process_recorded(
        self,
        entries: Sequence[tuple[RecordKind, int, bytes]],
        start: int,
        out: list[Event],
        limit: int,
    ) -> int:
        """Replay's bulk form of :meth:`process_events`: the inbound frames of ``entries``
        (``(kind, recv_wall_ns, payload)`` records, as :meth:`Recording.entry_batches
        <framework.recording.Recording.entry_batches>` gives them) from ``start`` on, their
        events appended to ``out`` in order, exactly those ``process_events(payload.decode(),
        recv_wall_ns)`` gives each. Stops before the first record of another kind, or after
        the frame that brings ``out`` to ``limit`` events. Returns the index of the first
        record not handled.

        The common frame takes the fast path straight from the payload's bytes, with the
        byte limit checked on the bytes themselves.
        """
        inbound = RecordKind.INBOUND
        count = len(entries)
        index = start
        if self.backfill or not self.fast_path:
            # Holes and holding need each frame's events on their own.
            while index < count:
                kind, recv_ns, payload = entries[index]
                if kind is not inbound:
                    break
                index += 1
                out += self.process_events(payload.decode("utf-8"), recv_ns)
                if len(out) >= limit:
                    break
            return index
        loads = orjson.loads
        not_json = orjson.JSONDecodeError
        max_bytes = self.max_bytes
        into = self._bars.bar_values_into
        updates = self.updates
        taken = 0
        try:
            while index < count:
                kind, recv_ns, payload = entries[index]
                if kind is not inbound:
                    break
                index += 1
                doc = None
                if len(payload) <= max_bytes:
                    try:
                        doc = loads(payload)
                    except not_json:
                        pass
                    else:
                        if doc.__class__ is dict:
                            common = single_bar_values(doc)
                            if common is not None and into(
                                out,
                                common[0],
                                common[1],
                                common[2],
                                common[3],
                                common[4],
                                common[5],
                                recv_ns,
                                updates,
                            ):
                                taken += 1
                                if len(out) >= limit:
                                    break
                                continue
                        else:
                            doc = None
                out += self._process_general(payload.decode("utf-8"), doc, recv_ns)[0]
                if len(out) >= limit:
                    break
        finally:
            if taken:
                self._frames["SERIES"] += taken
        return index

    def process_events(self, text: str, recv_ns: int) -> list[Event]:
        """``process(text, recv_ns)[0]``, without building the frame record where it can."""
        doc = self._parse(text)
        if doc is not None:
            common = single_bar_values(doc)
            if common is not None:
                events = self._on_single_bar(common, recv_ns)
                if events is not None:
                    return events
        return self._process_general(text, doc, recv_ns)[0]

    def _parse(self, text: str) -> dict[str, Any] | None:
        """The JSON object of a message the fast path may take, else None (then the general
        path parses it again and reports what is wrong)."""
        if type(text) is not str or len(text) > self._fast_max_chars:
            return None
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
        return doc if type(doc) is dict else None

    def _on_single_bar(self, common: SingleBar, recv_ns: int) -> list[Event] | None:
        code, label, time_ns, values, bar_end_ns, update_ns = common
        produced = self._bars.on_bar_values(
            code, label, time_ns, values, bar_end_ns, update_ns, recv_ns
        )
        if produced is None:
            return None
        self._frames["SERIES"] += 1
        events: list[Event] = produced  # type: ignore[assignment]  # only read from here on
        if not self.updates:
            events = [e for e in events if e.__class__ is Bar]
        if self.backfill:
            events = self._route(events, recv_ns)
        return events

    def _process_general(
        self, text: str, doc: dict[str, Any] | None, recv_ns: int
    ) -> tuple[list[Event], Frame | None]:
        try:
            if doc is None:
                frame = decode_frame(text, max_bytes=self.max_bytes, recv_ns=recv_ns)
            else:
                frame = decode_document(doc, recv_ns=recv_ns)
        except DecodeError as exc:
            self._frames[FrameKind.INVALID.name] += 1
            return [self._reject(exc, recv_ns)], None
        self._frames[frame.kind.name] += 1
        events: list[Event] = []
        try:
            if isinstance(frame, SeriesFrame):
                for point in frame.rejected:
                    events.append(self._reject(point, recv_ns))
                produced = self._bars.on_series(frame, recv_ns)
                if self.updates:
                    events.extend(produced)
                else:
                    events.extend(e for e in produced if isinstance(e, Bar))
            elif isinstance(frame, QuotesFrame):
                for entry in frame.rejected:
                    events.append(self._reject(entry, recv_ns))
                quotes, rejections = self._quotes.on_quotes(frame, recv_ns)
                events.extend(quotes)
                # The book's list starts with frame.rejected, reported just above.
                own = rejections[len(frame.rejected) :]
                events.extend(self._reject(r, recv_ns) for r in own)
            elif isinstance(frame, HeartbeatFrame):
                events.extend(self._bars.on_server_time(frame.server_time_ns, recv_ns))
        except DecodeError as exc:
            events.append(self._reject(exc, recv_ns))
        if self.backfill:
            events = self._route(events, recv_ns)
        return events, frame

    def process_history(self, text: str, recv_ns: int) -> list[Event]:
        """Fold a REST series answer in: its final bars (and rejections), no updates.

        The newest point stays in the assembler as the open bar, which live frames continue.
        Anything but a series document is rejected.
        """
        try:
            frame = decode_frame(text, max_bytes=HISTORY_MAX_BYTES, recv_ns=recv_ns)
        except DecodeError as exc:
            return [self._reject(exc, recv_ns)]
        if not isinstance(frame, SeriesFrame):
            return [self._reject(DecodeError("bad_field", "REST answer is not a series"), recv_ns)]
        events: list[Event] = [self._reject(point, recv_ns) for point in frame.rejected]
        try:
            events.extend(e for e in self._bars.on_series(frame, recv_ns) if isinstance(e, Bar))
        except DecodeError as exc:
            events.append(self._reject(exc, recv_ns))
        self._bars.take_holes()  # a first answer has nothing before it to miss
        return events

    # -- backfill ----------------------------------------------------------------------------

    def take_backfill_requests(self) -> list[BackfillRequest]:
        """Holes found since the last call, each to be answered with :meth:`backfill_response`."""
        requests, self._new_requests = self._new_requests, []
        return requests

    def pending_backfills(self) -> list[BackfillRequest]:
        """Requests still awaiting their answer, oldest first."""
        return [self._pending[key] for key in sorted(self._pending)]

    def newest_open(self, code: str, interval: str) -> int | None:
        """Open time of the newest bar known for a stream (final, held or in progress)."""
        return self._bars.newest_open(code, interval)

    def backfill_response(
        self, request_id: int, text: str | None, error: str | None, recv_ns: int
    ) -> list[Event]:
        """Settle a backfill: ``text`` is the REST answer (None when the request failed, with
        ``error`` saying why). Returns what the stream can now deliver: backfilled bars (or a
        ``BarGap`` for what could not be filled), then the events held behind them. An unknown
        or already settled ``request_id`` (given up by the holding limit) yields nothing.
        """
        request = self._pending.pop(request_id, None)
        if request is None:
            return []
        hole = request.hole
        fill: list[Event] = []
        if text is None:
            fill.append(
                self._gap(hole, hole.ts_from, hole.ts_to, error or "request failed", recv_ns)
            )
            return self._settle(request, fill)
        try:
            frame = decode_frame(text, max_bytes=HISTORY_MAX_BYTES, recv_ns=recv_ns)
        except DecodeError as exc:
            fill.append(self._reject(exc, recv_ns))
            fill.append(self._gap(hole, hole.ts_from, hole.ts_to, "answer rejected", recv_ns))
            return self._settle(request, fill)
        if not isinstance(frame, SeriesFrame):
            fill.append(
                self._gap(hole, hole.ts_from, hole.ts_to, "answer is not a series", recv_ns)
            )
            return self._settle(request, fill)
        fill.extend(self._reject(point, recv_ns) for point in frame.rejected)
        bars, oldest = self._bars.backfill(frame, hole, recv_ns)
        if oldest is None or oldest > hole.ts_from:
            size = Interval.parse(hole.interval).nanos or 0
            last = hole.ts_to if oldest is None else min(hole.ts_to, oldest - size)
            fill.append(self._gap(hole, hole.ts_from, last, "answer does not reach back", recv_ns))
        self._backfilled += len(bars)
        fill.extend(bars)
        if bars:
            log.info(
                "%s: backfilled %d bar(s) of %s@%s",
                self.source,
                len(bars),
                hole.code,
                hole.interval,
            )
        return self._settle(request, fill)

    def _gap(self, hole: BarHole, ts_from: int, ts_to: int, why: str, recv_ns: int) -> BarGap:
        self._gaps += 1
        self._health.count(
            "bar_gap",
            "bars of %s@%s from %d to %d are missing: %s",
            hole.code,
            hole.interval,
            ts_from,
            ts_to,
            log_safe(why),
        )
        return BarGap(
            symbol=hole.code,
            interval=hole.interval,
            ts_from=ts_from,
            ts_to=ts_to,
            ts_event=recv_ns,
            ts_recv=recv_ns,
        )

    def _route(self, events: list[Event], recv_ns: int) -> list[Event]:
        """Open requests for new holes and hold the events of streams waiting for one."""
        holes = self._bars.take_holes()
        held = self._held
        if not holes and not held:
            return events
        new: dict[tuple[str, str], list[BackfillRequest]] = {}
        for hole in holes:
            request = BackfillRequest(id=self._next_request, hole=hole)
            self._next_request += 1
            self._pending[request.id] = request
            self._new_requests.append(request)
            new.setdefault(request.stream, []).append(request)
        out: list[Event] = []
        for event in events:
            cls = event.__class__
            if cls is Bar or cls is BarUpdate:
                key = (event.symbol, event.interval)  # type: ignore[attr-defined]
                waiting = new.get(key)
                while waiting and event.ts_open > waiting[0].hole.ts_to:  # type: ignore[attr-defined]
                    held.setdefault(key, []).append(_Slot(waiting.pop(0)))
                queue = held.get(key)
                if queue:
                    queue.append(event)
                    if len(queue) > self.max_held:
                        out.extend(self._give_up(key, recv_ns))
                    continue
            out.append(event)
        for key, waiting in new.items():
            for request in waiting:
                held.setdefault(key, []).append(_Slot(request))
        return out

    def _give_up(self, key: tuple[str, str], recv_ns: int) -> list[Event]:
        for item in self._held.get(key, ()):
            if isinstance(item, _Slot) and item.events is None:
                request = item.request
                self._pending.pop(request.id, None)
                hole = request.hole
                gap = self._gap(hole, hole.ts_from, hole.ts_to, "held too many events", recv_ns)
                return self._settle(request, [gap])
        return []

    def _settle(self, request: BackfillRequest, fill: list[Event]) -> list[Event]:
        queue = self._held.get(request.stream)
        if queue is None:
            return fill
        for item in queue:
            if isinstance(item, _Slot) and item.request.id == request.id:
                item.events = fill
                break
        released: list[Event] = []
        done = 0
        for item in queue:
            if isinstance(item, _Slot):
                if item.events is None:
                    break
                released.extend(item.events)
            else:
                released.append(item)
            done += 1
        del queue[:done]
        if not queue:
            del self._held[request.stream]
        return released

    def statistics(self) -> ProcessorStatistics:
        bars = self._bars.statistics()
        return ProcessorStatistics(
            frames=dict(self._frames),
            rejected=dict(self._rejected),
            bars=bars.emitted,
            updates=bars.updates,
            quotes=self._quotes.statistics().quotes,
            duplicates=bars.duplicates,
            corrections=bars.corrections,
            backfilled=self._backfilled,
            gaps=self._gaps,
            pending_backfills=len(self._pending),
            health=self._health.counts(),
        )

    def _reject(self, error: DecodeError, recv_ns: int) -> DataRejected:
        self._rejected[error.reason] += 1
        self._health.count(
            "rejected:" + error.reason, "rejected frame (%s): %s", error.reason, error.detail
        )
        return DataRejected(
            source=self.source,
            reason=error.reason,
            detail=log_safe(error.detail),
            ts_event=recv_ns,
            ts_recv=recv_ns,
        )


def connection_payload(event: FeedConnected | FeedDisconnected) -> bytes:
    """The journal record of a connection change."""
    doc: dict[str, Any]
    if isinstance(event, FeedConnected):
        doc = {"event": "connected", "feed": event.feed, "attempt": event.attempt}
    else:
        doc = {
            "event": "disconnected",
            "feed": event.feed,
            "reason": event.reason,
            "reconnect_in": event.reconnect_in,
        }
    return orjson.dumps(doc)


def event_from_connection_payload(payload: bytes, ts: int) -> Event | None:
    """Rebuild the event of a connection record; None for records of other shapes."""
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(doc, dict):
        return None
    if doc.get("event") == "connected":
        return FeedConnected(
            feed=str(doc.get("feed", "")),
            attempt=int(doc.get("attempt", 0)),
            ts_event=ts,
            ts_recv=ts,
        )
    if doc.get("event") == "disconnected":
        delay = doc.get("reconnect_in")
        return FeedDisconnected(
            feed=str(doc.get("feed", "")),
            reason=str(doc.get("reason", "")),
            reconnect_in=float(delay) if isinstance(delay, int | float) else None,
            ts_event=ts,
            ts_recv=ts,
        )
    return None
