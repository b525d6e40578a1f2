"""One client connection to the simulated InsightSentry server.

A task per TCP connection (started by the server's ``trio.serve_listeners``) runs the
handshake, then three child tasks: trio-websocket's reader, our reader (client messages into a
bounded queue) and an actor that owns every frame sent, so frame order, frame counting and
faults are decided in one place. The server's market clock wakes the actor when the market
moved (:meth:`Connection.notify_market`); faults injected at runtime reach it as commands
(:meth:`Connection.submit`).

What a connection needs from its server is the :class:`ConnectionHost` protocol, so this
module does not import the server's.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Sequence, Set
from typing import Any, Final, NoReturn, Protocol

import orjson
import trio
from trio_websocket import (
    ConnectionClosed,
    WebSocketConnection,
    WebSocketRequest,
    wrap_server_stream,
)

from ....testing._market import SyntheticMarket
from .._encode import encode_frame
from .._frame_records import EventFrame, HeartbeatFrame, StatusFrame
from .._subscriptions import INVALID_SUBSCRIPTIONS_TEXT
from ._config import UPGRADE_FAULTS, Fault, FaultSpec, SimConfig
from ._data_frames import DataFrames
from ._statistics import ConnectionStatistics
from ._stream import ControlledStream
from ._subscribe import read_subscriptions
from ._wire import error_close_code, error_text, hostile_frame

logger = logging.getLogger(__name__)

#: Client messages our reader may queue ahead of the actor before it stops reading.
CLIENT_QUEUE_SIZE: Final = 32

_INF: Final = math.inf


class ConnectionHost(Protocol):
    """What a connection needs from the server that accepted it (a ``SimulatedServer``)."""

    @property
    def config(self) -> SimConfig: ...

    @property
    def market(self) -> SyntheticMarket: ...

    @property
    def api_keys(self) -> Set[str] | None: ...

    @property
    def received(self) -> list[tuple[int, str]]: ...

    def sim_time_ns(self) -> int: ...

    def advance_market_to(self, ts: int) -> None: ...

    def take_upgrade_fault(self, connection_id: int) -> FaultSpec | None: ...

    def live_connections(self) -> Sequence[Connection]: ...

    def wake_waiters(self) -> None: ...


class _Finished(Exception):
    """Internal: the connection is over; ``outcome`` says why."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


class Command:
    """A fault injected at runtime, and the event set once the connection acted on it."""

    __slots__ = ("done", "spec")

    def __init__(self, spec: FaultSpec) -> None:
        self.spec = spec
        self.done = trio.Event()


class _Wakeup:
    """A reusable, level-triggered wake-up: ``set`` before ``wait`` is not lost."""

    def __init__(self) -> None:
        self._event = trio.Event()

    def set(self) -> None:
        self._event.set()

    async def wait(self) -> None:
        await self._event.wait()
        self._event = trio.Event()


class Connection:
    """One client connection; see the module docstring for its tasks."""

    def __init__(self, server: ConnectionHost, connection_id: int, raw: trio.SocketStream) -> None:
        self.server = server
        self.config = server.config
        self.id = connection_id
        self.stream = ControlledStream(raw)
        self.work_scope = trio.CancelScope()
        self.ws: WebSocketConnection | None = None
        self.path: str | None = None
        self.api_key: str | None = None
        self.is_open = True
        self.outcome: str | None = None
        self.close_code: int | None = None
        self.frames_sent = 0
        self.messages_received = 0
        self.opened_at = trio.current_time()
        self.closed_at: float | None = None
        self.dropped = False
        # actor state
        self._wake = _Wakeup()
        self._reader_resume = _Wakeup()
        self._client_messages: deque[str] = deque()
        self._commands: deque[Command] = deque()
        self._out: deque[str] = deque()
        self._scheduled = [
            spec
            for spec in self.config.all_faults()
            if spec.fault not in UPGRADE_FAULTS and spec.applies_to(connection_id)
        ]
        self._stalled = False
        self._stall_until = _INF
        self._peer_gone = False
        self._market_dirty = False
        self._greeted = False
        self._subscribed_once = False
        self._requests = 0
        self._next_heartbeat = _INF
        self._data = DataFrames(self.config)
        self._replay_index: int | None = None
        self._next_replay = _INF

    # -- bookkeeping -------------------------------------------------------------------------

    def statistics(self) -> ConnectionStatistics:
        return ConnectionStatistics(
            connection_id=self.id,
            path=self.path,
            api_key=self.api_key,
            is_open=self.is_open,
            outcome=self.outcome,
            close_code=self.close_code,
            frames_sent=self.frames_sent,
            bytes_sent=self.stream.bytes_sent,
            messages_received=self.messages_received,
            opened_at=self.opened_at,
            closed_at=self.closed_at,
        )

    def notify_market(self) -> None:
        if self._data.subscriptions:
            self._market_dirty = True
            self._wake.set()

    def submit(self, command: Command) -> bool:
        """Queue a fault command; False if the connection cannot act on it any more."""
        if not self.is_open or self.ws is None:
            return False
        self._commands.append(command)
        self._wake.set()
        return True

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve the connection; the caller shields this, shutdown cancels ``work_scope``."""
        try:
            async with trio.open_nursery() as ws_nursery:
                try:
                    with self.work_scope:
                        await self._run(ws_nursery)
                    if self.work_scope.cancelled_caught and self.outcome is None:
                        self.outcome = "shutdown"
                finally:
                    await self._finish()
                    ws_nursery.cancel_scope.cancel()
        finally:
            self.is_open = False
            self.closed_at = trio.current_time()
            for command in self._commands:
                command.done.set()
            self._commands.clear()
            self.server.wake_waiters()

    async def _run(self, ws_nursery: trio.Nursery) -> None:
        upgrade = self.server.take_upgrade_fault(self.id)
        if upgrade is not None and upgrade.fault is Fault.SILENT_UPGRADE:
            self.outcome = "silent"
            if upgrade.duration is None:
                await trio.sleep_forever()
            await trio.sleep(upgrade.duration)
            return
        request: WebSocketRequest | None = None
        with trio.move_on_after(self.config.handshake_timeout):
            request = await wrap_server_stream(ws_nursery, self.stream)
        if request is None:
            self.outcome = "handshake_timeout"
            return
        self.path = request.path
        if request.path.split("?", 1)[0] != self.config.path:
            self.outcome = "not_found"
            await request.reject(404, body=b"Not Found")
            return
        if upgrade is not None:
            self.outcome = "rejected"
            headers = []
            if upgrade.retry_after is not None:
                headers.append((b"Retry-After", f"{upgrade.retry_after:g}".encode()))
            await request.reject(upgrade.status, extra_headers=headers, body=upgrade.body)
            return
        self.ws = await request.accept()
        self.server.wake_waiters()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._read_loop)
            if self.config.ping_interval is not None:
                nursery.start_soon(self._ping_loop, self.config.ping_interval)
            try:
                await self._actor()
            except _Finished as finished:
                if self.outcome is None:
                    self.outcome = finished.outcome
            nursery.cancel_scope.cancel()

    async def _finish(self) -> None:
        """Close what is still open: a close handshake within ``close_grace``, then TCP."""
        ws = self.ws
        if ws is not None and ws.closed is None and not self.dropped and not self._stalled:
            self.close_code = 1001
            with trio.move_on_after(self.config.close_grace):
                await ws.aclose(1001, "server shutting down")
        elif self.dropped or self._stalled:
            self.close_code = self.close_code or 1006
        await self.stream.aclose()

    # -- the reader --------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        ws = self.ws
        assert ws is not None
        while True:
            while len(self._client_messages) >= CLIENT_QUEUE_SIZE:
                await self._reader_resume.wait()
            try:
                message = await ws.get_message()
            except ConnectionClosed as closed:
                if self.close_code is None and closed.reason is not None:
                    self.close_code = int(closed.reason.code)
                self._peer_gone = True
                self._wake.set()
                return
            text = message if isinstance(message, str) else message.decode("utf-8", "replace")
            self.messages_received += 1
            self.server.received.append((self.id, text))
            self.server.wake_waiters()
            self._client_messages.append(text)
            self._wake.set()

    async def _ping_loop(self, interval: float) -> None:
        ws = self.ws
        assert ws is not None
        while True:
            await trio.sleep(interval)
            if self._stalled:
                continue
            with trio.move_on_after(self.config.ping_timeout) as scope:
                try:
                    await ws.ping()
                except ConnectionClosed:
                    return
            if scope.cancelled_caught and not self._stalled:
                self.submit(Command(FaultSpec(fault=Fault.CLOSE, code=1011, reason="ping timeout")))
                return

    # -- the actor ---------------------------------------------------------------------------

    async def _actor(self) -> None:
        if self.config.greeting == "on_open" and self.config.replay_frames is None:
            self._greet()
        await self._pump()
        while True:
            with trio.move_on_at(self._deadline()):
                await self._wake.wait()
            while self._commands:
                command = self._commands.popleft()
                try:
                    await self._apply(command.spec)
                finally:
                    command.done.set()
            now = trio.current_time()
            if self._stalled and now >= self._stall_until:
                self._unstall()
            if self._stalled:
                continue
            if self._peer_gone and not self._client_messages:
                raise _Finished("client_closed")
            while self._client_messages and not self._stalled:
                text = self._client_messages.popleft()
                self._reader_resume.set()
                await self._handle_client(text)
                await self._pump()
            if self._stalled:
                continue
            heartbeat_due = now >= self._next_heartbeat
            if heartbeat_due:
                # server_time closes every bar that ended by then (the client needs no newer
                # bar to see it), so each trade up to it must be sent first, however late the
                # market clock task runs.
                self.server.advance_market_to(self.server.sim_time_ns())
            if self._market_dirty:
                self._market_dirty = False
                self._out.extend(self._data.updates(self.server.market))
            if heartbeat_due:
                heartbeat = HeartbeatFrame(server_time_ns=self.server.market.now_ns)
                self._out.append(encode_frame(heartbeat))
                interval = self.config.heartbeat_interval
                assert interval is not None
                missed = math.floor((now - self._next_heartbeat) / interval)
                self._next_heartbeat += interval * (missed + 1)
            await self._replay_due(now)
            await self._pump()

    def _deadline(self) -> float:
        if self._stalled:
            return self._stall_until
        return min(self._next_heartbeat, self._next_replay)

    async def _pump(self) -> None:
        """Send queued frames, firing scheduled faults as their frame counts are reached.

        The frames up to the next fault go out coalesced (a few socket writes for many
        frames), so everything sent before a fault is on the wire when it fires."""
        while True:
            due = next(
                (spec for spec in self._scheduled if self.frames_sent >= spec.after_frames),
                None,
            )
            if due is not None:
                self._scheduled.remove(due)
                await self._apply(due)
                continue
            if self._stalled or not self._out:
                return
            limit = min((spec.after_frames for spec in self._scheduled), default=_INF)
            try:
                async with self.stream.coalesced():
                    while self._out and self.frames_sent < limit:
                        await self._send(self._out.popleft())
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                raise _Finished("client_closed") from None

    async def _send(self, text: str) -> None:
        ws = self.ws
        assert ws is not None
        try:
            await ws.send_message(text)
        except ConnectionClosed:
            raise _Finished("client_closed") from None
        self.frames_sent += 1

    # -- faults ------------------------------------------------------------------------------

    async def _apply(self, spec: FaultSpec) -> None:
        fault = spec.fault
        logger.debug("connection %d: fault %s", self.id, fault.value)
        if fault is Fault.STALL:
            self._stalled = True
            self._stall_until = (
                _INF if spec.duration is None else trio.current_time() + spec.duration
            )
            self.stream.pause()
            return
        if fault is Fault.DROP:
            self.dropped = True
            self.close_code = 1006
            await self.stream.drop(reset=spec.reset)
            raise _Finished("dropped")
        if fault is Fault.CLOSE:
            await self._close(spec.code or 1011, spec.reason)
        if fault is Fault.EVICT:
            await self._fail("connection_evicted", close_code=spec.code)
        if fault is Fault.REJECT_KEY:
            await self._fail("invalid_api_key", close_code=spec.code)
        if fault is Fault.ERROR and (spec.code is not None or error_close_code(spec.error)):
            await self._fail(
                spec.error,
                action=spec.action,
                retryable=spec.retryable,
                delay_seconds=spec.delay_seconds,
                close_code=spec.code,
            )
        if fault is Fault.GARBAGE:
            text = spec.text
        elif fault is Fault.OVERSIZED:
            text = '{"padding":"' + "x" * max(0, spec.size - 14) + '"}'
        elif fault is Fault.HOSTILE_JSON:
            subscriptions = self._data.subscriptions
            code = next(iter(subscriptions.values())).code if subscriptions else "SIM:X"
            text = hostile_frame(spec.hostile, code)
        elif fault is Fault.THROTTLE:
            text = error_text(self.config.error_style, "processing_throttled")
        else:
            text = error_text(
                self.config.error_style,
                spec.error,
                action=spec.action,
                retryable=spec.retryable,
                delay_seconds=spec.delay_seconds,
            )
        if self._stalled:
            # A silent peer stays silent: the frame goes out first once the stall ends.
            self._out.appendleft(text)
        else:
            await self._send(text)

    def _unstall(self) -> None:
        if self._stalled:
            self._stalled = False
            self._stall_until = _INF
            self.stream.resume()
            self._reader_resume.set()

    async def _close(self, code: int, reason: str) -> NoReturn:
        ws = self.ws
        assert ws is not None
        self._unstall()
        self.close_code = code
        with trio.move_on_after(self.config.close_grace):
            await ws.aclose(code, reason or None)
        raise _Finished("server_closed")

    async def _fail(
        self,
        error: str,
        *,
        action: str | None = None,
        retryable: bool | None = None,
        delay_seconds: float | None = None,
        close_code: int | None = None,
    ) -> NoReturn:
        """Send what is queued, then the error frame, then close (the code's usual close code)."""
        self._unstall()
        await self._pump()
        await self._send(
            error_text(
                self.config.error_style,
                error,
                action=action,
                retryable=retryable,
                delay_seconds=delay_seconds,
            )
        )
        await self._close(close_code or error_close_code(error) or 1011, error)

    # -- client messages ---------------------------------------------------------------------

    async def _handle_client(self, text: str) -> None:
        if text.strip() == "ping":
            self._out.append("pong")
            return
        self._requests += 1
        limit = self.config.message_limit
        if limit is not None and self._requests > limit:
            if self.config.throttle_reply:
                self._out.append(error_text(self.config.error_style, "processing_throttled"))
            return
        if self.config.replay_frames is not None:
            if self._replay_index is None:
                self._replay_index = 0
                self._next_replay = trio.current_time()
            return
        if self.config.greeting == "after_subscribe":
            self._greet()
        try:
            request = orjson.loads(text)
        except orjson.JSONDecodeError:
            request = None
        if not isinstance(request, dict):
            self._out.append(
                error_text(
                    self.config.error_style,
                    "invalid_request",
                    message="Invalid message format",
                    legacy_message=INVALID_SUBSCRIPTIONS_TEXT,
                )
            )
            if self.config.close_on_invalid_message:
                await self._pump()
                await self._close(1008, "invalid message")
            return
        await self._authenticate(request)
        await self._subscribe(request.get("subscriptions"))

    def _greet(self) -> None:
        if not self._greeted:
            self._greeted = True
            for text in ("Connecting...", f"Connected to W:{self.config.region}"):
                self._out.append(encode_frame(StatusFrame(text=text, is_info=True)))

    async def _authenticate(self, request: dict[str, Any]) -> None:
        key = request.get("api_key", request.get("auth"))
        allowed = self.server.api_keys
        if not isinstance(key, str) or not key or (allowed is not None and key not in allowed):
            await self._fail("invalid_api_key")
        first = self.api_key is None
        self.api_key = key
        limit = self.config.max_connections_per_key
        if not first or limit is None:
            return
        others = [
            conn
            for conn in self.server.live_connections()
            if conn is not self and conn.api_key == key
        ]
        if len(others) < limit:
            return
        if self.config.connection_limit_policy == "refuse":
            await self._fail("max_connections_exceeded")
        for victim in others[: len(others) - limit + 1]:
            victim.submit(Command(FaultSpec(fault=Fault.EVICT)))

    async def _subscribe(self, raw: object) -> None:
        answer = read_subscriptions(raw, self.config)
        self._out.extend(answer.errors)
        accepted = answer.accepted
        if not accepted:
            return
        if self.config.subscription_status:
            active = EventFrame(
                event="subscription_status", status="active", subscription_count=len(accepted)
            )
            self._out.append(encode_frame(active))
        self._out.extend(self._data.accept(accepted, self.server.market))
        if not self._subscribed_once:
            self._subscribed_once = True
            if self.config.heartbeat_interval is not None:
                self._next_heartbeat = trio.current_time() + self.config.heartbeat_interval

    async def _replay_due(self, now: float) -> None:
        frames = self.config.replay_frames
        if frames is None or self._replay_index is None:
            return
        pacing = self.config.replay_pacing
        while self._replay_index < len(frames) and now >= self._next_replay:
            self._out.append(frames[self._replay_index])
            self._replay_index += 1
            self._next_replay += pacing
        if self._replay_index >= len(frames):
            self._next_replay = _INF
            if self.config.replay_close_code is not None:
                await self._pump()
                await self._close(self.config.replay_close_code, "end of replay")
