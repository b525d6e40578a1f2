"""Round trips through the writer and the reader, and what the header refuses."""

from __future__ import annotations

import struct
import tempfile
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework import RecordingCorrupted, RecordingError
from framework.recording import (
    MAX_PAYLOAD_BYTES,
    Durability,
    Record,
    RecordingWriter,
    RecordKind,
    read_recording,
)
from framework.recording._format import MAGIC, make_record

I64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
entries_lists = st.lists(
    st.tuples(st.sampled_from(RecordKind), st.binary(max_size=300), I64, I64), max_size=40
)


@given(entries=entries_lists, durability=st.sampled_from(Durability))
@settings(max_examples=150, deadline=None)
def test_read_returns_exactly_what_was_appended(
    entries: list[tuple[RecordKind, bytes, int, int]], durability: Durability
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "r.twrec"
        with RecordingWriter.open(
            path,
            meta={"subscriptions": ["NASDAQ:AAPL"]},
            durability=durability,
            session_id="s-1",
            created_wall_ns=123,
        ) as writer:
            seqs = [
                writer.append(kind, payload, wall, mono) for kind, payload, wall, mono in entries
            ]
        recording = read_recording(path)
        records = list(recording)

    assert seqs == list(range(1, len(entries) + 1))
    assert records == [
        Record(seq=seq, recv_wall_ns=wall, recv_mono_ns=mono, kind=kind, payload=payload)
        for seq, (kind, payload, wall, mono) in zip(seqs, entries, strict=True)
    ]
    assert recording.report.intact
    assert recording.report.records == len(entries)
    assert recording.header.session_id == "s-1"
    assert recording.header.created_wall_ns == 123
    assert recording.header.durability is durability
    assert recording.meta == {"subscriptions": ["NASDAQ:AAPL"]}


def test_iterating_twice_reads_the_file_again(sample_recording: tuple[Path, list[int]]) -> None:
    recording = read_recording(sample_recording[0])
    assert list(recording) == list(recording)
    assert len(list(recording)) == 5


def test_make_record_builds_the_same_record_as_the_constructor() -> None:
    built = make_record(7, -1, 2, RecordKind.ORDER, b"{}")
    assert built == Record(
        seq=7, recv_wall_ns=-1, recv_mono_ns=2, kind=RecordKind.ORDER, payload=b"{}"
    )
    assert built.text() == "{}"
    assert hash(built) == hash(
        Record(seq=7, recv_wall_ns=-1, recv_mono_ns=2, kind=RecordKind.ORDER, payload=b"{}")
    )


def test_oversized_payload_is_rejected_and_the_writer_goes_on(tmp_path: Path) -> None:
    with RecordingWriter.open(tmp_path / "r.twrec", meta={}) as writer:
        with pytest.raises(RecordingError, match="limit"):
            writer.append(RecordKind.INBOUND, bytes(MAX_PAYLOAD_BYTES + 1), 0, 0)
        assert writer.append(RecordKind.INBOUND, b"ok", 0, 0) == 1
    assert [r.payload for r in read_recording(tmp_path / "r.twrec")] == [b"ok"]


def test_append_rejects_a_kind_that_is_not_a_record_kind(tmp_path: Path) -> None:
    with RecordingWriter.open(tmp_path / "r.twrec", meta={}) as writer:
        with pytest.raises(TypeError):
            writer.append(1, b"x", 0, 0)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="i64"):
            writer.append(RecordKind.INBOUND, b"x", 2**63, 0)
        assert writer.last_seq == 0


def test_meta_that_is_not_json_is_a_type_error(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="JSON"):
        RecordingWriter.open(tmp_path / "r.twrec", meta={"when": object()})
    assert not (tmp_path / "r.twrec").exists()


def test_a_file_that_is_not_a_recording_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "bars.csv"
    path.write_bytes(b"time,open,high,low,close\n1,2,3,1,2\n")
    with pytest.raises(RecordingError, match="not a tradewire recording"):
        read_recording(path)


def test_a_format_version_tradewire_never_wrote_is_refused_clearly(
    sample_recording: tuple[Path, list[int]],
) -> None:
    # Newer versions: test_format_versions.py.
    path = sample_recording[0]
    data = bytearray(path.read_bytes())
    struct.pack_into("<H", data, len(MAGIC), 0)
    path.write_bytes(bytes(data))
    with pytest.raises(RecordingError, match="version 0 was never written by tradewire"):
        read_recording(path)


def test_a_damaged_header_is_reported_as_corruption(
    sample_recording: tuple[Path, list[int]],
) -> None:
    path = sample_recording[0]
    data = bytearray(path.read_bytes())
    data[20] ^= 0x01  # inside the header JSON
    path.write_bytes(bytes(data))
    with pytest.raises(RecordingCorrupted, match="header checksum"):
        read_recording(path)


@pytest.mark.parametrize("keep", [0, 3, 10, 30])
def test_a_truncated_header_is_refused(sample_recording: tuple[Path, list[int]], keep: int) -> None:
    path = sample_recording[0]
    path.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(RecordingError, match="truncated header"):
        read_recording(path)


def test_the_record_checksum_covers_the_length_field(
    sample_recording: tuple[Path, list[int]],
) -> None:
    path, boundaries = sample_recording
    data = path.read_bytes()
    start = boundaries[0]
    (crc,) = struct.unpack_from("<I", data, start + 4)
    (length,) = struct.unpack_from("<I", data, start + 8)
    assert zlib.crc32(data[start + 8 : start + 37 + length]) == crc
    assert start + 37 + length == boundaries[1]
