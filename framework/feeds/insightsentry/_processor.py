"""Frames in, events out: the one path every InsightSentry frame takes, live or replayed.

:class:`FrameProcessor` decodes a text frame, assembles bars, merges quotes and turns
rejections into counted :class:`~framework.DataRejected` notifications. It is sans-IO and
deterministic: the same frames with the same receive times give the same events, which is why
a recording replays exactly what a paper run saw.

Connection changes are journalled as small JSON records; :func:`connection_payload` and
:func:`event_from_connection_payload` convert them both ways.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import attrs
import orjson

from ..._errors import DecodeError
from ..._events import Bar, DataRejected, Event, FeedConnected, FeedDisconnected
from ._bars import BarAssembler
from ._codec import (
    DEFAULT_MAX_BYTES,
    Frame,
    FrameKind,
    HeartbeatFrame,
    QuotesFrame,
    SeriesFrame,
    decode_frame,
    log_safe,
)
from ._quotes import QuoteBook
from ._subscriptions import SubscriptionSet

log = logging.getLogger(__name__)

#: Rejections logged at WARNING per reason before the rest go to DEBUG (all are counted).
LOGGED_PER_REASON = 10


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


class FrameProcessor:
    """Decodes frames into events for the subscribed streams.

    ``updates`` selects whether in-progress :class:`~framework.BarUpdate` events are produced
    (they are only useful to strategies that ask for them).
    """

    def __init__(
        self,
        subscriptions: SubscriptionSet | None,
        *,
        source: str,
        max_bytes: int = DEFAULT_MAX_BYTES,
        updates: bool = True,
    ) -> None:
        self.source = source
        self.max_bytes = max_bytes
        self.updates = updates
        self._bars = BarAssembler()
        self._quotes = QuoteBook()
        self._frames: Counter[str] = Counter()
        self._rejected: Counter[str] = Counter()
        self._counts = Counter[str]()
        self.set_subscriptions(subscriptions)

    def set_subscriptions(self, subscriptions: SubscriptionSet | None) -> None:
        """Accept data only for ``subscriptions`` (None: accept every code)."""
        if subscriptions is None:
            self._bars.set_streams(None)
            self._quotes.set_codes(None)
        else:
            self._bars.set_streams(subscriptions.series_keys)
            self._quotes.set_codes(subscriptions.quote_codes)

    def process(self, text: str, recv_ns: int) -> tuple[list[Event], Frame | None]:
        """Decode one frame; returns the events it yields and the frame (None if rejected)."""
        try:
            frame = decode_frame(text, max_bytes=self.max_bytes, recv_ns=recv_ns)
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
                events.extend(self._reject(r, recv_ns) for r in rejections)
            elif isinstance(frame, HeartbeatFrame):
                events.extend(self._bars.on_server_time(frame.server_time_ns, recv_ns))
        except DecodeError as exc:
            events.append(self._reject(exc, recv_ns))
        return events, frame

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
        )

    def _reject(self, error: DecodeError, recv_ns: int) -> DataRejected:
        self._rejected[error.reason] += 1
        count = self._rejected[error.reason]
        level = logging.WARNING if count <= LOGGED_PER_REASON else logging.DEBUG
        log.log(
            level,
            "%s: rejected frame (%s, #%d): %s",
            self.source,
            error.reason,
            count,
            error.detail,
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
