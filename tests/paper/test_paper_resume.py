"""A paper session's book survives a restart through its journal."""

import trio

from framework import Bar, Strategy
from framework.adapters.insightsentry import BackoffPolicy, LiveFeedConfig, Subscription
from framework.adapters.insightsentry._session import paper_trade
from framework.adapters.insightsentry.sim import DEFAULT_API_KEY, SimConfig, open_simulated_server

QUICK = LiveFeedConfig(close_timeout=0.3, backoff=BackoffPolicy(initial=0.05, cap=0.1))


class BuyOnEveryTenthBar(Strategy):
    def on_start(self) -> None:
        self.seen = 0
        self.opens: list[int] = []
        self.start_qty = self.position("NASDAQ:AAPL").qty

    def on_bar(self, bar: Bar) -> None:
        self.seen += 1
        self.opens.append(bar.ts_open)
        if self.seen % 10 == 0:
            self.buy(bar.symbol, 1)


async def test_a_restarted_session_resumes_the_same_book(tmp_path):
    book = tmp_path / "book.twrec"
    config = SimConfig(seed=4, speed=600.0, trade_interval=0.01, heartbeat_interval=0.2)
    subs = [Subscription(code="NASDAQ:AAPL", bars=30)]
    with trio.fail_after(30):
        async with open_simulated_server(config) as server:
            first_strategy = BuyOnEveryTenthBar()
            first = await paper_trade(
                [first_strategy],
                subs,
                api_key=DEFAULT_API_KEY,
                url=server.url,
                duration=1.0,
                journal=book,
                config=QUICK,
            )
            second_strategy = BuyOnEveryTenthBar()
            second = await paper_trade(
                [second_strategy],
                subs,
                api_key=DEFAULT_API_KEY,
                url=server.url,
                duration=2.5,
                journal=book,
                config=QUICK,
            )
    held = sum(f.qty for f in first.fills)
    assert held >= 3
    # The second session started from the first one's position, then added to it.
    assert second_strategy.start_qty == held
    # The server re-sends recent bars on connect; the journal knows they were delivered.
    assert second_strategy.opens and min(second_strategy.opens) > max(first_strategy.opens)
    restored = [(f.order_id, f.price, f.qty) for f in second.fills[: len(first.fills)]]
    assert restored == [(f.order_id, f.price, f.qty) for f in first.fills]
    assert len(second.fills) > len(first.fills)
    new_ids = {f.order_id for f in second.fills[len(first.fills) :]}
    assert min(new_ids) > max(f.order_id for f in first.fills), "order ids continue"
