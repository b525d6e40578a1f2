"""``backtest(..., benchmark=...)``: a symbol of the run's data or a file of its own, the
figures docs/statistics.md defines, where they show up, and the errors for a bad benchmark."""

from __future__ import annotations

import bisect
import csv
import itertools
import json
import statistics
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from framework import Bar, ConfigError, DataError, RunResult, Strategy, backtest
from framework._backtest import is_benchmark_symbol

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
AAPL, MSFT = EXAMPLES / "AAPL.csv", EXAMPLES / "MSFT.csv"
DAY = 86_400 * 10**9


class TradeAapl(Strategy):
    """Long AAPL on every fifth bar of it, flat on the next: trades AAPL only."""

    def on_start(self) -> None:
        self.n = 0

    def on_bar(self, bar: Bar) -> None:
        if bar.symbol != "AAPL":
            return
        self.n += 1
        if self.n % 10 == 5:
            self.buy("AAPL", 50)
        elif self.n % 10 == 0 and self.position("AAPL").qty:
            self.close("AAPL")


def closes_of(path: Path) -> tuple[list[int], list[float]]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    # A bar's time is its open; it is final (its close known) a minute later.
    return [(int(r["time"]) + 60) * 10**9 for r in rows], [float(r["close"]) for r in rows]


def expected_figures(result: RunResult, path: Path) -> dict[str, float]:
    """docs/statistics.md's benchmark figures, computed here from the result's equity curve
    and the benchmark's file."""
    times, prices = closes_of(path)

    def at(ts: int) -> float:
        return prices[bisect.bisect_right(times, ts) - 1]

    samples = list(zip(result.equity_ts, result.equity, strict=True))
    days = [list(group)[-1] for _, group in itertools.groupby(samples, lambda s: s[0] // DAY)]
    ours = [result.start_cash, *(value for _, value in days)]
    theirs = [at(samples[0][0]), *(at(ts) for ts, _ in days)]
    r = [b / a - 1 for a, b in itertools.pairwise(ours)]
    b = [y / x - 1 for x, y in itertools.pairwise(theirs)]
    beta = statistics.covariance(r, b) / statistics.variance(b)
    return {
        "benchmark_return": at(samples[-1][0]) / theirs[0] - 1,
        "beta": beta,
        "alpha": (statistics.mean(r) - beta * statistics.mean(b)) * 252,
    }


@pytest.fixture(scope="module")
def in_data() -> RunResult:
    return backtest(TradeAapl(), [AAPL, MSFT], benchmark="MSFT")


def test_a_symbol_of_the_data_as_benchmark_gives_the_documented_figures(in_data):
    s = in_data.stats
    assert s["benchmark"] == "MSFT"
    assert len(in_data.trades) > 100
    expected = expected_figures(in_data, MSFT)
    for key, value in expected.items():
        assert s[key] == pytest.approx(value, rel=1e-9), key
    assert s["benchmark_return"] == s["buy_and_hold_by_symbol"]["MSFT"]
    assert s["beta"] != 0 and s["alpha"] != 0


def test_a_benchmark_does_not_change_the_run(in_data):
    plain = backtest(TradeAapl(), [AAPL, MSFT])
    assert plain.fills == in_data.fills and plain.trades == in_data.trades
    assert {k: v for k, v in in_data.stats.items() if k in plain.stats} == plain.stats
    assert "benchmark" not in plain.stats and "alpha" not in plain.stats


@pytest.mark.parametrize("form", ["csv", "parquet", "path", "table"])
def test_a_benchmark_file_gives_the_figures_of_the_same_symbol_in_the_data(in_data, form, tmp_path):
    source: object = str(MSFT)
    if form == "parquet":
        source = tmp_path / "MSFT.parquet"
        pq.write_table(pacsv.read_csv(MSFT), source)
    elif form == "path":
        source = MSFT
    elif form == "table":
        source = {"MSFT": pacsv.read_csv(MSFT)}
    alone = backtest(TradeAapl(), AAPL, benchmark=source)
    assert alone.fills == in_data.fills
    assert alone.stats["benchmark"] == "MSFT"
    for key in ("benchmark_return", "alpha", "beta"):
        assert alone.stats[key] == pytest.approx(in_data.stats[key], rel=1e-12), key


def test_each_strategy_of_a_run_has_its_own_alpha_and_beta():
    class Other(TradeAapl):
        def on_bar(self, bar: Bar) -> None:
            if bar.symbol == "MSFT" and not self.position("MSFT").qty:
                self.buy("MSFT", 200)

    result = backtest([TradeAapl(), Other()], [AAPL, MSFT], benchmark="MSFT")
    own = {sid: one.stats for sid, one in result.strategies.items()}
    assert set(own) == {"TradeAapl", "Other"}
    assert own["Other"]["beta"] == pytest.approx(
        expected_figures(result.strategies["Other"], MSFT)["beta"]
    )
    assert own["Other"]["beta"] > 0.1 > abs(own["TradeAapl"]["beta"])


def test_benchmark_figures_show_in_repr_json_parquet_and_the_notebook_table(in_data, tmp_path):
    text = repr(in_data)
    assert "benchmark='MSFT'" in text and "alpha=" in text and "beta=" in text
    stats = json.loads(in_data.to_json())["stats"]
    assert stats["beta"] == in_data.stats["beta"]
    assert stats["buy_and_hold_by_symbol"] == in_data.stats["buy_and_hold_by_symbol"]
    in_data.write_parquet(tmp_path / "out")
    written = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert written["stats"]["alpha"] == in_data.stats["alpha"]
    metadata = pq.read_schema(tmp_path / "out" / "trades.parquet").metadata[b"tradewire"]
    assert json.loads(metadata)["stats"]["sqn"] == in_data.stats["sqn"]
    table = in_data._repr_html_()
    for label in ("Alpha vs benchmark", "Beta vs benchmark", "SQN", "Buy &amp; hold by symbol"):
        assert label in table, label
    assert "AAPL " in table and "MSFT " in table  # the per-symbol figures, as percentages


@pytest.mark.parametrize(
    ("text", "symbol"),
    [("SPY", True), ("NASDAQ:AAPL", True), ("EUR/USD", True), ("BRK.B", True),
     ("spy.csv", False), ("data/SPY.parquet", False), ("x.twrec", False)],
)  # fmt: skip
def test_a_string_is_a_symbol_unless_it_is_a_path_or_names_a_data_file(text, symbol):
    assert is_benchmark_symbol(text) is symbol
    assert is_benchmark_symbol(Path(text)) is False


def test_an_existing_path_is_a_file_whatever_its_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "SPY").mkdir()
    assert not is_benchmark_symbol("SPY")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


HEADER = "time,open,high,low,close,volume\n"


#: A bad benchmark (made in a temporary directory) and what its ConfigError says.
BAD_BENCHMARKS = {
    "unknown symbol": (
        lambda tmp: "NOPE",
        "benchmark 'NOPE' is not a symbol of the run's data (its symbols: AAPL)",
    ),
    "missing": (
        lambda tmp: str(tmp / "missing.csv"),
        "benchmark {tmp}/missing.csv: data file not found",
    ),
    "not data": (
        lambda tmp: write(tmp / "notes.txt", "hello"),
        "benchmark {tmp}/notes.txt: unsupported data file",
    ),
    "two symbols": (
        lambda tmp: EXAMPLES,
        f"benchmark {EXAMPLES} holds several symbols: AAPL, MSFT",
    ),
    "no overlap": (
        lambda tmp: write(tmp / "old.csv", HEADER + "946684800,1,1,1,1,1\n946684860,1,1,1,1,1\n"),
        "benchmark old: its prices (2000-01-01T00:01:00Z to 2000-01-01T00:02:00Z) do not overlap",
    ),
    "not data at all": (lambda tmp: 42, "benchmark: cannot read a int"),
}


@pytest.mark.parametrize("case", list(BAD_BENCHMARKS))
def test_a_bad_benchmark_is_a_config_error_that_names_it(case, tmp_path):
    make, message = BAD_BENCHMARKS[case]
    with pytest.raises(ConfigError) as caught:
        backtest(TradeAapl(), AAPL, benchmark=make(tmp_path))
    assert message.format(tmp=tmp_path) in str(caught.value)


def test_a_bad_row_in_a_benchmark_file_is_the_data_error_reading_it_as_data_gives(tmp_path):
    bad = write(tmp_path / "bad.csv", HEADER + "1704205800,1,2,x,1,1\n")
    with pytest.raises(DataError, match=f"{bad}:2: unparsable number"):
        backtest(TradeAapl(), AAPL, benchmark=bad)
    with pytest.raises(DataError, match=f"{bad}:2: unparsable number"):
        backtest(TradeAapl(), bad)
