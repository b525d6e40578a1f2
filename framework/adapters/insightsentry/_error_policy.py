"""What the client does about an error frame (protocol section 5).

:func:`classify_error` turns an :class:`~._frame_records.ErrorFrame` into an
:class:`ErrorDecision`: keep going, resend the subscription, reconnect (at once or slowly), or
stop. Pure, like the codec it follows.
"""

from __future__ import annotations

from typing import Final, Literal

import attrs

from ._frame_records import ErrorFrame

ErrorKind = Literal[
    "subscription", "ignore_wait", "resend", "reconnect", "reconnect_slow", "terminal"
]

#: Codes that concern one subscription; the connection and other subscriptions continue.
SUBSCRIPTION_ERROR_CODES: Final = frozenset(
    {
        "invalid_symbol",
        "invalid_bar_interval",
        "invalid_currency_code",
        "invalid_unit_code",
        "series_error",
    }
)
#: Codes after which reconnecting at once would fight another connection using the same key.
SLOW_RECONNECT_CODES: Final = frozenset({"max_connections_exceeded", "connection_evicted"})
#: Least wait before reconnecting after a :data:`SLOW_RECONNECT_CODES` error, in seconds.
MIN_SLOW_RECONNECT_S: Final = 30.0
#: Server-requested delays are capped, so a hostile frame cannot park the client forever.
MAX_SERVER_DELAY_S: Final = 3_600.0

_CODE_KINDS: Final[dict[str, ErrorKind]] = {
    "processing_throttled": "ignore_wait",
    "reconnect_throttled": "ignore_wait",
    "temporarily_unavailable": "resend",
    "server_busy": "reconnect",
    "internal_server_error": "reconnect",
    "max_connections_exceeded": "reconnect_slow",
    "connection_evicted": "reconnect_slow",
}
_ACTION_KINDS: Final[dict[str, ErrorKind]] = {
    "wait_and_retry": "ignore_wait",
    "retry_request": "resend",
}


@attrs.frozen(slots=True, kw_only=True)
class ErrorDecision:
    """What the client should do about an error frame.

    ``kind``: ``subscription`` (mark that subscription failed, keep the connection),
    ``ignore_wait`` (keep going, send nothing), ``resend`` (resend the subscription after
    ``delay_s``), ``reconnect`` (close, back off at least ``delay_s``, reconnect),
    ``reconnect_slow`` (as reconnect, but wait at least 30 s: another connection may hold the
    key), ``terminal`` (stop; needs the user). ``why`` is a short log-safe explanation.
    """

    kind: ErrorKind
    delay_s: float | None
    symbol: str | None
    why: str


def _legacy_decision(frame: ErrorFrame) -> ErrorDecision:
    text = frame.message
    if "Invalid Symbol Code" in text:
        return ErrorDecision(
            kind="subscription", delay_s=None, symbol=frame.symbol, why="invalid symbol code"
        )
    if "exceeds the number of symbols" in text:
        return ErrorDecision(
            kind="terminal", delay_s=None, symbol=None, why="more symbols than the plan allows"
        )
    if "Subscriptions field or value is invalid" in text:
        return ErrorDecision(
            kind="terminal",
            delay_s=None,
            symbol=None,
            why="the server refused our subscription message (a tradewire bug)",
        )
    # Protocol 9.4: an unknown message text is a warning, never fatal by itself.
    return ErrorDecision(kind="ignore_wait", delay_s=None, symbol=None, why="unrecognised message")


def classify_error(frame: ErrorFrame) -> ErrorDecision:
    """Decide what to do about ``frame`` (protocol section 5).

    Order: per-subscription codes keep the connection; ``retryable: false`` is terminal; an
    explicit ``action`` wins over the code; known codes map by the section 5 table; an unknown
    code without a usable action is terminal. ``connection_evicted`` and
    ``max_connections_exceeded``, when retryable, reconnect slowly (at least 30 s); marked
    not retryable they stop the feed like any other such error (another process may be using
    the key: reconnecting would evict it in turn). Delays are capped at
    one hour.
    """
    if frame.style == "legacy_message":
        return _legacy_decision(frame)
    code = frame.error_code or ""
    delay = None if frame.delay_s is None else min(frame.delay_s, MAX_SERVER_DELAY_S)
    if code in SUBSCRIPTION_ERROR_CODES:
        return ErrorDecision(kind="subscription", delay_s=None, symbol=frame.symbol, why=code)
    if frame.retryable is False:
        return ErrorDecision(
            kind="terminal", delay_s=None, symbol=frame.symbol, why=f"{code} (not retryable)"
        )
    action = frame.action or ""
    kind: ErrorKind | None = _ACTION_KINDS.get(action)
    if kind is None and action.startswith("reconnect"):
        kind = "reconnect"
    why = f"{code} (action {action})" if kind is not None else code
    if kind is None:
        kind = _CODE_KINDS.get(code)
    if kind is None:
        return ErrorDecision(
            kind="terminal", delay_s=delay, symbol=frame.symbol, why=f"unknown error {code}"
        )
    if code in SLOW_RECONNECT_CODES:
        kind = "reconnect_slow"
        delay = max(delay or 0.0, MIN_SLOW_RECONNECT_S)
    return ErrorDecision(kind=kind, delay_s=delay, symbol=frame.symbol, why=why)
