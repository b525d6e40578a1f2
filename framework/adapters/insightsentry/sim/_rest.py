"""The simulated server's REST side: ``GET /v3/symbols/{code}/series`` and ``/history``.

An HTTP/1.1 listener (h11, keep-alive) that :class:`~._server.SimulatedServer` runs beside its
WebSocket endpoint, at ``SimulatedServer.rest_url``. It answers from the same
:class:`~framework.testing.SyntheticMarket`, so a REST answer holds exactly the bars the
WebSocket sends (the newest still in progress), and checks the same keys, sent as
``Authorization: Bearer <key>``. It sees the server only as a :class:`RestHost`.

- ``/series``: ``bar_type`` (default ``day``, as the vendor), ``bar_interval`` (default 1),
  ``dp`` (default 3000, 1 to 30000, clamped to ``SimConfig.rest_max_dp``) and the series flags
  (accepted, no effect); the newest ``dp`` bars, oldest first.
- ``/history``: ``bar_type`` second/minute/hour, ``start_date`` ``YYYY-MM`` (second bars:
  ``YYYY-MM-DD``); the bars of that month (day) that the market still has.

Errors are JSON ``{"error": code, "message": text}``: 401 for a missing or unknown key, 404 for
an unknown path or symbol, 400 for bad parameters. Misbehaviour is a
:class:`~._config.RestFaultSpec`, armed in ``SimConfig.rest_faults`` (for the first requests)
or at runtime with ``SimulatedServer.inject_rest``; each fires on the next ``count`` matching
requests. Every request is logged in ``SimulatedServer.rest_requests``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Set
from typing import Final, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import h11
import trio

from ...._intervals import Interval
from ...._time import NANOS_PER_SECOND
from ....testing._market import SyntheticMarket
from .._encode import encode_frame
from .._frame_records import ErrorFrame, SeriesFrame
from ._config import DEFAULT_DP, MAX_DP, RestFault, RestFaultSpec, RestRequest, SimConfig
from ._wire import bar_point

logger = logging.getLogger(__name__)

#: Bytes read from a socket at a time; requests are small (no bodies are expected).
_RECEIVE: Final = 65_536
_PATH: Final = re.compile(r"^/v3/symbols/([^/]+)/(series|history)$")
_CODE: Final = re.compile(r"^[^:\s]+:[^:\s]+$")
_UNITS: Final = frozenset({"second", "minute", "hour", "day", "week"})
_HISTORY_UNITS: Final = frozenset({"second", "minute", "hour"})
_YEAR_NANOS: Final = 365 * 86_400 * NANOS_PER_SECOND


class RestHost(Protocol):
    """What the REST side needs from the server it runs beside (a ``SimulatedServer``)."""

    @property
    def config(self) -> SimConfig: ...

    @property
    def market(self) -> SyntheticMarket: ...

    @property
    def api_keys(self) -> Set[str] | None: ...

    @property
    def rest_requests(self) -> list[RestRequest]: ...

    def sim_time_ns(self) -> int: ...

    def wake_waiters(self) -> None: ...


class _Armed:
    __slots__ = ("left", "spec")

    def __init__(self, spec: RestFaultSpec) -> None:
        self.spec = spec
        self.left = spec.count


class RestFaults:
    """Armed REST faults, first armed first fired."""

    def __init__(self, specs: Iterable[RestFaultSpec] = ()) -> None:
        self._armed: list[_Armed] = [_Armed(spec) for spec in specs]

    def arm(self, spec: RestFaultSpec) -> None:
        self._armed.append(_Armed(spec))

    def clear(self) -> None:
        self._armed.clear()

    def take(self, endpoint: str) -> RestFaultSpec | None:
        for armed in self._armed:
            if armed.spec.endpoint not in (None, endpoint):
                continue
            if armed.left is not None:
                armed.left -= 1
                if armed.left <= 0:
                    self._armed.remove(armed)
            return armed.spec
        return None


class _Reply(Exception):
    """Internal: answer with ``status`` and a JSON error body."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


async def serve_rest(
    server: RestHost,
    faults: RestFaults,
    *,
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Listen on ``config.host:config.rest_port`` and serve until cancelled; reports the base
    URL (``http://host:port``) to ``task_status.started``. Each request takes the next of
    ``faults`` that matches it, if any."""
    config = server.config
    listeners = await trio.open_tcp_listeners(config.rest_port, host=config.host)
    host, port = listeners[0].socket.getsockname()[:2]
    host_text = f"[{host}]" if ":" in host else host

    async def handle(stream: trio.SocketStream) -> None:
        try:
            await _serve_connection(server, faults, stream)
        except (trio.BrokenResourceError, trio.ClosedResourceError, h11.ProtocolError):
            pass
        finally:
            await trio.aclose_forcefully(stream)

    async with trio.open_nursery() as nursery:
        await nursery.start(trio.serve_listeners, handle, listeners)
        task_status.started(f"http://{host_text}:{port}")


async def _serve_connection(
    server: RestHost, faults: RestFaults, stream: trio.SocketStream
) -> None:
    conn = h11.Connection(h11.SERVER)
    idle = server.config.handshake_timeout
    while True:
        request: h11.Request | None = None
        with trio.move_on_after(idle):
            request = await _read_request(conn, stream)
        if request is None:
            return
        keep_open = await _answer(server, faults, conn, stream, request)
        if not keep_open or conn.our_state is h11.MUST_CLOSE:
            return
        try:
            conn.start_next_cycle()
        except h11.LocalProtocolError:
            return


async def _read_request(conn: h11.Connection, stream: trio.SocketStream) -> h11.Request | None:
    request: h11.Request | None = None
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await stream.receive_some(_RECEIVE)
            conn.receive_data(data)  # b"" marks the end of the stream
            continue
        if isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.EndOfMessage):
            return request
        elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
            return None


async def _send(
    conn: h11.Connection,
    stream: trio.SocketStream,
    status: int,
    body: bytes,
    extra: list[tuple[str, str]] | None = None,
) -> None:
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Server", "tradewire-sim"),
        *(extra or []),
    ]
    data = conn.send(h11.Response(status_code=status, headers=headers))
    data = (data or b"") + (conn.send(h11.Data(data=body)) or b"")
    data += conn.send(h11.EndOfMessage()) or b""
    await stream.send_all(data)


async def _answer(
    server: RestHost,
    faults: RestFaults,
    conn: h11.Connection,
    stream: trio.SocketStream,
    request: h11.Request,
) -> bool:
    """Answer one request; False when the connection must close."""
    target = urlsplit(request.target.decode("latin-1"))
    params = {k: v[-1] for k, v in parse_qs(target.query, keep_blank_values=True).items()}
    headers = {name.decode("latin-1").lower(): value for name, value in request.headers}
    key = _bearer(headers.get("authorization"))
    allowed = server.api_keys
    authorized = key is not None and (allowed is None or key in allowed)
    match = _PATH.match(target.path)
    endpoint = match.group(2) if match else "other"

    def log(status: int | None, fault: RestFault | None) -> None:
        server.rest_requests.append(
            RestRequest(
                path=target.path,
                params=params,
                authorized=authorized,
                status=status,
                fault=fault,
                at=trio.current_time(),
            )
        )
        server.wake_waiters()

    fault = faults.take(endpoint)
    if fault is not None:
        if fault.fault is RestFault.DROP:
            log(None, fault.fault)
            return False
        if fault.fault is RestFault.SLOW:
            await trio.sleep(fault.delay)
        elif fault.fault is RestFault.GARBAGE:
            log(200, fault.fault)
            # A 200 whose body is a 2025-style error text, not a series.
            degraded = ErrorFrame(
                style="legacy_message", error_code=None, message="Service degraded"
            )
            await _send(conn, stream, 200, encode_frame(degraded).encode())
            return True
        else:
            extra = []
            if fault.retry_after is not None:
                value = fault.retry_after
                text = value if isinstance(value, str) else f"{value:g}"
                extra.append(("Retry-After", text))
            log(fault.status, fault.fault)
            body = _error_body(f"http_{fault.status}", f"simulated HTTP {fault.status}")
            await _send(conn, stream, fault.status, body, extra)
            return True
    if request.method != b"GET":
        status, body = 405, _error_body("method_not_allowed", "only GET is served")
    elif not authorized:
        status, body = 401, _error_body("invalid_api_key", "Invalid or missing API key")
    else:
        try:
            status, body = 200, _series_answer(server, match, params)
        except _Reply as reply:
            status, body = reply.status, _error_body(reply.error, reply.message)
    log(status, fault.fault if fault is not None else None)
    await _send(conn, stream, status, body)
    return True


def _bearer(value: bytes | None) -> str | None:
    if value is None:
        return None
    text = value.decode("latin-1").strip()
    scheme, _, token = text.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _error_body(error: str, message: str) -> bytes:
    # The service answers REST errors in the style of its structured WebSocket errors.
    frame = ErrorFrame(style="structured", error_code=error, message=message)
    return encode_frame(frame).encode()


def _series_answer(server: RestHost, match: re.Match[str] | None, params: dict[str, str]) -> bytes:
    if match is None:
        raise _Reply(404, "not_found", "no such endpoint")
    code = unquote(match.group(1))
    config = server.config
    if (
        not _CODE.match(code)
        or code in config.invalid_symbols
        or (config.symbols is not None and code not in config.symbols)
    ):
        raise _Reply(404, "invalid_symbol", f"Symbol {code} not found")
    interval = _interval(params, history=match.group(2) == "history")
    market = server.market
    market.track(code, interval)
    if match.group(2) == "series":
        dp = _int(params, "dp", DEFAULT_DP, 1, MAX_DP)
        bars = market.bars(code, interval, min(dp, config.rest_max_dp))
    else:
        start, end = _month(params.get("start_date", ""), interval)
        bars = [
            bar
            for bar in market.bars(code, interval, market.history_limit)
            if start <= bar.ts_open < end
        ]
    # A REST series answer has the shape of a /live series frame.
    if bars:
        nanos = interval.nanos
        assert nanos is not None
        bar_end_ns: int | None = bars[-1].ts_open + nanos - NANOS_PER_SECOND
        last_update_ns = bars[-1].ts_update
    else:
        bar_end_ns, last_update_ns = None, server.sim_time_ns()
    answer = SeriesFrame(
        code=code,
        bar_label=interval.label,
        bar_end_ns=bar_end_ns,
        last_update_ns=last_update_ns,
        points=tuple(bar_point(bar) for bar in bars),
    )
    return encode_frame(answer).encode()


def _int(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise _Reply(400, "invalid_parameter", f"{name} must be an integer {low}..{high}")
    return int(text)


def _interval(params: dict[str, str], *, history: bool) -> Interval:
    unit = params.get("bar_type", "minute" if history else "day")
    length = _int(params, "bar_interval", 1, 1, 1440)
    units = _HISTORY_UNITS if history else _UNITS
    if unit not in units:
        raise _Reply(400, "invalid_bar_type", f"bar_type {unit!r} is not served here")
    interval = Interval(unit, length)
    nanos = interval.nanos
    if nanos is None or nanos >= _YEAR_NANOS:
        raise _Reply(400, "invalid_bar_interval", "bar_interval must stay below one year")
    return interval


def _month(text: str, interval: Interval) -> tuple[int, int]:
    """[start, end) of a ``/history`` page in nanoseconds."""
    try:
        if interval.unit == "second":
            day = dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.UTC)
            following = day + dt.timedelta(days=1)
        else:
            day = dt.datetime.strptime(text, "%Y-%m").replace(tzinfo=dt.UTC)
            following = (day + dt.timedelta(days=32)).replace(day=1)
    except ValueError:
        shape = "YYYY-MM-DD" if interval.unit == "second" else "YYYY-MM"
        raise _Reply(400, "invalid_parameter", f"start_date must be {shape}") from None
    return (
        int(day.timestamp()) * NANOS_PER_SECOND,
        int(following.timestamp()) * NANOS_PER_SECOND,
    )
