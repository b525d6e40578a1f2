"""Where sweep jobs run: processes on this machine, or a Ray cluster.

A backend takes jobs and returns their rows in job order; it does not rank or sort. Both run
the same :func:`~._jobs.run_job`, so the same grid gives the same rows on either.

:class:`LocalBackend` runs them in processes of this machine, :class:`RayBackend` as Ray
tasks; their docstrings say how.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol

from .._errors import ConfigError
from ._jobs import SweepJob, SweepRow, run_job


class Backend(Protocol):
    """Where sweep jobs run: :class:`LocalBackend`, :class:`RayBackend`, or your own."""

    def run(
        self, jobs: Sequence[SweepJob], on_row: Callable[[SweepRow], None] | None = None
    ) -> list[SweepRow]:
        """Run every job and return their rows in job order (unranked); ``on_row`` is called
        with each row as it arrives, in whatever order they finish. A job's own error
        (:class:`~framework.sweeps.JobFailed`) propagates as itself."""
        ...


def default_workers() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class LocalBackend:
    """Jobs in ``workers`` processes on this machine (default: every core this process may
    use): a ``ProcessPoolExecutor`` with the *spawn* start method, safe with Trio and threads
    in the parent and the same on Linux, macOS and Windows."""

    def __init__(self, workers: int | None = None) -> None:
        if workers is not None and workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {workers}")
        self.workers = workers or default_workers()

    def run(
        self, jobs: Sequence[SweepJob], on_row: Callable[[SweepRow], None] | None = None
    ) -> list[SweepRow]:
        """Run the jobs, several to a hand-off; rows as :meth:`Backend.run` says."""
        if not jobs:
            return []
        workers = min(self.workers, len(jobs))
        # Several jobs per hand-off: cheap backtests are not dominated by inter-process calls.
        chunk = max(1, len(jobs) // (workers * 8))
        context = multiprocessing.get_context("spawn")
        rows: list[SweepRow] = []
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            for row in pool.map(run_job, jobs, chunksize=chunk):
                rows.append(row)
                if on_row is not None:
                    on_row(row)
        return rows


class RayBackend:
    """Jobs as Ray tasks, one per job (``num_cpus=1``).

    Connects to ``address``, else to ``RAY_ADDRESS``, else starts a local Ray instance of
    ``workers`` CPUs for the sweep and stops it after. If Ray is already initialised in this
    process (a notebook, a test session), that instance is used and left running. The driver
    reads each data source once and puts its bars in the object store as an Arrow table;
    tasks replay that table instead of reading the file (:mod:`._shared_data`, which also says
    what stays a path). Workers must be able to import tradewire and the strategy, and to read
    the data paths that stay paths (on a cluster: the same paths on every node, or a shared
    file system). Ray is optional (``pip install 'tradewire[ray]'``).
    """

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        self.address = address
        self.workers = workers

    def run(
        self, jobs: Sequence[SweepJob], on_row: Callable[[SweepRow], None] | None = None
    ) -> list[SweepRow]:
        """Run the jobs as Ray tasks; rows as :meth:`Backend.run` says. Without Ray installed,
        a :class:`~framework.ConfigError` says how to install it."""
        try:
            import ray
        except ImportError as exc:
            raise ConfigError("--backend ray needs Ray: pip install 'tradewire[ray]'") from exc
        if not jobs:
            return []
        started_here = False
        if not ray.is_initialized():
            address = self.address or os.environ.get("RAY_ADDRESS") or None
            options: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "logging_level": "warning",
            }
            if address is None:
                options["num_cpus"] = self.workers or default_workers()
            ray.init(address=address, **options)
            started_here = True
        try:
            # Imported here: pyarrow and the bar readers load only for Ray sweeps.
            from ._shared_data import run_shared_job, share_data, tables_of

            shared = share_data(jobs, put=ray.put)
            task = ray.remote(num_cpus=1)(run_shared_job)
            refs = [task.remote(job, *tables_of(job)) for job in shared]
            pending = list(refs)
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                if on_row is not None:
                    on_row(_unwrap(ray, done[0]))
            return [_unwrap(ray, ref) for ref in refs]
        finally:
            if started_here:
                ray.shutdown()


def _unwrap(ray: Any, ref: Any) -> SweepRow:
    try:
        row: SweepRow = ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        # Re-raise the worker's own error (a JobFailed, say) as itself.
        raise exc.cause from None
    return row


def make_backend(name: str, *, workers: int | None = None, address: str | None = None) -> Backend:
    """``local`` or ``ray``."""
    if name == "local":
        if address:
            raise ConfigError("--address is for --backend ray")
        return LocalBackend(workers)
    if name == "ray":
        return RayBackend(address=address, workers=workers)
    raise ConfigError(f"unknown sweep backend {name!r}: expected local or ray")
