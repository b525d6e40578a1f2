"""The ``.twrec`` byte layout: constants, the file header and the record framing.

Everything here is pure (bytes in, values out); the writer and the reader own the files. The
full specification, with the recovery rules and the versioning policy, is
``docs/recording-format.md``. In short, all integers little-endian::

    header   magic "TWREC\\0" | u16 version | u32 n | n bytes of JSON | u32 crc32(version..JSON)
    record   u32 sync | u32 crc32(length..payload) | u32 length | u64 seq
             | i64 recv_wall_ns | i64 recv_mono_ns | u8 kind | payload

The CRC sits right after the sync marker so that it covers one contiguous run of bytes, the
length field included: a damaged length is caught by the CRC instead of being trusted.

Versions: this code writes :data:`FORMAT_VERSION` and reads every version in
:data:`KINDS_BY_VERSION`, which also says which record kinds a file of each version may hold.
A file of a newer version is refused before its header JSON is read ("written by a newer
tradewire"): its layout may have changed.
"""

from __future__ import annotations

import enum
import functools
import struct
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import orjson

from .._errors import RecordingCorrupted, RecordingError

#: First six bytes of every recording.
MAGIC = b"TWREC\x00"

#: The format version this code writes, and the newest it reads.
FORMAT_VERSION = 2

#: Every record starts with these four bytes. ``0xA5`` is a UTF-8 continuation byte and ``T``
#: is ASCII, so the marker can never occur inside valid UTF-8 text (inbound and outbound frames).
SYNC_MARKER = b"\xa5TW\x5a"

#: Largest payload a record may carry; a larger length on disk is damage, not data.
MAX_PAYLOAD_BYTES = 64 * 1024 * 1024

#: Largest header JSON accepted; a larger length on disk means the file is not a recording.
MAX_HEADER_JSON_BYTES = 1024 * 1024

_PREAMBLE = struct.Struct("<6sHI")  # magic, version, JSON length
_U32 = struct.Struct("<I")

#: Bytes before the header JSON: magic, version, JSON length.
PREAMBLE_SIZE = _PREAMBLE.size

#: The fixed part of a record: sync marker (as an integer, faster to compare than bytes), crc,
#: length, seq, recv_wall_ns, recv_mono_ns, kind.
RECORD_HEAD = struct.Struct("<IIIQqqB")
RECORD_HEAD_SIZE = RECORD_HEAD.size  # 37
SYNC_MARKER_INT: int = _U32.unpack(SYNC_MARKER)[0]

#: The CRC-covered fields after the CRC itself: length, seq, recv_wall_ns, recv_mono_ns, kind.
_CRC_FIELDS = struct.Struct("<IQqqB")
#: Offset of the first CRC-covered byte within a record.
CRC_START = 8

_U64_MAX = 2**64 - 1
_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1


class RecordKind(enum.IntEnum):
    """What a record holds. The payload of each kind is opaque bytes to the recorder."""

    #: A raw inbound WebSocket text frame, UTF-8, exactly as received.
    INBOUND = 1
    #: An outbound frame, UTF-8, already redacted (no secrets ever reach the file).
    OUTBOUND = 2
    #: A connection event as a JSON object (``event``, ``attempt``, ``reason``, ``code``, ...).
    CONNECTION = 3
    #: A gap, data-loss, backfill or backoff marker as a JSON object.
    MARKER = 4
    #: An order or fill of the paper-trading journal as a JSON object.
    ORDER = 5
    #: A REST answer (or failure) used by a feed: one JSON header line, ``\n``, the body
    #: exactly as received (redacted). The header's ``purpose`` says why it was fetched.
    REST = 6
    #: A live timer firing as a JSON object, written by the engine so that a replay fires the
    #: timer at the same position in the event stream. Format version 2 and later.
    TIMER = 7


def _kinds(*kinds: RecordKind) -> dict[int, RecordKind]:
    return {kind.value: kind for kind in kinds}


_VERSION_1_KINDS = (
    RecordKind.INBOUND,
    RecordKind.OUTBOUND,
    RecordKind.CONNECTION,
    RecordKind.MARKER,
    RecordKind.ORDER,
    RecordKind.REST,
)

#: Format version -> the record kinds a file of that version may hold, as kind byte -> member
#: (the reader's hot loop looks kinds up in its file's table: a dict lookup beats
#: ``RecordKind(b)``). The keys are the versions this code reads. Version 1 holds kinds 1-6:
#: ORDER and REST were added to it without a bump, so version-1 files of earlier releases may
#: hold them. Version 2 adds TIMER.
KINDS_BY_VERSION: Mapping[int, Mapping[int, RecordKind]] = {
    1: _kinds(*_VERSION_1_KINDS),
    2: _kinds(*_VERSION_1_KINDS, RecordKind.TIMER),
}


def first_version_with(kind: RecordKind) -> int:
    """The oldest format version whose files may hold ``kind``."""
    return min(v for v, kinds in KINDS_BY_VERSION.items() if kind.value in kinds)


class Durability(enum.Enum):
    """How far an appended record is guaranteed to have travelled when ``append`` returns.

    Named after what the acknowledged records survive:

    * ``PROCESS`` - handed to the kernel with ``os.write``: survives a crash of the process
      (even SIGKILL), not an OS crash or a power loss.
    * ``GROUP`` - as ``PROCESS``, and ``fsync`` is issued once the oldest unsynced record is
      ``group_interval_ns`` old or ``group_records`` records are unsynced: an OS crash loses at
      most that window.
    * ``STRICT`` - ``fsync`` before the append is acknowledged: survives an OS crash or power loss.
    """

    PROCESS = "process"
    GROUP = "group"
    STRICT = "strict"


@attrs.frozen(slots=True, kw_only=True)
class RecordingHeader:
    """The decoded file header.

    ``version`` is the file's format version (a key of :data:`KINDS_BY_VERSION`: what the
    file may hold); ``meta`` is the caller's free-form JSON object (subscriptions, redaction
    policy, ...); ``first_seq`` is the sequence number the first record must carry.
    """

    version: int
    session_id: str
    created_wall_ns: int
    tradewire_version: str
    durability: Durability
    first_seq: int
    meta: Mapping[str, Any]


class RecordingFile:
    """What the writer and a verified recording both are: one ``.twrec`` file and its
    header. Subclasses set ``_path`` and ``_header``."""

    _path: Path
    _header: RecordingHeader

    @property
    def path(self) -> Path:
        """Where the recording is."""
        return self._path

    @property
    def header(self) -> RecordingHeader:
        """The decoded file header (a writer's ``durability`` is the one it appends at)."""
        return self._header


@attrs.frozen(slots=True, kw_only=True)
class Record:
    """One journal entry: what arrived (or was sent, or happened), stamped at receive time."""

    seq: int
    recv_wall_ns: int
    recv_mono_ns: int
    kind: RecordKind
    payload: bytes

    def text(self) -> str:
        """The payload decoded as UTF-8 (inbound and outbound frames are text)."""
        return self.payload.decode("utf-8")


def _slot_setters() -> tuple[Any, ...]:
    slots = Record.__dict__
    return tuple(slots[name].__set__ for name in ("seq", "recv_wall_ns", "recv_mono_ns", "kind"))


_SET_SEQ, _SET_WALL, _SET_MONO, _SET_KIND = _slot_setters()
_SET_PAYLOAD = Record.__dict__["payload"].__set__


def make_record(
    seq: int, recv_wall_ns: int, recv_mono_ns: int, kind: RecordKind, payload: bytes
) -> Record:
    """``Record(...)`` for the reader's hot loop, at well under half the cost.

    Fills the slots through their descriptors instead of the frozen ``__init__`` (which goes
    through ``object.__setattr__`` by name). Valid because ``Record`` has no validators,
    converters or defaults; a test pins that both build equal records.
    """
    record: Record = object.__new__(Record)
    _SET_SEQ(record, seq)
    _SET_WALL(record, recv_wall_ns)
    _SET_MONO(record, recv_mono_ns)
    _SET_KIND(record, kind)
    _SET_PAYLOAD(record, payload)
    return record


def encode_header(header: RecordingHeader) -> bytes:
    """Serialise ``header`` at ``header.version`` (not checked: tests write other versions);
    raises ``TypeError`` if ``meta`` is not JSON-serialisable."""
    document = {
        "session_id": header.session_id,
        "created_wall_ns": header.created_wall_ns,
        "tradewire_version": header.tradewire_version,
        "durability": header.durability.value,
        "first_seq": header.first_seq,
        "meta": dict(header.meta),
    }
    try:
        body = orjson.dumps(document)
    except orjson.JSONEncodeError as exc:
        raise TypeError(f"recording metadata is not JSON-serialisable: {exc}") from exc
    if len(body) > MAX_HEADER_JSON_BYTES:
        raise RecordingError(
            f"recording metadata is {len(body)} bytes of JSON, over {MAX_HEADER_JSON_BYTES}"
        )
    covered = _PREAMBLE.pack(MAGIC, header.version, len(body))[len(MAGIC) :] + body
    return MAGIC + covered + _U32.pack(zlib.crc32(covered))


def header_json_length(preamble: bytes, source: str) -> int:
    """Check the fixed first bytes of a file and return the length of the header JSON.

    ``preamble`` must hold at least :data:`PREAMBLE_SIZE` bytes or the file is reported as
    truncated. Raises :class:`RecordingError` naming ``source`` for anything that is not a
    recording this code can read.
    """
    if len(preamble) < PREAMBLE_SIZE:
        if not MAGIC.startswith(preamble[: len(MAGIC)]):
            raise RecordingError(f"{source}: not a tradewire recording (bad magic)")
        raise RecordingError(f"{source}: truncated header ({len(preamble)} bytes)")
    magic, version, length = _PREAMBLE.unpack_from(preamble)
    if magic != MAGIC:
        raise RecordingError(f"{source}: not a tradewire recording (bad magic {magic!r})")
    if version not in KINDS_BY_VERSION:
        raise RecordingError(_unreadable_version(source, version))
    if length > MAX_HEADER_JSON_BYTES:
        raise RecordingError(f"{source}: header length {length} is implausible")
    return int(length)


@functools.cache
def tradewire_version() -> str:
    """The installed tradewire's version, as a header records it (``"unknown"`` if none)."""
    import importlib.metadata  # only when a recording is written or refused: light imports

    try:
        return importlib.metadata.version("tradewire")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _unreadable_version(source: str, version: int) -> str:
    readable = f"versions {min(KINDS_BY_VERSION)} to {FORMAT_VERSION}"
    if version > FORMAT_VERSION:
        return (
            f"{source}: written by a newer tradewire: recording format version {version}, "
            f"and this tradewire ({tradewire_version()}) reads {readable}; upgrade tradewire "
            f"(pip install -U tradewire) to read it"
        )
    return (
        f"{source}: recording format version {version} was never written by tradewire "
        f"(this tradewire reads {readable}); the file is damaged or not a tradewire recording"
    )


def decode_header(data: bytes, source: str) -> RecordingHeader:
    """Decode a complete header (``header_size(n)`` bytes from the start of the file).

    ``version`` is the file's own format version, one of :data:`KINDS_BY_VERSION`.
    """
    length = header_json_length(data, source)
    version = _PREAMBLE.unpack_from(data)[1]
    end = PREAMBLE_SIZE + length
    if len(data) < end + _U32.size:
        raise RecordingError(f"{source}: truncated header ({len(data)} bytes)")
    (stored,) = _U32.unpack_from(data, end)
    if zlib.crc32(data[len(MAGIC) : end]) != stored:
        raise RecordingCorrupted(f"{source}: header checksum mismatch")
    try:
        document = orjson.loads(data[PREAMBLE_SIZE:end])
        header = RecordingHeader(
            version=version,
            session_id=_typed(document, "session_id", str),
            created_wall_ns=_typed(document, "created_wall_ns", int),
            tradewire_version=_typed(document, "tradewire_version", str),
            durability=Durability(_typed(document, "durability", str)),
            first_seq=_typed(document, "first_seq", int),
            meta=_typed(document, "meta", dict),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise RecordingCorrupted(f"{source}: header JSON is invalid: {exc}") from exc
    if header.first_seq < 1:
        raise RecordingCorrupted(f"{source}: header first_seq {header.first_seq} < 1")
    return header


def is_cut_short_header(data: bytes) -> bool:
    """Whether ``data``, a whole file, is the start of a header whose write a crash cut short.

    Such a file holds no record: the header is written in one go before any record (and
    fsynced first under ``GROUP`` and ``STRICT``), so it can be replaced without losing
    anything. Anything else (a complete header, other bytes) is not cut short.
    """
    if len(data) < PREAMBLE_SIZE:
        return MAGIC.startswith(data[: len(MAGIC)])
    magic, version, length = _PREAMBLE.unpack_from(data)
    return (
        magic == MAGIC
        and version in KINDS_BY_VERSION
        and length <= MAX_HEADER_JSON_BYTES
        and len(data) < header_size(length)
    )


def header_size(json_length: int) -> int:
    """Total bytes of a header whose JSON is ``json_length`` bytes long."""
    return PREAMBLE_SIZE + json_length + _U32.size


def _typed(document: Any, key: str, kind: type[Any]) -> Any:
    value = document[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f"{key} should be {kind.__name__}, got {type(value).__name__}")
    return value


def encode_record(
    seq: int, recv_wall_ns: int, recv_mono_ns: int, kind: RecordKind, payload: bytes
) -> bytes:
    """Frame one record. Raises ``RecordingError`` for an oversized payload and ``ValueError``
    for a field that does not fit its integer type."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise RecordingError(
            f"record payload is {len(payload)} bytes, over the {MAX_PAYLOAD_BYTES}-byte limit"
        )
    if not 0 < seq <= _U64_MAX:
        raise ValueError(f"seq {seq} does not fit u64")
    if not (_I64_MIN <= recv_wall_ns <= _I64_MAX and _I64_MIN <= recv_mono_ns <= _I64_MAX):
        raise ValueError(f"timestamps {recv_wall_ns}, {recv_mono_ns} do not fit i64")
    fields = _CRC_FIELDS.pack(len(payload), seq, recv_wall_ns, recv_mono_ns, kind)
    crc = zlib.crc32(payload, zlib.crc32(fields))
    return b"".join((SYNC_MARKER, _U32.pack(crc), fields, payload))
