"""Run the bundled SmaCross over the bundled sample from Python and print the result.

python examples/backtest_from_python.py
"""

from pathlib import Path

import framework
from strategies.sma_cross import SmaCross

DATA = Path(__file__).parent / "data"

result = framework.backtest(SmaCross(fast=10, slow=30), [DATA / "AAPL.csv", DATA / "MSFT.csv"])
print(result.summary())
print(f"first fill: {result.fills[0]}")
