"""The files of a directory merge in the engine's order of feeds, by (final time, file), and a
bar a second file repeats is a duplicate: whatever the files hold, however they are cut into
chunks, staged or not, the feed gives what sorting all bars by (ts_event, file) and keeping the
first of each (symbol, bar size, open time) gives."""

from __future__ import annotations

import contextlib
import itertools
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import trio
from factories import MINUTE, T0, collect
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framework import Bar, BarTableError
from framework._time import iso_from_nanos
from framework.feeds import ArrowFeed, _arrow_feed, _arrow_staging
from framework.feeds._arrow_merge import BarMerge

SYMBOLS = ("A", "B", "C")
STEPS = {"1m": MINUTE, "5m": 5 * MINUTE}


def make_bar(symbol: str, interval: str, minute: int, close: float) -> Bar:
    ts = T0 + minute * MINUTE
    return Bar(
        symbol=symbol,
        interval=interval,
        ts_open=ts,
        open=close,
        high=close,
        low=close,
        close=close,
        volume=1.0,
        ts_event=ts + STEPS[interval],
        ts_recv=ts + STEPS[interval],
    )


def reference(streams: list[list[Bar]]) -> tuple[list[Bar], list[tuple[Bar, int, int]]]:
    """All bars sorted by (ts_event, stream), the first of each (symbol, bar size, open time)
    kept; and the others as (bar, its stream, the stream of the kept one), in that order."""
    tagged = sorted(
        ((bar, index) for index, bars in enumerate(streams) for bar in bars),
        key=lambda pair: pair[0].ts_event,
    )
    first: dict[tuple[str, str, int], int] = {}
    kept: list[Bar] = []
    repeats: list[tuple[Bar, int, int]] = []
    for bar, index in tagged:
        key = (bar.symbol, bar.interval, bar.ts_open)
        if key in first:
            repeats.append((bar, index, first[key]))
        else:
            first[key] = index
            kept.append(bar)
    return kept, repeats


@st.composite
def streams_of_bars(draw: st.DrawFn) -> list[tuple[list[Bar], bool]]:
    """Streams as a reader hands them out: a stream of one symbol with rising times, or of
    several symbols with times that never fall and no symbol twice at a time; each of one bar
    size. Times come from a narrow range, so streams align, interleave and tie."""
    streams = []
    for index in range(draw(st.integers(min_value=1, max_value=6))):
        interval = draw(st.sampled_from(["1m", "1m", "5m"]))
        several = draw(st.booleans())
        minutes = sorted(draw(st.sets(st.integers(min_value=0, max_value=12), max_size=10)))
        bars = []
        if several:
            for minute in minutes:
                held = draw(st.lists(st.sampled_from(SYMBOLS), min_size=1, max_size=3, unique=True))
                bars += [make_bar(s, interval, minute, 10 + index + minute / 100) for s in held]
        else:
            symbol = draw(st.sampled_from(SYMBOLS))
            bars = [make_bar(symbol, interval, m, 10 + index + m / 100) for m in minutes]
        streams.append((bars, several))
    return streams


def cut(draw: st.DrawFn, bars: list[Bar]) -> list[list[Bar]]:
    """``bars`` cut into lists at drawn places, empty lists among them."""
    places = sorted(draw(st.lists(st.integers(min_value=0, max_value=len(bars)), max_size=5)))
    edges = [0, *places, len(bars)]
    return [bars[a:b] for a, b in itertools.pairwise(edges)]


@settings(max_examples=300, deadline=None)
@given(streams=streams_of_bars(), data=st.data())
def test_the_merge_is_the_stable_sort_by_final_time_with_first_bars_kept(streams, data):
    repeats: list[tuple[Bar, int, int]] = []
    merge = BarMerge(
        [iter(cut(data.draw, bars)) for bars, _ in streams],
        several_symbols=[several for _, several in streams],
        repeated=lambda bar, index, other: repeats.append((bar, index, other)),
    )
    runs = list(merge.runs())
    assert all(runs)
    expected, expected_repeats = reference([bars for bars, _ in streams])
    assert [bar for run in runs for bar in run] == expected
    assert [(id(b), i, o) for b, i, o in repeats] == [(id(b), i, o) for b, i, o in expected_repeats]


def test_a_repeat_raised_by_the_callback_ends_the_merge():
    first = [make_bar("A", "1m", m, 10.0) for m in range(3)]
    second = [make_bar("A", "1m", m, 11.0) for m in range(2, 4)]

    def refuse(bar: Bar, index: int, other: int) -> None:
        raise ValueError(f"{bar.ts_open} {index} {other}")

    merge = BarMerge(
        [iter([first]), iter([second])], several_symbols=[False, False], repeated=refuse
    )
    with pytest.raises(ValueError, match=f"{T0 + 2 * MINUTE} 1 0"):
        list(merge.runs())


def test_streams_of_aligned_times_merge_in_few_runs():
    # A hundred files of one symbol each at the same times: a run per round of reads, not a
    # run per bar.
    streams = [[make_bar(f"S{i:02d}", "1m", m, 10.0) for m in range(50)] for i in range(100)]
    merge = BarMerge(
        [iter([bars[:25], bars[25:]]) for bars in streams],
        several_symbols=[False] * 100,
        repeated=lambda *args: pytest.fail("no repeats"),
    )
    runs = list(merge.runs())
    assert len(runs) <= 3
    assert [bar for run in runs for bar in run] == reference(streams)[0]


def test_bars_are_checked_for_repeats_one_by_one_only_in_streams_sharing_a_symbol():
    streams = [[make_bar(s, "1m", m, 10.0) for m in range(20)] for s in ("A", "B", "A", "C")]
    checked: list[int] = []
    original = BarMerge._repeats

    def spy(self: BarMerge, parts: list[tuple[int, list[Bar]]]) -> set[int]:
        checked.extend(index for index, _ in parts)
        return original(self, parts)

    with mock.patch.object(BarMerge, "_repeats", spy):
        merge = BarMerge(
            [iter([bars[:7], bars[7:]]) for bars in streams],
            several_symbols=[False] * 4,
            repeated=lambda *args: None,
        )
        merged = [bar for run in merge.runs() for bar in run]
    assert set(checked) == {0, 2}
    assert merged == reference(streams)[0]
    assert [b.symbol for b in merged[:3]] == ["A", "B", "C"]  # the second A's were repeats


def test_a_stream_of_several_symbols_is_read_on_while_it_may_hold_more_bars_at_a_time():
    # Stream 0 holds A and B at minute 1, cut between them; stream 1's bar at minute 1 must
    # wait for stream 0's B.
    several = [make_bar("A", "1m", 0, 10.0), make_bar("A", "1m", 1, 10.0)]
    rest = [make_bar("B", "1m", 1, 10.0), make_bar("A", "1m", 2, 10.0)]
    other = [make_bar("C", "1m", 1, 11.0)]
    merge = BarMerge(
        [iter([several, [], rest]), iter([other])],
        several_symbols=[True, False],
        repeated=lambda *args: pytest.fail("no repeats"),
    )
    merged = [bar for run in merge.runs() for bar in run]
    assert [(b.symbol, b.ts_open) for b in merged] == [
        ("A", T0),
        ("A", T0 + MINUTE),
        ("B", T0 + MINUTE),
        ("C", T0 + MINUTE),
        ("A", T0 + 2 * MINUTE),
    ]


# -- the feed over a directory ----------------------------------------------------------------


def write_directory(root: Path, streams: list[tuple[list[Bar], bool]]) -> None:
    """Each stream as a Parquet file in path order: a symbol column for several symbols, else
    a ``symbol=`` folder; its bar size from an ``interval=`` folder."""
    for index, (bars, several) in enumerate(streams):
        interval = bars[0].interval
        folder = root / f"f{index:02d}" / f"interval={interval}"
        columns: dict[str, Any] = {
            "time": [b.ts_open // 1_000_000_000 for b in bars],
            "open": [b.open for b in bars],
            "high": [b.high for b in bars],
            "low": [b.low for b in bars],
            "close": [b.close for b in bars],
            "volume": [b.volume for b in bars],
        }
        if several:
            columns["symbol"] = [b.symbol for b in bars]
        else:
            folder = folder / f"symbol={bars[0].symbol}"
        folder.mkdir(parents=True)
        pq.write_table(pa.table(columns), folder / "bars.parquet", row_group_size=4)


def read_directory(root: Path, **options: Any) -> tuple[list[Bar], ArrowFeed]:
    feed = ArrowFeed(root, time_unit="s", **options)
    return trio.run(collect, feed), feed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    streams=streams_of_bars().map(lambda streams: [s for s in streams if s[0]]).filter(bool),
    rows=st.integers(min_value=1, max_value=5),
    staged=st.booleans(),
)
def test_a_directory_reads_as_the_sorted_bars_of_its_files_with_repeats_dropped(
    streams, rows, staged
):
    expected, repeats = reference([bars for bars, _ in streams])
    patches = [
        mock.patch.object(_arrow_feed, "CHUNK_ROWS", rows),
        mock.patch.object(_arrow_feed, "MIN_CHUNK_ROWS", rows),
        mock.patch.object(_arrow_feed, "MERGE_ROWS", rows),
        mock.patch.object(_arrow_staging, "READ_AHEAD_BUDGET", -1 if staged else 1 << 40),
    ]
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        root = Path(folder)
        write_directory(root, streams)
        bars, feed = read_directory(root, skip_bad_rows=True)
        assert bars == expected
        assert feed.statistics().bars == len(expected)
        assert feed.statistics().skipped_by_reason == (
            {"duplicate": len(repeats)} if repeats else {}
        )
        if repeats:
            bar, index, other = repeats[0]
            paths = sorted(str(p) for p in root.rglob("*.parquet"))
            with pytest.RaisesGroup(BarTableError) as caught:
                read_directory(root)
            (error,) = caught.value.exceptions
            assert str(error) == (
                f"{paths[index]}: second bar for {bar.symbol} {bar.interval} at "
                f"{iso_from_nanos(bar.ts_open)}; {paths[other]} holds one too"
            )
