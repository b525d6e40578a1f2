"""The equity curve thins long runs without changing a statistic, and values books of many
positions once per mark time with the floats that valuing on every mark gives."""

import math
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework import OrderSide
from framework.portfolio import Portfolio, compute_statistics
from framework.portfolio import _equity as equity_module
from framework.portfolio._equity import THINNING_STEPS, EquityCurve
from tests.factories import bar, fill

MINUTE = 60 * 10**9
DAY = 1_440 * MINUTE

SYMBOLS = ("A", "B", "C")


# A market: steps forward in time of 1 minute to 3 days (weekends, gaps), several symbols
# marking at one time, and now and then a fill before a mark.
steps = st.lists(
    st.tuples(
        st.sampled_from([MINUTE, MINUTE, 5 * MINUTE, 90 * MINUTE, DAY, 3 * DAY]),
        st.lists(
            st.tuples(
                st.sampled_from(SYMBOLS),
                st.floats(1, 200, allow_nan=False).map(lambda p: round(p, 2)),
                st.sampled_from([None, None, None, OrderSide.BUY, OrderSide.SELL]),
            ),
            min_size=1,
            max_size=4,
        ),
    ),
    min_size=1,
    max_size=300,
)


def marks(market):
    """(time, symbol, price, side of a fill before the mark or None) of each mark."""
    ts = 1_704_205_800 * 10**9
    for step, at_this_time in market:
        ts += step
        for symbol, price, side in at_this_time:
            yield ts, symbol, price, side


def trade_and_mark(portfolio: Portfolio, ts: int, symbol: str, price: float, side) -> None:
    if side is not None:
        portfolio.apply_fill(fill(side, 10, price, ts, symbol, commission=0.5))
    portfolio.mark(symbol, price, ts)


def replay(market, portfolio: Portfolio) -> None:
    for mark in marks(market):
        trade_and_mark(portfolio, *mark)


def statistics(portfolio: Portfolio, drawdown: bool) -> dict:
    times, values = portfolio.equity_curve
    return compute_statistics(
        start_cash=portfolio.start_cash,
        equity_ts=times,
        equity=values,
        trades=portfolio.closed_trades,
        fills=portfolio.fills,
        commissions=portfolio.commissions,
        open_trade_entries=portfolio.trades.open_entry_times(),
        drawdown=portfolio.drawdown() if drawdown else None,
    )


def reference_curve(market, cash: float) -> tuple[list[int], list[float]]:
    """Valued after every mark, the last mark at a time kept: the definition."""
    portfolio = Portfolio(cash)
    times: list[int] = []
    values: list[float] = []
    for ts, symbol, price, side in marks(market):
        trade_and_mark(portfolio, ts, symbol, price, side)
        if times and times[-1] == ts:
            values[-1] = portfolio.equity()
        else:
            times.append(ts)
            values.append(portfolio.equity())
    return times, values


@settings(max_examples=150, deadline=None)
@given(steps)
def test_the_curve_holds_each_mark_times_equity_after_its_last_mark(market):
    portfolio = Portfolio(10_000.0)
    replay(market, portfolio)
    times, values = portfolio.equity_curve
    expected_times, expected_values = reference_curve(market, 10_000.0)
    assert list(times) == expected_times
    assert list(values) == expected_values


@settings(max_examples=150, deadline=None)
@given(
    steps,
    st.sampled_from([16, 24, 64]),
    st.sampled_from([None, *THINNING_STEPS[:3]]),
    st.sampled_from([3, 7, 65_536]),
)
def test_thinning_changes_no_statistic(market, max_samples, resolution, thinning_slice):
    whole = Portfolio(10_000.0)
    replay(market, whole)
    thinned = Portfolio(10_000.0, max_equity_samples=max_samples, equity_resolution=resolution)
    with mock.patch.object(equity_module, "_THINNING_SLICE", thinning_slice):
        replay(market, thinned)
    assert statistics(thinned, drawdown=True) == statistics(whole, drawdown=False)
    times, values = thinned.equity_curve
    full_times, full_values = whole.equity_curve
    assert times[0] == full_times[0]
    assert (times[-1], values[-1]) == (full_times[-1], full_values[-1])
    assert set(zip(times, values, strict=True)) <= set(zip(full_times, full_values, strict=True))


def test_a_long_run_is_thinned_to_a_bounded_curve_of_bucket_ends():
    portfolio = Portfolio(1_000.0, max_equity_samples=1_000)
    start = 1_704_067_200 * 10**9  # a midnight
    for i in range(20_000):
        portfolio.mark("A", 100.0 + math.sin(i / 50), start + i * MINUTE)
    times, _ = portfolio.equity_curve
    assert len(times) <= 1_000
    step = portfolio._curve.resolution
    assert step in THINNING_STEPS
    # After the first sample, every kept sample but the newest ends its bucket.
    ends = [t for t in times[1:-1] if (t + MINUTE) % step == 0]
    assert ends == list(times[1:-1])
    assert times[-1] == start + 19_999 * MINUTE


def test_a_resolution_must_divide_a_day():
    with pytest.raises(ValueError, match="divide a day"):
        EquityCurve(resolution=7 * MINUTE)
    with pytest.raises(ValueError, match="divide a day"):
        Portfolio(equity_resolution=0)


def test_an_explicit_resolution_keeps_one_sample_per_bucket():
    portfolio = Portfolio(1_000.0, equity_resolution=THINNING_STEPS[3])  # 1 hour
    start = 1_704_067_200 * 10**9
    for i in range(10 * 60 * 24):  # ten days of minutes
        portfolio.mark("A", 100.0 + i % 7, start + i * MINUTE)
    times, _ = portfolio.equity_curve
    hours = [t // THINNING_STEPS[3] for t in times[1:]]
    assert len(hours) == len(set(hours))
    assert len(times) <= 10 * 24 + 2


def test_a_backtest_at_an_hourly_resolution_keeps_its_statistics():
    from framework import ConfigError, ListFeed, backtest
    from strategies.sma_cross import SmaCross

    bars = [bar(i, 100.0 + 5 * math.sin(i / 40)) for i in range(3_000)]
    every = backtest(SmaCross(fast=5, slow=20), [ListFeed(bars)])
    hourly = backtest(SmaCross(fast=5, slow=20), [ListFeed(bars)], equity_resolution="1h")
    assert hourly.stats == every.stats
    assert every.stats["trades"] > 10
    assert len(hourly.equity_ts) <= 3_000 // 60 + 2 < len(every.equity_ts)
    with pytest.raises(ConfigError, match="does not divide a day"):
        backtest(SmaCross(), [ListFeed(bars)], equity_resolution="7m")
