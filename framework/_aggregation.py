"""Bars of other intervals, built from a run's finer bars or quotes (multi-timeframe).

A strategy asks with ``self.subscribe(Bar, "NASDAQ:AAPL", interval="5m")``. :class:`IntervalBars`
keeps one :class:`BarAggregator` per (symbol, interval) asked for, shared by every strategy that
asked, listens on the bus (last, so a finer bar reaches everyone before the bar it completes)
and publishes what the aggregators build with :meth:`EventBus.publish_interval`. A built bar is
a pure function of the events before it, so live, replayed and backtested runs build the same
bars. The rules, in docs/bars.md:

- Buckets are aligned to the UTC clock: multiples of the interval since the Unix epoch (so
  ``5m``, ``1h``, ``1D`` start on the minute, the hour, UTC midnight); weeks start on Monday.
- The source is the first bar interval of the symbol that fits the bucket (no longer than the
  interval, dividing it evenly); bars of other intervals are ignored. The feed's own bars of
  the interval asked for are passed on unchanged. Quotes (their last price) are the source
  only until the symbol's first such bar.
- A bucket of finer bars is final when a bar of it that ends at the bucket's end is final by
  then (its ``ts_event`` is not earlier), or else when the first bar of a later bucket arrives.
  A bucket of quotes is final at the first quote stamped at or after its end.
- The built bar: ``ts_open`` = bucket start, ``ts_event`` = ``ts_recv`` = bucket end; open,
  high, low, close of the bars (or last prices) in it; volume their sum (for quotes: the rise
  of the venue's cumulative ``volume``, else 0); ``is_backfill`` if any of its bars was.
- A bucket with no data gives no bar; the first bucket an aggregator sees gives none unless its
  first input started exactly at the bucket's start; the bucket still open when data ends
  gives none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from ._events import Bar, Quote
from ._intervals import Interval
from ._time import NANOS_PER_SECOND

if TYPE_CHECKING:
    from ._bus import EventBus

#: ``emit(bar, built)``: a bar the aggregator built, or (``built=False``) a feed's bar of the
#: aggregator's own interval passed on as it is.
Emit = Callable[[Bar, bool], None]

#: The Unix epoch was a Thursday: weeks start four days later, on Monday 1970-01-05.
_WEEK_ORIGIN: Final = 4 * 86_400 * NANOS_PER_SECOND

#: Bar interval label -> length in ns, or None when it has no fixed length (ticks, months) or
#: does not parse; filled as labels are met (a run has a handful).
_LABEL_NANOS: dict[str, int | None] = {}


def _label_nanos(label: str) -> int | None:
    try:
        return _LABEL_NANOS[label]
    except KeyError:
        pass
    try:
        nanos = Interval.parse(label).nanos
    except ValueError:
        nanos = None
    _LABEL_NANOS[label] = nanos
    return nanos


def buildable(interval: Interval) -> int:
    """The length in ns of the buckets of ``interval``; ValueError for ticks and months."""
    nanos = interval.nanos
    if nanos is None:
        if interval.unit == "tick":
            raise ValueError("cannot build tick bars: ticks are not bars of a fixed length")
        raise ValueError(f"cannot build {interval.label} bars: months vary in length")
    return nanos


class BarAggregator:
    """Builds the bars of one symbol and interval from finer bars, or from quotes; see the
    module docstring for the rules. Feed it a symbol's bars and quotes in event order."""

    __slots__ = (
        "_backfill",
        "_close",
        "_emit",
        "_end",
        "_first",
        "_high",
        "_last_volume",
        "_low",
        "_open",
        "_origin",
        "_partial",
        "_passing_on",
        "_priced",
        "_size",
        "_source_size",
        "_start",
        "_volume",
        "closed_until",
        "interval",
        "label",
        "source",
        "symbol",
    )

    def __init__(self, symbol: str, interval: Interval, emit: Emit) -> None:
        self.symbol = symbol
        self.interval = interval
        self.label = interval.label
        self._size = buildable(interval)
        self._origin = _WEEK_ORIGIN if interval.unit == "week" else 0
        self._emit = emit
        #: What bars are built from: None until the first input, then ``"quote"`` or the label
        #: of the finer bars (for good, once bars).
        self.source: str | None = None
        self._source_size = 0
        self._passing_on = False
        #: Inputs before this time belong to a bucket already closed; they are ignored.
        self.closed_until = 0
        #: No bucket closed yet: the one in progress may have started before we looked.
        self._first = True
        self._start = self._end = -1  # the bucket in progress; -1: none
        self._partial = False
        self._priced = False
        self._open = self._high = self._low = self._close = self._volume = 0.0
        self._backfill = False
        self._last_volume: float | None = None

    # -- input -------------------------------------------------------------------------------

    def add_bar(self, bar: Bar) -> None:
        """Take a bar of the symbol; bars of intervals other than the source are ignored."""
        if bar.interval != self.source and not self._adopt(bar.interval):
            return
        ts = bar.ts_open
        if ts < self.closed_until:
            return
        if self._passing_on:
            self.closed_until = ts + 1  # a repeat of this bar or an older one is not passed on
            self._emit(bar, False)
            return
        if self._end >= 0 and ts >= self._end:
            self._finish()
        if self._end < 0:
            self._begin(ts)
        elif ts < self._start:
            return  # out of order, before the bucket in progress
        if self._priced:
            if bar.high > self._high:
                self._high = bar.high
            if bar.low < self._low:
                self._low = bar.low
            self._close = bar.close
            self._volume += bar.volume
        else:
            self._priced = True
            self._open, self._high, self._low = bar.open, bar.high, bar.low
            self._close, self._volume = bar.close, bar.volume
        if bar.is_backfill:
            self._backfill = True
        end = self._end
        # The bar that ends the bucket completes it, unless it was final before the bucket's
        # end (a session cut it short): then the bucket's bar would be stamped in the future.
        if ts + self._source_size >= end and bar.ts_event >= end:
            self._finish()

    def add_quote(self, quote: Quote) -> None:
        """Take a quote of the symbol; ignored once the aggregator builds from bars."""
        source = self.source
        if source is None:
            self.source = "quote"
        elif source != "quote":
            return
        ts = quote.ts_event
        if ts < self.closed_until:
            return
        if self._end >= 0:
            if ts >= self._end:
                self._finish()
            elif ts < self._start:
                return  # stamped before the bucket in progress: late
        volume = quote.volume
        rise = 0.0
        if volume is not None:
            last = self._last_volume
            if last is not None:
                # The venue's cumulative volume falls only when its session restarts the count.
                rise = volume - last if volume >= last else volume
            self._last_volume = volume
        if self._end < 0:
            self._begin(ts)
        self._volume += rise
        price = quote.last_price
        if price is None:
            return
        if self._priced:
            if price > self._high:
                self._high = price
            elif price < self._low:
                self._low = price
            self._close = price
        else:
            self._priced = True
            self._open = self._high = self._low = self._close = price

    # -- buckets -----------------------------------------------------------------------------

    def _adopt(self, label: str) -> bool:
        """Whether bars of ``label`` become the source (the first that fits, for good)."""
        if self.source is not None and self.source != "quote":
            return False
        nanos = _label_nanos(label)
        if nanos is None or nanos > self._size or self._size % nanos:
            return False
        if self.source == "quote":
            # Bars replace quotes: the bucket in progress restarts from bars, with the rules of
            # a first bucket; buckets already built from quotes stay as they were.
            self._start = self._end = -1
            self._first = True
        self.source = label
        self._source_size = nanos
        self._passing_on = label == self.label
        return True

    def _begin(self, ts: int) -> None:
        start = ts - (ts - self._origin) % self._size
        self._start, self._end = start, start + self._size
        self._partial = self._first and ts != start
        self._priced = False
        self._volume = 0.0
        self._backfill = False

    def _finish(self) -> None:
        start, end = self._start, self._end
        self._start = self._end = -1
        self.closed_until = end
        self._first = False
        if not self._priced or self._partial:
            return
        bar = Bar(
            symbol=self.symbol,
            interval=self.label,
            ts_open=start,
            open=self._open,
            high=self._high,
            low=self._low,
            close=self._close,
            volume=self._volume,
            ts_event=end,
            ts_recv=end,
            is_backfill=self._backfill,
        )
        self._emit(bar, True)


class IntervalBars:
    """The bars of other intervals the strategies of one run asked for.

    One :class:`BarAggregator` per (symbol, interval), however many strategies asked for it;
    ``symbol=None`` asks for every symbol, each aggregator starting with that symbol's first
    bar or quote. While any is asked for, it listens to bars and quotes on the bus (after every
    other handler) and publishes built bars with :meth:`EventBus.publish_interval`; aggregators
    of one symbol that complete bars on the same input publish the shorter interval first.
    """

    __slots__ = ("_bus", "_by_symbol", "_requests", "_wildcards")

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        #: symbol -> its aggregators, shortest interval first.
        self._by_symbol: dict[str, list[BarAggregator]] = {}
        #: (symbol or None, label) -> how many subscriptions asked for it.
        self._requests: dict[tuple[str | None, str], int] = {}
        #: Intervals asked for every symbol, by label.
        self._wildcards: dict[str, Interval] = {}

    def request(self, symbol: str | None, interval: Interval) -> None:
        """Build ``interval`` bars of ``symbol`` (every symbol if None) until released."""
        buildable(interval)
        key = (symbol, interval.label)
        count = self._requests.get(key, 0)
        self._requests[key] = count + 1
        if count:
            return
        if symbol is None:
            self._wildcards[interval.label] = interval
            for known in self._by_symbol:
                self._ensure(known, interval)
        else:
            self._ensure(symbol, interval)
        if len(self._requests) == 1:
            self._bus.subscribe(Bar, self.on_bar, last=True)
            self._bus.subscribe(Quote, self.on_quote, last=True)

    def release(self, symbol: str | None, interval: Interval) -> None:
        """Undo one :meth:`request`; an aggregator nobody asks for any more is dropped."""
        label = interval.label
        key = (symbol, label)
        count = self._requests.get(key, 0)
        if count > 1:
            self._requests[key] = count - 1
            return
        if not count:
            return
        del self._requests[key]
        if symbol is None:
            del self._wildcards[label]
            symbols = [s for s in self._by_symbol if (s, label) not in self._requests]
        else:
            symbols = [] if label in self._wildcards else [symbol]
        for name in symbols:
            kept = [a for a in self._by_symbol.get(name, ()) if a.label != label]
            if kept:
                self._by_symbol[name] = kept
            else:
                self._by_symbol.pop(name, None)
        if not self._requests:
            self._bus.unsubscribe(Bar, self.on_bar)
            self._bus.unsubscribe(Quote, self.on_quote)

    def aggregator(self, symbol: str, interval: str | Interval) -> BarAggregator | None:
        """The aggregator building ``interval`` bars of ``symbol``, if one is."""
        label = interval.label if isinstance(interval, Interval) else Interval.parse(interval).label
        for aggregator in self._by_symbol.get(symbol, ()):
            if aggregator.label == label:
                return aggregator
        return None

    def on_bar(self, bar: Bar) -> None:
        aggregators = self._by_symbol.get(bar.symbol) or self._start_symbol(bar.symbol)
        for aggregator in aggregators:
            aggregator.add_bar(bar)

    def on_quote(self, quote: Quote) -> None:
        aggregators = self._by_symbol.get(quote.symbol) or self._start_symbol(quote.symbol)
        for aggregator in aggregators:
            aggregator.add_quote(quote)

    def _start_symbol(self, symbol: str) -> list[BarAggregator]:
        for interval in self._wildcards.values():
            self._ensure(symbol, interval)
        return self._by_symbol.get(symbol, [])

    def _ensure(self, symbol: str, interval: Interval) -> None:
        aggregators = self._by_symbol.get(symbol, [])
        if any(a.label == interval.label for a in aggregators):
            return
        # A new list, never the old one changed: a strategy may ask from inside on_bar while
        # on_bar below is going through the old one.
        added = [*aggregators, BarAggregator(symbol, interval, self._publish)]
        self._by_symbol[symbol] = sorted(added, key=lambda a: (a._size, a.label))

    def _publish(self, bar: Bar, built: bool) -> None:
        self._bus.publish_interval(bar, built=built)
