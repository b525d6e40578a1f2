import functools
import random
import signal
import subprocess
import sys

import pytest
import trio
import trustme
from trio_websocket import serve_websocket

from framework import Bar, Engine, FeedConnected, FeedStale, FeedTLSError, Strategy
from framework.adapters.insightsentry import (
    BackoffPolicy,
    InsightSentryFeed,
    LiveFeedConfig,
    RecordingFeed,
    SeriesFrame,
    SeriesPoint,
    StatusFrame,
    Subscription,
    encode_frame,
)
from framework.adapters.insightsentry.sim import DEFAULT_API_KEY, SimConfig, open_simulated_server
from framework.recording import read_recording

QUICK = LiveFeedConfig(
    connect_timeout=2.0,
    close_timeout=0.3,
    idle_timeout=2.0,
    backoff=BackoffPolicy(initial=0.05, cap=0.1),
)


class Seen(Strategy):
    def __init__(self) -> None:
        super().__init__()
        self.events = []
        self.got_bar = trio.Event()

    def on_bar(self, bar: Bar) -> None:
        self.events.append(bar)
        self.got_bar.set()

    def on_feed_event(self, event) -> None:
        self.events.append(event)


S = 1_000_000_000
TWO_BARS = SeriesFrame(
    code="NASDAQ:AAPL",
    bar_label="1m",
    bar_end_ns=None,
    last_update_ns=None,
    points=(
        SeriesPoint(time_ns=1767571200 * S, open=1.0, high=2.0, low=1.0, close=2.0, volume=1.0),
        SeriesPoint(time_ns=1767571260 * S, open=2.0, high=2.0, low=2.0, close=2.0, volume=1.0),
    ),
)


async def tls_server(nursery, ca: trustme.CA):
    cert = ca.issue_cert("localhost")
    context = __import__("ssl").create_default_context(__import__("ssl").Purpose.CLIENT_AUTH)
    cert.configure_cert(context)

    async def handler(request):
        ws = await request.accept()
        await ws.get_message()
        await ws.send_message(encode_frame(StatusFrame(text="Connected to W:TLS", is_info=True)))
        await ws.send_message(encode_frame(TWO_BARS))
        await trio.sleep_forever()

    server = await nursery.start(
        functools.partial(serve_websocket, handler, "127.0.0.1", 0, ssl_context=context)
    )
    return server.port


async def test_untrusted_certificate_is_a_tls_error_not_a_timeout():
    ca = trustme.CA()
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await tls_server(nursery, ca)
            feed = InsightSentryFeed(
                [Subscription(code="NASDAQ:AAPL")],
                api_key="k",
                url=f"wss://localhost:{port}/live",
                config=QUICK,
            )
            with pytest.RaisesGroup(
                pytest.RaisesExc(FeedTLSError, match="did not verify"), flatten_subgroups=True
            ):
                await Engine(feeds=[feed], strategies=[Seen()]).run()
            nursery.cancel_scope.cancel()


async def test_trusted_certificate_connects_over_wss():
    ca = trustme.CA()
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await tls_server(nursery, ca)
            context = __import__("ssl").create_default_context()
            ca.configure_trust(context)
            feed = InsightSentryFeed(
                [Subscription(code="NASDAQ:AAPL")],
                api_key="k",
                url=f"wss://localhost:{port}/live",
                config=QUICK,
                ssl_context=context,
            )
            strategy = Seen()
            engine = Engine(feeds=[feed], strategies=[strategy])
            nursery.start_soon(engine.run)
            await strategy.got_bar.wait()
            engine.stop()
            nursery.cancel_scope.cancel()
    assert any(isinstance(e, FeedConnected) for e in strategy.events)


async def test_changing_subscriptions_resends_the_whole_set_on_the_same_connection():
    config = SimConfig(seed=1, speed=600.0, trade_interval=0.01, heartbeat_interval=0.2)
    with trio.fail_after(10):
        async with open_simulated_server(config) as server:
            feed = InsightSentryFeed(
                [Subscription(code="NASDAQ:AAPL")],
                api_key=DEFAULT_API_KEY,
                url=server.url,
                config=QUICK,
            )
            engine = Engine(feeds=[feed], strategies=[Seen()])
            async with trio.open_nursery() as nursery:
                nursery.start_soon(engine.run)
                await server.wait_for_connections(1)
                await trio.sleep(0.2)
                feed.set_subscriptions(
                    [
                        Subscription(code="NASDAQ:AAPL"),
                        Subscription(code="NASDAQ:MSFT", type="quote"),
                    ]
                )
                feed.set_subscriptions(
                    [
                        Subscription(code="NASDAQ:AAPL"),
                        Subscription(code="NASDAQ:TSLA", type="quote"),
                    ]
                )
                await trio.sleep(0.3)
                engine.stop()
            sent = [text for _, text in server.received if "subscriptions" in text]
    assert len(sent) == 2, "the two changes are coalesced into one message"
    assert "NASDAQ:TSLA" in sent[1] and "NASDAQ:AAPL" in sent[1] and "NASDAQ:MSFT" not in sent[1]
    assert feed.statistics().connects == 1


async def test_rate_limiter_holds_messages_beyond_the_budget():
    config = SimConfig(seed=1, speed=60.0, heartbeat_interval=0.2)
    limited = LiveFeedConfig(message_budget=2, message_window=3600.0, idle_timeout=5.0)
    with trio.fail_after(10):
        async with open_simulated_server(config) as server:
            feed = InsightSentryFeed(
                [Subscription(code="NASDAQ:AAPL")],
                api_key=DEFAULT_API_KEY,
                url=server.url,
                config=limited,
            )
            engine = Engine(feeds=[feed], strategies=[Seen()])
            async with trio.open_nursery() as nursery:
                nursery.start_soon(engine.run)
                await server.wait_for_connections(1)
                for code in ("NASDAQ:MSFT", "NASDAQ:TSLA", "NASDAQ:IBM"):
                    await trio.sleep(0.1)
                    feed.set_subscriptions([Subscription(code=code)])
                await trio.sleep(0.3)
                engine.stop()
            sent = [text for _, text in server.received if "subscriptions" in text]
    assert len(sent) == 2


async def test_a_silent_symbol_is_reported_stale():
    config = SimConfig(seed=1, speed=60.0, heartbeat_interval=0.1, invalid_symbols={"NASDAQ:NOPE"})
    stale_fast = LiveFeedConfig(stale_after=0.3, idle_timeout=5.0)
    with trio.fail_after(10):
        async with open_simulated_server(config) as server:
            feed = InsightSentryFeed(
                [Subscription(code="NASDAQ:AAPL"), Subscription(code="NASDAQ:NOPE")],
                api_key=DEFAULT_API_KEY,
                url=server.url,
                config=stale_fast,
            )
            strategy = Seen()
            engine = Engine(feeds=[feed], strategies=[strategy])
            async with trio.open_nursery() as nursery:
                nursery.start_soon(engine.run)
                await trio.sleep(1.5)
                engine.stop()
    stale = [e for e in strategy.events if isinstance(e, FeedStale)]
    assert [e.symbol for e in stale] == ["NASDAQ:NOPE"]


async def test_killing_the_recorder_leaves_a_file_that_replays_every_record(tmp_path):
    rng = random.Random(11)
    config = SimConfig(seed=2, speed=600.0, trade_interval=0.005, heartbeat_interval=0.1)
    with trio.fail_after(60):
        async with open_simulated_server(config) as server:
            for attempt in range(3):
                path = tmp_path / f"killed-{attempt}.twrec"
                process = await trio.lowlevel.open_process(
                    [
                        sys.executable,
                        "-m",
                        "framework",
                        "record",
                        "--series",
                        "NASDAQ:AAPL@1m",
                        "--quote",
                        "NASDAQ:AAPL",
                        "--bars",
                        "50",
                        "--url",
                        server.url,
                        "--out",
                        str(path),
                        "--durability",
                        "process",
                        "-q",
                    ],
                    env={**__import__("os").environ, "INSIGHTSENTRY_API_KEY": DEFAULT_API_KEY},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                # Another process writes the file: polling its size is the only signal.
                while not path.exists() or path.stat().st_size < 20_000:  # noqa: ASYNC110
                    await trio.sleep(0.02)
                await trio.sleep(rng.uniform(0.0, 0.5))
                process.send_signal(signal.SIGKILL)
                await process.wait()
                recording = read_recording(path)
                records = list(recording)
                assert [r.seq for r in records] == list(range(1, len(records) + 1))
                assert len(records) > 10
                feed = RecordingFeed(path)
                send, receive = trio.open_memory_channel(100)
                async with trio.open_nursery() as nursery:
                    await nursery.start(feed.run, send)
                    async with receive:
                        async for _ in receive:
                            pass
                inbound = sum(1 for r in records if r.kind.name == "INBOUND")
                assert sum(feed.statistics().frames.values()) == inbound


class StaleWatch(Seen):
    def __init__(self) -> None:
        super().__init__()
        self.stale_seen = trio.Event()

    def on_feed_event(self, event) -> None:
        super().on_feed_event(event)
        if isinstance(event, FeedStale):
            self.stale_seen.set()


async def test_rotating_symbols_keeps_nothing_for_the_old_ones_and_a_returning_one_starts_fresh():
    config = SimConfig(seed=1, speed=60.0, heartbeat_interval=0.1, invalid_symbols={"NASDAQ:NOPE"})
    stale_fast = LiveFeedConfig(stale_after=0.3, idle_timeout=5.0)
    aapl, nope = Subscription(code="NASDAQ:AAPL"), Subscription(code="NASDAQ:NOPE")
    msft = Subscription(code="NASDAQ:MSFT")
    with trio.fail_after(15):
        async with open_simulated_server(config) as server:
            feed = InsightSentryFeed(
                [aapl, nope, msft], api_key=DEFAULT_API_KEY, url=server.url, config=stale_fast
            )
            strategy = StaleWatch()
            engine = Engine(feeds=[feed], strategies=[strategy])
            async with trio.open_nursery() as nursery:
                nursery.start_soon(engine.run)
                await strategy.stale_seen.wait()  # NOPE never sends anything
                while "NASDAQ:MSFT" not in feed._last_seen:  # noqa: ASYNC110
                    await trio.sleep(0.05)
                feed.set_subscriptions([aapl])
                assert set(feed._last_seen) <= {"NASDAQ:AAPL"}
                assert not feed._stale
                strategy.stale_seen = trio.Event()
                feed.set_subscriptions([aapl, nope])
                await strategy.stale_seen.wait()  # silent again: reported again
                engine.stop()
    stale = [e.symbol for e in strategy.events if isinstance(e, FeedStale)]
    assert stale == ["NASDAQ:NOPE", "NASDAQ:NOPE"]


async def test_a_server_silent_in_the_tls_handshake_is_abandoned_at_the_connect_deadline():
    async def silent(stream: trio.SocketStream) -> None:
        async with stream:
            await trio.sleep_forever()

    quick = LiveFeedConfig(connect_timeout=0.3, backoff=BackoffPolicy(initial=5.0, cap=5.0))
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(
                functools.partial(trio.serve_tcp, silent, 0, host="127.0.0.1")
            )
            port = listeners[0].socket.getsockname()[1]
            feed = InsightSentryFeed(
                [Subscription(code="NASDAQ:AAPL")],
                api_key="k",
                url=f"wss://localhost:{port}/live",
                config=quick,
            )
            strategy = Seen()
            engine = Engine(feeds=[feed], strategies=[strategy])
            nursery.start_soon(engine.run)
            while feed.statistics().disconnects == 0:  # noqa: ASYNC110
                await trio.sleep(0.05)
            engine.stop()
            nursery.cancel_scope.cancel()
    assert feed.statistics().last_disconnect == "no answer within 0.3 s (TLS handshake)"
