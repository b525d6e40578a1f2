"""Random orders, fills, cancels, modifications and price moves keep the books balanced.

A hypothesis state machine drives a simulated broker directly (bars and quotes on two
symbols, every order type and time in force, brackets, OCO pairs, cancels, modifications,
latency, the kill switch, session changes) and after every step checks, from the events alone:

- cash = start cash − Σ signed fill value − Σ commissions, and positions = Σ signed fills;
- equity = cash + Σ position × last mark = start + realised + unrealised − commissions;
- every order's filled quantity is the sum of its fills, never above its quantity;
- nothing happens to an order after it ended, and the broker's open orders are exactly the
  orders whose status is open;
- a bracket's exits never fill more than its entry did, an OCO group never more than its size.
"""

from __future__ import annotations

import math
from typing import Any

from factories import MINUTE, T0
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from framework import (
    Bar,
    Event,
    EventBus,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderModified,
    OrderModifyRejected,
    OrderRejected,
    Quote,
    SimulatedClock,
)
from framework.execution import (
    BpsSlippage,
    BrokerConfig,
    FillModel,
    Order,
    OrderStatus,
    PerShareCommission,
    RiskLimits,
    SimulatedBroker,
    TickSlippage,
)
from framework.portfolio import Portfolio

SYMBOLS = ("AAA", "BBB")
START = 1_000_000.0
CONFIGS = [
    BrokerConfig(),
    BrokerConfig(
        commission=PerShareCommission(0.01, minimum=1.0),
        slippage=BpsSlippage(3),
        fill_model=FillModel(quote_sizes=True),
    ),
    BrokerConfig(
        latency_ms=90_000, slippage=TickSlippage(1), fill_model=FillModel(quote_sizes=True)
    ),
    BrokerConfig(risk=RiskLimits(max_position=60, long_only=True, max_open_orders=8)),
]
MOVES = st.integers(-4, 4)
SIZES = st.none() | st.integers(0, 30)
GAPS = st.sampled_from([1, 1, 1, 1, 2, 700])  # 700 minutes crosses a UTC midnight
#: A market event that may follow an order at once: a bar (move, up, down, gap), a quote
#: (move, spread, bid size, ask size), or nothing.
FOLLOW = (
    st.none()
    | st.tuples(st.just("bar"), MOVES, st.integers(0, 6), st.integers(0, 6), GAPS)
    | st.tuples(st.just("quote"), MOVES, st.integers(0, 4), SIZES, SIZES)
)
TERMINAL = (OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REJECTED)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


class Accounting(RuleBasedStateMachine):
    @initialize(config=st.sampled_from(CONFIGS))
    def open_account(self, config: BrokerConfig) -> None:
        self.clock = SimulatedClock(T0)
        self.portfolio = Portfolio(START)
        self.broker = SimulatedBroker(self.portfolio, config)
        self.config = config
        self.broker.attach(EventBus(), self.clock)
        self.broker.add_listener(self.record)
        self.price = dict.fromkeys(SYMBOLS, 100.0)
        self.mark: dict[str, float] = {}
        self.minute = 0
        self.fills: list[OrderFilled] = []
        self.ended: dict[int, str] = {}
        self.violations: list[str] = []
        self.oco_size: dict[int, float] = {}
        for symbol in SYMBOLS:  # a first price for each symbol, so orders are not refused
            self.quote(symbol, 0, 1, None, None)

    def record(self, event: Event) -> None:
        order_id = getattr(event, "order_id", None)
        if order_id is None:
            return
        if order_id in self.ended and not isinstance(event, OrderModifyRejected):
            self.violations.append(f"{type(event).__name__} after {self.ended[order_id]}")
        if isinstance(event, OrderFilled):
            self.fills.append(event)
            if self.broker.order(order_id).status is OrderStatus.FILLED:
                self.ended[order_id] = "filled"
        elif isinstance(event, OrderCancelled | OrderExpired | OrderRejected):
            self.ended[order_id] = type(event).__name__
        elif not isinstance(event, OrderAccepted | OrderModified | OrderModifyRejected):
            self.violations.append(f"unexpected {event!r}")

    # -- market ------------------------------------------------------------------------------

    def advance(self, minutes: int) -> int:
        self.minute += minutes
        return T0 + self.minute * MINUTE

    @rule(
        symbol=st.sampled_from(SYMBOLS),
        move=MOVES,
        up=st.integers(0, 6),
        down=st.integers(0, 6),
        gap=GAPS,
    )
    def bar(self, symbol: str, move: int, up: int, down: int, gap: int) -> None:
        open_ = self.price[symbol]
        close_ = max(1.0, open_ + move * 0.5)
        ts = self.advance(gap)
        bar = Bar(
            symbol=symbol,
            interval="1m",
            ts_open=ts,
            open=open_,
            high=max(open_, close_) + up * 0.5,
            low=max(0.5, min(open_, close_) - down * 0.5),
            close=close_,
            volume=1.0,
            ts_event=ts + MINUTE,
            ts_recv=ts + MINUTE,
        )
        self.minute += 1
        self.clock.advance_to(bar.ts_event)
        self.broker.on_bar(bar)
        self.price[symbol] = self.mark[symbol] = close_

    @rule(
        symbol=st.sampled_from(SYMBOLS),
        move=MOVES,
        spread=st.integers(0, 4),
        bid_size=SIZES,
        ask_size=SIZES,
    )
    def quote(self, symbol: str, move: int, spread: int, bid_size, ask_size) -> None:
        mid = max(2.0, self.price[symbol] + move * 0.5)
        ts = self.advance(1)
        quote = Quote(
            symbol=symbol,
            bid=mid - spread * 0.25,
            ask=mid + spread * 0.25,
            bid_size=bid_size,
            ask_size=ask_size,
            ts_event=ts,
            ts_recv=ts,
        )
        self.clock.advance_to(ts)
        self.broker.on_quote(quote)
        self.price[symbol] = self.mark[symbol] = mid

    # -- orders ------------------------------------------------------------------------------

    @rule(
        symbol=st.sampled_from(SYMBOLS),
        side=st.sampled_from(["buy", "sell"]),
        qty=st.integers(1, 40),
        kind=st.sampled_from(["market", "limit", "stop", "stop_limit"]),
        offset=st.integers(-6, 6),
        width=st.integers(-2, 2),
        tif=st.sampled_from(["gtc", "gtc", "day", "ioc", "fok"]),
        then=FOLLOW,
    )
    def submit(self, symbol, side, qty, kind, offset, width, tif, then) -> None:
        price = self.price[symbol]
        level = max(0.5, price + offset * 0.5)
        limit = stop = None
        if kind in ("limit", "stop_limit"):
            limit = max(0.5, level + width * 0.5) if kind == "stop_limit" else level
        if kind in ("stop", "stop_limit"):
            stop = level
            tif = "gtc" if tif in ("ioc", "fok") else tif
        self.broker.submit("s", symbol, side, qty, limit=limit, stop=stop, tif=tif)
        self.follow(symbol, then)

    def follow(self, symbol: str, then: tuple[Any, ...] | None) -> None:
        # Swarm testing may switch the market rules off; orders still meet prices this way.
        if then is not None:
            kind, *args = then
            getattr(self, kind)(symbol, *args)

    @rule(
        symbol=st.sampled_from(SYMBOLS),
        side=st.sampled_from(["buy", "sell"]),
        qty=st.integers(1, 40),
        limit_entry=st.booleans(),
        near=st.integers(1, 6),
        far=st.integers(1, 6),
        then=FOLLOW,
    )
    def bracket(self, symbol, side, qty, limit_entry, near, far, then) -> None:
        price = self.price[symbol]
        sign = 1 if side == "buy" else -1
        entry = price - sign * 0.5 if limit_entry else None
        base = entry if entry is not None else price
        stop_loss = base - sign * near * 0.5
        take_profit = base + sign * far * 0.5
        if min(stop_loss, take_profit, base) <= 0:
            return
        self.broker.submit_bracket(
            "s", symbol, side, qty, entry_limit=entry, take_profit=take_profit, stop_loss=stop_loss
        )
        self.follow(symbol, then)

    @rule(
        symbol=st.sampled_from(SYMBOLS),
        side=st.sampled_from(["buy", "sell"]),
        qty=st.integers(1, 40),
        near=st.integers(1, 6),
        far=st.integers(1, 6),
        tif=st.sampled_from(["gtc", "day"]),
        then=FOLLOW,
    )
    def oco(self, symbol, side, qty, near, far, tif, then) -> None:
        price = self.price[symbol]
        sign = 1 if side == "buy" else -1
        limit = price - sign * near * 0.5
        stop = price + sign * far * 0.5
        if min(limit, stop) <= 0:
            return
        a, _ = self.broker.submit_oco("s", symbol, side, qty, limit=limit, stop=stop, tif=tif)
        assert a.oco_id is not None
        self.oco_size[a.oco_id] = float(qty)
        self.follow(symbol, then)

    @precondition(lambda self: self.broker.open_orders())
    @rule(data=st.data())
    def cancel(self, data) -> None:
        order = data.draw(st.sampled_from(self.broker.open_orders()))
        self.broker.cancel(order)

    @precondition(lambda self: self.broker.open_orders())
    @rule(data=st.data(), qty=st.integers(1, 60), shift=st.integers(-3, 3))
    def modify(self, data, qty, shift) -> None:
        order: Order = data.draw(st.sampled_from(self.broker.open_orders()))
        if order.oco_id is None and data.draw(st.booleans()):
            self.broker.modify(order, qty=qty)
        elif order.limit_price is not None:
            self.broker.modify(order, limit=max(0.5, order.limit_price + shift * 0.5))
        elif order.stop_price is not None:
            self.broker.modify(order, stop=max(0.5, order.stop_price + shift * 0.5))

    @rule(action=st.sampled_from(["trip", "reset", "reset", "reset"]))
    def kill_switch(self, action: str) -> None:
        if action == "reset":
            self.broker.reset_kill_switch()
        elif self.broker.halted is None:
            self.broker.trip_kill_switch("test")

    # -- invariants --------------------------------------------------------------------------

    @invariant()
    def nothing_happens_after_an_order_ends(self) -> None:
        assert self.violations == []

    @invariant()
    def fills_sum_to_positions_and_cash(self) -> None:
        cash = START
        positions = dict.fromkeys(SYMBOLS, 0.0)
        commissions = 0.0
        for fill in self.fills:
            signed = fill.side.sign * fill.qty
            positions[fill.symbol] += signed
            cash -= signed * fill.price + fill.commission
            commissions += fill.commission
        assert close(self.portfolio.cash, cash)
        assert close(self.portfolio.commissions, commissions)
        for symbol, qty in positions.items():
            assert close(self.portfolio.position(symbol).qty, qty)
        value = sum(qty * self.mark[s] for s, qty in positions.items() if qty)
        equity = self.portfolio.equity()
        assert close(equity, cash + value)
        assert close(
            equity,
            START
            + self.portfolio.realized_pnl()
            + self.portfolio.unrealized_pnl()
            - self.portfolio.commissions,
        )

    @invariant()
    def orders_agree_with_their_fills(self) -> None:
        filled: dict[int, float] = {}
        value: dict[int, float] = {}
        paid: dict[int, float] = {}
        for fill in self.fills:
            filled[fill.order_id] = filled.get(fill.order_id, 0.0) + fill.qty
            value[fill.order_id] = value.get(fill.order_id, 0.0) + fill.qty * fill.price
            paid[fill.order_id] = paid.get(fill.order_id, 0.0) + fill.commission
        for order in self.broker.orders():
            qty = filled.get(order.order_id, 0.0)
            assert close(order.filled_qty, qty)
            total = self.config.commission.order_commission(qty, value.get(order.order_id, 0.0))
            assert close(paid.get(order.order_id, 0.0), total)
            assert order.filled_qty <= order.qty + 1e-9
            if order.status is OrderStatus.FILLED:
                assert close(order.filled_qty, order.qty)
            if order.is_open:
                assert order.leaves_qty > 1e-9
            if order.child_ids:
                exits = sum(self.broker.order(i).filled_qty for i in order.child_ids)
                assert exits <= order.filled_qty + 1e-9
        groups: dict[int, float] = {}
        for order in self.broker.orders():
            if order.oco_id in self.oco_size:
                groups[order.oco_id] = groups.get(order.oco_id, 0.0) + order.filled_qty
        for oco_id, total in groups.items():
            assert total <= self.oco_size[oco_id] + 1e-9

    @invariant()
    def open_orders_are_exactly_the_open_ones(self) -> None:
        listed = [o.order_id for o in self.broker.open_orders()]
        assert listed == [o.order_id for o in self.broker.orders() if o.is_open]
        assert all(o.status in TERMINAL for o in self.broker.orders() if not o.is_open)


Accounting.TestCase.settings = settings(
    max_examples=250,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestAccountingIdentitiesHoldUnderRandomTrading = Accounting.TestCase
