"""Per-stream state is bounded by what a reconnect burst can repeat, and released on unsubscribe."""

import gc
import tracemalloc

import pytest

from framework import Bar, ConfigError
from framework.adapters.insightsentry import (
    BarAssembler,
    FrameProcessor,
    QuoteBook,
    QuoteFields,
    QuotesFrame,
    SeriesFrame,
    SeriesPoint,
    Subscription,
    SubscriptionSet,
    encode_frame,
)
from framework.adapters.insightsentry._bars import MIN_HISTORY, UNSIZED_BURST_BARS

S = 1_000_000_000
T0 = 1_767_797_100  # seconds, on a minute boundary
RECV = 1_767_800_000 * S
AAPL = ("NASDAQ:AAPL", "1m")


def point(minute: int, close: float = 10.0, volume: float | None = 100.0) -> SeriesPoint:
    return SeriesPoint(
        time_ns=(T0 + 60 * minute) * S,
        open=10.0,
        high=max(10.0, close),
        low=min(10.0, close),
        close=close,
        volume=volume,
    )


def frame(*points: SeriesPoint, code: str = "NASDAQ:AAPL") -> SeriesFrame:
    return SeriesFrame(
        code=code, bar_label="1m", bar_end_ns=None, last_update_ns=None, points=points
    )


def feed_bars(asm: BarAssembler, count: int, code: str = "NASDAQ:AAPL") -> None:
    """``count`` bars one frame each, as live updates come: all but the last become final."""
    asm.on_series(frame(point(0), code=code), RECV)  # the first frame makes the stream known
    for minute in range(1, count):
        asm.on_bar_values(
            code, "1m", (T0 + 60 * minute) * S, (10.0, 11.0, 9.0, 10.5, 5.0), 0, 0, RECV
        )


def capacity(window: int) -> int:
    """The most a stream's arrays hold: the window plus the slack cut at once."""
    return window + max(window // 4, 8)


# -- bounded -------------------------------------------------------------------------------------


@pytest.mark.parametrize("window", [1, 32, 100, 1_000])
def test_the_final_bars_remembered_never_exceed_the_window_and_its_slack(window):
    asm = BarAssembler({AAPL: window})
    for minute in range(5_000):
        asm.on_series(frame(point(minute)), RECV)
        assert asm.remembered(*AAPL) <= capacity(window)
    assert asm.remembered(*AAPL) >= min(window, 4_999)
    assert asm.statistics().emitted == 4_999


def test_the_correction_check_is_exact_for_every_bar_in_the_window():
    window = 64
    asm = BarAssembler({AAPL: window})
    asm.on_series(frame(*(point(m, 10.0 + (m % 7) / 8) for m in range(1_001))), RECV)
    for back in range(1, window + 1):  # each of the newest 64 final bars, repeated
        minute = 1_000 - back
        before = asm.statistics()
        asm.on_series(frame(point(minute, 10.0 + (minute % 7) / 8)), RECV)
        asm.on_series(frame(point(minute, 10.0 + (minute % 7) / 8 + 1e-9)), RECV)
        after = asm.statistics()
        assert (after.duplicates - before.duplicates, after.corrections - before.corrections) == (
            1,
            1,
        ), back


def test_a_missing_volume_is_a_zero_volume_when_repeated_points_are_compared():
    asm = BarAssembler({AAPL: 8})
    asm.on_series(frame(point(0, volume=None), point(1, volume=0.0), point(2)), RECV)
    asm.on_series(frame(point(0, volume=0.0), point(1, volume=None)), RECV)
    assert (asm.statistics().corrections, asm.statistics().duplicates) == (0, 2)
    asm.on_series(frame(point(0, volume=1.0)), RECV)
    assert asm.statistics().corrections == 1


def test_a_backfilled_bar_is_remembered_in_time_order():
    asm = BarAssembler({AAPL: 16}, detect_gaps=True)
    asm.on_series(frame(point(0)), RECV)
    asm.on_series(frame(point(5), point(6)), RECV)
    [hole] = asm.take_holes()
    bars, _ = asm.backfill(frame(*(point(m, 10.25) for m in range(7))), hole, RECV)
    assert [b.ts_open for b in bars] == [(T0 + 60 * m) * S for m in (1, 2, 3, 4)]
    asm.on_series(frame(*(point(m, 10.25) for m in range(1, 5))), RECV)
    assert asm.statistics().corrections == 0
    asm.on_series(frame(point(3, 10.5)), RECV)
    assert asm.statistics().corrections == 1


def subscriptions(bars: int | None) -> SubscriptionSet:
    return SubscriptionSet([Subscription(code="NASDAQ:AAPL", bars=bars)])


@pytest.mark.parametrize(
    ("bars", "window"),
    [(None, UNSIZED_BURST_BARS), (1, MIN_HISTORY), (500, 500), (30_000, 30_000)],
)
def test_the_processor_sizes_each_window_by_the_subscription_burst(bars, window):
    p = FrameProcessor(subscriptions(bars), source="test")
    total = window + capacity(window) + 10
    for start in range(0, total, 1_000):  # bursts within the frame size limit
        p.process(
            encode_frame(frame(*(point(m) for m in range(start, min(total, start + 1_000))))), RECV
        )
    last_final = total - 2
    # A burst of the subscription's size reaches back `window` bars: each is checked.
    oldest_checked = last_final - window + 1
    p.process(encode_frame(frame(point(oldest_checked, 10.5))), RECV)
    assert p.statistics().corrections == 1
    # Further back than the window and its slack, a repeat cannot be checked.
    p.process(encode_frame(frame(point(last_final - capacity(window) - 1, 10.5))), RECV)
    assert p.statistics().corrections == 1


def test_a_window_below_one_is_a_config_error():
    with pytest.raises(ConfigError, match="window"):
        BarAssembler({AAPL: 0})
    with pytest.raises(ConfigError, match="history"):
        BarAssembler(history=0)


# -- released ------------------------------------------------------------------------------------


def test_set_streams_releases_every_stream_left_out():
    keys = [(f"NASDAQ:S{i}", "1m") for i in range(50)]
    asm = BarAssembler(dict.fromkeys(keys, 40))
    for code, _ in keys:
        feed_bars(asm, 100, code)
    assert asm.stream_count() == 50
    asm.set_streams(dict.fromkeys(keys[:5], 40))
    assert asm.stream_count() == 5
    assert asm.remembered(*keys[10]) == 0
    # Subscribed again, a stream starts afresh: its old bars are new bars.
    asm.set_streams(dict.fromkeys(keys[:11], 40))
    out = asm.on_series(frame(point(3), point(4), code=keys[10][0]), RECV)
    assert [e.ts_open for e in out if isinstance(e, Bar)] == [(T0 + 180) * S]


def test_a_smaller_window_cuts_a_known_stream_at_once():
    asm = BarAssembler({AAPL: 500})
    feed_bars(asm, 1_000)
    assert asm.remembered(*AAPL) >= 500
    asm.set_streams({AAPL: 40})
    assert asm.remembered(*AAPL) == 40


def test_set_codes_releases_quote_snapshots():
    book = QuoteBook([f"NASDAQ:S{i}" for i in range(20)])
    entries = tuple(QuoteFields(code=f"NASDAQ:S{i}", bid=1.0, ask=2.0) for i in range(20))
    book.on_quotes(
        QuotesFrame(legacy=False, last_update_ns=None, total_items=None, entries=entries), RECV
    )
    book.set_codes(["NASDAQ:S0"])
    assert book.snapshot("NASDAQ:S0") is not None
    assert [book.snapshot(f"NASDAQ:S{i}") for i in range(1, 20)] == [None] * 19


def test_unsubscribing_drops_held_events_and_backfill_requests_of_the_stream():
    both = SubscriptionSet([Subscription(code="NASDAQ:AAPL"), Subscription(code="NASDAQ:MSFT")])
    p = FrameProcessor(both, source="test", backfill=True, updates=False)
    p.process(encode_frame(frame(point(0))), RECV)
    p.process(encode_frame(frame(point(5))), RECV)  # a hole: bars 1..4 missing
    (request,) = p.take_backfill_requests()
    p.process(encode_frame(frame(point(9))), RECV)  # a hole that nobody has taken yet
    for minute in range(6, 9):
        assert p.process(encode_frame(frame(point(minute))), RECV)[0] == []  # held
    assert p.statistics().pending_backfills == 2
    p.set_subscriptions(SubscriptionSet([Subscription(code="NASDAQ:MSFT")]))
    stats = p.statistics()
    assert stats.pending_backfills == 0 and p.pending_backfills() == []
    assert p.take_backfill_requests() == []
    assert stats.health["held_dropped"] == 1
    assert p.backfill_response(request.id, encode_frame(frame(point(1))), None, RECV) == []
    p.set_subscriptions(both)
    assert p.newest_open("NASDAQ:AAPL", "1m") is None


# -- memory, measured ----------------------------------------------------------------------------

#: Bytes a stream may hold besides its arrays: the stream record, its key, code and interval,
#: the bar in progress, its dict slot. Measured near 1,100; the bound leaves room for Python
#: versions, not for a second copy of the bars.
STREAM_OVERHEAD = 2_000
#: Bytes a remembered bar takes in the arrays (time + five values), with the arrays' own
#: over-allocation of about 1/16.
BAR_BYTES = 48 * 17 / 16


def allocated() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


@pytest.mark.parametrize(
    ("streams", "window"), [(500, MIN_HISTORY), (500, UNSIZED_BURST_BARS), (50, 1_024)]
)
def test_memory_of_full_streams_is_bounded_by_the_window_and_released(streams, window):
    keys = [(f"NASDAQ:S{i}", "1m") for i in range(streams)]
    tracemalloc.start()
    try:
        base = allocated()
        asm = BarAssembler(dict.fromkeys(keys, window))
        for code, _ in keys:
            feed_bars(asm, capacity(window) + 1, code)  # every array at its fullest
        assert all(asm.remembered(*key) == capacity(window) for key in keys)
        held = allocated() - base
        assert held <= streams * (capacity(window) * BAR_BYTES + STREAM_OVERHEAD)
        asm.set_streams({})
        assert asm.stream_count() == 0
        assert allocated() - base <= 10_000
    finally:
        tracemalloc.stop()
