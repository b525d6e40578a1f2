"""Crash points: SIGKILL `tradewire paper --journal` and `tradewire record` at seeded moments.

    python bench/crash_points.py [--kills 100] [--seed 1] [--jobs 1] [--command paper ...]

Each kill runs the real command line against its own simulated server (closes and drops on a
seeded schedule) and kills it with SIGKILL at a moment drawn from the seed: around a fill
being journalled, in the middle of an append to the journal or the recording, around a
reconnect or resubscription, while a file's header is written, or a delay after some write.
After each kill, `tradewire inspect` must report exactly the torn tail the kill left, every
acknowledged record must read back and replay true to the market, and (paper) the session
restarted on the same journal must end with the fills of an uninterrupted backtest over the
same bars: none lost, none doubled. The checks are in tests/paper/crash_drill.py; the suite
runs a few of them (tests/paper/test_crash_points.py).

``--kills N`` kills each command N times (default 100 each). Prints one line per kill, then a
summary: kills by planned phase and by what the process was found doing, torn tails found and
reported, fills compared, and failures. Exits 1 if any check failed; the files of failed kills
are kept and their directory printed. The same seed plans the same kills; what a kill finds
varies a little with timing (how many frames the server sent by then), never the verdict.
``--jobs 2`` runs two kills at once (each kill is two processes at most).

The recorder has no file rotation (a recording is one file; docs/recording-format.md, section
7), so there is no rotation to kill during. Kills that stop the child at a write go through
tests/paper/crash_child.py, which wraps ``os.write`` to report and stop at one append; the
command line under it is unchanged.

One run here (seed 1, 100 kills of each command, one job, a machine shared at load 5): 200
kills in 1,110 s; 102 torn tails (journal 23, recording 79) and 15 torn headers reported
exactly; 100 restarted books, 5,011 fills equal to the backtest's; 62,809 replayed bars equal
to the market's; 0 mismatches.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import trio

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.paper.crash_drill import PHASES, KillOutcome, plan_kills, run_kill  # noqa: E402

COMMANDS = ("paper", "record")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=100, help="kills per command (100)")
    parser.add_argument("--seed", type=int, default=1, help="plans the kills (1)")
    parser.add_argument("--jobs", type=int, default=1, help="kills run at once (1)")
    parser.add_argument(
        "--command", action="append", choices=COMMANDS, help="only this command (repeatable)"
    )
    parser.add_argument(
        "--phase", action="append", choices=PHASES, help="only this phase (repeatable)"
    )
    parser.add_argument("--keep", type=Path, help="keep every kill's files under this directory")
    return parser.parse_args(argv)


async def run_all(args: argparse.Namespace, root: Path) -> list[KillOutcome]:
    plans = plan_kills(
        args.seed, args.kills, tuple(args.command or COMMANDS), tuple(args.phase or PHASES)
    )
    limiter = trio.CapacityLimiter(max(1, args.jobs))
    outcomes: list[KillOutcome] = []

    async def one(plan) -> None:
        async with limiter:
            workdir = root / f"{plan.command}-{plan.index:03d}"
            outcome = await run_kill(plan, workdir)
        outcomes.append(outcome)
        print(outcome.line(), flush=True)
        if outcome.failure is None and args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)

    async with trio.open_nursery() as nursery:
        for plan in plans:
            nursery.start_soon(one, plan)
            await trio.lowlevel.checkpoint()  # start them in plan order
    return sorted(outcomes, key=lambda o: (o.plan.command, o.plan.index))


def summary(outcomes: list[KillOutcome], seconds: float, args: argparse.Namespace) -> str:
    by_command = Counter(o.plan.command for o in outcomes)
    lines = [
        "",
        f"crash points: {len(outcomes)} kills ("
        + ", ".join(f"{n} {c}" for c, n in sorted(by_command.items()))
        + f"), seed {args.seed}, {args.jobs} job(s), {seconds:,.0f} s wall",
        "",
        "planned moment (phase)   " + "".join(f"{c:>8s}" for c in COMMANDS),
    ]
    for phase in PHASES:
        counts = [
            sum(o.plan.phase == phase and o.plan.command == c for o in outcomes) for c in COMMANDS
        ]
        if any(counts):
            lines.append(f"  {phase:22s} " + "".join(f"{n:8d}" for n in counts))
    lines.append("found doing (from files)")
    for state, n in Counter(o.state for o in outcomes).most_common():
        lines.append(f"  {state:38s} {n:6d}")
    tails = Counter(tag for o in outcomes for tag in o.torn)
    headers = Counter(tag for o in outcomes for tag in o.torn_headers)
    lines.append(
        f"torn tails found and reported by inspect: {sum(tails.values())} ("
        + ", ".join(f"{t} {n}" for t, n in sorted(tails.items()))
        + f"); torn headers reported: {sum(headers.values())} ("
        + ", ".join(f"{t} {n}" for t, n in sorted(headers.items()))
        + ")"
    )
    paper = [o for o in outcomes if o.plan.command == "paper" and o.failure is None]
    lines.append(
        f"paper restarts checked: {len(paper)}; fills compared with the backtest: "
        f"{sum(o.fills_compared for o in paper):,} (before the kills "
        f"{sum(o.fills_before for o in paper):,}); bars checked against the market: "
        f"{sum(o.bars_checked for o in outcomes):,}"
    )
    failed = [o for o in outcomes if o.failure is not None]
    kinds = Counter(o.failure_kind for o in failed)
    lines.append(
        f"mismatches: {kinds['mismatch']}; restarts refused: {kinds['refused']}; "
        f"moments missed: {kinds['missed']}"
    )
    for o in failed:
        lines.append(f"  {o.plan.command} #{o.plan.index} ({o.plan.describe()}): {o.failure}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # The replays warn about each torn tail they skip; the checks already compare them.
    logging.basicConfig(level=logging.ERROR)
    root = args.keep or Path(tempfile.mkdtemp(prefix="crash-points-"))
    start = time.monotonic()
    outcomes = trio.run(run_all, args, root)
    print(summary(outcomes, time.monotonic() - start, args))
    if any(o.failure is not None for o in outcomes):
        print(f"files of the failed kills: {root}")
        return 1
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
