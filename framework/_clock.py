"""Clocks and timers: one interface, wall time live and event time in replay.

Strategies read time only through their clock (``self.clock.now()``) and schedule timers through
it, so the same strategy runs unchanged live and in a backtest. In replay the engine moves the
:class:`SimulatedClock` to each event's ``ts_event`` and fires every timer due before that
event first, in due-time order, so timers interleave with data exactly as they would have live.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol

import attrs

from ._errors import ConfigError


class Clock(Protocol):
    """What strategies and the broker read time from."""

    def now(self) -> int:
        """Current time, UTC nanoseconds."""
        ...


class LiveClock:
    """The wall clock (``time.time_ns``), for live and paper trading."""

    __slots__ = ()

    def now(self) -> int:
        """Nanoseconds since the Unix epoch, now."""
        return time.time_ns()


class SimulatedClock:
    """Event time: stands still until the engine advances it to the next event or timer."""

    __slots__ = ("time_ns",)

    def __init__(self, start: int = 0) -> None:
        #: The current event time. The engine's dispatch loop, which alone moves a run's
        #: event time, sets it directly for each new event time (a method call there would
        #: cost 3% of a backtest); everyone else calls :meth:`advance_to`.
        self.time_ns = start

    def now(self) -> int:
        """The current event time, in nanoseconds since the Unix epoch."""
        return self.time_ns

    def advance_to(self, ts: int) -> None:
        """Move to ``ts``; time never goes backwards (earlier values are ignored)."""
        if ts > self.time_ns:
            self.time_ns = ts


@attrs.define(slots=True, eq=False)
class _Timer:
    owner: int
    name: str
    due: int
    every: int | None
    callback: Callable[[str, int], None]
    cancelled: bool = False


#: Sentinel "no timer pending": later than any real timestamp.
NEVER = 2**63 - 1


class TimerQueue:
    """Timers ordered by due time, then by the order they were set (deterministic ties)."""

    __slots__ = ("_by_key", "_heap", "_seq", "due_hint")

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, _Timer]] = []
        self._seq = itertools.count()
        self._by_key: dict[tuple[int, str], _Timer] = {}
        #: A lower bound of :attr:`next_due`, as a plain attribute: the engine reads it once
        #: per event, where a property call would cost more than the whole check.
        self.due_hint = NEVER

    @property
    def next_due(self) -> int:
        """Due time of the earliest live timer, or :data:`NEVER`."""
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
        return heap[0][0] if heap else NEVER

    def set(
        self,
        owner: int,
        name: str,
        due: int,
        callback: Callable[[str, int], None],
        *,
        every: int | None = None,
    ) -> None:
        """Schedule ``callback(name, due)``; a timer of the same owner and name is replaced."""
        if every is not None and every <= 0:
            raise ConfigError(f"timer {name!r}: repeat interval must be positive, got {every}")
        self.cancel(owner, name)
        timer = _Timer(owner, name, due, every, callback)
        self._by_key[(owner, name)] = timer
        heapq.heappush(self._heap, (due, next(self._seq), timer))
        if due < self.due_hint:
            self.due_hint = due

    def cancel(self, owner: int, name: str) -> bool:
        """Cancel a pending timer; returns whether one was pending."""
        timer = self._by_key.pop((owner, name), None)
        if timer is None:
            return False
        timer.cancelled = True
        return True

    def consume(self, owner: int, name: str) -> bool:
        """Account for a firing that happened elsewhere: a recorded live firing replayed.

        A one-shot timer is no longer pending; a repeating one stays pending. Returns whether
        the timer was pending. The queue itself fires nothing by time for such timers.
        """
        timer = self._by_key.get((owner, name))
        if timer is None:
            return False
        if timer.every is None:
            del self._by_key[(owner, name)]
            timer.cancelled = True
        return True

    def pop_due(self, until: int) -> list[tuple[int, _Timer]]:
        """Remove and return timers due at or before ``until`` (repeating ones are re-armed)."""
        fired: list[tuple[int, _Timer]] = []
        heap = self._heap
        while heap and heap[0][0] <= until:
            due, _, timer = heapq.heappop(heap)
            if timer.cancelled:
                continue
            fired.append((due, timer))
            if timer.every is not None:
                timer.due = due + timer.every
                heapq.heappush(heap, (timer.due, next(self._seq), timer))
        self.due_hint = heap[0][0] if heap else NEVER
        return fired

    def fire_due(self, until: int, clock: SimulatedClock | None) -> int:
        """Fire every timer due at or before ``until``, in order, moving ``clock`` to each.

        Timers set by a callback fire too if they are due by ``until``. Returns how many fired.
        """
        fired = 0
        while self.next_due <= until:
            for due, timer in self.pop_due(self.next_due):
                if clock is not None:
                    clock.advance_to(due)
                if timer.every is None and self._by_key.get((timer.owner, timer.name)) is timer:
                    del self._by_key[(timer.owner, timer.name)]
                timer.callback(timer.name, due)
                fired += 1
        # next_due has just dropped cancelled timers from the top: the hint is exact again.
        self.due_hint = self.next_due
        return fired
