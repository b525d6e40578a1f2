"""A replay feed's final bars and quotes as Arrow tables: what ``catalog import`` stores from
bar files and recordings, and what ``tradewire export`` writes.

The feed is run as a backtest runs it (its own reader, codec and checks, a bounded channel),
so the tables hold exactly the events a replay delivers, in the order delivered. Events are
turned into columns :data:`BATCH_ROWS` at a time: memory holds the columns, never more than
one batch of event objects.

:data:`QUOTE_SCHEMA` is one row per :class:`~framework.Quote`::

    symbol      string
    time        timestamp[ns, UTC]   ts_event: when the quote was current
    recv_time   timestamp[ns, UTC]   ts_recv: when tradewire received it
    bid, ask, bid_size, ask_size, last_price, last_size, volume   float64, null if not sent
    status      string               the venue's session label (OPEN, CLOSED...), or null
    last_time   timestamp[ns, UTC]   ts_last: time of the last trade, or null

Bars are in :data:`~framework.feeds._bar_table.BAR_SCHEMA`, which keeps the open time only: a
bar's delivery time is its open plus its size, as in every bar table.
"""

from __future__ import annotations

from typing import Any

import attrs
import pyarrow as pa
import trio

from .._events import Bar, Quote
from ..feeds._bar_table import BAR_SCHEMA, bars_to_table
from ..feeds._feed import EventBatch

#: Events converted to columns at a time.
BATCH_ROWS = 65_536
#: Batches in flight between the feed and the table builder: the feed's read-ahead.
CHANNEL_SIZE = 4

_TIME = pa.timestamp("ns", tz="UTC")
_PRICES = ("bid", "ask", "bid_size", "ask_size", "last_price", "last_size", "volume")

QUOTE_SCHEMA = pa.schema(
    [
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("time", _TIME, nullable=False),
        pa.field("recv_time", _TIME, nullable=False),
        *(pa.field(name, pa.float64()) for name in _PRICES),
        pa.field("status", pa.string()),
        pa.field("last_time", _TIME),
    ]
)


@attrs.frozen(slots=True, kw_only=True)
class ReplayTables:
    """The final bars (:data:`BAR_SCHEMA`) and quotes (:data:`QUOTE_SCHEMA`) of one replay,
    and the feed after its run (for its statistics)."""

    bars: pa.Table
    quotes: pa.Table
    feed: Any


def replay_tables(feed: Any) -> ReplayTables:
    """Run ``feed`` (a replay feed) to its end and collect what it delivered; its errors
    propagate as they would from a backtest."""
    bars: list[pa.RecordBatch] = []
    quotes: list[pa.RecordBatch] = []
    pending_bars: list[Bar] = []
    pending_quotes: list[Quote] = []

    def flush(final: bool) -> None:
        if pending_bars and (final or len(pending_bars) >= BATCH_ROWS):
            bars.extend(bars_to_table(pending_bars).to_batches())
            pending_bars.clear()
        if pending_quotes and (final or len(pending_quotes) >= BATCH_ROWS):
            quotes.append(quotes_batch(pending_quotes))
            pending_quotes.clear()

    async def drain() -> None:
        send, receive = trio.open_memory_channel[EventBatch](CHANNEL_SIZE)
        async with trio.open_nursery() as nursery:
            await nursery.start(feed.run, send)
            async with receive:
                async for batch in receive:
                    for event in batch:
                        # Exact types: BarUpdate (a bar still in progress) is not a final bar.
                        if type(event) is Bar:
                            pending_bars.append(event)
                        elif type(event) is Quote:
                            pending_quotes.append(event)
                    flush(final=False)
        flush(final=True)

    trio.run(drain)
    return ReplayTables(
        bars=pa.Table.from_batches(bars, schema=BAR_SCHEMA),
        quotes=pa.Table.from_batches(quotes, schema=QUOTE_SCHEMA),
        feed=feed,
    )


def quotes_batch(quotes: list[Quote]) -> pa.RecordBatch:
    """:data:`QUOTE_SCHEMA` columns of ``quotes``, in the order given."""
    columns = [
        pa.array([q.symbol for q in quotes], pa.string()),
        pa.array([q.ts_event for q in quotes], pa.int64()).cast(_TIME),
        pa.array([q.ts_recv for q in quotes], pa.int64()).cast(_TIME),
        *(pa.array([getattr(q, name) for q in quotes], pa.float64()) for name in _PRICES),
        pa.array([q.status for q in quotes], pa.string()),
        pa.array([q.ts_last for q in quotes], pa.int64()).cast(_TIME),
    ]
    return pa.RecordBatch.from_arrays(columns, schema=QUOTE_SCHEMA)
