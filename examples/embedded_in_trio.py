"""Embed the engine in your own Trio program: it is one more task in your nursery.

python examples/embedded_in_trio.py
"""

from pathlib import Path

import trio

from framework import BarFileFeed, Engine, RunResult
from strategies.sma_cross import SmaCross


async def watchdog(engine: Engine) -> None:
    """Your own concurrent work; here it stops the engine once equity falls 1% below start."""
    while True:
        await trio.lowlevel.checkpoint()
        if engine.portfolio.equity() < engine.portfolio.start_cash * 0.99:
            engine.stop()
            return


async def main() -> None:
    data = Path(__file__).parent / "data" / "AAPL.csv"
    engine = Engine(feeds=[BarFileFeed(data)], strategies=[SmaCross()])
    async with trio.open_nursery() as nursery:
        nursery.start_soon(watchdog, engine)
        stats = await engine.run()
        nursery.cancel_scope.cancel()
    print(f"engine delivered {stats.events:,} events (stopped early: {stats.stopped_early})")
    print(RunResult.from_engine(engine).summary())


if __name__ == "__main__":
    trio.run(main)
