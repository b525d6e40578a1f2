"""A result's HTML view draws its equity curve as well-formed inline SVG: at most 600
points, the first and last at the first and last equity, the extremes kept, text escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from array import array
from html.parser import HTMLParser
from pathlib import Path

import attrs
import pytest

from framework import RunResult, backtest
from framework.results._display import format_statistic
from framework.results._equity_svg import MAX_POINTS, equity_svg, thin
from strategies.sma_cross import SmaCross

AAPL = Path(__file__).resolve().parents[2] / "examples" / "data" / "AAPL.csv"
SVG = "{http://www.w3.org/2000/svg}"
MINUTE = 60 * 10**9
DAY = 86_400 * 10**9
T0 = 1_704_205_800 * 10**9


@pytest.fixture(scope="module")
def aapl_result() -> RunResult:
    return backtest(SmaCross(), [AAPL])


def svg_of(page: str) -> ET.Element:
    """The one <svg> element of an HTML page, parsed as XML (so it must be well-formed)."""
    found = re.findall(r"<svg\b.*?</svg>", page, flags=re.DOTALL)
    assert len(found) == 1, page[:500]
    return ET.fromstring(found[0])


def points(svg: ET.Element) -> list[tuple[float, float]]:
    lines = svg.findall(f"{SVG}polyline")
    assert len(lines) == 1
    return [
        (float(x), float(y)) for x, y in (p.split(",") for p in lines[0].attrib["points"].split())
    ]


def texts(svg: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]


def expected_y(value: float, equity: list[float], ys: list[float]) -> float:
    """Where ``value`` sits between the drawn extremes: the highest equity at the top."""
    low, high = min(equity), max(equity)
    return min(ys) + (high - value) / (high - low) * (max(ys) - min(ys))


def test_repr_html_holds_the_chart_and_the_statistics_table(aapl_result):
    page = aapl_result._repr_html_()
    assert page.index("<svg") < page.index("<table>")
    assert "<script" not in page
    svg = svg_of(page)
    assert svg.attrib["viewBox"] == "0 0 600 180"
    checker = _Balanced()
    checker.feed(page)
    checker.close()
    assert checker.open == [] and checker.tags >= {"svg", "polyline", "table", "td"}


def test_a_long_curve_is_thinned_to_at_most_600_points_ending_on_the_first_and_last_equity(
    aapl_result,
):
    equity = list(aapl_result.equity)
    assert len(equity) == 10_000
    drawn = points(svg_of(aapl_result._repr_html_()))
    assert 500 <= len(drawn) <= MAX_POINTS
    xs, ys = [x for x, _ in drawn], [y for _, y in drawn]
    assert xs == sorted(xs) and xs[0] == 4.0 and xs[-1] == 596.0
    assert ys[0] == pytest.approx(expected_y(equity[0], equity, ys), abs=0.01)
    assert ys[-1] == pytest.approx(expected_y(equity[-1], equity, ys), abs=0.01)
    # Extremes survive thinning: the lowest and highest equity are on the edges of the plot.
    assert (min(ys), max(ys)) == (20.0, 140.0)


def test_labels_give_the_extremes_and_the_first_and_last_dates(aapl_result):
    svg = svg_of(aapl_result._repr_html_())
    equity = aapl_result.equity
    labels = texts(svg)
    assert labels == [
        f"highest {format_statistic('final_equity', max(equity))}",
        f"lowest {format_statistic('final_equity', min(equity))}",
        "2024-01-02",
        "2024-01-09",
    ]
    title = "".join(svg.find(f"{SVG}title").itertext())
    assert title.startswith("Equity from 2024-01-02 to 2024-01-09: 100,000.00 to ")


def test_a_short_curve_is_drawn_point_for_point_on_a_time_axis():
    times = [T0, T0 + MINUTE, T0 + 3 * MINUTE, T0 + 4 * MINUTE]
    values = [100.0, 110.0, 90.0, 105.0]
    drawn = points(ET.fromstring(equity_svg(times, values)))
    assert drawn == [(4.0, 80.0), (152.0, 20.0), (448.0, 140.0), (596.0, 50.0)]
    labels = texts(ET.fromstring(equity_svg(times, values)))
    assert labels[2:] == ["2024-01-02 14:30 UTC", "2024-01-02 14:34 UTC"]


def test_a_flat_curve_is_a_line_across_the_middle():
    drawn = points(ET.fromstring(equity_svg([T0, T0 + DAY * 3], [5.0, 5.0])))
    assert drawn == [(4.0, 80.0), (596.0, 80.0)]


def test_a_single_sample_is_one_point_and_no_samples_no_chart():
    assert len(points(ET.fromstring(equity_svg([T0], [1.0])))) == 1
    assert equity_svg([], []) == ""
    assert equity_svg([T0, T0 + MINUTE], [1.0, float("nan")]) == ""


def test_thinning_keeps_ends_and_every_runs_extremes_in_order():
    n = 100_003
    values = array("d", ((i * 7_919) % 1_000 for i in range(n)))
    values[54_321] = -5.0
    values[77_777] = 5_000.0
    kept = thin(values, 600)
    assert len(kept) <= 600
    assert kept[0] == 0 and kept[-1] == n - 1
    assert kept == sorted(set(kept))
    assert 54_321 in kept and 77_777 in kept
    assert thin(values[:600], 600) == list(range(600))
    assert len(thin(values, 11)) <= 11


def test_the_html_view_is_escaped_and_well_formed_with_hostile_names(aapl_result):
    odd = attrs.evolve(aapl_result, strategy='<svg onload="x()">&', params={"a": "</svg>"})
    page = odd._repr_html_()
    assert "onload" not in svg_of(page).attrib
    assert '<svg onload="x()">' not in page and "&lt;/svg&gt;" in page


class _Balanced(HTMLParser):
    """Checks every element is closed in order (self-closing SVG elements count as closed)."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.append(tag)
        self.tags.add(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing open"
