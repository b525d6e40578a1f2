"""Replay hands runs of recorded frames to the processor in bulk, and delivers exactly what
handling one record at a time delivers, in the same batches."""

import random
from pathlib import Path
from typing import Any

import trio

from framework import Event, FeedConnected
from framework.adapters.insightsentry import (
    FrameProcessor,
    HeartbeatFrame,
    QuoteFields,
    QuotesFrame,
    RecordingFeed,
    SeriesFrame,
    SeriesPoint,
    Subscription,
    encode_frame,
    encode_subscribe,
)
from framework.adapters.insightsentry._processor import connection_payload
from framework.feeds import REPLAY_BATCH_SIZE
from framework.recording import RecordingWriter, RecordKind, read_recording

S = 1_000_000_000
T0 = 1_767_571_200
CODES = ("NASDAQ:AAPL", "NASDAQ:MSFT", "NASDAQ:TSLA")


def series(rng: random.Random, code: str, minute: int) -> str:
    low = rng.uniform(50, 100)
    high = low * rng.uniform(1.0, 1.02)
    bar = SeriesPoint(
        time_ns=(T0 + 60 * minute) * S,
        open=rng.uniform(low, high),
        high=high,
        low=low,
        close=rng.uniform(low, high),
        volume=rng.choice((float(rng.randrange(1000)), rng.randrange(1000), None)),
    )
    frame = SeriesFrame(
        code=code,
        bar_label="1m",
        bar_end_ns=(T0 + 60 * minute + 59) * S,
        last_update_ns=(T0 + 60 * minute + rng.randrange(60)) * S,
        points=(bar,),
    )
    return encode_frame(frame)


def write_session(path: Path, frames: int, seed: int = 7) -> None:
    """A session of mixed records: subscriptions (changed half-way), connection changes,
    single-bar updates of three streams going back and forth in time, quotes, heartbeats,
    refused frames and markers."""
    rng = random.Random(seed)
    subs = [Subscription(code=code) for code in CODES] + [
        Subscription(code="NASDAQ:AAPL", type="quote")
    ]
    minutes = dict.fromkeys(CODES, 0)
    with RecordingWriter.open(path, meta={}) as writer:
        wall = T0 * S

        def add(kind: RecordKind, payload: str | bytes) -> None:
            nonlocal wall
            wall += rng.randrange(1, 10**8)
            data = payload.encode() if isinstance(payload, str) else payload
            writer.append(kind, data, wall, wall)

        add(RecordKind.OUTBOUND, encode_subscribe("key", subs))
        event = FeedConnected(feed="live", attempt=1, ts_event=wall, ts_recv=wall)
        add(RecordKind.CONNECTION, connection_payload(event))
        for index in range(frames):
            if index == frames // 2:  # MSFT dropped, then taken again later
                add(RecordKind.OUTBOUND, encode_subscribe("key", subs[:1] + subs[2:]))
            if index == 3 * frames // 4:
                add(RecordKind.OUTBOUND, encode_subscribe("key", subs))
            roll = rng.random()
            code = rng.choice(CODES)
            if roll < 0.75:
                minutes[code] += rng.choice((0, 0, 0, 1, 1, 2, -1))
                add(RecordKind.INBOUND, series(rng, code, max(minutes[code], 0)))
            elif roll < 0.85:
                bid = rng.uniform(10, 11)
                entry = QuoteFields(code="NASDAQ:AAPL", bid=bid, ask=bid + rng.uniform(-0.1, 1))
                quotes = QuotesFrame(
                    legacy=False, last_update_ns=None, total_items=None, entries=(entry,)
                )
                add(RecordKind.INBOUND, encode_frame(quotes))
            elif roll < 0.9:
                server_ns = (T0 + 60 * max(minutes.values()) + rng.randrange(120)) * S
                add(RecordKind.INBOUND, encode_frame(HeartbeatFrame(server_time_ns=server_ns)))
            elif roll < 0.95:
                add(RecordKind.INBOUND, rng.choice(("{not json", "pong", '{"series":[]}', "[1]")))
            else:
                add(RecordKind.MARKER, b'{"marker":"anything"}')


def reference_batches(path: Path) -> list[list[Event]]:
    """What replay delivered handling one record at a time (before records went in bulk)."""
    feed = RecordingFeed(path)
    processor = FrameProcessor(None, source=feed.name)
    feed._processor = processor
    batches: list[list[Event]] = []
    batch: list[Event] = []
    for kind, ts, payload in read_recording(path).entries():
        if kind is RecordKind.INBOUND:
            batch += processor.process_events(payload.decode("utf-8"), ts)
        else:
            batch += feed._replay_other(kind, ts, payload)
        if len(batch) >= REPLAY_BATCH_SIZE:
            batches.append(batch)
            batch = []
    if batch:
        batches.append(batch)
    return batches


async def replayed_batches(feed: RecordingFeed) -> list[Any]:
    send, receive = trio.open_memory_channel[Any](1_000)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(feed.run, send)
        return [batch async for batch in receive]


async def test_replay_in_bulk_delivers_the_same_batches_as_one_record_at_a_time(tmp_path):
    path = tmp_path / "session.twrec"
    write_session(path, 6_000)
    expected = reference_batches(path)
    assert len(expected) > 3  # several batches, several subscription changes
    with trio.fail_after(60):
        got = await replayed_batches(RecordingFeed(path))
    assert [len(b) for b in got] == [len(b) for b in expected]
    assert [[repr(e) for e in b] for b in got] == [[repr(e) for e in b] for b in expected]


async def test_replay_in_bulk_and_paced_replay_deliver_the_same_events(tmp_path):
    path = tmp_path / "session.twrec"
    write_session(path, 2_000, seed=11)
    with trio.fail_after(60):
        bulk = await replayed_batches(RecordingFeed(path))
        paced = await replayed_batches(RecordingFeed(path, speed=1e15))
    assert [e for b in bulk for e in b] == [e for b in paced for e in b]


async def test_replay_in_bulk_counts_what_one_record_at_a_time_counts(tmp_path):
    path = tmp_path / "session.twrec"
    write_session(path, 3_000, seed=3)
    feed = RecordingFeed(path)
    with trio.fail_after(60):
        await replayed_batches(feed)
    reference = RecordingFeed(path)
    processor = FrameProcessor(None, source=reference.name)
    reference._processor = processor
    for kind, ts, payload in read_recording(path).entries():
        if kind is RecordKind.INBOUND:
            processor.process_events(payload.decode("utf-8"), ts)
        else:
            reference._replay_other(kind, ts, payload)
    assert feed.statistics() == processor.statistics()
    assert feed.statistics().frames["SERIES"] > 1_000


def test_entry_batches_are_the_entries_in_order(tmp_path):
    path = tmp_path / "session.twrec"
    write_session(path, 20_000, seed=5)
    recording = read_recording(path)
    batches = list(recording.entry_batches())
    assert len(batches) > 1  # more than one read chunk
    assert [e for b in batches for e in b] == list(recording.entries())
    assert [(r.kind, r.recv_wall_ns, r.payload) for r in recording] == list(recording.entries())
