"""The test kit's public API, and the plugin's fixtures as this repository's tests see them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import trio

import framework.testing
from framework.testing import Backtester, Fault, GoldenFiles, SimConfig, SimulatedServer


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        framework.testing.nope  # noqa: B018


def test_importing_the_test_kit_loads_neither_pytest_nor_hypothesis():
    code = (
        "import sys, framework.testing\n"
        "print(sorted(m for m in ('pytest', 'hypothesis') if m in sys.modules))\n"
        "framework.testing.bars\n"
        "print('hypothesis' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["[]", "True"]


def test_the_backtest_fixture_is_a_fresh_backtester(tradewire_backtest):
    assert isinstance(tradewire_backtest, Backtester)
    assert tradewire_backtest.results == []


@pytest.mark.parametrize("case", ["a b", "c/d"])
def test_golden_files_live_beside_the_test_and_are_named_after_it(tradewire_golden, case):
    assert isinstance(tradewire_golden, GoldenFiles)
    expected = {"a b": "a-b", "c/d": "c-d"}[case]
    name = f"test_golden_files_live_beside_the_test_and_are_named_after_it-{expected}.json"
    assert tradewire_golden.path() == Path(__file__).parent / "golden" / name
    assert tradewire_golden.path("x") == Path(__file__).parent / "golden" / "x.json"
    assert tradewire_golden.update is False


def test_sim_config_defaults_to_sim_config_defaults(sim_config):
    assert sim_config == SimConfig()


@pytest.mark.tradewire_sim(seed=1, speed=10.0)
class TestSimMarkers:
    @pytest.mark.tradewire_sim(seed=5, greeting="on_open")
    def test_the_closest_marker_wins_and_options_merge(self, sim_config):
        assert (sim_config.seed, sim_config.speed, sim_config.greeting) == (5, 10.0, "on_open")


@pytest.mark.tradewire_sim(heartbeat_interval=None, close_grace=0.2)
async def test_the_sim_server_fixture_serves_on_localhost_and_takes_faults(sim_server):
    assert isinstance(sim_server, SimulatedServer)
    assert sim_server.url.startswith("ws://127.0.0.1:")
    assert sim_server.config.heartbeat_interval is None
    with trio.fail_after(5):
        assert await sim_server.inject(Fault.CLOSE) == 0  # no client connected yet


def test_the_simulator_and_frame_generators_are_the_adapters_own():
    import framework.adapters.insightsentry.sim as sim
    from framework.adapters.insightsentry.sim import _frames

    for name in sim.__all__:
        assert getattr(framework.testing, name) is getattr(sim, name), name
    for name in ("frames", "hostile_frames", "quotes_frame_text", "series_frame_text"):
        assert getattr(framework.testing, name) is getattr(_frames, name), name
    assert {"SimConfig", "frames", "RestFault"} <= set(dir(framework.testing))


@pytest.mark.parametrize(
    "first", ["framework.adapters.insightsentry.sim", "framework.testing._pytest_plugin"]
)
def test_the_test_kit_and_the_simulator_import_in_either_order(first):
    # The simulator uses the test kit's market and the test kit re-exports the simulator: each
    # must import cleanly when a program imports it before the other.
    code = (
        f"import {first}\n"
        "import framework.testing as kit, framework.adapters.insightsentry.sim as sim\n"
        "assert kit.SimulatedServer is sim.SimulatedServer\n"
    )
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
