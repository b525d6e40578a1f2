"""The Strategy base class: what users subclass.

Hooks are plain ``def`` methods, called by the engine's one dispatcher task in event order; they
must not block. Order entry (``buy``, ``sell``, ``close``, ``bracket``, ``oco``, ``cancel``,
``modify``, and sizing: ``order_target_percent``, ``order_target_value``,
``order_target_qty``, ``size=``; rules in docs/execution.md), positions and the clock are set
up when the engine registers the strategy, so the same class runs in a backtest, over a
recording and live, and can be unit-tested by feeding it events directly.

By default a strategy receives every :class:`Bar` and :class:`Quote` of the run. Calling
:meth:`Strategy.subscribe` in ``on_start`` narrows that to the types and symbols named, or asks
for bars of another interval, built from finer bars or quotes (:mod:`._aggregation`);
:meth:`Strategy.history` keeps the last bars received (:mod:`._history`). Rules: docs/bars.md.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, TypeVar, overload

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
from ._history import BarHistory, BarWindow
from ._intervals import Interval
from ._params import Param, declared_params

if TYPE_CHECKING:
    from typing import Unpack

    from ._aggregation import IntervalBars
    from ._bus import EventBus
    from ._plots import PlotRecorder
    from .execution import Bracket, Order, SimulatedBroker, TimeInForce
    from .execution._orders import TriggerOptions, TriggerTerms
    from .execution._sizing import SizeOptions
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

    Data: every bar and quote of the run by default; :meth:`subscribe` narrows it or asks for
    bars of another interval (``self.subscribe(Bar, "NASDAQ:AAPL", interval="5m")``), built
    from finer bars or quotes and delivered to ``on_bar`` like any bar; :meth:`history` gives
    the last ``n`` bars received as a read-only window with column views. Both are set up in
    ``on_start``; the rules are in docs/bars.md.
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
        self._interval_bars: IntervalBars | None = None
        #: (symbol or None, interval label) of each interval subscription.
        self._intervals: dict[tuple[str | None, str], Interval] = {}
        #: Created by the first ``history`` call; until then bars go straight to ``on_bar``.
        self._history: BarHistory | None = None
        #: Set by the engine between WarmupStarted and WarmupCompleted (see warmup_bars).
        self._warming_up = False
        #: Where ``plot`` records, in a run that keeps plots; None: ``plot`` does nothing.
        self._plots: PlotRecorder | None = None
        #: True in a run that keeps what :meth:`plot` records (set by the run; read only).
        #: ``if self.plotting:`` skips work done only for the chart in runs without one.
        self.plotting = False
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

    # -- state across restarts -------------------------------------------------------------

    def on_save(self) -> dict[str, Any]:
        """Return the state a restarted paper session needs to carry on; default nothing.

        A paper session with a journal (``tradewire paper --journal BOOK``) calls this after
        every step it delivers (a batch of market data, a round of timers) and, when the
        result changed, journals it with the book in the same record, so a session killed at
        any moment restarts from a book and a state that belong together. The dict must be
        JSON-serialisable (numbers, strings, booleans, None, lists, dicts with string keys).
        Keep it small: it is written whenever it changes.
        """
        return {}

    def on_load(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`on_save` returned before a restart.

        Called right after ``on_start`` when the session's journal holds a state for this
        strategy (by name), before any event. Bars the session had already delivered before
        the restart do not reach ``on_bar`` again (docs/execution.md, "Restarts").
        """

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

    def subscribe(
        self,
        event_type: type[Event],
        symbol: str | None = None,
        *,
        interval: str | Interval | None = None,
    ) -> None:
        """Receive ``event_type`` events (of ``symbol`` only, if given).

        The first call for a type replaces the default of receiving all of that type.

        With ``interval`` (``"5m"``, ``"1h"``, ``"1D"``; bars only), receive the bars of that
        interval instead: built from the symbol's finer bars (or its quotes, while no bars
        come), or the feed's own bars when it sends that interval. They reach ``on_bar`` and
        nothing else of the strategy; a plain ``subscribe(Bar, ...)`` never receives them.
        A strategy may ask for several intervals of a symbol; strategies asking for the same
        share one aggregator. Ticks and months cannot be built (ValueError). Rules and timing:
        docs/bars.md.
        """
        bus = self._require(self._bus)
        if interval is None:
            handler = self._handler_for(event_type)
            self._subscribed_types.add(event_type)
            bus.subscribe(event_type, handler, symbol=symbol)
            return
        if event_type is not Bar:
            raise ValueError(f"only bars have an interval, not {event_type.__name__}")
        parsed = _interval(interval)
        key = (symbol, parsed.label)
        if key not in self._intervals:
            self._require(self._interval_bars).request(symbol, parsed)
            self._intervals[key] = parsed
            bus.subscribe(Bar, self._bar_handler(parsed.label), symbol=symbol, interval=key[1])
        self._subscribed_types.add(Bar)

    def unsubscribe(
        self,
        event_type: type[Event],
        symbol: str | None = None,
        *,
        interval: str | Interval | None = None,
    ) -> None:
        """Stop receiving what :meth:`subscribe` with the same arguments asked for (nothing
        happens if it was not asked for). An interval nobody asks for any more stops being
        built; its bar in progress is dropped."""
        bus = self._require(self._bus)
        if interval is None:
            bus.unsubscribe(event_type, self._handler_for(event_type), symbol=symbol)
            return
        label = _interval(interval).label
        parsed = self._intervals.pop((symbol, label), None)
        if parsed is not None:
            bus.unsubscribe(Bar, self._bar_handler(label), symbol=symbol, interval=label)
            self._require(self._interval_bars).release(symbol, parsed)

    def history(self, symbol: str, n: int, interval: str | Interval | None = None) -> BarWindow:
        """The last ``n`` final bars of ``symbol`` this strategy received, oldest first.

        ``interval`` picks the bars of an interval subscription (``"5m"``); None, those of the
        plain bar subscriptions (the default one included). The window is live and read-only:
        ``len``, indexing (``window[-1]`` is the newest bar: in ``on_bar``, the bar being
        delivered), iteration, and column views ``open``, ``high``, ``low``, ``close``,
        ``volume``, ``ts_event`` (read-only memoryviews, which numpy reads without a copy). It
        holds fewer than ``n`` bars until ``n`` have come; warm-up bars count.

        The first call for a series starts keeping it, sized to ``n``: bars received before
        are not kept, so call it in ``on_start``. A later call with a larger ``n`` enlarges it.
        Each bar costs the same whatever ``n``; memory is bounded by the largest ``n``.
        """
        history = self._history
        if history is not None:
            window = history.windows.get((symbol, n, interval))
            if window is not None:
                return window
        return self._declare_history(symbol, n, interval)

    def _declare_history(self, symbol: str, n: int, interval: str | Interval | None) -> BarWindow:
        bus = self._require(self._bus)
        label = None if interval is None else _interval(interval).label
        history = self._history
        if history is None:
            history = self._history = BarHistory(self.on_bar)
            # From now on every bar subscription of this strategy stores the bar before
            # on_bar sees it; each keeps its turn in the delivery order.
            for subscribed in (None, *{key[1] for key in self._intervals}):
                bus.replace(Bar, self.on_bar, history.handler(subscribed), interval=subscribed)
        window = history.window(symbol, n, label)
        history.windows[(symbol, n, interval)] = window
        return window

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
        is one interval from now. Time is the strategy's clock: event time in a backtest or a
        replay, wall time live. A paper session with ``--record`` records each firing with its
        place among the market events, and a replay of that recording fires this strategy's
        timers there (not by event time), so its orders and fills are the session's.
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

    # -- plots -----------------------------------------------------------------------------

    def plot(
        self, name: str, value: float | None, panel: str = "price", symbol: str | None = None
    ) -> None:
        """Record ``value`` of the series ``name`` now (on the strategy's clock), for the report.

        ``panel="price"`` draws the series over ``symbol``'s candles; any other name draws it
        in a panel of that name below them (``self.plot("rsi", rsi, panel="rsi")``), one
        panel per name. ``symbol`` picks the symbol's chart; without it the series goes on
        every symbol's chart, which is right for a strategy that trades one. ``None`` leaves
        a gap; a second value at the same time replaces the first; a series keeps the panel
        of its first call.

        Recorded only in runs that keep plots (``backtest(..., plots=True)``, as
        ``tradewire backtest --report`` runs; the values end up in :attr:`RunResult.plots`,
        and :attr:`plotting` is true); elsewhere it returns at once. See docs/reports.md.
        """
        plots = self._plots
        if plots is not None:
            plots.record(name, value, panel, symbol, (self._clock or self._unbound()).now())

    # -- orders and positions --------------------------------------------------------------
    #
    # Order entry never raises for market conditions: a refused order comes back REJECTED and
    # ``on_order`` receives an OrderRejected saying why. ValueError means a programming error
    # (quantity <= 0, a limit on a market order, bracket prices on the wrong sides, a trailing
    # offset with a touch price).
    #
    # ``buy`` and ``sell`` gather ``trail``, ``trail_percent``, ``limit_offset``, ``touch``
    # and ``size`` in ``**trigger`` rather than naming them: every keyword-only default costs
    # each call a dictionary look-up, and four more named ones made every market order
    # measurably slower.

    @overload
    def buy(
        self,
        symbol: str,
        qty: float,
        *,
        limit: float | None = None,
        stop: float | None = None,
        tif: TimeInForce | str = "gtc",
        **trigger: Unpack[TriggerOptions],
    ) -> Order: ...

    @overload
    def buy(
        self,
        symbol: str,
        *,
        size: float,
        limit: float | None = None,
        stop: float | None = None,
        tif: TimeInForce | str = "gtc",
        **trigger: Unpack[TriggerOptions],
    ) -> Order | None: ...

    def buy(
        self,
        symbol: str,
        # The overloads above type it. Without size=, a qty left out reaches the broker's
        # check as None, which says so: the path of every market order stays as it was.
        qty: Any = None,
        *,
        limit: float | None = None,
        stop: float | None = None,
        tif: TimeInForce | str = "gtc",
        **trigger: Unpack[SizeOptions],
    ) -> Order | None:
        """Buy ``qty`` of ``symbol``: at market, or with a ``limit`` and/or ``stop`` price.

        ``size=`` instead of ``qty`` buys that fraction of equity (0 < size <= 1: 0.95 is
        95 %) at the symbol's last price, in whole lots and within the available cash
        (docs/execution.md, section 8); it returns None when that comes to less than a lot.

        ``trail=`` (a price offset) or ``trail_percent=`` (a fraction of the price: 0.02 is
        2 %) makes a trailing stop: its stop follows the price down at that distance (from
        ``stop`` if given, else from the last price) and never rises; ``limit_offset=`` makes
        it a trailing stop-limit whose limit is that far above the stop. ``touch=`` makes a
        market-if-touched order: a market order once the price falls to ``touch``.

        ``tif`` is ``"gtc"`` (default), ``"day"`` (expires at the session end), ``"ioc"`` or
        ``"fok"`` (only the first price the order meets counts). The fill rules are in
        docs/execution.md; with bars, a market order fills at the next bar's open.
        """
        if trigger:
            return self._send_triggered(OrderSide.BUY, symbol, qty, limit, stop, tif, trigger)
        if self._warming_up:
            return self._refused(symbol, [(OrderSide.BUY, qty, limit, stop, tif)])[0]
        broker = self._broker or self._unbound()
        return broker.submit(
            self.strategy_id, symbol, OrderSide.BUY, qty, limit=limit, stop=stop, tif=tif
        )

    @overload
    def sell(
        self,
        symbol: str,
        qty: float,
        *,
        limit: float | None = None,
        stop: float | None = None,
        tif: TimeInForce | str = "gtc",
        **trigger: Unpack[TriggerOptions],
    ) -> Order: ...

    @overload
    def sell(
        self,
        symbol: str,
        *,
        size: float,
        limit: float | None = None,
        stop: float | None = None,
        tif: TimeInForce | str = "gtc",
        **trigger: Unpack[TriggerOptions],
    ) -> Order | None: ...

    def sell(
        self,
        symbol: str,
        # The overloads above type it. Without size=, a qty left out reaches the broker's
        # check as None, which says so: the path of every market order stays as it was.
        qty: Any = None,
        *,
        limit: float | None = None,
        stop: float | None = None,
        tif: TimeInForce | str = "gtc",
        **trigger: Unpack[SizeOptions],
    ) -> Order | None:
        """Sell ``qty`` of ``symbol`` (selling short if flat); options as for :meth:`buy`,
        mirrored: a trailing stop follows the price up and sells when it falls back by the
        offset (a trailing stop-limit's limit is below the stop); a market-if-touched order
        sells once the price rises to ``touch``. ``size=`` sells that fraction of equity
        (not limited by cash: a short sale's proceeds are cash)."""
        if trigger:
            return self._send_triggered(OrderSide.SELL, symbol, qty, limit, stop, tif, trigger)
        if self._warming_up:
            return self._refused(symbol, [(OrderSide.SELL, qty, limit, stop, tif)])[0]
        broker = self._broker or self._unbound()
        return broker.submit(
            self.strategy_id, symbol, OrderSide.SELL, qty, limit=limit, stop=stop, tif=tif
        )

    def _send_triggered(
        self,
        side: OrderSide,
        symbol: str,
        qty: float | None,
        limit: float | None,
        stop: float | None,
        tif: TimeInForce | str,
        trigger: SizeOptions,
    ) -> Order | None:
        """:meth:`buy` / :meth:`sell` with trailing, touch or size keyword arguments."""
        from .execution._orders import check_quantity, trigger_terms_of

        if "size" in trigger:
            trigger = trigger.copy()
            size = trigger.pop("size")
            if size is not None:
                return self._send_sized(side, symbol, qty, size, limit, stop, tif, trigger)
        terms = trigger_terms_of(side.value, trigger, limit=limit, stop=stop, tif=tif)
        qty = check_quantity(qty)
        if self._warming_up:
            return self._refused(symbol, [(side, qty, limit, stop, tif)], terms=[terms])[0]
        broker = self._broker or self._unbound()
        sid = self.strategy_id
        if terms is None:  # all of them None: an ordinary order
            return broker.submit(sid, symbol, side, qty, limit=limit, stop=stop, tif=tif)
        if terms.touch_price is not None:
            return broker.submit_if_touched(
                sid, symbol, side, qty, touch=terms.touch_price, tif=tif
            )
        return broker.submit_trailing_stop(
            sid,
            symbol,
            side,
            qty,
            trail=terms.trail_offset,
            trail_percent=terms.trail_percent,
            limit_offset=terms.limit_offset,
            stop=stop,
            tif=tif,
        )

    def _send_sized(
        self,
        side: OrderSide,
        symbol: str,
        qty: float | None,
        size: float,
        limit: float | None,
        stop: float | None,
        tif: TimeInForce | str,
        trigger: TriggerOptions,
    ) -> Order | None:
        """:meth:`buy` / :meth:`sell` with ``size=``: the quantity from
        :mod:`.execution._sizing`."""
        from .execution._sizing import fraction_order

        if qty is not None:
            raise ParameterError(
                f"{side.value}() takes a quantity or size= (a fraction of equity), not both: "
                f"got qty={qty!r} and size={size!r}"
            )
        sized = fraction_order(self._broker or self._unbound(), symbol, side, size)
        if not sized:
            return None
        send = self.buy if side is OrderSide.BUY else self.sell
        return send(symbol, sized, limit=limit, stop=stop, tif=tif, **trigger)

    def order_target_qty(self, symbol: str, qty: float) -> Order | None:
        """Send the market order that takes the position in ``symbol`` to ``qty`` (signed:
        negative is short); None when it is there already.

        The position counts the unfilled part of the account's open market orders in the
        symbol, so calling this on every bar sends one order, not one per bar while the
        first is in flight; orders with a price condition (limit, stop, trailing, touched,
        bracket exits) are not counted. ``qty`` is used as given: neither rounded to lots
        nor limited by cash. Rules: docs/execution.md, section 8.
        """
        from .execution._sizing import target_qty_order

        return self._send_signed(
            symbol, target_qty_order(self._broker or self._unbound(), symbol, qty)
        )

    def order_target_value(self, symbol: str, value: float) -> Order | None:
        """Send the market order that moves the value of the position in ``symbol`` toward
        ``value`` (in account currency; negative is short); None when no whole lot would.

        Sized at the symbol's last price (what the portfolio marks with); the quantity is the
        difference of values over that price, rounded toward zero to whole lots (so the
        position never passes the target), a buy limited by the available cash; 0 closes the
        whole position. The position counts open market orders as in
        :meth:`order_target_qty`. :class:`~framework.ConfigError` while the symbol has no
        price. Rules: docs/execution.md, section 8.
        """
        from .execution._sizing import target_value_order

        return self._send_signed(
            symbol, target_value_order(self._broker or self._unbound(), symbol, value)
        )

    def order_target_percent(self, symbol: str, fraction: float) -> Order | None:
        """Send the market order that moves the position in ``symbol`` toward ``fraction`` of
        equity (cash plus positions at their last prices; -1 <= fraction <= 1, negative is
        short: 0.9 is 90 % long); None when no whole lot would. As backtrader's
        ``order_target_percent``: :meth:`order_target_value` of ``fraction`` × equity.
        """
        from .execution._sizing import target_percent_order

        return self._send_signed(
            symbol, target_percent_order(self._broker or self._unbound(), symbol, fraction)
        )

    def _send_signed(self, symbol: str, qty: float) -> Order | None:
        if qty > 0:
            return self.buy(symbol, qty)
        if qty < 0:
            return self.sell(symbol, -qty)
        return None

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
        trail: float | None = None,
        trail_percent: float | None = None,
        tif: TimeInForce | str = "gtc",
    ) -> Bracket:
        """Enter ``qty`` (at market, or at ``entry_limit``) with a take-profit limit and a
        stop-loss stop on the other side, linked one-cancels-other; they work once the entry
        fills, for what it filled. ``tif`` applies to the entry; the exits are ``gtc``.
        With ``trail`` or ``trail_percent`` the stop-loss trails, starting at ``stop_loss``.
        """
        if self._warming_up:
            from .execution import Bracket

            exit_side = OrderSide.SELL if _side(side) is OrderSide.BUY else OrderSide.BUY
            legs = [
                (side, qty, entry_limit, None, tif),
                (exit_side, qty, take_profit, None, "gtc"),
                (exit_side, qty, None, stop_loss, "gtc"),
            ]
            terms = [None, None, _trailing_terms(stop_loss, trail, trail_percent, "gtc")]
            entry, take, stop = self._refused(symbol, legs, linked=True, bracket=True, terms=terms)
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
            trail=trail,
            trail_percent=trail_percent,
        )

    def oco(
        self,
        symbol: str,
        side: OrderSide | str,
        qty: float,
        *,
        limit: float,
        stop: float,
        trail: float | None = None,
        trail_percent: float | None = None,
        tif: TimeInForce | str = "gtc",
    ) -> tuple[Order, Order]:
        """A limit and a stop on the same side, one-cancels-other (e.g. take a profit or stop
        out of a position); returns (limit order, stop order). With ``trail`` or
        ``trail_percent`` the stop trails, starting at ``stop``."""
        if self._warming_up:
            legs = [(side, qty, limit, None, tif), (side, qty, None, stop, tif)]
            terms = [None, _trailing_terms(stop, trail, trail_percent, tif)]
            first, second = self._refused(symbol, legs, linked=True, terms=terms)
            return first, second
        return self._require(self._broker).submit_oco(
            self.strategy_id,
            symbol,
            side,
            qty,
            limit=limit,
            stop=stop,
            tif=tif,
            trail=trail,
            trail_percent=trail_percent,
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
        self,
        bus: EventBus,
        broker: SimulatedBroker,
        clock: Clock,
        timers: TimerQueue,
        interval_bars: IntervalBars,
    ) -> None:
        if self._bus is not None:
            raise EngineError(f"strategy {self.strategy_id!r} is already registered with an engine")
        self._bus, self._broker, self._clock, self._timers = bus, broker, clock, timers
        self._interval_bars = interval_bars

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
            return self._bar_handler(None)
        if issubclass(event_type, Quote):
            return self.on_quote
        if issubclass(event_type, BarUpdate):
            return self.on_bar_update
        if issubclass(event_type, FEED_EVENTS):
            return self.on_feed_event
        raise ValueError(f"strategies cannot subscribe to {event_type.__name__}")

    def _bar_handler(self, interval: str | None) -> Any:
        """``on_bar``, or once the strategy keeps a history, the recorder in front of it."""
        history = self._history
        return self.on_bar if history is None else history.handler(interval)

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
        terms: list[TriggerTerms | None] | None = None,
    ) -> list[Order]:
        """Orders placed during warm-up: created and rejected by the broker (reason
        ``warmup``), so ``on_order``, results and journals see them as any refused order."""
        return self._require(self._broker).refuse(
            self.strategy_id,
            symbol,
            legs,
            WARMUP_REJECTION,
            linked=linked,
            bracket=bracket,
            terms=terms or (),
        )

    def _keep_plots(self) -> PlotRecorder:
        """Before a run that keeps plots: make :meth:`plot` record (see framework/_plots.py)."""
        from ._plots import PlotRecorder

        if self._plots is None:
            self._plots = PlotRecorder(self.strategy_id)
        self.plotting = True
        return self._plots

    def _set_warming_up(self, warming_up: bool) -> None:
        """Called by the engine on WarmupStarted / WarmupCompleted."""
        self._warming_up = warming_up

    def _require(self, value: _T | None) -> _T:
        return self._unbound() if value is None else value

    def _unbound(self) -> NoReturn:
        raise EngineError(f"strategy {self.strategy_id!r} is not registered with an engine yet")


def _interval(interval: str | Interval) -> Interval:
    return interval if isinstance(interval, Interval) else Interval.parse(interval)


def _side(side: OrderSide | str) -> OrderSide:
    from .execution._orders import parse_side

    return parse_side(side)


def _trailing_terms(
    stop: float, trail: float | None, trail_percent: float | None, tif: TimeInForce | str
) -> TriggerTerms | None:
    """The terms of a trailing stop leg of a bracket or an OCO pair; None if it does not trail."""
    from .execution._orders import TimeInForce, check_trigger_terms

    return check_trigger_terms(
        limit=None,
        stop=stop,
        trail=trail,
        trail_percent=trail_percent,
        limit_offset=None,
        touch=None,
        tif=TimeInForce.parse(tif),
    )
