"""Feed health: every data problem counted by kind, and the log kept to a few lines of them."""

import logging

import pytest

from framework import ConfigError, DataRejected
from framework.adapters.insightsentry import (
    BarAssembler,
    FeedHealth,
    FrameProcessor,
    SeriesFrame,
    SeriesPoint,
    Subscription,
    SubscriptionSet,
    encode_frame,
)

S = 1_000_000_000
T0 = 1_767_797_100  # seconds, on a minute boundary
RECV = 1_767_800_000 * S
HEALTH_LOGGER = "framework.adapters.insightsentry._health"


class FakeClock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def point(minute: int, close: float = 10.0) -> SeriesPoint:
    return SeriesPoint(
        time_ns=(T0 + 60 * minute) * S,
        open=10.0,
        high=max(10.0, close),
        low=min(10.0, close),
        close=close,
        volume=100.0,
    )


def series(*points: SeriesPoint, code: str = "NASDAQ:AAPL") -> str:
    return encode_frame(
        SeriesFrame(code=code, bar_label="1m", bar_end_ns=None, last_update_ns=None, points=points)
    )


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


# -- FeedHealth on its own ---------------------------------------------------------------------


def test_first_occurrence_is_logged_in_full_then_one_summary_per_interval(caplog):
    clock = FakeClock()
    health = FeedHealth("feed", interval=60.0, clock=clock)
    caplog.set_level(logging.DEBUG, logger=HEALTH_LOGGER)
    for index in range(1_000):
        clock.now = index * 0.5  # 1,000 occurrences over 500 s
        health.count("late_correction", "late correction of bar %d", index)
    lines = [r.getMessage() for r in warnings_of(caplog)]
    # The first in full, then a summary each time 60 s have passed since the last line.
    assert lines[0] == "feed: late correction of bar 0"
    assert len(lines) == 1 + 8
    assert (
        lines[1]
        == "feed: late_correction: 120 more in the last 60 s; last: late correction of bar 120"
    )
    assert health.counts() == {"late_correction": 1_000}


def test_each_kind_has_its_own_first_line_and_interval(caplog):
    clock = FakeClock()
    health = FeedHealth(clock=clock)
    caplog.set_level(logging.WARNING, logger=HEALTH_LOGGER)
    for _ in range(50):
        health.count("a", "problem a")
        health.count("b", "problem b %s", "x")
    assert [r.getMessage() for r in warnings_of(caplog)] == ["problem a", "problem b x"]
    assert health.counts() == {"a": 50, "b": 50}


def test_the_end_summary_is_one_line_with_every_count_and_the_last_unlogged(caplog):
    clock = FakeClock()
    health = FeedHealth("feed", clock=clock)
    for index in range(3):
        health.count("rejected:not_json", "rejected frame (not_json): %s", f"#{index}")
    health.count("late_correction", "late correction")
    caplog.set_level(logging.WARNING, logger=HEALTH_LOGGER)
    caplog.clear()
    health.log_summary()
    [line] = [r.getMessage() for r in warnings_of(caplog)]
    assert line == (
        "feed: feed health: late_correction 1; rejected:not_json 3 "
        "(2 not logged, last: rejected frame (not_json): #2)"
    )


def test_no_problems_no_warning(caplog):
    caplog.set_level(logging.WARNING, logger=HEALTH_LOGGER)
    FeedHealth("feed").log_summary()
    assert warnings_of(caplog) == []


def test_a_negative_interval_is_a_config_error():
    with pytest.raises(ConfigError, match="interval"):
        FeedHealth(interval=-1.0)


# -- the processor's problems go through it ----------------------------------------------------


def test_ten_thousand_late_corrections_are_counted_and_logged_in_a_few_lines(caplog):
    clock = FakeClock()
    subs = SubscriptionSet([Subscription(code="NASDAQ:AAPL", bars=200)])
    p = FrameProcessor(subs, source="feed", health=FeedHealth("feed", clock=clock))
    p.process(series(*(point(m) for m in range(101))), RECV)
    changed = series(*(point(m, 11.0) for m in range(100)), point(100))
    caplog.set_level(logging.WARNING)
    for burst in range(100):  # 100 reconnect bursts, each correcting 100 final bars
        clock.now = burst * 10.0
        assert p.process(changed, RECV + burst)[0] == []
    stats = p.statistics()
    assert stats.corrections == 10_000
    assert stats.health == {"late_correction": 10_000}
    # The first in full, then at most one summary per minute of the 990 s.
    assert 1 <= len(warnings_of(caplog)) <= 1 + 990 // 60 + 1
    p.log_health_summary()
    assert "late_correction 10,000" in warnings_of(caplog)[-1].getMessage()


def test_late_corrections_of_a_clock_closed_bar_are_counted_not_echoed(caplog):
    """A server whose heartbeat runs ahead of its queued updates: every bar is closed by the
    clock, then its last update arrives (the 25-minute soak's 4,026 warning lines)."""
    subs = SubscriptionSet([Subscription(code="NASDAQ:AAPL")])
    p = FrameProcessor(subs, source="feed", health=FeedHealth("feed", clock=FakeClock()))
    caplog.set_level(logging.WARNING)
    for minute in range(2_000):
        p.process(series(point(minute)), RECV)
        p.process(f'{{"server_time":{(T0 + 60 * minute + 60) * 1000}}}', RECV)
        p.process(series(point(minute, 10.5)), RECV)
    assert p.statistics().health == {"late_correction": 2_000}
    assert len(warnings_of(caplog)) == 1


def test_rejected_frames_are_counted_by_reason_and_logged_once_each(caplog):
    p = FrameProcessor(None, source="feed", health=FeedHealth("feed", clock=FakeClock()))
    caplog.set_level(logging.WARNING)
    events = []
    for _ in range(10_000):
        events += p.process("{not json", RECV)[0]
        events += p.process(series(point(0, -1.0)), RECV)[0]
    assert len(events) == 20_000 and all(isinstance(e, DataRejected) for e in events)
    assert p.statistics().health == {"rejected:not_json": 10_000, "rejected:negative_price": 10_000}
    assert p.statistics().rejected == {"not_json": 10_000, "negative_price": 10_000}
    assert len(warnings_of(caplog)) == 2


def test_the_assembler_counts_rejected_points_in_the_health_it_is_given(caplog):
    health = FeedHealth(clock=FakeClock())
    asm = BarAssembler(health=health)
    bare = SeriesPoint(time_ns=T0 * S, open=None, high=None, low=None, close=10.0, volume=None)
    frame = SeriesFrame(
        code="NASDAQ:AAPL", bar_label="1m", bar_end_ns=None, last_update_ns=None, points=(bare,)
    )
    caplog.set_level(logging.WARNING)
    for _ in range(500):
        asm.on_series(frame, RECV)
    assert health.counts() == {"rejected_point": 500}
    assert asm.statistics().rejected == 500
    assert len(warnings_of(caplog)) == 1


def test_the_default_health_is_named_after_the_source(caplog):
    p = FrameProcessor(None, source="my-feed")
    caplog.set_level(logging.WARNING)
    p.process("{not json", RECV)
    [line] = warnings_of(caplog)
    assert line.getMessage().startswith("my-feed: rejected frame (not_json)")
    assert p.health.source == "my-feed"
