"""Small builders for hand-written test data."""

from __future__ import annotations

from typing import Any

import trio

from framework import Bar, OrderFilled, OrderSide, Quote

MINUTE = 60_000_000_000
T0 = 1_704_205_800 * 1_000_000_000  # 2024-01-02T14:30:00Z


def bar(
    i: int,
    close: float,
    *,
    symbol: str = "AAPL",
    open: float | None = None,
    high: float | None = None,
    low: float | None = None,
    volume: float = 1_000.0,
) -> Bar:
    """The i-th one-minute bar after T0; OHLC default around ``close``."""
    o = close if open is None else open
    h = max(o, close) if high is None else high
    lo = min(o, close) if low is None else low
    ts = T0 + i * MINUTE
    return Bar(
        symbol=symbol,
        interval="1m",
        ts_open=ts,
        open=o,
        high=h,
        low=lo,
        close=close,
        volume=volume,
        ts_event=ts + MINUTE,
        ts_recv=ts + MINUTE,
    )


def quote(i: int, bid: float, ask: float, *, symbol: str = "AAPL") -> Quote:
    ts = T0 + i * MINUTE
    return Quote(
        symbol=symbol, bid=bid, ask=ask, bid_size=1.0, ask_size=1.0, ts_event=ts, ts_recv=ts
    )


def fill(
    side: OrderSide,
    qty: float,
    price: float,
    ts: int = 0,
    symbol: str = "X",
    *,
    commission: float = 0.0,
) -> OrderFilled:
    """A fill of order 1 at time ``ts`` (ns)."""
    return OrderFilled(
        order_id=1,
        symbol=symbol,
        side=side,
        qty=qty,
        price=price,
        commission=commission,
        ts_event=ts,
        ts_recv=ts,
    )


def write_csv(path: str, rows: list[str], header: str = "time,open,high,low,close,volume") -> str:
    with open(path, "w", encoding="utf-8") as out:
        out.write(header + "\n")
        for row in rows:
            out.write(row + "\n")
    return path


async def collect(feed: Any) -> list[Any]:
    """Every event a replay feed sends, in order, read as the engine would."""
    send, receive = trio.open_memory_channel[Any](4)
    out: list[Any] = []
    async with trio.open_nursery() as nursery:
        await nursery.start(feed.run, send)
        async with receive:
            async for batch in receive:
                out.extend(batch)
    return out


def bars_table(n: int = 5, **columns: Any) -> Any:
    """``n`` one-minute bars from T0 as a pyarrow Table, times in Unix seconds; the columns
    given replace the plain ones."""
    import pyarrow as pa

    start = T0 // 1_000_000_000
    plain: dict[str, Any] = {
        "time": [start + 60 * i for i in range(n)],
        "open": [10.0] * n,
        "high": [11.0] * n,
        "low": [9.0] * n,
        "close": [10.5] * n,
        "volume": [100.0] * n,
    }
    plain.update(columns)
    return pa.table(plain)
