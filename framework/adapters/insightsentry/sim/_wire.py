"""What the simulated InsightSentry server writes: series, tick and quote frames, error frames
in either style, and the hostile frames of :attr:`Fault.HOSTILE_JSON
<framework.adapters.insightsentry.sim.Fault.HOSTILE_JSON>`.

Pure functions from market data (and the config's error style) to frame text; the connection
decides when each goes out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import orjson

from ...._intervals import Interval
from ...._time import NANOS_PER_MILLI, NANOS_PER_SECOND
from ....testing._market import SyntheticBar, SyntheticQuote, SyntheticTrade
from ._config import Hostile


def json_text(value: object) -> str:
    return orjson.dumps(value).decode()


def millis(ns: int) -> int:
    return ns // NANOS_PER_MILLI


def seconds(ns: int) -> float:
    return ns / NANOS_PER_SECOND


# error code -> (message, action, retryable, delay_seconds, close code if fatal else None)
_ERRORS: Final[dict[str, tuple[str, str | None, bool, float | None, int | None]]] = {
    "server_busy": ("Server is busy, please retry later", "reconnect", True, 5.0, 1013),
    "internal_server_error": ("Internal server error", "reconnect", True, 1.0, 1011),
    "connection_evicted": (
        "Connection evicted by a newer connection with the same API key",
        None,
        False,
        None,
        1008,
    ),
    "max_connections_exceeded": (
        "Maximum number of connections for this API key exceeded",
        None,
        False,
        None,
        1008,
    ),
    "invalid_api_key": ("Invalid API key", None, False, None, 1008),
    "processing_throttled": (
        "Too many messages; this request was ignored",
        "wait_and_retry",
        True,
        1.0,
        None,
    ),
    "temporarily_unavailable": (
        "Temporarily unavailable, send the request again later",
        "retry_request",
        True,
        2.0,
        None,
    ),
}


_NOT_FATAL: Final[tuple[str, str | None, bool, float | None, int | None]] = (
    "",
    None,
    False,
    None,
    None,
)


def error_close_code(error: str) -> int | None:
    """The close code that follows the error ``error``; None when the connection stays up."""
    return _ERRORS.get(error, _NOT_FATAL)[4]


def error_text(
    style: str,
    error: str,
    *,
    message: str | None = None,
    legacy_message: str | None = None,
    symbol: str | None = None,
    action: str | None = None,
    retryable: bool | None = None,
    delay_seconds: float | None = None,
) -> str:
    """The error frame for ``error`` in ``style`` (``structured`` or ``legacy``); fields not
    given take the code's usual values."""
    default_message, default_action, default_retryable, default_delay, _ = _ERRORS.get(
        error, _NOT_FATAL
    )
    text = message or default_message or error.replace("_", " ").capitalize()
    if style == "legacy":
        return json_text({"message": legacy_message or text})
    frame: dict[str, object] = {"error": error, "message": text}
    if symbol is not None:
        frame["code"] = symbol
    action = action or default_action
    if action is not None:
        frame["action"] = action
    frame["retryable"] = default_retryable if retryable is None else retryable
    delay = default_delay if delay_seconds is None else delay_seconds
    if delay is not None:
        frame["delay_seconds"] = delay
    return json_text(frame)


def bar_point(bar: SyntheticBar) -> dict[str, float]:
    return {
        "time": seconds(bar.ts_open),
        "open": bar.open,
        "high": bar.high,
        "low": bar.low,
        "close": bar.close,
        "volume": bar.volume,
    }


def series_frame(code: str, interval: Interval, bars: Sequence[SyntheticBar]) -> str:
    newest = bars[-1]
    nanos = interval.nanos
    assert nanos is not None
    return json_text(
        {
            "code": code,
            "bar_type": interval.label,
            "bar_end": seconds(newest.ts_open + nanos) - 1.0,
            "last_update": millis(newest.ts_update),
            "series": [bar_point(bar) for bar in bars],
        }
    )


def quote_fields(quote: SyntheticQuote) -> dict[str, object]:
    return {
        "code": quote.code,
        "status": quote.status,
        "lp_time": seconds(quote.ts_update),
        "last_price": quote.last_price,
        "bid": quote.bid,
        "ask": quote.ask,
        "bid_size": quote.bid_size,
        "ask_size": quote.ask_size,
        "volume": quote.volume,
        "change": quote.change,
        "change_percent": quote.change_percent,
        "prev_close_price": quote.prev_close_price,
        "open_price": quote.open_price,
        "high_price": quote.high_price,
        "low_price": quote.low_price,
        "currency_code": "USD",
        "delay_seconds": 0,
    }


def hostile_frame(kind: Hostile, code: str) -> str:
    bar = '"time":1767797100.0,"open":100.0,"high":101.0,"low":99.0,"close":100.5,"volume":10.0'
    head = f'{{"code":{json_text(code)},"bar_type":"1m","last_update":1767797142517,"series":'
    if kind is Hostile.NAN:
        return head + "[{" + bar.replace('"close":100.5', '"close":NaN') + "}]}"
    if kind is Hostile.HUGE_NUMBER:
        return head + "[{" + bar.replace('"close":100.5', '"close":1e400') + "}]}"
    if kind is Hostile.NEGATIVE_PRICE:
        return head + "[{" + bar.replace('"close":100.5', '"close":-100.5') + "}]}"
    if kind is Hostile.HIGH_BELOW_LOW:
        return head + "[{" + bar.replace('"high":101.0', '"high":98.0') + "}]}"
    depth = 10_000
    return head + "[" * depth + "]" * depth + "}"


def tick_frame(code: str, trades: Sequence[SyntheticTrade]) -> str:
    return json_text(
        {
            "code": code,
            "bar_type": "1T",
            "last_update": millis(trades[-1].ts),
            "series": [{"time": seconds(t.ts), "close": t.price, "volume": t.size} for t in trades],
        }
    )
