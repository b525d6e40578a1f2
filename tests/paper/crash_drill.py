"""Crash points: kill ``tradewire paper --journal`` or ``tradewire record`` with SIGKILL at a
seeded moment against the simulated server, then check what the files and a restart say.

One kill is a :class:`KillPlan`, drawn by :func:`plan_kills` from a seed. It names the moment
(:class:`CrashPoint`: the n-th write of a kind to the journal or the recording, and how much
of it reaches the file) or, for ``anytime``, a number of writes and a delay after which the
process is killed wherever it is. The server gets a seeded schedule of closes and drops, so
kills land during reconnects and resubscriptions too. Phases:

- ``fill``: around the journal record that holds the n-th fill (paper): before it is
  written, torn, or right after it;
- ``write``: in the middle of the n-th append to the journal or the recording (a torn tail);
- ``reconnect``: right after, or in the middle of, a connection event or a resubscription
  (an outbound subscribe frame on a later connection) written to the recording;
- ``anytime``: a seeded delay after the n-th write of any watched file;
- ``create``: in the middle of a file's header (the file exists, its header is cut short).

There is no file rotation to kill during: a recording is one file from header to end
(docs/recording-format.md, section 7: segment rotation is not yet specified).

The child is the real command line (``crash_child.py``), its writes reported on a pipe, so the
checks know every record acknowledged before the kill. After the kill (:func:`run_kill`):

1. ``tradewire inspect`` on each file reports the torn tail (or a torn header) exactly as
   the kill left it, with the exit status documented;
2. a recording reads back in full up to the tail, with every acknowledged record in it, and
   replays (``RecordingFeed``) bars equal to the simulated market's;
3. paper: every bar the journal says was delivered is in the first recording (write-ahead);
   the session restarted on the same journal (and a new recording) resumes the book and runs
   until it journalled two more fills, then stops on SIGTERM; the book holds every fill from
   before the kill once, and its fills equal those of a backtest of the same strategy over the
   market bars both sessions' recordings hold (checked contiguous and true).

A failed check raises :class:`CheckFailed`; :func:`run_kill` turns it into the outcome's
``failure``. Deadlines are hang guards only.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import orjson
import trio

from framework import Bar, Interval, ListFeed, OrderFilled, RecordingError, backtest_async
from framework.adapters.insightsentry import RecordingFeed, classify_frame
from framework.adapters.insightsentry.sim import (
    DEFAULT_API_KEY,
    Fault,
    FaultSpec,
    SimConfig,
    open_simulated_server,
)
from framework.execution import PaperBook, read_paper_journal
from framework.recording import Record, RecordKind, read_recording

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("crash_child.py")
STRATEGY = f"{Path(__file__).with_name('restartable.py')}:FlipEverySeventhBar"
SERIES, QUOTE = "NASDAQ:AAPL", "NASDAQ:TSLA"
MINUTE = 60_000_000_000
#: Bytes before a record's payload; a cut shorter than this leaves a partial record header.
RECORD_HEAD_SIZE = 37
#: Hang guard for each wait on a child (real seconds); no check depends on it.
HANG_GUARD = 120.0
#: The restarted paper session stops once it has journalled this many fills of its own.
NEW_FILLS = 2

PHASES = ("fill", "write", "reconnect", "anytime", "create")
#: How often each phase is drawn, per command.
PHASE_WEIGHTS = {
    "paper": {"fill": 30, "write": 25, "reconnect": 25, "anytime": 15, "create": 5},
    "record": {"fill": 0, "write": 35, "reconnect": 35, "anytime": 25, "create": 5},
}


class CheckFailed(AssertionError):
    """A guarantee did not hold after a kill; ``kind`` says which family."""

    def __init__(self, message: str, kind: str = "mismatch") -> None:
        super().__init__(message)
        self.kind = kind


def check(condition: object, message: str, kind: str = "mismatch") -> None:
    if not condition:
        raise CheckFailed(message, kind)


# -- plans ---------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CrashPoint:
    """The ``nth`` write to file ``tag`` that ``match`` selects (see ``crash_child.py``);
    ``cut`` None lets it complete, a fraction in [0, 1) writes only that share."""

    tag: str
    match: str
    nth: int
    cut: float | None

    def describe(self) -> str:
        how = "after" if self.cut is None else "before" if self.cut == 0 else "torn"
        return f"{self.tag} {self.match}#{self.nth} {how}"


@attrs.frozen(kw_only=True)
class KillPlan:
    """One seeded kill: which command, when, against which market and faults."""

    index: int
    command: str
    phase: str
    point: CrashPoint | None
    #: ``anytime``: kill ``delay`` seconds after the ``after_writes``-th acknowledged write.
    after_writes: int = 0
    delay: float = 0.0
    sim_seed: int
    #: (CLOSE or DROP, connection number, after how many frames)
    faults: tuple[tuple[str, int, int], ...]
    durability: str

    def sim_config(self) -> SimConfig:
        return SimConfig(
            seed=self.sim_seed,
            speed=600.0,
            trade_interval=0.01,
            heartbeat_interval=0.2,
            faults=[
                FaultSpec(fault=Fault(kind), connections={conn}, after_frames=frames)
                for kind, conn, frames in self.faults
            ],
        )

    def describe(self) -> str:
        if self.point is not None:
            return self.point.describe()
        return f"write#{self.after_writes} +{self.delay * 1000:.0f} ms"


def plan_kills(
    seed: int,
    kills: int,
    commands: tuple[str, ...] = ("paper", "record"),
    phases: tuple[str, ...] = PHASES,
) -> list[KillPlan]:
    """``kills`` plans per command (numbered from 1 across commands), drawn from ``seed``
    among ``phases``: the same arguments give the same plans."""
    plans: list[KillPlan] = []
    for command in commands:
        rng = random.Random(f"crash-points:{seed}:{command}")
        weights = PHASE_WEIGHTS[command]
        allowed = [p for p in PHASES if p in phases and weights[p]]
        if not allowed:
            continue
        for _ in range(kills):
            phase = rng.choices(allowed, [weights[p] for p in allowed])[0]
            plans.append(_plan(rng, len(plans) + 1, command, phase))
    return plans


def _torn(rng: random.Random) -> float:
    return rng.uniform(0.001, 0.999)


def _plan(rng: random.Random, index: int, command: str, phase: str) -> KillPlan:
    files = ("journal", "recording") if command == "paper" else ("recording",)
    point: CrashPoint | None = None
    after_writes, delay = 0, 0.0
    if phase == "fill":
        cut = rng.choice([None, 0.0, _torn(rng)])
        point = CrashPoint(tag="journal", match="fill", nth=rng.randint(1, 6), cut=cut)
    elif phase == "write":
        tag = rng.choice(files)
        nth = rng.randint(2, 30) if tag == "journal" else rng.randint(2, 300)
        point = CrashPoint(tag=tag, match="any", nth=nth, cut=_torn(rng))
    elif phase == "reconnect":
        cut = rng.choice([None, _torn(rng)])
        if rng.random() < 0.5:  # disconnected (2, 4) or connected again (3)
            point = CrashPoint(tag="recording", match="connection", nth=rng.randint(2, 4), cut=cut)
        else:  # the subscribe frame of the second or third connection
            point = CrashPoint(tag="recording", match="outbound", nth=rng.randint(2, 3), cut=cut)
    elif phase == "anytime":
        after_writes, delay = rng.randint(1, 400), rng.uniform(0.0, 0.2)
    else:  # create
        cut = rng.choice([0.0, _torn(rng)])
        point = CrashPoint(tag=rng.choice(files), match="header", nth=1, cut=cut)
    # Closes and drops on the first three connections (the restarted session's included);
    # the first two always fail when the kill waits for a reconnect.
    faults = []
    for conn in (1, 2, 3):
        if (phase == "reconnect" and conn < 3) or rng.random() < 0.6:
            kind = rng.choice([Fault.CLOSE.value, Fault.DROP.value])
            faults.append((kind, conn, rng.randint(30, 400)))
    return KillPlan(
        index=index,
        command=command,
        phase=phase,
        point=point,
        after_writes=after_writes,
        delay=delay,
        sim_seed=rng.randrange(1 << 30),
        faults=tuple(faults),
        durability=rng.choice(["process", "group", "strict"]),
    )


# -- the child -----------------------------------------------------------------------------


@attrs.define
class ChildLog:
    """What the child reported: headers and records written whole, and the crash point."""

    headers: dict[str, int] = attrs.field(factory=dict)
    acks: dict[str, list[tuple[int, int, int]]] = attrs.field(factory=dict)
    crash: tuple[str, int, int, int] | None = None
    writes: int = 0
    ended: bool = False

    def take(self, line: str) -> None:
        word, tag, *rest = line.split()
        if word == "header":
            self.headers[tag] = int(rest[0])
        elif word == "ack":
            seq, kind, fills = map(int, rest)
            self.acks.setdefault(tag, []).append((seq, kind, fills))
        elif word == "crash":
            seq, size, written = map(int, rest)
            self.crash = (tag, seq, size, written)
        self.writes += word in ("header", "ack")

    def last_seq(self, tag: str) -> int:
        acks = self.acks.get(tag)
        return acks[-1][0] if acks else 0

    def fills(self, tag: str = "journal") -> int:
        return sum(fills for _, _, fills in self.acks.get(tag, ()))


@attrs.frozen
class ChildRun:
    returncode: int
    log: ChildLog
    stderr: str
    reached: bool


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), INSIGHTSENTRY_API_KEY=DEFAULT_API_KEY)
    env["TERM"] = "dumb"
    env.update(extra or {})
    return env


async def _read_reports(stream: trio.lowlevel.FdStream, log: ChildLog, changed: Callable[[], None]):
    pending = b""
    async with stream:
        while chunk := await stream.receive_some(65536):
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                log.take(line.decode())
            changed()
    log.ended = True
    changed()


async def run_child(
    args: list[str],
    files: dict[str, Path],
    stderr_path: Path,
    *,
    point: CrashPoint | None = None,
    until: Callable[[ChildLog], bool] | None = None,
    delay: float = 0.0,
    stop: signal.Signals = signal.SIGKILL,
) -> ChildRun:
    """Run ``tradewire ARGS`` watching ``files``; once the crash point is reached (or
    ``until(log)`` holds, and ``delay`` more seconds passed) send it ``stop``. ``reached`` is
    False if it ended first or the hang guard fired."""
    read_fd, write_fd = os.pipe()
    extra = {
        "TRADEWIRE_CRASH_FILES": json.dumps({tag: str(path) for tag, path in files.items()}),
        "TRADEWIRE_CRASH_FD": str(write_fd),
    }
    if point is not None:
        extra["TRADEWIRE_CRASH_POINT"] = json.dumps(attrs.asdict(point))
    condition = until or (lambda log: log.crash is not None)
    log = ChildLog()
    event = trio.Event()

    def changed() -> None:
        nonlocal event
        event.set()
        event = trio.Event()

    try:
        with stderr_path.open("wb") as errors:
            process = await trio.lowlevel.open_process(
                [sys.executable, str(CHILD), *args],
                env=_env(extra),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                pass_fds=(write_fd,),
            )
    finally:
        os.close(write_fd)
    reached = False
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_read_reports, trio.lowlevel.FdStream(read_fd), log, changed)
        try:
            with trio.move_on_after(HANG_GUARD):
                while not (reached := condition(log)) and not log.ended:
                    await event.wait()
                if reached and delay:
                    await trio.sleep(delay)
            if process.returncode is None:
                process.send_signal(stop)
            with trio.move_on_after(HANG_GUARD):
                await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                with trio.CancelScope(shield=True):
                    await process.wait()
    stderr = await trio.Path(stderr_path).read_text(errors="replace")
    return ChildRun(process.returncode, log, stderr, reached)


async def inspect(path: Path) -> tuple[int, str, str]:
    """``tradewire inspect PATH``: exit status, stdout, stderr."""
    done = await trio.run_process(
        [sys.executable, "-m", "framework", "inspect", str(path)],
        env=_env(),
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    return done.returncode, done.stdout.decode(), done.stderr.decode()


# -- after a kill: one file ----------------------------------------------------------------


@attrs.define
class FileAfterKill:
    """What one file held after the kill, as checked."""

    tag: str
    state: str  # absent, torn header, torn tail, intact
    torn_bytes: int = 0
    records: list[Record] = attrs.field(factory=list)


def _expected_integrity(last_good: int, torn: int, reason: str | None) -> str:
    if not torn:
        return f"integrity  intact through seq {last_good}"
    return f"integrity  valid through seq {last_good}; torn tail of {torn:,} bytes ({reason})"


async def check_file(tag: str, path: Path, run: ChildRun, *, exact: bool) -> FileAfterKill:
    """Check one file the killed child was writing: ``inspect`` reports how the kill left it
    (compared with what the child reported writing), and it reads back up to the tail with
    every acknowledged record. ``exact``: the child was stopped at its crash point, so every
    write it made is known; otherwise one more record may have landed unreported."""
    log = run.log
    crash = log.crash if log.crash is not None and log.crash[0] == tag else None
    if not await trio.Path(path).exists():
        check(tag not in log.headers, f"{tag}: reported written, but there is no file")
        return FileAfterKill(tag, "absent")
    size = (await trio.Path(path).stat()).st_size
    code, out, err = await inspect(path)
    if tag not in log.headers:
        check(crash is None or crash[1] == 0, f"{tag}: a record before the header")
        if crash is not None or code == 2:
            check(
                code == 2 and f"{path}: truncated header ({size} bytes)" in err,
                f"{tag}: inspect of a torn header exited {code}: {err.strip()!r}",
            )
            return FileAfterKill(tag, "torn header", torn_bytes=size)
    recording = read_recording(path)  # raises for mid-file corruption: never after a kill
    report = recording.report
    records = list(recording)
    check(
        [r.seq for r in records] == list(range(1, len(records) + 1)),
        f"{tag}: sequence numbers are not 1..{len(records)}",
    )
    check(report.valid_bytes + report.torn_tail_bytes == size, f"{tag}: bytes unaccounted for")
    acked = log.last_seq(tag)
    if crash is not None:
        _, seq, size_written, written = crash
        last_good, torn = (seq, 0) if written == size_written else (seq - 1, written)
        check(
            (report.last_good_seq, report.torn_tail_bytes) == (last_good, torn),
            f"{tag}: the kill left seq {last_good} and {torn} torn bytes, the reader found seq "
            f"{report.last_good_seq} and {report.torn_tail_bytes}",
        )
    else:
        extra = 0 if exact else 1
        check(
            acked <= report.last_good_seq <= acked + extra,
            f"{tag}: {acked} records acknowledged, seq {report.last_good_seq} in the file",
        )
    reason = report.torn_tail_reason
    if crash is not None and report.torn_tail_bytes:
        expected_reason = (
            "partial record header"
            if report.torn_tail_bytes < RECORD_HEAD_SIZE
            else "record runs past the end of the file"
        )
        check(reason == expected_reason, f"{tag}: torn tail reported as {reason!r}")
    lines = out.splitlines()
    wanted = _expected_integrity(report.last_good_seq, report.torn_tail_bytes, reason)
    check(code == 0, f"{tag}: inspect exited {code}: {err.strip()[-300:]!r}")
    check(wanted in lines, f"{tag}: inspect did not print {wanted!r}:\n{out}")
    check(
        any(line.startswith(f"records    {report.records:,}:") for line in lines),
        f"{tag}: inspect counted other records than {report.records}",
    )
    state = "torn tail" if report.torn_tail_bytes else "intact"
    return FileAfterKill(tag, state, torn_bytes=report.torn_tail_bytes, records=records)


# -- replay and the market's truth ---------------------------------------------------------


async def replay_bars(path: Path) -> list[Bar]:
    """The final bars a replay of ``path`` delivers (``RecordingFeed``), in order."""
    bars: list[Bar] = []
    send, receive = trio.open_memory_channel[Any](4)
    async with trio.open_nursery() as nursery:
        await nursery.start(RecordingFeed(path, updates=False).run, send)
        async with receive:
            async for batch in receive:
                bars.extend(e for e in batch if isinstance(e, Bar))
    return bars


def check_bars_true(tag: str, bars: list[Bar], server: Any) -> None:
    """Each replayed final bar of the series, in strictly rising time, is the simulated
    market's bar of its minute."""
    bars = [b for b in bars if b.symbol == SERIES]
    opens = [b.ts_open for b in bars]
    check(all(a < b for a, b in itertools.pairwise(opens)), f"{tag}: bars out of order or twice")
    if not bars:
        return
    market = server.market
    # Only as many bars as reach back to the first one: older ones are synthesised on demand.
    count = min((market.now_ns - opens[0]) // MINUTE + 2, market.history_limit)
    true_bars = {b.ts_open: b for b in market.bars(SERIES, Interval.parse("1m"), count)}
    for bar in bars:
        true = true_bars.get(bar.ts_open)
        check(
            true is not None
            and (bar.open, bar.high, bar.low, bar.close, bar.volume)
            == (true.open, true.high, true.low, true.close, true.volume),
            f"{tag}: the bar at {bar.ts_open} is {bar!r}, the market's is {true!r}",
        )


# -- the state the kill found the process in ----------------------------------------------


def observed_state(files: list[FileAfterKill]) -> str:
    """What the process was doing when it died, read from the files it left."""
    if any(f.state == "torn header" for f in files):
        return "creating files"
    activity = _activity({f.tag: f for f in files})
    torn = [f.tag for f in files if f.state == "torn tail"]
    return f"{activity}, mid-append ({torn[0]})" if torn else activity


def _activity(by_tag: dict[str, FileAfterKill]) -> str:
    recording = by_tag.get("recording")
    if recording is None or not recording.records:
        return "starting"
    records = recording.records
    events = [i for i, r in enumerate(records) if r.kind is RecordKind.CONNECTION]
    if events:
        last = orjson.loads(records[events[-1]].payload).get("event")
        if last == "disconnected":
            return "reconnecting"
        since = records[events[-1] + 1 :]
        if last == "connected" and not any(_is_market_data(r) for r in since):
            return "resubscribing" if len(events) > 1 else "subscribing"
    journal = by_tag.get("journal")
    if journal is not None and journal.records:
        step = journal.records[-1]
        if b'"guess":' in step.payload and step.recv_wall_ns >= records[-1].recv_wall_ns:
            return "just journalled a fill"
    return "streaming"


def _is_market_data(record: Record) -> bool:
    if record.kind is not RecordKind.INBOUND:
        return False
    try:
        return classify_frame(record.text()) in ("SERIES", "QUOTES", "LEGACY_QUOTE")
    except ValueError:
        return False


# -- one kill ------------------------------------------------------------------------------


@attrs.define
class KillOutcome:
    """What one kill found."""

    plan: KillPlan
    state: str = "?"
    torn: dict[str, int] = attrs.field(factory=dict)
    torn_headers: list[str] = attrs.field(factory=list)
    fills_before: int = 0
    fills_after: int = 0
    fills_compared: int = 0
    bars_checked: int = 0
    failure: str | None = None
    failure_kind: str | None = None
    seconds: float = 0.0

    def line(self) -> str:
        plan = self.plan
        tails = ", ".join(f"{t} {n:,} B" for t, n in sorted(self.torn.items())) or "none"
        if self.torn_headers:
            tails += "; header " + ", ".join(self.torn_headers)
        text = (
            f"{plan.index:4d} {plan.command:6s} {plan.phase:9s} {plan.describe():28s} "
            f"| {self.state:38s} | torn {tails:20s}"
        )
        if plan.command == "paper":
            more = self.fills_after - self.fills_before if self.fills_compared else "?"
            text += f" | fills {self.fills_before}+{more}"
        text += f" | {self.seconds:4.1f}s"
        if self.failure is not None:
            text += f"\n     FAILED ({self.failure_kind}): {self.failure}"
        return text


async def run_kill(plan: KillPlan, workdir: Path) -> KillOutcome:
    """Run one planned kill in ``workdir`` (created) against its own simulated server and
    check everything after it; a failed check is the outcome's ``failure``."""
    await trio.Path(workdir).mkdir(parents=True, exist_ok=True)
    outcome = KillOutcome(plan)
    start = time.monotonic()
    async with open_simulated_server(plan.sim_config()) as server:
        try:
            if plan.command == "paper":
                await _paper_kill(plan, server, workdir, outcome)
            else:
                await _record_kill(plan, server, workdir, outcome)
        except CheckFailed as exc:
            outcome.failure, outcome.failure_kind = str(exc), exc.kind
        except (RecordingError, OSError, ValueError) as exc:
            outcome.failure, outcome.failure_kind = f"{type(exc).__name__}: {exc}", "mismatch"
    outcome.seconds = time.monotonic() - start
    return outcome


async def _kill(plan: KillPlan, args: list[str], files: dict[str, Path], err: Path) -> ChildRun:
    if plan.point is not None:
        run = await run_child(args, files, err, point=plan.point)
    else:
        run = await run_child(
            args, files, err, until=lambda log: log.writes >= plan.after_writes, delay=plan.delay
        )
    check(
        run.reached and run.returncode == -signal.SIGKILL,
        f"the kill's moment never came (exit {run.returncode}): {run.stderr.strip()[-500:]!r}",
        "missed",
    )
    return run


def _note(outcome: KillOutcome, file: FileAfterKill) -> None:
    if file.state == "torn tail":
        outcome.torn[file.tag] = file.torn_bytes
    elif file.state == "torn header":
        outcome.torn_headers.append(file.tag)


async def _record_kill(plan: KillPlan, server: Any, workdir: Path, outcome: KillOutcome) -> None:
    rec = workdir / "record.twrec"
    args = [
        "record", "--series", SERIES, "--quote", QUOTE, "--bars", "300",
        "--url", server.url, "--out", str(rec), "--durability", plan.durability, "-q",
    ]  # fmt: skip
    run = await _kill(plan, args, {"recording": rec}, workdir / "record.err")
    after = await check_file("recording", rec, run, exact=plan.point is not None)
    _note(outcome, after)
    outcome.state = observed_state([after])
    if after.state in ("torn tail", "intact"):
        bars = await replay_bars(rec)
        check_bars_true("recording", bars, server)
        outcome.bars_checked = len(bars)


def _paper_args(url: str, book: Path, rec: Path, durability: str) -> list[str]:
    return [
        "paper", STRATEGY, "--series", SERIES, "--bars", "300", "--url", url,
        "--journal", str(book), "--record", str(rec), "--durability", durability, "-q",
    ]  # fmt: skip


async def _paper_kill(plan: KillPlan, server: Any, workdir: Path, outcome: KillOutcome) -> None:
    book, first, second = (workdir / n for n in ("book.twrec", "first.twrec", "second.twrec"))
    files = {"journal": book, "recording": first}
    args = _paper_args(server.url, book, first, plan.durability)
    run = await _kill(plan, args, files, workdir / "first.err")
    exact = plan.point is not None
    found = [await check_file(tag, path, run, exact=exact) for tag, path in files.items()]
    for f in found:
        _note(outcome, f)
    outcome.state = observed_state(found)
    journal = found[0]
    before = None
    if journal.state in ("intact", "torn tail"):
        before = read_paper_journal(book)
        check(
            (before.records, before.torn_tail_bytes) == (len(journal.records), journal.torn_bytes),
            "read_paper_journal saw another journal than the reader",
        )
        check(
            len(before.fills) == run.log.fills() or not exact,
            f"{run.log.fills()} fills acknowledged, {len(before.fills)} in the book",
        )
        outcome.fills_before = len(before.fills)

    restarted = await run_child(
        _paper_args(server.url, book, second, plan.durability),
        {"journal": book, "recording": second},
        workdir / "second.err",
        until=lambda log: log.fills() >= NEW_FILLS,
        stop=signal.SIGTERM,
    )
    check(
        restarted.reached and restarted.returncode == 0,
        f"the restarted session ended with {restarted.returncode} before journalling "
        f"{NEW_FILLS} fills: {restarted.stderr.strip()[-400:]!r}",
        "refused",
    )
    if journal.state == "torn tail":
        check(
            f"dropped a torn tail of {journal.torn_bytes} bytes" in restarted.stderr,
            "the restart did not say it dropped the journal's torn tail",
        )
    elif journal.state == "torn header":
        check(
            f"{book}: its header was cut short" in restarted.stderr,
            "the restart did not say it replaced the journal whose header was cut short",
        )
    await _check_resumed_book(book, before, restarted, [first, second], server, outcome)


async def _check_resumed_book(
    book: Path,
    before: PaperBook | None,
    restarted: ChildRun,
    recordings: list[Path],
    server: Any,
    outcome: KillOutcome,
) -> None:
    """The book after the restart holds every fill from before once, and all its fills are
    those of a backtest over the bars it saw."""
    after = read_paper_journal(book)
    check(read_recording(book).report.intact, "the journal is not intact after a clean stop")
    old = before.fills if before is not None else ()
    check(after.fills[: len(old)] == old, "a fill from before the kill changed or went missing")
    check(
        len(after.fills) == len(old) + restarted.log.fills(),
        f"{len(old)} fills before, {restarted.log.fills()} journalled after the restart, "
        f"{len(after.fills)} in the book",
    )
    outcome.fills_after = len(after.fills)

    # The bars the book saw: the first session's on if it delivered any, else the second's.
    delivered = before.delivered if before is not None else {}
    by_open: dict[int, Bar] = {}
    for path in recordings if delivered else recordings[1:]:
        bars = await replay_bars(path)
        check_bars_true(path.name, bars, server)
        if path == recordings[0]:
            # Write-ahead: a bar reached the strategy only once the frame that finished it
            # was in the recording, so the kill cannot have cut off a delivered bar.
            last = max((b.ts_open for b in bars), default=None)
            check(
                last is not None and last >= max(delivered.values()),
                f"the journal delivered the bar at {max(delivered.values())}, the first "
                f"recording replays up to {last}",
            )
        for bar in bars:
            by_open.setdefault(bar.ts_open, bar)
    bars = [by_open[ts] for ts in sorted(by_open)]
    opens = [b.ts_open for b in bars]
    check(
        all(b - a == MINUTE for a, b in itertools.pairwise(opens)),
        "a bar is missing between the sessions' recordings",
    )
    outcome.bars_checked = len(bars)
    from tests.paper.restartable import FlipEverySeventhBar

    uninterrupted = await backtest_async(FlipEverySeventhBar(), ListFeed(bars))
    want = [_fill_key(f) for f in uninterrupted.fills]
    got = [_fill_key(f) for f in after.fills]
    check(
        got == want,
        f"the book's {len(got)} fills differ from the uninterrupted backtest's {len(want)} "
        f"(first difference at {_first_difference(got, want)})",
    )
    outcome.fills_compared = len(got)


def _fill_key(fill: OrderFilled) -> tuple[Any, ...]:
    return (fill.symbol, fill.side, fill.qty, fill.price, fill.commission, fill.ts_event)


def _first_difference(a: list[Any], b: list[Any]) -> int:
    pairs = enumerate(zip(a, b, strict=False))
    return next((i for i, (x, y) in pairs if x != y), min(len(a), len(b)))
