"""Run a strategy over historical data in simulated time and report the result.

STRATEGY is module:Class, path/to/file.py:Class, or the name of an installed strategy plugin.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .._backtest import backtest
from .._plugins import load_strategy_class
from ._args import add_param_argument, build_strategy, positive_float


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("strategy", metavar="STRATEGY")
    parser.add_argument(
        "--data",
        action="append",
        required=True,
        metavar="PATH",
        help="bar file (.csv); repeat for several files, merged in time order",
    )
    parser.add_argument("--symbol", help="symbol of a single file without a symbol column")
    parser.add_argument("--interval", help="bar size, e.g. 1m (detected when omitted)")
    parser.add_argument("--cash", type=positive_float, default=100_000.0, help="start cash")
    add_param_argument(parser)
    parser.add_argument("--json", metavar="OUT", help="write the result as JSON to OUT")
    parser.add_argument(
        "--skip-bad-rows",
        action="store_true",
        help="count and report bad rows instead of stopping at the first",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def run(args: argparse.Namespace) -> int:
    strategy = build_strategy(load_strategy_class(args.strategy), args.param)
    started = time.perf_counter()
    result = backtest(
        strategy,
        args.data,
        cash=args.cash,
        symbol=args.symbol,
        interval=args.interval,
        skip_bad_rows=args.skip_bad_rows,
    )
    elapsed = time.perf_counter() - started
    if args.json:
        Path(args.json).write_bytes(result.to_json())
    if not args.quiet:
        print(result.summary())
        for source, reasons in result.data_issues.items():
            counts = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
            print(f"skipped rows   {source}: {counts}")
        rate = result.bars / elapsed if elapsed > 0 else 0.0
        print(f"elapsed        {elapsed:.2f} s ({rate:,.0f} bars/s)", file=sys.stderr)
    return 0
