"""Golden results: compare a run with the expected result stored in a JSON file.

A golden file holds the pretty JSON of a result (:meth:`~framework.RunResult.to_json`, or any
JSON-able value). A mismatch fails with a unified diff of the two texts; regenerate the files
with ``pytest --tradewire-update-golden`` (or ``update=True``) and review the diff in version
control like any other change.
"""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Any

import orjson

from ..results._run_result import RunResult

#: Lines of a unified diff shown in one failure message; the rest are counted.
MAX_DIFF_LINES = 120

UPDATE_HINT = "run pytest with --tradewire-update-golden to accept this result"


def golden_bytes(actual: RunResult | bytes | str | Any) -> bytes:
    """The golden-file text of ``actual``: a RunResult's ``to_json()``, bytes and str as they
    are, anything else as indented JSON (keys in the order given), ending with a newline."""
    if isinstance(actual, RunResult):
        return actual.to_json()
    if isinstance(actual, bytes):
        return actual
    if isinstance(actual, str):
        return actual.encode()
    return orjson.dumps(actual, option=orjson.OPT_INDENT_2) + b"\n"


def write_golden(actual: RunResult | bytes | str | Any, path: str | Path) -> bool:
    """Write the golden file of ``actual`` (creating folders); returns whether it changed."""
    target = Path(path)
    data = golden_bytes(actual)
    if target.exists() and target.read_bytes() == data:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return True


def assert_matches_golden(
    actual: RunResult | bytes | str | Any,
    path: str | Path,
    *,
    update: bool = False,
    rel_tol: float = 0.0,
    abs_tol: float = 0.0,
) -> None:
    """Assert that ``actual`` matches the golden file at ``path``; with ``update``, (re)write it.

    The comparison is exact on the text unless ``rel_tol`` or ``abs_tol`` is set: then both
    sides are parsed as JSON and numbers compare with :func:`math.isclose`. On a mismatch the
    :class:`AssertionError` carries a unified diff (expected, then this run).
    """
    __tracebackhide__ = True  # pytest shows the failure at the caller
    target = Path(path)
    if update:
        write_golden(actual, target)
        return
    data = golden_bytes(actual)
    if not target.exists():
        raise AssertionError(f"golden file {target} does not exist; {UPDATE_HINT}")
    expected = target.read_bytes()
    if expected == data:
        return
    tolerant = rel_tol or abs_tol
    if tolerant and _close(orjson.loads(expected), orjson.loads(data), rel_tol, abs_tol):
        return
    diff = unified_diff(expected, data, f"{target} (golden)", "this run")
    raise AssertionError(f"result differs from golden file {target}; {UPDATE_HINT}\n{diff}")


def unified_diff(expected: bytes, actual: bytes, expected_name: str, actual_name: str) -> str:
    """A unified diff of two texts, cut to :data:`MAX_DIFF_LINES` lines."""
    lines = list(
        difflib.unified_diff(
            expected.decode("utf-8", "replace").splitlines(keepends=True),
            actual.decode("utf-8", "replace").splitlines(keepends=True),
            fromfile=expected_name,
            tofile=actual_name,
        )
    )
    shown = lines[:MAX_DIFF_LINES]
    text = "".join(line if line.endswith("\n") else line + "\n" for line in shown)
    if len(lines) > len(shown):
        text += f"... ({len(lines) - len(shown)} more diff lines)\n"
    return text


def _close(expected: Any, actual: Any, rel_tol: float, abs_tol: float) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return math.isclose(expected, actual, rel_tol=rel_tol, abs_tol=abs_tol)
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(
            _close(expected[k], actual[k], rel_tol, abs_tol) for k in expected
        )
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(
            _close(e, a, rel_tol, abs_tol) for e, a in zip(expected, actual, strict=True)
        )
    return bool(expected == actual)


class GoldenFiles:
    """Golden files of one test, kept in ``directory``; what the ``tradewire_golden`` fixture
    returns.

    ``golden(result)`` compares with ``<directory>/<default_name>.json`` (``golden(result,
    "name")`` with ``name.json``); in update mode it writes the file instead and notes it in
    :attr:`written`.
    """

    def __init__(
        self,
        directory: str | Path,
        default_name: str,
        *,
        update: bool = False,
        written: list[Path] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.default_name = default_name
        self.update = update
        #: Files written because they were missing or differed (update mode only).
        self.written: list[Path] = [] if written is None else written

    def path(self, name: str | None = None) -> Path:
        """Where the golden file called ``name`` (default: the test's name) lives."""
        stem = self.default_name if name is None else name
        return self.directory / (stem if stem.endswith(".json") else f"{stem}.json")

    def __call__(
        self,
        actual: RunResult | bytes | str | Any,
        name: str | None = None,
        *,
        rel_tol: float = 0.0,
        abs_tol: float = 0.0,
    ) -> None:
        """Assert that ``actual`` matches the golden file ``name`` (see
        :func:`assert_matches_golden`), or (re)write it in update mode."""
        __tracebackhide__ = True
        target = self.path(name)
        if self.update:
            if write_golden(actual, target):
                self.written.append(target)
            return
        assert_matches_golden(actual, target, rel_tol=rel_tol, abs_tol=abs_tol)
