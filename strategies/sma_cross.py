"""SmaCross: long-only moving-average crossover."""

from __future__ import annotations

from framework import Bar, Param, ParameterError, Strategy
from framework.indicators import SMA

#: Relative difference under which the two averages count as equal.
TIE_TOLERANCE = 1e-9


class SmaCross(Strategy):
    """Buy ``qty`` when the fast SMA of closes crosses above the slow SMA; close on the cross below.

    A cross above means fast > slow on this bar and fast <= slow on the previous one. Averages
    within one part in 10⁹ of each other count as equal: prices are decimal, and two averages
    that tie in decimal must not be split by binary rounding noise. Runs on every symbol it
    receives, each with its own averages. Orders are market orders, so with bars they fill at
    the next bar's open.
    """

    fast = Param(10, "Length of the fast SMA, in bars.", min=1)
    slow = Param(30, "Length of the slow SMA, in bars.", min=2)
    qty = Param(100.0, "Quantity bought on each entry.", min=0)

    def validate(self) -> None:
        if self.fast >= self.slow:
            raise ParameterError(f"fast ({self.fast}) must be shorter than slow ({self.slow})")

    def warmup_bars(self) -> int:
        """The slow average's length: with that much history, the first live bar can cross."""
        return self.slow

    def on_start(self) -> None:
        self._state: dict[str, tuple[SMA, SMA, list[float | None]]] = {}

    def on_bar(self, bar: Bar) -> None:
        state = self._state.get(bar.symbol)
        if state is None:
            state = self._state[bar.symbol] = (SMA(self.fast), SMA(self.slow), [None])
        fast_sma, slow_sma, previous = state
        close = bar.close
        fast = fast_sma.update(close)
        slow = slow_sma.update(close)
        if fast is None or slow is None:
            return
        if self.plotting:  # drawn over the candles in the report; skipped in runs without one
            self.plot("sma_fast", fast, "price", bar.symbol)
            self.plot("sma_slow", slow, "price", bar.symbol)
        diff = fast - slow
        if abs(diff) <= TIE_TOLERANCE * slow:
            diff = 0.0
        before = previous[0]
        previous[0] = diff
        if before is None:
            return
        if diff > 0 >= before:
            if self.position(bar.symbol).qty == 0:
                self.buy(bar.symbol, self.qty)
        elif diff < 0 <= before:
            self.close(bar.symbol)
