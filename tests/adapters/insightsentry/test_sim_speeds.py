"""Every bar of the simulated server reaches a recording, at every speed (issue 18).

Each case serves the real simulated server on 127.0.0.1 port 0, records from it with the live
client exactly as `tradewire record` does, then runs `tradewire inspect` on the file. The run
is in virtual time (trio's MockClock with autojump), so a speed of 3600 simulates hours in a
blink and a busy machine cannot change what is delivered: the clock only jumps when every task
is waiting, that is, once every frame sent so far has been received and journalled.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
import trio
from trio.testing import MockClock

from framework import BarUpdate, Engine
from framework.adapters.insightsentry import InsightSentryFeed, RecordingFeed, Subscription
from framework.adapters.insightsentry._session import paper_trade
from framework.adapters.insightsentry.sim import DEFAULT_API_KEY, SimConfig, open_simulated_server
from framework.cli import main
from framework.feeds import EventBatch
from framework.recording import Durability

MINUTE_NS = 60 * 1_000_000_000
SERIES = "NASDAQ:AAPL@1m"


#: Real seconds of quiet before the clock jumps while a journal file is opened or closed: those
#: run in a worker thread, and the loop waiting for a thread looks idle to an autojump clock.
THREAD_QUIET = 0.05


async def _record(config: SimConfig, path: Path, seconds: float, clock: MockClock) -> None:
    """Record ``seconds`` of virtual time from a fresh simulated server into ``path``, as
    `tradewire record --duration SECONDS` does."""

    async def stop_after(engine: Engine) -> None:
        await trio.sleep(seconds)
        clock.autojump_threshold = THREAD_QUIET
        engine.stop()

    # Virtual seconds: a deadlock jumps the clock straight here instead of hanging.
    with trio.fail_after(seconds + 60):
        async with open_simulated_server(config) as server, trio.open_nursery() as nursery:

            def attach(engine: Engine, _feed: InsightSentryFeed) -> None:
                # The journal is open: from here on no thread runs until the stop.
                clock.autojump_threshold = 0
                nursery.start_soon(stop_after, engine)

            await paper_trade(
                [],
                [Subscription.parse_cli("series", SERIES)],
                api_key=DEFAULT_API_KEY,
                url=server.url,
                record=path,
                durability=Durability.PROCESS,
                on_engine=attach,
            )


async def _bars_in_progress(path: Path) -> list[int]:
    """Open times of the in-progress bars the recording saw, in order."""
    opens: list[int] = []
    send, receive = trio.open_memory_channel[EventBatch](4)
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            await nursery.start(RecordingFeed(path, updates=True).run, send)
            async with receive:
                async for batch in receive:
                    opens.extend(e.ts_open for e in batch if isinstance(e, BarUpdate))
    return opens


@pytest.mark.parametrize(
    ("speed", "seconds"),
    [
        (1.0, 200.1),  # 3 minutes
        (7.0, 60.1),  # 7 minutes, a trade every 1.75 s: minutes end between trades
        (60.0, 30.1),  # 30 minutes, four trades a minute
        (300.0, 12.1),  # 60 minutes, a trade every 75 s: one minute in five has no trade
        (3600.0, 4.1),  # 240 minutes, a trade every 15 minutes
    ],
)
def test_every_minute_bar_is_delivered_without_a_gap(
    speed: float, seconds: float, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sim.twrec"
    config = SimConfig(speed=speed)  # what `tradewire serve-sim --speed` serves
    clock = MockClock(autojump_threshold=THREAD_QUIET)
    trio.run(functools.partial(_record, config, path, seconds, clock), clock=clock)
    in_progress = trio.run(_bars_in_progress, path)

    assert main(["inspect", str(path)]) == 0
    report = capsys.readouterr().out
    found = re.search(rf"bars       {SERIES}: ([\d,]+) final \(0 backfilled\), (\d+) gap", report)
    assert found is not None, report
    final, gaps = int(found[1].replace(",", "")), int(found[2])
    # Minutes simulated: from the first bar the client saw to the one still in progress when it
    # stopped. Every one of them is a final bar, and none is missing.
    minutes = (max(in_progress) - min(in_progress)) // MINUTE_NS
    assert (final, gaps) == (minutes, 0), report
    assert "no bar between" not in report and "integrity  intact" in report
    # The market moves in whole trade steps (15 simulated minutes each at speed 3600).
    assert minutes >= (speed * seconds - config.trade_step_ns / 1e9) // 60 - 1
