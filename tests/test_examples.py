"""The example scripts run and print what they promise."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("backtest_from_python.py", "bars           20,000"),
        ("custom_strategy.py", "hourly reports: 166"),
        ("embedded_in_trio.py", "stopped early: True"),
    ],
)
def test_example_script_runs(script, expected):
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout
