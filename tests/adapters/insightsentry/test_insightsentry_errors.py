"""Error classification per protocol section 5."""

import orjson
import pytest

from framework.adapters.insightsentry import (
    ErrorDecision,
    ErrorFrame,
    classify_error,
    decode_frame,
    encode_document,
    encode_frame,
)


def structured(error: str, message: str = "", **fields: object) -> ErrorFrame:
    return ErrorFrame(style="structured", error_code=error, message=message, **fields)


def decide_text(text: str) -> ErrorDecision:
    """What the client does about the error frame ``text`` once it has decoded it."""
    frame = decode_frame(text, recv_ns=0)
    assert isinstance(frame, ErrorFrame)
    return classify_error(frame)


def decide(error: str, **fields: object) -> ErrorDecision:
    return decide_text(encode_frame(structured(error, **fields)))


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
    decision = decide(code, message="nope", symbol="NASDAQ:NOPE")
    assert (decision.kind, decision.symbol) == ("subscription", "NASDAQ:NOPE")


def test_per_subscription_code_stays_per_subscription_even_if_not_retryable():
    assert decide("invalid_symbol", symbol="A:B", retryable=False).kind == "subscription"


@pytest.mark.parametrize(
    ("error", "fields", "kind", "delay"),
    [
        ("processing_throttled", {"action": "wait_and_retry"}, "ignore_wait", None),
        ("processing_throttled", {}, "ignore_wait", None),
        (
            "reconnect_throttled",
            {"action": "wait_and_retry", "delay_s": 20},
            "ignore_wait",
            20.0,
        ),
        ("temporarily_unavailable", {"delay_s": 3}, "resend", 3.0),
        ("whatever_new", {"action": "retry_request", "delay_s": 2}, "resend", 2.0),
        ("server_busy", {"action": "reconnect", "delay_s": 5}, "reconnect", 5.0),
        ("server_busy", {}, "reconnect", None),
        ("internal_server_error", {}, "reconnect", None),
        ("brand_new", {"action": "reconnect_with_current_entitlements"}, "reconnect", None),
        ("brand_new", {"action": "reconnect_and_send_request"}, "reconnect", None),
        ("max_connections_exceeded", {}, "reconnect_slow", 30.0),
        ("max_connections_exceeded", {"delay_s": 90}, "reconnect_slow", 90.0),
        (
            "connection_evicted",
            {"action": "reconnect", "delay_s": 1},
            "reconnect_slow",
            30.0,
        ),
        ("brand_new", {}, "terminal", None),
        ("brand_new", {"action": "dance"}, "terminal", None),
        ("server_busy", {"retryable": False, "action": "reconnect"}, "terminal", None),
        ("auth_failed", {"retryable": False}, "terminal", None),
    ],
)
def test_section_5_table(error, fields, kind, delay):
    decision = decide(error, **fields)
    assert (decision.kind, decision.delay_s) == (kind, delay)


def test_delay_is_the_larger_of_both_fields():
    # The second name for the delay, which the encoder never writes, added by hand.
    document = encode_document(structured("server_busy", delay_s=4))
    document["retry_after_seconds"] = 9
    assert decide_text(orjson.dumps(document).decode()).delay_s == 9.0


def test_server_delay_is_capped():
    assert decide("server_busy", delay_s=1e9).delay_s == 3600.0


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
    legacy = ErrorFrame(style="legacy_message", error_code=None, message=text)
    assert decide_text(encode_frame(legacy)).kind == kind
