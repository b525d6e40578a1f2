"""The whole loop on this machine, no API key and no network needed.

Starts the simulated InsightSentry server in-process, paper-trades SmaCross against it for a
few seconds with recording on, then backtests the recording and shows that the orders and
fills match the paper run exactly.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio

from ._args import positive_float

if TYPE_CHECKING:
    from ..results._run_result import RunResult

SYMBOLS = {"NASDAQ:AAPL": 190.0, "NASDAQ:MSFT": 410.0}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--duration", type=positive_float, default=8.0, help="seconds of paper trading"
    )
    parser.add_argument("--out", metavar="DIR", help="where to keep the recording (new temp dir)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulated market")
    parser.add_argument("--fast", type=int, default=5, help="SmaCross fast length")
    parser.add_argument("--slow", type=int, default=20, help="SmaCross slow length")


def run(args: argparse.Namespace) -> int:
    from strategies.sma_cross import SmaCross

    from .._backtest import backtest
    from ..adapters.insightsentry import Subscription
    from ..adapters.insightsentry._session import paper_trade
    from ..adapters.insightsentry.sim import DEFAULT_API_KEY, SimConfig, open_simulated_server

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="tradewire-demo-"))
    out.mkdir(parents=True, exist_ok=True)
    recording = out / f"demo-{time.strftime('%Y%m%d-%H%M%S')}.twrec"
    params = {"fast": args.fast, "slow": args.slow, "qty": 100.0}
    subscriptions = [Subscription(code=code, bars=120) for code in SYMBOLS] + [
        Subscription(code="NASDAQ:AAPL", type="quote")
    ]
    config = SimConfig(
        seed=args.seed,
        speed=300.0,
        trade_interval=0.02,
        heartbeat_interval=1.0,
        base_prices=SYMBOLS,
    )

    async def session() -> RunResult:
        async with open_simulated_server(config) as server:
            print(f"simulated InsightSentry server on {server.url}")
            print(
                f"paper trading SmaCross {params} for {args.duration:g} s, recording to {recording}"
            )
            return await paper_trade(
                [SmaCross(**params)],
                subscriptions,
                api_key=DEFAULT_API_KEY,
                url=server.url,
                record=recording,
                duration=args.duration,
            )

    paper = trio.run(session)
    replay = backtest(SmaCross(**params), [recording])
    print()
    print(f"{'':16}{'paper (live feed)':>20}{'backtest (recording)':>24}")
    rows = [
        ("bars", paper.bars, replay.bars),
        ("fills", len(paper.fills), len(replay.fills)),
        ("trades", len(paper.trades), len(replay.trades)),
        ("final equity", f"{paper.final_equity:,.2f}", f"{replay.final_equity:,.2f}"),
    ]
    for name, left, right in rows:
        print(f"{name:16}{left!s:>20}{right!s:>24}")
    mismatch = _first_difference(paper.to_dict(), replay.to_dict())
    if mismatch is None:
        print("\nMATCH: the backtest over the recording reproduced every order and fill.")
        return 0
    print(f"\nMISMATCH at {mismatch}")
    return 1


def _first_difference(left: dict[str, Any], right: dict[str, Any]) -> str | None:
    for key in ("bars", "fills", "trades", "final_equity"):
        a, b = left[key], right[key]
        if isinstance(a, list):
            for index, (x, y) in enumerate(zip(a, b, strict=False)):
                if x != y:
                    return f"{key}[{index}]: paper {x} vs backtest {y}"
        if a != b:
            return (
                f"{key}: paper {a if not isinstance(a, list) else len(a)} vs backtest "
                f"{b if not isinstance(b, list) else len(b)}"
            )
    return None
