"""The docs site builds in strict mode and documents the public API.

``mkdocs build --strict`` runs once per session into a temporary directory (no network: the
site fetches no other project's inventory, and its theme's assets come with its package). A
broken link or cross-reference, a page left out of the nav or a docstring that no longer
renders fails the build, and so this file. On the output: every public name has an entry in
the API reference, the indicator table has a formula and a warm-up for every indicator, and
``framework.backtest`` names every form of data it accepts.

Docstrings: every public name of ``framework``, ``framework.indicators`` and
``framework.testing`` has one, as the site reads it. A class or function has its own
``__doc__`` (what ``help()`` shows); a constant or a type alias cannot carry one at run time,
so it is documented by a ``#:`` comment above its assignment, which the site renders (the
``griffe_sphinx`` extension reads it, as Sphinx does).
"""

from __future__ import annotations

import html
import importlib
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_public_api import PUBLIC_API

pytest.importorskip("mkdocs", reason="the docs extra: pip install -e '.[docs]'")
pytest.importorskip("mkdocstrings_handlers.python", reason="the docs extra")
griffe = pytest.importorskip("griffe", reason="the docs extra")
yaml = pytest.importorskip("yaml", reason="the docs extra")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXTENSIONS = DOCS / "api" / "_griffe_extensions.py"

#: The packages whose every public name must carry a docstring.
DOCSTRING_PACKAGES = ("framework", "framework.indicators", "framework.testing")


def build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` as CI runs it: no terminal, no colour, no stale bytecode."""
    env = {
        **os.environ,
        "TERM": "dumb",
        "NO_COLOR": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        # Material's notice about its end of life, printed on every build; not a warning.
        "NO_MKDOCS_2_WARNING": "1",
    }
    env.pop("FORCE_COLOR", None)
    command = ["build", "--strict", "-f", str(config), "--site-dir", str(site)]
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", *command],
        cwd=config.parent,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "site"
    result = build(ROOT / "mkdocs.yml", out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    return out


def page(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text(encoding="utf-8")


def api_headings(site: Path) -> set[str]:
    """The ids of the API reference's entries: one heading per documented object."""
    found: set[str] = set()
    for path in (site / "api").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'<h[1-6] id="([^"]+)" class="doc doc-heading"', text))
    return found


def nav_pages(nav: object) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in nav_pages(value)]
    if isinstance(nav, list):
        return [page for item in nav for page in nav_pages(item)]
    return []


def section(text: str, anchor: str) -> str:
    """The HTML of one API entry: from its heading to the next entry at its level or above."""
    start = re.search(rf'<h([1-6]) id="{re.escape(anchor)}" class="doc doc-heading"', text)
    assert start, f"no entry {anchor}"
    level = int(start[1])
    end = re.compile(rf'<h[1-{level}] id="[^"]+" class="doc doc-heading"')
    stop = end.search(text, start.end())
    return text[start.start() : stop.start() if stop else len(text)]


def plain(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


# -- the build --------------------------------------------------------------------------------


def test_the_site_builds_in_strict_mode_with_every_page(site):
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    for name in nav_pages(config["nav"]):
        stem = Path(name).with_suffix("")
        built = site / (stem.parent if stem.name == "index" else stem) / "index.html"
        assert built.is_file(), f"{name} is in the nav but was not built"


def test_every_page_in_docs_is_in_the_nav():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    listed = set(nav_pages(config["nav"]))
    pages = {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}
    assert pages - listed == set(), "pages missing from the nav of mkdocs.yml"
    assert listed - pages == set(), "nav entries of mkdocs.yml with no page"


def test_the_build_needs_no_network():
    # Another project's objects.inv would be fetched at build time; there is none to fetch.
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    plugins = {
        name: options
        for plugin in config["plugins"]
        for name, options in (plugin.items() if isinstance(plugin, dict) else [(plugin, {})])
    }
    handlers = plugins["mkdocstrings"]["handlers"]
    assert all(not handler.get("inventories") for handler in handlers.values())
    assert "import" not in str(handlers)


def test_the_pages_load_nothing_from_other_hosts(site):
    # Scripts, styles and fonts come from the theme's package: the site opens offline.
    remote = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="(?:https?:)?//', re.IGNORECASE)
    offenders = [
        path.relative_to(site).as_posix()
        for path in site.rglob("*.html")
        if remote.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


# -- what the site says -----------------------------------------------------------------------


def test_every_public_name_has_an_entry_in_the_api_reference(site):
    headings = api_headings(site)
    missing = sorted(
        f"{package}.{name}"
        for package, names in PUBLIC_API.items()
        for name in names
        if f"{package}.{name}" not in headings
    )
    # An entry is missing when no page renders the name, or when it has no docstring (the
    # reference shows only documented objects).
    assert not missing, f"no entry in the API reference for: {', '.join(missing)}"


def test_the_api_reference_links_the_names_its_docstrings_mention(site):
    # The reST roles of the docstrings became links: the events' docstring names InvalidEvent,
    # the indicators name DataError, and VWAP names its own inherited count.
    events = page(site, "api/events")
    assert 'href="#framework.InvalidEvent"' in events or "errors/#framework.InvalidEvent" in events
    indicators = page(site, "api/indicators")
    vwap = section(indicators, "framework.indicators.VWAP")
    assert 'href="../errors/#framework.DataError"' in vwap
    assert 'href="#framework.indicators.VWAP.count"' in vwap
    assert ":class:" not in plain(vwap)
    # A guide a docstring names by its path is a link to its page.
    assert '<a href="../../indicators/">docs/indicators.md</a>' in indicators


def test_attrs_classes_show_their_fields_as_the_signature(site):
    bar = plain(section(page(site, "api/events"), "framework.Bar"))
    assert re.search(r"Bar\s*\(\s*\*\s*,\s*symbol\s*:\s*str\s*,\s*interval\s*:\s*str", bar)
    assert re.search(r"is_backfill\s*:\s*bool\s*=\s*False", bar)


def test_the_indicator_table_gives_every_indicator_a_formula_and_a_warm_up(site):
    text = page(site, "indicators")
    table = next(
        t for t in re.findall(r"<table>.*?</table>", text, re.DOTALL) if "warm-up" in t.lower()
    )
    header = [plain(cell).strip().lower() for cell in re.findall(r"<th[^>]*>(.*?)</th>", table)]
    formula, warm_up = header.index("formula"), header.index("warm-up")
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.DOTALL)[1:]:
        cells = [plain(cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]
        rows[cells[0]] = cells
    assert set(rows) == PUBLIC_API["framework.indicators"]
    for name, cells in rows.items():
        assert cells[formula] and cells[warm_up], name


#: What ``framework.backtest`` accepts as data, and a word its entry must use for each.
DATA_FORMS = {
    "bar files": r"\.csv|bar files?",
    "Parquet": r"Parquet",
    "Feather": r"Feather",
    "pandas": r"pandas",
    "polars": r"polars",
    "pyarrow Table": r"Table",
    "recordings": r"\.twrec|recordings?",
    "a mapping of symbol to data": r"\{\s*symbol\s*:",
    "feeds": r"\bfeeds?\b",
    "a sequence of those": r"sequence",
}


def test_backtest_is_documented_with_every_form_of_data(site):
    entry = section(page(site, "api/framework"), "framework.backtest")
    # The words must be the docstring's, not the signature's (``Sequence[Strategy]``).
    entry = plain(re.sub(r'<div class="doc-signature.*?</div>', "", entry, flags=re.DOTALL))
    missing = [form for form, word in DATA_FORMS.items() if not re.search(word, entry, re.I)]
    assert not missing, f"framework.backtest's entry does not mention: {', '.join(missing)}"


# -- docstrings -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def package_tree() -> object:
    """The package as the site reads it: source, ``#:`` comments as docstrings."""
    loader = griffe.GriffeLoader(
        extensions=griffe.load_extensions("griffe_sphinx"), search_paths=[str(ROOT)]
    )
    loader.load("framework")
    loader.resolve_aliases(implicit=True, external=None)
    return loader.modules_collection


@pytest.mark.parametrize(
    "path",
    sorted(f"{package}.{name}" for package in DOCSTRING_PACKAGES for name in PUBLIC_API[package]),
)
def test_every_public_name_has_a_docstring(path, package_tree):
    package, _, name = path.rpartition(".")
    value = getattr(importlib.import_module(package), name)
    if inspect.isclass(value) or inspect.isfunction(value):
        assert (value.__doc__ or "").strip(), f"{path} has no docstring for help()"
    entry = package_tree[path]
    docstring = entry.final_target.docstring if entry.is_alias else entry.docstring
    assert docstring is not None and docstring.value.strip(), f"{path} has no docstring"


# -- the reST the docstrings are written in ---------------------------------------------------

MINI_CONFIG = """\
site_name: mini
docs_dir: docs
plugins:
  - autorefs
  - mkdocstrings:
      handlers:
        python:
          paths: [.]
          options:
            docstring_style: sphinx
            show_root_heading: true
            show_source: false
            extensions:
              - {extensions}:RestMarkup
nav:
  - index.md
"""


def mini_site(tmp_path: Path, docstring: str) -> subprocess.CompletedProcess[str]:
    """A site documenting one class of a stand-in ``framework`` package with ``docstring``."""
    (tmp_path / "framework").mkdir()
    source = f'class Target:\n    """Linked to."""\n\n\nclass Documented:\n    """{docstring}"""\n'
    (tmp_path / "framework" / "__init__.py").write_text(source, encoding="utf-8")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text(
        "::: framework.Target\n\n::: framework.Documented\n", encoding="utf-8"
    )
    config = tmp_path / "mkdocs.yml"
    config.write_text(MINI_CONFIG.format(extensions=EXTENSIONS.as_posix()), encoding="utf-8")
    return build(config, tmp_path / "site")


def test_a_role_naming_an_existing_object_becomes_a_link(tmp_path):
    docstring = "See :class:`Target` and :func:`~trio.run`.\n\n    Flow::\n\n        a -> b\n    "
    result = mini_site(tmp_path, docstring)
    assert result.returncode == 0, result.stdout + result.stderr
    text = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    documented = section(text, "framework.Documented")
    assert 'href="#framework.Target"><code>Target</code></a>' in documented
    assert "<code>run()</code>" in documented  # outside tradewire: code, no link
    assert "Flow:</p>" in documented and "a -&gt; b" in documented and "::" not in documented


def test_a_role_naming_nothing_fails_the_strict_build(tmp_path):
    result = mini_site(tmp_path, "See :class:`Targte`.")
    assert result.returncode != 0
    assert "Targte" in result.stderr
