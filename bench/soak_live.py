"""Soak of the live path: a paper session on hundreds of symbols through scheduled faults.

    python bench/soak_live.py [--frames 10000000] [--symbols 500] [--seed N]

The simulated InsightSentry server runs in a process of its own (pinned to CPU 0) under
compressed time: one simulated second per market step, ``--trade-interval`` real seconds a
step (40x by default). It serves ``--symbols`` codes, 60% as bar series (1s, 1m, 5m and 15m
in turn, 100 bars a burst) and 40% as quote streams, and fires faults at total frame counts
drawn from the seed: close handshakes (1011, 1001), TCP drops with FIN and with RST, stalls
longer than the client's idle timeout, server errors that ask for a reconnect (server_busy,
internal_server_error), evictions (marked retryable: the server's own eviction says
``retryable: false``, which ends the feed), and frames that must be rejected without costing
the connection (garbage, oversized, five hostile kinds, throttle notices, a request to resend
the subscriptions). It also writes down every final bar its market made, per stream, so
nothing the client got is compared with anything but the truth.

The client (this process, pinned to CPU 1, so its RSS is its own) is the honest live path:
``paper_trade`` with a paper journal and a recording, REST backfill on, and a checking
strategy that trades a little and keeps, per stream, a digest of the final bars it got, in
order, plus duplicates and bars out of order. Now and then the client changes its
subscription set: a few series and quote codes dropped, as many new ones added.

When the client has received ``--frames`` frames it freezes the server's market, waits until
every stream still subscribed has delivered the market's last final bar (and every quote
stream its last quote), and stops. Then it checks:

- the recording, replayed through ``RecordingFeed``, gives the same final bars (digest and
  count per stream) as the live session;
- every final bar of the replay equals the market's bar with that open time (OHLCV), none
  is doubled, none comes out of order, and between the first and the last bar delivered of a
  stream no bar of the market is missing; streams still subscribed reached the market's
  last final bar;
- the last quote of every quote stream still subscribed equals the market's.

Printed at the end: frames sent by the server and received by the client, final bars
expected and delivered, resubscriptions, reconnects by reason, faults fired, reconnect
delays, seconds disconnected, what was logged, and the client's RSS every 5 s with the slope
over the second half. The exit status is 1 when a final bar was lost, doubled, out of
order or wrong, or the replay differs.

``--no-faults`` runs the same load without faults or resubscriptions (a baseline);
``--workdir DIR`` keeps the recording, the journal, the truth and both processes' stderr
there (otherwise they go to a temporary directory, removed at the end unless ``--keep``).
The 10,000,000-frame run takes about 25 minutes on two cores and writes about 5 GB.
"""

from __future__ import annotations

import argparse
import array
import bisect
import collections
import contextlib
import hashlib
import json
import logging
import os
import random
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import attrs
import orjson
import trio

from framework import (
    Bar,
    BarGap,
    DataRejected,
    Engine,
    Event,
    FeedConnected,
    FeedDisconnected,
    Interval,
    Quote,
    Strategy,
)
from framework.adapters.insightsentry import (
    InsightSentryFeed,
    LiveFeedConfig,
    RecordingFeed,
    Subscription,
)
from framework.adapters.insightsentry.sim import (
    DEFAULT_API_KEY,
    Fault,
    FaultSpec,
    Hostile,
    SimConfig,
    SimulatedServer,
)

NANOS = 1_000_000_000

#: Bar sizes of the series, in turn.
INTERVALS = (
    Interval("second", 1),
    Interval("minute", 1),
    Interval("minute", 5),
    Interval("minute", 15),
)
#: Initial bars asked for per series (``max_dp``); also what every reconnect burst repeats.
BURST_BARS = 100
#: Share of the symbols that are bar series; the rest are quote streams.
SERIES_SHARE = 0.6
#: Real seconds between the server's ``server_time`` heartbeats.
HEARTBEAT_S = 1.0
#: The client's deadlines, in real seconds (the server's clock runs 40x by default).
CLIENT_CONFIG = LiveFeedConfig(connect_timeout=5.0, close_timeout=2.0, idle_timeout=5.0)
#: A stall lasts this long: longer than the client's idle timeout.
STALL_S = 8.0
#: Seconds between RSS samples.
RSS_EVERY_S = 5.0
#: After the freeze, how long the client may take to deliver the market's last bars.
DRAIN_DEADLINE_S = 300.0

#: Faults that cost the connection, and those that must not.
DISCONNECTS: tuple[tuple[str, FaultSpec], ...] = (
    ("close 1011", FaultSpec(fault=Fault.CLOSE, code=1011, reason="soak")),
    ("close 1001", FaultSpec(fault=Fault.CLOSE, code=1001, reason="going away")),
    ("drop FIN", FaultSpec(fault=Fault.DROP)),
    ("drop RST", FaultSpec(fault=Fault.DROP, reset=True)),
    ("stall", FaultSpec(fault=Fault.STALL, duration=STALL_S)),
    ("error server_busy", FaultSpec(fault=Fault.ERROR, error="server_busy")),
    ("error internal_server_error", FaultSpec(fault=Fault.ERROR, error="internal_server_error")),
    # The server's own eviction says retryable: false, which ends the feed for good
    # (FeedTerminated); a session that must run for days meets the retryable kind here.
    (
        "evict (retryable)",
        FaultSpec(fault=Fault.ERROR, error="connection_evicted", retryable=True),
    ),
)
NUISANCES: tuple[tuple[str, FaultSpec], ...] = (
    ("garbage", FaultSpec(fault=Fault.GARBAGE)),
    ("oversized", FaultSpec(fault=Fault.OVERSIZED, size=1_500_000)),
    *(
        (f"hostile {kind.value}", FaultSpec(fault=Fault.HOSTILE_JSON, hostile=kind))
        for kind in Hostile
    ),
    ("throttle", FaultSpec(fault=Fault.THROTTLE)),
    (
        "error temporarily_unavailable",
        FaultSpec(fault=Fault.ERROR, error="temporarily_unavailable"),
    ),
)

_BAR = struct.Struct("<q5d")


class SoakError(Exception):
    """The soak could not run (not: it ran and found a fault)."""


# -- the plan, the same in both processes ------------------------------------------------------


@attrs.frozen(kw_only=True)
class Plan:
    """Everything the seed decides: codes, subscriptions, the fault and resubscription
    schedules."""

    seed: int
    frames: int
    series: tuple[tuple[str, Interval], ...]
    quotes: tuple[str, ...]
    reserve_series: tuple[tuple[str, Interval], ...]
    reserve_quotes: tuple[str, ...]
    #: (total server frames, label, fault), in order.
    faults: tuple[tuple[int, str, FaultSpec], ...]
    #: Client frames at which the subscription set changes.
    resubscriptions: tuple[int, ...]
    drop_series: int
    drop_quotes: int

    @classmethod
    def build(cls, *, seed: int, frames: int, symbols: int, with_faults: bool = True) -> Plan:
        rng = random.Random(f"soak:{seed}")
        n_series = max(1, round(symbols * SERIES_SHARE))
        n_quotes = max(1, symbols - n_series)
        n_resubs = max(3, frames // 750_000)
        drop_series = max(1, round(n_series / 60))
        drop_quotes = max(1, round(n_quotes / 60))

        def series(prefix: str, count: int) -> tuple[tuple[str, Interval], ...]:
            return tuple(
                (f"SOAK:{prefix}{i:04d}", INTERVALS[i % len(INTERVALS)]) for i in range(count)
            )

        faults: list[tuple[int, str, FaultSpec]] = []
        for kinds, count in (
            (DISCONNECTS, max(len(DISCONNECTS), frames // 300_000)),
            (NUISANCES, max(len(NUISANCES), frames // 100_000)),
        ):
            order: list[tuple[str, FaultSpec]] = []
            while len(order) < count:
                batch = list(kinds)
                rng.shuffle(batch)
                order.extend(batch)
            at = sorted(rng.randint(frames * 3 // 100, frames * 93 // 100) for _ in range(count))
            faults.extend(
                (when, label, spec) for when, (label, spec) in zip(at, order[:count], strict=True)
            )
        faults.sort(key=lambda fault: fault[0])
        step = frames * 75 // 100 // n_resubs
        resubs = tuple(frames // 10 + i * step + rng.randint(0, step // 4) for i in range(n_resubs))
        if not with_faults:
            faults, resubs = [], ()
        return cls(
            seed=seed,
            frames=frames,
            series=series("S", n_series),
            quotes=tuple(f"SOAK:Q{i:04d}" for i in range(n_quotes)),
            reserve_series=series("T", n_resubs * drop_series),
            reserve_quotes=tuple(f"SOAK:R{i:04d}" for i in range(n_resubs * drop_quotes)),
            faults=tuple(faults),
            resubscriptions=resubs,
            drop_series=drop_series,
            drop_quotes=drop_quotes,
        )

    def all_series(self) -> tuple[tuple[str, Interval], ...]:
        return self.series + self.reserve_series

    def all_quotes(self) -> tuple[str, ...]:
        return self.quotes + self.reserve_quotes


def stream_name(code: str, label: str) -> str:
    return f"{code}@{label}"


# -- the server process ------------------------------------------------------------------------


class MarketTruth:
    """Every final bar the market made, per series: read from the market often enough that it
    has not forgotten any (it keeps ``rest_max_dp`` per series), kept compactly."""

    def __init__(self, server: SimulatedServer, series: Sequence[tuple[str, Interval]]) -> None:
        self._server = server
        self._series = list(series)
        self.times: dict[str, array.array[int]] = {}
        self.values: dict[str, array.array[float]] = {}
        market = server.market
        for code, interval in self._series:
            # Tracked now, so every stream is in the market from the start (a code tracked
            # late replays its trades from the start: same bars, but a long stall then).
            market.track(code, interval)
            name = stream_name(code, interval.label)
            self.times[name] = array.array("q")
            self.values[name] = array.array("d")
            # The history a first burst can reach back to, then what is final already.
            self._append(name, market.bars(code, interval, BURST_BARS + 5), market, code, interval)

    def _append(
        self, name: str, bars: Sequence[Any], market: Any, code: str, interval: Interval
    ) -> None:
        current = market.current_bar(code, interval)
        times, values = self.times[name], self.values[name]
        for bar in bars:
            if current is not None and bar.ts_open >= current.ts_open:
                break
            if times and bar.ts_open <= times[-1]:
                continue
            times.append(bar.ts_open)
            values.extend((bar.open, bar.high, bar.low, bar.close, bar.volume))

    def poll(self) -> None:
        market = self._server.market
        for code, interval in self._series:
            name = stream_name(code, interval.label)
            times = self.times[name]
            since = times[-1] + 1 if times else 0
            self._append(name, market.bars_since(code, interval, since), market, code, interval)

    async def run(self) -> None:
        while not self._server.market_frozen:
            await trio.sleep(0.25)
            self.poll()

    def write(self, path: Path, quotes: Iterable[str]) -> dict[str, int]:
        """Write the truth to ``path``; returns the last final bar's open time per stream."""
        market = self._server.market
        document = {
            "series": {
                name: {"times": list(self.times[name]), "values": list(self.values[name])}
                for name in self.times
            },
            "quotes": {
                code: [
                    q.last_price,
                    q.bid,
                    q.ask,
                    q.bid_size,
                    q.ask_size,
                    q.volume,
                    q.ts_update,
                ]
                for code in quotes
                for q in [market.quote(code)]
            },
        }
        path.write_bytes(orjson.dumps(document))
        return {name: times[-1] for name, times in self.times.items() if times}


class FaultScheduler:
    """Fires the plan's faults at total frame counts; a fault that finds no open connection
    (the client is reconnecting) is tried again until one takes it."""

    def __init__(self, server: SimulatedServer, faults: Sequence[tuple[int, str, FaultSpec]]):
        self._server = server
        self._pending = collections.deque(faults)
        self.fired: collections.Counter[str] = collections.Counter()
        self.stopped = False

    async def run(self) -> None:
        while self._pending and not self.stopped:
            at, label, spec = self._pending[0]
            if self._server.statistics().frames_sent < at:
                await trio.sleep(0.02)
                continue
            with trio.move_on_after(10):
                if await self._server.inject(spec):
                    self.fired[label] += 1
                    self._pending.popleft()
                    continue
            await trio.sleep(0.05)


async def log_progress(server: SimulatedServer) -> None:
    """Every 30 s on stderr: frames sent, market steps, how far the market lags its clock."""
    while True:
        await trio.sleep(30)
        lag = (server.sim_time_ns() - server.market.now_ns) / NANOS
        print(
            f"server: {server.statistics().frames_sent:,} frames sent, "
            f"{server.market.steps:,} steps, market {lag:.1f} simulated s behind its clock, "
            f"CPU {time.process_time():.0f} s",
            file=sys.stderr,
            flush=True,
        )


def emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def serve(plan: Plan, workdir: Path, trade_interval: float) -> None:
    """The server process: serve, fire faults, keep the truth; answer ``freeze`` and ``quit``
    on stdin with a JSON line each on stdout."""
    config = SimConfig(
        seed=plan.seed,
        speed=1.0 / trade_interval,
        trade_interval=trade_interval,
        heartbeat_interval=HEARTBEAT_S,
        # The market keeps this many bars and trades per series: enough for any backfill of
        # an outage here (75 real s of 1s bars), and small enough that the server's heap
        # stays flat.
        rest_max_dp=3000,
    )
    server = SimulatedServer(config)
    commands = trio.lowlevel.FdStream(os.dup(sys.stdin.fileno()))
    async with trio.open_nursery() as nursery:
        url = await nursery.start(server.serve)
        truth = MarketTruth(server, plan.all_series())
        for code in plan.all_quotes():
            server.market.track(code)
        faults = FaultScheduler(server, plan.faults)
        nursery.start_soon(truth.run)
        nursery.start_soon(faults.run)
        nursery.start_soon(log_progress, server)
        emit(
            {
                "url": url,
                "rest_url": server.rest_url,
                "start_ns": config.start_time_ns,
                "speed": config.speed,
            }
        )
        buffer = b""
        while True:
            chunk = await commands.receive_some()
            if not chunk:
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                command = line.decode().strip()
                if command == "freeze":
                    faults.stopped = True
                    server.freeze_market()
                    truth.poll()
                    # In a thread: writing a few hundred MB must not silence the server (the
                    # client would time out on the missing heartbeats).
                    last = await trio.to_thread.run_sync(
                        truth.write, workdir / "truth.json", plan.all_quotes()
                    )
                    emit(
                        {
                            "truth": str(workdir / "truth.json"),
                            "last": last,
                            "market_ns": server.market.now_ns,
                            "frames_sent": server.statistics().frames_sent,
                            "faults": dict(faults.fired),
                            "faults_planned": len(plan.faults),
                            "quote_ts": {
                                code: server.market.quote(code).ts_update
                                for code in plan.all_quotes()
                            },
                        }
                    )
                elif command == "stats":
                    connections = server.connections()
                    emit(
                        {
                            "frames_sent": server.statistics().frames_sent,
                            "messages_received": server.statistics().messages_received,
                            "connections": len(connections),
                            "outcomes": collections.Counter(
                                c.outcome or "open" for c in connections
                            ),
                        }
                    )
                elif command == "quit":
                    nursery.cancel_scope.cancel()
                    return


# -- the client: a checking strategy -----------------------------------------------------------


class StreamCheck:
    """What one bar stream delivered: count, first and last open time, a digest of every bar
    in order, duplicates and bars out of order."""

    __slots__ = ("backfilled", "count", "digest", "duplicates", "first", "last", "out_of_order")

    def __init__(self) -> None:
        self.count = self.duplicates = self.out_of_order = self.backfilled = 0
        self.first: int | None = None
        self.last: int | None = None
        self.digest = hashlib.blake2b(digest_size=16)


class SoakChecker(Strategy):
    """Checks every final bar as it comes (once, in order) and digests it per stream; trades
    a little (``trade``) so the paper book and its journal have work; counts feed events.

    With ``truth`` (the replay), every bar is also compared with the market's."""

    def __init__(self, *, trade: bool, truth: Truth | None = None) -> None:
        super().__init__()
        self.trade = trade
        self.truth = truth
        self.streams: dict[str, StreamCheck] = {}
        self.quotes: dict[str, Quote] = {}
        self.quote_count = 0
        self.quote_backwards = 0
        self.connected: list[int] = []
        self.disconnects: list[FeedDisconnected] = []
        self.rejected: collections.Counter[str] = collections.Counter()
        self.gaps = 0
        self.orders = 0
        # with truth: bars compared, wrong values, bars not in the market, bars skipped
        self.compared = self.wrong = self.unknown = self.skipped = 0
        #: Market bars skipped, per stream: (first and last open time skipped, how many).
        self.holes: list[tuple[str, int, int, int]] = []
        #: BarGap events per stream: (first and last open time announced missing).
        self.gap_ranges: dict[str, list[tuple[int, int]]] = collections.defaultdict(list)
        self.wrong_examples: list[str] = []
        self._truth_index: dict[str, int] = {}
        self._waiting: trio.Event | None = None

    async def until(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate()`` holds, checking it after each bar, quote or feed event."""
        while not predicate():
            self._waiting = trio.Event()
            await self._waiting.wait()
        self._waiting = None

    def _changed(self) -> None:
        if self._waiting is not None:
            self._waiting.set()

    def on_bar(self, bar: Bar) -> None:
        name = f"{bar.symbol}@{bar.interval}"
        check = self.streams.get(name)
        if check is None:
            check = self.streams[name] = StreamCheck()
            check.first = bar.ts_open
        last = check.last
        if last is not None and bar.ts_open <= last:
            if bar.ts_open == last:
                check.duplicates += 1
            else:
                check.out_of_order += 1
            return
        check.last = bar.ts_open
        check.count += 1
        if bar.is_backfill:
            check.backfilled += 1
        check.digest.update(
            _BAR.pack(bar.ts_open, bar.open, bar.high, bar.low, bar.close, bar.volume)
        )
        if self.truth is not None:
            self._compare(name, bar)
        if self._waiting is not None:
            self._waiting.set()
        if self.trade and bar.interval == "1m" and check.count % 50 == 0:
            self.orders += 1
            if self.position(bar.symbol).qty:
                self.close(bar.symbol)
            else:
                self.buy(bar.symbol, 1)

    def _compare(self, name: str, bar: Bar) -> None:
        truth = self.truth
        assert truth is not None
        index = truth.index(name, bar.ts_open)
        if index is None:
            self.unknown += 1
            return
        self.compared += 1
        previous = self._truth_index.get(name)
        if previous is not None and index > previous + 1:
            self.skipped += index - previous - 1
            times = truth.times[name]
            self.holes.append((name, times[previous + 1], times[index - 1], index - previous - 1))
        self._truth_index[name] = index
        expected = truth.values_at(name, index)
        got = (bar.open, bar.high, bar.low, bar.close, bar.volume)
        if got != expected:
            self.wrong += 1
            if len(self.wrong_examples) < 5:
                self.wrong_examples.append(f"{name} at {bar.ts_open}: {got} != {expected}")

    def on_quote(self, quote: Quote) -> None:
        self.quote_count += 1
        last = self.quotes.get(quote.symbol)
        if last is not None and (quote.ts_last or 0) < (last.ts_last or 0):
            self.quote_backwards += 1
        self.quotes[quote.symbol] = quote
        if self._waiting is not None:
            self._waiting.set()

    def on_feed_event(self, event: Event) -> None:
        if isinstance(event, FeedConnected):
            self.connected.append(event.ts_event)
        elif isinstance(event, FeedDisconnected):
            self.disconnects.append(event)
        elif isinstance(event, DataRejected):
            self.rejected[event.reason] += 1
        elif isinstance(event, BarGap):
            self.gaps += 1
            self.gap_ranges[f"{event.symbol}@{event.interval}"].append((event.ts_from, event.ts_to))
        self._changed()

    def announced(self) -> int:
        """How many of the skipped bars lie in holes a ``BarGap`` announced."""
        return sum(
            count
            for name, first, last, count in self.holes
            if any(lo <= first and last <= hi for lo, hi in self.gap_ranges.get(name, ()))
        )

    def totals(self) -> tuple[int, int, int, int]:
        streams = self.streams.values()
        return (
            sum(s.count for s in streams),
            sum(s.duplicates for s in streams),
            sum(s.out_of_order for s in streams),
            sum(s.backfilled for s in streams),
        )


class Truth:
    """The market's final bars per stream (from the server's file), looked up by open time."""

    def __init__(self, path: Path) -> None:
        document = orjson.loads(path.read_bytes())
        self.times: dict[str, list[int]] = {}
        self.values: dict[str, list[float]] = {}
        for name, series in document["series"].items():
            self.times[name] = series["times"]
            self.values[name] = series["values"]
        self.quotes: dict[str, list[float]] = document["quotes"]

    def index(self, name: str, ts_open: int) -> int | None:
        times = self.times.get(name)
        if not times:
            return None
        index = bisect.bisect_left(times, ts_open)
        return index if index < len(times) and times[index] == ts_open else None

    def values_at(self, name: str, index: int) -> tuple[float, ...]:
        return tuple(self.values[name][5 * index : 5 * index + 5])

    def between(self, name: str, first: int, last: int) -> tuple[int, bytes]:
        """How many bars the market made from ``first`` to ``last`` (open times, inclusive),
        and their digest."""
        times, values = self.times.get(name, []), self.values.get(name, [])
        lo = bisect.bisect_left(times, first)
        hi = bisect.bisect_right(times, last)
        digest = hashlib.blake2b(digest_size=16)
        for i in range(lo, hi):
            digest.update(_BAR.pack(times[i], *values[5 * i : 5 * i + 5]))
        return hi - lo, digest.digest()


# -- the client: the run -----------------------------------------------------------------------


class LogCounter(logging.Filter):
    """Counts what reaches a handler: lines, and lines per message template."""

    def __init__(self) -> None:
        super().__init__()
        self.lines = 0
        self.by_message: collections.Counter[str] = collections.Counter()

    @classmethod
    def copy_of(cls, other: LogCounter) -> LogCounter:
        copy = cls()
        copy.lines, copy.by_message = other.lines, collections.Counter(other.by_message)
        return copy

    def filter(self, record: logging.LogRecord) -> bool:
        self.lines += 1
        self.by_message[f"{record.levelname} {record.name}: {record.msg}"] += 1
        return True


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class JsonLines:
    def __init__(self, stream: trio.abc.ReceiveStream) -> None:
        self._stream = stream
        self._buffer = b""

    async def next(self) -> dict[str, Any]:
        while b"\n" not in self._buffer:
            chunk = await self._stream.receive_some()
            if not chunk:
                raise SoakError("the server process ended (see server-stderr.log)")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return dict(json.loads(line))


@attrs.define
class Run:
    """What the client side measured."""

    plan: Plan
    hello: dict[str, Any] = attrs.Factory(dict)
    frozen: dict[str, Any] = attrs.Factory(dict)
    server_end: dict[str, Any] = attrs.Factory(dict)
    checker: SoakChecker | None = None
    feed: InsightSentryFeed | None = None
    engine: Engine | None = None
    rss: list[tuple[float, int, float]] = attrs.Factory(list)
    resubscribed: list[tuple[float, list[str], list[str]]] = attrs.Factory(list)
    subscribed: list[Subscription] = attrs.Factory(list)
    drained: bool = False
    drain_seconds: float = 0.0
    started: float = 0.0
    frozen_at: float = 0.0
    ended: float = 0.0
    fills: int = 0
    server_cpu: float = 0.0


def initial_subscriptions(plan: Plan) -> list[Subscription]:
    series = [Subscription(code=c, interval=i, bars=BURST_BARS) for c, i in plan.series]
    return series + [Subscription(code=code, type="quote") for code in plan.quotes]


def resubscribe(run: Run, rng: random.Random, reserve: dict[str, list[Any]]) -> None:
    """Drop a few series and quote codes, add as many new ones."""
    assert run.feed is not None
    current = list(run.subscribed)
    series = [s for s in current if s.type == "series"]
    quotes = [s for s in current if s.type == "quote"]
    dropped = rng.sample(series, min(run.plan.drop_series, len(series))) + rng.sample(
        quotes, min(run.plan.drop_quotes, len(quotes))
    )
    added = [
        Subscription(code=code, interval=interval, bars=BURST_BARS)
        for code, interval in reserve["series"][: run.plan.drop_series]
    ]
    added += [
        Subscription(code=code, type="quote") for code in reserve["quotes"][: run.plan.drop_quotes]
    ]
    del reserve["series"][: run.plan.drop_series]
    del reserve["quotes"][: run.plan.drop_quotes]
    run.subscribed = [s for s in current if s not in dropped] + added
    run.feed.set_subscriptions(run.subscribed)
    run.resubscribed.append((time.time(), [s.name for s in dropped], [s.name for s in added]))


def drained(run: Run) -> bool:
    """Every series still subscribed delivered the market's last final bar, every quote
    stream the market's last quote."""
    checker = run.checker
    assert checker is not None
    last = run.frozen["last"]
    for sub in run.subscribed:
        if sub.type == "series":
            name = sub.name
            check = checker.streams.get(name)
            if name in last and (check is None or check.last != last[name]):
                return False
        else:
            quote = checker.quotes.get(sub.code)
            if quote is None or quote.ts_last != run.frozen["quote_ts"].get(sub.code):
                return False
    return True


async def control(
    run: Run, process: trio.Process, replies: JsonLines, ready: trio.Event, progress: bool
) -> None:
    """Resubscribe on schedule, sample RSS, freeze the market at the frame target, wait for
    the last bars, stop the engine."""
    await ready.wait()
    feed, engine = run.feed, run.engine
    assert feed is not None and engine is not None and process.stdin is not None
    rng = random.Random(f"soak-resubscribe:{run.plan.seed}")
    reserve: dict[str, list[Any]] = {
        "series": list(run.plan.reserve_series),
        "quotes": list(run.plan.reserve_quotes),
    }
    pending = collections.deque(run.plan.resubscriptions)
    next_sample = next_report = time.monotonic()
    last_frames, last_change = 0, time.monotonic()
    while True:
        await trio.sleep(0.1)
        now = time.monotonic()
        frames = feed.statistics().frames
        if frames != last_frames:
            last_frames, last_change = frames, now
        elif now - last_change > 600:
            raise SoakError(f"no frame for 10 minutes (at {frames:,}); giving up")
        while pending and frames >= pending[0]:
            pending.popleft()
            resubscribe(run, rng, reserve)
        if now >= next_sample:
            run.rss.append((now - run.started, frames, rss_mb()))
            next_sample += RSS_EVERY_S
        if progress and now >= next_report:
            next_report += 60.0
            checker = run.checker
            assert checker is not None
            print(
                f"  {now - run.started:6.0f} s  {frames:>11,} frames  "
                f"{checker.totals()[0]:>10,} final bars  {len(checker.disconnects):>3} reconnects  "
                f"RSS {run.rss[-1][2]:6.1f} MB",
                flush=True,
            )
        if frames >= run.plan.frames:
            break
    run.frozen_at = time.monotonic()
    await process.stdin.send_all(b"freeze\n")
    run.frozen = await replies.next()
    checker = run.checker
    assert checker is not None
    with trio.move_on_after(DRAIN_DEADLINE_S):
        await checker.until(lambda: drained(run))
        run.drained = True
    run.drain_seconds = time.monotonic() - run.frozen_at
    await process.stdin.send_all(b"stats\n")
    run.server_end = await replies.next()
    run.server_cpu = cpu_seconds(process.pid)
    engine.stop()


async def client(
    run: Run, workdir: Path, trade_interval: float, progress: bool, server_log: IO[bytes]
) -> None:
    from framework.adapters.insightsentry._session import paper_trade

    plan = run.plan
    command = [
        sys.executable,
        __file__,
        "--serve",
        str(workdir),
        "--frames",
        str(plan.frames),
        "--symbols",
        str(len(plan.series) + len(plan.quotes)),
        "--seed",
        str(plan.seed),
        "--trade-interval",
        str(trade_interval),
        *([] if plan.faults or plan.resubscriptions else ["--no-faults"]),
    ]
    process = await trio.lowlevel.open_process(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=server_log
    )
    try:
        assert process.stdout is not None and process.stdin is not None
        replies = JsonLines(process.stdout)
        with trio.fail_after(60):
            run.hello = await replies.next()
        run.subscribed = initial_subscriptions(plan)
        run.checker = SoakChecker(trade=True)
        ready = trio.Event()

        def on_engine(engine: Engine, feed: InsightSentryFeed) -> None:
            run.engine, run.feed = engine, feed
            ready.set()

        async with trio.open_nursery() as nursery:
            run.started = time.monotonic()
            nursery.start_soon(control, run, process, replies, ready, progress)
            result = await paper_trade(
                [run.checker],
                run.subscribed,
                api_key=DEFAULT_API_KEY,
                url=run.hello["url"],
                rest_url=run.hello["rest_url"],
                record=workdir / "session.twrec",
                journal=workdir / "paper.twrec",
                config=CLIENT_CONFIG,
                on_engine=on_engine,
            )
            run.ended = time.monotonic()
            run.fills = len(result.fills)
        await process.stdin.send_all(b"quit\n")
        with trio.move_on_after(10):
            await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def replay(path: Path, truth: Truth) -> tuple[SoakChecker, float, int]:
    checker = SoakChecker(trade=False, truth=truth)
    feed = RecordingFeed(path, updates=False)
    engine = Engine(feeds=[feed], strategies=[checker])
    started = time.perf_counter()
    trio.run(engine.run)
    return checker, time.perf_counter() - started, sum(feed.statistics().frames.values())


# -- the report --------------------------------------------------------------------------------


def reason_key(reason: str) -> str:
    """A disconnect reason without its numbers of seconds, so that like reasons group."""
    return re.sub(r"\d+\.\d+ s", "# s", reason)


def slope_mb_per_min(samples: Sequence[tuple[float, int, float]]) -> float:
    if len(samples) < 2:
        return float("nan")
    xs = [s[0] / 60 for s in samples]
    ys = [s[2] for s in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return (
        sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else float("nan")
    )


def rss_at(samples: Sequence[tuple[float, int, float]], fraction: float) -> float:
    end = samples[-1][0]
    for elapsed, _, mb in samples:
        if elapsed >= fraction * end:
            return mb
    return samples[-1][2]


def verify(run: Run, truth: Truth, replayed: SoakChecker) -> tuple[list[str], dict[str, int]]:
    """Compare the live session with its replay and the truth; returns the failures and the
    totals."""
    live = run.checker
    assert live is not None
    failures: list[str] = []
    last_final = run.frozen["last"]
    still = {s.name for s in run.subscribed if s.type == "series"}
    totals = collections.Counter[str]()
    for name, check in live.streams.items():
        other = replayed.streams.get(name)
        if other is None:
            failures.append(f"{name}: the replay delivered no final bar, the session {check.count}")
        elif (other.count, other.digest.digest()) != (check.count, check.digest.digest()):
            totals["streams_replay_differs"] += 1
            failures.append(
                f"{name}: the replay's final bars differ from the session's: "
                f"{other.count} from {other.first} to {other.last}, "
                f"session {check.count} from {check.first} to {check.last}"
            )
        assert check.first is not None and check.last is not None
        last = last_final.get(name, check.last) if name in still else check.last
        expected, digest = truth.between(name, check.first, last)
        totals["expected"] += expected
        totals["delivered"] += check.count
        if check.count != expected or digest != check.digest.digest():
            totals["streams_wrong"] += 1
            failures.append(
                f"{name}: {check.count} bars delivered from {check.first} to {check.last}, "
                f"the market made {expected} from {check.first} to {last}"
            )
    for name in still:
        if name not in live.streams and last_final.get(name) is not None:
            failures.append(f"{name}: subscribed, never delivered a bar")
    _, duplicates, out_of_order, backfilled = live.totals()
    if duplicates or out_of_order:
        failures.append(f"{duplicates} final bars doubled, {out_of_order} out of order")
    if replayed.wrong or replayed.unknown or replayed.skipped:
        failures.append(
            f"replay against the market: {replayed.wrong} bars with wrong values, "
            f"{replayed.unknown} not in the market, {replayed.skipped} skipped "
            f"({replayed.announced()} of them in holes a BarGap announced)"
        )
        failures.extend(replayed.wrong_examples)
    quotes_wrong = 0
    for sub in run.subscribed:
        if sub.type != "quote":
            continue
        got = live.quotes.get(sub.code)
        want = truth.quotes.get(sub.code)
        values = (
            None
            if got is None
            else [
                got.last_price,
                got.bid,
                got.ask,
                got.bid_size,
                got.ask_size,
                got.volume,
                got.ts_last,
            ]
        )
        if values != want:
            quotes_wrong += 1
            if quotes_wrong <= 3:
                failures.append(f"quote {sub.code}: last {values} != market {want}")
    if quotes_wrong:
        failures.append(f"{quotes_wrong} quote streams ended on a quote that is not the market's")
    if live.quote_backwards:
        failures.append(f"{live.quote_backwards} quotes went back in time")
    totals.update(
        duplicates=duplicates,
        out_of_order=out_of_order,
        backfilled=backfilled,
        quotes_wrong=quotes_wrong,
    )
    return failures, dict(totals)


def report(
    run: Run,
    failures: list[str],
    totals: dict[str, int],
    replayed: SoakChecker,
    replay_s: float,
    replay_frames: int,
    logs: LogCounter,
    stderr_bytes: int,
    wall: float,
) -> None:
    live = run.checker
    feed = run.feed
    assert live is not None and feed is not None
    stats = feed.statistics()
    processor = stats.processor
    plan = run.plan
    out = print
    out("")
    out("== soak: figures ==")
    out(
        f"symbols           {len(plan.series) + len(plan.quotes)} "
        f"({len(plan.series)} series: 1s/1m/5m/15m in turn, {BURST_BARS} bars a burst; "
        f"{len(plan.quotes)} quote streams); seed {plan.seed}"
    )
    out(
        f"wall time         {wall:,.0f} s (session {run.ended - run.started:,.0f} s, "
        f"drain after freeze {run.drain_seconds:.1f} s, replay {replay_s:.0f} s)"
    )
    out(
        f"frames            server sent {run.server_end.get('frames_sent', 0):,}, client "
        f"received {stats.frames:,} ({stats.frames / max(1e-9, run.frozen_at - run.started):,.0f}"
        f"/s to the freeze); replay read {replay_frames:,}"
    )
    out(f"  by kind         {dict(sorted(processor.frames.items()))}")
    out(f"  rejected        {dict(sorted(processor.rejected.items()))}")
    out(
        f"final bars        expected {totals.get('expected', 0):,}, delivered "
        f"{totals.get('delivered', 0):,} (backfilled {totals.get('backfilled', 0):,}), doubled "
        f"{totals.get('duplicates', 0)}, out of order {totals.get('out_of_order', 0)}, wrong "
        f"{replayed.wrong}, streams not matching the market {totals.get('streams_wrong', 0)}"
    )
    lost = totals.get("expected", 0) - totals.get("delivered", 0)
    out(
        f"  lost            {lost:,} (announced by BarGap events {replayed.announced():,}, "
        f"silent {lost - replayed.announced():,})"
    )
    out(
        f"  assembler       duplicates {processor.duplicates:,}, corrections "
        f"{processor.corrections:,}, backfilled {processor.backfilled:,}, gaps {processor.gaps}"
    )
    out(
        f"quotes            {live.quote_count:,} delivered to the strategy, "
        f"{stats.conflated_quotes:,} conflated, final quote wrong for "
        f"{totals.get('quotes_wrong', 0)} streams"
    )
    out(
        f"resubscriptions   {len(run.resubscribed)} (each -{plan.drop_series} series "
        f"-{plan.drop_quotes} quotes, +as many new); subscription messages the server got "
        f"{run.server_end.get('messages_received', 0)}"
    )
    reasons = collections.Counter(reason_key(d.reason) for d in live.disconnects)
    out(f"reconnects        {len(live.disconnects)} ({len(live.connected)} connections)")
    for reason, n in reasons.most_common():
        out(f"  {n:5d}  {reason}")
    fired = run.frozen.get("faults", {})
    out(
        f"faults fired      {sum(fired.values())} of {run.frozen.get('faults_planned', 0)} "
        "planned (before the freeze)"
    )
    for label, n in sorted(fired.items()):
        out(f"  {n:5d}  {label}")
    delays = sorted(d.reconnect_in or 0.0 for d in live.disconnects)
    if delays:
        out(
            f"reconnect delays  min {delays[0]:.2f} s, median {statistics.median(delays):.2f} s, "
            f"max {delays[-1]:.2f} s"
        )
    down = 0.0
    for disconnect in live.disconnects:
        after = [t for t in live.connected if t > disconnect.ts_event]
        end = after[0] if after else int(time.time() * NANOS)
        down += (end - disconnect.ts_event) / NANOS
    out(f"disconnected      {down:,.1f} s of {run.ended - run.started:,.0f} s")
    out(f"data rejected     {dict(sorted(live.rejected.items()))}; BarGap events {live.gaps}")
    start_ns = run.hello["start_ns"]
    late = [
        name
        for code, interval in plan.series
        for name in [stream_name(code, interval.label)]
        if (check := live.streams.get(name)) is not None and (check.first or 0) > start_ns
    ]
    out(
        f"first bars        {len(plan.series) - len(late)} of {len(plan.series)} initial series "
        "began at or before the market's start (their first burst reached back to it)"
    )
    out(f"orders / fills    {live.orders} / {run.fills}")
    out(f"log               {logs.lines:,} lines, {stderr_bytes:,} bytes of stderr; most repeated:")
    for message, n in logs.by_message.most_common(5):
        out(f"  {n:6d}  {message[:110]}")
    samples = run.rss
    if samples:
        half = [s for s in samples if s[0] >= samples[-1][0] / 2]
        step = max(1, len(samples) // 60)
        series = " ".join(f"{mb:.0f}" for _, _, mb in samples[::step])
        out(
            f"RSS (client)      10% {rss_at(samples, 0.1):.1f} MB, 50% {rss_at(samples, 0.5):.1f} "
            f"MB, end {samples[-1][2]:.1f} MB; slope over the second half "
            f"{slope_mb_per_min(half):+.2f} MB/min"
        )
        out(f"  every {RSS_EVERY_S * step:.0f} s  {series}")
    out(
        f"CPU               client {time.process_time():,.0f} s (incl. replay), server "
        f"{run.server_cpu:,.0f} s"
    )
    out(f"server            {run.server_end}")
    out("")
    if failures:
        out(f"FAILED: {len(failures)} findings")
        for failure in failures[:40]:
            out(f"  - {failure}")
    else:
        out(
            "OK: every final bar once, in order, with the market's values; replay identical; "
            "last quotes true"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000_000)
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--trade-interval",
        type=float,
        default=0.025,
        help="real seconds per market step of one simulated second (default 0.025: 40x)",
    )
    parser.add_argument("--workdir", type=Path, help="where the recording and journal go")
    parser.add_argument("--keep", action="store_true", help="keep the recording and journal")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--no-faults", action="store_true", help="no faults, no resubscriptions (a baseline)"
    )
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.symbols < 2 or args.frames < 1000:
        parser.error("--symbols must be >= 2 and --frames >= 1000")
    plan = Plan.build(
        seed=args.seed, frames=args.frames, symbols=args.symbols, with_faults=not args.no_faults
    )
    cpus = sorted(os.sched_getaffinity(0))
    if args.serve:
        if len(cpus) >= 2:
            os.sched_setaffinity(0, {cpus[0]})
        trio.run(serve, plan, args.serve, args.trade_interval)
        return 0
    if len(cpus) >= 2:
        os.sched_setaffinity(0, {cpus[1]})
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    # As the command line does it: WARNING and up to stderr (here a file, to count it).
    stderr_path = workdir / "client-stderr.log"
    handler = logging.FileHandler(stderr_path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logs = LogCounter()
    handler.addFilter(logs)
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    print(
        f"soak: {args.frames:,} frames, {args.symbols} symbols, seed {args.seed}, "
        f"{len(plan.faults)} faults and {len(plan.resubscriptions)} resubscriptions planned; "
        f"files in {workdir}",
        flush=True,
    )
    run = Run(plan=plan)
    started = time.monotonic()
    with open(workdir / "server-stderr.log", "wb") as server_log:
        trio.run(client, run, workdir, args.trade_interval, not args.quiet, server_log)
    stderr_bytes = stderr_path.stat().st_size
    session_logs = LogCounter.copy_of(logs)  # before the replay logs its own rejections
    truth = Truth(workdir / "truth.json")
    replayed, replay_s, replay_frames = replay(workdir / "session.twrec", truth)
    failures, totals = verify(run, truth, replayed)
    if not run.drained:
        failures.insert(0, f"the last bars did not arrive within {DRAIN_DEADLINE_S:.0f} s")
    report(
        run,
        failures,
        totals,
        replayed,
        replay_s,
        replay_frames,
        session_logs,
        stderr_bytes,
        time.monotonic() - started,
    )
    if not args.keep and args.workdir is None:
        with contextlib.suppress(OSError):
            shutil.rmtree(workdir)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
