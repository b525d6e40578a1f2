"""Feeds: the Feed protocol, bar files, in-memory lists (and the InsightSentry live feed)."""

from ._bar_file import BarFileFeed as BarFileFeed
from ._bar_file import BarFileStatistics as BarFileStatistics
from ._feed import REPLAY_BATCH_SIZE as REPLAY_BATCH_SIZE
from ._feed import EventBatch as EventBatch
from ._feed import Feed as Feed
from ._feed import ListFeed as ListFeed

__all__ = [
    "REPLAY_BATCH_SIZE",
    "BarFileFeed",
    "BarFileStatistics",
    "EventBatch",
    "Feed",
    "ListFeed",
]
