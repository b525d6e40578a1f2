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
fire after) or injected at runtime with :meth:`SimulatedServer.inject`.

Structure: one task per TCP connection (started by ``trio.serve_listeners``) runs the
handshake, then three child tasks: trio-websocket's reader, our reader (client messages into a
bounded queue) and an actor that owns every frame sent, so frame order, frame counting and
faults are decided in one place. The market advances in one clock task per server, which wakes
the actors, and before each heartbeat, so ``server_time`` never runs ahead of the bars sent.
Connections are closed gracefully (bounded by ``close_grace``) when the server stops.
"""

from __future__ import annotations

import enum
import functools
import logging
import math
import re
import socket
import struct
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final, Literal, NoReturn

import attrs
import orjson
import trio
from trio_websocket import (
    ConnectionClosed,
    WebSocketConnection,
    WebSocketRequest,
    wrap_server_stream,
)

from .._errors import ConfigError
from .._intervals import Interval
from .._time import NANOS_PER_MILLI, NANOS_PER_SECOND
from ._market import BAR_UNITS, DEFAULT_START_NS, SyntheticBar, SyntheticMarket, SyntheticQuote
from ._sim_rest import MAX_DP, RestFault, RestFaults, RestFaultSpec, RestRequest, serve_rest

logger = logging.getLogger(__name__)

#: The key accepted by a default :class:`SimConfig`.
DEFAULT_API_KEY: Final = "sim-key"

#: Client messages our reader may queue ahead of the actor before it stops reading.
CLIENT_QUEUE_SIZE: Final = 32

_INF: Final = math.inf
_CODE_PATTERN: Final = re.compile(r"^[^:\s]+:[^:\s]+$")
_SECOND_LENGTHS: Final = frozenset({1, 5, 10, 15, 30, 45})
_YEAR_NANOS: Final = 365 * 86_400 * NANOS_PER_SECOND
_BOOL_FIELDS: Final = (
    "recent_bars",
    "extended",
    "dadj",
    "badj",
    "settlement",
    "split",
    "24h",
)
_COUNT_FIELDS: Final = ("max_dp", "dp", "max_bars")
_SUBSCRIPTIONS_INVALID: Final = "Subscriptions field or value is invalid"


class Fault(enum.Enum):
    """Misbehaviours the server can show.

    Upgrade stage (``SILENT_UPGRADE``, ``REJECT_UPGRADE``) applies to connection attempts; the
    rest to open connections.
    """

    #: Accept TCP but never answer the HTTP upgrade (hold for ``duration``, or until shutdown).
    SILENT_UPGRADE = "silent_upgrade"
    #: Answer the upgrade with HTTP ``status`` (``Retry-After: retry_after``, ``body``).
    REJECT_UPGRADE = "reject_upgrade"
    #: Close handshake with ``code`` and ``reason``.
    CLOSE = "close"
    #: Close TCP without a close handshake (the client sees 1006); ``reset`` sends an RST.
    DROP = "drop"
    #: Stop sending and reading, protocol pings included, for ``duration`` (None: for good).
    STALL = "stall"
    #: Send a text frame that is not JSON (``text``).
    GARBAGE = "garbage"
    #: Send a text frame of ``size`` ASCII characters.
    OVERSIZED = "oversized"
    #: Send a frame that parses (or not) but must be rejected: see :class:`Hostile`.
    HOSTILE_JSON = "hostile_json"
    #: ``connection_evicted`` error, then close.
    EVICT = "evict"
    #: The error ``error`` (fatal codes close the connection afterwards).
    ERROR = "error"
    #: A ``processing_throttled`` error; the connection stays up.
    THROTTLE = "throttle"
    #: Treat the connection's key as invalid now: ``invalid_api_key``, then close.
    REJECT_KEY = "reject_key"


_UPGRADE_FAULTS: Final = frozenset({Fault.SILENT_UPGRADE, Fault.REJECT_UPGRADE})


class Hostile(enum.Enum):
    """Kinds of hostile series frames for :attr:`Fault.HOSTILE_JSON`."""

    #: A bare ``NaN`` literal as a price (not valid JSON, but Python's ``json`` accepts it).
    NAN = "nan"
    #: ``1e400``: valid JSON that overflows a double to infinity.
    HUGE_NUMBER = "huge_number"
    #: A negative close price.
    NEGATIVE_PRICE = "negative_price"
    #: ``high`` below ``low``.
    HIGH_BELOW_LOW = "high_below_low"
    #: 10 000 nested arrays as the series.
    DEEP_NESTING = "deep_nesting"


# error code -> (message, action, retryable, delay_seconds, close code if fatal else None)
_ERRORS: Final[dict[str, tuple[str, str | None, bool, float | None, int | None]]] = {
    "server_busy": ("Server is busy, please retry later", "reconnect", True, 5.0, 1013),
    "internal_server_error": ("Internal server error", "reconnect", True, 1.0, 1011),
    "connection_evicted": (
        "Connection evicted by a newer connection with the same API key",
        None,
        False,
        None,
        1008,
    ),
    "max_connections_exceeded": (
        "Maximum number of connections for this API key exceeded",
        None,
        False,
        None,
        1008,
    ),
    "invalid_api_key": ("Invalid API key", None, False, None, 1008),
    "processing_throttled": (
        "Too many messages; this request was ignored",
        "wait_and_retry",
        True,
        1.0,
        None,
    ),
    "temporarily_unavailable": (
        "Temporarily unavailable, send the request again later",
        "retry_request",
        True,
        2.0,
        None,
    ),
}


_NOT_FATAL: Final[tuple[str, str | None, bool, float | None, int | None]] = (
    "",
    None,
    False,
    None,
    None,
)


def _optional_ids(value: Iterable[int] | None) -> frozenset[int] | None:
    return None if value is None else frozenset(value)


def _frozen_keys(value: Iterable[str] | None) -> frozenset[str] | None:
    return None if value is None else frozenset(value)


def _string_set(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


def _optional_texts(value: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


@attrs.frozen(slots=True, kw_only=True)
class FaultSpec:
    """One fault and its parameters; fields a fault does not use are ignored.

    In :attr:`SimConfig.faults` a live-connection fault fires once per connection, as soon as
    the server has sent ``after_frames`` frames of any kind on it (status, event, data,
    heartbeat, ``pong``; 0: right after the upgrade), and only on
    connections whose number (1, 2, ... in order of arrival) is in ``connections`` (None: all).
    Upgrade-stage faults apply to the attempts in ``connections``. Injected at runtime with
    :meth:`SimulatedServer.inject`, live faults fire at once and upgrade faults apply to the
    next ``count`` attempts (None: until :meth:`SimulatedServer.clear_faults`).
    """

    fault: Fault
    after_frames: int = 0
    connections: frozenset[int] | None = attrs.field(default=None, converter=_optional_ids)
    count: int | None = 1
    #: WebSocket close code; None picks the fault's usual one (CLOSE 1011, EVICT 1008, ...).
    code: int | None = None
    reason: str = ""
    #: STALL and SILENT_UPGRADE: real seconds, None for ever.
    duration: float | None = None
    #: DROP: reset the TCP connection (RST) instead of closing it (FIN).
    reset: bool = False
    #: REJECT_UPGRADE: HTTP status, ``Retry-After`` seconds (None: no header) and body.
    status: int = 429
    retry_after: float | None = 1.0
    body: bytes = b""
    #: ERROR: the ``error`` code; action / retryable / delay_seconds default per code.
    error: str = "server_busy"
    action: str | None = None
    retryable: bool | None = None
    delay_seconds: float | None = None
    #: GARBAGE: the text sent.
    text: str = "}{ this is not JSON"
    #: OVERSIZED: frame length in characters (ASCII, so also bytes).
    size: int = 2 * 1024 * 1024
    #: HOSTILE_JSON: which kind.
    hostile: Hostile = Hostile.NAN

    def __attrs_post_init__(self) -> None:
        if self.after_frames < 0:
            raise ConfigError(f"after_frames must be >= 0, got {self.after_frames!r}")
        if self.count is not None and self.count < 1:
            raise ConfigError(f"count must be >= 1 or None, got {self.count!r}")
        if self.duration is not None and self.duration < 0:
            raise ConfigError(f"duration must be >= 0 or None, got {self.duration!r}")
        if self.code is not None and not (1000 <= self.code <= 4999):
            raise ConfigError(f"close code must be in 1000..4999, got {self.code!r}")
        if not 300 <= self.status <= 599:
            raise ConfigError(f"HTTP status must be in 300..599, got {self.status!r}")
        if self.size < 1:
            raise ConfigError(f"size must be positive, got {self.size!r}")

    def applies_to(self, connection_id: int) -> bool:
        return self.connections is None or connection_id in self.connections


def _positive(name: str) -> Callable[[Any, Any, float], None]:
    def check(_instance: Any, _attribute: Any, value: float) -> None:
        if not (value > 0 and math.isfinite(value)):
            raise ConfigError(f"{name} must be a positive number, got {value!r}")

    return check


def _optional_positive(name: str) -> Callable[[Any, Any, float | None], None]:
    def check(_instance: Any, _attribute: Any, value: float | None) -> None:
        if value is not None and not (value > 0 and math.isfinite(value)):
            raise ConfigError(f"{name} must be a positive number or None, got {value!r}")

    return check


def _optional_count(name: str) -> Callable[[Any, Any, int | None], None]:
    def check(_instance: Any, _attribute: Any, value: int | None) -> None:
        if value is not None and value < 0:
            raise ConfigError(f"{name} must be >= 0 or None, got {value!r}")

    return check


def _volatility(_instance: Any, _attribute: Any, value: float) -> None:
    if not 0 <= value < 1:
        raise ConfigError(f"volatility must be in [0, 1), got {value!r}")


def _fault_specs(value: Iterable[FaultSpec]) -> tuple[FaultSpec, ...]:
    return tuple(value)


def _rest_fault_specs(value: Iterable[RestFaultSpec]) -> tuple[RestFaultSpec, ...]:
    return tuple(value)


def _rest_dp(_instance: Any, _attribute: Any, value: int) -> None:
    if not 1 <= value <= MAX_DP:
        raise ConfigError(f"rest_max_dp must be 1..{MAX_DP}, got {value!r}")


@attrs.frozen(kw_only=True)
class SimConfig:
    """Every knob of :class:`SimulatedServer`; the defaults act like the 2026 service."""

    # -- network
    host: str = "127.0.0.1"
    port: int = 0
    #: The one path upgrades are accepted on; others get HTTP 404.
    path: str = "/live"
    #: Real seconds a client may take to send its HTTP upgrade request.
    handshake_timeout: float = attrs.field(default=10.0, validator=_positive("handshake_timeout"))
    #: Real seconds a close handshake may take before TCP is closed anyway.
    close_grace: float = attrs.field(default=1.0, validator=_positive("close_grace"))

    # -- market and time
    seed: int = 0
    #: Simulated time at the moment the server starts serving.
    start_time_ns: int = DEFAULT_START_NS
    #: Simulated seconds per real second (60: one simulated minute per real second).
    speed: float = attrs.field(default=1.0, validator=_positive("speed"))
    #: Real seconds between simulated trades (each code trades once per step).
    trade_interval: float = attrs.field(default=0.25, validator=_positive("trade_interval"))
    #: Log-return standard deviation of one trade.
    volatility: float = attrs.field(default=0.0005, validator=_volatility)
    #: Starting prices by code; other codes start at a price drawn from the seed.
    base_prices: Mapping[str, float] = attrs.field(factory=dict)
    #: Known codes; None accepts any ``EXCHANGE:SYMBOL``.
    symbols: frozenset[str] | None = attrs.field(default=None, converter=_frozen_keys)
    #: Codes answered with a per-subscription ``invalid_symbol`` error.
    invalid_symbols: frozenset[str] = attrs.field(factory=frozenset, converter=_string_set)

    # -- keys and limits
    #: Accepted API keys; None accepts any non-empty key.
    api_keys: frozenset[str] | None = attrs.field(
        default=frozenset({DEFAULT_API_KEY}), converter=_frozen_keys
    )
    #: Open connections allowed per key; None: unlimited.
    max_connections_per_key: int | None = attrs.field(
        default=None, validator=_optional_count("max_connections_per_key")
    )
    #: What a connection over the limit meets: refused, or the oldest one is evicted.
    connection_limit_policy: Literal["refuse", "evict_old"] = "refuse"
    #: Subscriptions allowed in one message (plan limit); None: unlimited.
    max_subscriptions: int | None = attrs.field(
        default=None, validator=_optional_count("max_subscriptions")
    )
    #: Plan cap on ``max_dp`` / ``dp`` (larger requests are clamped silently).
    max_dp_cap: int = attrs.field(default=1000, validator=_positive("max_dp_cap"))
    #: Client messages (text pings excluded) processed per connection; later ones are ignored.
    message_limit: int | None = attrs.field(
        default=None, validator=_optional_count("message_limit")
    )
    #: Answer ignored messages with a ``processing_throttled`` error.
    throttle_reply: bool = True

    # -- protocol variants
    region: str = "SIM"
    #: When the two status frames go out: on the first client message, on open, or never.
    greeting: Literal["after_subscribe", "on_open", "none"] = "after_subscribe"
    #: Confirm each accepted subscription message with a ``subscription_status`` event.
    subscription_status: bool = True
    #: Errors as ``{"error", "message", ...}`` (structured) or ``{"message"}`` (legacy).
    error_style: Literal["structured", "legacy"] = "structured"
    #: Quote frames: envelope with sparse updates, envelope always full, or legacy flat objects.
    quote_mode: Literal["sparse", "full", "flat"] = "sparse"
    #: Send the burst again for subscriptions kept by a replacing subscription message.
    resend_burst: bool = True
    #: Real seconds between ``server_time`` heartbeats (from the first accepted subscription
    #: on); None: none.
    heartbeat_interval: float | None = attrs.field(
        default=10.0, validator=_optional_positive("heartbeat_interval")
    )
    #: Real seconds between protocol pings; None: none. Unanswered pings close with 1011.
    ping_interval: float | None = attrs.field(
        default=None, validator=_optional_positive("ping_interval")
    )
    ping_timeout: float = attrs.field(default=10.0, validator=_positive("ping_timeout"))
    #: 2024 behaviour: close the connection (1008) on a message that is not valid JSON.
    close_on_invalid_message: bool = False

    # -- faults
    faults: tuple[FaultSpec, ...] = attrs.field(default=(), converter=_fault_specs)
    #: Shorthands for ``FaultSpec(Fault.CLOSE / Fault.DROP, after_frames=N)``.
    close_after_frames: int | None = attrs.field(
        default=None, validator=_optional_count("close_after_frames")
    )
    close_code: int = 1011
    drop_after_frames: int | None = attrs.field(
        default=None, validator=_optional_count("drop_after_frames")
    )

    # -- REST (``/v3/symbols/{code}/series`` and ``/history``, see ``_sim_rest``)
    #: Serve the REST API beside the WebSocket (at ``SimulatedServer.rest_url``).
    rest: bool = True
    rest_port: int = 0
    #: Largest ``dp`` answered in full (the vendor's cap is 30000); the market keeps this many
    #: bars per series, so REST history reaches this far back.
    rest_max_dp: int = attrs.field(default=MAX_DP, validator=_rest_dp)
    #: REST faults armed when the server starts, fired in order on the first requests.
    rest_faults: tuple[RestFaultSpec, ...] = attrs.field(default=(), converter=_rest_fault_specs)

    # -- replay
    #: Replay these frame texts instead of simulating: sent in order after the client's first
    #: message (whatever it is; the key is not checked), with no greeting and no heartbeats.
    replay_frames: tuple[str, ...] | None = attrs.field(default=None, converter=_optional_texts)
    #: Real seconds between replayed frames.
    replay_pacing: float = 0.0
    #: Close with this code after the last replayed frame; None: stay open.
    replay_close_code: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.connection_limit_policy not in ("refuse", "evict_old"):
            raise ConfigError(f"unknown connection_limit_policy {self.connection_limit_policy!r}")
        if self.greeting not in ("after_subscribe", "on_open", "none"):
            raise ConfigError(f"unknown greeting {self.greeting!r}")
        if self.error_style not in ("structured", "legacy"):
            raise ConfigError(f"unknown error_style {self.error_style!r}")
        if self.quote_mode not in ("sparse", "full", "flat"):
            raise ConfigError(f"unknown quote_mode {self.quote_mode!r}")
        if not self.path.startswith("/"):
            raise ConfigError(f"path must start with '/', got {self.path!r}")
        if self.replay_pacing < 0:
            raise ConfigError(f"replay_pacing must be >= 0, got {self.replay_pacing!r}")
        if round(self.trade_interval * self.speed * NANOS_PER_SECOND) < 1:
            raise ConfigError("trade_interval * speed is below one simulated nanosecond")

    @property
    def trade_step_ns(self) -> int:
        """Simulated nanoseconds between trades."""
        return round(self.trade_interval * self.speed * NANOS_PER_SECOND)

    def all_faults(self) -> tuple[FaultSpec, ...]:
        """``faults`` plus the ``close_after_frames`` / ``drop_after_frames`` shorthands."""
        extra: list[FaultSpec] = []
        if self.close_after_frames is not None:
            extra.append(
                FaultSpec(
                    fault=Fault.CLOSE, after_frames=self.close_after_frames, code=self.close_code
                )
            )
        if self.drop_after_frames is not None:
            extra.append(FaultSpec(fault=Fault.DROP, after_frames=self.drop_after_frames))
        return (*self.faults, *extra)


@attrs.frozen(slots=True, kw_only=True)
class ConnectionStatistics:
    """What happened on one connection attempt (times are ``trio.current_time()``).

    ``outcome`` while open is None; afterwards one of ``client_closed``, ``server_closed``,
    ``dropped``, ``shutdown``, ``rejected``, ``not_found``, ``silent``, ``handshake_timeout``.
    """

    connection_id: int
    path: str | None
    api_key: str | None
    is_open: bool
    outcome: str | None
    close_code: int | None
    frames_sent: int
    bytes_sent: int
    messages_received: int
    opened_at: float
    closed_at: float | None


@attrs.frozen(slots=True, kw_only=True)
class ServerStatistics:
    """Totals over all connection attempts so far."""

    connections_total: int
    connections_open: int
    frames_sent: int
    messages_received: int


class _ControlledStream(trio.abc.Stream):
    """A socket stream that can be paused (a silent peer) or dropped without a close frame."""

    def __init__(self, inner: trio.SocketStream) -> None:
        self._inner = inner
        self._resumed = trio.Event()
        self._resumed.set()
        self._closed = False
        self.bytes_sent = 0

    def pause(self) -> None:
        if self._resumed.is_set():
            self._resumed = trio.Event()

    def resume(self) -> None:
        self._resumed.set()

    async def _gate(self) -> None:
        await self._resumed.wait()
        if self._closed:
            raise trio.ClosedResourceError("stream was dropped")

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self._gate()
        await self._inner.send_all(data)
        self.bytes_sent += len(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self._gate()
        await self._inner.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        await self._gate()
        return await self._inner.receive_some(max_bytes)

    async def aclose(self) -> None:
        self._closed = True
        self._resumed.set()
        await trio.aclose_forcefully(self._inner)

    async def drop(self, *, reset: bool) -> None:
        """Close TCP now; with ``reset`` the peer gets an RST instead of a FIN."""
        if reset and not self._closed:
            self._inner.socket.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
        await self.aclose()


@attrs.frozen(slots=True)
class _Subscription:
    code: str
    kind: Literal["series", "tick", "quote"]
    interval: Interval | None
    count: int

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.code, self.kind, "" if self.interval is None else self.interval.label)


@attrs.frozen(slots=True)
class _SubscriptionError:
    error: str
    message: str
    legacy_message: str
    code: str | None


class _Finished(Exception):
    """Internal: the connection is over; ``outcome`` says why."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


class _Armed:
    """An upgrade fault injected at runtime and the attempts it has left (None: unlimited)."""

    __slots__ = ("left", "spec")

    def __init__(self, spec: FaultSpec) -> None:
        self.spec = spec
        self.left = spec.count


class _Command:
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


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def _ms(ns: int) -> int:
    return ns // NANOS_PER_MILLI


def _seconds(ns: int) -> float:
    return ns / NANOS_PER_SECOND


def _bar_point(bar: SyntheticBar) -> dict[str, float]:
    return {
        "time": _seconds(bar.ts_open),
        "open": bar.open,
        "high": bar.high,
        "low": bar.low,
        "close": bar.close,
        "volume": bar.volume,
    }


def _series_frame(code: str, interval: Interval, bars: Sequence[SyntheticBar]) -> str:
    newest = bars[-1]
    nanos = interval.nanos
    assert nanos is not None
    return _dumps(
        {
            "code": code,
            "bar_type": interval.label,
            "bar_end": _seconds(newest.ts_open + nanos) - 1.0,
            "last_update": _ms(newest.ts_update),
            "series": [_bar_point(bar) for bar in bars],
        }
    )


def _quote_fields(quote: SyntheticQuote) -> dict[str, object]:
    return {
        "code": quote.code,
        "status": quote.status,
        "lp_time": _seconds(quote.ts_update),
        "last_price": quote.last_price,
        "bid": quote.bid,
        "ask": quote.ask,
        "bid_size": quote.bid_size,
        "ask_size": quote.ask_size,
        "volume": quote.volume,
        "change": quote.change,
        "change_percent": quote.change_percent,
        "prev_close_price": quote.prev_close_price,
        "open_price": quote.open_price,
        "high_price": quote.high_price,
        "low_price": quote.low_price,
        "currency_code": "USD",
        "delay_seconds": 0,
    }


def _hostile_frame(kind: Hostile, code: str) -> str:
    bar = '"time":1767797100.0,"open":100.0,"high":101.0,"low":99.0,"close":100.5,"volume":10.0'
    head = f'{{"code":{_dumps(code)},"bar_type":"1m","last_update":1767797142517,"series":'
    if kind is Hostile.NAN:
        return head + "[{" + bar.replace('"close":100.5', '"close":NaN') + "}]}"
    if kind is Hostile.HUGE_NUMBER:
        return head + "[{" + bar.replace('"close":100.5', '"close":1e400') + "}]}"
    if kind is Hostile.NEGATIVE_PRICE:
        return head + "[{" + bar.replace('"close":100.5', '"close":-100.5') + "}]}"
    if kind is Hostile.HIGH_BELOW_LOW:
        return head + "[{" + bar.replace('"high":101.0', '"high":98.0') + "}]}"
    depth = 10_000
    return head + "[" * depth + "]" * depth + "}"


def _flag(value: object) -> bool | None:
    """A boolean as sent: true/false, or the strings "true"/"false" (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _whole(value: object) -> int | None:
    """An integer as sent: an int, an integral float, or a string of digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


class _Connection:
    """One client connection; see the module docstring for its tasks."""

    def __init__(self, server: SimulatedServer, connection_id: int, raw: trio.SocketStream) -> None:
        self.server = server
        self.config = server.config
        self.id = connection_id
        self.stream = _ControlledStream(raw)
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
        self._commands: deque[_Command] = deque()
        self._out: deque[str] = deque()
        self._scheduled = [
            spec
            for spec in self.config.all_faults()
            if spec.fault not in _UPGRADE_FAULTS and spec.applies_to(connection_id)
        ]
        self._stalled = False
        self._stall_until = _INF
        self._peer_gone = False
        self._market_dirty = False
        self._greeted = False
        self._subscribed_once = False
        self._requests = 0
        self._next_heartbeat = _INF
        self._subscriptions: dict[tuple[str, str, str], _Subscription] = {}
        self._sent_bars: dict[tuple[str, str, str], SyntheticBar | None] = {}
        self._sent_tick_seq: dict[str, int] = {}
        self._sent_quotes: dict[str, dict[str, object]] = {}
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
        if self._subscriptions:
            self._market_dirty = True
            self._wake.set()

    def submit(self, command: _Command) -> bool:
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
            self.server._changed()

    async def _run(self, ws_nursery: trio.Nursery) -> None:
        upgrade = self.server._upgrade_fault(self.id)
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
        self.server._changed()
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
            self.server._changed()
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
                self.submit(
                    _Command(FaultSpec(fault=Fault.CLOSE, code=1011, reason="ping timeout"))
                )
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
                self.server._advance_market_to(self.server.sim_time_ns())
            if self._market_dirty:
                self._market_dirty = False
                self._queue_updates()
            if heartbeat_due:
                self._out.append(_dumps({"server_time": _ms(self.server.market.now_ns)}))
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
        """Send queued frames, firing scheduled faults as their frame counts are reached."""
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
            await self._send(self._out.popleft())

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
        if fault is Fault.ERROR and (
            spec.code is not None or _ERRORS.get(spec.error, _NOT_FATAL)[4]
        ):
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
            code = next(iter(self._subscriptions.values())).code if self._subscriptions else "SIM:X"
            text = _hostile_frame(spec.hostile, code)
        elif fault is Fault.THROTTLE:
            text = self._error_text("processing_throttled")
        else:
            text = self._error_text(
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

    def _error_text(
        self,
        error: str,
        *,
        message: str | None = None,
        legacy_message: str | None = None,
        symbol: str | None = None,
        action: str | None = None,
        retryable: bool | None = None,
        delay_seconds: float | None = None,
    ) -> str:
        default_message, default_action, default_retryable, default_delay, _ = _ERRORS.get(
            error, _NOT_FATAL
        )
        text = message or default_message or error.replace("_", " ").capitalize()
        if self.config.error_style == "legacy":
            return _dumps({"message": legacy_message or text})
        frame: dict[str, object] = {"error": error, "message": text}
        if symbol is not None:
            frame["code"] = symbol
        action = action or default_action
        if action is not None:
            frame["action"] = action
        frame["retryable"] = default_retryable if retryable is None else retryable
        delay = default_delay if delay_seconds is None else delay_seconds
        if delay is not None:
            frame["delay_seconds"] = delay
        return _dumps(frame)

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
            self._error_text(error, action=action, retryable=retryable, delay_seconds=delay_seconds)
        )
        await self._close(close_code or _ERRORS.get(error, _NOT_FATAL)[4] or 1011, error)

    # -- client messages ---------------------------------------------------------------------

    async def _handle_client(self, text: str) -> None:
        if text.strip() == "ping":
            self._out.append("pong")
            return
        self._requests += 1
        limit = self.config.message_limit
        if limit is not None and self._requests > limit:
            if self.config.throttle_reply:
                self._out.append(self._error_text("processing_throttled"))
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
                self._error_text(
                    "invalid_request",
                    message="Invalid message format",
                    legacy_message=_SUBSCRIPTIONS_INVALID,
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
            self._out.append(_dumps({"message": "Connecting..."}))
            self._out.append(_dumps({"message": f"Connected to W:{self.config.region}"}))

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
            for conn in self.server._open_connections()
            if conn is not self and conn.api_key == key
        ]
        if len(others) < limit:
            return
        if self.config.connection_limit_policy == "refuse":
            await self._fail("max_connections_exceeded")
        for victim in others[: len(others) - limit + 1]:
            victim.submit(_Command(FaultSpec(fault=Fault.EVICT)))

    async def _subscribe(self, raw: object) -> None:
        if not isinstance(raw, list) or not raw:
            self._out.append(
                self._error_text("invalid_subscriptions", message=_SUBSCRIPTIONS_INVALID)
            )
            return
        accepted: dict[tuple[str, str, str], _Subscription] = {}
        errors: list[_SubscriptionError] = []
        for item in raw:
            for parsed in self._parse_item(item):
                if isinstance(parsed, _SubscriptionError):
                    errors.append(parsed)
                else:
                    accepted.setdefault(parsed.key, parsed)
        cap = self.config.max_subscriptions
        if cap is not None and len(accepted) > cap:
            message = f"Subscription exceeds the number of symbols allowed by your plan ({cap})"
            self._out.append(self._error_text("subscription_limit_exceeded", message=message))
            return
        for error in errors:
            self._out.append(
                self._error_text(
                    error.error,
                    message=error.message,
                    legacy_message=error.legacy_message,
                    symbol=error.code,
                )
            )
        if not accepted:
            return
        if self.config.subscription_status:
            self._out.append(
                _dumps(
                    {
                        "event": "subscription_status",
                        "status": "active",
                        "subscription_count": len(accepted),
                    }
                )
            )
        previous = self._subscriptions
        self._subscriptions = accepted
        for key in list(self._sent_bars):
            if key not in accepted:
                del self._sent_bars[key]
        quote_codes = {sub.code for sub in accepted.values() if sub.kind == "quote"}
        for code in list(self._sent_quotes):
            if code not in quote_codes:
                del self._sent_quotes[code]
        market = self.server.market
        fresh_quotes: list[SyntheticQuote] = []
        for key, sub in accepted.items():
            market.track(sub.code, sub.interval)
            if key in previous and not self.config.resend_burst:
                continue
            if sub.kind == "series":
                assert sub.interval is not None
                bars = market.bars(sub.code, sub.interval, sub.count)
                self._out.append(_series_frame(sub.code, sub.interval, bars))
                self._sent_bars[key] = bars[-1]
            elif sub.kind == "tick":
                trades = market.trades(sub.code, sub.count)
                self._sent_tick_seq[sub.code] = market.steps
                if trades:
                    self._out.append(self._tick_frame(sub.code, trades))
            else:
                self._sent_quotes.pop(sub.code, None)
                fresh_quotes.append(market.quote(sub.code))
        self._queue_quotes(fresh_quotes)
        if not self._subscribed_once:
            self._subscribed_once = True
            if self.config.heartbeat_interval is not None:
                self._next_heartbeat = trio.current_time() + self.config.heartbeat_interval

    def _parse_item(self, item: object) -> list[_Subscription | _SubscriptionError]:
        def invalid(
            message: str, code: str | None = None
        ) -> list[_Subscription | _SubscriptionError]:
            return [_SubscriptionError("invalid_request", message, _SUBSCRIPTIONS_INVALID, code)]

        if not isinstance(item, dict):
            return invalid("a subscription must be a JSON object")
        code = item.get("code")
        if not isinstance(code, str) or not _CODE_PATTERN.match(code):
            return [
                _SubscriptionError(
                    "invalid_symbol",
                    "Invalid Symbol Code",
                    "Invalid Symbol Code",
                    code if isinstance(code, str) else None,
                )
            ]
        known = self.config.symbols
        if code in self.config.invalid_symbols or (known is not None and code not in known):
            return [
                _SubscriptionError("invalid_symbol", "Unknown symbol", "Invalid Symbol Code", code)
            ]
        kind = item.get("type", "series")
        if kind not in ("series", "quote", "both"):
            return invalid(f"unknown subscription type {kind!r}", code)
        for name in _BOOL_FIELDS:
            if name in item and _flag(item[name]) is None:
                return invalid(f"{name} must be true or false", code)
        count = 1
        for name in _COUNT_FIELDS:
            if name in item:
                value = _whole(item[name])
                if value is None or value < 1:
                    return invalid(f"{name} must be a positive integer", code)
                count = min(value, self.config.max_dp_cap)
                break
        found: list[_Subscription | _SubscriptionError] = []
        if kind in ("series", "both"):
            unit = item.get("bar_type", item.get("interval_type", "minute"))
            length = _whole(item.get("bar_interval", item.get("interval_length", 1)))
            interval_error = self._interval_error(unit, length)
            if interval_error is not None:
                found.append(
                    _SubscriptionError(
                        "invalid_bar_interval", interval_error, _SUBSCRIPTIONS_INVALID, code
                    )
                )
            else:
                assert isinstance(unit, str) and length is not None
                interval = Interval(unit, length)
                found.append(
                    _Subscription(code, "tick" if unit == "tick" else "series", interval, count)
                )
        if kind in ("quote", "both"):
            found.append(_Subscription(code, "quote", None, 1))
        return found

    @staticmethod
    def _interval_error(unit: object, length: int | None) -> str | None:
        if not isinstance(unit, str) or unit not in {*BAR_UNITS, "tick", "month"}:
            return f"unknown bar_type {unit!r}"
        if length is None or length < 1:
            return "bar_interval must be a positive integer"
        if unit == "month":
            return "the simulated server does not produce month bars"
        if unit == "tick" and length != 1:
            return "bar_interval must be 1 for tick data"
        if unit == "second" and length not in _SECOND_LENGTHS:
            return f"bar_interval for second bars must be one of {sorted(_SECOND_LENGTHS)}"
        nanos = Interval(unit, length).nanos
        if nanos is not None and nanos >= _YEAR_NANOS:
            return "bar_interval must stay below one year"
        return None

    # -- data frames -------------------------------------------------------------------------

    def _tick_frame(self, code: str, trades: Sequence[Any]) -> str:
        return _dumps(
            {
                "code": code,
                "bar_type": "1T",
                "last_update": _ms(trades[-1].ts),
                "series": [
                    {"time": _seconds(t.ts), "close": t.price, "volume": t.size} for t in trades
                ],
            }
        )

    def _queue_updates(self) -> None:
        market = self.server.market
        quotes: list[SyntheticQuote] = []
        for key, sub in self._subscriptions.items():
            if sub.kind == "series":
                assert sub.interval is not None
                # Not just the bar in progress: one market step can end several bar periods
                # (at speed 300 a 75 s step skips a minute in five), and the last state of a
                # bar that ended is what the client keeps as final.
                sent = self._sent_bars.get(key)
                if sent is None:
                    current = market.current_bar(sub.code, sub.interval)
                    bars = [] if current is None else [current]
                else:
                    bars = market.bars_since(sub.code, sub.interval, sent.ts_open)
                for bar in bars:
                    if bar != sent:
                        self._out.append(_series_frame(sub.code, sub.interval, [bar]))
                if bars:
                    self._sent_bars[key] = bars[-1]
            elif sub.kind == "tick":
                for trade in market.trades_after(sub.code, self._sent_tick_seq.get(sub.code, 0)):
                    self._out.append(self._tick_frame(sub.code, [trade]))
                self._sent_tick_seq[sub.code] = market.steps
            else:
                quotes.append(market.quote(sub.code))
        self._queue_quotes(quotes)

    def _queue_quotes(self, quotes: Sequence[SyntheticQuote]) -> None:
        mode = self.config.quote_mode
        entries: list[dict[str, object]] = []
        newest = 0
        for quote in quotes:
            full = _quote_fields(quote)
            last = self._sent_quotes.get(quote.code)
            if last == full:
                continue
            self._sent_quotes[quote.code] = full
            newest = max(newest, quote.ts_update)
            if mode == "flat":
                flat = dict(full)
                flat["lp_time"] = quote.ts_update // NANOS_PER_SECOND
                self._out.append(_dumps(flat))
            elif mode == "full" or last is None:
                entries.append(full)
            else:
                entries.append(
                    {
                        name: value
                        for name, value in full.items()
                        if name == "code" or last.get(name) != value
                    }
                )
        if entries:
            self._out.append(
                _dumps({"last_update": _ms(newest), "total_items": len(entries), "data": entries})
            )

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
        self._connections: list[_Connection] = []
        self._armed: deque[_Armed] = deque()
        self._changed_event = trio.Event()
        self._url: str | None = None
        self._rest_url: str | None = None
        #: Every REST request, in arrival order (see :class:`RestRequest`).
        self.rest_requests: list[RestRequest] = []
        self._rest_faults = RestFaults(self.config.rest_faults)
        self._t0 = 0.0
        self._closing = False

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
                    self._rest_url = await nursery.start(serve_rest, self)
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
            self._advance_market_to(start_ns + step * step_ns)

    def _advance_market_to(self, ts: int) -> None:
        """Make the market's trades up to simulated time ``ts`` and wake the connections."""
        if ts <= self.market.now_ns:
            return
        self.market.advance_to(ts)
        for conn in self._connections:
            if conn.is_open:
                conn.notify_market()

    async def _handle_tcp(self, raw: trio.SocketStream) -> None:
        conn = _Connection(self, len(self._connections) + 1, raw)
        self._connections.append(conn)
        self._changed()
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

    def _open_connections(self) -> list[_Connection]:
        return [conn for conn in self._connections if conn.is_open and conn.ws is not None]

    def _changed(self) -> None:
        event, self._changed_event = self._changed_event, trio.Event()
        event.set()

    def _upgrade_fault(self, connection_id: int) -> FaultSpec | None:
        for spec in self.config.all_faults():
            if spec.fault in _UPGRADE_FAULTS and spec.applies_to(connection_id):
                return spec
        if not self._armed:
            return None
        armed = self._armed[0]
        if armed.left is not None:
            armed.left -= 1
            if armed.left <= 0:
                self._armed.popleft()
        return armed.spec

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
        if spec.fault in _UPGRADE_FAULTS:
            self._armed.append(_Armed(spec))
            return 0
        commands: list[_Command] = []
        for conn in self._open_connections():
            if connection_id is None or conn.id == connection_id:
                command = _Command(spec)
                if conn.submit(command):
                    commands.append(command)
        for command in commands:
            await command.done.wait()
        return len(commands)

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
