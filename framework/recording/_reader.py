"""Reading, verifying and repairing recordings.

Recovery is "longest valid prefix" (R-P4). Walking records from the header on, the first record
that fails a check (sync marker, length bound, CRC, known kind, or running off the end of the
file) is *damage* at that offset. The reader then scans forward for the next sync marker that
starts a complete record with a good CRC:

* none found: the damage is a **torn tail** (a partial record, a bad last record, zero fill) -
  an interrupted write, which :func:`repair_recording` truncates;
* one found: the damage is **mid-file corruption** - reading stops there and
  :class:`RecordingCorrupted` is raised, unless ``salvage=True`` asks to skip the damaged span
  and go on (every skipped span is reported).

A well-formed record whose sequence number is not the previous one plus one is corruption too,
and so is a well-formed record of a kind the file's format version cannot hold (a writer that
follows the format never writes one: a new kind comes with a new version, and an older file is
never given one), wherever it is - even last, it is never taken for a torn write and
truncated. Any other damaged *last* record cannot be told from a torn write, so it is reported
as a torn tail.

Files are read in :data:`READ_CHUNK_BYTES` chunks; memory use is one chunk plus the largest
record (and, while a batch of :meth:`Recording.entry_batches` is held, the records of one
chunk), whatever the file size.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import attrs

from .._closing import ClosesOnExit
from .._errors import RecordingCorrupted, RecordingError
from ._format import (
    CRC_START,
    KINDS_BY_VERSION,
    MAX_PAYLOAD_BYTES,
    PREAMBLE_SIZE,
    RECORD_HEAD,
    RECORD_HEAD_SIZE,
    SYNC_MARKER,
    SYNC_MARKER_INT,
    Record,
    RecordingFile,
    RecordingHeader,
    RecordKind,
    decode_header,
    first_version_with,
    header_json_length,
    header_size,
    make_record,
)

#: How much of the file is read at a time.
READ_CHUNK_BYTES = 1024 * 1024

#: The record head as the tight loops read it, without the fields they do not use (each
#: field read is an int to make): to verify, sync, crc, length, seq and kind; to gather
#: entries, also recv_wall_ns.
_VERIFY_HEAD = struct.Struct("<IIIQ16xB")
_ENTRY_HEAD = struct.Struct("<IIIQq8xB")
assert _VERIFY_HEAD.size == _ENTRY_HEAD.size == RECORD_HEAD_SIZE

#: What a scan yields: nothing, or lists of the accepted records of each chunk as Records or
#: as (kind, recv_wall_ns, payload).
_VERIFY, _RECORDS, _ENTRIES = 0, 1, 2


@attrs.frozen(slots=True, kw_only=True)
class Corruption:
    """A damaged span in the middle of a recording.

    ``offset`` is where the damage starts, ``last_good_seq`` the last record accepted before it,
    ``length`` the bytes of the span (0 for a sequence gap, where nothing on disk is damaged
    but records are missing), ``resumed_seq`` the first valid record after it (None if that
    record was itself dropped, as for a sequence going backwards).
    """

    offset: int
    last_good_seq: int
    reason: str
    length: int
    resumed_seq: int | None


@attrs.frozen(slots=True, kw_only=True)
class RecoveryReport:
    """What a scan of a recording found.

    ``records`` valid records were accepted, the last with ``last_good_seq`` (0 if none);
    ``valid_bytes`` is the offset just after it. ``torn_tail_bytes`` follow the valid data and
    hold no valid record (``torn_tail_reason`` says what the first bad bytes looked like).
    ``corruption`` is the first mid-file damage (None if there is none); without salvage the
    scan stopped there and the tail is not examined. ``skipped`` lists every damaged span a
    salvage scan stepped over.
    """

    records: int
    last_good_seq: int
    valid_bytes: int
    torn_tail_bytes: int
    torn_tail_reason: str | None
    corruption: Corruption | None
    skipped: tuple[Corruption, ...]

    @property
    def intact(self) -> bool:
        """True if the file is exactly a header plus valid records."""
        return self.corruption is None and self.torn_tail_bytes == 0


class _Scan:
    """One streaming pass over the records of an open file.

    ``batches()`` yields lists of the accepted records (``shape`` :data:`_RECORDS`) or of
    ``(kind, recv_wall_ns, payload)`` tuples (:data:`_ENTRIES`), in order, each list the
    records found in one buffer (a record the slow path checks comes alone), or nothing at all
    (:data:`_VERIFY`, to verify without allocating); ``records()`` yields them one by one.
    ``report()`` is valid once either is exhausted. ``end`` makes the
    scan treat that offset as the end of the file.
    """

    def __init__(
        self,
        file: BinaryIO,
        source: str,
        header: RecordingHeader,
        start: int,
        *,
        salvage: bool,
        end: int | None = None,
    ) -> None:
        self._file = file
        self._source = source
        self._first_seq = header.first_seq
        self._version = header.version
        # The kinds this file's version may hold: the hot loop's only kind check.
        self._kinds = KINDS_BY_VERSION[header.version]
        self._salvage = salvage
        self._end = end
        self._buf = b""
        self._base = start  # file offset of self._buf[0]
        self._eof = False
        self._records = 0
        self._last_good_seq = 0
        self._valid_bytes = start
        self._torn_bytes = 0
        self._torn_reason: str | None = None
        self._corruption: Corruption | None = None
        self._skipped: list[Corruption] = []
        # While looking past damage: where it started and whether all bytes since were zero.
        self._zeros_from: int | None = None
        self._all_zeros = False

    def report(self) -> RecoveryReport:
        return RecoveryReport(
            records=self._records,
            last_good_seq=self._last_good_seq,
            valid_bytes=self._valid_bytes,
            torn_tail_bytes=self._torn_bytes,
            torn_tail_reason=self._torn_reason,
            corruption=self._corruption,
            skipped=tuple(self._skipped),
        )

    def records(self, shape: int = _RECORDS) -> Iterator[Any]:
        for batch in self.batches(shape):
            yield from batch

    def batches(self, shape: int) -> Iterator[list[Any]]:
        unpack = RECORD_HEAD.unpack_from
        crc32 = zlib.crc32
        kinds = self._kinds
        head_size = RECORD_HEAD_SIZE
        marker = SYNC_MARKER_INT
        max_payload = MAX_PAYLOAD_BYTES
        pos = self._base
        expected = self._first_seq
        resynced = False  # just stepped over damage: any later seq is acceptable
        records = shape == _RECORDS
        buf = self._buf
        view = memoryview(buf)
        rel = 0
        while True:
            if not resynced:
                # The common case, in a tight loop: complete, intact records in sequence,
                # already in the buffer. Anything else leaves it for the checks below, which
                # look at the same record again. (A record's CRC is taken over a copy of it:
                # for records of a few hundred bytes, cheaper than a memoryview slice.)
                size = len(buf)
                start = rel
                first = expected
                if shape == _VERIFY:
                    unpack_verify = _VERIFY_HEAD.unpack_from
                    while rel + head_size <= size:
                        sync, crc, length, seq, kind_byte = unpack_verify(buf, rel)
                        end = rel + head_size + length
                        if (
                            sync != marker
                            or seq != expected
                            or end > size
                            or length > max_payload
                            or kind_byte not in kinds
                            or crc32(buf[rel + CRC_START : end]) != crc
                        ):
                            break
                        expected = seq + 1
                        rel = end
                else:
                    # The same checks, gathering the records: one list a buffer.
                    batch: list[Any] = []
                    append = batch.append
                    unpack_entry = unpack if records else _ENTRY_HEAD.unpack_from
                    mono = 0
                    while rel + head_size <= size:
                        if records:
                            sync, crc, length, seq, wall, mono, kind_byte = unpack(buf, rel)
                        else:
                            sync, crc, length, seq, wall, kind_byte = unpack_entry(buf, rel)
                        end = rel + head_size + length
                        if (
                            sync != marker
                            or seq != expected
                            or end > size
                            or length > max_payload
                            or kind_byte not in kinds
                            or crc32(buf[rel + CRC_START : end]) != crc
                        ):
                            break
                        if records:
                            append(
                                make_record(
                                    seq, wall, mono, kinds[kind_byte], buf[rel + head_size : end]
                                )
                            )
                        else:
                            append((kinds[kind_byte], wall, buf[rel + head_size : end]))
                        expected = seq + 1
                        rel = end
                    if batch:
                        yield batch
                if rel != start:
                    self._records += expected - first
                    self._last_good_seq = expected - 1
                    pos += rel - start
                    self._valid_bytes = pos
            if rel + head_size > len(buf):
                if not self._fill(pos, head_size):
                    if pos - self._base >= len(self._buf):
                        return  # clean end of file
                    resume = self._damage(pos, "partial record header", expected - 1)
                    if resume is None:
                        return
                    pos = resume
                    resynced = True
                buf = self._buf
                view = memoryview(buf)
                rel = pos - self._base
            sync, crc, length, seq, wall, mono, kind_byte = unpack(buf, rel)
            end = rel + head_size + length
            reason = ""
            if sync != marker:
                reason = "bad sync marker"
            elif length > max_payload:
                reason = f"implausible length {length}"
            else:
                if end > len(buf):
                    if self._fill(pos, head_size + length):
                        buf = self._buf
                        view = memoryview(buf)
                        rel = pos - self._base
                        end = rel + head_size + length
                    else:
                        reason = "record runs past the end of the file"
                if not reason:
                    if crc32(view[rel + CRC_START : end]) != crc:
                        reason = "checksum mismatch"
                    elif kind_byte not in kinds:
                        # Well-formed, so not a torn write: corruption even at the end.
                        damage = Corruption(
                            offset=pos,
                            last_good_seq=expected - 1,
                            reason=self._foreign_kind(kind_byte, seq),
                            length=head_size + length,
                            resumed_seq=None,
                        )
                        if not self._record_corruption(damage):
                            return
                        pos += head_size + length
                        rel = end
                        resynced = True
                        continue
            if reason:
                resume = self._damage(pos, reason, expected - 1)
                if resume is None:
                    return
                pos = resume
                resynced = True
                buf = self._buf
                view = memoryview(buf)
                rel = pos - self._base
                continue
            if seq != expected and not (resynced and seq > expected - 1):
                if seq > expected:
                    gap = f"sequence gap: expected {expected}, found {seq}"
                    damage = Corruption(
                        offset=pos,
                        last_good_seq=expected - 1,
                        reason=gap,
                        length=0,
                        resumed_seq=seq,
                    )
                else:
                    back = f"sequence went backwards: expected {expected}, found {seq}"
                    damage = Corruption(
                        offset=pos,
                        last_good_seq=expected - 1,
                        reason=back,
                        length=head_size + length,
                        resumed_seq=None,
                    )
                if not self._record_corruption(damage):
                    return
                if seq < expected:  # salvage: drop the stale record
                    pos += head_size + length
                    rel = end
                    continue
            resynced = False
            if shape == _ENTRIES:
                yield [(kinds[kind_byte], wall, buf[rel + head_size : end])]
            elif records:
                yield [make_record(seq, wall, mono, kinds[kind_byte], buf[rel + head_size : end])]
            self._records += 1
            self._last_good_seq = seq
            expected = seq + 1
            pos += head_size + length
            self._valid_bytes = pos
            rel = end

    def _foreign_kind(self, kind_byte: int, seq: int) -> str:
        """Why record ``seq``, of a kind this file's version cannot hold, is corruption."""
        try:
            what = f"is a {RecordKind(kind_byte).name} record (kind {kind_byte}, from format "
            what += f"version {first_version_with(RecordKind(kind_byte))})"
        except ValueError:
            what = f"has unknown record kind {kind_byte}"
        return (
            f"record seq {seq} {what}, which a version-{self._version} recording cannot hold "
            f"(it holds kinds {min(self._kinds)}-{max(self._kinds)}): the file was not written "
            f"by a tradewire that follows the format"
        )

    def _damage(self, pos: int, reason: str, last_good_seq: int) -> int | None:
        """Classify damage at ``pos``; return the offset to go on from (salvage only)."""
        self._zeros_from = pos
        self._all_zeros = True
        found = self._find_valid_record(pos + 1)
        self._zeros_from = None
        if found is None:
            self._torn_bytes = self._base + len(self._buf) - pos
            tail = self._buf[max(pos - self._base, 0) :]
            zero_fill = self._all_zeros and not tail.strip(b"\x00")
            self._torn_reason = "zero fill" if zero_fill else reason
            return None
        resumed_seq = RECORD_HEAD.unpack_from(self._buf, found - self._base)[3]
        damage = Corruption(
            offset=pos,
            last_good_seq=last_good_seq,
            reason=reason,
            length=found - pos,
            resumed_seq=resumed_seq,
        )
        return found if self._record_corruption(damage) else None

    def _record_corruption(self, damage: Corruption) -> bool:
        if self._corruption is None:
            self._corruption = damage
        if not self._salvage:
            return False
        self._skipped.append(damage)
        return True

    def _find_valid_record(self, pos: int) -> int | None:
        """Offset of the first complete, checksummed record at or after ``pos`` (the buffer then
        holds all of it), or None if the file ends first."""
        while True:
            rel = max(pos - self._base, 0)
            found = self._buf.find(SYNC_MARKER, rel)
            if found < 0:
                if self._eof:
                    return None
                # Keep the last bytes: they may hold the start of a marker.
                keep = max(pos, self._base + len(self._buf) - (len(SYNC_MARKER) - 1))
                self._read_more(keep, READ_CHUNK_BYTES)
                pos = keep
                continue
            candidate = self._base + found
            if self._is_valid_record(candidate):
                return candidate
            pos = candidate + 1

    def _is_valid_record(self, pos: int) -> bool:
        if not self._fill(pos, RECORD_HEAD_SIZE):
            return False
        rel = pos - self._base
        _, crc, length, _, _, _, kind_byte = RECORD_HEAD.unpack_from(self._buf, rel)
        if length > MAX_PAYLOAD_BYTES or kind_byte not in self._kinds:
            return False
        if not self._fill(pos, RECORD_HEAD_SIZE + length):
            return False
        rel = pos - self._base
        end = rel + RECORD_HEAD_SIZE + length
        return bool(zlib.crc32(memoryview(self._buf)[rel + CRC_START : end]) == crc)

    def _fill(self, pos: int, size: int) -> bool:
        """Make the buffer hold bytes ``[pos, pos + size)``; False if the file ends first."""
        while self._base + len(self._buf) < pos + size:
            if self._eof:
                return False
            self._read_more(pos, max(READ_CHUNK_BYTES, pos + size - self._base - len(self._buf)))
        return True

    def _read_more(self, keep: int, size: int) -> None:
        """Drop buffered bytes before offset ``keep`` and read up to ``size`` more."""
        if keep > self._base:
            if self._zeros_from is not None and self._all_zeros:
                dropped = self._buf[max(self._zeros_from - self._base, 0) : keep - self._base]
                self._all_zeros = not dropped.strip(b"\x00")
            self._buf = self._buf[keep - self._base :]
            self._base = keep
        if self._end is not None:
            size = min(size, self._end - self._base - len(self._buf))
        chunk = self._file.read(size) if size > 0 else b""
        if chunk:
            self._buf += chunk
        else:
            self._eof = True


class _FileScan(ClosesOnExit):
    """An open recording positioned at its first record: ``header``, then one :class:`_Scan`."""

    def __init__(self, path: Path, *, salvage: bool, end: int | None = None) -> None:
        self.path = path
        try:
            self._file: BinaryIO = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise RecordingError(f"{path}: cannot open recording: {exc}") from exc
        try:
            self.header, self.data_offset = _read_header(self._file, str(path))
        except BaseException:
            self._file.close()
            raise
        self.scan = _Scan(
            self._file, str(path), self.header, self.data_offset, salvage=salvage, end=end
        )

    def close(self) -> None:
        self._file.close()


class Recording(RecordingFile):
    """A recording that has been verified end to end; iterate it for its records.

    Obtained from :func:`read_recording`. Each iteration re-reads the file in chunks (nothing
    is held in memory between iterations) up to the end found by verification, so bytes
    appended later are not seen. If the file changed underneath so that a record no longer
    verifies, iteration raises :class:`RecordingCorrupted`.
    """

    def __init__(
        self, path: Path, header: RecordingHeader, report: RecoveryReport, *, salvage: bool
    ) -> None:
        self._path = path
        self._header = header
        self._report = report
        self._salvage = salvage
        # Verification stopped after the last accepted record, or after records a salvage
        # dropped past it (a stale seq or a foreign kind at the end): iteration reads as far.
        self._end = max([report.valid_bytes, *(c.offset + c.length for c in report.skipped)])

    @property
    def meta(self) -> Mapping[str, Any]:
        """The caller's metadata stored in the header."""
        return self._header.meta

    @property
    def report(self) -> RecoveryReport:
        """What verification found (torn tail, salvaged spans)."""
        return self._report

    def __iter__(self) -> Iterator[Record]:
        return self._scan(_RECORDS, batches=False)

    def entries(self) -> Iterator[tuple[RecordKind, int, bytes]]:
        """``(kind, recv_wall_ns, payload)`` of each record: what replay needs, at a fraction
        of the cost of building :class:`Record` objects. Same records, same checks as
        iterating the recording."""
        return self._scan(_ENTRIES, batches=False)

    def entry_batches(self) -> Iterator[list[tuple[RecordKind, int, bytes]]]:
        """:meth:`entries` a list at a time (the records of one read chunk, often thousands):
        for a consumer that handles records in bulk, without one generator step per record.
        Same records, same order, same checks; the lists are the caller's to keep."""
        return self._scan(_ENTRIES, batches=True)

    def _scan(self, shape: int, *, batches: bool) -> Iterator[Any]:
        with _FileScan(self._path, salvage=self._salvage, end=self._end) as opened:
            scan = opened.scan
            yield from scan.batches(shape) if batches else scan.records(shape)
            again = scan.report()
        if again.records != self._report.records or again.skipped != self._report.skipped:
            raise RecordingCorrupted(f"{self._path}: recording changed after it was verified")

    def __repr__(self) -> str:
        return f"<Recording {str(self._path)!r} records={self._report.records}>"


def read_recording(path: str | os.PathLike[str], *, salvage: bool = False) -> Recording:
    """Open and verify a recording; iterate the result for its records.

    Verification is one streaming pass. A torn tail is tolerated (reported in ``.report``; the
    file is not modified). Mid-file corruption raises :class:`RecordingCorrupted` naming the
    offset, the last good seq and the reason - unless ``salvage`` is true, in which case damaged
    spans are skipped and listed in ``.report.skipped``. A file that is not a recording, or of
    an unsupported format version, raises :class:`RecordingError`.
    """
    path = Path(path)
    header, report = _verify(path, salvage=salvage)
    if report.corruption is not None and not salvage:
        raise _corrupted(path, report.corruption)
    return Recording(path, header, report, salvage=salvage)


def verify_recording(path: str | os.PathLike[str], *, salvage: bool = False) -> RecoveryReport:
    """Scan a recording and report its integrity; never raises for damaged records.

    Without ``salvage`` the scan stops at the first mid-file corruption. Raises
    :class:`RecordingError` only for a file whose header cannot be read.
    """
    return _verify(Path(path), salvage=salvage)[1]


def repair_recording(path: str | os.PathLike[str]) -> RecoveryReport:
    """Truncate a torn tail so the file ends with its last valid record; return what was found.

    Run this before appending to an existing recording (:meth:`RecordingWriter.resume` does).
    The truncation is fsynced. A file with mid-file corruption raises
    :class:`RecordingCorrupted` and is left untouched: it is never appended to again.
    """
    return _repair(Path(path))[1]


def _repair(path: Path) -> tuple[RecordingHeader, RecoveryReport]:
    header, report = _verify(path, salvage=False)
    if report.corruption is not None:
        raise _corrupted(path, report.corruption)
    if report.torn_tail_bytes:
        try:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.ftruncate(fd, report.valid_bytes)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise RecordingError(f"{path}: cannot truncate torn tail: {exc}") from exc
    return header, report


def _verify(path: Path, *, salvage: bool) -> tuple[RecordingHeader, RecoveryReport]:
    with _FileScan(path, salvage=salvage) as opened:
        for _ in opened.scan.batches(_VERIFY):
            pass
        return opened.header, opened.scan.report()


def _read_header(file: BinaryIO, source: str) -> tuple[RecordingHeader, int]:
    try:
        preamble = _read_exactly(file, PREAMBLE_SIZE)
        length = header_json_length(preamble, source)
        data = preamble + _read_exactly(file, header_size(length) - PREAMBLE_SIZE)
    except OSError as exc:
        raise RecordingError(f"{source}: cannot read recording: {exc}") from exc
    header = decode_header(data, source)
    return header, header_size(length)


def _read_exactly(file: BinaryIO, size: int) -> bytes:
    parts: list[bytes] = []
    remaining = size
    while remaining:
        chunk = file.read(remaining)
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def _corrupted(path: Path, damage: Corruption) -> RecordingCorrupted:
    follows = "; valid records follow" if damage.resumed_seq is not None else ""
    return RecordingCorrupted(
        f"{path}: corrupted record at offset {damage.offset} after seq {damage.last_good_seq}: "
        f"{damage.reason}{follows} (read with salvage=True to skip the damage)"
    )
