"""Which objects in memory hold bars in Arrow form, told without importing pyarrow, pandas or
polars: a run over bar files must not pay for loading them just to look at its arguments."""

from __future__ import annotations

from typing import Any

#: Libraries whose frames and tables are data, by the top-level module of their types.
_FRAME_LIBRARIES = ("pandas", "polars")


def is_arrow_data(source: Any) -> bool:
    """Whether ``source`` is a pandas or polars DataFrame, a pyarrow object, or anything
    exporting an Arrow stream (``__arrow_c_stream__``: DuckDB relations, for one)."""
    module = type(source).__module__.split(".")[0]
    if module in _FRAME_LIBRARIES:
        return type(source).__name__ == "DataFrame"
    return module == "pyarrow" or hasattr(source, "__arrow_c_stream__")
