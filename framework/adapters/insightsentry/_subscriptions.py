"""Subscriptions to the InsightSentry ``/live`` endpoint: validation, encoding and parsing.

A :class:`Subscription` checks the vendor's rules when it is built, so a mistake is reported
before anything is sent, with a message that names the subscription (``NASDAQ:AAPL@5m``) and the
rule broken. A :class:`SubscriptionSet` checks rules about the whole list (non-empty, no
duplicates, plan limits). :func:`encode_subscribe` writes the JSON text of the subscription
message; :func:`parse_subscribe` reads one back, accepting every spelling the vendor has used
(it serves the simulated server).

The API key is a plain ``str`` argument here: the caller reveals its secret only at this point.
No exception raised by this module ever contains the key.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, Literal, cast

import attrs
import orjson

from ..._errors import SubscriptionError
from ..._intervals import Interval

SubscriptionType = Literal["series", "quote"]

#: The code pattern the vendor's own client enforces (``EXCHANGE:SYMBOL``).
CODE_PATTERN: Final = re.compile(r"^[A-Z0-9_./-]+:[A-Z0-9_./!-]+$")

#: Smallest and largest initial bar count (``max_dp`` / ``dp``) the service accepts.
MIN_BARS: Final = 1
MAX_BARS: Final = 30_000

#: Each bar unit's length must stay below one year (the 2024 rule); ticks and seconds take 1 only.
_MAX_LENGTH_EXCLUSIVE: Final = {
    "tick": 2,
    "second": 2,
    "minute": 525_600,
    "hour": 8_760,
    "day": 365,
    "week": 52,
    "month": 12,
}
_SERIES_FLAGS: Final = ("dadj", "split", "badj", "settlement")
_DEFAULT_INTERVAL: Final = Interval("minute", 1)

#: What errors call the key: "the InsightSentry API key is empty".
API_KEY_NAME: Final = "InsightSentry API key"

#: The vendor's reply text for an empty or malformed ``subscriptions`` field.
INVALID_SUBSCRIPTIONS_TEXT: Final = "Subscriptions field or value is invalid"


def _shown(value: object, limit: int = 60) -> str:
    """A short, single-line repr of a user-supplied value for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@attrs.frozen(slots=True, kw_only=True)
class Subscription:
    """One item of the subscription message: a bar series or a quote stream for ``code``.

    ``interval`` applies to series only (default one minute). The options ``extended``,
    ``dadj``, ``split``, ``badj`` and ``settlement`` are sent only when not None, and then
    always explicitly, because the vendor's defaults have changed between versions. ``bars`` is
    the number of initial bars (``max_dp`` on the wire, 1 to 30000). ``dadj``, ``split``,
    ``badj``, ``settlement`` and ``bars`` are series-only; ``extended`` is also allowed on quotes
    (newest vendor docs).

    Raises :class:`~framework.SubscriptionError` naming the subscription and the rule broken.
    """

    code: str
    type: SubscriptionType = "series"
    interval: Interval = _DEFAULT_INTERVAL
    extended: bool | None = None
    dadj: bool | None = None
    split: bool | None = None
    badj: bool | None = None
    settlement: bool | None = None
    bars: int | None = None

    def __attrs_post_init__(self) -> None:
        if type(self.code) is not str:
            raise SubscriptionError(f"subscription code must be a string, got {_shown(self.code)}")
        if not CODE_PATTERN.fullmatch(self.code):
            hint = " (codes are upper case)" if CODE_PATTERN.fullmatch(self.code.upper()) else ""
            raise SubscriptionError(
                f"subscription {_shown(self.code)}: code must look like EXCHANGE:SYMBOL "
                f"(pattern {CODE_PATTERN.pattern}){hint}"
            )
        if self.type not in ("series", "quote"):
            raise SubscriptionError(
                f"subscription {self.code}: type must be 'series' or 'quote', "
                f"got {_shown(self.type)}"
            )
        if not isinstance(self.interval, Interval):
            raise SubscriptionError(
                f"subscription {self.code}: interval must be an Interval, "
                f"got {_shown(self.interval)}"
            )
        for flag in ("extended", *_SERIES_FLAGS):
            value = getattr(self, flag)
            if value is not None and type(value) is not bool:
                raise SubscriptionError(
                    f"subscription {self.name}: {flag} must be true, false or unset, "
                    f"got {_shown(value)}"
                )
        if self.bars is not None and (
            type(self.bars) is not int or not MIN_BARS <= self.bars <= MAX_BARS
        ):
            raise SubscriptionError(
                f"subscription {self.name}: bars (max_dp) must be an integer from {MIN_BARS} "
                f"to {MAX_BARS}, got {_shown(self.bars)}"
            )
        if self.type == "quote":
            self._check_quote()
        else:
            self._check_interval()

    def _check_quote(self) -> None:
        if self.interval != _DEFAULT_INTERVAL:
            raise SubscriptionError(
                f"subscription {self.name}: interval {self.interval.label} applies to series "
                "only, not to a quote subscription"
            )
        series_only = [flag for flag in _SERIES_FLAGS if getattr(self, flag) is not None]
        if self.bars is not None:
            series_only.append("bars")
        if series_only:
            raise SubscriptionError(
                f"subscription {self.name}: {', '.join(series_only)} "
                f"{'applies' if len(series_only) == 1 else 'apply'} to series only, "
                "not to a quote subscription"
            )

    def _check_interval(self) -> None:
        unit, length = self.interval.unit, self.interval.length
        limit = _MAX_LENGTH_EXCLUSIVE[unit]
        if length >= limit:
            if limit == 2:
                rule = f"a {unit} series takes length 1 only"
            else:
                rule = f"a {unit} bar must stay below one year (length < {limit})"
            raise SubscriptionError(f"subscription {self.name}: {rule}")

    @property
    def name(self) -> str:
        """How messages name this subscription: ``NASDAQ:AAPL@5m`` or ``NASDAQ:AAPL (quote)``."""
        if self.type == "quote":
            return f"{self.code} (quote)"
        return f"{self.code}@{self.interval.label}"

    @property
    def stream_key(self) -> tuple[str, str]:
        """``(code, bar label)`` for series, ``(code, "quote")`` for quotes."""
        return (self.code, self.interval.label if self.type == "series" else "quote")

    @classmethod
    def parse_cli(cls, kind: str, text: str) -> Subscription:
        """Parse the command line form: ``series`` ``CODE[@INTERVAL]`` or ``quote`` ``CODE``.

        ``INTERVAL`` is ``1s``, ``5m``, ``1h``, ``1D``, ``1W``, ``1M`` or ``tick``; default
        ``1m``. ``kind`` may be given with or without the leading ``--``.
        """
        kind = kind.removeprefix("--")
        if kind == "quote":
            if "@" in text:
                raise SubscriptionError(
                    f"--quote {_shown(text)}: a quote subscription takes no @INTERVAL"
                )
            return cls(code=text, type="quote")
        if kind != "series":
            raise SubscriptionError(
                f"unknown subscription kind {_shown(kind)}; use series or quote"
            )
        code, sep, label = text.partition("@")
        interval = _DEFAULT_INTERVAL
        if sep:
            try:
                interval = Interval.parse(label)
            except ValueError as exc:
                raise SubscriptionError(f"--series {_shown(text)}: {exc}") from None
        return cls(code=code, type="series", interval=interval)


@attrs.frozen(slots=True)
class PlanLimits:
    """What a plan allows: ``subscriptions`` units, where one unit is one series or up to
    ``quote_symbols_per_subscription`` quote symbols (the vendor's early-2026 pricing: Pro 2,
    Ultra 5, Mega 12)."""

    subscriptions: int
    quote_symbols_per_subscription: int = 10

    def units_used(self, subscriptions: Iterable[Subscription]) -> int:
        """How many plan units ``subscriptions`` use."""
        series = quotes = 0
        for sub in subscriptions:
            if sub.type == "series":
                series += 1
            else:
                quotes += 1
        return series + math.ceil(quotes / self.quote_symbols_per_subscription)


@attrs.frozen(slots=True, init=False)
class SubscriptionSet:
    """A validated, ordered list of subscriptions for one connection.

    Refuses an empty list, two subscriptions with the same code, type and interval, and (per
    protocol ambiguity 9.14) two series with the same code and bar size but different options,
    because the data frames cannot tell them apart. With ``limits`` it also refuses a list the
    plan cannot carry. Raises :class:`~framework.SubscriptionError`.
    """

    subscriptions: tuple[Subscription, ...]
    limits: PlanLimits | None

    def __init__(
        self, subscriptions: Iterable[Subscription], *, limits: PlanLimits | None = None
    ) -> None:
        items = tuple(subscriptions)
        if not items:
            raise SubscriptionError("the subscription list is empty; the server refuses that")
        seen: dict[tuple[str, str], Subscription] = {}
        for sub in items:
            if not isinstance(sub, Subscription):
                raise SubscriptionError(f"not a Subscription: {_shown(sub)}")
            previous = seen.get(sub.stream_key)
            if previous is None:
                seen[sub.stream_key] = sub
            elif previous == sub:
                raise SubscriptionError(f"subscription {sub.name} is listed twice")
            else:
                raise SubscriptionError(
                    f"subscription {sub.name} is listed twice with different options; "
                    "the server's frames cannot tell such streams apart"
                )
        if limits is not None:
            used = limits.units_used(items)
            if used > limits.subscriptions:
                raise SubscriptionError(
                    f"the subscriptions need {used} plan units but the plan allows "
                    f"{limits.subscriptions} (one per series, one per "
                    f"{limits.quote_symbols_per_subscription} quote symbols)"
                )
        self.__attrs_init__(items, limits)

    def __iter__(self) -> Iterator[Subscription]:
        return iter(self.subscriptions)

    def __len__(self) -> int:
        return len(self.subscriptions)

    @property
    def series_keys(self) -> frozenset[tuple[str, str]]:
        """``(code, bar label)`` of every series subscription."""
        return frozenset(s.stream_key for s in self.subscriptions if s.type == "series")

    @property
    def quote_codes(self) -> frozenset[str]:
        """Codes of every quote subscription."""
        return frozenset(s.code for s in self.subscriptions if s.type == "quote")


class WireDialect(enum.Enum):
    """Field names used when encoding the subscription message.

    ``CURRENT`` (default) sends ``bar_type`` / ``bar_interval`` and ``max_dp``; ``LEGACY`` sends
    the 2024 names ``interval_type`` / ``interval_length``. Neither sends the retired
    ``recent_bars`` / ``max_bars``; both send ``max_dp`` when ``bars`` is set.
    """

    CURRENT = "current"
    LEGACY = "legacy"


def _encode_item(sub: Subscription, dialect: WireDialect) -> dict[str, object]:
    item: dict[str, object] = {"code": sub.code, "type": sub.type}
    if sub.type == "series":
        if dialect is WireDialect.CURRENT:
            item["bar_type"] = sub.interval.unit
            item["bar_interval"] = sub.interval.length
        else:
            item["interval_type"] = sub.interval.unit
            item["interval_length"] = sub.interval.length
    for flag in ("extended", *_SERIES_FLAGS):
        value = getattr(sub, flag)
        if value is not None:
            item[flag] = value
    if sub.bars is not None:
        item["max_dp"] = sub.bars
    return item


def encode_subscribe(
    api_key: str,
    subscriptions: Iterable[Subscription] | SubscriptionSet,
    *,
    dialect: WireDialect = WireDialect.CURRENT,
) -> str:
    """The compact JSON text of the subscription message for ``subscriptions``.

    The list is validated as a :class:`SubscriptionSet` (unless it already is one). Every option
    that is set is sent with an explicit value. Raises :class:`~framework.SubscriptionError`;
    the message never contains the key.
    """
    if type(api_key) is not str or not api_key:
        raise SubscriptionError("the API key must be a non-empty string")
    subs = (
        subscriptions
        if isinstance(subscriptions, SubscriptionSet)
        else SubscriptionSet(subscriptions)
    )
    message = {"api_key": api_key, "subscriptions": [_encode_item(s, dialect) for s in subs]}
    return orjson.dumps(message).decode()


# -- server side -------------------------------------------------------------------------------

_TYPE_KEYS: Final = ("bar_type", "interval_type", "interval")
_LENGTH_KEYS: Final = ("bar_interval", "interval_length")
_COUNT_KEYS: Final = ("max_dp", "dp")
_IGNORED_KEYS: Final = frozenset({"recent_bars", "max_bars"})
_ITEM_KEYS: Final = frozenset(
    {"code", "type", "extended", *_SERIES_FLAGS, *_TYPE_KEYS, *_LENGTH_KEYS, *_COUNT_KEYS}
    | _IGNORED_KEYS
)
_TOP_KEYS: Final = frozenset({"api_key", "auth", "subscriptions", "slow_consumer_policy"})


def _parse_bool(where: str, key: str, value: object) -> bool:
    if type(value) is bool:
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise SubscriptionError(f"{where}: {key} must be a boolean, got {_shown(value)}")


def _parse_int(where: str, key: str, value: object) -> int:
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)
    raise SubscriptionError(f"{where}: {key} must be an integer, got {_shown(value)}")


def _first(item: Mapping[str, object], keys: Iterable[str]) -> tuple[str, object] | None:
    for key in keys:
        if key in item:
            return key, item[key]
    return None


def _parse_item(index: int, item: object) -> Subscription:
    where = f"subscriptions[{index}]"
    if not isinstance(item, dict):
        raise SubscriptionError(f"{where} must be an object, got {_shown(item)}")
    item = cast(dict[str, Any], item)
    code = item.get("code")
    if not isinstance(code, str):
        raise SubscriptionError(f"{where}: code is missing or not a string")
    where = f"{where} ({_shown(code)})"
    unknown = sorted(set(item) - _ITEM_KEYS)
    if unknown:
        raise SubscriptionError(f"{where}: unknown field(s) {', '.join(map(_shown, unknown))}")
    kind = item.get("type", "series")
    if kind == "quotes":
        kind = "quote"
    if kind not in ("series", "quote"):
        raise SubscriptionError(f"{where}: type must be 'series' or 'quote', got {_shown(kind)}")
    unit_field = _first(item, _TYPE_KEYS)
    length_field = _first(item, _LENGTH_KEYS)
    unit = "minute"
    if unit_field is not None:
        if not isinstance(unit_field[1], str):
            raise SubscriptionError(
                f"{where}: {unit_field[0]} must be a string, got {_shown(unit_field[1])}"
            )
        unit = unit_field[1]
    length = 1 if length_field is None else _parse_int(where, length_field[0], length_field[1])
    try:
        interval = Interval(unit, length)
    except ValueError as exc:
        raise SubscriptionError(f"{where}: {exc}") from None
    options: dict[str, Any] = {}
    for flag in ("extended", *_SERIES_FLAGS):
        if flag in item:
            options[flag] = _parse_bool(where, flag, item[flag])
    counts = {key: _parse_int(where, key, item[key]) for key in _COUNT_KEYS if key in item}
    if len(set(counts.values())) > 1:
        raise SubscriptionError(f"{where}: max_dp and dp disagree")
    if counts:
        options["bars"] = next(iter(counts.values()))
    if kind == "quote" and (unit_field is not None or length_field is not None):
        raise SubscriptionError(f"{where}: bar type and interval apply to series only")
    return Subscription(code=code, type=kind, interval=interval, **options)


def parse_subscribe(text: str) -> tuple[str, list[Subscription]]:
    """Parse a subscription message as the server would: ``(api_key, subscriptions)``.

    Accepts ``api_key`` or the legacy ``auth``; ``bar_type``/``bar_interval``,
    ``interval_type``/``interval_length`` and the mistyped ``interval``; string booleans
    (``"false"``); ``max_dp`` or ``dp``; ignores ``recent_bars``/``max_bars``. An empty or missing
    ``subscriptions`` raises :class:`~framework.SubscriptionError` with the vendor's text
    ``Subscriptions field or value is invalid``; other problems raise it with a message naming the
    item and the rule. No message ever contains the key.
    """
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError:
        # ``from None``: the JSON error carries the whole document, key included.
        raise SubscriptionError("the subscription message is not valid JSON") from None
    if not isinstance(message, dict):
        raise SubscriptionError("the subscription message must be a JSON object")
    unknown = sorted(set(message) - _TOP_KEYS)
    if unknown:
        raise SubscriptionError(
            f"unknown field(s) in the subscription message: {', '.join(map(_shown, unknown))}"
        )
    key = message.get("api_key", message.get("auth"))
    if not isinstance(key, str) or not key:
        raise SubscriptionError("the subscription message has no api_key")
    policy = message.get("slow_consumer_policy")
    if policy is not None and policy not in ("disconnect", "adaptive"):
        raise SubscriptionError(
            f"slow_consumer_policy must be 'disconnect' or 'adaptive', got {_shown(policy)}"
        )
    items = message.get("subscriptions")
    if not isinstance(items, list) or not items:
        raise SubscriptionError(INVALID_SUBSCRIPTIONS_TEXT)
    return key, [_parse_item(index, item) for index, item in enumerate(items)]
