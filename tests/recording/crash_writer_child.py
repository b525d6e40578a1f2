"""Child process for the crash test: appends records forever, acknowledging each one.

Run as ``python crash_writer_child.py PATH``. After every ``append`` returns it writes the
record's sequence number and a newline to stdout (unbuffered), so every line the parent reads
is a record the writer acknowledged. The parent SIGKILLs it at a point of its choosing.
"""

from __future__ import annotations

import os
import sys

from framework.recording import Durability, RecordingWriter, RecordKind

#: Stop on our own eventually if the parent never kills us.
LIMIT = 2_000_000


def payload_for(seq: int) -> bytes:
    """A deterministic payload of varying size; every 97th is large, to widen torn writes."""
    repeat = 200_000 if seq % 97 == 0 else 1 + (seq * 7919) % 300
    return (f"{seq}:" * repeat).encode()


def main(path: str) -> None:
    with RecordingWriter.open(path, meta={"test": "crash"}, durability=Durability.PROCESS) as w:
        for seq in range(1, LIMIT + 1):
            acknowledged = w.append(RecordKind.INBOUND, payload_for(seq), seq, seq)
            os.write(1, b"%d\n" % acknowledged)


if __name__ == "__main__":
    main(sys.argv[1])
