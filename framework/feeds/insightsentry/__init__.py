"""InsightSentry ``/live``: subscriptions, the sans-IO frame codec, bar assembly and quote merging.

Nothing here does I/O: the live feed and the replay feed drive these pieces with frames they
received or recorded, so both take the same code path.
"""

from ._bars import DEFAULT_HISTORY as DEFAULT_HISTORY
from ._bars import AssemblerStatistics as AssemblerStatistics
from ._bars import BarAssembler as BarAssembler
from ._codec import ABSENT as ABSENT
from ._codec import DEFAULT_MAX_BYTES as DEFAULT_MAX_BYTES
from ._codec import MAX_DEPTH as MAX_DEPTH
from ._codec import MAX_SERVER_DELAY_S as MAX_SERVER_DELAY_S
from ._codec import MIN_SLOW_RECONNECT_S as MIN_SLOW_RECONNECT_S
from ._codec import ErrorDecision as ErrorDecision
from ._codec import ErrorFrame as ErrorFrame
from ._codec import ErrorKind as ErrorKind
from ._codec import EventFrame as EventFrame
from ._codec import Frame as Frame
from ._codec import FrameKind as FrameKind
from ._codec import HeartbeatFrame as HeartbeatFrame
from ._codec import PongFrame as PongFrame
from ._codec import QuoteFields as QuoteFields
from ._codec import QuotesFrame as QuotesFrame
from ._codec import SeriesFrame as SeriesFrame
from ._codec import SeriesPoint as SeriesPoint
from ._codec import StatusFrame as StatusFrame
from ._codec import UnknownFrame as UnknownFrame
from ._codec import classify_error as classify_error
from ._codec import classify_frame as classify_frame
from ._codec import decode_frame as decode_frame
from ._codec import log_safe as log_safe
from ._codec import symbols_of_frame as symbols_of_frame
from ._quotes import QuoteBook as QuoteBook
from ._quotes import QuoteBookStatistics as QuoteBookStatistics
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
    "INVALID_SUBSCRIPTIONS_TEXT",
    "MAX_DEPTH",
    "MAX_SERVER_DELAY_S",
    "MIN_SLOW_RECONNECT_S",
    "AssemblerStatistics",
    "BarAssembler",
    "ErrorDecision",
    "ErrorFrame",
    "ErrorKind",
    "EventFrame",
    "Frame",
    "FrameKind",
    "HeartbeatFrame",
    "PlanLimits",
    "PongFrame",
    "QuoteBook",
    "QuoteBookStatistics",
    "QuoteFields",
    "QuotesFrame",
    "SeriesFrame",
    "SeriesPoint",
    "StatusFrame",
    "Subscription",
    "SubscriptionSet",
    "SubscriptionType",
    "UnknownFrame",
    "WireDialect",
    "classify_error",
    "classify_frame",
    "decode_frame",
    "encode_subscribe",
    "log_safe",
    "parse_subscribe",
    "symbols_of_frame",
]
