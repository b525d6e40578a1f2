"""Streaming digests of long series: bounded memory whatever the length of the run.

A 1M-bar run has a million equity samples and a million closes per symbol; a browser chart
needs a few thousand points. :class:`Decimator` keeps at most ``2 × buckets`` buckets, each the
minimum, maximum and last sample of a run of consecutive samples, and merges neighbours
pairwise whenever it fills up, so it never holds more than that however many samples arrive.
Plotting each bucket's minimum and maximum in time order keeps every spike and every drawdown
visible. :class:`EquityDigest` adds the running drawdown and month-end equity; both are exact,
computed on every sample before decimation.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator

import attrs

#: Buckets a chart series keeps (between this many and twice as many, 2 points each).
CHART_BUCKETS = 2_000

_EPOCH = _dt.datetime(1970, 1, 1)


@attrs.frozen(slots=True, kw_only=True)
class SeriesPoints:
    """Points of a decimated series, in time order: times in UTC nanoseconds and values."""

    times: tuple[int, ...]
    values: tuple[float, ...]
    samples: int
    """How many samples went in."""


class Decimator:
    """Keeps the shape of an unbounded series in bounded memory (see the module docstring).

    Samples must arrive in non-decreasing time order.
    """

    __slots__ = ("_buckets", "_count", "_current", "_limit", "_per_bucket", "_samples")

    def __init__(self, buckets: int = CHART_BUCKETS) -> None:
        if buckets < 1:
            raise ValueError(f"buckets must be positive, got {buckets}")
        self._limit = 2 * buckets
        self._per_bucket = 1
        # A bucket: [t_min, v_min, t_max, v_max, t_last, v_last]
        self._buckets: list[list[float]] = []
        self._current: list[float] | None = None
        self._count = 0
        self._samples = 0

    def add(self, ts: int, value: float) -> None:
        """Take one sample."""
        self._samples += 1
        current = self._current
        if current is None:
            self._current = [ts, value, ts, value, ts, value]
            self._count = 1
        else:
            if value < current[1]:
                current[0], current[1] = ts, value
            if value > current[3]:
                current[2], current[3] = ts, value
            current[4], current[5] = ts, value
            self._count += 1
        if self._count >= self._per_bucket:
            self._close_bucket()

    def _close_bucket(self) -> None:
        assert self._current is not None
        self._buckets.append(self._current)
        self._current = None
        self._count = 0
        if len(self._buckets) >= self._limit:
            self._buckets = [_merge(a, b) for a, b in _pairs(self._buckets)]
            self._per_bucket *= 2

    def points(self) -> SeriesPoints:
        """The kept points: each bucket's extremes in the order they happened, then the last
        sample, so the series ends where the data ended."""
        buckets = [*self._buckets, *([self._current] if self._current is not None else [])]
        times: list[int] = []
        values: list[float] = []
        for t_min, v_min, t_max, v_max, _, _ in buckets:
            pairs = sorted({(int(t_min), v_min), (int(t_max), v_max)})
            for t, v in pairs:
                if not times or t > times[-1]:
                    times.append(t)
                    values.append(v)
        if buckets:
            t_last, v_last = int(buckets[-1][4]), buckets[-1][5]
            if not times or t_last > times[-1]:
                times.append(t_last)
                values.append(v_last)
            elif t_last == times[-1]:
                values[-1] = v_last
        return SeriesPoints(times=tuple(times), values=tuple(values), samples=self._samples)


def _pairs(items: list[list[float]]) -> Iterator[tuple[list[float], list[float] | None]]:
    for i in range(0, len(items), 2):
        yield items[i], items[i + 1] if i + 1 < len(items) else None


def _merge(a: list[float], b: list[float] | None) -> list[float]:
    if b is None:
        return a
    low = a[:2] if a[1] <= b[1] else b[:2]
    high = a[2:4] if a[3] >= b[3] else b[2:4]
    return [*low, *high, b[4], b[5]]


class EquityDigest:
    """Equity samples in, chart points, drawdown points and monthly returns out.

    Drawdown at a sample is the fall from the running peak as a (negative) fraction of the
    peak. A month's return is its last equity over the previous month's last equity (the first
    month's is over the start cash), months in UTC.
    """

    def __init__(self, start_cash: float, *, buckets: int = CHART_BUCKETS) -> None:
        self.start_cash = start_cash
        self.equity = Decimator(buckets)
        self.drawdown = Decimator(buckets)
        self._peak = start_cash
        self._month_end: dict[tuple[int, int], float] = {}
        self._month: tuple[int, int] | None = None
        self._month_until = -1

    def add(self, ts: int, value: float) -> None:
        """Take one equity sample (time in UTC nanoseconds)."""
        self.equity.add(ts, value)
        if value > self._peak:
            self._peak = value
        self.drawdown.add(ts, value / self._peak - 1 if self._peak > 0 else 0.0)
        if ts >= self._month_until or self._month is None:
            self._month, self._month_until = _month_of(ts)
        self._month_end[self._month] = value

    def add_all(self, times: Iterable[int], values: Iterable[float]) -> None:
        for ts, value in zip(times, values, strict=True):
            self.add(ts, value)

    def monthly_returns(self) -> dict[tuple[int, int], float | None]:
        """(year, month) → return over that month; None where the base equity is not positive."""
        returns: dict[tuple[int, int], float | None] = {}
        base = self.start_cash
        for month, end in self._month_end.items():
            returns[month] = end / base - 1 if base > 0 else None
            base = end
        return returns


def _month_of(ts: int) -> tuple[tuple[int, int], int]:
    """The (year, month) holding ``ts`` and the first nanosecond of the next month."""
    moment = _EPOCH + _dt.timedelta(microseconds=ts // 1_000)
    year, month = moment.year, moment.month
    following = _dt.datetime(year + month // 12, month % 12 + 1, 1)
    delta = following - _EPOCH
    until = (delta.days * 86_400 + delta.seconds) * 1_000_000_000
    return (year, month), until
