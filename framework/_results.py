"""The result of a run: what ``--json`` writes and what tests compare."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import orjson

from ._events import OrderFilled
from ._time import iso_from_nanos
from .portfolio import Trade, compute_statistics

if TYPE_CHECKING:
    from ._engine import Engine


@attrs.frozen(slots=True, kw_only=True)
class RunResult:
    """Fills, round-trip trades, equity curve and statistics of one finished run."""

    strategy: str
    params: dict[str, Any]
    start_cash: float
    final_equity: float
    bars: int
    events: int
    fills: tuple[OrderFilled, ...]
    trades: tuple[Trade, ...]
    equity_ts: tuple[int, ...] = attrs.field(repr=False)
    equity: tuple[float, ...] = attrs.field(repr=False)
    stats: dict[str, Any]
    data_issues: dict[str, Any] = attrs.Factory(dict)

    @classmethod
    def from_engine(cls, engine: Engine, *, data_issues: dict[str, Any] | None = None) -> RunResult:
        portfolio = engine.portfolio
        times, values = portfolio.equity_curve
        counts = engine.statistics()
        strategy = engine.strategies[0] if engine.strategies else None
        return cls(
            strategy=strategy.strategy_id if strategy else "",
            params=strategy.params if strategy else {},
            start_cash=portfolio.start_cash,
            final_equity=portfolio.equity(),
            bars=counts.bars,
            events=counts.events,
            fills=tuple(portfolio.fills),
            trades=tuple(portfolio.closed_trades),
            equity_ts=tuple(times),
            equity=tuple(values),
            stats=compute_statistics(
                start_cash=portfolio.start_cash,
                equity_ts=times,
                equity=values,
                trades=portfolio.closed_trades,
                fills=portfolio.fills,
                commissions=portfolio.commissions,
            ),
            data_issues=data_issues or {},
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; keys and list order are fixed, so equal runs give equal bytes."""
        return {
            "strategy": self.strategy,
            "params": self.params,
            "start_cash": self.start_cash,
            "final_equity": self.final_equity,
            "bars": self.bars,
            "fills": [fill_to_dict(f) for f in self.fills],
            "trades": [trade_to_dict(t) for t in self.trades],
            "stats": self.stats,
            "data_issues": self.data_issues,
        }

    def to_json(self) -> bytes:
        """Indented JSON bytes of :meth:`to_dict`, ending with a newline."""
        return orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2) + b"\n"

    def summary(self) -> str:
        """A few lines for a terminal."""
        stats = self.stats
        ret = stats["total_return"]
        return "\n".join(
            [
                f"strategy       {self.strategy} {_format_params(self.params)}",
                f"bars           {self.bars:,}",
                f"fills          {len(self.fills):,}",
                f"trades         {len(self.trades):,}",
                f"final equity   {self.final_equity:,.2f} (start {self.start_cash:,.2f})",
                f"return         {ret * 100:.2f}%" if ret is not None else "return         n/a",
                f"max drawdown   {stats['max_drawdown'] * 100:.2f}%",
            ]
        )


def fill_to_dict(fill: OrderFilled) -> dict[str, Any]:
    return {
        "time": iso_from_nanos(fill.ts_event),
        "order_id": fill.order_id,
        "symbol": fill.symbol,
        "side": fill.side.value,
        "qty": fill.qty,
        "price": fill.price,
        "commission": fill.commission,
    }


def trade_to_dict(trade: Trade) -> dict[str, Any]:
    return {
        "symbol": trade.symbol,
        "side": "long" if trade.side > 0 else "short",
        "qty": trade.qty,
        "entry_time": iso_from_nanos(trade.entry_time),
        "entry_price": trade.entry_price,
        "exit_time": iso_from_nanos(trade.exit_time),
        "exit_price": trade.exit_price,
        "pnl": trade.pnl,
    }


def _format_params(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items())
