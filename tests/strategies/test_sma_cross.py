"""SmaCross against a plain-Python reference of the same rules (next-bar-open fills)."""

import math
import random

import pytest
from factories import bar
from hypothesis import given, settings
from hypothesis import strategies as st

from framework import ListFeed, ParameterError, backtest
from strategies.bollinger_reversion import BollingerReversion
from strategies.sma_cross import SmaCross


def reference_fills(opens, closes, fast, slow, qty):
    """(bar index of the fill, side, price) computed with plain lists."""
    fills = []
    position = 0.0
    pending = None
    prev_diff = None
    for i in range(len(closes)):
        if pending is not None:
            fills.append((i, pending, opens[i]))
            position += qty if pending == "buy" else -position
            pending = None
        if i + 1 < slow:
            continue
        f = math.fsum(closes[i + 1 - fast : i + 1]) / fast
        s = math.fsum(closes[i + 1 - slow : i + 1]) / slow
        diff = f - s
        if abs(diff) <= 1e-9 * s:
            diff = 0.0
        if prev_diff is not None:
            if diff > 0 >= prev_diff and position == 0:
                pending = "buy"
            elif diff < 0 <= prev_diff and position > 0:
                pending = "sell"
        prev_diff = diff
    return fills


def walk(n: int, seed: int):
    rng = random.Random(seed)
    closes, opens, price = [], [], 100.0
    for _ in range(n):
        opens.append(round(price, 2))
        price = round(max(1.0, price + rng.choice([-1, 1]) * rng.random()), 2)
        closes.append(price)
    return opens, closes


def run(opens, closes, **params):
    events = [bar(i, c, open=o) for i, (o, c) in enumerate(zip(opens, closes, strict=True))]
    return backtest(SmaCross(**params), [ListFeed(events)])


def test_hand_computed_example():
    # closes rise, fall, rise: one full round trip with fast=2, slow=3.
    closes = [10, 9, 8, 9, 11, 12, 10, 8, 7, 9, 12]
    opens = [c + 0.5 for c in closes]
    result = run(opens, closes, fast=2, slow=3, qty=1)
    got = [(f.side.value, f.price) for f in result.fills]
    # crosses: up at index 4 (fill at open[5]), down at 7 (open[8]), up at 10 (no next bar)
    assert got == [("buy", 12.5), ("sell", 7.5)]
    assert result.trades[0].pnl == pytest.approx(-5.0)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 8), st.integers(1, 12))
def test_fills_match_the_plain_reference(seed, fast, extra):
    slow = fast + extra
    opens, closes = walk(400, seed)
    result = run(opens, closes, fast=fast, slow=slow, qty=100)
    expected = reference_fills(opens, closes, fast, slow, 100)
    got = [(f.side.value, f.price) for f in result.fills]
    assert got == [(side, price) for _, side, price in expected]


def test_fast_must_be_shorter_than_slow():
    with pytest.raises(ParameterError, match=r"fast \(5\) must be shorter"):
        run([10.0] * 3, [10.0] * 3, fast=5, slow=5)


def test_bollinger_reversion_trades_both_ways_and_flattens_at_the_mean():
    opens, closes = walk(2_000, 3)
    events = [bar(i, c, open=o) for i, (o, c) in enumerate(zip(opens, closes, strict=True))]
    result = backtest(BollingerReversion(period=20, k=1.5), [ListFeed(events)])
    sides = {t.side for t in result.trades}
    assert sides == {1, -1}
    no_short = backtest(BollingerReversion(period=20, k=1.5, allow_short=False), [ListFeed(events)])
    assert {t.side for t in no_short.trades} == {1}
