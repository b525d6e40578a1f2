"""The simulated InsightSentry server, observed through a plain trio-websocket client."""

from __future__ import annotations

import functools
import itertools
import json
import math
import urllib.parse
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import attrs
import orjson
import pytest
import trio
import trio.testing
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    WebSocketConnection,
    wrap_client_stream,
)

from framework import Interval
from framework.adapters.insightsentry import (
    HeartbeatFrame,
    StatusFrame,
    Subscription,
    encode_frame,
    encode_subscribe,
)
from framework.adapters.insightsentry.sim import (
    DEFAULT_API_KEY,
    Fault,
    FaultSpec,
    Hostile,
    SimConfig,
    SimulatedServer,
    open_simulated_server,
)
from framework.testing import SyntheticMarket

#: Six simulated minutes per real second and a trade every 12 simulated seconds. A short close
#: grace because inject() waits for the close handshake, which a test blocked in inject() cannot
#: answer.
FAST: dict[str, Any] = {
    "speed": 360.0,
    "trade_interval": 0.02 / 0.6,
    "heartbeat_interval": None,
    "close_grace": 0.2,
}

AAPL_1M = Subscription(code="NASDAQ:AAPL")
TSLA_QUOTE = Subscription(code="NASDAQ:TSLA", type="quote")
TEST_TIMEOUT = 5.0


@asynccontextmanager
async def connect(
    url: str, *, max_message_size: int = 1 << 20
) -> AsyncIterator[WebSocketConnection]:
    """A plain trio-websocket client that always closes its socket.

    ``open_websocket_url`` (trio-websocket 0.12.2) can leave the client socket open after a
    server-initiated close, a rejected or a cancelled handshake; with warnings as errors the
    ResourceWarning would fail an unrelated later test. A rejected handshake comes out of this
    helper's nursery as an exception group holding ``ConnectionRejected``.
    """
    parts = urllib.parse.urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    stream = await trio.open_tcp_stream(parts.hostname, parts.port)
    try:
        async with trio.open_nursery() as nursery:
            ws = await wrap_client_stream(
                nursery, stream, parts.netloc, parts.path, max_message_size=max_message_size
            )
            try:
                yield ws
            finally:
                with trio.move_on_after(1, shield=True):
                    await ws.aclose()
                nursery.cancel_scope.cancel()
    finally:
        await trio.aclose_forcefully(stream)


def fast(**overrides: Any) -> SimConfig:
    return SimConfig(**{**FAST, **overrides})


def subscription(*subscriptions: Subscription, key: str = DEFAULT_API_KEY) -> str:
    """The subscription message the live feed sends for ``subscriptions``."""
    return encode_subscribe(key, subscriptions)


async def receive(ws: WebSocketConnection) -> Any:
    return orjson.loads(await ws.get_message())


async def receive_until(ws: WebSocketConnection, predicate: Callable[[Any], bool]) -> Any:
    while True:
        frame = await receive(ws)
        if predicate(frame):
            return frame


def is_series(frame: Any) -> bool:
    return isinstance(frame, dict) and "series" in frame


async def subscribe_and_skip_preamble(ws: WebSocketConnection, *subs: Subscription) -> None:
    """Send the subscription and read the two status frames and the active event."""
    await ws.send_message(subscription(*subs))
    for _ in range(3):
        await receive(ws)


async def closed_reason(ws: WebSocketConnection) -> ConnectionClosed:
    with pytest.raises(ConnectionClosed) as caught:
        while True:
            await ws.get_message()
    return caught.value


# -- greeting, bursts, updates -------------------------------------------------------------------


async def test_server_greets_and_confirms_the_subscription() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(fast()) as server:
            assert server.url.startswith("ws://127.0.0.1:") and server.url.endswith("/live")
            async with connect(server.url) as ws:
                await ws.send_message(subscription(AAPL_1M, TSLA_QUOTE))
                assert await receive(ws) == {"message": "Connecting..."}
                assert await receive(ws) == {"message": "Connected to W:SIM"}
                assert await receive(ws) == {
                    "event": "subscription_status",
                    "status": "active",
                    "subscription_count": 2,
                }


async def test_legacy_server_sends_no_subscription_status_event() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        config = fast(subscription_status=False)
        async with open_simulated_server(config) as server, connect(server.url) as ws:
            await ws.send_message(subscription(AAPL_1M))
            await receive(ws)
            await receive(ws)
            assert is_series(await receive(ws))


async def test_series_burst_is_oldest_first_and_ends_with_the_bar_in_progress() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(fast()) as server, connect(server.url) as ws:
            await subscribe_and_skip_preamble(ws, attrs.evolve(AAPL_1M, bars=50))
            burst = await receive(ws)
            update = await receive_until(ws, is_series)
    assert burst["code"] == "NASDAQ:AAPL" and burst["bar_type"] == "1m"
    times = [bar["time"] for bar in burst["series"]]
    assert len(times) == 50
    assert all(isinstance(t, float) for t in times)
    assert all(later - earlier == 60.0 for earlier, later in itertools.pairwise(times))
    newest = times[-1]
    assert burst["bar_end"] == newest + 59.0
    assert isinstance(burst["last_update"], int)
    # In progress: the next update is for the same bar or the one after it.
    assert update["series"][0]["time"] in (newest, newest + 60.0)
    assert len(update["series"]) == 1
    for bar in burst["series"]:
        assert 0 < bar["low"] <= min(bar["open"], bar["close"])
        assert max(bar["open"], bar["close"]) <= bar["high"]
        assert bar["volume"] >= 0


async def test_burst_size_is_clamped_to_the_plan_cap_and_defaults_to_one() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        config = fast(max_dp_cap=20)
        async with open_simulated_server(config) as server, connect(server.url) as ws:
            await subscribe_and_skip_preamble(ws, attrs.evolve(AAPL_1M, bars=500))
            assert len((await receive(ws))["series"]) == 20
            await ws.send_message(subscription(AAPL_1M))
            await receive_until(ws, lambda f: f.get("event") == "subscription_status")
            assert len((await receive(ws))["series"]) == 1


async def test_updates_reach_a_new_bar_period_within_a_second_at_high_speed() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(fast()) as server, connect(server.url) as ws:
            await subscribe_and_skip_preamble(ws, AAPL_1M)
            first = (await receive(ws))["series"][-1]
            previous = first
            while True:
                frame = await receive_until(ws, is_series)
                (bar,) = frame["series"]
                if bar["time"] == previous["time"]:
                    assert bar["volume"] >= previous["volume"]
                    assert bar["open"] == previous["open"]
                else:
                    assert bar["time"] > previous["time"]
                if bar["time"] > first["time"]:
                    break
                previous = bar


async def test_quotes_come_as_a_full_snapshot_then_sparse_entries() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(fast()) as server, connect(server.url) as ws:
            await subscribe_and_skip_preamble(ws, TSLA_QUOTE)
            first = await receive(ws)
            later = [await receive(ws) for _ in range(5)]
    assert first["total_items"] == len(first["data"]) == 1
    snapshot = first["data"][0]
    assert isinstance(first["last_update"], int)
    for name in ("code", "status", "lp_time", "last_price", "bid", "ask", "bid_size", "volume"):
        assert name in snapshot
    assert 0 < snapshot["bid"] < snapshot["ask"]
    for envelope in later:
        assert envelope["total_items"] == len(envelope["data"])
        (entry,) = envelope["data"]
        assert entry["code"] == "NASDAQ:TSLA"
        assert "status" not in entry and "currency_code" not in entry
        assert set(entry) <= set(snapshot)


async def test_quotes_can_always_be_full_or_legacy_flat() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        config = fast(quote_mode="full")
        async with open_simulated_server(config) as server, connect(server.url) as ws:
            await subscribe_and_skip_preamble(ws, TSLA_QUOTE)
            envelopes = [await receive(ws) for _ in range(3)]
        assert all("status" in e["data"][0] for e in envelopes)
        config = fast(quote_mode="flat")
        async with open_simulated_server(config) as server, connect(server.url) as ws:
            await subscribe_and_skip_preamble(ws, TSLA_QUOTE)
            flat = [await receive(ws) for _ in range(3)]
        assert all(f["code"] == "NASDAQ:TSLA" and "data" not in f for f in flat)
        assert all(isinstance(f["lp_time"], int) and f["bid"] < f["ask"] for f in flat)


async def test_legacy_field_spellings_and_string_values_are_accepted() -> None:
    legacy = {
        "code": "NASDAQ:AAPL",
        "interval_type": "minute",
        "interval_length": 5,
        "dp": "3",
        "extended": "false",
    }
    seconds = {"code": "NASDAQ:MSFT", "interval_type": "second", "interval_length": "1"}
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(fast()) as server, connect(server.url) as ws:
            text = orjson.dumps({"auth": DEFAULT_API_KEY, "subscriptions": [legacy, seconds]})
            await ws.send_message(text.decode())
            frames = [await receive(ws) for _ in range(5)]
    assert frames[2]["subscription_count"] == 2
    by_code = {f["code"]: f for f in frames[3:]}
    assert by_code["NASDAQ:AAPL"]["bar_type"] == "5m"
    assert len(by_code["NASDAQ:AAPL"]["series"]) == 3
    assert by_code["NASDAQ:MSFT"]["bar_type"] == "1s"


async def test_tick_subscription_streams_one_trade_per_frame() -> None:
    tick = Subscription(code="BINANCE:BTCUSDT", interval=Interval("tick", 1))
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(fast()) as server, connect(server.url) as ws:
            await subscribe_and_skip_preamble(ws, tick)
            frames = [await receive(ws) for _ in range(3)]
    for frame in frames:
        assert frame["bar_type"] == "1T"
        (point,) = frame["series"]
        assert point["close"] > 0 and point["volume"] > 0


async def test_a_new_subscription_message_replaces_the_whole_set() -> None:
    msft = attrs.evolve(AAPL_1M, code="NASDAQ:MSFT")
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(fast()) as server, connect(server.url) as ws:
            await subscribe_and_skip_preamble(ws, AAPL_1M)
            await receive(ws)
            await ws.send_message(subscription(msft))
            event = await receive_until(ws, lambda f: "event" in f)
            assert event["subscription_count"] == 1
            after = [await receive(ws) for _ in range(5)]
    assert {frame["code"] for frame in after} == {"NASDAQ:MSFT"}


# -- requests the server refuses --------------------------------------------------------------


@pytest.mark.parametrize("subscriptions", [[], None, "NASDAQ:AAPL"])
async def test_empty_or_missing_subscriptions_get_an_error_and_the_connection_stays(
    subscriptions: object,
) -> None:
    request: dict[str, Any] = {"api_key": DEFAULT_API_KEY}
    if subscriptions is not None:
        request["subscriptions"] = subscriptions
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(fast()) as server, connect(server.url) as ws:
            await ws.send_message(orjson.dumps(request).decode())
            error = await receive_until(ws, lambda f: "message" not in f or "error" in f)
            await ws.send_message("ping")
            assert await ws.get_message() == "pong"
    assert error == {
        "error": "invalid_subscriptions",
        "message": "Subscriptions field or value is invalid",
        "retryable": False,
    }


async def test_legacy_error_style_sends_only_a_message() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        config = fast(error_style="legacy", greeting="none")
        async with open_simulated_server(config) as server, connect(server.url) as ws:
            # An empty list, which encode_subscribe refuses to write.
            empty = orjson.dumps({"api_key": DEFAULT_API_KEY, "subscriptions": []}).decode()
            await ws.send_message(empty)
            assert await receive(ws) == {"message": "Subscriptions field or value is invalid"}


async def test_a_bad_key_gets_a_structured_error_then_the_connection_closes() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(fast()) as server, connect(server.url) as ws:
            await ws.send_message(subscription(AAPL_1M, key="wrong"))
            error = await receive_until(ws, lambda f: "error" in f)
            closed = await closed_reason(ws)
    assert error["error"] == "invalid_api_key"
    assert error["retryable"] is False
    assert closed.reason is not None and closed.reason.code == 1008
    assert not any(is_series(json.loads(t)) for _, t in server.received)


async def test_invalid_symbols_get_a_per_subscription_error_and_the_rest_streams() -> None:
    nope = attrs.evolve(AAPL_1M, code="NASDAQ:NOPE")
    config = fast(invalid_symbols={"NASDAQ:NOPE"})
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(config) as server, connect(server.url) as ws:
            await ws.send_message(subscription(nope, AAPL_1M))
            frames = [await receive(ws) for _ in range(5)]
    assert {
        "error": "invalid_symbol",
        "message": "Unknown symbol",
        "code": "NASDAQ:NOPE",
        "retryable": False,
    } in frames
    assert {"event": "subscription_status", "status": "active", "subscription_count": 1} in frames
    assert any(is_series(f) and f["code"] == "NASDAQ:AAPL" for f in frames)


async def test_plan_limit_refuses_the_whole_request() -> None:
    msft = attrs.evolve(AAPL_1M, code="NASDAQ:MSFT")
    with trio.fail_after(TEST_TIMEOUT):
        config = fast(max_subscriptions=1)
        async with open_simulated_server(config) as server, connect(server.url) as ws:
            await ws.send_message(subscription(AAPL_1M, msft))
            error = await receive_until(ws, lambda f: "error" in f)
    assert "exceeds the number of symbols" in error["message"]


# -- keep-alive -------------------------------------------------------------------------------


async def test_text_ping_is_answered_with_pong() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(fast()) as server, connect(server.url) as ws:
            await ws.send_message("ping")
            assert await ws.get_message() == "pong"
    assert server.received == [(1, "ping")]


async def test_heartbeats_carry_simulated_server_time_in_milliseconds() -> None:
    config = fast(heartbeat_interval=0.05)
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(config) as server, connect(server.url) as ws:
            await subscribe_and_skip_preamble(ws, TSLA_QUOTE)
            beats = [await receive_until(ws, lambda f: "server_time" in f) for _ in range(2)]
    assert all(list(beat) == ["server_time"] for beat in beats)
    assert all(isinstance(beat["server_time"], int) for beat in beats)
    assert config.start_time_ns // 1_000_000 < beats[0]["server_time"] < beats[1]["server_time"]


async def test_a_heartbeat_never_runs_ahead_of_the_bars_sent(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The market clock ticks every 10 s here and a heartbeat comes every 0.05 s (3 simulated
    # minutes): each heartbeat must first bring the bars up to its server_time, which the client
    # takes as the end of every bar before it.
    config = fast(speed=3600.0, trade_interval=10.0, heartbeat_interval=0.05)
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(config) as server, connect(server.url) as ws:
            await subscribe_and_skip_preamble(ws, AAPL_1M)
            newest = (await receive(ws))["series"][-1]["time"]
            beats = 0
            while beats < 5:
                frame = await receive(ws)
                if is_series(frame):
                    (bar,) = frame["series"]
                    assert bar["time"] in (newest, newest + 60.0)
                    newest = bar["time"]
                else:
                    beats += 1
                    assert newest <= frame["server_time"] / 1000 < newest + 60.0


async def test_a_client_that_stops_answering_pings_is_closed_with_1011() -> None:
    config = fast(ping_interval=0.05, ping_timeout=0.1, close_grace=0.2)
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(config) as server, connect(server.url) as ws:
            await ws.send_message(subscription(AAPL_1M, TSLA_QUOTE))
            # Not reading: trio-websocket's queue of one fills and its reader stops answering.
            await server.wait_until(lambda s: s.connections()[0].close_code == 1011)
            closed = await closed_reason(ws)
    assert closed.reason is not None and closed.reason.code == 1011


async def test_revoked_keys_are_refused_on_the_next_connection() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(fast(api_keys={"a", "b"})) as server:
            assert server.api_keys is not None
            server.api_keys.discard("a")
            async with connect(server.url) as ws:
                await ws.send_message(subscription(TSLA_QUOTE, key="a"))
                refused = await receive_until(ws, lambda f: "error" in f)
            async with connect(server.url) as ws:
                await ws.send_message(subscription(TSLA_QUOTE, key="b"))
                accepted = await receive_until(ws, lambda f: "event" in f)
    assert refused["error"] == "invalid_api_key"
    assert accepted["status"] == "active"


async def test_throttled_messages_are_ignored_with_processing_throttled() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        config = fast(message_limit=1)
        async with open_simulated_server(config) as server, connect(server.url) as ws:
            await subscribe_and_skip_preamble(ws, TSLA_QUOTE)
            await ws.send_message(subscription(AAPL_1M))
            error = await receive_until(ws, lambda f: "error" in f)
            await ws.send_message("ping")  # pings are never throttled
            while await ws.get_message() != "pong":
                pass
    assert error["error"] == "processing_throttled"
    assert error["action"] == "wait_and_retry" and error["retryable"] is True


# -- faults -----------------------------------------------------------------------------------


async def test_close_after_frames_closes_with_the_configured_code() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        config = fast(close_after_frames=4, close_code=4001)
        async with open_simulated_server(config) as server, connect(server.url) as ws:
            await ws.send_message(subscription(AAPL_1M))
            frames = [await receive(ws) for _ in range(4)]
            closed = await closed_reason(ws)
    assert is_series(frames[3])
    assert closed.reason is not None and closed.reason.code == 4001
    (stats,) = server.connections()
    assert stats.frames_sent == 4 and stats.close_code == 4001 and stats.outcome == "server_closed"


async def test_injected_close_reaches_every_open_connection() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        async with (
            open_simulated_server(fast()) as server,
            connect(server.url) as first,
            connect(server.url) as second,
        ):
            for ws in (first, second):
                await subscribe_and_skip_preamble(ws, TSLA_QUOTE)
            assert await server.inject(Fault.CLOSE, code=4002, reason="bye") == 2
            for ws in (first, second):
                closed = await closed_reason(ws)
                assert closed.reason is not None
                assert (closed.reason.code, closed.reason.reason) == (4002, "bye")


@pytest.mark.parametrize("reset", [False, True])
async def test_dropped_connection_is_seen_as_abnormal_closure(reset: bool) -> None:
    config = fast(faults=[FaultSpec(fault=Fault.DROP, after_frames=3, reset=reset)])
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(config) as server, connect(server.url) as ws:
            await ws.send_message(subscription(AAPL_1M))
            closed = await closed_reason(ws)
    assert closed.reason is not None and closed.reason.code == 1006
    assert server.connections()[0].outcome == "dropped"


async def test_injected_drop_is_seen_as_abnormal_closure() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(fast()) as server, connect(server.url) as ws:
            await subscribe_and_skip_preamble(ws, TSLA_QUOTE)
            await server.inject(Fault.DROP)
            closed = await closed_reason(ws)
    assert closed.reason is not None and closed.reason.code == 1006


async def test_stalled_server_sends_nothing_and_answers_no_pings() -> None:
    config = fast(heartbeat_interval=0.02, faults=[FaultSpec(fault=Fault.STALL, after_frames=4)])
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(config) as server, connect(server.url) as ws:
            await ws.send_message(subscription(AAPL_1M, TSLA_QUOTE))
            for _ in range(4):
                await receive(ws)
            # Trades every ~33 ms and heartbeats every 20 ms would arrive here if not stalled.
            with trio.move_on_after(0.3) as silent:
                await ws.get_message()
            assert silent.cancelled_caught
            with trio.move_on_after(0.2) as unanswered:
                await ws.ping()
            assert unanswered.cancelled_caught
            await server.inject(Fault.CLOSE, code=4003)
            closed = await closed_reason(ws)
    assert closed.reason is not None and closed.reason.code == 4003
    assert server.connections()[0].frames_sent == 4


async def test_stall_with_a_duration_resumes_streaming() -> None:
    config = fast(faults=[FaultSpec(fault=Fault.STALL, after_frames=4, duration=0.1)])
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(config) as server, connect(server.url) as ws:
            await ws.send_message(subscription(AAPL_1M))
            frames = [await receive(ws) for _ in range(8)]
    assert all(is_series(f) for f in frames[3:])


async def test_garbage_frame_arrives_after_the_configured_frames() -> None:
    config = fast(faults=[FaultSpec(fault=Fault.GARBAGE, after_frames=3, text="<<garbage>>")])
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(config) as server, connect(server.url) as ws:
            await ws.send_message(subscription(AAPL_1M))
            texts = [await ws.get_message() for _ in range(5)]
    assert texts[3] == "<<garbage>>"
    assert is_series(orjson.loads(texts[4]))


async def test_oversized_frame_exceeds_the_client_limit() -> None:
    config = fast(faults=[FaultSpec(fault=Fault.OVERSIZED, after_frames=0, size=2 << 20)])
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(config) as server, connect(server.url) as ws:
            closed = await closed_reason(ws)
    assert closed.reason is not None and closed.reason.code == 1009


async def test_oversized_frame_has_the_requested_size(nursery: trio.Nursery) -> None:
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(fast()) as server, connect(server.url) as ws:
            await subscribe_and_skip_preamble(ws, TSLA_QUOTE)
            # inject() returns once the frame is sent, which needs this task to read.
            nursery.start_soon(functools.partial(server.inject, Fault.OVERSIZED, size=300_000))
            text = await receive_until(ws, lambda f: "padding" in f)
    assert len(orjson.dumps(text)) == 300_000


def _hostile_check(kind: Hostile, text: str) -> bool:
    if kind is Hostile.NAN:
        return math.isnan(json.loads(text)["series"][0]["close"])
    if kind is Hostile.HUGE_NUMBER:
        return math.isinf(json.loads(text)["series"][0]["close"])
    if kind is Hostile.NEGATIVE_PRICE:
        return bool(orjson.loads(text)["series"][0]["close"] < 0)
    if kind is Hostile.HIGH_BELOW_LOW:
        bar = orjson.loads(text)["series"][0]
        return bool(bar["high"] < bar["low"])
    try:
        json.loads(text)
    except RecursionError:
        return True
    return False


@pytest.mark.parametrize("kind", list(Hostile))
async def test_hostile_json_frames_are_delivered_as_specified(kind: Hostile) -> None:
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(fast()) as server, connect(server.url) as ws:
            await subscribe_and_skip_preamble(ws, TSLA_QUOTE)
            await server.inject(Fault.HOSTILE_JSON, hostile=kind)
            while True:
                text = await ws.get_message()
                assert isinstance(text, str)
                if '"series"' in text:
                    break
    assert '"code":"NASDAQ:TSLA"' in text
    assert _hostile_check(kind, text)


async def test_silent_upgrade_never_completes_the_handshake() -> None:
    config = fast(faults=[FaultSpec(fault=Fault.SILENT_UPGRADE, connections={1})])
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(config) as server:
            with trio.move_on_after(0.3) as waiting:
                async with connect(server.url):
                    pytest.fail("the handshake completed")
            assert waiting.cancelled_caught
            # Only the first attempt was silenced.
            async with connect(server.url) as ws:
                await ws.send_message("ping")
                assert await ws.get_message() == "pong"
    assert [s.outcome for s in server.connections()] == ["silent", "client_closed"]


async def test_runtime_silent_upgrade_applies_to_the_next_attempt_only() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(fast()) as server:
            await server.inject(Fault.SILENT_UPGRADE, count=1)
            with trio.move_on_after(0.3) as waiting:
                async with connect(server.url):
                    pytest.fail("the handshake completed")
            assert waiting.cancelled_caught
            async with connect(server.url) as ws:
                await ws.send_message("ping")
                assert await ws.get_message() == "pong"


def rejected_with(status: int, *headers: tuple[bytes, bytes]) -> pytest.RaisesGroup[Any]:
    """Expect the handshake to fail with HTTP ``status`` and (lower-cased) ``headers``."""

    def matches(exc: ConnectionRejected) -> bool:
        received = {(name.lower(), value) for name, value in exc.headers}
        return exc.status_code == status and set(headers) <= received

    return pytest.RaisesGroup(
        pytest.RaisesExc(ConnectionRejected, check=matches), flatten_subgroups=True
    )


async def test_rejected_upgrade_reports_http_status_and_retry_after() -> None:
    config = fast(faults=[FaultSpec(fault=Fault.REJECT_UPGRADE, status=429, retry_after=7)])
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(config) as server:
            with rejected_with(429, (b"retry-after", b"7")):
                async with connect(server.url):
                    pytest.fail("the handshake completed")
    assert server.connections()[0].outcome == "rejected"


async def test_runtime_upgrade_rejection_applies_to_the_next_attempts_only() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(fast()) as server:
            await server.inject(Fault.REJECT_UPGRADE, status=503, retry_after=None, count=2)
            for _ in range(2):
                with rejected_with(503):
                    async with connect(server.url):
                        pytest.fail("the handshake completed")
            async with connect(server.url) as ws:
                await ws.send_message("ping")
                assert await ws.get_message() == "pong"
    assert [s.outcome for s in server.connections()] == ["rejected", "rejected", "client_closed"]


async def test_greeting_can_come_on_open_before_the_client_speaks() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        config = fast(greeting="on_open")
        async with open_simulated_server(config) as server, connect(server.url) as ws:
            assert await receive(ws) == {"message": "Connecting..."}
            assert await receive(ws) == {"message": "Connected to W:SIM"}


async def test_other_paths_are_not_found() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(fast()) as server:
            with rejected_with(404):
                async with connect(server.url.replace("/live", "/other")):
                    pytest.fail("the handshake completed")


async def test_evicted_connection_gets_connection_evicted_then_closes() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(fast()) as server, connect(server.url) as ws:
            await subscribe_and_skip_preamble(ws, TSLA_QUOTE)
            await server.inject(Fault.EVICT)
            error = await receive_until(ws, lambda f: "error" in f)
            closed = await closed_reason(ws)
    assert error["error"] == "connection_evicted" and error["retryable"] is False
    assert closed.reason is not None and closed.reason.code == 1008


async def test_fatal_error_carries_action_and_delay_then_closes() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(fast()) as server, connect(server.url) as ws:
            await subscribe_and_skip_preamble(ws, TSLA_QUOTE)
            await server.inject(Fault.ERROR, error="server_busy", delay_seconds=3.0)
            error = await receive_until(ws, lambda f: "error" in f)
            closed = await closed_reason(ws)
    assert error == {
        "error": "server_busy",
        "message": "Server is busy, please retry later",
        "action": "reconnect",
        "retryable": True,
        "delay_seconds": 3.0,
    }
    assert closed.reason is not None and closed.reason.code == 1013


async def test_fatal_error_in_legacy_style_is_a_message_then_close() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        config = fast(error_style="legacy")
        async with open_simulated_server(config) as server, connect(server.url) as ws:
            await subscribe_and_skip_preamble(ws, TSLA_QUOTE)
            await server.inject(Fault.ERROR, error="internal_server_error")
            error = await receive_until(ws, lambda f: "data" not in f)
            closed = await closed_reason(ws)
    assert error == {"message": "Internal server error"}
    assert closed.reason is not None and closed.reason.code == 1011


async def test_injected_throttle_and_key_rejection() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(fast()) as server, connect(server.url) as ws:
            await subscribe_and_skip_preamble(ws, TSLA_QUOTE)
            await server.inject(Fault.THROTTLE)
            throttled = await receive_until(ws, lambda f: "error" in f)
            await server.inject(Fault.REJECT_KEY)
            rejected = await receive_until(ws, lambda f: "error" in f)
            closed = await closed_reason(ws)
    assert throttled["error"] == "processing_throttled"
    assert rejected["error"] == "invalid_api_key"
    assert closed.reason is not None and closed.reason.code == 1008


async def test_connection_limit_refuses_the_newer_connection() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        config = fast(max_connections_per_key=1)
        async with open_simulated_server(config) as server, connect(server.url) as first:
            await subscribe_and_skip_preamble(first, TSLA_QUOTE)
            async with connect(server.url) as second:
                await second.send_message(subscription(TSLA_QUOTE))
                error = await receive_until(second, lambda f: "error" in f)
                closed = await closed_reason(second)
            assert "data" in await receive(first)
    assert error["error"] == "max_connections_exceeded"
    assert closed.reason is not None and closed.reason.code == 1008


async def test_connection_limit_can_evict_the_older_connection() -> None:
    config = fast(max_connections_per_key=1, connection_limit_policy="evict_old")
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(config) as server, connect(server.url) as first:
            await subscribe_and_skip_preamble(first, TSLA_QUOTE)
            async with connect(server.url) as second:
                await subscribe_and_skip_preamble(second, TSLA_QUOTE)
                error = await receive_until(first, lambda f: "error" in f)
                await closed_reason(first)
                assert "data" in await receive(second)
    assert error["error"] == "connection_evicted"


async def test_faults_can_target_only_the_first_connection() -> None:
    config = fast(faults=[FaultSpec(fault=Fault.CLOSE, after_frames=4, connections={1})])
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(config) as server:
            async with connect(server.url) as ws:
                await ws.send_message(subscription(TSLA_QUOTE))
                await closed_reason(ws)
            async with connect(server.url) as ws:
                await ws.send_message(subscription(TSLA_QUOTE))
                frames = [await receive(ws) for _ in range(8)]
            await server.wait_until(lambda s: not any(c.is_open for c in s.connections()))
    assert len(frames) == 8
    first, second = server.connections()
    assert first.frames_sent == 4 and first.outcome == "server_closed"
    assert second.frames_sent >= 8 and second.outcome == "client_closed"


# -- determinism, replay, records -------------------------------------------------------------


async def _burst_and_updates(config: SimConfig, updates: int) -> tuple[Any, list[Any]]:
    async with open_simulated_server(config) as server, connect(server.url) as ws:
        await subscribe_and_skip_preamble(ws, attrs.evolve(AAPL_1M, bars=30))
        burst = await receive(ws)
        frames = [await receive(ws) for _ in range(updates)]
    return burst, frames


async def test_same_seed_gives_the_same_data() -> None:
    with trio.fail_after(TEST_TIMEOUT):
        burst_a, updates_a = await _burst_and_updates(fast(seed=7), 10)
        burst_b, updates_b = await _burst_and_updates(fast(seed=7), 10)
        burst_c, _ = await _burst_and_updates(fast(seed=8), 0)
    complete_a = {bar["time"]: bar for bar in burst_a["series"][:-1]}
    complete_b = {bar["time"]: bar for bar in burst_b["series"][:-1]}
    common = complete_a.keys() & complete_b.keys()
    assert len(common) >= 25
    assert all(complete_a[t] == complete_b[t] for t in common)
    # Updates stamped with the same simulated time carry the same bar.
    by_time_a = {f["last_update"]: f for f in updates_a}
    by_time_b = {f["last_update"]: f for f in updates_b}
    shared = by_time_a.keys() & by_time_b.keys()
    assert shared
    assert all(by_time_a[t] == by_time_b[t] for t in shared)
    assert burst_c["series"][:-1] != burst_a["series"][:-1]


async def test_replay_mode_sends_recorded_frames_in_order() -> None:
    recorded = (
        encode_frame(StatusFrame(text="Connecting...", is_info=True)),
        encode_frame(HeartbeatFrame(server_time_ns=1_000_000)),
        "not json",
        '{"x":1}',
    )
    config = SimConfig(replay_frames=recorded, replay_pacing=0.01, replay_close_code=4005)
    with trio.fail_after(TEST_TIMEOUT):
        async with open_simulated_server(config) as server, connect(server.url) as ws:
            await ws.send_message(subscription(AAPL_1M))
            texts = [await ws.get_message() for _ in recorded]
            closed = await closed_reason(ws)
    assert tuple(texts) == recorded
    assert closed.reason is not None and closed.reason.code == 4005


async def test_server_records_what_clients_sent_and_connection_statistics() -> None:
    text = subscription(TSLA_QUOTE)
    with trio.fail_after(TEST_TIMEOUT):
        config = fast()
        async with open_simulated_server(config) as server:
            async with connect(server.url) as ws:
                await ws.send_message(text)
                await ws.send_message("ping")
                frames = [await ws.get_message() for _ in range(5)]
            await server.wait_for_connections(1)
            await server.wait_until(lambda s: not s.connections()[0].is_open)
            stats = server.statistics()
    assert server.received == [(1, text), (1, "ping")]
    assert "pong" in frames
    (conn,) = server.connections()
    assert conn.api_key == DEFAULT_API_KEY and conn.path == "/live"
    assert conn.messages_received == 2 and conn.frames_sent >= 5 and conn.bytes_sent > 0
    assert conn.closed_at is not None and conn.close_code == 1000
    assert stats.connections_total == 1 and stats.connections_open == 0


async def test_shutdown_closes_open_connections_with_going_away(nursery: trio.Nursery) -> None:
    server = SimulatedServer(fast())
    scope = trio.CancelScope()

    async def serve(task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        with scope:
            await server.serve(task_status=task_status)

    with trio.fail_after(TEST_TIMEOUT):
        url = await nursery.start(serve)
        async with connect(url) as ws:
            await subscribe_and_skip_preamble(ws, TSLA_QUOTE)
            scope.cancel()
            closed = await closed_reason(ws)
    assert closed.reason is not None and closed.reason.code == 1001


def test_config_rejects_impossible_values() -> None:
    with pytest.raises(ValueError, match="speed"):
        SimConfig(speed=0)
    with pytest.raises(ValueError, match="close code"):
        FaultSpec(fault=Fault.CLOSE, code=99)


# -- the synthetic market ---------------------------------------------------------------------

MINUTE = Interval("minute", 1)


def _market(**overrides: Any) -> SyntheticMarket:
    return SyntheticMarket(**{"seed": 3, "trade_step_ns": 7_000_000_000, **overrides})


def _check_bars(bars: Sequence[Any]) -> None:
    for bar in bars:
        assert 0 < bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high


def test_market_tracking_late_gives_the_same_bars_as_tracking_early() -> None:
    early = _market()
    early.track("X:A", MINUTE)
    early.advance_to(early.start_ns + 3_600 * 10**9)
    late = _market()
    late.advance_to(late.start_ns + 3_600 * 10**9)
    late.track("X:A", MINUTE)
    assert early.bars("X:A", MINUTE, 100) == late.bars("X:A", MINUTE, 100)
    assert early.quote("X:A") == late.quote("X:A")


def test_market_bars_are_consistent_and_continuous_with_history() -> None:
    market = _market()
    market.track("X:A", MINUTE)
    market.track("X:A", Interval("second", 5))
    market.advance_to(market.start_ns + 600 * 10**9)
    bars = market.bars("X:A", MINUTE, 30)
    _check_bars(bars)
    assert [b.ts_open for b in bars] == [bars[0].ts_open + i * 60 * 10**9 for i in range(30)]
    # The last history bar closes at the starting price, where the first live bar opens.
    start_index = next(i for i, b in enumerate(bars) if b.ts_open == market.start_ns)
    assert bars[start_index - 1].close == bars[start_index].open == market.base_price("X:A")
    seconds = market.bars("X:A", Interval("second", 5), 200)
    _check_bars(seconds)
    live_seconds = [b for b in seconds if b.ts_open >= market.start_ns]
    assert all(b.volume > 0 for b in live_seconds)  # second bars exist only with trades


def test_market_quotes_keep_bid_below_ask() -> None:
    market = _market(volatility=0.05)
    market.track("X:A")
    for step in range(1, 200):
        market.advance_to(market.start_ns + step * 7_000_000_000)
        quote = market.quote("X:A")
        assert 0 < quote.bid < quote.last_price < quote.ask
