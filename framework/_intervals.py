"""Bar sizes: ``Interval`` parses ``1m`` / ``5m`` / ``1h`` / ``1D`` / ``1W`` / ``1M`` / ``tick``.

The labels are the compact ``bar_type`` strings live feeds send in series frames (``1m``,
``1D``, ``1T`` for ticks). Case matters: ``m`` is minute, ``M`` is month.
"""

from __future__ import annotations

import re
from typing import Final

import attrs

from ._time import NANOS_PER_SECOND

#: Units in the order of their size, as the subscription message spells them.
UNITS: Final = ("tick", "second", "minute", "hour", "day", "week", "month")

_SUFFIX: Final = {
    "tick": "T",
    "second": "s",
    "minute": "m",
    "hour": "h",
    "day": "D",
    "week": "W",
    "month": "M",
}
_UNIT_OF_SUFFIX: Final = {suffix: unit for unit, suffix in _SUFFIX.items()}
_UNIT_NANOS: Final = {
    "second": NANOS_PER_SECOND,
    "minute": 60 * NANOS_PER_SECOND,
    "hour": 3_600 * NANOS_PER_SECOND,
    "day": 86_400 * NANOS_PER_SECOND,
    "week": 7 * 86_400 * NANOS_PER_SECOND,
}
_LABEL = re.compile(r"^(\d+)([TsmhDWM])$")


@attrs.frozen(slots=True)
class Interval:
    """A bar size: a unit from :data:`UNITS` and a positive length."""

    unit: str
    length: int = 1

    def __attrs_post_init__(self) -> None:
        if self.unit not in _SUFFIX:
            raise ValueError(f"unknown bar unit {self.unit!r}; expected one of {', '.join(UNITS)}")
        if type(self.length) is not int or self.length < 1:
            raise ValueError(f"bar length must be a positive integer, got {self.length!r}")

    @classmethod
    def parse(cls, text: str) -> Interval:
        """Parse ``5m``, ``1h``, ``1D``, ``tick`` (or ``1T``) into an Interval."""
        if text == "tick":
            return cls("tick", 1)
        match = _LABEL.match(text)
        if match is None:
            raise ValueError(
                f"bad interval {text!r}: expected a number and a unit, like 1s, 5m, 1h, 1D, 1W, "
                "1M, or 'tick'"
            )
        return cls(_UNIT_OF_SUFFIX[match.group(2)], int(match.group(1)))

    @property
    def label(self) -> str:
        """The wire label: ``5m``, ``1D``, ``1T``."""
        return f"{self.length}{_SUFFIX[self.unit]}"

    @property
    def nanos(self) -> int | None:
        """Fixed duration in nanoseconds, or None for ticks and months (their length varies)."""
        per_unit = _UNIT_NANOS.get(self.unit)
        return None if per_unit is None else per_unit * self.length

    def __str__(self) -> str:
        return self.label
