"""Keltner channels: bands at a multiple of the average true range around an EMA."""

from __future__ import annotations

from .._errors import ConfigError
from ._atr import ATR
from ._base import _INF, _NEG_INF, Bands, check_period, reject_input
from ._ema import EMA


class KeltnerChannels(Bands):
    """Keltner channels: ``middle = EMA(close)``, ``upper/lower = middle ± k * ATR``.

    ``middle`` is this package's :class:`EMA` of the closes over ``period`` bars and the band
    half-width is ``k`` times its :class:`ATR` over ``atr_period`` bars (Wilder's smoothing, the
    first bar's true range being its high - low); ``width = upper - lower = 2 * k * ATR``.
    ``value`` is ``middle``. Warm-up: ``update`` returns None and every band is None for the
    first ``max(period, atr_period) - 1`` bars; the next one yields the first bands.

    Composing TA-Lib's EMA and ATR the same way gives the same middle band; its ATR skips the
    first bar, so the half-width differs by a term that decays by ``1 - 1 / atr_period`` per
    bar (see :class:`ATR` and docs/indicators.md).

    O(1) per update. ``update(high, low, close)`` with non-finite prices, or ``high < low``,
    raises :class:`~framework.DataError` (a ``ValueError``) and leaves the state unchanged.
    ``period`` and ``atr_period`` must be ints >= 1 and ``k`` a finite number > 0, else
    :class:`~framework.ConfigError`.
    """

    __slots__ = ("_atr", "_ema", "_k")

    def __init__(self, period: int = 20, k: float = 2.0, atr_period: int = 10) -> None:
        period = check_period("KeltnerChannels", period)
        atr_period = check_period("KeltnerChannels", atr_period, "atr_period")
        if not (0.0 < k < _INF):
            raise ConfigError(f"KeltnerChannels: k must be a finite number > 0, got {k!r}")
        super().__init__(period, warmup=max(period, atr_period))
        self._k = float(k)
        self._ema = EMA(period)
        self._atr = ATR(atr_period)

    @property
    def k(self) -> float:
        """The band half-width in average true ranges."""
        return self._k

    @property
    def atr_period(self) -> int:
        """The period of the average true range."""
        return self._atr.period

    def update(self, high: float, low: float, close: float) -> float | None:
        """Add one bar; return the new middle band, or None while warming up."""
        # Checked here, before either part moves, so a rejected bar changes nothing.
        if not (_NEG_INF < low <= high < _INF and _NEG_INF < close < _INF):
            raise reject_input(
                "KeltnerChannels", "high must be >= low", high=high, low=low, close=close
            )
        middle = self._ema.update(close)
        atr = self._atr.update(high, low, close)
        self._count += 1
        if middle is None or atr is None:
            return None
        band = self._k * atr
        self._value = middle
        self._upper = middle + band
        self._lower = middle - band
        self._width = band + band
        return middle

    def reset(self) -> None:
        """Forget every input, as if newly constructed with the same parameters."""
        super().reset()
        self._ema.reset()
        self._atr.reset()
