"""A run's result as a directory of Parquet files (``backtest --out``).

::

    result.parquet/
      fills.parquet  trades.parquet  orders.parquet  equity.parquet
      stats.json

The tables are :mod:`framework.results._tables`'. What a run is (strategy, parameters, start
cash, final equity, bars, statistics, skipped data) travels with every file, as JSON in its
schema metadata under ``b"tradewire"``, so one file read on its own still says which run it
came from; ``stats.json`` holds the same document for readers without a Parquet library. The
directory may be named ``*.parquet``, as Spark and Dask name their datasets; read the tables
one file at a time (they have different columns, so they are not one dataset).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

import orjson
import pyarrow.parquet as pq

from .._errors import ConfigError
from ._tables import TABLE_NAMES, ResultTables


class RunResult(Protocol):
    """What this module reads of a :class:`framework.RunResult` (which imports this module
    when asked to write Parquet, so this one must not import it back)."""

    @property
    def strategy(self) -> str: ...
    @property
    def params(self) -> dict[str, Any]: ...
    @property
    def start_cash(self) -> float: ...
    @property
    def final_equity(self) -> float: ...
    @property
    def bars(self) -> int: ...
    @property
    def stats(self) -> dict[str, Any]: ...
    @property
    def data_issues(self) -> dict[str, Any]: ...
    @property
    def arrow(self) -> ResultTables: ...


#: The schema metadata key of the run's document.
METADATA_KEY = b"tradewire"
STATS_FILE = "stats.json"


def check_parquet_dir(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path, or ConfigError if something other than a directory is there.

    The command line checks before the run, so a long backtest does not end in this error.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ConfigError(
            f"{out} exists and is not a directory: a result's Parquet files go in one"
        )
    return out


def write_parquet(result: RunResult, path: str | os.PathLike[str]) -> Path:
    """Write ``result``'s tables and ``stats.json`` into the directory ``path`` (created, with
    its parents; files of an earlier result there are replaced) and return it."""
    out = check_parquet_dir(path)
    out.mkdir(parents=True, exist_ok=True)
    document = run_document(result)
    metadata = orjson.dumps(document)
    tables = result.arrow
    for name in TABLE_NAMES:
        table = tables.table(name)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), METADATA_KEY: metadata}
        )
        pq.write_table(table, out / f"{name}.parquet")
    (out / STATS_FILE).write_bytes(
        orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    )
    return out


def run_document(result: RunResult) -> dict[str, Any]:
    """What a run is, without its records: the keys of the JSON result but its lists."""
    return {
        "strategy": result.strategy,
        "params": result.params,
        "start_cash": result.start_cash,
        "final_equity": result.final_equity,
        "bars": result.bars,
        "stats": result.stats,
        "data_issues": result.data_issues,
    }
