"""The fast path of the ``/live`` decoder: the most common frame, a single-bar series update,
straight from its parsed JSON to plain values.

:func:`single_bar_values` applies exactly the checks :func:`~._codec.decode_frame` would, and
gives up (None) on anything else, so the processor that tries it first and falls back to the
full decoder gets the same events either way, only sooner.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Final

from ._codec import MAX_MILLIS, MAX_SECONDS
from ._wire_keys import (
    BAR_END,
    BAR_TYPE,
    CLOSE,
    CODE,
    HIGH,
    LAST_UPDATE,
    LOW,
    OPEN,
    SERIES,
    TIME,
    VOLUME,
)

#: ``(code, bar_label, time_ns, (open, high, low, close, volume), bar_end_ns, last_update_ns)``
SingleBar = tuple[str, str, int, tuple[float, float, float, float, float], int, int]


#: The values of a single-bar frame besides ``series``, and of its point. With the key counts
#: checked first (5 and 6), a document that has all of these keys has no other.
_FRAME_VALUES: Final = itemgetter(CODE, BAR_TYPE, BAR_END, LAST_UPDATE, SERIES)
_POINT_VALUES: Final = itemgetter(TIME, OPEN, HIGH, LOW, CLOSE, VOLUME)

#: The number types the decoder accepts, the one the wire mostly carries first: ``in`` stops
#: at the first match.
_FLOAT_OR_INT: Final = (float, int)

#: ``round`` of a float, without the lookup of ``__round__`` that ``round()`` makes each time.
_round: Final = float.__round__

#: Whole milliseconds below this (2**53 / 1000) convert to nanoseconds through a float exactly,
#: so ``millis * 1_000_000`` gives the same int as ``nanos_from_millis``.
_EXACT_MILLIS: Final = 2**53 // 1_000


def single_bar_values(doc: dict[str, Any]) -> SingleBar | None:
    """The most common frame, reduced to plain values: a series update of exactly the keys
    ``code``, ``bar_type``, ``bar_end``, ``last_update`` and one full point (``time``, OHLC,
    ``volume``), every value passing the checks of :func:`~._codec.decode_frame`. None for anything
    else, and for any value those checks would reject: the caller then decodes the document
    in full, which reports what is wrong.

    ``code`` and ``bar_type`` are only known to be strings; the caller must match them
    against streams that passed the full checks. Same values as the general path, so the
    same events: the time conversions are ``nanos_from_seconds`` and ``nanos_from_millis``
    inlined.
    """
    # With exactly five keys, all present and of scalar types (one list of one flat point),
    # the document nests three deep and classifies as a series frame, as decode_frame's
    # depth check and classification would find.
    if len(doc) != 5:
        return None
    try:
        code, label, bar_end, last_update, series = _FRAME_VALUES(doc)
    except KeyError:
        return None
    if series.__class__ is not list or len(series) != 1:
        return None
    point = series[0]
    if point.__class__ is not dict or len(point) != 6:
        return None
    try:
        t, o, h, low, c, v = _POINT_VALUES(point)
    except KeyError:
        return None
    if code.__class__ is not str or label.__class__ is not str:
        return None
    # The wire's usual types first (floats, and whole milliseconds): no conversion needed.
    if (
        o.__class__ is float
        and h.__class__ is float
        and low.__class__ is float
        and c.__class__ is float
        and v.__class__ is float
    ):
        values = (o, h, low, c, v)
    else:
        number = _FLOAT_OR_INT
        if (
            o.__class__ not in number
            or h.__class__ not in number
            or low.__class__ not in number
            or c.__class__ not in number
            or v.__class__ not in number
        ):
            return None
        values = o, h, low, c, v = (float(o), float(h), float(low), float(c), float(v))
    if t.__class__ is not float:
        if t.__class__ is not int:
            return None
        t = float(t)
    if bar_end.__class__ is not float:
        if bar_end.__class__ is not int:
            return None
        bar_end = float(bar_end)
    # low > 0 and low <= every other price covers each price's own "> 0" check.
    if not (
        0 <= t < MAX_SECONDS
        and 0 <= bar_end < MAX_SECONDS
        and 0 < low <= o <= h
        and low <= c <= h
        and v >= 0
    ):
        return None
    if last_update.__class__ is int and 0 <= last_update < _EXACT_MILLIS:
        update_ns = last_update * 1_000_000  # what the float formula gives, exactly
    else:
        if last_update.__class__ is not float and last_update.__class__ is not int:
            return None
        millis = float(last_update)
        if not 0 <= millis < MAX_MILLIS:
            return None
        update_ns = _round(millis * 1_000) * 1_000
    return (
        code,
        label,
        _round(t * 1_000_000) * 1_000,
        values,
        _round(bar_end * 1_000_000) * 1_000,
        update_ns,
    )
