"""The words of the ``/live`` wire: the JSON keys of each frame kind, and the one frame that is
not JSON. Defined once, so the decoder (``_codec``) and the encoder (``_encode``) cannot drift
apart; the subscription message's keys live with its own encoder and parser
(``_subscriptions``).

Several kinds share a key: ``code`` names the stream of a series frame, the symbol of a quote
entry and the subscription an error is about; ``status`` is a quote's market session and an
event's state; ``delay_seconds`` is a quote's data delay and an error's wait before retrying.
"""

from __future__ import annotations

from typing import Final

#: The server's answer to a text ``ping``.
PONG_TEXT: Final = "pong"

# -- series frame (bars or ticks) ------------------------------------------------------------
CODE: Final = "code"
BAR_TYPE: Final = "bar_type"
#: Unix seconds: the last second the newest bar covers.
BAR_END: Final = "bar_end"
#: Unix milliseconds (series frames and quote envelopes).
LAST_UPDATE: Final = "last_update"
SERIES: Final = "series"

# -- one point of ``series`` -----------------------------------------------------------------
#: Unix seconds: when the bar opened, or when the trade happened.
TIME: Final = "time"
OPEN: Final = "open"
HIGH: Final = "high"
LOW: Final = "low"
CLOSE: Final = "close"
VOLUME: Final = "volume"
TRADE_ID: Final = "trade_id"

# -- quote envelope --------------------------------------------------------------------------
TOTAL_ITEMS: Final = "total_items"
DATA: Final = "data"

# -- one quote entry (besides ``code``), grouped by the checks their values get ------------------
QUOTE_PRICES: Final = frozenset(
    {"last_price", "bid", "ask", "prev_close_price", "open_price", "high_price", "low_price"}
)
QUOTE_SIZES: Final = frozenset({"bid_size", "ask_size", VOLUME, "market_cap"})
QUOTE_NUMBERS: Final = frozenset({"change", "change_percent"})
STATUS: Final = "status"
QUOTE_TEXTS: Final = frozenset({STATUS, "currency_code"})
#: Unix seconds of the last trade.
LP_TIME: Final = "lp_time"
DELAY_SECONDS: Final = "delay_seconds"
#: Every key of a quote entry but ``code``; one of them beside ``code`` marks a flat 2024 quote.
QUOTE_KEYS: Final = (
    QUOTE_PRICES | QUOTE_SIZES | QUOTE_NUMBERS | QUOTE_TEXTS | {LP_TIME, DELAY_SECONDS}
)

# -- heartbeat -------------------------------------------------------------------------------
#: Unix milliseconds, the server's clock; a heartbeat has no other key.
SERVER_TIME: Final = "server_time"

# -- event (newest servers) ------------------------------------------------------------------
EVENT: Final = "event"
SUBSCRIPTION_COUNT: Final = "subscription_count"

# -- status texts and errors -----------------------------------------------------------------
#: A status text, or a 2025 error text; the human text of a structured error.
MESSAGE: Final = "message"
#: The machine code of a structured error.
ERROR: Final = "error"
#: The symbol an error is about; servers have sent it as ``symbol`` or as ``code``.
SYMBOL: Final = "symbol"
ACTION: Final = "action"
RETRYABLE: Final = "retryable"
#: A second name for the wait before retrying (the larger of the two counts).
RETRY_AFTER_SECONDS: Final = "retry_after_seconds"
REFERENCE_ID: Final = "reference_id"
