"""One book per strategy, for runs of several strategies sharing one account.

The broker keeps one account (:class:`Portfolio`) for the run. When several strategies trade,
each also gets a book of its own here, built from the same bus events the account sees: its
own fills (``OrderFilled.strategy_id``) and every mark. So each strategy has its fills, round
trips, equity curve and statistics as if it had traded the account alone:

- a book starts with the account's cash and moves by the strategy's own P&L and commissions;
  the run's P&L is the sum of the books' P&L;
- positions are per strategy: two strategies long and short the same symbol are two open
  trades here, while the account nets them;
- orders of the kill switch (owner ``kill_switch``) belong to no strategy and are in the
  account only.

A run of one strategy needs none of this: its book is the account.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._bus import EventBus
from .._events import Bar, OrderFilled, Quote
from ._portfolio import Portfolio


class StrategyBooks:
    """A :class:`Portfolio` per strategy id, kept current from the bus."""

    __slots__ = ("books",)

    def __init__(self, account: Portfolio, strategy_ids: Iterable[str]) -> None:
        #: strategy id -> its book, in the order the strategies were added.
        self.books: dict[str, Portfolio] = {sid: account.empty_like() for sid in strategy_ids}
        for book in self.books.values():
            # One market for all: buy and hold starts at the account's first prices.
            book.first_price = account.first_price

    def attach(self, bus: EventBus) -> None:
        """Subscribe after the broker (its fills and marks come first) and before the
        strategies, so that a strategy's book is current when the strategy runs."""
        bus.subscribe(OrderFilled, self.on_fill)
        bus.subscribe(Bar, self.on_bar)
        bus.subscribe(Quote, self.on_quote)

    def on_fill(self, fill: OrderFilled) -> None:
        book = self.books.get(fill.strategy_id)
        if book is not None:
            book.apply_fill(fill)

    def on_bar(self, bar: Bar) -> None:
        symbol, close, ts = bar.symbol, bar.close, bar.ts_event
        for book in self.books.values():
            book.mark(symbol, close, ts)

    def on_quote(self, quote: Quote) -> None:
        mark = quote.mark_price  # as the broker marks the account
        if mark is not None:
            for book in self.books.values():
                book.mark(quote.symbol, mark, quote.ts_event)
