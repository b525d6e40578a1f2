"""The example notebook runs in a real Jupyter kernel and shows what it promises: the result's
statistics table and equity chart, and its trades as a DataFrame."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from framework import backtest
from strategies.sma_cross import SmaCross

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "notebook.ipynb"
_NEEDS = "executing the notebook needs nbclient, nbformat and ipykernel: pip install '.[notebook]'"


def test_the_committed_notebook_has_no_outputs():
    # Outputs in the file would go stale with every change of the code and bloat diffs.
    document = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [cell for cell in document["cells"] if cell["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """The notebook run top to bottom from the repository root: each tagged cell's outputs."""
    nbclient = pytest.importorskip("nbclient", reason=_NEEDS)
    nbformat = pytest.importorskip("nbformat", reason=_NEEDS)
    pytest.importorskip("ipykernel", reason=_NEEDS)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=120,
        resources={"metadata": {"path": str(ROOT)}},
    )
    # IPython's own folder in a temporary one: no profile or startup file of the user's
    # changes what the kernel does, and no history database is left in their home.
    client.execute(env={**os.environ, "IPYTHONDIR": str(tmp_path_factory.mktemp("ipython"))})
    outputs = {}
    for cell in notebook.cells:
        for tag in cell.get("metadata", {}).get("tags", []):
            outputs[tag] = cell.get("outputs", [])
    return outputs


@pytest.fixture(scope="module")
def direct() -> Any:
    """The notebook backtests a DataFrame of this file: the file gives the same run."""
    return backtest(SmaCross(fast=10, slow=30), [ROOT / "examples" / "data" / "AAPL.csv"])


def result_of(outputs: list[dict[str, Any]]) -> dict[str, Any]:
    found = [o["data"] for o in outputs if o["output_type"] == "execute_result"]
    assert len(found) == 1, outputs
    data: dict[str, Any] = found[0]
    return data


def test_no_cell_fails_or_warns(executed):
    for tag, outputs in executed.items():
        assert not [o for o in outputs if o["output_type"] == "error"], tag
        assert not [o for o in outputs if o.get("name") == "stderr"], (tag, outputs)


def test_the_result_cell_shows_the_statistics_table_and_the_equity_chart(executed, direct):
    shown = result_of(executed["result"])
    page = shown["text/html"]
    assert "<table>" in page and "<svg" in page and "<polyline" in page
    assert "<td>Total return</td>" in page
    assert f"{direct.bars:,} bars, {len(direct.fills):,} fills, {len(direct.trades):,} trades" in (
        page
    )
    assert shown["text/plain"] == repr(direct)


def test_the_trades_cell_shows_the_trades_as_a_dataframe(executed, direct):
    shown = result_of(executed["trades"])
    page = shown["text/html"]
    assert 'class="dataframe"' in page
    header = re.search(r"<thead>.*?</thead>", page, flags=re.DOTALL)
    assert header is not None
    for column in ("symbol", "side", "qty", "entry_time", "exit_price", "pnl", "commission"):
        assert f"<th>{column}</th>" in header.group(0)
    assert f"<p>{len(direct.trades)} rows × 9 columns</p>" in page
    assert shown["text/plain"].endswith(f"[{len(direct.trades)} rows x 9 columns]")
    first = direct.trades[0]
    assert f"<td>{first.entry_price}</td>" in page and f"<td>{first.exit_price}</td>" in page
    assert "AAPL" in page and "2024-01-02 15:11:00+00:00" in page  # times in UTC


def test_the_notebook_counts_the_trades_of_a_direct_backtest(executed, direct):
    text = result_of(executed["polars"])["text/plain"]
    # The polars frame: one row per side with its trade count; every trade of SmaCross is long.
    assert "shape: (1, 3)" in text
    assert re.search(rf"\blong\b.*\b{len(direct.trades)}\b", text), text


def test_the_daily_equity_cell_ends_on_the_final_equity(executed, direct):
    text = result_of(executed["daily"])["text/plain"]
    assert f"{direct.final_equity:.1f}" in text.splitlines()[-2]
