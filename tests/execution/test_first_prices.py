"""Buy and hold starts at each symbol's first priced market event, which the broker records
once per symbol (marking does not look): also for a symbol given orders before its first bar,
for quotes, and for every strategy's own book."""

from factories import bar, quote

from framework import ListFeed, Strategy, backtest


class OrdersBeforeAnyBar(Strategy):
    def on_start(self) -> None:
        self.buy("AAPL", 1, limit=1.0)  # far below the market: works, never fills


class Idle(Strategy):
    name = "idle"


def test_a_symbol_ordered_before_its_first_bar_still_gets_its_first_price():
    events = [
        bar(0, 100.0),
        bar(0, 50.0, symbol="MSFT"),
        bar(1, 110.0),
        bar(1, 40.0, symbol="MSFT"),
    ]
    result = backtest(OrdersBeforeAnyBar(), ListFeed(events))
    held = result.stats["buy_and_hold_by_symbol"]
    assert held == {"AAPL": 110.0 / 100.0 - 1, "MSFT": 40.0 / 50.0 - 1}
    assert result.stats["buy_and_hold_return"] == (held["AAPL"] + held["MSFT"]) / 2


def test_quotes_give_first_prices_and_every_strategy_book_shares_them():
    events = [quote(0, 99.0, 101.0), bar(1, 104.0), quote(2, 109.0, 111.0)]
    result = backtest([OrdersBeforeAnyBar(), Idle()], ListFeed(events))
    assert result.stats["buy_and_hold_by_symbol"] == {"AAPL": 110.0 / 100.0 - 1}
    for own in result.strategies.values():
        assert own.stats["buy_and_hold_by_symbol"] == {"AAPL": 110.0 / 100.0 - 1}


class OrdersAndCancelsBeforeAnyBar(Strategy):
    def on_start(self) -> None:
        self.cancel(self.buy("AAPL", 1, limit=1.0))


def test_a_symbol_whose_early_orders_ended_before_its_first_bar_gets_its_first_price():
    result = backtest(OrdersAndCancelsBeforeAnyBar(), ListFeed([bar(0, 100.0), bar(1, 120.0)]))
    assert result.stats["buy_and_hold_by_symbol"] == {"AAPL": 120.0 / 100.0 - 1}
