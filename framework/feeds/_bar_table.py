"""Bars as an Arrow table: the one columnar form tradewire reads and writes.

Parquet and Feather files, pandas and polars frames, the catalog and exported recordings all
meet in :data:`BAR_SCHEMA`, one row per final bar::

    symbol    string                the instrument, e.g. NASDAQ:AAPL
    interval  string                the bar size label (1m, 1h, 1D; see framework.Interval)
    time      timestamp[ns, UTC]    the bar's open time
    open, high, low, close, volume  float64

As in bar files, a bar becomes final, and is delivered, at its open time plus its interval, so
the table needs no second time column and nothing in it can look ahead. pyarrow is imported
with this module; pandas and polars never are (they read Arrow tables without a copy).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa

from .._errors import ConfigError
from .._events import Bar, bar_unchecked
from .._intervals import Interval
from .._time import NANOS_PER_SECOND

BAR_SCHEMA = pa.schema(
    [
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("interval", pa.string(), nullable=False),
        pa.field("time", pa.timestamp("ns", tz="UTC"), nullable=False),
        pa.field("open", pa.float64(), nullable=False),
        pa.field("high", pa.float64(), nullable=False),
        pa.field("low", pa.float64(), nullable=False),
        pa.field("close", pa.float64(), nullable=False),
        pa.field("volume", pa.float64(), nullable=False),
    ]
)

#: Compression of the Parquet files tradewire writes (catalog, history, export): zstd reads as
#: fast as snappy and stores bars in less space; pandas, polars, DuckDB and NautilusTrader all
#: read it.
COMPRESSION = "zstd"

#: Bars converted per record batch when building a table from bar objects.
_BATCH_ROWS = 65_536


def bars_to_table(bars: Iterable[Bar]) -> pa.Table:
    """A :data:`BAR_SCHEMA` table of ``bars``, in the order given."""
    batches = [_batch(chunk) for chunk in _chunked(bars)]
    return pa.Table.from_batches(batches, schema=BAR_SCHEMA)


def table_to_bars(table: pa.Table | pa.RecordBatch) -> Iterator[Bar]:
    """The bars of a table already in :data:`BAR_SCHEMA` and already checked (values valid,
    times in order): the reader that checked it is the one that words errors."""
    steps: dict[str, int] = {}
    for batch in table.to_batches() if isinstance(table, pa.Table) else [table]:
        columns = batch.to_pydict()
        times = batch.column("time").cast(pa.int64()).to_pylist()
        for symbol, label, ts, o, h, low, c, v in zip(
            columns["symbol"],
            columns["interval"],
            times,
            columns["open"],
            columns["high"],
            columns["low"],
            columns["close"],
            columns["volume"],
            strict=True,
        ):
            step = steps.get(label)
            if step is None:
                step = steps[label] = interval_nanos(label)
            yield bar_unchecked(symbol, label, ts, o, h, low, c, v, ts + step, ts + step)


def interval_nanos(label: str) -> int:
    """The length in ns of a fixed bar size label; ConfigError for months, ticks or junk."""
    try:
        interval = Interval.parse(label)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if interval.nanos is None:
        raise ConfigError(f"bar tables need a fixed bar size, not {label}")
    return interval.nanos


#: Units a detected bar size is labelled in, largest first, with their length in seconds.
_LABEL_UNITS = (
    ("week", 7 * 86_400),
    ("day", 86_400),
    ("hour", 3_600),
    ("minute", 60),
    ("second", 1),
)


def interval_label(step: int) -> str:
    """The label of a bar size of ``step`` ns, in the largest unit that divides it (``1D``,
    ``90m``); ``{step}ns`` when no whole second does, as the bar file reader labels it."""
    seconds, remainder = divmod(step, NANOS_PER_SECOND)
    if remainder == 0 and seconds > 0:
        for unit, unit_seconds in _LABEL_UNITS:
            if seconds % unit_seconds == 0:
                return Interval(unit, seconds // unit_seconds).label
    return f"{step}ns"


def _chunked(bars: Iterable[Bar]) -> Iterator[list[Bar]]:
    chunk: list[Bar] = []
    for bar in bars:
        chunk.append(bar)
        if len(chunk) == _BATCH_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _batch(bars: list[Bar]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [
            pa.array([b.symbol for b in bars], pa.string()),
            pa.array([b.interval for b in bars], pa.string()),
            pa.array([b.ts_open for b in bars], pa.int64()).cast(BAR_SCHEMA.field("time").type),
            pa.array([b.open for b in bars], pa.float64()),
            pa.array([b.high for b in bars], pa.float64()),
            pa.array([b.low for b in bars], pa.float64()),
            pa.array([b.close for b in bars], pa.float64()),
            pa.array([b.volume for b in bars], pa.float64()),
        ],
        schema=BAR_SCHEMA,
    )
