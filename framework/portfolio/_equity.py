"""The equity curve: one sample per mark time, thinned so that long runs stay small.

A 10,000,000-bar run would otherwise keep 160 MB of samples. The curve is thinned into
buckets, keeping each bucket's last sample, and every statistic the curve feeds stays exact:

- drawdown and its duration need every sample in order: a :class:`DrawdownTracker` reads the
  samples before they are thinned, in the order they were taken;
- daily returns need each UTC day's last sample: every bucket size divides a day
  (:data:`THINNING_STEPS`), so no bucket straddles midnight and a day's last sample is the last
  sample of its last bucket;
- the span and exposure need the first and last sample times: the first sample is never
  thinned away, the last one is always kept.

Without a resolution, every sample is kept until the curve holds ``max_samples``; then the
samples so far are thinned at the smallest step of :data:`THINNING_STEPS` that halves them (the
step grows as the run goes on). With a resolution, the curve is thinned at that step as it goes.
"""

from __future__ import annotations

import itertools
import math
import operator
import struct
from array import array
from collections.abc import Sequence

from .._errors import ConfigError
from .._intervals import Interval
from .._time import NANOS_PER_SECOND

#: Bucket sizes the curve may be thinned to, in ns: 1 minute, 5, 15, 1 hour, 4 hours, 1 day.
#: Each divides the next and a day, so thinning again keeps what thinning once kept.
THINNING_STEPS = tuple(s * NANOS_PER_SECOND for s in (60, 300, 900, 3_600, 14_400, 86_400))

#: Samples kept at full resolution before the first thinning: 16 MB of times and values.
DEFAULT_MAX_SAMPLES = 2**20

_DAY = 86_400 * NANOS_PER_SECOND

#: Samples thinned at a time: bounds the memory thinning needs on top of the curve's.
_THINNING_SLICE = 65_536

#: New samples gathered in lists before they move into the arrays. An array append parses its
#: argument like a function call's (``PyArg_Parse``); a list append and one ``struct.pack``
#: per batch cost half as much, on every bar.
_STAGE = 4_096


def equity_resolution(text: str | None) -> int | None:
    """The bucket size of an equity resolution such as ``5m``, ``1h`` or ``1D``, in ns (None
    for None); :class:`~framework.ConfigError` unless it divides a day."""
    if text is None:
        return None
    try:
        nanos = Interval.parse(text).nanos
    except ValueError as exc:
        raise ConfigError(f"equity resolution: {exc}") from None
    if nanos is None or _DAY % nanos:
        raise ConfigError(
            f"equity resolution {text} does not divide a day: use e.g. 1m, 5m, 15m, 1h, 4h, 1D"
        )
    return nanos


class DrawdownTracker:
    """The largest fall from a running peak, and the longest time under water, over samples
    fed in time order (the pass :func:`~._statistics.compute_statistics` makes, resumable)."""

    __slots__ = ("longest", "peak", "peak_ts", "underwater", "worst")

    def __init__(self) -> None:
        self.peak = -math.inf
        self.peak_ts = 0
        self.worst = 0.0
        self.longest = 0
        self.underwater = False

    def feed(self, times: Sequence[int], values: Sequence[float], start: int, stop: int) -> None:
        """Take samples ``start`` to ``stop`` (exclusive) of the curve."""
        # One pass over what may be millions of samples: locals, plain comparisons, no calls.
        peak, peak_ts, worst = self.peak, self.peak_ts, self.worst
        longest, underwater = self.longest, self.underwater
        for i in range(start, stop):
            ts = times[i]
            value = values[i]
            if value >= peak:
                if underwater:
                    if ts - peak_ts > longest:
                        longest = ts - peak_ts
                    underwater = False
                peak, peak_ts = value, ts
            else:
                underwater = True
                if peak > 0:
                    fall = (peak - value) / peak
                    if fall > worst:
                        worst = fall
        self.peak, self.peak_ts, self.worst = peak, peak_ts, worst
        self.longest, self.underwater = longest, underwater

    def result(self, last_ts: int) -> tuple[float, int]:
        """(max drawdown as a fraction of the peak, longest duration in ns) if the curve ended
        at ``last_ts``; a drawdown still open at the end lasts until then."""
        longest = self.longest
        if self.underwater and last_ts - self.peak_ts > longest:
            longest = last_ts - self.peak_ts
        return self.worst, longest


class EquityCurve:
    """Samples of (time in ns, equity), in time order, thinned as the module docstring says.

    :class:`~._portfolio.Portfolio` appends to :attr:`new_times` and :attr:`new_values` itself
    on its hot path, counts down :attr:`room`, and calls :meth:`settle` when it runs out; the
    samples then move into :attr:`times` and :attr:`values`, which are thinned when full.
    Readers call :meth:`settle` first. The last sample may still be replaced (a later mark at
    the same time, :meth:`replace_last`), so it is never thinned or fed to the tracker before a
    later one follows it.
    """

    __slots__ = (
        "_block",
        "_fed",
        "_max_samples",
        "_tracker",
        "_until_thin",
        "new_times",
        "new_values",
        "resolution",
        "room",
        "times",
        "values",
    )

    def __init__(
        self, *, resolution: int | None = None, max_samples: int = DEFAULT_MAX_SAMPLES
    ) -> None:
        if resolution is not None and (resolution <= 0 or _DAY % resolution):
            raise ValueError("an equity resolution must divide a day (e.g. 1m, 5m, 1h, 1D)")
        if max_samples < 16:
            raise ValueError(f"max_samples must be at least 16, not {max_samples}")
        self.times: array[int] = array("q")
        self.values: array[float] = array("d")
        self.new_times: list[int] = []
        self.new_values: list[float] = []
        #: The bucket size samples are thinned to (ns); None while every sample is kept.
        self.resolution = resolution
        self._max_samples = max_samples
        # With a resolution, raw samples are thinned a block at a time as the run goes.
        self._block = max_samples if resolution is None else min(max_samples, 4_096)
        self._tracker = DrawdownTracker()
        self._fed = 0  # samples[:_fed] are thinned and were fed to the tracker
        self._until_thin = self._block  # samples the arrays take before they are thinned
        #: Samples that may be appended to the lists before :meth:`settle` must run.
        self.room = min(_STAGE, self._block)

    def settle(self) -> int:
        """Move the new samples into the arrays, thinning them when they are full; return the
        new room."""
        new_times, new_values = self.new_times, self.new_values
        if new_times:
            count = len(new_times)
            self.times.frombytes(struct.pack(f"{count}q", *new_times))
            self.values.frombytes(struct.pack(f"{count}d", *new_values))
            new_times.clear()
            new_values.clear()
            self._until_thin -= count
            if self._until_thin <= 0:
                return self.thin()
        self.room = max(1, min(_STAGE, self._until_thin))
        return self.room

    def replace_last(self, value: float) -> None:
        """Replace the newest sample's value."""
        if self.new_values:
            self.new_values[-1] = value
        else:
            self.values[-1] = value

    def thin(self) -> int:
        """Feed the settled samples to the tracker and thin them; return the new room."""
        if self.new_times:
            self.settle()
        times = self.times
        settled = len(times) - 1
        if settled > self._fed:
            self._tracker.feed(times, self.values, self._fed, settled)
            start = self._fed
            full = self.resolution is None or len(times) >= self._max_samples
            if full:
                coarser = self._step_for(times[-1] - times[0])
                if coarser != self.resolution:
                    self.resolution, start = coarser, 0  # thin again what was thinned
            assert self.resolution is not None
            self._keep_bucket_ends(start, self.resolution)
            self._fed = len(times) - 1
            if full and len(times) > self._max_samples // 2:
                # Even the coarsest step does not halve the curve (a run of centuries, or a
                # tiny max_samples): let the curve grow rather than thin on every sample.
                self._max_samples = 2 * len(times)
        self._until_thin = max(1, min(self._block, self._max_samples - len(times)))
        self.room = min(_STAGE, self._until_thin)
        return self.room

    def drawdown(self) -> tuple[float, int]:
        """(max drawdown, its longest duration in ns) over every sample taken so far."""
        self.settle()
        times = self.times
        if not times:
            return 0.0, 0
        tracker = DrawdownTracker()
        for name in DrawdownTracker.__slots__:
            setattr(tracker, name, getattr(self._tracker, name))
        tracker.feed(times, self.values, self._fed, len(times))
        return tracker.result(times[-1])

    def _step_for(self, span: int) -> int:
        """The smallest thinning step, no finer than the current one, that leaves at most
        half of ``max_samples`` buckets over ``span``."""
        for step in THINNING_STEPS:
            if self.resolution is not None and step < self.resolution:
                continue
            if span // step + 2 <= self._max_samples // 2:
                return step
        return THINNING_STEPS[-1]

    def _keep_bucket_ends(self, start: int, step: int) -> None:
        """Of samples ``start`` on, keep each bucket's last one (and sample 0), in place.

        A slice of :data:`_THINNING_SLICE` samples at a time, so that the bucket numbers, one
        int object per sample, never exist for a million samples at once."""
        times, values = self.times, self.values
        n = len(times)
        write = start
        for read in range(start, n, _THINNING_SLICE):
            stop = min(read + _THINNING_SLICE, n)
            # One sample past the slice tells whether the slice's last sample ends its bucket.
            buckets = list(map(step.__rfloordiv__, times[read : stop + 1]))
            keep = list(map(operator.ne, buckets, buckets[1:]))
            if stop == n:
                keep.append(True)  # the newest sample has no next one and stays
            if read == 0:
                keep[0] = True
            kept_times = array("q", itertools.compress(times[read:stop], keep))
            kept_values = array("d", itertools.compress(values[read:stop], keep))
            # Kept samples move down over ones already read: write never passes read.
            times[write : write + len(kept_times)] = kept_times
            values[write : write + len(kept_values)] = kept_values
            write += len(kept_times)
        del times[write:], values[write:]
