"""Record a live InsightSentry session: every frame journalled with its receive time.

The API key comes from $INSIGHTSENTRY_API_KEY (or --api-key-file) and never reaches the file:
outbound frames are redacted before they are written. Ctrl+C stops cleanly with everything
recorded so far intact; `tradewire inspect FILE` summarises the result.
"""

from __future__ import annotations

import argparse

from ._live_args import add_subscription_arguments
from ._live_session import run_live_session


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_subscription_arguments(parser)
    parser.add_argument("--out", required=True, metavar="FILE.twrec", help="the new journal")
    parser.add_argument("-q", "--quiet", action="store_true", help="no live view, no summary")


def run(args: argparse.Namespace) -> int:
    _, feed = run_live_session(args, [], record=args.out)
    if not args.quiet and feed is not None:
        stats = feed.statistics()
        print(
            f"recorded {stats.frames:,} frames to {args.out} "
            f"({stats.connects} connection(s), {stats.processor.bars:,} final bars)"
        )
    return 0
