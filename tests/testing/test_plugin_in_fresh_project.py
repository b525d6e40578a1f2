"""A project that only installed tradewire gets the fixtures: pytest in a fresh directory.

The project below has no conftest.py and imports nothing from this repository's tests; the
plugin arrives through the ``pytest11`` entry point of the installed distribution. pytest runs
in a subprocess, so nothing loaded in this process can leak in.
"""

from __future__ import annotations

import textwrap

import orjson
import pytest

pytest_plugins = ["pytester"]

# Strict markers: the plugin must register the tradewire_sim marker it offers.
PYTEST_INI = """\
[pytest]
addopts = --strict-markers -p no:cacheprovider
filterwarnings = error
"""

USER_TESTS = '''
import pytest
import trio

from framework import Bar, Engine, Interval, Param, Strategy
from framework.adapters.insightsentry import InsightSentryFeed, LiveFeedConfig, Subscription
from framework.adapters.insightsentry.sim import DEFAULT_API_KEY
from framework.testing import StrategyHarness, assert_deterministic, assert_no_lookahead


class BuyTheDip(Strategy):
    """The user's own strategy: buy after `drops` falling closes, sell on the next rise."""

    drops = Param(2, "Falling closes in a row before buying.", min=1)

    def on_start(self):
        self.last = {}
        self.falls = {}

    def on_bar(self, bar):
        previous = self.last.get(bar.symbol)
        self.last[bar.symbol] = bar.close
        if previous is None:
            return
        held = self.position(bar.symbol).qty
        if bar.close < previous:
            self.falls[bar.symbol] = self.falls.get(bar.symbol, 0) + 1
            if held == 0 and self.falls[bar.symbol] >= self.drops:
                self.buy(bar.symbol, 10)
        else:
            self.falls[bar.symbol] = 0
            if held > 0:
                self.close(bar.symbol)


def write_bars(path):
    closes = [10, 9, 8, 9, 10, 9, 8, 7, 8, 9, 8, 7, 6, 7]
    rows = ["time,open,high,low,close,volume"]
    for minute, close in enumerate(closes):
        rows.append(f"2024-01-02T14:{minute:02d}:00Z,{close},{close},{close},{close},100")
    path.write_text("\\n".join(rows) + "\\n")
    return path


def test_backtest_fixture_returns_the_result_and_what_the_strategy_saw(
    tradewire_backtest, tmp_path
):
    strategy = BuyTheDip()
    result = tradewire_backtest(strategy, write_bars(tmp_path / "ABC.csv"))
    seen = tradewire_backtest.seen(strategy)
    assert len(seen.bars) == 14
    assert (len(result.fills), len(result.trades)) == (5, 2)  # the last sell never fills
    assert_no_lookahead(seen)


def test_golden_result(tradewire_backtest, tradewire_golden, tmp_path):
    result = tradewire_backtest(BuyTheDip(), write_bars(tmp_path / "ABC.csv"))
    tradewire_golden(result)


def test_determinism(tmp_path):
    assert_deterministic(lambda: BuyTheDip(drops=1), write_bars(tmp_path / "ABC.csv"))


def test_harness():
    harness = StrategyHarness(BuyTheDip(drops=1))
    harness.bars([10, 9])
    assert len(harness.orders) == 1
    harness.bar(8, open=8.5)
    assert harness.fills[0].price == 8.5


@pytest.mark.trio
@pytest.mark.tradewire_sim(seed=3, speed=600.0, trade_interval=0.02)
async def test_sim_server(sim_server):
    assert sim_server.config.seed == 3
    feed = InsightSentryFeed(
        [Subscription(code="NASDAQ:ABC", interval=Interval.parse("1m"), bars=10)],
        api_key=DEFAULT_API_KEY,
        url=sim_server.url,
        config=LiveFeedConfig(close_timeout=0.25),
    )
    engine = Engine(feeds=[feed], strategies=[BuyTheDip()])
    bars = []

    def stop_after_12_bars(event):
        if isinstance(event, Bar):
            bars.append(event)
            if len(bars) == 12:
                engine.stop()

    engine.add_observer(stop_after_12_bars)
    with trio.fail_after(20):
        await engine.run()
    assert [b.ts_open for b in bars] == sorted({b.ts_open for b in bars})
'''

GOLDEN = "golden/test_golden_result.json"


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    pytester.makefile(".ini", pytest=PYTEST_INI)
    pytester.makepyfile(test_user=textwrap.dedent(USER_TESTS))
    return pytester


def test_a_fresh_project_uses_every_fixture_and_the_golden_update_flag(project):
    # 1. No golden file yet: that test fails and says how to create it; the rest pass.
    first = project.runpytest_subprocess(timeout=120)
    first.assert_outcomes(passed=4, failed=1)
    first.stdout.fnmatch_lines(
        ["*golden file *test_golden_result.json does not exist*--tradewire-update-golden*"]
    )

    # 2. The flag writes it (and says so); everything passes.
    update = project.runpytest_subprocess("--tradewire-update-golden", timeout=120)
    update.assert_outcomes(passed=5)
    update.stdout.fnmatch_lines(["*tradewire: 1 golden file(s) written*", f"*{GOLDEN}"])

    # 3. A result that no longer matches fails with a diff of the pretty JSON.
    golden = project.path / GOLDEN
    doc = orjson.loads(golden.read_bytes())
    assert doc["strategy"] == "BuyTheDip"
    final = doc["final_equity"]
    doc["final_equity"] = final + 1
    golden.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    changed = project.runpytest_subprocess(timeout=120)
    changed.assert_outcomes(passed=4, failed=1)
    changed.stdout.fnmatch_lines(
        [
            "*result differs from golden file*test_golden_result.json*",
            f'*-  "final_equity": {orjson.dumps(final + 1).decode()},',
            f'*+  "final_equity": {orjson.dumps(final).decode()},',
        ]
    )
