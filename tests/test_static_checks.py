"""ruff and mypy --strict run as part of the suite, so the one test command checks everything."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_finds_nothing():
    result = run_tool("ruff", "check", "framework", "strategies", "examples", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_formatted():
    result = run_tool(
        "ruff", "format", "--check", "framework", "strategies", "examples", "bench", "tests"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_passes_on_the_package():
    result = run_tool("mypy", "--strict", "framework")
    assert result.returncode == 0, result.stdout + result.stderr
