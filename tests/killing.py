"""Crash tests' shared harness: run a child that acknowledges work, SIGKILL it mid-stream."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def acknowledged_until_killed(args: list[str], after: int) -> list[int]:
    """Run ``python *args``; it prints one integer line per acknowledged step. SIGKILL it once
    ``after`` lines were read and return every complete line it wrote, including those still
    in the pipe when it died."""
    child = subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )
    assert child.stdout is not None and child.stderr is not None
    acknowledged: list[int] = []
    try:
        while len(acknowledged) < after:
            line = child.stdout.readline()
            if not line:
                break
            acknowledged.append(int(line))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        # Read the rest through the same buffered reader: communicate() would read the raw
        # pipe and skip lines readline() had already buffered.
        rest = child.stdout.read()
        errors = child.stderr.read()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL, errors.decode(errors="replace")
    # What follows the last newline may have been cut by the kill.
    acknowledged.extend(int(line) for line in rest.split(b"\n")[:-1])
    return acknowledged
