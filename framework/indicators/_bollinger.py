"""Bollinger bands: a moving average with bands at a multiple of the window's deviation."""

from __future__ import annotations

from itertools import chain
from math import fsum, sqrt

from .._errors import ConfigError
from ._base import _INF, _NEG_INF, Bands, check_period, reject_input


class BollingerBands(Bands):
    """Bollinger bands over the last ``period`` inputs.

    ``middle`` is the simple moving average of the window, ``sigma`` its population standard
    deviation (divisor ``period``), ``upper = middle + k * sigma``, ``lower = middle - k * sigma``
    and ``width = upper - lower = 2 * k * sigma`` (absolute, in price units). ``value`` is
    ``middle``. Warm-up: ``update`` returns None and every band is None for the first
    ``period - 1`` inputs; the ``period``-th input yields the first bands.

    Each update is O(1) amortised. The window's sum and sum of squares are kept relative to a
    shift that is always an element of the current window (the newest input at the last
    re-anchoring), so the variance ``(S_yy - S_y**2 / period) / period`` does not suffer the
    catastrophic cancellation of the textbook ``E[x**2] - E[x]**2``; both sums are compensated
    (exact rounding errors carried), so a value that entered and left cancels exactly; and
    every ``period`` updates both are recomputed from the window with ``math.fsum`` and the shift
    re-anchored, so error cannot drift. A window of equal inputs has ``width == 0.0``.

    Non-finite inputs raise :class:`~framework.DataError` (a ``ValueError``) and leave the
    state unchanged. ``period`` must be an int >= 1 and ``k`` a finite number > 0, else
    :class:`~framework.ConfigError`.
    """

    __slots__ = (
        "_i",
        "_k",
        "_shift",
        "_sq",
        "_sq_comp",
        "_sum",
        "_sum_comp",
        "_window",
    )

    def __init__(self, period: int = 20, k: float = 2.0) -> None:
        period = check_period("BollingerBands", period)
        if not (0.0 < k < _INF):
            raise ConfigError(f"BollingerBands: k must be a finite number > 0, got {k!r}")
        super().__init__(period, warmup=period)
        self._k = float(k)
        self._window = [0.0] * period
        self._i = 0
        self._shift = 0.0
        self._sum = 0.0
        self._sum_comp = 0.0
        self._sq = 0.0
        self._sq_comp = 0.0

    @property
    def k(self) -> float:
        """The band half-width in standard deviations."""
        return self._k

    def update(self, x: float) -> float | None:
        """Add one input; return the new middle band, or None while warming up."""
        if not _NEG_INF < x < _INF:
            raise reject_input("BollingerBands", x=x)
        window = self._window
        i = self._i
        old = window[i]
        window[i] = x
        i += 1
        self._count += 1
        period = self._period
        if i == period:
            # Once per pass over the ring: re-anchor on the newest input, which then stays in
            # the window until the next pass, and re-sum exactly. The remainders fsum rounds
            # away are kept too: once the large deviations leave, they may be most of what is left.
            self._i = 0
            shift = x
            ys = [v - shift for v in window]
            s = fsum(ys)
            self._sum = s
            self._sum_comp = c = fsum(chain(ys, (-s,)))
            s += c
            ys = [y * y for y in ys]
            q = fsum(ys)
            self._sq = q
            self._sq_comp = c = fsum(chain(ys, (-q,)))
            q += c
            self._shift = shift
        else:
            self._i = i
            if self._count < period:
                # The first complete window is summed exactly above; no running sums needed yet.
                return None
            # Error-free additions (Knuth's TwoSum) of exactly the terms added when `old`
            # entered, so its contribution leaves without a trace however large it was.
            shift = self._shift
            y_in = x - shift
            y_out = old - shift
            s = self._sum
            t = s + y_in
            bp = t - s
            c = self._sum_comp + ((s - (t - bp)) + (y_in - bp))
            s = t - y_out
            bp = s - t
            c += (t - (s - bp)) - (y_out + bp)
            self._sum = s
            self._sum_comp = c
            s += c
            sq_in = y_in * y_in
            sq_out = y_out * y_out
            q = self._sq
            t = q + sq_in
            bp = t - q
            c = self._sq_comp + ((q - (t - bp)) + (sq_in - bp))
            q = t - sq_out
            bp = q - t
            c += (t - (q - bp)) - (sq_out + bp)
            self._sq = q
            self._sq_comp = c
            q += c
        mean_offset = s / period
        middle = shift + mean_offset
        # Sum of squared deviations; rounding can leave it a hair below zero for a flat window.
        m2 = q - s * mean_offset
        band = self._k * sqrt(m2 / period) if m2 > 0.0 else 0.0
        self._value = middle
        self._upper = middle + band
        self._lower = middle - band
        self._width = band + band
        return middle

    def reset(self) -> None:
        """Forget every input, as if newly constructed with the same parameters."""
        super().reset()
        self._window = [0.0] * self._period
        self._i = 0
        self._shift = 0.0
        self._sum = 0.0
        self._sum_comp = 0.0
        self._sq = 0.0
        self._sq_comp = 0.0
