"""Run the simulated InsightSentry server (a real WebSocket server on this machine).

Point `tradewire paper/record --url ws://127.0.0.1:PORT/live` at it with the key it prints.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="listen address (loopback)")
    parser.add_argument("--port", type=int, default=8765, help="port (0: any free port)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic market")
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="simulated seconds per real second (60: a 1-minute bar per second)",
    )
    parser.add_argument(
        "--symbol",
        action="append",
        default=[],
        metavar="CODE",
        help="restrict subscribable codes (default: any EXCHANGE:SYMBOL)",
    )


def run(args: argparse.Namespace) -> int:
    from ..testing import run_sim_server

    run_sim_server(args.host, args.port, args.seed, args.speed, args.symbol)
    return 0
