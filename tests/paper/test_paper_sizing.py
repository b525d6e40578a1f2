"""order_target_percent in a paper session against the simulated server (127.0.0.1), and in
the replay of that session's recording: the same orders, of the same sizes, and the same fills.

Sizing reads the symbol's last price and the portfolio's equity, both moved by every bar and
quote the session saw; the replay feeds the recorded stream through the same broker, so it
must size every order alike."""

import trio

from framework import Bar, OrderFilled, Strategy, backtest
from framework.adapters.insightsentry import BackoffPolicy, LiveFeedConfig, Subscription
from framework.adapters.insightsentry._session import paper_trade
from framework.adapters.insightsentry.sim import DEFAULT_API_KEY, SimConfig, open_simulated_server

QUICK = LiveFeedConfig(close_timeout=0.3, backoff=BackoffPolicy(initial=0.05, cap=0.1))
SYMBOL = "NASDAQ:AAPL"
#: Long, less long, flat, short, long again: buys, sells, a close and a reversal.
TARGETS = (0.9, 0.3, 0.0, -0.5, 0.6)


class RotateTargets(Strategy):
    """Moves to the next target fraction of equity on every bar."""

    def on_start(self) -> None:
        self.bars = 0
        self.sized: list[tuple[int, str, float] | None] = []
        self.fills: list[OrderFilled] = []

    def on_bar(self, bar: Bar) -> None:
        target = TARGETS[self.bars % len(TARGETS)]
        self.bars += 1
        order = self.order_target_percent(SYMBOL, target)
        self.sized.append(None if order is None else (order.order_id, order.side.value, order.qty))

    def on_fill(self, fill: OrderFilled) -> None:
        self.fills.append(fill)


async def test_order_target_percent_sizes_alike_in_paper_and_in_its_replay(tmp_path):
    path = tmp_path / "sizing.twrec"
    live = RotateTargets()
    config = SimConfig(seed=11, speed=600.0, trade_interval=0.01, heartbeat_interval=0.2)
    with trio.fail_after(30):
        async with open_simulated_server(config) as server:
            paper = await paper_trade(
                [live],
                [Subscription(code=SYMBOL, bars=20), Subscription(code=SYMBOL, type="quote")],
                api_key=DEFAULT_API_KEY,
                url=server.url,
                record=path,
                duration=1.5,
                config=QUICK,
            )
    sent = [s for s in live.sized if s is not None]
    assert len(sent) >= 8
    assert {side for _, side, _ in sent} == {"buy", "sell"}
    # Sized from equity and price: 90 % of 100,000 is hundreds of shares, and the same step
    # of the rotation needs a different quantity as the price moves.
    assert max(qty for _, _, qty in sent) > 100
    assert len({qty for _, _, qty in sent}) > len(TARGETS)
    assert len(paper.fills) >= 5

    replayed = RotateTargets()
    replay = await trio.to_thread.run_sync(lambda: backtest(replayed, [path]))
    assert replayed.bars == live.bars
    assert replayed.sized == live.sized
    assert replayed.fills == live.fills
    assert paper.to_dict()["orders"] == replay.to_dict()["orders"]
    assert paper.to_dict()["fills"] == replay.to_dict()["fills"]
    assert paper.final_equity == replay.final_equity
