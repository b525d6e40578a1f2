"""Summarise a recording: span, frames by kind, symbols, bars and gaps, errors, integrity.

Frames are decoded with the same codec and bar assembly as a live session, so the counts are
what a replay would deliver. Damage is reported, not raised (use --salvage to read past it).
"""

from __future__ import annotations

import argparse
from collections import Counter

import trio

from ..feeds._feed import EventBatch


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.twrec")
    parser.add_argument(
        "--salvage", action="store_true", help="skip damaged spans instead of stopping at them"
    )


def run(args: argparse.Namespace) -> int:
    from ..adapters.insightsentry import classify_frame, symbols_of_frame
    from ..recording import format_summary, summarize

    summary = summarize(
        args.file, salvage=args.salvage, classify=classify_frame, symbols_of=symbols_of_frame
    )
    print(format_summary(summary))
    if summary.integrity.corruption is not None and not args.salvage:
        return 1
    for line in trio.run(_delivered, args.file):
        print(line)
    return 0


async def _delivered(path: str) -> list[str]:
    """Replay the recording as a backtest would (backfill included) and describe the bars."""
    from .._events import Bar, BarGap, DataRejected
    from .._intervals import Interval
    from .._time import iso_from_nanos
    from ..adapters.insightsentry import RecordingFeed

    lines: list[str] = []
    last_open: dict[tuple[str, str], int] = {}
    gaps: Counter[tuple[str, str]] = Counter()
    bars: Counter[tuple[str, str]] = Counter()
    backfilled: Counter[tuple[str, str]] = Counter()
    rejected: Counter[str] = Counter()
    send, receive = trio.open_memory_channel[EventBatch](4)
    async with trio.open_nursery() as nursery:
        await nursery.start(RecordingFeed(path, updates=False).run, send)
        async with receive:
            async for batch in receive:
                for event in batch:
                    if isinstance(event, Bar):
                        key = (event.symbol, event.interval)
                        bars[key] += 1
                        backfilled[key] += event.is_backfill
                        step = (
                            None if event.interval == "1T" else Interval.parse(event.interval).nanos
                        )
                        previous = last_open.get(key)
                        if step and previous is not None and event.ts_open - previous > step:
                            gaps[key] += 1
                            lines.append(
                                f"gap        {key[0]}@{key[1]}: no bar between "
                                f"{iso_from_nanos(previous)} and {iso_from_nanos(event.ts_open)}"
                            )
                        last_open[key] = event.ts_open
                    elif isinstance(event, BarGap):
                        lines.append(
                            f"gap        {event.symbol}@{event.interval}: reported unfilled from "
                            f"{iso_from_nanos(event.ts_from)} to {iso_from_nanos(event.ts_to)}"
                        )
                    elif isinstance(event, DataRejected):
                        rejected[event.reason] += 1
    for (symbol, interval), count in sorted(bars.items()):
        key = (symbol, interval)
        lines.append(
            f"bars       {symbol}@{interval}: {count:,} final ({backfilled[key]:,} backfilled), "
            f"{gaps[key]} gap(s)"
        )
    lines.extend(f"rejected   {reason}: {n:,}" for reason, n in sorted(rejected.items()))
    return lines
