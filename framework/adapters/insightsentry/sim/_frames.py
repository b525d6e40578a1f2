"""Hypothesis generators of InsightSentry ``/live`` wire frames.

Named like Hypothesis' own generators (plural nouns, keyword-only bounds) and used the same
way; ``framework.testing`` re-exports them::

    from hypothesis import given
    from framework.testing import hostile_frames

    @given(hostile_frames())
    def test_the_decoder_rejects(text): ...

- :func:`frames` / :func:`hostile_frames`: raw ``/live`` messages, valid ones (series, quotes,
  heartbeat, event, status, error, ``pong``) and hostile ones that a decoder must reject
  (oversized, deeply nested, non-finite numbers, negative prices, high below low, wrong types,
  times out of range, not JSON, binary).
- :func:`series_frame_text` / :func:`quotes_frame_text`: encode events as wire frames.

Valid frames carry the market data of the vendor-neutral generators
(:func:`~framework.testing.bars`, :func:`~framework.testing.quotes`) and are written by the
adapter's encoder (:func:`~framework.adapters.insightsentry.encode_frame`); a hostile frame is
an encoded valid frame with one thing bent (a value, a type, the nesting, the size), so both
kinds follow the decoder's wire format. Bad bounds raise :class:`~framework.ConfigError` when
the generator is built.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final, Literal, overload

import orjson
from hypothesis import strategies as st

from ...._errors import ConfigError
from ...._events import Bar, Quote
from ...._time import NANOS_PER_MILLI, NANOS_PER_SECOND
from ....testing._generators import DEFAULT_SYMBOLS, bars, check_symbols, quotes
from .._codec import DEFAULT_MAX_BYTES, MAX_DEPTH
from .._encode import encode_document, encode_frame
from .._frame_records import (
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
from .._subscriptions import CODE_PATTERN
from .._wire_keys import (
    CLOSE,
    DATA,
    HIGH,
    LOW,
    OPEN,
    QUOTE_KEYS,
    QUOTE_PRICES,
    QUOTE_TEXTS,
    SERIES,
    SERVER_TIME,
    TIME,
    VOLUME,
)
from ._wire import bar_point, nested_series

# -- encoding events -------------------------------------------------------------------------


def series_frame_text(bars: Sequence[Bar]) -> str:
    """A ``/live`` series frame holding ``bars`` (one symbol and interval, oldest first).

    ``bar_end`` is the last covered second of the newest bar (its ``ts_event`` minus 1 s), so a
    decoder that closes bars from the frame gives them back with the same ``ts_event``. Times
    are sent as seconds, so they keep microseconds at most.
    """
    if not bars:
        raise ValueError("a series frame needs at least one bar")
    first = bars[0]
    if any(b.symbol != first.symbol or b.interval != first.interval for b in bars):
        raise ValueError("a series frame holds bars of one symbol and interval")
    newest = bars[-1]
    frame = SeriesFrame(
        code=first.symbol,
        bar_label=first.interval,
        bar_end_ns=newest.ts_event - NANOS_PER_SECOND,
        last_update_ns=newest.ts_event,
        points=tuple(bar_point(b) for b in bars),
    )
    return encode_frame(frame)


def quotes_frame_text(quotes: Sequence[Quote]) -> str:
    """A ``/live`` quote envelope with one full entry per quote.

    A decoder stamps every entry with the envelope's ``last_update``, here the newest
    ``ts_event`` in whole milliseconds: encode one quote per frame to keep each one's time.
    Fields that are None are sent as ``null`` (explicitly no value).
    """
    if not quotes:
        raise ValueError("a quote frame needs at least one quote")
    frame = QuotesFrame(
        legacy=False,
        last_update_ns=max(q.ts_event for q in quotes),
        total_items=len(quotes),
        entries=tuple(
            QuoteFields(
                code=q.symbol,
                status=q.status,
                lp_time_ns=q.ts_last,
                last_price=q.last_price,
                bid=q.bid,
                ask=q.ask,
                bid_size=q.bid_size,
                ask_size=q.ask_size,
                volume=q.volume,
            )
            for q in quotes
        ),
    )
    return encode_frame(frame)


# -- frames ----------------------------------------------------------------------------------

_ERROR_CODES: Final = (
    "server_busy",
    "internal_server_error",
    "processing_throttled",
    "temporarily_unavailable",
    "connection_evicted",
    "max_connections_exceeded",
    "invalid_api_key",
    "invalid_symbol",
)
_LEGACY_ERRORS: Final = (
    "Invalid Symbol Code NASDAQ:NOPE",
    "Subscription exceeds the number of symbols allowed by your plan",
    "Subscriptions field or value is invalid",
)
_MAX_MILLIS: Final = 10**13 - 1


def _valid_frames(symbols: tuple[str, ...]) -> st.SearchStrategy[str]:
    code = st.sampled_from(symbols)
    series = code.flatmap(lambda c: bars(symbols=[c], max_bars=10).map(series_frame_text))
    quote_frames = quotes(symbols=symbols, max_quotes=5).map(quotes_frame_text)
    heartbeat = st.builds(
        HeartbeatFrame,
        server_time_ns=st.integers(0, _MAX_MILLIS).map(lambda ms: ms * NANOS_PER_MILLI),
    )
    event = st.builds(
        EventFrame,
        event=st.just("subscription_status"),
        status=st.sampled_from(["active", "inactive"]),
        subscription_count=st.integers(0, 1_000),
    )
    status = st.builds(
        StatusFrame,
        text=st.sampled_from(["Connecting...", "Connected to W:SIM"]),
        is_info=st.just(True),
    )
    error = st.builds(
        ErrorFrame,
        style=st.just("structured"),
        error_code=st.sampled_from(_ERROR_CODES),
        message=st.text(max_size=40),
        retryable=st.booleans(),
        delay_s=st.none() | st.floats(0, 3_600),
    )
    legacy = st.builds(
        ErrorFrame,
        style=st.just("legacy_message"),
        error_code=st.none(),
        message=st.sampled_from(_LEGACY_ERRORS),
    )
    records: list[st.SearchStrategy[Frame]] = [heartbeat, event, status, error, legacy]
    texts = [record.map(encode_frame) for record in records]
    return st.one_of(series, quote_frames, *texts, st.just(encode_frame(PongFrame())))


@overload
def frames(
    *, valid: Literal[True] = True, symbols: Sequence[str] = ..., max_bytes: int = ...
) -> st.SearchStrategy[str]: ...
@overload
def frames(
    *, valid: bool | None, symbols: Sequence[str] = ..., max_bytes: int = ...
) -> st.SearchStrategy[str | bytes]: ...
def frames(
    *,
    valid: bool | None = True,
    symbols: Sequence[str] = DEFAULT_SYMBOLS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> st.SearchStrategy[str] | st.SearchStrategy[str | bytes]:
    """Raw ``/live`` messages: valid ones (``valid=True``), hostile ones (``False``, see
    :func:`hostile_frames`) or both (``None``).

    Valid frames decode without error to a known kind: series frames of :func:`bars`, quote
    envelopes of :func:`quotes`, heartbeats, ``subscription_status`` events, greetings,
    structured and legacy errors, and ``pong``.
    """
    codes = check_symbols(symbols)
    for code in codes:
        if not CODE_PATTERN.fullmatch(code):
            raise ConfigError(f"symbols must be EXCHANGE:SYMBOL codes, got {code!r}")
    if valid is True:
        return _valid_frames(codes)
    hostile = hostile_frames(max_bytes=max_bytes)
    if valid is False:
        return hostile
    return st.one_of(_valid_frames(codes), hostile)


# -- hostile frames: valid frames, encoded, then bent ----------------------------------------

_T0_NS: Final = 1_767_571_200 * NANOS_PER_SECOND
_SERIES: Final = SeriesFrame(
    code="NASDAQ:AAPL",
    bar_label="1m",
    bar_end_ns=None,
    last_update_ns=None,
    points=(
        SeriesPoint(time_ns=_T0_NS, open=100.0, high=101.0, low=99.0, close=100.5, volume=10.0),
    ),
)
_QUOTES: Final = QuotesFrame(
    legacy=False,
    last_update_ns=_T0_NS,
    total_items=None,
    entries=(QuoteFields(code="NASDAQ:AAPL"),),
)
_HEARTBEAT: Final = HeartbeatFrame(server_time_ns=_T0_NS)
_EVENT: Final = EventFrame(event="subscription_status", status="active", subscription_count=1)


def _dumps(document: dict[str, Any]) -> str:
    return orjson.dumps(document).decode()


def _bent(frame: Frame, **keys: object) -> str:
    """``frame``, encoded, with the top-level ``keys`` replaced (or added at the end)."""
    return _dumps({**encode_document(frame), **keys})


def _series_with(**point: object) -> str:
    """The one-bar series frame with the values of its point replaced by ``point``."""
    document = encode_document(_SERIES)
    document[SERIES][0].update(point)
    return _dumps(document)


def _quote_with(**entry: object) -> str:
    """The one-entry quote envelope with ``entry`` added to its entry."""
    document = encode_document(_QUOTES)
    document[DATA][0].update(entry)
    return _dumps(document)


def _with_literal(text: str, key: str, literal: str) -> str:
    """``text`` with the number of its first ``key`` written as ``literal`` (which JSON may
    not allow, such as ``NaN``)."""
    return re.sub(f'"{key}":[^,}}\\]]+', lambda _: f'"{key}":{literal}', text, count=1)


def _oversized(max_bytes: int) -> st.SearchStrategy[str]:
    base = _series_with()
    # Characters left for the pad in `base[:-1] + ',"pad":"' + pad + '"}'`; when there are
    # none, the base frame alone is already too large.
    room = max_bytes - len(base) - 9

    def padded(extra: int, wide: bool) -> str:
        # Wide pads use two-byte characters: within max_bytes in characters, not in bytes.
        pad = "é" * min(room, room // 2 + extra) if wide else "x" * (room + extra)
        return base[:-1] + f',"pad":"{pad}"}}'

    return st.builds(padded, st.integers(1, 64), st.booleans())


def _deep(depth: int, shape: str) -> str:
    if shape == "series":
        return nested_series(_SERIES, depth)
    if shape == "object":
        return '{"a":' * depth + "1" + "}" * depth
    return "[" * depth + "]" * depth


_NON_FINITE: Final = ("NaN", "Infinity", "-Infinity", "1e400", "-1e400", "nan", "inf")
_PRICE_FIELDS: Final = (OPEN, HIGH, LOW, CLOSE)
#: Quote keys by the values they take; sorted, so examples do not depend on set order.
_QUOTE_PRICE_KEYS: Final = sorted(QUOTE_PRICES)
_QUOTE_NUMBER_KEYS: Final = sorted(QUOTE_KEYS - QUOTE_TEXTS)
_WRONG_VALUES: Final[tuple[object, ...]] = ("100.5", True, [], {}, "NaN")


def _non_finite() -> st.SearchStrategy[str]:
    series = st.builds(
        lambda field, literal: _with_literal(encode_frame(_SERIES), field, literal),
        st.sampled_from((*_PRICE_FIELDS, VOLUME, TIME)),
        st.sampled_from(_NON_FINITE),
    )
    quote = st.builds(
        lambda field, literal: _with_literal(_quote_with(**{field: 1.0}), field, literal),
        st.sampled_from(_QUOTE_NUMBER_KEYS),
        st.sampled_from(_NON_FINITE),
    )
    heartbeat = st.sampled_from(_NON_FINITE).map(
        lambda literal: _with_literal(encode_frame(_HEARTBEAT), SERVER_TIME, literal)
    )
    return st.one_of(series, quote, heartbeat)


def _bad_prices() -> st.SearchStrategy[str]:
    negative = st.floats(max_value=0.0, allow_nan=False, allow_infinity=False)
    # A negative or zero price; lowering every OHLC field keeps the bar otherwise consistent.
    series = negative.map(lambda p: _series_with(open=p, high=p, low=p, close=p))
    quote = st.builds(
        lambda field, p: _quote_with(**{field: p}),
        st.sampled_from(_QUOTE_PRICE_KEYS),
        negative,
    )
    negative_size = st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False)
    sizes = st.one_of(
        negative_size.map(lambda v: _series_with(volume=v)),
        negative_size.map(lambda v: _quote_with(bid_size=v)),
    )
    return st.one_of(series, quote, sizes)


def _inconsistent_ohlc() -> st.SearchStrategy[str]:
    positive = st.floats(0.01, 1e6)

    def bar(low: float, spread: float, which: str) -> str:
        high = low * (1 + spread)
        if which == "high_below_low":
            return _series_with(open=low, high=low, low=high, close=low)
        if which == "open_above_high":
            return _series_with(open=high * 2, high=high, low=low, close=low)
        if which == "close_below_low":
            return _series_with(open=low, high=high, low=low, close=low / 2)
        return _series_with(open=low, high=None, low=low, close=low)  # missing high

    return st.builds(
        bar,
        positive,
        st.floats(0.001, 1.0),
        st.sampled_from(("high_below_low", "open_above_high", "close_below_low", "partial")),
    )


def _wrong_types() -> st.SearchStrategy[str]:
    wrong = st.sampled_from(_WRONG_VALUES)
    point = st.builds(
        lambda field, value: _series_with(**{field: value}),
        st.sampled_from((TIME, CLOSE, OPEN, VOLUME)),
        wrong,
    )
    code = st.sampled_from(("nasdaq:aapl", "AAPL", 5, None, "A:B:C", "")).map(
        lambda c: _bent(_SERIES, code=c)
    )
    bar_type = st.sampled_from(("1x", "0m", "m1", 1, None, "1000000m")).map(
        lambda label: _bent(_SERIES, bar_type=label)
    )
    points = st.sampled_from((1, "bar", None, [1, 2])).map(lambda p: _bent(_SERIES, series=[p]))
    # Text is a valid status, so strings go to number fields only.
    quote_field = st.one_of(
        st.builds(
            lambda field, value: _quote_with(**{field: value}),
            st.sampled_from(sorted(QUOTE_KEYS)),
            st.sampled_from((True, [], {})),
        ),
        st.sampled_from(_QUOTE_NUMBER_KEYS).map(lambda field: _quote_with(**{field: "12.5"})),
    )
    entries = st.sampled_from((1, "x", None, [])).map(lambda e: _bent(_QUOTES, data=[e]))
    others = st.sampled_from(
        (
            _bent(_HEARTBEAT, server_time="now"),
            _bent(_HEARTBEAT, server_time=True),
            _bent(_EVENT, status=5),
            _bent(_EVENT, subscription_count=-1),
            _bent(_EVENT, subscription_count="2"),
            _bent(_QUOTES, total_items=-3),
            _quote_with(delay_seconds=2.5),
            _bent(_SERIES, last_update="x"),
        )
    )
    return st.one_of(point, code, bar_type, points, quote_field, entries, others)


def _bad_times() -> st.SearchStrategy[str]:
    seconds = st.one_of(st.floats(max_value=-1e-3, min_value=-1e12), st.floats(1e10, 1e300))
    # orjson writes 64-bit integers only.
    millis = st.one_of(st.integers(-(2**63), -1), st.integers(10**13, 2**63 - 1))
    return st.one_of(
        seconds.map(lambda s: _series_with(time=s)),
        seconds.map(lambda s: _quote_with(lp_time=s)),
        millis.map(lambda ms: _bent(_HEARTBEAT, server_time=ms)),
        millis.map(lambda ms: _bent(_QUOTES, last_update=ms)),
        seconds.map(lambda s: _bent(_SERIES, bar_end=s)),
    )


def _garbage() -> st.SearchStrategy[str]:
    # Truncating a JSON object before its closing brace always leaves invalid JSON.
    truncated = st.builds(
        lambda text, cut: text[: int(cut * (len(text) - 1))],
        st.sampled_from((_series_with(), _quote_with(bid=1.0), encode_frame(_HEARTBEAT))),
        st.floats(0, 1),
    )
    prefixed = st.text(max_size=200).map(lambda text: "}" + text)
    # Written by hand: no encoder writes a lone surrogate (it is not valid UTF-8).
    surrogate = st.text(max_size=20).map(lambda text: '{"message":"' + text + '\ud800"}')
    return st.one_of(truncated, prefixed, surrogate, st.sampled_from(("", " ", "ping\n{")))


def hostile_frames(
    *, max_bytes: int = DEFAULT_MAX_BYTES, binary: bool = True
) -> st.SearchStrategy[str | bytes]:
    """Messages a ``/live`` decoder must reject: every one makes
    :func:`~framework.adapters.insightsentry.decode_frame` (with the same ``max_bytes``) raise
    :class:`~framework.DecodeError`.

    Kinds: larger than ``max_bytes`` (in characters, or only in UTF-8 bytes); nested deeper
    than the protocol allows; NaN/Infinity literals and numbers that overflow a double;
    negative or zero prices and negative sizes; high below low and other inconsistent bars;
    fields of the wrong type (a price as a string, a lower-case code, a bad bar type);
    times out of range; text that is not JSON (truncated frames, lone surrogates); and, with
    ``binary``, binary messages.
    """
    if max_bytes < 64:
        raise ConfigError(f"max_bytes must be at least 64, got {max_bytes!r}")
    deep = st.builds(
        _deep,
        st.integers(MAX_DEPTH + 1, 3_000),
        st.sampled_from(("series", "object", "array")),
    )
    kinds: list[st.SearchStrategy[str | bytes]] = [
        _oversized(max_bytes),
        deep,
        _non_finite(),
        _bad_prices(),
        _inconsistent_ohlc(),
        _wrong_types(),
        _bad_times(),
        _garbage(),
    ]
    if binary:
        kinds.append(st.binary(max_size=64))
    return st.one_of(kinds)
