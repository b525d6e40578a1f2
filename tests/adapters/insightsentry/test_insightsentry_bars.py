"""Bar assembly: each bar final exactly once, in order, with ts_event from frame data only."""

import logging

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from framework import Bar, BarUpdate, DecodeError
from framework.adapters.insightsentry import (
    AssemblerStatistics,
    BarAssembler,
    SeriesFrame,
    SeriesPoint,
    decode_frame,
    encode_frame,
)

S = 1_000_000_000
MIN = 60 * S
T0 = 1_767_797_100  # seconds, on a minute boundary
RECV = 1_767_800_000 * S


def px(
    t: int, close: float = 10.0, *, high: float | None = None, volume: float = 100.0
) -> SeriesPoint:
    """A bar point at T0 + t minutes."""
    return SeriesPoint(
        time_ns=(T0 + 60 * t) * S,
        open=10.0,
        high=high if high is not None else max(10.0, close),
        low=min(10.0, close),
        close=close,
        volume=volume,
    )


def frame(
    *points: SeriesPoint,
    code: str = "NASDAQ:AAPL",
    label: str = "1m",
    bar_end_ns: int | None = None,
    last_update_ns: int | None = None,
) -> SeriesFrame:
    """The frame as the decoder gives it back from the wire (bad points rejected)."""
    sent = SeriesFrame(
        code=code,
        bar_label=label,
        bar_end_ns=bar_end_ns,
        last_update_ns=last_update_ns,
        points=points,
    )
    decoded = decode_frame(encode_frame(sent), recv_ns=RECV)
    assert isinstance(decoded, SeriesFrame)
    return decoded


def finals(events: list) -> list[Bar]:
    return [e for e in events if isinstance(e, Bar)]


def updates(events: list) -> list[BarUpdate]:
    return [e for e in events if isinstance(e, BarUpdate)]


def opens(events: list) -> list[int]:
    return [(e.ts_open // S - T0) // 60 for e in events]


def test_burst_then_updates_then_next_bar_finalises_each_bar_once_in_order():
    asm = BarAssembler()
    out = asm.on_series(
        frame(px(0), px(1), px(2, 11.0), bar_end_ns=(T0 + 179) * S, last_update_ns=(T0 + 130) * S),
        RECV,
    )
    assert opens(finals(out)) == [0, 1]
    assert [type(e) for e in out] == [Bar, Bar, BarUpdate]
    assert out[2].close == 11.0 and out[2].ts_event == (T0 + 130) * S

    out = asm.on_series(frame(px(2, 12.0), bar_end_ns=(T0 + 179) * S), RECV + 1)
    assert finals(out) == [] and [u.close for u in updates(out)] == [12.0]

    out = asm.on_series(frame(px(3, 9.5), bar_end_ns=(T0 + 239) * S), RECV + 2)
    assert opens(finals(out)) == [2] and finals(out)[0].close == 12.0
    assert opens(updates(out)) == [3]
    assert asm.statistics() == AssemblerStatistics(
        emitted=3, updates=3, duplicates=0, corrections=0, rejected=0
    )


def test_final_bar_times():
    asm = BarAssembler()
    bars = finals(asm.on_series(frame(px(0), px(1), px(2)), RECV))
    assert [b.ts_event for b in bars] == [(T0 + 60) * S, (T0 + 120) * S]
    assert all(b.ts_recv == RECV for b in bars)
    assert all((b.symbol, b.interval) == ("NASDAQ:AAPL", "1m") for b in bars)


def test_quiet_gap_gives_the_bar_its_own_end_not_the_next_open():
    asm = BarAssembler()
    asm.on_series(frame(px(0)), RECV)
    [bar] = finals(asm.on_series(frame(px(5)), RECV + 1))
    assert bar.ts_event == (T0 + 60) * S


def test_reported_bar_end_wins_when_earlier_than_the_interval():
    # A daily bar opens at the session open; bar_end is the close minus one second.
    open_s, close_s = 1_767_792_600, 1_767_816_000  # 13:30 and 20:00 UTC
    asm = BarAssembler()
    day = SeriesPoint(time_ns=open_s * S, open=5.0, high=6.0, low=4.0, close=5.5, volume=1.0)
    asm.on_series(frame(day, label="1D", bar_end_ns=(close_s - 1) * S), RECV)
    nxt = attrs.evolve(day, time_ns=(open_s + 86_400) * S)
    [bar] = finals(asm.on_series(frame(nxt, label="1D", bar_end_ns=(close_s + 86_399) * S), RECV))
    assert bar.ts_event == close_s * S


def test_monthly_bars_end_at_the_next_bar_open_without_bar_end():
    asm = BarAssembler()
    jan = SeriesPoint(
        time_ns=1_767_225_600 * S, open=5.0, high=6.0, low=4.0, close=5.5, volume=None
    )
    feb = attrs.evolve(jan, time_ns=1_769_904_000 * S)
    [bar] = finals(asm.on_series(frame(jan, feb, label="1M"), RECV))
    assert bar.ts_event == 1_769_904_000 * S
    assert bar.volume == 0.0


def test_burst_out_of_order_is_sorted():
    asm = BarAssembler()
    out = asm.on_series(frame(px(2), px(0), px(1)), RECV)
    assert opens(finals(out)) == [0, 1] and opens(updates(out)) == [2]


def test_same_time_twice_in_a_frame_keeps_the_later_one():
    asm = BarAssembler()
    out = asm.on_series(frame(px(0, 11.0), px(0, 12.0)), RECV)
    assert [u.close for u in updates(out)] == [12.0]


def test_reconnect_burst_overlap_emits_nothing_twice():
    asm = BarAssembler()
    asm.on_series(frame(px(0), px(1), px(2), px(3, 11.0)), RECV)
    out = asm.on_series(frame(px(0), px(1), px(2), px(3, 11.0), px(4)), RECV + 1)
    assert opens(finals(out)) == [3] and opens(updates(out)) == [4]
    stats = asm.statistics()
    assert (stats.emitted, stats.duplicates, stats.corrections) == (4, 4, 0)


def test_unchanged_repeat_of_the_bar_in_progress_is_a_duplicate_without_update():
    asm = BarAssembler()
    asm.on_series(frame(px(0)), RECV)
    assert asm.on_series(frame(px(0)), RECV + 1) == []
    assert asm.statistics().duplicates == 1


def test_changed_final_bar_is_counted_and_logged_not_reemitted(caplog):
    asm = BarAssembler()
    asm.on_series(frame(px(0), px(1), px(2)), RECV)
    with caplog.at_level(logging.WARNING):
        out = asm.on_series(frame(px(1, 10.5), px(2)), RECV + 1)
    assert out == []
    assert asm.statistics().corrections == 1
    assert "late correction" in caplog.text


def test_server_time_closes_the_bar_at_its_reported_end():
    asm = BarAssembler()
    asm.on_series(frame(px(0), bar_end_ns=(T0 + 59) * S), RECV)
    assert asm.on_server_time((T0 + 60) * S - 1, RECV + 1) == []
    [bar] = asm.on_server_time((T0 + 60) * S, RECV + 2)
    assert (bar.ts_open, bar.ts_event, bar.ts_recv) == (T0 * S, (T0 + 60) * S, RECV + 2)
    assert asm.on_server_time((T0 + 70) * S, RECV + 3) == []


def test_late_update_after_a_clock_close_is_a_correction():
    asm = BarAssembler()
    asm.on_series(frame(px(0), bar_end_ns=(T0 + 59) * S), RECV)
    asm.on_server_time((T0 + 61) * S, RECV)
    assert asm.on_series(frame(px(0, 10.7)), RECV) == []
    assert asm.on_series(frame(px(0)), RECV) == []
    stats = asm.statistics()
    assert (stats.emitted, stats.corrections, stats.duplicates) == (1, 1, 1)
    out = asm.on_series(frame(px(1)), RECV)
    assert finals(out) == [] and opens(updates(out)) == [1]


def test_server_time_without_bar_end_uses_the_interval():
    asm = BarAssembler()
    asm.on_series(frame(px(0), label="5m"), RECV)
    assert asm.on_server_time((T0 + 299) * S, RECV) == []
    [bar] = asm.on_server_time((T0 + 300) * S, RECV)
    assert (bar.interval, bar.ts_event) == ("5m", (T0 + 300) * S)


def test_server_time_closes_every_due_stream_in_event_time_order():
    asm = BarAssembler()
    asm.on_series(frame(px(0), code="NASDAQ:MSFT", label="5m"), RECV)
    asm.on_series(frame(px(0), code="NASDAQ:AAPL", label="5m"), RECV)
    asm.on_series(frame(px(0), code="NASDAQ:TSLA", label="1m"), RECV)
    closed = asm.on_server_time((T0 + 600) * S, RECV)
    assert [(b.symbol, b.interval) for b in closed] == [
        ("NASDAQ:TSLA", "1m"),
        ("NASDAQ:AAPL", "5m"),
        ("NASDAQ:MSFT", "5m"),
    ]


def test_bar_in_progress_at_the_end_of_data_is_never_final():
    asm = BarAssembler()
    out = asm.on_series(frame(px(0), px(1)), RECV)
    assert opens(finals(out)) == [0]
    assert asm.statistics().emitted == 1
    assert not hasattr(asm, "flush")


def test_rejected_points_are_counted_and_the_stream_continues():
    asm = BarAssembler()
    out = asm.on_series(frame(px(0), px(1, -1.0), px(2)), RECV)
    assert opens(finals(out)) == [0]
    assert asm.statistics().rejected == 1
    assert opens(updates(asm.on_series(frame(px(3)), RECV))) == [3]


def test_bar_series_point_without_open_high_low_is_rejected():
    asm = BarAssembler()
    bare = SeriesPoint(time_ns=T0 * S, open=None, high=None, low=None, close=10.0, volume=None)
    assert asm.on_series(frame(bare), RECV) == []
    assert asm.statistics().rejected == 1


def test_hand_made_invalid_point_is_rejected_not_raised():
    asm = BarAssembler()
    bad = SeriesPoint(time_ns=T0 * S, open=1.0, high=0.5, low=2.0, close=1.0, volume=1.0)
    good = SeriesPoint(time_ns=(T0 + 60) * S, open=1.0, high=1.0, low=1.0, close=1.0, volume=1.0)
    made = SeriesFrame(
        code="NASDAQ:AAPL", bar_label="1m", bar_end_ns=None, last_update_ns=None, points=(bad, good)
    )
    out = asm.on_series(made, RECV)
    assert finals(out) == [] and len(updates(out)) == 1
    assert asm.statistics().rejected == 1


def test_unsubscribed_stream_is_an_unknown_code():
    asm = BarAssembler([("NASDAQ:AAPL", "1m")])
    asm.on_series(frame(px(0)), RECV)
    with pytest.raises(DecodeError) as info:
        asm.on_series(frame(px(0), label="5m"), RECV)
    assert info.value.reason == "unknown_code"
    asm.set_streams([("NASDAQ:AAPL", "5m")])
    with pytest.raises(DecodeError):
        asm.on_series(frame(px(0)), RECV)
    assert len(updates(asm.on_series(frame(px(0), label="5m"), RECV))) == 1


def test_update_event_time_falls_back_to_receive_time():
    asm = BarAssembler()
    [update] = asm.on_series(frame(px(0)), RECV + 5)
    assert isinstance(update, BarUpdate)
    assert (update.ts_event, update.ts_recv) == (RECV + 5, RECV + 5)


# -- ticks -------------------------------------------------------------------------------------


def tick(
    t: float, price: float = 100.0, size: float | None = 1.0, trade_id: str | None = None
) -> SeriesPoint:
    """A trade at T0 + t seconds."""
    return SeriesPoint(
        time_ns=T0 * S + round(t * S),
        open=None,
        high=None,
        low=None,
        close=price,
        volume=size,
        trade_id=trade_id,
    )


def ticks(*points: SeriesPoint) -> SeriesFrame:
    return frame(*points, code="BINANCE:BTCUSDT", label="1T")


def test_each_tick_is_a_final_bar_at_its_trade_time():
    asm = BarAssembler()
    out = asm.on_series(ticks(tick(0.5, 100.0, 0.25)), RECV)
    assert out == [
        Bar(
            symbol="BINANCE:BTCUSDT",
            interval="1T",
            ts_open=(T0 * S) + S // 2,
            open=100.0,
            high=100.0,
            low=100.0,
            close=100.0,
            volume=0.25,
            ts_event=(T0 * S) + S // 2,
            ts_recv=RECV,
        )
    ]


def test_identical_trades_in_one_frame_are_all_kept():
    asm = BarAssembler()
    assert len(asm.on_series(ticks(tick(1), tick(1), tick(1)), RECV)) == 3


def test_reconnect_burst_repeating_ticks_emits_only_new_ones():
    asm = BarAssembler()
    asm.on_series(ticks(tick(1), tick(2), tick(2), tick(3, 101.0)), RECV)
    out = asm.on_series(ticks(tick(2), tick(2), tick(3, 101.0), tick(3, 102.0), tick(4)), RECV)
    assert [(b.ts_open, b.close) for b in out] == [
        ((T0 + 3) * S, 102.0),
        ((T0 + 4) * S, 100.0),
    ]
    assert asm.statistics().duplicates == 3


def test_trade_id_tells_identical_ticks_apart():
    asm = BarAssembler()
    asm.on_series(ticks(tick(1, trade_id="a")), RECV)
    assert len(asm.on_series(ticks(tick(1, trade_id="b")), RECV)) == 1
    assert asm.on_series(ticks(tick(1, trade_id="a")), RECV) == []


def test_tick_without_volume_has_zero_volume():
    asm = BarAssembler()
    [bar] = asm.on_series(ticks(tick(0, 5.0, size=None)), RECV)
    assert bar.volume == 0.0


# -- properties --------------------------------------------------------------------------------


@st.composite
def bar_histories(draw: st.DrawFn) -> list[SeriesPoint]:
    steps = draw(st.lists(st.integers(1, 3), min_size=1, max_size=25))
    minute, out = 0, []
    for step in steps:
        minute += step
        close = draw(st.floats(5.0, 15.0, allow_nan=False))
        out.append(px(minute, close, high=15.0))
    return out


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[SeriesPoint], list[list[SeriesPoint]]]:
    """A bar history and the frames that deliver it: bursts and single updates, with
    reconnect bursts that repeat an earlier stretch."""
    history = draw(bar_histories())
    frames, sent = [], 0
    while sent < len(history):
        upto = draw(st.integers(sent + 1, len(history)))
        start = draw(st.integers(0, sent)) if draw(st.booleans()) else sent
        chunk = history[start:upto]
        frames.append(draw(st.permutations(chunk)))
        sent = upto
    return history, frames


@given(deliveries())
def test_every_bar_but_the_last_is_final_exactly_once_in_order(delivery):
    history, frames = delivery
    asm = BarAssembler()
    events = [e for f in frames for e in asm.on_series(frame(*f), RECV)]
    bars = finals(events)
    assert [(b.ts_open, b.close) for b in bars] == [(p.time_ns, p.close) for p in history[:-1]]
    times = [b.ts_event for b in bars]
    assert times == sorted(set(times))
    for bar, nxt in zip(bars, history[1:], strict=False):
        assert bar.ts_open < bar.ts_event <= min(bar.ts_open + MIN, nxt.time_ns)
    assert asm.statistics().corrections == 0


@given(deliveries())
def test_same_frames_give_the_same_events(delivery):
    _, frames = delivery
    runs = []
    for _ in range(2):
        asm = BarAssembler()
        runs.append([e for f in frames for e in asm.on_series(frame(*f), RECV)])
    assert runs[0] == runs[1]
