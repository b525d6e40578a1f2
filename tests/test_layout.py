"""The tree keeps its shape: the core never names a vendor, and no framework modules import
each other in a circle.

A vendor is one folder (``framework/adapters/<vendor>/``); outside it, only the command line,
the entry points and the re-exports kept for code written before the adapter had its own
package may name it. Import cycles are looked for twice, from the ``import`` statements of
``framework/**/*.py`` read with :mod:`ast`:

- every import, wherever it is (inside functions and under ``if TYPE_CHECKING:`` too): a
  cycle there is two modules that cannot be understood, or split, apart;
- the imports Python runs when a module is imported, each also running the ``__init__`` of
  every package above the imported module that does not hold the importer: a cycle there
  fails with a partly initialised module, depending on which module a program imports first.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "framework"
VENDOR = re.compile("insightsentry", re.IGNORECASE)

#: Modules that may name the vendor outside its adapter: CLI wiring and compatibility re-exports.
MAY_NAME_THE_VENDOR = (
    "framework/adapters/",
    "framework/cli/",
    "framework/feeds/insightsentry/__init__.py",
    "framework/testing/__init__.py",
    "framework/testing/_pytest_plugin.py",
)


def module_files() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = module_files()


# -- the vendor's name -------------------------------------------------------------------------


def vendor_mentions(relative: str, text: str) -> list[str]:
    """Lines of ``text`` that name the vendor and are not allowed to."""
    if relative.startswith(MAY_NAME_THE_VENDOR):
        return []
    return [
        f"{relative}:{number}: {line.strip()}"
        for number, line in enumerate(text.splitlines(), 1)
        if VENDOR.search(line)
    ]


def test_only_the_adapter_the_cli_and_the_compatibility_re_exports_name_the_vendor():
    found = []
    for path in MODULES.values():
        relative = path.relative_to(ROOT).as_posix()
        found += vendor_mentions(relative, path.read_text(encoding="utf-8"))
    assert not found, "the vendor named outside its adapter:\n" + "\n".join(found)


def test_the_vendor_check_sees_code_comments_and_docstrings():
    assert vendor_mentions("framework/_engine.py", '"""Runs on the InsightSentry feed."""')
    assert vendor_mentions("framework/feeds/_feed.py", "# insightsentry sends ...")
    assert not vendor_mentions("framework/adapters/insightsentry/_codec.py", "InsightSentry")
    assert vendor_mentions("framework/_backtest.py", "from .adapters.insightsentry import X")


# -- import cycles -----------------------------------------------------------------------------


def imported_modules(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The framework modules an import statement of ``module`` names."""
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    else:
        if node.level:
            is_package = MODULES[module].name == "__init__.py"
            base = module if is_package else module.rpartition(".")[0]
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            base = f"{base}.{node.module}" if node.module else base
        else:
            base = node.module or ""
        # `from package import name` imports the submodule when there is one.
        targets = [f"{base}.{alias.name}" for alias in node.names]
        targets = [t if t in MODULES else base for t in targets]
    for target in targets:
        while target and target not in MODULES:  # `import framework.x.Name` and the like
            target = target.rpartition(".")[0]
        if target and target != module:
            yield target


def import_statements(
    tree: ast.Module, *, at_import_only: bool
) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements of a module; with ``at_import_only``, only those Python runs when
    it imports the module (not in a function body, not under ``if TYPE_CHECKING:``)."""
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
            continue
        if at_import_only:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                pending.extend(node.orelse)
                continue
        pending.extend(ast.iter_child_nodes(node))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_graph(*, at_import_only: bool) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = graph.setdefault(module, set())
        for node in import_statements(tree, at_import_only=at_import_only):
            for target in imported_modules(module, node):
                targets.add(target)
                if at_import_only:
                    targets.update(_packages_run_first(module, target))
    return graph


def _packages_run_first(module: str, target: str) -> Iterator[str]:
    """The packages whose ``__init__`` runs before ``target`` when ``module`` imports it: those
    above ``target`` that are not already being imported because they hold ``module``."""
    package = target.rpartition(".")[0]
    while package:
        if not (module == package or module.startswith(package + ".")):
            yield package
        package = package.rpartition(".")[0]


def tangles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan): in each, every
    module imports every other one, directly or not."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """A cycle through each tangle, as a path that starts and ends at its first module."""
    return [_path_through(graph, component) for component in tangles(graph)]


def _path_through(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the first module of ``component`` (breadth-first search)."""
    start = min(component)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for successor in sorted(graph[node] & component):
                if successor == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if successor not in came_from:
                    came_from[successor] = node
                    following.append(successor)
        frontier = following
    raise AssertionError(f"no cycle through {start}")


@pytest.mark.parametrize("at_import_only", [False, True], ids=["every import", "at import time"])
def test_no_framework_modules_import_each_other_in_a_circle(at_import_only):
    graph = import_graph(at_import_only=at_import_only)
    found = [_path_through(graph, tangle) for tangle in tangles(graph)]
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in found)


def test_the_cycle_check_finds_cycles_through_functions_type_checking_and_packages():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    source = """
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    import x
def f():
    import y
import z
"""
    tree = ast.parse(source)
    everything = [n.names[0].name for n in import_statements(tree, at_import_only=False)]
    at_import = [n.names[0].name for n in import_statements(tree, at_import_only=True)]
    assert sorted(everything) == ["TYPE_CHECKING", "x", "y", "z"]
    assert sorted(at_import) == ["TYPE_CHECKING", "z"]
    # framework.testing's own modules do not wait on the package; an outsider does.
    assert list(_packages_run_first("framework.testing._golden", "framework.testing._market")) == []
    assert list(_packages_run_first("framework.adapters.x", "framework.testing._market")) == [
        "framework.testing"
    ]
