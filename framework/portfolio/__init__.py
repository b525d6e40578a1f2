"""Positions, cash, PnL, round-trip trades and statistics."""

from ._portfolio import Portfolio as Portfolio
from ._portfolio import Position as Position
from ._records import Records as Records
from ._statistics import compute_statistics as compute_statistics
from ._strategy_books import StrategyBooks as StrategyBooks
from ._trades import Trade as Trade

__all__ = ["Portfolio", "Position", "Records", "StrategyBooks", "Trade", "compute_statistics"]
