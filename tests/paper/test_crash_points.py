"""SIGKILL at chosen crash points: `tradewire inspect` reports the torn tail the kill left, the
recording reads back and replays true, and a restarted paper session resumes the book with no
fill lost or doubled.

The short version of `python bench/crash_points.py` (100 seeded kills of each command): a few
moments named here, each checked the same way (tests/paper/crash_drill.py). Each kill stops
the real command line at one write to its journal or recording (the whole write, none of it,
or a seeded share of its bytes) and kills it there, so the moment does not depend on timing;
the server closes and drops connections so that kills land around reconnects too.
"""

from __future__ import annotations

import random
from pathlib import Path

from tests.paper.crash_drill import CrashPoint, KillPlan, plan_kills, run_kill

CLOSE_THEN_DROP = (("close", 1, 120), ("drop", 2, 90))


def _plan(command: str, phase: str, point: CrashPoint, durability: str = "group") -> KillPlan:
    return KillPlan(
        index=0,
        command=command,
        phase=phase,
        point=point,
        sim_seed=random.Random(f"{command}:{point}").randrange(1 << 30),
        faults=CLOSE_THEN_DROP,
        durability=durability,
    )


async def _passes(plan: KillPlan, tmp_path: Path):
    outcome = await run_kill(plan, tmp_path / "kill")
    assert outcome.failure is None, outcome.line()
    return outcome


async def test_paper_killed_mid_append_of_a_fill_resumes_without_losing_or_doubling_it(tmp_path):
    point = CrashPoint(tag="journal", match="fill", nth=3, cut=0.5)
    outcome = await _passes(_plan("paper", "fill", point), tmp_path)
    assert outcome.torn.get("journal", 0) > 0, "inspect found the torn fill record"
    assert outcome.fills_after >= outcome.fills_before + 2
    assert outcome.fills_compared == outcome.fills_after


async def test_paper_killed_right_after_journalling_a_fill_keeps_it_once(tmp_path):
    point = CrashPoint(tag="journal", match="fill", nth=2, cut=None)
    outcome = await _passes(_plan("paper", "fill", point, durability="strict"), tmp_path)
    assert outcome.torn == {}
    assert outcome.state == "just journalled a fill"
    assert outcome.fills_compared == outcome.fills_after > outcome.fills_before > 0


async def test_paper_killed_while_resubscribing_resumes_the_book(tmp_path):
    point = CrashPoint(tag="recording", match="outbound", nth=2, cut=None)
    outcome = await _passes(_plan("paper", "reconnect", point, durability="process"), tmp_path)
    assert outcome.state == "resubscribing"
    assert outcome.fills_compared == outcome.fills_after > outcome.fills_before > 0


async def test_record_killed_mid_append_is_reported_torn_and_replays_up_to_the_tail(tmp_path):
    point = CrashPoint(tag="recording", match="any", nth=150, cut=0.3)
    outcome = await _passes(_plan("record", "write", point), tmp_path)
    assert outcome.torn["recording"] > 0
    assert outcome.bars_checked >= 300, "the burst and the bars after it replayed"


async def test_record_killed_after_a_disconnect_reads_back_intact(tmp_path):
    point = CrashPoint(tag="recording", match="connection", nth=2, cut=None)
    outcome = await _passes(_plan("record", "reconnect", point), tmp_path)
    assert outcome.torn == {}
    assert outcome.state == "reconnecting"


async def test_paper_killed_while_creating_its_journal_starts_a_new_one(tmp_path):
    point = CrashPoint(tag="journal", match="header", nth=1, cut=0.4)
    outcome = await _passes(_plan("paper", "create", point), tmp_path)
    assert outcome.torn_headers == ["journal"]
    assert outcome.fills_before == 0
    assert outcome.fills_compared == outcome.fills_after >= 2


def test_the_same_seed_plans_the_same_kills_and_covers_every_phase():
    plans = plan_kills(1, 100)
    assert plans == plan_kills(1, 100)
    assert plans != plan_kills(2, 100)
    assert {p.phase for p in plans if p.command == "paper"} == {
        "fill", "write", "reconnect", "anytime", "create",
    }  # fmt: skip
    assert {p.phase for p in plans if p.command == "record"} == {
        "write", "reconnect", "anytime", "create",
    }  # fmt: skip
