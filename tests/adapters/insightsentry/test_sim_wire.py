"""The simulated server's frame texts, to the byte: they come from the adapter's encoder, and
writing them through it changed nothing on the wire (key order, float and integer forms).

The two frames written without a frame record (a series frame, a quote envelope) are checked
against the encoder's text of the record for any values.
"""

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from framework import Interval
from framework.adapters.insightsentry import (
    ABSENT,
    QuoteFields,
    QuotesFrame,
    SeriesFrame,
    encode_frame,
)
from framework.adapters.insightsentry.sim import Hostile
from framework.adapters.insightsentry.sim._wire import (
    bar_point,
    error_text,
    hostile_frame,
    quote_entry,
    quote_envelope,
    quote_fields,
    quote_values,
    series_frame,
    tick_frame,
)
from framework.testing import SyntheticBar, SyntheticQuote, SyntheticTrade

S = 1_000_000_000


def test_series_frame_text():
    bar = SyntheticBar(
        ts_open=1_767_571_200 * S,
        open=67.74,
        high=67.83,
        low=67.63,
        close=67.72,
        volume=678.0,
        ts_update=1_767_571_230_123_456_789,
    )
    assert series_frame("NASDAQ:AAPL", Interval.parse("1m"), [bar]) == (
        '{"code":"NASDAQ:AAPL","bar_type":"1m","bar_end":1767571259.0,"last_update":1767571230123,'
        '"series":[{"time":1767571200.0,"open":67.74,"high":67.83,"low":67.63,"close":67.72,'
        '"volume":678.0}]}'
    )


def test_tick_frame_text():
    trade = SyntheticTrade(
        code="BINANCE:BTCUSDT",
        seq=1,
        ts=1_767_571_201_234_000_000,
        price=93850.5,
        size=0.012,
        bid=93850.0,
        ask=93851.0,
        bid_size=1.0,
        ask_size=2.0,
    )
    assert tick_frame("BINANCE:BTCUSDT", [trade]) == (
        '{"code":"BINANCE:BTCUSDT","bar_type":"1T","last_update":1767571201234,'
        '"series":[{"time":1767571201.234,"close":93850.5,"volume":0.012}]}'
    )


def test_error_texts_in_both_styles():
    assert error_text("structured", "server_busy") == (
        '{"error":"server_busy","message":"Server is busy, please retry later",'
        '"action":"reconnect","retryable":true,"delay_seconds":5.0}'
    )
    assert error_text("structured", "invalid_symbol", message="Unknown symbol", symbol="A:B") == (
        '{"error":"invalid_symbol","message":"Unknown symbol","code":"A:B","retryable":false}'
    )
    assert error_text("legacy", "invalid_symbol", legacy_message="Invalid Symbol Code") == (
        '{"message":"Invalid Symbol Code"}'
    )


@pytest.mark.parametrize(
    ("kind", "bent"),
    [
        (Hostile.NAN, '"close":NaN'),
        (Hostile.HUGE_NUMBER, '"close":1e400'),
        (Hostile.NEGATIVE_PRICE, '"close":-100.5'),
        (Hostile.HIGH_BELOW_LOW, '"high":98.0'),
    ],
)
def test_hostile_frames_are_a_valid_frame_with_one_value_bent(kind, bent):
    point = '"time":1767797100.0,"open":100.0,"high":101.0,"low":99.0,"close":100.5,"volume":10.0'
    valid = (
        '{"code":"SIM:X","bar_type":"1m","last_update":1767797142517,"series":[{' + point + "}]}"
    )
    field = bent.split(":")[0]
    original = next(part for part in point.split(",") if part.startswith(field + ":"))
    assert hostile_frame(kind, "SIM:X") == valid.replace(original, bent)


def test_the_depth_bomb_nests_the_series_list():
    text = hostile_frame(Hostile.DEEP_NESTING, "SIM:X")
    head = '{"code":"SIM:X","bar_type":"1m","last_update":1767797142517,"series":'
    assert text == head + "[" * 10_000 + "]" * 10_000 + "}"


prices = st.floats(min_value=0.01, max_value=1e7, allow_nan=False)
sizes = st.floats(min_value=0.0, max_value=1e9, allow_nan=False)
times = st.integers(min_value=0, max_value=2**31 * S)


@st.composite
def synthetic_bars(draw: st.DrawFn) -> SyntheticBar:
    return SyntheticBar(
        ts_open=draw(times),
        open=draw(prices),
        high=draw(prices),
        low=draw(prices),
        close=draw(prices),
        volume=draw(sizes),
        ts_update=draw(times),
    )


@given(
    bars=st.lists(synthetic_bars(), min_size=1, max_size=4),
    interval=st.sampled_from(["1s", "1m", "5m", "1h", "1D", "1W"]),
)
def test_series_frame_is_the_encoders_text_of_the_record(bars, interval):
    parsed = Interval.parse(interval)
    newest = bars[-1]
    record = SeriesFrame(
        code="NYSE:X",
        bar_label=parsed.label,
        bar_end_ns=newest.ts_open + parsed.nanos - S,
        last_update_ns=newest.ts_update,
        points=tuple(bar_point(bar) for bar in bars),
    )
    assert series_frame("NYSE:X", parsed, bars) == encode_frame(record)


@st.composite
def synthetic_quotes(draw: st.DrawFn) -> SyntheticQuote:
    return SyntheticQuote(
        code="NYSE:X",
        status=draw(st.sampled_from(["OPEN", "CLOSED"])),
        ts_update=draw(times),
        last_price=draw(prices),
        bid=draw(prices),
        ask=draw(prices),
        bid_size=draw(sizes),
        ask_size=draw(sizes),
        volume=draw(sizes),
        open_price=draw(prices),
        high_price=draw(prices),
        low_price=draw(prices),
        prev_close_price=draw(prices),
    )


def _record_entry(last: QuoteFields | None, full: QuoteFields) -> QuoteFields:
    """What a sparse entry was before it was written directly: the changed fields, the
    others absent."""
    if last is None:
        return full
    changed = {
        field.name: ABSENT
        for field in attrs.fields(QuoteFields)
        if field.name != "code" and getattr(last, field.name) == getattr(full, field.name)
    }
    return attrs.evolve(full, **changed)


@given(
    pairs=st.lists(st.tuples(synthetic_quotes(), synthetic_quotes() | st.none()), min_size=1),
    same_values=st.booleans(),
)
def test_quote_envelope_is_the_encoders_text_of_the_record(pairs, same_values):
    entries = []
    records = []
    for full, last in pairs:
        if last is not None and same_values:
            # Many fields equal, a few not: the sparse case the server sends most.
            last = attrs.evolve(full, last_price=last.last_price, volume=last.volume)
        last_values = None if last is None else quote_values(last)
        entries.append(quote_entry(full.code, quote_values(full), last_values))
        records.append(
            _record_entry(None if last is None else quote_fields(last), quote_fields(full))
        )
    newest = max(full.ts_update for full, _ in pairs)
    record = QuotesFrame(
        legacy=False, last_update_ns=newest, total_items=len(records), entries=tuple(records)
    )
    assert quote_envelope(newest, entries) == encode_frame(record)
