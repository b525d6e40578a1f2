"""The live InsightSentry feed: one resilient WebSocket connection at a time.

Per connection attempt (each phase under a deadline we own):

1. TCP connect, TLS handshake (always verified; plain ``ws://`` only to loopback), HTTP/1.1
   upgrade — together within ``connect_timeout``; the WebSocket is :mod:`._websocket`
   (``websockets``' sans-IO protocol over our Trio stream);
2. send the whole subscription set (the server keeps nothing across connections; every
   message replaces the set, so changes resend everything), through a rate limiter kept well
   below the server's 300 messages per 5 minutes;
3. read frames in a task that never waits on strategies, one batch per socket read: each frame
   is journalled first, then decoded by the shared :class:`FrameProcessor`, in order, and the
   batch's events go to an :class:`Outbox` together;
4. watch liveness: no data or heartbeat (pongs do not count) for ``idle_timeout`` ends the
   connection; per-symbol silence beyond ``stale_after`` is reported as :class:`FeedStale`;
5. close within ``close_timeout``, then drop the TCP connection regardless.

Failures are classified: per-subscription errors keep the connection; the server's delay hints
are a floor for the next attempt; eviction and connection limits back off at least 30 s;
rejected keys, missing entitlements, unknown fatal errors and certificate failures end the feed
with :class:`FeedTerminated` / :class:`FeedTLSError`. Between attempts the delay grows
exponentially with jitter (:class:`Backoff`).

With a :class:`HistoryClient` (``history=``) the feed also uses the REST API (see
:mod:`._history`): ``warmup_bars`` of history per bar series are fetched, journalled and
delivered between ``WarmupStarted`` and ``WarmupCompleted`` before the WebSocket connects
(within ``warmup_timeout``; a failure ends the feed with a :class:`~framework.HistoryError`),
and holes in bar streams are backfilled in background tasks, each within
``backfill_timeout``, while the reader goes on (newer bars of that stream wait in the
processor, never the socket). A backfill that fails becomes a ``BarGap``. The feed's stop
settles backfills still under way as failed, journalled, so the recording says how every hole
ended.

The API key is held as a :class:`~framework.recording.Secret`; it is revealed only to build the
subscription message (and the REST bearer header) and redacted before anything is journalled
or logged.
"""

from __future__ import annotations

import collections
import logging
import random
import ssl
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import attrs
import trio

from ..._errors import ConfigError, FeedTerminated, FeedTLSError, HistoryError, HistoryUnavailable
from ..._events import DataRejected, Event, FeedConnected, FeedDisconnected, FeedResumed, FeedStale
from ..._intervals import Interval
from ..._secret import Secret, as_secret, redact
from ...feeds._feed import EventBatch
from ...recording import RecordKind
from ._backoff import Backoff, BackoffPolicy
from ._codec import DEFAULT_MAX_BYTES, log_safe
from ._error_policy import classify_error
from ._frame_records import (
    ErrorFrame,
    EventFrame,
    Frame,
    FrameKind,
    QuotesFrame,
    SeriesFrame,
    StatusFrame,
)
from ._history import (
    WARMUP_COMPLETED,
    WARMUP_STARTED,
    BackfillRequest,
    marker_payload,
    rest_record,
    warmup_events,
)
from ._outbox import Outbox
from ._processor import DEFAULT_MAX_HELD, FrameProcessor, ProcessorStatistics, connection_payload
from ._rest import HistoryClient, SeriesRequest, SeriesResponse, is_loopback_host, parse_retry_after
from ._subscriptions import (
    API_KEY_NAME,
    Subscription,
    SubscriptionSet,
    WireDialect,
    encode_subscribe,
)
from ._websocket import (
    ClientWebSocket,
    UpgradeFailed,
    UpgradeRefused,
    WebSocketClosed,
    wrap_client_stream,
)

log = logging.getLogger(__name__)

DEFAULT_URL = "wss://realtime.insightsentry.com/live"

#: Signature of a journal's append: (kind, payload, recv_wall_ns, recv_mono_ns) -> seq.
Journal = Callable[[RecordKind, bytes, int, int], object]

#: Backfill requests in flight at once; more holes wait their turn (within their deadline).
BACKFILL_CONCURRENCY = 4


@attrs.frozen(slots=True, kw_only=True)
class LiveFeedConfig:
    """Deadlines (seconds) and limits of the live feed."""

    connect_timeout: float = 10.0
    close_timeout: float = 2.0
    idle_timeout: float = 30.0
    stale_after: float | None = 300.0
    max_frame_bytes: int = DEFAULT_MAX_BYTES
    #: Outbound messages allowed per ``message_window`` (server limit: under 300 per 5 min).
    message_budget: int = 200
    message_window: float = 300.0
    #: Rejected frames per minute on one connection before it is dropped and renewed.
    max_bad_frames_per_minute: int = 1_000
    backoff: BackoffPolicy = attrs.Factory(BackoffPolicy)
    #: Give up after this many consecutive failed attempts (None: keep trying).
    max_attempts: int | None = None
    dialect: WireDialect = WireDialect.CURRENT
    #: Deadline for the whole warm-up (every series, retries included).
    warmup_timeout: float = 60.0
    #: Deadline for filling one hole (retries included); then it becomes a BarGap.
    backfill_timeout: float = 30.0
    #: Events of one stream held behind a backfill before its hole is given up.
    max_held_events: int = DEFAULT_MAX_HELD


@attrs.frozen(slots=True, kw_only=True)
class LiveFeedStatistics:
    """Counters of a live feed."""

    state: str
    connects: int
    disconnects: int
    frames: int
    messages_sent: int
    conflated_quotes: int
    last_disconnect: str | None
    processor: ProcessorStatistics


class _EndConnection(Exception):
    """Internal: the current connection is over; reconnect after at least ``floor`` s."""

    def __init__(self, reason: str, floor: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.floor = floor


class InsightSentryFeed:
    """Live bars and quotes from InsightSentry's realtime WebSocket (``is_live = True``).

    ``journal``, when given, receives every inbound frame (before it is decoded or delivered),
    every outbound frame (redacted), every connection change and every REST answer used.
    ``ssl_context`` lets tests trust their own CA; verification itself cannot be switched off.
    ``history`` (not owned: the caller closes it) enables gap backfill (unless ``backfill`` is
    false) and, with ``warmup_bars`` > 0, the warm-up; see the module docstring.
    """

    is_live = True

    def __init__(
        self,
        subscriptions: Iterable[Subscription],
        *,
        api_key: Secret | str,
        url: str = DEFAULT_URL,
        config: LiveFeedConfig | None = None,
        journal: Journal | None = None,
        ssl_context: ssl.SSLContext | None = None,
        wall_clock: Callable[[], int] = time.time_ns,
        rng_seed: int | None = None,
        name: str = "insightsentry",
        updates: bool = True,
        history: HistoryClient | None = None,
        warmup_bars: int = 0,
        backfill: bool = True,
    ) -> None:
        self.name = name
        self.config = config or LiveFeedConfig()
        if type(warmup_bars) is not int or warmup_bars < 0:
            raise ConfigError(f"warmup_bars must be an integer >= 0, got {warmup_bars!r}")
        if warmup_bars and history is None:
            raise ConfigError("a warm-up needs the REST API: pass history=HistoryClient(...)")
        self._history = history
        self.warmup_bars = warmup_bars
        self._secret = as_secret(api_key, name=API_KEY_NAME)
        self._subscriptions = SubscriptionSet(subscriptions)
        self._codes = frozenset(s.code for s in self._subscriptions)
        self._url = url
        self._target = _parse_url(url)
        self._journal = journal
        self._ssl_context = ssl_context or ssl.create_default_context()
        self._wall = wall_clock
        self._processor = FrameProcessor(
            self._subscriptions,
            source=name,
            max_bytes=self.config.max_frame_bytes,
            updates=updates,
            backfill=history is not None and backfill,
            max_held=self.config.max_held_events,
        )
        self._backfill_limit = trio.CapacityLimiter(BACKFILL_CONCURRENCY)
        self._nursery: trio.Nursery | None = None
        self._backoff = Backoff(self.config.backoff, rng=random.Random(rng_seed))
        self._outbox = Outbox()
        self._changed = trio.Event()
        self._sent_times: collections.deque[float] = collections.deque()
        self._state = "idle"
        self._connects = self._disconnects = self._frames = 0
        self._last_disconnect: str | None = None
        self._last_frame = self._connected_at = 0.0
        self._last_seen: dict[str, float] = {}
        self._stale: set[str] = set()
        self._failed: set[str] = set()
        #: The current connection delivered market data (resets the backoff).
        self._delivered = False

    def __repr__(self) -> str:
        return f"<InsightSentryFeed {self.name} {self._url} state={self._state}>"

    # -- public ----------------------------------------------------------------------------

    @property
    def subscriptions(self) -> SubscriptionSet:
        return self._subscriptions

    def set_subscriptions(self, subscriptions: Iterable[Subscription]) -> None:
        """Replace the subscription set; validated now, sent on the live connection soon
        (changes made close together are coalesced into one message)."""
        self._subscriptions = SubscriptionSet(subscriptions)
        # The processor takes the new set when the message goes out (_send_subscriptions),
        # where the journal records it and its replay takes it too: frames of a dropped code
        # still in flight are decoded, and counted, alike in the session and in the replay.
        # A long session that rotates symbols keeps nothing for the codes it left.
        # In place: the reader holds these.
        codes = self._codes = frozenset(s.code for s in self._subscriptions)
        for code in [code for code in self._last_seen if code not in codes]:
            del self._last_seen[code]
        self._stale &= codes
        self._failed.clear()
        self._changed.set()

    def statistics(self) -> LiveFeedStatistics:
        return LiveFeedStatistics(
            state=self._state,
            connects=self._connects,
            disconnects=self._disconnects,
            frames=self._frames,
            messages_sent=len(self._sent_times),
            conflated_quotes=self._outbox.conflated,
            last_disconnect=self._last_disconnect,
            processor=self._processor.statistics(),
        )

    async def run(
        self,
        send: trio.MemorySendChannel[EventBatch],
        *,
        task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Warm up (if asked), then connect and stream until cancelled or a terminal error
        (raised as a FeedError). ``task_status.started()`` comes after the warm-up."""
        async with send:
            try:
                async with trio.open_nursery() as nursery:
                    self._nursery = nursery
                    nursery.start_soon(self._forward, send)
                    self._outbox.attach(send)
                    if self.warmup_bars:
                        await self._warm_up()
                    task_status.started()
                    await self._supervise()
            finally:
                self._outbox.attach(None)
                self._state = "closed"
                self._nursery = None
                for request in self._processor.pending_backfills():
                    self._settle_backfill(request, None, "the feed stopped before the answer came")
                # Everything journalled was decoded into the outbox before the reader could be
                # cancelled; hand it on so the run and its recording agree.
                rest = self._outbox.drain()
                self._processor.log_health_summary()
                if rest:
                    with trio.move_on_after(self.config.close_timeout, shield=True):
                        await send.send(rest)

    # -- supervision -----------------------------------------------------------------------

    async def _forward(self, send: trio.MemorySendChannel[EventBatch]) -> None:
        while (batch := await self._outbox.take()) is not None:
            try:
                await send.send(batch)
            except trio.Cancelled:
                # A cancelled send delivered nothing: keep the batch for the final flush.
                self._outbox.requeue(batch)
                raise

    async def _supervise(self) -> None:
        attempt = 0
        while True:
            attempt += 1
            self._state = "connecting"
            self._delivered = False
            started = trio.current_time()
            reason, floor, connected = await self._session(attempt)
            self._backoff.connection_ended(
                lasted=trio.current_time() - started if connected else 0.0,
                delivered_data=self._delivered,
            )
            if (
                self.config.max_attempts is not None
                and self._backoff.failures >= self.config.max_attempts
            ):
                raise FeedTerminated(
                    f"{self.name}: gave up after {self._backoff.failures} failed attempts "
                    f"(last: {reason})"
                )
            delay = self._backoff.next_delay(floor)
            self._disconnects += 1
            self._last_disconnect = reason
            self._state = "reconnecting"
            log.warning("%s: disconnected (%s); reconnecting in %.1f s", self.name, reason, delay)
            self._emit_connection(
                FeedDisconnected(
                    feed=self.name, reason=reason, reconnect_in=delay, ts_event=0, ts_recv=0
                )
            )
            await trio.sleep(delay)

    async def _session(self, attempt: int) -> tuple[str, float | None, bool]:
        """One connection from connect to teardown: (why it ended, delay floor, connected)."""
        connected = False
        # _connect stores the raw stream here as soon as it exists, so a deadline that strikes
        # mid-handshake still closes the socket.
        streams: list[trio.abc.Stream] = []
        ws: ClientWebSocket | None = None
        try:
            with trio.move_on_after(self.config.connect_timeout):
                ws = await self._connect(streams)
            if ws is None:
                phase = ("TCP connect", "TLS handshake", "upgrade")[len(streams)]
                raise _EndConnection(
                    f"no answer within {self.config.connect_timeout:g} s ({phase})"
                )
            connected = True
            self._connects += 1
            self._state = "connected"
            self._last_frame = self._connected_at = trio.current_time()
            self._emit_connection(
                FeedConnected(feed=self.name, attempt=attempt, ts_event=0, ts_recv=0)
            )
            await self._stream(ws)
            raise _EndConnection("stream ended")  # pragma: no cover - _stream only raises
        except _EndConnection as end:
            return end.reason, end.floor, connected
        finally:
            await self._teardown(ws, streams)

    async def _connect(self, streams: list[trio.abc.Stream]) -> ClientWebSocket:
        """TCP, TLS (for wss), upgrade; each stream is appended to ``streams`` once it exists
        (the TLS stream too, so that ``len(streams)`` names the phase under way)."""
        host, port, _, secure = self._target
        try:
            tcp = await trio.open_tcp_stream(host, port)
        except OSError as exc:
            raise _EndConnection(f"TCP connect to {host}:{port} failed: {exc}") from None
        streams.append(tcp)
        stream: trio.SocketStream | trio.SSLStream[trio.SocketStream] = tcp
        if secure:
            tls = trio.SSLStream(
                tcp, self._ssl_context, server_hostname=host, https_compatible=True
            )
            try:
                await tls.do_handshake()
            except trio.BrokenResourceError as exc:
                await trio.aclose_forcefully(tcp)
                cause = exc.__cause__
                if isinstance(cause, ssl.SSLCertVerificationError):
                    raise FeedTLSError(
                        f"{self.name}: TLS certificate of {host} did not verify: "
                        f"{cause.verify_message}"
                    ) from None
                raise _EndConnection(f"TLS handshake with {host} failed: {cause}") from None
            stream = tls
        streams.append(stream)
        try:
            # The transport's limit is in bytes, four times the codec's: a message between the
            # two reaches the codec, which rejects and counts it; beyond, the connection ends
            # (1009).
            return await wrap_client_stream(
                stream, self._url, max_message_bytes=4 * self.config.max_frame_bytes
            )
        except UpgradeRefused as exc:
            raise self._handshake_rejected(exc.status, exc.headers) from None
        except UpgradeFailed as exc:
            raise _EndConnection(f"WebSocket upgrade failed: {exc}") from None

    def _handshake_rejected(self, status: int, headers: dict[str, str]) -> Exception:
        if status in (408, 429) or status >= 500:
            return _EndConnection(
                f"upgrade refused with HTTP {status}",
                parse_retry_after(headers.get("retry-after"), self._wall),
            )
        return FeedTerminated(
            f"{self.name}: the server refused the connection with HTTP {status}; check the "
            "API key and plan (not retrying)"
        )

    async def _teardown(self, ws: ClientWebSocket | None, streams: list[trio.abc.Stream]) -> None:
        # The close handshake runs under a shield, so an engine stop still tells the server
        # goodbye, but never for longer than close_timeout.
        if ws is not None:
            with trio.move_on_after(self.config.close_timeout, shield=True):
                await ws.aclose()
        for stream in streams:
            # Close the TCP (and TLS) stream ourselves in every case: a deadline may have
            # struck mid-handshake, before any WebSocket owned it.
            with trio.CancelScope(shield=True):
                await trio.aclose_forcefully(stream)

    # -- one live connection ---------------------------------------------------------------

    async def _stream(self, ws: ClientWebSocket) -> None:
        """Run sender, watchdog and reader; returns only by raising _EndConnection."""
        ended: list[_EndConnection] = []

        async def guard(fn: Callable[[], Any]) -> None:
            try:
                await fn()
            except _EndConnection as end:
                ended.append(end)
                scope.cancel()

        with trio.CancelScope() as scope:
            async with trio.open_nursery() as tasks:
                self._changed.set()  # every new connection sends the whole set
                tasks.start_soon(guard, lambda: self._send_subscriptions(ws))
                tasks.start_soon(guard, self._watch)
                tasks.start_soon(guard, lambda: self._read(ws))
        raise ended[0] if ended else _EndConnection("connection closed")

    async def _send_subscriptions(self, ws: ClientWebSocket) -> None:
        while True:
            await self._changed.wait()
            self._changed = trio.Event()
            await self._rate_limit()
            subs = [s for s in self._subscriptions if s.code not in self._failed]
            if not subs:
                raise FeedTerminated(f"{self.name}: every subscription was refused by the server")
            text = encode_subscribe(self._secret.reveal(), subs, dialect=self.config.dialect)
            self._record(RecordKind.OUTBOUND, redact(text, self._secret).encode())
            self._processor.set_subscriptions(SubscriptionSet(subs))
            try:
                await ws.send_text(text)
            except WebSocketClosed as exc:
                raise _EndConnection(f"closed while subscribing: {_close_text(exc)}") from None
            self._sent_times.append(trio.current_time())
            log.info("%s: subscribed to %d streams", self.name, len(subs))

    async def _rate_limit(self) -> None:
        window, budget = self.config.message_window, self.config.message_budget
        sent = self._sent_times
        while True:
            now = trio.current_time()
            while sent and now - sent[0] >= window:
                sent.popleft()
            if len(sent) < budget:
                return
            await trio.sleep(sent[0] + window - now)

    async def _watch(self) -> None:
        config = self.config
        tick = min(1.0, config.idle_timeout / 4, (config.stale_after or 1.0) / 2)
        while True:
            await trio.sleep(tick)
            now = trio.current_time()
            silent = now - self._last_frame
            if silent >= config.idle_timeout:
                raise _EndConnection(f"no data or heartbeat for {silent:.1f} s")
            if config.stale_after is not None:
                self._check_stale(now, config.stale_after)

    def _check_stale(self, now: float, limit: float) -> None:
        events: list[Event] = []
        wall = self._wall()
        for sub in self._subscriptions:
            code = sub.code
            seen = self._last_seen.get(code, self._connected_at)
            if now - seen >= limit and code not in self._stale:
                self._stale.add(code)
                events.append(
                    FeedStale(
                        feed=self.name,
                        symbol=code,
                        silent_for=now - seen,
                        ts_event=wall,
                        ts_recv=wall,
                    )
                )
            elif now - seen < limit and code in self._stale:
                self._stale.discard(code)
                events.append(FeedResumed(feed=self.name, symbol=code, ts_event=wall, ts_recv=wall))
        if events:
            self._outbox.put(events)

    async def _read(self, ws: ClientWebSocket) -> None:
        """Take the frames of one socket read at a time: journal each (write-ahead), decode it,
        in order; hand the batch's events to the outbox together."""
        processor = self._processor
        outbox = self._outbox
        journal = self._journal
        last_seen = self._last_seen
        inbound = RecordKind.INBOUND
        wall_clock = self._wall
        bad_window: collections.deque[float] = collections.deque()
        max_bad = self.config.max_bad_frames_per_minute
        while True:
            try:
                messages = await ws.receive()
            except WebSocketClosed as exc:
                raise _EndConnection(_close_text(exc)) from None
            now = trio.current_time()
            wall = wall_clock()
            mono = int(now * 1e9)
            self._frames += len(messages)
            batch: list[Event] = []
            live = delivered = False  # any frame but a pong; market data
            backfill = processor.backfill
            try:
                for message in messages:
                    if message.__class__ is not str:
                        self._record(RecordKind.MARKER, b'{"marker":"binary_frame_dropped"}')
                        batch.append(
                            DataRejected(
                                source=self.name,
                                reason="binary_frame",
                                detail=f"{len(message)} bytes",
                                ts_event=wall,
                                ts_recv=wall,
                            )
                        )
                        continue
                    if journal is not None:  # written before decoding: the journal is write-ahead
                        journal(inbound, message.encode(), wall, mono)
                    events, frame = processor.process_live(message, wall)
                    if events:
                        batch += events
                    if isinstance(frame, str):  # a single-bar series frame, taken by the fast path
                        live = delivered = True
                        last_seen[frame] = now
                    elif frame is None:
                        bad_window.append(now)
                        while bad_window and now - bad_window[0] > 60:
                            bad_window.popleft()
                        if len(bad_window) > max_bad:
                            raise _EndConnection(f"{len(bad_window)} bad frames within a minute")
                    else:
                        live = live or frame.kind is not FrameKind.PONG
                        self._on_frame(frame, now, wall, batch)
                    if backfill:
                        self._start_backfills()
            except BaseException:
                # A frame that ends the connection (a server error, too many bad frames) does
                # not take the events of the frames journalled before it along: the run and
                # its recording agree.
                if delivered:
                    self._delivered = True
                if batch:
                    outbox.put(batch)
                raise
            if live:
                self._last_frame = now
            if delivered:
                self._delivered = True
            if batch and not outbox.put(batch):
                self._record(RecordKind.MARKER, b'{"marker":"consumer_overflow"}')
                raise _EndConnection("engine fell too far behind; resynchronising")

    def _on_frame(self, frame: Frame, now: float, wall: int, events: list[Event]) -> None:
        """What the reader does with a frame the general path decoded (appends to ``events``;
        may raise _EndConnection or FeedTerminated for a server error)."""
        if isinstance(frame, SeriesFrame):
            if frame.code in self._codes:
                self._last_seen[frame.code] = now
                self._delivered = True
        elif isinstance(frame, QuotesFrame):
            codes = self._codes
            for entry in frame.entries:
                if entry.code in codes:
                    self._last_seen[entry.code] = now
                    self._delivered = True
        elif isinstance(frame, ErrorFrame):
            events.extend(self._on_error(frame, wall))
        elif isinstance(frame, StatusFrame):
            log.info("%s: server says %s", self.name, log_safe(frame.text))
        elif isinstance(frame, EventFrame):
            log.info("%s: server event %s %s", self.name, frame.event, frame.status)

    def _on_error(self, frame: ErrorFrame, wall: int) -> list[Event]:
        decision = classify_error(frame)
        text = log_safe(f"{frame.error_code or ''} {frame.message}".strip())
        if decision.kind == "subscription":
            symbol = decision.symbol or frame.symbol
            log.warning("%s: subscription refused: %s", self.name, text)
            if symbol:
                self._failed.add(symbol)
            return [
                DataRejected(
                    source=self.name,
                    reason="subscription_refused",
                    detail=f"{symbol}: {text}",
                    ts_event=wall,
                    ts_recv=wall,
                )
            ]
        if decision.kind == "ignore_wait":
            log.warning("%s: server notice: %s", self.name, text)
            return []
        if decision.kind == "resend":
            log.warning("%s: server asks to resend (%s)", self.name, text)
            self._changed.set()
            return []
        if decision.kind in ("reconnect", "reconnect_slow"):
            floor = decision.delay_s
            if decision.kind == "reconnect_slow":
                floor = max(floor or 0.0, 30.0)
            raise _EndConnection(f"server error: {text}", floor)
        raise FeedTerminated(f"{self.name}: server error needs attention: {text} ({decision.why})")

    # -- history: warm-up and backfill -----------------------------------------------------

    async def _warm_up(self) -> None:
        history = self._history
        assert history is not None
        count = self.warmup_bars
        series = [s for s in self._subscriptions if s.type == "series" and s.interval.nanos]
        requests = [
            SeriesRequest.for_subscription(s, min(count + 1, history.config.max_dp)) for s in series
        ]
        self._record(RecordKind.MARKER, marker_payload(WARMUP_STARTED, feed=self.name, bars=count))
        results: dict[int, SeriesResponse | HistoryError] = {}

        async def fetch(index: int, request: SeriesRequest) -> None:
            try:
                results[index] = await history.fetch(request)
            except HistoryError as exc:
                results[index] = exc

        timeout = self.config.warmup_timeout
        with trio.move_on_after(timeout):
            async with trio.open_nursery() as nursery:
                for index, request in enumerate(requests):
                    nursery.start_soon(fetch, index, request)
        events: list[Event] = []
        for index, request in enumerate(requests):
            result = results.get(index)
            if not isinstance(result, SeriesResponse):
                error = result or HistoryUnavailable(
                    f"{request.name}: no answer within the warm-up deadline of {timeout:g} s"
                )
                self._record(
                    RecordKind.REST,
                    rest_record(
                        purpose="warmup", request=request, status=error.status, error=str(error)
                    ),
                )
                log.error("%s: warm-up failed: %s", self.name, error)
                raise error
            body = redact(result.text, self._secret)
            self._record(
                RecordKind.REST,
                rest_record(
                    purpose="warmup",
                    request=request,
                    body=body,
                    status=result.status,
                    attempts=result.attempts,
                ),
                result.recv_wall_ns,
            )
            events.extend(self._processor.process_history(body, result.recv_wall_ns))
        wall = self._wall()
        self._record(
            RecordKind.MARKER, marker_payload(WARMUP_COMPLETED, feed=self.name, bars=count), wall
        )
        delivered = warmup_events(self.name, count, events, wall)
        log.info("%s: warm-up delivered %d bars", self.name, len(delivered) - 2)
        self._outbox.put(delivered)

    def _start_backfills(self) -> None:
        for request in self._processor.take_backfill_requests():
            self._record(RecordKind.MARKER, request.marker())
            nursery = self._nursery
            if nursery is None:  # pragma: no cover - the reader runs inside run()
                continue
            nursery.start_soon(self._backfill, request)

    def _hole_request(self, request: BackfillRequest, dp: int) -> SeriesRequest:
        for sub in self._subscriptions:
            if sub.stream_key == request.stream:
                return SeriesRequest.for_subscription(sub, dp)
        return SeriesRequest(
            code=request.hole.code, interval=Interval.parse(request.hole.interval), bars=dp
        )

    async def _backfill(self, request: BackfillRequest) -> None:
        """Fetch one hole within ``backfill_timeout``; while an answer does not reach back to
        the hole (the feed reads behind the server, so the series moved on), ask again with
        twice the points, up to the plan's ``max_dp``. Settles the request whatever happens
        (except cancellation: then ``run`` settles it)."""
        history = self._history
        assert history is not None
        max_dp = history.config.max_dp
        response: SeriesResponse | None = None
        error: str | None = None
        timeout = self.config.backfill_timeout
        with trio.move_on_after(timeout) as scope:
            async with self._backfill_limit:
                dp = request.dp(self._processor.newest_open(*request.stream), max_dp)
                while True:  # dp doubles up to max_dp, so this ends
                    try:
                        response = await history.fetch(self._hole_request(request, dp))
                    except HistoryError as exc:
                        error = str(exc)
                        break
                    oldest = min((p.time_ns for p in response.frame.points), default=None)
                    if (oldest is not None and oldest <= request.hole.ts_from) or dp >= max_dp:
                        break
                    dp = min(max_dp, 2 * dp)
        if scope.cancelled_caught and response is None and error is None:
            error = f"no answer within the backfill deadline of {timeout:g} s"
        self._settle_backfill(request, response, None if response is not None else error)

    def _settle_backfill(
        self, request: BackfillRequest, response: SeriesResponse | None, error: str | None
    ) -> None:
        """Journal how a backfill ended, then let the processor release what it held."""
        if response is not None:
            body = redact(response.text, self._secret)
            payload = rest_record(
                purpose="backfill",
                request=response.request,
                body=body,
                status=response.status,
                attempts=response.attempts,
                request_id=request.id,
            )
            wall = response.recv_wall_ns
        else:
            body = None
            payload = rest_record(
                purpose="backfill",
                request=self._hole_request(request, 1),
                error=error or "request failed",
                request_id=request.id,
            )
            wall = self._wall()
        self._record(RecordKind.REST, payload, wall)
        events = self._processor.backfill_response(request.id, body, error, wall)
        if events:
            self._outbox.put(events)

    # -- journal and events ----------------------------------------------------------------

    def _record(
        self, kind: RecordKind, payload: bytes, wall: int | None = None, mono: int | None = None
    ) -> None:
        if self._journal is not None:
            self._journal(
                kind,
                payload,
                self._wall() if wall is None else wall,
                int(trio.current_time() * 1e9) if mono is None else mono,
            )

    def _emit_connection(self, event: FeedConnected | FeedDisconnected) -> None:
        wall = self._wall()
        event = attrs.evolve(event, ts_event=wall, ts_recv=wall)
        self._record(RecordKind.CONNECTION, connection_payload(event), wall)
        self._outbox.put([event])


def _parse_url(url: str) -> tuple[str, int, str, bool]:
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ConfigError(f"feed URL must be ws:// or wss:// with a host, got {url!r}")
    secure = parts.scheme == "wss"
    host = parts.hostname
    if not secure and not is_loopback_host(host):
        raise ConfigError(
            f"plain ws:// is allowed only to loopback addresses (got {host}); use wss://"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError("feed URL must not carry credentials, a query string or a fragment")
    port = parts.port or (443 if secure else 80)
    return host, port, parts.path or "/", secure


def _close_text(exc: WebSocketClosed) -> str:
    """Why a connection ended, for the disconnect reason (the server's text made log-safe)."""
    text = f"{exc.code} {exc.name}"
    if exc.reason:
        text = f"{text} {log_safe(exc.reason)}"
    if exc.code == 1006:
        return f"connection lost: {text}"
    return f"closed by server: {text}" if exc.by_peer else f"closed by us: {text}"
