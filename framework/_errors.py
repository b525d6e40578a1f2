"""The tradewire error tree.

Every error tradewire raises on purpose derives from :class:`TradewireError`. Errors caused by
the user's own input also derive from ``ValueError`` so ordinary ``except ValueError`` works::

    TradewireError
    ├── ConfigError(ValueError)          a mistake in how tradewire was asked to run
    │   ├── ParameterError               unknown strategy parameter, value of the wrong type
    │   ├── StrategyLoadError            STRATEGY spec that cannot be imported
    │   └── SubscriptionError            a subscription that breaks a protocol rule
    ├── DataError(ValueError)            market data that cannot be trusted
    │   ├── InvalidEvent                 an event built with impossible values
    │   ├── BarFileError                 a bad row in a bar file (file, line, reason)
    │   ├── BarTableError                a bad row or column in Arrow data: a Parquet or
    │   │                                Feather file, a DataFrame, a Table (source, row, column,
    │   │                                row group and offset where known, reason)
    │   └── DecodeError                  a wire frame rejected by the codec
    ├── FeedError                        the live feed cannot go on
    │   ├── FeedConnectError             connect, TLS or upgrade failed
    │   │   └── FeedTLSError             the server's certificate did not verify
    │   ├── FeedTerminated               the server said stop (bad key, no entitlement)
    │   └── HistoryError                 a REST history request failed (``status``, if any)
    │       ├── HistoryAuthError         401/403: key refused or not entitled (never retried)
    │       ├── HistoryNotFound          404: unknown symbol or endpoint (never retried)
    │       └── HistoryUnavailable       429/5xx/transport/deadline, retries exhausted
    ├── RecordingError                   a recording cannot be written or read
    │   └── RecordingCorrupted           a damaged record in the middle of a file
    └── EngineError                      the engine was driven the wrong way
"""

from __future__ import annotations


class TradewireError(Exception):
    """Root of every error tradewire raises on purpose."""


class ConfigError(TradewireError, ValueError):
    """tradewire was asked to run in a way that cannot work."""


class ParameterError(ConfigError):
    """A strategy parameter is unknown or its value cannot be converted."""


class StrategyLoadError(ConfigError):
    """A ``module:Class`` or ``path.py:Class`` spec does not name a Strategy."""


class SubscriptionError(ConfigError):
    """A subscription breaks a protocol rule; raised before anything is sent."""


class DataError(TradewireError, ValueError):
    """Market data that cannot be trusted."""


class InvalidEvent(DataError):
    """An event was constructed with impossible values (NaN, negative price, high < low)."""


class BarFileError(DataError):
    """A row of a bar file was rejected; the message names file, line and reason."""

    def __init__(self, path: str, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


class BarTableError(DataError):
    """Bars in Arrow form (Parquet, Feather, a DataFrame, a Table) that cannot be read.

    One line: ``source: row 12 (row group 0, offset 12), column close: reason``. ``source`` is
    the file, or ``DataFrame`` / ``Table`` for data in memory; rows count from 0, as
    DataFrame positions do. ``row``, ``column``, ``row_group`` and ``offset`` are None when
    the reason concerns the whole source (a missing column, times without a zone, a file that
    is not Parquet).
    """

    def __init__(
        self,
        source: str,
        reason: str,
        *,
        row: int | None = None,
        column: str | None = None,
        row_group: int | None = None,
        offset: int | None = None,
    ) -> None:
        location = f" row {row}" if row is not None else ""
        if row is not None and row_group is not None:
            location += f" (row group {row_group}, offset {offset})"
        if column is not None:
            location += f"{',' if location else ''} column {column}"
        super().__init__(f"{source}:{location}: {reason}" if location else f"{source}: {reason}")
        self.source = source
        self.reason = reason
        self.row = row
        self.column = column
        self.row_group = row_group
        self.offset = offset


class DecodeError(DataError):
    """A frame from the wire was rejected; ``reason`` is a short stable label for counting."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class FeedError(TradewireError):
    """The live feed cannot go on."""


class FeedConnectError(FeedError):
    """Connecting, the TLS handshake or the WebSocket upgrade failed."""


class FeedTLSError(FeedConnectError):
    """The server's certificate did not verify; retrying will not help."""


class FeedTerminated(FeedError):
    """The server sent an error that needs the user's action (bad key, plan, entitlement)."""


class HistoryError(FeedError):
    """A request to the REST history API failed.

    ``status`` is the HTTP status of the last answer (None when there was none: a transport
    error or our deadline). Messages name the request and never contain the API key.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class HistoryAuthError(HistoryError):
    """HTTP 401/403: the key was refused or lacks the entitlement; retrying will not help."""


class HistoryNotFound(HistoryError):
    """HTTP 404: the symbol (or the endpoint) is unknown; retrying will not help."""


class HistoryUnavailable(HistoryError):
    """429, 5xx, transport errors or our own deadline, and the retries ran out."""


class RecordingError(TradewireError):
    """A recording cannot be written or read."""


class RecordingCorrupted(RecordingError):
    """A record in the middle of a recording is damaged; later records are not trusted."""


class EngineError(TradewireError):
    """The engine was used the wrong way (run twice, strategy registered twice, ...)."""
