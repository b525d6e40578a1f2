"""Child process of the crash-point drills: the ``tradewire`` command line, its file writes
reported, optionally stopped at one of them to be killed there.

Run as ``python crash_child.py COMMAND ARGS...`` (what ``tradewire COMMAND ARGS...`` runs).
Every record reaches a ``.twrec`` file in one ``os.write`` (docs/recording-format.md, section
3), so wrapping ``os.write`` sees each append whole, with its sequence number and kind, without
touching the code that writes. The environment says what to watch:

- ``TRADEWIRE_CRASH_FILES``: JSON ``{tag: path}`` of the files to watch (a journal, a
  recording);
- ``TRADEWIRE_CRASH_FD``: a pipe to report on, one line per event:
  ``header TAG SIZE`` once a file's header is written, ``ack TAG SEQ KIND FILLS`` once a record
  is (``FILLS``: how many fills a paper-journal record holds), and
  ``crash TAG SEQ SIZE WRITTEN`` at the crash point (``SEQ`` 0 for a header);
- ``TRADEWIRE_CRASH_POINT`` (optional): JSON ``{"tag", "match", "nth", "cut"}``. The ``nth``
  write to file ``tag`` that ``match`` selects (``header``, ``any`` record, a record with a
  ``fill``, an ``inbound``, ``outbound`` or ``connection`` record) is the crash point. With
  ``cut`` null the write completes and is acknowledged; with ``cut`` a fraction in [0, 1)
  only that share of its bytes is written (0: none; otherwise at least one byte and never
  all). Then the process reports the crash and stops dead, waiting for the SIGKILL.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import time
from collections import Counter
from typing import Any

MAGIC = b"TWREC\x00"
SYNC_MARKER = b"\xa5TW\x5a"
#: Where the sequence number and the kind byte sit in a record (docs/recording-format.md).
SEQ_AT, KIND_AT = 12, 36
KINDS = {"inbound": 1, "outbound": 2, "connection": 3}
#: Every fill in a paper-journal record carries this key, no order does.
FILL_KEY = b'"guess":'


def _fills(data: bytes) -> int:
    return data.count(FILL_KEY)


def _matches(match: str, data: bytes) -> bool:
    if match == "header":
        return data.startswith(MAGIC)
    if not data.startswith(SYNC_MARKER):
        return False
    if match == "any":
        return True
    if match == "fill":
        return _fills(data) > 0
    return data[KIND_AT] == KINDS[match]


def install(files: dict[str, str], report_fd: int, point: dict[str, Any] | None) -> None:
    """Wrap ``os.write`` so that writes to ``files`` are reported on ``report_fd``."""
    write = os.write
    tags = {os.path.realpath(path): tag for tag, path in files.items()}
    seen: Counter[str] = Counter()

    def report(line: str) -> None:
        write(report_fd, f"{line}\n".encode())

    def tag_of(fd: int) -> str | None:
        try:
            return tags.get(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            return None

    def watched_write(fd: int, data: Any) -> int:
        tag = tag_of(fd) if fd != report_fd else None
        if tag is None:
            return write(fd, data)
        data = bytes(data)
        is_header = data.startswith(MAGIC)
        if not (is_header or (data.startswith(SYNC_MARKER) and len(data) > KIND_AT)):
            return write(fd, data)  # the rest of a partial write: not a record's start
        seq = 0 if is_header else struct.unpack_from("<Q", data, SEQ_AT)[0]
        if point is not None and point["tag"] == tag and _matches(point["match"], data):
            seen[tag] += 1
            if seen[tag] == point["nth"]:
                cut = point["cut"]
                if cut is None:
                    done = write(fd, data)
                    report(_done_line(tag, seq, data, is_header))
                else:
                    done = int(cut * len(data))
                    if cut > 0:
                        done = min(max(done, 1), len(data) - 1)
                    if done:
                        write(fd, data[:done])
                report(f"crash {tag} {seq} {len(data)} {done}")
                while True:  # stopped dead: only SIGKILL ends this
                    time.sleep(3600)
        done = write(fd, data)
        if done == len(data):
            report(_done_line(tag, seq, data, is_header))
        return done

    os.write = watched_write


def _done_line(tag: str, seq: int, data: bytes, is_header: bool) -> str:
    if is_header:
        return f"header {tag} {len(data)}"
    return f"ack {tag} {seq} {data[KIND_AT]} {_fills(data)}"


def main() -> int:
    files = json.loads(os.environ["TRADEWIRE_CRASH_FILES"])
    point = os.environ.get("TRADEWIRE_CRASH_POINT")
    install(files, int(os.environ["TRADEWIRE_CRASH_FD"]), json.loads(point) if point else None)
    from framework.cli import main as tradewire

    return tradewire(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
