"""Backtests in one call: pick feeds for the data files, run the engine, collect the result."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from ._engine import Engine
from ._errors import ConfigError
from ._failure import run_sync
from ._intervals import Interval
from ._results import RunResult
from ._strategy import Strategy
from .execution import (
    BrokerConfig,
    CommissionModel,
    RiskLimits,
    SimulatedBroker,
    SlippageModel,
)
from .feeds._bar_file import BarFileFeed
from .feeds._feed import Feed
from .portfolio import Portfolio


def feeds_for(
    data: Sequence[str | Path],
    *,
    symbol: str | None = None,
    interval: Interval | str | None = None,
    skip_bad_rows: bool = False,
    speed: float | None = None,
    tz: str | None = None,
    time_unit: str | None = None,
) -> list[Feed]:
    """One replay feed per data file, chosen by its suffix: ``.csv`` bar files, ``.twrec``
    recordings (replayed through the live codec; ``speed`` paces them, None = flat out).

    ``tz`` (an IANA zone name, or UTC) is the zone of the bar files' naive times and dates,
    ``time_unit`` (s, ms, us, ns) the unit of their epoch-number times: see docs/data.md."""
    if not data:
        raise ConfigError("no data given: pass at least one file")
    if symbol is not None and len(data) > 1:
        raise ConfigError("--symbol names the symbol of a single file; give one file")
    feeds: list[Feed] = []
    for item in data:
        path = Path(item)
        if not path.exists():
            raise ConfigError(f"data file not found: {path}")
        suffix = path.suffix.lower()
        if suffix == ".csv":
            feeds.append(
                BarFileFeed(
                    path,
                    symbol=symbol,
                    interval=interval,
                    skip_bad_rows=skip_bad_rows,
                    tz=tz,
                    time_unit=time_unit,
                )
            )
        elif suffix == ".twrec":
            # Imported here: the InsightSentry stack is not needed for bar files, and
            # `import framework` stays light.
            from .feeds.insightsentry._recording_feed import RecordingFeed

            feeds.append(RecordingFeed(path, speed=speed))
        else:
            raise ConfigError(f"unsupported data file {path}: expected .csv or .twrec")
    return feeds


async def backtest_async(
    strategy: Strategy,
    data: str | Path | Sequence[str | Path] | Sequence[Feed],
    *,
    cash: float = 100_000.0,
    commission: CommissionModel | None = None,
    slippage: SlippageModel | None = None,
    risk: RiskLimits | None = None,
    broker_config: BrokerConfig | None = None,
    **feed_options: Any,
) -> RunResult:
    """Run ``strategy`` over ``data`` (files or feeds) in simulated time; return the result.

    ``commission``, ``slippage`` and ``risk`` set those parts of the simulated broker (see
    :mod:`framework.execution`); ``broker_config`` sets everything else (latency, sessions,
    quote sizes), and the three, when given, override its fields.
    """
    if isinstance(data, str | os.PathLike):
        data = [data]  # one path, not a sequence of characters
    feeds: list[Feed] = []
    paths: list[str | Path] = []
    for item in data:
        if isinstance(item, str | os.PathLike):
            paths.append(item)
        else:
            feeds.append(item)
    if paths:
        feeds.extend(feeds_for(paths, **feed_options))
    config = broker_config or BrokerConfig()
    if commission is not None:
        config = attrs.evolve(config, commission=commission)
    if slippage is not None:
        config = attrs.evolve(config, slippage=slippage)
    if risk is not None:
        config = attrs.evolve(config, risk=risk)
    broker = SimulatedBroker(Portfolio(cash), config)
    engine = Engine(feeds=feeds, strategies=[strategy], broker=broker)
    await engine.run()
    issues = {
        feed.name: feed.statistics().skipped_by_reason
        for feed in feeds
        if isinstance(feed, BarFileFeed) and feed.statistics().skipped
    }
    return RunResult.from_engine(engine, data_issues=issues)


def backtest(
    strategy: Strategy,
    data: str | Path | Sequence[str | Path] | Sequence[Feed],
    *,
    cash: float = 100_000.0,
    commission: CommissionModel | None = None,
    slippage: SlippageModel | None = None,
    risk: RiskLimits | None = None,
    broker_config: BrokerConfig | None = None,
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
            **feed_options,
        )
    )
