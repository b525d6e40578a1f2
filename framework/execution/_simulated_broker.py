"""The simulated broker: one implementation for backtests, replays and paper trading.

Fill rule for market orders (no look-ahead): an order submitted while the engine handles an
event at time *t* fills on the *next* market event of its symbol that arrives after it:

- a :class:`~framework.Bar` fills it at the bar's **open** (the first price of a period that
  began after the decision), stamped with the bar's open time;
- a :class:`~framework.Quote` fills a buy at the **ask** and a sell at the **bid** (or the last
  price when that side is missing), stamped with the quote's time.

The broker handles each market event before any strategy sees it: first it fills what was
waiting, then it marks the portfolio to the event's price, then strategies run.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from .._bus import EventBus
from .._clock import Clock
from .._events import (
    Bar,
    Event,
    OrderAccepted,
    OrderFilled,
    OrderSide,
    Quote,
)
from ..portfolio import Portfolio
from ._orders import Order, OrderStatus, OrderType, check_quantity

OrderEventHandler = Callable[[Event], None]


class SimulatedBroker:
    """Matches orders against the market events the engine passes through it.

    Order events (accepted, filled, ...) go to the owning strategy's handler and to every
    listener added with :meth:`add_listener` (results, journals).
    """

    def __init__(self, portfolio: Portfolio) -> None:
        self.portfolio = portfolio
        self._clock: Clock | None = None
        self._ids = itertools.count(1)
        self._working: dict[str, list[Order]] = {}
        self._orders: dict[int, Order] = {}
        self._owners: dict[str, OrderEventHandler] = {}
        self._listeners: list[OrderEventHandler] = []

    # -- wiring ----------------------------------------------------------------------------

    def attach(self, bus: EventBus, clock: Clock) -> None:
        """Take market events from ``bus``. Call before strategies subscribe: fills come first."""
        self._clock = clock
        bus.subscribe(Bar, self.on_bar)
        bus.subscribe(Quote, self.on_quote)

    def register_owner(self, strategy_id: str, handler: OrderEventHandler) -> None:
        """Route order events of ``strategy_id``'s orders to ``handler``."""
        self._owners[strategy_id] = handler

    def add_listener(self, handler: OrderEventHandler) -> None:
        """Also send every order event to ``handler``."""
        self._listeners.append(handler)

    # -- commands --------------------------------------------------------------------------

    def submit_market(self, strategy_id: str, symbol: str, side: OrderSide, qty: float) -> Order:
        """Accept a market order; it fills on the next market event of ``symbol``."""
        now = self._now()
        order = Order(
            order_id=next(self._ids),
            strategy_id=strategy_id,
            symbol=symbol,
            side=side,
            qty=check_quantity(qty),
            type=OrderType.MARKET,
            ts_submitted=now,
        )
        self._orders[order.order_id] = order
        self._working.setdefault(symbol, []).append(order)
        self._emit(
            order, OrderAccepted(order_id=order.order_id, symbol=symbol, ts_event=now, ts_recv=now)
        )
        return order

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Orders still working, oldest first."""
        if symbol is not None:
            return list(self._working.get(symbol, ()))
        return [o for orders in self._working.values() for o in orders]

    def order(self, order_id: int) -> Order:
        """Look an order up by id (KeyError if unknown)."""
        return self._orders[order_id]

    # -- market events ---------------------------------------------------------------------

    def on_bar(self, bar: Bar) -> None:
        working = self._working.get(bar.symbol)
        if working:
            self._fill_all(bar.symbol, working, bar.open, bar.open, bar.ts_open)
        self.portfolio.mark(bar.symbol, bar.close, bar.ts_event)

    def on_quote(self, quote: Quote) -> None:
        working = self._working.get(quote.symbol)
        if working:
            buy = quote.ask if quote.ask is not None else quote.last_price
            sell = quote.bid if quote.bid is not None else quote.last_price
            if buy is not None and sell is not None:
                self._fill_all(quote.symbol, working, buy, sell, quote.ts_event)
        mark = quote.last_price
        if mark is None and quote.bid is not None and quote.ask is not None:
            mark = (quote.bid + quote.ask) / 2
        if mark is not None:
            self.portfolio.mark(quote.symbol, mark, quote.ts_event)

    # -- internals -------------------------------------------------------------------------

    def _fill_all(
        self, symbol: str, working: list[Order], buy_price: float, sell_price: float, ts: int
    ) -> None:
        # Detach the list first: a strategy reacting to a fill may submit a new order, which
        # must wait for the next market event.
        self._working[symbol] = []
        recv = self._now()
        for order in working:
            price = buy_price if order.side is OrderSide.BUY else sell_price
            qty = order.leaves_qty
            order.filled_qty = order.qty
            order.status = OrderStatus.FILLED
            fill = OrderFilled(
                order_id=order.order_id,
                symbol=symbol,
                side=order.side,
                qty=qty,
                price=price,
                commission=0.0,
                ts_event=ts,
                ts_recv=recv,
            )
            self.portfolio.apply_fill(fill)
            self._emit(order, fill)

    def _emit(self, order: Order, event: Event) -> None:
        owner = self._owners.get(order.strategy_id)
        if owner is not None:
            owner(event)
        for listener in self._listeners:
            listener(event)

    def _now(self) -> int:
        if self._clock is None:
            raise RuntimeError("broker is not attached to an engine")
        return self._clock.now()
