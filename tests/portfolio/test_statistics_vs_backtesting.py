"""The run statistics against backtesting.py's ``stats``, on the same trades of real bars.

backtesting.py (a test dependency, in the ``test`` extra) is the reference. The bars are the
price files it ships for its own tests, vendored in tests/execution/data: GOOG.csv (daily,
2004-2013) and EURUSD.csv (hourly, 2017-2018). tradewire reads them as bar files, as a user
would (``tz="UTC"``: the files' times are naive), backtesting.py as a DataFrame.

Both sides trade one schedule of target positions, computed beforehand from the closes (an SMA
10/30 crossover with a neutral band, each position sized by its bar): on bar k, a side whose
position is not the target closes it and opens the target, market orders that fill at the
open of bar k + 1 (backtesting.py's default, ``trade_on_close=False``), paying the same
proportional commission. The trades are checked to be the same first (entry and exit times and
prices, PnL), then every figure docs/statistics.md defines alike is compared, and every one it
defines differently is checked against the difference the doc states: backtesting.py's own
formula, computed from our trades and equity curve, gives its number.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from backtesting import Backtest
from backtesting import Strategy as ReferenceStrategy

from framework import Bar, RunResult, Strategy, backtest
from framework.execution import PercentageCommission

DATA = Path(__file__).parents[1] / "execution" / "data"
#: relative tolerance of figures computed from the same floats in another order
REL = 1e-9


class Case:
    """A data file, its position sizes and commission, and both sides' results over it."""

    def __init__(
        self, name: str, size: Callable[[int], int], band: float, commission: float
    ) -> None:
        self.path = DATA / f"{name}.csv"
        self.frame = pd.read_csv(self.path, index_col=0, parse_dates=True)
        self.closes = self.frame.Close.tolist()
        self.targets = target_positions(self.closes, size, band)
        self.commission = commission

    def reference(self, *, with_indicator: bool = False) -> pd.Series:
        targets = self.targets

        class Reference(ReferenceStrategy):  # type: ignore[misc]
            def init(self) -> None:
                if with_indicator:  # drawn only; its warm-up moves the buy & hold start
                    self.sma = self.I(lambda c: pd.Series(c).rolling(30).mean(), self.data.Close)

            def next(self) -> None:
                k = len(self.data) - 1
                want, have = targets[k], self.position.size
                if want != have:
                    if have:
                        self.position.close()
                    if want > 0:
                        self.buy(size=want)
                    elif want < 0:
                        self.sell(size=-want)

        run = Backtest(self.frame, Reference, cash=1_000_000, commission=self.commission)
        with warnings.catch_warnings():
            # backtesting.py's own calls of pandas APIs that pandas deprecates: not ours.
            warnings.filterwarnings("ignore", module=r"backtesting\.")
            stats: pd.Series = run.run()
        return stats

    def ours(self) -> RunResult:
        return backtest(
            Follow(self.targets),
            self.path,
            tz="UTC",
            cash=1_000_000,
            commission=PercentageCommission(self.commission * 100),
        )


class Follow(Strategy):
    """Holds ``targets[k]`` after bar k: closes what it holds, then opens the target."""

    def __init__(self, targets: list[int]) -> None:
        super().__init__()
        self.targets = targets
        self.k = 0

    def on_bar(self, bar: Bar) -> None:
        want = self.targets[self.k]
        self.k += 1
        have = self.position(bar.symbol).qty
        if want != have:
            if have:
                self.close(bar.symbol)
            if want > 0:
                self.buy(bar.symbol, want)
            elif want < 0:
                self.sell(bar.symbol, -want)


def target_positions(closes: list[float], size: Callable[[int], int], band: float) -> list[int]:
    """Long when SMA 10 is above SMA 30 by more than ``band`` (a fraction), short when below
    it by more, flat in between and on the last bars; a position keeps the size of the bar it
    was entered on."""

    def sma(n: int, k: int) -> float:
        return sum(closes[k - n + 1 : k + 1]) / n

    targets, held = [], 0
    for k in range(len(closes)):
        direction = 0
        if 30 <= k < len(closes) - 3:
            fast, slow = sma(10, k), sma(30, k)
            direction = 1 if fast > slow * (1 + band) else -1 if fast < slow * (1 - band) else 0
        if direction != (held > 0) - (held < 0):
            held = direction * size(k)
        targets.append(held)
    return targets


CASES = {
    "GOOG": lambda: Case("GOOG", lambda k: 10 + k % 20, 0.01, 0.002),
    "EURUSD": lambda: Case("EURUSD", lambda k: 10_000 + 1_000 * (k % 5), 0.0005, 0.0001),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def runs(request: pytest.FixtureRequest) -> tuple[Case, pd.Series, RunResult]:
    case = CASES[request.param]()
    return case, case.reference(), case.ours()


def seconds(delta: pd.Timedelta) -> float:
    return float(delta.total_seconds())


def test_both_sides_make_the_same_trades(runs):
    _, theirs, ours = runs
    reference = theirs["_trades"]
    assert len(ours.trades) == len(reference) > 40
    assert {t.side for t in ours.trades} == {1, -1}
    for trade, row in zip(ours.trades, reference.itertuples(), strict=True):
        assert pd.Timestamp(trade.entry_time, tz="UTC").tz_localize(None) == row.EntryTime
        assert pd.Timestamp(trade.exit_time, tz="UTC").tz_localize(None) == row.ExitTime
        # Ours are averages over the trade's fills (value / quantity): the bar's open to
        # the last bit or so.
        assert trade.entry_price == pytest.approx(row.EntryPrice, rel=1e-15)
        assert trade.exit_price == pytest.approx(row.ExitPrice, rel=1e-15)
        assert trade.side * trade.qty == row.Size
        assert trade.pnl == pytest.approx(row.PnL, rel=REL)
    assert ours.final_equity == pytest.approx(theirs["Equity Final [$]"], rel=REL)


def test_figures_defined_alike_are_equal(runs):
    case, theirs, ours = runs
    s = ours.stats
    assert s["trades"] == theirs["# Trades"]
    assert s["win_rate"] * 100 == pytest.approx(theirs["Win Rate [%]"], rel=REL)
    assert s["sqn"] == pytest.approx(theirs["SQN"], rel=REL)
    assert s["best_trade"] * 100 == pytest.approx(theirs["Best Trade [%]"], rel=REL)
    assert s["worst_trade"] * 100 == pytest.approx(theirs["Worst Trade [%]"], rel=REL)
    assert s["expectancy"] * 100 == pytest.approx(theirs["Expectancy [%]"], rel=REL)
    assert s["total_return"] * 100 == pytest.approx(theirs["Return [%]"], rel=REL)
    assert s["annualized_return"] * 100 == pytest.approx(theirs["CAGR [%]"], rel=REL)
    assert -s["max_drawdown"] * 100 == pytest.approx(theirs["Max. Drawdown [%]"], rel=REL)
    assert s["buy_and_hold_return"] * 100 == pytest.approx(theirs["Buy & Hold Return [%]"], rel=REL)
    assert s["buy_and_hold_by_symbol"] == {case.path.stem: s["buy_and_hold_return"]}
    assert s["commissions"] == pytest.approx(theirs["Commissions [$]"], rel=REL)
    # Longest trade: whole bars on both sides, so backtesting.py's rounding up to the bar
    # period (below) changes nothing.
    assert s["max_trade_duration_s"] == seconds(theirs["Max. Trade Duration"])
    # avg_win and avg_loss through backtesting.py's Kelly criterion, which is made of them.
    kelly = s["win_rate"] - (1 - s["win_rate"]) / (s["avg_win"] / -s["avg_loss"])
    assert kelly == pytest.approx(theirs["Kelly Criterion"], rel=REL)


def test_figures_defined_differently_differ_as_documented(runs):
    case, theirs, ours = runs
    s = ours.stats
    reference = theirs["_trades"]
    max_dd = -theirs["Max. Drawdown [%]"]
    # Calmar: ours divides the compound annual growth rate (backtesting.py's "CAGR"), its
    # own the geometric mean daily return compounded over 252 (or 365) days a year.
    assert s["calmar"] == pytest.approx(theirs["CAGR [%]"] / max_dd, rel=REL)
    assert theirs["Calmar Ratio"] == pytest.approx(theirs["Return (Ann.) [%]"] / max_dd, rel=REL)
    assert s["calmar"] != pytest.approx(theirs["Calmar Ratio"], rel=1e-3)
    # Average trade duration: backtesting.py rounds it up to the resolution of its bar period
    # (a day, an hour); ours is exact.
    period = pd.Timedelta(seconds=86_400 if case.path.stem == "GOOG" else 3_600)
    assert s["avg_trade_duration_s"] == pytest.approx(seconds(reference.Duration.mean()))
    step = seconds(period)
    assert (
        seconds(theirs["Avg. Trade Duration"]) == math.ceil(s["avg_trade_duration_s"] / step) * step
    )
    assert seconds(theirs["Avg. Trade Duration"]) != s["avg_trade_duration_s"]
    # Profit factor: ours of PnL, backtesting.py's of trade returns.
    pnl, returns = reference.PnL, reference.ReturnPct
    assert s["profit_factor"] == pytest.approx(pnl[pnl > 0].sum() / -pnl[pnl < 0].sum(), rel=REL)
    assert theirs["Profit Factor"] == pytest.approx(
        returns[returns > 0].sum() / -returns[returns < 0].sum(), rel=REL
    )
    assert s["profit_factor"] != pytest.approx(theirs["Profit Factor"], rel=1e-3)
    # Exposure: ours the fraction of time with a position open, backtesting.py's the fraction
    # of bars from each trade's entry bar to its exit bar, both included.
    held = np.zeros(len(case.frame), dtype=bool)
    for row in reference.itertuples():
        held[row.EntryBar : row.ExitBar + 1] = True
    assert theirs["Exposure Time [%]"] == pytest.approx(held.mean() * 100, rel=REL)
    covered = sum(t.exit_time - t.entry_time for t in ours.trades)
    assert s["exposure_time"] == pytest.approx(covered / (ours.equity_ts[-1] - ours.equity_ts[0]))
    # Beta and alpha: backtesting.py's come from every bar's log returns of equity against the
    # close, alpha as return − beta × buy & hold; ours (with a benchmark) from daily returns,
    # docs/statistics.md. Its formula over our equity curve gives its number.
    equity = np.asarray(ours.equity)
    closes = np.asarray(case.closes)
    cov = np.cov(np.log(equity[1:] / equity[:-1]), np.log(closes[1:] / closes[:-1]))
    beta = cov[0, 1] / cov[1, 1]
    assert theirs["Beta"] == pytest.approx(beta, rel=1e-6)
    assert theirs["Alpha [%]"] == pytest.approx(
        (s["total_return"] - beta * s["buy_and_hold_return"]) * 100, rel=1e-6
    )


def test_most_losing_trades_in_a_row_counts_the_trades_as_they_closed(runs):
    _, theirs, ours = runs
    longest = current = 0
    for pnl in theirs["_trades"].sort_values("ExitBar", kind="stable").PnL:
        current = current + 1 if pnl < 0 else 0
        longest = max(longest, current)
    assert ours.stats["max_consecutive_losses"] == longest >= 3


def test_backtesting_starts_buy_and_hold_after_its_indicators_warm_up():
    # backtesting.py buys at the close of the first bar where every indicator is defined
    # (bar 29 for an SMA 30); ours at the first bar's close, the start of the equity curve.
    case = CASES["GOOG"]()
    theirs = case.reference(with_indicator=True)
    ours = case.ours()
    c = case.closes
    assert theirs["Buy & Hold Return [%]"] == pytest.approx((c[-1] / c[29] - 1) * 100, rel=REL)
    assert ours.stats["buy_and_hold_return"] == pytest.approx(c[-1] / c[0] - 1, rel=REL)
    # The signal waits for SMA 30 too: the trades and the rest are the same as without it.
    assert theirs["SQN"] == pytest.approx(ours.stats["sqn"], rel=REL)
