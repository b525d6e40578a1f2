"""Each incremental indicator equals a plain computation from the whole prefix, at every step.

The references below recompute everything from the inputs seen so far with textbook loops and
``math.fsum``, sharing no code or state with the indicators. Hypothesis draws the series: fixed
levels and runs of repeated values make flat windows, huge jumps and zero volumes common, which
is where running sums, monotonic deques and divisions by a range go wrong.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from framework.indicators import (
    ADX,
    EMA,
    MACD,
    OBV,
    ROC,
    VWAP,
    WMA,
    DonchianChannels,
    KeltnerChannels,
    Stochastic,
)

prices = st.floats(min_value=0.01, max_value=1e6, allow_nan=False, allow_infinity=False)
price_series = st.one_of(
    st.lists(st.one_of(prices, st.sampled_from([0.01, 1.0, 100.0, 1e6])), min_size=1, max_size=80),
    st.lists(st.tuples(prices, st.integers(1, 6)), min_size=1, max_size=25).map(
        lambda runs: [x for x, repeat in runs for _ in range(repeat)]
    ),
)
periods = st.integers(min_value=1, max_value=20)
Bar = tuple[float, float, float]
# (high, low, close) with low <= close <= high; repeated bars make flat windows.
bars = st.tuples(prices, prices, prices).map(sorted).map(lambda s: (s[2], s[0], s[1]))
bar_series = st.one_of(
    st.lists(bars, min_size=1, max_size=80),
    st.lists(st.tuples(bars, st.integers(1, 6)), min_size=1, max_size=25).map(
        lambda runs: [b for b, repeat in runs for _ in range(repeat)]
    ),
)
volumes = st.one_of(st.just(0.0), st.sampled_from([1.0, 1e6]), st.floats(1e-3, 1e6))

NS_PER_HOUR = 3_600 * 1_000_000_000
NS_PER_DAY = 24 * NS_PER_HOUR
#: 2024-03-01 00:00 UTC, in nanoseconds.
T0 = 1_709_251_200 * 1_000_000_000
# Steps between bar open times: same hour, next hour, the last nanosecond before a new day,
# exactly a day, a weekend.
time_steps = st.sampled_from([0, 1, NS_PER_HOUR, NS_PER_DAY - 1, NS_PER_DAY, 3 * NS_PER_DAY])
VwapRow = tuple[float, float, float, float, int]


@st.composite
def vwap_rows(draw: st.DrawFn) -> list[VwapRow]:
    """Bars with volumes and open times that cross UTC midnight often (and not at all, too)."""
    ts = T0 + draw(st.integers(0, NS_PER_DAY - 1))
    rows = []
    for _ in range(draw(st.integers(1, 60))):
        high, low, close = draw(bars)
        rows.append((high, low, close, draw(volumes), ts))
        ts += draw(time_steps)
    return rows


hypothesis_settings = settings(deadline=None)
#: Oscillators live in [0, 100]: an absolute tolerance there is a relative one.
TOL = {"rel_tol": 1e-9, "abs_tol": 1e-9}


def price_tol(inputs: Sequence[float]) -> dict[str, float]:
    """Outputs in price units (including differences of averages, which can be near zero) are
    compared to within 1e-12 of the largest input: running sums are exact only to that."""
    return {"rel_tol": 1e-9, "abs_tol": 1e-12 * max(abs(x) for x in inputs)}


def assert_outputs(
    actual: Sequence[float | None], expected: Sequence[float] | None, **tol: float
) -> None:
    if expected is None:
        assert all(value is None for value in actual), f"expected None (warming up), got {actual}"
        return
    for value, want in zip(actual, expected, strict=True):
        assert value is not None, f"expected {expected}, got {actual}"
        assert math.isclose(value, want, **tol), f"{actual} != {expected}"


# -- references ---------------------------------------------------------------------------------


def mean(xs: Sequence[float]) -> float:
    return math.fsum(xs) / len(xs)


def ema_series(xs: Sequence[float], period: int) -> list[float | None]:
    """The EMA after every input: None for the first period - 1, seeded with their mean."""
    out: list[float | None] = [None] * min(len(xs), period - 1)
    if len(xs) < period:
        return out
    alpha = 2 / (period + 1)
    ema = mean(xs[:period])
    out.append(ema)
    for x in xs[period:]:
        ema = alpha * x + (1 - alpha) * ema
        out.append(ema)
    return out


def true_ranges(bars: Sequence[Bar]) -> list[float]:
    """The first bar's high - low, then the range reaching back to the previous close."""
    trs = [bars[0][0] - bars[0][1]]
    for (_, _, prev_close), (high, low, _) in itertools.pairwise(bars):
        trs.append(max(high - low, abs(high - prev_close), abs(low - prev_close)))
    return trs


def wilder(values: Sequence[float], period: int) -> list[float]:
    """Wilder's smoothing from the mean of the first ``period`` values; [] if too few."""
    if len(values) < period:
        return []
    out = [mean(values[:period])]
    for value in values[period:]:
        out.append((out[-1] * (period - 1) + value) / period)
    return out


def reference_wma(xs: Sequence[float], period: int) -> tuple[float] | None:
    if len(xs) < period:
        return None
    window = xs[-period:]
    weighted = math.fsum(weight * x for weight, x in enumerate(window, start=1))
    return (weighted / (period * (period + 1) / 2),)


def reference_roc(xs: Sequence[float], period: int) -> tuple[float] | None:
    if len(xs) <= period:
        return None
    base = xs[-1 - period]
    return ((xs[-1] / base - 1) * 100 if base else 0.0,)


def reference_donchian(bars: Sequence[Bar], period: int) -> tuple[float, ...] | None:
    if len(bars) < period:
        return None
    upper = max(high for high, _, _ in bars[-period:])
    lower = min(low for _, low, _ in bars[-period:])
    return (upper + lower) / 2, upper, lower, upper - lower


def reference_stochastic(
    bars: Sequence[Bar], period: int, k_smoothing: int, d_smoothing: int
) -> tuple[float, float] | None:
    raw = []
    for end in range(period, len(bars) + 1):
        window = bars[end - period : end]
        highest = max(high for high, _, _ in window)
        lowest = min(low for _, low, _ in window)
        close = bars[end - 1][2]
        raw.append(50.0 if highest == lowest else 100 * (close - lowest) / (highest - lowest))
    slow_k = [mean(raw[end - k_smoothing : end]) for end in range(k_smoothing, len(raw) + 1)]
    slow_d = [mean(slow_k[end - d_smoothing : end]) for end in range(d_smoothing, len(slow_k) + 1)]
    if not slow_d:
        return None
    return slow_k[-1], slow_d[-1]


def reference_macd(
    xs: Sequence[float], fast: int, slow: int, signal: int
) -> tuple[float, float, float] | None:
    lines = [
        f - s
        for f, s in zip(ema_series(xs, fast), ema_series(xs, slow), strict=True)
        if f is not None and s is not None
    ]
    signals = ema_series(lines, signal)
    if not signals or signals[-1] is None:
        return None
    return lines[-1], signals[-1], lines[-1] - signals[-1]


def reference_keltner(
    bars: Sequence[Bar], period: int, k: float, atr_period: int
) -> tuple[float, ...] | None:
    if len(bars) < max(period, atr_period):
        return None
    middle = ema_series([close for _, _, close in bars], period)[-1]
    atr = wilder(true_ranges(bars), atr_period)[-1]
    assert middle is not None
    return middle, middle + k * atr, middle - k * atr, 2 * k * atr


def reference_adx(bars: Sequence[Bar], period: int) -> tuple[float, float, float] | None:
    trs, plus_dms, minus_dms = [], [], []
    for (prev_high, prev_low, prev_close), (high, low, _) in itertools.pairwise(bars):
        up, down = high - prev_high, prev_low - low
        plus_dms.append(up if up > down and up > 0 else 0.0)
        minus_dms.append(down if down > up and down > 0 else 0.0)
        trs.append(max(high - low, abs(high - prev_close), abs(low - prev_close)))
    dis = [
        (100 * plus / tr, 100 * minus / tr) if tr > 0 else (0.0, 0.0)
        for tr, plus, minus in zip(
            wilder(trs, period), wilder(plus_dms, period), wilder(minus_dms, period), strict=True
        )
    ]
    dxs = [100 * abs(p - m) / (p + m) if p + m > 0 else 0.0 for p, m in dis]
    adx = wilder(dxs, period)
    if not adx:
        return None
    return adx[-1], dis[-1][0], dis[-1][1]


def reference_obv(closes: Sequence[float], volumes: Sequence[float]) -> tuple[float]:
    signed = [
        volume if close > prev else -volume if close < prev else 0.0
        for (prev, close), volume in zip(itertools.pairwise(closes), volumes[1:], strict=True)
    ]
    return (math.fsum(signed),)


def reference_vwap(rows: Sequence[VwapRow], anchor: str | None) -> tuple[float] | None:
    if anchor == "day":
        day = rows[-1][4] // NS_PER_DAY
        rows = [row for row in rows if row[4] // NS_PER_DAY == day]
    volume = math.fsum(row[3] for row in rows)
    if volume == 0:
        return None
    return (math.fsum((h + low + c) / 3 * v for h, low, c, v, _ in rows) / volume,)


# -- every step agrees with the reference ------------------------------------------------------


def check_every_step(
    indicator: Any, inputs: Sequence[Any], reference: Any, outputs: Sequence[str], **tol: float
) -> None:
    """Feed ``inputs`` one by one; after each, every named output (``value``'s first) must
    equal the reference on the prefix, and ``ready`` and ``count`` must say so."""
    for step in range(1, len(inputs) + 1):
        row = inputs[step - 1]
        result = indicator.update(*row) if isinstance(row, tuple) else indicator.update(row)
        expected = reference(inputs[:step])
        actual = [getattr(indicator, name) for name in outputs]
        assert_outputs(actual, expected, **tol)
        assert result == indicator.value == actual[0]
        assert indicator.ready is (expected is not None)
        assert indicator.count == step


@hypothesis_settings
@given(xs=price_series, period=periods)
def test_wma_equals_the_weighted_mean_of_the_window(xs: list[float], period: int) -> None:
    check_every_step(
        WMA(period), xs, lambda p: reference_wma(p, period), ["value"], **price_tol(xs)
    )


@hypothesis_settings
@given(xs=price_series, period=periods)
def test_roc_equals_the_change_over_period_inputs(xs: list[float], period: int) -> None:
    # Percent of a ratio of prices: relative precision, as for an oscillator.
    check_every_step(ROC(period), xs, lambda p: reference_roc(p, period), ["value"], **TOL)


@hypothesis_settings
@given(bars=bar_series, period=periods)
def test_donchian_channels_equal_the_window_extremes(bars: list[Bar], period: int) -> None:
    inputs = [(high, low) for high, low, _ in bars]
    check_every_step(
        DonchianChannels(period),
        inputs,
        lambda p: reference_donchian([(h, low, 0.0) for h, low in p], period),
        ["middle", "upper", "lower", "width"],
        rel_tol=0.0,
        abs_tol=0.0,
    )


@hypothesis_settings
@given(
    bars=bar_series,
    period=st.integers(1, 15),
    k_smoothing=st.integers(1, 5),
    d_smoothing=st.integers(1, 5),
)
def test_stochastic_equals_the_smoothed_position_in_the_range(
    bars: list[Bar], period: int, k_smoothing: int, d_smoothing: int
) -> None:
    check_every_step(
        Stochastic(period, k_smoothing, d_smoothing),
        bars,
        lambda p: reference_stochastic(p, period, k_smoothing, d_smoothing),
        ["k", "d"],
        **TOL,
    )


@hypothesis_settings
@given(
    xs=price_series,
    fast=st.integers(1, 10),
    gap=st.integers(1, 10),
    signal=st.integers(1, 10),
)
def test_macd_equals_the_difference_of_two_emas_and_its_ema(
    xs: list[float], fast: int, gap: int, signal: int
) -> None:
    check_every_step(
        MACD(fast, fast + gap, signal),
        xs,
        lambda p: reference_macd(p, fast, fast + gap, signal),
        ["macd", "signal", "histogram"],
        **price_tol(xs),
    )


@hypothesis_settings
@given(xs=price_series, fast=st.integers(1, 10), gap=st.integers(1, 10))
def test_macd_line_is_exactly_the_difference_of_the_package_emas(
    xs: list[float], fast: int, gap: int
) -> None:
    macd, fast_ema, slow_ema = MACD(fast, fast + gap, 1), EMA(fast), EMA(fast + gap)
    for x in xs:
        line, f, s = macd.update(x), fast_ema.update(x), slow_ema.update(x)
        assert line == (None if f is None or s is None else f - s)


@hypothesis_settings
@given(
    bars=bar_series,
    period=periods,
    k=st.floats(min_value=0.5, max_value=3.0),
    atr_period=periods,
)
def test_keltner_channels_equal_the_ema_plus_minus_k_atr(
    bars: list[Bar], period: int, k: float, atr_period: int
) -> None:
    check_every_step(
        KeltnerChannels(period, k, atr_period),
        bars,
        lambda p: reference_keltner(p, period, k, atr_period),
        ["middle", "upper", "lower", "width"],
        **price_tol([x for bar in bars for x in bar]),
    )


@hypothesis_settings
@given(bars=bar_series, period=periods)
def test_adx_equals_wilders_definition(bars: list[Bar], period: int) -> None:
    check_every_step(
        ADX(period), bars, lambda p: reference_adx(p, period), ["adx", "plus_di", "minus_di"], **TOL
    )


@hypothesis_settings
@given(data=st.lists(st.tuples(prices, volumes), min_size=1, max_size=80))
def test_obv_equals_the_signed_volume_total(data: list[tuple[float, float]]) -> None:
    check_every_step(
        OBV(),
        data,
        lambda p: reference_obv([c for c, _ in p], [v for _, v in p]),
        ["value"],
        rel_tol=1e-12,
        abs_tol=1e-9,
    )


@hypothesis_settings
@given(rows=vwap_rows(), anchor=st.sampled_from(["day", None]))
def test_vwap_equals_the_volume_weighted_typical_price_of_the_session(
    rows: list[VwapRow], anchor: str | None
) -> None:
    vwap = VWAP(anchor=anchor)
    tol = price_tol([x for row in rows for x in row[:3]])
    for step, row in enumerate(rows, start=1):
        result = vwap.update(*row)
        expected = reference_vwap(rows[:step], anchor)
        assert_outputs([vwap.value], expected, **tol)
        assert result == vwap.value
        assert vwap.ready is (expected is not None)
        assert vwap.count == step
