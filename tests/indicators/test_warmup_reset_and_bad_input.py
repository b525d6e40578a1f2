"""What every indicator promises (exact warm-up, reset, rejected input and parameters), and the
behaviour particular to each of MACD, Stochastic, ADX, VWAP, WMA, ROC, Donchian, Keltner, OBV."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework import ConfigError, DataError
from framework.indicators import (
    ADX,
    ATR,
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

NS_PER_HOUR = 3_600 * 1_000_000_000
NS_PER_DAY = 24 * NS_PER_HOUR
#: 2024-03-01 00:00 UTC, in nanoseconds.
T0 = 1_709_251_200 * 1_000_000_000


def hlc(x: float) -> tuple[float, ...]:
    return (x * 1.01, x * 0.99, x)


@dataclass(frozen=True)
class Case:
    """How to build an indicator for a period, how to turn a price into its ``update``
    arguments, and what the warm-up must be."""

    build: Callable[[int], Any]
    args: Callable[[float], tuple[float, ...]]
    warmup: Callable[[int], int]
    outputs: tuple[str, ...]
    kwargs: tuple[tuple[str, Any], ...] = ()

    def feed(self, indicator: Any, x: float) -> float | None:
        result: float | None = indicator.update(*self.args(x), **dict(self.kwargs))
        return result

    def snapshot(self, indicator: Any) -> tuple[object, ...]:
        return (
            indicator.value,
            indicator.ready,
            indicator.count,
            *(getattr(indicator, name) for name in self.outputs),
        )


CASES = [
    pytest.param(Case(WMA, lambda x: (x,), lambda p: p, ("value",)), id="WMA"),
    pytest.param(Case(ROC, lambda x: (x,), lambda p: p + 1, ("value",)), id="ROC"),
    pytest.param(
        Case(
            DonchianChannels,
            lambda x: hlc(x)[:2],
            lambda p: p,
            ("middle", "upper", "lower", "width"),
        ),
        id="DonchianChannels",
    ),
    pytest.param(Case(Stochastic, hlc, lambda p: p + 4, ("k", "d")), id="Stochastic"),
    pytest.param(
        Case(lambda p: Stochastic(p, 1, 1), hlc, lambda p: p, ("k", "d")), id="Stochastic-fast"
    ),
    pytest.param(
        Case(lambda p: Stochastic(p, 2, 4), hlc, lambda p: p + 4, ("k", "d")), id="Stochastic-2-4"
    ),
    pytest.param(
        Case(
            lambda p: MACD(p, 2 * p, 3),
            lambda x: (x,),
            lambda p: 2 * p + 2,
            ("macd", "signal", "histogram"),
        ),
        id="MACD",
    ),
    pytest.param(
        Case(
            lambda p: KeltnerChannels(p, 2.0, p + 2),
            hlc,
            lambda p: p + 2,
            ("middle", "upper", "lower", "width"),
        ),
        id="KeltnerChannels-longer-atr",
    ),
    pytest.param(
        Case(
            lambda p: KeltnerChannels(p + 3, 1.5, p),
            hlc,
            lambda p: p + 3,
            ("middle", "upper", "lower", "width"),
        ),
        id="KeltnerChannels-longer-ema",
    ),
    pytest.param(Case(ADX, hlc, lambda p: 2 * p, ("adx", "plus_di", "minus_di")), id="ADX"),
    pytest.param(Case(lambda p: OBV(), lambda x: (x, 1000.0), lambda p: 1, ("value",)), id="OBV"),
    pytest.param(
        Case(
            lambda p: VWAP(anchor=None),
            lambda x: (*hlc(x), 1000.0),
            lambda p: 1,
            ("value",),
        ),
        id="VWAP-cumulative",
    ),
    pytest.param(
        Case(
            lambda p: VWAP(),
            lambda x: (*hlc(x), 1000.0),
            lambda p: 1,
            ("value",),
            (("ts_open", T0 + NS_PER_HOUR),),
        ),
        id="VWAP-daily",
    ),
]

prices = st.floats(min_value=0.01, max_value=1e6, allow_nan=False, allow_infinity=False)
price_series = st.lists(prices, max_size=60)


# -- warm-up -------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("period", [1, 2, 5, 14])
def test_outputs_are_none_exactly_until_warm_up_completes(case: Case, period: int) -> None:
    indicator = case.build(period)
    warmup = case.warmup(period)
    assert case.snapshot(indicator) == (None, False, 0, *(None for _ in case.outputs))
    for step in range(1, warmup + 5):
        result = case.feed(indicator, 100.0 + step % 3)
        assert indicator.count == step
        outputs = [getattr(indicator, name) for name in case.outputs]
        if step < warmup:
            assert result is None, f"step {step} of a {warmup}-update warm-up"
            assert indicator.value is None
            assert outputs == [None] * len(outputs)
            assert not indicator.ready
        else:
            assert isinstance(result, float), f"step {step} of a {warmup}-update warm-up"
            assert indicator.value == result == outputs[0]
            assert all(isinstance(value, float) for value in outputs)
            assert indicator.ready


@pytest.mark.parametrize(
    ("indicator", "period"),
    [
        (WMA(7), 7),
        (ROC(7), 7),
        (DonchianChannels(), 20),
        (Stochastic(), 14),
        (MACD(), 26),
        (KeltnerChannels(), 20),
        (ADX(), 14),
        (OBV(), 1),
        (VWAP(), 1),
    ],
)
def test_period_reports_the_look_back(indicator: Any, period: int) -> None:
    assert indicator.period == period
    with pytest.raises(AttributeError):
        indicator.period = period + 1
    with pytest.raises(AttributeError):
        indicator.value = 1.0
    # __slots__ all the way down: no per-instance dict to grow.
    assert not hasattr(indicator, "__dict__")


@pytest.mark.parametrize(
    ("indicator", "text"),
    [
        (MACD(3, 5, 2), "MACD(period=5, count=0, value=None)"),
        (OBV(), "OBV(period=1, count=0, value=None)"),
    ],
)
def test_repr_shows_period_count_and_value(indicator: Any, text: str) -> None:
    assert repr(indicator) == text


# -- reset ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
@settings(deadline=None)
@given(before=price_series, after=price_series, period=st.integers(1, 12))
def test_reset_behaves_like_a_new_indicator(
    case: Case, before: list[float], after: list[float], period: int
) -> None:
    used = case.build(period)
    for x in before:
        case.feed(used, x)
    used.reset()
    fresh = case.build(period)
    assert case.snapshot(used) == case.snapshot(fresh)
    for x in after:
        assert case.feed(used, x) == case.feed(fresh, x)
        assert case.snapshot(used) == case.snapshot(fresh)


# -- rejected input ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_input_is_rejected_and_leaves_state_unchanged(case: Case, bad: float) -> None:
    good = [100.0, 101.5, 99.0, 102.0, 98.5, 100.5, 103.0, 97.0, 104.0]
    for position in range(len(case.args(1.0))):
        checked, reference = case.build(2), case.build(2)
        for x in good[:5]:
            case.feed(checked, x)
            case.feed(reference, x)
        args = list(case.args(100.0))
        args[position] = bad
        with pytest.raises(DataError, match="must be a finite number") as info:
            checked.update(*args, **dict(case.kwargs))
        assert isinstance(info.value, ValueError)
        assert case.snapshot(checked) == case.snapshot(reference)
        for x in good[5:]:
            assert case.feed(checked, x) == case.feed(reference, x)
            assert case.snapshot(checked) == case.snapshot(reference)


@pytest.mark.parametrize(
    ("indicator", "args", "reason"),
    [
        (DonchianChannels(2), (9.0, 10.0), "high must be >= low"),
        (Stochastic(2, 1, 1), (9.0, 10.0, 9.5), "need low <= close <= high"),
        (Stochastic(2, 1, 1), (10.0, 9.0, 10.5), "need low <= close <= high"),
        (Stochastic(2, 1, 1), (10.0, 9.0, 8.5), "need low <= close <= high"),
        (KeltnerChannels(2, 2.0, 2), (9.0, 10.0, 9.5), "high must be >= low"),
        (ADX(2), (9.0, 10.0, 9.5), "high must be >= low"),
        (OBV(), (10.0, -1.0), "volume must be >= 0"),
        (VWAP(anchor=None), (9.0, 10.0, 9.5, 1.0), "need high >= low and volume >= 0"),
        (VWAP(anchor=None), (10.0, 9.0, 9.5, -1.0), "need high >= low and volume >= 0"),
    ],
)
def test_inconsistent_bars_are_rejected_and_change_nothing(
    indicator: Any, args: tuple[float, ...], reason: str
) -> None:
    with pytest.raises(DataError, match=reason):
        indicator.update(*args)
    assert (indicator.count, indicator.value, indicator.ready) == (0, None, False)


# -- rejected parameters -------------------------------------------------------------------------

PERIOD_PARAMETERS = [
    pytest.param(WMA, {}, "period", id="WMA"),
    pytest.param(ROC, {}, "period", id="ROC"),
    pytest.param(DonchianChannels, {}, "period", id="DonchianChannels"),
    pytest.param(Stochastic, {}, "period", id="Stochastic-period"),
    pytest.param(Stochastic, {"period": 5}, "k_smoothing", id="Stochastic-k_smoothing"),
    pytest.param(Stochastic, {"period": 5}, "d_smoothing", id="Stochastic-d_smoothing"),
    pytest.param(MACD, {"slow_period": 1000}, "fast_period", id="MACD-fast"),
    pytest.param(MACD, {"fast_period": 1}, "slow_period", id="MACD-slow"),
    pytest.param(MACD, {}, "signal_period", id="MACD-signal"),
    pytest.param(KeltnerChannels, {}, "period", id="KeltnerChannels-period"),
    pytest.param(KeltnerChannels, {}, "atr_period", id="KeltnerChannels-atr_period"),
    pytest.param(ADX, {}, "period", id="ADX"),
]


@pytest.mark.parametrize(("factory", "others", "name"), PERIOD_PARAMETERS)
@pytest.mark.parametrize("value", [0, -3, 2.5, True, "14", None])
def test_invalid_period_is_rejected_naming_the_parameter(
    factory: Any, others: dict[str, int], name: str, value: Any
) -> None:
    with pytest.raises(ConfigError, match=f"{name} must be an int >= 1") as info:
        factory(**others, **{name: value})
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(("fast", "slow"), [(26, 12), (12, 12)])
def test_macd_needs_the_fast_period_below_the_slow(fast: int, slow: int) -> None:
    with pytest.raises(ConfigError, match="fast_period must be less than slow_period"):
        MACD(fast, slow)


@pytest.mark.parametrize("k", [0.0, -1.0, math.nan, math.inf])
def test_keltner_rejects_a_non_positive_or_non_finite_k(k: float) -> None:
    with pytest.raises(ConfigError, match="k must be a finite number > 0"):
        KeltnerChannels(20, k)


@pytest.mark.parametrize("anchor", ["session", "D", "", 1])
def test_vwap_rejects_an_unknown_anchor(anchor: Any) -> None:
    with pytest.raises(ConfigError, match="anchor must be 'day' or None"):
        VWAP(anchor=anchor)


def test_vwap_with_a_daily_anchor_needs_the_bar_open_time() -> None:
    vwap = VWAP()
    with pytest.raises(ConfigError, match="needs ts_open"):
        vwap.update(10.0, 9.0, 9.5, 100.0)
    assert vwap.count == 0


# -- behaviour of each indicator -----------------------------------------------------------------


def test_wma_weighs_the_newest_input_most() -> None:
    wma = WMA(3)
    assert wma.update(1.0) is None
    assert wma.update(2.0) is None
    assert wma.update(3.0) == pytest.approx((1 * 1 + 2 * 2 + 3 * 3) / 6, rel=1e-15)
    assert wma.update(6.0) == pytest.approx((1 * 2 + 2 * 3 + 3 * 6) / 6, rel=1e-15)
    assert wma.update(0.0) == pytest.approx((1 * 3 + 2 * 6 + 3 * 0) / 6, rel=1e-15)


def test_wma_does_not_drift_over_a_long_run() -> None:
    # Magnitudes from 0.01 to 1e6, so every rounding error of the running sums counts; ends on a
    # window of small values that removes huge ones incrementally, between two exact re-sums.
    period = 50
    xs = [1e6 - k * 17.3 if k % 3 else 0.01 + (k % 7) / 100 for k in range(100_000 - 27)]
    xs += [0.5 + (k % 5) / 10 for k in range(period)]
    wma = WMA(period)
    for x in xs:
        wma.update(x)
    window = xs[-period:]
    expected = math.fsum(w * x for w, x in enumerate(window, start=1)) / (period * 51 / 2)
    assert wma.value == pytest.approx(expected, rel=1e-9)


def test_roc_is_the_percent_change_over_period_inputs() -> None:
    roc = ROC(2)
    assert roc.update(100.0) is None
    assert roc.update(110.0) is None
    assert roc.update(121.0) == pytest.approx(21.0, rel=1e-15)
    assert roc.update(99.0) == pytest.approx(-10.0, rel=1e-15)


def test_roc_from_a_zero_base_is_zero_as_in_talib() -> None:
    roc = ROC(1)
    roc.update(0.0)
    assert roc.update(5.0) == 0.0
    assert roc.update(10.0) == 100.0


def test_donchian_channels_include_the_current_bar() -> None:
    channels = DonchianChannels(3)
    for high, low in ((10.0, 8.0), (12.0, 9.0), (11.0, 7.0)):
        channels.update(high, low)
    assert (channels.upper, channels.middle, channels.lower, channels.width) == (12, 9.5, 7, 5)
    channels.update(9.5, 9.0)  # the 10/8 bar leaves; the new bar is inside
    assert (channels.upper, channels.lower) == (12.0, 7.0)
    channels.update(9.5, 9.0)  # the 12/9 bar leaves
    assert (channels.upper, channels.lower) == (11.0, 7.0)
    channels.update(13.0, 9.2)  # the 11/7 bar leaves; a new high
    assert (channels.upper, channels.lower) == (13.0, 9.0)


def test_stochastic_places_the_close_in_the_range_then_averages() -> None:
    stochastic = Stochastic(2, 2, 2)
    bars = [(10.0, 8.0, 9.0), (12.0, 9.0, 12.0), (11.0, 10.0, 10.0), (11.0, 9.0, 9.5)]
    # Raw %K from the second bar on (a 2-bar range): 100, 33.3, 25.
    raw = [100 * (12 - 8) / 4, 100 * (10 - 9) / 3, 100 * (9.5 - 9) / 2]
    results = [stochastic.update(*bar) for bar in bars]
    assert results[:3] == [None, None, None]
    k = [(raw[0] + raw[1]) / 2, (raw[1] + raw[2]) / 2]
    assert stochastic.k == pytest.approx(k[1], rel=1e-15)
    assert stochastic.d == pytest.approx((k[0] + k[1]) / 2, rel=1e-15)


def test_stochastic_of_a_flat_range_is_50() -> None:
    stochastic = Stochastic(3, 1, 1)
    for _ in range(5):
        stochastic.update(7.0, 7.0, 7.0)
    assert (stochastic.k, stochastic.d) == (50.0, 50.0)


def test_stochastic_exposes_its_smoothing_periods() -> None:
    stochastic = Stochastic(9, 4, 2)
    assert (stochastic.period, stochastic.k_smoothing, stochastic.d_smoothing) == (9, 4, 2)


def test_macd_exposes_its_periods_and_the_histogram_is_line_minus_signal() -> None:
    macd = MACD(3, 6, 4)
    assert (macd.fast_period, macd.slow_period, macd.signal_period, macd.period) == (3, 6, 4, 6)
    for step in range(40):
        macd.update(100.0 + (step * 7) % 11)
    assert macd.macd is not None and macd.signal is not None
    assert macd.histogram == macd.macd - macd.signal


def test_keltner_channels_are_the_ema_plus_minus_k_times_the_atr() -> None:
    keltner, ema, atr = KeltnerChannels(4, 1.5, 3), EMA(4), ATR(3)
    for step in range(20):
        bar = (101.0 + step % 4, 99.0 - step % 3, 100.0 + step % 5 - 2)
        keltner.update(*bar)
        middle, band = ema.update(bar[2]), atr.update(*bar)
    assert middle is not None and band is not None
    assert (keltner.k, keltner.atr_period) == (1.5, 3)
    assert keltner.middle == middle
    assert keltner.upper == middle + 1.5 * band
    assert keltner.lower == middle - 1.5 * band
    assert keltner.width == 3.0 * band


def test_adx_of_a_steady_rise_is_all_plus_di() -> None:
    adx = ADX(3)
    for step in range(20):
        adx.update(101.0 + step, 99.0 + step, 100.0 + step)
    # Every bar moves up by 1 with a true range of 2 (high - previous close = 2).
    assert adx.plus_di == pytest.approx(50.0, rel=1e-12)
    assert adx.minus_di == 0.0
    assert adx.adx == pytest.approx(100.0, rel=1e-12)


def test_adx_of_bars_that_never_move_is_zero() -> None:
    adx = ADX(2)
    for _ in range(6):
        adx.update(5.0, 5.0, 5.0)
    assert (adx.adx, adx.plus_di, adx.minus_di) == (0.0, 0.0, 0.0)


def test_adx_with_period_1_follows_each_bar() -> None:
    # Period 1: every average is its newest value, so the DIs, DX and ADX follow each bar.
    adx = ADX(1)
    assert adx.update(10.0, 9.0, 9.5) is None
    # up 1, down -1: +DM 1, -DM 0; TR max(1, |11 - 9.5|, |10 - 9.5|) = 1.5
    assert adx.update(11.0, 10.0, 10.5) == 100.0
    assert adx.plus_di == pytest.approx(100 * 1 / 1.5, rel=1e-15)
    assert adx.minus_di == 0.0
    # up -2, down 3: -DM 3; TR max(2, |9 - 10.5|, |7 - 10.5|) = 3.5
    assert adx.update(9.0, 7.0, 8.0) == 100.0
    assert adx.minus_di == pytest.approx(100 * 3 / 3.5, rel=1e-15)
    assert adx.plus_di == 0.0


def test_adx_first_value_is_the_mean_of_the_first_period_dx_values() -> None:
    adx = ADX(2)
    bars = [(10.0, 9.0, 9.5), (11.0, 10.0, 10.5), (10.5, 9.5, 10.0), (10.0, 8.0, 8.5)]
    # +DM 1, 0, 0; -DM 0, 0.5, 1.5; TR 1.5, 1, 2.
    # Averages at bar 3: TR 1.25, +DM 0.5, -DM 0.25 -> +DI 40, -DI 20, DX 100 * 20 / 60.
    # At bar 4: TR 1.625, +DM 0.25, -DM 0.875 -> DX 100 * 0.625 / 1.125.
    results = [adx.update(*bar) for bar in bars]
    assert results[:3] == [None, None, None]
    assert adx.adx == pytest.approx((100 * 20 / 60 + 100 * 0.625 / 1.125) / 2, rel=1e-14)
    assert adx.plus_di == pytest.approx(100 * 0.25 / 1.625, rel=1e-14)
    assert adx.minus_di == pytest.approx(100 * 0.875 / 1.625, rel=1e-14)


def test_obv_starts_at_zero_and_adds_or_subtracts_each_bars_volume() -> None:
    obv = OBV()
    assert obv.update(10.0, 500.0) == 0.0  # no previous close
    assert obv.update(11.0, 200.0) == 200.0
    assert obv.update(11.0, 900.0) == 200.0  # unchanged close
    assert obv.update(10.5, 50.0) == 150.0
    assert obv.update(10.0, 0.0) == 150.0
    assert obv.ready


def test_obv_keeps_small_volumes_next_to_huge_ones() -> None:
    # 1e16 + 1.0 rounds back to 1e16: a plain running total would lose all 1000 small volumes.
    obv = OBV()
    obv.update(1.0, 0.0)
    obv.update(2.0, 1e16)
    for step in range(1000):
        obv.update(3.0 + step, 1.0)
    assert obv.update(0.5, 1e16) == 1000.0


def bar_at(hour: int, price: float, volume: float) -> tuple[float, float, float, float, int]:
    """A bar opened ``hour`` hours after 2024-03-01 00:00 UTC."""
    return (price + 1.0, price - 1.0, price, volume, T0 + hour * NS_PER_HOUR)


def test_vwap_restarts_at_each_utc_day_by_the_bars_open_time() -> None:
    vwap = VWAP()
    assert vwap.anchor == "day"
    assert vwap.update(*bar_at(22, 10.0, 100.0)) == 10.0
    # Opened 23:00, final at midnight: still the first day's bar.
    assert vwap.update(*bar_at(23, 20.0, 300.0)) == pytest.approx(17.5, rel=1e-15)
    assert vwap.update(*bar_at(24, 40.0, 100.0)) == 40.0  # a new day
    assert vwap.update(*bar_at(24 + 1, 10.0, 100.0)) == pytest.approx(25.0, rel=1e-15)
    assert vwap.count == 4


def test_vwap_without_an_anchor_never_restarts() -> None:
    vwap = VWAP(anchor=None)
    assert vwap.anchor is None
    vwap.update(11.0, 9.0, 10.0, 100.0)
    assert vwap.update(*bar_at(48, 40.0, 300.0)[:4]) == pytest.approx(32.5, rel=1e-15)


def test_vwap_is_none_until_the_session_has_volume() -> None:
    vwap = VWAP()
    assert vwap.update(*bar_at(0, 10.0, 0.0)) is None
    assert not vwap.ready
    assert vwap.update(*bar_at(1, 20.0, 50.0)) == 20.0
    assert vwap.ready
    # A new session starts without volume: no value again, until it trades.
    assert vwap.update(*bar_at(24, 30.0, 0.0)) is None
    assert (vwap.value, vwap.ready, vwap.count) == (None, False, 3)
    assert vwap.update(*bar_at(25, 40.0, 10.0)) == 40.0


def test_vwap_rejects_a_bar_from_an_earlier_day_and_keeps_its_state() -> None:
    vwap = VWAP()
    vwap.update(*bar_at(30, 10.0, 100.0))
    before = (vwap.value, vwap.count)
    with pytest.raises(DataError, match="earlier UTC day"):
        vwap.update(*bar_at(23, 50.0, 100.0))
    assert (vwap.value, vwap.count) == before
    # Earlier in the same day is not a new session: accepted.
    assert vwap.update(*bar_at(25, 30.0, 100.0)) == 20.0
