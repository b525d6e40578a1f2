"""A live terminal view of a paper or recording session (rich), refreshed twice a second."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import trio

if TYPE_CHECKING:
    from .._engine import Engine
    from ..adapters.insightsentry import InsightSentryFeed

REFRESH_S = 0.5


async def show_live_view(engine: Engine, feed: InsightSentryFeed) -> None:
    """Render connection state, messages/s, last prices, positions and PnL until cancelled."""
    from rich.console import Group
    from rich.live import Live
    from rich.table import Table

    last_frames, last_time = 0, time.monotonic()
    with Live(auto_refresh=False, transient=False) as live:
        while True:
            stats = feed.statistics()
            now = time.monotonic()
            rate = (stats.frames - last_frames) / max(now - last_time, 1e-9)
            last_frames, last_time = stats.frames, now
            portfolio = engine.portfolio
            head = Table.grid(padding=(0, 2))
            head.add_row(
                f"feed [bold]{stats.state}[/]",
                f"connects {stats.connects}",
                f"frames {stats.frames:,}",
                f"{rate:,.0f} msg/s",
                f"rejected {sum(stats.processor.rejected.values()):,}",
            )
            equity = portfolio.equity()
            head.add_row(
                f"equity {equity:,.2f}",
                f"PnL {equity - portfolio.start_cash:+,.2f}",
                f"fills {len(portfolio.fills):,}",
                f"events {engine.statistics().events:,}",
                "",
            )
            prices = Table("symbol", "last", "position", "avg price", "unrealised")
            for symbol, price in sorted(portfolio.last_price.items()):
                pos = portfolio.position(symbol)
                prices.add_row(
                    symbol,
                    f"{price:,.2f}",
                    f"{pos.qty:g}",
                    f"{pos.avg_price:,.2f}" if pos.qty else "",
                    f"{pos.unrealized_pnl(price):+,.2f}" if pos.qty else "",
                )
            live.update(Group(head, prices), refresh=True)
            await trio.sleep(REFRESH_S)
