"""``tradewire`` entry point: argument parsing and error reporting for every subcommand.

Subcommand modules are imported only when chosen, so ``tradewire --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Collection, Sequence

from .._errors import ConfigError, TradewireError
from ._config import DEFAULT_CONFIG, Config, find_config

#: subcommand -> (module under framework.cli, one-line help)
SUBCOMMANDS = {
    "backtest": ("_backtest", "run a strategy over bar files or recordings"),
    "list": ("_list", "show installed strategies and feeds"),
    "report": ("_report", "write an HTML report from a saved JSON result"),
    "sweep": ("_sweep", "backtest every combination of a parameter grid, in parallel"),
    "demo": ("_demo", "paper-trade on a simulated feed, record it, replay it, compare fills"),
    "paper": ("_paper", "paper-trade a strategy on the live InsightSentry feed"),
    "record": ("_record", "record a live InsightSentry session to a .twrec journal"),
    "inspect": ("_inspect", "summarise a recording: span, frames, symbols, integrity"),
    "history": ("_history", "download bars from the InsightSentry REST API to a file"),
    "catalog": ("_catalog", "store bars in a Parquet catalog (import) and show what it holds"),
    "export": ("_export", "write a recording's bars and quotes as Parquet files"),
    "serve-sim": ("_serve_sim", "run the simulated InsightSentry server"),
}


def build_parser(
    config: Config | None = None, *, only: Collection[str] | None = None
) -> argparse.ArgumentParser:
    """The parser; ``config`` (a ``tradewire.toml``) supplies each command's defaults.

    ``only`` names the commands whose options are built (None: all). Building a command
    imports its module, so `tradewire --help` builds none and stays quick.
    """
    parser = argparse.ArgumentParser(
        prog="tradewire",
        description="Write a strategy once; backtest it, replay sessions, paper-trade it live.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="on an error in your code, show every frame (default: only your own frames)",
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help=f"defaults for every command from this TOML file (default: ./{DEFAULT_CONFIG})",
    )
    commands: dict[str, argparse.ArgumentParser] = {}
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        if only is not None and name not in only:
            sub.add_parser(name, help=help_text)
            continue
        module = importlib.import_module(f"{__package__}.{module_name}")
        command = sub.add_parser(name, help=help_text, description=module.__doc__)
        module.add_arguments(command)
        command.set_defaults(_module=module)
        commands[name] = command
    if config is not None:
        config.apply(commands)
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse ``argv`` with the config file's defaults (see :mod:`._config`)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    config = find_config(argv)
    # A config file is checked against every command's options, so it needs them all.
    only = None if config is not None else _named_command(argv)
    args = build_parser(config, only=only).parse_args(argv)
    if config is not None:
        config.finish(args.command, args)
    return args


def _named_command(argv: Sequence[str]) -> set[str]:
    """The subcommand ``argv`` names (skipping the global options), as a set of 0 or 1."""
    args = iter(argv)
    for arg in args:
        if arg == "--config":
            next(args, None)
        elif not arg.startswith("-"):
            return {arg} if arg in SUBCOMMANDS else set()
    return set()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code.

    Exit codes: 0 success, 1 an exception from the user's own code (their frames and one
    line naming strategy, hook and event; all frames with ``--traceback``), 2 a tradewire
    error (one line each), 130 interrupted. A closed stdout (``tradewire ... | head``) ends
    the command quietly with 141, as a process killed by SIGPIPE would.
    """
    try:
        args = parse_args(argv)
    except ConfigError as exc:
        print(f"tradewire: error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    codes = [0]
    try:
        codes.append(int(args._module.run(args)))
        sys.stdout.flush()  # inside the try: a closed pipe shows up here at the latest
    except* BrokenPipeError:
        codes.append(_stdout_closed())
    except* TradewireError as group:
        for error in _leaves(group):
            print(f"tradewire: error: {error}", file=sys.stderr)
        codes.append(2)
    except* KeyboardInterrupt:
        print("tradewire: interrupted", file=sys.stderr)
        codes.append(130)
    except* Exception as group:
        from ._user_errors import print_user_error  # only on failure: keeps startup light

        for error in _leaves(group):
            print_user_error(error, full=args.traceback)
        codes.append(1)
    return max(codes)


def _stdout_closed() -> int:
    # Python flushes stdout again at exit and would report that failure too: point the
    # descriptor at /dev/null so the exit is as quiet as the reader that went away.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    found: list[BaseException] = []
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            found.extend(_leaves(exc))
        else:
            found.append(exc)
    return found
