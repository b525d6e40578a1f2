"""Sans-IO decoding of InsightSentry ``/live`` frames; ``_encode`` writes them.

:func:`decode_frame` turns one WebSocket message into a typed frame record (``_frame_records``),
or raises :class:`~framework.DecodeError` with a stable ``reason`` when the message cannot be
trusted. It is pure: no I/O, no clock, no state. The live feed and the replay feed both call
it, so replay exercises the live code path. The keys it reads are those of ``_wire_keys``, the
encoder's too.

Classification follows protocol section 3.1, in order: ``pong`` text; not JSON (invalid);
string ``error`` (error); only key ``server_time`` (heartbeat); string ``event`` (event); list
``series`` (series); list ``data`` (quote envelope); ``code`` plus a quote field (legacy flat
quote); string ``message`` (status, or a legacy error text); anything else (unknown, ignored).

Reasons (``DecodeError.reason``): ``binary_frame``, ``oversized``, ``not_json``, ``too_deep``,
``non_finite``, ``bad_field``, ``negative_price``, ``inconsistent_ohlc``, ``bad_time``, plus
``unknown_code`` raised by the stateful layers (bar assembly, quote book). Details are log-safe:
control characters escaped, at most about 200 characters.

Bad points inside a series frame (or bad entries inside a quote envelope) do not spoil the rest
of the frame: they are listed in the frame's ``rejected`` tuple and left out of ``points`` /
``entries``. Only when every point (entry) of a non-empty frame is bad does the whole frame
raise, with the first point's reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

import orjson

from ..._errors import DecodeError
from ..._time import nanos_from_millis, nanos_from_seconds
from ._frame_records import (
    ErrorFrame,
    EventFrame,
    Frame,
    FrameKind,
    HeartbeatFrame,
    PongFrame,
    QuoteFields,
    QuotesFrame,
    SeriesFrame,
    SeriesPoint,
    StatusFrame,
    UnknownFrame,
)
from ._subscriptions import CODE_PATTERN
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
    QUOTE_KEYS,
    QUOTE_NUMBERS,
    QUOTE_PRICES,
    QUOTE_SIZES,
    QUOTE_TEXTS,
    REFERENCE_ID,
    RETRY_AFTER_SECONDS,
    RETRYABLE,
    SERIES,
    SERVER_TIME,
    STATUS,
    SUBSCRIPTION_COUNT,
    SYMBOL,
    TIME,
    TOTAL_ITEMS,
    TRADE_ID,
    VOLUME,
)

#: Default byte limit for one frame (reliability bar 3.3); raise it for large ``max_dp``.
DEFAULT_MAX_BYTES: Final = 1 << 20

#: Nesting the protocol needs: envelope -> list -> entry -> a list-valued extra field.
MAX_DEPTH: Final = 16

#: Longest log-safe detail or kept free text.
DETAIL_LIMIT: Final = 200

_LABEL: Final = re.compile(r"^[1-9][0-9]{0,5}[TsmhDWM]$")
#: Wire times must fall between the epoch and 2286 (10**10 s), which also bounds the ints made
#: (the fast path, ``_fast_path``, checks the same bounds).
MAX_SECONDS: Final = 1e10
MAX_MILLIS: Final = 1e13
_NUMBER: Final = (int, float)

_INFO_PREFIXES: Final = ("Connecting", "Connected")


def log_safe(text: object, limit: int = DETAIL_LIMIT) -> str:
    """``text`` with control characters and newlines escaped, cut to about ``limit`` chars."""
    if not isinstance(text, str):
        text = repr(text)
    if text.isprintable() and len(text) <= limit:
        return text
    escaped = text.encode("unicode_escape", "backslashreplace").decode("ascii")
    return escaped if len(escaped) <= limit else escaped[: limit - 3] + "..."


_PONG: Final = PongFrame()


# -- scalar checks ---------------------------------------------------------------------------


def _bad(field: str, value: object) -> DecodeError:
    return DecodeError("bad_field", log_safe(f"{field}={value!r}"))


def _number(field: str, value: object) -> float:
    if type(value) not in _NUMBER:
        raise _bad(field, value)
    return float(value)  # type: ignore[arg-type]


def _price(field: str, value: object) -> float:
    price = _number(field, value)
    if not price > 0:
        raise DecodeError("negative_price", log_safe(f"{field}={value!r}"))
    return price


def _size(field: str, value: object) -> float:
    size = _number(field, value)
    if not size >= 0:
        raise DecodeError("bad_field", log_safe(f"{field}={value!r} is negative"))
    return size


def _seconds_ns(field: str, value: object) -> int:
    seconds = _number(field, value)
    if not 0 <= seconds < MAX_SECONDS:
        raise DecodeError("bad_time", log_safe(f"{field}={value!r} s is out of range"))
    return nanos_from_seconds(seconds)


def _millis_ns(field: str, value: object) -> int:
    millis = _number(field, value)
    if not 0 <= millis < MAX_MILLIS:
        raise DecodeError("bad_time", log_safe(f"{field}={value!r} ms is out of range"))
    return nanos_from_millis(millis)


def _code(field: str, value: object) -> str:
    if type(value) is not str or not CODE_PATTERN.fullmatch(value):
        raise _bad(field, value)
    return value


def _optional_text(value: object) -> str | None:
    return log_safe(value) if isinstance(value, str) else None


# -- frame parsers ---------------------------------------------------------------------------


def _parse_point(raw: object, skew: Callable[[int], None] | None) -> SeriesPoint:
    if type(raw) is not dict:
        raise _bad("point", raw)
    time_ns = _seconds_ns(TIME, raw.get(TIME))
    if skew is not None:
        skew(time_ns)
    close = _price(CLOSE, raw.get(CLOSE))
    o, h, low = raw.get(OPEN), raw.get(HIGH), raw.get(LOW)
    volume = raw.get(VOLUME)
    vol = None if volume is None else _size(VOLUME, volume)
    trade_id = raw.get(TRADE_ID)
    tid = log_safe(str(trade_id), 64) if type(trade_id) in (str, int) else None
    if o is None and h is None and low is None:
        return SeriesPoint(
            time_ns=time_ns, open=None, high=None, low=None, close=close, volume=vol, trade_id=tid
        )
    if o is None or h is None or low is None:
        raise DecodeError("bad_field", "open, high and low must be all present or all absent")
    op, hi, lo = _price(OPEN, o), _price(HIGH, h), _price(LOW, low)
    if not (lo <= op <= hi and lo <= close <= hi):
        raise DecodeError(
            "inconsistent_ohlc",
            log_safe(f"open={op!r} high={hi!r} low={lo!r} close={close!r}"),
        )
    return SeriesPoint(
        time_ns=time_ns, open=op, high=hi, low=lo, close=close, volume=vol, trade_id=tid
    )


_Parsed = TypeVar("_Parsed")


def _parse_each(
    what: str,
    raws: Sequence[object],
    parse: Callable[[object, Callable[[int], None] | None], _Parsed],
    skew: Callable[[int], None] | None,
) -> tuple[tuple[_Parsed, ...], tuple[DecodeError, ...]]:
    """The points (entries) of a frame that pass ``parse``, and one error per other one, named
    by its index. Raises only when every one of a non-empty list fails, with the first reason."""
    parsed: list[_Parsed] = []
    rejected: list[DecodeError] = []
    for raw in raws:
        try:
            parsed.append(parse(raw, skew))
        except DecodeError as exc:
            # Each earlier one was parsed or rejected: their count is this one's index.
            index = len(parsed) + len(rejected)
            rejected.append(DecodeError(exc.reason, log_safe(f"[{index}] {exc.detail}")))
    if not rejected:
        return tuple(parsed), ()
    if not parsed:
        first = rejected[0]
        more = f" (and {len(rejected) - 1} more)" if len(rejected) > 1 else ""
        raise DecodeError(first.reason, log_safe(f"every {what} rejected: {first.detail}{more}"))
    return tuple(parsed), tuple(rejected)


def _parse_series(doc: dict[str, Any], skew: Callable[[int], None] | None) -> SeriesFrame:
    code = _code(CODE, doc.get(CODE))
    label = doc.get(BAR_TYPE)
    if type(label) is not str or not _LABEL.fullmatch(label):
        raise _bad(BAR_TYPE, label)
    bar_end = doc.get(BAR_END)
    last_update = doc.get(LAST_UPDATE)
    bar_end_ns = None if bar_end is None else _seconds_ns(BAR_END, bar_end)
    last_update_ns = None if last_update is None else _millis_ns(LAST_UPDATE, last_update)
    points, rejected = _parse_each("point", doc[SERIES], _parse_point, skew)
    return SeriesFrame(
        code=code,
        bar_label=label,
        bar_end_ns=bar_end_ns,
        last_update_ns=last_update_ns,
        points=points,
        rejected=rejected,
    )


def _parse_quote_entry(raw: object, skew: Callable[[int], None] | None) -> QuoteFields:
    if type(raw) is not dict:
        raise _bad("entry", raw)
    code = _code(CODE, raw.get(CODE))
    fields: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in QUOTE_KEYS:
            continue
        if value is None:
            fields["lp_time_ns" if key == LP_TIME else key] = None
        elif key in QUOTE_PRICES:
            fields[key] = _price(key, value)
        elif key in QUOTE_SIZES:
            fields[key] = _size(key, value)
        elif key in QUOTE_NUMBERS:
            fields[key] = _number(key, value)
        elif key in QUOTE_TEXTS:
            if type(value) is not str:
                raise _bad(key, value)
            fields[key] = log_safe(value, 32)
        elif key == LP_TIME:
            fields["lp_time_ns"] = time_ns = _seconds_ns(key, value)
            if skew is not None:
                skew(time_ns)
        else:  # DELAY_SECONDS
            if type(value) is not int or not -1 <= value < 10**7:
                raise _bad(key, value)
            fields[key] = value
    return QuoteFields(code=code, **fields)


def _parse_quotes(doc: dict[str, Any], skew: Callable[[int], None] | None) -> QuotesFrame:
    last_update = doc.get(LAST_UPDATE)
    last_update_ns = None if last_update is None else _millis_ns(LAST_UPDATE, last_update)
    total = doc.get(TOTAL_ITEMS)
    if total is not None and (type(total) is not int or total < 0):
        raise _bad(TOTAL_ITEMS, total)
    entries, rejected = _parse_each("entry", doc[DATA], _parse_quote_entry, skew)
    return QuotesFrame(
        legacy=False,
        last_update_ns=last_update_ns,
        total_items=total,
        entries=entries,
        rejected=rejected,
    )


def _parse_error(doc: dict[str, Any]) -> ErrorFrame:
    delays: list[float] = []
    for key in (DELAY_SECONDS, RETRY_AFTER_SECONDS):
        value = doc.get(key)
        if isinstance(value, int | float) and type(value) is not bool and 0 <= value < math.inf:
            delays.append(float(value))
    retryable = doc.get(RETRYABLE)
    symbol = doc.get(SYMBOL)
    if not isinstance(symbol, str):
        symbol = doc.get(CODE)
    return ErrorFrame(
        style="structured",
        error_code=log_safe(doc[ERROR], 64),
        message=_optional_text(doc.get(MESSAGE)) or "",
        symbol=_optional_text(symbol),
        action=_optional_text(doc.get(ACTION)),
        retryable=retryable if type(retryable) is bool else None,
        delay_s=max(delays) if delays else None,
        reference_id=_optional_text(doc.get(REFERENCE_ID)),
    )


def _parse_event(doc: dict[str, Any]) -> EventFrame:
    status = doc.get(STATUS)
    count = doc.get(SUBSCRIPTION_COUNT)
    if status is not None and type(status) is not str:
        raise _bad(STATUS, status)
    if count is not None and (type(count) is not int or count < 0):
        raise _bad(SUBSCRIPTION_COUNT, count)
    return EventFrame(
        event=log_safe(doc[EVENT], 64),
        status=None if status is None else log_safe(status, 64),
        subscription_count=count,
    )


def _check_depth(doc: object) -> None:
    # Iterative, so a hostile document cannot exhaust the interpreter stack.
    stack: list[tuple[object, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise DecodeError("too_deep", f"nesting deeper than {MAX_DEPTH}")
        children = value.values() if type(value) is dict else value
        for child in children:  # type: ignore[attr-defined]
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1))


def _shape(doc: object) -> str:
    if type(doc) is dict:
        return log_safe("object with keys " + ", ".join(sorted(map(str, doc))[:10]))
    return type(doc).__name__


def _json_error(text: str, exc: orjson.JSONDecodeError) -> DecodeError:
    message = str(exc)
    if "depth limit" in message:
        return DecodeError("too_deep", "nesting deeper than the JSON parser allows")
    if "infinity" in message or text.startswith(("NaN", "Infinity"), exc.pos):
        return DecodeError("non_finite", log_safe(message))
    return DecodeError("not_json", log_safe(message))


def decode_frame(
    text: str | bytes | bytearray | memoryview,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    recv_ns: int,
    max_clock_skew_ns: int | None = None,
) -> Frame:
    """Decode one WebSocket message into a frame record.

    ``max_bytes`` bounds the UTF-8 size of the message (checked before parsing). With
    ``max_clock_skew_ns``, point and quote times later than ``recv_ns`` plus that skew are
    rejected as ``bad_time``; without it (default) ``recv_ns`` is not used, so decoding is
    independent of the receiving clock. Raises :class:`~framework.DecodeError` and nothing
    else.
    """
    if not isinstance(text, str):
        kind = type(text).__name__
        raise DecodeError("binary_frame", f"a {kind} message; the protocol uses text only")
    size = len(text)
    # Each character takes 1 to 4 bytes, so only the middle range needs the encoding.
    if size > max_bytes or (size * 4 > max_bytes and _utf8_size(text) > max_bytes):
        raise DecodeError("oversized", f"message exceeds {max_bytes} bytes")
    if size < 16 and text.strip() == PONG_TEXT:
        return _PONG
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise _json_error(text, exc) from None
    if type(doc) is not dict:
        _check_depth([doc])
        return UnknownFrame(shape=_shape(doc))
    return decode_document(doc, recv_ns=recv_ns, max_clock_skew_ns=max_clock_skew_ns)


def decode_document(
    doc: dict[str, Any], *, recv_ns: int, max_clock_skew_ns: int | None = None
) -> Frame:
    """:func:`decode_frame` for a message already parsed into a JSON object (``doc``).

    For callers that parsed the text themselves (to try ``_fast_path.single_bar_values``
    first);
    they must have applied the byte limit and the ``pong`` check of :func:`decode_frame`.
    """
    _check_depth(doc)
    skew = None
    if max_clock_skew_ns is not None:
        skew = _skew_check(recv_ns + max_clock_skew_ns)
    try:
        return _classify(doc, skew)
    except DecodeError:
        raise
    except Exception as exc:  # pragma: no cover - a shape we failed to foresee
        raise DecodeError("bad_field", log_safe(f"{type(exc).__name__}: {exc}")) from None


def _utf8_size(text: str) -> int:
    try:
        return len(text.encode())
    except UnicodeEncodeError:
        raise DecodeError("not_json", "text is not valid UTF-8 (lone surrogate)") from None


def _skew_check(latest_ns: int) -> Callable[[int], None]:
    def check(time_ns: int) -> None:
        if time_ns > latest_ns:
            raise DecodeError("bad_time", f"time {time_ns} ns is later than the allowed skew")

    return check


def _classify(doc: dict[str, Any], skew: Callable[[int], None] | None) -> Frame:
    if type(doc.get(ERROR)) is str:
        return _parse_error(doc)
    if len(doc) == 1 and SERVER_TIME in doc:
        return HeartbeatFrame(server_time_ns=_millis_ns(SERVER_TIME, doc[SERVER_TIME]))
    if type(doc.get(EVENT)) is str:
        return _parse_event(doc)
    if type(doc.get(SERIES)) is list:
        return _parse_series(doc, skew)
    if type(doc.get(DATA)) is list:
        return _parse_quotes(doc, skew)
    # A flat 2024 quote (protocol 3.1 step 8).
    if CODE in doc and SERIES not in doc and not QUOTE_KEYS.isdisjoint(doc):
        entry = _parse_quote_entry(doc, skew)
        return QuotesFrame(legacy=True, last_update_ns=None, total_items=None, entries=(entry,))
    message = doc.get(MESSAGE)
    if type(message) is str:
        text = log_safe(message, 300)
        if text.startswith(_INFO_PREFIXES):
            return StatusFrame(text=text, is_info=True)
        return ErrorFrame(style="legacy_message", error_code=None, message=text)
    return UnknownFrame(shape=_shape(doc))


def classify_frame(text: str | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The :class:`FrameKind` name of a message (``"SERIES"``, ``"INVALID"``...), for tools."""
    try:
        return decode_frame(text, max_bytes=max_bytes, recv_ns=0).kind.name
    except DecodeError:
        return FrameKind.INVALID.name


def symbols_of_frame(text: str | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[str]:
    """The codes a message mentions (series code, quote entries, error symbol), log-safe.

    Works on frames that :func:`decode_frame` would reject for their values; returns ``[]`` for
    messages that are not JSON objects.
    """
    if not isinstance(text, str) or len(text) > max_bytes:
        return []
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError:
        return []
    if type(doc) is not dict:
        return []
    found: list[str] = []
    candidates: list[object] = [doc.get(CODE), doc.get(SYMBOL)]
    data = doc.get(DATA)
    if type(data) is list:
        candidates.extend(entry.get(CODE) for entry in data if type(entry) is dict)
    for value in candidates:
        if isinstance(value, str):
            code = log_safe(value, 64)
            if code not in found:
                found.append(code)
    return found
