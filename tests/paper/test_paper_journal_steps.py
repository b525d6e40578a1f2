"""The paper journal following a live engine: one record per step with the bars delivered and
the strategies' saved states; a restart skips what was delivered and restores the states."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import orjson
import pytest
import trio
from factories import bar

from framework import Engine, EngineError, ListFeed, Strategy, run
from framework._failure import run_sync
from framework.execution import PaperJournal, PaperJournalError, SimulatedBroker, read_paper_journal
from framework.portfolio import Portfolio
from framework.recording import RecordingWriter, RecordKind, read_recording

V1_JOURNAL = Path(__file__).parents[1] / "recording" / "data" / "v1-paper-journal.twrec"
CLOSES = [100, 101, 102, 104, 103.5, 99, 98, 100, 101, 104, 106, 102, 101, 97, 96, 99, 103, 105]
BARS = [bar(i, c, high=c + 0.5, low=c - 0.5) for i, c in enumerate(CLOSES)]


class LiveBatches:
    """A live feed that sends the given batches as they are (a server's frames, in effect)."""

    is_live = True
    name = "live-batches"

    def __init__(self, batches: list[list[Any]]) -> None:
        self.batches = batches

    async def run(self, send, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        async with send:
            task_status.started()
            for batch in self.batches:
                await send.send(list(batch))


class EveryThird(Strategy):
    """Acts on every third bar it sees, with no guard against seeing one twice."""

    def on_start(self) -> None:
        self.seen = 0
        self.opens: list[int] = []
        self.loaded: dict[str, Any] | None = None

    def on_bar(self, bar) -> None:
        self.seen += 1
        self.opens.append(bar.ts_open)
        if self.seen % 3 == 0:
            if self.position(bar.symbol).qty:
                self.close(bar.symbol)
            else:
                self.buy(bar.symbol, 5)

    def on_save(self) -> dict[str, Any]:
        return {"seen": self.seen}

    def on_load(self, state: dict[str, Any]) -> None:
        self.loaded = state
        self.seen = state["seen"]


def session(path: Path, batches: list[list[Any]], strategy: Strategy) -> Engine:
    """One paper session on ``batches``, journalled in ``path`` (resumed if it exists)."""
    broker = SimulatedBroker(Portfolio(100_000.0))
    with PaperJournal.open(path) as journal:
        journal.restore(broker)
        journal.attach(broker)
        engine = Engine(feeds=[LiveBatches(batches)], strategies=[strategy], broker=broker)
        journal.follow(engine)
        run_sync(engine.run)
        journal.commit()
    return engine


def test_a_step_is_one_record_with_its_transactions_bars_and_changed_state(tmp_path):
    path = tmp_path / "book.twrec"
    session(path, [[b] for b in BARS[:6]], EveryThird())
    records = [orjson.loads(r.payload) for r in read_recording(path)]
    assert records[0]["type"] == "start"
    started, *steps = records[1:]
    assert started == {"type": "step", "ts": 0, "tx": [], "state": {"EveryThird": {"seen": 0}}}
    assert [r["type"] for r in steps] == ["step"] * 6
    assert [r["bars"] for r in steps] == [[["AAPL", "1m", b.ts_open]] for b in BARS[:6]]
    assert [r["state"] for r in steps] == [{"EveryThird": {"seen": n}} for n in range(1, 7)]
    # The buy on the third bar is journalled with that bar's step; it fills on the next one.
    assert [len(r["tx"]) for r in steps] == [0, 0, 1, 1, 0, 1]
    book = read_paper_journal(path)
    assert book.delivered == {("AAPL", "1m"): BARS[5].ts_open}
    assert book.states == {"EveryThird": {"seen": 6}}
    assert book.market_ts == BARS[5].ts_event


def test_a_restart_skips_delivered_bars_restores_state_and_trades_as_if_uninterrupted(tmp_path):
    whole = EveryThird()
    run(whole, ListFeed(BARS))

    path = tmp_path / "book.twrec"
    session(path, [[b] for b in BARS[:8]], EveryThird())
    again = EveryThird()
    # The server's reconnect burst re-sends the last five bars before the new ones.
    engine = session(path, [BARS[3:8], *([b] for b in BARS[8:])], again)

    assert again.loaded == {"seen": 8}
    assert again.opens == [b.ts_open for b in BARS[8:]]
    assert engine.skipped_on_resume == 5
    assert read_paper_journal(path).fills == tuple(whole.portfolio.fills)
    assert len(whole.portfolio.fills) >= 4


def test_nothing_fills_against_a_bar_the_journal_had_already_reached(tmp_path):
    """A journal of the first version has no bars per series: its last market time guards."""
    path = tmp_path / "book.twrec"
    session(path, [[b] for b in BARS[:8]], EveryThird())
    book = read_paper_journal(path)
    assert book.open_orders == [] and book.fills
    engine = Engine(feeds=[LiveBatches([])], strategies=[EveryThird()])
    engine.resume_after({}, BARS[7].ts_event)
    kept = engine._already_delivered([BARS[6], BARS[7], BARS[8]])
    assert kept == [BARS[8]]


def test_a_first_version_journal_resumes_with_its_last_market_time(tmp_path):
    path = tmp_path / "old.twrec"
    path.write_bytes(V1_JOURNAL.read_bytes())
    book = read_paper_journal(path)
    assert book.fills and book.delivered == {} and book.states == {}
    assert book.market_ts is not None and book.market_ts >= max(f.ts_event for f in book.fills)
    broker = SimulatedBroker(Portfolio(1.0))
    with PaperJournal.open(path) as journal:
        journal.restore(broker)
        journal.attach(broker)
        engine = Engine(feeds=[LiveBatches([])], strategies=[EveryThird()], broker=broker)
        journal.follow(engine)
        assert engine._resume_ts == book.market_ts


def test_a_journal_from_a_newer_tradewire_is_refused_clearly(tmp_path):
    path = tmp_path / "new.twrec"
    meta = {"kind": "tradewire-paper-journal", "version": 9}
    with RecordingWriter.open(path, meta=meta) as writer:
        writer.append(RecordKind.ORDER, orjson.dumps({"type": "start", "cash": 1.0}), 1, 1)
    with pytest.raises(PaperJournalError, match="written by a newer tradewire"):
        read_paper_journal(path)


def test_a_state_json_cannot_hold_is_a_clear_error_naming_the_strategy(tmp_path):
    class Unsaveable(EveryThird):
        def on_save(self) -> dict[str, Any]:
            return {"when": object()}

    with pytest.raises(PaperJournalError, match=r"Unsaveable.on_save\(\) .*JSON"):
        session(tmp_path / "book.twrec", [[b] for b in BARS[:2]], Unsaveable())


def test_a_step_cut_short_by_a_failure_is_not_journalled(tmp_path, caplog):
    class FailsAfterOrdering(EveryThird):
        def on_bar(self, bar) -> None:
            super().on_bar(bar)
            if self.seen == 3:
                raise KeyError("the user's own bug")

    path = tmp_path / "book.twrec"
    caplog.set_level(logging.WARNING)
    with pytest.raises(KeyError, match="the user's own bug"):
        session(path, [[b] for b in BARS[:5]], FailsAfterOrdering())
    assert "not journalled" in caplog.text
    book = read_paper_journal(path)
    assert book.orders == () and book.delivered == {("AAPL", "1m"): BARS[1].ts_open}


def test_follow_is_for_the_live_engine_of_the_attached_broker(tmp_path):
    broker = SimulatedBroker(Portfolio(100.0))
    with PaperJournal.open(tmp_path / "book.twrec") as journal:
        journal.attach(broker)
        replay = Engine(feeds=[ListFeed(BARS)], broker=broker)
        with pytest.raises(EngineError, match="live"):
            journal.follow(replay)
        other = Engine(feeds=[LiveBatches([])])
        with pytest.raises(PaperJournalError, match="attached broker"):
            journal.follow(other)
