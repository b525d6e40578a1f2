"""The Strategy base class: what users subclass.

Hooks are plain ``def`` methods, called by the engine's one dispatcher task in event order; they
must not block. Order entry (``buy``, ``sell``, ``close``, ``bracket``, ``oco``, ``cancel``,
``modify``; rules in docs/execution.md), positions and the clock are set up when the engine
registers the strategy, so the same class runs in a backtest, over a recording
and live, and can be unit-tested by feeding it events directly.

By default a strategy receives every :class:`Bar` and :class:`Quote` of the run. Calling
:meth:`Strategy.subscribe` in ``on_start`` narrows that to the types and symbols named.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, TypeVar

from ._clock import Clock, TimerQueue
from ._errors import EngineError, ParameterError
from ._events import (
    Bar,
    BarGap,
    BarUpdate,
    DataRejected,
    Event,
    FeedConnected,
    FeedDisconnected,
    FeedResumed,
    FeedStale,
    OrderFilled,
    OrderSide,
    Quote,
    TimerFired,
    WarmupCompleted,
    WarmupStarted,
)
from ._params import Param, declared_params

if TYPE_CHECKING:
    from ._bus import EventBus
    from .execution import Bracket, Order, SimulatedBroker, TimeInForce
    from .portfolio import Portfolio, Position

_T = TypeVar("_T")

#: Feed-health notifications delivered to ``on_feed_event``.
FEED_EVENTS: tuple[type[Event], ...] = (
    FeedConnected,
    FeedDisconnected,
    FeedStale,
    FeedResumed,
    BarGap,
    DataRejected,
    WarmupStarted,
    WarmupCompleted,
)

#: ``OrderRejected`` reason and detail for orders placed while history is replayed.
WARMUP_REJECTION = ("warmup", "warm-up: no orders until live data")


class Strategy:
    """Base class for trading strategies.

    Declare parameters with :class:`~framework.Param`; construct with keyword arguments to
    override defaults (unknown names raise :class:`~framework.ParameterError`).
    """

    #: Name used for logs and order ownership; defaults to the class name.
    name: ClassVar[str | None] = None

    def __init__(self, **params: Any) -> None:
        declared = declared_params(type(self))
        unknown = sorted(set(params) - set(declared))
        if unknown:
            known = ", ".join(declared) or "none"
            raise ParameterError(
                f"{type(self).__name__} has no parameter {', '.join(map(repr, unknown))} "
                f"(parameters: {known})"
            )
        self._param_values: dict[str, Any] = {
            name: param.convert(params[name]) if name in params else param.default
            for name, param in declared.items()
        }
        self.strategy_id: str = self.name or type(self).__name__
        self.log = logging.getLogger(f"tradewire.strategy.{self.strategy_id}")
        self._bus: EventBus | None = None
        self._broker: SimulatedBroker | None = None
        self._clock: Clock | None = None
        self._timers: TimerQueue | None = None
        self._subscribed_types: set[type[Event]] = set()
        #: Set by the engine between WarmupStarted and WarmupCompleted (see warmup_bars).
        self._warming_up = False
        self.validate()

    def validate(self) -> None:
        """Check combinations of parameters; raise :class:`~framework.ParameterError` if wrong.

        Called at the end of ``__init__``, so a bad combination fails before any run starts.
        """

    # -- hooks (override what you need) ----------------------------------------------------

    def on_start(self) -> None:
        """Called once before the first event; subscribe and set timers here."""

    def on_bar(self, bar: Bar) -> None:
        """Called for each final bar."""

    def on_bar_update(self, update: BarUpdate) -> None:
        """Called for each in-progress bar update (only if overridden or subscribed)."""

    def on_quote(self, quote: Quote) -> None:
        """Called for each quote snapshot."""

    def on_timer(self, timer: TimerFired) -> None:
        """Called when a timer set with :meth:`set_timer` comes due."""

    def on_fill(self, fill: OrderFilled) -> None:
        """Called when one of this strategy's orders fills (wholly or in part)."""

    def on_order(self, event: Event) -> None:
        """Called for every other event of this strategy's orders: OrderAccepted,
        OrderRejected, OrderCancelled, OrderExpired, OrderModified, OrderModifyRejected; and
        for the broker-wide TradingHalted / TradingResumed of the kill switch."""

    def on_feed_event(self, event: Event) -> None:
        """Called for feed-health notifications (connected, disconnected, stale, gap, warm-up
        started and completed, ...)."""

    # -- warm-up ---------------------------------------------------------------------------

    def warmup_bars(self) -> int:
        """Final bars of history per series this strategy needs before live data; default 0.

        Live and paper runs with a REST API fetch the largest need of their strategies before
        connecting and deliver those bars through ``on_bar`` as usual, between a
        ``WarmupStarted`` and a ``WarmupCompleted`` (``on_feed_event``). Meanwhile
        :attr:`is_warming_up` is true and every new order comes back rejected (``on_order``
        gets ``OrderRejected`` with reason ``warmup``). Backtests have no warm-up phase: the
        data's first bars warm the indicators, as always.
        """
        return 0

    @property
    def is_warming_up(self) -> bool:
        """True while history is being replayed before live data; orders are refused then."""
        return self._warming_up

    def on_stop(self) -> None:
        """Called once after the last event when the run ends normally or by ``stop()``."""

    # -- parameters ------------------------------------------------------------------------

    @classmethod
    def parameters(cls) -> dict[str, Param[Any]]:
        """The declared parameters, by name."""
        return declared_params(cls)

    @property
    def params(self) -> dict[str, Any]:
        """The values this instance runs with."""
        return dict(self._param_values)

    # -- data ------------------------------------------------------------------------------

    def subscribe(self, event_type: type[Event], symbol: str | None = None) -> None:
        """Receive ``event_type`` events (of ``symbol`` only, if given).

        The first call for a type replaces the default of receiving all of that type.
        """
        bus = self._require(self._bus)
        handler = self._handler_for(event_type)
        self._subscribed_types.add(event_type)
        bus.subscribe(event_type, handler, symbol=symbol)

    @property
    def clock(self) -> Clock:
        """The run's clock: wall time live, event time in replay."""
        return self._require(self._clock)

    def set_timer(
        self,
        name: str,
        *,
        at: int | None = None,
        after: int | None = None,
        every: int | None = None,
    ) -> None:
        """Fire ``on_timer`` at time ``at``, or ``after`` ns from now, repeating ``every`` ns.

        A timer with the same name replaces the old one. With only ``every``, the first firing
        is one interval from now.
        """
        timers = self._require(self._timers)
        now = self.clock.now()
        if at is None:
            delay = after if after is not None else every
            if delay is None:
                raise ValueError("set_timer needs at=, after= or every=")
            at = now + delay
        timers.set(id(self), name, at, self._fire_timer, every=every)

    def cancel_timer(self, name: str) -> bool:
        """Cancel a pending timer; returns whether it was pending."""
        return self._require(self._timers).cancel(id(self), name)

    # -- orders and positions --------------------------------------------------------------
    #
    # Order entry never raises for market conditions: a refused order comes back REJECTED and
    # ``on_order`` receives an OrderRejected saying why. ValueError means a programming error
    # (quantity <= 0, a limit on a market order, bracket prices on the wrong sides).

    def buy(
        self,
        symbol: str,
        qty: float,
        *,
        limit: float | None = None,
        stop: float | None = None,
        tif: TimeInForce | str = "gtc",
    ) -> Order:
        """Buy ``qty`` of ``symbol``: at market, or with a ``limit`` and/or ``stop`` price.

        ``tif`` is ``"gtc"`` (default), ``"day"`` (expires at the session end), ``"ioc"`` or
        ``"fok"`` (only the first price the order meets counts). The fill rules are in
        docs/execution.md; with bars, a market order fills at the next bar's open.
        """
        if self._warming_up:
            return self._refused(symbol, [(OrderSide.BUY, qty, limit, stop, tif)])[0]
        broker = self._broker or self._unbound()
        return broker.submit(
            self.strategy_id, symbol, OrderSide.BUY, qty, limit=limit, stop=stop, tif=tif
        )

    def sell(
        self,
        symbol: str,
        qty: float,
        *,
        limit: float | None = None,
        stop: float | None = None,
        tif: TimeInForce | str = "gtc",
    ) -> Order:
        """Sell ``qty`` of ``symbol`` (selling short if flat); options as for :meth:`buy`."""
        if self._warming_up:
            return self._refused(symbol, [(OrderSide.SELL, qty, limit, stop, tif)])[0]
        broker = self._broker or self._unbound()
        return broker.submit(
            self.strategy_id, symbol, OrderSide.SELL, qty, limit=limit, stop=stop, tif=tif
        )

    def close(self, symbol: str) -> Order | None:
        """Submit a market order that flattens the position in ``symbol``; None if flat."""
        qty = self.position(symbol).qty
        if qty > 0:
            return self.sell(symbol, qty)
        if qty < 0:
            return self.buy(symbol, -qty)
        return None

    def bracket(
        self,
        symbol: str,
        side: OrderSide | str,
        qty: float,
        *,
        entry_limit: float | None = None,
        take_profit: float,
        stop_loss: float,
        tif: TimeInForce | str = "gtc",
    ) -> Bracket:
        """Enter ``qty`` (at market, or at ``entry_limit``) with a take-profit limit and a
        stop-loss stop on the other side, linked one-cancels-other; they work once the entry
        fills, for what it filled. ``tif`` applies to the entry; the exits are ``gtc``.
        """
        if self._warming_up:
            from .execution import Bracket

            exit_side = OrderSide.SELL if _side(side) is OrderSide.BUY else OrderSide.BUY
            legs = [
                (side, qty, entry_limit, None, tif),
                (exit_side, qty, take_profit, None, "gtc"),
                (exit_side, qty, None, stop_loss, "gtc"),
            ]
            entry, take, stop = self._refused(symbol, legs, linked=True, bracket=True)
            return Bracket(entry, take, stop)
        return self._require(self._broker).submit_bracket(
            self.strategy_id,
            symbol,
            side,
            qty,
            take_profit=take_profit,
            stop_loss=stop_loss,
            entry_limit=entry_limit,
            tif=tif,
        )

    def oco(
        self,
        symbol: str,
        side: OrderSide | str,
        qty: float,
        *,
        limit: float,
        stop: float,
        tif: TimeInForce | str = "gtc",
    ) -> tuple[Order, Order]:
        """A limit and a stop on the same side, one-cancels-other (e.g. take a profit or stop
        out of a position); returns (limit order, stop order)."""
        if self._warming_up:
            legs = [(side, qty, limit, None, tif), (side, qty, None, stop, tif)]
            first, second = self._refused(symbol, legs, linked=True)
            return first, second
        return self._require(self._broker).submit_oco(
            self.strategy_id, symbol, side, qty, limit=limit, stop=stop, tif=tif
        )

    def cancel(self, order: Order) -> bool:
        """Cancel ``order``; False if it is no longer open. ``on_order`` gets OrderCancelled."""
        return self._require(self._broker).cancel(order)

    def cancel_all(self, symbol: str | None = None) -> int:
        """Cancel this strategy's open orders (in ``symbol``); returns how many."""
        return self._require(self._broker).cancel_all(strategy_id=self.strategy_id, symbol=symbol)

    def modify(
        self,
        order: Order,
        *,
        qty: float | None = None,
        limit: float | None = None,
        stop: float | None = None,
    ) -> None:
        """Change a working order; ``on_order`` gets OrderModified or OrderModifyRejected."""
        self._require(self._broker).modify(order, qty=qty, limit=limit, stop=stop)

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """This strategy's orders that may still fill (in ``symbol``), oldest first."""
        orders = self._require(self._broker).open_orders(symbol)
        return [o for o in orders if o.strategy_id == self.strategy_id]

    def position(self, symbol: str) -> Position:
        """The current position in ``symbol`` (flat if never traded)."""
        # Called on most bars by typical strategies: one call, not three.
        return (self._broker or self._unbound()).portfolio.position(symbol)

    @property
    def portfolio(self) -> Portfolio:
        """Cash, positions and equity of the account this strategy trades."""
        return self._require(self._broker).portfolio

    # -- engine wiring ---------------------------------------------------------------------

    def _bind(
        self, bus: EventBus, broker: SimulatedBroker, clock: Clock, timers: TimerQueue
    ) -> None:
        if self._bus is not None:
            raise EngineError(f"strategy {self.strategy_id!r} is already registered with an engine")
        self._bus, self._broker, self._clock, self._timers = bus, broker, clock, timers

    def _listen_to_orders(self) -> None:
        """Just before ``on_start``: subscribe to this strategy's timers and, if it has a hook
        for them (overridden, or wrapped on the instance by a test capture), to the events of
        its own orders and the kill switch's. Without a subscriber the broker skips building
        events nobody would read."""
        self._require(self._bus).subscribe(TimerFired, self._on_own_timer)
        for hook in ("on_order", "on_fill"):
            if getattr(getattr(self, hook), "__func__", None) is not getattr(Strategy, hook):
                self._require(self._broker).register_owner(self.strategy_id, self._on_order_event)
                return

    def _subscribe_defaults(self) -> None:
        """After ``on_start``: subscribe overridden hooks the strategy did not narrow itself."""
        bus = self._require(self._bus)
        cls = type(self)
        defaults: list[tuple[type[Event], str]] = [
            (Bar, "on_bar"),
            (Quote, "on_quote"),
            (BarUpdate, "on_bar_update"),
        ]
        defaults += [(etype, "on_feed_event") for etype in FEED_EVENTS]
        for etype, hook in defaults:
            if etype in self._subscribed_types:
                continue
            if getattr(cls, hook) is not getattr(Strategy, hook):
                bus.subscribe(etype, self._handler_for(etype))

    def _handler_for(self, event_type: type[Event]) -> Any:
        if issubclass(event_type, Bar):
            return self.on_bar
        if issubclass(event_type, Quote):
            return self.on_quote
        if issubclass(event_type, BarUpdate):
            return self.on_bar_update
        if issubclass(event_type, FEED_EVENTS):
            return self.on_feed_event
        raise ValueError(f"strategies cannot subscribe to {event_type.__name__}")

    def _fire_timer(self, name: str, due: int) -> None:
        """The timer queue's callback: the firing goes out on the bus, where observers see it
        too, and comes back to :meth:`_on_own_timer`."""
        event = TimerFired(name=name, ts_event=due, ts_recv=due, strategy_id=self.strategy_id)
        self._require(self._bus).publish(event)

    def _on_own_timer(self, event: TimerFired) -> None:
        if event.strategy_id == self.strategy_id:
            self.on_timer(event)

    def _on_order_event(self, event: Event) -> None:
        if isinstance(event, OrderFilled):
            self.on_fill(event)
        else:
            self.on_order(event)

    def _refused(
        self,
        symbol: str,
        legs: list[tuple[OrderSide | str, float, float | None, float | None, TimeInForce | str]],
        *,
        linked: bool = False,
        bracket: bool = False,
    ) -> list[Order]:
        """Orders placed during warm-up: created and rejected by the broker (reason
        ``warmup``), so ``on_order``, results and journals see them as any refused order."""
        return self._require(self._broker).refuse(
            self.strategy_id, symbol, legs, WARMUP_REJECTION, linked=linked, bracket=bracket
        )

    def _set_warming_up(self, warming_up: bool) -> None:
        """Called by the engine on WarmupStarted / WarmupCompleted."""
        self._warming_up = warming_up

    def _require(self, value: _T | None) -> _T:
        return self._unbound() if value is None else value

    def _unbound(self) -> NoReturn:
        raise EngineError(f"strategy {self.strategy_id!r} is not registered with an engine yet")


def _side(side: OrderSide | str) -> OrderSide:
    from .execution._orders import parse_side

    return parse_side(side)
