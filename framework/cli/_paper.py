"""Paper-trade a strategy on the live InsightSentry feed with the simulated broker.

The API key comes from $INSIGHTSENTRY_API_KEY (or --api-key-file). With --record, every frame
is journalled before it is delivered; `tradewire backtest STRATEGY --data FILE.twrec` then
reproduces the run's orders and fills. Ctrl+C stops cleanly with the journal intact.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ._args import add_param_argument, build_strategy, positive_float
from ._live_args import add_subscription_arguments
from ._live_session import run_live_session


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("strategy", metavar="STRATEGY")
    add_subscription_arguments(parser)
    add_param_argument(parser)
    parser.add_argument("--record", metavar="FILE.twrec", help="journal the session to FILE")
    parser.add_argument(
        "--journal",
        metavar="BOOK.twrec",
        help="keep the paper book (orders, fills, positions) in BOOK; an existing BOOK is "
        "resumed, so a restarted session continues where the last one stopped",
    )
    parser.add_argument("--cash", type=positive_float, default=100_000.0, help="start cash")
    parser.add_argument("--json", metavar="OUT", help="write the result as JSON to OUT")
    parser.add_argument("-q", "--quiet", action="store_true", help="no live view, no summary")


def run(args: argparse.Namespace) -> int:
    from .._plugins import load_strategy_class

    strategy = build_strategy(load_strategy_class(args.strategy), args.param)
    result, _ = run_live_session(
        args, [strategy], record=args.record, journal=args.journal, cash=args.cash
    )
    if args.json:
        Path(args.json).write_bytes(result.to_json())
    if not args.quiet:
        print(result.summary())
        if args.record:
            print(f"recording      {args.record}")
    return 0
