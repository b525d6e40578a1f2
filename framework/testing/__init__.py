"""Test tools for tradewire users: a simulated InsightSentry server and a synthetic market."""

from ._market import SyntheticBar as SyntheticBar
from ._market import SyntheticMarket as SyntheticMarket
from ._market import SyntheticQuote as SyntheticQuote
from ._market import SyntheticTrade as SyntheticTrade
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

__all__ = [
    "DEFAULT_API_KEY",
    "ConnectionStatistics",
    "Fault",
    "FaultSpec",
    "Hostile",
    "ServerStatistics",
    "SimConfig",
    "SimulatedServer",
    "SyntheticBar",
    "SyntheticMarket",
    "SyntheticQuote",
    "SyntheticTrade",
    "open_simulated_server",
    "run_sim_server",
    "serve_forever",
]
