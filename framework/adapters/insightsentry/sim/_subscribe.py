"""How the simulated InsightSentry server reads a subscription message: each item of
``subscriptions`` becomes what it will serve (a :class:`ServedSubscription`) or the error it
answers with (a :class:`Refusal`); :func:`read_subscriptions` reads the whole list and gives
the error frames to send before anything else.

As lenient as the service where the service is (booleans and counts sent as strings, the
``interval_type``/``interval_length`` spellings of 2024) and as strict where it is not.
"""

from __future__ import annotations

import re
from typing import Final, Literal

import attrs

from ...._intervals import Interval
from ...._time import NANOS_PER_SECOND
from ....testing._market import BAR_UNITS
from .._subscriptions import INVALID_SUBSCRIPTIONS_TEXT
from ._config import SimConfig
from ._wire import error_text

_CODE_PATTERN: Final = re.compile(r"^[^:\s]+:[^:\s]+$")
_SECOND_LENGTHS: Final = frozenset({1, 5, 10, 15, 30, 45})
_YEAR_NANOS: Final = 365 * 86_400 * NANOS_PER_SECOND
_BOOL_FIELDS: Final = (
    "recent_bars",
    "extended",
    "dadj",
    "badj",
    "settlement",
    "split",
    "24h",
)
_COUNT_FIELDS: Final = ("max_dp", "dp", "max_bars")

#: A subscription's identity: code, kind (series, tick, quote) and bar label.
Key = tuple[str, str, str]


@attrs.frozen(slots=True)
class ServedSubscription:
    """A series, tick or quote stream the connection will serve, with its burst size."""

    code: str
    kind: Literal["series", "tick", "quote"]
    interval: Interval | None
    count: int

    @property
    def key(self) -> Key:
        return (self.code, self.kind, "" if self.interval is None else self.interval.label)


@attrs.frozen(slots=True)
class Refusal:
    """An item answered with an error frame: the structured ``error`` and ``message``, the
    legacy style's text, and the code it was about (if it had one)."""

    error: str
    message: str
    legacy_message: str
    code: str | None


@attrs.frozen(slots=True)
class SubscriptionAnswer:
    """A subscription message read: what to serve (empty: the message changes nothing) and
    the error frames to send first."""

    accepted: dict[Key, ServedSubscription]
    errors: list[str]


def read_subscriptions(raw: object, config: SimConfig) -> SubscriptionAnswer:
    """Read the ``subscriptions`` field of a client message.

    Not a non-empty list: one ``invalid_subscriptions`` error. More distinct subscriptions than
    ``config.max_subscriptions``: one ``subscription_limit_exceeded`` error, nothing served.
    Otherwise an error per refused item, and the rest served (duplicates once).
    """
    style = config.error_style
    if not isinstance(raw, list) or not raw:
        error = error_text(style, "invalid_subscriptions", message=INVALID_SUBSCRIPTIONS_TEXT)
        return SubscriptionAnswer({}, [error])
    accepted: dict[Key, ServedSubscription] = {}
    refusals: list[Refusal] = []
    for item in raw:
        for parsed in read_item(item, config):
            if isinstance(parsed, Refusal):
                refusals.append(parsed)
            else:
                accepted.setdefault(parsed.key, parsed)
    cap = config.max_subscriptions
    if cap is not None and len(accepted) > cap:
        message = f"Subscription exceeds the number of symbols allowed by your plan ({cap})"
        return SubscriptionAnswer(
            {}, [error_text(style, "subscription_limit_exceeded", message=message)]
        )
    errors = [
        error_text(
            style,
            refusal.error,
            message=refusal.message,
            legacy_message=refusal.legacy_message,
            symbol=refusal.code,
        )
        for refusal in refusals
    ]
    return SubscriptionAnswer(accepted, errors)


def read_item(item: object, config: SimConfig) -> list[ServedSubscription | Refusal]:
    """What one item of a subscription message asks for (an item of ``type`` ``both`` asks for
    a series and a quote), or why it is refused; ``config`` says which codes exist and caps
    the bar count."""

    def invalid(message: str, code: str | None = None) -> list[ServedSubscription | Refusal]:
        return [Refusal("invalid_request", message, INVALID_SUBSCRIPTIONS_TEXT, code)]

    if not isinstance(item, dict):
        return invalid("a subscription must be a JSON object")
    code = item.get("code")
    if not isinstance(code, str) or not _CODE_PATTERN.match(code):
        return [
            Refusal(
                "invalid_symbol",
                "Invalid Symbol Code",
                "Invalid Symbol Code",
                code if isinstance(code, str) else None,
            )
        ]
    known = config.symbols
    if code in config.invalid_symbols or (known is not None and code not in known):
        return [Refusal("invalid_symbol", "Unknown symbol", "Invalid Symbol Code", code)]
    kind = item.get("type", "series")
    if kind not in ("series", "quote", "both"):
        return invalid(f"unknown subscription type {kind!r}", code)
    for name in _BOOL_FIELDS:
        if name in item and _flag(item[name]) is None:
            return invalid(f"{name} must be true or false", code)
    count = 1
    for name in _COUNT_FIELDS:
        if name in item:
            value = _whole(item[name])
            if value is None or value < 1:
                return invalid(f"{name} must be a positive integer", code)
            count = min(value, config.max_dp_cap)
            break
    found: list[ServedSubscription | Refusal] = []
    if kind in ("series", "both"):
        unit = item.get("bar_type", item.get("interval_type", "minute"))
        length = _whole(item.get("bar_interval", item.get("interval_length", 1)))
        interval_error = _interval_error(unit, length)
        if interval_error is not None:
            found.append(
                Refusal("invalid_bar_interval", interval_error, INVALID_SUBSCRIPTIONS_TEXT, code)
            )
        else:
            assert isinstance(unit, str) and length is not None
            interval = Interval(unit, length)
            found.append(
                ServedSubscription(code, "tick" if unit == "tick" else "series", interval, count)
            )
    if kind in ("quote", "both"):
        found.append(ServedSubscription(code, "quote", None, 1))
    return found


def _interval_error(unit: object, length: int | None) -> str | None:
    if not isinstance(unit, str) or unit not in {*BAR_UNITS, "tick", "month"}:
        return f"unknown bar_type {unit!r}"
    if length is None or length < 1:
        return "bar_interval must be a positive integer"
    if unit == "month":
        return "the simulated server does not produce month bars"
    if unit == "tick" and length != 1:
        return "bar_interval must be 1 for tick data"
    if unit == "second" and length not in _SECOND_LENGTHS:
        return f"bar_interval for second bars must be one of {sorted(_SECOND_LENGTHS)}"
    nanos = Interval(unit, length).nanos
    if nanos is not None and nanos >= _YEAR_NANOS:
        return "bar_interval must stay below one year"
    return None


def _flag(value: object) -> bool | None:
    """A boolean as sent: true/false, or the strings "true"/"false" (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _whole(value: object) -> int | None:
    """An integer as sent: an int, an integral float, or a string of digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
