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
_FRAME_VALUES: Final = itemgetter(CODE, BAR_TYPE, BAR_END, LAST_UPDATE)
_POINT_VALUES: Final = itemgetter(TIME, OPEN, HIGH, LOW, CLOSE, VOLUME)

#: The number types the decoder accepts, the one the wire mostly carries first: ``in`` stops
#: at the first match.
_FLOAT_OR_INT: Final = (float, int)


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
    series = doc.get(SERIES)
    if type(series) is not list or len(series) != 1:
        return None
    point = series[0]
    if type(point) is not dict or len(point) != 6:
        return None
    try:
        code, label, bar_end, last_update = _FRAME_VALUES(doc)
        t, o, h, low, c, v = _POINT_VALUES(point)
    except KeyError:
        return None
    number = _FLOAT_OR_INT
    if (
        type(code) is not str
        or type(label) is not str
        or type(bar_end) not in number
        or type(last_update) not in number
        or type(t) not in number
        or type(o) not in number
        or type(h) not in number
        or type(low) not in number
        or type(c) not in number
        or type(v) not in number
    ):
        return None
    end_s = float(bar_end)
    update_ms = float(last_update)
    time_s = float(t)
    values = (float(o), float(h), float(low), float(c), float(v))
    op, hi, lo, cl, vol = values
    # lo > 0 and lo <= every other price covers each price's own "> 0" check.
    if not (
        0 <= time_s < MAX_SECONDS
        and 0 <= end_s < MAX_SECONDS
        and 0 <= update_ms < MAX_MILLIS
        and 0 < lo <= op <= hi
        and lo <= cl <= hi
        and vol >= 0
    ):
        return None
    return (
        code,
        label,
        round(time_s * 1_000_000) * 1_000,
        values,
        round(end_s * 1_000_000) * 1_000,
        round(update_ms * 1_000) * 1_000,
    )
