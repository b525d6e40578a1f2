"""Live ingest over loopback and replay speed of recordings.

    python bench/bench_live.py [--frames 200000] [--rate 5000]

The server is a separate process, so that it never competes with the client inside one event
loop. It does the HTTP upgrade with the sans-IO server protocol of the ``websockets`` package,
then writes WebSocket frames that were encoded (adapter's encoder, then framed unmasked by the
same sans-IO protocol) before the first send, in chunks of about 256 KiB with one
``send_all`` each: sending costs it a fraction of a microsecond per frame, far less than any
client below, so on two cores the client is what is measured. A raw drain (the client reads
bytes and counts nothing) shows the server's and loopback's ceiling in the same run.

1. Ingest, one server run per client, each in the same run and on the same frames:
   (a) a bare trio-websocket receive loop (one ``get_message`` per message);
   (b) a bare loop of ``websockets``' sans-IO ``ClientProtocol`` over a Trio stream, handing
       every message of one socket read on as one batch;
   (c) the full live path (InsightSentryFeed → outbox → engine → bus → a strategy's
       ``on_bar_update``), recording on, counting frames delivered (no loss).
   Each reports frames/s and the client's CPU time per frame, which a busy machine disturbs
   far less than the rates (on two cores the server and the client each want one); the ratios
   of (c) to (a) and (b) are the figures to compare across machines.
2. Latency: the server paces frames at --rate frames/s, one write per frame, and stamps each
   with the monotonic send time (carried in the bar's volume field); the strategy measures
   send → callback on the full path.
3. Replay: the frames journalled during (1c) are replayed through RecordingFeed and the
   engine; baseline in the same run: orjson.loads of the same frames in a plain loop.

``PYTHONPATH=<another checkout> python bench/bench_live.py`` measures that tree's full path
against the same server and bare loops (a before/after comparison on one machine).
"""

from __future__ import annotations

import argparse
import functools
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
from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

from framework.adapters.insightsentry import (
    HeartbeatFrame,
    SeriesFrame,
    SeriesPoint,
    encode_frame,
)

T0 = 1_767_571_200  # 2026-01-05T00:00:00Z
S = 1_000_000_000
#: Bytes of pre-framed data per server write in unpaced runs.
CHUNK = 256 * 1024
#: Bytes asked of the socket per read by the bare sans-IO loop and the raw drain.
READ = 64 * 1024


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


def framed(protocol: ServerProtocol, text: str) -> bytes:
    """``text`` as one unmasked server frame, the bytes a server writes for it."""
    protocol.send_text(text.encode())
    return b"".join(protocol.data_to_send())


async def serve(port_file: str, frames: int, rate: float) -> None:
    # Unpaced runs measure no latency (stamp 0), so every frame is framed before the port is
    # published; the same bytes serve every connection.
    framer = ServerProtocol(max_size=None, state=State.OPEN)
    wire = b"" if rate else b"".join(framed(framer, frame(index, 0)) for index in range(frames))

    async def handler(stream: trio.SocketStream) -> None:
        try:
            async with stream:
                await session(stream)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the client hangs up once it has what it measures: the normal end

    async def session(stream: trio.SocketStream) -> None:
        protocol = ServerProtocol(max_size=None)
        subscribed = False
        while not subscribed:  # the upgrade, then the subscription (or anything else)
            data = await stream.receive_some(READ)
            if not data:
                return
            protocol.receive_data(data)
            for event in protocol.events_received():
                if isinstance(event, Request):
                    protocol.send_response(protocol.accept(event))
                elif not isinstance(event, Response):
                    subscribed = True
            await stream.send_all(b"".join(protocol.data_to_send()))
        if rate:
            per_tick = max(1, int(rate / 1000))
            index = 0
            while index < frames:
                for _ in range(per_tick):
                    await stream.send_all(framed(protocol, frame(index, time.monotonic_ns())))
                    index += 1
                await trio.sleep(per_tick / rate)
        else:
            for start in range(0, len(wire), CHUNK):
                await stream.send_all(wire[start : start + CHUNK])
        heartbeat = HeartbeatFrame(server_time_ns=(T0 + 60 * frames + 120) * S)
        await stream.send_all(framed(protocol, encode_frame(heartbeat)))
        # Until the client hangs up; a close frame is answered (the protocol echoes it).
        while data := await stream.receive_some(READ):
            protocol.receive_data(data)
            await stream.send_all(b"".join(protocol.data_to_send()))
            if protocol.close_expected():
                return

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            functools.partial(trio.serve_tcp, handler, 0, host="127.0.0.1")
        )
        port = listeners[0].socket.getsockname()[1]
        await trio.Path(port_file).write_text(str(port))


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
        if process.poll() is not None:
            raise SystemExit(f"the bench server exited with {process.returncode}")
        time.sleep(0.01)
    return process, f"ws://127.0.0.1:{Path(port_file).read_text()}/live"


def cpu_per_frame(started: float, frames: int) -> float:
    """Microseconds of this process's CPU time per frame since ``started``."""
    return (time.process_time() - started) / frames * 1e6


async def sans_io_open(url: str) -> tuple[trio.SocketStream, ClientProtocol, list[str]]:
    """Upgrade and subscribe with the sans-IO client; messages that came with the 101."""
    uri = parse_uri(url)
    stream = await trio.open_tcp_stream(uri.host, uri.port)
    protocol = ClientProtocol(uri, max_size=None)
    protocol.send_request(protocol.connect())
    await stream.send_all(b"".join(protocol.data_to_send()))
    while True:
        protocol.receive_data(await stream.receive_some(READ))
        events = protocol.events_received()
        if events:
            break
    protocol.send_text(b"{}")
    await stream.send_all(b"".join(protocol.data_to_send()))
    early = [e.data.decode() for e in events if not isinstance(e, Response)]
    return stream, protocol, early


async def raw_drain(url: str, frames: int) -> float:
    """Frames/s the server and loopback deliver to a client that reads bytes and nothing
    else (counted from the bytes: every frame here has the same length)."""
    stream, _, early = await sans_io_open(url)
    size = len(frame(0, 0)) + 4  # 2-byte header, 2-byte extended length (126..65535 bytes)
    wanted = (frames - 1 - len(early)) * size
    received = 0
    started = time.perf_counter()
    while received < wanted:
        received += len(await stream.receive_some(READ))
    elapsed = time.perf_counter() - started
    await stream.aclose()
    return (frames - 1) / elapsed


async def bare_trio_websocket(url: str, frames: int) -> float:
    async with trio_websocket.open_websocket_url(url, message_queue_size=16) as ws:
        await ws.send_message("{}")
        await ws.get_message()
        started = time.perf_counter()
        for _ in range(frames - 1):
            await ws.get_message()
        return (frames - 1) / (time.perf_counter() - started)


async def bare_sans_io(url: str, frames: int) -> float:
    stream, protocol, early = await sans_io_open(url)
    text = Opcode.TEXT
    count = len(early)
    started = time.perf_counter()
    while count < frames:
        data = await stream.receive_some(READ)
        protocol.receive_data(data)
        batch = [e.data.decode() for e in protocol.events_received() if e.opcode is text]
        count += len(batch)
        if protocol.writes:  # a pong, say
            await stream.send_all(b"".join(protocol.data_to_send()))
    elapsed = time.perf_counter() - started
    await stream.aclose()
    return (frames - 1) / elapsed


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


def measured(client, *args):  # type: ignore[no-untyped-def]
    """Run ``client`` against a fresh server of ``args[-1]`` unpaced frames; (result, CPU
    µs/frame of this process)."""
    frames = args[-1] if len(args) == 1 else args[0]
    process, url = start_server(frames, 0)
    try:
        cpu = time.process_time()
        result = trio.run(client, url, *args)
        return result, cpu_per_frame(cpu, frames)
    finally:
        process.kill()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200_000)
    parser.add_argument("--rate", type=float, default=5_000.0)
    parser.add_argument("--serve", metavar="PORT_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        trio.run(serve, args.serve, args.frames, args.rate if args.rate else 0.0)
        return

    n = args.frames
    # Imported before any timing, so that import work is not charged to a run.
    import framework.adapters.insightsentry._session  # noqa: F401

    drain, drain_cpu = measured(raw_drain, n)
    bare, bare_cpu = measured(bare_trio_websocket, n)
    sans_io, sans_io_cpu = measured(bare_sans_io, n)
    journal = Path(tempfile.mkdtemp()) / "bench.twrec"
    (ingest, delivered, _), ingest_cpu = measured(full_path, n, journal)

    paced = min(n, int(args.rate * 4))
    process, url = start_server(paced, args.rate)
    try:
        _, paced_delivered, latencies = trio.run(full_path, url, paced, None)
    finally:
        process.kill()
        process.wait()
    latencies.sort()
    p50 = latencies[len(latencies) // 2] / 1e6
    p99 = latencies[int(len(latencies) * 0.99)] / 1e6

    replay_rate, decode_rate, replayed = replay(journal)
    print(f"frames                                  {n:,}")
    print(
        f"raw drain (server + loopback ceiling)   {drain:12,.0f} frames/s  "
        f"(client CPU {drain_cpu:.1f} µs/frame)"
    )
    print(
        f"(a) bare trio-websocket receive loop    {bare:12,.0f} frames/s  "
        f"(client CPU {bare_cpu:.1f} µs/frame)"
    )
    print(
        f"(b) bare sans-IO loop, batch per read   {sans_io:12,.0f} frames/s  "
        f"(client CPU {sans_io_cpu:.1f} µs/frame)"
    )
    print(
        f"(c) live feed → strategy (no loss)      {ingest:12,.0f} frames/s  "
        f"({delivered:,}/{n:,} delivered, recording on; client CPU {ingest_cpu:.1f} µs/frame)"
    )
    print(f"  (c) / (a)  rate {ingest / bare:6.3f}   CPU per frame {ingest_cpu / bare_cpu:6.3f}")
    print(
        f"  (c) / (b)  rate {ingest / sans_io:6.3f}   CPU per frame {ingest_cpu / sans_io_cpu:6.3f}"
    )
    print(
        f"latency send → on_bar_update at {args.rate:,.0f}/s  p50 {p50:.3f} ms  "
        f"p99 {p99:.3f} ms  ({paced_delivered:,} frames, mean "
        f"{statistics.fmean(latencies) / 1e6:.3f} ms)"
    )
    print(f"replay of the recording                 {replay_rate:12,.0f} frames/s ({replayed:,})")
    print(f"  orjson.loads of the same frames       {decode_rate:12,.0f} frames/s")
    print(f"  ratio                                 {replay_rate / decode_rate:12.3f}")


if __name__ == "__main__":
    main()
