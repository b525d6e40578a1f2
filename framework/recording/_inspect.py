"""What is in a recording: one streaming pass that counts, dates and checks it.

The recorder does not know the wire protocol; :func:`summarize` takes the codec's frame
classifier and symbol extractor as plain callables so the summary can say "1 200 quote frames
for 3 symbols" without this package importing the feed.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs
import orjson

from .._time import iso_from_nanos
from ._format import RecordingHeader, RecordKind
from ._reader import RecoveryReport, _FileScan

#: Label under which inbound frames the classifier cannot handle are counted.
UNDECODABLE = "<undecodable>"


def _frozen_counts(value: Mapping[Any, int]) -> Mapping[Any, int]:
    return MappingProxyType(dict(value))


@attrs.frozen(slots=True, kw_only=True)
class RecordingSummary:
    """A recording at a glance.

    ``first_wall_ns``/``last_wall_ns`` span the accepted records (None if there are none).
    ``inbound_by_frame_kind`` and ``symbols`` are filled only when :func:`summarize` was given a
    classifier / symbol extractor. ``integrity`` is the recovery report of the same pass.
    """

    path: str
    file_size: int
    header: RecordingHeader
    records: int
    first_wall_ns: int | None
    last_wall_ns: int | None
    counts_by_kind: Mapping[RecordKind, int] = attrs.field(converter=_frozen_counts)
    connection_events: int
    connection_events_by_name: Mapping[str, int] = attrs.field(converter=_frozen_counts)
    inbound_by_frame_kind: Mapping[str, int] = attrs.field(converter=_frozen_counts)
    symbols: frozenset[str]
    integrity: RecoveryReport
    #: REST records by their header's ``purpose`` (``warmup``, ``backfill``, ``history``),
    #: failed requests counted under ``<purpose> failed``.
    rest_by_purpose: Mapping[str, int] = attrs.field(factory=dict, converter=_frozen_counts)


def summarize(
    path: str | os.PathLike[str],
    *,
    salvage: bool = False,
    classify: Callable[[str], str] | None = None,
    symbols_of: Callable[[str], Iterable[str]] | None = None,
) -> RecordingSummary:
    """Read a recording once and summarise it; damage is reported, not raised.

    Without ``salvage`` the counts stop at the first mid-file corruption (as a reader would);
    with it, damaged spans are skipped. ``classify(frame_text)`` labels each inbound frame (a
    ``ValueError`` from it, such as a ``DecodeError``, or a frame that is not UTF-8, counts as
    :data:`UNDECODABLE`); ``symbols_of(frame_text)`` names the symbols a frame carries.
    Raises :class:`RecordingError` only if the header cannot be read.
    """
    path = Path(path)
    counts: Counter[RecordKind] = Counter()
    connection_names: Counter[str] = Counter()
    frame_kinds: Counter[str] = Counter()
    rest_purposes: Counter[str] = Counter()
    symbols: set[str] = set()
    first_wall: int | None = None
    last_wall: int | None = None
    with _FileScan(path, salvage=salvage) as opened:
        for record in opened.scan.records():
            assert record is not None
            if first_wall is None:
                first_wall = record.recv_wall_ns
            last_wall = record.recv_wall_ns
            counts[record.kind] += 1
            if record.kind is RecordKind.CONNECTION:
                connection_names[_event_name(record.payload)] += 1
            elif record.kind is RecordKind.REST:
                rest_purposes[_rest_purpose(record.payload)] += 1
            elif record.kind is RecordKind.INBOUND and (classify or symbols_of):
                try:
                    text = record.payload.decode("utf-8")
                    if classify is not None:
                        frame_kinds[classify(text)] += 1
                    if symbols_of is not None:
                        symbols.update(symbols_of(text))
                except ValueError:
                    frame_kinds[UNDECODABLE] += 1
        report = opened.scan.report()
        header = opened.header
    return RecordingSummary(
        path=str(path),
        file_size=path.stat().st_size,
        header=header,
        records=report.records,
        first_wall_ns=first_wall,
        last_wall_ns=last_wall,
        counts_by_kind=counts,
        connection_events=counts[RecordKind.CONNECTION],
        connection_events_by_name=connection_names,
        inbound_by_frame_kind=frame_kinds,
        symbols=frozenset(symbols),
        integrity=report,
        rest_by_purpose=rest_purposes,
    )


def _rest_purpose(payload: bytes) -> str:
    """``purpose`` from a REST record's header line (``... failed`` when not ``ok``)."""
    head = payload.partition(b"\n")[0]
    try:
        document = orjson.loads(head)
    except orjson.JSONDecodeError:
        return UNDECODABLE
    if not isinstance(document, dict) or not isinstance(document.get("purpose"), str):
        return UNDECODABLE
    purpose: str = document["purpose"]
    return purpose if document.get("ok") else f"{purpose} failed"


def _event_name(payload: bytes) -> str:
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return UNDECODABLE
    name = document.get("event") if isinstance(document, dict) else None
    return name if isinstance(name, str) else UNDECODABLE


def format_summary(summary: RecordingSummary) -> str:
    """The summary as a few lines of plain text for a terminal."""
    header = summary.header
    lines = [
        f"recording  {summary.path} ({summary.file_size:,} bytes)",
        f"session    {header.session_id}, created {iso_from_nanos(header.created_wall_ns)}, "
        f"tradewire {header.tradewire_version}, format version {header.version}, "
        f"durability {header.durability.value}",
    ]
    if summary.first_wall_ns is not None and summary.last_wall_ns is not None:
        seconds = (summary.last_wall_ns - summary.first_wall_ns) / 1e9
        lines.append(
            f"span       {iso_from_nanos(summary.first_wall_ns)} .. "
            f"{iso_from_nanos(summary.last_wall_ns)} ({seconds:,.3f} s)"
        )
    else:
        lines.append("span       (no records)")
    kinds = ", ".join(
        f"{kind.name.lower()} {summary.counts_by_kind.get(kind, 0):,}" for kind in RecordKind
    )
    lines.append(f"records    {summary.records:,}: {kinds}")
    if summary.connection_events_by_name:
        names = ", ".join(
            f"{n} {c:,}" for n, c in sorted(summary.connection_events_by_name.items())
        )
        lines.append(f"connection {summary.connection_events:,} events: {names}")
    if summary.rest_by_purpose:
        answers = ", ".join(f"{n} {c:,}" for n, c in sorted(summary.rest_by_purpose.items()))
        lines.append(f"rest       {answers}")
    if summary.inbound_by_frame_kind:
        frames = ", ".join(f"{n} {c:,}" for n, c in sorted(summary.inbound_by_frame_kind.items()))
        lines.append(f"frames     {frames}")
    if summary.symbols:
        lines.append(f"symbols    {len(summary.symbols)}: {', '.join(sorted(summary.symbols))}")
    lines.append(f"integrity  {_integrity_text(summary.integrity)}")
    return "\n".join(lines)


def _integrity_text(report: RecoveryReport) -> str:
    if report.intact:
        return f"intact through seq {report.last_good_seq}"
    parts = [f"valid through seq {report.last_good_seq}"]
    if report.torn_tail_bytes:
        parts.append(f"torn tail of {report.torn_tail_bytes:,} bytes ({report.torn_tail_reason})")
    if report.skipped:
        parts.extend(
            f"skipped {c.length:,} bytes at offset {c.offset} after seq {c.last_good_seq} "
            f"({c.reason})"
            for c in report.skipped
        )
    elif report.corruption is not None:
        c = report.corruption
        parts.append(
            f"CORRUPTED at offset {c.offset} after seq {c.last_good_seq} ({c.reason}); "
            f"later records not read"
        )
    return "; ".join(parts)
