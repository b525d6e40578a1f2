"""A broker on a desk: drive a SimulatedBroker with hand-built bars and quotes, no engine."""

from __future__ import annotations

from typing import Any

import pytest
from factories import MINUTE, T0

from framework import Bar, Event, EventBus, OrderFilled, Quote, SimulatedClock
from framework.execution import BrokerConfig, Order, SimulatedBroker
from framework.portfolio import Portfolio


class Desk:
    """A broker with its own clock and bus; every event of strategy ``s`` is kept.

    ``bar(i, ...)`` is the i-th one-minute bar after T0 (open time T0 + i minutes, final a
    minute later); the clock moves to its final time first, as the engine does, so orders
    sent after ``bar(i)`` are eligible from ``bar(i + 1)`` on.
    """

    def __init__(self, config: BrokerConfig | None = None, cash: float = 100_000.0) -> None:
        self.clock = SimulatedClock(T0)
        self.portfolio = Portfolio(cash)
        self.broker = SimulatedBroker(self.portfolio, config)
        self.broker.attach(EventBus(), self.clock)
        self.events: list[Event] = []
        self.broker.register_owner("s", self.events.append)

    def bar(
        self,
        i: int,
        open: float,
        high: float | None = None,
        low: float | None = None,
        close: float | None = None,
        *,
        symbol: str = "AAPL",
        minutes: int = 1,
    ) -> Bar:
        close = open if close is None else close
        high = max(open, close) if high is None else high
        low = min(open, close) if low is None else low
        ts = T0 + i * MINUTE
        bar = Bar(
            symbol=symbol,
            interval="1m",
            ts_open=ts,
            open=open,
            high=high,
            low=low,
            close=close,
            volume=1_000.0,
            ts_event=ts + minutes * MINUTE,
            ts_recv=ts + minutes * MINUTE,
        )
        self.clock.advance_to(bar.ts_event)
        self.broker.on_bar(bar)
        return bar

    def quote(
        self,
        i: int,
        bid: float | None,
        ask: float | None,
        *,
        bid_size: float | None = None,
        ask_size: float | None = None,
        last: float | None = None,
        symbol: str = "AAPL",
        seconds: int = 0,
    ) -> Quote:
        """A quote at T0 + i minutes (+ ``seconds``)."""
        ts = T0 + i * MINUTE + seconds * 1_000_000_000
        quote = Quote(
            symbol=symbol,
            bid=bid,
            ask=ask,
            bid_size=bid_size,
            ask_size=ask_size,
            last_price=last,
            ts_event=ts,
            ts_recv=ts,
        )
        self.clock.advance_to(ts)
        self.broker.on_quote(quote)
        return quote

    def buy(self, qty: float, symbol: str = "AAPL", **options: Any) -> Order:
        return self.send("buy", qty, symbol, options)

    def sell(self, qty: float, symbol: str = "AAPL", **options: Any) -> Order:
        return self.send("sell", qty, symbol, options)

    def send(self, side: str, qty: float, symbol: str, options: dict[str, Any]) -> Order:
        """The broker method for ``options``, as ``Strategy.buy`` / ``sell`` choose it."""
        if options.keys() & {"trail", "trail_percent", "limit_offset"}:
            return self.broker.submit_trailing_stop("s", symbol, side, qty, **options)
        if "touch" in options:
            return self.broker.submit_if_touched("s", symbol, side, qty, **options)
        return self.broker.submit("s", symbol, side, qty, **options)

    @property
    def fills(self) -> list[OrderFilled]:
        return [e for e in self.events if isinstance(e, OrderFilled)]

    def of(self, *types: type[Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, types)]

    def prices(self) -> list[tuple[str, float, float]]:
        """(side, qty, price) of every fill so far."""
        return [(f.side.value, f.qty, f.price) for f in self.fills]


@pytest.fixture
def desk() -> Desk:
    return Desk()


@pytest.fixture
def make_desk() -> type[Desk]:
    return Desk
