"""The session journal: a crash-safe, checksummed ``.twrec`` file of everything a live session
received and sent, written before anything is delivered, and read back for replay.

Write with :func:`open_recording_writer` (Trio) or :class:`RecordingWriter` (sync); read with
:func:`read_recording`; check and fix with :func:`verify_recording` / :func:`repair_recording`;
look inside with :func:`summarize`. The format is specified in ``docs/recording-format.md``.

:class:`Secret`, :func:`redact`, :class:`SecretFilter` and :func:`install_secret_filter`, which
keep the API key out of recordings and logs, live in :mod:`framework._secret` and are
re-exported here, where they were first published.
"""

from .._secret import Secret as Secret
from .._secret import SecretFilter as SecretFilter
from .._secret import install_secret_filter as install_secret_filter
from .._secret import redact as redact
from ._format import FORMAT_VERSION as FORMAT_VERSION
from ._format import MAX_PAYLOAD_BYTES as MAX_PAYLOAD_BYTES
from ._format import Durability as Durability
from ._format import Record as Record
from ._format import RecordingHeader as RecordingHeader
from ._format import RecordKind as RecordKind
from ._inspect import RecordingSummary as RecordingSummary
from ._inspect import format_summary as format_summary
from ._inspect import summarize as summarize
from ._reader import Corruption as Corruption
from ._reader import Recording as Recording
from ._reader import RecoveryReport as RecoveryReport
from ._reader import read_recording as read_recording
from ._reader import repair_recording as repair_recording
from ._reader import verify_recording as verify_recording
from ._writer import DEFAULT_GROUP_INTERVAL_NS as DEFAULT_GROUP_INTERVAL_NS
from ._writer import DEFAULT_GROUP_RECORDS as DEFAULT_GROUP_RECORDS
from ._writer import AsyncRecordingWriter as AsyncRecordingWriter
from ._writer import RecordingWriter as RecordingWriter
from ._writer import WriterStatistics as WriterStatistics
from ._writer import open_recording_writer as open_recording_writer

__all__ = [
    "DEFAULT_GROUP_INTERVAL_NS",
    "DEFAULT_GROUP_RECORDS",
    "FORMAT_VERSION",
    "MAX_PAYLOAD_BYTES",
    "AsyncRecordingWriter",
    "Corruption",
    "Durability",
    "Record",
    "RecordKind",
    "Recording",
    "RecordingHeader",
    "RecordingSummary",
    "RecordingWriter",
    "RecoveryReport",
    "Secret",
    "SecretFilter",
    "WriterStatistics",
    "format_summary",
    "install_secret_filter",
    "open_recording_writer",
    "read_recording",
    "redact",
    "repair_recording",
    "summarize",
    "verify_recording",
]
