"""Replay of a recorded InsightSentry session through the live code path.

:class:`RecordingFeed` reads a ``.twrec`` journal and passes every inbound frame, with its
recorded receive time, through the same :class:`FrameProcessor` the live feed uses; recorded
connection changes become the same feed-health events. REST answers are replayed where they
were journalled: warm-up answers between their ``warmup_started``/``warmup_completed`` markers
(delivered as the same ``WarmupStarted`` .. ``WarmupCompleted`` run), backfill answers settling
the same holes (the processor finds them again: a recording whose header says ``backfill``
replays with hole detection on), and ``history`` answers (``tradewire history --out x.twrec``)
as plain final bars. A recording that ends with a backfill unanswered (the session was killed)
drops the bars held behind it, as the session never delivered them. A paper session's timer
firings are replayed where they happened (:mod:`framework.feeds._recorded_timers`). It runs
in simulated time, as fast as possible or paced (``speed=1`` is real time, ``speed=10`` ten
times faster). Data problems met on the way are counted in the processor's feed health, and
one line summing them up is logged when the replay ends.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

import trio

from ..._errors import RecordingError, SubscriptionError
from ..._events import Event
from ...feeds._feed import REPLAY_BATCH_SIZE, EventBatch
from ...feeds._recorded_timers import (
    TimerPlayback,
    header_meta,
    read_recorded_timers,
    recorded_timer_strategies,
)
from ...recording import Recording, RecordKind, read_recording
from ._codec import log_safe
from ._history import (
    BACKFILL_REQUESTED,
    WARMUP_COMPLETED,
    WARMUP_STARTED,
    parse_marker,
    parse_rest_record,
    warmup_events,
)
from ._processor import FrameProcessor, ProcessorStatistics, event_from_connection_payload
from ._subscriptions import SubscriptionSet, parse_subscribe

log = logging.getLogger(__name__)


class RecordingFeed:
    """A replay feed over one recording. Corruption in the middle of the file stops the run
    with :class:`~framework.RecordingCorrupted`; a torn tail is reported and skipped."""

    is_live = False

    def __init__(
        self, path: str | Path, *, speed: float | None = None, updates: bool = True
    ) -> None:
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be positive, got {speed!r}")
        self.path = Path(path)
        self.name = f"recording:{self.path.name}"
        self.speed = speed
        self.updates = updates
        self._processor = FrameProcessor(None, source=self.name, updates=updates)
        self._warmup: list[Event] | None = None

    def statistics(self) -> ProcessorStatistics:
        return self._processor.statistics()

    @functools.cached_property
    def recorded_timer_strategies(self) -> frozenset[str]:
        """The strategies of the recorded paper session, whose timers this replay fires where
        the session did (the engine then never fires them by event time)."""
        try:
            return recorded_timer_strategies(header_meta(self.path))
        except (OSError, RecordingError):
            return frozenset()  # run() reports what is wrong with the file

    async def run(
        self,
        send: trio.MemorySendChannel[EventBatch],
        *,
        task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        async with send:
            recording = read_recording(self.path)
            report = recording.report
            if report.torn_tail_bytes:
                log.warning(
                    "%s: torn tail of %d bytes after seq %d ignored (%s)",
                    self.path,
                    report.torn_tail_bytes,
                    report.last_good_seq,
                    report.torn_tail_reason,
                )
            if recording.meta.get("backfill"):
                self._processor = FrameProcessor(
                    None, source=self.name, updates=self.updates, backfill=True
                )
            task_status.started()
            timers = TimerPlayback(
                read_recorded_timers(recording) if self.recorded_timer_strategies else ()
            )
            try:
                await self._replay(recording, timers, send)
            finally:
                self._processor.log_health_summary()

    async def _replay(
        self,
        recording: Recording,
        timers: TimerPlayback,
        send: trio.MemorySendChannel[EventBatch],
    ) -> None:
        if self.speed is not None or timers:
            await self._replay_each(recording, timers, send)
            return
        # Runs of frames go to the processor in bulk; a batch is sent once it holds
        # REPLAY_BATCH_SIZE events, after the same frame as one record at a time would.
        process_recorded = self._processor.process_recorded
        inbound = RecordKind.INBOUND
        size = REPLAY_BATCH_SIZE
        batch: list[Event] = []
        for entries in recording.entry_batches():
            index = 0
            count = len(entries)
            while index < count:
                kind, ts, payload = entries[index]
                if kind is inbound:
                    index = process_recorded(entries, index, batch, size)
                else:
                    index += 1
                    batch += self._replay_other(kind, ts, payload)
                if len(batch) >= size:
                    await send.send(batch)
                    batch = []
        if batch:
            await send.send(batch)

    async def _replay_each(
        self,
        recording: Recording,
        timers: TimerPlayback,
        send: trio.MemorySendChannel[EventBatch],
    ) -> None:
        """One record at a time: paced (``speed``), or placing recorded timer firings."""
        process = self._processor.process_events
        inbound = RecordKind.INBOUND
        batch: list[Event] = []
        first_wall: int | None = None
        started = trio.current_time()
        for kind, ts, payload in recording.entries():
            if self.speed is not None:
                if first_wall is None:
                    first_wall = ts
                due = started + (ts - first_wall) / 1e9 / self.speed
                if due > trio.current_time():
                    if batch:
                        await send.send(batch)
                        batch = []
                    await trio.sleep_until(due)
            if kind is inbound:
                events = process(payload.decode("utf-8"), ts)
            else:
                events = self._replay_other(kind, ts, payload)
            batch += timers.place(events) if timers else events
            if len(batch) >= REPLAY_BATCH_SIZE:
                await send.send(batch)
                batch = []
        batch += timers.rest()
        if batch:
            await send.send(batch)

    def _replay_other(self, kind: RecordKind, ts: int, payload: bytes) -> list[Event]:
        """The events of a record other than an inbound frame."""
        if kind is RecordKind.OUTBOUND:
            self._follow_subscriptions(payload)
        elif kind is RecordKind.CONNECTION:
            event = event_from_connection_payload(payload, ts)
            if event is not None:
                return [event]
        elif kind is RecordKind.REST:
            return self._replay_rest(payload, ts)
        elif kind is RecordKind.MARKER:
            return self._replay_marker(payload, ts)
        return []

    def _replay_rest(self, payload: bytes, ts: int) -> list[Event]:
        try:
            head, body = parse_rest_record(payload)
        except ValueError as exc:
            self._processor.health.count(
                "replay_record_not_understood", "REST record not understood: %s", exc
            )
            return []
        purpose = head["purpose"]
        processor = self._processor
        if purpose == "backfill":
            request_id = head.get("id")
            if not isinstance(request_id, int) or not processor.backfill:
                return []
            return processor.backfill_response(request_id, body, head.get("error"), ts)
        if body is None:
            return []
        events = processor.process_history(body, ts)
        if purpose == "warmup" and self._warmup is not None:
            self._warmup.extend(events)
            return []
        return events

    def _replay_marker(self, payload: bytes, ts: int) -> list[Event]:
        doc = parse_marker(payload)
        name = None if doc is None else doc.get("marker")
        if doc is None or name is None:
            return []
        if name == WARMUP_STARTED:
            self._warmup = []
        elif name == WARMUP_COMPLETED and self._warmup is not None:
            events, self._warmup = self._warmup, None
            return warmup_events(str(doc.get("feed", "")), int(doc.get("bars", 0)), events, ts)
        elif name == BACKFILL_REQUESTED:
            found = {r.id for r in self._processor.take_backfill_requests()}
            if doc.get("id") not in found:
                self._processor.health.count(
                    "replay_backfill_not_found",
                    "the recording asked for backfill %s that replay did not find; this "
                    "tradewire version assembles bars differently from the recording's",
                    log_safe(doc.get("id")),
                )
        return []

    def _follow_subscriptions(self, payload: bytes) -> None:
        text = payload.decode("utf-8", errors="replace")
        if text.strip() == "ping":
            return
        try:
            _, subscriptions = parse_subscribe(text)
        except SubscriptionError as exc:
            self._processor.health.count(
                "replay_record_not_understood",
                "recorded subscription message not understood: %s",
                exc,
            )
            return
        self._processor.set_subscriptions(SubscriptionSet(subscriptions))
