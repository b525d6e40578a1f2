"""Warm-up: history first, through the same bar path; no orders until live data."""

import pytest
import trio

from framework import (
    Bar,
    Engine,
    Event,
    ListFeed,
    OrderAccepted,
    OrderRejected,
    Strategy,
    backtest,
)
from framework.adapters.insightsentry import (
    BackoffPolicy,
    HistoryAuthError,
    HistoryUnavailable,
    LiveFeedConfig,
    RestConfig,
    Subscription,
    WarmupCompleted,
    WarmupStarted,
)
from framework.adapters.insightsentry._session import paper_trade
from framework.adapters.insightsentry.sim import (
    DEFAULT_API_KEY,
    RestFault,
    SimConfig,
    open_simulated_server,
)
from framework.indicators import SMA
from framework.recording import read_recording
from strategies.sma_cross import SmaCross

MINUTE = 60_000_000_000
T0 = 1_767_571_200 * 1_000_000_000

FAST = LiveFeedConfig(
    connect_timeout=1.0,
    close_timeout=0.3,
    idle_timeout=0.8,
    stale_after=None,
    backoff=BackoffPolicy(initial=0.05, cap=0.2, reset_after=10.0),
    warmup_timeout=5.0,
)
REST = RestConfig(backoff=BackoffPolicy(initial=0.05, cap=0.1), max_attempts=3)


def sim(**overrides) -> SimConfig:
    # Seed 9: with SmaCross's defaults (10/30) the first cross above comes a few live bars in.
    options = dict(seed=9, speed=600.0, trade_interval=0.01, heartbeat_interval=0.2)
    options.update(overrides)
    return SimConfig(**options)


class Watched(SmaCross):
    """SmaCross that notes what it saw, and stops the run after its first accepted order."""

    stop_after_first_order = True
    engine: Engine | None = None

    def on_start(self) -> None:
        super().on_start()
        self.seen: list[tuple[str, object]] = []

    def on_bar(self, bar: Bar) -> None:
        self.seen.append(("warmup bar" if self.is_warming_up else "live bar", bar))
        super().on_bar(bar)

    def on_order(self, event: Event) -> None:
        self.seen.append(("order", event))
        if isinstance(event, OrderAccepted) and self.stop_after_first_order and self.engine:
            self.engine.stop()

    def on_feed_event(self, event: Event) -> None:
        self.seen.append(("feed", event))


def leaves(group: BaseException) -> list[BaseException]:
    if isinstance(group, BaseExceptionGroup):
        return [leaf for exc in group.exceptions for leaf in leaves(exc)]
    return [group]


def first_cross_above(bars: list[Bar], fast: int, slow: int) -> int | None:
    """Index of the first bar where the fast SMA crosses above the slow one."""
    f, s = SMA(fast), SMA(slow)
    before = None
    for index, bar in enumerate(bars):
        a, b = f.update(bar.close), s.update(bar.close)
        if a is None or b is None:
            continue
        diff = a - b
        if before is not None and diff > 0 >= before:
            return index
        before = diff
    return None


async def paper(server, strategy: Strategy, **options):
    def attach(engine: Engine, _feed) -> None:
        strategy.engine = engine

    return await paper_trade(
        [strategy],
        [Subscription(code="NASDAQ:AAPL", bars=1)],
        api_key=DEFAULT_API_KEY,
        url=server.url,
        config=FAST,
        rest_url=server.rest_url,
        rest_config=REST,
        on_engine=attach,
        **options,
    )


async def test_warm_up_makes_sma_cross_order_on_the_first_live_crossing():
    strategy = Watched()  # fast=10, slow=30: warmup_bars() == 30
    with trio.fail_after(20):
        async with open_simulated_server(sim()) as server:
            await paper(server, strategy, duration=10.0)
            warmup_requests = [r.params for r in server.rest_requests]
    assert warmup_requests[0]["dp"] == "31"  # 30 final bars + the one in progress
    kinds = [kind for kind, _ in strategy.seen]
    history = [b for kind, b in strategy.seen if kind == "warmup bar"]
    live = [b for kind, b in strategy.seen if kind == "live bar"]
    assert len(history) == 30
    assert kinds.index("warmup bar") > 0 and isinstance(strategy.seen[0][1], WarmupStarted)
    completed = [e for kind, e in strategy.seen if isinstance(e, WarmupCompleted)]
    assert completed and completed[0].bars == 30
    bars = history + live
    assert [b.ts_open for b in bars] == [bars[0].ts_open + i * MINUTE for i in range(len(bars))]
    cross = first_cross_above(bars, 10, 30)
    assert cross is not None and cross >= 30, "the first crossing must be a live bar"
    live_index = cross - 30
    assert live_index < 30, "without warm-up no order could come before 31 live bars"
    orders = [e for kind, e in strategy.seen if kind == "order"]
    assert orders and isinstance(orders[0], OrderAccepted)
    # The order was placed while handling exactly that bar.
    placed_at = kinds.index("order")
    assert strategy.seen[placed_at - 1] == ("live bar", bars[cross])


class BuysOnEveryBar(Strategy):
    engine: Engine | None = None

    def on_start(self) -> None:
        self.orders: list[Event] = []

    def warmup_bars(self) -> int:
        return 5

    def on_bar(self, bar: Bar) -> None:
        self.buy(bar.symbol, 1)

    def on_order(self, event: Event) -> None:
        self.orders.append(event)
        if isinstance(event, OrderAccepted) and self.engine is not None:
            self.engine.stop()


async def test_orders_during_warm_up_are_rejected_with_a_reason_never_raised(tmp_path):
    path = tmp_path / "w.twrec"
    strategy = BuysOnEveryBar()
    with trio.fail_after(20):
        async with open_simulated_server(sim()) as server:
            result = await paper(server, strategy, duration=10.0, record=path)
    rejected = [e for e in strategy.orders if isinstance(e, OrderRejected)]
    assert len(rejected) == 5
    assert {(e.reason, e.detail) for e in rejected} == {
        ("warmup", "warm-up: no orders until live data")
    }
    assert isinstance(strategy.orders[5], OrderAccepted)
    replayed = BuysOnEveryBar()
    replay = await trio.to_thread.run_sync(lambda: backtest(replayed, [path]))
    assert replayed.orders[: len(strategy.orders)] == strategy.orders
    assert replay.to_dict()["fills"][: len(result.fills)] == result.to_dict()["fills"]
    kinds = [r.kind.name for r in read_recording(path)]
    assert kinds[:3] == ["MARKER", "REST", "MARKER"]  # started, the answer, completed


async def test_a_refused_key_makes_the_warm_up_fail_clearly_without_the_key():
    with trio.fail_after(20):
        async with open_simulated_server(sim(api_keys={"other-key"})) as server:
            server.api_keys = {"other-key"}
            with pytest.raises(BaseExceptionGroup) as caught:
                await paper(server, SmaCross(), duration=5.0)
    (error,) = leaves(caught.value)
    assert isinstance(error, HistoryAuthError) and error.status == 401
    assert DEFAULT_API_KEY not in str(error)


async def test_a_warm_up_that_keeps_failing_ends_the_session():
    with trio.fail_after(20):
        async with open_simulated_server(sim()) as server:
            server.inject_rest(RestFault.STATUS, status=503, count=None)
            with pytest.raises(BaseExceptionGroup) as caught:
                await paper(server, SmaCross(), duration=5.0)
    (error,) = leaves(caught.value)
    assert isinstance(error, HistoryUnavailable) and error.status == 503
    assert "gave up after 3 attempt(s) (last: HTTP 503)" in str(error)


async def test_without_warm_up_strategies_start_cold():
    strategy = Watched()
    strategy.stop_after_first_order = False
    with trio.fail_after(20):
        async with open_simulated_server(sim()) as server:
            await paper(server, strategy, duration=1.0, warmup=False)
            assert server.rest_requests == []
    assert not any(kind == "warmup bar" for kind, _ in strategy.seen)
    assert not any(kind == "order" for kind, _ in strategy.seen)


def bar(i: int, close: float = 100.0) -> Bar:
    return Bar(
        symbol="X:Y",
        interval="1m",
        ts_open=T0 + i * MINUTE,
        open=close,
        high=close,
        low=close,
        close=close,
        volume=1.0,
        ts_event=T0 + (i + 1) * MINUTE,
        ts_recv=T0 + (i + 1) * MINUTE,
    )


async def test_the_engine_refuses_orders_only_between_the_warm_up_notifications():
    events: list[Event] = [
        WarmupStarted(feed="f", bars=2, ts_event=bar(0).ts_event, ts_recv=0),
        bar(0),
        bar(1),
        WarmupCompleted(feed="f", bars=2, ts_event=bar(1).ts_event, ts_recv=0),
        bar(2),
        bar(3),
    ]

    class Trader(Strategy):
        def on_start(self) -> None:
            self.states: list[bool] = []
            self.answers: list[Event] = []

        def on_bar(self, bar: Bar) -> None:
            self.states.append(self.is_warming_up)
            self.bracket("X:Y", "buy", 1, take_profit=200.0, stop_loss=50.0)
            self.oco("X:Y", "sell", 1, limit=150.0, stop=60.0)

        def on_order(self, event: Event) -> None:
            self.answers.append(event)

    strategy = Trader()
    engine = Engine(feeds=[ListFeed(events)], strategies=[strategy])
    await engine.run()
    assert strategy.states == [True, True, False, False]
    warm = strategy.answers[:10]
    assert all(isinstance(e, OrderRejected) and e.reason == "warmup" for e in warm)
    assert not any(isinstance(e, OrderRejected) for e in strategy.answers[10:])
    assert not engine.is_warming_up
