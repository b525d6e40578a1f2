"""Feeds: the Feed protocol, bar files, Arrow data, in-memory lists. A vendor's live feed and
its recordings' replay live with its adapter (:mod:`framework.adapters`).

:class:`ArrowFeed` loads on first use: it brings pyarrow, which a run over bar files or
recordings never needs.
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._bar_file import BarFileFeed as BarFileFeed
from ._bar_file import BarFileStatistics as BarFileStatistics
from ._feed import REPLAY_BATCH_SIZE as REPLAY_BATCH_SIZE
from ._feed import EventBatch as EventBatch
from ._feed import Feed as Feed
from ._feed import ListFeed as ListFeed

if TYPE_CHECKING:
    from ._arrow_feed import ArrowFeed as ArrowFeed

#: Public names loaded on first access, and the module each comes from.
_LAZY = {"ArrowFeed": "._arrow_feed"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'framework.feeds' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "REPLAY_BATCH_SIZE",
    "ArrowFeed",
    "BarFileFeed",
    "BarFileStatistics",
    "EventBatch",
    "Feed",
    "ListFeed",
]
