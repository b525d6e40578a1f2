"""Appending to a recording: the sync :class:`RecordingWriter` and its Trio shell.

Design (see ``docs/recording-format.md``):

* **No user-space buffering.** Every :meth:`RecordingWriter.append` frames one record and hands
  it to the kernel with ``os.write`` (looping on partial writes) before returning, so an
  acknowledged record survives the death of the process, SIGKILL included. ``os.write`` of a
  small record to the page cache takes microseconds, so it is done inline, in the caller's task:
  that is what makes "record before deliver" (R-P1) a plain function call for the engine.
* **fsync is the only slow call.** The sync writer issues it inline (``STRICT``: every append;
  ``GROUP``: when the window is full). The Trio shell, :func:`open_recording_writer`, keeps the
  inline write but moves every fsync to one syncer task that runs it in
  ``trio.to_thread.run_sync``, so the event loop never waits for the disk.
* **Fail-stop.** Any ``OSError`` from ``write`` or ``fsync`` raises :class:`RecordingError` and
  leaves the writer unusable: every later call raises again, and a failed fsync is never retried
  (after a failed fsync the kernel may have dropped the dirty pages, so a retry that "succeeds"
  proves nothing).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import trio

from .._closing import ClosesOnExit
from .._errors import RecordingError
from ._format import (
    FORMAT_VERSION,
    KINDS_BY_VERSION,
    Durability,
    RecordingFile,
    RecordingHeader,
    RecordKind,
    encode_header,
    encode_record,
    first_version_with,
    tradewire_version,
)
from ._reader import _repair

logger = logging.getLogger(__name__)

#: ``GROUP`` durability: fsync once the oldest unsynced record is this old (200 ms) ...
DEFAULT_GROUP_INTERVAL_NS = 200_000_000
#: ... or once this many records are unsynced, whichever comes first.
DEFAULT_GROUP_RECORDS = 256

#: Capacity of the shell's sync-request channel. A request only says "there is unsynced data"
#: and requests coalesce (a full channel already carries the news), so one slot is enough.
SYNC_REQUESTS_CHANNEL_SIZE = 1

_FILE_MODE = 0o600
_DIR_MODE = 0o700


@attrs.frozen(slots=True, kw_only=True)
class WriterStatistics:
    """A snapshot of a writer: ``last_seq`` is the newest record handed to the OS,
    ``durable_seq`` the newest one known to be fsynced (0 if none)."""

    records: int
    bytes_written: int
    last_seq: int
    durable_seq: int
    syncs: int


class RecordingWriter(RecordingFile, ClosesOnExit):
    """Appends records to one ``.twrec`` file; the sync core of the recorder.

    Create one with :meth:`open` (a new file) or :meth:`resume` (continue an existing one).
    One owner calls it; the only call that may come from another thread is :meth:`sync`, which
    is how the Trio shell keeps fsync off the event loop.

    Usable as a context manager that calls :meth:`close`.
    """

    def __init__(
        self,
        fd: int,
        path: Path,
        header: RecordingHeader,
        *,
        next_seq: int,
        bytes_written: int,
        group_interval_ns: int,
        group_records: int,
    ) -> None:
        self._fd = fd
        self._path = path
        self._header = header
        # The kinds this file's version may hold: a resumed older file stays readable by the
        # release that wrote it.
        self._kinds = KINDS_BY_VERSION[header.version]
        self._durability = header.durability
        self._last_seq = next_seq - 1
        self._durable_seq = 0
        self._records = 0
        self._bytes_written = bytes_written
        self._syncs = 0
        self._group_interval_ns = group_interval_ns
        self._group_records = group_records
        self._unsynced = 0
        self._window_start_ns = 0
        # The Trio shell turns this off and runs the durability policy itself.
        self._inline_sync = True
        self._failure: RecordingError | None = None
        self._closed = False

    # -- creation ---------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        meta: Mapping[str, Any],
        durability: Durability = Durability.GROUP,
        session_id: str | None = None,
        created_wall_ns: int | None = None,
        group_interval_ns: int = DEFAULT_GROUP_INTERVAL_NS,
        group_records: int = DEFAULT_GROUP_RECORDS,
    ) -> RecordingWriter:
        """Create a new recording at ``path`` and write its header, at :data:`FORMAT_VERSION`.

        The file is created ``0600`` with ``O_EXCL``: an existing file is never overwritten
        (:class:`RecordingError`). Missing parent directories are created ``0700``. ``meta``
        must be a JSON-serialisable mapping and must already be redacted. Under ``GROUP`` and
        ``STRICT`` the header and the directory entry are fsynced before this returns.
        ``created_wall_ns`` defaults to the wall clock, ``session_id`` to a random UUID.
        """
        _check_group(group_interval_ns, group_records)
        path = Path(path)
        header = RecordingHeader(
            version=FORMAT_VERSION,
            session_id=session_id if session_id is not None else uuid.uuid4().hex,
            created_wall_ns=created_wall_ns if created_wall_ns is not None else time.time_ns(),
            tradewire_version=tradewire_version(),
            durability=durability,
            first_seq=1,
            meta=dict(meta),
        )
        data = encode_header(header)
        try:
            _make_private_dirs(path.parent)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, _FILE_MODE)
        except FileExistsError as exc:
            raise RecordingError(
                f"{path}: already exists; a recording is never overwritten"
            ) from exc
        except OSError as exc:
            raise RecordingError(f"{path}: cannot create recording: {exc}") from exc
        try:
            _write_all(fd, data)
            if durability is not Durability.PROCESS:
                os.fsync(fd)
                _fsync_dir(path.parent)
        except OSError as exc:
            os.close(fd)
            # Nothing was recorded yet; leaving a headerless file would only block a retry.
            path.unlink(missing_ok=True)
            raise RecordingError(f"{path}: cannot write recording header: {exc}") from exc
        writer = cls(
            fd,
            path,
            header,
            next_seq=1,
            bytes_written=len(data),
            group_interval_ns=group_interval_ns,
            group_records=group_records,
        )
        if durability is not Durability.PROCESS:
            writer._syncs = 1
        return writer

    @classmethod
    def resume(
        cls,
        path: str | os.PathLike[str],
        *,
        durability: Durability | None = None,
        group_interval_ns: int = DEFAULT_GROUP_INTERVAL_NS,
        group_records: int = DEFAULT_GROUP_RECORDS,
    ) -> RecordingWriter:
        """Continue an existing recording after its last valid record.

        Runs :func:`repair_recording` first (a torn tail is truncated and logged); a file with
        mid-file corruption raises :class:`RecordingCorrupted` and is never appended to again -
        start a new file instead. ``durability`` defaults to the level in the file's header.

        The file keeps its format version (``header.version``; the header is never rewritten),
        so the release that wrote it can still read it: :meth:`append` refuses a kind that
        version cannot hold. A file written by a newer tradewire raises
        :class:`RecordingError` and is left untouched.
        """
        _check_group(group_interval_ns, group_records)
        path = Path(path)
        header, report = _repair(path)
        if report.torn_tail_bytes:
            logger.warning(
                "%s: dropped a torn tail of %d bytes (%s) after seq %d",
                path,
                report.torn_tail_bytes,
                report.torn_tail_reason,
                report.last_good_seq,
            )
        if durability is not None:
            header = attrs.evolve(header, durability=durability)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        except OSError as exc:
            raise RecordingError(f"{path}: cannot open recording to resume: {exc}") from exc
        writer = cls(
            fd,
            path,
            header,
            next_seq=max(report.last_good_seq, header.first_seq - 1) + 1,
            bytes_written=0,
            group_interval_ns=group_interval_ns,
            group_records=group_records,
        )
        if header.durability is not Durability.PROCESS:
            writer.sync()
        return writer

    # -- properties -------------------------------------------------------------------------

    @property
    def durability(self) -> Durability:
        """The durability level appends are acknowledged at."""
        return self._durability

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest record handed to the OS (0 before the first)."""
        return self._last_seq

    @property
    def durable_seq(self) -> int:
        """Sequence number of the newest record known to be fsynced."""
        return self._durable_seq

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def statistics(self) -> WriterStatistics:
        """Counters for this writer since it was opened."""
        return WriterStatistics(
            records=self._records,
            bytes_written=self._bytes_written,
            last_seq=self._last_seq,
            durable_seq=self._durable_seq,
            syncs=self._syncs,
        )

    # -- writing ----------------------------------------------------------------------------

    def append(self, kind: RecordKind, payload: bytes, recv_wall_ns: int, recv_mono_ns: int) -> int:
        """Append one record and return its sequence number.

        On return the record has been handed to the OS; under ``STRICT`` it is also fsynced,
        under ``GROUP`` it is fsynced together with others once the oldest unsynced record is
        ``group_interval_ns`` older than this one (by ``recv_mono_ns``) or ``group_records`` are
        pending. The sync writer has no timer: an owner that may go quiet should call
        :meth:`sync` when idle, or use :func:`open_recording_writer`.

        A payload over ``MAX_PAYLOAD_BYTES``, or a ``kind`` the file's format version cannot
        hold (a ``TIMER`` record in a resumed version-1 file), raises :class:`RecordingError`
        and writes nothing, and the writer goes on; an I/O error raises
        :class:`RecordingError` and stops the writer for good.
        """
        seq = self._write(kind, payload, recv_wall_ns, recv_mono_ns)
        if self._inline_sync and self._durability is not Durability.PROCESS:
            if self._durability is Durability.STRICT:
                self.sync()
            else:
                self._unsynced += 1
                if self._unsynced == 1:
                    self._window_start_ns = recv_mono_ns
                if (
                    self._unsynced >= self._group_records
                    or recv_mono_ns - self._window_start_ns >= self._group_interval_ns
                ):
                    self.sync()
                    self._unsynced = 0
        return seq

    def _write(self, kind: RecordKind, payload: bytes, recv_wall_ns: int, recv_mono_ns: int) -> int:
        self._check_usable()
        if self._kinds.get(kind) is not kind:
            raise self._refuse(kind)
        seq = self._last_seq + 1
        data = encode_record(seq, recv_wall_ns, recv_mono_ns, kind, payload)
        try:
            _write_all(self._fd, data)
        except OSError as exc:
            raise self._fail(f"write of seq {seq} failed: {exc}", exc) from exc
        self._last_seq = seq
        self._records += 1
        self._bytes_written += len(data)
        return seq

    def _refuse(self, kind: object) -> Exception:
        if type(kind) is not RecordKind:
            return TypeError(f"kind must be a RecordKind, got {kind!r}")
        version = self._header.version
        return RecordingError(
            f"{self._path}: a version-{version} recording cannot hold {kind.name} records "
            f"(kind {kind.value}, from format version {first_version_with(kind)}): a tradewire "
            f"that reads only version {version} would take one for damage; write them to a new "
            f"recording"
        )

    def sync(self) -> None:
        """fsync everything appended so far; afterwards ``durable_seq == last_seq`` as of the call.

        Safe to call from a worker thread while the owner keeps appending (the records appended
        meanwhile may or may not be covered). An error raises :class:`RecordingError` and stops
        the writer; it is never retried.
        """
        self._check_usable()
        target = self._last_seq
        try:
            os.fsync(self._fd)
        except OSError as exc:
            raise self._fail(f"fsync failed (not retried): {exc}", exc) from exc
        self._syncs += 1
        self._durable_seq = max(self._durable_seq, target)

    def close(self) -> None:
        """fsync (``GROUP``/``STRICT``) and close the file. Idempotent.

        After an earlier I/O error the file is closed without another fsync.
        """
        if self._closed:
            return
        try:
            if self._failure is None and self._durability is not Durability.PROCESS:
                self.sync()
        finally:
            self._closed = True
            try:
                os.close(self._fd)
            except OSError as exc:
                raise RecordingError(f"{self._path}: close failed: {exc}") from exc

    def _check_usable(self) -> None:
        if self._failure is not None:
            raise RecordingError(
                f"{self._path}: recording stopped after an earlier I/O error: {self._failure}"
            ) from self._failure
        if self._closed:
            raise RecordingError(f"{self._path}: recording writer is closed")

    def _fail(self, what: str, exc: OSError) -> RecordingError:
        error = RecordingError(f"{self._path}: {what}")
        error.__cause__ = exc
        self._failure = error
        logger.error("%s: recording stopped: %s", self._path, what)
        return error


class AsyncRecordingWriter:
    """The Trio face of a :class:`RecordingWriter`; obtained from :func:`open_recording_writer`.

    Records are written inline (``os.write`` in the calling task, so the order of appends is the
    order of calls, whatever the scheduler does); fsyncs run in a worker thread driven by one
    syncer task.
    """

    def __init__(self, core: RecordingWriter, send: trio.MemorySendChannel[None]) -> None:
        self._core = core
        self._requests = send
        self._pending = 0
        self._window_start = 0.0
        self._urgent = False
        self._synced = trio.Event()
        self._group_interval = core._group_interval_ns / 1e9
        self._group_records = core._group_records

    @property
    def path(self) -> Path:
        """Where the recording is."""
        return self._core.path

    @property
    def header(self) -> RecordingHeader:
        """The header written at the start of the file."""
        return self._core.header

    @property
    def durability(self) -> Durability:
        """The durability level this writer was opened with."""
        return self._core.durability

    def statistics(self) -> WriterStatistics:
        """Counters of the underlying writer."""
        return self._core.statistics()

    def append_nowait(
        self, kind: RecordKind, payload: bytes, recv_wall_ns: int, recv_mono_ns: int
    ) -> int:
        """Append one record without blocking and return its sequence number.

        On return the record is in the OS (``PROCESS`` durability). Under ``GROUP`` the syncer
        fsyncs it within ``group_interval_ns`` (trio time) or once ``group_records`` are
        pending; under ``STRICT`` an fsync is requested at once - await :meth:`wait_durable`
        (or use :meth:`append`) before acting on the record. Raises like
        :meth:`RecordingWriter.append`.
        """
        seq = self._core._write(kind, payload, recv_wall_ns, recv_mono_ns)
        durability = self._core.durability
        if durability is Durability.PROCESS:
            return seq
        self._pending += 1
        if self._pending == 1:
            self._window_start = trio.current_time()
            self._request()
        if durability is Durability.STRICT or self._pending >= self._group_records:
            self._urgent = True
            self._request()
        return seq

    async def append(
        self, kind: RecordKind, payload: bytes, recv_wall_ns: int, recv_mono_ns: int
    ) -> int:
        """Append one record; under ``STRICT`` return only once it is fsynced.

        Cancellation: the record is written before the first checkpoint, so a cancelled
        ``STRICT`` append may leave the record in the file, not yet known to be durable.
        Backpressure: none beyond the disk; ``STRICT`` appends from several tasks share fsyncs.
        """
        seq = self.append_nowait(kind, payload, recv_wall_ns, recv_mono_ns)
        if self._core.durability is Durability.STRICT:
            await self.wait_durable(seq)
        else:
            await trio.lowlevel.checkpoint()
        return seq

    async def wait_durable(self, seq: int) -> None:
        """Wait until record ``seq`` is fsynced.

        Under ``GROUP`` this waits for the group fsync that covers it (at most the group window
        away); under ``STRICT`` and ``PROCESS`` it asks the syncer for an fsync now. Raises
        :class:`RecordingError` if the writer fails first, ``ValueError`` for a ``seq`` not
        appended yet. Cancellation leaves the record as it is, just not waited for.
        """
        if seq > self._core.last_seq:
            raise ValueError(f"seq {seq} has not been appended (last is {self._core.last_seq})")
        if self._core.durability is not Durability.GROUP:
            self._urgent = True
            self._request()
        while self._core.durable_seq < seq:
            self._core._check_usable()
            await self._synced.wait()
        await trio.lowlevel.checkpoint()

    def _request(self) -> None:
        try:
            self._requests.send_nowait(None)
        except trio.WouldBlock:
            pass  # a request is already queued; requests coalesce
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass  # closing: the final fsync happens in close()

    async def _run_syncer(self, receive: trio.MemoryReceiveChannel[None]) -> None:
        async with receive:
            async for _ in receive:
                if self._core.durability is Durability.GROUP and not self._urgent:
                    with trio.move_on_at(self._window_start + self._group_interval):
                        while not self._urgent:
                            try:
                                await receive.receive()
                            except trio.EndOfChannel:
                                break
                if self._core.durable_seq < self._core.last_seq:
                    self._pending = 0
                    self._urgent = False
                    try:
                        await trio.to_thread.run_sync(self._core.sync)
                    finally:
                        self._wake_waiters()
                else:
                    self._urgent = False
                    self._wake_waiters()

    def _wake_waiters(self) -> None:
        synced, self._synced = self._synced, trio.Event()
        synced.set()


@asynccontextmanager
async def open_recording_writer(
    path: str | os.PathLike[str],
    *,
    meta: Mapping[str, Any],
    durability: Durability = Durability.GROUP,
    session_id: str | None = None,
    created_wall_ns: int | None = None,
    group_interval_ns: int = DEFAULT_GROUP_INTERVAL_NS,
    group_records: int = DEFAULT_GROUP_RECORDS,
) -> AsyncIterator[AsyncRecordingWriter]:
    """Create a recording (see :meth:`RecordingWriter.open`) and own it for the block.

    Runs one syncer task that performs every fsync in ``trio.to_thread.run_sync``. Leaving the
    block closes the file after a final fsync (``GROUP``/``STRICT``), shielded from
    cancellation. A failed fsync raises :class:`RecordingError` out of the syncer, which cancels
    the block (it arrives wrapped in an ``ExceptionGroup``, as from any nursery); a failed
    ``os.write`` raises straight out of the append that hit it.
    """
    core = await trio.to_thread.run_sync(
        functools.partial(
            RecordingWriter.open,
            path,
            meta=meta,
            durability=durability,
            session_id=session_id,
            created_wall_ns=created_wall_ns,
            group_interval_ns=group_interval_ns,
            group_records=group_records,
        )
    )
    try:
        core._inline_sync = False
        send, receive = trio.open_memory_channel[None](SYNC_REQUESTS_CHANNEL_SIZE)
        writer = AsyncRecordingWriter(core, send)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(writer._run_syncer, receive)
            try:
                yield writer
            finally:
                send.close()
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(core.close)


def _check_group(group_interval_ns: int, group_records: int) -> None:
    if group_interval_ns <= 0 or group_records <= 0:
        raise ValueError(
            f"group_interval_ns and group_records must be positive, "
            f"got {group_interval_ns} and {group_records}"
        )


def _write_all(fd: int, data: bytes) -> None:
    done = os.write(fd, data)
    if done == len(data):
        return
    view = memoryview(data)
    while done < len(data):
        written = os.write(fd, view[done:])
        if written == 0:
            raise OSError(errno.EIO, "os.write made no progress")
        done += written


def _make_private_dirs(directory: Path) -> None:
    missing: list[Path] = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        # A directory created concurrently keeps the mode its creator gave it.
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, _DIR_MODE)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
