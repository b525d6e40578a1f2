"""Daily returns and drawdown, computed the quick way over long curves, match their
definitions (docs/statistics.md), written here as the plain loops they once were."""

from __future__ import annotations

import itertools
import math
from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from framework.portfolio import compute_statistics

DAY = 86_400 * 10**9
HOUR = 3_600 * 10**9


def daily_returns_by_definition(times, values, start):
    closes = [start]
    current_day = None
    for ts, value in zip(times, values, strict=True):
        day = ts // DAY
        if day != current_day:
            closes.append(value)
            current_day = day
        else:
            closes[-1] = value
    return [b / a - 1 for a, b in itertools.pairwise(closes) if a > 0]


def drawdown_by_definition(times, values):
    peak, peak_ts, worst, longest, underwater = -math.inf, 0, 0.0, 0, False
    for ts, value in zip(times, values, strict=True):
        if value >= peak:
            if underwater:
                longest = max(longest, ts - peak_ts)
                underwater = False
            peak, peak_ts = value, ts
        else:
            underwater = True
            if peak > 0:
                worst = max(worst, (peak - value) / peak)
    if underwater:
        longest = max(longest, times[-1] - peak_ts)
    return worst, longest


def volatility_of(daily):
    if len(daily) < 2:
        return None
    mean = math.fsum(daily) / len(daily)
    return math.sqrt(math.fsum((r - mean) ** 2 for r in daily) / (len(daily) - 1)) * math.sqrt(252)


curves = st.lists(
    st.tuples(
        # The step to the next sample: whole hours, so that samples often fall on midnight.
        st.integers(min_value=0, max_value=30).map(lambda hours: hours * HOUR),
        st.integers(min_value=-5_000, max_value=20_000).map(lambda cents: cents / 100),
    ),
    min_size=1,
    max_size=200,
)


@given(curve=curves, start=st.sampled_from([100.0, 0.0, 57.5]), shuffle=st.randoms())
def test_quick_statistics_match_their_definitions(curve, start, shuffle):
    times, values, ts = [], [], 19_725 * DAY
    for step, value in curve:
        ts += step
        times.append(ts)
        values.append(value)
    for order in ("sorted", "shuffled"):
        if order == "shuffled":
            pairs = list(zip(times, values, strict=True))
            shuffle.shuffle(pairs)
            times, values = [list(column) for column in zip(*pairs, strict=True)]
        stats = compute_statistics(
            start_cash=start,
            equity_ts=array("q", times),
            equity=array("d", values),
            trades=[],
            fills=[],
            commissions=0.0,
        )
        worst, longest = drawdown_by_definition(times, values)
        assert stats["max_drawdown"] == worst
        assert stats["max_drawdown_duration_s"] == longest / 10**9
        # Same formula, summed in another order: equal to the last bits of a float.
        volatility = volatility_of(daily_returns_by_definition(times, values, start))
        if volatility is None:
            assert stats["volatility"] is None
        else:
            assert stats["volatility"] == pytest.approx(volatility, rel=1e-12)
