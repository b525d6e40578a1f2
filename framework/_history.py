"""History windows: the last ``n`` final bars a strategy received, per symbol and interval.

``Strategy.history(symbol, n, interval=None)`` returns a :class:`BarWindow`, a read-only
sequence over a :class:`BarRing`. The ring keeps, per series, the newest bars up to its
capacity, which is the largest ``n`` the strategy asked for that series: each bar costs a
constant number of stores and memory never grows past the capacity.

The ring stores every value twice, at ``i`` and ``i + capacity`` of arrays twice the capacity
long, so the newest ``k`` values are always one contiguous slice: a column (``window.close``)
is a read-only ``memoryview`` of that slice, with no copy, which numpy reads through the buffer
protocol (``numpy.asarray(window.close)``).

Bars reach the rings through the strategy's bar hook: once a strategy asks for a history, its
bar subscriptions call :meth:`BarHistory.handler`'s recorder in place of ``on_bar``, which
stores the bar and then calls ``on_bar``. A strategy that never asks pays nothing.
"""

from __future__ import annotations

import operator
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import overload

from ._events import Bar

BarHandler = Callable[[Bar], None]


class BarRing:
    """The newest bars of one series, at most ``capacity``, with their columns."""

    __slots__ = (
        "_bars",
        "_close",
        "_high",
        "_low",
        "_next",
        "_open",
        "_ts_event",
        "_views",
        "_volume",
        "capacity",
        "count",
        "end",
    )

    def __init__(self, capacity: int) -> None:
        self._allocate(capacity)
        #: Bars stored since the buffer was last sized (the newest ``capacity`` are held).
        self.count = 0

    def _allocate(self, capacity: int) -> None:
        self.capacity = capacity
        size = 2 * capacity
        self._bars: list[Bar | None] = [None] * size
        self._open = array("d", bytes(8 * size))
        self._high = array("d", bytes(8 * size))
        self._low = array("d", bytes(8 * size))
        self._close = array("d", bytes(8 * size))
        self._volume = array("d", bytes(8 * size))
        self._ts_event = array("q", bytes(8 * size))
        self._views = {
            name: memoryview(column).toreadonly()
            for name, column in (
                ("open", self._open),
                ("high", self._high),
                ("low", self._low),
                ("close", self._close),
                ("volume", self._volume),
                ("ts_event", self._ts_event),
            )
        }
        #: Where the next bar goes (and ``+ capacity``, its twin).
        self._next = 0
        #: One past the newest bar's twin: the newest ``k`` bars are ``[end - k, end)``.
        self.end = capacity

    def append(self, bar: Bar) -> None:
        i = self._next
        j = i + self.capacity
        self._bars[i] = self._bars[j] = bar
        self._open[i] = self._open[j] = bar.open
        self._high[i] = self._high[j] = bar.high
        self._low[i] = self._low[j] = bar.low
        self._close[i] = self._close[j] = bar.close
        self._volume[i] = self._volume[j] = bar.volume
        self._ts_event[i] = self._ts_event[j] = bar.ts_event
        self._next = i + 1 if i + 1 < self.capacity else 0
        self.end = j + 1
        self.count += 1

    def grow(self, capacity: int) -> None:
        """Hold up to ``capacity`` bars from now on, keeping those held."""
        if capacity <= self.capacity:
            return
        kept = self.newest(self.held())
        self._allocate(capacity)
        self.count = 0
        for bar in kept:
            self.append(bar)

    def held(self) -> int:
        return self.count if self.count < self.capacity else self.capacity

    def bar(self, age: int) -> Bar:
        """The bar ``age`` bars back: 1 is the newest."""
        return self._bars[self.end - age]  # type: ignore[return-value]

    def newest(self, k: int) -> list[Bar]:
        return self._bars[self.end - k : self.end]  # type: ignore[return-value]

    def column(self, name: str, k: int) -> memoryview:
        return self._views[name][self.end - k : self.end]


class BarWindow(Sequence[Bar]):
    """The newest ``n`` final bars of one series, oldest first; fewer until ``n`` have come.

    A live, read-only view: it follows the series as bars arrive, so one can be kept from
    ``on_start``. ``window[-1]`` is the newest bar (in ``on_bar``, the bar being delivered),
    ``window[0]`` the oldest; ``len``, iteration and slices (a list) work as for a list.

    The columns ``open``, ``high``, ``low``, ``close``, ``volume`` (floats) and ``ts_event``
    (ints) are read-only ``memoryview`` s of the window as it is when read, without a copy;
    later bars overwrite what they show, so copy one to keep it (``list(window.close)``,
    ``numpy.array(window.close)``). ``capacity`` is how many bars the series keeps.
    """

    __slots__ = ("_n", "_ring")

    def __init__(self, ring: BarRing, n: int) -> None:
        self._ring = ring
        self._n = n

    @property
    def capacity(self) -> int:
        """How many bars the series' buffer holds at most (the largest ``n`` asked for)."""
        return self._ring.capacity

    def __len__(self) -> int:
        held = self._ring.held()
        return held if held < self._n else self._n

    @overload
    def __getitem__(self, index: int) -> Bar: ...
    @overload
    def __getitem__(self, index: slice) -> list[Bar]: ...
    def __getitem__(self, index: int | slice) -> Bar | list[Bar]:
        k = len(self)
        if isinstance(index, slice):
            return self._ring.newest(k)[index]
        i = operator.index(index)
        if i < 0:
            i += k
        if not 0 <= i < k:
            raise IndexError(f"bar window index {index} out of range ({k} bars)")
        return self._ring.bar(k - i)

    def __iter__(self) -> Iterator[Bar]:
        return iter(self._ring.newest(len(self)))

    def __repr__(self) -> str:
        return f"<BarWindow of {len(self)} bars (n={self._n}, capacity={self.capacity})>"

    @property
    def open(self) -> memoryview:
        """The opens of the window's bars, oldest first: a read-only view, no copy."""
        return self._ring.column("open", len(self))

    @property
    def high(self) -> memoryview:
        """The highs of the window's bars, oldest first: a read-only view, no copy."""
        return self._ring.column("high", len(self))

    @property
    def low(self) -> memoryview:
        """The lows of the window's bars, oldest first: a read-only view, no copy."""
        return self._ring.column("low", len(self))

    @property
    def close(self) -> memoryview:
        """The closes of the window's bars, oldest first: a read-only view, no copy."""
        return self._ring.column("close", len(self))

    @property
    def volume(self) -> memoryview:
        """The volumes of the window's bars, oldest first: a read-only view, no copy."""
        return self._ring.column("volume", len(self))

    @property
    def ts_event(self) -> memoryview:
        """The times (``ts_event``, ns) of the window's bars, oldest first: a read-only view."""
        return self._ring.column("ts_event", len(self))


class BarHistory:
    """The history windows of one strategy and the recorders that fill them.

    Series are keyed by symbol and by the interval label of the subscription that delivers
    them (None for plain bar subscriptions). ``on_bar`` is the strategy's hook the recorders
    call after storing a bar.
    """

    __slots__ = ("_handlers", "_on_bar", "_rings", "windows")

    def __init__(self, on_bar: BarHandler) -> None:
        self._on_bar = on_bar
        #: interval label or None -> symbol -> ring.
        self._rings: dict[str | None, dict[str, BarRing]] = {}
        self._handlers: dict[str | None, BarHandler] = {}
        #: (symbol, n, interval as the strategy passed it) -> window; the fast path of
        #: ``Strategy.history``.
        self.windows: dict[tuple[str, int, object], BarWindow] = {}

    def window(self, symbol: str, n: int, label: str | None) -> BarWindow:
        """The window of the newest ``n`` bars of (``symbol``, ``label``), sized to hold them."""
        if type(n) is not int or n < 1:
            raise ValueError(f"a history needs n >= 1 bars, got {n!r}")
        rings = self._rings.setdefault(label, {})
        ring = rings.get(symbol)
        if ring is None:
            ring = rings[symbol] = BarRing(n)
        else:
            ring.grow(n)
        return BarWindow(ring, n)

    def ring(self, symbol: str, label: str | None) -> BarRing | None:
        return self._rings.get(label, {}).get(symbol)

    def handler(self, label: str | None) -> BarHandler:
        """The bar handler for subscriptions of ``label``: store, then call ``on_bar``."""
        handler = self._handlers.get(label)
        if handler is None:
            rings = self._rings.setdefault(label, {})
            on_bar = self._on_bar

            def record(bar: Bar) -> None:
                ring = rings.get(bar.symbol)
                if ring is not None:
                    ring.append(bar)
                on_bar(bar)

            handler = self._handlers[label] = record
        return handler
