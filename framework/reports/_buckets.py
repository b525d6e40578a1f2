"""Time buckets: how a run of any length is drawn in at most :data:`MAX_CHART_TIMES` time slots.

A chart that draws a million candles draws nothing a reader can see, and the page would carry
tens of megabytes. So the report draws every series of a run on one grid of time slots: the
run's own bar times while they fit, otherwise buckets of a fixed width taken from
:data:`WIDTHS_S`, the narrowest that keeps the grid within the limit. Each width divides the
next and a bucket of width ``w`` covers ``[k·w, (k+1)·w)`` seconds since the epoch (UTC), so
buckets of one width merge whole into those of any wider one: a series can be bucketed while
it streams in and widened later without going back to the data.

What a bucket keeps, so nothing that matters disappears:

- candles: the first open, the highest high, the lowest low, the last close, the summed volume;
- lines (equity, buy and hold, a strategy's plots): the last value in the bucket;
- drawdown: the deepest value in the bucket, so the maximum drawdown stays visible.

Only the drawing is bucketed: statistics, the trade list and monthly returns come from every
sample.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from itertools import accumulate

#: Most time slots a chart of the report draws.
MAX_CHART_TIMES = 20_000

_NS = 1_000_000_000
_DAY = 86_400
#: Bucket widths in seconds, narrowest first; each divides the next.
WIDTHS_S: tuple[int, ...] = (
    1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 28800, _DAY,
    *(_DAY << k for k in range(1, 20)),
)  # fmt: skip


def width_label(width_s: int) -> str:
    """``15 min``, ``4 h``, ``2 days``: a bucket width for people."""
    for unit, name in ((_DAY, "day"), (3600, "h"), (60, "min"), (1, "s")):
        if width_s % unit == 0:
            count = width_s // unit
            if name == "day":
                return f"{count} day" + ("s" if count != 1 else "")
            return f"{count} {name}"
    return f"{width_s} s"  # pragma: no cover - every width is whole seconds


class CandleBuckets:
    """One symbol's bars as candles, widened as they stream in so that at most
    ``2 × limit`` buckets are ever held (the report widens every series to one grid at the
    end; see the module docstring). Bars must come in time order."""

    __slots__ = (
        "bars",
        "closes",
        "highs",
        "keys",
        "limit",
        "lows",
        "opens",
        "volumes",
        "width_s",
    )

    def __init__(self, limit: int = MAX_CHART_TIMES, width_s: int = WIDTHS_S[0]) -> None:
        if limit < 1:
            raise ValueError(f"limit must be positive, got {limit}")
        self.limit = limit
        self.width_s = width_s
        #: Bucket numbers: the bucket starts at ``key × width_s`` seconds.
        self.keys: list[int] = []
        self.opens: list[float] = []
        self.highs: list[float] = []
        self.lows: list[float] = []
        self.closes: list[float] = []
        self.volumes: list[float] = []
        #: Bars taken in.
        self.bars = 0

    def add(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        """Take one bar, stamped ``ts`` (UTC nanoseconds)."""
        self.bars += 1
        key = ts // (self.width_s * _NS)
        keys = self.keys
        if keys and keys[-1] == key:
            if high > self.highs[-1]:
                self.highs[-1] = high
            if low < self.lows[-1]:
                self.lows[-1] = low
            self.closes[-1] = close
            self.volumes[-1] += volume
            return
        keys.append(key)
        self.opens.append(open_)
        self.highs.append(high)
        self.lows.append(low)
        self.closes.append(close)
        self.volumes.append(volume)
        if len(keys) > 2 * self.limit:
            self.widen(wider_than(self.width_s, keys, self.limit))

    def widen(self, width_s: int) -> None:
        """Merge the buckets into buckets ``width_s`` wide (a width of :data:`WIDTHS_S` that
        the current one divides)."""
        if width_s == self.width_s:
            return
        if width_s % self.width_s:
            raise ValueError(f"cannot widen {self.width_s} s buckets to {width_s} s")
        factor = width_s // self.width_s
        keys: list[int] = []
        opens: list[float] = []
        highs: list[float] = []
        lows: list[float] = []
        closes: list[float] = []
        volumes: list[float] = []
        for key, o, h, lo, c, v in zip(
            self.keys, self.opens, self.highs, self.lows, self.closes, self.volumes, strict=True
        ):
            key //= factor
            if keys and keys[-1] == key:
                highs[-1] = max(highs[-1], h)
                lows[-1] = min(lows[-1], lo)
                closes[-1] = c
                volumes[-1] += v
            else:
                keys.append(key)
                opens.append(o)
                highs.append(h)
                lows.append(lo)
                closes.append(c)
                volumes.append(v)
        self.width_s = width_s
        self.keys, self.opens, self.highs, self.lows = keys, opens, highs, lows
        self.closes, self.volumes = closes, volumes


def wider_than(width_s: int, keys: Iterable[int], limit: int) -> int:
    """The narrowest width of :data:`WIDTHS_S`, wider than ``width_s``, that puts the bucket
    numbers ``keys`` (of ``width_s``) into at most ``limit`` buckets."""
    slots = set(keys)
    for candidate in WIDTHS_S:
        if candidate <= width_s or candidate % width_s:
            continue
        # Each step works on the previous step's buckets: a width divides every wider one.
        slots = {slot // (candidate // width_s) for slot in slots}
        width_s = candidate
        if len(slots) <= limit:
            break
    return width_s


def grid(start_width_s: int, sources: Sequence[Sequence[int]], limit: int) -> tuple[int, list[int]]:
    """The narrowest width of :data:`WIDTHS_S`, at least ``start_width_s``, at which the
    union of the buckets of ``sources`` (sorted times, UTC ns) holds at most ``limit`` slots,
    and those slots' bucket numbers, sorted.

    A source of more than ``4 × limit`` samples is first counted at a width that gives its span
    at most that many buckets: its samples are never visited one by one (a 1M-bar run's
    equity, plots and buy and hold are bucketed by :func:`bucket_spans` jumps).
    """
    present = [source for source in sources if len(source)]
    width_s = start_width_s
    for source in present:
        if len(source) > 4 * limit:
            span_s = (source[-1] - source[0]) // _NS + 1
            while width_s < WIDTHS_S[-1] and span_s / width_s > 4 * limit:
                width_s = next(w for w in WIDTHS_S if w > width_s and w % width_s == 0)
    slots: set[int] = set()
    for source in present:
        slots.update(key for key, _, _ in bucket_spans(source, width_s))
    if len(slots) > limit:
        wider = wider_than(width_s, slots, limit)
        slots = {slot // (wider // width_s) for slot in slots}
        width_s = wider
    return width_s, sorted(slots)


def bucket_spans(ts: Sequence[int], width_s: int) -> list[tuple[int, int, int]]:
    """(bucket number, first index, end index) of every bucket of ``width_s`` that holds
    samples of the sorted times ``ts`` (UTC ns): one binary search per bucket, not a step per
    sample."""
    width_ns = width_s * _NS
    spans: list[tuple[int, int, int]] = []
    start, size = 0, len(ts)
    while start < size:
        key = ts[start] // width_ns
        end = bisect.bisect_left(ts, (key + 1) * width_ns, start)
        spans.append((key, start, end))
        start = end
    return spans


def last_by_bucket(ts: Sequence[int], values: Sequence[float], width_s: int) -> dict[int, float]:
    """Bucket number → the last finite value of ``values`` (at sorted times ``ts``, UTC ns)
    in it; buckets with none are absent."""
    last: dict[int, float] = {}
    for key, start, end in bucket_spans(ts, width_s):
        for i in range(end - 1, start - 1, -1):
            if math.isfinite(values[i]):
                last[key] = values[i]
                break
    return last


def min_by_bucket(ts: Sequence[int], values: Sequence[float], width_s: int) -> dict[int, float]:
    """Bucket number → the lowest value in it (``ts`` sorted, UTC ns)."""
    return {key: min(values[start:end]) for key, start, end in bucket_spans(ts, width_s)}


def drawdowns(values: Sequence[float], start: float) -> list[float]:
    """The fall of each sample from the running peak (starting at ``start``), as a negative
    fraction of the peak: the drawdown the statistics measure."""
    peaks = accumulate(values, max, initial=start)
    next(peaks)
    return [v / p - 1 if p > 0 else 0.0 for v, p in zip(values, peaks, strict=True)]
