"""The frame codec: classification per protocol 3.1, payloads, and hostile input."""

import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework import DecodeError
from framework.adapters.insightsentry import (
    ABSENT,
    ErrorFrame,
    EventFrame,
    FrameKind,
    HeartbeatFrame,
    PongFrame,
    QuoteFields,
    QuotesFrame,
    SeriesFrame,
    SeriesPoint,
    StatusFrame,
    UnknownFrame,
    classify_frame,
    decode_frame,
    encode_document,
    encode_frame,
    log_safe,
    symbols_of_frame,
)

S = 1_000_000_000
MS = 1_000_000
RECV = 1_767_797_150 * S


def decode(text: str | bytes, **kwargs: int):
    return decode_frame(text, recv_ns=RECV, **kwargs)


def reason_of(text: str | bytes, **kwargs: int) -> str:
    with pytest.raises(DecodeError) as info:
        decode(text, **kwargs)
    return info.value.reason


VALID_POINT = SeriesPoint(
    time_ns=1767797100 * S, open=261.10, high=261.42, low=261.05, close=261.37, volume=18234.0
)


def series_text(*points: dict, code: str = "NASDAQ:AAPL", label: str = "1m", **extra) -> str:
    """An encoded series frame, its points replaced by ``points`` (wire objects, odd or not)
    and any other ``extra`` keys put in."""
    frame = SeriesFrame(code=code, bar_label=label, bar_end_ns=None, last_update_ns=None, points=())
    return orjson.dumps({**encode_document(frame), **extra, "series": list(points)}).decode()


def point(time: float = 1767797100.0, **values) -> dict:
    """The encoded :data:`VALID_POINT` at ``time`` (seconds), with ``values`` put in."""
    frame = SeriesFrame(
        code="NASDAQ:AAPL",
        bar_label="1m",
        bar_end_ns=None,
        last_update_ns=None,
        points=(VALID_POINT,),
    )
    return {**encode_document(frame)["series"][0], "time": time, **values}


def quotes_text(*entries: QuoteFields, last_update_ns: int | None = None) -> str:
    frame = QuotesFrame(
        legacy=False, last_update_ns=last_update_ns, total_items=None, entries=entries
    )
    return encode_frame(frame)


# -- the protocol document's examples --------------------------------------------------------

SERIES_DOC = (
    '{"code": "NASDAQ:AAPL", "bar_type": "1m", "bar_end": 1767797159.0, '
    '"last_update": 1767797142517, "series": [{"time": 1767797100.0, "open": 261.10, '
    '"high": 261.42, "low": 261.05, "close": 261.37, "volume": 18234.0}]}'
)
TICK_DOC = (
    '{"code": "BINANCE:BTCUSDT", "bar_type": "1T", "last_update": 1767797141240, '
    '"series": [{"time": 1767797141.237, "close": 93850.5, "volume": 0.012}]}'
)
QUOTES_DOC = (
    '{"last_update": 1767797142517, "total_items": 2, "data": [{"code": "NASDAQ:AAPL", '
    '"status": "OPEN", "lp_time": 1767797141.0, "last_price": 261.37, "bid": 261.36, '
    '"ask": 261.38, "bid_size": 3.0, "ask_size": 5.0, "volume": 31829455.0, "change": 1.22, '
    '"change_percent": 0.47, "prev_close_price": 260.15, "open_price": 260.40, '
    '"high_price": 261.90, "low_price": 259.80, "market_cap": 3870000000000.0, '
    '"currency_code": "USD", "delay_seconds": 0}, '
    '{"code": "NASDAQ:TSLA", "bid": 402.11, "ask": 402.19}]}'
)
LEGACY_QUOTE_DOC = (
    '{"code": "NASDAQ:AAPL", "lp_time": 1733432340, "last_price": 243.5, '
    '"bid": 243.4, "ask": 243.6}'
)


# The protocol document's texts and odd shapes stay raw text: they check the decoder against
# what the vendor sends, not against our own encoder (test_insightsentry_encode does that).
@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("pong", FrameKind.PONG),
        (" pong\n", FrameKind.PONG),
        ('{"message":"Connecting..."}', FrameKind.STATUS),
        ('{"message":"Connected to W:ASIA-SOUTHEAST"}', FrameKind.STATUS),
        ('{"message":"Connecting...","server":"srv-1"}', FrameKind.STATUS),
        ('{"message":"Invalid Symbol Code"}', FrameKind.ERROR),
        (
            '{"event":"subscription_status","status":"active","subscription_count":3}',
            FrameKind.EVENT,
        ),
        ('{"event":"connection_status"}', FrameKind.EVENT),
        (SERIES_DOC, FrameKind.SERIES),
        (TICK_DOC, FrameKind.SERIES),
        (QUOTES_DOC, FrameKind.QUOTES),
        (LEGACY_QUOTE_DOC, FrameKind.LEGACY_QUOTE),
        ('{"server_time": 1767797150000}', FrameKind.HEARTBEAT),
        (
            '{"error": "invalid_symbol", "message": "Unknown symbol", "code": "NASDAQ:NOPE"}',
            FrameKind.ERROR,
        ),
        (
            '{"error": "server_busy", "message": "retry later", "action": "reconnect", '
            '"retryable": true, "delay_seconds": 5, "reference_id": "r-123"}',
            FrameKind.ERROR,
        ),
        ('{"title": "Example", "published_at": 1767797000}', FrameKind.UNKNOWN),
        ('{"_ct": 5}', FrameKind.UNKNOWN),
        ('{"server_time": 1767797150000, "extra": 1}', FrameKind.UNKNOWN),
        ("[1, 2]", FrameKind.UNKNOWN),
        ('"pong"', FrameKind.UNKNOWN),
        ("{}", FrameKind.UNKNOWN),
    ],
)
def test_frames_are_classified_by_shape(text, kind):
    assert decode(text).kind is kind
    assert classify_frame(text) == kind.name


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ('{"error":"x","event":"e","series":[],"message":"m"}', FrameKind.ERROR),
        ('{"event":"e","series":[]}', FrameKind.EVENT),
        ('{"code":"A:B","bar_type":"1m","series":[],"data":[]}', FrameKind.SERIES),
        ('{"data":[],"code":"A:B","bid":1.0}', FrameKind.QUOTES),
        ('{"code":"A:B","bid":1.0,"message":"Connecting"}', FrameKind.LEGACY_QUOTE),
        ('{"error":5,"message":"Connected"}', FrameKind.STATUS),
        ('{"code":"A:B","message":"hello"}', FrameKind.ERROR),
    ],
)
def test_classification_follows_the_protocol_order(text, kind):
    assert decode(text).kind is kind


def test_classify_frame_reports_invalid_frames():
    assert classify_frame("not json") == "INVALID"
    assert classify_frame(b"{}") == "INVALID"


def test_pong_frame():
    assert decode("pong") == PongFrame()


def test_series_payload():
    frame = decode(SERIES_DOC)
    assert frame == SeriesFrame(
        code="NASDAQ:AAPL",
        bar_label="1m",
        bar_end_ns=1767797159 * S,
        last_update_ns=1767797142517 * MS,
        points=(
            SeriesPoint(
                time_ns=1767797100 * S,
                open=261.10,
                high=261.42,
                low=261.05,
                close=261.37,
                volume=18234.0,
            ),
        ),
    )


def test_tick_payload_has_no_open_high_low():
    frame = decode(TICK_DOC)
    assert isinstance(frame, SeriesFrame)
    assert frame.bar_end_ns is None
    assert frame.points == (
        SeriesPoint(
            time_ns=1767797141237000000, open=None, high=None, low=None, close=93850.5, volume=0.012
        ),
    )


def test_tick_trade_id_is_kept_as_text():
    frame = decode(
        series_text({"time": 1.5e9, "close": 1.0, "trade_id": 77}, label="1T", code="SIP:AAPL")
    )
    assert isinstance(frame, SeriesFrame)
    assert frame.points[0].trade_id == "77"


def test_2024_integer_times_and_volume_are_accepted():
    frame = decode(series_text(point(time=1733432340, volume=100), bar_end=1733432399))
    assert isinstance(frame, SeriesFrame)
    assert frame.points[0].time_ns == 1733432340 * S
    assert frame.points[0].volume == 100.0
    assert frame.bar_end_ns == 1733432399 * S


def test_missing_volume_is_none():
    no_volume = SeriesPoint(
        time_ns=VALID_POINT.time_ns, open=1.0, high=1.0, low=1.0, close=1.0, volume=None
    )
    text = encode_frame(
        SeriesFrame(
            code="A:B", bar_label="1m", bar_end_ns=None, last_update_ns=None, points=(no_volume,)
        )
    )
    assert '"volume"' not in text
    frame = decode(text)
    assert isinstance(frame, SeriesFrame)
    assert frame.points[0].volume is None


def test_quotes_payload_keeps_absent_and_null_apart():
    tsla = QuoteFields(code="NASDAQ:TSLA", bid=402.11, ask=None)
    frame = decode(quotes_text(tsla, last_update_ns=1767797142517 * MS))
    assert isinstance(frame, QuotesFrame)
    assert frame.kind is FrameKind.QUOTES
    assert frame.last_update_ns == 1767797142517 * MS
    entry = frame.entries[0]
    assert (entry.code, entry.bid, entry.ask, entry.last_price) == (
        "NASDAQ:TSLA",
        402.11,
        None,
        ABSENT,
    )


def test_full_quote_entry_fields():
    frame = decode(QUOTES_DOC)
    assert isinstance(frame, QuotesFrame)
    aapl = frame.entries[0]
    assert aapl.lp_time_ns == 1767797141 * S
    assert (aapl.status, aapl.currency_code, aapl.delay_seconds) == ("OPEN", "USD", 0)
    assert (aapl.bid, aapl.ask, aapl.bid_size, aapl.ask_size) == (261.36, 261.38, 3.0, 5.0)
    assert aapl.change == 1.22 and aapl.market_cap == 3870000000000.0


def test_change_may_be_negative_and_delay_may_be_minus_one():
    frame = decode(
        quotes_text(QuoteFields(code="A:B", change=-1.5, change_percent=-0.3, delay_seconds=-1))
    )
    assert isinstance(frame, QuotesFrame)
    assert frame.entries[0].change == -1.5
    assert frame.entries[0].delay_seconds == -1


def test_legacy_flat_quote():
    frame = decode(LEGACY_QUOTE_DOC)
    assert isinstance(frame, QuotesFrame)
    assert frame.legacy and frame.last_update_ns is None
    assert frame.entries[0].lp_time_ns == 1733432340 * S


def test_heartbeat_payload():
    assert decode('{"server_time": 1767797150000}') == HeartbeatFrame(
        server_time_ns=1767797150000 * MS
    )


def test_event_payload():
    assert decode('{"event":"subscription_status","status":"active","subscription_count":3}') == (
        EventFrame(event="subscription_status", status="active", subscription_count=3)
    )


def test_status_payload():
    assert decode('{"message":"Connected to W:ASIA-SOUTHEAST"}') == StatusFrame(
        text="Connected to W:ASIA-SOUTHEAST", is_info=True
    )


def test_legacy_error_text_is_an_error_frame():
    assert decode('{"message":"Invalid Symbol Code"}') == ErrorFrame(
        style="legacy_message", error_code=None, message="Invalid Symbol Code"
    )


def test_structured_error_payload():
    frame = decode(
        '{"error": "server_busy", "message": "retry later", "action": "reconnect", '
        '"retryable": true, "delay_seconds": 5, "retry_after_seconds": 7.5, '
        '"reference_id": "r-123"}'
    )
    assert frame == ErrorFrame(
        style="structured",
        error_code="server_busy",
        message="retry later",
        action="reconnect",
        retryable=True,
        delay_s=7.5,
        reference_id="r-123",
    )


@pytest.mark.parametrize("field", ["symbol", "code"])
def test_error_symbol_comes_from_symbol_or_code(field):
    frame = decode(f'{{"error":"invalid_symbol","{field}":"NASDAQ:NOPE"}}')
    assert isinstance(frame, ErrorFrame)
    assert frame.symbol == "NASDAQ:NOPE"
    assert frame.message == ""


def test_error_fields_of_the_wrong_type_are_dropped_not_fatal():
    frame = decode(
        '{"error":"server_busy","message":5,"retryable":"yes","delay_seconds":-3,'
        '"retry_after_seconds":"9","action":[1],"details":{"a":[1,2]}}'
    )
    assert frame == ErrorFrame(style="structured", error_code="server_busy", message="")


def test_symbols_of_frame():
    assert symbols_of_frame(SERIES_DOC) == ["NASDAQ:AAPL"]
    assert symbols_of_frame(QUOTES_DOC) == ["NASDAQ:AAPL", "NASDAQ:TSLA"]
    assert symbols_of_frame('{"error":"invalid_symbol","symbol":"NASDAQ:NOPE"}') == ["NASDAQ:NOPE"]
    assert symbols_of_frame(series_text(point(close=-1.0))) == ["NASDAQ:AAPL"]
    assert symbols_of_frame('{"code":"A:B\\n[x] forged"}') == ["A:B\\n[x] forged"]
    assert symbols_of_frame("pong") == []
    assert symbols_of_frame("[1]") == []


# -- partially bad frames ----------------------------------------------------------------------


def test_bad_points_are_listed_and_good_points_kept():
    frame = decode(series_text(point(1.0e9), point(1.0e9 + 60, close=-5.0), point(1.0e9 + 120)))
    assert isinstance(frame, SeriesFrame)
    assert [p.time_ns for p in frame.points] == [1_000_000_000 * S, 1_000_000_120 * S]
    assert [(r.reason, r.detail[:3]) for r in frame.rejected] == [("negative_price", "[1]")]


def test_frame_with_only_bad_points_raises_the_first_reason():
    with pytest.raises(DecodeError) as info:
        decode(series_text(point(high=1.0, low=2.0), point(close=-1.0)))
    assert info.value.reason == "inconsistent_ohlc"
    assert "and 1 more" in info.value.detail


def test_bad_quote_entries_are_listed_and_good_entries_kept():
    frame = decode(quotes_text(QuoteFields(code="A:B", bid=-1.0), QuoteFields(code="A:C", bid=1.0)))
    assert isinstance(frame, QuotesFrame)
    assert [e.code for e in frame.entries] == ["A:C"]
    assert frame.rejected[0].reason == "negative_price"


def test_empty_series_is_a_frame_without_points():
    frame = decode(series_text())
    assert isinstance(frame, SeriesFrame)
    assert frame.points == () and frame.rejected == ()


# -- hostile input -----------------------------------------------------------------------------


def test_binary_frames_are_refused():
    assert reason_of(b'{"server_time": 1}') == "binary_frame"
    assert reason_of(bytearray(b"pong")) == "binary_frame"


def legacy_error(text: str) -> str:
    return encode_frame(ErrorFrame(style="legacy_message", error_code=None, message=text))


def test_size_limit_counts_utf8_bytes_not_characters():
    body = legacy_error("é" * 600)  # 614 characters, 1214 bytes
    assert len(body) < 1000 < len(body.encode())
    assert reason_of(body, max_bytes=1000) == "oversized"
    assert decode(body, max_bytes=1214).kind is FrameKind.ERROR
    assert reason_of(body, max_bytes=1213) == "oversized"
    emoji = legacy_error("\U0001f600" * 100)  # 4 bytes each
    assert reason_of(emoji, max_bytes=len(emoji.encode()) - 1) == "oversized"
    assert reason_of("x" * 2000, max_bytes=1000) == "oversized"


def test_default_size_limit_is_one_mebibyte():
    big = series_text(point(), pad="x" * (1 << 20))
    assert reason_of(big) == "oversized"


@pytest.mark.parametrize("depth", [20, 1100, 2000])
def test_deep_nesting_is_refused(depth):
    assert reason_of("[" * depth + "]" * depth) == "too_deep"
    nested = '{"code":"A:B","bar_type":"1m","series":[],"x":' + "[" * depth + "]" * depth + "}"
    assert reason_of(nested) == "too_deep"


def test_nesting_the_protocol_needs_is_fine():
    frame = decode(
        series_text({"time": 1.5e9, "close": 1.0, "trade_conditions": [["@", "T"]]}, label="1T")
    )
    assert frame.kind is FrameKind.SERIES


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "-NaN"])
def test_non_finite_numbers_are_refused(value):
    text = '{"code":"A:B","bar_type":"1m","series":[{"time":1.5e9,"close":' + value + "}]}"
    assert reason_of(text) == "non_finite"
    assert reason_of('{"server_time":' + value + "}") == "non_finite"


@pytest.mark.parametrize("field", ["open", "high", "low", "close"])
@pytest.mark.parametrize("value", [-1.0, 0.0, 0])
def test_non_positive_prices_are_refused(field, value):
    raw = point()
    raw.update(open=1.0, high=1.0, low=1.0, close=1.0)
    raw[field] = value
    assert reason_of(series_text(raw)) == "negative_price"


@pytest.mark.parametrize(
    "values",
    [
        {"high": 1.0, "low": 2.0, "open": 1.5, "close": 1.5},
        {"high": 2.0, "low": 1.0, "open": 2.5, "close": 1.5},
        {"high": 2.0, "low": 1.0, "open": 1.5, "close": 0.5},
    ],
)
def test_inconsistent_ohlc_is_refused(values):
    assert reason_of(series_text(point(**values))) == "inconsistent_ohlc"


@pytest.mark.parametrize(
    "text",
    [
        series_text(point(close="261.37")),
        series_text(point(time="1767797100")),
        series_text(point(close=True)),
        series_text(point(volume=-1.0)),
        series_text(point(open=None)),
        series_text(point(), code="nasdaq:aapl"),
        series_text(point(), code="A:B\n"),
        series_text(point(), label="1x"),
        series_text(point(), label="0m"),
        series_text(point(), label=5),
        series_text(point(), bar_end="soon"),
        series_text(5),
        '{"code":5,"bar_type":"1m","series":[]}',
        '{"server_time": "1767797150000"}',
        '{"server_time": null}',
        '{"event":"subscription_status","subscription_count":"3"}',
        '{"event":"subscription_status","status":7}',
        '{"data":[],"total_items":"2"}',
        '{"data":[{"code":"A:B","status":5}]}',
        '{"data":[{"code":"A:B","delay_seconds":1.5}]}',
        '{"data":[{"bid":1.0}]}',
        '{"data":[[1]]}',
        '{"code":"A:B","bid":"1.0"}',
    ],
)
def test_wrong_types_are_bad_fields(text):
    assert reason_of(text) == "bad_field"


@pytest.mark.parametrize(
    "text",
    [
        series_text(point(time=-60.0)),
        series_text(point(time=1e12)),
        series_text(point(), last_update=-1),
        series_text(point(), bar_end=1e11),
        encode_frame(HeartbeatFrame(server_time_ns=-5 * MS)),
        encode_frame(HeartbeatFrame(server_time_ns=10**16 * MS)),
        '{"server_time": 1e16}',
        quotes_text(QuoteFields(code="A:B", lp_time_ns=-S)),
    ],
)
def test_times_out_of_range_are_bad_time(text):
    assert reason_of(text) == "bad_time"


def test_clock_skew_check_is_opt_in():
    text = series_text(point(time=RECV / S + 3600))
    assert decode(text).kind is FrameKind.SERIES
    assert reason_of(text, max_clock_skew_ns=60 * S) == "bad_time"
    assert decode(text, max_clock_skew_ns=7200 * S).kind is FrameKind.SERIES


@pytest.mark.parametrize("text", ['"\ud800"', '{"message":"\ud800"}', '{"message":"\\ud800"}'])
def test_lone_surrogates_are_not_json(text):
    assert reason_of(text) == "not_json"
    assert reason_of(text, max_bytes=10) in ("not_json", "oversized")


@pytest.mark.parametrize("text", ["", " ", "ping", "{", '{"a":1}{"b":2}', "\x00", "{'a': 1}"])
def test_not_json(text):
    assert reason_of(text) == "not_json"


def test_details_are_log_safe():
    with pytest.raises(DecodeError) as info:
        decode(series_text(point(), code="A:B\nWARNING forged line" + "x" * 1000))
    assert "\n" not in info.value.detail
    assert "\\n" in info.value.detail
    assert len(info.value.detail) <= 200


def test_free_text_in_frames_is_log_safe():
    forged = StatusFrame(text="Connected\r\nINFO forged" + "y" * 1000, is_info=True)
    frame = decode(encode_frame(forged))
    assert isinstance(frame, StatusFrame)
    assert "\n" not in frame.text and "\r" not in frame.text
    assert len(frame.text) <= 300


def test_log_safe_keeps_plain_text_and_escapes_controls():
    assert log_safe("NASDAQ:AAPL") == "NASDAQ:AAPL"
    assert log_safe("a\x1b[31mb") == "a\\x1b[31mb"
    assert log_safe("z" * 500).endswith("...")
    assert len(log_safe("z" * 500)) == 200


def test_unknown_frames_describe_their_shape_safely():
    frame = decode('{"weird\\nkey": 1}')
    assert isinstance(frame, UnknownFrame)
    assert "\n" not in frame.shape


# -- never anything but a frame or DecodeError -------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
wire_keys = st.sampled_from(
    [
        "code",
        "bar_type",
        "bar_end",
        "last_update",
        "series",
        "data",
        "total_items",
        "error",
        "message",
        "event",
        "status",
        "subscription_count",
        "server_time",
        "time",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "bid",
        "ask",
        "lp_time",
        "delay_seconds",
        "retryable",
        "delay_seconds",
        "retry_after_seconds",
        "action",
        "symbol",
        "trade_id",
        "status",
    ]
)
wire_values = st.one_of(
    json_values,
    st.sampled_from(["A:B", "NASDAQ:AAPL", "1m", "1T", "0m", "Connecting", "invalid_symbol"]),
    st.floats(min_value=0, max_value=2e10),
)
wire_objects = st.recursive(
    st.dictionaries(wire_keys, wire_values, max_size=8),
    lambda children: st.dictionaries(
        wire_keys, st.one_of(wire_values, st.lists(children, max_size=3), children), max_size=8
    ),
    max_leaves=12,
)


def decodes_or_rejects(text: str) -> None:
    try:
        frame = decode_frame(text, recv_ns=RECV, max_bytes=4096)
    except DecodeError as exc:
        assert exc.reason in {
            "oversized",
            "not_json",
            "too_deep",
            "non_finite",
            "bad_field",
            "negative_price",
            "inconsistent_ohlc",
            "bad_time",
        }
        assert "\n" not in exc.detail and len(exc.detail) <= 200
    else:
        assert frame.kind is not FrameKind.INVALID


@given(st.text(st.characters(codec=None)))
def test_arbitrary_text_decodes_or_raises_decode_error(text):
    decodes_or_rejects(text)


@given(json_values)
def test_arbitrary_json_decodes_or_raises_decode_error(value):
    decodes_or_rejects(json.dumps(value))


@settings(max_examples=300)
@given(wire_objects)
def test_wire_shaped_objects_decode_or_raise_decode_error(value):
    decodes_or_rejects(json.dumps(value))


@given(st.binary())
def test_arbitrary_bytes_are_binary_frames(data):
    with pytest.raises(DecodeError) as info:
        decode_frame(data, recv_ns=RECV)
    assert info.value.reason == "binary_frame"
