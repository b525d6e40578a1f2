"""tradewire: write a strategy once; backtest it, replay recorded sessions, paper-trade it live.

The public API is re-exported here; implementation lives in private modules.

What a strategy module needs (events, ``Strategy``, ``Param``, errors) is imported eagerly. The
engine, feeds and results load on first use: they pull in Trio, which alone costs more than
the rest of the package, and a strategy module, ``tradewire list`` or ``--help`` never need it.
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._bus import EventBus as EventBus
from ._clock import Clock as Clock
from ._clock import LiveClock as LiveClock
from ._clock import SimulatedClock as SimulatedClock
from ._errors import BarFileError as BarFileError
from ._errors import BarTableError as BarTableError
from ._errors import ConfigError as ConfigError
from ._errors import DataError as DataError
from ._errors import DecodeError as DecodeError
from ._errors import EngineError as EngineError
from ._errors import FeedConnectError as FeedConnectError
from ._errors import FeedError as FeedError
from ._errors import FeedTerminated as FeedTerminated
from ._errors import FeedTLSError as FeedTLSError
from ._errors import HistoryAuthError as HistoryAuthError
from ._errors import HistoryError as HistoryError
from ._errors import HistoryNotFound as HistoryNotFound
from ._errors import HistoryUnavailable as HistoryUnavailable
from ._errors import InvalidEvent as InvalidEvent
from ._errors import ParameterError as ParameterError
from ._errors import RecordingCorrupted as RecordingCorrupted
from ._errors import RecordingError as RecordingError
from ._errors import StrategyLoadError as StrategyLoadError
from ._errors import SubscriptionError as SubscriptionError
from ._errors import TradewireError as TradewireError
from ._events import Bar as Bar
from ._events import BarGap as BarGap
from ._events import BarUpdate as BarUpdate
from ._events import DataRejected as DataRejected
from ._events import Event as Event
from ._events import FeedConnected as FeedConnected
from ._events import FeedDisconnected as FeedDisconnected
from ._events import FeedResumed as FeedResumed
from ._events import FeedStale as FeedStale
from ._events import OrderAccepted as OrderAccepted
from ._events import OrderCancelled as OrderCancelled
from ._events import OrderEvent as OrderEvent
from ._events import OrderExpired as OrderExpired
from ._events import OrderFilled as OrderFilled
from ._events import OrderModified as OrderModified
from ._events import OrderModifyRejected as OrderModifyRejected
from ._events import OrderRejected as OrderRejected
from ._events import OrderSide as OrderSide
from ._events import Quote as Quote
from ._events import TimerFired as TimerFired
from ._events import TradingHalted as TradingHalted
from ._events import TradingResumed as TradingResumed
from ._events import WarmupCompleted as WarmupCompleted
from ._events import WarmupStarted as WarmupStarted
from ._history import BarWindow as BarWindow
from ._intervals import Interval as Interval
from ._params import Param as Param
from ._plots import PlotSeries as PlotSeries
from ._plugins import load_strategy_class as load_strategy_class
from ._strategy import Strategy as Strategy

if TYPE_CHECKING:
    from ._backtest import backtest as backtest
    from ._backtest import backtest_async as backtest_async
    from ._backtest import feeds_for as feeds_for
    from ._engine import Engine as Engine
    from ._engine import EngineStatistics as EngineStatistics
    from ._engine import run as run
    from .feeds import BarFileFeed as BarFileFeed
    from .feeds import Feed as Feed
    from .feeds import ListFeed as ListFeed
    from .results import RunResult as RunResult

#: Public names loaded on first access, and the module each comes from.
_LAZY = {
    "backtest": "._backtest",
    "backtest_async": "._backtest",
    "feeds_for": "._backtest",
    "Engine": "._engine",
    "EngineStatistics": "._engine",
    "run": "._engine",
    "RunResult": ".results",
    "BarFileFeed": ".feeds",
    "Feed": ".feeds",
    "ListFeed": ".feeds",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'framework' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"

__all__ = [
    "Bar",
    "BarFileError",
    "BarFileFeed",
    "BarGap",
    "BarTableError",
    "BarUpdate",
    "BarWindow",
    "Clock",
    "ConfigError",
    "DataError",
    "DataRejected",
    "DecodeError",
    "Engine",
    "EngineError",
    "EngineStatistics",
    "Event",
    "EventBus",
    "Feed",
    "FeedConnectError",
    "FeedConnected",
    "FeedDisconnected",
    "FeedError",
    "FeedResumed",
    "FeedStale",
    "FeedTLSError",
    "FeedTerminated",
    "HistoryAuthError",
    "HistoryError",
    "HistoryNotFound",
    "HistoryUnavailable",
    "Interval",
    "InvalidEvent",
    "ListFeed",
    "LiveClock",
    "OrderAccepted",
    "OrderCancelled",
    "OrderEvent",
    "OrderExpired",
    "OrderFilled",
    "OrderModified",
    "OrderModifyRejected",
    "OrderRejected",
    "OrderSide",
    "Param",
    "ParameterError",
    "PlotSeries",
    "Quote",
    "RecordingCorrupted",
    "RecordingError",
    "RunResult",
    "SimulatedClock",
    "Strategy",
    "StrategyLoadError",
    "SubscriptionError",
    "TimerFired",
    "TradewireError",
    "TradingHalted",
    "TradingResumed",
    "WarmupCompleted",
    "WarmupStarted",
    "backtest",
    "backtest_async",
    "feeds_for",
    "load_strategy_class",
    "run",
]
