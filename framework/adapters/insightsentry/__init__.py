"""The InsightSentry adapter: ``/live`` subscriptions, the sans-IO frame codec (it decodes and
encodes, so everything that writes frames shares the decoder's wire format), bar assembly and
quote merging, the resilient live feed, its replay, and the REST history client (warm-up, gap
backfill, downloads). Beside them: the live-session wiring (``_session``: ``open_live_feed``,
``paper_trade``) and the simulated server with its wire-frame generators (``sim``).

The codec, the assembler and the processor do no I/O: the live feed and the replay feed drive
them with frames (and REST answers) they received or recorded, so both take the same code path.

The warm-up notifications and the history errors are re-exported here until the top-level
``framework`` API takes them in. ``framework.feeds.insightsentry`` re-exports these names for
code written before the adapter had its own package.
"""

from ..._errors import HistoryAuthError as HistoryAuthError
from ..._errors import HistoryError as HistoryError
from ..._errors import HistoryNotFound as HistoryNotFound
from ..._errors import HistoryUnavailable as HistoryUnavailable
from ..._events import WarmupCompleted as WarmupCompleted
from ..._events import WarmupStarted as WarmupStarted
from ._backoff import Backoff as Backoff
from ._backoff import BackoffPolicy as BackoffPolicy
from ._bars import DEFAULT_HISTORY as DEFAULT_HISTORY
from ._bars import AssemblerStatistics as AssemblerStatistics
from ._bars import BarAssembler as BarAssembler
from ._bars import BarHole as BarHole
from ._codec import DEFAULT_MAX_BYTES as DEFAULT_MAX_BYTES
from ._codec import MAX_DEPTH as MAX_DEPTH
from ._codec import classify_frame as classify_frame
from ._codec import decode_frame as decode_frame
from ._codec import log_safe as log_safe
from ._codec import symbols_of_frame as symbols_of_frame
from ._encode import encode_document as encode_document
from ._encode import encode_frame as encode_frame
from ._error_policy import MAX_SERVER_DELAY_S as MAX_SERVER_DELAY_S
from ._error_policy import MIN_SLOW_RECONNECT_S as MIN_SLOW_RECONNECT_S
from ._error_policy import ErrorDecision as ErrorDecision
from ._error_policy import ErrorKind as ErrorKind
from ._error_policy import classify_error as classify_error
from ._frame_records import ABSENT as ABSENT
from ._frame_records import ErrorFrame as ErrorFrame
from ._frame_records import EventFrame as EventFrame
from ._frame_records import Frame as Frame
from ._frame_records import FrameKind as FrameKind
from ._frame_records import HeartbeatFrame as HeartbeatFrame
from ._frame_records import PongFrame as PongFrame
from ._frame_records import QuoteFields as QuoteFields
from ._frame_records import QuotesFrame as QuotesFrame
from ._frame_records import SeriesFrame as SeriesFrame
from ._frame_records import SeriesPoint as SeriesPoint
from ._frame_records import StatusFrame as StatusFrame
from ._frame_records import UnknownFrame as UnknownFrame
from ._health import FeedHealth as FeedHealth
from ._history import BackfillRequest as BackfillRequest
from ._live_feed import DEFAULT_URL as DEFAULT_URL
from ._live_feed import InsightSentryFeed as InsightSentryFeed
from ._live_feed import LiveFeedConfig as LiveFeedConfig
from ._live_feed import LiveFeedStatistics as LiveFeedStatistics
from ._outbox import Outbox as Outbox
from ._processor import FrameProcessor as FrameProcessor
from ._processor import ProcessorStatistics as ProcessorStatistics
from ._quotes import QuoteBook as QuoteBook
from ._quotes import QuoteBookStatistics as QuoteBookStatistics
from ._recording_feed import RecordingFeed as RecordingFeed
from ._rest import DEFAULT_REST_URL as DEFAULT_REST_URL
from ._rest import MAX_DP as MAX_DP
from ._rest import HistoryClient as HistoryClient
from ._rest import HistoryClientStatistics as HistoryClientStatistics
from ._rest import RestConfig as RestConfig
from ._rest import SeriesRequest as SeriesRequest
from ._rest import SeriesResponse as SeriesResponse
from ._rest import open_history_client as open_history_client
from ._subscriptions import INVALID_SUBSCRIPTIONS_TEXT as INVALID_SUBSCRIPTIONS_TEXT
from ._subscriptions import PlanLimits as PlanLimits
from ._subscriptions import Subscription as Subscription
from ._subscriptions import SubscriptionSet as SubscriptionSet
from ._subscriptions import SubscriptionType as SubscriptionType
from ._subscriptions import WireDialect as WireDialect
from ._subscriptions import encode_subscribe as encode_subscribe
from ._subscriptions import parse_subscribe as parse_subscribe

__all__ = [
    "ABSENT",
    "DEFAULT_HISTORY",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_REST_URL",
    "DEFAULT_URL",
    "INVALID_SUBSCRIPTIONS_TEXT",
    "MAX_DEPTH",
    "MAX_DP",
    "MAX_SERVER_DELAY_S",
    "MIN_SLOW_RECONNECT_S",
    "AssemblerStatistics",
    "BackfillRequest",
    "Backoff",
    "BackoffPolicy",
    "BarAssembler",
    "BarHole",
    "ErrorDecision",
    "ErrorFrame",
    "ErrorKind",
    "EventFrame",
    "FeedHealth",
    "Frame",
    "FrameKind",
    "FrameProcessor",
    "HeartbeatFrame",
    "HistoryAuthError",
    "HistoryClient",
    "HistoryClientStatistics",
    "HistoryError",
    "HistoryNotFound",
    "HistoryUnavailable",
    "InsightSentryFeed",
    "LiveFeedConfig",
    "LiveFeedStatistics",
    "Outbox",
    "PlanLimits",
    "PongFrame",
    "ProcessorStatistics",
    "QuoteBook",
    "QuoteBookStatistics",
    "QuoteFields",
    "QuotesFrame",
    "RecordingFeed",
    "RestConfig",
    "SeriesFrame",
    "SeriesPoint",
    "SeriesRequest",
    "SeriesResponse",
    "StatusFrame",
    "Subscription",
    "SubscriptionSet",
    "SubscriptionType",
    "UnknownFrame",
    "WarmupCompleted",
    "WarmupStarted",
    "WireDialect",
    "classify_error",
    "classify_frame",
    "decode_frame",
    "encode_document",
    "encode_frame",
    "encode_subscribe",
    "log_safe",
    "open_history_client",
    "parse_subscribe",
    "symbols_of_frame",
]
