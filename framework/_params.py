"""Typed, documented strategy parameters.

Declare them as class attributes::

    class SmaCross(Strategy):
        fast = Param(10, "Length of the fast moving average, in bars.", min=1)

``self.fast`` then reads the value given to the constructor (or the default). The type comes
from the default (or ``kind=``); values given as strings, as the command line does, are
converted to it, and anything else is checked against it.
"""

from __future__ import annotations

import math
from typing import Any, Generic, TypeVar, overload

from ._errors import ParameterError

T = TypeVar("T", int, float, bool, str)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class Param(Generic[T]):
    """A strategy parameter: default value, help text, optional bounds."""

    __slots__ = ("default", "doc", "kind", "max", "min", "name")

    def __init__(
        self,
        default: T,
        doc: str,
        *,
        kind: type[T] | None = None,
        min: float | None = None,
        max: float | None = None,
    ) -> None:
        self.default: T = default
        self.doc = doc
        self.kind: type[T] = kind if kind is not None else default.__class__
        if self.kind not in (int, float, bool, str):
            raise TypeError(f"parameter type must be int, float, bool or str, not {self.kind!r}")
        self.min = min
        self.max = max
        self.name = "?"

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> Param[T]: ...
    @overload
    def __get__(self, instance: object, owner: type) -> T: ...
    def __get__(self, instance: object | None, owner: type) -> T | Param[T]:
        if instance is None:
            return self
        values: dict[str, Any] = instance._param_values  # type: ignore[attr-defined]
        return values[self.name]  # type: ignore[no-any-return]

    def convert(self, value: object) -> T:
        """Check ``value`` (or parse it, if a string) against this parameter's type and bounds."""
        kind = self.kind
        result: Any
        if isinstance(value, str) and kind is not str:
            result = self._parse(value)
        elif kind is float and type(value) in (int, float):
            result = float(value)  # type: ignore[arg-type]
        elif type(value) is kind:
            result = value
        else:
            raise ParameterError(f"parameter {self.name!r} takes {kind.__name__}, got {value!r}")
        if kind is float and not math.isfinite(result):
            raise ParameterError(f"parameter {self.name!r} must be finite, got {value!r}")
        if self.min is not None and result < self.min:
            raise ParameterError(f"parameter {self.name!r} must be >= {self.min}, got {result!r}")
        if self.max is not None and result > self.max:
            raise ParameterError(f"parameter {self.name!r} must be <= {self.max}, got {result!r}")
        return result  # type: ignore[no-any-return]

    def _parse(self, text: str) -> Any:
        kind = self.kind
        if kind is bool:
            lowered = text.strip().lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
        else:
            try:
                return kind(text.strip())
            except ValueError:
                pass
        raise ParameterError(f"parameter {self.name!r} takes {kind.__name__}, got {text!r}")

    def __repr__(self) -> str:
        return f"Param({self.default!r}, {self.doc!r})"


def declared_params(cls: type) -> dict[str, Param[Any]]:
    """All parameters of a strategy class, base classes first, in declaration order."""
    found: dict[str, Param[Any]] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, Param):
                found[name] = value
    return found
