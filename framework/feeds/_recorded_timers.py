"""Timer firings of a live session, put back where they happened when its recording replays.

A live engine fires timers on wall time, between batches; a paper session records each firing
as a ``TIMER`` record: after how many bars, bar updates and quotes it fired, which strategy's
timer, and when it was due (:meth:`framework.Engine.record_timers`). The record lands in the
file after the frames it follows (the engine dispatches behind the feed's journal), so a replay
reads the firings first (:func:`read_recorded_timers`), then :class:`TimerPlayback` slips each
one into the replayed events just before the next market event after its position: the
strategy sees the same ``TimerFired`` between the same market events, at the same event
time, and its orders fill as they did live. (A replay that leaves bar updates out, as
``inspect`` and ``export`` do, counts differently; those run no strategies.)
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from .._errors import RecordingError
from .._events import Bar, BarUpdate, Event, Quote, TimerFired
from ..recording import Recording, RecordKind
from ..recording._format import PREAMBLE_SIZE, decode_header, header_json_length, header_size

log = logging.getLogger(__name__)

#: What the engine counts as a position (``Engine.market_events``).
_MARKET_DATA = frozenset({Bar, BarUpdate, Quote})

#: The header key naming the strategies whose firings a recording holds.
TIMER_STRATEGIES_KEY = "timer_strategies"


def header_meta(path: str | os.PathLike[str]) -> Mapping[str, Any]:
    """The header metadata of the recording at ``path``, read without verifying the records
    (the replay verifies them when it runs)."""
    source = os.fspath(path)
    try:
        with open(path, "rb") as file:
            preamble = file.read(PREAMBLE_SIZE)
            length = header_json_length(preamble, source)
            data = preamble + file.read(header_size(length) - PREAMBLE_SIZE)
    except OSError as exc:
        raise RecordingError(f"{source}: cannot read recording: {exc}") from exc
    return decode_header(data, source).meta


def recorded_timer_strategies(meta: Mapping[str, Any]) -> frozenset[str]:
    """The strategies whose timers a recording with header ``meta`` replays (none for a
    recording that predates recorded timers, or of a session without strategies)."""
    names = meta.get(TIMER_STRATEGIES_KEY)
    if not isinstance(names, list):
        return frozenset()
    return frozenset(str(name) for name in names)


def read_recorded_timers(recording: Recording) -> list[tuple[int, TimerFired]]:
    """Every recorded firing, in the order it happened: ``(position, event)``. A record that
    cannot be read is logged and skipped (counted in the log line), never guessed at."""
    fired: list[tuple[int, TimerFired]] = []
    unreadable = 0
    for kind, _, payload in recording.entries():
        if kind is not RecordKind.TIMER:
            continue
        try:
            doc = orjson.loads(payload)
            due = int(doc["due"])
            event = TimerFired(
                name=str(doc["name"]), ts_event=due, ts_recv=due, strategy_id=str(doc["strategy"])
            )
            fired.append((int(doc["after"]), event))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            unreadable += 1
    if unreadable:
        log.warning(
            "%s: %d timer records not understood and not replayed", recording.path, unreadable
        )
    return fired


class TimerPlayback:
    """Inserts recorded firings into replayed events by their position (bars, bar updates
    and quotes before them, as the live engine counted)."""

    __slots__ = ("_count", "_pending")

    def __init__(self, fired: Iterable[tuple[int, TimerFired]]) -> None:
        self._pending = deque(fired)
        self._count = 0

    def __bool__(self) -> bool:
        """True while firings are left to place."""
        return bool(self._pending)

    def place(self, events: list[Event]) -> list[Event]:
        """``events`` with each firing placed before the first market event after its position."""
        pending = self._pending
        out: list[Event] = []
        count = self._count
        for event in events:
            if event.__class__ in _MARKET_DATA:
                while pending and pending[0][0] <= count:
                    out.append(pending.popleft()[1])
                count += 1
            out.append(event)
        self._count = count
        return out

    def rest(self) -> list[Event]:
        """The firings after the last market event, for the end of the replay."""
        events: list[Event] = [event for _, event in self._pending]
        self._pending.clear()
        return events
