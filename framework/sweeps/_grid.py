"""Parameter grids: ``fast=5:50:5`` (an inclusive range) or ``slow=20,30,50`` (a list).

Combinations come out in a fixed order — the product of the axes in the order they were
given, each axis in its own order — so a sweep's jobs, and its ties, are the same every run.
A grid does not know the strategy's parameter types: ``fast=5-20`` parses as the one string
``'5-20'``, and the sweep, which knows ``fast`` is an int, rejects it (:func:`check_axis`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from .._errors import ParameterError
from .._params import Param

#: More values than this on one axis is almost certainly a typo (a step of 0.0001, say).
MAX_AXIS_VALUES = 100_000
#: The accepted forms of one axis, for error messages.
AXIS_FORMS = "a range NAME=START:STOP[:STEP] or a list NAME=V1,V2,..."
#: ``5-20``: a range written with a dash.
_DASHED_RANGE = re.compile(r"\s*(-?\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*")


@attrs.frozen(slots=True)
class Grid:
    """Named axes of values; iterating yields one ``{name: value}`` dict per combination."""

    axes: tuple[tuple[str, tuple[Any, ...]], ...]
    #: The spec each axis was parsed from, in the order of ``axes`` (for error messages).
    specs: tuple[str, ...] = attrs.field(default=(), eq=False)

    @classmethod
    def parse(cls, specs: Iterable[str]) -> Grid:
        """Parse ``NAME=START:STOP[:STEP]`` and ``NAME=V1,V2,...`` specs. A name given twice
        keeps the later spec (so command-line specs override the config file's)."""
        axes: dict[str, tuple[str, tuple[Any, ...]]] = {}
        for spec in specs:
            name, values = parse_axis(spec)
            axes.pop(name, None)
            axes[name] = (spec.strip(), values)
        return cls(
            tuple((name, values) for name, (_, values) in axes.items()),
            specs=tuple(spec for spec, _ in axes.values()),
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The parameter names of the axes, in grid order."""
        return tuple(name for name, _ in self.axes)

    def spec(self, name: str) -> str:
        """The ``NAME=...`` text the axis ``name`` came from (rebuilt from its values when
        the grid was built directly)."""
        index = self.names.index(name)
        if index < len(self.specs):
            return self.specs[index]
        return f"{name}={','.join(map(str, self.axes[index][1]))}"

    def describe(self) -> str:
        """Every axis as the command line gives it: ``--grid fast=5:20 --grid slow=30``."""
        return " ".join(f"--grid {self.spec(name)}" for name in self.names)

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


def check_axis(grid: Grid, name: str, param: Param[Any]) -> None:
    """Raise :class:`ParameterError` if a value on the axis ``name`` is not of ``param``'s
    type (``fast=5-20`` for an int). Such a value fails every combination it is in for the
    same reason, so it is a mistake in the grid, not combinations to skip. Bounds are not
    checked here: a value out of bounds is one rejected combination, like fast >= slow."""
    values = dict(grid.axes)[name]
    typed: Param[Any] = Param(param.default, param.doc, kind=param.kind)
    typed.name = name
    for value in values:
        try:
            typed.convert(value)
        except ParameterError:
            spec = grid.spec(name)
            dashed = _DASHED_RANGE.fullmatch(value) if isinstance(value, str) else None
            hint = f" (for a range write {name}={dashed[1]}:{dashed[2]})" if dashed else ""
            raise ParameterError(
                f"--grid {spec}: {value!r} is not {_article(param.kind.__name__)}{hint}; "
                f"an axis is {AXIS_FORMS}"
            ) from None


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _scalar(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
