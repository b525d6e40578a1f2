"""The Feed protocol: how market data enters the engine.

A feed is any object with a ``name``, an ``is_live`` flag and::

    async def run(self, send: trio.MemorySendChannel[EventBatch], *, task_status=...) -> None

``run`` calls ``task_status.started()`` once it is ready, sends lists of events (batches, so the
channel is crossed once per batch rather than once per event), and closes ``send`` when it has
no more data. It raises only tradewire errors. Within one feed, events are in ``ts_event``
order. Replay feeds (``is_live = False``) run in simulated time and the engine merges several
of them deterministically by ``ts_event``; live feeds are delivered in arrival order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import trio

from .._events import Event

#: What a feed sends across its channel: a run of events in ``ts_event`` order.
EventBatch = Sequence[Event]

#: How many events a replay feed packs into one batch.
REPLAY_BATCH_SIZE = 1024


@runtime_checkable
class Feed(Protocol):
    """A source of events: any object with a ``name``, an ``is_live`` flag and :meth:`run`.

    Replay feeds (``is_live = False``) run in simulated time and the engine merges several of
    them deterministically by ``ts_event``; live feeds are delivered in arrival order.
    """

    #: Names the feed in errors, statistics and data issues.
    name: str
    #: True for a feed of the wall clock's present; False for a replay in simulated time.
    is_live: bool

    async def run(
        self,
        send: trio.MemorySendChannel[EventBatch],
        *,
        task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Send the feed's events to ``send`` in batches, then close it.

        Calls ``task_status.started()`` once ready (the engine starts feeds with
        ``nursery.start``), sends lists of events in ``ts_event`` order (batches, so the
        channel is crossed once per batch rather than once per event) and closes ``send`` when
        it has no more data. Backpressure: the channel is bounded, so ``send`` waits while the
        engine is behind. Cancelled, it stops where it is and closes ``send``. It raises only
        tradewire errors (:class:`~framework.FeedError`, :class:`~framework.DataError`).
        """
        ...


class ListFeed:
    """A replay feed over events held in memory: the mock feed for tests and examples."""

    is_live = False

    def __init__(self, events: Sequence[Event], *, name: str = "list") -> None:
        self.name = name
        self._events = list(events)

    async def run(
        self,
        send: trio.MemorySendChannel[EventBatch],
        *,
        task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Send the events in the order given, :data:`REPLAY_BATCH_SIZE` to a batch, then
        close ``send`` (the :class:`Feed` contract)."""
        async with send:
            task_status.started()
            for start in range(0, len(self._events), REPLAY_BATCH_SIZE):
                await send.send(self._events[start : start + REPLAY_BATCH_SIZE])
