"""What the simulated InsightSentry server writes: series, tick and quote frames, error frames
in either style, and the hostile frames of :attr:`Fault.HOSTILE_JSON
<framework.adapters.insightsentry.sim.Fault.HOSTILE_JSON>`.

Pure functions from market data (and the config's error style) to frame text; the connection
decides when each goes out. The text itself comes from the adapter's encoder, so the server
speaks exactly the format the client decodes; what is decided here is which values go in.

Two frames go out for nearly every market step, one per bar series and one quote envelope, so
those two are written straight from the market's values (:func:`series_frame`,
:func:`quote_values`, :func:`quote_envelope`) with the encoder's keys, units and order, and no
frame record in between: the same text as :func:`~.._encode.encode_frame` of the record,
which ``test_sim_wire`` checks for any values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Protocol

import attrs
import orjson

from ...._intervals import Interval
from ...._time import NANOS_PER_MILLI, NANOS_PER_SECOND
from ....testing._market import SyntheticBar, SyntheticQuote, SyntheticTrade
from .._encode import encode_frame
from .._frame_records import ErrorFrame, QuoteFields, SeriesFrame, SeriesPoint
from .._wire_keys import (
    BAR_END,
    BAR_TYPE,
    CLOSE,
    CODE,
    DATA,
    HIGH,
    LAST_UPDATE,
    LOW,
    LP_TIME,
    OPEN,
    SERIES,
    TIME,
    TOTAL_ITEMS,
    VOLUME,
)
from ._config import Hostile

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
        frame = ErrorFrame(style="legacy_message", error_code=None, message=legacy_message or text)
    else:
        frame = ErrorFrame(
            style="structured",
            error_code=error,
            message=text,
            symbol=symbol,
            action=action or default_action,
            retryable=default_retryable if retryable is None else retryable,
            delay_s=default_delay if delay_seconds is None else delay_seconds,
        )
    return encode_frame(frame)


class BarShaped(Protocol):
    """What a series point is made of: a simulated bar, or a :class:`~framework.Bar`."""

    @property
    def ts_open(self) -> int: ...
    @property
    def open(self) -> float: ...
    @property
    def high(self) -> float: ...
    @property
    def low(self) -> float: ...
    @property
    def close(self) -> float: ...
    @property
    def volume(self) -> float: ...


def bar_point(bar: BarShaped) -> SeriesPoint:
    return SeriesPoint(
        time_ns=bar.ts_open,
        open=bar.open,
        high=bar.high,
        low=bar.low,
        close=bar.close,
        volume=bar.volume,
    )


def series_frame(code: str, interval: Interval, bars: Sequence[SyntheticBar]) -> str:
    """The series frame of ``bars`` (oldest first, the newest in progress): what
    :func:`~.._encode.encode_frame` writes for the ``SeriesFrame`` of these points, built
    without the record, since the server sends one per series and market step."""
    newest = bars[-1]
    nanos = interval.nanos
    assert nanos is not None
    document = {
        CODE: code,
        BAR_TYPE: interval.label,
        BAR_END: (newest.ts_open + nanos - NANOS_PER_SECOND) / NANOS_PER_SECOND,
        LAST_UPDATE: newest.ts_update // NANOS_PER_MILLI,
        SERIES: [
            {
                TIME: bar.ts_open / NANOS_PER_SECOND,
                OPEN: bar.open,
                HIGH: bar.high,
                LOW: bar.low,
                CLOSE: bar.close,
                VOLUME: bar.volume,
            }
            for bar in bars
        ],
    }
    return orjson.dumps(document).decode()


#: The quote fields the server fills, as (record field, wire key), in the encoder's order
#: (every field of ``QuoteFields`` but the market cap, which it does not know).
QUOTE_WIRE_FIELDS: Final = (
    ("status", "status"),
    ("lp_time_ns", LP_TIME),
    ("last_price", "last_price"),
    ("bid", "bid"),
    ("ask", "ask"),
    ("bid_size", "bid_size"),
    ("ask_size", "ask_size"),
    ("volume", VOLUME),
    ("change", "change"),
    ("change_percent", "change_percent"),
    ("prev_close_price", "prev_close_price"),
    ("open_price", "open_price"),
    ("high_price", "high_price"),
    ("low_price", "low_price"),
    ("currency_code", "currency_code"),
    ("delay_seconds", "delay_seconds"),
)

#: The values of :data:`QUOTE_WIRE_FIELDS` for one quote, in that order (``lp_time`` in ns).
QuoteValues = tuple[Any, ...]


def quote_values(quote: SyntheticQuote) -> QuoteValues:
    """Every value the server fills for ``quote``, in :data:`QUOTE_WIRE_FIELDS` order."""
    return (
        quote.status,
        quote.ts_update,
        quote.last_price,
        quote.bid,
        quote.ask,
        quote.bid_size,
        quote.ask_size,
        quote.volume,
        quote.change,
        quote.change_percent,
        quote.prev_close_price,
        quote.open_price,
        quote.high_price,
        quote.low_price,
        "USD",
        0,
    )


def quote_fields(quote: SyntheticQuote) -> QuoteFields:
    """Every field the server fills for ``quote`` (it has no market cap), as a record."""
    values = quote_values(quote)
    return QuoteFields(
        code=quote.code,
        **{name: value for (name, _), value in zip(QUOTE_WIRE_FIELDS, values, strict=True)},
    )


#: A "last sent" that no value equals, so every value goes out.
_NOTHING_SENT: Final = tuple(object() for _ in QUOTE_WIRE_FIELDS)


def quote_entry(code: str, values: QuoteValues, last: QuoteValues | None) -> dict[str, Any]:
    """The envelope entry for ``code``: every value, or with ``last`` (what was sent before)
    only those that changed, as the encoder writes a ``QuoteFields`` with the others absent."""
    entry: dict[str, Any] = {CODE: code}
    for (_, key), value, before in zip(
        QUOTE_WIRE_FIELDS, values, last if last is not None else _NOTHING_SENT, strict=True
    ):
        if value != before:
            entry[key] = value / NANOS_PER_SECOND if key == LP_TIME else value
    return entry


def quote_envelope(last_update_ns: int, entries: list[dict[str, Any]]) -> str:
    """The quote envelope of ``entries`` (from :func:`quote_entry`): what the encoder writes
    for a ``QuotesFrame`` of those entries."""
    return orjson.dumps(
        {LAST_UPDATE: last_update_ns // NANOS_PER_MILLI, TOTAL_ITEMS: len(entries), DATA: entries}
    ).decode()


#: The bar every hostile series frame starts from, valid until :func:`hostile_frame` bends it.
_HOSTILE_BASE: Final = SeriesFrame(
    code="SIM:X",
    bar_label="1m",
    bar_end_ns=None,
    last_update_ns=1_767_797_142_517_000_000,
    points=(
        SeriesPoint(
            time_ns=1_767_797_100 * NANOS_PER_SECOND,
            open=100.0,
            high=101.0,
            low=99.0,
            close=100.5,
            volume=10.0,
        ),
    ),
)
#: Hostile kind -> (the valid text, the text that replaces it); the depth bomb replaces the
#: whole series list.
_HOSTILE_EDITS: Final = {
    Hostile.NAN: (f'"{CLOSE}":100.5', f'"{CLOSE}":NaN'),
    Hostile.HUGE_NUMBER: (f'"{CLOSE}":100.5', f'"{CLOSE}":1e400'),
    Hostile.NEGATIVE_PRICE: (f'"{CLOSE}":100.5', f'"{CLOSE}":-100.5'),
    Hostile.HIGH_BELOW_LOW: (f'"{HIGH}":101.0', f'"{HIGH}":98.0'),
}
_DEPTH: Final = 10_000


def hostile_frame(kind: Hostile, code: str) -> str:
    """A valid one-bar series frame for ``code``, bent the way ``kind`` says: one value
    replaced by what the decoder must refuse, or the series nested far too deep."""
    edit = _HOSTILE_EDITS.get(kind)
    if edit is None:
        return nested_series(attrs.evolve(_HOSTILE_BASE, code=code), _DEPTH)
    valid, bent = edit
    return encode_frame(attrs.evolve(_HOSTILE_BASE, code=code)).replace(valid, bent, 1)


def nested_series(frame: SeriesFrame, depth: int) -> str:
    """``frame`` with its ``series`` list written as ``depth`` nested empty lists."""
    empty = encode_frame(attrs.evolve(frame, points=()))
    return empty.replace(f'"{SERIES}":[]', f'"{SERIES}":' + "[" * depth + "]" * depth, 1)


def tick_frame(code: str, trades: Sequence[SyntheticTrade]) -> str:
    frame = SeriesFrame(
        code=code,
        bar_label="1T",
        bar_end_ns=None,
        last_update_ns=trades[-1].ts,
        points=tuple(
            SeriesPoint(time_ns=t.ts, open=None, high=None, low=None, close=t.price, volume=t.size)
            for t in trades
        ),
    )
    return encode_frame(frame)
