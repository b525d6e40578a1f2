"""Rate of change: the percentage change over a fixed number of inputs."""

from __future__ import annotations

from ._base import _INF, _NEG_INF, Indicator, check_period, reject_input


class ROC(Indicator):
    """Rate of change in percent: ``ROC_t = 100 * (x_t - x_{t-period}) / x_{t-period}``.

    Warm-up: ``period + 1`` inputs, since the first value needs an input ``period`` updates
    back. Where ``x_{t-period}`` is zero the change has no finite ratio and the value is
    ``0.0``, as TA-Lib returns (prices are positive, so this only concerns other series).

    O(1) per update: a ring buffer of the last ``period`` inputs, where the slot about to be
    overwritten holds ``x_{t-period}``. Non-finite inputs raise :class:`~framework.DataError`
    (a ``ValueError``) and leave the state unchanged. ``period`` must be an int >= 1, else
    :class:`~framework.ConfigError`.
    """

    __slots__ = ("_i", "_window")

    def __init__(self, period: int) -> None:
        period = check_period("ROC", period)
        super().__init__(period, warmup=period + 1)
        self._window = [0.0] * period
        self._i = 0

    def update(self, x: float) -> float | None:
        """Add one input; return the change in percent over ``period`` inputs, or None."""
        if not _NEG_INF < x < _INF:
            raise reject_input("ROC", x=x)
        window = self._window
        i = self._i
        base = window[i]
        window[i] = x
        i += 1
        self._i = 0 if i == self._period else i
        count = self._count + 1
        self._count = count
        if count < self._warmup:
            return None
        # x - base is exact when the two are close (Sterbenz), where x / base - 1 would cancel.
        value = self._value = 100.0 * (x - base) / base if base != 0.0 else 0.0
        return value

    def reset(self) -> None:
        """Forget every input, as if newly constructed with the same period."""
        super().reset()
        self._window = [0.0] * self._period
        self._i = 0
