"""Argument types shared by subcommands."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from .._errors import ParameterError
from .._strategy import Strategy
from ..execution import COMMISSION_FORMS, SLIPPAGE_FORMS, parse_commission, parse_slippage


def parse_params(pairs: list[str] | None) -> dict[str, str]:
    """``["fast=10", "slow=30"]`` → ``{"fast": "10", "slow": "30"}``."""
    params: dict[str, str] = {}
    for pair in pairs or ():
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--param expects name=value, got {pair!r}")
        params[name.strip()] = value
    return params


def build_strategy(cls: type[Strategy], pairs: list[str] | None) -> Strategy:
    """Instantiate ``cls`` with ``--param`` values converted to the declared types."""
    return cls(**parse_params(pairs))


def add_param_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help="set a strategy parameter (repeatable); converted to the declared type",
    )


def positive_float(text: str) -> Any:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def add_bar_file_arguments(parser: argparse.ArgumentParser, *, skip_help: str) -> None:
    """How bar files are read (docs/data.md): symbol, bar size, zone, epoch unit, bad rows."""
    parser.add_argument("--symbol", help="symbol of a single file without a symbol column")
    parser.add_argument("--interval", help="bar size, e.g. 1m (detected when omitted)")
    parser.add_argument(
        "--tz",
        metavar="ZONE",
        help="zone of the bar files' naive times and dates, e.g. America/New_York or UTC "
        "(see docs/data.md)",
    )
    parser.add_argument(
        "--time-unit",
        choices=("s", "ms", "us", "ns"),
        help="unit of epoch-number times (default: decided by the first row's magnitude)",
    )
    parser.add_argument("--skip-bad-rows", action="store_true", help=skip_help)


def add_run_arguments(
    parser: argparse.ArgumentParser,
    *,
    data_help: str,
    data_required: bool,
    skip_help: str,
    before_cash: Callable[[argparse.ArgumentParser], None] | None = None,
) -> None:
    """What ``backtest`` and ``sweep`` both take: STRATEGY, ``--data``, how bar files are
    read, ``--cash``, the cost models and ``--param`` (``before_cash`` adds a command's own
    data options, such as ``--catalog``, after the bar-file ones)."""
    parser.add_argument("strategy", metavar="STRATEGY")
    parser.add_argument(
        "--data", action="append", required=data_required, metavar="PATH", help=data_help
    )
    add_bar_file_arguments(parser, skip_help=skip_help)
    if before_cash is not None:
        before_cash(parser)
    parser.add_argument("--cash", type=positive_float, default=100_000.0, help="start cash")
    parser.add_argument(
        "--commission", metavar="SPEC", help=f"commission model: {COMMISSION_FORMS} (default none)"
    )
    parser.add_argument(
        "--slippage", metavar="SPEC", help=f"slippage model: {SLIPPAGE_FORMS} (default none)"
    )
    add_param_argument(parser)


def cost_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``commission`` and ``slippage`` models :func:`add_run_arguments` collected (None
    for the free ones), as :func:`framework.backtest` takes them."""
    return {
        "commission": parse_commission(args.commission) if args.commission else None,
        "slippage": parse_slippage(args.slippage) if args.slippage else None,
    }


def bar_file_options(args: argparse.Namespace) -> dict[str, Any]:
    """The feed options :func:`add_bar_file_arguments` collected."""
    return {
        "symbol": args.symbol,
        "interval": args.interval,
        "skip_bad_rows": args.skip_bad_rows,
        "tz": args.tz,
        "time_unit": args.time_unit,
    }
