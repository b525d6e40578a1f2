"""A deterministic paper session, and a child process that journals it until killed.

``Session(seed)`` drives a SimulatedBroker with seeded bars, quotes and commands (every order
type, trailing stops and market-if-touched orders included, brackets, OCO pairs, cancels,
modifications, the kill switch). Each step makes at most
one broker transaction, so a journal cut anywhere ends on a step boundary.

Run as ``python paper_journal_child.py PATH SEED``: it journals the session to PATH and, after
each step returns, writes the step number and a newline to stdout (unbuffered), so every line
the parent reads is a step whose transaction is in the journal. The parent SIGKILLs it.
"""

from __future__ import annotations

import os
import random
import sys
from typing import Any

import attrs

from framework import Bar, EventBus, Quote, SimulatedClock
from framework.execution import (
    BrokerConfig,
    FillModel,
    OrderType,
    PaperJournal,
    PerShareCommission,
    SimulatedBroker,
)
from framework.portfolio import Portfolio
from framework.recording import Durability

MINUTE = 60_000_000_000
T0 = 1_704_205_800 * 1_000_000_000
START_PRICES = {"AAA": 100.0, "BBB": 50.0}
CONFIG = BrokerConfig(
    commission=PerShareCommission(0.01, minimum=1.0), fill_model=FillModel(quote_sizes=True)
)
#: Stop on our own eventually if the parent never kills us.
LIMIT = 1_000_000


def new_broker(config: BrokerConfig = CONFIG) -> SimulatedBroker:
    return SimulatedBroker(Portfolio(100_000.0), config)


class Session:
    """Seeded market data and commands for one broker (which can be swapped on restart)."""

    def __init__(self, seed: int, broker: SimulatedBroker | None = None) -> None:
        self.rng = random.Random(seed)
        self.clock = SimulatedClock(T0)
        self.prices = dict(START_PRICES)
        self.minute = 0
        self.broker = broker or new_broker()
        self.use(self.broker)

    def use(self, broker: SimulatedBroker) -> None:
        self.broker = broker
        broker.attach(EventBus(), self.clock)

    def tick_all(self) -> None:
        """One bar of every symbol (gives a restored broker its prices back)."""
        for symbol in sorted(self.prices):
            self.bar(symbol)

    def drift(self, symbol: str) -> float:
        """The price pulled a little toward where it started, so it stays far from zero."""
        price = self.prices[symbol]
        return price + (START_PRICES[symbol] - price) * 0.05

    def bar(self, symbol: str) -> None:
        rng = self.rng
        open_ = self.prices[symbol]
        close = max(1.0, round(self.drift(symbol) + rng.uniform(-2, 2), 2))
        ts = T0 + self.minute * MINUTE
        self.minute += rng.choice([1, 1, 1, 2, 600])
        bar = Bar(
            symbol=symbol,
            interval="1m",
            ts_open=ts,
            open=open_,
            high=max(open_, close) + round(rng.uniform(0, 1.5), 2),
            low=max(0.5, min(open_, close) - round(rng.uniform(0, 1.5), 2)),
            close=close,
            volume=1.0,
            ts_event=ts + MINUTE,
            ts_recv=ts + MINUTE,
        )
        self.clock.advance_to(bar.ts_event)
        self.broker.on_bar(bar)
        self.prices[symbol] = close

    def quote(self, symbol: str) -> None:
        rng = self.rng
        mid = max(2.0, round(self.drift(symbol) + rng.uniform(-1, 1), 2))
        ts = T0 + self.minute * MINUTE
        self.minute += 1
        quote = Quote(
            symbol=symbol,
            bid=mid - 0.05,
            ask=mid + 0.05,
            bid_size=rng.choice([None, 3.0, 10.0, 50.0]),
            ask_size=rng.choice([None, 3.0, 10.0, 50.0]),
            ts_event=ts,
            ts_recv=ts,
        )
        self.clock.advance_to(ts)
        self.broker.on_quote(quote)
        self.prices[symbol] = mid

    def step(self) -> None:
        rng = self.rng
        broker = self.broker
        symbol = rng.choice(sorted(self.prices))
        price = self.prices[symbol]
        side = rng.choice(["buy", "sell"])
        sign = 1 if side == "buy" else -1
        roll = rng.random()
        qty = float(rng.randint(1, 20))
        open_orders = broker.open_orders()
        if roll < 0.35:
            self.bar(symbol)
        elif roll < 0.50:
            self.quote(symbol)
        elif roll < 0.68:
            kind = rng.choice(
                ["market", "limit", "stop", "stop_limit", "trailing", "trailing_limit", "touched"]
            )
            offset = round(rng.uniform(-2, 2), 2)
            options: dict[str, Any] = {"tif": rng.choice(["gtc", "gtc", "day"])}
            if kind in ("limit", "stop_limit"):
                options["limit"] = max(0.5, price + offset)
            if kind in ("stop", "stop_limit"):
                options["stop"] = max(0.5, price - offset)
            if kind in ("trailing", "trailing_limit"):
                if rng.random() < 0.5:
                    options["trail"] = round(rng.uniform(0.2, 2), 2)
                else:
                    options["trail_percent"] = rng.uniform(0.002, 0.02)
                if rng.random() < 0.3:
                    options["stop"] = max(0.5, price + sign * rng.uniform(0.5, 2))
                if kind == "trailing_limit":
                    options["limit_offset"] = round(rng.uniform(0, 0.5), 2)
            if kind in ("trailing", "trailing_limit"):
                broker.submit_trailing_stop("s", symbol, side, qty, **options)
            elif kind == "touched":
                touch = max(0.5, price - sign * abs(offset))
                broker.submit_if_touched("s", symbol, side, qty, touch=touch, **options)
            else:
                broker.submit("s", symbol, side, qty, **options)
        elif roll < 0.76:
            entry = price - sign * 0.5 if rng.random() < 0.5 else None
            base = entry or price
            broker.submit_bracket(
                "s",
                symbol,
                side,
                qty,
                entry_limit=entry,
                take_profit=base + sign * rng.uniform(0.5, 3),
                stop_loss=base - sign * rng.uniform(0.5, 3),
            )
        elif roll < 0.82:
            broker.submit_oco(
                "s", symbol, side, qty, limit=price - sign * 1.0, stop=price + sign * 1.5
            )
        elif roll < 0.90 and open_orders:
            broker.cancel(rng.choice(open_orders))
        elif roll < 0.97 and open_orders:
            order = rng.choice(open_orders)
            if order.type.is_trailing:
                broker.modify(
                    order, stop=max(0.5, (order.stop_price or price) + rng.uniform(-1, 1))
                )
            elif order.type is OrderType.MARKET_IF_TOUCHED:
                broker.modify(order, qty=order.qty + 1)
            elif order.limit_price is not None:
                broker.modify(order, limit=max(0.5, order.limit_price + rng.uniform(-1, 1)))
            elif order.stop_price is not None:
                broker.modify(order, stop=max(0.5, order.stop_price + rng.uniform(-1, 1)))
        elif roll < 0.974:
            if broker.halted is None:
                broker.trip_kill_switch("child")
        else:
            broker.reset_kill_switch()


def digest(broker: SimulatedBroker) -> dict[str, Any]:
    """Everything a restored broker must reproduce: orders, fills, cash, positions, halt."""
    portfolio = broker.portfolio
    return {
        "orders": [attrs.asdict(o) for o in broker.orders()],
        "open": [o.order_id for o in broker.open_orders()],
        "fills": list(portfolio.fills),
        "cash": portfolio.cash,
        "commissions": portfolio.commissions,
        "positions": {
            s: (p.qty, p.avg_price, p.realized_pnl)
            for s, p in sorted(portfolio.positions.items())
            if p.qty or p.realized_pnl
        },
        "trades": list(portfolio.closed_trades),
        "halted": broker.halted,
    }


def main(path: str, seed: int) -> None:
    session = Session(seed)
    journal = PaperJournal.open(path, durability=Durability.PROCESS)
    journal.attach(session.broker)
    for step in range(1, LIMIT + 1):
        session.step()
        os.write(1, b"%d\n" % step)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
