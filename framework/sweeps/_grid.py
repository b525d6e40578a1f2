"""Parameter grids: ``fast=5:50:5`` (an inclusive range) or ``slow=20,30,50`` (a list).

Combinations come out in a fixed order — the product of the axes in the order they were
given, each axis in its own order — so a sweep's jobs, and its ties, are the same every run.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from .._errors import ParameterError

#: More values than this on one axis is almost certainly a typo (a step of 0.0001, say).
MAX_AXIS_VALUES = 100_000


@attrs.frozen(slots=True)
class Grid:
    """Named axes of values; iterating yields one ``{name: value}`` dict per combination."""

    axes: tuple[tuple[str, tuple[Any, ...]], ...]

    @classmethod
    def parse(cls, specs: Iterable[str]) -> Grid:
        """Parse ``NAME=START:STOP[:STEP]`` and ``NAME=V1,V2,...`` specs. A name given twice
        keeps the later spec (so command-line specs override the config file's)."""
        axes: dict[str, tuple[Any, ...]] = {}
        for spec in specs:
            name, values = parse_axis(spec)
            axes.pop(name, None)
            axes[name] = values
        return cls(tuple(axes.items()))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.axes)

    def __len__(self) -> int:
        size = 1
        for _, values in self.axes:
            size *= len(values)
        return size if self.axes else 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if not self.axes:
            return
        names = self.names
        for combo in itertools.product(*(values for _, values in self.axes)):
            yield dict(zip(names, combo, strict=True))


def parse_axis(spec: str) -> tuple[str, tuple[Any, ...]]:
    """One ``NAME=...`` spec → (name, values); see :class:`Grid`."""
    name, sep, text = spec.partition("=")
    name = name.strip()
    if not sep or not name or not text.strip():
        raise ParameterError(
            f"--grid expects NAME=START:STOP[:STEP] or NAME=V1,V2,..., got {spec!r}"
        )
    text = text.strip()
    if ":" in text and "," not in text:
        values = _range(name, text)
    else:
        values = tuple(_scalar(item.strip()) for item in text.split(",") if item.strip())
    if not values:
        raise ParameterError(f"--grid {name}: no values in {text!r}")
    return name, values


def _range(name: str, text: str) -> tuple[Any, ...]:
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise ParameterError(f"--grid {name}: a range is START:STOP[:STEP], got {text!r}")
    try:
        start, stop, step = (Decimal(p.strip()) for p in [*parts, "1"][:3])
    except InvalidOperation:
        raise ParameterError(f"--grid {name}: range bounds must be numbers, got {text!r}") from None
    if step <= 0:
        raise ParameterError(f"--grid {name}: the step must be positive, got {parts[2]!r}")
    if stop < start:
        raise ParameterError(f"--grid {name}: STOP must not be below START in {text!r}")
    count = int((stop - start) // step) + 1
    if count > MAX_AXIS_VALUES:
        raise ParameterError(f"--grid {name}: {count:,} values in {text!r}; use a larger step")
    # Decimal steps: 0.1:0.3:0.1 gives exactly 0.1, 0.2, 0.3; STOP is included when reached.
    integral = all(v == v.to_integral_value() for v in (start, step)) and "." not in text
    values = [start + step * i for i in range(count)]
    return tuple(int(v) if integral else float(v) for v in values)


def _scalar(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
