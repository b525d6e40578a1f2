"""Strategy unit tests without an event loop: feed hand-written bars, inspect the orders.

:class:`StrategyHarness` registers one strategy with a real :class:`~framework.Engine` that
never runs as a task: each event given to it goes through the engine's own synchronous
dispatch (timers due before it fire first, the simulated clock moves to its time, the broker
fills waiting orders and marks the portfolio, then the strategy's hook runs). So orders fill
exactly as in a backtest: a market order fills at the next bar's open.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._clock import SimulatedClock
from .._engine import Engine
from .._errors import ConfigError, EngineError
from .._events import Bar, Event, OrderAccepted, OrderFilled, Quote
from .._intervals import Interval
from .._strategy import Strategy
from ..execution import Order
from ..feeds._feed import ListFeed
from ..portfolio import Portfolio, Position, Trade
from ._capture import CapturedEvents, capture_events
from ._market import DEFAULT_START_NS


class StrategyHarness:
    """Drives one strategy by hand, synchronously.

    ``harness.bar(10.0)`` delivers the next ``interval`` bar of ``symbol`` (open, high and low
    default to the close); ``harness.feed(events)`` delivers any events. Then look at
    :attr:`orders`, :attr:`fills`, :meth:`position`, :attr:`portfolio` and :attr:`seen`.
    ``on_start`` runs before the first event (or at :meth:`start`), ``on_stop`` at :meth:`stop`.
    """

    def __init__(
        self,
        strategy: Strategy,
        *,
        cash: float = 100_000.0,
        symbol: str = "TEST",
        interval: Interval | str = "1m",
        start_ns: int = DEFAULT_START_NS,
    ) -> None:
        self.strategy = strategy
        self.symbol = symbol
        self.interval = Interval.parse(interval) if isinstance(interval, str) else interval
        nanos = self.interval.nanos
        if nanos is None:
            raise ConfigError(
                f"the harness needs a fixed bar size, not {self.interval.label}; "
                "build Bar events yourself and use feed()"
            )
        self._bar_nanos = nanos
        self.start_ns = start_ns
        #: Every event delivered to the strategy, with the clock at delivery.
        self.seen: CapturedEvents = capture_events(strategy)
        self._engine = Engine(
            feeds=[ListFeed([], name="harness")], strategies=[strategy], cash=cash
        )
        self._orders: list[Order] = []
        self._engine.broker.add_listener(self._on_order_event)
        self._next_open: dict[str, int] = {}
        self._started = False
        self._stopped = False

    # -- driving ---------------------------------------------------------------------------

    def start(self, at: int | None = None) -> None:
        """Call ``on_start`` with the clock at ``at`` (default: the first event's time or
        ``start_ns``). Happens by itself before the first event; a second call does nothing."""
        if self._started:
            return
        self._started = True
        self._engine.start(self.start_ns if at is None else at)

    def feed(self, events: Iterable[Event]) -> None:
        """Deliver ``events`` in the order given, as the engine's dispatcher would."""
        batch = list(events)
        if self._stopped:
            raise EngineError("the harness was stopped; build a new one")
        if not batch:
            return
        self.start(batch[0].ts_event)
        self._engine.deliver(batch)

    def bar(
        self,
        close: float,
        *,
        open: float | None = None,
        high: float | None = None,
        low: float | None = None,
        volume: float = 1_000.0,
        symbol: str | None = None,
        ts_open: int | None = None,
    ) -> Bar:
        """Deliver the next bar of ``symbol`` and return it.

        It opens where the previous bar of that symbol ended (first: ``start_ns``) unless
        ``ts_open`` says otherwise, and is final one interval later. ``open`` defaults to the
        close, ``high`` / ``low`` to the larger / smaller of open and close.
        """
        code = self.symbol if symbol is None else symbol
        ts = self._next_open.get(code, self.start_ns) if ts_open is None else ts_open
        o = close if open is None else open
        end = ts + self._bar_nanos
        bar = Bar(
            symbol=code,
            interval=self.interval.label,
            ts_open=ts,
            open=o,
            high=max(o, close) if high is None else high,
            low=min(o, close) if low is None else low,
            close=close,
            volume=volume,
            ts_event=end,
            ts_recv=end,
        )
        self.feed([bar])
        self._next_open[code] = end
        return bar

    def bars(self, closes: Iterable[float], *, symbol: str | None = None) -> list[Bar]:
        """Deliver one bar per close (each opening at its close), back to back."""
        return [self.bar(close, symbol=symbol) for close in closes]

    def quote(
        self,
        *,
        bid: float | None,
        ask: float | None,
        bid_size: float | None = 1.0,
        ask_size: float | None = 1.0,
        last_price: float | None = None,
        symbol: str | None = None,
        at: int | None = None,
    ) -> Quote:
        """Deliver a quote of ``symbol`` stamped ``at`` (default: the clock now) and return it."""
        ts = at if at is not None else (self.now if self._started else self.start_ns)
        quote = Quote(
            symbol=self.symbol if symbol is None else symbol,
            bid=bid,
            ask=ask,
            bid_size=bid_size,
            ask_size=ask_size,
            last_price=last_price,
            ts_event=ts,
            ts_recv=ts,
        )
        self.feed([quote])
        return quote

    def advance_to(self, ts: int) -> None:
        """Move the clock to ``ts``, firing the timers due by then (as the next event would)."""
        self.start(ts)
        self._engine.timers.fire_due(ts, self.clock)
        self.clock.advance_to(ts)

    def stop(self) -> None:
        """Call ``on_stop`` (once); the harness takes no more events."""
        if self._stopped:
            return
        self.start()
        self._stopped = True
        self.strategy.on_stop()

    # -- inspecting ------------------------------------------------------------------------

    @property
    def clock(self) -> SimulatedClock:
        """The simulated clock the strategy reads; the harness moves it with each event."""
        clock = self._engine.clock
        assert isinstance(clock, SimulatedClock)
        return clock

    @property
    def now(self) -> int:
        """The clock: the time of the latest event or timer."""
        return self.clock.now()

    @property
    def orders(self) -> list[Order]:
        """Every order the strategy submitted, oldest first (status updated as they fill)."""
        return list(self._orders)

    @property
    def open_orders(self) -> list[Order]:
        """Orders still waiting for a fill, oldest first."""
        return self._engine.broker.open_orders()

    @property
    def fills(self) -> list[OrderFilled]:
        """Every fill so far, oldest first."""
        return list(self._engine.portfolio.fills)

    @property
    def trades(self) -> list[Trade]:
        """Closed round trips."""
        return list(self._engine.portfolio.closed_trades)

    @property
    def portfolio(self) -> Portfolio:
        """The account: cash, positions, trades and equity."""
        return self._engine.portfolio

    def position(self, symbol: str | None = None) -> Position:
        """The position in ``symbol`` (default: the harness symbol)."""
        return self._engine.portfolio.position(self.symbol if symbol is None else symbol)

    def _on_order_event(self, event: Event) -> None:
        if isinstance(event, OrderAccepted):
            self._orders.append(self._engine.broker.order(event.order_id))
