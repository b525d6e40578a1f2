"""The tradewire pytest plugin, loaded through the ``pytest11`` entry point when tradewire is
installed; nothing to import or configure.

Fixtures:

- ``tradewire_backtest``: a :class:`~framework.testing.Backtester`; ``tradewire_backtest(
  strategy, data)`` runs a backtest in simulated time and returns the RunResult, and
  ``tradewire_backtest.seen(strategy)`` the events the strategy saw.
- ``tradewire_golden``: :class:`~framework.testing.GoldenFiles` of the calling test, in
  ``golden/`` beside the test file (ini option ``tradewire_golden_dir``); run pytest with
  ``--tradewire-update-golden`` to (re)write them.
- ``sim_config``: the :class:`~framework.testing.SimConfig` for ``sim_server``; set options with
  ``@pytest.mark.tradewire_sim(speed=60.0, faults=[...])`` or override the fixture.
- ``sim_server``: a running :class:`~framework.testing.SimulatedServer` (an async fixture:
  it needs pytest-trio, with ``trio_mode`` or ``@pytest.mark.trio``).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ..adapters.insightsentry.sim import SimConfig, SimulatedServer, open_simulated_server
from ._backtester import Backtester
from ._golden import GoldenFiles

UPDATE_GOLDEN_OPTION = "--tradewire-update-golden"
GOLDEN_DIR_INI = "tradewire_golden_dir"
SIM_MARKER = "tradewire_sim"

_written_golden = pytest.StashKey[list[Path]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tradewire", "tradewire test kit")
    group.addoption(
        UPDATE_GOLDEN_OPTION,
        action="store_true",
        default=False,
        help="write the golden files of tradewire_golden instead of comparing with them",
    )
    parser.addini(
        GOLDEN_DIR_INI,
        "folder of tradewire golden files, relative to each test file (default: golden)",
        default="golden",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{SIM_MARKER}(**options): SimConfig options for the sim_config and sim_server fixtures",
    )
    config.stash[_written_golden] = []


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    written = config.stash.get(_written_golden, [])
    if written:
        terminalreporter.write_sep("-", f"tradewire: {len(written)} golden file(s) written")
        for path in written:
            terminalreporter.write_line(str(path))


@pytest.fixture
def tradewire_backtest() -> Backtester:
    """Run strategies over data in simulated time: ``tradewire_backtest(strategy, data)``
    returns the RunResult; ``tradewire_backtest.seen(strategy)`` what the strategy saw."""
    return Backtester()


@pytest.fixture
def tradewire_golden(request: pytest.FixtureRequest) -> GoldenFiles:
    """Compare results with golden files beside the test: ``tradewire_golden(result)``."""
    config = request.config
    directory = Path(request.node.path).parent / str(config.getini(GOLDEN_DIR_INI))
    return GoldenFiles(
        directory,
        _file_stem(request.node.name),
        update=bool(config.getoption(UPDATE_GOLDEN_OPTION)),
        written=config.stash[_written_golden],
    )


@pytest.fixture
def sim_config(request: pytest.FixtureRequest) -> SimConfig:
    """SimConfig defaults, updated by the ``tradewire_sim`` markers (closest marker wins)."""
    options: dict[str, object] = {}
    for marker in reversed(list(request.node.iter_markers(SIM_MARKER))):
        if marker.args:
            raise pytest.UsageError(f"@pytest.mark.{SIM_MARKER} takes keyword options only")
        options.update(marker.kwargs)
    return SimConfig(**options)  # type: ignore[arg-type]


@pytest.fixture
async def sim_server(sim_config: SimConfig) -> AsyncIterator[SimulatedServer]:
    """A simulated InsightSentry server listening on ``sim_server.url`` for the test.

    Needs pytest-trio. Stopped (connections closed gracefully) when the test ends.
    """
    async with open_simulated_server(sim_config) as server:
        yield server


def _file_stem(node_name: str) -> str:
    """A test's name as a file name: ``test_run[fast-5]`` → ``test_run-fast-5``."""
    return re.sub(r"[^\w.-]+", "-", node_name).strip("-")
