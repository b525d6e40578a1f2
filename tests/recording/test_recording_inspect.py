"""summarize() counts, dates and checks a recording in one pass, with pluggable frame parsing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import orjson

from framework.recording import RecordKind, format_summary, summarize

Sample = tuple[Path, list[int]]


def _classify(text: str) -> str:
    document = orjson.loads(text)
    if "lp" not in document:
        raise ValueError("not a quote")
    return "quote"


def _symbols_of(text: str) -> Iterable[str]:
    code = orjson.loads(text).get("code")
    return [code] if code else []


def test_summary_counts_kinds_events_frames_and_symbols(sample_recording: Sample) -> None:
    path, _ = sample_recording
    summary = summarize(path, classify=_classify, symbols_of=_symbols_of)
    assert summary.records == 5
    assert summary.file_size == path.stat().st_size
    assert summary.first_wall_ns == 1_700_000_000_000_000_000
    assert summary.last_wall_ns == 1_700_000_000_000_000_004
    assert summary.counts_by_kind == {
        RecordKind.CONNECTION: 1,
        RecordKind.OUTBOUND: 1,
        RecordKind.INBOUND: 2,
        RecordKind.MARKER: 1,
    }
    assert summary.connection_events == 1
    assert summary.connection_events_by_name == {"connected": 1}
    assert summary.inbound_by_frame_kind == {"quote": 2}
    assert summary.symbols == frozenset({"NASDAQ:AAPL", "NASDAQ:MSFT"})
    assert summary.integrity.intact
    assert summary.header.meta == {"test": True}


def test_summary_without_a_classifier_leaves_frame_counts_empty(sample_recording: Sample) -> None:
    summary = summarize(sample_recording[0])
    assert summary.inbound_by_frame_kind == {}
    assert summary.symbols == frozenset()


def test_frames_the_classifier_rejects_are_counted_as_undecodable(
    tmp_path: Path, write_recording: Callable[[Path, list[tuple[RecordKind, bytes]]], list[int]]
) -> None:
    path = tmp_path / "r.twrec"
    write_recording(path, [(RecordKind.INBOUND, b'{"x":1}'), (RecordKind.INBOUND, b"\xff\xfe")])
    summary = summarize(path, classify=_classify)
    assert summary.inbound_by_frame_kind == {"<undecodable>": 2}


def test_summary_reports_damage_instead_of_raising(sample_recording: Sample) -> None:
    path, boundaries = sample_recording
    data = bytearray(path.read_bytes())
    data[boundaries[2] + 40] ^= 0x01
    path.write_bytes(bytes(data))

    stopped = summarize(path)
    assert stopped.records == 2
    assert stopped.integrity.corruption is not None
    assert "CORRUPTED at offset" in format_summary(stopped)

    salvaged = summarize(path, salvage=True)
    assert salvaged.records == 4
    assert "skipped" in format_summary(salvaged)


def test_format_summary_is_readable_text(sample_recording: Sample) -> None:
    text = format_summary(
        summarize(sample_recording[0], classify=_classify, symbols_of=_symbols_of)
    )
    assert "records    5: inbound 2, outbound 1, connection 1, marker 1, order 0" in text
    assert "symbols    2: NASDAQ:AAPL, NASDAQ:MSFT" in text
    assert "intact through seq 5" in text
    assert "2023-11-14T22:13:20Z" in text
