"""Incremental technical indicators: O(1) per update, None until warmed up.

Every indicator has ``update(...) -> float | None`` and the read-only ``value``, ``ready``,
``period`` and ``count``, plus ``reset()``. Non-finite input raises
:class:`~framework.DataError`; a bad parameter raises :class:`~framework.ConfigError` (both
are ``ValueError``).
"""

from ._atr import ATR as ATR
from ._bollinger import BollingerBands as BollingerBands
from ._ema import EMA as EMA
from ._rsi import RSI as RSI
from ._sma import SMA as SMA

__all__ = ["ATR", "EMA", "RSI", "SMA", "BollingerBands"]
