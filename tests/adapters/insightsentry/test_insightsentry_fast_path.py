"""The processor's fast path for single-bar frames gives exactly what the general path gives."""

import contextlib
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framework import Bar, BarUpdate
from framework.adapters.insightsentry import (
    FrameProcessor,
    HeartbeatFrame,
    PongFrame,
    SeriesFrame,
    SeriesPoint,
    Subscription,
    SubscriptionSet,
    encode_document,
    encode_frame,
)
from framework.recording import RecordKind
from framework.testing import frames

S = 1_000_000_000
MS = 1_000_000
T0 = 1_767_571_200  # seconds, on a minute boundary
CODES = ("NASDAQ:AAPL", "NASDAQ:MSFT")
RECV = 1_767_600_000 * S

# Values that are not numbers, or numbers every check must refuse or treat specially.
ODD_VALUES: tuple[Any, ...] = (None, True, "100.5", [], {}, 0, 0.0, -0.0, -1.0, 10**12, 1e300)


@st.composite
def single_bar_frames(draw: st.DrawFn) -> str:
    """Mostly the frame the fast path takes, as the encoder writes it, on a small grid of
    streams and times so that frames meet known streams; sometimes with times in the 2024
    integer form, bent out of that shape or given values to refuse."""
    minute = draw(st.integers(0, 8))
    seconds = T0 + 60 * minute
    low = draw(st.floats(0.5, 200.0))
    high = low * (1 + draw(st.sampled_from((0.0, 0.01, 0.2))))
    bar = SeriesPoint(
        time_ns=seconds * S,
        open=draw(st.sampled_from((low, high, (low + high) / 2))),
        high=high,
        low=low,
        close=draw(st.sampled_from((low, high, (low + high) / 2))),
        volume=draw(st.sampled_from((0.0, -0.0, 5, 12.5, 1e9))),
    )
    bar_end = draw(st.sampled_from((59,) * 4 + (59.5, 30, 0, -1, -(10**10))))
    frame = SeriesFrame(
        code=draw(st.sampled_from((CODES[0],) * 6 + (CODES[1], "nasdaq:aapl"))),
        bar_label=draw(st.sampled_from(("1m",) * 8 + ("5m", "1T", "1M", "1x"))),
        bar_end_ns=seconds * S + round(bar_end * S),
        last_update_ns=draw(st.sampled_from(((seconds + 30) * S,) * 4 + (-MS, 10**13 * MS))),
        points=(bar,),
    )
    doc = encode_document(frame)
    point = doc["series"][0]
    if draw(st.booleans()):  # integer seconds, as in 2024
        point["time"] = seconds
        if float(bar_end).is_integer():
            doc["bar_end"] = seconds + int(bar_end)
    bend = draw(
        st.sampled_from(
            ("none",) * 12 + ("value", "drop", "extra", "two", "trade_id", "fractional_ms")
        )
    )
    if bend == "value":
        target = draw(st.sampled_from((doc, point)))
        target[draw(st.sampled_from(sorted(target)))] = draw(st.sampled_from(ODD_VALUES))
    elif bend == "drop":
        del point[draw(st.sampled_from(sorted(point)))]
    elif bend == "extra":
        doc["dadj"] = False
    elif bend == "two":
        doc["series"] = [point, {**point, "time": point["time"] + 60}]
    elif bend == "trade_id":
        point["trade_id"] = 7
        del point["volume"]
    elif bend == "fractional_ms":
        doc["last_update"] = seconds * 1000 + 0.5
    return orjson.dumps(doc).decode()


def heartbeats() -> st.SearchStrategy[str]:
    return st.integers(0, 10).map(
        lambda m: encode_frame(HeartbeatFrame(server_time_ns=(T0 + 60 * m) * S))
    )


def single_bar(minute: int, *, code: str = CODES[0], updated_after_s: int = 0) -> str:
    """The frame the fast path takes: one full bar of ``minute``, with ``bar_end`` and a
    ``last_update`` ``updated_after_s`` seconds after the bar opened."""
    seconds = T0 + 60 * minute
    bar = SeriesPoint(time_ns=seconds * S, open=1.0, high=2.0, low=1.0, close=1.5, volume=3.0)
    frame = SeriesFrame(
        code=code,
        bar_label="1m",
        bar_end_ns=(seconds + 59) * S,
        last_update_ns=(seconds + updated_after_s) * S,
        points=(bar,),
    )
    return encode_frame(frame)


@st.composite
def session_frames(draw: st.DrawFn) -> str | bytes:
    """Mostly single-bar frames, some heartbeats (which close bars), some of any kind."""
    kind = draw(st.integers(0, 9))
    if kind < 7:
        return draw(single_bar_frames())
    if kind < 8:
        return draw(heartbeats())
    return draw(frames(valid=None, symbols=CODES, max_bytes=4096))


sessions = st.lists(
    st.tuples(session_frames(), st.sampled_from((RECV,) * 8 + (0, -1))),
    min_size=10,
    max_size=40,
)


def both(**options: Any) -> tuple[FrameProcessor, FrameProcessor]:
    fast = FrameProcessor(None, source="test", max_bytes=4096, **options)
    general = FrameProcessor(None, source="test", max_bytes=4096, fast_path=False, **options)
    return fast, general


def assert_same_run(fast: FrameProcessor, general: FrameProcessor, session: list) -> int:
    taken = 0
    for text, recv_ns in session:
        events, frame = fast.process(text, recv_ns)
        expected, expected_frame = general.process(text, recv_ns)
        # repr as well as ==, so that -0.0 and 0.0 count as different.
        assert [repr(e) for e in events] == [repr(e) for e in expected]
        assert events == expected
        assert frame == expected_frame
        assert fast.statistics() == general.statistics()
        assert fast.take_backfill_requests() == general.take_backfill_requests()
        taken += sum(isinstance(e, Bar | BarUpdate) for e in events)
    return taken


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(sessions, st.booleans(), st.booleans())
def test_fast_path_yields_the_events_and_counts_of_the_general_path(session, updates, backfill):
    fast, general = both(updates=updates, backfill=backfill)
    assert_same_run(fast, general, session)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(sessions)
def test_fast_path_rejects_streams_outside_the_subscriptions_like_the_general_path(session):
    fast, general = both()
    subscriptions = SubscriptionSet([Subscription(code=CODES[0])])
    for processor in (fast, general):
        processor.set_subscriptions(subscriptions)
    assert_same_run(fast, general, session)


def test_process_events_is_the_event_half_of_process():
    texts = [single_bar(m, updated_after_s=30) for m in (0, 0, 1, 2, 2, 5)]
    texts += [encode_frame(PongFrame()), encode_frame(HeartbeatFrame(server_time_ns=MS))]
    texts += ["not json"]
    one, other = FrameProcessor(None, source="a"), FrameProcessor(None, source="a")
    for text in texts:
        assert one.process_events(text, RECV) == other.process(text, RECV)[0]
    assert one.statistics() == other.statistics()
    assert one.statistics().bars == 3


@pytest.mark.parametrize("updates", [True, False])
def test_frames_of_a_known_stream_take_the_fast_path(updates):
    # Guards the property tests above against comparing the general path with itself.
    fast = FrameProcessor(None, source="test", updates=updates)
    calls = []
    original = fast._bars.on_bar_values

    def counting(*args: Any) -> Any:
        result = original(*args)
        calls.append(result is not None)
        return result

    fast._bars.on_bar_values = counting  # type: ignore[method-assign]
    for m in range(4):
        fast.process_events(single_bar(m), RECV)
    # The first frame creates the stream through the general path.
    assert calls == [False, True, True, True]


def test_process_live_names_the_code_of_a_frame_the_fast_path_took():
    def text(minute: int) -> str:
        return single_bar(minute, code=CODES[1])

    live, full = FrameProcessor(None, source="a"), FrameProcessor(None, source="a")
    first, frame = live.process_live(text(0), RECV)
    assert first == full.process(text(0), RECV)[0]
    assert frame == full.process(text(0), RECV)[1]  # the general path: the frame record
    events, code = live.process_live(text(1), RECV)
    assert code == CODES[1]
    assert events == full.process(text(1), RECV)[0]
    assert live.process_live("pong", RECV)[1] == full.process("pong", RECV)[1]


# -- replay's bulk form ------------------------------------------------------------------------


def recorded(session: list) -> list[tuple[RecordKind, int, bytes]]:
    """The session as a recording holds it: text frames as UTF-8 (binary ones are journalled
    as a marker instead, and a text with a lone surrogate never passes the WebSocket's UTF-8
    check), with a record of another kind here and there."""
    entries = []
    for index, (text, recv_ns) in enumerate(session):
        if isinstance(text, str):
            with contextlib.suppress(UnicodeEncodeError):
                entries.append((RecordKind.INBOUND, recv_ns, text.encode()))
        if index % 7 == 3:
            entries.append((RecordKind.MARKER, recv_ns, b'{"marker":"x"}'))
    return entries


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(sessions, st.booleans(), st.booleans(), st.integers(1, 5), st.booleans())
def test_process_recorded_gives_what_process_events_gives_frame_by_frame(
    session, updates, backfill, limit, subscribed
):
    entries = recorded(session)
    bulk, single = (
        FrameProcessor(None, source="t", max_bytes=4096, updates=updates, backfill=backfill)
        for _ in range(2)
    )
    if subscribed:
        for processor in (bulk, single):
            processor.set_subscriptions(SubscriptionSet([Subscription(code=CODES[0])]))
    # Batches as replay makes them: one is full after the frame that brings it to `limit`.
    expected: list[list[str]] = []
    batch: list[Any] = []
    for kind, recv_ns, payload in entries:
        if kind is RecordKind.INBOUND:
            batch += single.process_events(payload.decode(), recv_ns)
        if len(batch) >= limit:
            expected.append([repr(e) for e in batch])
            batch = []
    expected.append([repr(e) for e in batch])
    got: list[list[str]] = []
    batch = []
    index = 0
    while index < len(entries):
        if entries[index][0] is RecordKind.INBOUND:
            index = bulk.process_recorded(entries, index, batch, limit)
        else:
            index += 1
        if len(batch) >= limit:
            got.append([repr(e) for e in batch])
            batch = []
    got.append([repr(e) for e in batch])
    assert got == expected
    assert bulk.statistics() == single.statistics()
    assert bulk.take_backfill_requests() == single.take_backfill_requests()


def test_process_recorded_takes_the_fast_path_for_frames_of_known_streams():
    processor = FrameProcessor(None, source="t")
    entries = [(RecordKind.INBOUND, RECV, single_bar(m).encode()) for m in range(100)]
    calls = []
    original = processor._bars.bar_values_into

    def counting(*args: Any) -> Any:
        result = original(*args)
        calls.append(result)
        return result

    processor._bars.bar_values_into = counting  # type: ignore[method-assign]
    out: list[Any] = []
    assert processor.process_recorded(entries, 0, out, 10**9) == 100
    assert calls == [False] + [True] * 99  # the first frame makes the stream known
    assert processor.statistics().frames == {"SERIES": 100}
    assert len(out) == 99 + 100  # 99 final bars, 100 updates
