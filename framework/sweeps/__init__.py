"""Parameter sweeps on processes or Ray, ranked deterministically; walk-forward analysis.

``sweep("sma_cross", ["AAPL.csv"], Grid.parse(["fast=5:50:5", "slow=20,30,50"]))`` runs one
backtest per combination on :class:`LocalBackend` (processes) or :class:`RayBackend`; the
same grid gives the same :class:`SweepResult` on either. Ray is optional
(``pip install 'tradewire[ray]'``) and imported only by :class:`RayBackend`.
"""

from ._backends import Backend as Backend
from ._backends import LocalBackend as LocalBackend
from ._backends import RayBackend as RayBackend
from ._backends import default_workers as default_workers
from ._backends import make_backend as make_backend
from ._grid import Grid as Grid
from ._jobs import JobFailed as JobFailed
from ._jobs import SweepJob as SweepJob
from ._jobs import SweepRow as SweepRow
from ._jobs import TableSlice as TableSlice
from ._jobs import run_job as run_job
from ._sweep import LOWER_IS_BETTER as LOWER_IS_BETTER
from ._sweep import SweepResult as SweepResult
from ._sweep import WalkForwardResult as WalkForwardResult
from ._sweep import WindowResult as WindowResult
from ._sweep import sweep as sweep
from ._sweep import walk_forward as walk_forward
from ._windows import BarFileWindowFeed as BarFileWindowFeed
from ._windows import DataSlice as DataSlice
from ._windows import WalkWindow as WalkWindow
from ._windows import WindowSize as WindowSize
from ._windows import plan_windows as plan_windows

__all__ = [
    "LOWER_IS_BETTER",
    "Backend",
    "BarFileWindowFeed",
    "DataSlice",
    "Grid",
    "JobFailed",
    "LocalBackend",
    "RayBackend",
    "SweepJob",
    "SweepResult",
    "SweepRow",
    "TableSlice",
    "WalkForwardResult",
    "WalkWindow",
    "WindowResult",
    "WindowSize",
    "default_workers",
    "make_backend",
    "plan_windows",
    "run_job",
    "sweep",
    "walk_forward",
]
