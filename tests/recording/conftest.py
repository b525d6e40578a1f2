"""Helpers shared by the recording tests: small recordings with known record boundaries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from framework.recording import Durability, RecordingWriter, RecordKind

#: (kind, payload) pairs; times are derived from the position so every record differs.
Entries = Sequence[tuple[RecordKind, bytes]]

SAMPLE: list[tuple[RecordKind, bytes]] = [
    (RecordKind.CONNECTION, b'{"event":"connected","attempt":1}'),
    (RecordKind.OUTBOUND, b'{"api_key":"<redacted:ab12>","subscriptions":[]}'),
    (RecordKind.INBOUND, b'{"code":"NASDAQ:AAPL","lp":189.25}'),
    (RecordKind.INBOUND, b'{"code":"NASDAQ:MSFT","lp":402.5,"volume":1200}'),
    (RecordKind.MARKER, b'{"marker":"gap","from":1,"to":2}'),
]


def write_entries(path: Path, entries: Entries) -> list[int]:
    """Write a PROCESS-durability recording; return the offsets where each record ends,
    preceded by the offset where the header ends."""
    boundaries: list[int] = []
    with RecordingWriter.open(
        path, meta={"test": True}, durability=Durability.PROCESS, created_wall_ns=1
    ) as writer:
        boundaries.append(writer.statistics().bytes_written)
        for index, (kind, payload) in enumerate(entries):
            writer.append(kind, payload, 1_700_000_000_000_000_000 + index, 5_000 + index)
            boundaries.append(writer.statistics().bytes_written)
    return boundaries


@pytest.fixture
def sample_recording(tmp_path: Path) -> tuple[Path, list[int]]:
    """A five-record recording and its boundaries (header end, then each record's end)."""
    path = tmp_path / "sample.twrec"
    return path, write_entries(path, SAMPLE)


@pytest.fixture
def sample_entries() -> list[tuple[RecordKind, bytes]]:
    """The entries of :func:`sample_recording`, in order."""
    return list(SAMPLE)


@pytest.fixture(scope="session")
def write_recording() -> Callable[[Path, Entries], list[int]]:
    """:func:`write_entries`, for tests that build their own recordings."""
    return write_entries
