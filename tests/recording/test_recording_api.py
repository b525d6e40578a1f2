"""The public API of framework.recording, pinned."""

from __future__ import annotations

import framework.recording


def test_public_api_is_pinned() -> None:
    assert sorted(framework.recording.__all__) == sorted(
        [
            "DEFAULT_GROUP_INTERVAL_NS",
            "DEFAULT_GROUP_RECORDS",
            "FORMAT_VERSION",
            "MAX_PAYLOAD_BYTES",
            "AsyncRecordingWriter",
            "Corruption",
            "Durability",
            "Record",
            "Recording",
            "RecordingHeader",
            "RecordingSummary",
            "RecordingWriter",
            "RecordKind",
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
    )
    for name in framework.recording.__all__:
        assert hasattr(framework.recording, name), name
