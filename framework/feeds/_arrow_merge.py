"""The bars of several streams (the files of a directory) merged into one run, in the order the
engine gives several feeds: by the time a bar becomes final (``ts_event``), ties going to the
stream that comes first.

Each stream hands out lists of bars in ``ts_event`` order. The merge holds each stream's
current list and the *bound*, the smallest last ``ts_event`` over those lists: every held bar
up to the bound can go at once, since no stream can still send an earlier one. They leave in
one stable sort of the streams' parts joined in stream order (Timsort merges the sorted parts
at C speed), so a bar costs the same however many streams there are; a round costs a few heap
operations per stream that takes part in it. A stream of several symbols may hold more bars at
its last time in its next list: when it sets the bound, it is read further before bars at the
bound leave.

Two streams holding a bar for the same symbol and bar size at the same open time is a repeat:
the second in merge order is dropped and reported. Bars are looked at one by one for that only
in streams holding a symbol and bar size that another stream holds too (learned as lists are
read: a stream of one symbol from its first bar), so files of one symbol each cost nothing.
"""

from __future__ import annotations

import heapq
import itertools
import operator
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence

from .._events import Bar

#: The time that orders a merge, as the engine orders feeds.
_final_time = operator.attrgetter("ts_event")
_symbol = operator.attrgetter("symbol")

#: Called with a bar that repeats one of an earlier stream, the bar's stream and that stream.
OnRepeat = Callable[[Bar, int, int], None]


class BarMerge:
    """Merges the lists of bars of ``sources`` by (``ts_event``, source index).

    ``several_symbols[i]`` says source ``i`` may hold several bars at one time (a symbol
    column); otherwise its times only increase. ``repeated`` is called for each bar dropped as
    a repeat; it may raise, which ends the merge.
    """

    def __init__(
        self,
        sources: Sequence[Iterator[list[Bar]]],
        *,
        several_symbols: Sequence[bool],
        repeated: OnRepeat,
    ) -> None:
        self._sources = list(sources)
        self._several = list(several_symbols)
        self._repeated = repeated
        count = len(self._sources)
        # Each stream's held bars and the index of the first not yet sent.
        self._held: list[list[Bar]] = [[] for _ in range(count)]
        self._start = [0] * count
        self._ended = [False] * count
        self._known = [False] * count
        # Which stream first held each (symbol, bar size); those held by two or more, and
        # whether a stream holds one of them.
        self._owner: dict[tuple[str, str], int] = {}
        self._shared: set[tuple[str, str]] = set()
        self._sharing = [False] * count
        # The open time and stream of the last bar sent per shared (symbol, bar size).
        self._last_sent: dict[tuple[str, str], tuple[int, int]] = {}

    def runs(self) -> Iterator[list[Bar]]:
        """Lists of bars in merge order (none empty), repeats dropped."""
        held, start = self._held, self._start
        # (last held time, stream) of every stream holding bars: the bound is the smallest.
        lasts: list[tuple[int, int]] = []
        # (first unsent time, stream) of every stream holding bars: who takes part in a round.
        firsts: list[tuple[int, int]] = []
        for index in range(len(self._sources)):
            if self._read(index):
                lasts.append((held[index][-1].ts_event, index))
                firsts.append((held[index][0].ts_event, index))
        heapq.heapify(lasts)
        heapq.heapify(firsts)
        while lasts:
            bound = lasts[0][0]
            at_bound: list[int] = []
            while lasts and lasts[0][0] == bound:
                at_bound.append(heapq.heappop(lasts)[1])
            if any(self._several[i] and not self._ended[i] for i in at_bound):
                # More bars at the bound may follow in these streams' next lists; their
                # first unsent bars stay the same (the bound is at least their last).
                for index in at_bound:
                    if self._several[index] and not self._ended[index]:
                        self._read_on(index)
                    heapq.heappush(lasts, (held[index][-1].ts_event, index))
                continue
            settled = set(at_bound)
            taking: list[int] = []
            while firsts and firsts[0][0] <= bound:
                taking.append(heapq.heappop(firsts)[1])
            taking.sort()
            parts: list[list[Bar]] = []
            for index in taking:
                bars, first = held[index], start[index]
                end = bisect_right(bars, bound, lo=first, key=_final_time)
                parts.append(bars[first:end] if first or end < len(bars) else bars)
                start[index] = end
                if end == len(bars):
                    held[index], start[index] = [], 0  # sent: the run below holds them now
            run = self._without_repeats(taking, parts)
            del parts
            if run:
                yield run
            del run
            for index in taking:
                if not held[index] and not self._read(index):
                    continue
                bars = held[index]
                heapq.heappush(firsts, (bars[start[index]].ts_event, index))
                if index in settled:
                    heapq.heappush(lasts, (bars[-1].ts_event, index))

    def _read(self, index: int) -> bool:
        """Hold the next bars of stream ``index``, all of its held bars being sent; False when
        it has none left."""
        bars = self._next_bars(index)
        self._held[index] = bars or []
        self._start[index] = 0
        return bars is not None

    def _read_on(self, index: int) -> None:
        """Add the next bars of stream ``index`` after its unsent ones."""
        bars = self._next_bars(index)
        if bars is not None:
            held = self._held[index]
            del held[: self._start[index]]
            held.extend(bars)
            self._start[index] = 0

    def _next_bars(self, index: int) -> list[Bar] | None:
        for bars in self._sources[index]:
            if bars:
                self._learn(index, bars)
                return bars
        self._ended[index] = True
        return None

    def _learn(self, index: int, bars: list[Bar]) -> None:
        """Note which (symbol, bar size) stream ``index`` holds: a repeat across streams is
        possible only for those two streams hold."""
        if self._several[index]:
            symbols = set(map(_symbol, bars))
        elif self._known[index]:
            return  # a stream of one symbol: known since its first bar
        else:
            symbols = {bars[0].symbol}
            self._known[index] = True
        interval = bars[0].interval
        for symbol in symbols:
            key = (symbol, interval)
            first = self._owner.setdefault(key, index)
            if first != index:
                self._shared.add(key)
                self._sharing[first] = self._sharing[index] = True

    def _without_repeats(self, streams: list[int], parts: list[list[Bar]]) -> list[Bar]:
        """The ``parts`` of ``streams`` (ascending) as one run in merge order, each bar that
        repeats an earlier stream's bar reported and left out."""
        sharing = [k for k, index in enumerate(streams) if self._sharing[index]]
        if sharing:
            dropped = self._repeats([(streams[k], parts[k]) for k in sharing])
            if dropped:
                for k in sharing:
                    parts[k] = [bar for bar in parts[k] if id(bar) not in dropped]
        if len(parts) == 1:
            return parts[0]
        run = list(itertools.chain.from_iterable(parts))
        run.sort(key=_final_time)  # stable: ties stay in stream order
        return run

    def _repeats(self, parts: list[tuple[int, list[Bar]]]) -> set[int]:
        """The ids of the bars of ``parts`` (of streams holding a shared symbol) that repeat a
        bar of another stream, reported in merge order."""
        shared, last_sent = self._shared, self._last_sent
        tagged = [zip(bars, itertools.repeat(index)) for index, bars in parts]
        dropped: set[int] = set()
        for bar, index in heapq.merge(*tagged, key=lambda pair: pair[0].ts_event):
            key = (bar.symbol, bar.interval)
            if key not in shared:
                continue
            before = last_sent.get(key)
            if before is not None and before[0] == bar.ts_open and before[1] != index:
                self._repeated(bar, index, before[1])
                dropped.add(id(bar))
                continue
            last_sent[key] = (bar.ts_open, index)
        return dropped
