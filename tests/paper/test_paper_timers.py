"""Live timers fire on wall time; a paper session records each firing with its place in the
event stream, and the replay of its recording fires them there: same orders, same fills."""

import orjson
import trio

from framework import Bar, Quote, Strategy, TimerFired, backtest
from framework.adapters.insightsentry import BackoffPolicy, LiveFeedConfig, Subscription
from framework.adapters.insightsentry._session import paper_trade
from framework.adapters.insightsentry.sim import DEFAULT_API_KEY, SimConfig, open_simulated_server
from framework.feeds._recorded_timers import TimerPlayback
from framework.recording import RecordKind, read_recording

QUICK = LiveFeedConfig(close_timeout=0.3, backoff=BackoffPolicy(initial=0.05, cap=0.1))
SYMBOL = "NASDAQ:AAPL"


class FlipOnTimer(Strategy):
    """Buys when flat and closes when long, on a timer: its orders depend only on timers."""

    def on_start(self) -> None:
        self.firings: list[str] = []
        self.set_timer("flip", every=120_000_000)  # 0.12 s of wall time live

    def on_timer(self, timer: TimerFired) -> None:
        self.firings.append(timer.name)
        if self.position(SYMBOL).qty:
            self.close(SYMBOL)
        else:
            self.buy(SYMBOL, 1)


async def _paper(path, strategy):
    config = SimConfig(seed=7, speed=600.0, trade_interval=0.01, heartbeat_interval=0.2)
    with trio.fail_after(30):
        async with open_simulated_server(config) as server:
            return await paper_trade(
                [strategy],
                [Subscription(code=SYMBOL, bars=20), Subscription(code=SYMBOL, type="quote")],
                api_key=DEFAULT_API_KEY,
                url=server.url,
                record=path,
                duration=1.5,
                config=QUICK,
            )


async def test_replay_fires_recorded_timers_where_the_session_did(tmp_path):
    path = tmp_path / "timers.twrec"
    live = FlipOnTimer()
    paper = await _paper(path, live)
    timer_records = [r for r in read_recording(path) if r.kind is RecordKind.TIMER]
    assert len(timer_records) == len(live.firings) >= 4
    assert {orjson.loads(r.payload)["strategy"] for r in timer_records} == {"FlipOnTimer"}

    replayed = FlipOnTimer()
    replay = await trio.to_thread.run_sync(lambda: backtest(replayed, [path]))
    assert replayed.firings == live.firings
    assert len(paper.fills) >= 3
    assert paper.to_dict()["fills"] == replay.to_dict()["fills"]
    assert paper.to_dict()["orders"] == replay.to_dict()["orders"]
    assert paper.final_equity == replay.final_equity


async def test_other_strategies_keep_event_time_timers_over_a_paper_recording(tmp_path):
    path = tmp_path / "timers.twrec"
    await _paper(path, FlipOnTimer())

    class Hourly(Strategy):
        def on_start(self) -> None:
            self.fired = 0
            self.set_timer("tick", every=60 * 1_000_000_000)

        def on_timer(self, timer: TimerFired) -> None:
            self.fired += 1

    hourly = Hourly()
    result = await trio.to_thread.run_sync(lambda: backtest(hourly, [path]))
    # Event time: the recording spans many simulated minutes at 600x.
    assert hourly.fired >= 5
    assert result.fills == []


def _bar(minute: int) -> Bar:
    ts = 1_700_000_000_000_000_000 + minute * 60_000_000_000
    return Bar(
        symbol=SYMBOL,
        interval="1m",
        ts_open=ts - 60_000_000_000,
        open=1.0,
        high=1.0,
        low=1.0,
        close=1.0,
        volume=1.0,
        ts_event=ts,
        ts_recv=ts,
    )


def _quote(minute: int) -> Quote:
    ts = 1_700_000_000_000_000_000 + minute * 60_000_000_000
    return Quote(symbol=SYMBOL, ts_event=ts, ts_recv=ts, last_price=1.0)


def _timer(name: str) -> TimerFired:
    return TimerFired(name=name, ts_event=1, ts_recv=1, strategy_id="S")


def test_playback_places_each_firing_before_the_next_market_event_after_its_position():
    fired = [(0, _timer("a")), (2, _timer("b")), (2, _timer("c")), (9, _timer("z"))]
    playback = TimerPlayback(fired)
    first = playback.place([_bar(1), _quote(1)])
    second = playback.place([_bar(2), _bar(3)])
    names = lambda events: [getattr(e, "name", type(e).__name__) for e in events]  # noqa: E731
    assert names(first) == ["a", "Bar", "Quote"]
    assert names(second) == ["b", "c", "Bar", "Bar"]
    assert playback
    assert names(playback.rest()) == ["z"]
    assert not playback


async def test_a_session_keeps_one_equity_sample_a_minute_with_the_replays_statistics(tmp_path):
    # Quotes mark the book every few simulated seconds; a session of weeks must not keep
    # every mark, yet its statistics must be those of the replay, which keeps them all.
    path = tmp_path / "curve.twrec"
    paper = await _paper(path, FlipOnTimer())
    replay = await trio.to_thread.run_sync(lambda: backtest(FlipOnTimer(), [path]))
    minutes = [ts // 60_000_000_000 for ts in paper.equity_ts]
    assert len(minutes) >= 5
    assert len(set(minutes)) == len(minutes)  # at most one sample per minute
    assert len(replay.equity_ts) > 2 * len(paper.equity_ts)
    assert paper.equity_ts[-1] == replay.equity_ts[-1]
    assert paper.to_dict()["stats"] == replay.to_dict()["stats"]
