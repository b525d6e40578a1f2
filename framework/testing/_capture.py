"""Seeing what a strategy saw: every event delivered to its hooks, with the clock at delivery.

:func:`capture_events` wraps the hooks of one strategy instance (``on_bar``, ``on_quote``,
``on_bar_update``, ``on_timer``, ``on_fill``, ``on_order``, ``on_feed_event``), so it records
exactly what the engine delivered to *that* strategy, after its own subscriptions and symbol
filters, in delivery order. The class is untouched, and so is the engine: the wrappers are
instance attributes, which the engine looks up when the strategy subscribes (after
``on_start``) and when it calls the order and timer hooks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar, overload

import attrs

from .._events import Bar, BarUpdate, Event, OrderFilled, Quote, TimerFired
from .._strategy import Strategy

_E = TypeVar("_E", bound=Event)

#: The hooks that receive events, in the order the strategy docs list them.
HOOKS = (
    "on_bar",
    "on_bar_update",
    "on_quote",
    "on_timer",
    "on_fill",
    "on_order",
    "on_feed_event",
)

_ATTRIBUTE = "_tradewire_captured_events"


@attrs.frozen(slots=True, kw_only=True)
class Delivery:
    """One call of a strategy hook: which hook, the event, and the strategy's clock then."""

    hook: str
    event: Event
    clock_ns: int


class CapturedEvents:
    """The deliveries made to one strategy, oldest first; filled in while the run goes on."""

    def __init__(self, strategy_id: str) -> None:
        self.strategy_id = strategy_id
        self.deliveries: list[Delivery] = []

    def __len__(self) -> int:
        return len(self.deliveries)

    def __iter__(self) -> Iterator[Event]:
        return (d.event for d in self.deliveries)

    def __repr__(self) -> str:
        return f"<CapturedEvents of {self.strategy_id}: {len(self.deliveries)} deliveries>"

    @property
    def events(self) -> list[Event]:
        """Every event delivered, in order."""
        return [d.event for d in self.deliveries]

    @overload
    def of_type(self, event_type: type[_E]) -> list[_E]: ...
    @overload
    def of_type(self, event_type: tuple[type[Event], ...]) -> list[Event]: ...
    def of_type(self, event_type: Any) -> list[Any]:
        """The delivered events that are instances of ``event_type``, in order."""
        return [d.event for d in self.deliveries if isinstance(d.event, event_type)]

    @property
    def bars(self) -> list[Bar]:
        """The final bars delivered, in delivery order."""
        return self.of_type(Bar)

    @property
    def quotes(self) -> list[Quote]:
        """The quotes delivered, in delivery order."""
        return self.of_type(Quote)

    @property
    def bar_updates(self) -> list[BarUpdate]:
        """The in-progress bar updates delivered, in delivery order."""
        return self.of_type(BarUpdate)

    @property
    def fills(self) -> list[OrderFilled]:
        """The fills delivered, in delivery order."""
        return self.of_type(OrderFilled)

    @property
    def timers(self) -> list[TimerFired]:
        """The timer firings delivered, in delivery order."""
        return self.of_type(TimerFired)


def capture_events(strategy: Strategy) -> CapturedEvents:
    """Record every event delivered to ``strategy``'s hooks from now on.

    Call it before the run starts (before the engine calls ``on_start``): hooks are bound when
    the strategy subscribes. Capturing the same strategy twice returns the first capture.
    Hooks the strategy does not override are only called if it subscribed to them, exactly as
    without the capture.
    """
    existing = captured_by(strategy)
    if existing is not None:
        return existing
    captured = CapturedEvents(strategy.strategy_id)
    for hook in HOOKS:
        setattr(strategy, hook, _recording(strategy, hook, getattr(strategy, hook), captured))
    setattr(strategy, _ATTRIBUTE, captured)
    return captured


def _recording(
    strategy: Strategy, hook: str, call: Callable[[Any], None], captured: CapturedEvents
) -> Callable[[Any], None]:
    deliveries = captured.deliveries

    def record(event: Event) -> None:
        deliveries.append(Delivery(hook=hook, event=event, clock_ns=strategy.clock.now()))
        call(event)

    return record


def captured_by(strategy: Strategy) -> CapturedEvents | None:
    """The capture :func:`capture_events` installed on ``strategy``, if any."""
    captured = getattr(strategy, _ATTRIBUTE, None)
    return captured if isinstance(captured, CapturedEvents) else None
