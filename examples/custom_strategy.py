"""A strategy of your own: RSI thresholds, a timer, and order-event hooks.

python examples/custom_strategy.py
"""

from pathlib import Path

import framework
from framework import Bar, OrderFilled, Param, Strategy, TimerFired
from framework.indicators import RSI

HOUR = 3_600 * 1_000_000_000


class RsiSwing(Strategy):
    """Buy when RSI falls below ``low``, sell when it rises above ``high``; report hourly."""

    period = Param(14, "RSI length in bars.", min=2)
    low = Param(30.0, "Oversold level.")
    high = Param(70.0, "Overbought level.")
    qty = Param(50.0, "Quantity per entry.", min=0)

    def on_start(self) -> None:
        self.rsi: dict[str, RSI] = {}
        self.reports = 0
        self.set_timer("report", every=HOUR)

    def on_bar(self, bar: Bar) -> None:
        rsi = self.rsi.setdefault(bar.symbol, RSI(self.period))
        value = rsi.update(bar.close)
        if value is None:
            return
        held = self.position(bar.symbol).qty
        if held == 0 and value < self.low:
            self.buy(bar.symbol, self.qty)
        elif held > 0 and value > self.high:
            self.close(bar.symbol)

    def on_fill(self, fill: OrderFilled) -> None:
        self.log.info("filled %s %s %s @ %s", fill.side.value, fill.qty, fill.symbol, fill.price)

    def on_timer(self, timer: TimerFired) -> None:
        self.reports += 1

    def on_stop(self) -> None:
        print(f"hourly reports: {self.reports}, equity {self.portfolio.equity():,.2f}")


if __name__ == "__main__":
    data = Path(__file__).parent / "data" / "AAPL.csv"
    result = framework.backtest(RsiSwing(low=25), [data])
    print(result.summary())
