"""A strategy's own exception reaches the caller as itself, with a note saying where.

Before the fix, about one run in four lost the user's KeyError: the feed task woke with
BrokenResourceError while the dispatcher closed its channel, and Trio's cancellation replaced
the KeyError. The loops below repeat the run so that a return of that race fails them.
"""

from pathlib import Path

import pytest
import trio
from factories import bar

import framework
from framework import Bar, ConfigError, Engine, ListFeed, OrderFilled, Strategy, TimerFired

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "data" / "AAPL.csv"
#: Repeats of a racy run: with the old one-in-four loss, all passing by chance is ~1e-5.
RUNS = 40


class Boom(Strategy):
    """Raises KeyError on its 50th bar, like a user's lookup of a missing key."""

    def on_start(self) -> None:
        self.seen = 0

    def on_bar(self, bar: Bar) -> None:
        self.seen += 1
        if self.seen == 50:
            {}["missing"]


def bars(n: int, symbol: str = "AAPL") -> list[Bar]:
    return [bar(i, 100.0 + i % 7, symbol=symbol) for i in range(n)]


def test_backtest_raises_the_strategys_exception_itself_every_time():
    for _ in range(RUNS):
        with pytest.raises(KeyError) as info:
            framework.backtest(Boom(), [SAMPLE])
        (note,) = info.value.__notes__
        assert note == (
            "raised in Boom.on_bar (strategy 'Boom'), handling Bar AAPL 1m at 2024-01-02T15:20:00Z"
        )


@pytest.mark.parametrize("feeds", [1, 2], ids=["one feed", "merged feeds"])
async def test_engine_run_raises_a_group_of_only_the_users_exception_every_time(feeds):
    # 5,000 bars a feed: several batches, so the feeds are still sending when Boom raises.
    for _ in range(RUNS):
        engine = Engine(
            feeds=[ListFeed(bars(5000, f"S{i}"), name=f"s{i}") for i in range(feeds)],
            strategies=[Boom()],
        )
        with trio.fail_after(10), pytest.RaisesGroup(KeyError):
            await engine.run()


async def test_engine_run_keeps_the_users_exception_on_a_live_feed():
    class LiveList(ListFeed):
        is_live = True

    for _ in range(RUNS):
        engine = Engine(feeds=[LiveList(bars(5000))], strategies=[Boom()])
        with trio.fail_after(10), pytest.RaisesGroup(KeyError):
            await engine.run()


def test_the_note_names_the_hook_that_raised_even_when_the_broker_called_it():
    class FailsOnFill(Strategy):
        def on_bar(self, bar: Bar) -> None:
            if self.position(bar.symbol).qty == 0:
                self.buy(bar.symbol, 1)

        def on_fill(self, fill: OrderFilled) -> None:
            raise RuntimeError("bad fill handling")

    with pytest.raises(RuntimeError, match="bad fill handling") as info:
        framework.backtest(FailsOnFill(), [ListFeed(bars(5))])
    (note,) = info.value.__notes__
    assert note.startswith("raised in FailsOnFill.on_fill (strategy 'FailsOnFill'), handling Bar")


def test_the_note_of_a_timer_names_its_time_and_on_start_and_on_stop_their_hook():
    class FailsOnTimer(Strategy):
        def on_start(self) -> None:
            self.set_timer("tick", every=60_000_000_000)

        def on_timer(self, timer: TimerFired) -> None:
            raise ValueError("timer bug")

    class FailsOnStart(Strategy):
        def on_start(self) -> None:
            raise ValueError("start bug")

    class FailsOnStop(Strategy):
        def on_stop(self) -> None:
            raise ValueError("stop bug")

    with pytest.raises(ValueError, match="timer bug") as info:
        framework.backtest(FailsOnTimer(), [ListFeed(bars(5))])
    assert info.value.__notes__ == [
        "raised in FailsOnTimer.on_timer (strategy 'FailsOnTimer') at 2024-01-02T14:32:00Z"
    ]
    with pytest.raises(ValueError, match="start bug") as info:
        framework.backtest(FailsOnStart(), [ListFeed(bars(5))])
    assert info.value.__notes__ == ["raised in FailsOnStart.on_start (strategy 'FailsOnStart')"]
    with pytest.raises(ValueError, match="stop bug") as info:
        framework.run(FailsOnStop(), ListFeed(bars(5)))
    assert info.value.__notes__ == ["raised in FailsOnStop.on_stop (strategy 'FailsOnStop')"]


def test_the_users_frames_stay_on_the_traceback():
    with pytest.raises(KeyError) as info:
        framework.backtest(Boom(), [ListFeed(bars(60))])
    names = [entry.name for entry in info.traceback]
    assert names[-1] == "on_bar"


def test_a_data_error_reaches_the_caller_as_itself(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("time,open,high,low,close,volume\n60,1,2,0.5,1.5,10\n120,1,0.5,2,1,10\n")
    with pytest.raises(framework.BarFileError, match=r"bad.csv:3"):
        framework.backtest(Boom(), bad)


def test_a_class_where_an_instance_belongs_gets_one_line():
    with pytest.raises(ConfigError, match=r"instance, not the class: Boom\(...\) instead of Boom"):
        framework.backtest(Boom, [SAMPLE])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="not int"):
        Engine(feeds=[ListFeed(bars(1))], strategies=[3])  # type: ignore[list-item]


def test_a_string_path_is_one_path():
    whole = framework.backtest(Strategy(), str(SAMPLE))
    assert whole.bars == 10_000
    assert framework.backtest(Strategy(), SAMPLE).bars == 10_000


async def test_the_sync_helper_inside_a_trio_run_names_the_async_variant():
    with pytest.raises(RuntimeError, match="use the \\*_async variant"):
        framework.backtest(Strategy(), [ListFeed(bars(2))])
