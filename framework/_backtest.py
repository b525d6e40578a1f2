"""Backtests in one call: pick feeds for the data files, run the engine, collect the result."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from ._engine import Engine
from ._errors import ConfigError
from ._failure import run_sync
from ._intervals import Interval
from ._plugins import RECORDING_FEED, load_feed_class
from ._strategy import Strategy
from .execution import (
    BrokerConfig,
    CommissionModel,
    RiskLimits,
    SimulatedBroker,
    SlippageModel,
)
from .feeds._arrow_objects import is_arrow_data
from .feeds._bar_file import BarFileFeed, BarFileStatistics
from .feeds._feed import Feed
from .portfolio import Portfolio
from .portfolio._equity import equity_resolution as resolution_nanos
from .results._run_result import RunResult

#: What a data file's suffix says it holds, for the message refusing any other.
DATA_FORMS = ".csv, .parquet, .feather, .arrow or .twrec files, or directories of them"
_ARROW_SUFFIXES = (".parquet", ".parq", ".pq", ".feather", ".arrow", ".ipc")


def feeds_for(
    data: Any,
    *,
    symbol: str | None = None,
    interval: Interval | str | None = None,
    skip_bad_rows: bool = False,
    speed: float | None = None,
    tz: str | None = None,
    time_unit: str | None = None,
) -> list[Feed]:
    """Replay feeds for ``data``: a path, data in memory, a mapping, or a sequence of those.

    - ``.csv`` bar files (:class:`~framework.BarFileFeed`);
    - ``.parquet``, ``.feather`` / ``.arrow`` files, a pandas or polars DataFrame, a pyarrow
      Table or RecordBatchReader (:class:`~framework.feeds.ArrowFeed`);
    - a directory: one ArrowFeed over its Parquet and Feather files (Hive ``symbol=X/``
      folders name the symbol), and one bar-file feed per CSV file in it;
    - ``{symbol: data}``: one feed per key, named by it, its data a frame, a table or a path;
    - ``.twrec`` recordings, replayed through the live codec (``speed`` paces them, None =
      flat out).

    ``symbol`` names the symbol of a single source without a symbol column (files default to
    their name without extension). ``tz`` (an IANA zone name, or UTC) is the zone of naive
    times and dates, ``time_unit`` (s, ms, us, ns) the unit of epoch-number times: see
    docs/data.md, which also has the column rules.
    """
    items = data_items(data)
    if not items:
        raise ConfigError("no data given: pass at least one file")
    if symbol is not None and len(items) > 1:
        raise ConfigError("--symbol names the symbol of a single file; give one file")
    if symbol is not None and isinstance(items[0], Mapping):
        raise ConfigError("symbol= does not apply to {symbol: data}: its keys name the symbols")
    options: dict[str, Any] = {
        "symbol": symbol,
        "interval": interval,
        "skip_bad_rows": skip_bad_rows,
        "tz": tz,
        "time_unit": time_unit,
    }
    feeds: list[Feed] = []
    for item in items:
        if isinstance(item, Mapping):
            for key, value in item.items():
                one = {**options, "symbol": str(key)}
                if is_arrow_data(value):
                    feeds.append(
                        _arrow_feed(value, label=f"{type(value).__name__}[{key!r}]", **one)
                    )
                else:
                    feeds.extend(_path_feeds(value, speed=speed, **one))
        elif is_arrow_data(item):
            feeds.append(_arrow_feed(item, **options))
        else:
            feeds.extend(_path_feeds(item, speed=speed, **options))
    return feeds


def data_items(data: Any) -> list[Any]:
    """``data`` as a list of sources: one path, frame, table or mapping is a list of one."""
    if isinstance(data, str | os.PathLike | Mapping) or is_arrow_data(data):
        return [data]
    return list(data)


def is_data_source(item: Any) -> bool:
    """Whether ``item`` is data :func:`feeds_for` reads (a path, a frame or table, a mapping
    of them), rather than a feed or an event."""
    return isinstance(item, str | os.PathLike | Mapping) or is_arrow_data(item)


def _path_feeds(item: Any, *, speed: float | None, **options: Any) -> list[Feed]:
    if not isinstance(item, str | os.PathLike):
        raise ConfigError(
            f"cannot read bars from a {type(item).__name__}: give paths to {DATA_FORMS}, a "
            "pandas or polars DataFrame, a pyarrow Table or RecordBatchReader, or a mapping "
            "{symbol: data}"
        )
    path = Path(item)
    if not path.exists():
        raise ConfigError(f"data file not found: {path}")
    if path.is_dir():
        return _directory_feeds(path, **options)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return [BarFileFeed(path, **options)]
    if suffix in _ARROW_SUFFIXES:
        return [_arrow_feed(path, **options)]
    if suffix == ".twrec":
        # A recording holds a vendor's frames: the vendor's adapter, registered as the
        # "recording" feed plugin, replays it (loaded only now: bar files never need it).
        return [load_feed_class(RECORDING_FEED)(path, speed=speed)]
    raise ConfigError(f"unsupported data file {path}: expected {DATA_FORMS}")


def _directory_feeds(path: Path, **options: Any) -> list[Feed]:
    """One ArrowFeed over the directory's Parquet and Feather files, one bar-file feed per CSV
    file (the symbol of a ``symbol=X`` folder, else its name without extension)."""
    from .feeds._arrow_source import directory_files, hive_partition

    files = directory_files(path)
    feeds: list[Feed] = []
    if any(f.suffix.lower() in _ARROW_SUFFIXES for f in files):
        feeds.append(_arrow_feed(path, **options))
    for file in files:
        if file.suffix.lower() == ".csv":
            folder = hive_partition(file.relative_to(path))
            symbol = options["symbol"] or folder.get("symbol")
            feeds.append(BarFileFeed(file, **{**options, "symbol": symbol}))
    if not feeds:
        raise ConfigError(f"{path}: no {DATA_FORMS.replace(', or directories of them', '')}")
    return feeds


def _arrow_feed(source: Any, **options: Any) -> Feed:
    # Imported here: pyarrow loads only for runs over Arrow data.
    from .feeds._arrow_feed import ArrowFeed

    return ArrowFeed(source, **options)


async def backtest_async(
    strategy: Strategy | Sequence[Strategy],
    data: Any,
    *,
    cash: float = 100_000.0,
    commission: CommissionModel | None = None,
    slippage: SlippageModel | None = None,
    risk: RiskLimits | None = None,
    broker_config: BrokerConfig | None = None,
    equity_resolution: str | None = None,
    **feed_options: Any,
) -> RunResult:
    """Run ``strategy`` (or several, sharing one account) over ``data`` in simulated time;
    return the result (each strategy's own in :attr:`RunResult.strategies`).

    ``data`` is what :func:`feeds_for` reads (paths to bar files, Parquet and Feather files or
    directories, recordings; pandas or polars DataFrames, pyarrow Tables; ``{symbol: data}``),
    feeds, or a sequence mixing them; ``feed_options`` (``symbol``, ``interval``, ``tz``,
    ``time_unit``, ``skip_bad_rows``, ``speed``) go to :func:`feeds_for`.

    ``commission``, ``slippage`` and ``risk`` set those parts of the simulated broker (see
    :mod:`framework.execution`); ``broker_config`` sets everything else (latency, sessions,
    quote sizes), and the three, when given, override its fields.

    ``equity_resolution`` (``5m``, ``1h``, ``1D``; a size that divides a day) keeps one
    equity sample per bucket of that size; by default every mark time's sample is kept until
    the curve holds 2**20 of them, then it is thinned (docs/statistics.md). Statistics are
    the same either way.
    """
    feeds: list[Feed] = []
    sources: list[Any] = []
    for item in data_items(data):
        if is_data_source(item):
            sources.append(item)
        else:
            feeds.append(item)
    if sources:
        feeds.extend(feeds_for(sources, **feed_options))
    config = broker_config or BrokerConfig()
    if commission is not None:
        config = attrs.evolve(config, commission=commission)
    if slippage is not None:
        config = attrs.evolve(config, slippage=slippage)
    if risk is not None:
        config = attrs.evolve(config, risk=risk)
    portfolio = Portfolio(cash, equity_resolution=resolution_nanos(equity_resolution))
    broker = SimulatedBroker(portfolio, config)
    strategies = list(strategy) if isinstance(strategy, Sequence) else [strategy]
    engine = Engine(feeds=feeds, strategies=strategies, broker=broker)
    await engine.run()
    issues = {}
    for feed in feeds:
        statistics = getattr(feed, "statistics", None)
        read = statistics() if statistics is not None else None
        # Bar files and Arrow data count their skipped rows alike.
        if isinstance(read, BarFileStatistics) and read.skipped:
            issues[feed.name] = read.skipped_by_reason
    return RunResult.from_engine(engine, data_issues=issues)


def backtest(
    strategy: Strategy | Sequence[Strategy],
    data: Any,
    *,
    cash: float = 100_000.0,
    commission: CommissionModel | None = None,
    slippage: SlippageModel | None = None,
    risk: RiskLimits | None = None,
    broker_config: BrokerConfig | None = None,
    equity_resolution: str | None = None,
    **feed_options: Any,
) -> RunResult:
    """Synchronous :func:`backtest_async` for scripts and notebooks."""
    return run_sync(
        lambda: backtest_async(
            strategy,
            data,
            cash=cash,
            commission=commission,
            slippage=slippage,
            risk=risk,
            broker_config=broker_config,
            equity_resolution=equity_resolution,
            **feed_options,
        )
    )
