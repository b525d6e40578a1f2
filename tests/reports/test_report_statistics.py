"""The report's statistics table: a human label and unit for every statistic."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from framework import backtest
from framework.reports import build_report, render_html
from framework.results._display import STATISTIC_LABELS, format_statistic
from strategies.sma_cross import SmaCross

AAPL = Path(__file__).resolve().parents[2] / "examples" / "data" / "AAPL.csv"


class _StatsRows(HTMLParser):
    """(key, label, value) of each row of the table with id "stats"."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[tuple[str, str, str]] = []
        self._inside = False
        self._key = ""
        self._cells: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self._inside = found.get("id") == "stats"
        elif self._inside and tag == "tr":
            self._cells = []
        elif self._inside and tag == "td" and self._cells is not None:
            if not self._cells:
                self._key = found.get("title") or ""
            self._cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._inside = False
        elif self._inside and tag == "tr" and self._cells is not None:
            label, value = self._cells
            self.rows.append((self._key, label, value))
            self._cells = None

    def handle_data(self, data: str) -> None:
        if self._inside and self._cells:
            self._cells[-1] += data


@pytest.fixture(scope="module")
def result():
    return backtest(SmaCross(), [AAPL])


@pytest.fixture(scope="module")
def stats_rows(result):
    parser = _StatsRows()
    parser.feed(render_html(build_report(result)))
    return parser.rows


def test_every_statistic_is_in_the_report_under_its_own_label(result, stats_rows):
    keys = [key for key, _, _ in stats_rows]
    assert keys == ["final_equity", *result.stats]
    for key, label, _ in stats_rows:
        assert key in STATISTIC_LABELS, f"{key} has no label"
        assert label == STATISTIC_LABELS[key].label


def test_no_label_is_a_raw_statistic_name(stats_rows):
    for key, label, _ in stats_rows:
        assert "_" not in label and not label.endswith(" s"), f"{key}: {label}"
        assert label[0].isupper(), f"{key}: {label}"


def test_values_are_shown_in_their_units(result, stats_rows):
    values = {key: value for key, _, value in stats_rows}
    for key, value in values.items():
        raw = result.final_equity if key == "final_equity" else result.stats[key]
        assert value == format_statistic(key, raw), key
    assert re.fullmatch(r"\d+d \d+h \d+m", values["max_drawdown_duration_s"])
    assert values["total_return"].endswith("%") and values["win_rate"].endswith("%")
