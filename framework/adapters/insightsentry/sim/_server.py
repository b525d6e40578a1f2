"""A simulated InsightSentry realtime server: a real WebSocket server on localhost.

Point live code at :attr:`SimulatedServer.url` instead of ``wss://realtime.insightsentry.com/live``
and it speaks the protocol (see ``insightsentry-protocol.md`` §8): it waits for the JSON
subscription message, checks the key, greets, confirms with a ``subscription_status`` event,
sends a burst of bars per series subscription and then single-bar full-state updates, quote
envelopes (full, then sparse), ``server_time`` heartbeats, and answers text ``ping`` with
``pong``. Data comes from a seeded :class:`~framework.testing.SyntheticMarket` whose simulated
time runs ``speed`` times faster than real time, or from recorded frames (replay mode).

Every uncertain point of the protocol is a knob of :class:`SimConfig`, and every misbehaviour a
client must survive is a :class:`Fault`, set in the config (``faults=`` with a frame count to
fire after) or injected at runtime with :meth:`SimulatedServer.inject` (both in
:mod:`._config`).

Structure: the server owns the listeners, the market and its clock, and the logs of messages
and requests. Each TCP connection is served by a :class:`~._connection.Connection` (its tasks
are described there) and the REST side (:mod:`._rest`) runs beside the WebSocket endpoint;
each sees the server only through a small protocol, so neither module imports this one. The
market advances in one clock task per server, which wakes the connections, and before each
heartbeat, so ``server_time`` never runs ahead of the bars sent. Connections are closed
gracefully (bounded by ``close_grace``) when the server stops.
"""

from __future__ import annotations

import functools
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import trio

from ...._errors import ConfigError
from ...._time import NANOS_PER_SECOND
from ....testing._market import SyntheticMarket
from ._config import (
    DEFAULT_API_KEY,
    UPGRADE_FAULTS,
    Fault,
    FaultSpec,
    RestFault,
    RestFaultSpec,
    RestRequest,
    SimConfig,
)
from ._connection import Command, Connection
from ._rest import RestFaults, serve_rest
from ._statistics import ConnectionStatistics, ServerStatistics

logger = logging.getLogger(__name__)


class _Armed:
    """An upgrade fault injected at runtime and the attempts it has left (None: unlimited)."""

    __slots__ = ("left", "spec")

    def __init__(self, spec: FaultSpec) -> None:
        self.spec = spec
        self.left = spec.count


class SimulatedServer:
    """The simulated InsightSentry server; start it with ``await nursery.start(server.serve)``.

    ``serve`` listens on ``config.host:config.port`` (port 0 picks a free port) and reports the
    WebSocket URL to ``task_status.started``. Cancelling it closes every connection (close
    code 1001, each bounded by ``close_grace``) and returns. One server serves any number of
    connections; all of them see the same simulated market, whose time starts at
    ``config.start_time_ns`` when ``serve`` starts and runs ``config.speed`` times real time.

    For assertions: :attr:`received` lists ``(connection id, text)`` of every client message,
    :meth:`connections` the statistics of every connection attempt, :meth:`wait_until` waits
    for a condition on either without polling.
    """

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        #: Every message any client sent, in arrival order: (connection id, text).
        self.received: list[tuple[int, str]] = []
        #: Keys accepted from now on (None: any); start as ``config.api_keys``.
        self.api_keys: set[str] | None = (
            None if self.config.api_keys is None else set(self.config.api_keys)
        )
        self.market = self._new_market()
        self._connections: list[Connection] = []
        self._armed: deque[_Armed] = deque()
        self._changed_event = trio.Event()
        self._url: str | None = None
        self._rest_url: str | None = None
        #: Every REST request, in arrival order (see :class:`RestRequest`).
        self.rest_requests: list[RestRequest] = []
        self._rest_faults = RestFaults(self.config.rest_faults)
        self._t0 = 0.0
        self._closing = False
        self._market_frozen = False

    @property
    def url(self) -> str:
        """``ws://host:port/live``; available once ``serve`` has started."""
        if self._url is None:
            raise RuntimeError("the server is not serving yet; start it with nursery.start(serve)")
        return self._url

    @property
    def rest_url(self) -> str:
        """``http://host:port``, the REST base URL; available once ``serve`` has started
        (with ``config.rest``)."""
        if self._rest_url is None:
            raise RuntimeError("the REST side is not serving (not started, or config.rest off)")
        return self._rest_url

    def _new_market(self) -> SyntheticMarket:
        config = self.config
        return SyntheticMarket(
            seed=config.seed,
            start_ns=config.start_time_ns,
            trade_step_ns=config.trade_step_ns,
            volatility=config.volatility,
            base_prices=config.base_prices,
            history_limit=max(config.max_dp_cap, config.rest_max_dp if config.rest else 1),
        )

    def sim_time_ns(self) -> int:
        """Simulated time now: the start plus real time since ``serve`` began times ``speed``."""
        elapsed = max(0.0, trio.current_time() - self._t0) if self._url else 0.0
        return self.config.start_time_ns + round(elapsed * self.config.speed * NANOS_PER_SECOND)

    async def serve(self, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen and serve until cancelled; reports the URL to ``task_status.started``."""
        if self._url is not None:
            raise RuntimeError("serve() can run only once per SimulatedServer")
        config = self.config
        listeners = await trio.open_tcp_listeners(config.port, host=config.host)
        host, port = listeners[0].socket.getsockname()[:2]
        host_text = f"[{host}]" if ":" in host else host
        self.market = self._new_market()
        self._t0 = trio.current_time()
        self._url = f"ws://{host_text}:{port}{config.path}"
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(trio.serve_listeners, self._handle_tcp, listeners)
                if config.rest:
                    self._rest_url = await nursery.start(serve_rest, self, self._rest_faults)
                if config.replay_frames is None:
                    nursery.start_soon(self._run_market_clock)
                task_status.started(self._url)
                try:
                    await trio.sleep_forever()
                finally:
                    self._closing = True
                    for conn in self._connections:
                        conn.work_scope.cancel()
        finally:
            self._closing = True

    async def _run_market_clock(self) -> None:
        interval = self.config.trade_interval
        step_ns = self.config.trade_step_ns
        start_ns = self.config.start_time_ns
        step = 0
        while True:
            await trio.sleep_until(self._t0 + (step + 1) * interval)
            step = max(step + 1, int((trio.current_time() - self._t0) / interval))
            self.advance_market_to(start_ns + step * step_ns)

    async def _handle_tcp(self, raw: trio.SocketStream) -> None:
        conn = Connection(self, len(self._connections) + 1, raw)
        self._connections.append(conn)
        self.wake_waiters()
        if self._closing:
            conn.is_open = False
            conn.outcome = "shutdown"
            await trio.aclose_forcefully(raw)
            return
        # Shielded so that shutdown can still run close handshakes (trio-websocket's reader
        # must keep running for that); shutdown cancels conn.work_scope instead.
        logger.info("connection %d opened", conn.id)
        with trio.CancelScope(shield=True):
            await conn.run()
        logger.info(
            "connection %d closed: %s (close code %s, %d frames sent)",
            conn.id,
            conn.outcome,
            conn.close_code,
            conn.frames_sent,
        )

    # -- for its connections and its REST side ----------------------------------------------

    def advance_market_to(self, ts: int) -> None:
        """Make the market's trades up to simulated time ``ts`` and wake the connections
        (nothing once the market is frozen)."""
        if ts <= self.market.now_ns or self._market_frozen:
            return
        self.market.advance_to(ts)
        for conn in self._connections:
            if conn.is_open:
                conn.notify_market()

    def live_connections(self) -> list[Connection]:
        """Open connections past their WebSocket upgrade, oldest first."""
        return [conn for conn in self._connections if conn.is_open and conn.ws is not None]

    def take_upgrade_fault(self, connection_id: int) -> FaultSpec | None:
        """The upgrade fault that meets connection attempt ``connection_id``, if any: one from
        the config for that attempt, else the oldest armed at runtime (using up one of its
        attempts)."""
        for spec in self.config.all_faults():
            if spec.fault in UPGRADE_FAULTS and spec.applies_to(connection_id):
                return spec
        if not self._armed:
            return None
        armed = self._armed[0]
        if armed.left is not None:
            armed.left -= 1
            if armed.left <= 0:
                self._armed.popleft()
        return armed.spec

    def wake_waiters(self) -> None:
        """Make every :meth:`wait_until` check its condition again: something changed."""
        event, self._changed_event = self._changed_event, trio.Event()
        event.set()

    # -- public control ----------------------------------------------------------------------

    async def inject(
        self, fault: Fault | FaultSpec, *, connection_id: int | None = None, **options: Any
    ) -> int:
        """Make the server misbehave now; returns how many open connections were affected.

        ``fault`` is a :class:`Fault` with :class:`FaultSpec` fields as keyword options
        (``await server.inject(Fault.CLOSE, code=4000)``), or a whole ``FaultSpec``. Live faults
        go to every open connection, or only ``connection_id``; this returns once each has
        acted (a CLOSE after its close handshake, a STALL once stalled). Upgrade faults are
        armed for the next ``count`` connection attempts and 0 is returned.
        """
        spec = fault if isinstance(fault, FaultSpec) else FaultSpec(fault=fault, **options)
        if spec.fault in UPGRADE_FAULTS:
            self._armed.append(_Armed(spec))
            return 0
        commands: list[Command] = []
        for conn in self.live_connections():
            if connection_id is None or conn.id == connection_id:
                command = Command(spec)
                if conn.submit(command):
                    commands.append(command)
        for command in commands:
            await command.done.wait()
        return len(commands)

    def freeze_market(self) -> None:
        """Stop the market where it is, for good: no more trades, so no bar or quote changes
        after the frames already due; connections go on (bursts, heartbeats at the frozen
        time, faults). A run that compares what a client received with the market freezes it
        first, so that both have the same end."""
        self._market_frozen = True

    @property
    def market_frozen(self) -> bool:
        """Whether :meth:`freeze_market` was called."""
        return self._market_frozen

    def clear_faults(self) -> None:
        """Disarm upgrade faults injected at runtime (config faults stay)."""
        self._armed.clear()

    def inject_rest(
        self, fault: RestFault | RestFaultSpec = RestFault.STATUS, **options: Any
    ) -> None:
        """Arm a REST fault for the next ``count`` matching requests:
        ``server.inject_rest(RestFault.STATUS, status=429, retry_after=1, count=2)``,
        ``server.inject_rest(RestFault.SLOW, delay=2.0)``, or a whole ``RestFaultSpec``."""
        spec = fault if isinstance(fault, RestFaultSpec) else RestFaultSpec(fault=fault, **options)
        self._rest_faults.arm(spec)

    def clear_rest_faults(self) -> None:
        """Disarm every REST fault still armed."""
        self._rest_faults.clear()

    def connections(self) -> list[ConnectionStatistics]:
        """Statistics of every connection attempt so far, oldest first."""
        return [conn.statistics() for conn in self._connections]

    def statistics(self) -> ServerStatistics:
        """Totals over every connection so far: opened, still open, frames and messages."""
        stats = self.connections()
        return ServerStatistics(
            connections_total=len(stats),
            connections_open=sum(1 for s in stats if s.is_open),
            frames_sent=sum(s.frames_sent for s in stats),
            messages_received=sum(s.messages_received for s in stats),
        )

    async def wait_until(self, predicate: Callable[[SimulatedServer], bool]) -> None:
        """Wait until ``predicate(server)`` holds; it is checked again whenever a connection
        opens, upgrades or closes and whenever a client message arrives. Use ``trio.fail_after``
        to bound the wait."""
        while not predicate(self):
            await self._changed_event.wait()

    async def wait_for_connections(self, count: int) -> None:
        """Wait until ``count`` connection attempts have been made in total."""
        await self.wait_until(lambda server: len(server._connections) >= count)


@asynccontextmanager
async def open_simulated_server(
    config: SimConfig | None = None,
) -> AsyncIterator[SimulatedServer]:
    """Run a :class:`SimulatedServer` for the duration of the ``async with`` block.

    The server is listening when the block starts (``server.url``); leaving the block stops
    it, closing open connections gracefully within ``config.close_grace``.
    """
    server = SimulatedServer(config)
    async with trio.open_nursery() as nursery:
        await nursery.start(server.serve)
        try:
            yield server
        finally:
            nursery.cancel_scope.cancel()


async def serve_forever(config: SimConfig) -> None:
    """Serve until cancelled, printing the URL (and the accepted key) once listening.

    Raises :class:`~framework.ConfigError` if the server cannot listen where ``config`` says.
    """
    server = SimulatedServer(config)
    async with trio.open_nursery() as nursery:
        try:
            url = await nursery.start(server.serve)
        except OSError as exc:  # the address is taken, not ours, or not an address at all
            where = f"{config.host}:{config.port}"
            raise ConfigError(f"cannot listen on {where}: {exc.strerror or exc}") from None
        keys = "any key" if config.api_keys is None else ", ".join(sorted(config.api_keys))
        print(f"simulated InsightSentry server listening on {url} (api_key: {keys})", flush=True)


def run_sim_server(
    host: str = "127.0.0.1",
    port: int = 8765,
    seed: int = 0,
    speed: float = 1.0,
    symbols: Sequence[str] = (),
    *,
    api_keys: Iterable[str] | None = (DEFAULT_API_KEY,),
    heartbeat_interval: float | None = 10.0,
    trade_interval: float = 0.25,
) -> None:
    """Blocking entry point for ``tradewire serve-sim``: serve until interrupted.

    Ctrl-C ends it with ``KeyboardInterrupt`` (inside an exception group, as from any
    ``trio.run`` with a nursery), left to the caller to report.

    ``symbols`` restricts the codes that can be subscribed (empty: any ``EXCHANGE:SYMBOL``).
    """
    config = SimConfig(
        host=host,
        port=port,
        seed=seed,
        speed=speed,
        symbols=frozenset(symbols) if symbols else None,
        api_keys=None if api_keys is None else frozenset(api_keys),
        heartbeat_interval=heartbeat_interval,
        trade_interval=trade_interval,
    )
    trio.run(functools.partial(serve_forever, config))
