"""How a RunResult shows itself: a repr of a few figures, an HTML statistics table for
notebooks, and statistics formatted alike in every output."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import attrs
import pytest

from framework import RunResult, backtest
from framework.results._display import (
    STATISTIC_LABELS,
    format_duration,
    format_statistic,
    statistic_label,
)
from strategies.sma_cross import SmaCross

AAPL = Path(__file__).resolve().parents[2] / "examples" / "data" / "AAPL.csv"


@pytest.fixture(scope="module")
def aapl_result() -> RunResult:
    return backtest(SmaCross(), [AAPL])


def test_repr_of_a_10000_bar_run_is_a_line_of_its_key_figures(aapl_result):
    assert aapl_result.bars == 10_000 and len(aapl_result.fills) > 300
    text = repr(aapl_result)
    assert len(text) < 400
    assert "\n" not in text
    s = aapl_result.stats
    assert text.startswith("RunResult(strategy='SmaCross', params={'fast': 10, 'slow': 30, ")
    for figure in (
        "bars=10000",
        f"fills={len(aapl_result.fills)}",
        f"trades={len(aapl_result.trades)}",
        f"final_equity={aapl_result.final_equity:.2f}",
        f"return={s['total_return'] * 100:.2f}%",
        f"max_drawdown={s['max_drawdown'] * 100:.2f}%",
        f"sharpe={s['sharpe']:.2f}",
    ):
        assert figure in text, figure


def test_repr_stays_short_with_long_or_many_parameters(aapl_result):
    odd = attrs.evolve(aapl_result, params={f"p{i}": "x" * 1_000 for i in range(50)})
    assert len(repr(odd)) < 600


class _Table(HTMLParser):
    """Collects the text of each row's cells and checks every tag is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.append(tag)
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self.text = []

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing open"
        if tag in ("td", "th"):
            self.rows[-1].append("".join(self.text))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_repr_html_lists_every_statistic_with_its_label_as_escaped_html(aapl_result):
    tricky = attrs.evolve(
        aapl_result,
        strategy="<script>alert(1)</script>",
        stats={**aapl_result.stats, "a<b>&c": "<i>x</i>"},
    )
    page = tricky._repr_html_()
    assert "<script>" not in page and "<i>" not in page
    table = _Table()
    table.feed(page)
    table.close()
    assert table.open == []
    header, *rows = table.rows
    assert header == ["statistic", "value", "key"]
    by_key = {key: (label, value) for label, value, key in rows}
    assert set(by_key) == {"final_equity", *tricky.stats}
    assert by_key["a<b>&c"][1] == "<i>x</i>"  # escaped on the way in, read back as text
    assert by_key["total_return"] == (
        "Total return",
        f"{aapl_result.stats['total_return'] * 100:.2f}%",
    )
    assert by_key["max_drawdown_duration_s"][0] == "Max drawdown duration"


def test_summary_formats_figures_as_the_shared_formatter_does(aapl_result):
    s = aapl_result.stats
    lines = {line[:15].strip(): line[15:] for line in aapl_result.summary().splitlines()}
    assert lines["return"].startswith(format_statistic("total_return", s["total_return"]) + " ")
    assert lines["sharpe"] == format_statistic("sharpe", s["sharpe"])
    assert lines["win rate"] == format_statistic("win_rate", s["win_rate"])
    duration = format_statistic("max_drawdown_duration_s", s["max_drawdown_duration_s"])
    assert lines["max drawdown"].endswith(f"(longest {duration})")


def test_every_statistic_of_a_run_has_its_own_label(aapl_result):
    assert set(aapl_result.stats) <= set(STATISTIC_LABELS)
    for name, label in STATISTIC_LABELS.items():
        assert "_" not in label.label and not label.label.endswith(" s"), name


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("total_return", 0.0878, "8.78%"),
        ("max_drawdown", 0.031, "3.10%"),
        ("win_rate", None, "n/a"),
        ("sharpe", 1.23456, "1.23"),
        ("profit_factor", 12_345.678, "12,345.68"),
        ("trades", 12_345, "12,345"),
        ("fills", 7.0, "7"),
        ("avg_trade_pnl", -1531.0000000000002, "-1,531.00"),
        ("max_drawdown_duration_s", 3 * 86_400 + 4 * 3_600 + 12 * 60 + 5, "3d 4h 12m"),
        ("custom_ratio", 0.123456, "0.1235"),
        ("custom_wait_s", 90.0, "1m 30s"),
    ],
)
def test_statistic_values_read_in_their_unit(name, value, text):
    assert format_statistic(name, value) == text


def test_unknown_statistics_still_get_readable_labels():
    assert statistic_label("custom_wait_s").label == "Custom wait"
    assert statistic_label("custom_wait_s").unit == "duration"
    assert statistic_label("hit_ratio").label == "Hit ratio"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (45.4, "45s"), (300, "5m 0s"), (7_500, "2h 5m"), (565_740, "6d 13h 9m")],
)
def test_durations_read_in_their_two_or_three_largest_units(seconds, text):
    assert format_duration(seconds) == text
