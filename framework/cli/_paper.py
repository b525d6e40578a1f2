"""Paper-trade a strategy on the live InsightSentry feed with the simulated broker.

The API key comes from $INSIGHTSENTRY_API_KEY (or --api-key-file). With --record, every frame
is journalled before it is delivered; `tradewire backtest STRATEGY --data FILE.twrec` then
reproduces the run's orders and fills. Ctrl+C stops cleanly with the journal intact.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from ._args import add_param_argument, build_strategy, positive_float
from ._live_args import (
    add_subscription_arguments,
    api_key_from,
    durability_from,
    feed_url_from,
    rest_url_from,
    stop_on_signals,
    subscriptions_from,
)
from ._progress import can_redraw

if TYPE_CHECKING:
    from .._engine import Engine
    from .._results import RunResult
    from ..adapters.insightsentry import InsightSentryFeed


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
    from ..adapters.insightsentry._session import paper_trade

    strategy = build_strategy(load_strategy_class(args.strategy), args.param)
    subscriptions = subscriptions_from(args)
    url, rest_url = feed_url_from(args), rest_url_from(args)
    api_key = api_key_from(args)
    show_view = can_redraw(sys.stdout) and not args.quiet

    async def main() -> RunResult:
        async with trio.open_nursery() as nursery:

            def attach(engine: Engine, feed: InsightSentryFeed) -> None:
                nursery.start_soon(stop_on_signals, engine.stop, nursery.cancel_scope)
                if show_view:
                    from ._live_view import show_live_view

                    nursery.start_soon(show_live_view, engine, feed)

            result = await paper_trade(
                [strategy],
                subscriptions,
                api_key=api_key,
                url=url,
                rest_url=rest_url,
                backfill=not args.no_backfill,
                record=args.record,
                duration=args.duration,
                journal=args.journal,
                cash=args.cash,
                durability=durability_from(args),
                on_engine=attach,
            )
            nursery.cancel_scope.cancel()
        return result

    result = trio.run(main)
    if args.json:
        Path(args.json).write_bytes(result.to_json())
    if not args.quiet:
        print(result.summary())
        if args.record:
            print(f"recording      {args.record}")
    return 0
