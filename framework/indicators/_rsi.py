"""Relative strength index with Wilder's smoothing."""

from __future__ import annotations

from ._base import _INF, _NEG_INF, Indicator, check_period, reject_input


class RSI(Indicator):
    """Wilder's relative strength index, in ``[0, 100]``.

    Each input after the first gives a change ``d = x_t - x_{t-1}``, split into
    ``gain = max(d, 0)`` and ``loss = max(-d, 0)``. The first average gain and loss are the
    simple means over the first ``period`` changes; after that Wilder's smoothing applies:
    ``avg = (avg * (period - 1) + new) / period``. The value is
    ``100 - 100 / (1 + avg_gain / avg_loss)``, computed as ``100 * avg_gain / (avg_gain +
    avg_loss)``: 100 when there were only gains, 0 when only losses, 50 when the input never
    changed. Warm-up: ``period + 1`` inputs (``period`` changes) before the first value.

    O(1) per update. Non-finite inputs raise :class:`~framework.DataError` (a ``ValueError``) and
    leave the state unchanged. ``period`` must be an int >= 1, else
    :class:`~framework.ConfigError`.
    """

    __slots__ = ("_avg_gain", "_avg_loss", "_prev")

    def __init__(self, period: int = 14) -> None:
        period = check_period("RSI", period)
        super().__init__(period, warmup=period + 1)
        self._prev = 0.0
        # Sums of gains and losses during warm-up, then Wilder averages.
        self._avg_gain = 0.0
        self._avg_loss = 0.0

    def update(self, x: float) -> float | None:
        """Add one input; return the current RSI, or None while warming up."""
        if not _NEG_INF < x < _INF:
            raise reject_input("RSI", x=x)
        change = x - self._prev
        self._prev = x
        count = self._count + 1
        self._count = count
        if change > 0.0:
            gain = change
            loss = 0.0
        else:
            gain = 0.0
            loss = -change
        period = self._period
        if count > self._warmup:
            avg_gain = (self._avg_gain * (period - 1) + gain) / period
            avg_loss = (self._avg_loss * (period - 1) + loss) / period
        elif count == 1:
            return None
        elif count <= period:
            # Gains and losses are >= 0, so a plain sum has no cancellation to fear.
            self._avg_gain += gain
            self._avg_loss += loss
            return None
        else:
            avg_gain = (self._avg_gain + gain) / period
            avg_loss = (self._avg_loss + loss) / period
        self._avg_gain = avg_gain
        self._avg_loss = avg_loss
        total = avg_gain + avg_loss
        # gain/total is exactly 1.0 without losses, and never above 1, so the value stays in
        # [0, 100] and hits 100 exactly.
        value = 100.0 * (avg_gain / total) if total > 0.0 else 50.0
        self._value = value
        return value

    def reset(self) -> None:
        """Forget every input, as if newly constructed with the same period."""
        super().reset()
        self._prev = 0.0
        self._avg_gain = 0.0
        self._avg_loss = 0.0
