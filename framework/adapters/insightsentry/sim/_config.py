"""What the simulated InsightSentry server is told: :class:`SimConfig`, the faults it can show
(:class:`Fault`, :class:`FaultSpec`, :class:`Hostile`; :class:`RestFault`,
:class:`RestFaultSpec` on the REST side) and what it keeps of each REST request
(:class:`RestRequest`).

Plain frozen values and their checks, no I/O: the connection, the server and the REST side
read them; a bad value raises :class:`~framework.ConfigError` when the value is built.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Literal

import attrs

from ...._errors import ConfigError
from ...._time import NANOS_PER_SECOND
from ....testing._market import DEFAULT_START_NS

#: The key accepted by a default :class:`SimConfig`.
DEFAULT_API_KEY: Final = "sim-key"

#: The vendor's default and largest REST ``dp``.
DEFAULT_DP: Final = 3000
MAX_DP: Final = 30_000


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


#: Faults that apply to connection attempts (the HTTP upgrade), not to open connections.
UPGRADE_FAULTS: Final = frozenset({Fault.SILENT_UPGRADE, Fault.REJECT_UPGRADE})


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
        """Whether the fault hits connection ``connection_id`` (all do when ``connections``
        is None)."""
        return self.connections is None or connection_id in self.connections


class RestFault(enum.Enum):
    """Misbehaviours of the REST side."""

    #: Answer with HTTP ``status`` (and ``Retry-After: retry_after`` when set).
    STATUS = "status"
    #: Answer normally, after ``delay`` real seconds.
    SLOW = "slow"
    #: Close the TCP connection without answering (the client sees a transport error).
    DROP = "drop"
    #: Answer 200 with a body that is not a series (``{"message": ...}``).
    GARBAGE = "garbage"


@attrs.frozen(slots=True, kw_only=True)
class RestFaultSpec:
    """One REST fault: fires on the next ``count`` requests (None: every request until
    :meth:`SimulatedServer.clear_rest_faults`) to ``endpoint`` (``series``, ``history``; None:
    both). ``retry_after`` is sent as given: seconds or an HTTP date."""

    fault: RestFault = RestFault.STATUS
    status: int = 500
    retry_after: float | str | None = None
    delay: float = 1.0
    count: int | None = 1
    endpoint: Literal["series", "history"] | None = None

    def __attrs_post_init__(self) -> None:
        if not 400 <= self.status <= 599:
            raise ConfigError(f"REST fault status must be 400..599, got {self.status!r}")
        if self.count is not None and self.count < 1:
            raise ConfigError(f"count must be >= 1 or None, got {self.count!r}")
        if self.delay < 0:
            raise ConfigError(f"delay must be >= 0, got {self.delay!r}")


@attrs.frozen(slots=True, kw_only=True)
class RestRequest:
    """One REST request as the server saw it (the key itself is never kept).

    ``status`` is what was answered (None: dropped by a fault); ``fault`` the fault that fired.
    """

    path: str
    params: dict[str, str]
    authorized: bool
    status: int | None
    fault: RestFault | None
    at: float


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

    # -- REST (``/v3/symbols/{code}/series`` and ``/history``, see ``_rest``)
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
