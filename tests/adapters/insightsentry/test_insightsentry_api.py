"""The public API of the InsightSentry adapter is pinned, and its old home still has what it had."""

import framework.adapters.insightsentry as insightsentry
import framework.feeds.insightsentry as old_home

EXPECTED = {
    "DEFAULT_URL",
    "DEFAULT_REST_URL",
    "MAX_DP",
    "BackfillRequest",
    "BarHole",
    "HistoryAuthError",
    "HistoryClient",
    "HistoryClientStatistics",
    "HistoryError",
    "HistoryNotFound",
    "HistoryUnavailable",
    "RestConfig",
    "SeriesRequest",
    "SeriesResponse",
    "WarmupCompleted",
    "WarmupStarted",
    "open_history_client",
    "Backoff",
    "BackoffPolicy",
    "FrameProcessor",
    "InsightSentryFeed",
    "LiveFeedConfig",
    "LiveFeedStatistics",
    "Outbox",
    "ProcessorStatistics",
    "RecordingFeed",
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
    "FeedHealth",
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
    "encode_document",
    "encode_frame",
    "encode_subscribe",
    "log_safe",
    "parse_subscribe",
    "symbols_of_frame",
}


def test_public_names_are_pinned():
    assert set(insightsentry.__all__) == EXPECTED
    assert all(hasattr(insightsentry, name) for name in EXPECTED)


#: Names added after the adapter moved: code written for the old home never used them.
ADDED_SINCE_THE_MOVE = {"encode_document", "encode_frame", "FeedHealth"}


def test_the_old_package_re_exports_the_same_names_and_objects():
    assert set(old_home.__all__) == EXPECTED - ADDED_SINCE_THE_MOVE
    for name in EXPECTED - ADDED_SINCE_THE_MOVE:
        assert getattr(old_home, name) is getattr(insightsentry, name), name
