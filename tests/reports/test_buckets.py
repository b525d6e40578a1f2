"""Time buckets: long runs drawn in a bounded number of slots, keeping what a reader must see
(every candle's extremes, the last value of a line, the deepest drawdown)."""

import itertools
import math
import random
from collections import defaultdict

import pytest

from framework.reports._buckets import (
    WIDTHS_S,
    CandleBuckets,
    bucket_spans,
    drawdowns,
    grid,
    last_by_bucket,
    min_by_bucket,
    wider_than,
    width_label,
)
from framework.reports._model import monthly_returns

NS = 1_000_000_000
T0 = 1_704_205_800  # 2024-01-02T14:30:00Z


def random_bars(n, *, seed=1, step_s=60):
    rng = random.Random(seed)
    price, rows = 100.0, []
    for i in range(n):
        o = price
        c = o * (1 + rng.gauss(0, 0.01))
        h, lo = max(o, c) * (1 + rng.random() / 100), min(o, c) * (1 - rng.random() / 100)
        rows.append(((T0 + i * step_s) * NS, o, h, lo, c, float(rng.randint(1, 100))))
        price = c
    return rows


def candles_by_hand(rows, width_s):
    """Bucket number → (open, high, low, close, volume), from every bar in the bucket."""
    groups = defaultdict(list)
    for row in rows:
        groups[row[0] // (width_s * NS)].append(row)
    return {
        key: (
            group[0][1],
            max(r[2] for r in group),
            min(r[3] for r in group),
            group[-1][4],
            sum(r[5] for r in group),
        )
        for key, group in groups.items()
    }


def test_every_width_divides_the_next():
    assert WIDTHS_S[0] == 1
    assert all(b % a == 0 for a, b in itertools.pairwise(WIDTHS_S))
    assert [width_label(w) for w in (1, 900, 3600, 86_400, 172_800)] == [
        "1 s",
        "15 min",
        "1 h",
        "1 day",
        "2 days",
    ]


def test_candles_keep_each_buckets_first_open_extremes_last_close_and_volume():
    rows = random_bars(5_000)
    candles = CandleBuckets(limit=100)
    for row in rows:
        candles.add(*row)
    assert candles.bars == 5_000
    assert len(candles.keys) <= 2 * 100  # bounded while streaming
    expected = candles_by_hand(rows, candles.width_s)
    got = {
        key: (o, h, lo, c, v)
        for key, o, h, lo, c, v in zip(
            candles.keys,
            candles.opens,
            candles.highs,
            candles.lows,
            candles.closes,
            candles.volumes,
            strict=True,
        )
    }
    assert got == expected
    assert max(candles.highs) == max(r[2] for r in rows)
    assert min(candles.lows) == min(r[3] for r in rows)


def test_widening_later_equals_bucketing_at_that_width_from_the_start():
    rows = random_bars(3_000, seed=2)
    streamed = CandleBuckets(limit=50)
    for row in rows:
        streamed.add(*row)
    streamed.widen(86_400)
    direct = CandleBuckets(limit=10_000, width_s=86_400)
    for row in rows:
        direct.add(*row)
    assert streamed.keys == direct.keys
    assert streamed.highs == direct.highs and streamed.lows == direct.lows
    assert streamed.volumes == pytest.approx(direct.volumes)
    with pytest.raises(ValueError, match="cannot widen"):
        streamed.widen(100_000)


def test_the_grid_holds_every_sources_times_in_at_most_limit_slots():
    rng = random.Random(3)
    a = sorted(rng.randrange(T0, T0 + 10**7) * NS for _ in range(30_000))
    b = sorted(rng.randrange(T0 - 10**6, T0 + 10**6) * NS for _ in range(2_000))
    for limit in (10, 500, 20_000):
        width, slots = grid(1, [a, b], limit)
        assert len(slots) <= limit
        assert slots == sorted({t // (width * NS) for t in [*a, *b]})
        narrower = [w for w in WIDTHS_S if w < width]
        if narrower:  # the narrowest width that fits
            assert len({t // (narrower[-1] * NS) for t in [*a, *b]}) > limit


def test_a_short_run_keeps_its_own_times():
    times = [(T0 + 60 * i) * NS for i in range(1_000)]
    width, slots = grid(1, [times], 20_000)
    assert width == 1 and [s * NS for s in slots] == times


def test_wider_than_picks_the_narrowest_width_that_fits():
    keys = list(range(0, 100_000, 7))  # seconds
    width = wider_than(1, keys, 1_000)
    assert len({k // width for k in keys}) <= 1_000
    smaller = [w for w in WIDTHS_S if 1 < w < width]
    assert all(len({k // w for k in keys}) > 1_000 for w in smaller)


def test_spans_last_and_min_by_bucket_agree_with_a_loop_over_every_sample():
    rng = random.Random(4)
    ts = sorted(rng.randrange(0, 10**6) * NS for _ in range(5_000))
    values = [rng.gauss(0, 1) if rng.random() > 0.1 else math.nan for _ in ts]
    for width in (1, 60, 3600):
        spans = bucket_spans(ts, width)
        assert [i for _, start, end in spans for i in range(start, end)] == list(range(len(ts)))
        last = {}
        for t, v in zip(ts, values, strict=True):
            if not math.isnan(v):
                last[t // (width * NS)] = v
        assert last_by_bucket(ts, values, width) == last
        finite = [0.0 if math.isnan(v) else v for v in values]
        lowest = {}
        for t, v in zip(ts, finite, strict=True):
            key = t // (width * NS)
            lowest[key] = min(lowest.get(key, v), v)
        assert min_by_bucket(ts, finite, width) == lowest


def test_drawdown_is_the_fall_from_the_running_peak_starting_at_the_start_cash():
    assert drawdowns([100.0, 90.0, 120.0, 60.0], 110.0) == pytest.approx(
        [100 / 110 - 1, 90 / 110 - 1, 0.0, -0.5]
    )


def test_monthly_returns_chain_each_months_last_equity():
    day = 86_400 * NS
    jan = 1_704_067_200 * NS  # 2024-01-01
    times = [jan + 5 * day, jan + 20 * day, jan + 40 * day, jan + 100 * day]
    values = [101.0, 110.0, 99.0, 121.0]
    assert monthly_returns(times, values, 100.0) == pytest.approx(
        {(2024, 1): 0.10, (2024, 2): 99 / 110 - 1, (2024, 4): 121 / 99 - 1}
    )
    assert monthly_returns([], [], 100.0) == {}
    assert monthly_returns(times[:1], [5.0], 0.0) == {(2024, 1): None}
