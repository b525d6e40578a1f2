"""Where the InsightSentry adapter lived before it had its own package: its public names,
re-exported from :mod:`framework.adapters.insightsentry` so that existing imports keep working.
New code imports from the adapter.
"""

from ...adapters.insightsentry import ABSENT as ABSENT
from ...adapters.insightsentry import DEFAULT_HISTORY as DEFAULT_HISTORY
from ...adapters.insightsentry import DEFAULT_MAX_BYTES as DEFAULT_MAX_BYTES
from ...adapters.insightsentry import DEFAULT_REST_URL as DEFAULT_REST_URL
from ...adapters.insightsentry import DEFAULT_URL as DEFAULT_URL
from ...adapters.insightsentry import INVALID_SUBSCRIPTIONS_TEXT as INVALID_SUBSCRIPTIONS_TEXT
from ...adapters.insightsentry import MAX_DEPTH as MAX_DEPTH
from ...adapters.insightsentry import MAX_DP as MAX_DP
from ...adapters.insightsentry import MAX_SERVER_DELAY_S as MAX_SERVER_DELAY_S
from ...adapters.insightsentry import MIN_SLOW_RECONNECT_S as MIN_SLOW_RECONNECT_S
from ...adapters.insightsentry import AssemblerStatistics as AssemblerStatistics
from ...adapters.insightsentry import BackfillRequest as BackfillRequest
from ...adapters.insightsentry import Backoff as Backoff
from ...adapters.insightsentry import BackoffPolicy as BackoffPolicy
from ...adapters.insightsentry import BarAssembler as BarAssembler
from ...adapters.insightsentry import BarHole as BarHole
from ...adapters.insightsentry import ErrorDecision as ErrorDecision
from ...adapters.insightsentry import ErrorFrame as ErrorFrame
from ...adapters.insightsentry import ErrorKind as ErrorKind
from ...adapters.insightsentry import EventFrame as EventFrame
from ...adapters.insightsentry import Frame as Frame
from ...adapters.insightsentry import FrameKind as FrameKind
from ...adapters.insightsentry import FrameProcessor as FrameProcessor
from ...adapters.insightsentry import HeartbeatFrame as HeartbeatFrame
from ...adapters.insightsentry import HistoryAuthError as HistoryAuthError
from ...adapters.insightsentry import HistoryClient as HistoryClient
from ...adapters.insightsentry import HistoryClientStatistics as HistoryClientStatistics
from ...adapters.insightsentry import HistoryError as HistoryError
from ...adapters.insightsentry import HistoryNotFound as HistoryNotFound
from ...adapters.insightsentry import HistoryUnavailable as HistoryUnavailable
from ...adapters.insightsentry import InsightSentryFeed as InsightSentryFeed
from ...adapters.insightsentry import LiveFeedConfig as LiveFeedConfig
from ...adapters.insightsentry import LiveFeedStatistics as LiveFeedStatistics
from ...adapters.insightsentry import Outbox as Outbox
from ...adapters.insightsentry import PlanLimits as PlanLimits
from ...adapters.insightsentry import PongFrame as PongFrame
from ...adapters.insightsentry import ProcessorStatistics as ProcessorStatistics
from ...adapters.insightsentry import QuoteBook as QuoteBook
from ...adapters.insightsentry import QuoteBookStatistics as QuoteBookStatistics
from ...adapters.insightsentry import QuoteFields as QuoteFields
from ...adapters.insightsentry import QuotesFrame as QuotesFrame
from ...adapters.insightsentry import RecordingFeed as RecordingFeed
from ...adapters.insightsentry import RestConfig as RestConfig
from ...adapters.insightsentry import SeriesFrame as SeriesFrame
from ...adapters.insightsentry import SeriesPoint as SeriesPoint
from ...adapters.insightsentry import SeriesRequest as SeriesRequest
from ...adapters.insightsentry import SeriesResponse as SeriesResponse
from ...adapters.insightsentry import StatusFrame as StatusFrame
from ...adapters.insightsentry import Subscription as Subscription
from ...adapters.insightsentry import SubscriptionSet as SubscriptionSet
from ...adapters.insightsentry import SubscriptionType as SubscriptionType
from ...adapters.insightsentry import UnknownFrame as UnknownFrame
from ...adapters.insightsentry import WarmupCompleted as WarmupCompleted
from ...adapters.insightsentry import WarmupStarted as WarmupStarted
from ...adapters.insightsentry import WireDialect as WireDialect
from ...adapters.insightsentry import classify_error as classify_error
from ...adapters.insightsentry import classify_frame as classify_frame
from ...adapters.insightsentry import decode_frame as decode_frame
from ...adapters.insightsentry import encode_subscribe as encode_subscribe
from ...adapters.insightsentry import log_safe as log_safe
from ...adapters.insightsentry import open_history_client as open_history_client
from ...adapters.insightsentry import parse_subscribe as parse_subscribe
from ...adapters.insightsentry import symbols_of_frame as symbols_of_frame

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
    "encode_subscribe",
    "log_safe",
    "open_history_client",
    "parse_subscribe",
    "symbols_of_frame",
]
