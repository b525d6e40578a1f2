"""The simulated broker: one implementation for backtests, replays and paper trading.

The broker subscribes to bars and quotes before any strategy (the engine attaches it first),
so for each market event it first updates the orders of that symbol, then marks the portfolio,
then strategies run. Nothing a strategy does while handling an event can fill against that
same event: a bar is only matched against orders active at its open, a quote against orders
that were working before it arrived.

Per market event of a symbol with working orders, in this order:

1. scheduled changes whose time has come, earliest first: activation after latency
   (:class:`~framework.OrderAccepted`), cancels and modifications in flight, ``day`` expiry;
2. matching by the fill rules of :mod:`._fill_models` (exact rules: docs/execution.md);
   then the trailing stops of the symbol move with the bar's close or the quote's mark (only
   for symbols that have one working: the others skip this step);
3. the resulting events are journalled (when a :class:`PaperJournal` is attached) and then
   published on the bus, in the order they happened: subscribers get them in subscription
   order (listeners added before the run, then the strategies, each only its own orders'
   events, then the engine's observers).

A symbol without working orders costs one dict lookup and a portfolio mark per bar.
Scheduled changes are evaluated per symbol, at that symbol's next market event, and carry the
exact time they were due as ``ts_event``.

Finished orders leave the live book. Once an order and every order linked to it (its bracket,
its OCO group) have reached a final status, nothing can change them any more: at the end of
that transaction they move into compact columns (:data:`ORDER_LAYOUT`, about 30 bytes a
filled market order instead of 400+), so a run of millions of orders stays small.
:meth:`~SimulatedBroker.order` and :meth:`~SimulatedBroker.orders` still answer for them with
equal copies; the objects the strategy was given stay as they ended.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from math import inf

import attrs

from .._bus import EventBus, Route
from .._clock import Clock
from .._drafts import unchecked_constructor
from .._events import (
    Bar,
    Event,
    OrderAccepted,
    OrderCancelled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderModified,
    OrderModifyRejected,
    OrderRejected,
    OrderSide,
    Quote,
    TradingHalted,
    TradingResumed,
)
from ..portfolio import Portfolio
from ..portfolio._records import FLAG, FLOAT, INT, TEXT, RecordLayout, Records, one_of, sparse
from ._costs import CommissionModel, NoCommission, NoSlippage, SlippageModel
from ._fill_models import (
    FillModel,
    match_bar,
    match_open,
    match_quote,
    trailed_stop,
    worse_first,
)
from ._orders import (
    OPEN_STATUSES,
    QTY_EPSILON,
    TRAILING_TYPES,
    Bracket,
    Order,
    OrderStatus,
    OrderType,
    PendingChange,
    TimeInForce,
    TriggerTerms,
    check_price,
    check_quantity,
    check_trigger_terms,
    new_order,
    order_type_for,
    parse_side,
)
from ._risk import OrderIntent, Rejection, RiskLimits, SessionLoss, check_entry
from ._sessions import DailySessions
from ._sizing import LotSizes

OrderEventHandler = Callable[[Event], None]
#: What the broker publishes: the events of orders, and the kill switch's halt and resume.
BROKER_EVENTS: tuple[type[Event], ...] = (OrderEvent, TradingHalted, TradingResumed)
#: Called once per broker transaction with the orders it changed and the events it produced,
#: before any of those events is delivered (see :class:`PaperJournal`).
TransactionHook = Callable[[Sequence[Order], Sequence[Event]], None]

#: ``strategy_id`` of the orders the kill switch submits to flatten positions.
KILL_SWITCH_OWNER = "kill_switch"

#: How a broker keeps its finished orders. A market order pays nothing for the sparse fields.
ORDER_LAYOUT: RecordLayout[Order] = RecordLayout(
    Order,
    order_id=sparse(row_offset=1),  # the broker files order n at row n - 1
    strategy_id=TEXT,
    symbol=TEXT,
    side=one_of(OrderSide),
    qty=FLOAT,
    type=one_of(OrderType),
    limit_price=sparse(),
    stop_price=sparse(),
    trigger_terms=sparse(),
    tif=one_of(TimeInForce),
    ts_submitted=INT,
    ts_active=sparse(like="ts_submitted"),  # unless there is latency
    expire_at=sparse(),
    status=one_of(OrderStatus),
    filled_qty=sparse(like="qty"),  # once filled
    filled_value=FLOAT,
    commission=sparse(0.0),
    is_triggered=FLAG,
    parent_id=sparse(),
    child_ids=sparse(()),
    oco_id=sparse(),
    reason=sparse(""),
    # An order that filled while a cancel or modification was in flight keeps it.
    pending=sparse((), freeze=tuple, thaw=list),
)

_IMMEDIATE = (TimeInForce.IOC, TimeInForce.FOK)
_new_fill = unchecked_constructor(OrderFilled)  # OrderFilled has no checks to skip, only cost
_NANOS_PER_MILLI = 1_000_000


def _non_negative_ms(_instance: object, _attribute: object, value: float) -> None:
    if not value >= 0:
        raise ValueError(f"latency_ms must be >= 0, got {value!r}")


@attrs.frozen(slots=True, kw_only=True)
class BrokerConfig:
    """How the simulated broker fills and charges; every part is optional.

    ``latency_ms``: an order (and a cancel or modification) reaches the market this long
    after it was sent, in event time. ``sessions`` decides when ``day`` orders expire and when
    the daily loss limit resets. ``lots`` is the quantity step of sized orders
    (``order_target_percent``, ``buy(size=...)``; docs/execution.md, section 8).
    """

    commission: CommissionModel = attrs.field(factory=NoCommission)
    slippage: SlippageModel = attrs.field(factory=NoSlippage)
    risk: RiskLimits = attrs.field(factory=RiskLimits)
    fill_model: FillModel = attrs.field(factory=FillModel)
    latency_ms: float = attrs.field(default=0.0, converter=float, validator=_non_negative_ms)
    sessions: DailySessions = attrs.field(factory=DailySessions)
    lots: LotSizes = attrs.field(factory=LotSizes)


@attrs.frozen(slots=True, kw_only=True)
class BrokerStatistics:
    """Counts of order events so far, and the current state."""

    orders: int
    fills: int
    rejected: int
    cancelled: int
    expired: int
    modified: int
    open_orders: int
    halted: str | None


class SimulatedBroker:
    """Matches orders against the market events the engine passes through it.

    Order events are published on the engine's bus (:data:`BROKER_EVENTS`); a journal hooked
    in with :meth:`set_transaction_hook` sees each transaction first. Commands never raise
    for market conditions: a refused order is an :class:`~framework.OrderRejected` event.
    They raise ``ValueError`` only for programming errors (quantity <= 0, a limit price on a
    market order, ...).
    """

    # Slots, not a __dict__: past 29 attributes an instance dict stops sharing its keys with
    # the class, and every attribute read on the per-bar path gets slower (measured: 1.5% of
    # a backtest's instructions).
    __slots__ = (
        "_blank",
        "_bus",
        "_clock",
        "_commission",
        "_ended",
        "_fills",
        "_finished",
        "_halted",
        "_held",
        "_latency",
        "_listeners",
        "_matching",
        "_modifications",
        "_next_id",
        "_next_oco",
        "_oco",
        "_orders",
        "_outbox",
        "_owners",
        "_plain_risk",
        "_quote_sizes",
        "_risk",
        "_session_loss",
        "_sessions",
        "_slippage",
        "_touched",
        "_trailing",
        "_transaction_hook",
        "_working",
        "config",
        "portfolio",
    )

    def __init__(self, portfolio: Portfolio, config: BrokerConfig | None = None) -> None:
        self.portfolio = portfolio
        self.config = config = config or BrokerConfig()
        # None for the free models: most backtests have no costs, and fills are a hot path.
        self._commission = (
            None if isinstance(config.commission, NoCommission) else config.commission
        )
        self._slippage = None if isinstance(config.slippage, NoSlippage) else config.slippage
        self._risk = config.risk
        self._quote_sizes = config.fill_model.quote_sizes
        self._latency = round(config.latency_ms * _NANOS_PER_MILLI)
        self._sessions = config.sessions
        self._session_loss = SessionLoss(config.sessions)
        self._clock: Clock | None = None
        self._next_id = 1
        self._next_oco = 1
        #: The live book: orders that are open, or linked to an open one.
        self._orders: dict[int, Order] = {}
        #: Finished orders, row ``order_id - 1``; rows of orders still live are blank.
        self._finished: Records[Order] = Records(ORDER_LAYOUT)
        self._blank: set[int] = set()  # ids whose row in _finished is blank
        self._ended: list[Order] = []  # reached a final status in this transaction
        self._working: dict[str, list[Order]] = {}
        self._held: dict[int, list[Order]] = {}
        self._oco: dict[int, list[Order]] = {}
        #: Symbols whose working orders include a trailing stop still to trail: only their
        #: market events pay for moving stops.
        self._trailing: set[str] = set()
        #: Where events go: the engine's bus once attached; until then a bus of its own, so
        #: a broker driven directly still tells its listeners.
        self._bus = EventBus()
        self._listeners: list[OrderEventHandler] = []
        #: Each owner's subscriptions (:meth:`register_owner`), to replace them.
        self._owners: dict[str, list[tuple[type[Event], OrderEventHandler]]] = {}
        self._outbox: list[Event] = []
        self._touched: dict[int, Order] = {}
        self._transaction_hook: TransactionHook | None = None
        self._halted: str | None = None
        self._fills = 0
        self._modifications = 0
        #: The working list being matched: finished orders leave it when matching ends.
        self._matching: list[Order] | None = None
        limits = config.risk
        #: Only the price and halt checks are on: no need to look at open orders.
        self._plain_risk = (
            limits.max_position is None
            and limits.max_order_value is None
            and limits.max_open_orders is None
            and limits.daily_loss_limit is None
            and not limits.long_only
        )

    # -- wiring ----------------------------------------------------------------------------

    def attach(self, bus: EventBus, clock: Clock) -> None:
        """Take market events from ``bus`` and publish order events on it. Call before
        strategies subscribe: fills come first."""
        self._clock = clock
        self._bus = bus
        bus.subscribe(Bar, self.on_bar)
        bus.subscribe(Quote, self.on_quote)
        for handler in self._listeners:
            self._listen(handler)

    def add_listener(self, handler: OrderEventHandler) -> None:
        """Send every event the broker publishes (:data:`BROKER_EVENTS`) to ``handler``: a
        subscription on the bus, ahead of every strategy when added before the run."""
        self._listeners.append(handler)
        self._listen(handler)

    def register_owner(self, strategy_id: str, handler: OrderEventHandler) -> None:
        """Send ``handler`` the events of ``strategy_id``'s orders and the kill switch's halt
        and resume, in place of any handler registered for it before: subscriptions on the
        bus that pass over other strategies' orders."""

        def own_events(event: Event) -> None:
            if event.strategy_id == strategy_id:  # type: ignore[attr-defined]
                handler(event)

        bus = self._bus
        for event_type, old in self._owners.pop(strategy_id, ()):
            bus.unsubscribe(event_type, old)
        subscriptions = [
            (OrderEvent, own_events),
            (TradingHalted, handler),
            (TradingResumed, handler),
        ]
        for event_type, subscriber in subscriptions:
            bus.subscribe(event_type, subscriber)
        self._owners[strategy_id] = subscriptions

    def _listen(self, handler: OrderEventHandler) -> None:
        for event_type in BROKER_EVENTS:
            self._bus.subscribe(event_type, handler)

    def set_transaction_hook(self, hook: TransactionHook | None) -> None:
        """Call ``hook(orders, events)`` once per transaction, with the orders it changed and
        the events it produced, before any of those events is published (the paper journal's
        write-ahead; :class:`PaperJournal`). ``None`` removes it; a broker has at most one."""
        if hook is not None and self._transaction_hook is not None:
            raise RuntimeError("this broker already has a transaction hook")
        self._transaction_hook = hook
        self._touched.clear()

    @property
    def has_transaction_hook(self) -> bool:
        """Whether a transaction hook (a paper journal) is set."""
        return self._transaction_hook is not None

    # -- commands --------------------------------------------------------------------------

    def submit(
        self,
        strategy_id: str,
        symbol: str,
        side: OrderSide | str,
        qty: float,
        *,
        limit: float | None = None,
        stop: float | None = None,
        tif: TimeInForce | str = TimeInForce.GTC,
    ) -> Order:
        """Send an order: market without prices, limit with ``limit``, stop with ``stop``,
        stop-limit with both. Returns it ACCEPTED (or SUBMITTED while latency runs), or
        REJECTED by a pre-trade check (an :class:`~framework.OrderRejected` says why).
        Trailing stops and market-if-touched orders have their own methods
        (:meth:`submit_trailing_stop`, :meth:`submit_if_touched`).
        """
        # Each check is skipped when the argument is already what it would return: a
        # backtest submits tens of thousands of orders, nearly all with typed arguments.
        if side.__class__ is not OrderSide:
            side = parse_side(side)
        if qty.__class__ is not float or not 0 < qty < inf:
            qty = check_quantity(qty)
        if limit is not None:
            limit = check_price("limit", limit)
        if tif.__class__ is not TimeInForce:
            tif = TimeInForce.parse(tif)
        if stop is not None:
            stop = check_price("stop", stop)
            if tif in _IMMEDIATE:
                raise ValueError(f"{tif.value} applies to market and limit orders, not to stops")
        order = self._make(strategy_id, symbol, side, qty, limit, stop, tif)
        rejection = self._check(symbol, side.sign * qty, limit if limit is not None else stop)
        if rejection is None:
            self._place(order)
        else:
            self._reject(order, rejection)
        self._flush()
        return order

    def submit_trailing_stop(
        self,
        strategy_id: str,
        symbol: str,
        side: OrderSide | str,
        qty: float,
        *,
        trail: float | None = None,
        trail_percent: float | None = None,
        limit_offset: float | None = None,
        stop: float | None = None,
        tif: TimeInForce | str = TimeInForce.GTC,
    ) -> Order:
        """Send a trailing stop: its stop follows the price at ``trail`` (a price offset) or
        ``trail_percent`` (a fraction of the price) and never loosens; with ``limit_offset``,
        a trailing stop-limit whose limit is that far beyond the stop. ``stop`` is its first
        stop; without it the trail starts from the last price when the order reaches the
        market (and the order is rejected, ``no_price``, while the symbol has none). Returns
        it as :meth:`submit` does. Rules: docs/execution.md, 2.4.
        """
        side = parse_side(side)
        qty = check_quantity(qty)
        stop = check_price("stop", stop)
        tif = TimeInForce.parse(tif)
        terms = check_trigger_terms(
            limit=None,
            stop=stop,
            trail=trail,
            trail_percent=trail_percent,
            limit_offset=limit_offset,
            touch=None,
            tif=tif,
        )
        if terms is None:
            raise ValueError("a trailing stop needs trail= or trail_percent=")
        return self._submit_triggered(strategy_id, symbol, side, qty, stop, tif, terms)

    def submit_if_touched(
        self,
        strategy_id: str,
        symbol: str,
        side: OrderSide | str,
        qty: float,
        *,
        touch: float,
        tif: TimeInForce | str = TimeInForce.GTC,
    ) -> Order:
        """Send a market-if-touched order: a market order once the price falls to ``touch``
        (a sell: rises to it). Returns it as :meth:`submit` does. Rules: docs/execution.md,
        2.4."""
        side = parse_side(side)
        qty = check_quantity(qty)
        tif = TimeInForce.parse(tif)
        terms = check_trigger_terms(
            limit=None,
            stop=None,
            trail=None,
            trail_percent=None,
            limit_offset=None,
            touch=touch,
            tif=tif,
        )
        assert terms is not None
        return self._submit_triggered(strategy_id, symbol, side, qty, None, tif, terms)

    def _submit_triggered(
        self,
        strategy_id: str,
        symbol: str,
        side: OrderSide,
        qty: float,
        stop: float | None,
        tif: TimeInForce,
        terms: TriggerTerms,
    ) -> Order:
        """Place a checked trailing stop or market-if-touched order."""
        order = self._make(strategy_id, symbol, side, qty, None, stop, tif)
        self._give_terms(order, terms)
        price = terms.touch_price if terms.touch_price is not None else order.limit_price
        rejection = self._check(symbol, side.sign * qty, price if price is not None else stop)
        trailing = terms.type in TRAILING_TYPES
        if (
            rejection is None
            and trailing
            and stop is None
            and symbol not in self.portfolio.last_price
        ):
            # Even without require_price: the trail would have nothing to start from.
            rejection = (
                "no_price",
                f"a trailing stop without stop= starts from the last price of {symbol}, "
                "and there is none yet",
            )
        if rejection is None:
            self._place(order)
            if trailing:
                self._trailing.add(symbol)
                if order.status is OrderStatus.ACCEPTED and stop is None:
                    self._start_trail(order)
        else:
            self._reject(order, rejection)
        self._flush()
        return order

    def submit_market(self, strategy_id: str, symbol: str, side: OrderSide, qty: float) -> Order:
        """Send a market order (``submit`` without prices)."""
        return self.submit(strategy_id, symbol, side, qty)

    def submit_bracket(
        self,
        strategy_id: str,
        symbol: str,
        side: OrderSide | str,
        qty: float,
        *,
        take_profit: float,
        stop_loss: float,
        entry_limit: float | None = None,
        tif: TimeInForce | str = TimeInForce.GTC,
        trail: float | None = None,
        trail_percent: float | None = None,
    ) -> Bracket:
        """Send an entry (market, or limit at ``entry_limit``) with two exits on the other
        side: a limit at ``take_profit`` and a stop at ``stop_loss``, linked one-cancels-other.
        With ``trail`` or ``trail_percent`` the stop-loss is a trailing stop that starts at
        ``stop_loss``.

        The exits work only once the entry has filled, for the quantity it filled; they are
        ``gtc`` (``tif`` applies to the entry). An entry that ends without any fill cancels
        them; once an exit fills, the unfilled rest of the entry is cancelled. The pre-trade
        checks run once, on the entry, and need room for three open orders.
        """
        side = parse_side(side)
        qty = check_quantity(qty)
        take = check_price("take_profit", take_profit)
        stop = check_price("stop_loss", stop_loss)
        entry_limit = check_price("entry_limit", entry_limit)
        assert take is not None and stop is not None
        levels = [stop, take] if entry_limit is None else [stop, entry_limit, take]
        if side is OrderSide.SELL:
            levels.reverse()
        if any(a >= b for a, b in itertools.pairwise(levels)):
            raise ValueError(
                f"a {side.value} bracket needs stop_loss {'<' if side is OrderSide.BUY else '>'} "
                "entry_limit (if any) and take_profit on the far side, got "
                f"stop_loss={stop}, entry_limit={entry_limit}, take_profit={take}"
            )
        tif = TimeInForce.parse(tif)
        trailing = check_trigger_terms(
            limit=None,
            stop=stop,
            trail=trail,
            trail_percent=trail_percent,
            limit_offset=None,
            touch=None,
            tif=TimeInForce.GTC,
        )
        exit_side = OrderSide.SELL if side is OrderSide.BUY else OrderSide.BUY
        entry = self._make(strategy_id, symbol, side, qty, entry_limit, None, tif)
        oco_id = self._new_oco_id()
        exits = [
            self._make(
                strategy_id,
                symbol,
                exit_side,
                qty,
                take,
                None,
                TimeInForce.GTC,
                parent_id=entry.order_id,
                oco_id=oco_id,
            ),
            self._make(
                strategy_id,
                symbol,
                exit_side,
                qty,
                None,
                stop,
                TimeInForce.GTC,
                parent_id=entry.order_id,
                oco_id=oco_id,
            ),
        ]
        entry.child_ids = (exits[0].order_id, exits[1].order_id)
        if trailing is not None:
            self._give_terms(exits[1], trailing)
        rejection = self._check(symbol, side.sign * qty, entry_limit, new_orders=3)
        if rejection is None:
            self._place(entry)
            self._oco[oco_id] = exits
            self._held[entry.order_id] = list(exits)
            for child in exits:
                self._place(child, held=True)
        else:
            for order in (entry, *exits):
                self._reject(order, rejection)
        self._flush()
        return Bracket(entry, exits[0], exits[1])

    def submit_oco(
        self,
        strategy_id: str,
        symbol: str,
        side: OrderSide | str,
        qty: float,
        *,
        limit: float,
        stop: float,
        tif: TimeInForce | str = TimeInForce.GTC,
        trail: float | None = None,
        trail_percent: float | None = None,
    ) -> tuple[Order, Order]:
        """Send a limit and a stop on the same side for ``qty``, linked one-cancels-other:
        a fill of either reduces the other by the same quantity (so a complete fill cancels
        it), and cancelling or expiring either ends both. Returns (limit order, stop order).
        With ``trail`` or ``trail_percent`` the stop is a trailing stop that starts at ``stop``.
        """
        side = parse_side(side)
        qty = check_quantity(qty)
        limit_price = check_price("limit", limit)
        stop_price = check_price("stop", stop)
        tif = TimeInForce.parse(tif)
        if tif in _IMMEDIATE:
            raise ValueError("an OCO pair works until one fills: use day or gtc")
        trailing = check_trigger_terms(
            limit=None,
            stop=stop_price,
            trail=trail,
            trail_percent=trail_percent,
            limit_offset=None,
            touch=None,
            tif=tif,
        )
        oco_id = self._new_oco_id()
        pair = [
            self._make(strategy_id, symbol, side, qty, limit_price, None, tif, oco_id=oco_id),
            self._make(strategy_id, symbol, side, qty, None, stop_price, tif, oco_id=oco_id),
        ]
        if trailing is not None:
            self._give_terms(pair[1], trailing)
        rejection = self._check(symbol, side.sign * qty, limit_price, new_orders=2)
        if rejection is None:
            rejection = self._check(symbol, side.sign * qty, stop_price, new_orders=2)
        if rejection is None:
            self._oco[oco_id] = list(pair)
            for order in pair:
                self._place(order)
            if trailing is not None:
                self._trailing.add(symbol)
        else:
            for order in pair:
                self._reject(order, rejection)
        self._flush()
        return pair[0], pair[1]

    def cancel(self, order: Order) -> bool:
        """Ask for ``order`` to be cancelled; False if it is no longer open.

        With latency the cancel reaches the market ``latency_ms`` later and the order can
        still fill meanwhile. Cancelling a member of an OCO group cancels the group; cancelling
        an unfilled bracket entry cancels its exits.
        """
        if not order.is_open:
            return False
        now = self.now()
        if self._latency and not self._is_held(order):
            order.pending.append(PendingChange(at=now + self._latency, cancel=True))
            self._touch(order)
        else:
            self._end(order, OrderStatus.CANCELLED, "requested", now)
        self._flush()
        return True

    def cancel_all(self, *, strategy_id: str | None = None, symbol: str | None = None) -> int:
        """Cancel every open order (of ``strategy_id``, in ``symbol``); returns how many."""
        orders = [
            o
            for o in self.open_orders(symbol)
            if strategy_id is None or o.strategy_id == strategy_id
        ]
        return sum(self.cancel(o) for o in orders)

    def modify(
        self,
        order: Order,
        *,
        qty: float | None = None,
        limit: float | None = None,
        stop: float | None = None,
    ) -> None:
        """Change a working order's quantity and/or prices.

        A trailing stop's ``stop`` moves its current stop (a trailing stop-limit's limit
        follows); it trails on from there. Raises ValueError for a change the order cannot
        have (a limit price on an order without one or on a trailing stop-limit, whose limit
        follows its stop; a price of a market-if-touched order; the quantity of an OCO member;
        nothing to change). Everything else answers with an event:
        :class:`~framework.OrderModified`, or :class:`~framework.OrderModifyRejected` when the
        order is no longer open, the new quantity is not above what has filled, or a risk
        check fails.
        """
        if qty is None and limit is None and stop is None:
            raise ValueError("modify needs qty=, limit= or stop=")
        if qty is not None:
            qty = check_quantity(qty)
            if order.oco_id is not None:
                raise ValueError("the quantity of an OCO or bracket exit follows its group")
        limit = check_price("limit", limit)
        stop = check_price("stop", stop)
        kind = order.type
        if kind is OrderType.MARKET_IF_TOUCHED and (limit is not None or stop is not None):
            raise ValueError(
                f"order {order.order_id} is a market_if_touched order: only its quantity can "
                "change (to move the touch price, cancel it and send a new one)"
            )
        if limit is not None and kind is OrderType.TRAILING_STOP_LIMIT:
            raise ValueError(
                f"order {order.order_id} is a trailing_stop_limit order: its limit follows its "
                "stop at limit_offset; modify stop= instead"
            )
        if limit is not None and order.limit_price is None:
            raise ValueError(f"order {order.order_id} is a {kind.value} order: no limit")
        if stop is not None and order.stop_price is None and kind not in TRAILING_TYPES:
            raise ValueError(f"order {order.order_id} is a {kind.value} order: no stop")
        now = self.now()
        change = PendingChange(at=now, qty=qty, limit_price=limit, stop_price=stop)
        rejection: Rejection | None = None
        if not order.is_open:
            rejection = ("not_open", f"order {order.order_id} is {order.status.value}")
        else:
            grow = (qty - order.qty) if qty is not None and qty > order.qty else 0.0
            if grow or limit is not None or stop is not None:
                new_qty = qty if qty is not None else order.qty
                price = limit if limit is not None else stop
                if stop is not None and order.limit_offset is not None:
                    price = stop + order.side.sign * order.limit_offset  # the limit follows
                if price is None:
                    price = order.limit_price if order.limit_price is not None else order.stop_price
                if price is None:
                    price = order.touch_price
                rejection = self._check(
                    order.symbol, order.side.sign * grow, price, new_orders=0, value_qty=new_qty
                )
        if rejection is not None:
            self._modify_rejected(order, rejection, now)
        elif self._latency and not self._is_held(order):
            order.pending.append(attrs.evolve(change, at=now + self._latency))
            self._touch(order)
        else:
            self._apply_modify(order, change, now)
        self._flush()

    def trip_kill_switch(self, reason: str = "kill switch") -> None:
        """Halt trading: cancel every open order, send market orders that flatten every
        position (owned by ``KILL_SWITCH_OWNER``), and reject new orders until
        :meth:`reset_kill_switch`. Every strategy gets a :class:`~framework.TradingHalted`.
        """
        now = self.now()
        self._halted = reason
        self._emit(TradingHalted(reason=reason, ts_event=now, ts_recv=now))
        for order in self.open_orders():
            if order.is_open:
                self._end(order, OrderStatus.CANCELLED, "kill_switch", now, cascade=False)
        for symbol, position in sorted(self.portfolio.positions.items()):
            if position.qty:
                side = OrderSide.SELL if position.qty > 0 else OrderSide.BUY
                order = self._make(
                    KILL_SWITCH_OWNER, symbol, side, abs(position.qty), None, None, TimeInForce.GTC
                )
                self._place(order)
        self._flush()

    def reset_kill_switch(self) -> None:
        """Accept orders again after :meth:`trip_kill_switch`."""
        if self._halted is None:
            return
        now = self.now()
        self._halted = None
        self._emit(TradingResumed(ts_event=now, ts_recv=now))
        self._flush()

    def refuse(
        self,
        strategy_id: str,
        symbol: str,
        legs: Sequence[
            tuple[OrderSide | str, float, float | None, float | None, TimeInForce | str]
        ],
        rejection: Rejection,
        *,
        linked: bool = False,
        bracket: bool = False,
        terms: Sequence[TriggerTerms | None] = (),
    ) -> list[Order]:
        """Create the orders of ``legs`` (side, qty, limit, stop, tif each) and reject them
        all with ``rejection`` (reason, detail) without any check of the market: what a gate
        in front of the broker (the engine's warm-up) uses, so that ``on_order``, results and
        journals see refused orders as any other. ``linked`` puts them in one OCO group;
        ``bracket`` makes the first the entry and the rest its exits; ``terms`` makes leg i a
        trailing stop or market-if-touched order (:func:`check_trigger_terms`). Arguments a
        broker would refuse with ``ValueError`` still raise it."""
        checked = [
            (parse_side(side), check_quantity(qty), check_price("limit", limit),
             check_price("stop", stop), TimeInForce.parse(tif))
            for side, qty, limit, stop, tif in legs
        ]  # fmt: skip
        oco_id = self._new_oco_id() if linked else None
        orders: list[Order] = []
        for index, (side, qty, limit, stop, tif) in enumerate(checked):
            child = bracket and index > 0
            orders.append(
                self._make(
                    strategy_id,
                    symbol,
                    side,
                    qty,
                    limit,
                    stop,
                    tif,
                    parent_id=orders[0].order_id if child else None,
                    oco_id=oco_id if (child or not bracket) else None,
                )
            )
            leg_terms = terms[index] if index < len(terms) else None
            if leg_terms is not None:
                self._give_terms(orders[-1], leg_terms)
        if bracket:
            orders[0].child_ids = tuple(o.order_id for o in orders[1:])
        for order in orders:
            self._reject(order, rejection)
        self._flush()
        return orders

    # -- queries ---------------------------------------------------------------------------

    @property
    def halted(self) -> str | None:
        """Why trading is halted by the kill switch, or None."""
        return self._halted

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Orders that may still fill (including bracket exits waiting for their entry),
        oldest first."""
        if symbol is not None:
            found = list(self._working.get(symbol, ()))
        else:
            found = [o for orders in self._working.values() for o in orders]
        for held in self._held.values():
            found.extend(o for o in held if symbol is None or o.symbol == symbol)
        found.sort(key=lambda o: o.order_id)
        return found

    def orders(self) -> list[Order]:
        """Every order so far, including finished and rejected ones, oldest first (finished
        ones as equal copies: see the module docstring)."""
        live, finished, blank = self._orders, self._finished, self._blank
        found = []
        for order_id in range(1, self._next_id):
            order = live.get(order_id)
            if order is None:
                if order_id > len(finished) or order_id in blank:
                    continue  # an id a restored journal did not have
                order = finished[order_id - 1]
            found.append(order)
        return found

    def order(self, order_id: int) -> Order:
        """Look an order up by id (KeyError if unknown); a finished order is an equal copy."""
        order = self._orders.get(order_id)
        if order is not None:
            return order
        finished = self._finished
        if (
            isinstance(order_id, int)
            and 0 < order_id <= len(finished)
            and order_id not in self._blank
        ):
            return finished[order_id - 1]
        raise KeyError(order_id)

    def order_records(self) -> Records[Order]:
        """:meth:`orders` as compact read-only records: a snapshot that shares the finished
        orders' columns and copies the live ones as they are now."""
        count = self._next_id - 1
        finished = self._finished
        live = {order_id - 1: order for order_id, order in self._orders.items()}
        if len(finished) - len(self._blank) + len(live) != count:
            # A restored journal without some ids: list the orders there are.
            return Records(ORDER_LAYOUT, self.orders()).snapshot()
        return finished.view(count, live)

    def statistics(self) -> BrokerStatistics:
        """Counts of order events so far."""
        by_status: dict[OrderStatus, int] = {}
        for order in self._orders.values():
            by_status[order.status] = by_status.get(order.status, 0) + 1
        statuses = self._finished.values("status")
        for order_id in self._blank:
            statuses[order_id - 1] = None
        for status in (OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            by_status[status] = by_status.get(status, 0) + statuses.count(status)
        return BrokerStatistics(
            orders=len(self._orders) + len(self._finished) - len(self._blank),
            fills=self._fills,
            rejected=by_status.get(OrderStatus.REJECTED, 0),
            cancelled=by_status.get(OrderStatus.CANCELLED, 0),
            expired=by_status.get(OrderStatus.EXPIRED, 0),
            modified=self._modifications,
            open_orders=len(self.open_orders()),
            halted=self._halted,
        )

    # -- market events ---------------------------------------------------------------------

    def on_bar(self, bar: Bar) -> None:
        """Match the symbol's working orders against ``bar`` (docs/execution.md), then mark
        the position at its close. The engine calls this for every bar, before strategies."""
        working = self._working.get(bar.symbol)
        if working:
            self._match_bar(bar, working)
        elif working is None:
            self._first_sight(bar.symbol, bar.close)
        self.portfolio.mark(bar.symbol, bar.close, bar.ts_event)

    def on_quote(self, quote: Quote) -> None:
        """Match the symbol's working orders against ``quote``, then mark the position."""
        working = self._working.get(quote.symbol)
        mark = quote.mark_price
        if mark is not None and (
            working is None or (working and quote.symbol not in self.portfolio.first_price)
        ):
            self._first_sight(quote.symbol, mark)
        if working:
            self._match_quote(quote, working)
        if mark is not None:
            self.portfolio.mark(quote.symbol, mark, quote.ts_event)

    def _first_sight(self, symbol: str, price: float) -> None:
        """A priced market event of ``symbol`` that may be its first: where its buy and hold
        starts (:attr:`Portfolio.first_price`). Its list of working orders is made now, so
        later events of the symbol find one and do not come here: recording the first price
        costs the market-event path an identity test, not a dictionary lookup per mark. A
        symbol given orders before its first event is caught by the matching instead, and
        one whose orders all ended before it loses its empty list again (:meth:`_retire`)."""
        self._working.setdefault(symbol, [])
        self.portfolio.first_price.setdefault(symbol, price)

    def _orders_of(self, symbol: str) -> list[Order]:
        """The symbol's list of working orders, made if it has none yet."""
        working = self._working.get(symbol)
        if working is None:
            working = self._working[symbol] = []
        return working

    # -- matching --------------------------------------------------------------------------

    def _match_bar(self, bar: Bar, working: list[Order]) -> None:
        if bar.symbol not in self.portfolio.first_price:  # orders came before any price
            self._first_sight(bar.symbol, bar.close)
        start = bar.ts_open
        orders = list(working)
        self._matching = working
        self._run_due(orders, start)
        groups_done: set[int] | None = None
        for order in orders:
            if order.status not in OPEN_STATUSES or order.ts_active > start:
                continue
            if order.oco_id is not None:
                if groups_done is None:
                    groups_done = set()
                elif order.oco_id in groups_done:
                    continue
                groups_done.add(order.oco_id)
                self._match_group_on_bar(order.oco_id, bar)
                continue
            if order.tif in _IMMEDIATE:
                price = match_open(order, bar.open)
                if price is None:
                    self._end(order, OrderStatus.CANCELLED, order.tif.value, start)
                    continue
                at_open = True
            else:
                price, at_open, triggered = match_bar(order, bar.open, bar.high, bar.low)
                if triggered and not order.is_triggered:
                    order.is_triggered = True
                    self._touch(order)
                if price is None:
                    continue
            self._fill(order, order.leaves_qty, price, start if at_open else bar.ts_event)
            if order.child_ids:
                self._exits_in_entry_bar(order, bar, at_open)
        self._compact(working)
        if self._trailing and bar.symbol in self._trailing:
            self._trail(working, bar.symbol, bar.close, start)
        self._flush()

    def _match_group_on_bar(self, oco_id: int, bar: Bar) -> None:
        start = bar.ts_open
        candidates: list[tuple[Order, float]] = []
        at_open: list[tuple[Order, float]] = []
        for order in self._oco[oco_id]:
            if not order.is_open or order.ts_active > start or self._is_held(order):
                continue
            price, opened, triggered = match_bar(order, bar.open, bar.high, bar.low)
            if triggered and not order.is_triggered:
                order.is_triggered = True
                self._touch(order)
            if price is not None:
                candidates.append((order, price))
                if opened:
                    at_open.append((order, price))
        if at_open:
            order, price = at_open[0]
            self._fill(order, order.leaves_qty, price, start)
        elif len(candidates) == 1:
            order, price = candidates[0]
            self._fill(order, order.leaves_qty, price, bar.ts_event)
        elif candidates:
            order, price = worse_first(candidates)
            self._fill(order, order.leaves_qty, price, bar.ts_event, guess=True)

    def _exits_in_entry_bar(self, entry: Order, bar: Bar, entry_at_open: bool) -> None:
        """A bracket entry filled on this bar: its exits may fill on the rest of it."""
        exits = [self._orders[i] for i in entry.child_ids]
        working = [o for o in exits if o.is_open and not self._is_held(o)]
        if not working or working[0].ts_active > bar.ts_open:
            return
        if entry_at_open:
            # All of the bar came after the entry: the ordinary rules apply.
            assert working[0].oco_id is not None
            self._match_group_on_bar(working[0].oco_id, bar)
            return
        # The entry filled inside the bar: the path after it is unknown. Pessimistic: the
        # stop-loss fills if the bar reached it; the take-profit waits for the next bar.
        for order in working:
            if order.type is OrderType.STOP or order.type is OrderType.TRAILING_STOP_MARKET:
                price, _, _ = match_bar(order, bar.open, bar.high, bar.low)
                if price is not None:
                    self._fill(order, order.leaves_qty, price, bar.ts_event, guess=True)

    def _match_quote(self, quote: Quote, working: list[Order]) -> None:
        now = quote.ts_event
        orders = list(working)
        self._matching = working
        self._run_due(orders, now)
        ask = quote.ask if quote.ask is not None else quote.last_price
        bid = quote.bid if quote.bid is not None else quote.last_price
        ask_left = bid_left = inf
        if self._quote_sizes:
            if quote.ask is not None and quote.ask_size is not None:
                ask_left = quote.ask_size
            if quote.bid is not None and quote.bid_size is not None:
                bid_left = quote.bid_size
        for order in orders:
            if not order.is_open or order.ts_active > now:
                continue
            buy = order.side is OrderSide.BUY
            immediate = order.tif in _IMMEDIATE
            market_price = ask if buy else bid
            price: float | None = None
            if market_price is not None:
                price, triggered = match_quote(order, market_price)
                if triggered and not order.is_triggered:
                    order.is_triggered = True
                    self._touch(order)
            if price is None:
                if immediate:
                    self._end(order, OrderStatus.CANCELLED, order.tif.value, now)
                continue
            available = ask_left if buy else bid_left
            qty = min(order.leaves_qty, available)
            if order.tif is TimeInForce.FOK and qty < order.leaves_qty - QTY_EPSILON:
                self._end(order, OrderStatus.CANCELLED, "fok", now)
                continue
            if qty > QTY_EPSILON:
                self._fill(order, qty, price, now, bid=quote.bid, ask=quote.ask)
                if buy:
                    ask_left -= qty
                else:
                    bid_left -= qty
            if immediate and order.is_open:
                self._end(order, OrderStatus.CANCELLED, "ioc", now)
        self._compact(working)
        if self._trailing and quote.symbol in self._trailing:
            mark = quote.mark_price
            if mark is not None:
                self._trail(working, quote.symbol, mark, now)
        self._flush()

    # -- state changes ---------------------------------------------------------------------

    def _fill(
        self,
        order: Order,
        qty: float,
        price: float,
        ts: int,
        *,
        guess: bool = False,
        bid: float | None = None,
        ask: float | None = None,
    ) -> None:
        side = order.side
        if self._slippage is not None:
            price = self._slippage.slipped_price(side, price, bid, ask)
            limit = order.limit_price
            if limit is not None:
                price = min(price, limit) if side is OrderSide.BUY else max(price, limit)
        order.filled_qty += qty
        order.filled_value += qty * price
        self._touch(order)
        if order.qty - order.filled_qty <= QTY_EPSILON:
            order.filled_qty = order.qty
            order.status = OrderStatus.FILLED
            self._retire(order)
        else:
            order.status = OrderStatus.PARTIALLY_FILLED
        charge = 0.0
        if self._commission is not None:
            total = self._commission.order_commission(order.filled_qty, order.filled_value)
            charge = total - order.commission
            order.commission = total
        fill = _new_fill(
            order.order_id,
            order.symbol,
            side,
            qty,
            price,
            charge,
            ts,
            self._clock.now() if self._clock is not None else ts,
            guess,
            order.strategy_id,
        )
        self.portfolio.apply_fill(fill)
        self._fills += 1
        if self._is_heard(OrderFilled):
            self._emit(fill)
        if order.oco_id is not None:
            self._after_group_fill(order, qty, ts)
        if order.child_ids:
            self._size_exits(order)

    def _after_group_fill(self, order: Order, qty: float, ts: int) -> None:
        members = self._oco[order.oco_id] if order.oco_id is not None else []
        parent = self._orders[order.parent_id] if order.parent_id is not None else None
        if parent is not None and parent.is_open:
            # Exiting has begun: stop entering.
            self._end(parent, OrderStatus.CANCELLED, "oco", ts)
        exited = sum(m.filled_qty for m in members)
        for member in members:
            if member is order or not member.is_open:
                continue
            if parent is None:
                member.qty = max(member.qty - qty, member.filled_qty)
            else:
                member.qty = max(member.filled_qty + parent.filled_qty - exited, member.filled_qty)
            self._touch(member)
            if member.leaves_qty <= QTY_EPSILON:
                self._end(member, OrderStatus.CANCELLED, "oco", ts, cascade=False)

    def _size_exits(self, entry: Order) -> None:
        """Keep a bracket's exits at the entry's filled quantity; release them on its first fill."""
        exits = [self._orders[i] for i in entry.child_ids]
        exited = sum(o.filled_qty for o in exits)
        held = self._held.get(entry.order_id)
        for order in exits:
            if not order.is_open:
                continue
            if entry.filled_qty > QTY_EPSILON:
                order.qty = order.filled_qty + entry.filled_qty - exited
            else:
                order.qty = entry.qty
            self._touch(order)
            if held is not None and order in held and entry.filled_qty > QTY_EPSILON:
                held.remove(order)
                self._orders_of(order.symbol).append(order)
                if order.type in TRAILING_TYPES:
                    self._trailing.add(order.symbol)
        if held is not None and not held:
            del self._held[entry.order_id]

    def _end(
        self, order: Order, status: OrderStatus, reason: str, ts: int, *, cascade: bool = True
    ) -> None:
        """Cancel or expire an open order; by default also its OCO group and unfilled exits."""
        order.status = status
        order.reason = reason
        order.pending.clear()
        self._touch(order)
        self._retire(order)
        recv = self.now()
        if status is OrderStatus.EXPIRED:
            self._emit(
                OrderExpired(
                    order_id=order.order_id,
                    strategy_id=order.strategy_id,
                    symbol=order.symbol,
                    ts_event=ts,
                    ts_recv=recv,
                ),
            )
        else:
            self._emit(
                OrderCancelled(
                    order_id=order.order_id,
                    strategy_id=order.strategy_id,
                    symbol=order.symbol,
                    reason=reason,
                    ts_event=ts,
                    ts_recv=recv,
                ),
            )
        if not cascade:
            return
        if order.oco_id is not None:
            sibling_reason = reason if reason == "kill_switch" else "oco"
            for member in self._oco[order.oco_id]:
                if member.is_open:
                    self._end(member, status, sibling_reason, ts, cascade=False)
        if order.child_ids and order.filled_qty <= QTY_EPSILON:
            for child_id in order.child_ids:
                child = self._orders[child_id]
                if child.is_open:
                    self._end(child, OrderStatus.CANCELLED, "parent_cancelled", ts, cascade=False)

    def _apply_modify(self, order: Order, change: PendingChange, ts: int) -> None:
        if not order.is_open:
            self._modify_rejected(order, ("not_open", f"order {order.order_id} ended"), ts)
            return
        if change.qty is not None and change.qty <= order.filled_qty + QTY_EPSILON:
            self._modify_rejected(
                order,
                (
                    "qty_below_filled",
                    f"new quantity {change.qty:g} is not above the {order.filled_qty:g} filled",
                ),
                ts,
            )
            return
        if change.qty is not None:
            order.qty = change.qty
        if change.limit_price is not None:
            order.limit_price = change.limit_price
        if change.stop_price is not None:
            self._set_stop(order, change.stop_price)
        self._touch(order)
        self._modifications += 1
        if order.child_ids and order.filled_qty <= QTY_EPSILON:
            self._size_exits(order)
        self._emit(
            OrderModified(
                order_id=order.order_id,
                strategy_id=order.strategy_id,
                symbol=order.symbol,
                qty=order.qty,
                limit_price=order.limit_price,
                stop_price=order.stop_price,
                ts_event=ts,
                ts_recv=self.now(),
            ),
        )

    def _modify_rejected(self, order: Order, rejection: Rejection, ts: int) -> None:
        reason, detail = rejection
        self._emit(
            OrderModifyRejected(
                order_id=order.order_id,
                strategy_id=order.strategy_id,
                symbol=order.symbol,
                reason=reason,
                detail=detail,
                ts_event=ts,
                ts_recv=self.now(),
            ),
        )

    def _run_due(self, orders: list[Order], now: int) -> None:
        """Apply every scheduled change due by ``now`` to ``orders``, earliest first."""
        for order in orders:
            if order.next_due <= now:
                break
        else:
            return
        while True:
            first: Order | None = None
            first_due = now + 1
            for order in orders:
                if order.is_open:
                    due = order.next_due
                    if due < first_due:
                        first, first_due = order, due
            if first is None:
                return
            self._apply_due(first, first_due)

    def _apply_due(self, order: Order, due: int) -> None:
        if order.status is OrderStatus.SUBMITTED and order.ts_active == due:
            self._activate(order, due)
        elif order.pending and order.pending[0].at == due:
            change = order.pending.pop(0)
            self._touch(order)
            if change.cancel:
                self._end(order, OrderStatus.CANCELLED, "requested", due)
            else:
                self._apply_modify(order, change, due)
        else:
            self._end(order, OrderStatus.EXPIRED, "expired", due)

    def _activate(self, order: Order, ts: int) -> None:
        order.status = OrderStatus.ACCEPTED
        self._touch(order)
        if order.stop_price is None and order.type in TRAILING_TYPES:
            self._start_trail(order)
        self._emit(
            OrderAccepted(
                order_id=order.order_id,
                strategy_id=order.strategy_id,
                symbol=order.symbol,
                ts_event=ts,
                ts_recv=self.now(),
            ),
        )
        for child in self._held.get(order.order_id, ()):
            if child.status is OrderStatus.SUBMITTED:
                self._activate(child, ts)

    # -- creation --------------------------------------------------------------------------

    def _make(
        self,
        strategy_id: str,
        symbol: str,
        side: OrderSide,
        qty: float,
        limit: float | None,
        stop: float | None,
        tif: TimeInForce,
        # Not keyword-only: CPython looks a keyword-only default up in a dict on every call.
        parent_id: int | None = None,
        oco_id: int | None = None,
    ) -> Order:
        if not isinstance(symbol, str) or not symbol:
            raise ValueError(f"symbol must be a non-empty string, got {symbol!r}")
        now = self.now()
        order = new_order(
            order_id=self._next_id,
            strategy_id=strategy_id,
            symbol=symbol,
            side=side,
            qty=qty,
            tif=tif,
            ts_submitted=now,
            ts_active=now + self._latency,
            status=OrderStatus.SUBMITTED,
        )
        # A plain market order keeps the defaults of the rest (fewer arguments to match).
        if limit is not None or stop is not None:
            order.type = order_type_for(limit, stop)
            order.limit_price = limit
            order.stop_price = stop
        if tif is TimeInForce.DAY:
            order.expire_at = self._sessions.session_end(now)
        if parent_id is not None or oco_id is not None:
            order.parent_id = parent_id
            order.oco_id = oco_id
        self._next_id += 1
        self._orders[order.order_id] = order
        return order

    def _new_oco_id(self) -> int:
        oco_id = self._next_oco
        self._next_oco += 1
        return oco_id

    def _place(self, order: Order, *, held: bool = False) -> None:
        if not held:
            self._orders_of(order.symbol).append(order)
        self._touch(order)
        if not self._latency:
            self._activate_placed(order)

    def _activate_placed(self, order: Order) -> None:
        order.status = OrderStatus.ACCEPTED
        if self._is_heard(OrderAccepted):
            now = order.ts_submitted
            self._emit(
                OrderAccepted(
                    order_id=order.order_id,
                    strategy_id=order.strategy_id,
                    symbol=order.symbol,
                    ts_event=now,
                    ts_recv=now,
                ),
            )

    @staticmethod
    def _give_terms(order: Order, terms: TriggerTerms) -> None:
        """Make a new order a trailing stop or a market-if-touched order."""
        order.type = terms.type
        order.trigger_terms = terms
        if order.stop_price is not None and terms.limit_offset is not None:
            order.limit_price = order.stop_price + order.side.sign * terms.limit_offset

    def _start_trail(self, order: Order) -> None:
        """A trailing stop reaching the market without a first stop starts from the last price
        (None only for a restored order whose symbol has none: the first bar or quote it sees
        starts it)."""
        price = self.portfolio.last_price.get(order.symbol)
        if price is not None:
            stop = trailed_stop(order, price)
            assert stop is not None
            self._set_stop(order, stop)

    def _set_stop(self, order: Order, stop: float) -> None:
        """Move a stop; a trailing stop-limit's limit follows it at its limit offset."""
        order.stop_price = stop
        terms = order.trigger_terms
        if terms is not None and terms.limit_offset is not None:
            order.limit_price = stop + order.side.sign * terms.limit_offset
        self._touch(order)

    def _trail(self, working: list[Order], symbol: str, price: float, now: int) -> None:
        """Move the trailing stops of ``working`` that were active by ``now`` after the market
        traded at ``price``; forget ``symbol`` once none is left to trail."""
        waiting = False
        for order in working:
            if order.type not in TRAILING_TYPES or order.is_triggered or not order.is_open:
                continue
            waiting = True
            if order.ts_active > now:
                continue  # not at the market for this event
            stop = trailed_stop(order, price)
            if stop is not None:
                self._set_stop(order, stop)
        if not waiting:
            self._trailing.discard(symbol)

    def _reject(self, order: Order, rejection: Rejection) -> None:
        reason, detail = rejection
        order.status = OrderStatus.REJECTED
        order.reason = reason
        self._touch(order)
        self._ended.append(order)
        now = order.ts_submitted
        self._emit(
            OrderRejected(
                order_id=order.order_id,
                strategy_id=order.strategy_id,
                symbol=order.symbol,
                reason=reason,
                detail=detail,
                ts_event=now,
                ts_recv=now,
            ),
        )

    def _check(
        self,
        symbol: str,
        signed_qty: float,
        price: float | None,
        *,
        new_orders: int = 1,
        value_qty: float | None = None,
    ) -> Rejection | None:
        limits = self._risk
        if self._plain_risk and self._halted is None:
            if limits.require_price and symbol not in self.portfolio.last_price:
                return "no_price", f"no price for {symbol} yet: wait for its first bar or quote"
            return None
        open_orders = self.open_orders() if limits.max_open_orders is not None else ()
        buys, sells = self._open_quantities(symbol)
        loss = None
        if limits.daily_loss_limit is not None:
            loss = self._session_loss.loss(self.portfolio, self.now())
        return check_entry(
            limits,
            OrderIntent(
                symbol=symbol,
                signed_qty=signed_qty,
                price=price,
                new_orders=new_orders,
                value_qty=value_qty,
            ),
            halted=self._halted,
            portfolio=self.portfolio,
            open_orders=len(open_orders),
            open_buys=buys,
            open_sells=sells,
            session_loss=loss,
        )

    def _open_quantities(self, symbol: str) -> tuple[float, float]:
        """Unfilled quantity of the symbol's working orders per side, an OCO group once."""
        buys = sells = 0.0
        seen: dict[int, float] | None = None
        for order in self._working.get(symbol, ()):
            if not order.is_open:
                continue
            leaves = order.leaves_qty
            if order.oco_id is not None:
                if seen is None:
                    seen = {}
                before = seen.get(order.oco_id, 0.0)
                seen[order.oco_id] = max(before, leaves)
                leaves = max(leaves - before, 0.0)
            if order.side is OrderSide.BUY:
                buys += leaves
            else:
                sells += leaves
        return buys, sells

    # -- bookkeeping -----------------------------------------------------------------------

    def _is_held(self, order: Order) -> bool:
        return order.parent_id is not None and order in self._held.get(order.parent_id, ())

    def _retire(self, order: Order) -> None:
        """Take a finished order out of the working lists (out of the live book at the end of
        the transaction)."""
        self._ended.append(order)
        if order.parent_id is not None:
            held = self._held.get(order.parent_id)
            if held is not None and order in held:
                held.remove(order)
                if not held:
                    del self._held[order.parent_id]
                return
        working = self._working.get(order.symbol)
        if working is None or working is self._matching:
            return  # compacted once when matching ends: removing one by one is quadratic
        if order in working:
            working.remove(order)
            if not working and order.symbol not in self.portfolio.first_price:
                # Never priced yet: without a list its first event is a first sight again.
                del self._working[order.symbol]

    def _compact(self, working: list[Order]) -> None:
        self._matching = None
        for order in working:
            if order.status not in OPEN_STATUSES:
                working[:] = [o for o in working if o.status in OPEN_STATUSES]
                return

    def _touch(self, order: Order) -> None:
        if self._transaction_hook is not None:
            self._touched[order.order_id] = order

    def _is_heard(self, event_type: type[Event]) -> bool:
        """Whether an event of ``event_type`` would reach anyone: a subscriber on the bus or
        the transaction hook. The two commonest events (accepted, filled) are built only then:
        a strategy without ``on_order``/``on_fill`` hooks trades faster."""
        if self._transaction_hook is not None:
            return True
        routes = self._bus.routes
        route: Route = routes.get(event_type) or self._bus.compile_route(event_type)
        return bool(route[0]) or route[1] is not None

    def _emit(self, event: Event) -> None:
        self._outbox.append(event)

    def _flush(self) -> None:
        """Journal this transaction, then publish its events in the order they happened."""
        if self._ended:
            self._file_finished()
        if not self._outbox and not self._touched:
            return
        events, self._outbox = self._outbox, []
        if self._transaction_hook is not None:
            touched, self._touched = self._touched, {}
            self._transaction_hook(sorted(touched.values(), key=lambda o: o.order_id), events)
        publish = self._bus.publish
        for event in events:
            publish(event)

    def _file_finished(self) -> None:
        """Move the orders that ended in this transaction out of the live book, each with its
        linked orders once all of them have ended (until then a fill or a cancel of one
        reads and changes the others)."""
        ended, self._ended = self._ended, []
        for order in ended:
            if order.order_id not in self._orders:
                continue  # filed with its group already
            if order.parent_id is None and order.oco_id is None and not order.child_ids:
                self._file(order)  # linked to nothing: the common case
                continue
            group = self._linked(order)
            if any(member.status in OPEN_STATUSES for member in group):
                continue  # the last one to end files the group
            for member in group:
                self._file(member)
            if order.oco_id is not None:
                self._oco.pop(order.oco_id, None)

    def _linked(self, order: Order) -> list[Order]:
        """``order`` with its bracket (entry and exits) and its OCO group, if any."""
        live = self._orders
        root = live.get(order.parent_id, order) if order.parent_id is not None else order
        group = {root.order_id: root, order.order_id: order}
        for child_id in root.child_ids:
            child = live.get(child_id)
            if child is not None:
                group[child_id] = child
        if order.oco_id is not None:
            for member in self._oco.get(order.oco_id, ()):
                group[member.order_id] = member
        return list(group.values())

    def _file(self, order: Order) -> None:
        del self._orders[order.order_id]
        row = order.order_id - 1
        finished = self._finished
        if row < len(finished):
            finished.put(row, order)
            self._blank.discard(order.order_id)
            return
        if row > len(finished):  # orders before it are still live: keep their rows
            self._blank.update(range(len(finished) + 1, order.order_id))
            finished.pad(row - len(finished))
        finished.append(order)

    def now(self) -> int:
        """The broker's time: event time, in a backtest and in a paper session alike."""
        if self._clock is None:
            raise RuntimeError("broker is not attached to an engine")
        return self._clock.now()

    # -- restore ---------------------------------------------------------------------------

    def restore(self, orders: Iterable[Order], halted: str | None) -> None:
        """Load a journalled book into this fresh broker: ``orders`` as they were (open ones
        work again), trading ``halted`` with that reason or None (see :class:`PaperJournal`)."""
        by_id = {o.order_id: o for o in sorted(orders, key=lambda o: o.order_id)}
        self._orders = dict(by_id)
        self._halted = halted
        self._next_id = max(by_id, default=0) + 1
        oco_ids = [o.oco_id for o in by_id.values() if o.oco_id is not None]
        self._next_oco = max(oco_ids, default=0) + 1
        for order in by_id.values():
            if order.oco_id is not None:
                self._oco.setdefault(order.oco_id, []).append(order)
            if not order.is_open:
                continue
            parent = by_id.get(order.parent_id) if order.parent_id is not None else None
            if parent is not None and parent.filled_qty <= QTY_EPSILON:
                self._held.setdefault(parent.order_id, []).append(order)
            else:
                self._orders_of(order.symbol).append(order)
                if order.type in TRAILING_TYPES:
                    self._trailing.add(order.symbol)
        self._ended = [o for o in by_id.values() if not o.is_open]
        self._file_finished()
