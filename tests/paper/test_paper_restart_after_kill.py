"""A paper session killed with SIGKILL and restarted trades as if it had never stopped.

The server re-sends its recent bars to every new connection, so the restarted session is
offered bars it had already delivered (and traded on) before the kill. The journal remembers
the last bar delivered per series and the strategy's saved state: the restarted session skips
those bars, restores the state, and its fills continue exactly those of an uninterrupted run,
here a backtest over the same market bars (taken from the two sessions' recordings, which
hold everything the server sent).
"""

import itertools
import os
import signal
import subprocess
import sys
from pathlib import Path

import trio

from framework import Bar, RecordingError, Strategy, backtest
from framework.adapters.insightsentry.sim import DEFAULT_API_KEY, SimConfig, open_simulated_server
from framework.execution import read_paper_journal

REPO = Path(__file__).resolve().parents[2]
STRATEGY = f"{Path(__file__).with_name('restartable.py')}:FlipEverySeventhBar"
MINUTE = 60_000_000_000


def _journalled_fills(book: Path) -> int:
    try:
        return len(read_paper_journal(book).fills)
    except (OSError, RecordingError):
        return 0  # not written yet


def _paper_args(url: str, book: Path, record: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "framework", "paper", STRATEGY,
        "--series", "NASDAQ:AAPL", "--bars", "300", "--url", url,
        "--journal", str(book), "--record", str(record), "--durability", "process", "-q",
        *extra,
    ]  # fmt: skip


class _Bars(Strategy):
    def on_start(self) -> None:
        self.bars: list[Bar] = []

    def on_bar(self, bar: Bar) -> None:
        self.bars.append(bar)


def _market_bars(*recordings: Path) -> list[Bar]:
    """Every final bar the server sent in these recordings, once each, in time order."""
    by_open: dict[int, Bar] = {}
    for path in recordings:
        collector = _Bars()
        backtest(collector, [path])
        for bar in collector.bars:
            seen = by_open.setdefault(bar.ts_open, bar)
            assert (seen.open, seen.high, seen.low, seen.close) == (
                bar.open, bar.high, bar.low, bar.close,
            ), "the server sent two versions of one bar"  # fmt: skip
    return [by_open[ts] for ts in sorted(by_open)]


async def _kill_and_restart(tmp_path: Path, book: Path, first_rec: Path, second_rec: Path):
    """Run a paper session until its journal holds 3 fills, SIGKILL it, restart it on the
    same journal for 4 s; returns the book as it was after the kill."""
    env = dict(os.environ, PYTHONPATH=str(REPO), INSIGHTSENTRY_API_KEY=DEFAULT_API_KEY)
    env["TERM"] = "dumb"
    config = SimConfig(seed=11, speed=600.0, trade_interval=0.01, heartbeat_interval=0.2)
    with trio.fail_after(120):
        async with open_simulated_server(config) as server:
            with (tmp_path / "first.err").open("wb") as errors:
                first = await trio.lowlevel.open_process(
                    _paper_args(server.url, book, first_rec),
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=errors,
                )
                try:
                    while _journalled_fills(book) < 3:
                        assert first.poll() is None, (tmp_path / "first.err").read_text()
                        await trio.sleep(0.02)
                    first.send_signal(signal.SIGKILL)
                finally:
                    first.kill()
                    await first.wait()
            assert first.returncode == -signal.SIGKILL
            before = read_paper_journal(book)
            second = await trio.run_process(
                _paper_args(server.url, book, second_rec, "--duration", "4"),
                env=env,
                capture_stdout=True,
                capture_stderr=True,
                check=False,
            )
            assert second.returncode == 0, second.stderr.decode(errors="replace")
    return before


def test_sigkilled_session_resumes_book_and_state_and_trades_as_if_uninterrupted(tmp_path):
    book = tmp_path / "book.twrec"
    first_rec, second_rec = tmp_path / "first.twrec", tmp_path / "second.twrec"
    before = trio.run(_kill_and_restart, tmp_path, book, first_rec, second_rec)
    after = read_paper_journal(book)
    assert after.fills[: len(before.fills)] == before.fills
    assert len(after.fills) >= len(before.fills) + 3, "the restarted session traded on"
    # Bars the first session delivered were offered again, and skipped.
    assert before.delivered and after.states["FlipEverySeventhBar"]["seen"] > 0

    bars = _market_bars(first_rec, second_rec)
    opens = [bar.ts_open for bar in bars]
    assert all(b - a == MINUTE for a, b in itertools.pairwise(opens)), (
        "a bar is missing: the downtime outlasted the server's burst"
    )
    assert min(opens) <= min(ts for ts in before.delivered.values())
    csv = tmp_path / "market.csv"
    csv.write_text(
        "time,open,high,low,close,volume\n"
        + "".join(
            f"{b.ts_open // 1_000_000_000},{b.open!r},{b.high!r},{b.low!r},{b.close!r},"
            f"{b.volume!r}\n"
            for b in bars
        )
    )
    from tests.paper.restartable import FlipEverySeventhBar

    uninterrupted = backtest(FlipEverySeventhBar(), csv)
    restarted = [(f.side, f.qty, f.price) for f in after.fills]
    assert restarted == [(f.side, f.qty, f.price) for f in uninterrupted.fills]
