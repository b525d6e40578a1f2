"""The REST history client: against the simulated server, and timing rules in virtual time."""

import logging

import httpx
import pytest
import trio

from framework import ConfigError, Interval
from framework.adapters.insightsentry import (
    BackoffPolicy,
    HistoryAuthError,
    HistoryClient,
    HistoryError,
    HistoryNotFound,
    HistoryUnavailable,
    RestConfig,
    SeriesFrame,
    SeriesPoint,
    SeriesRequest,
    Subscription,
    encode_frame,
    open_history_client,
)
from framework.adapters.insightsentry._rest import parse_retry_after
from framework.adapters.insightsentry.sim import (
    DEFAULT_API_KEY,
    RestFault,
    SimConfig,
    open_simulated_server,
)

QUICK = BackoffPolicy(initial=0.05, cap=0.1)
AAPL_1M = SeriesRequest(code="NASDAQ:AAPL", interval=Interval("minute"), bars=20)


def sim(**overrides) -> SimConfig:
    options = dict(seed=3, speed=600.0, trade_interval=0.01, heartbeat_interval=0.2)
    options.update(overrides)
    return SimConfig(**options)


def client_for(server, **options) -> HistoryClient:
    options.setdefault("backoff", QUICK)
    return open_history_client(
        api_key=options.pop("api_key", DEFAULT_API_KEY),
        config=RestConfig(base_url=server.rest_url, **options),
    )


async def test_series_answers_hold_the_same_bars_as_the_websocket_burst():
    from framework.adapters.insightsentry import InsightSentryFeed, LiveFeedConfig, decode_frame

    with trio.fail_after(10):
        async with open_simulated_server(sim(speed=1.0)) as server:
            async with client_for(server) as client:
                response = await client.fetch(AAPL_1M)
            sent: list[str] = []
            feed = InsightSentryFeed(
                [Subscription(code="NASDAQ:AAPL", bars=20)],
                api_key=DEFAULT_API_KEY,
                url=server.url,
                config=LiveFeedConfig(stale_after=None),
                journal=lambda kind, payload, *_: (
                    sent.append(payload.decode()) if kind.name == "INBOUND" else None
                ),
            )
            async with trio.open_nursery() as nursery:
                send, receive = trio.open_memory_channel(100)
                nursery.start_soon(feed.run, send)
                async for batch in receive:
                    if any(e.__class__.__name__ == "BarUpdate" for e in batch):
                        break
                nursery.cancel_scope.cancel()
    burst = next(decode_frame(text, recv_ns=0) for text in sent if '"series"' in text)
    assert response.status == 200 and response.attempts == 1
    assert response.frame.code == "NASDAQ:AAPL" and response.frame.bar_label == "1m"
    assert len(response.frame.points) == 20
    # Every bar both sides have final is the same bar (the newest may be in progress).
    assert response.frame.points[:-1] == burst.points[:-1]
    assert response.text.startswith('{"code":"NASDAQ:AAPL"')


async def test_transient_failures_are_retried_and_counted():
    with trio.fail_after(10):
        async with open_simulated_server(sim()) as server:
            server.inject_rest(RestFault.STATUS, status=500)
            server.inject_rest(RestFault.DROP)
            server.inject_rest(RestFault.STATUS, status=429, retry_after=0.05)
            async with client_for(server) as client:
                response = await client.fetch(AAPL_1M)
                stats = client.statistics()
            statuses = [r.status for r in server.rest_requests]
    assert statuses == [500, None, 429, 200]
    assert response.attempts == 4
    assert (stats.requests, stats.attempts, stats.retries, stats.failures) == (1, 4, 3, 0)


async def test_a_slow_answer_is_abandoned_at_our_deadline_and_retried():
    with trio.fail_after(10):
        async with open_simulated_server(sim()) as server:
            server.inject_rest(RestFault.SLOW, delay=3.0)
            async with client_for(server, request_timeout=0.3) as client:
                response = await client.fetch(AAPL_1M)
    assert response.attempts == 2


async def test_exhausted_retries_raise_history_unavailable_with_the_last_status():
    with trio.fail_after(10):
        async with open_simulated_server(sim()) as server:
            server.inject_rest(RestFault.STATUS, status=503, count=None)
            async with client_for(server, max_attempts=3) as client:
                with pytest.raises(HistoryUnavailable, match="gave up after 3 attempt") as caught:
                    await client.fetch(AAPL_1M)
    assert caught.value.status == 503
    assert len(server.rest_requests) == 3


async def test_a_refused_key_is_final_and_never_shown(caplog):
    caplog.set_level(logging.DEBUG)
    secret = "sk-live-0123456789abcdef"
    with trio.fail_after(10):
        async with (
            open_simulated_server(sim()) as server,
            client_for(server, api_key=secret) as client,
        ):
            assert secret not in repr(client)
            with pytest.raises(HistoryAuthError) as caught:
                await client.fetch(AAPL_1M)
    assert caught.value.status == 401
    assert len(server.rest_requests) == 1, "an auth failure must not be retried"
    assert not server.rest_requests[0].authorized
    assert secret not in str(caught.value) and secret not in caplog.text


async def test_unknown_symbols_raise_not_found_and_bad_answers_a_history_error():
    with trio.fail_after(10):
        async with open_simulated_server(sim(symbols={"NASDAQ:AAPL"})) as server:
            async with client_for(server) as client:
                with pytest.raises(HistoryNotFound):
                    await client.fetch(
                        SeriesRequest(code="NASDAQ:NOPE", interval=Interval("minute"))
                    )
                server.inject_rest(RestFault.GARBAGE)
                with pytest.raises(HistoryError, match="not a series"):
                    await client.fetch(AAPL_1M)
                server.inject_rest(RestFault.STATUS, status=400)
                with pytest.raises(HistoryError, match="HTTP 400"):
                    await client.fetch(AAPL_1M)
            assert len(server.rest_requests) == 3


async def test_history_pages_serve_one_month():
    request = SeriesRequest(
        code="NASDAQ:AAPL", interval=Interval("hour"), endpoint="history", start_date="2025-12"
    )
    with trio.fail_after(10):
        async with open_simulated_server(sim()) as server, client_for(server) as client:
            response = await client.fetch(request)
    times = [p.time_ns for p in response.frame.points]
    assert len(times) == 31 * 24
    assert times[0] == 1_764_547_200 * 10**9  # 2025-12-01T00:00Z


# -- rules in virtual time, with httpx's mock transport ------------------------------------


def mock_client(answers: list[httpx.Response], seen: list[httpx.Request], **config):
    config.setdefault("backoff", BackoffPolicy(initial=0.5, cap=1.0))

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    return open_history_client(
        api_key="the-key",
        config=RestConfig(base_url="https://api.example.com", **config),
        transport=httpx.MockTransport(handler),
        wall_clock=lambda: 1_000_000 * 10**9,
        rng_seed=1,
    )


def series_body() -> bytes:
    bar = SeriesPoint(time_ns=60 * 10**9, open=1.0, high=1.0, low=1.0, close=1.0, volume=1.0)
    answer = SeriesFrame(
        code="NASDAQ:AAPL", bar_label="1m", bar_end_ns=None, last_update_ns=None, points=(bar,)
    )
    return encode_frame(answer).encode()


@pytest.mark.parametrize("retry_after", ["7", "Mon, 12 Jan 1970 13:46:47 GMT"])
async def test_retry_after_seconds_or_date_is_a_floor_for_the_next_attempt(
    autojump_clock, retry_after
):
    seen: list[httpx.Request] = []
    answers = [
        httpx.Response(429, headers={"Retry-After": retry_after}),
        httpx.Response(200, content=series_body()),
    ]
    async with mock_client(answers, seen) as client:
        started = trio.current_time()
        response = await client.fetch(AAPL_1M)
        waited = trio.current_time() - started
    assert response.attempts == 2
    assert 7.0 <= waited < 8.0
    request = seen[0]
    assert request.headers["authorization"] == "Bearer the-key"
    assert request.url.path == "/v3/symbols/NASDAQ:AAPL/series"
    assert dict(request.url.params) == {"bar_type": "minute", "bar_interval": "1", "dp": "20"}


async def test_backoff_grows_and_a_huge_retry_after_is_capped(autojump_clock):
    seen: list[httpx.Request] = []
    answers = [httpx.Response(503, headers={"Retry-After": "86400"})] + [
        httpx.Response(500) for _ in range(3)
    ]
    async with mock_client(answers, seen, max_attempts=4, max_retry_after=10.0) as client:
        started = trio.current_time()
        with pytest.raises(HistoryUnavailable):
            await client.fetch(AAPL_1M)
        waited = trio.current_time() - started
    assert len(seen) == 4
    assert 10.0 <= waited < 10.0 + 1.0 + 1.0 + 1.0


def test_series_requests_carry_the_subscription_options():
    sub = Subscription(code="CME_MINI:MNQ1!", interval=Interval("minute", 5), badj=False)
    request = SeriesRequest.for_subscription(sub, 100)
    assert request.params() == {
        "bar_type": "minute",
        "bar_interval": "5",
        "dp": "100",
        "badj": "false",
    }
    assert request.path == "/v3/symbols/CME_MINI:MNQ1!/series"
    with pytest.raises(ConfigError, match="1 to 30000"):
        SeriesRequest(code="NASDAQ:AAPL", interval=Interval("minute"), bars=30_001)


def test_plain_http_is_refused_for_remote_hosts():
    with pytest.raises(ConfigError, match="only to loopback"):
        RestConfig(base_url="http://api.insightsentry.com")
    with pytest.raises(ConfigError, match="credentials"):
        RestConfig(base_url="https://user:pw@api.insightsentry.com")
    RestConfig(base_url="http://127.0.0.1:8080")


def test_retry_after_parsing():
    now = lambda: 1_000 * 10**9  # noqa: E731
    assert parse_retry_after("2.5", now) == 2.5
    assert parse_retry_after("-3", now) == 0.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:16:50 GMT", now) == 10.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
