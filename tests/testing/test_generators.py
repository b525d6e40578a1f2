"""The Hypothesis generators of framework.testing, checked by their own properties."""

from __future__ import annotations

import contextlib
import itertools
from collections import defaultdict

import attrs
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from framework import Bar, ConfigError, DataRejected, DecodeError, Interval, Quote
from framework.adapters.insightsentry import (
    BarAssembler,
    FrameKind,
    FrameProcessor,
    HeartbeatFrame,
    QuoteBook,
    QuotesFrame,
    SeriesFrame,
    UnknownFrame,
    decode_frame,
    encode_frame,
)
from framework.testing import (
    bars,
    frames,
    hostile_frames,
    quotes,
    quotes_frame_text,
    series_frame_text,
)

SYMBOLS = ["NASDAQ:AAPL", "NASDAQ:MSFT", "NYSE:IBM"]
RECV = 1
SMALL_LIMIT = 4_096
#: For find(): an example exists; shrinking it would only cost time. Enough examples that a
#: shape seen in 3% of them is found (0.97 ** 1000 < 1e-13).
FIND_ANY = settings(phases=[Phase.generate], database=None, max_examples=1_000)


def by_symbol(events):
    grouped = defaultdict(list)
    for event in events:
        grouped[event.symbol].append(event)
    return grouped


# -- bars ------------------------------------------------------------------------------------


@settings(max_examples=150)
@given(
    bars(
        symbols=SYMBOLS,
        interval="5m",
        min_price=0.5,
        max_price=900.0,
        min_size=10.0,
        max_size=20.0,
        max_bars=40,
        gaps=True,
        regimes=4,
    )
)
def test_generated_bars_are_valid_and_within_their_bounds(generated):
    step = Interval.parse("5m").nanos
    for bar in generated:
        # The constructor validates; building the bar again proves it still accepts it.
        assert attrs.evolve(bar) == bar
        assert 0.5 <= bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
        assert bar.high <= 900.0
        assert 10.0 <= bar.volume <= 20.0
        assert bar.ts_event == bar.ts_recv == bar.ts_open + step
    assert [b.ts_event for b in generated] == sorted(b.ts_event for b in generated)
    for series in by_symbol(generated).values():
        for before, after in itertools.pairwise(series):
            assert after.ts_open > before.ts_open
            assert (after.ts_open - before.ts_open) % step == 0


@settings(max_examples=150)
@given(bars(symbols=SYMBOLS, max_bars=30, gaps=True, regimes=3))
def test_generated_bars_survive_encoding_decoding_and_bar_assembly(generated):
    for symbol, series in by_symbol(generated).items():
        frame = decode_frame(series_frame_text(series), recv_ns=RECV)
        assert isinstance(frame, SeriesFrame)
        assert frame.rejected == ()
        assembler = BarAssembler([(symbol, "1m")])
        out = assembler.on_series(frame, RECV)
        out += assembler.on_server_time(series[-1].ts_event, RECV)
        final = [event for event in out if isinstance(event, Bar)]
        assert final == [attrs.evolve(bar, ts_recv=RECV) for bar in series]
        assert assembler.statistics().rejected == 0


@settings(max_examples=100)
@given(bars(symbols=SYMBOLS[:2], max_bars=30, gaps=True))
def test_generated_bars_streamed_one_frame_each_come_out_of_the_processor_unchanged(generated):
    processor = FrameProcessor(None, source="test", updates=False)
    out = []
    for bar in generated:
        events, frame = processor.process(series_frame_text([bar]), RECV)
        assert frame is not None
        out += events
    # The newest bar of each symbol is still in progress until the server clock passes it.
    end = max((bar.ts_event for bar in generated), default=0)
    out += processor.process(encode_frame(HeartbeatFrame(server_time_ns=end)), RECV)[0]
    assert not any(isinstance(event, DataRejected) for event in out)
    expected = [attrs.evolve(bar, ts_recv=RECV) for bar in generated]
    assert by_symbol(out) == by_symbol(expected)


def has_gap(generated):
    return any(
        after.ts_open - before.ts_open > 60_000_000_000
        for before, after in itertools.pairwise(generated)
    )


def test_gaps_happen_when_allowed():
    assert has_gap(find(bars(min_bars=2, max_bars=30, gaps=True), has_gap, settings=FIND_ANY))


@given(bars(max_bars=30))
def test_without_gaps_each_bar_opens_when_the_previous_one_ends(generated):
    assert not has_gap(generated)
    assert all(a.close == b.open for a, b in itertools.pairwise(generated))


@given(bars(min_bars=0, max_bars=0, symbols=SYMBOLS))
def test_zero_bars_is_an_empty_sequence(generated):
    assert generated == []


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(bars(min_bars=60, max_bars=60, regimes=5, decimals=None))
def test_sequences_stay_valid_across_regime_changes(generated):
    assert len(generated) == 60
    assert all(b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high for b in generated)
    assert all(a.close == b.open for a, b in itertools.pairwise(generated))


def test_a_sequence_can_switch_from_calm_to_volatile():
    def calm_then_wild(generated):
        moves = [abs(bar.close / bar.open - 1) for bar in generated]
        return 10 * max(moves[:10]) < max(moves[10:])

    found = find(
        bars(min_bars=20, max_bars=20, regimes=2, decimals=None), calm_then_wild, settings=FIND_ANY
    )
    assert calm_then_wild(found)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"symbols": []}, "at least one symbol"),
        ({"symbols": "NASDAQ:AAPL"}, "not one string"),
        ({"symbols": ["A:B", "A:B"]}, "distinct"),
        ({"min_price": 0.0}, "0 < min_price"),
        ({"min_price": 10.0, "max_price": 5.0}, "min_price <= max_price"),
        ({"min_size": -1.0}, "0 <= min_size"),
        ({"min_bars": 5, "max_bars": 2}, "min_bars"),
        ({"interval": "1M"}, "fixed bar size"),
        ({"interval": "tick"}, "fixed bar size"),
        ({"regimes": 0}, "regimes"),
        ({"decimals": 9}, "decimals"),
    ],
)
def test_bad_bar_bounds_are_refused_when_the_generator_is_built(options, message):
    with pytest.raises(ConfigError, match=message):
        bars(**options)


# -- quotes ----------------------------------------------------------------------------------


@settings(max_examples=150)
@given(quotes(symbols=SYMBOLS, min_price=2.0, max_price=50.0, max_spread=0.05, max_quotes=30))
def test_generated_quotes_have_bid_at_most_ask_and_increasing_times(generated):
    for quote in generated:
        assert attrs.evolve(quote) == quote
        assert 2.0 <= quote.bid <= quote.ask <= 50.0
        assert quote.bid <= quote.last_price <= quote.ask
        assert quote.ts_event % 1_000_000 == 0
    assert [q.ts_event for q in generated] == sorted(q.ts_event for q in generated)
    for series in by_symbol(generated).values():
        assert all(a.ts_event < b.ts_event for a, b in itertools.pairwise(series))
        assert all(a.volume <= b.volume for a, b in itertools.pairwise(series))


@settings(max_examples=100)
@given(quotes(symbols=SYMBOLS, max_quotes=20))
def test_generated_quotes_survive_encoding_decoding_and_merging(generated):
    book = QuoteBook()
    out: list[Quote] = []
    for quote in generated:
        frame = decode_frame(quotes_frame_text([quote]), recv_ns=RECV)
        assert isinstance(frame, QuotesFrame)
        merged, rejected = book.on_quotes(frame, RECV)
        assert rejected == []
        out += merged
    assert out == [attrs.evolve(q, ts_recv=RECV) for q in generated]


@given(quotes(max_spread=0.0))
def test_quotes_can_be_locked(generated):
    assert all(q.bid == q.ask == q.last_price for q in generated)


def test_bad_quote_bounds_are_refused():
    with pytest.raises(ConfigError, match="max_spread"):
        quotes(max_spread=1.0)
    with pytest.raises(ConfigError, match="whole milliseconds"):
        quotes(start_ns=1)


# -- frames ----------------------------------------------------------------------------------


@settings(max_examples=300)
@given(frames(symbols=SYMBOLS))
def test_valid_frames_decode_to_a_known_kind(text):
    frame = decode_frame(text, recv_ns=RECV)
    assert not isinstance(frame, UnknownFrame)
    assert frame.kind is not FrameKind.INVALID
    if isinstance(frame, SeriesFrame | QuotesFrame):
        assert frame.rejected == ()


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_frames(max_bytes=SMALL_LIMIT))
def test_every_hostile_frame_is_rejected_with_decode_error(message):
    with pytest.raises(DecodeError) as caught:
        decode_frame(message, max_bytes=SMALL_LIMIT, recv_ns=RECV)
    assert type(caught.value) is DecodeError
    assert caught.value.reason


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_frames())
def test_hostile_frames_at_the_default_limit_are_rejected_too(message):
    with pytest.raises(DecodeError):
        decode_frame(message, recv_ns=RECV)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_frames(max_bytes=SMALL_LIMIT, binary=False))
def test_the_processor_turns_every_hostile_frame_into_one_rejection(text):
    processor = FrameProcessor(None, source="fuzz", max_bytes=SMALL_LIMIT)
    events, frame = processor.process(text, RECV)
    assert frame is None
    assert [type(event) for event in events] == [DataRejected]


def test_hostile_frames_cover_every_rejection_reason_of_the_decoder():
    seen: set[str] = set()

    @settings(max_examples=1_000, database=None)
    @given(hostile_frames(max_bytes=SMALL_LIMIT))
    def collect(message):
        try:
            decode_frame(message, max_bytes=SMALL_LIMIT, recv_ns=RECV)
        except DecodeError as exc:
            seen.add(exc.reason)

    collect()
    assert seen == {
        "binary_frame",
        "oversized",
        "not_json",
        "too_deep",
        "non_finite",
        "bad_field",
        "negative_price",
        "inconsistent_ohlc",
        "bad_time",
    }


@given(st.data())
def test_mixed_frames_are_either_accepted_or_rejected_with_decode_error(data):
    message = data.draw(frames(valid=None, max_bytes=SMALL_LIMIT))
    with contextlib.suppress(DecodeError):
        decode_frame(message, max_bytes=SMALL_LIMIT, recv_ns=RECV)


def test_frames_refuse_symbols_that_are_not_codes():
    with pytest.raises(ConfigError, match="EXCHANGE:SYMBOL"):
        frames(symbols=["aapl"])
    with pytest.raises(ConfigError, match="max_bytes"):
        hostile_frames(max_bytes=10)


def test_encoders_refuse_mixed_or_empty_input():
    def bar(symbol):
        return Bar(
            symbol=symbol,
            interval="1m",
            ts_open=0,
            open=1.0,
            high=1.0,
            low=1.0,
            close=1.0,
            volume=0.0,
            ts_event=60_000_000_000,
            ts_recv=60_000_000_000,
        )

    with pytest.raises(ValueError, match="one symbol"):
        series_frame_text([bar("A:B"), bar("C:D")])
    with pytest.raises(ValueError, match="at least one"):
        series_frame_text([])
    with pytest.raises(ValueError, match="at least one"):
        quotes_frame_text([])
