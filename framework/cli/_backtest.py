"""Run a strategy over historical data in simulated time and report the result.

STRATEGY is module:Class, path/to/file.py:Class, or the name of an installed strategy plugin.
"""

from __future__ import annotations

import argparse
import sys
import time

from .._backtest import backtest_async, feeds_for
from .._errors import ConfigError
from .._plugins import load_strategy_class
from ._args import add_run_arguments, bar_file_options, build_strategy, cost_options, positive_float
from ._catalog import add_catalog_arguments, catalog_feeds
from ._progress import run_with_progress, sample_feeds, wants_progress
from ._report import write_report_files


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_arguments(
        parser,
        data_help="bar data: a .csv, .parquet, .feather/.arrow file or a directory of them (Hive "
        "symbol=X/ folders name the symbol), or a .twrec recording; repeat for several, "
        "merged in time order",
        data_required=False,  # --data or --catalog: run() checks that exactly one is given
        skip_help="count and report bad rows instead of stopping at the first",
        before_cash=add_catalog_arguments,
    )
    parser.add_argument(
        "--speed",
        type=positive_float,
        metavar="X",
        help="pace recordings (.twrec) at X times their recorded speed (1 = real time); "
        "default: as fast as possible",
    )
    parser.add_argument("--json", metavar="OUT", help="write the result as JSON to OUT")
    parser.add_argument(
        "--out",
        metavar="OUT",
        help="write fills, trades, orders and equity as Parquet files, with stats.json, "
        "into the directory OUT (created; may be named like result.parquet)",
    )
    parser.add_argument(
        "--report", metavar="OUT", help="write a self-contained HTML report to OUT (.html)"
    )
    parser.add_argument("--png", metavar="OUT", help="write the equity curve as PNG to OUT")
    parser.add_argument("--trades-csv", metavar="OUT", help="write the closed trades as CSV to OUT")
    parser.add_argument("--fills-csv", metavar="OUT", help="write the fills as CSV to OUT")
    parser.add_argument(
        "--benchmark",
        metavar="SYMBOL_OR_FILE",
        help="compare with a benchmark: a symbol of --data, or a bar file of one symbol (read "
        "with --tz, --time-unit and --skip-bad-rows); adds its return and the strategy's "
        "alpha and beta against it (docs/statistics.md)",
    )
    parser.add_argument(
        "--equity-resolution",
        metavar="SIZE",
        help="keep one equity sample per SIZE (e.g. 1h; divides a day); default: every mark "
        "time, thinned past 2**20 samples",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def run(args: argparse.Namespace) -> int:
    strategy = build_strategy(load_strategy_class(args.strategy), args.param)
    if args.out:
        from ..results._parquet import check_parquet_dir  # pyarrow.parquet: only when asked

        check_parquet_dir(args.out)  # before the run, not after it
    started = time.perf_counter()
    feed_options = bar_file_options(args)
    feeds = catalog_feeds(args)  # None without --catalog
    if feeds is None:
        if not args.data:
            raise ConfigError("no data: give --data PATH or --catalog PATH")
        feeds = feeds_for(args.data, speed=args.speed, **feed_options)
    result = run_with_progress(
        lambda: backtest_async(
            strategy,
            feeds,
            cash=args.cash,
            equity_resolution=args.equity_resolution,
            # The feeds are built; the bar-file options read a benchmark file.
            benchmark=args.benchmark,
            # What strategies plot is kept only for the report that draws it.
            plots=bool(args.report),
            **cost_options(args),
            **feed_options,
        ),
        sample_feeds(feeds),
        show=wants_progress(args.quiet),
        description="backtest",
    )
    elapsed = time.perf_counter() - started
    if args.json:
        result.write_json(args.json)
    if args.out:
        result.write_parquet(args.out)
    if args.trades_csv:
        result.write_trades_csv(args.trades_csv)
    if args.fills_csv:
        result.write_fills_csv(args.fills_csv)
    if args.report or args.png:
        write_report_files(result, html=args.report, png=args.png, data=args.data, **feed_options)
    if not args.quiet:
        print(result.summary())
        for source, reasons in result.data_issues.items():
            counts = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
            print(f"skipped rows   {source}: {counts}")
        rate = result.bars / elapsed if elapsed > 0 else 0.0
        print(f"elapsed        {elapsed:.2f} s ({rate:,.0f} bars/s)", file=sys.stderr)
    return 0
