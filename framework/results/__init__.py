"""The end of a run: its result (fills, trades, orders, equity, statistics) and its forms.

:class:`RunResult` is what a backtest or a paper session returns; its JSON and CSV writers
are in :mod:`._run_result`, its Arrow tables in :mod:`._tables` (pyarrow loads on first use),
its Parquet directory in :mod:`._parquet`, the way each statistic is labelled and formatted in
:mod:`._display`, and the notebook's equity chart in :mod:`._equity_svg`. The HTML report
(:mod:`framework.reports`) builds on them.
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._run_result import RunResult as RunResult

if TYPE_CHECKING:
    from ._tables import ResultTables as ResultTables

#: Public names loaded on first access (they bring pyarrow), and the module each comes from.
_LAZY = {"ResultTables": "._tables"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'framework.results' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["ResultTables", "RunResult"]
