"""Test tools for tradewire users: a simulated InsightSentry server, a synthetic market,
backtests that show what the strategy saw, a synchronous strategy harness, assertions, golden
files and Hypothesis generators. The pytest plugin (fixtures ``tradewire_backtest``,
``tradewire_golden``, ``sim_config``, ``sim_server``) is loaded through the ``pytest11`` entry
point; see ``docs/testing.md``.
"""

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

# REST fault knobs of the simulated server. Not in __all__ yet: the pinned export list in
# tests/testing/test_plugin_api.py is updated with the next API review.
from ._sim_rest import RestFault as RestFault
from ._sim_rest import RestFaultSpec as RestFaultSpec
from ._sim_rest import RestRequest as RestRequest
from ._sim_server import DEFAULT_API_KEY as DEFAULT_API_KEY
from ._sim_server import ConnectionStatistics as ConnectionStatistics
from ._sim_server import Fault as Fault
from ._sim_server import FaultSpec as FaultSpec
from ._sim_server import Hostile as Hostile
from ._sim_server import ServerStatistics as ServerStatistics
from ._sim_server import SimConfig as SimConfig
from ._sim_server import SimulatedServer as SimulatedServer
from ._sim_server import open_simulated_server as open_simulated_server
from ._sim_server import run_sim_server as run_sim_server
from ._sim_server import serve_forever as serve_forever

if TYPE_CHECKING:
    from ._generators import bars as bars
    from ._generators import frames as frames
    from ._generators import hostile_frames as hostile_frames
    from ._generators import quotes as quotes
    from ._generators import quotes_frame_text as quotes_frame_text
    from ._generators import series_frame_text as series_frame_text

#: Importing Hypothesis takes longer than the rest of this package, so the generators load on
#: first use (PEP 562): importing framework.testing for the simulated server stays cheap.
_GENERATORS = frozenset(
    {"bars", "frames", "hostile_frames", "quotes", "quotes_frame_text", "series_frame_text"}
)


def __getattr__(name: str) -> Any:
    if name in _GENERATORS:
        from . import _generators

        return getattr(_generators, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
