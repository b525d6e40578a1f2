"""One sweep job: a backtest described by plain values, runnable in any process.

A :class:`SweepJob` names its strategy by spec (``module:Class``, ``path.py:Class`` or plugin
name) and its data by path and byte or row range, so it pickles small and means the same in a
spawned process or on a Ray worker. :func:`run_job` is the only code that runs remotely.
"""

from __future__ import annotations

from typing import Any

import attrs

from .._backtest import backtest
from .._errors import ParameterError, TradewireError
from .._failure import carry_users_frames
from .._plugins import load_strategy_class
from .._strategy import Strategy
from ._windows import BarFileWindowFeed, DataSlice

OK = "ok"
SKIPPED = "skipped"


@attrs.frozen(slots=True, kw_only=True)
class SweepJob:
    """A backtest to run: strategy spec and parameters, data slices, options."""

    number: int
    """Position of the combination in grid order: the final tie-break when ranking."""
    strategy: str
    params: dict[str, Any]
    data: tuple[DataSlice, ...]
    cash: float = 100_000.0
    feed_options: dict[str, Any] = attrs.Factory(dict)
    backtest_options: dict[str, Any] = attrs.Factory(dict)


@attrs.frozen(slots=True, kw_only=True)
class SweepRow:
    """What one job gave: statistics, or the reason it was skipped."""

    number: int
    params: dict[str, Any]
    status: str
    reason: str = ""
    stats: dict[str, Any] = attrs.Factory(dict)
    final_equity: float | None = None
    bars: int = 0

    def value(self, name: str) -> Any:
        """A statistic by name (``final_equity`` included); None when absent."""
        if name == "final_equity":
            return self.final_equity
        return self.stats.get(name)


class JobFailed(TradewireError):
    """A sweep job failed for a reason other than its parameters (bad data, say): the whole
    sweep stops. Carries the text of the original errors, so it pickles across processes."""

    def __init__(self, params: dict[str, Any] | str, errors: BaseException | None = None) -> None:
        if isinstance(params, str):  # unpickling: the message alone
            super().__init__(params)
            return
        super().__init__(f"backtest with {_names(params)} failed: {'; '.join(_messages(errors))}")


def _names(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items())


def _messages(error: BaseException | None) -> list[str]:
    if isinstance(error, BaseExceptionGroup):
        return [text for inner in error.exceptions for text in _messages(inner)]
    return [str(error)] if error is not None else []


def run_job(job: SweepJob) -> SweepRow:
    """Run one backtest. Invalid parameters give a skipped row; other tradewire errors raise
    :class:`JobFailed`."""
    cls = load_strategy_class(job.strategy)
    try:
        strategy = cls(**job.params)
    except ParameterError as exc:
        return SweepRow(number=job.number, params=job.params, status=SKIPPED, reason=str(exc))
    feeds: list[Any] = []
    paths: list[str] = []
    for item in job.data:
        if item.byte_range is not None:
            feeds.append(
                BarFileWindowFeed(item.path, byte_range=item.byte_range, **job.feed_options)
            )
        elif item.row_range is not None:
            # Imported here: pyarrow loads only for sweeps over Arrow data.
            from ..feeds._arrow_feed import ArrowFeed

            feeds.append(ArrowFeed(item.path, rows=item.row_range, **job.feed_options))
        else:
            paths.append(item.path)
    data: Any = feeds if feeds else paths
    if feeds and paths:
        raise ValueError("a job's data are all whole files or all slices")
    try:
        try:
            result = backtest(
                strategy,
                data,
                cash=job.cash,
                **(job.feed_options if paths else {}),
                **job.backtest_options,
            )
        except* TradewireError as group:
            # Our errors do not all survive pickling (BarFileError takes three arguments), and
            # this one must cross a process boundary: send its text, naming the job.
            raise JobFailed(job.params, group) from None
    except JobFailed:
        raise
    except Exception as exc:
        # The user's own error travels as itself; its traceback does not cross processes.
        carry_users_frames(exc)
        exc.add_note(f"in the sweep combination {_names(job.params)}")
        raise
    return SweepRow(
        number=job.number,
        params=job.params,
        status=OK,
        stats=dict(result.stats),
        final_equity=result.final_equity,
        bars=result.bars,
    )


def check_params(job: SweepJob, cls: type[Strategy] | None = None) -> SweepRow | None:
    """The skipped row ``job`` would give, found without running it; None if it is valid.
    ``cls`` saves loading the strategy class again."""
    cls = cls or load_strategy_class(job.strategy)
    try:
        cls(**job.params)
    except ParameterError as exc:
        return SweepRow(number=job.number, params=job.params, status=SKIPPED, reason=str(exc))
    return None
