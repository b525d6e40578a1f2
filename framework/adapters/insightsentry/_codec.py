"""Sans-IO decoding of InsightSentry ``/live`` frames.

:func:`decode_frame` turns one WebSocket message into a typed frame record, or raises
:class:`~framework.DecodeError` with a stable ``reason`` when the message cannot be trusted. It
is pure: no I/O, no clock, no state. The live feed and the replay feed both call it, so replay
exercises the live code path.

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

import enum
import math
import re
from collections.abc import Callable
from typing import Any, ClassVar, Final, Literal

import attrs
import orjson

from ..._errors import DecodeError
from ..._intervals import Interval
from ..._time import nanos_from_millis, nanos_from_seconds
from ._subscriptions import CODE_PATTERN

#: Default byte limit for one frame (reliability bar 3.3); raise it for large ``max_dp``.
DEFAULT_MAX_BYTES: Final = 1 << 20

#: Nesting the protocol needs: envelope -> list -> entry -> a list-valued extra field.
MAX_DEPTH: Final = 16

#: Longest log-safe detail or kept free text.
DETAIL_LIMIT: Final = 200

_LABEL: Final = re.compile(r"^[1-9][0-9]{0,5}[TsmhDWM]$")
#: Wire times must fall between the epoch and 2286 (10**10 s), which also bounds the ints made.
_MAX_SECONDS: Final = 1e10
_MAX_MILLIS: Final = 1e13
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


class FrameKind(enum.Enum):
    """What a frame is, by shape (protocol section 3.1)."""

    PONG = "pong"
    ERROR = "error"
    HEARTBEAT = "heartbeat"
    EVENT = "event"
    SERIES = "series"
    QUOTES = "quotes"
    LEGACY_QUOTE = "legacy_quote"
    STATUS = "status"
    #: Valid JSON of a shape we do not know; to be counted and ignored.
    UNKNOWN = "unknown"
    #: Not JSON or hostile; :func:`decode_frame` raises instead of returning it.
    INVALID = "invalid"


class _Absent(enum.Enum):
    ABSENT = "absent"

    def __repr__(self) -> str:
        return "ABSENT"


#: Marks a quote field that the entry did not carry ("unchanged"), unlike None ("no value").
ABSENT: Final = _Absent.ABSENT
Absent = Literal[_Absent.ABSENT]


@attrs.frozen(slots=True)
class PongFrame:
    """The text ``pong``, the answer to our text ``ping``."""

    kind: ClassVar[FrameKind] = FrameKind.PONG


@attrs.frozen(slots=True, kw_only=True)
class HeartbeatFrame:
    """``{"server_time": ms}``: the server clock, about every 10 s."""

    kind: ClassVar[FrameKind] = FrameKind.HEARTBEAT
    server_time_ns: int


@attrs.frozen(slots=True, kw_only=True)
class EventFrame:
    """``{"event": ..., "status": ..., "subscription_count": n}`` from newer servers."""

    kind: ClassVar[FrameKind] = FrameKind.EVENT
    event: str
    status: str | None
    subscription_count: int | None


@attrs.frozen(slots=True, kw_only=True)
class StatusFrame:
    """An informational ``message`` (``Connecting...``, ``Connected to W:...``).

    Other ``message`` texts are legacy errors and decode to :class:`ErrorFrame` instead, so
    ``is_info`` is always True for frames from :func:`decode_frame`.
    """

    kind: ClassVar[FrameKind] = FrameKind.STATUS
    text: str
    is_info: bool


@attrs.frozen(slots=True, kw_only=True)
class ErrorFrame:
    """An error from the server, in the legacy ``message`` style or the structured style.

    ``delay_s`` is the larger of ``delay_seconds`` and ``retry_after_seconds``. Free text is
    log-safe. Fields of the wrong type are treated as absent rather than spoiling the error.
    """

    kind: ClassVar[FrameKind] = FrameKind.ERROR
    style: Literal["legacy_message", "structured"]
    error_code: str | None
    message: str
    symbol: str | None = None
    action: str | None = None
    retryable: bool | None = None
    delay_s: float | None = None
    reference_id: str | None = None


@attrs.frozen(slots=True, kw_only=True)
class SeriesPoint:
    """One bar (or tick) of a series frame, validated.

    ``open``/``high``/``low`` are all None (ticks) or all set and consistent with ``close``.
    ``volume`` is None when the frame did not carry it. ``trade_id`` is kept (as text) for tick
    de-duplication.
    """

    time_ns: int
    open: float | None
    high: float | None
    low: float | None
    close: float
    volume: float | None
    trade_id: str | None = None


@attrs.frozen(slots=True, kw_only=True)
class SeriesFrame:
    """Bars or ticks for one stream (``code``, ``bar_label``); points in wire order.

    ``bar_end_ns`` is the last covered second of the newest bar, as nanoseconds; ``rejected``
    holds one :class:`~framework.DecodeError` per point that failed validation.
    """

    kind: ClassVar[FrameKind] = FrameKind.SERIES
    code: str
    bar_label: str
    bar_end_ns: int | None
    last_update_ns: int | None
    points: tuple[SeriesPoint, ...]
    rejected: tuple[DecodeError, ...] = ()

    @property
    def interval(self) -> Interval:
        """The bar size of ``bar_label``."""
        return Interval.parse(self.bar_label)


@attrs.frozen(slots=True, kw_only=True)
class QuoteFields:
    """One quote entry; every field except ``code`` may be :data:`ABSENT` (unchanged since the
    last entry for that code) or None (explicitly no value). ``lp_time_ns`` is ``lp_time`` in
    nanoseconds."""

    code: str
    status: str | Absent | None = ABSENT
    lp_time_ns: int | Absent | None = ABSENT
    last_price: float | Absent | None = ABSENT
    bid: float | Absent | None = ABSENT
    ask: float | Absent | None = ABSENT
    bid_size: float | Absent | None = ABSENT
    ask_size: float | Absent | None = ABSENT
    volume: float | Absent | None = ABSENT
    change: float | Absent | None = ABSENT
    change_percent: float | Absent | None = ABSENT
    prev_close_price: float | Absent | None = ABSENT
    open_price: float | Absent | None = ABSENT
    high_price: float | Absent | None = ABSENT
    low_price: float | Absent | None = ABSENT
    market_cap: float | Absent | None = ABSENT
    currency_code: str | Absent | None = ABSENT
    delay_seconds: int | Absent | None = ABSENT


#: Names of the optional fields of :class:`QuoteFields`, in declaration order.
QUOTE_FIELD_NAMES: Final = tuple(f.name for f in attrs.fields(QuoteFields) if f.name != "code")


@attrs.frozen(slots=True, kw_only=True)
class QuotesFrame:
    """A quote envelope (``legacy=False``) or a 2024 flat quote (``legacy=True``)."""

    legacy: bool
    last_update_ns: int | None
    total_items: int | None
    entries: tuple[QuoteFields, ...]
    rejected: tuple[DecodeError, ...] = ()

    @property
    def kind(self) -> FrameKind:
        """``QUOTES`` or ``LEGACY_QUOTE``."""
        return FrameKind.LEGACY_QUOTE if self.legacy else FrameKind.QUOTES


@attrs.frozen(slots=True, kw_only=True)
class UnknownFrame:
    """Valid JSON of an unknown shape; ``shape`` is a log-safe description."""

    kind: ClassVar[FrameKind] = FrameKind.UNKNOWN
    shape: str


Frame = (
    PongFrame
    | HeartbeatFrame
    | EventFrame
    | StatusFrame
    | ErrorFrame
    | SeriesFrame
    | QuotesFrame
    | UnknownFrame
)

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
    if not 0 <= seconds < _MAX_SECONDS:
        raise DecodeError("bad_time", log_safe(f"{field}={value!r} s is out of range"))
    return nanos_from_seconds(seconds)


def _millis_ns(field: str, value: object) -> int:
    millis = _number(field, value)
    if not 0 <= millis < _MAX_MILLIS:
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
    time_ns = _seconds_ns("time", raw.get("time"))
    if skew is not None:
        skew(time_ns)
    close = _price("close", raw.get("close"))
    o, h, low = raw.get("open"), raw.get("high"), raw.get("low")
    volume = raw.get("volume")
    vol = None if volume is None else _size("volume", volume)
    trade_id = raw.get("trade_id")
    tid = log_safe(str(trade_id), 64) if type(trade_id) in (str, int) else None
    if o is None and h is None and low is None:
        return SeriesPoint(
            time_ns=time_ns, open=None, high=None, low=None, close=close, volume=vol, trade_id=tid
        )
    if o is None or h is None or low is None:
        raise DecodeError("bad_field", "open, high and low must be all present or all absent")
    op, hi, lo = _price("open", o), _price("high", h), _price("low", low)
    if not (lo <= op <= hi and lo <= close <= hi):
        raise DecodeError(
            "inconsistent_ohlc",
            log_safe(f"open={op!r} high={hi!r} low={lo!r} close={close!r}"),
        )
    return SeriesPoint(
        time_ns=time_ns, open=op, high=hi, low=lo, close=close, volume=vol, trade_id=tid
    )


def _all_rejected(what: str, rejected: list[DecodeError]) -> DecodeError:
    first = rejected[0]
    more = f" (and {len(rejected) - 1} more)" if len(rejected) > 1 else ""
    return DecodeError(first.reason, log_safe(f"every {what} rejected: {first.detail}{more}"))


def _with_index(index: int, exc: DecodeError) -> DecodeError:
    return DecodeError(exc.reason, log_safe(f"[{index}] {exc.detail}"))


def _parse_series(doc: dict[str, Any], skew: Callable[[int], None] | None) -> SeriesFrame:
    code = _code("code", doc.get("code"))
    label = doc.get("bar_type")
    if type(label) is not str or not _LABEL.fullmatch(label):
        raise _bad("bar_type", label)
    bar_end = doc.get("bar_end")
    last_update = doc.get("last_update")
    bar_end_ns = None if bar_end is None else _seconds_ns("bar_end", bar_end)
    last_update_ns = None if last_update is None else _millis_ns("last_update", last_update)
    points: list[SeriesPoint] = []
    rejected: list[DecodeError] = []
    for index, raw in enumerate(doc["series"]):
        try:
            points.append(_parse_point(raw, skew))
        except DecodeError as exc:
            rejected.append(_with_index(index, exc))
    if rejected and not points:
        raise _all_rejected("point", rejected)
    return SeriesFrame(
        code=code,
        bar_label=label,
        bar_end_ns=bar_end_ns,
        last_update_ns=last_update_ns,
        points=tuple(points),
        rejected=tuple(rejected),
    )


#: ``(code, bar_label, time_ns, (open, high, low, close, volume), bar_end_ns, last_update_ns)``
SingleBar = tuple[str, str, int, tuple[float, float, float, float, float], int, int]


#: _NUMBER with the type the wire mostly carries first: ``in`` stops at the first match.
_FLOAT_OR_INT: Final = (float, int)


def single_bar_values(doc: dict[str, Any]) -> SingleBar | None:
    """The most common frame, reduced to plain values: a series update of exactly the keys
    ``code``, ``bar_type``, ``bar_end``, ``last_update`` and one full point (``time``, OHLC,
    ``volume``), every value passing the checks of :func:`decode_frame`. None for anything
    else, and for any value those checks would reject: the caller then decodes the document
    in full, which reports what is wrong.

    ``code`` and ``bar_type`` are only known to be strings; the caller must match them
    against streams that passed the full checks. Same values as the general path, so the
    same events: the time conversions are :func:`nanos_from_seconds` and
    :func:`nanos_from_millis` inlined.
    """
    # With exactly five keys, all present and of scalar types (one list of one flat point),
    # the document nests three deep and classifies as a series frame, as decode_frame's
    # depth check and classification would find.
    if len(doc) != 5:
        return None
    series = doc.get("series")
    if type(series) is not list or len(series) != 1:
        return None
    point = series[0]
    if type(point) is not dict or len(point) != 6:
        return None
    code = doc.get("code")
    label = doc.get("bar_type")
    bar_end: Any = doc.get("bar_end")
    last_update: Any = doc.get("last_update")
    t: Any = point.get("time")
    o: Any = point.get("open")
    h: Any = point.get("high")
    low: Any = point.get("low")
    c: Any = point.get("close")
    v: Any = point.get("volume")
    number = _FLOAT_OR_INT
    if (
        type(code) is not str
        or type(label) is not str
        or type(bar_end) not in number
        or type(last_update) not in number
        or type(t) not in number
        or type(o) not in number
        or type(h) not in number
        or type(low) not in number
        or type(c) not in number
        or type(v) not in number
    ):
        return None
    end_s = float(bar_end)
    update_ms = float(last_update)
    time_s = float(t)
    values = (float(o), float(h), float(low), float(c), float(v))
    op, hi, lo, cl, vol = values
    # lo > 0 and lo <= every other price covers each price's own "> 0" check.
    if not (
        0 <= time_s < _MAX_SECONDS
        and 0 <= end_s < _MAX_SECONDS
        and 0 <= update_ms < _MAX_MILLIS
        and 0 < lo <= op <= hi
        and lo <= cl <= hi
        and vol >= 0
    ):
        return None
    return (
        code,
        label,
        round(time_s * 1_000_000) * 1_000,
        values,
        round(end_s * 1_000_000) * 1_000,
        round(update_ms * 1_000) * 1_000,
    )


_QUOTE_PRICES: Final = frozenset(
    {"last_price", "bid", "ask", "prev_close_price", "open_price", "high_price", "low_price"}
)
_QUOTE_SIZES: Final = frozenset({"bid_size", "ask_size", "volume", "market_cap"})
_QUOTE_NUMBERS: Final = frozenset({"change", "change_percent"})
_QUOTE_TEXTS: Final = frozenset({"status", "currency_code"})
#: Wire names that mark a flat legacy quote (protocol 3.1 step 8).
_QUOTE_WIRE_FIELDS: Final = (
    _QUOTE_PRICES | _QUOTE_SIZES | _QUOTE_NUMBERS | _QUOTE_TEXTS | {"lp_time", "delay_seconds"}
)


def _parse_quote_entry(raw: object, skew: Callable[[int], None] | None) -> QuoteFields:
    if type(raw) is not dict:
        raise _bad("entry", raw)
    code = _code("code", raw.get("code"))
    fields: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in _QUOTE_WIRE_FIELDS:
            continue
        if value is None:
            fields["lp_time_ns" if key == "lp_time" else key] = None
        elif key in _QUOTE_PRICES:
            fields[key] = _price(key, value)
        elif key in _QUOTE_SIZES:
            fields[key] = _size(key, value)
        elif key in _QUOTE_NUMBERS:
            fields[key] = _number(key, value)
        elif key in _QUOTE_TEXTS:
            if type(value) is not str:
                raise _bad(key, value)
            fields[key] = log_safe(value, 32)
        elif key == "lp_time":
            fields["lp_time_ns"] = time_ns = _seconds_ns(key, value)
            if skew is not None:
                skew(time_ns)
        else:  # delay_seconds
            if type(value) is not int or not -1 <= value < 10**7:
                raise _bad(key, value)
            fields[key] = value
    return QuoteFields(code=code, **fields)


def _parse_quotes(doc: dict[str, Any], skew: Callable[[int], None] | None) -> QuotesFrame:
    last_update = doc.get("last_update")
    last_update_ns = None if last_update is None else _millis_ns("last_update", last_update)
    total = doc.get("total_items")
    if total is not None and (type(total) is not int or total < 0):
        raise _bad("total_items", total)
    entries: list[QuoteFields] = []
    rejected: list[DecodeError] = []
    for index, raw in enumerate(doc["data"]):
        try:
            entries.append(_parse_quote_entry(raw, skew))
        except DecodeError as exc:
            rejected.append(_with_index(index, exc))
    if rejected and not entries:
        raise _all_rejected("entry", rejected)
    return QuotesFrame(
        legacy=False,
        last_update_ns=last_update_ns,
        total_items=total,
        entries=tuple(entries),
        rejected=tuple(rejected),
    )


def _parse_error(doc: dict[str, Any]) -> ErrorFrame:
    delays: list[float] = []
    for key in ("delay_seconds", "retry_after_seconds"):
        value = doc.get(key)
        if isinstance(value, int | float) and type(value) is not bool and 0 <= value < math.inf:
            delays.append(float(value))
    retryable = doc.get("retryable")
    symbol = doc.get("symbol")
    if not isinstance(symbol, str):
        symbol = doc.get("code")
    return ErrorFrame(
        style="structured",
        error_code=log_safe(doc["error"], 64),
        message=_optional_text(doc.get("message")) or "",
        symbol=_optional_text(symbol),
        action=_optional_text(doc.get("action")),
        retryable=retryable if type(retryable) is bool else None,
        delay_s=max(delays) if delays else None,
        reference_id=_optional_text(doc.get("reference_id")),
    )


def _parse_event(doc: dict[str, Any]) -> EventFrame:
    status = doc.get("status")
    count = doc.get("subscription_count")
    if status is not None and type(status) is not str:
        raise _bad("status", status)
    if count is not None and (type(count) is not int or count < 0):
        raise _bad("subscription_count", count)
    return EventFrame(
        event=log_safe(doc["event"], 64),
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
    if size < 16 and text.strip() == "pong":
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

    For callers that parsed the text themselves (to try :func:`single_bar_values` first);
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
    if type(doc.get("error")) is str:
        return _parse_error(doc)
    if len(doc) == 1 and "server_time" in doc:
        return HeartbeatFrame(server_time_ns=_millis_ns("server_time", doc["server_time"]))
    if type(doc.get("event")) is str:
        return _parse_event(doc)
    if type(doc.get("series")) is list:
        return _parse_series(doc, skew)
    if type(doc.get("data")) is list:
        return _parse_quotes(doc, skew)
    if "code" in doc and "series" not in doc and not _QUOTE_WIRE_FIELDS.isdisjoint(doc):
        entry = _parse_quote_entry(doc, skew)
        return QuotesFrame(legacy=True, last_update_ns=None, total_items=None, entries=(entry,))
    message = doc.get("message")
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
    candidates: list[object] = [doc.get("code"), doc.get("symbol")]
    data = doc.get("data")
    if type(data) is list:
        candidates.extend(entry.get("code") for entry in data if type(entry) is dict)
    for value in candidates:
        if isinstance(value, str):
            code = log_safe(value, 64)
            if code not in found:
                found.append(code)
    return found


# -- error classification (protocol section 5) -----------------------------------------------

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
    ``max_connections_exceeded`` always reconnect slowly (at least 30 s). Delays are capped at
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
