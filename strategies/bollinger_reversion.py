"""BollingerReversion: fade moves outside the Bollinger bands, exit at the mean."""

from __future__ import annotations

from framework import Bar, Param, Strategy
from framework.indicators import BollingerBands


class BollingerReversion(Strategy):
    """Mean reversion on Bollinger bands, long and short.

    Goes long ``qty`` when a close falls below the lower band, short when it rises above the
    upper band (unless ``allow_short`` is off), and closes the position when the close crosses
    back over the middle band. One position per symbol at a time.
    """

    period = Param(20, "Bars in the moving window.", min=2)
    k = Param(2.0, "Band width in standard deviations.", min=0)
    qty = Param(100.0, "Quantity per entry.", min=0)
    allow_short = Param(True, "Also sell short above the upper band.")

    def on_start(self) -> None:
        self._bands: dict[str, BollingerBands] = {}

    def on_bar(self, bar: Bar) -> None:
        bands = self._bands.get(bar.symbol)
        if bands is None:
            bands = self._bands[bar.symbol] = BollingerBands(self.period, self.k)
        if bands.update(bar.close) is None:
            return
        assert bands.middle is not None and bands.upper is not None and bands.lower is not None
        if self.plotting:  # the bands over the candles in the report; skipped without one
            self.plot("bb_upper", bands.upper, "price", bar.symbol)
            self.plot("bb_middle", bands.middle, "price", bar.symbol)
            self.plot("bb_lower", bands.lower, "price", bar.symbol)
        held = self.position(bar.symbol).qty
        if held == 0:
            if bar.close < bands.lower:
                self.buy(bar.symbol, self.qty)
            elif self.allow_short and bar.close > bands.upper:
                self.sell(bar.symbol, self.qty)
        elif (held > 0 and bar.close >= bands.middle) or (held < 0 and bar.close <= bands.middle):
            self.close(bar.symbol)
