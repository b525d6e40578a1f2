"""Fuzz the ``/live`` frame path against an oracle: a million generated frames, valid and
hostile mixed, through the codec and the bar/quote assembly, every outcome checked.

    python bench/fuzz_live.py [--frames 1000000] [--seed 7] [--skip-known]
                              [--no-updates] [--no-fast-path] [--no-replay-check] [--show 10]

Frames come from the generator of ``tests/wire_fuzz.py`` (a small market of bar series of
several sizes, ticks and quote streams, plus heartbeats, status, event, error and unknown
frames, and hostile ones: not JSON, non-finite numbers, wrong types, bad times, negative
prices, high below low, too deep, oversized, binary, lone surrogates, bad points and entries
among good ones), picked by the weights of ``wire_fuzz.WEIGHTS``; each goes to a
``FrameProcessor`` (``process_live(text, recv_ns)``, as the live feed's read loop and the
replay call it) subscribed to every stream, and its events, returned frame and counters are
compared with the oracle's prediction (see ``tests/wire_fuzz.py`` for the rules). A twin
processor replays each text frame as ``RecordingFeed`` does (``process_events``) and must give
the same events (``--no-replay-check`` skips it).

Prints the rate (frames through generator, processor, replay twin and oracle per second, and
the processor's own, timed around ``process_live`` only; each also per CPU second, which a busy
machine disturbs far less), the frames by generated kind and
by decoded kind, what became of them, the rejections by reason, the events by type, the
counters, the adapter's log lines, and ``oracle: 0 mismatches`` or each mismatch with its
frame (then exits 1).

By default the oracle is strict, so the bugs listed in ``wire_fuzz.KNOWN_BUGS`` show as
mismatches until they are fixed; ``--skip-known`` leaves out the kinds that show one and
tolerates the rest, to check everything else.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from wire_fuzz import (
    HOSTILE_KINDS,
    KINDS,
    KNOWN_BUG_KINDS,
    KNOWN_BUGS,
    MAX_BYTES,
    FuzzRun,
    pick_kinds,
)

CHUNK = 10_000


class CountingHandler(logging.Handler):
    """Counts the adapter's log records by level and message template instead of printing."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[tuple[str, str]] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[(record.levelname, str(record.msg))] += 1


def counts_line(counts: Mapping[str, int], width: int = 100) -> str:
    """``name n, name n, ...`` largest first, wrapped to ``width``."""
    parts = [f"{name} {n:,}" for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    lines: list[str] = []
    line = ""
    for part in parts:
        if line and len(line) + len(part) + 2 > width:
            lines.append(line + ",")
            line = part
        else:
            line = f"{line}, {part}" if line else part
    lines.append(line)
    return "\n    ".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--skip-known",
        action="store_true",
        help="leave out the frame kinds that show a known bug and tolerate the others",
    )
    parser.add_argument("--no-updates", action="store_true", help="processor without BarUpdates")
    parser.add_argument("--no-fast-path", action="store_true", help="general decoding only")
    parser.add_argument(
        "--no-replay-check",
        action="store_true",
        help="skip the twin processor that replays each frame as RecordingFeed does",
    )
    parser.add_argument("--show", type=int, default=10, help="mismatches to print in full")
    args = parser.parse_args()

    kinds = [k for k in KINDS if not (args.skip_known and k in KNOWN_BUG_KINDS)]
    tolerate = KNOWN_BUGS if args.skip_known else ()
    run = FuzzRun(
        random.Random(args.seed),
        updates=not args.no_updates,
        fast_path=not args.no_fast_path,
        tolerate=tolerate,
        replay=not args.no_replay_check,
        keep=args.show,
    )
    picker = random.Random(args.seed + 1)

    adapter_log = logging.getLogger("framework")
    handler = CountingHandler()
    adapter_log.addHandler(handler)
    adapter_log.setLevel(logging.WARNING)  # DEBUG records are not even made
    adapter_log.propagate = False

    mode = "known bugs tolerated (--skip-known)" if args.skip_known else "strict oracle"
    print(
        f"fuzz: {args.frames:,} frames, seed {args.seed}, {mode}, "
        f"updates {'off' if args.no_updates else 'on'}, "
        f"fast path {'off' if args.no_fast_path else 'on'}, byte limit {MAX_BYTES:,}, "
        f"replay check {'off' if args.no_replay_check else 'on'}",
        flush=True,
    )
    started, cpu_started = time.perf_counter(), time.process_time()
    reported = 0
    while run.count < args.frames:  # resubscriptions are drawn too but are not frames
        run.run(pick_kinds(picker, min(CHUNK, args.frames - run.count), kinds))
        if run.count - reported >= 100_000:
            reported = run.count
            rate = run.count / (time.perf_counter() - started)
            print(f"  {run.count:,} frames, {rate:,.0f} frames/s", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    adapter_log.removeHandler(handler)

    stats = run.processor.statistics()
    frames = run.count
    valid = {k: n for k, n in run.kinds.items() if k not in HOSTILE_KINDS}
    hostile = {k: n for k, n in run.kinds.items() if k in HOSTILE_KINDS}
    actions = valid.pop("resubscribe", 0)
    in_processor = run.processor_ns / 1e9
    print(
        f"time: {elapsed:,.1f} s wall, {cpu:,.1f} s CPU: {frames / elapsed:,.0f} frames/s "
        f"({frames / cpu:,.0f} per CPU second) through generator, processor, replay twin and "
        "oracle"
    )
    print(
        f"  processor alone (process_live): {frames / in_processor:,.0f} frames/s wall, "
        f"{run.processor_cpu_ns / frames / 1000:.1f} µs CPU a frame "
        f"({frames / (run.processor_cpu_ns / 1e9):,.0f} frames per CPU second)"
    )
    print(f"frames: {frames:,} ({sum(hostile.values()):,} hostile), {actions} resubscriptions")
    print(f"  valid kinds:   {counts_line(valid)}")
    print(f"  hostile kinds: {counts_line(hostile)}")
    print(f"frames by decoded kind: {counts_line(stats.frames)}")
    print(f"  fast path (single-bar updates of known streams): {run.fast_path_frames:,}")
    print(f"outcomes: {counts_line(run.outcomes)}")
    print(f"rejections by reason: {counts_line(stats.rejected)}")
    print(f"events by type: {counts_line(run.events)}")
    print(
        f"counters: bars {stats.bars:,} (closed by heartbeats {run.heartbeat_bars:,}), "
        f"updates {stats.updates:,}, quotes {stats.quotes:,}, duplicates {stats.duplicates:,}, "
        f"corrections {stats.corrections:,}"
    )
    health = getattr(stats, "health", None)
    if health:
        print(f"feed health: {counts_line(health)}")
    lines = sum(handler.counts.values())
    print(f"adapter log lines (WARNING and above): {lines:,}")
    for (level, message), n in handler.counts.most_common(6):
        print(f"  {n:>9,}  {level} {message[:90]}")
    if run.mismatch_count == 0:
        print("oracle: 0 mismatches")
        return 0
    by_kind = counts_line(run.mismatch_kinds)
    print(f"oracle: {run.mismatch_count:,} mismatching frames, by kind: {by_kind}")
    print(run.report())
    if not args.skip_known:
        print("known bugs (wire_fuzz.KNOWN_BUGS; --skip-known to check everything else):")
        for name, what in KNOWN_BUGS.items():
            print(f"  {name}: {what}")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
