"""Argument types shared by subcommands."""

from __future__ import annotations

import argparse
from typing import Any

from .._errors import ParameterError
from .._strategy import Strategy


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
