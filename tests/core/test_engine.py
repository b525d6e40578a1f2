import pytest
import trio
import trio.lowlevel
from factories import MINUTE, T0, bar

import framework
from framework import Bar, Engine, EngineError, FeedError, ListFeed, Strategy, TimerFired


class Recorder(Strategy):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, int, object]] = []

    def on_start(self) -> None:
        self.events.append(("start", self.clock.now(), None))

    def on_bar(self, bar: Bar) -> None:
        self.events.append(("bar", self.clock.now(), (bar.symbol, bar.ts_open)))

    def on_timer(self, timer: TimerFired) -> None:
        self.events.append(("timer", self.clock.now(), timer.name))

    def on_stop(self) -> None:
        self.events.append(("stop", self.clock.now(), None))


def bars(n: int, symbol: str = "AAPL", offset: int = 0) -> list[Bar]:
    return [bar(i + offset, 100.0 + i, symbol=symbol) for i in range(n)]


async def test_natural_end_delivers_everything_then_calls_on_stop():
    strategy = Recorder()
    engine = Engine(feeds=[ListFeed(bars(3))], strategies=[strategy])
    stats = await engine.run()
    kinds = [kind for kind, _, _ in strategy.events]
    assert kinds == ["start", "bar", "bar", "bar", "stop"]
    assert stats.bars == 3 and stats.stopped_early is False


async def test_stop_from_a_strategy_ends_the_run_and_calls_on_stop():
    class StopAfterTwo(Recorder):
        def on_bar(self, bar: Bar) -> None:
            super().on_bar(bar)
            if len(self.events) == 3:
                engine.stop()

    strategy = StopAfterTwo()
    # More than one batch, so the feed is still sending when stop() arrives.
    engine = Engine(feeds=[ListFeed(bars(5000))], strategies=[strategy])
    with trio.fail_after(5):
        stats = await engine.run()
    kinds = [kind for kind, _, _ in strategy.events]
    assert kinds[-1] == "stop"
    assert stats.stopped_early is True
    assert stats.bars < 5000


class SlowFeed:
    """A live-style feed that never ends by itself."""

    is_live = True
    name = "slow"

    def __init__(self) -> None:
        self.cancelled = False

    async def run(self, send, *, task_status=trio.TASK_STATUS_IGNORED):
        async with send:
            task_status.started()
            try:
                await trio.sleep_forever()
            except trio.Cancelled:
                self.cancelled = True
                raise


async def test_stop_from_another_task_cancels_a_feed_that_never_ends():
    feed = SlowFeed()
    strategy = Recorder()
    engine = Engine(feeds=[feed], strategies=[strategy])
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(engine.run)
            await trio.sleep(0.01)
            engine.stop()
    assert feed.cancelled
    assert strategy.events[-1][0] == "stop"


class FailingFeed:
    is_live = False
    name = "failing"

    async def run(self, send, *, task_status=trio.TASK_STATUS_IGNORED):
        async with send:
            task_status.started()
            await send.send(bars(1))
            raise FeedError("feed broke")


async def test_feed_failure_propagates_and_cancels_siblings_without_on_stop():
    sibling = SlowFeed()
    sibling.is_live = False
    strategy = Recorder()
    engine = Engine(feeds=[FailingFeed(), sibling], strategies=[strategy])
    with trio.fail_after(5), pytest.RaisesGroup(pytest.RaisesExc(FeedError, match="feed broke")):
        await engine.run()
    assert sibling.cancelled
    assert "stop" not in [kind for kind, _, _ in strategy.events]


async def test_strategy_exception_propagates_out_of_run():
    class Broken(Strategy):
        def on_bar(self, bar: Bar) -> None:
            raise ZeroDivisionError("strategy bug")

    engine = Engine(feeds=[ListFeed(bars(2))], strategies=[Broken()])
    with pytest.RaisesGroup(ZeroDivisionError):
        await engine.run()


def test_sync_run_convenience_returns_the_finished_engine():
    strategy = Recorder()
    engine = framework.run(strategy, ListFeed(bars(4)))
    assert engine.statistics().bars == 4
    assert strategy.events[-1][0] == "stop"


async def test_replay_clock_follows_event_time():
    strategy = Recorder()
    await Engine(feeds=[ListFeed(bars(2))], strategies=[strategy]).run()
    bar_times = [now for kind, now, _ in strategy.events if kind == "bar"]
    assert bar_times == [T0 + MINUTE, T0 + 2 * MINUTE]


async def test_timers_fire_in_event_time_between_bars():
    class Timed(Recorder):
        def on_start(self) -> None:
            super().on_start()
            self.set_timer("once", at=T0 + MINUTE + 30_000_000_000)
            self.set_timer("every", at=T0 + 2 * MINUTE, every=MINUTE)

    strategy = Timed()
    await Engine(feeds=[ListFeed(bars(4))], strategies=[strategy]).run()
    seen = [(kind, now, what) for kind, now, what in strategy.events if kind != "start"]
    # bar i is final (delivered) at T0 + (i + 1) minutes.
    assert seen[:6] == [
        ("bar", T0 + MINUTE, ("AAPL", T0)),
        ("timer", T0 + MINUTE + 30_000_000_000, "once"),
        ("timer", T0 + 2 * MINUTE, "every"),
        ("bar", T0 + 2 * MINUTE, ("AAPL", T0 + MINUTE)),
        ("timer", T0 + 3 * MINUTE, "every"),
        ("bar", T0 + 3 * MINUTE, ("AAPL", T0 + 2 * MINUTE)),
    ]


async def test_cancelled_timer_does_not_fire():
    class Cancels(Recorder):
        def on_start(self) -> None:
            super().on_start()
            self.set_timer("t", at=T0 + 2 * MINUTE)
            assert self.cancel_timer("t")

    strategy = Cancels()
    await Engine(feeds=[ListFeed(bars(3))], strategies=[strategy]).run()
    assert "timer" not in [kind for kind, _, _ in strategy.events]


async def test_feeds_are_merged_by_event_time_deterministically():
    runs = []
    for _ in range(3):
        strategy = Recorder()
        feeds = [
            ListFeed(bars(3000, "AAPL"), name="a"),
            ListFeed(bars(3000, "MSFT", offset=1), name="b"),
            ListFeed(bars(1500, "IBM"), name="c"),
        ]
        await Engine(feeds=feeds, strategies=[strategy]).run()
        delivered = [what for kind, _, what in strategy.events if kind == "bar"]
        runs.append(delivered)
    assert runs[0] == runs[1] == runs[2]
    times = [ts for _, ts in runs[0]]
    assert times == sorted(times)
    # Equal times: the feed listed first goes first.
    at_t1 = [sym for sym, ts in runs[0] if ts == T0 + MINUTE]
    assert at_t1 == ["AAPL", "MSFT", "IBM"]
    assert len(runs[0]) == 7500


async def test_engine_runs_once_and_refuses_duplicate_strategy_names():
    engine = Engine(feeds=[ListFeed(bars(1))], strategies=[Recorder()])
    with pytest.raises(EngineError, match="two strategies named"):
        engine.add_strategy(Recorder())
    await engine.run()
    with pytest.raises(EngineError, match="runs once"):
        await engine.run()


def test_engine_refuses_mixed_live_and_replay_feeds():
    with pytest.raises(EngineError, match="mix live and replay"):
        Engine(feeds=[ListFeed([]), SlowFeed()])


async def test_engine_embedded_in_a_user_trio_program_alongside_other_tasks():
    ticks = []

    async def other_work():
        for i in range(3):
            ticks.append(i)
            await trio.lowlevel.checkpoint()

    strategy = Recorder()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(other_work)
        await Engine(feeds=[ListFeed(bars(10))], strategies=[strategy]).run()
    assert ticks == [0, 1, 2]
    assert strategy.events[-1][0] == "stop"


async def test_on_start_sees_the_first_event_time_in_replay():
    strategy = Recorder()
    await Engine(feeds=[ListFeed(bars(2))], strategies=[strategy]).run()
    assert strategy.events[0] == ("start", T0 + MINUTE, None)


async def test_on_start_and_on_stop_run_even_without_data():
    strategy = Recorder()
    await Engine(feeds=[ListFeed([])], strategies=[strategy]).run()
    assert [kind for kind, _, _ in strategy.events] == ["start", "stop"]
