"""Built bars are a pure function of the event stream: a paper run against the simulated
server, the replay of its recording and a backtest over a bar file of the same minutes give a
strategy the same bars of other intervals."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import trio

from framework import Bar, Engine, Event, Interval, Strategy
from framework.adapters.insightsentry import InsightSentryFeed, LiveFeedConfig, Subscription
from framework.adapters.insightsentry.sim import DEFAULT_API_KEY
from framework.recording import open_recording_writer
from framework.testing import Backtester, assert_no_lookahead, capture_events

SYMBOLS = ("NASDAQ:AAPL", "NASDAQ:MSFT")
MINUTE = Interval.parse("1m")
SAMPLE = Path(__file__).parents[2] / "examples" / "data" / "sample.twrec"


class MultiTimeframe(Strategy):
    """Minutes, and five- and fifteen-minute bars of both symbols, with a history of each."""

    def on_start(self) -> None:
        for symbol in SYMBOLS:
            self.subscribe(Bar, symbol)
            self.subscribe(Bar, symbol, interval="5m")
            self.subscribe(Bar, symbol, interval="15m")
            self.history(symbol, 4, "5m")

    def on_bar(self, bar: Bar) -> None:
        if bar.interval == "5m":
            assert self.history(bar.symbol, 4, "5m")[-1] is bar


def built(bars: list[Bar]) -> dict[tuple[str, str], list[Bar]]:
    """The built bars of each symbol and interval, in the order received. (A recording's
    history arrives one symbol after the other, a bar file's merged in time: the series
    interleave differently, each series is the same.)"""
    series: dict[tuple[str, str], list[Bar]] = {}
    for b in bars:
        if b.interval != "1m":
            series.setdefault((b.symbol, b.interval), []).append(b)
    return series


def write_bar_files(bars: list[Bar], folder: Path) -> list[Path]:
    """The minutes as bar files, one per symbol (a file goes forward in time): open time in
    seconds, OHLCV written exactly, a symbol column."""
    paths = []
    for number, symbol in enumerate(SYMBOLS):
        path = folder / f"minutes-{number}.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["time", "symbol", "open", "high", "low", "close", "volume"])
            for b in bars:
                if b.symbol == symbol:
                    values = (b.open, b.high, b.low, b.close, b.volume)
                    writer.writerow([b.ts_open // 1_000_000_000, symbol, *map(repr, values)])
        paths.append(path)
    return paths


@pytest.mark.tradewire_sim(seed=11, speed=1_200.0, trade_interval=0.01, heartbeat_interval=0.2)
async def test_paper_run_replay_and_bar_file_backtest_build_the_same_bars(sim_server, tmp_path):
    recording = tmp_path / "paper.twrec"
    paper = MultiTimeframe()
    seen_paper = capture_events(paper)
    async with open_recording_writer(recording, meta={"note": "aggregation test"}) as writer:
        feed = InsightSentryFeed(
            [Subscription(code=s, interval=MINUTE, bars=40) for s in SYMBOLS]
            + [Subscription(code=SYMBOLS[0], type="quote")],  # quotes too: bars win
            api_key=DEFAULT_API_KEY,
            url=sim_server.url,
            journal=writer.append_nowait,
            config=LiveFeedConfig(close_timeout=0.25),
        )
        engine = Engine(feeds=[feed], strategies=[paper])
        live_built: list[Bar] = []

        def stop_after_live_bars(event: Event) -> None:
            # History gives about eight five-minute bars per symbol; wait for live ones too.
            if isinstance(event, Bar) and event.interval == "5m":
                live_built.append(event)
                if len(live_built) == 24:
                    engine.stop()

        engine.add_observer(stop_after_live_bars)
        with trio.fail_after(30):
            await engine.run()

    backtester = Backtester()
    replay = MultiTimeframe()
    await backtester.run_async(replay, recording)
    minutes = [b for b in backtester.seen(replay).bars if b.interval == "1m"]
    from_file = MultiTimeframe()
    await backtester.run_async(from_file, write_bar_files(minutes, tmp_path), interval="1m")

    paper_bars = seen_paper.bars
    assert sorted(built(paper_bars)) == [(s, i) for s in SYMBOLS for i in ("15m", "5m")]
    assert sum(len(series) for series in built(paper_bars).values()) >= 24
    assert backtester.seen(replay).bars == paper_bars  # minutes and built bars, in order
    assert built(backtester.seen(from_file).bars) == built(paper_bars)
    for seen in (seen_paper, backtester.seen(replay), backtester.seen(from_file)):
        assert_no_lookahead(seen)


def test_the_bundled_recording_and_a_bar_file_of_its_minutes_build_the_same_bars(tmp_path):
    backtester = Backtester()
    replay = MultiTimeframe()
    backtester(replay, SAMPLE)
    minutes = [b for b in backtester.seen(replay).bars if b.interval == "1m"]
    from_file = MultiTimeframe()
    backtester(from_file, write_bar_files(minutes, tmp_path), interval="1m")

    replayed = built(backtester.seen(replay).bars)
    assert sorted(replayed) == [(s, i) for s in SYMBOLS for i in ("15m", "5m")]
    assert all(len(series) >= 5 for series in replayed.values())
    assert built(backtester.seen(from_file).bars) == replayed
