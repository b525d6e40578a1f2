"""docs/testing.md shows runnable code: every test function in it is one of the examples."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "testing.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def documented_tests() -> list[str]:
    found = []
    for block in BLOCK.findall(DOC.read_text()):
        lines = block.splitlines()
        for node in ast.parse(block).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                assert node.end_lineno is not None
                found.append("\n".join(lines[first - 1 : node.end_lineno]))
    return found


def test_every_test_in_the_testing_guide_is_an_example_that_runs_in_ci():
    examples = "\n".join(p.read_text() for p in (ROOT / "examples").glob("test_*.py"))
    tests = documented_tests()
    assert len(tests) >= 9
    for source in tests:
        assert source in examples, f"not in examples/:\n{source}"
