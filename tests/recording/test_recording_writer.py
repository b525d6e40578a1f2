"""The sync writer: safe file creation, durability bookkeeping, fail-stop on I/O errors."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from framework import RecordingError
from framework.recording import Durability, RecordingWriter, RecordKind, read_recording


def _fd_of(path: Path) -> int:
    """The descriptor this process has open on ``path`` (the writer's, in these tests)."""
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}") == str(path):
                return int(name)
        except OSError:
            continue
    raise AssertionError(f"{path} is not open")


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    yield read_end, write_end
    os.close(read_end)
    os.close(write_end)


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "r.twrec"
    path.write_bytes(b"precious")
    with pytest.raises(RecordingError, match="never overwritten"):
        RecordingWriter.open(path, meta={})
    assert path.read_bytes() == b"precious"


def test_the_file_is_private_and_new_directories_are_private(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "r.twrec"
    with RecordingWriter.open(path, meta={}):
        pass
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700


def test_process_durability_never_fsyncs(tmp_path: Path) -> None:
    with RecordingWriter.open(tmp_path / "r.twrec", meta={}, durability=Durability.PROCESS) as w:
        for _ in range(300):
            w.append(RecordKind.INBOUND, b"x", 0, 0)
        assert w.statistics().syncs == 0
        assert w.durable_seq == 0


def test_strict_durability_fsyncs_every_append(tmp_path: Path) -> None:
    with RecordingWriter.open(tmp_path / "r.twrec", meta={}, durability=Durability.STRICT) as w:
        syncs = w.statistics().syncs
        for seq in range(1, 4):
            assert w.append(RecordKind.ORDER, b"{}", 0, 0) == seq
            assert w.durable_seq == seq
        assert w.statistics().syncs == syncs + 3


def test_group_durability_fsyncs_by_record_count(tmp_path: Path) -> None:
    path = tmp_path / "r.twrec"
    with RecordingWriter.open(
        path, meta={}, durability=Durability.GROUP, group_records=4, group_interval_ns=10**18
    ) as w:
        for _ in range(3):
            w.append(RecordKind.INBOUND, b"x", 0, 0)
        assert w.durable_seq == 0
        w.append(RecordKind.INBOUND, b"x", 0, 0)
        assert w.durable_seq == 4
        w.append(RecordKind.INBOUND, b"x", 0, 0)
        assert w.durable_seq == 4


def test_group_durability_fsyncs_by_receive_time(tmp_path: Path) -> None:
    path = tmp_path / "r.twrec"
    with RecordingWriter.open(
        path, meta={}, durability=Durability.GROUP, group_records=10**6, group_interval_ns=100
    ) as w:
        w.append(RecordKind.INBOUND, b"x", 0, 1_000)
        w.append(RecordKind.INBOUND, b"x", 0, 1_099)
        assert w.durable_seq == 0
        w.append(RecordKind.INBOUND, b"x", 0, 1_100)
        assert w.durable_seq == 3
        w.append(RecordKind.INBOUND, b"x", 0, 5_000)  # opens a new window
        assert w.durable_seq == 3
    # close() fsyncs whatever is left
    assert w.durable_seq == 4


def test_a_write_error_stops_the_writer_for_good(tmp_path: Path) -> None:
    path = tmp_path / "r.twrec"
    writer = RecordingWriter.open(path, meta={}, durability=Durability.PROCESS)
    writer.append(RecordKind.INBOUND, b"before", 0, 0)
    full = os.open("/dev/full", os.O_WRONLY)
    try:
        os.dup2(full, _fd_of(path))  # every later write fails with ENOSPC
    finally:
        os.close(full)
    with pytest.raises(RecordingError, match="write of seq 2 failed") as raised:
        writer.append(RecordKind.INBOUND, b"lost", 0, 0)
    assert isinstance(raised.value.__cause__, OSError)
    with pytest.raises(RecordingError, match="earlier I/O error"):
        writer.append(RecordKind.INBOUND, b"again", 0, 0)
    with pytest.raises(RecordingError, match="earlier I/O error"):
        writer.sync()
    writer.close()  # closes without trying to sync again
    assert writer.closed
    assert [r.payload for r in read_recording(path)] == [b"before"]


def test_an_fsync_error_is_never_retried(tmp_path: Path, pipe: tuple[int, int]) -> None:
    path = tmp_path / "r.twrec"
    writer = RecordingWriter.open(path, meta={}, durability=Durability.STRICT)
    os.dup2(pipe[1], _fd_of(path))  # fsync on a pipe fails with EINVAL
    with pytest.raises(RecordingError, match="fsync failed"):
        writer.append(RecordKind.ORDER, b"{}", 0, 0)
    with pytest.raises(RecordingError, match="earlier I/O error"):
        writer.sync()
    with pytest.raises(RecordingError, match="earlier I/O error"):
        writer.append(RecordKind.ORDER, b"{}", 0, 0)
    assert writer.statistics().last_seq == 1
    assert writer.durable_seq == 0
    writer.close()


def test_close_is_idempotent_and_appending_after_it_fails(tmp_path: Path) -> None:
    writer = RecordingWriter.open(tmp_path / "r.twrec", meta={})
    writer.close()
    writer.close()
    with pytest.raises(RecordingError, match="closed"):
        writer.append(RecordKind.INBOUND, b"x", 0, 0)


def test_group_parameters_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="positive"):
        RecordingWriter.open(tmp_path / "r.twrec", meta={}, group_records=0)
    assert not (tmp_path / "r.twrec").exists()


def test_statistics_count_records_and_bytes(tmp_path: Path) -> None:
    path = tmp_path / "r.twrec"
    with RecordingWriter.open(path, meta={}, durability=Durability.PROCESS) as writer:
        writer.append(RecordKind.INBOUND, b"abc", 0, 0)
        stats = writer.statistics()
    assert (stats.records, stats.last_seq) == (1, 1)
    assert stats.bytes_written == path.stat().st_size
