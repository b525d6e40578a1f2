"""The event bus: synchronous, ordered publish/subscribe by event type and symbol.

``publish`` calls every matching handler, in the order they subscribed, before it returns; there
is no channel and no task switch per event. The engine's one dispatcher task is the only caller
in a run, so delivery order is the order events were published, whatever Trio's scheduler does.

Routing is precomputed: the first event of a given type builds a table from symbol to the tuple
of handlers (symbol-specific and catch-all merged in subscription order); later events cost two
dict lookups. Subscribing or unsubscribing clears the table.

**Bars of an interval.** ``subscribe(Bar, handler, symbol=..., interval="5m")`` asks for the
bars of one interval, which the run builds from finer data (:mod:`._aggregation`, rules in
docs/bars.md). Those subscriptions are kept out of the tables above, so a subscriber of plain
``Bar`` never receives a built bar and a run without interval subscriptions routes exactly as
before. Built bars go out through :meth:`EventBus.publish_interval` to the subscribers of their
symbol and interval, and to the subscribers of every event (``subscribe(Event, ...)``: the
engine's observers), in subscription order.

**Handlers that run last.** A handler subscribed with ``last=True`` runs after every handler
subscribed without it, whenever either subscribed. The bar aggregation listens that way, so the
bar a finer bar completes goes out after that finer bar has reached everyone else.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable
from typing import Any, TypeVar

from ._events import Bar, Event

E = TypeVar("E", bound=Event)
Handler = Callable[[Any], None]

Route = tuple[tuple[Handler, ...], dict[str, tuple[Handler, ...]] | None]
#: Handlers of one (symbol, interval): for bars the run built (observers included), and for
#: the feed's own bars of that interval passed on as they are (observers saw them already).
IntervalRoute = tuple[tuple[Handler, ...], tuple[Handler, ...]]
#: (seq, event type, symbol or None, interval label or None, handler).
Subscription = tuple[int, type[Event], str | None, str | None, Handler]

_NO_HANDLERS: tuple[Handler, ...] = ()
#: Sequence numbers of ``last=True`` subscriptions start here, above any ordinary one.
_LAST = 1 << 62


class EventBus:
    """Routes each published event to the handlers subscribed to its type (and symbol)."""

    __slots__ = (
        "_bar_in_flight",
        "_last_seq",
        "_seq",
        "_subscriptions",
        "interval_routes",
        "routes",
    )

    def __init__(self) -> None:
        # Kept sorted by sequence number: subscription order, ``last=True`` ones at the end.
        self._subscriptions: list[Subscription] = []
        #: The compiled table, event type -> (catch-all handlers, {symbol: handlers} or None
        #: when no handler filters by symbol); read-only outside the bus. The engine's hot loop
        #: routes through it directly, calling :meth:`compile_route` for a type not in it yet.
        self.routes: dict[type[Event], Route] = {}
        #: The compiled table of interval subscriptions, (symbol, interval) -> IntervalRoute.
        self.interval_routes: dict[tuple[str, str], IntervalRoute] = {}
        self._seq = itertools.count()
        self._last_seq = itertools.count(_LAST)
        self._bar_in_flight: Bar | None = None

    def subscribe(
        self,
        event_type: type[E],
        handler: Callable[[E], None],
        *,
        symbol: str | None = None,
        interval: str | None = None,
        last: bool = False,
    ) -> None:
        """Call ``handler(event)`` for every published ``event_type`` (of ``symbol``, if given).

        Subclasses of ``event_type`` are delivered too. Subscribing the same handler twice for
        the same type, symbol and interval is a no-op. With ``interval`` (a label such as
        ``5m``; bars only), ``handler`` receives the bars of that interval given to
        :meth:`publish_interval` instead of the published ones. With ``last``, ``handler`` runs
        after every handler subscribed without it.
        """
        if interval is not None and not issubclass(event_type, Bar):
            raise ValueError(f"only bars have an interval, not {event_type.__name__}")
        for _, etype, sym, label, existing in self._subscriptions:
            if etype is event_type and sym == symbol and label == interval and existing == handler:
                return
        seq = next(self._last_seq if last else self._seq)
        entry: Subscription = (seq, event_type, symbol, interval, handler)
        bisect.insort(self._subscriptions, entry, key=_sequence)
        self._changed()

    def unsubscribe(
        self,
        event_type: type[E],
        handler: Callable[[E], None],
        *,
        symbol: str | None = None,
        interval: str | None = None,
    ) -> None:
        """Remove a subscription made with the same arguments; unknown ones are ignored."""
        self._subscriptions = [
            s
            for s in self._subscriptions
            if not (s[1] is event_type and s[2] == symbol and s[3] == interval and s[4] == handler)
        ]
        self._changed()

    def replace(
        self,
        event_type: type[E],
        old: Callable[[E], None],
        new: Callable[[E], None],
        *,
        interval: str | None = None,
    ) -> None:
        """Put ``new`` in the place of ``old`` in every subscription to ``event_type`` with
        ``interval`` (any symbol), keeping its turn in the delivery order."""
        self._subscriptions = [
            (s[0], s[1], s[2], s[3], new)
            if s[1] is event_type and s[3] == interval and s[4] == old
            else s
            for s in self._subscriptions
        ]
        self._changed()

    def has_subscribers(self, event_type: type[Event]) -> bool:
        """Whether any handler would receive some event of ``event_type``."""
        return any(issubclass(event_type, s[1]) for s in self._subscriptions)

    def publish(self, event: Event) -> None:
        """Deliver ``event`` to its handlers now, in subscription order.

        A handler's exception propagates to the caller; later handlers do not run.
        """
        catch_all, by_symbol = self.routes.get(event.__class__) or self.compile_route(
            event.__class__
        )
        handlers = (
            catch_all if by_symbol is None else by_symbol.get(event.symbol, catch_all)  # type: ignore[attr-defined]
        )
        for handler in handlers:
            handler(event)

    def publish_interval(self, bar: Bar, *, built: bool = True) -> None:
        """Deliver ``bar`` to the subscribers of its symbol and interval, in subscription order.

        A bar the run ``built`` goes to the subscribers of every event too. A feed's own bar of
        the interval asked for (``built=False``) goes to the interval's subscribers only: it
        was published already. A handler's exception propagates; later handlers do not run,
        and :meth:`take_interval_bar_in_flight` returns ``bar``.
        """
        key = (bar.symbol, bar.interval)
        route = self.interval_routes.get(key) or self._compile_interval_route(key)
        self._bar_in_flight = bar
        for handler in route[0] if built else route[1]:
            handler(bar)
        self._bar_in_flight = None

    def take_interval_bar_in_flight(self) -> Bar | None:
        """The bar :meth:`publish_interval` was delivering when a handler raised, once; then
        None. The engine names it in the note on a strategy's exception."""
        bar, self._bar_in_flight = self._bar_in_flight, None
        return bar

    def compile_route(self, cls: type[Event]) -> Route:
        """Build, store and return the route of events of ``cls``."""
        matching = [s for s in self._subscriptions if s[3] is None and issubclass(cls, s[1])]
        catch_all = tuple(s[4] for s in matching if s[2] is None)
        symbols = {s[2] for s in matching if s[2] is not None}
        by_symbol: dict[str, tuple[Handler, ...]] | None = None
        if symbols:
            by_symbol = {
                sym: tuple(s[4] for s in matching if s[2] is None or s[2] == sym) for sym in symbols
            }
        route = (catch_all or _NO_HANDLERS, by_symbol)
        self.routes[cls] = route
        return route

    def _compile_interval_route(self, key: tuple[str, str]) -> IntervalRoute:
        symbol, interval = key
        built: list[Handler] = []
        passed_on: list[Handler] = []
        for _, etype, sym, label, handler in self._subscriptions:
            if sym is not None and sym != symbol:
                continue
            if label == interval:
                built.append(handler)
                passed_on.append(handler)
            elif label is None and etype is not Bar and issubclass(Bar, etype):
                built.append(handler)  # subscribers of every event: the observers
        route = (tuple(built), tuple(passed_on))
        self.interval_routes[key] = route
        return route

    def _changed(self) -> None:
        # Cleared in place: the engine's dispatch loop holds a reference to the table.
        self.routes.clear()
        self.interval_routes.clear()


def _sequence(subscription: Subscription) -> int:
    return subscription[0]
