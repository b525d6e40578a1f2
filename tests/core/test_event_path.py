"""One event path: order events and timer firings go out on the bus, where observers,
listeners and every strategy's own hooks receive them in one deterministic order."""

import math

import attrs
import pytest
import trio
from factories import MINUTE, T0, bar

import framework
from framework import (
    Bar,
    Engine,
    Event,
    ListFeed,
    OrderAccepted,
    OrderEvent,
    OrderFilled,
    OrderRejected,
    Strategy,
    TimerFired,
    TradingHalted,
)
from strategies.sma_cross import SmaCross


def walk(n: int, symbol: str, step: float) -> list[Bar]:
    """A zigzag that crosses moving averages often: trades for SmaCross(3, 6)."""
    closes = [100.0 + 10 * math.sin(i * step) + i * 0.01 for i in range(n)]
    return [bar(i, c, symbol=symbol) for i, c in enumerate(closes)]


class Trader(Strategy):
    """Buys on bar 2, sells on bar 5, sets a timer on start; logs every order event and timer
    its hooks receive."""

    def __init__(self, symbol: str = "AAPL", name: str = "Trader") -> None:
        super().__init__()
        self.strategy_id = name
        self.symbol = symbol
        self.seen: list[Event] = []
        self.count = 0

    def on_start(self) -> None:
        self.subscribe(Bar, self.symbol)
        self.set_timer("tick", after=3 * MINUTE)

    def on_bar(self, bar: Bar) -> None:
        self.count += 1
        if self.count == 2:
            self.buy(self.symbol, 10)
        elif self.count == 5:
            self.sell(self.symbol, 10)

    def on_order(self, event: Event) -> None:
        self.seen.append(event)

    def on_fill(self, fill: OrderFilled) -> None:
        self.seen.append(fill)

    def on_timer(self, timer: TimerFired) -> None:
        self.seen.append(timer)


def test_an_observer_sees_order_events_and_timers_in_the_order_the_strategy_does():
    strategy = Trader()
    engine = Engine(feeds=[ListFeed([bar(i, 100.0 + i) for i in range(8)])], strategies=[strategy])
    observed: list[Event] = []
    engine.add_observer(observed.append)
    trio.run(engine.run)
    kinds = [type(e).__name__ for e in strategy.seen]
    assert kinds == ["OrderAccepted", "OrderFilled", "TimerFired", "OrderAccepted", "OrderFilled"]
    not_market = [e for e in observed if isinstance(e, (OrderEvent, TimerFired))]
    assert not_market == strategy.seen
    assert all(e.strategy_id == "Trader" for e in not_market)  # type: ignore[attr-defined]
    timer = next(e for e in observed if isinstance(e, TimerFired))
    # Set in on_start, at the first bar's time (T0 + 1 minute): due three minutes later.
    assert timer.ts_event == T0 + 4 * MINUTE and timer.name == "tick"


def test_each_strategy_receives_only_its_own_orders_and_timers():
    one, two = Trader("AAPL", name="one"), Trader("MSFT", name="two")
    data = sorted(
        [bar(i, 100.0 + i) for i in range(8)] + [bar(i, 50.0 + i, symbol="MSFT") for i in range(8)],
        key=lambda b: b.ts_event,
    )
    engine = framework.run([one, two], ListFeed(data))
    for strategy, symbol in ((one, "AAPL"), (two, "MSFT")):
        assert [type(e).__name__ for e in strategy.seen].count("TimerFired") == 1
        assert {e.strategy_id for e in strategy.seen} == {strategy.strategy_id}  # type: ignore[attr-defined]
        fills = [e for e in strategy.seen if isinstance(e, OrderFilled)]
        assert [f.symbol for f in fills] == [symbol, symbol]
    assert {f.strategy_id for f in engine.portfolio.fills} == {"one", "two"}


def test_listeners_added_before_the_run_hear_each_event_before_the_strategy():
    order: list[tuple[str, str]] = []

    class Noting(Trader):
        def on_order(self, event: Event) -> None:
            order.append(("strategy", type(event).__name__))

        def on_fill(self, fill: OrderFilled) -> None:
            order.append(("strategy", "OrderFilled"))

    strategy = Noting()
    engine = Engine(feeds=[ListFeed([bar(i, 100.0) for i in range(4)])], strategies=[strategy])
    engine.broker.add_listener(lambda e: order.append(("listener", type(e).__name__)))
    trio.run(engine.run)
    assert order == [
        ("listener", "OrderAccepted"),
        ("strategy", "OrderAccepted"),
        ("listener", "OrderFilled"),
        ("strategy", "OrderFilled"),
    ]


def test_the_kill_switch_halt_reaches_every_strategy_and_observers():
    class Halting(Trader):
        def on_bar(self, bar: Bar) -> None:
            super().on_bar(bar)
            if self.count == 3 and self.strategy_id == "one":
                self._require(self._broker).trip_kill_switch("test")

    one, two = Halting("AAPL", name="one"), Trader("AAPL", name="two")
    engine = Engine(feeds=[ListFeed([bar(i, 100.0) for i in range(6)])], strategies=[one, two])
    observed: list[Event] = []
    engine.add_observer(observed.append)
    trio.run(engine.run)
    for strategy in (one, two):
        assert sum(isinstance(e, TradingHalted) for e in strategy.seen) == 1
        refused = [e for e in strategy.seen if isinstance(e, OrderRejected)]
        assert [r.reason for r in refused] == ["kill_switch"]  # the sell on bar 5
    assert sum(isinstance(e, TradingHalted) for e in observed) == 1


def test_a_broker_without_subscribers_builds_no_accepted_events():
    # SmaCross has no order hooks: nothing hears OrderAccepted, so the broker skips it.
    heard: list[Event] = []
    engine = Engine(feeds=[ListFeed(walk(200, "AAPL", 0.3))], strategies=[SmaCross(fast=3, slow=6)])
    assert not engine.broker._is_heard(OrderAccepted)
    engine.broker.add_listener(heard.append)
    assert engine.broker._is_heard(OrderAccepted)
    trio.run(engine.run)
    assert sum(isinstance(e, OrderAccepted) for e in heard) == len(engine.broker.orders())


# -- per-strategy results ----------------------------------------------------------------------


class OnlyOn(SmaCross):
    """SmaCross on one symbol of the data."""

    def __init__(self, symbol: str, name: str, **params: object) -> None:
        super().__init__(**params)
        self.strategy_id = name
        self.only = symbol

    def on_start(self) -> None:
        super().on_start()
        self.subscribe(Bar, self.only)


def unnumbered(record: object) -> dict[str, object]:
    fields = attrs.asdict(record, recurse=False)  # type: ignore[arg-type]
    del fields["order_id"]
    return fields


def both_symbols() -> list[Bar]:
    return sorted(walk(400, "AAPL", 0.3) + walk(400, "MSFT", 0.17), key=lambda b: b.ts_event)


@pytest.mark.parametrize("symbol", ["AAPL", "MSFT"])
def test_each_strategy_result_equals_that_strategy_run_alone(symbol):
    alone = framework.backtest(
        OnlyOn(symbol, name=symbol, fast=3, slow=6), [ListFeed(both_symbols())]
    )
    together = framework.backtest(
        [OnlyOn("AAPL", name="AAPL", fast=3, slow=6), OnlyOn("MSFT", name="MSFT", fast=5, slow=9)]
        if symbol == "AAPL"
        else [
            OnlyOn("AAPL", name="AAPL", fast=5, slow=9),
            OnlyOn("MSFT", name="MSFT", fast=3, slow=6),
        ],
        [ListFeed(both_symbols())],
    )
    own = together.strategies[symbol]
    assert len(alone.fills) > 10
    # Order ids count every strategy's orders, so they differ; nothing else does.
    assert [unnumbered(f) for f in own.fills] == [unnumbered(f) for f in alone.fills]
    assert list(own.trades) == list(alone.trades)
    assert [unnumbered(o) for o in own.orders] == [unnumbered(o) for o in alone.orders]
    assert own.stats == alone.stats
    assert own.final_equity == alone.final_equity
    assert list(own.equity) == list(alone.equity)


def test_the_account_is_the_sum_of_the_strategies_books():
    result = framework.backtest(
        [OnlyOn("AAPL", name="a", fast=3, slow=6), OnlyOn("MSFT", name="m", fast=3, slow=6)],
        [ListFeed(both_symbols())],
    )
    books = result.strategies
    assert set(books) == {"a", "m"}
    pnl = sum(r.final_equity - r.start_cash for r in books.values())
    assert pnl == pytest.approx(result.final_equity - result.start_cash, abs=1e-6)
    assert sum(len(r.fills) for r in books.values()) == len(result.fills)
    assert sum(len(r.orders) for r in books.values()) == len(result.orders)
    document = result.to_dict()
    assert document["strategies"]["m"]["stats"] == books["m"].stats
    assert "  a: return" in result.summary()


def test_a_single_strategy_result_is_its_own_only_entry():
    result = framework.backtest(SmaCross(fast=3, slow=6), [ListFeed(walk(100, "AAPL", 0.3))])
    assert result.strategies == {"SmaCross": result}
    assert "strategies" not in result.to_dict()
