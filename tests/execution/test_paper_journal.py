"""Paper state survives a restart: journal, kill, restore, continue; or a clear refusal."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path
from types import ModuleType

import pytest
from factories import bar
from killing import acknowledged_until_killed

from framework import Engine, ListFeed, RecordingCorrupted, Strategy
from framework.execution import (
    BrokerConfig,
    FillModel,
    PaperJournal,
    PaperJournalError,
    SimulatedBroker,
    read_paper_journal,
)
from framework.portfolio import Portfolio
from framework.recording import Durability, RecordingWriter, RecordKind, read_recording

CHILD = Path(__file__).with_name("paper_journal_child.py")


def _child_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("paper_journal_child", CHILD)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


child = _child_module()


def journalled_session(path: Path, seed: int, steps: int, *, until_open: bool = False):
    """Journal ``steps`` steps of a session (then more until an order is open, if asked)."""
    session = child.Session(seed)
    journal = PaperJournal.open(path)
    journal.attach(session.broker)
    for _ in range(steps):
        session.step()
    while until_open and not session.broker.open_orders():
        session.step()
    journal.close()
    return session


def restored(path: Path, config=child.CONFIG) -> SimulatedBroker:
    broker = SimulatedBroker(Portfolio(1.0), config)  # the journal's cash replaces this
    with PaperJournal.open(path) as journal:
        journal.restore(broker)
    return broker


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_restored_book_equals_the_book_that_was_journalled(tmp_path, seed):
    path = tmp_path / "paper.twrec"
    session = journalled_session(path, seed, 600, until_open=True)
    book = read_paper_journal(path)
    assert book.records > 100 and len(book.fills) > 20 and book.open_orders
    assert child.digest(restored(path)) == child.digest(session.broker)


@pytest.mark.parametrize(
    "config",
    [child.CONFIG, BrokerConfig(latency_ms=45_000, fill_model=FillModel(quote_sizes=True))],
)
def test_a_restarted_session_continues_exactly_like_an_uninterrupted_one(tmp_path, config):
    reference = child.Session(7, child.new_broker(config))
    for _ in range(300):
        reference.step()
    reference.tick_all()
    for _ in range(300):
        reference.step()

    path = tmp_path / "paper.twrec"
    session = child.Session(7, child.new_broker(config))
    journal = PaperJournal.open(path)
    journal.attach(session.broker)
    for _ in range(300):
        session.step()
    journal.close()
    # restart: a new broker from the journal, the same market from here on
    broker = child.new_broker(config)
    journal = PaperJournal.open(path)
    journal.restore(broker)
    journal.attach(broker)
    session.use(broker)
    session.tick_all()
    for _ in range(300):
        session.step()
    journal.close()
    assert child.digest(broker) == child.digest(reference.broker)
    assert child.digest(restored(path, config)) == child.digest(reference.broker)


def _kill_after(path: Path, seed: int, acknowledgements: int) -> int:
    """The last step the child acknowledged before its SIGKILL."""
    return max(
        acknowledged_until_killed([str(CHILD), str(path), str(seed)], acknowledgements), default=0
    )


def test_a_book_journalled_until_sigkill_restores_to_the_last_acknowledged_step(tmp_path):
    rng = random.Random(20240611)
    for round_ in range(4):
        path = tmp_path / f"killed-{round_}.twrec"
        seed = rng.randrange(1000)
        acknowledged = _kill_after(path, seed, rng.randrange(50, 2500))
        broker = restored(path)  # a torn tail is fine; mid-file damage would raise
        got = child.digest(broker)
        reference = child.Session(seed)
        for _ in range(acknowledged):
            reference.step()
        candidates = [child.digest(reference.broker)]
        reference.step()  # the step in progress may have been journalled, not acknowledged
        candidates.append(child.digest(reference.broker))
        assert got in candidates, f"round {round_}: restored book matches no step"
        # and the journal can be resumed after the crash
        with PaperJournal.open(path) as journal:
            fresh = child.new_broker()
            journal.restore(fresh)
            journal.attach(fresh)


def test_a_corrupted_journal_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "paper.twrec"
    journalled_session(path, 5, 300)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(RecordingCorrupted, match=r"cannot restore the paper book from .*offset"):
        PaperJournal.open(path)
    with pytest.raises(RecordingCorrupted, match="start a new journal"):
        read_paper_journal(path)


@pytest.mark.parametrize("kept", [0, 3, 12, -1])
def test_a_journal_whose_header_a_crash_cut_short_starts_again(tmp_path, kept, caplog):
    # A kill while the journal was being created leaves a prefix of its header (here: none
    # of it, part of the magic, past the fixed fields, all but the last byte) and no record.
    path = tmp_path / "paper.twrec"
    PaperJournal.open(path).close()
    header = path.read_bytes()
    path.write_bytes(header[:kept])
    with PaperJournal.open(path) as journal:
        assert journal.book.is_empty
    assert "cut short by a crash" in caplog.text
    book = read_paper_journal(path)
    assert book.is_empty and book.torn_tail_bytes == 0


def test_a_file_that_is_no_header_at_all_is_still_refused(tmp_path):
    path = tmp_path / "paper.twrec"
    path.write_bytes(b"not a journal")
    with pytest.raises(PaperJournalError, match="not a tradewire recording"):
        PaperJournal.open(path)
    assert path.read_bytes() == b"not a journal"


def test_a_recording_of_another_kind_is_not_a_paper_journal(tmp_path):
    path = tmp_path / "feed.twrec"
    with RecordingWriter.open(path, meta={"source": "insightsentry"}) as writer:
        writer.append(RecordKind.INBOUND, b"{}", 1, 1)
    with pytest.raises(PaperJournalError, match="not a paper journal"):
        PaperJournal.open(path)


def test_a_journal_that_disagrees_with_itself_is_refused(tmp_path):
    path = tmp_path / "paper.twrec"
    session = journalled_session(path, 9, 400)
    assert session.broker.portfolio.fills
    # Rewrite it with one position record altered.
    original = list(read_recording(path))
    forged = tmp_path / "forged.twrec"
    tampered = False
    with RecordingWriter.open(
        forged,
        meta={"kind": "tradewire-paper-journal", "version": 1},
        durability=Durability.PROCESS,
    ) as writer:
        for record in original:
            payload = record.payload
            if not tampered and b'"positions"' in payload:
                payload = payload.replace(b'"cash":', b'"cash":1', 1)
                tampered = True
            writer.append(record.kind, payload, record.recv_wall_ns, record.recv_mono_ns)
    with pytest.raises(PaperJournalError, match=r"record \d+ disagrees .*: cash is 1"):
        read_paper_journal(forged)


def test_restore_needs_a_new_broker_and_attach_needs_restore(tmp_path):
    path = tmp_path / "paper.twrec"
    journalled_session(path, 4, 300)
    used = child.Session(4)
    for _ in range(300):
        used.step()
    with PaperJournal.open(path) as journal:
        with pytest.raises(PaperJournalError, match=r"call restore\(broker\) before attach"):
            journal.attach(child.new_broker())
        with pytest.raises(PaperJournalError, match="already has orders or fills"):
            journal.restore(used.broker)


class Bracketing(Strategy):
    """Puts on a bracket at the first bar it sees while flat and without open orders."""

    def on_bar(self, bar) -> None:
        if not self.position(bar.symbol).qty and not self.open_orders(bar.symbol):
            self.bracket(bar.symbol, "buy", 10, take_profit=bar.close + 3, stop_loss=bar.close - 3)


async def test_an_engine_restarted_from_the_journal_resumes_the_same_book(tmp_path):
    closes = [100, 101, 102, 104, 103.5, 99, 98, 100, 101, 104, 106, 102, 101, 97, 96, 99, 103]
    events = [bar(i, c, high=c + 0.5, low=c - 0.5) for i, c in enumerate(closes)]

    whole = Engine(feeds=[ListFeed(events)], strategies=[Bracketing()])
    await whole.run()

    path = tmp_path / "paper.twrec"
    journal = PaperJournal.open(path)
    first = Engine(feeds=[ListFeed(events[:8])], strategies=[Bracketing()])
    journal.attach(first.broker)
    await first.run()
    journal.close()

    broker = SimulatedBroker(Portfolio(100_000.0))
    journal = PaperJournal.open(path)
    journal.restore(broker)
    journal.attach(broker)
    second = Engine(feeds=[ListFeed(events[8:])], strategies=[Bracketing()], broker=broker)
    await second.run()
    journal.close()

    assert second.portfolio.fills == whole.portfolio.fills
    assert second.portfolio.equity() == whole.portfolio.equity()
    assert [(o.order_id, o.status) for o in broker.orders()] == [
        (o.order_id, o.status) for o in whole.broker.orders()
    ]
    assert len(whole.portfolio.closed_trades) >= 2
