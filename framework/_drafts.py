"""Fast construction of frozen, slotted attrs classes that the hot path builds by the million.

A frozen attrs class refuses attribute stores, so its ``__init__`` writes each field through
``object.__setattr__``: a call per field, plus keyword-argument matching. For records whose
values the producer has already checked (bars from a validated batch, the broker's fills,
closed trades), :func:`unchecked_constructor` generates a positional constructor that fills
in a writable *draft* of the class (the same slots, so the same memory layout) with plain
stores and then turns it into the real class by assigning ``__class__``: about a quarter of
the cost. Validators and ``__attrs_post_init__`` do not run; the producer owns the checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

T = TypeVar("T")


def unchecked_constructor(cls: type[T]) -> Callable[..., T]:
    """A function taking ``cls``'s fields positionally, in declaration order (defaults as
    declared), returning an instance equal to ``cls(...)`` with the same values."""
    fields = attrs.fields(cls)  # type: ignore[arg-type]
    names = [field.name for field in fields]
    # A weak-reference slot after the fields makes CPython judge the two layouts different
    # (it only matches one placed before them), hence ``weakref_slot=False`` on such classes.
    if list(getattr(cls, "__slots__", ())) != names:
        raise TypeError(
            f"{cls.__name__} must be a slotted attrs class whose slots are exactly its fields "
            "(attrs.frozen(slots=True, weakref_slot=False))"
        )
    draft = type(f"_{cls.__name__}Draft", cls.__bases__, {"__slots__": tuple(names)})
    namespace: dict[str, Any] = {"new": object.__new__, "draft": draft, "cls": cls}
    parameters = []
    for field in fields:
        if field.default is attrs.NOTHING:
            parameters.append(field.name)
        elif isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            raise TypeError(f"{cls.__name__}.{field.name}: factory defaults are not supported")
        else:
            namespace[f"default_{field.name}"] = field.default
            parameters.append(f"{field.name}=default_{field.name}")
    lines = [f"def make({', '.join(parameters)}):", "    record = new(draft)"]
    lines += [f"    record.{name} = {name}" for name in names]
    lines += ["    record.__class__ = cls", "    return record"]
    exec(compile("\n".join(lines) + "\n", f"<unchecked {cls.__name__}>", "exec"), namespace)
    make: Callable[..., T] = namespace["make"]
    make.__qualname__ = make.__name__ = f"unchecked_{cls.__name__}"
    return make
