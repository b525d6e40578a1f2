import attrs
import pytest
from factories import MINUTE, T0, bar, quote

from framework import Bar, ListFeed, OrderFilled, OrderSide, Quote, Strategy, backtest


class Script(Strategy):
    """Submits the orders given for each bar index, records fills and what it saw."""

    def __init__(self, orders: dict[int, list[tuple[str, str, float]]]) -> None:
        super().__init__()
        self.orders = orders

    def on_start(self) -> None:
        self.fills: list[OrderFilled] = []
        self.seen = 0

    def on_bar(self, bar: Bar) -> None:
        self._act(self.seen)
        self.seen += 1

    def on_quote(self, quote: Quote) -> None:
        self._act(self.seen)
        self.seen += 1

    def _act(self, index: int) -> None:
        for action, symbol, qty in self.orders.get(index, []):
            if action == "buy":
                self.buy(symbol, qty)
            elif action == "sell":
                self.sell(symbol, qty)
            else:
                self.close(symbol)

    def on_fill(self, fill: OrderFilled) -> None:
        self.fills.append(fill)


def test_market_order_fills_at_next_bar_open_of_the_same_symbol():
    events = [
        bar(0, 10.0, symbol="AAPL"),
        bar(0, 50.0, symbol="MSFT"),  # another symbol's bar must not fill the AAPL order
        bar(1, 11.0, open=10.5, symbol="AAPL"),
        bar(2, 12.0, open=11.5, symbol="AAPL"),
    ]
    s = Script({0: [("buy", "AAPL", 10)], 2: [("sell", "AAPL", 4)]})
    result = backtest(s, [ListFeed(events)], cash=1_000.0)
    assert [(f.side, f.qty, f.price, f.ts_event) for f in s.fills] == [
        (OrderSide.BUY, 10.0, 10.5, T0 + MINUTE),
        (OrderSide.SELL, 4.0, 11.5, T0 + 2 * MINUTE),
    ]
    # cash: 1000 - 105 + 46 = 941; 6 held marked at the last close 12.0
    assert result.final_equity == pytest.approx(941.0 + 6 * 12.0)


def test_order_placed_on_the_last_bar_never_fills():
    s = Script({1: [("buy", "AAPL", 1)]})
    result = backtest(s, [ListFeed([bar(0, 10.0), bar(1, 11.0)])])
    assert s.fills == [] and result.fills == ()


def test_quotes_fill_buys_at_the_ask_and_sells_at_the_bid():
    events = [quote(0, 9.0, 9.2), quote(1, 10.0, 10.2), quote(2, 11.0, 11.2)]
    s = Script({0: [("buy", "AAPL", 5)], 1: [("close", "AAPL", 0)]})
    backtest(s, [ListFeed(events)])
    assert [(f.side, f.price) for f in s.fills] == [(OrderSide.BUY, 10.2), (OrderSide.SELL, 11.0)]


def test_short_sale_and_round_trip_trade_pnl():
    events = [bar(i, c, open=o) for i, (o, c) in enumerate([(10, 10), (12, 12), (9, 9), (9, 9)])]
    s = Script({0: [("sell", "AAPL", 10)], 1: [("close", "AAPL", 0)]})
    result = backtest(s, [ListFeed(events)], cash=1_000.0)
    (trade,) = result.trades
    assert (trade.side, trade.qty, trade.entry_price, trade.exit_price) == (-1, 10.0, 12.0, 9.0)
    assert trade.pnl == pytest.approx(30.0)
    assert result.final_equity == pytest.approx(1_030.0)


def test_fill_reaction_orders_wait_for_the_following_bar():
    class Pyramid(Script):
        def on_fill(self, fill: OrderFilled) -> None:
            super().on_fill(fill)
            if len(self.fills) == 1:
                self.buy("AAPL", 1)

    s = Pyramid({0: [("buy", "AAPL", 1)]})
    backtest(s, [ListFeed([bar(i, 10.0 + i, open=10.0 + i) for i in range(4)])])
    assert [f.price for f in s.fills] == [11.0, 12.0]


@pytest.mark.parametrize("qty", [0, -1, float("nan"), float("inf")])
def test_non_positive_quantity_is_refused(qty):
    s = Script({0: [("buy", "AAPL", qty)]})
    with pytest.raises(ValueError, match="positive finite"):
        backtest(s, [ListFeed([bar(0, 10.0), bar(1, 10.0)])])


def test_the_broker_builds_orders_equal_to_what_the_order_class_builds():
    from framework.execution import Order, OrderStatus, TimeInForce
    from framework.execution._orders import new_order

    given = {
        "order_id": 7,
        "strategy_id": "s",
        "symbol": "AAPL",
        "side": OrderSide.SELL,
        "qty": 3.0,
        "tif": TimeInForce.DAY,
        "ts_submitted": T0,
        "ts_active": T0 + MINUTE,
        "status": OrderStatus.SUBMITTED,
    }
    fast, plain = new_order(**given), Order(**given)
    assert type(fast) is Order
    assert attrs.asdict(fast, recurse=False) == attrs.asdict(plain, recurse=False)
    assert fast.pending == [] and fast.pending is not new_order(**given).pending
    everything = {f.name: getattr(plain, f.name) for f in attrs.fields(Order)}
    everything.update(limit_price=9.5, pending=[], reason="x", child_ids=(8, 9))
    assert attrs.asdict(new_order(**everything)) == attrs.asdict(Order(**everything))
