"""Backtests in one call: pick feeds for the data files, run the engine, collect the result."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from ._engine import Engine
from ._errors import ConfigError
from ._events import Bar, Quote
from ._failure import run_sync
from ._intervals import Interval
from ._plots import PlotRecorder
from ._plugins import RECORDING_FEED, load_feed_class
from ._strategy import Strategy
from ._time import iso_from_nanos
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
from .portfolio._benchmark import BenchmarkPrices, BenchmarkRecorder
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
    """``data`` as a list of sources: one path, frame, table, mapping or feed is a list of one."""
    if isinstance(data, str | os.PathLike | Mapping) or is_arrow_data(data):
        return [data]
    if not isinstance(data, Iterable):  # one feed (a ListFeed is not a sequence of events)
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


def is_benchmark_symbol(benchmark: Any) -> bool:
    """Whether ``benchmark`` names a symbol of the run's data rather than a file: a string
    that is not an existing path and does not end in a data file's suffix (``SPY``,
    ``NASDAQ:AAPL``, ``EUR/USD``, ``BRK.B``)."""
    return (
        isinstance(benchmark, str)
        and not os.path.exists(benchmark)
        and Path(benchmark).suffix.lower() not in (".csv", ".twrec", *_ARROW_SUFFIXES)
    )


async def read_benchmark(benchmark: Any, **feed_options: Any) -> BenchmarkPrices:
    """The prices of the one symbol in ``benchmark``: data :func:`feeds_for` reads (a bar
    file, a Parquet or Feather file or directory, a recording, a frame or table), or feeds.
    ``feed_options`` are the run's: the zone, epoch unit and bad-row handling apply, the
    run's ``symbol`` and ``interval`` do not (they describe the run's own files).

    Raises :class:`~framework.ConfigError` naming the benchmark when it is not data, cannot
    be found or holds no symbol or several; a bad row raises what reading the file as
    ``data`` would (:class:`~framework.DataError`, naming the file and line).
    """
    label = str(benchmark) if isinstance(benchmark, str | os.PathLike) else type(benchmark).__name__
    options = {k: v for k, v in feed_options.items() if k in ("tz", "time_unit", "skip_bad_rows")}
    single = isinstance(benchmark, Feed) or not isinstance(benchmark, Iterable)
    feeds: list[Feed] = []
    sources = []
    for item in [benchmark] if single else data_items(benchmark):
        if is_data_source(item):
            sources.append(item)
        elif isinstance(item, Feed):
            feeds.append(item)
        else:
            raise ConfigError(
                f"benchmark: cannot read a {type(item).__name__}; give a symbol of the run's "
                f"data, a path to {DATA_FORMS}, a frame, a table or a feed"
            )
    if sources:
        try:
            feeds.extend(feeds_for(sources, **options))
        except ConfigError as exc:
            raise ConfigError(f"benchmark {label}: {exc}") from exc
    recorder = BenchmarkRecorder("")
    engine = Engine(feeds=feeds)
    engine.add_observer(recorder.on_event)
    await engine.run()
    if len(recorder.symbols) != 1:
        found = ", ".join(sorted(recorder.symbols))
        held = f"several symbols: {found}" if found else "no bars or quotes"
        raise ConfigError(f"benchmark {label} holds {held}; give data of one symbol")
    (name,) = recorder.symbols
    return BenchmarkPrices(name=name, times=recorder.times, prices=recorder.prices)


def check_benchmark_span(benchmark: BenchmarkPrices, equity_ts: Sequence[int]) -> None:
    """:class:`~framework.ConfigError` unless ``benchmark`` has prices within the run's span
    (first to last equity sample): before it, it has no return to compare."""
    if not len(equity_ts) or not len(benchmark.times):
        return
    first, last = benchmark.times[0], benchmark.times[-1]
    start, end = equity_ts[0], equity_ts[-1]
    if first > end or last < start:
        raise ConfigError(
            f"benchmark {benchmark.name}: its prices ({iso_from_nanos(first)} to "
            f"{iso_from_nanos(last)}) do not overlap the run ({iso_from_nanos(start)} to "
            f"{iso_from_nanos(end)})"
        )


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
    benchmark: Any = None,
    plots: bool = False,
    **feed_options: Any,
) -> RunResult:
    """:func:`backtest` for code already inside a Trio program: the same arguments, the same
    result. Cancelling it stops the run (nothing is returned). A failure during the run
    comes as Trio reports a task's: a leaf of an ``ExceptionGroup`` (the user's own
    exception, with its note, or a tradewire error), where :func:`backtest` raises it as
    itself.
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
    recorders = [one._keep_plots() for one in engine.strategies] if plots else []
    benchmark_prices: BenchmarkPrices | None = None
    recorder: BenchmarkRecorder | None = None
    if benchmark is not None:
        if is_benchmark_symbol(benchmark):
            # Only that symbol's bars and quotes reach the recorder: the route of every other
            # symbol is as before.
            recorder = BenchmarkRecorder(benchmark, daily=True)
            engine.bus.subscribe(Bar, recorder.on_bar, symbol=benchmark)
            engine.bus.subscribe(Quote, recorder.on_quote, symbol=benchmark)
        else:
            # Read before the run: a file that cannot be read fails fast.
            benchmark_prices = await read_benchmark(benchmark, **feed_options)
    await engine.run()
    issues = {}
    for feed in feeds:
        statistics = getattr(feed, "statistics", None)
        read = statistics() if statistics is not None else None
        # Bar files and Arrow data count their skipped rows alike.
        if isinstance(read, BarFileStatistics) and read.skipped:
            issues[feed.name] = read.skipped_by_reason
    if recorder is not None:
        if not len(recorder.times):
            symbols = ", ".join(sorted(engine.portfolio.first_price)) or "none"
            raise ConfigError(
                f"benchmark {benchmark!r} is not a symbol of the run's data (its symbols: "
                f"{symbols}); give one of them, or a bar file of the benchmark"
            )
        benchmark_prices = recorder.result()
    if benchmark_prices is not None:
        check_benchmark_span(benchmark_prices, engine.portfolio.equity_curve[0])
    result = RunResult.from_engine(engine, data_issues=issues, benchmark=benchmark_prices)
    return _with_plots(result, recorders) if recorders else result


def _with_plots(result: RunResult, recorders: Sequence[PlotRecorder]) -> RunResult:
    """``result`` carrying the recorders' series: all of them on the run's result, each
    strategy's own on its :attr:`~framework.RunResult.strategies` entry."""
    own = {recorder.strategy: tuple(recorder.series.values()) for recorder in recorders}
    per_strategy = {
        sid: attrs.evolve(one, plots=own.get(sid, ())) for sid, one in result.per_strategy.items()
    }
    every = tuple(series for plotted in own.values() for series in plotted)
    return attrs.evolve(result, plots=every, per_strategy=per_strategy)


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
    benchmark: Any = None,
    plots: bool = False,
    **feed_options: Any,
) -> RunResult:
    """Run ``strategy`` over ``data`` in simulated time and return its :class:`RunResult`.

    ``strategy`` is a :class:`Strategy` instance, or a list of them trading one account (each
    one's own fills, trades and statistics in :attr:`RunResult.strategies`). The data are
    replayed in time order through the simulated broker and the strategies' hooks; when they
    end, ``on_stop`` runs and the result is built: fills, round-trip trades, orders, the
    equity curve and the statistics of docs/statistics.md.

    **Data.** ``data`` is one of the following, or a sequence (a list or tuple) mixing any of
    them; several sources are merged in time order:

    - a path (``str`` or :class:`os.PathLike`) to a ``.csv`` bar file: time, open, high, low,
      close and volume columns, optionally ``symbol`` (the symbol is otherwise the file's name
      without extension); the columns and time formats are in docs/data.md;
    - a path to a Parquet (``.parquet``, ``.parq``, ``.pq``) or Feather / Arrow IPC
      (``.feather``, ``.arrow``, ``.ipc``) file, read by the same column rules;
    - a path to a directory: its Parquet and Feather files as one dataset (Hive
      ``symbol=X/`` folders name the symbol) and each CSV file in it as a bar file;
    - a path to a ``.twrec`` recording of a live session, replayed through the live codec
      (quotes and bars as they were received);
    - a pandas or polars DataFrame, or a pyarrow Table, RecordBatch or RecordBatchReader (or
      anything with ``__arrow_c_stream__``), with the columns of a bar file; without a
      ``symbol`` column, ``symbol=`` names it;
    - a mapping ``{symbol: data}``: one source per key, named by it, its value a DataFrame, a
      Table or a path;
    - feeds: any object with the :class:`~framework.feeds.Feed` protocol, such as a
      :class:`ListFeed` of events in memory, or a :class:`BarFileFeed` or
      :class:`~framework.feeds.ArrowFeed` built with options of its own.

    **Feed options** (``feed_options``, applied to every path, frame and table of ``data``;
    feeds come ready-made): ``symbol`` (the symbol of a single source without a symbol column),
    ``interval`` (the bar size, such as ``"1m"``; detected from the first rows when omitted),
    ``tz`` (the IANA zone of naive times and dates, such as ``"America/New_York"`` or
    ``"UTC"``; naive times are refused without it), ``time_unit`` (``"s"``, ``"ms"``, ``"us"``
    or ``"ns"``: the unit of epoch-number times; otherwise decided by the first row's
    magnitude), ``skip_bad_rows`` (count bad rows in :attr:`RunResult.data_issues` instead of
    stopping at the first) and ``speed`` (pace ``.twrec`` recordings at that multiple of real
    time; by default as fast as possible).

    **Broker.** ``cash`` is the start cash. ``commission``, ``slippage`` and ``risk`` set those
    parts of the simulated broker (see :mod:`framework.execution`); ``broker_config`` sets
    everything else (fill model, latency, sessions, lot sizes), and the three, when given,
    override its fields.

    ``equity_resolution`` (``5m``, ``1h``, ``1D``; a size that divides a day) keeps one
    equity sample per bucket of that size; by default every mark time's sample is kept until
    the curve holds 2**20 of them, then it is thinned (docs/statistics.md). Statistics are
    the same either way.

    ``benchmark`` compares the run with one instrument: a symbol of ``data`` (``"SPY"``), or
    data of one symbol in any form above (a bar file, a Parquet file, a frame, a feed), read
    before the run with ``tz``, ``time_unit`` and ``skip_bad_rows``. A string is a symbol
    unless it is an existing path or ends in a data file's suffix. The statistics then hold
    ``benchmark``, ``benchmark_return`` (its buy and hold over the run) and the strategy's
    ``alpha`` and ``beta`` against it, on daily returns (docs/statistics.md). A run without a
    benchmark does no work for it.

    ``plots=True`` keeps what the strategies draw with :meth:`Strategy.plot`, in
    :attr:`RunResult.plots`, for the HTML report (docs/reports.md; ``tradewire backtest
    --report`` asks for it). By default ``plot`` does nothing and :attr:`Strategy.plotting`
    stays false, so runs without a report, and sweeps, do not pay for it.

    Raises :class:`ConfigError` for data or options it cannot use (a missing file, an unknown
    suffix, a benchmark symbol the data do not hold), :class:`DataError` for a bad row (naming
    the file and line), and a strategy's own exception as itself, with a note naming the
    strategy, the hook and the event. It runs its own ``trio.run``: inside a Trio program,
    ``await`` :func:`backtest_async` instead. Example::

        from framework import backtest
        from strategies.sma_cross import SmaCross

        result = backtest(SmaCross(fast=10, slow=30), "examples/data/AAPL.csv",
                          benchmark="examples/data/MSFT.csv")
        print(result.summary())
        trades = result.to_pandas("trades")
    """
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
            benchmark=benchmark,
            plots=plots,
            **feed_options,
        )
    )
