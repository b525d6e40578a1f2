"""Exponential moving average, seeded with a simple average."""

from __future__ import annotations

from ._base import _INF, _NEG_INF, Indicator, check_period, reject_input


class EMA(Indicator):
    """Exponential moving average with smoothing factor ``alpha = 2 / (period + 1)``.

    The first value is the simple mean of the first ``period`` inputs; after that
    ``EMA_t = EMA_{t-1} + alpha * (x_t - EMA_{t-1})``. Warm-up: ``update`` returns None for the
    first ``period - 1`` inputs; the ``period``-th input yields the first value.

    O(1) per update; the recurrence is contractive, so rounding errors decay instead of
    accumulating. Non-finite inputs raise :class:`~framework.DataError` (a ``ValueError``) and
    leave the state unchanged. ``period`` must be an int >= 1, else
    :class:`~framework.ConfigError`.
    """

    __slots__ = ("_alpha", "_seed_comp", "_seed_sum")

    def __init__(self, period: int) -> None:
        period = check_period("EMA", period)
        super().__init__(period, warmup=period)
        self._alpha = 2.0 / (period + 1)
        self._seed_sum = 0.0
        self._seed_comp = 0.0

    @property
    def alpha(self) -> float:
        """The smoothing factor ``2 / (period + 1)``."""
        return self._alpha

    def update(self, x: float) -> float | None:
        """Add one input; return the current average, or None while warming up."""
        if not _NEG_INF < x < _INF:
            raise reject_input("EMA", x=x)
        value = self._value
        if value is not None:
            value += self._alpha * (x - value)
            self._count += 1
            self._value = value
            return value
        # Warm-up: a compensated (TwoSum) running sum, so the seed is the mean of the first
        # `period` inputs to within an ulp whatever their signs and magnitudes.
        s = self._seed_sum
        t = s + x
        bp = t - s
        self._seed_comp += (s - (t - bp)) + (x - bp)
        self._seed_sum = t
        self._count += 1
        if self._count < self._period:
            return None
        value = (t + self._seed_comp) / self._period
        self._value = value
        return value

    def reset(self) -> None:
        """Forget every input, as if newly constructed with the same period."""
        super().reset()
        self._seed_sum = 0.0
        self._seed_comp = 0.0
