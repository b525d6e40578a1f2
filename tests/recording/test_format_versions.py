"""Format versions: old files still read and resume at their version; newer files are refused
with "written by a newer tradewire"; each version holds only its own record kinds.

``data/v1-session.twrec`` and ``data/v1-paper-journal.twrec`` were written by the code of
commit 571800e, the last one that wrote format version 1, with ``data/make_v1_recordings.py``
(its docstring has the commands). They are genuine version-1 files: nothing here rebuilds them
with the current writer. Files of other versions are assembled from the format's own encoders,
with valid checksums, so only the version is unusual.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
import trio

from framework import RecordingCorrupted, RecordingError
from framework.adapters.insightsentry import RecordingFeed
from framework.execution import PaperJournal, PaperJournalError
from framework.recording import (
    FORMAT_VERSION,
    Durability,
    RecordingHeader,
    RecordingWriter,
    RecordKind,
    format_summary,
    open_recording_writer,
    read_recording,
    repair_recording,
    summarize,
    verify_recording,
)
from framework.recording._format import MAGIC, encode_header, encode_record, tradewire_version

DATA = Path(__file__).with_name("data")
V1_SESSION = DATA / "v1-session.twrec"
V1_PAPER_JOURNAL = DATA / "v1-paper-journal.twrec"

#: The records of ``v1-session.twrec``, in order (see ``make_v1_recordings.py``).
V1_SESSION_KINDS = [
    RecordKind.MARKER,
    RecordKind.REST,
    RecordKind.MARKER,
    RecordKind.CONNECTION,
    RecordKind.OUTBOUND,
    RecordKind.INBOUND,
    RecordKind.INBOUND,
    RecordKind.ORDER,
    RecordKind.INBOUND,
    RecordKind.CONNECTION,
]

TIMER_PAYLOAD = b'{"timer":"rebalance","ts":1767571260000000000}'


def recording_bytes(version: int, records: list[tuple[RecordKind | int, bytes]]) -> bytes:
    """A whole recording at ``version``: header and records with valid checksums."""
    header = RecordingHeader(
        version=version,
        session_id="versions",
        created_wall_ns=1,
        tradewire_version="9.9.9",
        durability=Durability.PROCESS,
        first_seq=1,
        meta={"test": True},
    )
    framed = [
        encode_record(seq, 1_000 + seq, seq, kind, payload)  # type: ignore[arg-type]
        for seq, (kind, payload) in enumerate(records, start=1)
    ]
    return encode_header(header) + b"".join(framed)


def tradewire(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "framework", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=120,
    )


def copy_of(fixture: Path, tmp_path: Path) -> Path:
    path = tmp_path / fixture.name
    shutil.copyfile(fixture, path)
    return path


# -- version 1 files still read -------------------------------------------------------------


def test_a_version_1_recording_reads_with_every_record_order_and_rest_included() -> None:
    recording = read_recording(V1_SESSION)
    records = list(recording)
    assert recording.header.version == 1
    assert recording.header.session_id == "v1-fixture-session"
    assert recording.header.tradewire_version == "0.1.0"
    assert recording.report.intact and recording.report.records == 10
    assert [r.seq for r in records] == list(range(1, 11))
    assert [r.kind for r in records] == V1_SESSION_KINDS
    rest = records[1].payload
    assert orjson.loads(rest.partition(b"\n")[0])["purpose"] == "warmup"
    assert records[7].payload == b'{"type":"start","cash":100000.0}'
    assert [(k, p) for k, _, p in recording.entries()] == [(r.kind, r.payload) for r in records]


def test_a_version_1_paper_journal_reads_as_order_records() -> None:
    recording = read_recording(V1_PAPER_JOURNAL)
    records = list(recording)
    assert recording.header.version == 1
    assert recording.meta["kind"] == "tradewire-paper-journal"
    assert recording.report.intact and len(records) == 12
    assert {r.kind for r in records} == {RecordKind.ORDER}
    assert orjson.loads(records[0].payload)["type"] == "start"


def test_summarize_counts_a_version_1_recording_by_kind() -> None:
    summary = summarize(V1_SESSION)
    assert summary.header.version == 1
    assert summary.counts_by_kind == {
        RecordKind.MARKER: 2,
        RecordKind.REST: 1,
        RecordKind.CONNECTION: 2,
        RecordKind.OUTBOUND: 1,
        RecordKind.INBOUND: 3,
        RecordKind.ORDER: 1,
    }
    assert summary.rest_by_purpose == {"warmup": 1}
    text = format_summary(summary)
    assert "format version 1" in text
    assert "order 1, rest 1, timer 0" in text


def test_tradewire_inspect_works_on_a_version_1_recording() -> None:
    done = tradewire("inspect", str(V1_SESSION))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "format version 1" in done.stdout
    assert "records    10: inbound 3, outbound 1, connection 2, marker 2, order 1, rest 1" in (
        done.stdout
    )
    assert "integrity  intact through seq 10" in done.stdout
    # Warm-up bars from the REST record, then the live frames: replayed as a backtest would.
    assert "NASDAQ:AAPL@1m: 6 final (0 backfilled), 0 gap(s)" in done.stdout


# -- resuming keeps the file's version ------------------------------------------------------


def test_resuming_a_version_1_journal_appends_at_version_1_and_refuses_a_timer(
    tmp_path: Path,
) -> None:
    path = copy_of(V1_PAPER_JOURNAL, tmp_path)
    original = path.read_bytes()
    with RecordingWriter.resume(path) as writer:
        assert writer.header.version == 1
        assert writer.append(RecordKind.ORDER, b'{"type":"tx"}', 5, 5) == 13
        with pytest.raises(RecordingError) as refused:
            writer.append(RecordKind.TIMER, TIMER_PAYLOAD, 6, 6)
        assert not isinstance(refused.value, RecordingCorrupted)
        message = str(refused.value)
        assert str(path) in message
        assert "a version-1 recording cannot hold TIMER records" in message
        assert "from format version 2" in message
        assert writer.last_seq == 13  # nothing written; the writer goes on
        assert writer.append(RecordKind.ORDER, b'{"type":"tx"}', 7, 7) == 14
    data = path.read_bytes()
    assert data.startswith(original)  # appended only: the header was not rewritten
    recording = read_recording(path)
    assert recording.header.version == 1
    assert [r.kind for r in recording] == [RecordKind.ORDER] * 14


# -- new files are version 2 ----------------------------------------------------------------


def test_new_recordings_are_version_2_and_round_trip_a_timer_record(tmp_path: Path) -> None:
    assert FORMAT_VERSION == 2
    path = tmp_path / "new.twrec"
    with RecordingWriter.open(path, meta={}, durability=Durability.PROCESS) as writer:
        assert writer.header.version == 2
        writer.append(RecordKind.INBOUND, b'{"code":"NASDAQ:AAPL"}', 10, 1)
        writer.append(RecordKind.TIMER, TIMER_PAYLOAD, 11, 2)
    assert path.read_bytes()[len(MAGIC) : len(MAGIC) + 2] == (2).to_bytes(2, "little")
    recording = read_recording(path)
    assert recording.header.version == 2
    assert [(r.seq, r.kind, r.payload) for r in recording] == [
        (1, RecordKind.INBOUND, b'{"code":"NASDAQ:AAPL"}'),
        (2, RecordKind.TIMER, TIMER_PAYLOAD),
    ]
    summary = summarize(path)
    assert summary.counts_by_kind[RecordKind.TIMER] == 1
    assert "timer 1" in format_summary(summary)
    with RecordingWriter.resume(path) as writer:
        assert writer.header.version == 2
        assert writer.append(RecordKind.TIMER, TIMER_PAYLOAD, 12, 3) == 3
    assert [r.kind for r in read_recording(path)][-1] is RecordKind.TIMER


async def test_the_trio_writer_writes_version_2_with_timer_records(tmp_path: Path) -> None:
    path = tmp_path / "async.twrec"
    with trio.fail_after(10):
        async with open_recording_writer(path, meta={}) as writer:
            assert writer.header.version == FORMAT_VERSION
            await writer.append(RecordKind.TIMER, TIMER_PAYLOAD, 1, 1)
    assert [(r.kind, r.payload) for r in read_recording(path)] == [
        (RecordKind.TIMER, TIMER_PAYLOAD)
    ]


# -- newer files are refused, wherever they are opened --------------------------------------


@pytest.fixture(params=[3, 65535])
def newer_recording(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, int]:
    version: int = request.param
    path = tmp_path / f"from-the-future-v{version}.twrec"
    path.write_bytes(recording_bytes(version, [(RecordKind.INBOUND, b"{}")] * 3))
    return path, version


def assert_newer_message(message: str, path: Path, version: int) -> None:
    assert "written by a newer tradewire" in message
    assert path.name in message
    assert f"recording format version {version}" in message
    assert f"this tradewire ({tradewire_version()}) reads versions 1 to {FORMAT_VERSION}" in (
        message
    )
    assert "pip install -U tradewire" in message
    assert "\n" not in message


@pytest.mark.parametrize("open_", [read_recording, verify_recording, summarize])
def test_reading_a_newer_file_says_it_was_written_by_a_newer_tradewire(
    newer_recording: tuple[Path, int], open_: Callable[[Path], object]
) -> None:
    path, version = newer_recording
    with pytest.raises(RecordingError) as refused:
        open_(path)
    assert not isinstance(refused.value, RecordingCorrupted)
    assert_newer_message(str(refused.value), path, version)


def test_resuming_a_newer_file_is_refused_and_leaves_it_untouched(
    newer_recording: tuple[Path, int],
) -> None:
    path, version = newer_recording
    before = path.read_bytes()
    for resume in (RecordingWriter.resume, repair_recording):
        with pytest.raises(RecordingError) as refused:
            resume(path)
        assert_newer_message(str(refused.value), path, version)
    assert path.read_bytes() == before


async def test_replaying_a_newer_file_is_refused(newer_recording: tuple[Path, int]) -> None:
    path, version = newer_recording
    send, receive = trio.open_memory_channel[object](1)
    with receive, trio.fail_after(10), pytest.raises(RecordingError) as refused:
        await RecordingFeed(path).run(send)  # type: ignore[arg-type]
    assert_newer_message(str(refused.value), path, version)


def test_a_paper_journal_of_a_newer_tradewire_is_refused(
    newer_recording: tuple[Path, int],
) -> None:
    path, version = newer_recording
    with pytest.raises(PaperJournalError) as refused:
        PaperJournal.open(path)
    assert_newer_message(str(refused.value), path, version)


def test_tradewire_inspect_of_a_newer_file_prints_one_line_and_exits_2(
    newer_recording: tuple[Path, int],
) -> None:
    path, version = newer_recording
    done = tradewire("inspect", str(path))
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("tradewire: error: ")
    assert_newer_message(lines[0], path, version)


def test_version_0_is_not_taken_for_a_newer_tradewire(tmp_path: Path) -> None:
    path = tmp_path / "v0.twrec"
    path.write_bytes(recording_bytes(0, [(RecordKind.INBOUND, b"{}")]))
    with pytest.raises(RecordingError) as refused:
        read_recording(path)
    message = str(refused.value)
    assert "recording format version 0 was never written by tradewire" in message
    assert f"reads versions 1 to {FORMAT_VERSION}" in message
    assert "newer" not in message


# -- a record of a kind its file's version cannot hold --------------------------------------


def test_a_timer_record_in_a_version_1_file_is_corruption_never_a_torn_tail(
    tmp_path: Path,
) -> None:
    path = tmp_path / "forged.twrec"
    data = recording_bytes(
        1, [(RecordKind.ORDER, b"{}"), (RecordKind.ORDER, b"{}"), (RecordKind.TIMER, b"{}")]
    )
    path.write_bytes(data)
    expected = (
        "record seq 3 is a TIMER record (kind 7, from format version 2), which a version-1 "
        "recording cannot hold (it holds kinds 1-6)"
    )
    with pytest.raises(RecordingCorrupted, match=expected.replace("(", r"\(").replace(")", r"\)")):
        read_recording(path)
    # Last in the file, but well-formed: not truncated away as an interrupted write would be.
    for append_to in (repair_recording, RecordingWriter.resume):
        with pytest.raises(RecordingCorrupted):
            append_to(path)
    assert path.read_bytes() == data
    report = verify_recording(path)
    assert report.corruption is not None and report.torn_tail_bytes == 0
    assert expected in report.corruption.reason
    salvaged = read_recording(path, salvage=True)
    assert [r.seq for r in salvaged] == [1, 2]
    assert [c.reason for c in salvaged.report.skipped] == [report.corruption.reason]
    assert "CORRUPTED at offset" in format_summary(summarize(path))


def test_an_unknown_kind_mid_file_is_corruption_that_salvage_steps_over(tmp_path: Path) -> None:
    path = tmp_path / "unknown.twrec"
    path.write_bytes(
        recording_bytes(2, [(RecordKind.TIMER, b"a"), (9, b"b"), (RecordKind.INBOUND, b"c")])
    )
    with pytest.raises(RecordingCorrupted) as refused:
        read_recording(path)
    message = str(refused.value)
    assert "record seq 2 has unknown record kind 9" in message
    assert "version-2 recording cannot hold (it holds kinds 1-7)" in message
    salvaged = read_recording(path, salvage=True)
    assert [(r.seq, r.payload) for r in salvaged] == [(1, b"a"), (3, b"c")]
    assert len(salvaged.report.skipped) == 1


def test_a_stale_record_dropped_at_the_end_by_salvage_does_not_break_iteration(
    tmp_path: Path,
) -> None:
    path = tmp_path / "stale.twrec"
    data = recording_bytes(2, [(RecordKind.INBOUND, b"a"), (RecordKind.INBOUND, b"b")])
    path.write_bytes(data + encode_record(1, 0, 0, RecordKind.INBOUND, b"again"))
    salvaged = read_recording(path, salvage=True)
    assert [r.payload for r in salvaged] == [b"a", b"b"]
    assert [r.payload for r in salvaged] == [b"a", b"b"]  # a second pass agrees


def test_the_version_in_the_header_is_covered_by_its_checksum(tmp_path: Path) -> None:
    # A version-1 file whose version field was flipped to 2 is damage, not a version-2 file.
    path = copy_of(V1_SESSION, tmp_path)
    data = bytearray(path.read_bytes())
    data[len(MAGIC)] = 2
    path.write_bytes(bytes(data))
    with pytest.raises(RecordingCorrupted, match="header checksum"):
        read_recording(path)
