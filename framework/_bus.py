"""The event bus: synchronous, ordered publish/subscribe by event type and symbol.

``publish`` calls every matching handler, in the order they subscribed, before it returns; there
is no channel and no task switch per event. The engine's one dispatcher task is the only caller
in a run, so delivery order is the order events were published, whatever Trio's scheduler does.

Routing is precomputed: the first event of a given type builds a table from symbol to the tuple
of handlers (symbol-specific and catch-all merged in subscription order); later events cost two
dict lookups. Subscribing or unsubscribing clears the table.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, TypeVar

from ._events import Event

E = TypeVar("E", bound=Event)
Handler = Callable[[Any], None]

Route = tuple[tuple[Handler, ...], dict[str, tuple[Handler, ...]] | None]

_NO_HANDLERS: tuple[Handler, ...] = ()


class EventBus:
    """Routes each published event to the handlers subscribed to its type (and symbol)."""

    __slots__ = ("_seq", "_subscriptions", "routes")

    def __init__(self) -> None:
        # (seq, event type, symbol or None, handler), kept in subscription order.
        self._subscriptions: list[tuple[int, type[Event], str | None, Handler]] = []
        #: The compiled table, event type -> (catch-all handlers, {symbol: handlers} or None
        #: when no handler filters by symbol); read-only outside the bus. The engine's hot loop
        #: routes through it directly, calling :meth:`compile_route` for a type not in it yet.
        self.routes: dict[type[Event], Route] = {}
        self._seq = itertools.count()

    def subscribe(
        self, event_type: type[E], handler: Callable[[E], None], *, symbol: str | None = None
    ) -> None:
        """Call ``handler(event)`` for every published ``event_type`` (of ``symbol``, if given).

        Subclasses of ``event_type`` are delivered too. Subscribing the same handler twice for
        the same type and symbol is a no-op.
        """
        for _, etype, sym, existing in self._subscriptions:
            if etype is event_type and sym == symbol and existing == handler:
                return
        self._subscriptions.append((next(self._seq), event_type, symbol, handler))
        self.routes.clear()

    def unsubscribe(
        self, event_type: type[E], handler: Callable[[E], None], *, symbol: str | None = None
    ) -> None:
        """Remove a subscription made with the same arguments; unknown ones are ignored."""
        self._subscriptions = [
            s
            for s in self._subscriptions
            if not (s[1] is event_type and s[2] == symbol and s[3] == handler)
        ]
        self.routes.clear()

    def has_subscribers(self, event_type: type[Event]) -> bool:
        """Whether any handler would receive some event of ``event_type``."""
        return any(issubclass(event_type, etype) for _, etype, _, _ in self._subscriptions)

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

    def compile_route(self, cls: type[Event]) -> Route:
        """Build, store and return the route of events of ``cls``."""
        matching = [s for s in self._subscriptions if issubclass(cls, s[1])]
        catch_all = tuple(s[3] for s in matching if s[2] is None)
        symbols = {s[2] for s in matching if s[2] is not None}
        by_symbol: dict[str, tuple[Handler, ...]] | None = None
        if symbols:
            by_symbol = {
                sym: tuple(s[3] for s in matching if s[2] is None or s[2] == sym) for sym in symbols
            }
        route = (catch_all or _NO_HANDLERS, by_symbol)
        self.routes[cls] = route
        return route
