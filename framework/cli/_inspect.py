"""Summarise a recording: span, frames by kind, symbols, bars and gaps, errors, integrity.

Frames are decoded with the same codec and bar assembly as a live session, so the counts are
what a replay would deliver. Damage is reported, not raised (use --salvage to read past it).
"""

from __future__ import annotations

import argparse
from collections import Counter


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.twrec")
    parser.add_argument(
        "--salvage", action="store_true", help="skip damaged spans instead of stopping at them"
    )


def run(args: argparse.Namespace) -> int:
    from .._events import Bar, DataRejected
    from .._intervals import Interval
    from .._time import iso_from_nanos
    from ..feeds.insightsentry import (
        ErrorFrame,
        FrameProcessor,
        classify_frame,
        log_safe,
        symbols_of_frame,
    )
    from ..recording import RecordKind, format_summary, read_recording, summarize

    summary = summarize(
        args.file, salvage=args.salvage, classify=classify_frame, symbols_of=symbols_of_frame
    )
    print(format_summary(summary))
    if summary.integrity.corruption is not None and not args.salvage:
        return 1
    processor = FrameProcessor(None, source="inspect", updates=False)
    last_open: dict[tuple[str, str], int] = {}
    gaps: Counter[tuple[str, str]] = Counter()
    bars: Counter[tuple[str, str]] = Counter()
    errors: Counter[str] = Counter()
    for record in read_recording(args.file, salvage=args.salvage):
        if record.kind != RecordKind.INBOUND:
            continue
        events, frame = processor.process(
            record.payload.decode("utf-8", "replace"), record.recv_wall_ns
        )
        if isinstance(frame, ErrorFrame):
            errors[frame.error_code or log_safe(frame.message)] += 1
        for event in events:
            if isinstance(event, Bar):
                key = (event.symbol, event.interval)
                bars[key] += 1
                step = Interval.parse(event.interval).nanos if event.interval != "1T" else None
                previous = last_open.get(key)
                if step and previous is not None and event.ts_open - previous > step:
                    gaps[key] += 1
                    print(
                        f"gap        {key[0]}@{key[1]}: no bar between "
                        f"{iso_from_nanos(previous)} and {iso_from_nanos(event.ts_open)}"
                    )
                last_open[key] = event.ts_open
            elif isinstance(event, DataRejected):
                errors[f"rejected:{event.reason}"] += 1
    for (symbol, interval), count in sorted(bars.items()):
        print(f"bars       {symbol}@{interval}: {count:,} final, {gaps[(symbol, interval)]} gap(s)")
    for label, count in sorted(errors.items()):
        print(f"errors     {label}: {count:,}")
    return 0
