"""Backtest every combination of a parameter grid, in parallel, and rank the results.

    tradewire sweep sma_cross --data AAPL.csv --grid fast=5:50:5 --grid slow=20,30,50

A range START:STOP:STEP includes STOP when a step lands on it; a list is comma-separated.
Combinations the strategy rejects (fast >= slow) are listed as skipped, not errors. Rows are
ranked by --rank-by (higher is better; lower for max_drawdown, volatility and the like), ties in
grid order, so the table is the same on every backend and any number of workers.

With --train and --test (bars, e.g. 5000, or durations, e.g. 5D) the sweep is walk-forward:
each train window picks the best parameters, which are then backtested on the test window
right after it; only those out-of-sample results are reported.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ._args import add_run_arguments, bar_file_options, cost_options, parse_params
from ._progress import count_progress, wants_progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_arguments(
        parser,
        data_help="bar data: .csv, .parquet, .feather/.arrow file or a directory of them (Hive "
        "symbol=X/ folders name the symbol); repeat for several, merged in time order",
        data_required=True,
        skip_help="count bad rows instead of stopping",
    )
    parser.add_argument(
        "--grid",
        action="append",
        metavar="NAME=SPEC",
        help="a swept parameter: NAME=START:STOP[:STEP] or NAME=V1,V2,... (repeatable)",
    )
    parser.add_argument(
        "--backend", choices=("local", "ray"), default="local", help="where backtests run"
    )
    parser.add_argument(
        "--workers", type=int, help="parallel backtests (default: every core this may use)"
    )
    parser.add_argument(
        "--address", help="Ray cluster address (default: RAY_ADDRESS, else a local Ray)"
    )
    parser.add_argument(
        "--rank-by", default="sharpe", metavar="STAT", help="statistic to rank by (sharpe)"
    )
    parser.add_argument("--top", type=int, default=10, help="rows to print (10)")
    parser.add_argument("--out", metavar="OUT", help="write every row as CSV to OUT")
    parser.add_argument("--train", metavar="SIZE", help="walk-forward train window: bars or 5D")
    parser.add_argument("--test", metavar="SIZE", help="walk-forward test window: bars or 1D")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def run(args: argparse.Namespace) -> int:
    from .._errors import ConfigError
    from ..sweeps import Grid, WindowSize, make_backend, sweep, walk_forward

    grid = Grid.parse(args.grid or ())
    backend = make_backend(args.backend, workers=args.workers, address=args.address)
    common: dict[str, Any] = {
        "params": dict(parse_params(args.param)),
        "rank_by": args.rank_by,
        "backend": backend,
        "cash": args.cash,
        "feed_options": bar_file_options(args),
        "backtest_options": cost_options(args),
    }
    show = wants_progress(args.quiet)
    if (args.train is None) != (args.test is None):
        raise ConfigError("walk-forward needs both --train and --test")
    if args.train is not None:
        train = WindowSize.parse(args.train, "--train")
        test = WindowSize.parse(args.test, "--test")
        with count_progress(None, show=show, description="walk-forward") as tick:
            result = walk_forward(
                args.strategy, args.data, grid, train=train, test=test, on_row=tick, **common
            )
        if args.out:
            _write(args.out, result.to_csv())
        if not args.quiet:
            print(result.table())
        return 0
    with count_progress(len(grid), show=show, description="sweep") as tick:
        swept = sweep(args.strategy, args.data, grid, on_row=tick, **common)
    if args.out:
        _write(args.out, swept.to_csv())
    if not args.quiet:
        print(swept.table(args.top))
        if args.out:
            print(f"all rows in {args.out}", file=sys.stderr)
    return 0


def _write(path: str, text: str) -> None:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
