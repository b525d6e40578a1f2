"""Incremental technical indicators: O(1) per update, None until warmed up.

Every indicator has ``update(...) -> float | None`` and the read-only ``value``, ``ready``,
``period`` and ``count``, plus ``reset()``. Non-finite input raises
:class:`~framework.DataError`; a bad parameter raises :class:`~framework.ConfigError` (both
are ``ValueError``). Formulas, warm-up lengths and where the conventions differ from TA-Lib
and TradingView: docs/indicators.md.
"""

from ._adx import ADX as ADX
from ._atr import ATR as ATR
from ._bollinger import BollingerBands as BollingerBands
from ._donchian import DonchianChannels as DonchianChannels
from ._ema import EMA as EMA
from ._keltner import KeltnerChannels as KeltnerChannels
from ._macd import MACD as MACD
from ._obv import OBV as OBV
from ._roc import ROC as ROC
from ._rsi import RSI as RSI
from ._sma import SMA as SMA
from ._stochastic import Stochastic as Stochastic
from ._vwap import VWAP as VWAP
from ._wma import WMA as WMA

__all__ = [
    "ADX",
    "ATR",
    "EMA",
    "MACD",
    "OBV",
    "ROC",
    "RSI",
    "SMA",
    "VWAP",
    "WMA",
    "BollingerBands",
    "DonchianChannels",
    "KeltnerChannels",
    "Stochastic",
]
