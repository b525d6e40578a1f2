"""Reconnect delays of the live feed against the simulated server: the failure count resets
once a connection delivered data, never for a connection that only got as far as the upgrade
and the greeting."""

import trio

from framework import BarUpdate, Engine, Event, FeedConnected, FeedDisconnected, Strategy
from framework.adapters.insightsentry import (
    BackoffPolicy,
    InsightSentryFeed,
    LiveFeedConfig,
    Subscription,
)
from framework.adapters.insightsentry.sim import DEFAULT_API_KEY, SimConfig, open_simulated_server

#: The delay bounds double per failure: 0.05, 0.1, 0.2, 0.4 s (cap). ``reset_after`` is far
#: beyond any connection here, so only delivered data can reset the count.
POLICY = BackoffPolicy(initial=0.05, factor=2.0, cap=0.4, reset_after=60.0)
CONFIG = LiveFeedConfig(
    connect_timeout=2.0, close_timeout=0.3, idle_timeout=2.0, stale_after=None, backoff=POLICY
)


class Timeline(Strategy):
    """Connection events and, per connection, whether any bar update came through."""

    def __init__(self, connections: int) -> None:
        super().__init__()
        self.events: list[Event] = []
        self.updates_per_connection: list[int] = []
        self.enough = trio.Event()
        self._wanted = connections

    def on_bar_update(self, update: BarUpdate) -> None:
        if self.updates_per_connection:
            self.updates_per_connection[-1] += 1

    def on_feed_event(self, event: Event) -> None:
        self.events.append(event)
        if isinstance(event, FeedConnected):
            self.updates_per_connection.append(0)
        if len(self.disconnects) >= self._wanted:
            self.enough.set()

    @property
    def disconnects(self) -> list[FeedDisconnected]:
        return [e for e in self.events if isinstance(e, FeedDisconnected)]


async def run_until_disconnects(sim: SimConfig, count: int) -> Timeline:
    timeline = Timeline(count)
    with trio.fail_after(20):
        async with open_simulated_server(sim) as server:
            feed = InsightSentryFeed(
                [Subscription(code="NASDAQ:AAPL", bars=5)],
                api_key=DEFAULT_API_KEY,
                url=server.url,
                config=CONFIG,
                rng_seed=5,
            )
            engine = Engine(feeds=[feed], strategies=[timeline])
            async with trio.open_nursery() as nursery:
                nursery.start_soon(engine.run)
                await timeline.enough.wait()
                engine.stop()
    return timeline


async def test_connections_that_deliver_data_before_the_drop_reconnect_at_the_first_delay():
    # Every connection is closed after 40 frames: greeting, then bar updates.
    sim = SimConfig(seed=3, speed=600.0, trade_interval=0.01, close_after_frames=40)
    timeline = await run_until_disconnects(sim, 5)
    disconnects = timeline.disconnects[:5]
    assert all(count > 0 for count in timeline.updates_per_connection[:5])
    assert all("1011" in d.reason for d in disconnects)
    # The old rule (reset only after 60 s up) would have doubled the bound each time:
    # the fifth delay would be at least 0.2 s.
    assert all(d.reconnect_in <= POLICY.initial for d in disconnects), [
        d.reconnect_in for d in disconnects
    ]


async def test_connections_dropped_before_any_data_keep_growing_the_delay():
    # Closed after the first frame of the greeting: upgraded, but no data ever.
    sim = SimConfig(seed=3, speed=600.0, trade_interval=0.01, close_after_frames=1)
    timeline = await run_until_disconnects(sim, 5)
    delays = [d.reconnect_in for d in timeline.disconnects[:5]]
    assert all(count == 0 for count in timeline.updates_per_connection[:5])
    lows = [0.025, 0.05, 0.1, 0.2, 0.2]  # half of each bound: "equal jitter"
    highs = [0.05, 0.1, 0.2, 0.4, 0.4]
    assert all(low <= d <= high for low, d, high in zip(lows, delays, highs, strict=True)), delays
