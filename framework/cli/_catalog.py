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
    if suffix == ".csv":  # every rule and error of --data: the feeds that read it for backtests
        from ..feeds import BarFileFeed

        replay = replay_tables(BarFileFeed(source, **options))
        return replay.bars, dict(replay.feed.statistics().skipped_by_reason)
    if suffix == ".twrec":
        from ..adapters.insightsentry import RecordingFeed

        for option in ("symbol", "interval", "tz", "time_unit"):
            if options[option] is not None:
                flag = "--" + option.replace("_", "-")
                raise ConfigError(f"{flag} applies to bar files; {source} names its own")
        return replay_tables(RecordingFeed(source, updates=False)).bars, {}
    from ..feeds import ArrowFeed

    replay = replay_tables(ArrowFeed(source, **options))
    return replay.bars, dict(replay.feed.statistics().skipped_by_reason)


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


class _Symbols(argparse.Action):
    """``--symbol``: the symbol of a single ``--data`` file, or, repeated, each symbol of a
    ``--catalog`` to backtest (collected in ``symbols``)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values)
        namespace.symbols = [*(getattr(namespace, "symbols", None) or ()), values]


def add_catalog_arguments(parser: argparse.ArgumentParser) -> None:
    """``--catalog``, ``--start``, ``--end`` for a backtest, and ``--symbol`` made repeatable
    (it is declared once for every bar-file command, in :mod:`._args`)."""
    # "resolve" replaces the single --symbol of the bar-file options (same dest).
    group = parser.add_argument_group("a catalog instead of --data", conflict_handler="resolve")
    group.add_argument(
        "--symbol",
        action=_Symbols,
        help="symbol of a single --data file without a symbol column; with --catalog, a "
        "symbol to backtest (repeatable; default: every symbol)",
    )
    parser.set_defaults(symbols=None)
    group.add_argument(
        "--catalog",
        metavar="PATH",
        help="backtest bars of this catalog (tradewire catalog import) instead of --data; "
        "--interval picks the bar size",
    )
    group.add_argument(
        "--start",
        metavar="TIME",
        help="first bar open time, inclusive (ISO-8601 with an offset, or a date: 0:00 UTC)",
    )
    group.add_argument("--end", metavar="TIME", help="end of the span, exclusive (as --start)")


def catalog_feeds(args: argparse.Namespace) -> list[Any] | None:
    """With ``--catalog``: one replay feed per symbol and bar size the query selects, each
    streaming its own catalog query row group by row group. Without: None, after refusing the
    options that only a catalog takes."""
    symbols = args.symbols or ([args.symbol] if args.symbol else [])
    if args.catalog is None:
        for flag, value in (("--start", args.start), ("--end", args.end)):
            if value is not None:
                raise ConfigError(f"{flag} selects a span of --catalog; with --data, cut the file")
        if len(symbols) > 1:
            raise ConfigError("--symbol is repeatable with --catalog; a --data file has one")
        return None
    if args.data:
        raise ConfigError("--data and --catalog are exclusive: give one")
    from ..catalog import Catalog
    from ..feeds import ArrowFeed

    root = Path(args.catalog)
    if not root.is_dir():
        raise ConfigError(f"catalog not found: {root}")
    catalog = Catalog(root)
    partitions = catalog.scanner(symbols or None, args.interval).partitions
    if not partitions:
        raise ConfigError(f"no bars in catalog {root}")
    sizes: dict[str, list[str]] = {}
    for symbol, label in partitions:
        sizes.setdefault(symbol, []).append(label)
    for symbol, labels in sizes.items():
        if len(labels) > 1:
            raise ConfigError(
                f"catalog {root} has {symbol} in {', '.join(labels)} bars; pass --interval"
            )
    feeds = []
    for symbol, label in partitions:
        scanner = catalog.scanner(symbol, label, args.start, args.end)
        if not scanner.statistics().row_groups:
            span = f" from {args.start or 'the start'} to {args.end or 'the end'}"
            raise ConfigError(f"catalog {root} has no {label} bars of {symbol}{span}")
        feeds.append(ArrowFeed(scanner.to_reader(), label=f"{root} {symbol} {label}"))
    return feeds
