"""What the simulated InsightSentry server reports: per connection attempt and in total."""

from __future__ import annotations

import attrs


@attrs.frozen(slots=True, kw_only=True)
class ConnectionStatistics:
    """What happened on one connection attempt (times are ``trio.current_time()``).

    ``outcome`` while open is None; afterwards one of ``client_closed``, ``server_closed``,
    ``dropped``, ``shutdown``, ``rejected``, ``not_found``, ``silent``, ``handshake_timeout``.
    """

    connection_id: int
    path: str | None
    api_key: str | None
    is_open: bool
    outcome: str | None
    close_code: int | None
    frames_sent: int
    bytes_sent: int
    messages_received: int
    opened_at: float
    closed_at: float | None


@attrs.frozen(slots=True, kw_only=True)
class ServerStatistics:
    """Totals over all connection attempts so far."""

    connections_total: int
    connections_open: int
    frames_sent: int
    messages_received: int
