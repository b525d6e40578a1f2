"""Every indicator against TA-Lib (pandas for VWAP) on real bars, value by value.

TA-Lib (a test dependency, in the ``test`` extra) is the reference. The bars are the price files
backtesting.py ships for its own tests, vendored in ``tests/execution/data/``: GOOG.csv (daily,
2004-2013) and EURUSD.csv (hourly, 2017-2018).

Where the conventions agree, every value after warm-up is compared, and so is the warm-up
itself: ours is None exactly where TA-Lib's output is NaN. Where they differ (docs/indicators.md),
the difference is predicted from the inputs and checked to the same tolerance:

- ATR (and the bands of KeltnerChannels): ours counts the first bar's ``high - low`` and starts
  one bar earlier; afterwards the two follow the same recurrence, so they differ by
  ``(TR_0 - ATR_{p-1}) / p * (1 - 1/p)**(t - p)``.
- MACD: TA-Lib seeds the fast EMA at the slow EMA's first bar; the line differs by
  ``D_0 * (1 - 2/(fast + 1))**k`` and the signal by the EMA of that sequence.
- OBV: TA-Lib starts at the first bar's volume, ours at 0.
- ADX, +DI, -DI: TA-Lib seeds Wilder's averages differently. The difference is not linear in
  the inputs, so a textbook loop computes both seeds: ours must match Wilder's and TA-Lib's
  output its own at every bar; after the horizon where the seed has decayed below 1e-12 the
  two agree as they stand.
"""

from __future__ import annotations

import csv
import datetime
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import talib

from framework.indicators import (
    ADX,
    ATR,
    EMA,
    MACD,
    OBV,
    ROC,
    RSI,
    SMA,
    VWAP,
    WMA,
    BollingerBands,
    DonchianChannels,
    KeltnerChannels,
    Stochastic,
)

DATA = Path(__file__).parents[1] / "execution" / "data"
#: Relative tolerance for every comparison. Near zero (a MACD histogram, a rate of change) only an
#: absolute one means anything: 1e-12 of the file's highest price for outputs in price units
#: (``Bars.atol``), and this for the 0-100 oscillators. Measured differences are far smaller:
#: a few ulps, up to 3e-11 on GOOG's Bollinger bands, where TA-Lib's one-pass variance cancels.
REL = 1e-9
OSCILLATOR_ATOL = 1e-10
Array = np.ndarray[Any, np.dtype[np.float64]]


class Bars:
    """One price file as float arrays, with each bar's open time in UTC nanoseconds."""

    def __init__(self, name: str, fmt: str) -> None:
        with (DATA / f"{name}.csv").open(newline="") as handle:
            rows = list(csv.reader(handle))[1:]
        self.name = name
        self.ts_open = [
            int(datetime.datetime.strptime(r[0], fmt).replace(tzinfo=datetime.UTC).timestamp())
            * 1_000_000_000
            for r in rows
        ]
        columns = np.array([[float(x) for x in r[1:]] for r in rows]).T
        self.open, self.high, self.low, self.close, self.volume = columns
        #: Absolute tolerance for outputs in price units.
        self.atol = 1e-12 * float(np.max(self.high))


@pytest.fixture(scope="module", params=[("GOOG", "%Y-%m-%d"), ("EURUSD", "%Y-%m-%d %H:%M:%S")])
def bars(request: pytest.FixtureRequest) -> Bars:
    name, fmt = request.param
    return Bars(name, fmt)


def run(indicator: Any, inputs: Iterable[tuple[Any, ...]], *outputs: str) -> list[Array]:
    """Feed every bar; collect each named output per bar, NaN where it is None."""
    series: list[list[float]] = [[] for _ in outputs]
    for row in inputs:
        indicator.update(*row)
        for column, name in zip(series, outputs, strict=True):
            value = getattr(indicator, name)
            column.append(math.nan if value is None else value)
    return [np.array(column) for column in series]


def assert_same_series(ours: Array, reference: Array, *, atol: float) -> None:
    """Both warm up together (NaN at the same bars) and agree everywhere after."""
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(reference), err_msg="warm-up differs")
    defined = ~np.isnan(reference)
    assert defined.any()
    np.testing.assert_allclose(ours[defined], reference[defined], rtol=REL, atol=atol)


def geometric(start: int, first: float, ratio: float, length: int) -> Array:
    """``first * ratio**(t - start)`` from bar ``start`` on, NaN before."""
    out = np.full(length, math.nan)
    steps = np.arange(length - start, dtype=float)
    out[start:] = first * ratio**steps
    return out


def convergence_horizon(ratio: float) -> int:
    """Bars after which a difference decaying by ``ratio`` per bar has shrunk by 1e-12."""
    return math.ceil(math.log(1e-12) / math.log(ratio))


def closes(bars: Bars) -> Iterable[tuple[float]]:
    return ((c,) for c in bars.close)


def hlc(bars: Bars) -> Iterable[tuple[float, float, float]]:
    return zip(bars.high, bars.low, bars.close, strict=True)


# -- the same convention: equal after warm-up ------------------------------------------------


@pytest.mark.parametrize("period", [2, 20, 50])
def test_sma_matches_talib(bars: Bars, period: int) -> None:
    (ours,) = run(SMA(period), closes(bars), "value")
    assert_same_series(ours, talib.SMA(bars.close, period), atol=bars.atol)


@pytest.mark.parametrize("period", [1, 12, 26])
def test_ema_matches_talib(bars: Bars, period: int) -> None:
    (ours,) = run(EMA(period), closes(bars), "value")
    assert_same_series(ours, talib.EMA(bars.close, period), atol=bars.atol)


@pytest.mark.parametrize("period", [2, 14])
def test_rsi_matches_talib(bars: Bars, period: int) -> None:
    (ours,) = run(RSI(period), closes(bars), "value")
    assert_same_series(ours, talib.RSI(bars.close, period), atol=OSCILLATOR_ATOL)


@pytest.mark.parametrize(("period", "k"), [(20, 2.0), (5, 1.5)])
def test_bollinger_bands_match_talib(bars: Bars, period: int, k: float) -> None:
    ours = run(BollingerBands(period, k), closes(bars), "upper", "middle", "lower")
    reference = talib.BBANDS(bars.close, period, k, k, 0)
    for mine, theirs in zip(ours, reference, strict=True):
        assert_same_series(mine, theirs, atol=bars.atol)


@pytest.mark.parametrize("period", [1, 10, 30])
def test_wma_matches_talib(bars: Bars, period: int) -> None:
    (ours,) = run(WMA(period), closes(bars), "value")
    assert_same_series(ours, talib.WMA(bars.close, period), atol=bars.atol)


@pytest.mark.parametrize("period", [1, 10, 25])
def test_roc_matches_talib(bars: Bars, period: int) -> None:
    (ours,) = run(ROC(period), closes(bars), "value")
    assert_same_series(ours, talib.ROC(bars.close, period), atol=1e-12)


# TA-Lib refuses a period of 1 for MAX and MIN (and for MACD's EMAs).
@pytest.mark.parametrize("period", [2, 20, 55])
def test_donchian_channels_match_talib_max_and_min(bars: Bars, period: int) -> None:
    upper, middle, lower, width = run(
        DonchianChannels(period),
        zip(bars.high, bars.low, strict=True),
        "upper",
        "middle",
        "lower",
        "width",
    )
    highest = talib.MAX(bars.high, period)
    lowest = talib.MIN(bars.low, period)
    # Exactly: a maximum or a minimum is one of the inputs, with no arithmetic.
    np.testing.assert_array_equal(upper, highest)
    np.testing.assert_array_equal(lower, lowest)
    assert_same_series(middle, (highest + lowest) / 2, atol=0.0)
    assert_same_series(width, highest - lowest, atol=0.0)


@pytest.mark.parametrize(
    ("period", "k_smoothing", "d_smoothing"), [(5, 3, 3), (14, 3, 3), (14, 1, 5)]
)
def test_stochastic_matches_talib_stoch_with_sma_smoothing(
    bars: Bars, period: int, k_smoothing: int, d_smoothing: int
) -> None:
    k, d = run(Stochastic(period, k_smoothing, d_smoothing), hlc(bars), "k", "d")
    ref_k, ref_d = talib.STOCH(
        bars.high, bars.low, bars.close, period, k_smoothing, 0, d_smoothing, 0
    )
    # No window of these files is flat, the one case where the conventions differ.
    assert_same_series(k, ref_k, atol=OSCILLATOR_ATOL)
    assert_same_series(d, ref_d, atol=OSCILLATOR_ATOL)


def test_stochastic_of_a_flat_window_is_50_where_talib_gives_0() -> None:
    flat = np.full(12, 7.0)
    ref_k, ref_d = talib.STOCH(flat, flat, flat, 5, 3, 0, 3, 0)
    k, d = run(Stochastic(5, 3, 3), zip(flat, flat, flat, strict=True), "k", "d")
    assert (ref_k[-1], ref_d[-1]) == (0.0, 0.0)
    assert (k[-1], d[-1]) == (50.0, 50.0)


# -- documented differences, predicted exactly --------------------------------------------------


def atr_difference_from_talib(bars: Bars, period: int) -> tuple[float, Array]:
    """Our first ATR, and the predicted ``ours - talib.ATR`` from bar ``period`` on.

    Ours: the mean of ``TR_0 = high_0 - low_0`` and the next ``period - 1`` true ranges, at bar
    ``period - 1``. TA-Lib's: the mean of ``TR_1 .. TR_period``, at bar ``period``. Both then
    apply ``ATR_t = (ATR_{t-1} * (p - 1) + TR_t) / p``, so the difference at bar ``period`` is
    ``(TR_0 - ours_{p-1}) / p`` and shrinks by ``(p - 1) / p`` per bar.
    """
    true_range = talib.TRANGE(bars.high, bars.low, bars.close)
    first_range = bars.high[0] - bars.low[0]
    first = math.fsum([first_range, *true_range[1:period]]) / period
    difference = geometric(
        period,
        (first_range - first) / period,
        (period - 1) / period,
        len(bars.close),
    )
    return first, difference


@pytest.mark.parametrize("period", [1, 14, 30])
def test_atr_differs_from_talib_by_its_first_bar_seed_exactly(bars: Bars, period: int) -> None:
    (ours,) = run(ATR(period), hlc(bars), "value")
    first, difference = atr_difference_from_talib(bars, period)
    reference = talib.ATR(bars.high, bars.low, bars.close, period)
    assert np.isnan(ours[: period - 1]).all()
    assert ours[period - 1] == pytest.approx(first, rel=REL)
    assert_same_series(ours[period:], reference[period:] + difference[period:], atol=bars.atol)
    # After the horizon the seed no longer shows: the values agree as they stand.
    after = period + convergence_horizon((period - 1) / period) if period > 1 else period
    np.testing.assert_allclose(ours[after:], reference[after:], rtol=REL)


@pytest.mark.parametrize(("period", "k", "atr_period"), [(20, 2.0, 10), (10, 1.5, 14)])
def test_keltner_channels_are_talib_ema_plus_minus_k_talib_atr_with_our_atr_seed(
    bars: Bars, period: int, k: float, atr_period: int
) -> None:
    upper, middle, lower, width = run(
        KeltnerChannels(period, k, atr_period), hlc(bars), "upper", "middle", "lower", "width"
    )
    ema = talib.EMA(bars.close, period)
    first, difference = atr_difference_from_talib(bars, atr_period)
    atr = talib.ATR(bars.high, bars.low, bars.close, atr_period) + difference
    atr[atr_period - 1] = first
    warmup = max(period, atr_period)
    expected_middle = np.where(np.arange(len(ema)) < warmup - 1, math.nan, ema)
    tol = bars.atol
    assert_same_series(middle, expected_middle, atol=tol)
    assert_same_series(upper, expected_middle + k * atr, atol=tol)
    assert_same_series(lower, expected_middle - k * atr, atol=tol)
    assert_same_series(width, np.where(np.isnan(expected_middle), math.nan, 2 * k * atr), atol=tol)


def reference_ema_of(values: Array, period: int, start: int) -> Array:
    """EMA of ``values[start:]`` seeded with the mean of its first ``period`` values."""
    alpha = 2 / (period + 1)
    out = np.full(len(values), math.nan)
    seed_at = start + period - 1
    ema = math.fsum(values[start : seed_at + 1]) / period
    out[seed_at] = ema
    for t in range(seed_at + 1, len(values)):
        ema += alpha * (values[t] - ema)
        out[t] = ema
    return out


@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (3, 10, 16), (2, 3, 2)])
def test_macd_differs_from_talib_by_the_fast_ema_seed_exactly(
    bars: Bars, fast: int, slow: int, signal: int
) -> None:
    line, signal_line, histogram = run(
        MACD(fast, slow, signal), closes(bars), "macd", "signal", "histogram"
    )
    ref_line, ref_signal, ref_histogram = talib.MACD(bars.close, fast, slow, signal)
    # Ours: the fast EMA seeded on the first `fast` closes (as talib.EMA). TA-Lib's MACD: seeded
    # at bar `slow - 1` with the mean of the `fast` closes ending there. Same recurrence after.
    start = slow - 1
    seed_gap = talib.EMA(bars.close, fast)[start] - math.fsum(bars.close[slow - fast : slow]) / fast
    line_gap = geometric(start, seed_gap, 1 - 2 / (fast + 1), len(bars.close))
    signal_gap = reference_ema_of(line_gap, signal, start)
    tol = bars.atol
    assert_same_series(line, ref_line + line_gap, atol=tol)
    assert_same_series(signal_line, ref_signal + signal_gap, atol=tol)
    assert_same_series(histogram, ref_histogram + line_gap - signal_gap, atol=tol)
    # The signal EMA passes the gap on at its own rate too: the slower of the two sets the pace.
    slower = max(1 - 2 / (fast + 1), 1 - 2 / (signal + 1))
    after = start + signal - 1 + convergence_horizon(slower)
    for mine, theirs in ((line, ref_line), (signal_line, ref_signal)):
        np.testing.assert_allclose(mine[after:], theirs[after:], rtol=REL, atol=tol)


def reference_adx(bars: Bars, period: int, *, talib_seed: bool) -> tuple[Array, Array, Array]:
    """ADX, +DI and -DI by the textbook loop, with Wilder's seed or TA-Lib's.

    Wilder's first average of TR, +DM and -DM is the mean of their first ``period`` values;
    TA-Lib's is the sum of the first ``period - 1``, scaled by ``(p - 1) / p``, plus the next
    value, divided by ``p``. Both go on with ``avg = (avg * (p - 1) + new) / p``; the ADX is the
    mean of the first ``period`` DX values, then the same recurrence.
    """
    high, low, close = bars.high, bars.low, bars.close
    n = len(close)
    tr = talib.TRANGE(high, low, close)
    up = np.diff(high, prepend=math.nan)
    down = -np.diff(low, prepend=math.nan)
    plus_dm = np.where((up > down) & (up > 0), up, 0.0)
    minus_dm = np.where((down > up) & (down > 0), down, 0.0)
    adx, plus_di, minus_di = (np.full(n, math.nan) for _ in range(3))
    p = period
    averages: list[float] = []
    for values in (tr, plus_dm, minus_dm):
        head = math.fsum(values[1:p])
        averages.append(
            (head * (p - 1) / p + values[p]) / p if talib_seed else (head + values[p]) / p
        )
    dx: list[float] = []
    for t in range(p, n):
        if t > p:
            averages = [
                (avg * (p - 1) + values[t]) / p
                for avg, values in zip(averages, (tr, plus_dm, minus_dm), strict=True)
            ]
        avg_tr, avg_plus, avg_minus = averages
        plus, minus = 100 * avg_plus / avg_tr, 100 * avg_minus / avg_tr
        dx.append(100 * abs(plus - minus) / (plus + minus))
        if len(dx) == p:
            adx[t] = math.fsum(dx) / p
        elif len(dx) > p:
            adx[t] = (adx[t - 1] * (p - 1) + dx[-1]) / p
        if len(dx) >= p:
            plus_di[t], minus_di[t] = plus, minus
    return adx, plus_di, minus_di


@pytest.mark.parametrize("period", [14, 5, 2])
def test_adx_and_directional_indicators_differ_from_talib_only_by_the_seed(
    bars: Bars, period: int
) -> None:
    ours = run(ADX(period), hlc(bars), "adx", "plus_di", "minus_di")
    high, low, close = bars.high, bars.low, bars.close
    theirs = (
        talib.ADX(high, low, close, period),
        talib.PLUS_DI(high, low, close, period),
        talib.MINUS_DI(high, low, close, period),
    )
    wilder = reference_adx(bars, period, talib_seed=False)
    talib_seeded = reference_adx(bars, period, talib_seed=True)
    # Every output appears with the ADX, at the bar TA-Lib's ADX starts (its +DI and -DI start
    # earlier, at bar `period`; compared from the ADX's start on).
    first = 2 * period - 1
    after = first + convergence_horizon((period - 1) / period)
    for mine, reference, wilders, talibs in zip(ours, theirs, wilder, talib_seeded, strict=True):
        assert_same_series(mine, wilders, atol=OSCILLATOR_ATOL)
        np.testing.assert_allclose(
            talibs[first:], reference[first:], rtol=REL, atol=OSCILLATOR_ATOL
        )
        # After the horizon the seed no longer shows: the values agree as they stand.
        np.testing.assert_allclose(mine[after:], reference[after:], rtol=REL, atol=OSCILLATOR_ATOL)
        # Before it, it does (docs/indicators.md): the first values are not TA-Lib's.
        assert not math.isclose(mine[first], reference[first], rel_tol=1e-6)


def test_obv_is_talib_obv_minus_the_first_volume_exactly(bars: Bars) -> None:
    (ours,) = run(OBV(), zip(bars.close, bars.volume, strict=True), "value")
    # Whole-number volumes: every partial sum is exact, on both sides.
    np.testing.assert_array_equal(ours, talib.OBV(bars.close, bars.volume) - bars.volume[0])


# -- VWAP: no TA-Lib function; pandas computes it independently -------------------------------


@pytest.mark.parametrize("anchor", ["day", None])
def test_vwap_matches_a_pandas_computation(bars: Bars, anchor: str | None) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {"high": bars.high, "low": bars.low, "close": bars.close, "volume": bars.volume},
        index=pd.to_datetime(bars.ts_open, unit="ns", utc=True),
    )
    typical = (frame["high"] + frame["low"] + frame["close"]) / 3
    weighted = typical * frame["volume"]
    if anchor == "day":
        day = frame.index.floor("D")
        expected = weighted.groupby(day).cumsum() / frame["volume"].groupby(day).cumsum()
    else:
        expected = weighted.cumsum() / frame["volume"].cumsum()
    inputs = zip(bars.high, bars.low, bars.close, bars.volume, bars.ts_open, strict=True)
    (ours,) = run(VWAP(anchor=anchor), inputs, "value")
    assert_same_series(ours, expected.to_numpy(), atol=bars.atol)
    if anchor == "day" and bars.name == "GOOG":
        # One bar a day: each session's VWAP is that bar's typical price.
        np.testing.assert_allclose(ours, typical.to_numpy(), rtol=1e-15)
