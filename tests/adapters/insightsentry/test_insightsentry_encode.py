"""The frame encoder: decode(encode(frame)) == frame for every kind, encode(decode(text)) is the
same frame again, and the bytes the server's form has (key order, number forms)."""

import attrs
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from framework import DecodeError
from framework.adapters.insightsentry import (
    ABSENT,
    ErrorFrame,
    EventFrame,
    HeartbeatFrame,
    PongFrame,
    QuoteFields,
    QuotesFrame,
    SeriesFrame,
    SeriesPoint,
    StatusFrame,
    UnknownFrame,
    decode_frame,
    encode_document,
    encode_frame,
)
from framework.testing import frames

S = 1_000_000_000
MS = 1_000_000
US = 1_000


def decode(text: str):
    return decode_frame(text, recv_ns=0)


# -- records the decoder can return, within what the wire keeps exactly ----------------------

codes = st.sampled_from(["NASDAQ:AAPL", "NASDAQ:TSLA", "BINANCE:BTCUSDT", "CME_MINI:ES1!"])
labels = st.sampled_from(["1s", "1m", "5m", "1h", "1D", "1W", "1M", "1T"])
#: Float seconds keep whole microseconds exactly below 2^31 s (2038): half a float's step there
#: plus the rounding of seconds * 10^6 stays under half a microsecond.
microsecond_times = st.integers(0, 2**31 * 10**6 - 1).map(lambda us: us * US)
millisecond_times = st.integers(0, 10**13 - 1).map(lambda ms: ms * MS)
second_times = st.integers(0, 10**10 - 1).map(lambda s: s * S)
prices = st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False)
sizes = st.floats(min_value=0.0, max_value=1e15, allow_nan=False, allow_infinity=False)
#: Texts the decoder keeps as they are: printable and short enough (log-safe).
printable = st.characters(codec="utf-8", exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl"))


def texts(max_size: int, *, min_size: int = 0) -> st.SearchStrategy[str]:
    return st.text(printable, min_size=min_size, max_size=max_size).filter(str.isprintable)


@st.composite
def bar_points(draw: st.DrawFn) -> SeriesPoint:
    ohlc = sorted(draw(st.lists(prices, min_size=4, max_size=4)))
    low, high = ohlc[0], ohlc[3]
    open_, close = draw(st.permutations([ohlc[1], ohlc[2]]))
    return SeriesPoint(
        time_ns=draw(microsecond_times),
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=draw(st.none() | sizes),
    )


tick_points = st.builds(
    SeriesPoint,
    time_ns=microsecond_times,
    open=st.none(),
    high=st.none(),
    low=st.none(),
    close=prices,
    volume=st.none() | sizes,
    trade_id=st.none() | texts(64),
)

series_frames = st.builds(
    SeriesFrame,
    code=codes,
    bar_label=labels,
    bar_end_ns=st.none() | microsecond_times,
    last_update_ns=st.none() | millisecond_times,
    points=st.lists(bar_points() | tick_points, max_size=6).map(tuple),
)


def quote_values(values: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """A quote field: unchanged (left out), explicitly no value (null), or a value."""
    return st.just(ABSENT) | st.none() | values


@st.composite
def quote_entries(draw: st.DrawFn, *, lp_times: st.SearchStrategy[int]) -> QuoteFields:
    return QuoteFields(
        code=draw(codes),
        status=draw(quote_values(st.sampled_from(["OPEN", "CLOSED", "PRE", "POST"]))),
        lp_time_ns=draw(quote_values(lp_times)),
        last_price=draw(quote_values(prices)),
        bid=draw(quote_values(prices)),
        ask=draw(quote_values(prices)),
        bid_size=draw(quote_values(sizes)),
        ask_size=draw(quote_values(sizes)),
        volume=draw(quote_values(sizes)),
        change=draw(quote_values(st.floats(-1e6, 1e6))),
        change_percent=draw(quote_values(st.floats(-100.0, 1e4))),
        prev_close_price=draw(quote_values(prices)),
        open_price=draw(quote_values(prices)),
        high_price=draw(quote_values(prices)),
        low_price=draw(quote_values(prices)),
        market_cap=draw(quote_values(sizes)),
        currency_code=draw(quote_values(texts(32))),
        delay_seconds=draw(quote_values(st.integers(-1, 10**7 - 1))),
    )


quote_envelopes = st.builds(
    QuotesFrame,
    legacy=st.just(False),
    last_update_ns=st.none() | millisecond_times,
    total_items=st.none() | st.integers(0, 10**6),
    entries=st.lists(quote_entries(lp_times=microsecond_times), max_size=4).map(tuple),
)
#: A flat quote is recognised by a quote field beside ``code``: here, always ``bid``.
flat_quotes = st.builds(
    QuotesFrame,
    legacy=st.just(True),
    last_update_ns=st.none(),
    total_items=st.none(),
    entries=st.tuples(
        st.builds(
            lambda entry, bid: attrs.evolve(entry, bid=bid),
            quote_entries(lp_times=second_times),
            st.none() | prices,
        )
    ),
)


heartbeats = st.builds(HeartbeatFrame, server_time_ns=millisecond_times)
events = st.builds(
    EventFrame,
    event=texts(64),
    status=st.none() | texts(64),
    subscription_count=st.none() | st.integers(0, 10**6),
)
statuses = st.builds(
    StatusFrame,
    text=st.builds(str.__add__, st.sampled_from(["Connecting", "Connected"]), texts(200)),
    is_info=st.just(True),
)
structured_errors = st.builds(
    ErrorFrame,
    style=st.just("structured"),
    error_code=texts(64),
    message=texts(200),
    symbol=st.none() | texts(200),
    action=st.none() | texts(200),
    retryable=st.none() | st.booleans(),
    delay_s=st.none() | st.floats(0, 1e9),
    reference_id=st.none() | texts(200),
)
legacy_errors = st.builds(
    ErrorFrame,
    style=st.just("legacy_message"),
    error_code=st.none(),
    message=texts(300, min_size=1).filter(lambda t: not t.startswith(("Connecting", "Connected"))),
)

records = st.one_of(
    series_frames,
    quote_envelopes,
    flat_quotes,
    heartbeats,
    events,
    statuses,
    structured_errors,
    legacy_errors,
    st.just(PongFrame()),
)


# -- properties --------------------------------------------------------------------------------


@given(records)
def test_decoding_an_encoded_frame_gives_the_frame_back(frame):
    assert decode(encode_frame(frame)) == frame


@given(records)
def test_encoding_a_decoded_frame_gives_the_same_text(frame):
    text = encode_frame(frame)
    assert encode_frame(decode(text)) == text


@given(frames(symbols=["NASDAQ:AAPL", "NASDAQ:TSLA"]))
def test_every_valid_frame_decodes_to_a_frame_that_encodes_to_the_same_frame(text):
    frame = decode(text)
    assert decode(encode_frame(frame)) == frame


@pytest.mark.parametrize(
    "text",
    [
        # The protocol document's examples, spaced and formatted as the vendor prints them.
        '{"code": "NASDAQ:AAPL", "bar_type": "1m", "bar_end": 1767797159.0, '
        '"last_update": 1767797142517, "series": [{"time": 1767797100.0, "open": 261.10, '
        '"high": 261.42, "low": 261.05, "close": 261.37, "volume": 18234.0}]}',
        '{"code": "BINANCE:BTCUSDT", "bar_type": "1T", "last_update": 1767797141240, '
        '"series": [{"time": 1767797141.237, "close": 93850.5, "volume": 0.012}]}',
        '{"last_update": 1767797142517, "total_items": 2, "data": [{"code": "NASDAQ:TSLA", '
        '"bid": 402.11, "ask": null}]}',
        '{"code": "NASDAQ:AAPL", "lp_time": 1733432340, "last_price": 243.5}',
        '{"error": "server_busy", "message": "retry later", "action": "reconnect", '
        '"retryable": true, "delay_seconds": 5, "retry_after_seconds": 7.5}',
        '{"error": "invalid_symbol", "symbol": "NASDAQ:NOPE"}',
        '{"message": "Connecting...", "server": "srv-1"}',
        '{"message": "Invalid Symbol Code"}',
        '{"event": "subscription_status", "status": "active", "subscription_count": 3}',
        '{"server_time": 1767797150000}',
        " pong\n",
    ],
)
def test_the_vendors_own_texts_re_encode_to_the_same_frame(text):
    frame = decode(text)
    assert decode(encode_frame(frame)) == frame


# -- the server's form -------------------------------------------------------------------------


def test_a_series_frame_has_the_servers_key_order_and_number_forms():
    frame = SeriesFrame(
        code="NASDAQ:AAPL",
        bar_label="1m",
        bar_end_ns=1767797159 * S,
        last_update_ns=1767797142517 * MS + 999_999,
        points=(
            SeriesPoint(
                time_ns=1767797100 * S, open=261.1, high=261.42, low=261.05, close=261.37, volume=5
            ),
            SeriesPoint(
                time_ns=1767797141237 * MS,
                open=None,
                high=None,
                low=None,
                close=93850.5,
                volume=None,
                trade_id="77",
            ),
        ),
    )
    assert encode_frame(frame) == (
        '{"code":"NASDAQ:AAPL","bar_type":"1m","bar_end":1767797159.0,'
        '"last_update":1767797142517,"series":['
        '{"time":1767797100.0,"open":261.1,"high":261.42,"low":261.05,"close":261.37,'
        '"volume":5},'
        '{"time":1767797141.237,"close":93850.5,"trade_id":"77"}]}'
    )


def test_quote_entries_leave_out_absent_fields_and_send_null_for_none():
    envelope = QuotesFrame(
        legacy=False,
        last_update_ns=1767797142517 * MS,
        total_items=1,
        entries=(QuoteFields(code="NASDAQ:TSLA", lp_time_ns=1767797141 * S, bid=402.11, ask=None),),
    )
    assert encode_frame(envelope) == (
        '{"last_update":1767797142517,"total_items":1,"data":'
        '[{"code":"NASDAQ:TSLA","lp_time":1767797141.0,"bid":402.11,"ask":null}]}'
    )


def test_a_flat_quote_carries_whole_seconds_and_no_envelope():
    flat = QuotesFrame(
        legacy=True,
        last_update_ns=None,
        total_items=None,
        entries=(QuoteFields(code="NASDAQ:AAPL", lp_time_ns=1733432340 * S + 900 * MS, bid=1.0),),
    )
    assert encode_frame(flat) == '{"code":"NASDAQ:AAPL","lp_time":1733432340,"bid":1.0}'


def test_control_frames_and_errors():
    assert encode_frame(PongFrame()) == "pong"
    assert encode_frame(HeartbeatFrame(server_time_ns=1767797150000 * MS + 1)) == (
        '{"server_time":1767797150000}'
    )
    assert encode_frame(StatusFrame(text="Connected to W:SIM", is_info=True)) == (
        '{"message":"Connected to W:SIM"}'
    )
    assert encode_frame(
        EventFrame(event="connection_status", status=None, subscription_count=None)
    ) == ('{"event":"connection_status"}')
    structured = ErrorFrame(
        style="structured",
        error_code="invalid_symbol",
        message="Unknown symbol",
        symbol="NASDAQ:NOPE",
        retryable=False,
    )
    assert encode_frame(structured) == (
        '{"error":"invalid_symbol","message":"Unknown symbol","code":"NASDAQ:NOPE",'
        '"retryable":false}'
    )
    legacy = ErrorFrame(style="legacy_message", error_code=None, message="Invalid Symbol Code")
    assert encode_frame(legacy) == '{"message":"Invalid Symbol Code"}'


def test_encode_document_is_a_fresh_object_to_bend_into_a_hostile_frame():
    frame = SeriesFrame(
        code="NASDAQ:AAPL",
        bar_label="1m",
        bar_end_ns=None,
        last_update_ns=None,
        points=(SeriesPoint(time_ns=60 * S, open=1.0, high=1.0, low=1.0, close=1.0, volume=1.0),),
    )
    document = encode_document(frame)
    document["series"][0]["close"] = "1.0"
    assert encode_document(frame)["series"][0]["close"] == 1.0
    with pytest.raises(DecodeError) as info:
        decode(orjson.dumps(document).decode())
    assert info.value.reason == "bad_field"


@pytest.mark.parametrize(
    "frame",
    [
        PongFrame(),
        UnknownFrame(shape="object with keys x"),
        ErrorFrame(style="structured", error_code=None, message="no code"),
        QuotesFrame(legacy=True, last_update_ns=None, total_items=None, entries=()),
    ],
)
def test_what_has_no_json_object_is_refused(frame):
    with pytest.raises(ValueError):
        encode_document(frame)


def test_an_unknown_frame_has_no_wire_form():
    with pytest.raises(ValueError, match="UnknownFrame"):
        encode_frame(UnknownFrame(shape="x"))
