"""The buffer between the socket reader and the engine, with a policy per kind of event.

The reader must never wait on strategies (a stalled reader stops answering pings and the server
drops slow consumers), so it hands events to an :class:`Outbox` that never blocks. A forwarder
task moves whatever accumulated to the engine as one batch. When nothing is waiting and the
engine's channel (attached with :meth:`Outbox.attach`) has room, the events go straight into it
instead: the engine keeps up, and each frame saves a wake-up of the forwarder. While the engine
is behind:

- quotes conflate: a newer quote for a symbol replaces the pending one (counted);
- everything else (bars, gaps, connection events) is kept, in order, up to ``max_pending``
  events; past that the outbox reports an overflow so the feed can resynchronise, and nothing
  already accepted is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable

import trio

from ..._events import Event, Quote
from ...feeds._feed import EventBatch

#: Events held for a slow engine before the feed is told to resynchronise.
DEFAULT_MAX_PENDING = 200_000


class Outbox:
    """Never-blocking producer side, awaitable consumer side."""

    def __init__(self, *, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        self.max_pending = max_pending
        self.conflated = 0
        self._pending: list[Event | None] = []
        self._quote_slot: dict[str, int] = {}
        self._ready = trio.Event()
        self._closed = False
        self._direct: trio.MemorySendChannel[EventBatch] | None = None

    def attach(self, send: trio.MemorySendChannel[EventBatch] | None) -> None:
        """Let :meth:`put` hand lists straight to ``send`` while nothing is pending (None:
        stop). Order is kept: whatever waits here, or in a send blocked on a full channel,
        makes :meth:`put` queue behind it."""
        self._direct = send

    def put(self, events: Iterable[Event]) -> bool:
        """Queue ``events``; returns False once more than ``max_pending`` are waiting."""
        pending = self._pending
        direct = self._direct
        if direct is not None and not pending and events.__class__ is list and events:
            try:
                direct.send_nowait(events)
                return True
            except (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError):
                # A full channel, or one the engine stopped reading: the forwarder's send
                # waits, or raises where the feed expects it to.
                pass
        slots = self._quote_slot
        for event in events:
            if event.__class__ is Quote:
                symbol = event.symbol
                old = slots.get(symbol)
                if old is not None:
                    # Keep time order: drop the older snapshot, append the newer one.
                    pending[old] = None
                    self.conflated += 1
                slots[symbol] = len(pending)
            pending.append(event)
        self._ready.set()
        return len(pending) <= self.max_pending

    def close(self) -> None:
        """No more events; the consumer drains what is left, then gets None."""
        self._closed = True
        self._ready.set()

    async def take(self) -> list[Event] | None:
        """Wait for events and take all of them; None when closed and drained."""
        while not self._pending:
            if self._closed:
                return None
            await self._ready.wait()
            self._ready = trio.Event()
        batch = [e for e in self._pending if e is not None]
        self._pending = []
        self._quote_slot = {}
        return batch

    def requeue(self, batch: list[Event]) -> None:
        """Put back a batch that could not be handed on, ahead of anything newer."""
        self._pending[:0] = batch
        self._quote_slot = {
            event.symbol: index
            for index, event in enumerate(self._pending)
            if event is not None and event.__class__ is Quote
        }
        self._ready.set()

    def drain(self) -> list[Event]:
        """Take everything pending now, without waiting."""
        batch = [e for e in self._pending if e is not None]
        self._pending = []
        self._quote_slot = {}
        return batch

    def __len__(self) -> int:
        return len(self._pending)
