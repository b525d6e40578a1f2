"""Torn tails are cut, mid-file damage is refused (or salvaged on request), never confused."""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework import RecordingCorrupted, RecordingError
from framework.recording import (
    RecordingWriter,
    RecordKind,
    read_recording,
    repair_recording,
    verify_recording,
)
from framework.recording._format import encode_record

Sample = tuple[Path, list[int]]
WriteRecording = Callable[[Path, Sequence[tuple[RecordKind, bytes]]], list[int]]


def test_every_truncation_point_reads_the_longest_valid_prefix(
    sample_recording: Sample, tmp_path: Path
) -> None:
    source, boundaries = sample_recording
    data = source.read_bytes()
    header_end = boundaries[0]
    full = list(read_recording(source))
    for size in range(header_end, len(data) + 1):
        path = tmp_path / f"cut-{size}.twrec"
        path.write_bytes(data[:size])
        complete = sum(1 for end in boundaries[1:] if end <= size)
        valid_end = boundaries[complete]

        recording = read_recording(path)
        assert list(recording) == full[:complete], size
        report = recording.report
        assert report.records == complete
        assert report.last_good_seq == complete
        assert report.valid_bytes == valid_end
        assert report.torn_tail_bytes == size - valid_end
        assert report.corruption is None
        assert (report.torn_tail_reason is None) == (size == valid_end)

        repaired = repair_recording(path)
        assert repaired == report
        assert path.stat().st_size == valid_end
        assert verify_recording(path).intact


def test_truncation_inside_the_header_is_an_error_not_an_empty_recording(
    sample_recording: Sample, tmp_path: Path
) -> None:
    source, boundaries = sample_recording
    data = source.read_bytes()
    for size in range(boundaries[0]):
        path = tmp_path / f"cut-{size}.twrec"
        path.write_bytes(data[:size])
        with pytest.raises(RecordingError):
            read_recording(path)


def test_a_bit_flip_anywhere_in_a_middle_record_is_corruption_naming_the_last_good_seq(
    sample_recording: Sample, tmp_path: Path
) -> None:
    source, boundaries = sample_recording
    data = source.read_bytes()
    start, end = boundaries[2], boundaries[3]  # the record with seq 3
    for offset in range(start, end):
        for bit in (0x01, 0x80):
            damaged = bytearray(data)
            damaged[offset] ^= bit
            path = tmp_path / "flip.twrec"
            path.write_bytes(bytes(damaged))
            with pytest.raises(RecordingCorrupted, match=f"offset {start} after seq 2"):
                read_recording(path)
            report = verify_recording(path)
            assert report.corruption is not None
            assert (report.corruption.offset, report.corruption.last_good_seq) == (start, 2)
            assert report.corruption.resumed_seq == 4
            assert report.torn_tail_bytes == 0
            with pytest.raises(RecordingCorrupted):
                repair_recording(path)
            assert path.read_bytes() == bytes(damaged)  # repair never touches a corrupted file


@pytest.mark.parametrize("new_length", [0, 1, 10, 200, 2**31, 2**32 - 1])
def test_a_damaged_length_field_is_corruption_not_a_torn_tail(
    sample_recording: Sample, new_length: int
) -> None:
    path, boundaries = sample_recording
    damaged = bytearray(path.read_bytes())
    struct.pack_into("<I", damaged, boundaries[1] + 8, new_length)  # length of seq 2
    path.write_bytes(bytes(damaged))
    with pytest.raises(RecordingCorrupted, match="after seq 1") as raised:
        read_recording(path)
    assert f"offset {boundaries[1]}" in str(raised.value)
    report = verify_recording(path)
    assert report.corruption is not None and report.torn_tail_bytes == 0


def test_a_damaged_last_record_is_a_torn_tail(sample_recording: Sample) -> None:
    path, boundaries = sample_recording
    damaged = bytearray(path.read_bytes())
    damaged[boundaries[-1] - 3] ^= 0x40  # payload of the last record
    path.write_bytes(bytes(damaged))
    recording = read_recording(path)
    assert [r.seq for r in recording] == [1, 2, 3, 4]
    assert recording.report.torn_tail_bytes == boundaries[-1] - boundaries[-2]
    assert recording.report.torn_tail_reason == "checksum mismatch"


@pytest.mark.parametrize("zeros", [1, 36, 37, 4096, 3 * 1024 * 1024])
def test_a_zero_filled_tail_is_torn_and_repair_cuts_it(
    sample_recording: Sample, zeros: int
) -> None:
    path, boundaries = sample_recording
    with path.open("ab") as file:
        file.write(bytes(zeros))
    report = verify_recording(path)
    assert report.records == 5
    assert report.torn_tail_bytes == zeros
    assert report.torn_tail_reason == "zero fill"
    repair_recording(path)
    assert path.stat().st_size == boundaries[-1]


def test_salvage_skips_a_damaged_span_and_reports_it(sample_recording: Sample) -> None:
    path, boundaries = sample_recording
    damaged = bytearray(path.read_bytes())
    damaged[boundaries[2] + 40] ^= 0x01  # payload of seq 3
    path.write_bytes(bytes(damaged))

    recording = read_recording(path, salvage=True)
    assert [r.seq for r in recording] == [1, 2, 4, 5]
    (skipped,) = recording.report.skipped
    assert skipped.offset == boundaries[2]
    assert skipped.length == boundaries[3] - boundaries[2]
    assert (skipped.last_good_seq, skipped.resumed_seq) == (2, 4)
    assert skipped.reason == "checksum mismatch"
    assert recording.report.corruption == skipped


def _append_raw(path: Path, *seqs: int) -> None:
    with path.open("ab") as file:
        for seq in seqs:
            file.write(encode_record(seq, seq, seq, RecordKind.INBOUND, b"x%d" % seq))


def test_a_sequence_gap_is_corruption(sample_recording: Sample) -> None:
    path, _ = sample_recording
    _append_raw(path, 7, 8)
    with pytest.raises(RecordingCorrupted, match="sequence gap: expected 6, found 7"):
        read_recording(path)
    salvaged = read_recording(path, salvage=True)
    assert [r.seq for r in salvaged] == [1, 2, 3, 4, 5, 7, 8]
    assert salvaged.report.skipped[0].length == 0


def test_a_sequence_going_backwards_is_corruption(sample_recording: Sample) -> None:
    path, _ = sample_recording
    _append_raw(path, 6, 3, 7)
    with pytest.raises(RecordingCorrupted, match="backwards: expected 7, found 3"):
        read_recording(path)
    salvaged = read_recording(path, salvage=True)
    assert [r.seq for r in salvaged] == [1, 2, 3, 4, 5, 6, 7]
    assert salvaged.report.skipped[0].resumed_seq is None


def test_resume_cuts_a_torn_tail_and_continues_the_sequence(sample_recording: Sample) -> None:
    path, boundaries = sample_recording
    with path.open("r+b") as file:
        file.truncate(boundaries[-1] - 5)  # seq 5 torn
    with RecordingWriter.resume(path) as writer:
        assert writer.last_seq == 4
        assert writer.append(RecordKind.MARKER, b'{"marker":"resumed"}', 9, 9) == 5
    recording = read_recording(path)
    assert recording.report.intact
    assert [r.seq for r in recording] == [1, 2, 3, 4, 5]
    assert list(recording)[-1].payload == b'{"marker":"resumed"}'


def test_resume_refuses_a_corrupted_recording(sample_recording: Sample) -> None:
    path, boundaries = sample_recording
    damaged = bytearray(path.read_bytes())
    damaged[boundaries[1] + 1] ^= 0x01
    path.write_bytes(bytes(damaged))
    with pytest.raises(RecordingCorrupted):
        RecordingWriter.resume(path)
    assert path.read_bytes() == bytes(damaged)


def test_records_bigger_than_a_read_chunk_round_trip(
    tmp_path: Path, write_recording: WriteRecording
) -> None:
    big = bytes(range(256)) * (5 * 1024 * 16)  # 5 MiB, several read chunks
    path = tmp_path / "big.twrec"
    write_recording(path, [(RecordKind.ORDER, big), (RecordKind.INBOUND, b"after")])
    assert [r.payload for r in read_recording(path)] == [big, b"after"]


@given(
    payloads=st.lists(st.binary(min_size=0, max_size=80), min_size=1, max_size=12),
    where=st.floats(min_value=0, max_value=1, exclude_max=True),
    bit=st.integers(min_value=0, max_value=7),
)
@settings(max_examples=300, deadline=None)
def test_a_single_bit_flip_never_yields_wrong_records(
    tmp_path_factory: pytest.TempPathFactory,
    write_recording: WriteRecording,
    payloads: list[bytes],
    where: float,
    bit: int,
) -> None:
    path = tmp_path_factory.mktemp("flip") / "r.twrec"
    boundaries = write_recording(path, [(RecordKind.INBOUND, p) for p in payloads])
    original = list(read_recording(path))
    data = bytearray(path.read_bytes())
    offset = boundaries[0] + int(where * (len(data) - boundaries[0]))
    data[offset] ^= 1 << bit
    path.write_bytes(bytes(data))
    in_last_record = offset >= boundaries[-2]
    try:
        records = list(read_recording(path))
    except RecordingCorrupted:
        assert not in_last_record
    else:
        assert in_last_record  # a damaged last record reads as a torn tail
        assert records == original[:-1]


def test_entries_are_the_records_kind_time_and_payload(sample_recording: Sample) -> None:
    path, boundaries = sample_recording
    damaged = bytearray(path.read_bytes())
    damaged[boundaries[2] + 40] ^= 0x01  # payload of seq 3: salvage steps over it
    path.write_bytes(bytes(damaged))
    recording = read_recording(path, salvage=True)
    expected = [(r.kind, r.recv_wall_ns, r.payload) for r in recording]
    assert list(recording.entries()) == expected
    assert len(expected) == 4


def test_entries_of_a_recording_changed_after_verification_raise(
    sample_recording: Sample,
) -> None:
    path, boundaries = sample_recording
    recording = read_recording(path)
    damaged = bytearray(path.read_bytes())
    damaged[boundaries[3] + 40] ^= 0x01  # payload of seq 4
    path.write_bytes(bytes(damaged))
    entries = recording.entries()
    assert [kind for kind, _, _ in itertools.islice(entries, 3)] == [
        RecordKind.CONNECTION,
        RecordKind.OUTBOUND,
        RecordKind.INBOUND,
    ]
    with pytest.raises(RecordingCorrupted, match="changed after it was verified"):
        list(entries)
