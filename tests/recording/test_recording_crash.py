"""Kill a writing process at random points: every acknowledged record survives, intact."""

from __future__ import annotations

import importlib.util
import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from framework.recording import read_recording, repair_recording

CHILD = Path(__file__).with_name("crash_writer_child.py")
REPO = Path(__file__).resolve().parents[2]


def _child_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crash_writer_child", CHILD)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _kill_after(path: Path, acknowledgements: int) -> list[int]:
    """Start the child, SIGKILL it after reading ``acknowledgements`` lines; return every seq
    it acknowledged (including those still in the pipe when it died)."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert child.stdout is not None
    acknowledged: list[int] = []
    try:
        while len(acknowledged) < acknowledgements:
            line = child.stdout.readline()
            if not line:
                break
            acknowledged.append(int(line))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        # Read the rest through the same buffered reader: communicate() would read the raw
        # pipe and skip lines readline() had already buffered.
        rest = child.stdout.read()
        assert child.stderr is not None
        errors = child.stderr.read()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        if child.stderr is not None:
            child.stderr.close()
    assert child.returncode == -signal.SIGKILL, errors.decode(errors="replace")
    # Lines are written whole (a few bytes to a pipe is atomic), so only the last may be cut.
    acknowledged.extend(int(line) for line in rest.split(b"\n") if line)
    return acknowledged


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
