"""Sans-IO encoding of InsightSentry ``/live`` frames: the inverse of ``_codec``.

:func:`encode_frame` writes a frame record as the server would send it (compact JSON, or the
text ``pong``); :func:`encode_document` gives the JSON object before it is written, for callers
that bend a valid frame into an odd or hostile one. The simulated server, the frame generators
and the tests all write frames through here, with the keys of ``_wire_keys`` that the decoder
reads, so there is one wire format.

Units are converted as the newest servers send them: ``time``, ``bar_end`` and ``lp_time`` as
float Unix seconds, ``last_update`` and ``server_time`` as whole Unix milliseconds (rounded
down); a flat 2024 quote (``QuotesFrame(legacy=True)``) carries ``lp_time`` as whole seconds,
as the 2024 service did. Optional values that are None are left out, except in a quote entry,
where None is an explicit ``null`` ("no value") and :data:`~._frame_records.ABSENT` is left
out ("unchanged"). Numbers are written as given (an int stays an int). The encoder does not
validate: a record with a negative price is written as it is, which is how hostile frames are
made.

So ``decode_frame(encode_frame(frame)) == frame`` for every frame the decoder can return,
given times in whole microseconds before 2038 (float seconds hold every microsecond up to
2**31 s; whole milliseconds for ``last_update``/``server_time``, whole seconds for a flat
quote's ``lp_time``), log-safe texts and no ``rejected`` points or entries (those are what the
decoder left out, so there is nothing to write).
"""

from __future__ import annotations

from typing import Any

import orjson

from ..._time import NANOS_PER_MILLI, NANOS_PER_SECOND
from ._frame_records import (
    ABSENT,
    QUOTE_FIELD_KEYS,
    ErrorFrame,
    EventFrame,
    Frame,
    HeartbeatFrame,
    PongFrame,
    QuoteFields,
    QuotesFrame,
    SeriesFrame,
    SeriesPoint,
    StatusFrame,
)
from ._wire_keys import (
    ACTION,
    BAR_END,
    BAR_TYPE,
    CLOSE,
    CODE,
    DATA,
    DELAY_SECONDS,
    ERROR,
    EVENT,
    HIGH,
    LAST_UPDATE,
    LOW,
    LP_TIME,
    MESSAGE,
    OPEN,
    PONG_TEXT,
    REFERENCE_ID,
    RETRYABLE,
    SERIES,
    SERVER_TIME,
    STATUS,
    SUBSCRIPTION_COUNT,
    TIME,
    TOTAL_ITEMS,
    TRADE_ID,
    VOLUME,
)


def encode_frame(frame: Frame) -> str:
    """The text of ``frame`` as the server sends it: compact JSON, keys in the server's order,
    or ``pong``. Raises ``ValueError`` for an :class:`~._frame_records.UnknownFrame` (it has no
    wire form) and for a record :func:`encode_document` refuses."""
    if isinstance(frame, PongFrame):
        return PONG_TEXT
    return orjson.dumps(encode_document(frame)).decode()


def encode_document(frame: Frame) -> dict[str, Any]:
    """The JSON object of ``frame``: :func:`encode_frame` before serialising.

    A new object each call, so a caller may change it (add a key, put a wrong value in) to
    write a frame the decoder must reject. Raises ``ValueError`` for ``pong`` and unknown
    frames (not JSON objects), for a structured error without an ``error_code``, and for a
    flat quote without exactly one entry.
    """
    if isinstance(frame, SeriesFrame):
        return _series(frame)
    if isinstance(frame, QuotesFrame):
        return _quotes(frame)
    if isinstance(frame, HeartbeatFrame):
        return {SERVER_TIME: _millis(frame.server_time_ns)}
    if isinstance(frame, EventFrame):
        return _event(frame)
    if isinstance(frame, StatusFrame):
        return {MESSAGE: frame.text}
    if isinstance(frame, ErrorFrame):
        return _error(frame)
    raise ValueError(f"a {type(frame).__name__} is not a JSON object on the wire")


def _present(*pairs: tuple[str, object]) -> dict[str, Any]:
    """An object of the ``(key, value)`` pairs whose value is not None, in their order."""
    return {key: value for key, value in pairs if value is not None}


def _seconds(ns: int | None) -> float | None:
    return None if ns is None else ns / NANOS_PER_SECOND


def _millis(ns: int | None) -> int | None:
    return None if ns is None else ns // NANOS_PER_MILLI


def _series(frame: SeriesFrame) -> dict[str, Any]:
    return _present(
        (CODE, frame.code),
        (BAR_TYPE, frame.bar_label),
        (BAR_END, _seconds(frame.bar_end_ns)),
        (LAST_UPDATE, _millis(frame.last_update_ns)),
        (SERIES, [_point(point) for point in frame.points]),
    )


def _point(point: SeriesPoint) -> dict[str, Any]:
    # A tick has no open, high or low; the wire leaves them out rather than sending null.
    return _present(
        (TIME, point.time_ns / NANOS_PER_SECOND),
        (OPEN, point.open),
        (HIGH, point.high),
        (LOW, point.low),
        (CLOSE, point.close),
        (VOLUME, point.volume),
        (TRADE_ID, point.trade_id),
    )


def _quotes(frame: QuotesFrame) -> dict[str, Any]:
    if frame.legacy:
        if len(frame.entries) != 1:
            raise ValueError(f"a flat quote holds one entry, not {len(frame.entries)}")
        return _quote_entry(frame.entries[0], whole_seconds=True)
    return _present(
        (LAST_UPDATE, _millis(frame.last_update_ns)),
        (TOTAL_ITEMS, frame.total_items),
        (DATA, [_quote_entry(entry, whole_seconds=False) for entry in frame.entries]),
    )


def _quote_entry(entry: QuoteFields, *, whole_seconds: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {CODE: entry.code}
    for name, key in QUOTE_FIELD_KEYS:
        value = getattr(entry, name)
        if value is ABSENT:
            continue
        if key == LP_TIME and value is not None:
            value = value // NANOS_PER_SECOND if whole_seconds else value / NANOS_PER_SECOND
        doc[key] = value
    return doc


def _event(frame: EventFrame) -> dict[str, Any]:
    return _present(
        (EVENT, frame.event),
        (STATUS, frame.status),
        (SUBSCRIPTION_COUNT, frame.subscription_count),
    )


def _error(frame: ErrorFrame) -> dict[str, Any]:
    if frame.style == "legacy_message":
        return {MESSAGE: frame.message}
    if frame.error_code is None:
        raise ValueError("a structured error needs an error_code")
    # The decoder reads the symbol from ``symbol`` or ``code``; servers that name it send
    # ``code``, so that is what goes out.
    return _present(
        (ERROR, frame.error_code),
        (MESSAGE, frame.message),
        (CODE, frame.symbol),
        (ACTION, frame.action),
        (RETRYABLE, frame.retryable),
        (DELAY_SECONDS, frame.delay_s),
        (REFERENCE_ID, frame.reference_id),
    )
