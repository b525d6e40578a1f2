"""Parameter sweeps and walk-forward analysis.

:func:`sweep` runs one backtest per grid combination on a backend and ranks the rows by a
statistic, in a total order (its docstring says which).

:func:`walk_forward` guards against overfitting: on each window it sweeps the grid over the
train part, takes the best row, and backtests those parameters on the test part that follows.
Only the test parts' results are out-of-sample; see :mod:`._windows` for how windows are cut.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

from .._errors import ConfigError, ParameterError
from .._params import declared_params
from .._plugins import load_strategy_class
from ..results._display import format_percent, format_statistic
from ._backends import Backend, LocalBackend
from ._grid import Grid, check_axis
from ._jobs import OK, SKIPPED, SweepJob, SweepRow, check_params
from ._windows import DataSlice, WalkWindow, WindowSize, plan_windows

#: Statistics where a smaller value ranks higher.
LOWER_IS_BETTER = frozenset(
    {"max_drawdown", "max_drawdown_duration_s", "volatility", "commissions"}
)


@attrs.frozen(slots=True, kw_only=True)
class SweepResult:
    """Rows of a sweep: ranked rows first (best first), then skipped rows in grid order."""

    strategy: str
    param_names: tuple[str, ...]
    rank_by: str
    rows: tuple[SweepRow, ...]

    @property
    def ranked(self) -> list[SweepRow]:
        """The rows that ran, best first."""
        return [row for row in self.rows if row.status == OK]

    @property
    def skipped(self) -> list[SweepRow]:
        """The combinations the strategy rejected, in grid order; nothing ran for them."""
        return [row for row in self.rows if row.status == SKIPPED]

    def best(self) -> SweepRow | None:
        """The top row, if it has the ranking statistic."""
        for row in self.ranked:
            return row if _number(row.value(self.rank_by)) is not None else None
        return None

    def to_csv(self) -> str:
        """All rows as CSV: rank, parameters, status, reason, final equity, bars, every
        statistic. Floats are written exactly (``repr``), so equal sweeps give equal bytes."""
        stat_names = _stat_names(self.rows)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            ["rank", *self.param_names, "status", "reason", "final_equity", "bars", *stat_names]
        )
        for rank, row in enumerate(self.rows, 1):
            writer.writerow(
                [
                    rank if row.status == OK else "",
                    *(_cell(row.params.get(name)) for name in self.param_names),
                    row.status,
                    row.reason,
                    _cell(row.final_equity),
                    row.bars if row.status == OK else "",
                    *(_cell(row.stats.get(name)) for name in stat_names),
                ]
            )
        return out.getvalue()

    def table(self, top: int = 10) -> str:
        """The best ``top`` rows as aligned text, for a terminal; figures read as in the
        backtest summary and the report (``8.78%``, not ``0.0878``)."""
        columns = [self.rank_by] + [
            c for c in ("total_return", "sharpe", "max_drawdown", "trades") if c != self.rank_by
        ]
        header = ["rank", *self.param_names, *columns]
        lines = [header]
        for rank, row in enumerate(self.ranked[:top], 1):
            lines.append(
                [
                    str(rank),
                    *(str(row.params.get(n)) for n in self.param_names),
                    *(format_statistic(c, row.value(c)) for c in columns),
                ]
            )
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        text = [
            "  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)) for line in lines
        ]
        ok, skipped = len(self.ranked), len(self.skipped)
        text.append(
            f"{ok} ran, {skipped} skipped"
            + (f" (e.g. {self.skipped[0].reason})" if skipped else "")
        )
        return "\n".join(text)


@attrs.frozen(slots=True, kw_only=True)
class WindowResult:
    """One walk-forward window: the parameters chosen in-sample and how they did out of it."""

    window: WalkWindow
    train: SweepResult
    params: dict[str, Any] | None
    test: SweepRow | None


@attrs.frozen(slots=True, kw_only=True)
class WalkForwardResult:
    """Every window, and the out-of-sample summary."""

    strategy: str
    param_names: tuple[str, ...]
    rank_by: str
    windows: tuple[WindowResult, ...]

    def out_of_sample_return(self) -> float | None:
        """Test-window returns compounded in order (each window starts from fresh cash)."""
        growth = 1.0
        seen = False
        for window in self.windows:
            value = _number(window.test.value("total_return")) if window.test else None
            if value is not None:
                growth *= 1 + value
                seen = True
        return growth - 1 if seen else None

    def to_csv(self) -> str:
        """One row per window: times, chosen parameters, in-sample ranking statistic,
        out-of-sample statistics (exact floats)."""
        tests = [w.test for w in self.windows if w.test is not None]
        stat_names = _stat_names(tests)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            [
                "window",
                "train_start",
                "train_end",
                "test_start",
                "test_end",
                *self.param_names,
                f"train_{self.rank_by}",
                "test_final_equity",
                "test_bars",
                *(f"test_{name}" for name in stat_names),
            ]
        )
        for w in self.windows:
            times = w.window.describe()
            best = w.train.best()
            writer.writerow(
                [
                    w.window.index,
                    times["train_start"],
                    times["train_end"],
                    times["test_start"],
                    times["test_end"],
                    *(_cell((w.params or {}).get(n)) for n in self.param_names),
                    _cell(best.value(self.rank_by)) if best else "",
                    _cell(w.test.final_equity) if w.test else "",
                    w.test.bars if w.test else "",
                    *(_cell(w.test.stats.get(n)) if w.test else "" for n in stat_names),
                ]
            )
        return out.getvalue()

    def table(self) -> str:
        """Windows as aligned text, then the out-of-sample return."""
        header = [
            "window",
            "test from",
            *self.param_names,
            f"train {self.rank_by}",
            "test return",
            "test sharpe",
            "trades",
        ]
        lines = [header]
        for w in self.windows:
            best = w.train.best()
            lines.append(
                [
                    str(w.window.index),
                    w.window.describe()["test_start"],
                    *(str((w.params or {}).get(n, "-")) for n in self.param_names),
                    format_statistic(self.rank_by, best.value(self.rank_by)) if best else "-",
                    *(
                        format_statistic(name, w.test.value(name)) if w.test else "-"
                        for name in ("total_return", "sharpe", "trades")
                    ),
                ]
            )
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        text = [
            "  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)) for line in lines
        ]
        oos = self.out_of_sample_return()
        text.append(f"out-of-sample return (test windows compounded): {format_percent(oos)}")
        return "\n".join(text)


def sweep(
    strategy: str,
    data: Sequence[str | Path],
    grid: Grid,
    *,
    params: dict[str, Any] | None = None,
    rank_by: str = "sharpe",
    backend: Backend | None = None,
    cash: float = 100_000.0,
    feed_options: dict[str, Any] | None = None,
    backtest_options: dict[str, Any] | None = None,
    on_row: Callable[[SweepRow], None] | None = None,
) -> SweepResult:
    """Backtest ``strategy`` (a STRATEGY spec) with every combination of ``grid`` (on top of
    the fixed ``params``) over ``data``; rank by ``rank_by``.

    Ranking is a total order — the statistic (higher is better, except for the drawdown,
    volatility and cost figures in :data:`LOWER_IS_BETTER`), rows without it after rows with
    it, then grid order — so the same grid gives the same table on any backend and any number
    of workers. Combinations the strategy rejects (``ParameterError``: fast >= slow, say) are
    found before anything runs and reported as skipped rows after the ranked ones. A grid that
    cannot give a single backtest is an error, raised before anything runs: a value of the
    wrong type on an axis (``fast=5-20`` for an int parameter) or every combination rejected.
    """
    spec, names = _prepare(strategy, grid, params)
    slices = tuple(DataSlice(path=str(Path(p).resolve())) for p in _existing(data))
    jobs = _jobs(spec, grid, params, slices, cash, feed_options, backtest_options)
    rows = _run(jobs, backend or LocalBackend(), on_row, grid=grid)
    return _rank(spec, names, rank_by, rows)


def walk_forward(
    strategy: str,
    data: Sequence[str | Path],
    grid: Grid,
    *,
    train: WindowSize,
    test: WindowSize,
    params: dict[str, Any] | None = None,
    rank_by: str = "sharpe",
    backend: Backend | None = None,
    cash: float = 100_000.0,
    feed_options: dict[str, Any] | None = None,
    backtest_options: dict[str, Any] | None = None,
    on_row: Callable[[SweepRow], None] | None = None,
) -> WalkForwardResult:
    """Sweep each train window, backtest its best parameters on the next test window.

    All train jobs of all windows go to the backend together, then all test jobs, so the
    workers stay busy across windows.
    """
    spec, names = _prepare(strategy, grid, params)
    windows = plan_windows(
        _existing(data),
        train=train,
        test=test,
        tz=(feed_options or {}).get("tz"),
        time_unit=(feed_options or {}).get("time_unit"),
    )
    backend = backend or LocalBackend()
    per_window = [
        _jobs(spec, grid, params, w.train_data, cash, feed_options, backtest_options)
        for w in windows
    ]
    size = len(per_window[0])
    flat = [
        attrs.evolve(job, number=w * size + job.number)
        for w, jobs in enumerate(per_window)
        for job in jobs
    ]
    rows = _run(flat, backend, on_row, grid=grid)
    trains: list[SweepResult] = []
    for w in range(len(windows)):
        own = [attrs.evolve(r, number=r.number - w * size) for r in rows[w * size : (w + 1) * size]]
        trains.append(_rank(spec, names, rank_by, own))
    chosen = [t.best() for t in trains]
    test_jobs = [
        SweepJob(
            number=w.index,
            strategy=spec,
            params={**(params or {}), **best.params},
            data=w.test_data,
            cash=cash,
            feed_options=dict(feed_options or {}),
            backtest_options=dict(backtest_options or {}),
        )
        for w, best in zip(windows, chosen, strict=True)
        if best is not None
    ]
    tested = {row.number: row for row in _run(test_jobs, backend, on_row)}
    return WalkForwardResult(
        strategy=spec,
        param_names=names,
        rank_by=rank_by,
        windows=tuple(
            WindowResult(
                window=w,
                train=train_result,
                params=best.params if best is not None else None,
                test=tested.get(w.index),
            )
            for w, train_result, best in zip(windows, trains, chosen, strict=True)
        ),
    )


# -- steps ------------------------------------------------------------------------------------


def _prepare(
    strategy: str, grid: Grid, params: dict[str, Any] | None
) -> tuple[str, tuple[str, ...]]:
    if not len(grid):
        raise ConfigError("a sweep needs a grid: --grid NAME=START:STOP[:STEP] or NAME=V1,V2")
    spec = _absolute_spec(strategy)
    cls = load_strategy_class(spec)
    declared = declared_params(cls)
    unknown = [n for n in (*grid.names, *(params or {})) if n not in declared]
    if unknown:
        known = ", ".join(declared) or "none"
        raise ParameterError(
            f"{cls.__name__} has no parameter {', '.join(map(repr, unknown))} (parameters: {known})"
        )
    for name in grid.names:
        check_axis(grid, name, declared[name])
    return spec, grid.names


def _absolute_spec(strategy: str) -> str:
    # Workers may start elsewhere (Ray): a file path in the spec must not depend on our cwd.
    where, sep, attr = strategy.rpartition(":")
    if sep and where.endswith(".py"):
        return f"{Path(where).resolve()}:{attr}"
    return strategy


def _existing(data: Sequence[str | Path]) -> list[str]:
    if not data:
        raise ConfigError("no data given: pass at least one file")
    for item in data:
        if not Path(item).exists():
            raise ConfigError(f"data file not found: {item}")
    return [str(Path(item).resolve()) for item in data]


def _jobs(
    spec: str,
    grid: Grid,
    params: dict[str, Any] | None,
    data: tuple[DataSlice, ...],
    cash: float,
    feed_options: dict[str, Any] | None,
    backtest_options: dict[str, Any] | None,
) -> list[SweepJob]:
    return [
        SweepJob(
            number=number,
            strategy=spec,
            params={**(params or {}), **combo},
            data=data,
            cash=cash,
            feed_options=dict(feed_options or {}),
            backtest_options=dict(backtest_options or {}),
        )
        for number, combo in enumerate(grid)
    ]


def _run(
    jobs: list[SweepJob],
    backend: Backend,
    on_row: Callable[[SweepRow], None] | None,
    *,
    grid: Grid | None = None,
) -> list[SweepRow]:
    """Rows for ``jobs`` in job order; invalid combinations never reach the backend. Jobs
    from ``grid`` that are all invalid raise :class:`ParameterError`: a sweep that runs
    nothing must not pass for one that ran."""
    rows: dict[int, SweepRow] = {}
    runnable = []
    cls = load_strategy_class(jobs[0].strategy) if jobs else None
    for job in jobs:
        skipped = check_params(job, cls)
        if skipped is None:
            runnable.append(job)
        else:
            rows[job.number] = skipped
            if on_row is not None:
                on_row(skipped)
    if grid is not None and jobs and not runnable:
        first = rows[jobs[0].number]
        name = cls.__name__ if cls is not None else jobs[0].strategy
        raise ParameterError(
            f"no combination of {grid.describe()} can run: {name} rejects all {len(grid)} "
            f"(first: {_format_params(first.params)}: {first.reason})"
        )
    for row in backend.run(runnable, on_row):
        rows[row.number] = row
    return [rows[job.number] for job in jobs]


def _rank(spec: str, names: tuple[str, ...], rank_by: str, rows: Iterable[SweepRow]) -> SweepResult:
    rows = list(rows)
    ok = [r for r in rows if r.status == OK]
    if ok and rank_by != "final_equity" and all(rank_by not in r.stats for r in ok):
        available = ", ".join(["final_equity", *ok[0].stats])
        raise ConfigError(f"cannot rank by {rank_by!r}: not a statistic ({available})")
    sign = 1.0 if rank_by in LOWER_IS_BETTER else -1.0

    def key(row: SweepRow) -> tuple[int, float, int]:
        value = _number(row.value(rank_by))
        if value is None:
            return (1, 0.0, row.number)
        return (0, sign * value, row.number)

    ranked = sorted(ok, key=key)
    skipped = sorted((r for r in rows if r.status != OK), key=lambda r: r.number)
    return SweepResult(strategy=spec, param_names=names, rank_by=rank_by, rows=(*ranked, *skipped))


# -- formatting -------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _stat_names(rows: Iterable[SweepRow]) -> list[str]:
    names: dict[str, None] = {}
    for row in sorted(rows, key=lambda r: r.number):
        for name in row.stats:
            names.setdefault(name, None)
    return list(names)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict | list):
        return repr(value)
    return value


def _format_params(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items())
