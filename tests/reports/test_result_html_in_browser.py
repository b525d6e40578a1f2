"""The HTML a notebook shows for a result draws its equity chart in a real browser, with
no script, no error and no request."""

from pathlib import Path

import trio

from framework import backtest_async
from strategies.sma_cross import SmaCross

ROOT = Path(__file__).resolve().parents[2]
AAPL = ROOT / "examples" / "data" / "AAPL.csv"

#: What the browser made of the chart: its rendered size, the polyline's points and length.
CHART_PROBE = """
(() => {
  const svg = document.querySelector('svg');
  const line = svg.querySelector('polyline');
  const box = svg.getBoundingClientRect();
  return {
    width: box.width, height: box.height,
    points: line.points.numberOfItems,
    length: line.getTotalLength(),
    labels: [...svg.querySelectorAll('text')].map(t => t.textContent),
    rows: document.querySelectorAll('table tr').length,
    scripts: document.scripts.length,
  };
})()
"""


async def test_result_html_draws_its_equity_chart_in_chromium(tmp_path, open_in_chromium):
    result = await backtest_async(SmaCross(), [AAPL])
    page = tmp_path / "result.html"
    # A notebook puts the repr inside its own page; a bare page with a charset is the same.
    page.write_text(
        f'<!doctype html><html><head><meta charset="utf-8"><title>result</title></head>'
        f"<body>{result._repr_html_()}</body></html>",
        encoding="utf-8",
    )
    with trio.fail_after(90):
        load = await open_in_chromium(page, expression=CHART_PROBE)
    assert load.problems == []
    assert load.outside_requests == []
    value = load.value
    assert (value["width"], value["height"]) == (600, 180)
    assert 500 <= value["points"] <= 600
    assert value["length"] > 600  # a drawn, wiggling line, not a point or a straight edge
    assert value["labels"][2:] == ["2024-01-02", "2024-01-09"]
    assert value["rows"] == len(result.stats) + 2  # header, final equity, every statistic
    assert value["scripts"] == 0
