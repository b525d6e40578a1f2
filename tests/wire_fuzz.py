"""Fuzzing the InsightSentry ``/live`` frame path against an oracle.

Three parts, used by ``tests/adapters/insightsentry/test_fuzz_oracle.py`` (Hypothesis picks the
frames) and by ``bench/fuzz_live.py`` (a seeded million):

- :class:`WireFrames` writes frames, valid and hostile, as a server (or a broken one) would,
  and says with each one what it carries (a *truth*): the bars, ticks, quote fields or server
  time it sends, or the reason a decoder must give for refusing it. Valid frames are written
  by the adapter's encoder (``encode_frame``) where it writes what the wire carries; variants
  the encoder cannot write (integer times, a missing volume, unknown keys) and every hostile
  frame are written by hand.
- :class:`WireOracle` predicts, from the truths alone, every event and counter the frame
  processor must give. It shares no code with the adapter's decoder, fast path, bar assembler
  or quote book; it models what the protocol reference and the adapter's module docstrings
  promise (rules below), with its own state per stream.
- :class:`FuzzRun` feeds each frame to a ``FrameProcessor`` as the live feed's ``_read`` does
  (``process_live(text, recv_ns)``), and checks the events, the returned frame, and the move
  of every counter of ``statistics()`` against the prediction, plus invariants that hold
  whatever the model says (final bars once and in order per stream, OHLC consistent and
  finite, bid <= ask, no silent drop). A second processor gets every text frame as the replay
  of a recording does (``process_events``, subscriptions followed from the subscription
  message as journalled), and must give the same events.

The oracle's rules, and where each comes from:

1. A frame the decoder refuses as a whole gives one ``DataRejected`` with the reason, and
   counts under ``frames["INVALID"]``. In a series (quote) frame, bad points (entries) give one
   ``DataRejected`` each and the rest is used; only when every one of a non-empty list is bad
   is the whole frame refused, with the first one's reason (``_codec`` docstring).
2. Frames for a stream or quote code not subscribed are refused per frame (per entry) with
   ``unknown_code`` (``_bars``/``_quotes`` docstrings).
3. Bars: one bar in progress per stream, upserted by open time; the last point sent for a time
   in a frame wins. A bar is final when a newer bar arrives or a heartbeat's ``server_time``
   reaches its end; its ``ts_event`` is the earliest of ``bar_end + 1 s`` (when ``bar_end`` came
   with it as the frame's newest bar), ``ts_open + size`` (fixed sizes) and the next bar's open
   (protocol 3.4, 3.7, 9.6; ``_bars`` docstring). Its values are the last ones sent for it.
4. A point at or before the last final bar is a duplicate when its values equal the final
   bar's (or when the bar is not known), else a correction; either is counted, never emitted.
   A point equal to the bar in progress is a duplicate too. A missing volume counts as 0.
5. Every new or changed bar in progress gives a ``BarUpdate`` (``ts_event`` = the frame's
   ``last_update``, else the receive time), after the bars the frame made final.
6. Ticks (``1T``) are final bars on arrival (open = high = low = close = price, ``ts_event`` =
   trade time); ticks older than the newest emitted are duplicates, ticks at that same time are
   matched as a multiset on (time, price, size, trade id) against those already emitted.
7. Quotes: one snapshot per code; an entry's fields replace the snapshot's, a field it does not
   carry is unchanged and ``null`` clears it (protocol 3.6, 9.9). Every entry gives a ``Quote``
   of the merged snapshot, or ``invalid_quote`` when it has bid above ask (the merge is kept).
8. A heartbeat closes every bar in progress whose end it reached, ordered by ``ts_event`` then
   stream; pong, status, event, error and unknown-shape frames are counted under their kind and
   give nothing (documented no-ops: the live feed acts on errors, not the processor).
9. A point of a bar series without open/high/low is unusable; it must be accounted for (a
   ``DataRejected``, or a counter of ``statistics()`` that moved for it).

The suite runs every kind except those in :data:`KNOWN_BUG_KINDS`, which show framework bugs
reported with minimal reproducers (``test_fuzz_oracle.py``); ``bench/fuzz_live.py`` runs them
all unless told ``--skip-known``.

Where this file lives: at the top of ``tests/``, like the suite's other shared helpers
(``factories.py``), importable by name because pytest puts ``tests/`` on the path; the bench
script adds that one directory to its own path. The oracle is test code, so it stays with the
tests and the long-run script reaches over to it, not the other way round.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from time import perf_counter_ns, thread_time_ns
from typing import Any, Final, Protocol

import attrs
import orjson

from framework import Bar, BarUpdate, DataRejected, Event, Interval, Quote
from framework.adapters.insightsentry import (
    ErrorFrame,
    EventFrame,
    FrameProcessor,
    HeartbeatFrame,
    QuoteFields,
    QuotesFrame,
    SeriesFrame,
    SeriesPoint,
    StatusFrame,
    Subscription,
    SubscriptionSet,
    encode_document,
    encode_frame,
    encode_subscribe,
    parse_subscribe,
)

S: Final = 1_000_000_000
MS: Final = 1_000_000
#: 2026-01-05T00:00:00Z, a Monday; the generated market opens at 09:00 that day.
T0_NS: Final = 1_767_571_200 * S
SOURCE: Final = "fuzz"
#: The processor's byte limit in fuzz runs: small, so that oversized frames are cheap to
#: write; the limit is checked by the same code whatever its value.
MAX_BYTES: Final = 16_384

#: The series subscribed to: several bar sizes (a day whose session ends before the day does,
#: a month with no fixed size) and ticks.
SERIES: Final = (
    ("FZ:AAA", "1m"),
    ("FZ:AAA", "5m"),
    ("FZ:BBB", "1s"),
    ("FZ:CCC", "1h"),
    ("FZ:DDD", "1D"),
    ("FZ:EEE", "1M"),
    ("FZ:TCK", "1T"),
)
BAR_SERIES: Final = tuple(key for key in SERIES if key[1] != "1T")
TICKS: Final = ("FZ:TCK", "1T")
QUOTE_CODES: Final = ("FZ:AAA", "FZ:QQQ", "FZ:RRR")
#: Streams and codes never subscribed; the server sends them anyway.
STRAY_SERIES: Final = (("FZ:ZZZ", "1m"), ("FZ:AAA", "15m"))
STRAY_QUOTES: Final = ("FZ:NOPE",)
#: What a resubscription leaves out (and the next one puts back).
DROPPED_SERIES: Final = ("FZ:BBB", "1s")
DROPPED_QUOTE: Final = "FZ:RRR"

#: Reasons a ``DataRejected`` may carry (``_codec`` docstring, plus the stateful layers').
REASONS: Final = frozenset(
    {
        "binary_frame",
        "oversized",
        "not_json",
        "too_deep",
        "non_finite",
        "bad_field",
        "negative_price",
        "inconsistent_ohlc",
        "bad_time",
        "unknown_code",
        "invalid_quote",
    }
)

#: Frame kinds the processor counts that give nothing by design (rule 8).
NO_OP_KINDS: Final = frozenset({"PONG", "STATUS", "EVENT", "ERROR", "UNKNOWN"})


def subscription_set(*, full: bool = True) -> SubscriptionSet:
    """The fuzz run's subscriptions: every stream and quote code, or (``full=False``) all but
    :data:`DROPPED_SERIES` and :data:`DROPPED_QUOTE`."""
    subs = [
        Subscription(code=code, interval=Interval.parse(label))
        for code, label in SERIES
        if full or (code, label) != DROPPED_SERIES
    ]
    subs += [
        Subscription(code=code, type="quote")
        for code in QUOTE_CODES
        if full or code != DROPPED_QUOTE
    ]
    return SubscriptionSet(subs)


# -- truths: what a frame carries --------------------------------------------------------------


@attrs.frozen(slots=True)
class Point:
    """One point as sent: open/high/low None for a tick (or a bar point sent without them),
    volume None when the frame carried none, trade_id as the decoder keeps it (text)."""

    time_ns: int
    open: float | None
    high: float | None
    low: float | None
    close: float
    volume: float | None = None
    trade_id: str | None = None


@attrs.frozen(slots=True)
class SeriesSent:
    """A series frame: its good points in wire order, and the reason of each bad one."""

    code: str
    label: str
    bar_end_ns: int | None
    last_update_ns: int | None
    points: tuple[Point, ...]
    bad: tuple[str, ...] = ()


@attrs.frozen(slots=True)
class QuotesSent:
    """A quote envelope (or a flat 2024 quote): each good entry's code and the fields it
    carries (by :class:`~framework.adapters.insightsentry.QuoteFields` name, None for
    ``null``), and the reason of each bad entry."""

    legacy: bool
    last_update_ns: int | None
    entries: tuple[tuple[str, Mapping[str, object]], ...]
    bad: tuple[str, ...] = ()


@attrs.frozen(slots=True)
class HeartbeatSent:
    server_time_ns: int


@attrs.frozen(slots=True)
class RefusedSent:
    """A frame the decoder must refuse as a whole, with ``reason``."""

    reason: str


@attrs.frozen(slots=True)
class IgnoredSent:
    """A frame counted under ``kind`` (a ``FrameKind`` name) that gives nothing."""

    kind: str


@attrs.frozen(slots=True)
class Resubscribed:
    """Not a frame: the client replaced its subscriptions."""

    full: bool


Truth = SeriesSent | QuotesSent | HeartbeatSent | RefusedSent | IgnoredSent | Resubscribed


@attrs.frozen(slots=True)
class Generated:
    """One generated frame: its kind (the generator's name for it), the message (None for a
    resubscription), what it carries, and when the client receives it."""

    kind: str
    message: str | bytes | bytearray | memoryview | None
    truth: Truth
    recv_ns: int


# -- the generator -----------------------------------------------------------------------------

_UNIT_S: Final = {"s": 1, "m": 60, "h": 3_600, "D": 86_400, "W": 604_800}


def size_ns(label: str) -> int | None:
    """The fixed size of a bar label in nanoseconds; None for months and ticks."""
    unit = _UNIT_S.get(label[-1])
    return None if unit is None else int(label[:-1]) * unit * S


def _month_bounds(now_ns: int) -> tuple[int, int]:
    moment = dt.datetime.fromtimestamp(now_ns // S, dt.UTC)
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    after = (start + dt.timedelta(days=32)).replace(day=1)
    return int(start.timestamp()) * S, int(after.timestamp()) * S


_Values = tuple[float, float, float, float, float]


class _ServerBars:
    """What the server knows of one bar stream: the bar in progress and recent completed ones.

    ``end_ns`` is the exclusive end (``bar_end + 1 s``)."""

    def __init__(self, code: str, label: str, price: float) -> None:
        self.code = code
        self.label = label
        self.size_ns = size_ns(label)
        self.price = price
        self.open_ns: int | None = None
        self.end_ns = 0
        self.values: _Values = (price, price, price, price, 0.0)
        self.done: deque[tuple[int, _Values, int]] = deque(maxlen=12)

    def period(self, now_ns: int) -> tuple[int, int]:
        if self.label == "1D":  # a session from 13:30 to 20:00 UTC
            day = now_ns - now_ns % (86_400 * S)
            start = day + 48_600 * S
            if now_ns < start:
                day -= 86_400 * S
                start -= 86_400 * S
            return start, day + 72_000 * S
        if self.size_ns is None:
            return _month_bounds(now_ns)
        start = now_ns - now_ns % self.size_ns
        return start, start + self.size_ns

    def roll(self, now_ns: int) -> None:
        """Start the bar of ``now_ns``'s period if it is a new one."""
        start, end = self.period(now_ns)
        if self.open_ns is None or start > self.open_ns:
            if self.open_ns is not None:
                self.done.append((self.open_ns, self.values, self.end_ns))
            p = self.price
            self.open_ns, self.end_ns, self.values = start, end, (p, p, p, p, 0.0)

    def trade(self, rng: random.Random, now_ns: int) -> None:
        self.roll(now_ns)
        self.price = price = round(max(0.01, self.price * (1 + rng.uniform(-0.003, 0.003))), 2)
        o, h, low, _, v = self.values
        self.values = (o, max(h, price), min(low, price), price, round(v + rng.uniform(0, 50), 3))


_QUOTE_FIELDS: Final = tuple(f.name for f in attrs.fields(QuoteFields) if f.name != "code")
#: Fields a sparse entry carries, and those it may set to null.
_SPARSE: Final = (
    "bid",
    "ask",
    "bid_size",
    "ask_size",
    "last_price",
    "volume",
    "lp_time_ns",
    "change",
    "change_percent",
    "status",
)
_NULLABLE: Final = ("bid", "ask", "bid_size", "ask_size", "market_cap", "status", "volume")


class _ServerQuote:
    def __init__(self, code: str, price: float) -> None:
        self.code = code
        self.state: dict[str, object] = {
            "status": "OPEN",
            "lp_time_ns": T0_NS,
            "last_price": price,
            "bid": round(price - 0.01, 2),
            "ask": round(price + 0.01, 2),
            "bid_size": 1.0,
            "ask_size": 1.0,
            "volume": 0.0,
            "change": 0.0,
            "change_percent": 0.0,
            "prev_close_price": price,
            "open_price": price,
            "high_price": price,
            "low_price": price,
            "market_cap": 1e9,
            "currency_code": "USD",
            "delay_seconds": 0,
        }

    def move(self, rng: random.Random, now_ns: int) -> None:
        state = self.state
        last = float(state["last_price"] or 100.0)  # type: ignore[arg-type]
        last = round(max(0.05, last * (1 + rng.uniform(-0.002, 0.002))), 2)
        spread = rng.choice((0.01, 0.02, 0.05))
        prev = float(state["prev_close_price"])  # type: ignore[arg-type]
        state.update(
            last_price=last,
            bid=round(max(0.01, last - spread), 2),
            ask=round(last + spread, 2),
            bid_size=float(rng.randint(0, 40)),
            ask_size=float(rng.randint(0, 40)),
            volume=round(float(state["volume"] or 0.0) + rng.uniform(0, 900), 3),  # type: ignore[arg-type]
            lp_time_ns=now_ns,
            change=round(last - prev, 2),
            change_percent=round((last - prev) / prev * 100, 3),
            high_price=max(float(state["high_price"]), last),  # type: ignore[arg-type]
            low_price=min(float(state["low_price"]), last),  # type: ignore[arg-type]
        )
        if rng.random() < 0.02:
            state["status"] = rng.choice(("OPEN", "PRE", "POST", "CLOSED"))


#: Kinds of frame, and how often a seeded run picks each (weights; hostile kinds after
#: ``repeat``). ``resubscribe`` is an action, not a frame.
WEIGHTS: Final = {
    "bar_update": 300,
    "bar_period_start": 20,
    "bar_variant": 60,
    "bar_burst": 40,
    "bar_late": 30,
    "tick_trades": 80,
    "tick_burst": 20,
    "heartbeat": 60,
    "quotes": 120,
    "quote_legacy": 20,
    "status": 8,
    "event": 8,
    "error": 8,
    "pong": 8,
    "unknown": 10,
    "empty_data": 6,
    "stray": 20,
    "repeat": 30,
    "resubscribe": 2,
    "not_json": 15,
    "non_finite": 15,
    "negative_price": 15,
    "inconsistent_ohlc": 15,
    "bad_field": 25,
    "bad_time": 15,
    "too_deep": 5,
    "oversized": 3,
    "binary": 5,
    "lone_surrogate": 3,
    "series_partly_bad": 15,
    "quotes_partly_bad": 10,
    "bar_without_ohl": 5,
}
KINDS: Final = tuple(WEIGHTS)
HOSTILE_KINDS: Final = KINDS[KINDS.index("not_json") :]

#: Framework bugs the fuzz found, reported with minimal reproducers (``test_fuzz_oracle.py``,
#: marked xfail): name -> what goes wrong. The oracle states the right behaviour; a run given
#: ``tolerate=KNOWN_BUGS`` accepts each one's wrong behaviour instead, and the suite's runs
#: leave out the kinds that show one (:data:`KNOWN_BUG_KINDS`), so that they test everything
#: else. Remove an entry once its bug is fixed.
KNOWN_BUGS: Final[dict[str, str]] = {}
#: The kinds that show a known bug whatever the oracle tolerates.
KNOWN_BUG_KINDS: Final[frozenset[str]] = frozenset()


def pick_kinds(rng: random.Random, count: int, kinds: Iterable[str] = KINDS) -> list[str]:
    """``count`` kinds drawn by :data:`WEIGHTS` (a seeded run's mix)."""
    chosen = list(kinds)
    return rng.choices(chosen, weights=[WEIGHTS[k] for k in chosen], k=count)


def _seconds(ns: int) -> float:
    return ns / S


def _point_doc(time_ns: int, values: _Values) -> dict[str, Any]:
    o, h, low, c, v = values
    return {"time": time_ns / S, "open": o, "high": h, "low": low, "close": c, "volume": v}


def _dumps(doc: object) -> str:
    return orjson.dumps(doc).decode()


def _series_record(sent: SeriesSent) -> SeriesFrame:
    """The adapter's record of a valid series frame, for its encoder to write."""
    points = tuple(
        SeriesPoint(
            time_ns=p.time_ns,
            open=p.open,
            high=p.high,
            low=p.low,
            close=p.close,
            volume=p.volume,
            trade_id=p.trade_id,
        )
        for p in sent.points
    )
    return SeriesFrame(
        code=sent.code,
        bar_label=sent.label,
        bar_end_ns=sent.bar_end_ns,
        last_update_ns=sent.last_update_ns,
        points=points,
    )


def _quotes_record(sent: QuotesSent, total: int | None) -> QuotesFrame:
    """The adapter's record of a valid quote frame, for its encoder to write."""
    entries = tuple(
        QuoteFields(code=code, **fields)  # type: ignore[arg-type]
        for code, fields in sent.entries
    )
    return QuotesFrame(
        legacy=sent.legacy,
        last_update_ns=sent.last_update_ns,
        total_items=total,
        entries=entries,
    )


#: How a single-bar update can differ from what the encoder writes and still be valid.
_TWISTS: Final = (
    "int_times",
    "float_millis",
    "no_bar_end",
    "no_last_update",
    "volume_null",
    "no_volume",
    "extra_keys",
    "reordered",
)

#: Placeholder values replaced by a literal JSON cannot carry (orjson writes none of them).
_LITERAL: Final = "@@literal@@"


class _Delete:
    def __repr__(self) -> str:
        return "<delete>"


#: A bend value that removes the key instead.
_DELETE: Final = _Delete()


def _set(target: dict[str, Any], key: str, value: object) -> None:
    if value is _DELETE:
        target.pop(key, None)
    else:
        target[key] = value


class WireFrames:
    """Writes ``/live`` frames of a given kind from a small simulated market, each with its
    truth. All randomness comes from ``rng`` (a seeded ``random.Random``, or Hypothesis'
    ``st.randoms()`` so that a failing sequence shrinks)."""

    def __init__(self, rng: random.Random, *, max_bytes: int = MAX_BYTES) -> None:
        self.rng = rng
        self.max_bytes = max_bytes
        self.now_ns = T0_NS + 9 * 3_600 * S
        self.recv_ns = self.now_ns
        self.bars = {
            key: _ServerBars(*key, 50.0 + 25 * i) for i, key in enumerate(BAR_SERIES + STRAY_SERIES)
        }
        self.tick_price = 93_850.5
        self.tick_id = 0
        self.ticks: deque[Point] = deque(maxlen=20)
        self.quotes = {
            code: _ServerQuote(code, 20.0 + 10 * i)
            for i, code in enumerate(QUOTE_CODES + STRAY_QUOTES)
        }
        self.full = True
        #: Recent valid frames, for ``repeat``.
        self.sent: deque[tuple[str, Truth]] = deque(maxlen=8)

    def frame(self, kind: str) -> Generated:
        """The next frame of ``kind`` (one of :data:`KINDS`)."""
        self._advance()
        make: Callable[[], tuple[str | bytes | bytearray | memoryview | None, Truth]]
        make = getattr(self, "_" + kind)
        message, truth = make()
        return Generated(kind, message, truth, self.recv_ns)

    # -- clocks ------------------------------------------------------------------------------

    def _advance(self) -> None:
        rng = self.rng
        r = rng.random()
        if r < 0.6:
            step = rng.randint(0, 400)
        elif r < 0.95:
            step = rng.randint(400, 5_000)
        else:
            step = rng.randint(5_000, 900_000)
        self.now_ns += step * MS
        self.recv_ns = max(self.recv_ns + 1_000, self.now_ns + rng.randint(0, 40) * MS)

    # -- valid series ------------------------------------------------------------------------

    def _bar_stream(self) -> _ServerBars:
        return self.bars[self.rng.choice(BAR_SERIES)]

    def _single(self, bars: _ServerBars, time_ns: int, values: _Values, end_ns: int) -> SeriesSent:
        o, h, low, c, v = values
        return SeriesSent(
            bars.code,
            bars.label,
            end_ns - S,
            self.now_ns,
            (Point(time_ns, o, h, low, c, v),),
        )

    def _remember(self, text: str, truth: Truth) -> tuple[str, Truth]:
        self.sent.append((text, truth))
        return text, truth

    def _bar_update(self) -> tuple[str, Truth]:
        """The in-progress bar after a trade: the fast path's frame, as the encoder writes it."""
        bars = self._bar_stream()
        bars.trade(self.rng, self.now_ns)
        assert bars.open_ns is not None
        truth = self._single(bars, bars.open_ns, bars.values, bars.end_ns)
        return self._remember(encode_frame(_series_record(truth)), truth)

    def _bar_period_start(self) -> tuple[str, Truth]:
        """The push at the start of a new bar period: open = high = low = close, no volume
        yet (protocol 3.4)."""
        bars = self._bar_stream()
        bars.roll(self.now_ns)
        assert bars.open_ns is not None
        truth = self._single(bars, bars.open_ns, bars.values, bars.end_ns)
        return self._remember(encode_frame(_series_record(truth)), truth)

    def _bar_variant(self) -> tuple[str, Truth]:
        """A single-bar update in a shape the encoder does not write: 2024 integer times,
        float milliseconds, no ``bar_end`` or ``last_update``, a null or missing volume, extra
        keys, keys in another order."""
        rng = self.rng
        bars = self._bar_stream()
        if rng.random() < 0.8:
            bars.trade(rng, self.now_ns)
        else:
            bars.roll(self.now_ns)
        assert bars.open_ns is not None
        o, h, low, c, v = bars.values
        time_ns, end_ns = bars.open_ns, bars.end_ns - S
        point: dict[str, Any] = _point_doc(time_ns, bars.values)
        doc: dict[str, Any] = {
            "code": bars.code,
            "bar_type": bars.label,
            "bar_end": end_ns / S,
            "last_update": self.now_ns // MS,
            "series": [point],
        }
        volume: float | None = v
        bar_end: int | None = end_ns
        last_update: int | None = self.now_ns
        twist = rng.choice(_TWISTS)
        if twist == "int_times":
            point["time"] = time_ns // S
            doc["bar_end"] = end_ns // S
        elif twist == "float_millis":
            doc["last_update"] = float(self.now_ns // MS)
        elif twist == "no_bar_end":
            del doc["bar_end"]
            bar_end = None
        elif twist == "no_last_update":
            del doc["last_update"]
            last_update = None
        elif twist == "volume_null":
            point["volume"] = None
            volume = None
        elif twist == "no_volume":
            del point["volume"]
            volume = None
        elif twist == "extra_keys":
            doc["_ct"] = 3
            point["trade_conditions"] = ["@", "T"]
        else:
            doc = dict(reversed(doc.items()))
            doc["series"] = [dict(reversed(point.items()))]
        truth = SeriesSent(
            bars.code, bars.label, bar_end, last_update, (Point(time_ns, o, h, low, c, volume),)
        )
        return self._remember(_dumps(doc), truth)

    def _burst_points(self, bars: _ServerBars, count: int) -> list[Point]:
        done = list(bars.done)[-count:] if count else []
        points = [Point(t, *values) for t, values, _ in done]
        if bars.open_ns is not None:
            points.append(Point(bars.open_ns, *bars.values))
        return points

    def _bar_burst(self) -> tuple[str, Truth]:
        """A reconnect burst: recent completed bars and the bar in progress, oldest first;
        sometimes with a completed bar corrected by the server, shuffled, or with a point
        repeated (the later one, maybe different, wins)."""
        rng = self.rng
        bars = self._bar_stream()
        if rng.random() < 0.7:
            bars.trade(rng, self.now_ns)
        else:
            bars.roll(self.now_ns)
        points = self._burst_points(bars, rng.randint(0, len(bars.done)))
        if len(points) > 1 and rng.random() < 0.3:
            i = rng.randrange(len(points) - 1)
            points[i] = self._corrected(points[i])
        if rng.random() < 0.15:
            i = rng.randrange(len(points))
            again = points[i] if rng.random() < 0.5 else self._corrected(points[i])
            points.insert(i + 1, again)
        if rng.random() < 0.15:
            rng.shuffle(points)
        truth = SeriesSent(bars.code, bars.label, bars.end_ns - S, self.now_ns, tuple(points))
        return self._remember(encode_frame(_series_record(truth)), truth)

    def _corrected(self, point: Point) -> Point:
        """``point`` with another close (inside its range) or more volume: still a valid bar."""
        assert point.low is not None and point.high is not None
        if point.high > point.low and self.rng.random() < 0.5:
            close = point.low if point.close != point.low else point.high
            return attrs.evolve(point, close=close)
        return attrs.evolve(point, volume=round((point.volume or 0.0) + 1.5, 3))

    def _bar_late(self) -> tuple[str, Truth]:
        """A completed bar sent again alone, unchanged or corrected (a lagging server)."""
        bars = self._bar_stream()
        if not bars.done:
            return self._bar_update()
        time_ns, values, end_ns = self.rng.choice(list(bars.done))
        point = Point(time_ns, *values)
        if self.rng.random() < 0.5:
            point = self._corrected(point)
        truth = SeriesSent(bars.code, bars.label, end_ns - S, self.now_ns, (point,))
        return self._remember(encode_frame(_series_record(truth)), truth)

    # -- ticks -------------------------------------------------------------------------------

    def _new_ticks(self) -> list[Point]:
        rng = self.rng
        out: list[Point] = []
        newest = self.ticks[-1].time_ns if self.ticks else self.now_ns
        for _ in range(rng.randint(1, 5)):
            if out and rng.random() < 0.15:
                out.append(out[-1])  # the same trade twice: both are kept
                continue
            time_ns = max(newest, self.now_ns - rng.randint(0, 30) * MS)
            if rng.random() < 0.05:
                time_ns -= rng.randint(1, 100) * MS  # out of order: older than the newest
            newest = max(newest, time_ns)
            self.tick_price = round(max(1.0, self.tick_price + rng.uniform(-5, 5)), 1)
            volume = None if rng.random() < 0.1 else round(rng.uniform(0.001, 2), 3)
            self.tick_id += 1
            trade_id = str(self.tick_id) if rng.random() < 0.3 else None
            price = self.tick_price
            if rng.random() < 0.1:  # some servers send open/high/low for a trade too
                tick = Point(time_ns, price, price, price, price, volume, trade_id)
            else:
                tick = Point(time_ns, None, None, None, price, volume, trade_id)
            out.append(tick)
        self.ticks.extend(out)
        return out

    def _tick_trades(self) -> tuple[str, Truth]:
        truth = SeriesSent(*TICKS, None, self.now_ns, tuple(self._new_ticks()))
        return self._remember(encode_frame(_series_record(truth)), truth)

    def _tick_burst(self) -> tuple[str, Truth]:
        """The recent trades again (a reconnect), maybe with new ones after them."""
        rng = self.rng
        old = list(self.ticks)[-rng.randint(1, 10) :] if self.ticks else []
        new = self._new_ticks() if not old or rng.random() < 0.5 else []
        truth = SeriesSent(*TICKS, None, self.now_ns, tuple(old + new))
        return self._remember(encode_frame(_series_record(truth)), truth)

    # -- heartbeats --------------------------------------------------------------------------

    def _heartbeat(self) -> tuple[str, Truth]:
        """``server_time`` on time, lagging, running ahead of the updates still to come (the
        server falling behind its own clock), after a quiet spell, or exactly at (or a
        millisecond before) the end of a bar in progress."""
        rng = self.rng
        how = rng.choice(("on_time", "on_time", "lagging", "ahead", "after_quiet", "at_end"))
        server = self.now_ns
        if how == "at_end":
            bars = self._bar_stream()
            if bars.open_ns is not None:
                server = bars.end_ns - rng.choice((0, 0, MS))
        elif how == "lagging":
            server -= rng.randint(1, 120_000) * MS
        elif how == "ahead":
            server += rng.randint(1, 7_200_000) * MS
        elif how == "after_quiet":
            hours = 40 * 24 if rng.random() < 0.02 else 6
            self.now_ns += rng.randint(60_000, hours * 3_600_000) * MS
            self.recv_ns = max(self.recv_ns, self.now_ns)
            server = self.now_ns
        truth = HeartbeatSent(server)
        return encode_frame(HeartbeatFrame(server_time_ns=server)), truth

    # -- quotes ------------------------------------------------------------------------------

    def _entry(self, quote: _ServerQuote) -> dict[str, object]:
        """The fields one entry carries: the full snapshot, or a few (sparse), maybe a null;
        sometimes bid above ask until a later entry uncrosses it."""
        rng = self.rng
        quote.move(rng, self.now_ns)
        state = quote.state
        ask = state["ask"]
        if rng.random() < 0.03 and isinstance(ask, float):
            state["bid"] = round(ask + 0.05, 2)
            fields = {"bid": state["bid"], "ask": state["ask"]}
        elif rng.random() < 0.25:
            fields = dict(state)
        else:
            names = rng.sample(_SPARSE, rng.randint(1, 4))
            fields = {name: state[name] for name in names}
        if rng.random() < 0.08:
            name = rng.choice(_NULLABLE)
            state[name] = fields[name] = None
        return fields

    def _quotes_truth(self, codes: Sequence[str]) -> QuotesSent:
        entries = tuple((code, self._entry(self.quotes[code])) for code in codes)
        last_update = None if self.rng.random() < 0.1 else self.now_ns
        return QuotesSent(False, last_update, entries)

    def _quote_codes(self) -> list[str]:
        rng = self.rng
        codes = [rng.choice(QUOTE_CODES) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.1:
            codes.insert(rng.randint(0, len(codes)), STRAY_QUOTES[0])
        return codes

    def _quotes(self) -> tuple[str, Truth]:
        """An envelope of one to four entries (full or sparse, a code maybe twice, maybe one
        not subscribed)."""
        truth = self._quotes_truth(self._quote_codes())
        total = None if self.rng.random() < 0.2 else len(truth.entries)
        return self._remember(encode_frame(_quotes_record(truth, total)), truth)

    def _quote_legacy(self) -> tuple[str, Truth]:
        """The flat 2024 quote: one symbol, whole-second ``lp_time``."""
        quote = self.quotes[self.rng.choice(QUOTE_CODES)]
        quote.move(self.rng, self.now_ns)
        quote.state["lp_time_ns"] = self.now_ns - self.now_ns % S
        names = ("last_price", "bid", "ask", "lp_time_ns", "volume")
        fields = {name: quote.state[name] for name in names}
        truth = QuotesSent(True, None, ((quote.code, fields),))
        return self._remember(encode_frame(_quotes_record(truth, None)), truth)

    # -- frames that give nothing ------------------------------------------------------------

    def _status(self) -> tuple[str, Truth]:
        text = self.rng.choice(("Connecting...", "Connected to W:ASIA-SOUTHEAST"))
        if self.rng.random() < 0.5:
            return _dumps({"message": text, "server": "s-17"}), IgnoredSent("STATUS")
        return encode_frame(StatusFrame(text=text, is_info=True)), IgnoredSent("STATUS")

    def _event(self) -> tuple[str, Truth]:
        frame = self.rng.choice(
            (
                EventFrame(event="subscription_status", status="active", subscription_count=9),
                EventFrame(event="connection_status", status=None, subscription_count=None),
            )
        )
        return encode_frame(frame), IgnoredSent("EVENT")

    def _error(self) -> tuple[str, Truth]:
        frame = self.rng.choice(
            (
                ErrorFrame(style="legacy_message", error_code=None, message="Invalid Symbol Code"),
                ErrorFrame(
                    style="structured",
                    error_code="invalid_symbol",
                    message="Unknown symbol",
                    symbol="NASDAQ:NOPE",
                ),
                ErrorFrame(
                    style="structured",
                    error_code="processing_throttled",
                    message="wait",
                    action="wait_and_retry",
                    retryable=True,
                    delay_s=5.0,
                    reference_id="r-123",
                ),
            )
        )
        return encode_frame(frame), IgnoredSent("ERROR")

    def _pong(self) -> tuple[str, Truth]:
        return self.rng.choice(("pong", " pong\n")), IgnoredSent("PONG")

    def _unknown(self) -> tuple[str, Truth]:
        """Valid JSON of a shape the protocol does not know (ignored, protocol 3.1 step 11),
        among them a heartbeat with an extra key and ``series``/``data`` that are not lists."""
        text = self.rng.choice(
            (
                "[1,2,3]",
                "{}",
                '"text"',
                "42",
                "null",
                '{"foo":1}',
                '{"server_time":1767797150000,"x":1}',
                '{"code":"FZ:AAA","bar_type":"1m","series":{"time":1}}',
                '{"last_update":1767797142517,"data":"none"}',
                '{"title":"news","published_at":1767797000}',
                '{"event":5}',
            )
        )
        return text, IgnoredSent("UNKNOWN")

    def _empty_data(self) -> tuple[str, Truth]:
        if self.rng.random() < 0.5:
            code, label = self.rng.choice(SERIES)
            truth: Truth = SeriesSent(code, label, None, self.now_ns, ())
            return _dumps({"code": code, "bar_type": label, "series": []}), truth
        return '{"total_items":0,"data":[]}', QuotesSent(False, None, ())

    def _stray(self) -> tuple[str, Truth]:
        """Valid data for a stream or quote code never subscribed."""
        if self.rng.random() < 0.7:
            bars = self.bars[self.rng.choice(STRAY_SERIES)]
            bars.trade(self.rng, self.now_ns)
            assert bars.open_ns is not None
            truth = self._single(bars, bars.open_ns, bars.values, bars.end_ns)
            assert isinstance(truth, SeriesSent)
            return encode_frame(_series_record(truth)), truth
        quotes = self._quotes_truth(STRAY_QUOTES)
        return encode_frame(_quotes_record(quotes, 1)), quotes

    def _repeat(self) -> tuple[str, Truth]:
        """A recent valid frame again, byte for byte."""
        if not self.sent:
            return self._bar_update()
        return self.rng.choice(list(self.sent))

    def _resubscribe(self) -> tuple[None, Truth]:
        self.full = not self.full
        return None, Resubscribed(self.full)

    # -- hostile -----------------------------------------------------------------------------

    def _valid_doc(self) -> tuple[str, dict[str, Any]]:
        """A fresh valid document of some family (series, ticks, quotes, flat quote,
        heartbeat, event) to bend; the server's state is not changed."""
        rng = self.rng
        family = rng.choice(("series", "series", "ticks", "quotes", "flat", "heartbeat", "event"))
        if family == "series":
            bars = self._bar_stream()
            bars.roll(self.now_ns)
            assert bars.open_ns is not None
            return family, {
                "code": bars.code,
                "bar_type": bars.label,
                "bar_end": (bars.end_ns - S) / S,
                "last_update": self.now_ns // MS,
                "series": [_point_doc(bars.open_ns, bars.values)],
            }
        if family == "ticks":
            point = {"time": self.now_ns / S, "close": self.tick_price, "volume": 0.5}
            return family, {"code": TICKS[0], "bar_type": "1T", "series": [point]}
        if family in ("quotes", "flat"):
            code = rng.choice(QUOTE_CODES)
            entry = {"code": code, "bid": 10.0, "ask": 10.5, "lp_time": self.now_ns / S}
            if family == "flat":
                return family, entry
            return family, {"last_update": self.now_ns // MS, "total_items": 1, "data": [entry]}
        if family == "heartbeat":
            return family, {"server_time": self.now_ns // MS}
        return family, {"event": "subscription_status", "status": "active"}

    def _bend(self, family: str, doc: dict[str, Any], reason: str) -> str:
        """``doc`` with one value made wrong so that the decoder refuses it with ``reason``.

        Each bend is one change only, so that the reason is the one that change calls for."""
        rng = self.rng
        item = doc
        if family in ("series", "ticks"):
            item = doc["series"][0]
        elif family == "quotes":
            item = doc["data"][0]
        choices: list[tuple[dict[str, Any], str, object]] = []
        if reason == "negative_price":
            prices = ("close", "open", "high", "low") if family == "series" else ("close",)
            if family in ("quotes", "flat"):
                prices = ("bid", "ask", "last_price", "prev_close_price", "high_price")
            if family in ("heartbeat", "event"):
                return self._bend("quotes", self._quote_doc(), reason)
            value = rng.choice((0, 0.0, -0.0, -1.5, -1e300))
            choices = [(item, key, value) for key in prices]
        elif reason == "bad_time":
            low = rng.choice((-1, -0.5, -1e9))
            if family in ("series", "ticks"):
                high = rng.choice((1e10, 5e10, 10**11))
                choices = [(item, "time", low), (item, "time", high)]
                choices += [(doc, "last_update", -1), (doc, "last_update", 1e13)]
                if family == "series":
                    choices += [(doc, "bar_end", low), (doc, "bar_end", high)]
            elif family in ("quotes", "flat"):
                choices = [(item, "lp_time", low), (item, "lp_time", 1e10)]
                if family == "quotes":
                    choices.append((doc, "last_update", rng.choice((-1, 1e13))))
            elif family == "heartbeat":
                choices = [(doc, "server_time", rng.choice((-1, 1e13, 10**15)))]
            else:
                return self._bend("heartbeat", {"server_time": 1}, reason)
        elif reason == "non_finite":
            literal = rng.choice(
                ("NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" + "0" * 400)
            )
            keys = [key for key, value in item.items() if isinstance(value, int | float)]
            key = rng.choice(keys) if keys else "x"
            target = item if keys else doc
            target[key] = _LITERAL
            return _dumps(doc).replace(f'"{_LITERAL}"', literal)
        elif reason == "bad_field":
            choices = self._wrong_types(family, doc, item)
        else:
            raise ValueError(reason)
        target, key, value = rng.choice(choices)
        _set(target, key, value)
        return _dumps(doc)

    def _quote_doc(self) -> dict[str, Any]:
        code = self.rng.choice(QUOTE_CODES)
        entry = {"code": code, "bid": 10.0, "ask": 10.5}
        return {"last_update": self.now_ns // MS, "data": [entry]}

    def _wrong_types(
        self, family: str, doc: dict[str, Any], item: dict[str, Any]
    ) -> list[tuple[dict[str, Any], str, object]]:
        """Changes that make the decoder say ``bad_field``. A ``_DELETE`` value removes the key."""
        odd = self.rng.choice(("12.5", True, [1], {"a": 1}))
        if family in ("series", "ticks"):
            out: list[tuple[dict[str, Any], str, object]] = [
                (doc, "code", self.rng.choice(("fz:aaa", 7, "FZAAA", "", _DELETE))),
                (doc, "bar_type", self.rng.choice(("1x", "0m", "m", 5, "1mm", _DELETE))),
                (item, "time", self.rng.choice((odd, None, _DELETE))),
                (item, "close", self.rng.choice((odd, None, _DELETE))),
                (item, "volume", self.rng.choice((odd, -1, -0.5))),
                (doc, "last_update", odd),
            ]
            if family == "series":
                out += [
                    (
                        item,
                        self.rng.choice(("open", "high", "low")),
                        self.rng.choice((odd, _DELETE)),
                    ),
                    (doc, "bar_end", odd),
                ]
            out.append((doc, "series", [self.rng.choice((5, "x", None, []))]))
            return out
        if family in ("quotes", "flat"):
            out = [
                (item, self.rng.choice(("bid", "ask", "last_price")), odd),
                (item, self.rng.choice(("bid_size", "ask_size", "volume", "market_cap")), -1),
                (item, self.rng.choice(("change", "change_percent")), self.rng.choice(("x", True))),
                (
                    item,
                    self.rng.choice(("status", "currency_code")),
                    self.rng.choice((5, [], True)),
                ),
                (item, "lp_time", self.rng.choice(("x", True))),
                (item, "delay_seconds", self.rng.choice((1.5, 10**7, -2, True, "0"))),
                (item, "code", self.rng.choice(("fz:aaa", 5, "FZAAA"))),
            ]
            if family == "quotes":
                out += [
                    (doc, "total_items", self.rng.choice((-1, "2", 1.5, True))),
                    (doc, "last_update", "x"),
                    (doc, "data", [self.rng.choice((5, "x", None, []))]),
                    (item, "code", _DELETE),
                ]
            return out
        if family == "heartbeat":
            return [(doc, "server_time", self.rng.choice(("x", True, None, [], {})))]
        return [
            (doc, "status", self.rng.choice((5, [], True))),
            (doc, "subscription_count", self.rng.choice((-1, "1", 1.5, True))),
        ]

    def _hostile(self, reason: str) -> tuple[str, Truth]:
        family, doc = self._valid_doc()
        text = self._bend(family, doc, reason)
        return text, RefusedSent(reason)

    def _negative_price(self) -> tuple[str, Truth]:
        return self._hostile("negative_price")

    def _bad_time(self) -> tuple[str, Truth]:
        return self._hostile("bad_time")

    def _non_finite(self) -> tuple[str, Truth]:
        return self._hostile("non_finite")

    def _bad_field(self) -> tuple[str, Truth]:
        return self._hostile("bad_field")

    def _inconsistent_ohlc(self) -> tuple[str, Truth]:
        bars = self._bar_stream()
        bars.roll(self.now_ns)
        assert bars.open_ns is not None
        point = _point_doc(bars.open_ns, bars.values)
        o, h, low = point["open"], point["high"], point["low"]
        key, value = self.rng.choice(
            (
                ("high", round(low * 0.99, 4)),
                ("open", round(h * 1.01, 4)),
                ("open", round(low * 0.99, 4)),
                ("close", round(low * 0.99, 4)),
                ("close", round(h * 1.01 + 0.01, 4)),
                ("low", round(max(o, point["close"]) * 1.01 + 0.01, 4)),
            )
        )
        point[key] = value
        doc = {
            "code": bars.code,
            "bar_type": bars.label,
            "bar_end": (bars.end_ns - S) / S,
            "last_update": self.now_ns // MS,
            "series": [point],
        }
        return _dumps(doc), RefusedSent("inconsistent_ohlc")

    def _not_json(self) -> tuple[str, Truth]:
        rng = self.rng
        how = rng.choice(("truncated", "garbage", "fixed"))
        if how == "truncated":
            _, doc = self._valid_doc()
            text = _dumps(doc)
            return text[: rng.randint(0, len(text) - 1)], RefusedSent("not_json")
        if how == "garbage":
            tail = "".join(rng.choice('ab{}[]":,0 \\') for _ in range(rng.randint(0, 30)))
            return "}" + tail, RefusedSent("not_json")
        text = rng.choice(
            (
                "",
                " ",
                "ping",
                "{'code': 'FZ:AAA'}",
                '{"server_time":1}x',
                '{"message":"a\x01b"}',
                '{"server_time":nan}',
                '{"a":infinity}',
                '{"a":1,}',
                "\ufeff{}",
            )
        )
        return text, RefusedSent("not_json")

    def _lone_surrogate(self) -> tuple[str, Truth]:
        """Text no UTF-8 encoding can carry (a lone surrogate, anywhere): refused as not JSON."""
        _, doc = self._valid_doc()
        text = _dumps(doc)
        cut = self.rng.randint(0, len(text))
        return text[:cut] + "\ud800" + text[cut:], RefusedSent("not_json")

    def _too_deep(self) -> tuple[str, Truth]:
        rng = self.rng
        opener, closer = rng.choice((("[", "]"), ('{"a":', "}")))
        # Deeper than the decoder's limit, or than the JSON parser's, and under the byte limit.
        deepest = min(3_000, (self.max_bytes - 500) // len(opener + closer))
        depth = rng.choice((rng.randint(20, 60), rng.randint(1_100, deepest)))
        deep = opener * depth + ("1" if opener != "[" else "") + closer * depth
        _, doc = self._valid_doc()
        doc["_extra"] = _LITERAL
        text = _dumps(doc).replace(f'"{_LITERAL}"', deep)
        return text, RefusedSent("too_deep")

    def _oversized(self) -> tuple[str, Truth]:
        """Over the byte limit: in characters, or only once encoded (multi-byte text)."""
        _, doc = self._valid_doc()
        if self.rng.random() < 0.5:
            doc["_pad"] = "x" * self.max_bytes
        else:
            char = self.rng.choice(("é", "€", "😀"))
            doc["_pad"] = char * (self.max_bytes // len(char.encode()) + 1)
        return _dumps(doc), RefusedSent("oversized")

    def _binary(self) -> tuple[bytes | bytearray | memoryview, Truth]:
        """A binary message (the protocol uses text only): bytes not UTF-8, or a valid frame
        as bytes."""
        rng = self.rng
        data = rng.choice(
            (
                b"\xff\xfe\xfd",
                b"\xc3\x28",
                bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 16))),
                _dumps({"server_time": self.now_ns // MS}).encode(),
            )
        )
        wrap: Callable[[bytes], bytes | bytearray | memoryview]
        wrap = rng.choice((bytes, bytearray, memoryview))
        return wrap(data), RefusedSent("binary_frame")

    def _bad_point(self, bars: _ServerBars) -> tuple[object, str]:
        """One point a decoder refuses, with the reason (never a literal that spoils the whole
        frame's JSON)."""
        assert bars.open_ns is not None
        point = _point_doc(bars.open_ns + self.rng.randint(-3, 3) * S, bars.values)
        reason = self.rng.choice(("negative_price", "bad_time", "bad_field", "inconsistent_ohlc"))
        if reason == "negative_price":
            point[self.rng.choice(("open", "high", "low", "close"))] = -2.5
        elif reason == "bad_time":
            point["time"] = self.rng.choice((-60, 2e10))
        elif reason == "inconsistent_ohlc":
            point["high"] = round(point["low"] * 0.9, 4)
        else:
            bad: object = self.rng.choice(("x", None, 7))
            if bad == 7:
                return bad, reason
            point[self.rng.choice(("close", "time", "open"))] = bad
        return point, reason

    def _series_partly_bad(self) -> tuple[str, Truth]:
        """A burst with some bad points among good ones: the good ones count."""
        rng = self.rng
        bars = self._bar_stream()
        bars.trade(rng, self.now_ns)
        good = SeriesSent(
            bars.code,
            bars.label,
            bars.end_ns - S,
            self.now_ns,
            tuple(self._burst_points(bars, rng.randint(0, len(bars.done)))),
        )
        doc = encode_document(_series_record(good))
        wire: list[tuple[object, str | None]] = [(point, None) for point in doc["series"]]
        for _ in range(rng.randint(1, 3)):
            wire.insert(rng.randint(0, len(wire)), self._bad_point(bars))
        doc["series"] = [point for point, _ in wire]
        reasons = tuple(reason for _, reason in wire if reason is not None)
        return _dumps(doc), attrs.evolve(good, bad=reasons)

    def _quotes_partly_bad(self) -> tuple[str, Truth]:
        """An envelope with bad entries among good ones: each bad entry is refused once."""
        rng = self.rng
        good = self._quotes_truth(self._quote_codes())
        doc = encode_document(_quotes_record(good, None))
        wire: list[tuple[object, str | None]] = [(entry, None) for entry in doc["data"]]
        for _ in range(rng.randint(1, 2)):
            bad = rng.choice(
                (
                    ({"code": QUOTE_CODES[0], "bid": -1.0}, "negative_price"),
                    ({"code": QUOTE_CODES[1], "ask_size": -3.0}, "bad_field"),
                    ({"code": "fz:lower", "bid": 1.0}, "bad_field"),
                    (17, "bad_field"),
                    ({"code": QUOTE_CODES[2], "lp_time": -5.0}, "bad_time"),
                )
            )
            wire.insert(rng.randint(0, len(wire)), bad)
        doc["data"] = [entry for entry, _ in wire]
        reasons = tuple(reason for _, reason in wire if reason is not None)
        return _dumps(doc), attrs.evolve(good, bad=reasons)

    def _bar_without_ohl(self) -> tuple[str, Truth]:
        """A bar series point with only time, close and volume (a tick's shape)."""
        rng = self.rng
        bars = self._bar_stream()
        bars.trade(rng, self.now_ns)
        assert bars.open_ns is not None
        o, h, low, c, v = bars.values
        odd = Point(bars.open_ns + S * rng.randint(0, 2), None, None, None, c, v)
        points = [odd]
        if rng.random() < 0.5:
            points.insert(rng.randint(0, 1), Point(bars.open_ns, o, h, low, c, v))
        truth = SeriesSent(bars.code, bars.label, bars.end_ns - S, self.now_ns, tuple(points))
        return encode_frame(_series_record(truth)), truth


# -- the oracle --------------------------------------------------------------------------------


@attrs.define(slots=True)
class Expected:
    """What one frame must give: its kind as counted, the events besides rejections (in
    order), the reasons of the rejections (any order; None: any reason, or a counter), and how
    the counters move."""

    kind: str
    events: list[Event] = attrs.Factory(list)
    rejections: list[str | None] = attrs.Factory(list)
    bars: int = 0
    updates: int = 0
    quotes: int = 0
    duplicates: int = 0
    corrections: int = 0
    #: The frame carried nothing to use (empty series or data).
    empty: bool = False


#: A bar's values as compared (volume None only when tolerating ``missing_volume_is_not_zero``).
_BarValues = tuple[float, float, float, float, float | None]
_TickKey = tuple[int, float, float | None, str | None]

#: Final bars remembered per stream to tell a correction from a duplicate. The generator
#: corrects only the newest dozen, far inside any window the adapter keeps.
_FINALS_KEPT: Final = 1_024


class _StreamModel:
    __slots__ = (
        "boundary",
        "current",
        "current_end",
        "current_t",
        "finals",
        "label",
        "last_final",
        "last_tick",
        "size",
        "tick",
    )

    def __init__(self, label: str) -> None:
        self.label = label
        self.tick = label.endswith("T")
        self.size = size_ns(label)
        self.current_t: int | None = None
        self.current: _BarValues | None = None
        self.current_end: int | None = None
        self.last_final: int | None = None
        self.finals: dict[int, _BarValues] = {}
        self.last_tick: int | None = None
        self.boundary: Counter[_TickKey] = Counter()

    def end_bound(self, time_ns: int, reported: int | None, next_ns: int | None) -> int | None:
        best = None if self.size is None else time_ns + self.size
        for bound in (reported, next_ns):
            if bound is not None and bound > time_ns and (best is None or bound < best):
                best = bound
        return best


_QUOTE_EVENT_FIELDS: Final = (
    "bid",
    "ask",
    "bid_size",
    "ask_size",
    "last_price",
    "volume",
    "status",
)


class WireOracle:
    """Predicts what a ``FrameProcessor`` with ``subscriptions`` must give for each truth
    (rules in the module docstring). ``updates=False`` leaves ``BarUpdate`` events out (they
    are still counted). ``tolerate`` names :data:`KNOWN_BUGS` whose wrong behaviour to expect
    instead of the right one (only where the oracle models it: ``missing_volume_is_not_zero``;
    the others show in frame kinds a run can leave out)."""

    def __init__(
        self,
        subscriptions: SubscriptionSet,
        *,
        updates: bool = True,
        tolerate: Iterable[str] = (),
    ) -> None:
        self.updates = updates
        tolerated = frozenset(tolerate)
        if not tolerated <= KNOWN_BUGS.keys():
            raise ValueError(f"not known bugs: {sorted(tolerated - KNOWN_BUGS.keys())}")
        #: A missing volume compares unequal to 0 (the known bug), though the bar carries 0.
        self._raw_volume = "missing_volume_is_not_zero" in tolerated
        self._series: frozenset[tuple[str, str]] = frozenset()
        self._quote_codes: frozenset[str] = frozenset()
        self._streams: dict[tuple[str, str], _StreamModel] = {}
        self._books: dict[str, dict[str, object]] = {}
        self.set_subscriptions(subscriptions)

    def set_subscriptions(self, subscriptions: SubscriptionSet) -> None:
        """A new subscription set: what is left out is forgotten (a stream put back starts
        afresh)."""
        self._series = subscriptions.series_keys
        self._quote_codes = subscriptions.quote_codes
        for key in [key for key in self._streams if key not in self._series]:
            del self._streams[key]
        for code in [code for code in self._books if code not in self._quote_codes]:
            del self._books[code]

    def expect(self, truth: Truth, recv_ns: int) -> Expected:
        if isinstance(truth, SeriesSent):
            return self._series_frame(truth, recv_ns)
        if isinstance(truth, QuotesSent):
            return self._quotes_frame(truth, recv_ns)
        if isinstance(truth, HeartbeatSent):
            return self._heartbeat(truth.server_time_ns, recv_ns)
        if isinstance(truth, RefusedSent):
            return Expected("INVALID", rejections=[truth.reason])
        if isinstance(truth, IgnoredSent):
            return Expected(truth.kind)
        raise TypeError(f"not a frame: {truth!r}")

    # -- series --------------------------------------------------------------------------------

    def _series_frame(self, sent: SeriesSent, recv_ns: int) -> Expected:
        if sent.bad and not sent.points:
            return Expected("INVALID", rejections=[sent.bad[0]])
        exp = Expected("SERIES", rejections=list(sent.bad), empty=not sent.points)
        key = (sent.code, sent.label)
        if key not in self._series:
            exp.rejections.append("unknown_code")
            return exp
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = _StreamModel(sent.label)
        if stream.tick:
            self._ticks(stream, sent, recv_ns, exp)
        else:
            self._bars(stream, sent, recv_ns, exp)
        return exp

    def _bars(self, stream: _StreamModel, sent: SeriesSent, recv_ns: int, exp: Expected) -> None:
        latest: dict[int, Point] = {}
        for point in sent.points:  # the last one sent for a time wins
            latest[point.time_ns] = point
        if not latest:
            return
        newest = max(latest)
        before = (stream.current_t, stream.current)
        pending: dict[int, _BarValues] = {}
        ends: dict[int, int] = {}
        if stream.current_t is not None and stream.current is not None:
            pending[stream.current_t] = stream.current
            if stream.current_end is not None:
                ends[stream.current_t] = stream.current_end
        for time_ns in sorted(latest):
            p = latest[time_ns]
            if p.open is None or p.high is None or p.low is None:
                exp.rejections.append(None)  # rule 9: unusable, must be accounted for
                continue
            volume = 0.0 if p.volume is None and not self._raw_volume else p.volume
            values = (p.open, p.high, p.low, p.close, volume)
            if stream.last_final is not None and time_ns <= stream.last_final:
                known = stream.finals.get(time_ns)
                if known is not None and known != values:
                    exp.corrections += 1
                else:
                    exp.duplicates += 1
                continue
            if pending.get(time_ns) == values:
                exp.duplicates += 1
            pending[time_ns] = values
            if time_ns == newest and sent.bar_end_ns is not None and sent.bar_end_ns >= time_ns:
                ends[time_ns] = sent.bar_end_ns + S
        if not pending:
            return
        times = sorted(pending)
        for time_ns, next_ns in itertools.pairwise(times):
            end = stream.end_bound(time_ns, ends.get(time_ns), next_ns)
            assert end is not None
            exp.events.append(
                self._final(stream, sent.code, time_ns, pending[time_ns], end, recv_ns)
            )
            exp.bars += 1
        last = times[-1]
        stream.current_t, stream.current, stream.current_end = last, pending[last], ends.get(last)
        if (last, pending[last]) != before:
            exp.updates += 1
            if self.updates:
                o, h, low, c, v = pending[last]
                v = v or 0.0
                ts_event = sent.last_update_ns if sent.last_update_ns is not None else recv_ns
                exp.events.append(
                    BarUpdate(
                        symbol=sent.code,
                        interval=sent.label,
                        ts_open=last,
                        open=o,
                        high=h,
                        low=low,
                        close=c,
                        volume=v,
                        ts_event=ts_event,
                        ts_recv=recv_ns,
                    )
                )

    def _final(
        self,
        stream: _StreamModel,
        code: str,
        time_ns: int,
        values: _BarValues,
        end_ns: int,
        recv_ns: int,
    ) -> Bar:
        stream.last_final = time_ns
        stream.finals[time_ns] = values
        if len(stream.finals) > _FINALS_KEPT:
            del stream.finals[next(iter(stream.finals))]
        o, h, low, c, v = values
        return Bar(
            symbol=code,
            interval=stream.label,
            ts_open=time_ns,
            open=o,
            high=h,
            low=low,
            close=c,
            volume=v or 0.0,
            ts_event=end_ns,
            ts_recv=recv_ns,
        )

    def _ticks(self, stream: _StreamModel, sent: SeriesSent, recv_ns: int, exp: Expected) -> None:
        start = stream.last_tick
        emitted_before = Counter(stream.boundary)
        seen_at_start: Counter[_TickKey] = Counter()
        for p in sorted(sent.points, key=lambda p: p.time_ns):
            volume = 0.0 if p.volume is None else p.volume
            key = (p.time_ns, p.close, p.volume if self._raw_volume else volume, p.trade_id)
            if start is not None and p.time_ns <= start:
                if p.time_ns < start:
                    exp.duplicates += 1
                    continue
                seen_at_start[key] += 1
                if seen_at_start[key] <= emitted_before[key]:
                    exp.duplicates += 1
                    continue
            if stream.last_tick is None or p.time_ns > stream.last_tick:
                stream.last_tick = p.time_ns
                stream.boundary = Counter()
            stream.boundary[key] += 1
            exp.bars += 1
            exp.events.append(
                Bar(
                    symbol=sent.code,
                    interval=sent.label,
                    ts_open=p.time_ns,
                    open=p.close,
                    high=p.close,
                    low=p.close,
                    close=p.close,
                    volume=volume,
                    ts_event=p.time_ns,
                    ts_recv=recv_ns,
                )
            )

    def _heartbeat(self, server_ns: int, recv_ns: int) -> Expected:
        exp = Expected("HEARTBEAT")
        closed: list[Bar] = []
        for (code, _), stream in self._streams.items():
            if stream.current_t is None or stream.current is None:
                continue
            end = stream.end_bound(stream.current_t, stream.current_end, None)
            if end is None or server_ns < end:
                continue
            closed.append(self._final(stream, code, stream.current_t, stream.current, end, recv_ns))
            stream.current_t = stream.current = stream.current_end = None
        closed.sort(key=lambda bar: (bar.ts_event, bar.symbol, bar.interval))
        exp.events.extend(closed)
        exp.bars = len(closed)
        return exp

    # -- quotes ------------------------------------------------------------------------------

    def _quotes_frame(self, sent: QuotesSent, recv_ns: int) -> Expected:
        if sent.bad and not sent.entries:
            return Expected("INVALID", rejections=[sent.bad[0]])
        kind = "LEGACY_QUOTE" if sent.legacy else "QUOTES"
        exp = Expected(kind, rejections=list(sent.bad), empty=not sent.entries)
        ts_event = sent.last_update_ns if sent.last_update_ns is not None else recv_ns
        for code, fields in sent.entries:
            if code not in self._quote_codes:
                exp.rejections.append("unknown_code")
                continue
            book = self._books.setdefault(code, {})
            book.update(fields)
            bid, ask = book.get("bid"), book.get("ask")
            if bid is not None and ask is not None and bid > ask:  # type: ignore[operator]
                exp.rejections.append("invalid_quote")
                continue
            values = {name: book.get(name) for name in _QUOTE_EVENT_FIELDS}
            exp.events.append(
                Quote(
                    symbol=code,
                    ts_last=book.get("lp_time_ns"),  # type: ignore[arg-type]
                    ts_event=ts_event,
                    ts_recv=recv_ns,
                    **values,  # type: ignore[arg-type]
                )
            )
            exp.quotes += 1
        return exp


# -- checks ------------------------------------------------------------------------------------


class ProcessorLike(Protocol):
    """What :class:`FuzzRun` needs of a processor (a ``FrameProcessor``, or a test's wrapper
    around one)."""

    source: str

    def process_live(self, text: Any, recv_ns: int) -> tuple[list[Event], object]: ...

    def statistics(self) -> Any: ...

    def set_subscriptions(self, subscriptions: SubscriptionSet | None) -> None: ...


_COUNTERS: Final = ("bars", "updates", "quotes", "duplicates", "corrections")


def _as_journalled(subscriptions: SubscriptionSet) -> SubscriptionSet:
    """``subscriptions`` as a replay reads them back from the journalled subscription message."""
    _, parsed = parse_subscribe(encode_subscribe("fuzz-key", subscriptions))
    return SubscriptionSet(parsed)


def _delta(after: Mapping[str, int], before: Mapping[str, int]) -> dict[str, int]:
    """How counters by name moved (they only grow, so every name of ``before`` is in
    ``after``)."""
    if after == before:
        return {}
    get = before.get
    return {key: n - get(key, 0) for key, n in after.items() if n != get(key, 0)}


def _short(message: object, limit: int = 400) -> str:
    text = repr(message)
    return text if len(text) <= limit else text[: limit - 20] + f"... ({len(text)} chars)"


@attrs.frozen(slots=True)
class Mismatch:
    """A frame whose outcome the oracle did not predict."""

    index: int
    kind: str
    message: str
    problems: tuple[str, ...]

    def __str__(self) -> str:
        lines = [f"frame #{self.index} ({self.kind}): {self.message}"]
        lines += [f"    {problem}" for problem in self.problems]
        return "\n".join(lines)


class FuzzRun:
    """Generates frames, feeds them to a processor and checks each outcome.

    ``rng`` drives the generator. ``processor`` builds the processor under test from the
    subscription set (default: a ``FrameProcessor`` with ``updates`` and ``fast_path``).
    ``tolerate`` goes to the oracle (:data:`KNOWN_BUGS` to accept). With ``replay`` (and the
    default processor), a twin processor replays every text frame as ``RecordingFeed`` does,
    and its events must be the live path's.
    Mismatches are collected rather than raised, so a long run reports them all: counted by
    kind, and the first ``keep`` kept in full (at most a quarter of them of one kind, so that
    one frequent problem does not hide another).
    """

    def __init__(
        self,
        rng: random.Random,
        *,
        updates: bool = True,
        fast_path: bool = True,
        max_bytes: int = MAX_BYTES,
        processor: Callable[[SubscriptionSet], ProcessorLike] | None = None,
        tolerate: Iterable[str] = (),
        replay: bool = True,
        keep: int = 20,
    ) -> None:
        subs = subscription_set(full=True)
        self.frames = WireFrames(rng, max_bytes=max_bytes)
        if processor is None:
            self.processor: ProcessorLike = FrameProcessor(
                subs, source=SOURCE, max_bytes=max_bytes, updates=updates, fast_path=fast_path
            )
        else:
            self.processor = processor(subs)
        self.replay: FrameProcessor | None = None
        if replay and processor is None:
            self.replay = FrameProcessor(
                _as_journalled(subs),
                source=SOURCE,
                max_bytes=max_bytes,
                updates=updates,
                fast_path=fast_path,
            )
        self.oracle = WireOracle(subs, updates=updates, tolerate=tolerate)
        self.keep = keep
        self.count = 0
        self.kinds: Counter[str] = Counter()
        self.events: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.mismatch_count = 0
        self.mismatch_kinds: Counter[str] = Counter()
        self.mismatches: list[Mismatch] = []
        self.fast_path_frames = 0
        self.heartbeat_bars = 0
        #: Wall and CPU time spent in ``process_live`` (the processor alone).
        self.processor_ns = 0
        self.processor_cpu_ns = 0
        #: Problems the last frame had counted (``statistics().health``) besides rejections.
        self._counted = 0
        self._stats = self.processor.statistics()
        self._series = subs.series_keys
        self._quote_codes = subs.quote_codes
        #: Open time of the last final bar per stream (invariants, independent of the model).
        self._last_final: dict[tuple[str, str], int] = {}

    def run(self, kinds: Iterable[str]) -> None:
        for kind in kinds:
            self.step(kind)

    def step(self, kind: str) -> None:
        """Generate one frame of ``kind``, process it and check the outcome."""
        generated = self.frames.frame(kind)
        self.kinds[kind] += 1
        truth = generated.truth
        if isinstance(truth, Resubscribed):
            subs = subscription_set(full=truth.full)
            self.processor.set_subscriptions(subs)
            if self.replay is not None:
                self.replay.set_subscriptions(_as_journalled(subs))
            self.oracle.set_subscriptions(subs)
            self._series, self._quote_codes = subs.series_keys, subs.quote_codes
            for key in [key for key in self._last_final if key not in self._series]:
                del self._last_final[key]
            self._stats = self.processor.statistics()
            return
        self.count += 1
        recv_ns = generated.recv_ns
        problems: list[str] = []
        events: list[Event] = []
        frame: object = None
        started, cpu = perf_counter_ns(), thread_time_ns()
        try:
            events, frame = self.processor.process_live(generated.message, recv_ns)
        except Exception as exc:
            problems.append(f"raised {type(exc).__name__}: {exc}")
        self.processor_cpu_ns += thread_time_ns() - cpu
        self.processor_ns += perf_counter_ns() - started
        if self.replay is not None and not problems:
            problems += self._replayed(generated.message, recv_ns, events)
        after = self.processor.statistics()
        expected = self.oracle.expect(truth, recv_ns)
        self._counted = 0
        if not problems:
            problems += self._compare(expected, events, frame, self._stats, after, recv_ns)
            problems += self._invariants(events, recv_ns, truth)
        self._stats = after
        for event in events:
            self.events[type(event).__name__] += 1
        if isinstance(frame, str):
            self.fast_path_frames += 1
        self.outcomes[self._outcome(expected, events, self._counted)] += 1
        if problems:
            self.mismatch_count += 1
            self.mismatch_kinds[kind] += 1
            per_kind = max(1, self.keep // 4)
            if len(self.mismatches) < self.keep and self.mismatch_kinds[kind] <= per_kind:
                self.mismatches.append(
                    Mismatch(self.count, kind, _short(generated.message), tuple(problems))
                )

    def _replayed(self, message: object, recv_ns: int, live: list[Event]) -> list[str]:
        """The replay's events for ``message``: only text reaches a journal as an inbound
        record (binary frames become markers), and only text UTF-8 can carry."""
        assert self.replay is not None
        if not isinstance(message, str):
            return []
        try:
            text = message.encode().decode()
        except UnicodeEncodeError:
            return []
        try:
            replayed = self.replay.process_events(text, recv_ns)
        except Exception as exc:
            return [f"replay raised {type(exc).__name__}: {exc}"]
        if replayed != live:
            return [f"replay (process_events) gave {replayed!r}, live gave {live!r}"]
        return []

    def report(self) -> str:
        """The mismatches kept, one block each."""
        shown = "\n".join(str(m) for m in self.mismatches)
        more = self.mismatch_count - len(self.mismatches)
        return shown + (f"\n... and {more} more" if more > 0 else "")

    @staticmethod
    def _outcome(expected: Expected, events: list[Event], counted: int) -> str:
        if expected.kind == "INVALID":
            return "refused"
        rejected = any(type(e) is DataRejected for e in events)
        useful = any(type(e) is not DataRejected for e in events)
        if useful and rejected:
            return "events, part refused"
        if useful:
            return "events"
        if rejected:
            return "refused in part" if expected.bars or expected.quotes else "refused (per item)"
        if expected.duplicates or expected.corrections:
            return "counted (duplicate/correction)"
        if expected.updates:
            return "counted (update, not delivered)"
        if counted:
            return "counted (feed health only)"
        return f"no-op ({expected.kind.lower()}{', empty' if expected.empty else ''})"

    def _compare(
        self,
        expected: Expected,
        events: list[Event],
        frame: object,
        before: Any,
        after: Any,
        recv_ns: int,
    ) -> list[str]:
        problems: list[str] = []
        got = [e for e in events if type(e) is not DataRejected]
        rejected = [e for e in events if type(e) is DataRejected]
        if got != expected.events:
            problems.append(f"events: got {got!r}, expected {expected.events!r}")
        # The frame: None when refused, the code alone when the fast path took it.
        if expected.kind == "INVALID":
            if frame is not None:
                problems.append(f"frame: expected None (refused), got {frame!r}")
        elif isinstance(frame, str):
            if expected.kind != "SERIES":
                problems.append(f"fast path took a {expected.kind} frame")
        elif getattr(getattr(frame, "kind", None), "name", None) != expected.kind:
            problems.append(f"frame kind: got {frame!r}, expected {expected.kind}")
        # Rejections: the reasons predicted (None: any reason, or a counter that moved).
        health = _delta(getattr(after, "health", {}), getattr(before, "health", {}))
        # Counted, not emitted: problems the health counts beyond rejections and corrections.
        counted = 0
        if health:
            counted = sum(n for k, n in health.items() if not k.startswith("rejected:"))
            counted -= health.get("late_correction", 0)
        self._counted = counted
        reasons: Counter[str] = Counter()
        if rejected or expected.rejections:
            reasons.update(e.reason for e in rejected)
            wanted = Counter(r for r in expected.rejections if r is not None)
            open_slots = expected.rejections.count(None)
            missing = wanted - reasons
            extra = sum((reasons - wanted).values())
            unfilled = open_slots - extra
            if missing or unfilled < 0 or (unfilled > 0 and counted < unfilled):
                problems.append(
                    f"rejections: got {dict(reasons)}, expected {dict(wanted)}"
                    + (f" and {open_slots} more (any reason, or counted)" if open_slots else "")
                )
        for e in rejected:
            if e.source != SOURCE or e.ts_event != recv_ns or e.ts_recv != recv_ns:
                problems.append(f"rejection stamps: {e!r}")
            if e.reason not in REASONS:
                problems.append(f"unknown rejection reason {e.reason!r}")
            if not (e.detail.isprintable() and len(e.detail) <= 200):
                problems.append(f"rejection detail not log-safe: {e.detail!r}")
        # Counters: each moves by what the frame did, and rejections are counted once each.
        frames = _delta(after.frames, before.frames)
        if frames != {expected.kind: 1}:
            problems.append(f"frames counted: {frames}, expected {{{expected.kind!r}: 1}}")
        counted_rejections = _delta(after.rejected, before.rejected)
        if counted_rejections != dict(reasons):
            problems.append(f"rejected counted {counted_rejections}, emitted {dict(reasons)}")
        for name in _COUNTERS:
            moved = getattr(after, name) - getattr(before, name)
            if moved != getattr(expected, name):
                problems.append(f"{name}: moved {moved}, expected {getattr(expected, name)}")
        for name in ("backfilled", "gaps", "pending_backfills"):
            if getattr(after, name, 0) != getattr(before, name, 0):
                problems.append(f"{name} moved without backfill")
        if health:
            for key, n in health.items():
                if key.startswith("rejected:") and n != reasons.get(key[9:], 0):
                    problems.append(f"health {key} moved {n}, emitted {reasons.get(key[9:], 0)}")
            if health.get("late_correction", 0) != expected.corrections:
                problems.append(
                    f"health late_correction moved {health.get('late_correction', 0)}, "
                    f"expected {expected.corrections}"
                )
        # No silent drop: a frame that is not a documented no-op moves something.
        if (
            not events
            and not (expected.bars or expected.updates or expected.quotes)
            and not (expected.duplicates or expected.corrections)
            and not counted
            and expected.kind not in NO_OP_KINDS
            and expected.kind != "HEARTBEAT"
            and not expected.empty
        ):
            problems.append("silent drop: no event and no counter moved")
        return problems

    def _invariants(self, events: list[Event], recv_ns: int, truth: Truth) -> list[str]:
        """Checks that hold whatever the model predicts."""
        problems: list[str] = []
        for event in events:
            cls = type(event)
            if cls is Bar or cls is BarUpdate:
                bar: Any = event
                key = (bar.symbol, bar.interval)
                prices = (bar.open, bar.high, bar.low, bar.close)
                if not all(math.isfinite(x) for x in (*prices, bar.volume)):
                    problems.append(f"not finite: {bar!r}")
                if not (
                    0 < bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
                ):
                    problems.append(f"OHLC inconsistent: {bar!r}")
                if bar.volume < 0:
                    problems.append(f"negative volume: {bar!r}")
                if key not in self._series:
                    problems.append(f"{cls.__name__} of a stream not subscribed: {bar!r}")
                if bar.ts_recv != recv_ns:
                    problems.append(f"ts_recv is not the frame's receive time: {bar!r}")
                last = self._last_final.get(key)
                tick = bar.interval.endswith("T")
                if cls is Bar:
                    if last is not None and (
                        bar.ts_open < last or (bar.ts_open == last and not tick)
                    ):
                        problems.append(f"final bar out of order or again (after {last}): {bar!r}")
                    self._last_final[key] = bar.ts_open
                    size = size_ns(bar.interval)
                    if bar.ts_event < bar.ts_open or (
                        size is not None and bar.ts_event > bar.ts_open + size
                    ):
                        problems.append(f"ts_event outside the bar's period: {bar!r}")
                    if tick and bar.ts_event != bar.ts_open:
                        problems.append(f"tick's ts_event is not its time: {bar!r}")
                    if isinstance(truth, HeartbeatSent):
                        self.heartbeat_bars += 1
                        if bar.ts_event > truth.server_time_ns:
                            problems.append(f"heartbeat closed a bar before its end: {bar!r}")
                elif last is not None and bar.ts_open <= last:
                    problems.append(f"update of a bar already final (after {last}): {bar!r}")
            elif cls is Quote:
                quote: Any = event
                if quote.symbol not in self._quote_codes:
                    problems.append(f"quote of a code not subscribed: {quote!r}")
                if quote.bid is not None and quote.ask is not None and quote.bid > quote.ask:
                    problems.append(f"bid above ask: {quote!r}")
                for name in ("bid", "ask", "last_price", "bid_size", "ask_size", "volume"):
                    value = getattr(quote, name)
                    if value is not None and not (math.isfinite(value) and value >= 0):
                        problems.append(f"quote {name} not finite or negative: {quote!r}")
            elif cls is not DataRejected:
                problems.append(f"unexpected event type: {event!r}")
        return problems
