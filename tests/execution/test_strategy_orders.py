"""The order-entry API of Strategy, end to end through the engine."""

from collections.abc import Callable

import pytest
from factories import MINUTE, T0, bar

from framework import (
    Bar,
    Event,
    ListFeed,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderModified,
    Strategy,
    backtest,
)
from framework.execution import Order, OrderStatus

Action = Callable[["Scripted", Bar], None]


class Scripted(Strategy):
    """Runs the action given for each bar index; keeps every order event it receives."""

    def __init__(self, script: dict[int, Action]) -> None:
        super().__init__()
        self.script = script

    def on_start(self) -> None:
        self.events: list[Event] = []
        self.orders: list[Order] = []
        self.index = 0

    def on_bar(self, bar: Bar) -> None:
        action = self.script.get(self.index)
        self.index += 1
        if action is not None:
            action(self, bar)

    def on_fill(self, fill: OrderFilled) -> None:
        self.events.append(fill)

    def on_order(self, event: Event) -> None:
        self.events.append(event)

    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.events]


def run(script: dict[int, Action], closes: list[float], **options):
    strategy = Scripted(script)
    events = [bar(i, c, high=c + 1, low=c - 1) for i, c in enumerate(closes)]
    return strategy, backtest(strategy, [ListFeed(events)], **options)


def test_buy_and_sell_keep_their_market_order_meaning():
    s, result = run(
        {0: lambda s, b: s.buy("AAPL", 2), 1: lambda s, b: s.sell("AAPL", 2)}, [10, 11, 12]
    )
    assert [(f.side.value, f.price) for f in result.fills] == [("buy", 11.0), ("sell", 12.0)]
    assert s.kinds() == ["OrderAccepted", "OrderFilled", "OrderAccepted", "OrderFilled"]


def test_limit_stop_and_tif_options():
    def place(s: Scripted, b: Bar) -> None:
        s.orders = [
            s.buy("AAPL", 1, limit=9.5),
            s.sell("AAPL", 1, stop=8.0, tif="day"),
            s.buy("AAPL", 1, stop=12.5, limit=13.0),
        ]

    s, _ = run({0: place}, [10, 10, 9.2, 12.8])
    limit, stop, stop_limit = s.orders
    assert limit.status is OrderStatus.FILLED and limit.avg_fill_price == 9.5
    assert stop.is_open and stop.tif.value == "day"
    # bar 3 opens at 12.8, above the stop: triggered at the open, within the limit
    assert stop_limit.status is OrderStatus.FILLED and stop_limit.avg_fill_price == 12.8


def test_cancel_modify_and_open_orders():
    def place(s: Scripted, b: Bar) -> None:
        s.orders = [s.buy("AAPL", 1, limit=5.0), s.buy("AAPL", 1, limit=6.0)]

    def adjust(s: Scripted, b: Bar) -> None:
        first, second = s.orders
        assert s.open_orders("AAPL") == [first, second]
        assert s.cancel(first) and not s.cancel(first)
        s.modify(second, limit=10.5, qty=3)

    s, result = run({0: place, 1: adjust}, [10, 10, 10])
    assert [type(e) for e in s.events if not isinstance(e, OrderAccepted)] == [
        OrderCancelled,
        OrderModified,
        OrderFilled,
    ]
    assert result.fills[0].qty == 3 and result.fills[0].price == 10.0  # opens below the limit
    assert s.open_orders() == []


def test_bracket_and_oco_from_a_strategy():
    def place(s: Scripted, b: Bar) -> None:
        bracket = s.bracket("AAPL", "buy", 10, take_profit=13.0, stop_loss=8.5)
        s.orders = [bracket.entry, bracket.take_profit, bracket.stop_loss]

    s, result = run({0: place}, [10, 10, 11, 13.5])
    entry, take, stop = s.orders
    assert [f.order_id for f in result.fills] == [entry.order_id, take.order_id]
    assert stop.status is OrderStatus.CANCELLED
    assert result.stats["intrabar_guess_fills"] == 0

    def oco(s: Scripted, b: Bar) -> None:
        s.buy("AAPL", 5)

    def protect(s: Scripted, b: Bar) -> None:
        s.orders = list(s.oco("AAPL", "sell", 5, limit=20.0, stop=9.5))

    s, result = run({0: oco, 1: protect}, [10, 10, 10, 9])
    limit, stop = s.orders
    assert stop.status is OrderStatus.FILLED and limit.status is OrderStatus.CANCELLED
    assert result.fills[-1].price == 9.5


def test_both_exits_in_one_bar_are_counted_as_intrabar_guesses():
    def place(s: Scripted, b: Bar) -> None:
        s.bracket("AAPL", "buy", 10, take_profit=12.0, stop_loss=9.0)

    strategy = Scripted({0: place})
    events = [bar(0, 10.0), bar(1, 10.0), bar(2, 10.0, high=12.5, low=8.5), bar(3, 10.0)]
    result = backtest(strategy, [ListFeed(events)])
    assert result.stats["intrabar_guess_fills"] == 1
    assert result.fills[-1].price == 9.0 and result.fills[-1].is_intrabar_guess
    assert result.trades[0].pnl == pytest.approx(-10.0)


def test_cancel_all_cancels_only_this_strategys_orders_of_a_symbol():
    def place(s: Scripted, b: Bar) -> None:
        s.buy("AAPL", 1, limit=1.0)
        s.buy("AAPL", 1, limit=2.0)
        s.buy("MSFT", 1, limit=3.0)

    def clear(s: Scripted, b: Bar) -> None:
        assert s.cancel_all("AAPL") == 2
        assert [o.symbol for o in s.open_orders()] == ["MSFT"]
        s.orders = s.open_orders()

    strategy = Scripted({1: place, 3: clear})  # after both symbols have a price
    events = [bar(0, 10.0), bar(0, 30.0, symbol="MSFT"), bar(1, 10.0), bar(1, 30.0, symbol="MSFT")]
    result = backtest(strategy, [ListFeed(events)])
    assert strategy.kinds().count("OrderCancelled") == 2
    assert result.stats["orders_cancelled"] == 2 and result.stats["orders"] == 3
    assert strategy.orders[0].is_open


def test_day_orders_expire_at_the_session_change_in_a_backtest():
    def place(s: Scripted, b: Bar) -> None:
        s.buy("AAPL", 1, limit=1.0, tif="day")

    strategy = Scripted({0: place})
    next_day = 600  # minutes after T0 = 14:30 UTC: 00:30 the next day
    events = [bar(0, 10.0), bar(1, 10.0), bar(next_day, 10.0)]
    result = backtest(strategy, [ListFeed(events)])
    (expired,) = [e for e in strategy.events if isinstance(e, OrderExpired)]
    assert expired.ts_event == T0 + 570 * MINUTE
    assert result.stats["orders_expired"] == 1
    assert result.to_dict()["orders"][0]["status"] == "expired"
