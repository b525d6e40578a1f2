"""Backtester, capture_events, assert_no_lookahead and assert_deterministic."""

from __future__ import annotations

import itertools
from pathlib import Path

import attrs
import pytest
import trio
from factories import MINUTE, bar, quote, write_csv

from framework import (
    Bar,
    ConfigError,
    ListFeed,
    OrderFilled,
    Quote,
    Strategy,
    backtest,
)
from framework.execution import FixedCommission
from framework.testing import (
    Backtester,
    Delivery,
    assert_deterministic,
    assert_deterministic_async,
    assert_no_lookahead,
    capture_events,
)
from strategies.sma_cross import SmaCross

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "data" / "sample.twrec"


def zigzag(n: int = 60, symbol: str = "AAPL") -> list[Bar]:
    closes = [100 + 10 * ((i // 10) % 2) + (i % 10) for i in range(n)]
    return [bar(i, c, symbol=symbol) for i, c in enumerate(closes)]


class OnlyMsftBars(Strategy):
    def on_start(self) -> None:
        self.subscribe(Bar, "MSFT")

    def on_bar(self, bar: Bar) -> None:
        if self.position(bar.symbol).is_flat:
            self.buy(bar.symbol, 1)


# -- capture and the backtester --------------------------------------------------------------


def test_capture_records_what_the_strategy_was_delivered_with_the_clock_at_delivery():
    strategy = OnlyMsftBars()
    seen = capture_events(strategy)
    events = sorted(zigzag(3, "AAPL") + zigzag(3, "MSFT"), key=lambda b: b.ts_event)
    events.append(quote(10, 1.0, 1.1, symbol="MSFT"))
    backtest(strategy, [ListFeed(events)])

    assert [b.symbol for b in seen.bars] == ["MSFT"] * 3  # its own filter applied
    assert seen.quotes == []  # it never asked for quotes
    assert [d.hook for d in seen.deliveries][:3] == ["on_bar", "on_order", "on_fill"]
    assert all(d.clock_ns == d.event.ts_event for d in seen.deliveries if d.hook == "on_bar")
    assert len(seen.fills) == 1
    assert capture_events(strategy) is seen


def test_the_backtester_takes_paths_events_feeds_and_feed_factories(tmp_path):
    rows = [f"2024-01-02T14:{m:02d}:00Z,10,20,9,{10 + (m % 7)},100" for m in range(60)]
    csv = write_csv(str(tmp_path / "AAPL.csv"), rows)
    events = zigzag()
    backtester = Backtester(cash=1_000.0)
    results = [
        backtester(SmaCross(fast=2, slow=5), csv),
        backtester(SmaCross(fast=2, slow=5), [Path(csv)]),
        backtester(SmaCross(fast=2, slow=5), events),
        backtester(SmaCross(fast=2, slow=5), [ListFeed(events)]),
        backtester(SmaCross(fast=2, slow=5), lambda: [ListFeed(events)]),
    ]
    assert results[0].to_json() == results[1].to_json()
    assert results[2].to_json() == results[3].to_json() == results[4].to_json()
    assert all(r.start_cash == 1_000.0 for r in results)
    assert backtester.results == results
    with pytest.raises(ConfigError, match="cannot run over int"):
        backtester(SmaCross(), [1, 2])


def test_the_backtester_passes_feed_options_to_the_feeds_and_the_rest_to_the_broker(tmp_path):
    rows = [f"2024-01-02T14:{m:02d}:00Z,10,20,9,{10 + (m % 7)},100" for m in range(60)]
    csv = write_csv(str(tmp_path / "data.csv"), rows)
    backtester = Backtester()
    result = backtester(
        SmaCross(fast=2, slow=5), csv, symbol="XYZ", commission=FixedCommission(1.5)
    )
    assert {f.symbol for f in result.fills} == {"XYZ"}
    assert {f.commission for f in result.fills} == {1.5}
    again = assert_deterministic(
        lambda: SmaCross(fast=2, slow=5), csv, symbol="XYZ", commission=FixedCommission(1.5)
    )
    assert again.to_json() == result.to_json()


def test_the_backtester_replays_recordings_and_remembers_what_each_strategy_saw():
    backtester = Backtester()
    fast, slow = SmaCross(fast=5, slow=20), SmaCross(fast=10, slow=40)
    backtester(fast, SAMPLE)
    backtester(slow, SAMPLE)
    assert len(backtester.seen(fast).bars) == len(backtester.seen(slow).bars) > 400
    assert backtester.seen(fast).fills != backtester.seen(slow).fills
    with pytest.raises(ConfigError, match="not run by this backtester"):
        backtester.seen(SmaCross())


def test_the_backtester_explains_itself_inside_an_async_test_and_runs_async_there():
    async def inside() -> None:
        backtester = Backtester()
        with pytest.raises(RuntimeError, match="_async variant"):
            backtester(SmaCross(fast=2, slow=5), zigzag())
        result = await backtester.run_async(SmaCross(fast=2, slow=5), zigzag())
        assert result.fills

    trio.run(inside)


# -- assert_no_lookahead ---------------------------------------------------------------------


def test_no_lookahead_holds_for_real_runs():
    backtester = Backtester()
    strategy = SmaCross(fast=5, slow=20)
    backtester(strategy, SAMPLE)
    assert_no_lookahead(backtester.seen(strategy))
    assert_no_lookahead(strategy)


def test_a_bar_delivered_before_it_was_final_is_reported():
    early = bar(3, 10.0)
    deliveries = [Delivery(hook="on_bar", event=early, clock_ns=early.ts_open)]
    with pytest.raises(AssertionError, match=r"is final at 2024-01-02T14:34:00Z but was deliv"):
        assert_no_lookahead(deliveries)


def test_bars_final_at_their_own_open_are_reported():
    # A feed that stamps bars with their open time hands the close to the strategy too soon.
    peeking = [attrs.evolve(b, ts_event=b.ts_open, ts_recv=b.ts_open) for b in zigzag(5)]
    strategy = SmaCross(fast=2, slow=3)
    capture_events(strategy)
    backtest(strategy, [ListFeed(peeking)])
    with pytest.raises(AssertionError, match=r"(?s)look-ahead.*\(5 problems\).*its own open time"):
        assert_no_lookahead(strategy)


def test_bars_out_of_order_or_repeated_are_reported():
    bars = zigzag(4)
    shuffled = [bars[0], bars[2], bars[1], bars[3], bars[3]]
    strategy = SmaCross(fast=2, slow=3)
    capture_events(strategy)
    backtest(strategy, [ListFeed(shuffled)])
    with pytest.raises(AssertionError) as caught:
        assert_no_lookahead(strategy)
    message = str(caught.value)
    assert "(2 problems)" in message
    assert message.count("out of order or repeated") == 2


def test_ticks_may_be_final_at_their_open():
    ticks = [
        Bar(
            symbol="A:B",
            interval="1T",
            ts_open=t,
            open=1.0,
            high=1.0,
            low=1.0,
            close=1.0,
            volume=1.0,
            ts_event=t,
            ts_recv=t,
        )
        for t in (1, 2, 3)
    ]
    strategy = SmaCross(fast=1, slow=2)
    capture_events(strategy)
    backtest(strategy, [ListFeed(ticks)])
    assert_no_lookahead(strategy)


def test_no_lookahead_needs_a_captured_strategy():
    with pytest.raises(ValueError, match="was not captured"):
        assert_no_lookahead(SmaCross())


# -- assert_deterministic --------------------------------------------------------------------


class Counting(Strategy):
    """Trades a quantity that depends on how many instances ran before: not deterministic."""

    runs = itertools.count(1)

    def on_start(self) -> None:
        self.qty = next(self.runs)

    def on_bar(self, bar: Bar) -> None:
        if self.position(bar.symbol).is_flat:
            self.buy(bar.symbol, self.qty)
        else:
            self.close(bar.symbol)


class PeeksAtTheQuoteCount(Strategy):
    """Same orders every run, but asks for quotes only on even runs: different deliveries."""

    runs = itertools.count()

    def on_start(self) -> None:
        if next(self.runs) % 2:
            self.subscribe(Quote)


def test_deterministic_strategies_pass_and_return_the_first_result():
    result = assert_deterministic(lambda: SmaCross(fast=5, slow=20), SAMPLE, runs=3)
    assert result.trades


def test_a_nondeterministic_result_fails_with_a_diff():
    with pytest.raises(AssertionError) as caught:
        assert_deterministic(Counting, zigzag(4))
    message = str(caught.value)
    assert message.startswith("run 2 gave a different result than run 1:")
    assert "--- run 1" in message and "+++ run 2" in message
    assert '-      "qty": 1.0,' in message and '+      "qty": 2.0,' in message


def test_different_deliveries_fail_even_when_results_agree():
    events = [*zigzag(3), quote(5, 1.0, 1.1)]
    with pytest.raises(AssertionError, match="run 2 delivered different events than run 1"):
        assert_deterministic(PeeksAtTheQuoteCount, sorted(events, key=lambda e: e.ts_event))


def test_determinism_refuses_reused_feeds_and_reused_strategies():
    with pytest.raises(ConfigError, match="a feed object may keep state"):
        assert_deterministic(SmaCross, [ListFeed(zigzag())])
    shared = SmaCross()
    with pytest.raises(ValueError, match="must build a new strategy"):
        assert_deterministic(lambda: shared, zigzag())
    with pytest.raises(ValueError, match="at least 2 runs"):
        assert_deterministic(SmaCross, zigzag(), runs=1)


async def test_determinism_from_an_async_test():
    result = await assert_deterministic_async(lambda: SmaCross(fast=2, slow=5), zigzag())
    assert all(isinstance(f, OrderFilled) for f in result.fills)
    assert result.fills[0].ts_event % MINUTE == 0
