"""The Trio shell: inline writes, fsync in a worker thread on the group window, clean close.

These tests use the real clock: fsync runs in a worker thread, and trio's autojump clock does
not know about threads (it would jump straight to the ``fail_after`` deadline while an fsync is
in flight). Group windows are kept short, and the only time assertions are lower bounds that
the design guarantees (no fsync before the window ends).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import trio

from framework import RecordingError
from framework.recording import Durability, RecordKind, open_recording_writer, read_recording

BOUND = 10  # seconds; every test runs under trio.fail_after(BOUND)


async def test_records_are_readable_after_the_block(tmp_path: Path) -> None:
    path = tmp_path / "r.twrec"
    with trio.fail_after(BOUND):
        async with open_recording_writer(path, meta={"feed": "test"}) as rec:
            assert await rec.append(RecordKind.CONNECTION, b'{"event":"connected"}', 1, 1) == 1
            assert rec.append_nowait(RecordKind.INBOUND, b"frame", 2, 2) == 2
            # written before the call returned: visible to a reader right now
            assert [r.seq for r in read_recording(path)] == [1, 2]
    recording = read_recording(path)
    assert recording.report.intact
    assert recording.meta == {"feed": "test"}
    assert [r.payload for r in recording] == [b'{"event":"connected"}', b"frame"]
    assert rec.statistics().durable_seq == 2  # the final fsync on close


async def test_group_window_fsyncs_without_further_appends(tmp_path: Path) -> None:
    with trio.fail_after(BOUND):
        async with open_recording_writer(
            tmp_path / "r.twrec", meta={}, durability=Durability.GROUP, group_interval_ns=50_000_000
        ) as rec:
            start = trio.current_time()
            rec.append_nowait(RecordKind.INBOUND, b"x", 0, 0)
            await rec.wait_durable(1)
            assert trio.current_time() - start >= 0.05  # not before the window ended


async def test_group_fsyncs_once_enough_records_are_pending(tmp_path: Path) -> None:
    with trio.fail_after(BOUND):
        async with open_recording_writer(
            tmp_path / "r.twrec", meta={}, group_records=3, group_interval_ns=10**15
        ) as rec:
            for _ in range(2):
                rec.append_nowait(RecordKind.INBOUND, b"x", 0, 0)
            await trio.sleep(0.05)
            assert rec.statistics().durable_seq == 0  # the window is days long
            rec.append_nowait(RecordKind.INBOUND, b"x", 0, 0)
            await rec.wait_durable(3)  # the third record filled the group


async def test_strict_append_returns_only_once_durable(tmp_path: Path) -> None:
    with trio.fail_after(BOUND):
        async with open_recording_writer(
            tmp_path / "r.twrec", meta={}, durability=Durability.STRICT
        ) as rec:
            for expected in range(1, 6):
                seq = await rec.append(RecordKind.ORDER, b'{"order":1}', 0, 0)
                assert seq == expected
                assert rec.statistics().durable_seq >= seq


async def test_strict_appends_from_many_tasks_share_fsyncs(tmp_path: Path) -> None:
    durable: list[bool] = []

    async def submit() -> None:
        seq = await rec.append(RecordKind.ORDER, b"{}", 0, 0)
        durable.append(rec.statistics().durable_seq >= seq)

    with trio.fail_after(BOUND):
        async with (
            open_recording_writer(
                tmp_path / "r.twrec", meta={}, durability=Durability.STRICT
            ) as rec,
            trio.open_nursery() as nursery,
        ):
            for _ in range(20):
                nursery.start_soon(submit)
    assert durable == [True] * 20
    assert rec.statistics().syncs <= 21


async def test_wait_durable_forces_a_sync_under_process_durability(tmp_path: Path) -> None:
    with trio.fail_after(BOUND):
        async with open_recording_writer(
            tmp_path / "r.twrec", meta={}, durability=Durability.PROCESS
        ) as rec:
            seq = rec.append_nowait(RecordKind.MARKER, b"{}", 0, 0)
            assert rec.statistics().durable_seq == 0
            await rec.wait_durable(seq)
            assert rec.statistics().durable_seq == seq
            with pytest.raises(ValueError, match="not been appended"):
                await rec.wait_durable(seq + 1)


async def test_an_error_in_the_block_still_closes_a_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "r.twrec"
    with trio.fail_after(BOUND), pytest.RaisesGroup(KeyError):
        async with open_recording_writer(path, meta={}) as rec:
            rec.append_nowait(RecordKind.INBOUND, b"x", 0, 0)
            raise KeyError("boom")
    assert [r.payload for r in read_recording(path)] == [b"x"]


async def test_cancelling_the_block_closes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "r.twrec"
    with trio.fail_after(BOUND):
        with trio.move_on_after(0.05) as scope:
            async with open_recording_writer(path, meta={}) as rec:
                rec.append_nowait(RecordKind.INBOUND, b"x", 0, 0)
                await trio.sleep_forever()
        assert scope.cancelled_caught
    assert rec.statistics().durable_seq == 1
    assert [r.payload for r in read_recording(path)] == [b"x"]


async def test_an_fsync_failure_ends_the_block_with_recording_error(tmp_path: Path) -> None:
    path = tmp_path / "r.twrec"
    read_end, write_end = os.pipe()
    try:
        with trio.fail_after(BOUND), pytest.RaisesGroup(RecordingError):
            async with open_recording_writer(path, meta={}, group_interval_ns=10_000_000) as rec:
                fd = next(
                    int(n)
                    for n in os.listdir("/proc/self/fd")
                    if _readlink(f"/proc/self/fd/{n}") == str(path)
                )
                os.dup2(write_end, fd)  # fsync on a pipe fails with EINVAL
                rec.append_nowait(RecordKind.INBOUND, b"x", 0, 0)
                await trio.sleep_forever()  # the syncer's failure cancels this
        with pytest.raises(RecordingError, match="earlier I/O error"):
            rec.append_nowait(RecordKind.INBOUND, b"y", 0, 0)
    finally:
        os.close(read_end)
        os.close(write_end)


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""
