"""Orders and the simulated broker that fills them."""

from ._orders import Order as Order
from ._orders import OrderStatus as OrderStatus
from ._orders import OrderType as OrderType
from ._simulated_broker import SimulatedBroker as SimulatedBroker

__all__ = ["Order", "OrderStatus", "OrderType", "SimulatedBroker"]
