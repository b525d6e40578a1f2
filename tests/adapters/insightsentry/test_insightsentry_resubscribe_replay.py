"""A subscription change takes effect where the journal records it, so the session and the
replay of its recording decode the frames in between alike."""

import trio

from framework import Bar, Engine, Strategy, backtest
from framework.adapters.insightsentry import LiveFeedConfig, Subscription
from framework.adapters.insightsentry._session import open_live_feed
from framework.adapters.insightsentry.sim import DEFAULT_API_KEY, SimConfig, open_simulated_server

KEPT, DROPPED = "NASDAQ:AAPL", "NASDAQ:MSFT"


class Bars(Strategy):
    def on_start(self) -> None:
        self.bars: list[tuple[str, int]] = []
        self.dropped_seen = trio.Event()

    def on_bar(self, bar: Bar) -> None:
        self.bars.append((bar.symbol, bar.ts_open))
        if bar.symbol == DROPPED:
            self.dropped_seen.set()


async def test_frames_of_a_dropped_code_before_the_message_goes_out_replay_alike(tmp_path):
    path = tmp_path / "resubscribed.twrec"
    # One message per 2 s: the change waits for the budget, while the server
    # goes on sending bars of the dropped code (a new 1-minute bar every 10 ms at 6,000x).
    config = SimConfig(seed=3, speed=6000.0, trade_interval=0.01, heartbeat_interval=0.1)
    budget = LiveFeedConfig(message_budget=1, message_window=2.0, idle_timeout=5.0)
    live = Bars()
    with trio.fail_after(30):
        async with open_simulated_server(config) as server:
            subscriptions = [Subscription(code=KEPT, bars=5), Subscription(code=DROPPED, bars=5)]
            async with open_live_feed(
                subscriptions, api_key=DEFAULT_API_KEY, url=server.url, record=path, config=budget
            ) as feed:
                engine = Engine(feeds=[feed], strategies=[live])
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(engine.run)
                    await server.wait_for_connections(1)
                    await live.dropped_seen.wait()
                    feed.set_subscriptions([Subscription(code=KEPT, bars=5)])
                    # The server keeps what it received in a list, with no event to wait on.
                    while len(server.received) < 2:  # noqa: ASYNC110
                        await trio.sleep(0.01)
                    await trio.sleep(0.2)
                    engine.stop()
    replayed = Bars()
    await trio.to_thread.run_sync(lambda: backtest(replayed, [path]))
    dropped = [ts for symbol, ts in live.bars if symbol == DROPPED]
    assert len(dropped) > 10  # more than the burst of 5: bars that came while the change waited
    assert replayed.bars == live.bars
