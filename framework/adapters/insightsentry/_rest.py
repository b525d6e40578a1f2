"""The InsightSentry REST history client: ``GET /v3/symbols/{code}/series`` (and ``/history``).

:class:`HistoryClient` fetches one series document per call and hands back its raw text with
the decoded :class:`SeriesFrame`, so callers journal exactly what arrived and feed it through
the same bar path as WebSocket frames. It runs on Trio (httpx on anyio's Trio backend).

Every attempt runs under our own deadline (``request_timeout``, a ``trio.fail_after`` inside
the client; httpx's own timeouts are off so there is exactly one clock). Failures are sorted:

- 401/403 raise :class:`~framework.HistoryAuthError`, 404 :class:`~framework.HistoryNotFound`,
  other 4xx and undecodable 200s :class:`~framework.HistoryError`, all without retrying;
- 408, 429, 5xx, transport errors and our deadline are retried up to ``max_attempts`` times with
  exponential backoff and equal jitter (:class:`Backoff`), never sooner than a ``Retry-After``
  (seconds or an HTTP date, capped at ``max_retry_after``); then
  :class:`~framework.HistoryUnavailable`.

The key travels only as ``Authorization: Bearer <key>``; it is never in a URL, a log line, an
exception or a repr. Plain ``http://`` is allowed only to loopback hosts (the simulated server).

Endpoints (vendor OpenAPI, Sept 2026): ``/series`` returns the newest ``dp`` points (1 to
30000, newest last, the newest possibly still in progress); ``/history`` returns one month
(``start_date=YYYY-MM``; second bars: one day, ``YYYY-MM-DD``) of second/minute/hour bars.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from email.utils import parsedate_to_datetime
from typing import Final, Literal
from urllib.parse import quote, urlsplit

import attrs
import httpx
import trio

from ..._errors import (
    ConfigError,
    DecodeError,
    HistoryAuthError,
    HistoryError,
    HistoryNotFound,
    HistoryUnavailable,
)
from ..._intervals import Interval
from ..._secret import Secret, as_secret, redact
from ._backoff import Backoff, BackoffPolicy
from ._codec import decode_frame, log_safe
from ._frame_records import SeriesFrame
from ._subscriptions import API_KEY_NAME, CODE_PATTERN, MAX_BARS, Subscription

log = logging.getLogger(__name__)

#: The vendor's REST base URL.
DEFAULT_REST_URL: Final = "https://api.insightsentry.com"

#: Most points one ``/series`` request returns (the vendor's cap on ``dp``).
MAX_DP: Final = MAX_BARS

#: Largest response body accepted (the journal's record limit; 30000 bars are about 4 MB).
MAX_RESPONSE_BYTES: Final = 64 * 1024 * 1024

Endpoint = Literal["series", "history"]

_SERIES_FLAGS: Final = ("extended", "dadj", "split", "badj", "settlement")
_HISTORY_UNITS: Final = frozenset({"second", "minute", "hour"})


@attrs.frozen(slots=True, kw_only=True)
class RestConfig:
    """Where the REST API is and how patiently it is asked (seconds)."""

    base_url: str = DEFAULT_REST_URL
    #: Our deadline for one attempt: connect, send, wait and read the whole body.
    request_timeout: float = 30.0
    #: Attempts per request, the first included.
    max_attempts: int = 5
    backoff: BackoffPolicy = attrs.Factory(lambda: BackoffPolicy(initial=0.5, cap=30.0))
    #: A server's ``Retry-After`` is honoured up to this many seconds.
    max_retry_after: float = 300.0
    #: Most points asked for in one ``/series`` request (the vendor caps ``dp`` at 30000).
    max_dp: int = MAX_DP

    def __attrs_post_init__(self) -> None:
        if not self.request_timeout > 0:
            raise ConfigError(f"request_timeout must be positive, got {self.request_timeout!r}")
        if self.max_attempts < 1:
            raise ConfigError(f"max_attempts must be at least 1, got {self.max_attempts!r}")
        if not 1 <= self.max_dp <= MAX_DP:
            raise ConfigError(f"max_dp must be 1 to {MAX_DP}, got {self.max_dp!r}")
        check_rest_url(self.base_url)


@attrs.frozen(slots=True, kw_only=True)
class SeriesRequest:
    """One request: the newest ``bars`` points of ``code`` at ``interval`` (``/series``), or
    one month or day of them from ``start_date`` (``/history``).

    The options ``extended``, ``dadj``, ``split``, ``badj`` and ``settlement`` are sent only
    when set, as for the WebSocket (:class:`Subscription`); :meth:`for_subscription` copies
    them so history matches the live stream.
    """

    code: str
    interval: Interval
    bars: int = 3000
    endpoint: Endpoint = "series"
    start_date: str | None = None
    extended: bool | None = None
    dadj: bool | None = None
    split: bool | None = None
    badj: bool | None = None
    settlement: bool | None = None

    def __attrs_post_init__(self) -> None:
        if type(self.code) is not str or not CODE_PATTERN.fullmatch(self.code):
            raise ConfigError(f"history request: {self.code!r} is not an EXCHANGE:SYMBOL code")
        if self.interval.unit == "tick" and self.endpoint == "history":
            raise ConfigError("history request: /history has no tick data")
        if self.endpoint == "series":
            if type(self.bars) is not int or not 1 <= self.bars <= MAX_DP:
                raise ConfigError(
                    f"history request {self.name}: bars (dp) must be 1 to {MAX_DP}, "
                    f"got {self.bars!r}"
                )
        elif self.interval.unit not in _HISTORY_UNITS or not self.start_date:
            raise ConfigError(
                f"history request {self.name}: /history serves second, minute and hour bars "
                "from a start_date"
            )

    @classmethod
    def for_subscription(cls, subscription: Subscription, bars: int) -> SeriesRequest:
        """The ``/series`` request for the newest ``bars`` points of a series subscription."""
        return cls(
            code=subscription.code,
            interval=subscription.interval,
            bars=bars,
            **{flag: getattr(subscription, flag) for flag in _SERIES_FLAGS},
        )

    @property
    def name(self) -> str:
        """``NASDAQ:AAPL@1m dp=5000`` or ``NASDAQ:AAPL@1m from 2025-12``, for messages."""
        where = f"dp={self.bars}" if self.endpoint == "series" else f"from {self.start_date}"
        return f"{self.code}@{self.interval.label} {where}"

    @property
    def path(self) -> str:
        return f"/v3/symbols/{quote(self.code, safe=':!')}/{self.endpoint}"

    def params(self) -> dict[str, str]:
        """The query parameters, every set option explicit."""
        params = {"bar_type": self.interval.unit, "bar_interval": str(self.interval.length)}
        if self.endpoint == "series":
            params["dp"] = str(self.bars)
        else:
            assert self.start_date is not None
            params["start_date"] = self.start_date
        for flag in _SERIES_FLAGS:
            value = getattr(self, flag)
            if value is not None:
                params[flag] = "true" if value else "false"
        return params


@attrs.frozen(slots=True, kw_only=True)
class SeriesResponse:
    """A successful answer: the body exactly as received, its decoded frame, and how it went."""

    request: SeriesRequest
    status: int
    text: str
    frame: SeriesFrame
    attempts: int
    recv_wall_ns: int


@attrs.frozen(slots=True, kw_only=True)
class HistoryClientStatistics:
    """Counters of a :class:`HistoryClient`."""

    requests: int
    attempts: int
    retries: int
    failures: int


class HistoryClient:
    """Fetches series documents from the REST API; see the module docstring.

    Build it with :func:`open_history_client` (which closes it), or close it with
    :meth:`aclose`. ``transport`` replaces httpx's network transport (tests, proxies);
    ``wall_clock`` dates responses and resolves ``Retry-After`` dates; ``rng_seed`` makes the
    jitter reproducible.
    """

    def __init__(
        self,
        *,
        api_key: Secret | str,
        config: RestConfig | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        wall_clock: Callable[[], int] = time.time_ns,
        rng_seed: int | None = None,
    ) -> None:
        self._secret = as_secret(api_key, name=API_KEY_NAME)
        self.config = config or RestConfig()
        self._wall = wall_clock
        self._rng = random.Random(rng_seed)
        self._http = httpx.AsyncClient(
            base_url=self.config.base_url,
            transport=transport,
            timeout=None,  # our own deadline (trio.fail_after) is the only one
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": "tradewire"},
        )
        self._requests = self._attempts = self._retries = self._failures = 0
        self._closed = False

    def __repr__(self) -> str:
        return f"<HistoryClient {self.config.base_url}>"

    def statistics(self) -> HistoryClientStatistics:
        return HistoryClientStatistics(
            requests=self._requests,
            attempts=self._attempts,
            retries=self._retries,
            failures=self._failures,
        )

    async def aclose(self) -> None:
        """Close the connection pool; idempotent."""
        if not self._closed:
            self._closed = True
            with trio.move_on_after(2.0, shield=True):
                await self._http.aclose()

    async def fetch(self, request: SeriesRequest) -> SeriesResponse:
        """Fetch ``request``, retrying transient failures (see the module docstring).

        Cancellation (an outer deadline) stops it at once between or during attempts. Raises
        :class:`~framework.HistoryError` subclasses only.
        """
        if self._closed:
            raise HistoryError(f"{request.name}: the history client is closed")
        self._requests += 1
        backoff = Backoff(self.config.backoff, rng=self._rng)
        attempt = 0
        while True:
            attempt += 1
            self._attempts += 1
            outcome = await self._attempt(request, attempt)
            if isinstance(outcome, SeriesResponse):
                return outcome
            reason, status, floor = outcome
            if attempt >= self.config.max_attempts:
                self._failures += 1
                raise HistoryUnavailable(
                    f"{request.name}: gave up after {attempt} attempt(s) (last: {reason})",
                    status=status,
                )
            if floor is not None:
                floor = min(floor, self.config.max_retry_after)
            delay = backoff.next_delay(floor)
            self._retries += 1
            log.warning("history %s: %s; retrying in %.2f s", request.name, reason, delay)
            await trio.sleep(delay)

    async def _attempt(
        self, request: SeriesRequest, attempt: int
    ) -> SeriesResponse | tuple[str, int | None, float | None]:
        """One attempt: the response, or (why to retry, status, least delay)."""
        headers = {"Authorization": f"Bearer {self._secret.reveal()}"}
        timeout = self.config.request_timeout
        status: int | None = None
        try:
            with trio.fail_after(timeout):
                async with self._http.stream(
                    "GET", request.path, params=request.params(), headers=headers
                ) as response:
                    status = response.status_code
                    body = await _read_limited(response, MAX_RESPONSE_BYTES)
                    retry_after = response.headers.get("retry-after")
        except trio.TooSlowError:
            return f"no complete answer within {timeout:g} s", status, None
        except _TooLarge:
            self._failures += 1
            raise HistoryError(
                f"{request.name}: response larger than {MAX_RESPONSE_BYTES} bytes", status=status
            ) from None
        except httpx.TransportError as exc:
            # The message names the URL at most; the key is only ever in a header.
            text = redact(log_safe(f"{type(exc).__name__}: {exc}"), self._secret)
            return f"transport error ({text})", status, None
        recv = self._wall()
        if status == 200:
            return self._decoded(request, body, attempt, recv)
        snippet = redact(log_safe(body.decode("utf-8", "replace"), 120), self._secret)
        if status in (408, 429) or status >= 500:
            return f"HTTP {status}", status, parse_retry_after(retry_after, self._wall)
        self._failures += 1
        if status in (401, 403):
            raise HistoryAuthError(
                f"{request.name}: the REST API refused the key with HTTP {status} ({snippet}); "
                "check the API key and plan (not retrying)",
                status=status,
            )
        if status == 404:
            raise HistoryNotFound(
                f"{request.name}: HTTP 404 ({snippet}); unknown symbol?", status=status
            )
        raise HistoryError(f"{request.name}: HTTP {status} ({snippet})", status=status)

    def _decoded(
        self, request: SeriesRequest, body: bytes, attempt: int, recv: int
    ) -> SeriesResponse:
        try:
            text = body.decode("utf-8")
            frame = decode_frame(text, max_bytes=MAX_RESPONSE_BYTES, recv_ns=recv)
        except (UnicodeDecodeError, DecodeError) as exc:
            self._failures += 1
            raise HistoryError(
                f"{request.name}: the response is not a valid series: {log_safe(str(exc), 120)}",
                status=200,
            ) from None
        if not isinstance(frame, SeriesFrame):
            self._failures += 1
            raise HistoryError(
                f"{request.name}: the response is not a series ({frame.kind.name.lower()}: "
                f"{redact(log_safe(text, 120), self._secret)})",
                status=200,
            )
        if frame.code != request.code or frame.bar_label != request.interval.label:
            self._failures += 1
            raise HistoryError(
                f"{request.name}: the response is for {frame.code}@{frame.bar_label}",
                status=200,
            )
        return SeriesResponse(
            request=request, status=200, text=text, frame=frame, attempts=attempt, recv_wall_ns=recv
        )


class _TooLarge(Exception):
    pass


async def _read_limited(response: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


@asynccontextmanager
async def open_history_client(
    *,
    api_key: Secret | str,
    config: RestConfig | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    wall_clock: Callable[[], int] = time.time_ns,
    rng_seed: int | None = None,
) -> AsyncIterator[HistoryClient]:
    """A :class:`HistoryClient` that is closed when the block ends, whatever the outcome."""
    client = HistoryClient(
        api_key=api_key,
        config=config,
        transport=transport,
        wall_clock=wall_clock,
        rng_seed=rng_seed,
    )
    try:
        yield client
    finally:
        await client.aclose()


def parse_retry_after(
    value: str | None, wall_clock: Callable[[], int] = time.time_ns
) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - wall_clock() / 1e9)


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (where plain ws:// and http:// are fine)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_rest_url(url: str) -> None:
    """Refuse a base URL that is not ``https://`` (``http://`` only to loopback) or that carries
    credentials, a query or a fragment; raises :class:`~framework.ConfigError`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"REST URL must be https:// with a host, got {url!r}")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"plain http:// is allowed only to loopback addresses (got {parts.hostname}); "
            "use https://"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError("REST URL must not carry credentials, a query or a fragment")
