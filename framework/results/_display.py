"""How a statistic is shown: its label, its unit and the text of its value.

The backtest summary, the sweep and walk-forward tables, the HTML report and a notebook's view
of a result all format statistics here, so one figure reads the same wherever it appears
(``-1.03%`` in each, not ``-0.0103`` in one of them). Units:

- percent, two decimals: fractions (returns, volatility, drawdown, win rate, exposure);
- two decimals: ratios (Sharpe, Sortino, profit factor) and money;
- whole numbers with thousands separators: counts;
- days, hours and minutes: durations (``6d 13h 9m``);
- four decimals under 1,000 for a statistic of unknown unit (a custom one).

Undefined figures (None) read ``n/a``. The text is plain: callers writing HTML escape it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import attrs

Unit = Literal["percent", "ratio", "money", "count", "duration", "number"]


@attrs.frozen(slots=True)
class StatisticLabel:
    """What a reader sees of a statistic: a label and the unit its value is shown in."""

    label: str
    unit: Unit


#: Every statistic a run produces (see framework/portfolio/_statistics.py and RunResult),
#: plus ``final_equity``, which rankings and reports treat as one.
STATISTIC_LABELS: dict[str, StatisticLabel] = {
    "final_equity": StatisticLabel("Final equity", "money"),
    "total_return": StatisticLabel("Total return", "percent"),
    "annualized_return": StatisticLabel("Annualised return", "percent"),
    "buy_and_hold_return": StatisticLabel("Buy & hold return", "percent"),
    "buy_and_hold_by_symbol": StatisticLabel("Buy & hold by symbol", "percent"),
    "volatility": StatisticLabel("Volatility (annualised)", "percent"),
    "sharpe": StatisticLabel("Sharpe ratio", "ratio"),
    "sortino": StatisticLabel("Sortino ratio", "ratio"),
    "calmar": StatisticLabel("Calmar ratio", "ratio"),
    "max_drawdown": StatisticLabel("Max drawdown", "percent"),
    "max_drawdown_duration_s": StatisticLabel("Max drawdown duration", "duration"),
    "trades": StatisticLabel("Trades", "count"),
    "win_rate": StatisticLabel("Win rate", "percent"),
    "profit_factor": StatisticLabel("Profit factor", "ratio"),
    "sqn": StatisticLabel("SQN", "ratio"),
    "expectancy": StatisticLabel("Expectancy (mean trade return)", "percent"),
    "avg_trade_pnl": StatisticLabel("Average trade PnL", "money"),
    "avg_win": StatisticLabel("Average winning trade", "money"),
    "avg_loss": StatisticLabel("Average losing trade", "money"),
    "best_trade": StatisticLabel("Best trade", "percent"),
    "worst_trade": StatisticLabel("Worst trade", "percent"),
    "best_trade_pnl": StatisticLabel("Best trade PnL", "money"),
    "worst_trade_pnl": StatisticLabel("Worst trade PnL", "money"),
    "max_consecutive_losses": StatisticLabel("Most losing trades in a row", "count"),
    "avg_trade_duration_s": StatisticLabel("Average trade duration", "duration"),
    "max_trade_duration_s": StatisticLabel("Longest trade", "duration"),
    "exposure_time": StatisticLabel("Exposure time", "percent"),
    "fills": StatisticLabel("Fills", "count"),
    "commissions": StatisticLabel("Commissions", "money"),
    "intrabar_guess_fills": StatisticLabel("Fills on an intra-bar guess", "count"),
    "orders": StatisticLabel("Orders", "count"),
    "orders_rejected": StatisticLabel("Orders rejected", "count"),
    "orders_cancelled": StatisticLabel("Orders cancelled", "count"),
    "orders_expired": StatisticLabel("Orders expired", "count"),
    "benchmark": StatisticLabel("Benchmark", "number"),
    "benchmark_return": StatisticLabel("Benchmark return (buy & hold)", "percent"),
    "alpha": StatisticLabel("Alpha vs benchmark (annualised)", "percent"),
    "beta": StatisticLabel("Beta vs benchmark", "ratio"),
}


def statistic_label(name: str) -> StatisticLabel:
    """The label and unit of ``name``. A statistic missing from :data:`STATISTIC_LABELS`
    (a custom one) still gets a readable label: ``_s`` marks a duration in seconds."""
    known = STATISTIC_LABELS.get(name)
    if known is not None:
        return known
    if name.endswith("_s"):
        return StatisticLabel(_humanise(name.removesuffix("_s")), "duration")
    return StatisticLabel(_humanise(name), "number")


def format_statistic(name: str, value: Any) -> str:
    """``value`` of the statistic ``name`` as text, in the statistic's unit."""
    if value is None:
        return "n/a"
    if isinstance(value, Mapping):  # one figure per key: the buy & hold of each symbol
        return ", ".join(f"{key} {format_statistic(name, v)}" for key, v in value.items())
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    unit = statistic_label(name).unit
    if unit == "percent":
        return format_percent(value)
    if unit == "duration":
        return format_duration(value)
    if unit == "count" and (isinstance(value, int) or float(value).is_integer()):
        return f"{int(value):,}"
    if isinstance(value, int):
        return f"{value:,}"
    if unit == "number" and abs(value) < 1_000:
        return f"{value:,.4f}"  # unknown scale: keep small values readable
    return f"{value:,.2f}"


def format_percent(fraction: float | None) -> str:
    """A fraction as a percentage with two decimals: 0.0878 → ``8.78%``."""
    return "n/a" if fraction is None else f"{fraction * 100:,.2f}%"


def format_duration(seconds: float | None) -> str:
    """Seconds as the two or three largest units: ``6d 13h 9m``, ``2h 5m``, ``4m 30s``."""
    if seconds is None:
        return "n/a"
    if not math.isfinite(seconds):
        return str(seconds)
    total = round(seconds)
    sign = "-" if total < 0 else ""
    days, rest = divmod(abs(total), 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days:,}d {hours}h {minutes}m"
    if hours:
        return f"{sign}{hours}h {minutes}m"
    if minutes:
        return f"{sign}{minutes}m {secs}s"
    return f"{sign}{secs}s"


def _humanise(name: str) -> str:
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]
