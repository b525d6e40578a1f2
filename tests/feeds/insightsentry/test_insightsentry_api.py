"""The public API of framework.feeds.insightsentry is pinned."""

import framework.feeds.insightsentry as insightsentry

EXPECTED = {
    "DEFAULT_URL",
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
}


def test_public_names_are_pinned():
    assert set(insightsentry.__all__) == EXPECTED
    assert all(hasattr(insightsentry, name) for name in EXPECTED)
