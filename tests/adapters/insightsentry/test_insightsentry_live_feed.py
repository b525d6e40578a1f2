"""The live feed against the simulated server over real loopback WebSockets."""

import functools
import itertools
import logging

import pytest
import trio
from trio_websocket import serve_websocket

from framework import (
    Bar,
    ConfigError,
    DataRejected,
    Engine,
    Event,
    FeedConnected,
    FeedDisconnected,
    FeedTerminated,
    Quote,
    Strategy,
    backtest,
)
from framework.adapters.insightsentry import (
    BackoffPolicy,
    InsightSentryFeed,
    LiveFeedConfig,
    SeriesFrame,
    SeriesPoint,
    Subscription,
    encode_frame,
)
from framework.adapters.insightsentry._session import open_live_feed, paper_trade
from framework.adapters.insightsentry.sim import (
    DEFAULT_API_KEY,
    Fault,
    FaultSpec,
    Hostile,
    SimConfig,
    open_simulated_server,
)
from framework.recording import read_recording
from strategies.sma_cross import SmaCross

FAST = LiveFeedConfig(
    connect_timeout=1.0,
    close_timeout=0.3,
    idle_timeout=0.8,
    stale_after=None,
    backoff=BackoffPolicy(initial=0.05, cap=0.2, reset_after=10.0),
)


def sim(**overrides) -> SimConfig:
    options = dict(seed=3, speed=600.0, trade_interval=0.01, heartbeat_interval=0.2)
    options.update(overrides)
    return SimConfig(**options)


class Collector(Strategy):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[Event] = []

    def on_bar(self, bar: Bar) -> None:
        self.events.append(bar)

    def on_quote(self, quote: Quote) -> None:
        self.events.append(quote)

    def on_feed_event(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind):
        return [e for e in self.events if isinstance(e, kind)]


async def collect(feed, seconds: float) -> Collector:
    strategy = Collector()
    engine = Engine(feeds=[feed], strategies=[strategy])
    async with trio.open_nursery() as nursery:
        nursery.start_soon(engine.run)
        await trio.sleep(seconds)
        engine.stop()
    return strategy


def feed_for(url: str, *subs: Subscription, **options) -> InsightSentryFeed:
    options.setdefault("config", FAST)
    return InsightSentryFeed(
        subs or [Subscription(code="NASDAQ:AAPL", bars=50)],
        api_key=DEFAULT_API_KEY,
        url=url,
        **options,
    )


def assert_every_bar_once_in_order(bars: list[Bar]) -> None:
    opens = [b.ts_open for b in bars]
    assert opens == sorted(set(opens)), "duplicate or out-of-order bars"
    steps = {b - a for a, b in itertools.pairwise(opens)}
    assert steps == {60_000_000_000}, f"missing bars: steps {steps}"


async def test_streams_final_bars_and_quotes():
    with trio.fail_after(10):
        async with open_simulated_server(sim()) as server:
            feed = feed_for(
                server.url,
                Subscription(code="NASDAQ:AAPL", bars=20),
                Subscription(code="NASDAQ:TSLA", type="quote"),
            )
            got = await collect(feed, 1.0)
    bars = got.of(Bar)
    assert len(bars) >= 20
    assert_every_bar_once_in_order(bars)
    assert all(b.ts_event >= b.ts_open + 60_000_000_000 for b in bars)
    assert got.of(Quote) and all(q.symbol == "NASDAQ:TSLA" for q in got.of(Quote))
    assert len(got.of(FeedConnected)) == 1


async def test_every_bar_exactly_once_through_closes_drops_and_stalls():
    faults = [
        FaultSpec(fault=Fault.CLOSE, after_frames=40, connections={1}, code=1011),
        FaultSpec(fault=Fault.DROP, after_frames=40, connections={2}),
        FaultSpec(fault=Fault.DROP, after_frames=40, connections={3}, reset=True),
        FaultSpec(fault=Fault.STALL, after_frames=40, connections={4}),
        FaultSpec(fault=Fault.CLOSE, after_frames=40, connections={5}, code=1001),
    ]
    with trio.fail_after(20):
        async with open_simulated_server(sim(faults=faults)) as server:
            feed = feed_for(server.url)
            got = await collect(feed, 5.0)
            subscribe_messages = [text for _, text in server.received if "subscriptions" in text]
            connections = server.statistics()
    disconnects = got.of(FeedDisconnected)
    reasons = " | ".join(d.reason for d in disconnects)
    assert len(disconnects) >= 5, reasons
    assert "1011" in reasons and "no data or heartbeat" in reasons
    assert_every_bar_once_in_order(got.of(Bar))
    # The full set was resent on every connection.
    assert len(subscribe_messages) == len(got.of(FeedConnected)) >= 6
    assert connections is not None


async def test_silent_upgrade_is_abandoned_at_our_deadline_then_retried():
    faults = [FaultSpec(fault=Fault.SILENT_UPGRADE, connections={1})]
    with trio.fail_after(10):
        async with open_simulated_server(sim(faults=faults)) as server:
            started = trio.current_time()
            got = await collect(feed_for(server.url), 2.0)
    first = got.of(FeedDisconnected)[0]
    assert "no answer within 1 s (upgrade)" in first.reason
    assert first.ts_event > 0
    assert trio.current_time() - started >= 1.0
    assert len(got.of(FeedConnected)) == 1 and got.of(Bar)


async def test_hostile_frames_never_reach_strategies_and_the_feed_keeps_running():
    faults = [
        FaultSpec(fault=Fault.GARBAGE, after_frames=5),
        FaultSpec(fault=Fault.OVERSIZED, after_frames=6, size=1_500_000),
        FaultSpec(fault=Fault.HOSTILE_JSON, after_frames=7, hostile=Hostile.NAN),
        FaultSpec(fault=Fault.HOSTILE_JSON, after_frames=8, hostile=Hostile.NEGATIVE_PRICE),
        FaultSpec(fault=Fault.HOSTILE_JSON, after_frames=9, hostile=Hostile.HIGH_BELOW_LOW),
        FaultSpec(fault=Fault.HOSTILE_JSON, after_frames=10, hostile=Hostile.DEEP_NESTING),
        FaultSpec(fault=Fault.HOSTILE_JSON, after_frames=11, hostile=Hostile.HUGE_NUMBER),
    ]
    with trio.fail_after(10):
        async with open_simulated_server(sim(faults=faults)) as server:
            feed = feed_for(server.url)
            got = await collect(feed, 1.5)
    rejected = {e.reason for e in got.of(DataRejected)}
    assert {
        "not_json",
        "oversized",
        "non_finite",
        "negative_price",
        "inconsistent_ohlc",
        "too_deep",
    } <= rejected
    assert all(b.close > 0 and b.low <= b.high for b in got.of(Bar))
    assert_every_bar_once_in_order(got.of(Bar))
    assert len(got.of(FeedConnected)) == 1, "hostile frames must not cost the connection"
    assert sum(feed.statistics().processor.rejected.values()) >= 7


async def test_server_delay_hint_is_a_floor_for_the_reconnect():
    faults = [
        FaultSpec(
            fault=Fault.ERROR,
            after_frames=5,
            connections={1},
            error="server_busy",
            delay_seconds=0.7,
        )
    ]
    with trio.fail_after(10):
        async with open_simulated_server(sim(faults=faults)) as server:
            got = await collect(feed_for(server.url), 2.0)
    first = got.of(FeedDisconnected)[0]
    assert "server_busy" in first.reason
    assert first.reconnect_in >= 0.7


async def test_a_rejected_key_stops_the_feed_with_a_clear_error_and_no_key_in_it(caplog):
    caplog.set_level(logging.DEBUG)
    secret_key = "tw-secret-key-123456"
    with trio.fail_after(10):
        async with open_simulated_server(sim()) as server:
            feed = InsightSentryFeed(
                [Subscription(code="NASDAQ:AAPL")], api_key=secret_key, url=server.url, config=FAST
            )
            engine = Engine(feeds=[feed], strategies=[Collector()])
            with pytest.RaisesGroup(
                pytest.RaisesExc(FeedTerminated, match="invalid_api_key"), flatten_subgroups=True
            ) as info:
                await engine.run()
    assert secret_key not in repr(info.value) and secret_key not in str(info.value)
    assert secret_key not in caplog.text
    assert secret_key not in repr(feed)


async def test_invalid_symbol_keeps_the_connection_and_other_streams(caplog):
    with trio.fail_after(10):
        async with open_simulated_server(sim(invalid_symbols={"NASDAQ:NOPE"})) as server:
            feed = feed_for(
                server.url,
                Subscription(code="NASDAQ:AAPL", bars=5),
                Subscription(code="NASDAQ:NOPE"),
            )
            got = await collect(feed, 1.0)
    refused = [e for e in got.of(DataRejected) if e.reason == "subscription_refused"]
    assert refused and "NASDAQ:NOPE" in refused[0].detail
    assert len(got.of(FeedConnected)) == 1
    assert got.of(Bar)


async def test_http_429_on_upgrade_is_retried_after_retry_after():
    faults = [FaultSpec(fault=Fault.REJECT_UPGRADE, connections={1}, status=429, retry_after=0.5)]
    with trio.fail_after(10):
        async with open_simulated_server(sim(faults=faults)) as server:
            got = await collect(feed_for(server.url), 1.5)
    first = got.of(FeedDisconnected)[0]
    assert "HTTP 429" in first.reason and first.reconnect_in >= 0.5
    assert got.of(FeedConnected)


async def test_http_401_on_upgrade_is_terminal():
    faults = [FaultSpec(fault=Fault.REJECT_UPGRADE, status=401, count=None)]
    with trio.fail_after(10):
        async with open_simulated_server(sim(faults=faults)) as server:
            engine = Engine(feeds=[feed_for(server.url)], strategies=[Collector()])
            with pytest.RaisesGroup(
                pytest.RaisesExc(FeedTerminated, match="HTTP 401"), flatten_subgroups=True
            ):
                await engine.run()


def test_plain_ws_is_refused_for_remote_hosts():
    with pytest.raises(ConfigError, match="only to loopback"):
        InsightSentryFeed(
            [Subscription(code="NASDAQ:AAPL")], api_key="k", url="ws://example.com/live"
        )
    with pytest.raises(ConfigError, match="empty"):
        InsightSentryFeed([Subscription(code="NASDAQ:AAPL")], api_key="", url="ws://127.0.0.1/")


async def test_paper_run_recording_and_backtest_give_identical_fills(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "paper.twrec"
    subs = [
        Subscription(code="NASDAQ:AAPL", bars=100),
        Subscription(code="NASDAQ:MSFT", bars=100),
        Subscription(code="NASDAQ:AAPL", type="quote"),
    ]
    with trio.fail_after(20):
        async with open_simulated_server(sim()) as server:
            paper = await paper_trade(
                [SmaCross(fast=5, slow=20)],
                subs,
                api_key=DEFAULT_API_KEY,
                url=server.url,
                record=path,
                duration=2.0,
                config=FAST,
            )
    replay = await trio.to_thread.run_sync(lambda: backtest(SmaCross(fast=5, slow=20), [path]))
    assert paper.fills, "the session should trade"
    assert paper.to_dict()["fills"] == replay.to_dict()["fills"]
    assert paper.to_dict()["trades"] == replay.to_dict()["trades"]
    assert paper.final_equity == replay.final_equity
    raw = path.read_bytes()
    assert DEFAULT_API_KEY.encode() not in raw
    assert DEFAULT_API_KEY not in caplog.text
    outbound = [r for r in read_recording(path) if r.kind.name == "OUTBOUND"]
    assert outbound and b"<redacted:" in outbound[0].payload


async def test_recording_holds_every_frame_before_delivery(tmp_path):
    path = tmp_path / "r.twrec"
    with trio.fail_after(10):
        async with open_simulated_server(sim()) as server:
            async with open_live_feed(
                [Subscription(code="NASDAQ:AAPL", bars=10)],
                api_key=DEFAULT_API_KEY,
                url=server.url,
                record=path,
                config=FAST,
            ) as feed:
                got = await collect(feed, 1.0)
            frames = feed.statistics().frames
    inbound = [r for r in read_recording(path) if r.kind.name == "INBOUND"]
    assert len(inbound) == frames
    assert len(got.of(Bar)) == feed.statistics().processor.bars


async def test_binary_frames_are_rejected_and_counted_and_a_close_reason_reaches_the_disconnect():
    s = 1_000_000_000
    bars = SeriesFrame(
        code="NASDAQ:AAPL",
        bar_label="1m",
        bar_end_ns=None,
        last_update_ns=None,
        points=tuple(
            SeriesPoint(
                time_ns=(1767571200 + 60 * i) * s, open=1.0, high=2.0, low=1.0, close=2.0, volume=1
            )
            for i in range(3)
        ),
    )

    async def handler(request):
        ws = await request.accept()
        await ws.get_message()  # the subscription
        await ws.send_message(b"\x00binary\xff")
        await ws.send_message(encode_frame(bars))
        await ws.aclose(code=4002, reason="going away now")

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            server = await nursery.start(
                functools.partial(serve_websocket, handler, "127.0.0.1", 0, ssl_context=None)
            )
            feed = feed_for(f"ws://127.0.0.1:{server.port}/live")
            got = await collect(feed, 0.5)
            nursery.cancel_scope.cancel()
    rejected = [e for e in got.of(DataRejected) if e.reason == "binary_frame"]
    assert rejected and rejected[0].detail == "8 bytes"
    assert [b.ts_open for b in got.of(Bar)] == [1767571200 * s, (1767571200 + 60) * s]
    first = got.of(FeedDisconnected)[0]
    assert "closed by server: 4002" in first.reason and "going away now" in first.reason
    assert feed.statistics().frames >= 2
