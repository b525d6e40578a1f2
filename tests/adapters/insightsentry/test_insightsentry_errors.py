"""Error classification per protocol section 5."""

import orjson
import pytest

from framework.adapters.insightsentry import (
    ErrorDecision,
    ErrorFrame,
    classify_error,
    decode_frame,
)


def decide(**fields: object) -> ErrorDecision:
    frame = decode_frame(orjson.dumps(fields).decode(), recv_ns=0)
    assert isinstance(frame, ErrorFrame)
    return classify_error(frame)


@pytest.mark.parametrize(
    "code",
    [
        "invalid_symbol",
        "invalid_bar_interval",
        "invalid_currency_code",
        "invalid_unit_code",
        "series_error",
    ],
)
def test_per_subscription_codes_keep_the_connection(code):
    decision = decide(error=code, message="nope", code="NASDAQ:NOPE")
    assert (decision.kind, decision.symbol) == ("subscription", "NASDAQ:NOPE")


def test_per_subscription_code_stays_per_subscription_even_if_not_retryable():
    assert decide(error="invalid_symbol", symbol="A:B", retryable=False).kind == "subscription"


@pytest.mark.parametrize(
    ("fields", "kind", "delay"),
    [
        ({"error": "processing_throttled", "action": "wait_and_retry"}, "ignore_wait", None),
        ({"error": "processing_throttled"}, "ignore_wait", None),
        (
            {"error": "reconnect_throttled", "action": "wait_and_retry", "delay_seconds": 20},
            "ignore_wait",
            20.0,
        ),
        ({"error": "temporarily_unavailable", "delay_seconds": 3}, "resend", 3.0),
        ({"error": "whatever_new", "action": "retry_request", "delay_seconds": 2}, "resend", 2.0),
        ({"error": "server_busy", "action": "reconnect", "delay_seconds": 5}, "reconnect", 5.0),
        ({"error": "server_busy"}, "reconnect", None),
        ({"error": "internal_server_error"}, "reconnect", None),
        (
            {"error": "brand_new", "action": "reconnect_with_current_entitlements"},
            "reconnect",
            None,
        ),
        ({"error": "brand_new", "action": "reconnect_and_send_request"}, "reconnect", None),
        ({"error": "max_connections_exceeded"}, "reconnect_slow", 30.0),
        ({"error": "max_connections_exceeded", "delay_seconds": 90}, "reconnect_slow", 90.0),
        (
            {"error": "connection_evicted", "action": "reconnect", "delay_seconds": 1},
            "reconnect_slow",
            30.0,
        ),
        ({"error": "brand_new"}, "terminal", None),
        ({"error": "brand_new", "action": "dance"}, "terminal", None),
        ({"error": "server_busy", "retryable": False, "action": "reconnect"}, "terminal", None),
        ({"error": "auth_failed", "retryable": False}, "terminal", None),
    ],
)
def test_section_5_table(fields, kind, delay):
    decision = decide(**fields)
    assert (decision.kind, decision.delay_s) == (kind, delay)


def test_delay_is_the_larger_of_both_fields():
    assert decide(error="server_busy", delay_seconds=4, retry_after_seconds=9).delay_s == 9.0


def test_server_delay_is_capped():
    assert decide(error="server_busy", delay_seconds=1e9).delay_s == 3600.0


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Invalid Symbol Code", "subscription"),
        ("Total symbols 13 exceeds the number of symbols allowed by your plan", "terminal"),
        ("Subscriptions field or value is invalid", "terminal"),
        ("Something unexpected happened", "ignore_wait"),
    ],
)
def test_legacy_message_texts(text, kind):
    assert decide(message=text).kind == kind
