"""Live ingest over loopback and replay speed of recordings.

    python bench/bench_live.py [--frames 100000] [--rate 5000]

1. Ingest: a separate server process streams single-bar series frames (written with the
   adapter's encoder before the first send) over a real WebSocket on 127.0.0.1 as fast as it
   can; the client is the full live path (InsightSentryFeed → outbox → engine → bus → a
   strategy's on_bar_update). Reports frames/s delivered with no loss, and
   in the same run the rate of a bare trio-websocket receive loop (the transport's ceiling).
   Both also report the client's CPU time per frame, which a busy machine disturbs far less
   than the rates (on two cores the server and the client each want one).
2. Latency: the server paces frames at --rate frames/s and stamps each with the monotonic
   send time (carried in the bar's volume field); the strategy measures send → callback.
3. Replay: the frames journalled during (1) are replayed through RecordingFeed and the engine;
   baseline in the same run: orjson.loads of the same frames in a plain loop.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
import trio
import trio_websocket

from framework.adapters.insightsentry import (
    HeartbeatFrame,
    SeriesFrame,
    SeriesPoint,
    encode_frame,
)

T0 = 1_767_571_200  # 2026-01-05T00:00:00Z
S = 1_000_000_000


def frame(index: int, stamp: int) -> str:
    # A new 1m bar per frame (so each frame also finalises the previous one); volume carries
    # the send time so the client can measure latency (an int: a float would round it).
    t = T0 + 60 * index
    bar = SeriesPoint(time_ns=t * S, open=100.0, high=101.0, low=99.0, close=100.5, volume=stamp)
    update = SeriesFrame(
        code="BENCH:SYM",
        bar_label="1m",
        bar_end_ns=(t + 59) * S,
        last_update_ns=t * S,
        points=(bar,),
    )
    return encode_frame(update)


async def serve(port_file: str, frames: int, rate: float) -> None:
    async def handler(request: trio_websocket.WebSocketRequest) -> None:
        # The client hangs up once it has what it measures; that is the normal end.
        with contextlib.suppress(trio_websocket.ConnectionClosed):
            await stream(await request.accept())

    async def stream(ws: trio_websocket.WebSocketConnection) -> None:
        await ws.get_message()  # the subscription
        if rate:
            per_tick = max(1, int(rate / 1000))
            index = 0
            while index < frames:
                for _ in range(per_tick):
                    await ws.send_message(frame(index, time.monotonic_ns()))
                    index += 1
                await trio.sleep(per_tick / rate)
        else:
            # Encoded before the first send, so the sending side costs one socket write per
            # frame and the rate is the client's. Unpaced runs measure no latency: stamp 0.
            texts = [frame(index, 0) for index in range(frames)]
            for text in texts:
                await ws.send_message(text)
        await ws.send_message(
            encode_frame(HeartbeatFrame(server_time_ns=(T0 + 60 * frames + 120) * S))
        )
        await trio.sleep(30)

    async with trio.open_nursery() as nursery:
        server = await nursery.start(trio_websocket.serve_websocket, handler, "127.0.0.1", 0, None)
        await trio.Path(port_file).write_text(str(server.port))


def start_server(frames: int, rate: float) -> tuple[subprocess.Popen[bytes], str]:
    port_file = tempfile.mktemp()
    process = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            port_file,
            "--frames",
            str(frames),
            "--rate",
            str(rate),
        ]
    )
    while not os.path.exists(port_file) or not Path(port_file).read_text():
        time.sleep(0.01)
    return process, f"ws://127.0.0.1:{Path(port_file).read_text()}/live"


def cpu_per_frame(started: float, frames: int) -> float:
    """Microseconds of this process's CPU time per frame since ``started``."""
    return (time.process_time() - started) / frames * 1e6


async def bare_receive(url: str, frames: int) -> float:
    async with trio_websocket.open_websocket_url(url, message_queue_size=16) as ws:
        await ws.send_message("{}")
        await ws.get_message()
        started = time.perf_counter()
        for _ in range(frames - 1):
            await ws.get_message()
        return (frames - 1) / (time.perf_counter() - started)


async def full_path(url: str, frames: int, journal: Path | None) -> tuple[float, int, list[int]]:
    from framework import BarUpdate, Engine, Strategy
    from framework.adapters.insightsentry import LiveFeedConfig, Subscription
    from framework.adapters.insightsentry._session import open_live_feed

    done = trio.Event()
    latencies: list[int] = []
    seen = [0, 0.0]

    class Count(Strategy):
        def on_bar_update(self, update: BarUpdate) -> None:
            now = time.monotonic_ns()
            if seen[0] == 0:
                seen[1] = time.perf_counter()
            seen[0] += 1
            latencies.append(now - int(update.volume))
            if seen[0] == frames:
                done.set()

    config = LiveFeedConfig(idle_timeout=60.0, max_bad_frames_per_minute=10**9)
    async with open_live_feed(
        [Subscription(code="BENCH:SYM")], api_key="bench", url=url, record=journal, config=config
    ) as feed:
        engine = Engine(feeds=[feed], strategies=[Count()])
        async with trio.open_nursery() as nursery:
            nursery.start_soon(engine.run)
            await done.wait()
            elapsed = time.perf_counter() - seen[1]
            engine.stop()
    return (frames - 1) / elapsed, seen[0], latencies


def replay(journal: Path) -> tuple[float, float, int]:
    from framework import Engine, Strategy
    from framework.adapters.insightsentry import RecordingFeed
    from framework.recording import RecordKind, read_recording

    texts = [r.payload for r in read_recording(journal) if r.kind == RecordKind.INBOUND]
    started = time.perf_counter()
    for text in texts:
        orjson.loads(text)
    baseline = len(texts) / (time.perf_counter() - started)

    class Nothing(Strategy):
        def on_bar_update(self, update: object) -> None:
            pass

    engine = Engine(feeds=[RecordingFeed(journal)], strategies=[Nothing()])
    started = time.perf_counter()
    trio.run(engine.run)
    ours = len(texts) / (time.perf_counter() - started)
    return ours, baseline, len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=5_000.0)
    parser.add_argument("--serve", metavar="PORT_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        trio.run(serve, args.serve, args.frames, args.rate if args.rate else 0.0)
        return

    n = args.frames
    # Imported before any timing, so that import work is not charged to a run.
    import framework.adapters.insightsentry._session  # noqa: F401

    process, url = start_server(n, 0)
    cpu = time.process_time()
    bare = trio.run(bare_receive, url, n)
    bare_cpu = cpu_per_frame(cpu, n)
    process.kill()

    journal = Path(tempfile.mkdtemp()) / "bench.twrec"
    process, url = start_server(n, 0)
    cpu = time.process_time()
    ingest, delivered, _ = trio.run(full_path, url, n, journal)
    ingest_cpu = cpu_per_frame(cpu, n)
    process.kill()

    paced = min(n, int(args.rate * 4))
    process, url = start_server(paced, args.rate)
    _, paced_delivered, latencies = trio.run(full_path, url, paced, None)
    process.kill()
    latencies.sort()
    p50 = latencies[len(latencies) // 2] / 1e6
    p99 = latencies[int(len(latencies) * 0.99)] / 1e6

    replay_rate, decode_rate, replayed = replay(journal)
    print(f"frames                               {n:,}")
    print(
        f"bare trio-websocket receive loop     {bare:12,.0f} frames/s  "
        f"(client CPU {bare_cpu:.1f} µs/frame)"
    )
    print(
        f"live feed → strategy (no loss)       {ingest:12,.0f} frames/s  "
        f"({delivered:,}/{n:,} delivered, recording on; client CPU {ingest_cpu:.1f} µs/frame)"
    )
    print(f"  ratio to the bare receive loop     {ingest / bare:12.3f}")
    print(
        f"latency send → on_bar_update at {args.rate:,.0f}/s  p50 {p50:.3f} ms  "
        f"p99 {p99:.3f} ms  ({paced_delivered:,} frames, mean "
        f"{statistics.fmean(latencies) / 1e6:.3f} ms)"
    )
    print(f"replay of the recording              {replay_rate:12,.0f} frames/s ({replayed:,})")
    print(f"  orjson.loads of the same frames    {decode_rate:12,.0f} frames/s")
    print(f"  ratio                              {replay_rate / decode_rate:12.3f}")


if __name__ == "__main__":
    main()
