"""Export a recording's final bars and quotes as Parquet.

`tradewire export session.twrec --out session/` writes session/bars.parquet (one row per final
bar, the BAR_SCHEMA columns: symbol, interval, time = open time, open .. volume) and
session/quotes.parquet (symbol, time, recv_time, bid, ask, bid_size, ask_size, last_price,
last_size, volume, status, last_time). The recording is read through its replay, with the
live codec, so the files hold exactly the bars and quotes a backtest over it receives, in
the order it receives them. pandas, polars and DuckDB read them directly; `tradewire catalog
import session/bars.parquet --catalog DIR` stores the bars.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .._errors import ConfigError

#: The files written into --out.
OUTPUTS = ("bars.parquet", "quotes.parquet")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recording", metavar="REC.twrec")
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="directory for bars.parquet and quotes.parquet"
    )
    parser.add_argument("--force", action="store_true", help="replace files already in DIR")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def run(args: argparse.Namespace) -> int:
    import pyarrow.parquet as pq

    from ..adapters.insightsentry import RecordingFeed
    from ..catalog._replay_tables import replay_tables
    from ..feeds._bar_table import COMPRESSION

    source = Path(args.recording)
    if not source.is_file():
        raise ConfigError(f"recording not found: {source}")
    if source.suffix.lower() != ".twrec":
        raise ConfigError(f"export reads recordings (.twrec), not {source.name}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a directory")
    targets = [out / name for name in OUTPUTS]
    existing = [str(path) for path in targets if path.exists()]
    if existing and not args.force:
        raise ConfigError(f"{existing[0]} exists; pass --force to replace it")
    replay = replay_tables(RecordingFeed(source, updates=False))
    out.mkdir(parents=True, exist_ok=True)
    for table, target in zip((replay.bars, replay.quotes), targets, strict=True):
        # Written aside and renamed: a failure never leaves half a file under the real name.
        temporary = target.with_name(f".{target.name}.partial")
        pq.write_table(table, temporary, compression=COMPRESSION)
        os.replace(temporary, target)
    if not args.quiet:
        bars, quotes = replay.bars, replay.quotes
        symbols = len(set(bars["symbol"].to_pylist()) | set(quotes["symbol"].to_pylist()))
        print(
            f"wrote {bars.num_rows:,} bars to {targets[0]} and {quotes.num_rows:,} quotes "
            f"to {targets[1]} ({symbols} symbol{'s' if symbols != 1 else ''})"
        )
    return 0
