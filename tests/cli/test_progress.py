import io
from pathlib import Path

import pytest
import trio
from rich.console import Console

from framework.cli import main
from framework.cli._progress import ProgressSample, sample_feeds, show_progress, wants_progress
from framework.feeds import BarFileFeed

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "data" / "AAPL.csv"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal_and_not_when_quiet(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    assert wants_progress(False, Terminal())
    assert not wants_progress(True, Terminal())
    assert not wants_progress(False, io.StringIO())


@pytest.mark.parametrize("term", ["dumb", "unknown", "DUMB"])
def test_no_progress_on_a_terminal_that_cannot_redraw(monkeypatch, term):
    monkeypatch.setenv("TERM", term)
    assert not wants_progress(False, Terminal())


async def test_bar_shows_events_percent_rate_and_eta(autojump_clock, monkeypatch):
    # A terminal that can draw, whatever the one running the suite is (rich reads TERM).
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, color_system=None)
    done = 0

    def sample() -> ProgressSample:
        nonlocal done
        done = min(done + 100, 1_000)
        return ProgressSample(events=done * 3, done=done, total=1_000)

    with trio.move_on_after(1.0):
        await show_progress(sample, description="backtest", console=console, refresh_s=0.2)
    text = out.getvalue()
    assert "backtest" in text and "%" in text and "events" in text and "ETA" in text
    assert "1,500 events" in text  # the fifth sample: 500 of 1,000 done


async def test_bar_file_feed_reports_bytes_read_until_the_end():
    feed = BarFileFeed(SAMPLE)
    assert feed.progress() == (0, 0)
    sample = sample_feeds([feed])
    seen = []
    send, receive = trio.open_memory_channel(0)
    async with trio.open_nursery() as nursery:
        await nursery.start(feed.run, send)
        async with receive:
            async for _batch in receive:
                seen.append(sample())
    size = SAMPLE.stat().st_size
    assert seen[0].total == size and 0 < seen[0].done < size
    assert [s.done for s in seen] == sorted(s.done for s in seen)
    assert feed.progress() == (size, size)
    assert sample().events == 10_000


def test_no_progress_output_when_stderr_is_not_a_terminal(capsys):
    assert main(["backtest", "sma_cross", "--data", str(SAMPLE)]) == 0
    err = capsys.readouterr().err
    assert err.splitlines()[0].startswith("elapsed")
    assert len(err.splitlines()) == 1
