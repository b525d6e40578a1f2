"""Write an HTML report (and optionally a PNG of the equity curve) from a saved JSON result.

RESULT is the file ``tradewire backtest --json`` wrote. Results hold no bars, so price charts
need the run's data files again: pass the same ``--data`` (and ``--symbol``, ``--tz``...) as
the backtest; without them the report shows equity from closed trades and no prices.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from .._errors import ConfigError
from ._args import add_bar_file_arguments, bar_file_options

if TYPE_CHECKING:
    from ..results._run_result import RunResult


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("result", metavar="RESULT", help="JSON result of `tradewire backtest`")
    parser.add_argument(
        "-o", "--out", metavar="OUT", help="HTML file to write (default: RESULT with .html)"
    )
    parser.add_argument("--png", metavar="OUT", help="also write the equity curve as PNG")
    parser.add_argument(
        "--data",
        action="append",
        metavar="PATH",
        help="the run's bar files, for price charts (repeat as for the backtest)",
    )
    add_bar_file_arguments(parser, skip_help="skip bad rows as the backtest did")
    parser.add_argument("--title", help="report title (default: strategy and parameters)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def run(args: argparse.Namespace) -> int:
    source = Path(args.result)
    try:
        result = orjson.loads(source.read_bytes())
    except FileNotFoundError:
        raise ConfigError(f"result file not found: {source}") from None
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{source} is not a JSON result: {exc}") from None
    if not isinstance(result, dict) or "start_cash" not in result:
        raise ConfigError(f"{source} is not a tradewire result (no start_cash)")
    out = Path(args.out) if args.out else source.with_suffix(".html")
    written = write_report_files(
        result,
        html=out,
        png=args.png,
        data=args.data or (),
        title=args.title,
        **bar_file_options(args),
    )
    if not args.quiet:
        for path in written:
            print(f"wrote {path}")
    return 0


def write_report_files(
    result: RunResult | Mapping[str, Any],
    *,
    html: str | Path | None,
    png: str | Path | None,
    data: Sequence[str | Path] = (),
    title: str | None = None,
    **feed_options: Any,
) -> list[Path]:
    """Build the report once and write the HTML and/or PNG asked for; returns what was written."""
    from ..reports import build_report, write_html, write_png

    report = build_report(result, data=data, title=title, **feed_options)
    written: list[Path] = []
    if html:
        written.append(write_html(report, html))
    if png:
        written.append(write_png(report, png))
    return written
