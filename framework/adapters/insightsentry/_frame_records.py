"""The frame records of the ``/live`` codec: what :func:`~._codec.decode_frame` returns and
:func:`~._encode.encode_frame` writes, one record type per frame kind (protocol section 3.1).

Times are integer UTC nanoseconds, whatever unit the wire uses for them; a quote field the
entry did not carry is :data:`ABSENT`, unlike None ("no value").
"""

from __future__ import annotations

import enum
from typing import ClassVar, Final, Literal

import attrs

from ..._errors import DecodeError
from ..._intervals import Interval
from ._wire_keys import LP_TIME


class FrameKind(enum.Enum):
    """What a frame is, by shape (protocol section 3.1)."""

    PONG = "pong"
    ERROR = "error"
    HEARTBEAT = "heartbeat"
    EVENT = "event"
    SERIES = "series"
    QUOTES = "quotes"
    LEGACY_QUOTE = "legacy_quote"
    STATUS = "status"
    #: Valid JSON of a shape we do not know; to be counted and ignored.
    UNKNOWN = "unknown"
    #: Not JSON or hostile; :func:`decode_frame` raises instead of returning it.
    INVALID = "invalid"


class _Absent(enum.Enum):
    ABSENT = "absent"

    def __repr__(self) -> str:
        return "ABSENT"


#: Marks a quote field that the entry did not carry ("unchanged"), unlike None ("no value").
ABSENT: Final = _Absent.ABSENT
Absent = Literal[_Absent.ABSENT]


@attrs.frozen(slots=True)
class PongFrame:
    """The text ``pong``, the answer to our text ``ping``."""

    kind: ClassVar[FrameKind] = FrameKind.PONG


@attrs.frozen(slots=True, kw_only=True)
class HeartbeatFrame:
    """``{"server_time": ms}``: the server clock, about every 10 s."""

    kind: ClassVar[FrameKind] = FrameKind.HEARTBEAT
    server_time_ns: int


@attrs.frozen(slots=True, kw_only=True)
class EventFrame:
    """``{"event": ..., "status": ..., "subscription_count": n}`` from newer servers."""

    kind: ClassVar[FrameKind] = FrameKind.EVENT
    event: str
    status: str | None
    subscription_count: int | None


@attrs.frozen(slots=True, kw_only=True)
class StatusFrame:
    """An informational ``message`` (``Connecting...``, ``Connected to W:...``).

    Other ``message`` texts are legacy errors and decode to :class:`ErrorFrame` instead, so
    ``is_info`` is always True for frames from :func:`decode_frame`.
    """

    kind: ClassVar[FrameKind] = FrameKind.STATUS
    text: str
    is_info: bool


@attrs.frozen(slots=True, kw_only=True)
class ErrorFrame:
    """An error from the server, in the legacy ``message`` style or the structured style.

    ``delay_s`` is the larger of ``delay_seconds`` and ``retry_after_seconds``. Free text is
    log-safe. Fields of the wrong type are treated as absent rather than spoiling the error.
    """

    kind: ClassVar[FrameKind] = FrameKind.ERROR
    style: Literal["legacy_message", "structured"]
    error_code: str | None
    message: str
    symbol: str | None = None
    action: str | None = None
    retryable: bool | None = None
    delay_s: float | None = None
    reference_id: str | None = None


@attrs.frozen(slots=True, kw_only=True)
class SeriesPoint:
    """One bar (or tick) of a series frame, validated.

    ``open``/``high``/``low`` are all None (ticks) or all set and consistent with ``close``.
    ``volume`` is None when the frame did not carry it. ``trade_id`` is kept (as text) for tick
    de-duplication.
    """

    time_ns: int
    open: float | None
    high: float | None
    low: float | None
    close: float
    volume: float | None
    trade_id: str | None = None


@attrs.frozen(slots=True, kw_only=True)
class SeriesFrame:
    """Bars or ticks for one stream (``code``, ``bar_label``); points in wire order.

    ``bar_end_ns`` is the last covered second of the newest bar, as nanoseconds; ``rejected``
    holds one :class:`~framework.DecodeError` per point that failed validation.
    """

    kind: ClassVar[FrameKind] = FrameKind.SERIES
    code: str
    bar_label: str
    bar_end_ns: int | None
    last_update_ns: int | None
    points: tuple[SeriesPoint, ...]
    rejected: tuple[DecodeError, ...] = ()

    @property
    def interval(self) -> Interval:
        """The bar size of ``bar_label``."""
        return Interval.parse(self.bar_label)


@attrs.frozen(slots=True, kw_only=True)
class QuoteFields:
    """One quote entry; every field except ``code`` may be :data:`ABSENT` (unchanged since the
    last entry for that code) or None (explicitly no value). ``lp_time_ns`` is ``lp_time`` in
    nanoseconds."""

    code: str
    status: str | Absent | None = ABSENT
    lp_time_ns: int | Absent | None = ABSENT
    last_price: float | Absent | None = ABSENT
    bid: float | Absent | None = ABSENT
    ask: float | Absent | None = ABSENT
    bid_size: float | Absent | None = ABSENT
    ask_size: float | Absent | None = ABSENT
    volume: float | Absent | None = ABSENT
    change: float | Absent | None = ABSENT
    change_percent: float | Absent | None = ABSENT
    prev_close_price: float | Absent | None = ABSENT
    open_price: float | Absent | None = ABSENT
    high_price: float | Absent | None = ABSENT
    low_price: float | Absent | None = ABSENT
    market_cap: float | Absent | None = ABSENT
    currency_code: str | Absent | None = ABSENT
    delay_seconds: int | Absent | None = ABSENT


@attrs.frozen(slots=True, kw_only=True)
class QuotesFrame:
    """A quote envelope (``legacy=False``) or a 2024 flat quote (``legacy=True``)."""

    legacy: bool
    last_update_ns: int | None
    total_items: int | None
    entries: tuple[QuoteFields, ...]
    rejected: tuple[DecodeError, ...] = ()

    @property
    def kind(self) -> FrameKind:
        """``QUOTES`` or ``LEGACY_QUOTE``."""
        return FrameKind.LEGACY_QUOTE if self.legacy else FrameKind.QUOTES


@attrs.frozen(slots=True, kw_only=True)
class UnknownFrame:
    """Valid JSON of an unknown shape; ``shape`` is a log-safe description."""

    kind: ClassVar[FrameKind] = FrameKind.UNKNOWN
    shape: str


Frame = (
    PongFrame
    | HeartbeatFrame
    | EventFrame
    | StatusFrame
    | ErrorFrame
    | SeriesFrame
    | QuotesFrame
    | UnknownFrame
)


#: Names of the optional fields of :class:`QuoteFields`, in declaration order.
QUOTE_FIELD_NAMES: Final = tuple(f.name for f in attrs.fields(QuoteFields) if f.name != "code")

#: Each optional field of :class:`QuoteFields` with its wire key, in declaration order (the
#: order an encoded entry has): the same name, except ``lp_time_ns`` on the wire ``lp_time``.
QUOTE_FIELD_KEYS: Final = tuple(
    (name, LP_TIME if name == "lp_time_ns" else name) for name in QUOTE_FIELD_NAMES
)
