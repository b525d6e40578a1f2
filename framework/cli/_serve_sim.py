"""Run the simulated InsightSentry server (a real WebSocket server on this machine).

Point `tradewire paper/record --url ws://127.0.0.1:PORT/live` at it with the key it prints.
"""

from __future__ import annotations

import argparse

from .._errors import ConfigError

#: Ports a server can listen on (0: the system picks a free one).
_PORTS = range(0, 65536)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # %(default)s rather than a literal: a tradewire.toml may change the defaults.
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default %(default)s)")
    parser.add_argument(
        "--port",
        type=int,
        default=8765,
        help="port, 0..65535 (default %(default)s; 0: any free port)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the synthetic market (default %(default)s)"
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="simulated seconds per real second (default %(default)s; 60: a 1-minute bar per "
        "second)",
    )
    parser.add_argument(
        "--symbol",
        action="append",
        default=[],
        metavar="CODE",
        help="restrict subscribable codes; repeatable (default: any EXCHANGE:SYMBOL)",
    )


def run(args: argparse.Namespace) -> int:
    from ..adapters.insightsentry.sim import run_sim_server

    # Checked here: the socket layer would take the port modulo 65536, without a word.
    if args.port not in _PORTS:
        raise ConfigError(f"--port must be in 0..65535 (0: any free port), got {args.port}")
    run_sim_server(args.host, args.port, args.seed, args.speed, args.symbol)
    return 0
