"""Replay feeds merged into one stream, in the order the engine promises: by ``ts_event``,
ties going to the feed listed first, each feed's own order kept.

Before choosing what goes next, the merge waits for every open feed's next batch, so the
order never depends on task scheduling. Feeds whose times only increase (every bar file and
Arrow source) are merged a round at a time: the *bound* is the smallest last time held from an
open feed; every held event before it may go, since no feed can still send an earlier one.
They leave in one stable sort of the feeds' parts joined in feed order (Timsort merges the
sorted parts at C speed), so an event costs the same whether there are 2 feeds or 100. Events
at the bound wait until the feeds holding it are read further.

A feed whose times go back (notifications stamped with this machine's clock among market
data) switches the merge to choosing one head at a time, the rule that holds for any input.
"""

from __future__ import annotations

import heapq
import itertools
import math
import operator
from bisect import bisect_left
from collections.abc import Callable, Sequence

import trio

from ._events import Event

_ts_event = operator.attrgetter("ts_event")


class FeedMerge:
    """Batches of the events received on ``receivers``, merged as the module describes."""

    def __init__(self, receivers: Sequence[trio.MemoryReceiveChannel[Sequence[Event]]]) -> None:
        self._receivers = list(receivers)
        count = len(self._receivers)
        # Each feed's events received and not yet sent on, in its own order.
        self._held: list[list[Event]] = [[] for _ in range(count)]
        self._ended = [False] * count
        self._last = [-math.inf] * count  # the last time received from each feed
        self._in_order = True

    async def start(self) -> list[list[Event]]:
        """Read every feed's first events; returns what is held (to find the first time)."""
        for index in range(len(self._receivers)):
            await self._read(index)
        return [held for held in self._held if held]

    async def run(self, deliver: Callable[[list[Event]], None]) -> None:
        """Call ``deliver`` with the merged events, a round at a time; call :meth:`start`
        first. (A callback, not an async generator: an exception from ``deliver`` must leave
        nothing half-iterated behind.)"""
        held, ended = self._held, self._ended
        while self._in_order:
            open_lasts = [held[i][-1].ts_event for i in range(len(held)) if not ended[i]]
            bound = min(open_lasts, default=math.inf)
            parts: list[list[Event]] = []
            for index, events in enumerate(held):
                if not events:
                    continue
                if events[-1].ts_event < bound:
                    parts.append(events)
                    held[index] = []
                else:
                    cut = bisect_left(events, bound, key=_ts_event)
                    if cut:
                        parts.append(events[:cut])
                        del events[:cut]
            if parts:
                run = parts[0] if len(parts) == 1 else list(itertools.chain.from_iterable(parts))
                if len(parts) > 1:
                    run.sort(key=_ts_event)
                deliver(run)
            if bound == math.inf:
                return
            for index, events in enumerate(held):
                if not ended[index] and (not events or events[-1].ts_event == bound):
                    await self._read(index)
        await self._head_by_head(deliver)

    async def _head_by_head(self, deliver: Callable[[list[Event]], None]) -> None:
        """Send the run of the earliest head that precedes every other feed's head, and again:
        right for feeds in any order, at a heap operation per run."""
        heap = [(events[0].ts_event, i, 0, events) for i, events in enumerate(self._held) if events]
        heapq.heapify(heap)
        while heap:
            _, index, pos, batch = heapq.heappop(heap)
            bound = heap[0][0] if heap else math.inf
            end = pos
            while end < len(batch) and (
                batch[end].ts_event < bound or (batch[end].ts_event == bound and index < heap[0][1])
            ):
                end += 1
            end = max(end, pos + 1)
            deliver(batch[pos:end])
            if end < len(batch):
                heapq.heappush(heap, (batch[end].ts_event, index, end, batch))
            else:
                self._held[index] = []
                if not self._ended[index] and await self._read(index):
                    events = self._held[index]
                    heapq.heappush(heap, (events[0].ts_event, index, 0, events))

    async def _read(self, index: int) -> bool:
        """Add feed ``index``'s next non-empty batch to what it holds; False at its end."""
        while True:
            try:
                batch = await self._receivers[index].receive()
            except trio.EndOfChannel:
                self._ended[index] = True
                return False
            if batch:
                break
        times = list(map(_ts_event, batch))
        if self._last[index] > times[0] or not all(map(operator.le, times, times[1:])):
            self._in_order = False
        self._last[index] = times[-1]
        self._held[index].extend(batch)
        return True
