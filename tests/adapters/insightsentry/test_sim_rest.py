"""The simulated server's REST side, spoken to with a plain HTTP client."""

import email.utils
import itertools

import httpx
import orjson
import pytest
import trio

from framework.adapters.insightsentry.sim import (
    DEFAULT_API_KEY,
    RestFault,
    RestFaultSpec,
    SimConfig,
    open_simulated_server,
)

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}


def sim(**overrides) -> SimConfig:
    options = dict(seed=4, speed=600.0, trade_interval=0.01, heartbeat_interval=None)
    options.update(overrides)
    return SimConfig(**options)


async def get(server, path: str, headers=AUTH, **params) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.rest_url) as client:
        return await client.get(path, params=params, headers=headers)


async def test_series_is_served_from_the_market_with_the_websocket_labels():
    with trio.fail_after(10):
        async with open_simulated_server(sim()) as server:
            answer = await get(server, "/v3/symbols/NASDAQ:AAPL/series", bar_type="minute", dp="50")
            default = await get(server, "/v3/symbols/NASDAQ:AAPL/series")
    assert answer.status_code == 200
    doc = orjson.loads(answer.content)
    assert doc["code"] == "NASDAQ:AAPL" and doc["bar_type"] == "1m"
    times = [point["time"] for point in doc["series"]]
    assert len(times) == 50 and times == sorted(times)
    assert {b - a for a, b in itertools.pairwise(times)} == {60.0}
    assert doc["bar_end"] == times[-1] + 59.0
    assert orjson.loads(default.content)["bar_type"] == "1D"  # the vendor's default bar type


async def test_keys_symbols_paths_and_parameters_are_checked():
    config = sim(symbols={"NASDAQ:AAPL"})
    with trio.fail_after(10):
        async with open_simulated_server(config) as server:
            path = "/v3/symbols/NASDAQ:AAPL/series"
            no_key = await get(server, path, headers={})
            wrong = await get(server, path, headers={"Authorization": "Bearer nope"})
            unknown = await get(server, "/v3/symbols/NASDAQ:MSFT/series")
            no_path = await get(server, "/v3/nothing")
            bad_dp = await get(server, path, dp="0")
            month = await get(server, path, bar_type="month")
            bad_page = await get(server, "/v3/symbols/NASDAQ:AAPL/history", start_date="x")
            log = [(r.path, r.authorized, r.status) for r in server.rest_requests]
    assert [no_key.status_code, wrong.status_code] == [401, 401]
    assert orjson.loads(no_key.content)["error"] == "invalid_api_key"
    assert [unknown.status_code, no_path.status_code] == [404, 404]
    assert [bad_dp.status_code, month.status_code, bad_page.status_code] == [400, 400, 400]
    assert log[0] == (path, False, 401) and log[2][1:] == (True, 404)
    assert all(DEFAULT_API_KEY not in repr(r) for r in server.rest_requests)


async def test_history_pages_hold_the_bars_of_their_month():
    with trio.fail_after(10):
        async with open_simulated_server(sim()) as server:
            page = await get(
                server, "/v3/symbols/NASDAQ:AAPL/history", bar_type="hour", start_date="2025-11"
            )
            series = await get(server, "/v3/symbols/NASDAQ:AAPL/series", bar_type="hour", dp="3000")
    hours = orjson.loads(page.content)["series"]
    assert len(hours) == 30 * 24
    newest = {p["time"]: p for p in orjson.loads(series.content)["series"]}
    assert all(newest[p["time"]] == p for p in hours if p["time"] in newest)


async def test_faults_fire_on_the_next_requests_then_stop():
    date = email.utils.formatdate(0, usegmt=True)
    faults = [RestFaultSpec(status=503, retry_after=date, endpoint="history")]
    with trio.fail_after(10):
        async with open_simulated_server(sim(rest_faults=faults)) as server:
            path = "/v3/symbols/NASDAQ:AAPL/series"
            server.inject_rest(RestFault.STATUS, status=429, retry_after=2, count=2)
            first = await get(server, path)
            second = await get(server, path)
            third = await get(server, path)
            paged = await get(server, "/v3/symbols/NASDAQ:AAPL/history", start_date="2025-12")
            server.inject_rest(RestFault.GARBAGE)
            garbage = await get(server, path)
            server.inject_rest(RestFault.DROP)
            with pytest.raises(httpx.TransportError):
                await get(server, path)
            server.inject_rest(RestFault.STATUS, status=500, count=None)
            server.clear_rest_faults()
            fine = await get(server, path)
            faults_seen = [r.fault for r in server.rest_requests]
    assert [first.status_code, second.status_code, third.status_code] == [429, 429, 200]
    assert first.headers["retry-after"] == "2"
    assert paged.status_code == 503 and paged.headers["retry-after"] == date
    assert garbage.status_code == 200 and "series" not in orjson.loads(garbage.content)
    assert fine.status_code == 200
    assert faults_seen[:2] == [RestFault.STATUS, RestFault.STATUS]
    assert faults_seen[-2:] == [RestFault.DROP, None]


async def test_a_slow_fault_delays_the_answer_but_answers():
    with trio.fail_after(10):
        async with open_simulated_server(sim()) as server:
            server.inject_rest(RestFault.SLOW, delay=0.2)
            answer = await get(server, "/v3/symbols/NASDAQ:AAPL/series", dp="3")
    assert answer.status_code == 200 and len(orjson.loads(answer.content)["series"]) == 3


async def test_the_rest_side_can_be_switched_off():
    with trio.fail_after(10):
        async with open_simulated_server(sim(rest=False)) as server:
            with pytest.raises(RuntimeError, match="not serving"):
                server.rest_url  # noqa: B018
