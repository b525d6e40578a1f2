"""The simulated InsightSentry server: a real WebSocket (and REST) server on localhost that
speaks the vendor's protocol from a seeded synthetic market, with every misbehaviour a client
must survive as a fault to set or inject. See :class:`SimulatedServer`.

- ``_config``: :class:`SimConfig`, the faults, what is kept of REST requests (plain values).
- ``_server``: :class:`SimulatedServer`, :func:`open_simulated_server`, :func:`serve_forever`,
  :func:`run_sim_server`.
- ``_connection``: serving one WebSocket connection; ``_subscribe``: reading its subscription
  messages; ``_data_frames``: which data frames its subscriptions call for; ``_wire``: the
  frame texts; ``_stream``: a socket that can fall silent or be dropped.
- ``_rest``: the REST side (``/series``, ``/history``).
- ``_frames``: Hypothesis generators of wire frames (loaded on first use, with Hypothesis).

``framework.testing`` re-exports these names, where users first found them.
"""

from ._config import DEFAULT_API_KEY as DEFAULT_API_KEY
from ._config import Fault as Fault
from ._config import FaultSpec as FaultSpec
from ._config import Hostile as Hostile
from ._config import RestFault as RestFault
from ._config import RestFaultSpec as RestFaultSpec
from ._config import RestRequest as RestRequest
from ._config import SimConfig as SimConfig
from ._server import SimulatedServer as SimulatedServer
from ._server import open_simulated_server as open_simulated_server
from ._server import run_sim_server as run_sim_server
from ._server import serve_forever as serve_forever
from ._statistics import ConnectionStatistics as ConnectionStatistics
from ._statistics import ServerStatistics as ServerStatistics

__all__ = [
    "DEFAULT_API_KEY",
    "ConnectionStatistics",
    "Fault",
    "FaultSpec",
    "Hostile",
    "RestFault",
    "RestFaultSpec",
    "RestRequest",
    "ServerStatistics",
    "SimConfig",
    "SimulatedServer",
    "open_simulated_server",
    "run_sim_server",
    "serve_forever",
]
