"""Write the format-version-1 fixtures beside this script, with the code of a release that
wrote version 1. Kept to show how the fixtures were made; it refuses to run with code that
writes another version, because then its output would prove nothing.

The committed files were made with commit 571800e (the last commit that wrote version 1),
running this script from the current tree against that commit's code::

    git worktree add /tmp/wt-v1 571800e
    PYTHONPATH=/tmp/wt-v1:/tmp/wt-v1/tests/execution \\
        python tests/recording/data/make_v1_recordings.py tests/recording/data
    git worktree remove /tmp/wt-v1

``v1-session.twrec``: a short live session as the feed journals it, holding every kind of
version 1 (INBOUND, OUTBOUND, CONNECTION, MARKER, ORDER, REST), built with that release's own
encoders (frames, subscribe, REST records, markers, redaction). ``v1-paper-journal.twrec``: a
paper journal as ``PaperJournal`` wrote it (ORDER records only), 20 steps of the seeded
session in ``tests/execution/paper_journal_child.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
from paper_journal_child import Session

from framework.adapters.insightsentry import SeriesFrame, SeriesPoint, Subscription, encode_frame
from framework.adapters.insightsentry._history import marker_payload, rest_record
from framework.adapters.insightsentry._rest import SeriesRequest
from framework.adapters.insightsentry._subscriptions import encode_subscribe
from framework.execution import PaperJournal
from framework.recording import (
    FORMAT_VERSION,
    Durability,
    RecordingWriter,
    RecordKind,
    Secret,
    redact,
)

MINUTE = 60_000_000_000
T0 = 1_767_571_200 * 1_000_000_000  # 2026-01-05T00:00:00Z
KEY = "fixture-key-not-a-secret"
FEED = "insightsentry"


def series(*opens: int, close: float) -> str:
    points = tuple(
        SeriesPoint(time_ns=t, open=close, high=close + 1, low=close - 1, close=close, volume=10.0)
        for t in opens
    )
    return encode_frame(
        SeriesFrame(
            code="NASDAQ:AAPL", bar_label="1m", bar_end_ns=None, last_update_ns=None, points=points
        )
    )


def write_session(path: Path) -> None:
    subscription = Subscription(code="NASDAQ:AAPL", bars=3)
    request = SeriesRequest.for_subscription(subscription, 4)
    meta = {
        "source": "insightsentry",
        "url": "wss://example.invalid/live",
        "subscriptions": [subscription.name],
        "warmup_bars": 3,
        "backfill": False,
        "fixture": "format version 1, made by tests/recording/data/make_v1_recordings.py",
    }
    t = [T0 + i * MINUTE for i in range(8)]
    records: list[tuple[RecordKind, bytes]] = [
        (RecordKind.MARKER, marker_payload("warmup_started", feed=FEED, bars=3)),
        (
            RecordKind.REST,
            rest_record(
                purpose="warmup",
                request=request,
                body=series(t[0], t[1], t[2], t[3], close=100.0),
                status=200,
                attempts=1,
            ),
        ),
        (RecordKind.MARKER, marker_payload("warmup_completed", feed=FEED, bars=3)),
        (RecordKind.CONNECTION, orjson.dumps({"event": "connected", "feed": FEED, "attempt": 1})),
        (
            RecordKind.OUTBOUND,
            redact(encode_subscribe(KEY, [subscription]), Secret(KEY)).encode(),
        ),
        (RecordKind.INBOUND, series(t[4], close=101.0).encode()),
        (RecordKind.INBOUND, series(t[5], close=102.0).encode()),
        (RecordKind.ORDER, orjson.dumps({"type": "start", "cash": 100_000.0})),
        (RecordKind.INBOUND, series(t[6], close=103.0).encode()),
        (
            RecordKind.CONNECTION,
            orjson.dumps(
                {"event": "disconnected", "feed": FEED, "reason": "closed", "reconnect_in": None}
            ),
        ),
    ]
    with RecordingWriter.open(
        path,
        meta=meta,
        durability=Durability.PROCESS,
        session_id="v1-fixture-session",
        created_wall_ns=T0 + 4 * MINUTE,
    ) as writer:
        for index, (kind, payload) in enumerate(records):
            writer.append(kind, payload, T0 + 4 * MINUTE + index * 1_000_000, 5_000 + index)


def write_paper_journal(path: Path) -> None:
    session = Session(11)
    journal = PaperJournal.open(path, durability=Durability.PROCESS)
    journal.attach(session.broker)
    for _ in range(20):
        session.step()
    journal.close()


def main() -> None:
    if FORMAT_VERSION != 1:
        sys.exit(f"this code writes format version {FORMAT_VERSION}; run with a version-1 release")
    directory = Path(sys.argv[1])
    write_session(directory / "v1-session.twrec")
    write_paper_journal(directory / "v1-paper-journal.twrec")


if __name__ == "__main__":
    main()
