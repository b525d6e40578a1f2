"""History from the REST API in the live path: warm-up, gap backfill, and how both are journalled.

Both the live feed and the replay feed use this module, so a recording replays the history
exactly as the session saw it.

**Warm-up.** Before the WebSocket connects, the newest ``bars + 1`` points of every bar series
are fetched (the newest is still in progress and becomes the assembler's open bar, so live
frames continue it seamlessly). Their final bars go through the shared
:class:`~framework.adapters.insightsentry.FrameProcessor` and are delivered, oldest first across
streams, between :class:`~framework.WarmupStarted` and :class:`~framework.WarmupCompleted`;
the engine refuses orders in between.

**Backfill.** When the bar assembler finds a hole in a stream (see
:class:`~framework.adapters.insightsentry.BarHole`), the processor opens a
:class:`BackfillRequest`, holds every newer event of that stream, and the live feed fetches the
hole over REST under a deadline. The answer's bars in the hole are delivered flagged
``is_backfill``, then the held events; a failure (or a hole the answer does not reach back to)
becomes a :class:`~framework.BarGap` instead, and the stream goes on.

**Journal.** Every REST answer used, and every failure, is one ``RecordKind.REST`` record:
a one-line JSON header (``purpose``, ``id``, ``code``, ``bar_type``, ``endpoint``, ``dp`` or
``start_date``, ``status``, ``ok``, ``error``, ``attempts``), a newline, then the body exactly
as received (redacted). Warm-up is bracketed by ``MARKER`` records ``warmup_started`` and
``warmup_completed``; each hole found is a ``backfill_requested`` marker (informative: replay
finds the same holes itself).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs
import orjson

from ..._errors import ConfigError
from ..._events import Bar, Event, WarmupCompleted, WarmupStarted
from ..._intervals import Interval
from ._bars import BarAssembler, BarHole
from ._codec import log_safe

if TYPE_CHECKING:
    # Only for annotations: the replay path must not import httpx.
    from ._rest import SeriesRequest, SeriesResponse

    Fetch = Callable[[SeriesRequest], Awaitable[SeriesResponse]]

#: MARKER names used by the live feed and understood by the replay feed.
WARMUP_STARTED: Final = "warmup_started"
WARMUP_COMPLETED: Final = "warmup_completed"
BACKFILL_REQUESTED: Final = "backfill_requested"

#: ``purpose`` of a REST record.
PURPOSES: Final = frozenset({"warmup", "backfill", "history"})

#: Bars a backfill asks for beyond the hole and what is known to follow it, for bars that
#: appear while the request is under way: at least this many, or a quarter of the span.
BACKFILL_MARGIN: Final = 16


@attrs.frozen(slots=True, kw_only=True)
class BackfillRequest:
    """A hole to fill: request ``id`` (1, 2, ... per processor, the same in replay)."""

    id: int
    hole: BarHole

    @property
    def stream(self) -> tuple[str, str]:
        return (self.hole.code, self.hole.interval)

    def dp(self, newest_open: int | None, max_dp: int) -> int:
        """Points to ask ``/series`` for so that its answer reaches back to the hole, given the
        newest bar known now; capped at ``max_dp``."""
        size = Interval.parse(self.hole.interval).nanos
        assert size is not None  # holes exist only for fixed bar sizes
        newest = max(newest_open or 0, self.hole.ts_next)
        span = (newest - self.hole.ts_from) // size + 1
        return max(1, min(max_dp, span + max(BACKFILL_MARGIN, span // 4)))

    def marker(self) -> bytes:
        """The ``backfill_requested`` MARKER payload."""
        hole = self.hole
        return orjson.dumps(
            {
                "marker": BACKFILL_REQUESTED,
                "id": self.id,
                "code": hole.code,
                "bar_type": hole.interval,
                "from": hole.ts_from,
                "to": hole.ts_to,
            }
        )


def rest_record(
    *,
    purpose: str,
    request: SeriesRequest,
    body: str = "",
    status: int | None = None,
    error: str | None = None,
    attempts: int = 0,
    request_id: int | None = None,
) -> bytes:
    """The payload of a ``REST`` record: JSON header line, newline, body (already redacted)."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown REST record purpose {purpose!r}")
    head: dict[str, Any] = {
        "purpose": purpose,
        "code": request.code,
        "bar_type": request.interval.label,
        "endpoint": request.endpoint,
        "ok": error is None,
        "status": status,
        "attempts": attempts,
    }
    if request.endpoint == "series":
        head["dp"] = request.bars
    else:
        head["start_date"] = request.start_date
    if request_id is not None:
        head["id"] = request_id
    if error is not None:
        head["error"] = log_safe(error, 300)
    return orjson.dumps(head) + b"\n" + body.encode("utf-8")


def parse_rest_record(payload: bytes) -> tuple[dict[str, Any], str | None]:
    """(header, body) of a ``REST`` record; the body is None for a failed request.

    Raises ``ValueError`` for a payload that is not a REST record.
    """
    head, sep, body = payload.partition(b"\n")
    try:
        doc = orjson.loads(head)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"REST record header is not JSON: {exc}") from None
    if not sep or not isinstance(doc, dict) or doc.get("purpose") not in PURPOSES:
        raise ValueError("not a REST record")
    if not doc.get("ok"):
        return doc, None
    return doc, body.decode("utf-8")


def marker_payload(name: str, **fields: Any) -> bytes:
    return orjson.dumps({"marker": name, **fields})


def parse_marker(payload: bytes) -> dict[str, Any] | None:
    """The JSON of a MARKER record, or None if it is not a JSON object."""
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    return doc if isinstance(doc, dict) else None


def warmup_events(feed: str, requested: int, events: Sequence[Event], recv_ns: int) -> list[Event]:
    """``WarmupStarted``, the history ``events`` (final bars first by ``ts_event``, across
    streams; rejections kept in place), ``WarmupCompleted``."""
    bars = sorted((e for e in events if isinstance(e, Bar)), key=lambda b: (b.ts_event, b.symbol))
    others = [e for e in events if not isinstance(e, Bar)]
    first = bars[0].ts_event if bars else recv_ns
    last = bars[-1].ts_event if bars else recv_ns
    return [
        WarmupStarted(feed=feed, bars=requested, ts_event=first, ts_recv=recv_ns),
        *others,
        *bars,
        WarmupCompleted(feed=feed, bars=len(bars), ts_event=last, ts_recv=recv_ns),
    ]


# -- downloads (``tradewire history``) ---------------------------------------------------------


def month_start(ts_ns: int, unit: str) -> str:
    """The ``/history`` ``start_date`` of the page holding ``ts_ns``: ``YYYY-MM`` (second bars:
    ``YYYY-MM-DD``)."""
    day = dt.datetime.fromtimestamp(ts_ns / 1e9, dt.UTC)
    return day.strftime("%Y-%m-%d" if unit == "second" else "%Y-%m")


def previous_page(start_date: str) -> str:
    """The ``/history`` page before ``start_date`` (the month, or the day, before)."""
    if len(start_date) == 10:
        day = dt.date.fromisoformat(start_date) - dt.timedelta(days=1)
        return day.isoformat()
    year, month = map(int, start_date.split("-"))
    year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return f"{year:04d}-{month:02d}"


async def download(
    fetch: Fetch,
    request: SeriesRequest,
    bars: int,
    *,
    max_dp: int,
    max_pages: int = 600,
    on_response: Callable[[SeriesResponse, int], None] | None = None,
) -> tuple[list[SeriesResponse], list[Bar]]:
    """Fetch the newest ``bars`` final bars of ``request``'s stream.

    Up to ``max_dp - 1`` bars take one ``/series`` request for ``bars + 1`` points (the newest
    point is still in progress and is dropped). Beyond that, intraday bars page backwards through
    ``/history`` one month (second bars: one day) per request, newest first, until enough bars
    are in or a page comes back empty. ``on_response(response, bars_so_far)`` is called after
    each request (progress). Returns the responses oldest first (the order to replay them in)
    and the newest ``bars`` final bars, assembled by :class:`BarAssembler`.
    """
    if bars < 1:
        raise ConfigError(f"--bars must be at least 1, got {bars}")
    interval = request.interval
    paging = bars + 1 > max_dp
    if paging and interval.unit not in ("second", "minute", "hour"):
        raise ConfigError(
            f"{request.code}@{interval.label}: the REST API serves at most {max_dp - 1} "
            f"{interval.unit} bars (its /history pages exist for second, minute and hour bars)"
        )
    first = attrs.evolve(request, bars=min(bars + 1, max_dp), endpoint="series", start_date=None)
    responses = [await fetch(first)]
    if on_response is not None:
        on_response(responses[0], min(bars, max(0, len(responses[0].frame.points) - 1)))
    if paging:
        oldest = min((p.time_ns for p in responses[0].frame.points), default=None)
        page = month_start(oldest, interval.unit) if oldest is not None else None
        collected = {p.time_ns for p in responses[0].frame.points}
        pages = 0
        while page is not None and len(collected) <= bars and pages < max_pages:
            pages += 1
            response = await fetch(
                attrs.evolve(request, endpoint="history", start_date=page, bars=first.bars)
            )
            responses.insert(0, response)
            before = len(collected)
            collected.update(p.time_ns for p in response.frame.points)
            if on_response is not None:
                on_response(response, min(bars, len(collected) - 1))
            if len(collected) == before and not response.frame.points:
                break  # nothing older exists
            page = previous_page(page)
    return responses, assemble(responses)[-bars:]


def assemble(responses: Iterable[SeriesResponse]) -> list[Bar]:
    """Final bars of ``responses`` (oldest page first) through one :class:`BarAssembler`."""
    assembler = BarAssembler()
    found: list[Bar] = []
    for response in responses:
        found.extend(
            e
            for e in assembler.on_series(response.frame, response.recv_wall_ns)
            if isinstance(e, Bar)
        )
    return found
