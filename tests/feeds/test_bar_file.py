import tracemalloc

import pytest
import trio
from factories import collect, write_csv

from framework import Bar, BarFileError, BarFileFeed, ListFeed, Strategy, backtest
from framework.feeds import REPLAY_BATCH_SIZE


async def test_reads_unix_and_iso_times_and_detects_the_bar_size(tmp_path):
    path = write_csv(
        str(tmp_path / "AAPL.csv"),
        [
            "1704205800,10,11,9,10.5,100",
            "2024-01-02T09:31:00-05:00,10.5,11,10,10.8,200",
            "1704205920.0,10.8,11,10.1,10.9,300",
        ],
    )
    bars = await collect(BarFileFeed(path))
    assert [b.symbol for b in bars] == ["AAPL"] * 3
    assert [b.interval for b in bars] == ["1m"] * 3
    assert bars[1].ts_open == 1_704_205_860 * 10**9
    assert bars[0].ts_event == bars[0].ts_open + 60 * 10**9
    assert (bars[2].open, bars[2].close, bars[2].volume) == (10.8, 10.9, 300.0)


async def test_symbol_column_and_column_order(tmp_path):
    path = write_csv(
        str(tmp_path / "many.csv"),
        [
            "A,1704205800,1,1,1,1,1",
            "B,1704205800,2,2,2,2,2",
            "A,1704205860,1,1,1,1,1",
        ],
        header="symbol,time,open,high,low,close,volume",
    )
    bars = await collect(BarFileFeed(path, interval="1m"))
    assert [(b.symbol, b.close) for b in bars] == [("A", 1.0), ("B", 2.0), ("A", 1.0)]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("1704205860,abc,11,9,10,1", "unparsable number"),
        ("1704205860,nan,11,9,10,1", "NaN or infinite"),
        ("1704205860,10,9,11,10,1", "inconsistent OHLC"),
        ("1704205860,-10,11,9,10,1", "open must be a finite positive price"),
        ("1704205740,10,11,9,10,1", "time goes backwards"),
        ("1704205800,10,11,9,10,1", "second bar for"),
        ("yesterday,10,11,9,10,1", "unparsable time"),
        ("2024-01-02T14:31:00,10,11,9,10,1", "has no zone: name the zone .* with --tz ZONE"),
        ("1704205860,10,11,9", "expected 6 fields, found 4"),
    ],
)
async def test_bad_rows_stop_the_run_with_file_line_and_reason(tmp_path, row, reason):
    path = write_csv(
        str(tmp_path / "bad.csv"), ["1704205800,10,11,9,10,1", row, "1704205920,10,11,9,10,1"]
    )
    with pytest.RaisesGroup(pytest.RaisesExc(BarFileError, match=f"bad.csv:3: .*{reason}")):
        await collect(BarFileFeed(path, interval="1m"))


async def test_skip_bad_rows_counts_and_keeps_going(tmp_path):
    path = write_csv(
        str(tmp_path / "bad.csv"),
        [
            "1704205800,10,11,9,10,1",
            "1704205860,nan,11,9,10,1",
            "1704205860,10,9,11,10,1",
            "1704205920,10,11,9,10,1",
        ],
    )
    feed = BarFileFeed(path, interval="1m", skip_bad_rows=True)
    bars = await collect(feed)
    assert len(bars) == 2
    stats = feed.statistics()
    assert stats.skipped == 2
    assert stats.skipped_by_reason == {"non_finite": 1, "invalid_bar": 1}
    assert stats.examples[0].endswith(
        "bad.csv:3: NaN or infinite value in ['1704205860', 'nan', '11', '9', '10', '1']"
    )


async def test_header_errors(tmp_path):
    path = write_csv(str(tmp_path / "h.csv"), [], header="time,open,high,low,close")
    with pytest.RaisesGroup(pytest.RaisesExc(BarFileError, match="h.csv:1: header lacks volume")):
        await collect(BarFileFeed(path))
    empty = tmp_path / "e.csv"
    empty.write_text("")
    with pytest.RaisesGroup(pytest.RaisesExc(BarFileError, match="e.csv:1: empty file")):
        await collect(BarFileFeed(empty))


def test_files_are_merged_in_time_order(tmp_path):
    a = write_csv(str(tmp_path / "A.csv"), [f"{1704205800 + 120 * i},1,1,1,1,1" for i in range(5)])
    b = write_csv(str(tmp_path / "B.csv"), [f"{1704205860 + 120 * i},1,1,1,1,1" for i in range(5)])

    class Seen(Strategy):
        def on_start(self) -> None:
            self.order: list[str] = []

        def on_bar(self, bar: Bar) -> None:
            self.order.append(bar.symbol)

    s = Seen()
    backtest(s, [a, b], interval="1m")
    assert s.order == ["A", "B"] * 5


def _write_walk(path, rows: int) -> None:
    with open(path, "w") as out:
        out.write("time,open,high,low,close,volume\n")
        for i in range(rows):
            out.write(f"{1704205800 + 60 * i},10,11,9,10,1\n")


async def test_memory_does_not_grow_with_file_length(tmp_path):
    small, large = tmp_path / "S.csv", tmp_path / "L.csv"
    _write_walk(small, 5 * REPLAY_BATCH_SIZE)
    _write_walk(large, 50 * REPLAY_BATCH_SIZE)

    async def peak(path) -> int:
        feed = BarFileFeed(path)
        send, receive = trio.open_memory_channel(2)
        tracemalloc.start()
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(feed.run, send)
                async with receive:
                    async for _ in receive:
                        pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small_peak, large_peak = await peak(small), await peak(large)
    # Ten times the rows must not need more than a small constant extra memory.
    assert large_peak < small_peak * 1.5 + 256 * 1024


def test_list_feed_is_a_replay_feed():
    assert ListFeed([]).is_live is False
