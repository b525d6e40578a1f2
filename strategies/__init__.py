"""Ready-made strategies that ship with tradewire; each uses only tradewire's public API."""

from .bollinger_reversion import BollingerReversion as BollingerReversion
from .sma_cross import SmaCross as SmaCross
from .trend_pullback import TrendPullback as TrendPullback

__all__ = ["BollingerReversion", "SmaCross", "TrendPullback"]
