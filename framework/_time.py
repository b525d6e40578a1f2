"""Conversions between integer UTC nanoseconds and the units found on the wire and in files.

tradewire keeps every timestamp as an ``int`` of nanoseconds since the Unix epoch, UTC. These
helpers are the only place where seconds, milliseconds and ISO-8601 strings are converted.
"""

from __future__ import annotations

import datetime as _dt

NANOS_PER_SECOND = 1_000_000_000
NANOS_PER_MILLI = 1_000_000

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def nanos_from_seconds(seconds: float) -> int:
    """Unix seconds (int or float, as the wire sends them) to nanoseconds, rounded to 1 µs.

    Rounding to the microsecond keeps float noise (``1767797141.237``) out of the integer.
    """
    return round(seconds * 1_000_000) * 1_000


def nanos_from_millis(millis: float) -> int:
    """Unix milliseconds to nanoseconds."""
    return round(millis * 1_000) * 1_000


def iso_from_nanos(nanos: int) -> str:
    """Nanoseconds to ISO-8601 UTC with a ``Z`` suffix and only the fraction digits needed."""
    seconds, rest = divmod(nanos, NANOS_PER_SECOND)
    stamp = (_EPOCH + _dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    if rest:
        return f"{stamp}.{rest:09d}".rstrip("0") + "Z"
    return stamp + "Z"


def nanos_from_iso(text: str) -> int:
    """ISO-8601 with an explicit offset (or ``Z``) to nanoseconds.

    Raises ``ValueError`` for strings without an offset: a naive time is ambiguous.
    """
    parsed = _dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"time {text!r} has no UTC offset")
    delta = parsed - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * NANOS_PER_SECOND + delta.microseconds * 1_000
