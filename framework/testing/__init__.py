"""Test tools for tradewire users: a synthetic market, backtests that show what the strategy
saw, a synchronous strategy harness, assertions, golden files and Hypothesis generators; and,
re-exported from :mod:`framework.adapters.insightsentry.sim` where users first found them, the
simulated InsightSentry server and its wire-frame generators. The pytest plugin (fixtures
``tradewire_backtest``, ``tradewire_golden``, ``sim_config``, ``sim_server``) is loaded
through the ``pytest11`` entry point; see ``docs/testing.md``.
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._assertions import assert_deterministic as assert_deterministic
from ._assertions import assert_deterministic_async as assert_deterministic_async
from ._assertions import assert_no_lookahead as assert_no_lookahead
from ._backtester import Backtester as Backtester
from ._backtester import Data as Data
from ._capture import CapturedEvents as CapturedEvents
from ._capture import Delivery as Delivery
from ._capture import capture_events as capture_events
from ._golden import GoldenFiles as GoldenFiles
from ._golden import assert_matches_golden as assert_matches_golden
from ._golden import write_golden as write_golden
from ._harness import StrategyHarness as StrategyHarness
from ._market import SyntheticBar as SyntheticBar
from ._market import SyntheticMarket as SyntheticMarket
from ._market import SyntheticQuote as SyntheticQuote
from ._market import SyntheticTrade as SyntheticTrade

if TYPE_CHECKING:
    from ..adapters.insightsentry.sim import DEFAULT_API_KEY as DEFAULT_API_KEY
    from ..adapters.insightsentry.sim import ConnectionStatistics as ConnectionStatistics
    from ..adapters.insightsentry.sim import Fault as Fault
    from ..adapters.insightsentry.sim import FaultSpec as FaultSpec
    from ..adapters.insightsentry.sim import Hostile as Hostile
    from ..adapters.insightsentry.sim import RestFault as RestFault
    from ..adapters.insightsentry.sim import RestFaultSpec as RestFaultSpec
    from ..adapters.insightsentry.sim import RestRequest as RestRequest
    from ..adapters.insightsentry.sim import ServerStatistics as ServerStatistics
    from ..adapters.insightsentry.sim import SimConfig as SimConfig
    from ..adapters.insightsentry.sim import SimulatedServer as SimulatedServer
    from ..adapters.insightsentry.sim import open_simulated_server as open_simulated_server
    from ..adapters.insightsentry.sim import run_sim_server as run_sim_server
    from ..adapters.insightsentry.sim import serve_forever as serve_forever
    from ..adapters.insightsentry.sim._frames import frames as frames
    from ..adapters.insightsentry.sim._frames import hostile_frames as hostile_frames
    from ..adapters.insightsentry.sim._frames import quotes_frame_text as quotes_frame_text
    from ..adapters.insightsentry.sim._frames import series_frame_text as series_frame_text
    from ._generators import bars as bars
    from ._generators import quotes as quotes

_SIMULATOR = "..adapters.insightsentry.sim"
_FRAMES = "..adapters.insightsentry.sim._frames"
_GENERATORS = "._generators"

#: Names loaded on first use (PEP 562), and the module each comes from. Importing Hypothesis
#: takes longer than the rest of this package, so the generators wait until asked for; the
#: simulated server lives with its vendor's adapter, which imports this package's market, so
#: importing it here eagerly would make the two packages wait on each other.
_LAZY = {
    "DEFAULT_API_KEY": _SIMULATOR,
    "ConnectionStatistics": _SIMULATOR,
    "Fault": _SIMULATOR,
    "FaultSpec": _SIMULATOR,
    "Hostile": _SIMULATOR,
    "RestFault": _SIMULATOR,
    "RestFaultSpec": _SIMULATOR,
    "RestRequest": _SIMULATOR,
    "ServerStatistics": _SIMULATOR,
    "SimConfig": _SIMULATOR,
    "SimulatedServer": _SIMULATOR,
    "open_simulated_server": _SIMULATOR,
    "run_sim_server": _SIMULATOR,
    "serve_forever": _SIMULATOR,
    "frames": _FRAMES,
    "hostile_frames": _FRAMES,
    "quotes_frame_text": _FRAMES,
    "series_frame_text": _FRAMES,
    "bars": _GENERATORS,
    "quotes": _GENERATORS,
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "DEFAULT_API_KEY",
    "Backtester",
    "CapturedEvents",
    "ConnectionStatistics",
    "Data",
    "Delivery",
    "Fault",
    "FaultSpec",
    "GoldenFiles",
    "Hostile",
    "RestFault",
    "RestFaultSpec",
    "RestRequest",
    "ServerStatistics",
    "SimConfig",
    "SimulatedServer",
    "StrategyHarness",
    "SyntheticBar",
    "SyntheticMarket",
    "SyntheticQuote",
    "SyntheticTrade",
    "assert_deterministic",
    "assert_deterministic_async",
    "assert_matches_golden",
    "assert_no_lookahead",
    "bars",
    "capture_events",
    "frames",
    "hostile_frames",
    "open_simulated_server",
    "quotes",
    "quotes_frame_text",
    "run_sim_server",
    "series_frame_text",
    "serve_forever",
    "write_golden",
]
