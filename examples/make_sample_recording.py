"""Record the bundled sample session: examples/data/sample.twrec.

python examples/make_sample_recording.py [OUTPUT]

Paper-trades SmaCross for a few seconds on the live InsightSentry feed, pointed at the
simulated server from framework.testing (seeded market, 30 simulated minutes per real second),
journalling every frame. Two 1-minute series with 100 bars of history each, plus AAPL quotes:
about 500 final bars in about 200 KB. Then it replays the recording and checks that the replay
gives the same fills as the live session.

The market is seeded, but which frames arrive when depends on real time, so each run writes a
slightly different file: after re-recording, refresh the golden file with
``pytest examples/test_golden_example.py --tradewire-update-golden``.
"""

import sys
from pathlib import Path

import trio

import framework
from framework import Engine, Interval, RunResult
from framework.adapters.insightsentry import InsightSentryFeed, Subscription
from framework.adapters.insightsentry.sim import DEFAULT_API_KEY, SimConfig, open_simulated_server
from framework.recording import open_recording_writer
from strategies.sma_cross import SmaCross

OUTPUT = Path(__file__).parent / "data" / "sample.twrec"
SECONDS = 5.0
CONFIG = SimConfig(
    seed=7,
    speed=1_800.0,  # simulated seconds per real second
    trade_interval=0.02,  # real seconds between trades: one trade per 36 simulated seconds
    volatility=0.002,
    heartbeat_interval=0.5,
)
MINUTE = Interval.parse("1m")
SUBSCRIPTIONS = [
    Subscription(code="NASDAQ:AAPL", interval=MINUTE, bars=100),
    Subscription(code="NASDAQ:MSFT", interval=MINUTE, bars=100),
    Subscription(code="NASDAQ:AAPL", type="quote"),
]


def strategy() -> SmaCross:
    return SmaCross(fast=5, slow=20)


async def record(path: Path) -> RunResult:
    async with open_simulated_server(CONFIG) as server:
        meta = {"source": "insightsentry", "url": server.url, "note": "simulated server"}
        async with open_recording_writer(path, meta=meta) as writer:
            feed = InsightSentryFeed(
                SUBSCRIPTIONS, api_key=DEFAULT_API_KEY, url=server.url, journal=writer.append_nowait
            )
            engine = Engine(feeds=[feed], strategies=[strategy()])
            async with trio.open_nursery() as nursery:
                nursery.start_soon(engine.run)
                await trio.sleep(SECONDS)
                engine.stop()
    return RunResult.from_engine(engine)


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT
    path.unlink(missing_ok=True)
    live = trio.run(record, path)
    replay = framework.backtest(strategy(), [path])
    print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    print(replay.summary())
    if replay.fills != live.fills:
        sys.exit("the replay's fills differ from the live session's")
    if not replay.trades:
        sys.exit("no trades in the sample: record for longer")


if __name__ == "__main__":
    main()
