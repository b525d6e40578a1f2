"""List the strategies and feeds installed as plugins (entry points)."""

from __future__ import annotations

import argparse

from .._plugins import FEED_GROUP, STRATEGY_GROUP, available


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser


def run(args: argparse.Namespace) -> int:
    del args
    for title, group in (("strategies", STRATEGY_GROUP), ("feeds", FEED_GROUP)):
        print(f"{title} ({group}):")
        plugins = available(group)
        if not plugins:
            print("  (none)")
        for name, target in sorted(plugins.items()):
            print(f"  {name:24} {target}")
    return 0
