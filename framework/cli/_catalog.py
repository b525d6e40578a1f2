"""Store bars in a Parquet catalog, and list what it holds (docs/catalog.md).

`tradewire catalog import AAPL.csv session.twrec --catalog data/catalog` reads each source as
a backtest would (bar files with every rule and error of --data, Parquet and Feather bar
tables, recordings through their replay) and stores its final bars, partitioned by symbol and
bar size. Bars already stored are skipped if identical, so importing again is safe; a bar
that differs from the stored one is refused. `tradewire catalog list data/catalog` shows each
symbol's bar sizes, spans and row counts.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._errors import ConfigError
from .._time import iso_from_nanos
from ._args import add_bar_file_arguments, bar_file_options

#: Sources ``catalog import`` reads, by suffix.
SOURCE_SUFFIXES = (".csv", ".parquet", ".feather", ".arrow", ".twrec")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="catalog_action", metavar="ACTION", required=True)
    importing = actions.add_parser(
        "import",
        help="store the bars of bar files, Parquet/Feather files and recordings",
        description=__doc__,
    )
    importing.add_argument(
        "sources",
        nargs="+",
        metavar="SRC",
        help="a bar file (.csv), a bar table (.parquet, .feather, .arrow) or a recording "
        "(.twrec), e.g. written by `tradewire history`",
    )
    importing.add_argument("--catalog", required=True, metavar="DIR", help="the catalog")
    add_bar_file_arguments(
        importing, skip_help="count and report bad rows of bar files instead of stopping"
    )
    importing.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    importing.set_defaults(_catalog_run=_import)
    listing = actions.add_parser(
        "list", help="show symbols, bar sizes, spans and rows", description=__doc__
    )
    listing.add_argument("catalog", metavar="DIR")
    listing.set_defaults(_catalog_run=_list)


def run(args: argparse.Namespace) -> int:
    return int(args._catalog_run(args))


def _import(args: argparse.Namespace) -> int:
    from ..catalog import Catalog

    catalog = Catalog(args.catalog)
    sources = [Path(source) for source in args.sources]
    for source in sources:
        if not source.is_file():
            raise ConfigError(f"source not found: {source}")
        if source.suffix.lower() not in SOURCE_SUFFIXES:
            raise ConfigError(f"unsupported source {source}: expected {', '.join(SOURCE_SUFFIXES)}")
    if args.symbol is not None and len(sources) > 1:
        raise ConfigError("--symbol names the symbol of a single file; give one file")
    # Each source is a write of its own: a failure leaves the sources before it stored, and
    # importing them again skips what is already there.
    for source in sources:
        table, skipped = _read(source, args)
        writes = catalog.write_bars(table)
        if args.quiet:
            continue
        if not writes:
            print(f"{source}: no bars")
        for write in writes:
            print(
                f"{source}: {write.symbol} {write.interval}: {write.written:,} bars written, "
                f"{write.already_stored:,} already stored "
                f"({iso_from_nanos(write.start)} to {iso_from_nanos(write.end)})"
            )
        if skipped:
            counts = ", ".join(f"{n} {reason}" for reason, n in sorted(skipped.items()))
            print(f"{source}: skipped rows: {counts}")
    return 0


def _read(source: Path, args: argparse.Namespace) -> tuple[Any, dict[str, int]]:
    """The bars of one source as a BAR_SCHEMA table, and the bad rows skipped by reason."""
    from ..catalog._replay_tables import replay_tables

    suffix = source.suffix.lower()
    options = bar_file_options(args)
    if suffix == ".csv":
        from ..feeds import BarFileFeed

        replay = replay_tables(BarFileFeed(source, **options))
        return replay.bars, dict(replay.feed.statistics().skipped_by_reason)
    if suffix == ".twrec":
        from ..feeds.insightsentry import RecordingFeed

        for option in ("symbol", "interval", "tz", "time_unit"):
            if options[option] is not None:
                flag = "--" + option.replace("_", "-")
                raise ConfigError(f"{flag} applies to bar files; {source} names its own")
        return replay_tables(RecordingFeed(source, updates=False)).bars, {}
    return _read_table(source, args), {}


def _read_table(source: Path, args: argparse.Namespace) -> Any:
    import pyarrow as pa
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    from ..catalog._checked import bar_table
    from ..catalog._files import unreadable

    try:
        table = (
            pq.read_table(source)
            if source.suffix.lower() == ".parquet"
            else feather.read_table(source)
        )
    except (pa.ArrowException, OSError) as exc:
        raise unreadable(source, exc) from None
    return bar_table(table, symbol=args.symbol, interval=args.interval)


def _list(args: argparse.Namespace) -> int:
    from ..catalog import Catalog

    root = Path(args.catalog)
    if not root.is_dir():
        raise ConfigError(f"catalog not found: {root}")
    entries = Catalog(root).entries()
    if not entries:
        print(f"no bars in {root}")
        return 0
    rows = [("symbol", "interval", "start", "end", "rows")]
    rows += [
        (e.symbol, e.interval, iso_from_nanos(e.start), iso_from_nanos(e.end), f"{e.rows:,}")
        for e in entries
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=False)]
        print("  ".join([*cells, row[4].rjust(widths[4])]))
    return 0
