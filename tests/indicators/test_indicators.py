"""Incremental indicators against plain references recomputed from the full history."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework import ConfigError, DataError
from framework.indicators import ATR, EMA, RSI, SMA, BollingerBands

# Tolerance for every comparison with a reference. Exact agreement is not expected (the
# references sum with fsum and use textbook formulas), but anything beyond a few ulps is a bug.
TOL = {"rel_tol": 1e-9, "abs_tol": 1e-9}

prices = st.floats(min_value=0.01, max_value=1e6, allow_nan=False, allow_infinity=False)
# Fixed levels and runs of repeated values make flat stretches and huge jumps common: flat
# windows right after a jump are where running sums and one-pass variances go wrong.
price_series = st.one_of(
    st.lists(st.one_of(prices, st.sampled_from([0.01, 1.0, 100.0, 1e6])), min_size=1, max_size=80),
    st.lists(st.tuples(prices, st.integers(1, 6)), min_size=1, max_size=25).map(
        lambda runs: [x for x, repeat in runs for _ in range(repeat)]
    ),
)
periods = st.integers(min_value=1, max_value=20)
# (high, low, close) with low <= close <= high
bars = st.tuples(prices, prices, prices).map(sorted).map(lambda s: (s[2], s[0], s[1]))
bar_series = st.lists(bars, min_size=1, max_size=80)

hypothesis_settings = settings(deadline=None)


# -- references: obviously correct, recomputed from the whole history at every step ----------


def reference_sma(xs: Sequence[float], period: int) -> float | None:
    if len(xs) < period:
        return None
    return math.fsum(xs[-period:]) / period


def reference_ema(xs: Sequence[float], period: int) -> float | None:
    if len(xs) < period:
        return None
    alpha = 2 / (period + 1)
    ema = math.fsum(xs[:period]) / period
    for x in xs[period:]:
        ema = alpha * x + (1 - alpha) * ema
    return ema


def reference_rsi(xs: Sequence[float], period: int) -> float | None:
    if len(xs) < period + 1:
        return None
    changes = [b - a for a, b in itertools.pairwise(xs)]
    gains = [max(d, 0.0) for d in changes]
    losses = [max(-d, 0.0) for d in changes]
    avg_gain = math.fsum(gains[:period]) / period
    avg_loss = math.fsum(losses[:period]) / period
    for gain, loss in zip(gains[period:], losses[period:], strict=True):
        avg_gain = (avg_gain * (period - 1) + gain) / period
        avg_loss = (avg_loss * (period - 1) + loss) / period
    if avg_loss == 0.0:
        return 100.0 if avg_gain > 0.0 else 50.0
    return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)


def reference_atr(bars: Sequence[tuple[float, float, float]], period: int) -> float | None:
    if len(bars) < period:
        return None
    trs = [bars[0][0] - bars[0][1]]
    for (_, _, prev_close), (high, low, _) in itertools.pairwise(bars):
        trs.append(max(high - low, abs(high - prev_close), abs(low - prev_close)))
    atr = math.fsum(trs[:period]) / period
    for tr in trs[period:]:
        atr = (atr * (period - 1) + tr) / period
    return atr


def reference_bollinger(
    xs: Sequence[float], period: int, k: float
) -> tuple[float, float, float, float] | None:
    if len(xs) < period:
        return None
    window = xs[-period:]
    mean = math.fsum(window) / period
    sigma = math.sqrt(math.fsum((x - mean) ** 2 for x in window) / period)
    return mean, mean + k * sigma, mean - k * sigma, 2 * k * sigma


def assert_matches(actual: float | None, expected: float | None, step: int) -> None:
    if expected is None:
        assert actual is None, f"step {step}: expected None (warming up), got {actual!r}"
    else:
        assert actual is not None, f"step {step}: expected {expected!r}, got None"
        assert math.isclose(actual, expected, **TOL), f"step {step}: {actual!r} != {expected!r}"


# -- every step agrees with the reference ------------------------------------------------------


@hypothesis_settings
@given(xs=price_series, period=periods)
def test_sma_matches_reference_at_every_step(xs: list[float], period: int) -> None:
    sma = SMA(period)
    for step in range(1, len(xs) + 1):
        expected = reference_sma(xs[:step], period)
        actual = sma.update(xs[step - 1])
        assert_matches(actual, expected, step)
        assert sma.value == actual
        assert sma.ready is (expected is not None)
        assert sma.count == step


@hypothesis_settings
@given(xs=price_series, period=periods)
def test_ema_matches_reference_at_every_step(xs: list[float], period: int) -> None:
    ema = EMA(period)
    for step in range(1, len(xs) + 1):
        expected = reference_ema(xs[:step], period)
        actual = ema.update(xs[step - 1])
        assert_matches(actual, expected, step)
        assert ema.value == actual
        assert ema.ready is (expected is not None)
        assert ema.count == step


@hypothesis_settings
@given(xs=price_series, period=periods)
def test_rsi_matches_reference_at_every_step_and_stays_in_0_100(
    xs: list[float], period: int
) -> None:
    rsi = RSI(period)
    for step in range(1, len(xs) + 1):
        expected = reference_rsi(xs[:step], period)
        actual = rsi.update(xs[step - 1])
        assert_matches(actual, expected, step)
        assert actual is None or 0.0 <= actual <= 100.0
        assert rsi.value == actual
        assert rsi.ready is (expected is not None)
        assert rsi.count == step


@hypothesis_settings
@given(bars=bar_series, period=periods)
def test_atr_matches_reference_at_every_step(
    bars: list[tuple[float, float, float]], period: int
) -> None:
    atr = ATR(period)
    for step in range(1, len(bars) + 1):
        expected = reference_atr(bars[:step], period)
        actual = atr.update(*bars[step - 1])
        assert_matches(actual, expected, step)
        assert atr.value == actual
        assert atr.ready is (expected is not None)
        assert atr.count == step


@hypothesis_settings
@given(xs=price_series, period=periods, k=st.floats(min_value=0.5, max_value=3.0))
def test_bollinger_matches_reference_at_every_step(xs: list[float], period: int, k: float) -> None:
    bands = BollingerBands(period, k)
    for step in range(1, len(xs) + 1):
        expected = reference_bollinger(xs[:step], period, k)
        actual = bands.update(xs[step - 1])
        got = (bands.middle, bands.upper, bands.lower, bands.width)
        if expected is None:
            assert actual is None
            assert got == (None, None, None, None)
            assert not bands.ready
            continue
        assert bands.ready
        assert actual == bands.middle == bands.value
        for name, value, want in zip(
            ("middle", "upper", "lower", "width"), got, expected, strict=True
        ):
            assert value is not None, f"step {step}: {name} is None"
            assert math.isclose(value, want, **TOL), f"step {step}: {name} {value!r} != {want!r}"


# -- behaviour shared by all indicators ----------------------------------------------------------


def feed_price(indicator: Any, x: float) -> float | None:
    result: float | None = indicator.update(x)
    return result


def feed_bar(indicator: Any, x: float) -> float | None:
    result: float | None = indicator.update(x * 1.01, x * 0.99, x)
    return result


# (factory, how to feed one price, updates needed beyond `period` before the first value)
Case = tuple[Callable[[int], Any], Callable[[Any, float], float | None], int]
INDICATORS = [
    pytest.param((SMA, feed_price, 0), id="SMA"),
    pytest.param((EMA, feed_price, 0), id="EMA"),
    pytest.param((RSI, feed_price, 1), id="RSI"),
    pytest.param((ATR, feed_bar, 0), id="ATR"),
    pytest.param((BollingerBands, feed_price, 0), id="BollingerBands"),
]


def snapshot(indicator: Any) -> tuple[object, ...]:
    extra = (
        (indicator.upper, indicator.lower, indicator.width)
        if isinstance(indicator, BollingerBands)
        else ()
    )
    return (indicator.value, indicator.ready, indicator.count, *extra)


@pytest.mark.parametrize("case", INDICATORS)
@pytest.mark.parametrize("period", [1, 2, 5, 14])
def test_value_is_none_exactly_until_warm_up_completes(case: Case, period: int) -> None:
    factory, feed, extra = case
    indicator = factory(period)
    warmup = period + extra
    assert indicator.period == period
    assert (indicator.value, indicator.ready, indicator.count) == (None, False, 0)
    for step in range(1, warmup + 5):
        result = feed(indicator, 100.0 + step % 3)
        assert indicator.count == step
        if step < warmup:
            assert result is None
            assert indicator.value is None
            assert not indicator.ready
        else:
            assert isinstance(result, float)
            assert indicator.value == result
            assert indicator.ready


@pytest.mark.parametrize("case", INDICATORS)
@hypothesis_settings
@given(before=price_series, after=price_series, period=periods)
def test_reset_behaves_like_a_new_indicator(
    case: Case, before: list[float], after: list[float], period: int
) -> None:
    factory, feed, _ = case
    used = factory(period)
    for x in before:
        feed(used, x)
    used.reset()
    assert (used.value, used.ready, used.count) == (None, False, 0)
    fresh = factory(period)
    for x in after:
        assert feed(used, x) == feed(fresh, x)
        assert snapshot(used) == snapshot(fresh)


@pytest.mark.parametrize("case", INDICATORS)
@pytest.mark.parametrize("period", [0, -3, 2.5, True, "14", None])
def test_invalid_period_is_rejected_naming_the_parameter(case: Case, period: Any) -> None:
    factory, _, _ = case
    with pytest.raises(ConfigError, match="period") as info:
        factory(period)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("case", INDICATORS)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_input_is_rejected_and_leaves_state_unchanged(case: Case, bad: float) -> None:
    factory, feed, _ = case
    good = [100.0, 101.5, 99.0, 102.0, 98.5, 100.5, 103.0]
    checked, reference = factory(3), factory(3)
    for x in good[:4]:
        feed(checked, x)
        feed(reference, x)
    with pytest.raises(DataError, match="finite") as info:
        feed(checked, bad)
    assert isinstance(info.value, ValueError)
    assert snapshot(checked) == snapshot(reference)
    for x in good[4:]:
        assert feed(checked, x) == feed(reference, x)


# -- indicator-specific behaviour --------------------------------------------------------------


def test_ema_smoothing_factor_is_two_over_period_plus_one() -> None:
    assert EMA(9).alpha == 0.2
    assert EMA(1).alpha == 1.0


def test_ema_seed_is_the_simple_mean_of_the_first_period_inputs() -> None:
    ema = EMA(4)
    for x in (1.0, 2.0, 3.0):
        assert ema.update(x) is None
    assert ema.update(6.0) == 3.0
    assert ema.update(8.0) == 3.0 + 0.4 * (8.0 - 3.0)


def test_rsi_is_100_with_only_gains_0_with_only_losses_50_without_change() -> None:
    rising, falling, flat = RSI(3), RSI(3), RSI(3)
    for step in range(10):
        rising.update(100.0 + step)
        falling.update(100.0 - step)
        flat.update(100.0)
    assert rising.value == 100.0
    assert falling.value == 0.0
    assert flat.value == 50.0


def test_rsi_uses_wilder_smoothing_after_the_first_simple_average() -> None:
    rsi = RSI(2)
    assert rsi.update(10.0) is None
    assert rsi.update(12.0) is None  # gain 2
    assert rsi.update(11.0) == pytest.approx(100 * 1.0 / 1.5)  # gains [2, 0], losses [0, 1]
    # avg gain (1*1 + 0)/2 = 0.5, avg loss (0.5*1 + 2)/2 = 1.25
    assert rsi.update(9.0) == pytest.approx(100 * 0.5 / 1.75)


def test_atr_true_range_reaches_back_to_the_previous_close_across_gaps() -> None:
    atr = ATR(1)
    assert atr.update(11.0, 9.0, 10.0) == 2.0  # first bar: high - low
    assert atr.update(16.0, 15.0, 15.5) == 6.0  # gap up: high - previous close
    assert atr.update(12.0, 11.0, 11.5) == 4.5  # gap down: previous close - low
    assert atr.update(12.5, 11.0, 12.0) == 1.5  # inside: high - low


def test_atr_first_value_is_the_mean_of_the_first_period_true_ranges() -> None:
    atr = ATR(3)
    assert atr.update(11.0, 9.0, 10.0) is None  # TR 2
    assert atr.update(14.0, 12.0, 13.0) is None  # TR 4 (gap up from 10)
    first = atr.update(13.5, 13.0, 13.0)  # TR 0.5
    assert first == pytest.approx((2.0 + 4.0 + 0.5) / 3, rel=1e-15)
    assert atr.update(14.0, 13.0, 13.5) == pytest.approx((first * 2 + 1.0) / 3, rel=1e-15)


def test_atr_rejects_high_below_low() -> None:
    atr = ATR(3)
    with pytest.raises(DataError, match="high must be >= low"):
        atr.update(9.0, 10.0, 9.5)
    assert atr.count == 0


@pytest.mark.parametrize("k", [0.0, -1.0, math.nan, math.inf])
def test_bollinger_rejects_a_non_positive_or_non_finite_k(k: float) -> None:
    with pytest.raises(ConfigError, match="k must be"):
        BollingerBands(20, k)


def test_a_flat_window_right_after_huge_values_is_exact() -> None:
    # A one-pass variance (sum of squares minus square of sum) leaves ~1e-2 of noise in the
    # width here. The SMA's plain running sum may carry an error of a few ulps of the huge
    # values until its next exact re-sum, at most one pass over the window later.
    sma, bands = SMA(3), BollingerBands(3, 2.0)
    for x in (987_654.321, 923_456.789, 0.07, 0.07, 0.07):
        sma.update(x)
        bands.update(x)
    assert sma.value == pytest.approx(0.07, abs=3 * 987_654.321 * 2**-52)
    for _ in range(3):
        sma.update(0.07)
    assert sma.value == pytest.approx(0.07, rel=1e-15)
    assert bands.middle == pytest.approx(0.07, rel=1e-15)
    assert bands.width is not None
    assert bands.width <= 1e-15
    assert bands.upper == pytest.approx(0.07, rel=1e-15)
    assert bands.lower == pytest.approx(0.07, rel=1e-15)


def test_bollinger_bands_use_the_population_standard_deviation() -> None:
    bands = BollingerBands(4, 1.5)
    for x in (2.0, 4.0, 4.0, 6.0):
        bands.update(x)
    # mean 4, population variance (4 + 0 + 0 + 4) / 4 = 2
    assert bands.middle == 4.0
    assert bands.upper == pytest.approx(4.0 + 1.5 * math.sqrt(2.0), rel=1e-15)
    assert bands.lower == pytest.approx(4.0 - 1.5 * math.sqrt(2.0), rel=1e-15)
    assert bands.width == pytest.approx(3.0 * math.sqrt(2.0), rel=1e-15)


def test_sma_and_bollinger_do_not_drift_over_a_long_run() -> None:
    rng = random.Random(20240601)
    period = 50
    # Magnitudes from 0.01 to 1e6 make every rounding error of a running sum count; the run
    # ends on a window of small values that is not aligned with the periodic re-summation, so
    # the last updates remove huge values incrementally.
    xs = [
        rng.uniform(1e5, 1e6) if rng.random() < 0.5 else rng.uniform(0.01, 1.0)
        for _ in range(200_000 - 27)
    ]
    xs += [rng.uniform(0.01, 1.0) for _ in range(period)]
    sma, bands = SMA(period), BollingerBands(period, 2.0)
    for step, x in enumerate(xs, start=1):
        sma.update(x)
        bands.update(x)
        if step % 10_007 == 0 or step == len(xs):
            window = xs[step - period : step]
            mean = math.fsum(window) / period
            sigma = math.sqrt(math.fsum((v - mean) ** 2 for v in window) / period)
            assert sma.value is not None and bands.middle is not None
            assert bands.width is not None
            assert math.isclose(sma.value, mean, **TOL), f"step {step}"
            assert math.isclose(bands.middle, mean, **TOL), f"step {step}"
            assert math.isclose(bands.width, 4.0 * sigma, **TOL), f"step {step}"
