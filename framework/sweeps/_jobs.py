"""One sweep job: a backtest described by plain values, runnable in any process.

A :class:`SweepJob` names its strategy by spec (``module:Class``, ``path.py:Class`` or plugin
name) and its data by path and byte or row range, so it pickles small and means the same in a
spawned process or on a Ray worker. :func:`run_job` is the only code that runs remotely.

On Ray a job's data may instead be :class:`TableSlice` items: a reference to a table of bars
the driver read once and put in the object store (:mod:`._shared_data`), and the rows of it
the job replays.
"""

from __future__ import annotations

from typing import Any

import attrs

from .._backtest import backtest, feeds_for
from .._errors import ParameterError, TradewireError
from .._failure import carry_users_frames
from .._plugins import load_strategy_class
from .._strategy import Strategy
from ._windows import BarFileWindowFeed, DataSlice

OK = "ok"
SKIPPED = "skipped"


@attrs.frozen(slots=True, kw_only=True)
class TableSlice:
    """Bars the driver read once, as a :data:`~framework.feeds._bar_table.BAR_SCHEMA` table,
    and the rows ``[start, end)`` of it a job replays (None: all of them).

    ``table`` is a Ray ``ObjectRef`` while the job travels and the pyarrow Table once the
    worker has it; ``label`` names the data in messages (the file, and the window's range)."""

    table: Any = attrs.field(repr=lambda table: f"<{type(table).__name__}>")
    rows: tuple[int, int] | None = None
    label: str

    def feed(self) -> Any:
        """An :class:`~framework.feeds.ArrowFeed` over the rows (a zero-copy slice)."""
        # Imported here: every worker imports this module, only some need the Arrow reader.
        from ..feeds._arrow_feed import ArrowFeed

        table = self.table
        if self.rows is not None:
            table = table.slice(self.rows[0], self.rows[1] - self.rows[0])
        return ArrowFeed(table, label=self.label)


@attrs.frozen(slots=True, kw_only=True)
class SweepJob:
    """A backtest to run: strategy spec and parameters, data slices, options."""

    number: int
    """Position of the combination in grid order: the final tie-break when ranking."""
    strategy: str
    params: dict[str, Any]
    data: tuple[DataSlice | TableSlice, ...]
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
    data, feed_options = job_data(job)
    try:
        try:
            result = backtest(
                strategy,
                data,
                cash=job.cash,
                **feed_options,
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


def job_data(job: SweepJob) -> tuple[list[Any], dict[str, Any]]:
    """What :func:`~framework.backtest` reads for ``job``, and the feed options to give it.

    Whole files are given as paths with the job's feed options, as a backtest of them is
    run; anything else as feeds, in the order of ``job.data``."""
    paths = [item.path for item in job.data if isinstance(item, DataSlice) and item.is_whole]
    if len(paths) == len(job.data):
        return paths, job.feed_options
    feeds: list[Any] = []
    for item in job.data:
        feeds.extend(feeds_of(item, job.feed_options))
    return feeds, {}


def feeds_of(item: DataSlice | TableSlice, feed_options: dict[str, Any]) -> list[Any]:
    """The feeds that replay one item of a job's data: what a task runs, and what the driver
    reads when it shares the data (:mod:`._shared_data`), so both see the same bars."""
    if isinstance(item, TableSlice):
        return [item.feed()]
    if item.byte_range is not None:
        return [BarFileWindowFeed(item.path, byte_range=item.byte_range, **feed_options)]
    if item.row_range is not None:
        # Imported here: pyarrow loads only for sweeps over Arrow data.
        from ..feeds._arrow_feed import ArrowFeed

        return [ArrowFeed(item.path, rows=item.row_range, **feed_options)]
    return list(feeds_for(item.path, **feed_options))


def check_params(job: SweepJob, cls: type[Strategy] | None = None) -> SweepRow | None:
    """The skipped row ``job`` would give, found without running it; None if it is valid.
    ``cls`` saves loading the strategy class again."""
    cls = cls or load_strategy_class(job.strategy)
    try:
        cls(**job.params)
    except ParameterError as exc:
        return SweepRow(number=job.number, params=job.params, status=SKIPPED, reason=str(exc))
    return None
