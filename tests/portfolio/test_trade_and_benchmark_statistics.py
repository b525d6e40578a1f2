"""The trade, buy-and-hold and benchmark figures of docs/statistics.md on hand-worked examples."""

from __future__ import annotations

import itertools
import math
import random
import statistics
from typing import Any

import attrs
import pytest
from factories import bar

from framework import Bar, ListFeed, Strategy, backtest
from framework.portfolio import Trade, compute_statistics
from framework.portfolio._benchmark import (
    BenchmarkPrices,
    BenchmarkRecorder,
)

SECOND = 10**9
DAY = 86_400 * SECOND
HOUR = 3_600 * SECOND
D1 = 19_725 * DAY  # 2024-01-03 00:00 UTC


def trade(
    pnl: float,
    *,
    qty: float = 1.0,
    entry: float = 100.0,
    side: int = 1,
    days: float = 1.0,
    start: int = 0,
) -> Trade:
    return Trade(
        symbol="X",
        side=side,
        qty=qty,
        entry_time=start,
        entry_price=entry,
        exit_time=start + round(days * DAY),
        exit_price=entry + side * pnl / qty,
        pnl=pnl,
        commission=0.0,
    )


def stats_of(trades: list[Trade], **curve: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"equity_ts": [0, 10 * DAY], "equity": [100.0, 110.0]}
    options.update(curve)
    return compute_statistics(
        start_cash=100.0,
        trades=trades,
        fills=[],
        commissions=0.0,
        **options,
    )


def test_trade_figures_by_hand():
    trades = [
        trade(30.0, days=2),  # +30 %
        trade(-10.0, qty=2.0, entry=50.0, side=-1, days=0.5),  # a short: -10 %
        trade(-5.0),  # -5 %
        trade(0.0, days=3),  # breakeven: ends the losing run
        trade(-2.0, qty=4.0, entry=25.0),  # -2 %
        trade(-1.0),
        trade(-3.0, days=0.25),
        trade(25.0, qty=0.5, entry=1_000.0, days=4),  # +5 %
    ]
    pnls = [t.pnl for t in trades]
    s = stats_of(trades)
    assert s["sqn"] == pytest.approx(math.sqrt(8) * statistics.mean(pnls) / statistics.stdev(pnls))
    returns = [0.30, -0.10, -0.05, 0.0, -0.02, -0.01, -0.03, 0.05]
    assert s["expectancy"] == pytest.approx(sum(returns) / 8)
    assert (s["best_trade"], s["worst_trade"]) == pytest.approx((0.30, -0.10))
    assert (s["best_trade_pnl"], s["worst_trade_pnl"]) == (30.0, -10.0)
    assert s["avg_win"] == pytest.approx(27.5)
    assert s["avg_loss"] == pytest.approx(-21.0 / 5)
    assert s["avg_trade_pnl"] == pytest.approx(s["win_rate"] * s["avg_win"] + 5 / 8 * s["avg_loss"])
    assert s["max_consecutive_losses"] == 3
    assert s["avg_trade_duration_s"] == pytest.approx(
        (2 + 0.5 + 1 + 3 + 1 + 1 + 0.25 + 4) / 8 * 86_400
    )
    assert s["max_trade_duration_s"] == 4 * 86_400


def test_trade_durations_are_exact_beyond_what_a_float_holds_in_nanoseconds():
    # 3 × 400 days and 1 ns: a float sum of the nanoseconds would lose the odd one.
    trades = [trade(1.0, days=400), trade(1.0, days=400), trade(1.0, days=400)]
    trades[0] = attrs.evolve(trades[0], exit_time=400 * DAY + 1)
    s = stats_of(trades)
    assert s["avg_trade_duration_s"] == (1_200 * DAY + 1) / 3 / SECOND
    assert s["max_trade_duration_s"] == (400 * DAY + 1) / SECOND


def test_trade_figures_without_trades_are_none_and_no_losses_in_a_row():
    s = stats_of([])
    for key in (
        "sqn",
        "expectancy",
        "avg_win",
        "avg_loss",
        "best_trade",
        "worst_trade",
        "best_trade_pnl",
        "worst_trade_pnl",
        "avg_trade_duration_s",
        "max_trade_duration_s",
    ):
        assert s[key] is None, key
    assert s["max_consecutive_losses"] == 0


def test_sqn_needs_two_trades_that_differ():
    assert stats_of([trade(5.0)])["sqn"] is None
    assert stats_of([trade(5.0), trade(5.0)])["sqn"] is None
    only_wins = stats_of([trade(5.0), trade(7.0)])
    assert only_wins["avg_loss"] is None and only_wins["max_consecutive_losses"] == 0


def test_calmar_is_the_annualised_return_over_the_max_drawdown():
    times = [D1, D1 + 100 * DAY, D1 + 200 * DAY, D1 + 365 * DAY]
    s = stats_of([], equity_ts=times, equity=[100.0, 125.0, 100.0, 120.0])
    assert s["max_drawdown"] == pytest.approx(0.2)
    assert s["calmar"] == pytest.approx(s["annualized_return"] / 0.2)
    flat = stats_of([], equity_ts=times, equity=[100.0, 101.0, 102.0, 103.0])
    assert flat["max_drawdown"] == 0 and flat["calmar"] is None


def test_buy_and_hold_is_the_mean_of_each_symbols_last_over_first_mark():
    s = stats_of([], first_prices={"B": 50.0, "A": 10.0}, last_prices={"A": 12.0, "B": 45.0})
    assert s["buy_and_hold_by_symbol"] == pytest.approx({"A": 0.2, "B": -0.1})
    assert list(s["buy_and_hold_by_symbol"]) == ["A", "B"]
    assert s["buy_and_hold_return"] == pytest.approx(0.05)
    assert stats_of([])["buy_and_hold_return"] is None


class BuyFirst(Strategy):
    """Buys one of the first bar's symbol, at the next bar's open."""

    def on_start(self) -> None:
        self.bought = False

    def on_bar(self, bar: Bar) -> None:
        if not self.bought:
            self.buy(bar.symbol, 1)
            self.bought = True


def test_buy_and_hold_of_a_run_buys_each_symbol_at_its_first_close():
    # B starts two bars after A; the strategy's buy of A fills at 10.5, A's second open.
    events = [
        bar(0, 10.0, symbol="A"),
        bar(1, 11.0, open=10.5, symbol="A"),
        bar(2, 20.0, symbol="B"),
        bar(2, 12.0, symbol="A"),
        bar(3, 25.0, symbol="B"),
        bar(3, 15.0, symbol="A"),
    ]
    result = backtest(BuyFirst(), [ListFeed(events)])
    assert result.fills[0].price == 10.5
    s = result.stats
    assert s["buy_and_hold_by_symbol"] == {"A": 15.0 / 10.0 - 1, "B": 25.0 / 20.0 - 1}
    assert s["buy_and_hold_return"] == pytest.approx((0.5 + 0.25) / 2)
    assert "buy & hold     37.50% (equal weight of 2 symbols)" in result.summary()


def test_the_summary_names_every_new_figure():
    events = [bar(i, c, open=c) for i, c in enumerate([10.0, 11.0, 12.0, 11.0, 13.0])]
    text = backtest(BuyFirst(), [ListFeed(events)]).summary()
    for label in ("buy & hold", "calmar", "expectancy", "sqn", "trade duration", "losing streak"):
        assert any(line.startswith(label + " ") for line in text.splitlines()), label
    assert "buy & hold     30.00% (AAPL)" in text


# -- benchmark --------------------------------------------------------------------------------


def prices(name: str, points: list[tuple[int, float]]) -> BenchmarkPrices:
    return BenchmarkPrices(name=name, times=[t for t, _ in points], prices=[p for _, p in points])


def against(
    benchmark: BenchmarkPrices, times: list[int], equity: list[float], start_cash: float = 100.0
) -> dict[str, Any]:
    return compute_statistics(
        start_cash=start_cash,
        equity_ts=times,
        equity=equity,
        trades=[],
        fills=[],
        commissions=0.0,
        benchmark=benchmark,
    )


def test_beta_and_alpha_by_hand():
    # Samples at 12:00 and 20:00 each day; the benchmark prices every 4 hours, so its price at
    # a day's last sample (20:00) is the one at 20:00, not the 23:59 one after it.
    days = 6
    times = [D1 + d * DAY + h * HOUR for d in range(days) for h in (12, 20)]
    equity = [100.0 + (i % 5) * 1.5 - i * 0.3 for i in range(len(times))]
    bench = [
        (D1 + d * DAY + h * HOUR, 50.0 + ((d * 7 + h) % 11))
        for d in range(days)
        for h in (0, 4, 8, 12, 16, 20)
    ]
    bench += [(D1 + d * DAY + 23 * HOUR + 59 * 60 * SECOND, 999.0) for d in range(days)]
    bench.sort()
    benchmark = prices("SPY", bench)
    s = against(benchmark, times, equity)
    level = {t: p for t, p in bench}
    b0 = level[D1 + 12 * HOUR]  # B(t0): the run's first sample is day 1 at 12:00
    ours = [100.0, *(equity[2 * d + 1] for d in range(days))]
    theirs = [b0, *(level[D1 + d * DAY + 20 * HOUR] for d in range(days))]
    r = [b / a - 1 for a, b in itertools.pairwise(ours)]
    b = [y / x - 1 for x, y in itertools.pairwise(theirs)]
    beta = statistics.covariance(r, b) / statistics.variance(b)
    assert s["benchmark"] == "SPY"
    assert s["beta"] == pytest.approx(beta)
    assert s["alpha"] == pytest.approx((statistics.mean(r) - beta * statistics.mean(b)) * 252)
    assert s["benchmark_return"] == pytest.approx(level[times[-1]] / b0 - 1)


def test_a_strategy_that_is_the_benchmark_has_beta_one_and_no_alpha():
    times = [D1 + d * DAY for d in range(30)]
    rng = random.Random(7)
    path = [100.0]
    for _ in times[1:]:
        path.append(path[-1] * (1 + rng.uniform(-0.03, 0.03)))
    # Start cash 200 in the benchmark from its first price on: equity = 2 × price.
    benchmark = prices("X", list(zip(times, path, strict=True)))
    s = against(benchmark, times, [2 * p for p in path], start_cash=200.0)
    assert s["beta"] == pytest.approx(1.0)
    assert s["alpha"] == pytest.approx(0.0, abs=1e-12)
    assert s["benchmark_return"] == pytest.approx(s["total_return"])


def test_a_benchmark_that_starts_late_is_bought_at_its_first_price_and_paired_from_then():
    times = [D1 + d * DAY + 20 * HOUR for d in range(8)]
    equity = [100.0, 101.0, 99.0, 103.0, 104.0, 102.0, 106.0, 107.0]
    late = [(D1 + d * DAY + 20 * HOUR, 10.0 + d + (d % 3)) for d in range(3, 8)]
    s = against(prices("L", late), times, equity)
    assert s["benchmark_return"] == pytest.approx(late[-1][1] / late[0][1] - 1)
    # Days 4 to 7 pair (day 3 has no benchmark price before it).
    r = [equity[d] / equity[d - 1] - 1 for d in range(4, 8)]
    b = [late[i][1] / late[i - 1][1] - 1 for i in range(1, 5)]
    assert s["beta"] == pytest.approx(statistics.covariance(r, b) / statistics.variance(b))


def test_benchmark_figures_are_none_without_two_days_or_benchmark_moves():
    times = [D1 + 10 * HOUR, D1 + 20 * HOUR]
    one_day = against(prices("B", [(times[0], 5.0), (times[1], 6.0)]), times, [100.0, 101.0])
    assert one_day["benchmark_return"] == pytest.approx(0.2)
    assert one_day["alpha"] is None and one_day["beta"] is None
    days = [D1 + d * DAY for d in range(5)]
    flat = against(prices("B", [(t, 5.0) for t in days]), days, [100.0, 101.0, 99.0, 100.0, 102.0])
    assert flat["benchmark_return"] == 0.0 and flat["beta"] is None


def test_a_daily_recorder_gives_the_figures_of_every_price_for_a_symbol_of_the_run():
    # A symbol of the run's data: every one of its prices is also an equity sample.
    rng = random.Random(3)
    every = BenchmarkRecorder("S")
    daily = BenchmarkRecorder("S", daily=True)
    times, equity = [], []
    ts, price, value = D1 + 9 * HOUR, 100.0, 1_000.0
    for _ in range(2_000):
        ts += rng.choice([1, 5, 30, 300, 3_600, 20 * 3_600]) * SECOND
        price *= 1 + rng.uniform(-0.01, 0.01)
        value *= 1 + rng.uniform(-0.01, 0.01)
        times.append(ts)
        equity.append(value)
        one = Bar(
            symbol="S",
            interval="1m",
            ts_open=ts - 60 * SECOND,
            open=price,
            high=price,
            low=price,
            close=price,
            volume=1.0,
            ts_event=ts,
            ts_recv=ts,
        )
        every.on_bar(one)
        daily.on_bar(one)
    assert len(daily.times) < len(every.times) / 5
    figures = [against(r.result(), times, equity, start_cash=1_000.0) for r in (every, daily)]
    assert figures[0] == figures[1]
    assert figures[0]["beta"] is not None
