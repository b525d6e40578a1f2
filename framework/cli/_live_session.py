"""Running a live session from the command line: what ``paper`` and ``record`` share.

Both read the same subscription, server and key options (:mod:`._live_args`), run
:func:`~framework.adapters.insightsentry.paper_trade` under Trio with Ctrl+C and SIGTERM
stopping it cleanly, and draw the live view on a terminal that can redraw.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from ._live_args import (
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
    from .._strategy import Strategy
    from ..adapters.insightsentry import InsightSentryFeed
    from ..results._run_result import RunResult


def run_live_session(
    args: argparse.Namespace,
    strategies: Sequence[Strategy],
    *,
    record: str | Path | None,
    journal: str | Path | None = None,
    cash: float = 100_000.0,
) -> tuple[RunResult, InsightSentryFeed | None]:
    """Run the session ``args`` describe until ``--duration`` or a signal; return its result
    and its feed (None if the session stopped before the feed existed)."""
    from ..adapters.insightsentry._session import paper_trade

    subscriptions = subscriptions_from(args)
    url, rest_url = feed_url_from(args), rest_url_from(args)
    api_key = api_key_from(args)
    show_view = can_redraw(sys.stdout) and not args.quiet
    seen: list[InsightSentryFeed] = []

    async def main() -> RunResult:
        async with trio.open_nursery() as nursery:

            def attach(engine: Engine, feed: InsightSentryFeed) -> None:
                seen.append(feed)
                nursery.start_soon(stop_on_signals, engine.stop, nursery.cancel_scope)
                if show_view:
                    from ._live_view import show_live_view

                    nursery.start_soon(show_live_view, engine, feed)

            result = await paper_trade(
                strategies,
                subscriptions,
                api_key=api_key,
                url=url,
                rest_url=rest_url,
                backfill=not args.no_backfill,
                record=record,
                duration=args.duration,
                journal=journal,
                cash=cash,
                durability=durability_from(args),
                on_engine=attach,
            )
            nursery.cancel_scope.cancel()
        return result

    result = trio.run(main)
    return result, (seen[0] if seen else None)
