"""Kill a writing process at random points: every acknowledged record survives, intact."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path
from types import ModuleType

from killing import acknowledged_until_killed

from framework.recording import read_recording, repair_recording

CHILD = Path(__file__).with_name("crash_writer_child.py")


def _child_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crash_writer_child", CHILD)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _kill_after(path: Path, acknowledgements: int) -> list[int]:
    """Every seq the child acknowledged before its SIGKILL."""
    return acknowledged_until_killed([str(CHILD), str(path)], acknowledgements)


def test_records_acknowledged_before_sigkill_are_all_present_and_intact(tmp_path: Path) -> None:
    payload_for = _child_module().payload_for
    rng = random.Random(20240611)
    for round_ in range(6):
        path = tmp_path / f"crash-{round_}.twrec"
        acknowledged = _kill_after(path, rng.randrange(1, 3000))
        assert acknowledged == list(range(1, len(acknowledged) + 1))

        recording = read_recording(path)  # never mid-file corruption
        records = list(recording)
        assert len(records) >= len(acknowledged)
        for seq, record in enumerate(records, start=1):
            assert record.seq == seq
            assert record.payload == payload_for(seq)

        report = repair_recording(path)
        assert report.last_good_seq == len(records)
        assert read_recording(path).report.intact
