"""Gap backfill: holes in a bar stream are filled from REST, in order, exactly once, or
reported as a BarGap; the recording replays all of it identically."""

import itertools
import logging

import orjson
import pytest
import trio

from framework import Bar, BarGap, BarUpdate, Engine, Event, Strategy, backtest
from framework.adapters.insightsentry import (
    BackoffPolicy,
    FrameProcessor,
    InsightSentryFeed,
    LiveFeedConfig,
    RecordingFeed,
    RestConfig,
    SeriesFrame,
    SeriesPoint,
    SeriesRequest,
    SeriesResponse,
    Subscription,
    SubscriptionSet,
    decode_frame,
    encode_frame,
    open_history_client,
)
from framework.adapters.insightsentry._session import paper_trade
from framework.adapters.insightsentry.sim import (
    DEFAULT_API_KEY,
    Fault,
    FaultSpec,
    RestFault,
    SimConfig,
    open_simulated_server,
)
from framework.recording import read_recording
from strategies.sma_cross import SmaCross

MINUTE = 60_000_000_000
T0 = 1_767_571_200 * 1_000_000_000  # 2026-01-05T00:00:00Z

FAST = LiveFeedConfig(
    connect_timeout=1.0,
    close_timeout=0.3,
    idle_timeout=0.8,
    stale_after=None,
    backoff=BackoffPolicy(initial=0.05, cap=0.2, reset_after=10.0),
    backfill_timeout=3.0,
)
REST = RestConfig(backoff=BackoffPolicy(initial=0.05, cap=0.1), max_attempts=3)


def sim(**overrides) -> SimConfig:
    # Connection 1 goes silent after 40 frames: the feed reconnects after idle_timeout and
    # the one-bar burst of connection 2 leaves the bars of the silent period missing.
    options = dict(
        seed=3,
        speed=600.0,
        trade_interval=0.01,
        heartbeat_interval=0.2,
        faults=[FaultSpec(fault=Fault.STALL, after_frames=40, connections={1})],
    )
    options.update(overrides)
    return SimConfig(**options)


class Collector(Strategy):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[Event] = []

    def on_bar(self, bar: Bar) -> None:
        self.events.append(bar)

    def on_feed_event(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind):
        return [e for e in self.events if isinstance(e, kind)]


async def run_feed(server, seconds: float, **options) -> tuple[Collector, InsightSentryFeed]:
    strategy = Collector()
    rest = RestConfig(
        base_url=server.rest_url, backoff=REST.backoff, max_attempts=REST.max_attempts
    )
    async with open_history_client(api_key=DEFAULT_API_KEY, config=rest) as history:
        feed = InsightSentryFeed(
            [Subscription(code="NASDAQ:AAPL", bars=1)],
            api_key=DEFAULT_API_KEY,
            url=server.url,
            config=FAST,
            history=history,
            **options,
        )
        engine = Engine(feeds=[feed], strategies=[strategy])
        async with trio.open_nursery() as nursery:
            nursery.start_soon(engine.run)
            await trio.sleep(seconds)
            engine.stop()
    return strategy, feed


def opens(bars: list[Bar]) -> list[int]:
    return [b.ts_open for b in bars]


async def test_a_reconnect_that_loses_bars_delivers_every_one_in_order_once_flagged():
    with trio.fail_after(20):
        async with open_simulated_server(sim()) as server:
            got, feed = await run_feed(server, 3.0)
            requests = [r for r in server.rest_requests if r.path.endswith("/series")]
    bars = got.of(Bar)
    times = opens(bars)
    assert times == sorted(set(times)), "a bar came twice or out of order"
    assert {b - a for a, b in itertools.pairwise(times)} == {MINUTE}, "a bar is missing"
    filled = [b for b in bars if b.is_backfill]
    assert filled, "the silent period should have cost bars"
    # The backfilled bars are exactly one contiguous run: the hole, nothing else.
    first = times.index(filled[0].ts_open)
    assert bars[first : first + len(filled)] == filled
    assert not got.of(BarGap)
    assert feed.statistics().processor.backfilled == len(filled)
    assert requests and all(r.authorized for r in requests)


async def test_a_failing_rest_api_yields_a_gap_event_and_the_stream_goes_on():
    with trio.fail_after(20):
        async with open_simulated_server(sim()) as server:
            server.inject_rest(RestFault.STATUS, status=500, count=None)
            got, feed = await run_feed(server, 3.0)
    gaps = got.of(BarGap)
    assert len(gaps) == 1
    gap = gaps[0]
    bars = got.of(Bar)
    assert not any(b.is_backfill for b in bars)
    before = [b for b in bars if b.ts_open < gap.ts_from]
    after = [b for b in bars if b.ts_open > gap.ts_to]
    assert before and after and len(before) + len(after) == len(bars)
    assert before[-1].ts_open == gap.ts_from - MINUTE
    assert after[0].ts_open == gap.ts_to + MINUTE
    # The gap came before the bars after it, and the stream went on after it.
    index = got.events.index(gap)
    assert all(got.events.index(b) > index for b in after)
    assert len(after) >= 2
    assert feed.statistics().processor.gaps == 1


async def test_a_backfill_over_its_deadline_becomes_a_gap():
    config = sim()
    with trio.fail_after(20):
        async with open_simulated_server(config) as server:
            server.inject_rest(RestFault.SLOW, delay=5.0, count=None)
            got, _ = await run_feed(server, 3.0)
    assert len(got.of(BarGap)) == 1
    assert not any(b.is_backfill for b in got.of(Bar))


async def test_paper_run_with_backfill_replays_to_the_same_events_and_fills(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "paper.twrec"

    class Recorder(SmaCross):
        def on_start(self) -> None:
            super().on_start()
            self.seen: list[Event] = []

        def on_bar(self, bar: Bar) -> None:
            self.seen.append(bar)
            super().on_bar(bar)

        def on_feed_event(self, event: Event) -> None:
            self.seen.append(event)

    paper_strategy = Recorder(fast=3, slow=8)
    with trio.fail_after(30):
        async with open_simulated_server(sim()) as server:
            paper = await paper_trade(
                [paper_strategy],
                [Subscription(code="NASDAQ:AAPL", bars=1)],
                api_key=DEFAULT_API_KEY,
                url=server.url,
                record=path,
                duration=3.0,
                config=FAST,
                rest_url=server.rest_url,
                rest_config=REST,
                warmup=False,
            )
    replay_strategy = Recorder(fast=3, slow=8)
    replay = await trio.to_thread.run_sync(lambda: backtest(replay_strategy, [path]))
    assert any(isinstance(e, Bar) and e.is_backfill for e in paper_strategy.seen)
    assert paper_strategy.seen == replay_strategy.seen
    assert paper.to_dict()["fills"] == replay.to_dict()["fills"]
    assert paper.final_equity == replay.final_equity
    raw = path.read_bytes()
    assert DEFAULT_API_KEY.encode() not in raw
    assert DEFAULT_API_KEY not in caplog.text
    kinds = [r.kind.name for r in read_recording(path)]
    assert "REST" in kinds
    markers = [orjson.loads(r.payload) for r in read_recording(path) if r.kind.name == "MARKER"]
    assert any(m.get("marker") == "backfill_requested" for m in markers)


# -- the processor on its own (sans-IO, deterministic) ----------------------------------------


def frame(*times: int, code: str = "NASDAQ:AAPL", close: float = 100.0) -> str:
    points = tuple(
        SeriesPoint(time_ns=t, open=close, high=close + 1, low=close - 1, close=close, volume=10.0)
        for t in times
    )
    return encode_frame(
        SeriesFrame(code=code, bar_label="1m", bar_end_ns=None, last_update_ns=None, points=points)
    )


def processor() -> FrameProcessor:
    subs = SubscriptionSet([Subscription(code="NASDAQ:AAPL"), Subscription(code="NASDAQ:MSFT")])
    return FrameProcessor(subs, source="test", backfill=True, updates=False)


def test_a_hole_holds_its_stream_only_until_the_answer_then_releases_in_order():
    p = processor()
    t = [T0 + i * MINUTE for i in range(10)]
    assert p.process(frame(t[0], t[1]), 1)[0][0].ts_open == t[0]
    events, _ = p.process(frame(t[5]), 2)  # bars t2..t4 missing
    assert [e.ts_open for e in events] == [t[1]]
    (request,) = p.take_backfill_requests()
    assert (request.hole.ts_from, request.hole.ts_to, request.hole.ts_next) == (t[2], t[4], t[5])
    held, _ = p.process(frame(t[6]), 3)
    assert held == []  # t5 is final now but waits behind the hole
    other, _ = p.process(frame(t[0], t[1], code="NASDAQ:MSFT"), 4)
    assert [e.symbol for e in other] == ["NASDAQ:MSFT"]  # other streams flow on
    released = p.backfill_response(request.id, frame(*t[:7]), None, 5)
    assert [(e.ts_open, e.is_backfill) for e in released] == [
        (t[2], True),
        (t[3], True),
        (t[4], True),
        (t[5], False),
    ]
    assert p.backfill_response(request.id, frame(*t[:7]), None, 6) == []
    later, _ = p.process(frame(t[2], t[3], t[7]), 7)  # a burst repeating filled bars
    assert [e.ts_open for e in later] == [t[6]]


def test_a_failed_or_short_answer_becomes_a_gap_for_what_it_does_not_cover():
    t = [T0 + i * MINUTE for i in range(10)]
    p = processor()
    p.process(frame(t[0]), 1)
    p.process(frame(t[6]), 2)
    (request,) = p.take_backfill_requests()
    out = p.backfill_response(request.id, frame(t[3], t[4], t[5], t[6]), None, 3)
    assert isinstance(out[0], BarGap) and (out[0].ts_from, out[0].ts_to) == (t[1], t[2])
    assert [b.ts_open for b in out[1:]] == [t[3], t[4], t[5]]
    p.process(frame(t[9]), 4)
    (second,) = p.take_backfill_requests()
    out = p.backfill_response(second.id, None, "HTTP 500", 5)
    assert [type(e) for e in out] == [BarGap]
    assert (out[0].ts_from, out[0].ts_to) == (t[7], t[8])


def test_too_many_held_events_give_the_hole_up_instead_of_growing():
    t = [T0 + i * MINUTE for i in range(20)]
    p = FrameProcessor(None, source="test", backfill=True, updates=False, max_held=3)
    p.process(frame(t[0]), 1)
    p.process(frame(t[5]), 2)
    (request,) = p.take_backfill_requests()
    released: list[Event] = []
    for i in range(6, 12):
        released += p.process(frame(t[i]), i)[0]
    assert isinstance(released[0], BarGap)
    assert [b.ts_open for b in released[1:]][:3] == [t[5], t[6], t[7]]
    assert p.backfill_response(request.id, frame(*t[:6]), None, 99) == []


def test_the_same_frames_and_answers_give_the_same_events():
    t = [T0 + i * MINUTE for i in range(12)]
    steps = [frame(t[0]), frame(t[4]), frame(t[5]), frame(t[9]), frame(t[10])]

    def run() -> list[Event]:
        p = processor()
        out: list[Event] = []
        for index, text in enumerate(steps):
            out += p.process(text, index)[0]
            for request in p.take_backfill_requests():
                if request.id == 1:
                    out += p.backfill_response(request.id, frame(*t[:6]), None, 50)
                else:
                    out += p.backfill_response(request.id, None, "down", 60)
        return out

    first = run()
    assert first == run()
    assert [type(e) for e in first].count(BarGap) == 1
    assert not any(isinstance(e, BarUpdate) for e in first)


@pytest.mark.parametrize("backfill", [False, True])
def test_without_backfill_no_hole_is_looked_for(backfill):
    p = FrameProcessor(None, source="test", backfill=backfill, updates=False)
    t = [T0 + i * MINUTE for i in range(6)]
    p.process(frame(t[0]), 1)
    events, _ = p.process(frame(t[5]), 2)
    assert [e.ts_open for e in events] == [t[0]]
    assert len(p.take_backfill_requests()) == (1 if backfill else 0)


async def test_replay_of_a_recording_that_ends_mid_backfill_drops_the_held_bars(tmp_path):
    from framework.recording import RecordingWriter, RecordKind

    t = [T0 + i * MINUTE for i in range(10)]
    path = tmp_path / "cut.twrec"
    with RecordingWriter.open(path, meta={"backfill": True}) as writer:
        for index, text in enumerate([frame(t[0]), frame(t[1]), frame(t[5]), frame(t[6])]):
            writer.append(RecordKind.INBOUND, text.encode(), index + 1, index + 1)
    strategy = Collector()
    engine = Engine(feeds=[RecordingFeed(path)], strategies=[strategy])
    await engine.run()
    # t5 became final behind the hole t2..t4, whose answer never came: the session never
    # delivered it, so neither does the replay.
    assert opens(strategy.of(Bar)) == [t[0], t[1]]


class _SeriesMovingOn:
    """A REST API whose series runs ``lag`` bars ahead of what the feed has read: every answer
    holds the newest ``bars`` points, so a request sized from the feed's newest bar falls
    short of the hole."""

    def __init__(self, newest: int, lag: int) -> None:
        self.config = RestConfig()
        self.newest = newest + lag
        self.asked: list[int] = []

    async def fetch(self, request: SeriesRequest) -> SeriesResponse:
        self.asked.append(request.bars)
        first = max(0, self.newest - request.bars + 1)
        answer = frame(*(T0 + i * MINUTE for i in range(first, self.newest + 1)))
        decoded = decode_frame(answer, recv_ns=1)
        assert isinstance(decoded, SeriesFrame)
        return SeriesResponse(
            request=request, status=200, text=answer, frame=decoded, attempts=1, recv_wall_ns=1
        )


async def test_a_backfill_asks_again_until_the_answer_reaches_back_to_the_hole():
    # The feed reads 150 bars behind the server: the answer sized from its newest bar, and
    # the one with twice the points, both start after the hole; the third reaches it.
    history = _SeriesMovingOn(newest=30, lag=150)
    feed = InsightSentryFeed(
        [Subscription(code="NASDAQ:AAPL")], api_key="k", url="ws://127.0.0.1:9/live",
        config=FAST, history=history,
    )  # fmt: skip
    processor = feed._processor
    processor.process_live(frame(T0), 1)
    processor.process_live(frame(T0 + 30 * MINUTE), 2)  # bars 1..29 missing
    (request,) = processor.take_backfill_requests()
    await feed._backfill(request)
    assert len(history.asked) == 3 and history.asked[1] == 2 * history.asked[0]
    filled = [e for e in feed._outbox.drain() if isinstance(e, (Bar, BarGap))]
    assert [(type(e), e.ts_open) for e in filled[:29]] == [
        (Bar, T0 + i * MINUTE) for i in range(1, 30)
    ]
    assert all(e.is_backfill for e in filled[:29])
