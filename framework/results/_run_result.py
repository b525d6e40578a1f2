"""The result of a run: what ``--json`` writes, what the summary prints and what tests compare.

Statistics are defined in docs/statistics.md. Fills and trades can also be written as CSV
(:meth:`RunResult.write_fills_csv`, :meth:`RunResult.write_trades_csv`). The JSON keeps every
float exact, as the record that golden files compare byte for byte; the CSV files, read by
people and spreadsheets, round the float noise out of their money columns (:func:`csv_money`).
The records are also Arrow tables (:attr:`RunResult.arrow`, exact like the JSON), for pandas,
polars and Parquet (:mod:`framework.results._tables`, :mod:`framework.results._parquet`).

A result of a run keeps its fills, trades and orders as columns
(:class:`~framework.portfolio.Records`, shared with the portfolio and the broker, not copied);
the JSON, CSV and Arrow writers read the columns without building the objects.
"""

from __future__ import annotations

import collections
import csv
import enum
import functools
import html
import importlib
import math
import operator
import os
import reprlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from .._events import OrderFilled
from .._time import NANOS_PER_SECOND, iso_from_nanos
from ..execution import Order, OrderStatus
from ..portfolio import Portfolio, Records, Trade, compute_statistics
from ..portfolio._benchmark import BenchmarkPrices
from ._display import format_statistic as _stat
from ._display import statistic_label
from ._equity_svg import equity_svg

if TYPE_CHECKING:
    import pandas  # type: ignore[import-untyped, unused-ignore]  # no stubs in our extras
    import polars

    from .._engine import Engine, EngineStatistics
    from .._plots import PlotSeries
    from ._tables import ResultTables

_NANOS_PER_DAY = 86_400 * NANOS_PER_SECOND
#: Records serialised per orjson call when writing JSON in pieces.
_JSON_BATCH = 1_000
_JSON_OPTIONS = orjson.OPT_INDENT_2
#: Significant digits, of a trade's or fill's notional value (quantity × price), kept in the
#: money columns (pnl, commission) of the CSV files. Float arithmetic leaves noise around the
#: 16th digit of the notional (a PnL of -1531.0000000000002); 12 digits stay far finer than
#: any price tick × quantity, so rounding removes the noise and nothing else.
CSV_MONEY_DIGITS = 12
#: What a repr shows of the strategy name and parameters (a str parameter can be long).
_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxstring = 40
_SHORT_REPR.maxother = 40
_REPR_MAX_PARAMS = 8

#: Columns of :meth:`RunResult.write_fills_csv`, in order.
FILL_COLUMNS = (
    "time",
    "order_id",
    "symbol",
    "side",
    "qty",
    "price",
    "commission",
    "is_intrabar_guess",
)
#: Columns of :meth:`RunResult.write_trades_csv`, in order.
TRADE_COLUMNS = (
    "symbol",
    "side",
    "qty",
    "entry_time",
    "entry_price",
    "exit_time",
    "exit_price",
    "pnl",
    "commission",
)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class RunResult:
    """Fills, round-trip trades, orders, equity curve and statistics of one finished run."""

    strategy: str
    params: dict[str, Any]
    start_cash: float
    final_equity: float
    bars: int
    events: int
    #: The fills and closed trades, oldest first: :class:`~framework.portfolio.Records` from a
    #: run (any sequence of the objects will do).
    fills: Sequence[OrderFilled]
    trades: Sequence[Trade]
    #: One sample per distinct mark time, as compact arrays (a tuple of a 1M-bar run's
    #: samples would cost ~70 MB of Python objects). Treat them as read-only.
    equity_ts: Sequence[int] = attrs.field(eq=False)
    equity: Sequence[float] = attrs.field(eq=False)
    stats: dict[str, Any]
    data_issues: dict[str, Any] = attrs.Factory(dict)
    #: Every order of the run in its final state (rejected, cancelled and expired included),
    #: oldest first.
    orders: Sequence[Order] = ()

    #: Each strategy's own result when the run had several (see :attr:`strategies`).
    per_strategy: Mapping[str, RunResult] = attrs.field(factory=dict, eq=False)
    #: What the strategies drew with ``Strategy.plot``, for the report (not in the JSON).
    plots: Sequence[PlotSeries] = attrs.field(default=(), eq=False)

    @property
    def strategies(self) -> Mapping[str, RunResult]:
        """Strategy id -> that strategy's result: its fills, trades, orders, equity curve and
        statistics, from its own book (:mod:`framework.portfolio._strategy_books`: it starts
        with the account's cash and moves by its own P&L). For a run of one strategy, the
        one entry is this result itself. The run's own fields describe the whole account;
        its ``strategy`` and ``params`` are the first strategy's."""
        return self.per_strategy or {self.strategy: self}

    @classmethod
    def from_engine(
        cls,
        engine: Engine,
        *,
        data_issues: dict[str, Any] | None = None,
        benchmark: BenchmarkPrices | None = None,
    ) -> RunResult:
        """The result of ``engine``'s finished run; with ``benchmark``, its statistics hold
        the benchmark's return and the strategy's alpha and beta against it."""
        counts = engine.statistics()
        orders = engine.broker.order_records()
        first = engine.strategies[0] if engine.strategies else None
        per_strategy: dict[str, RunResult] = {}
        if engine.books is not None:
            for strategy in engine.strategies:
                sid = strategy.strategy_id
                own = [order for order in orders if order.strategy_id == sid]
                per_strategy[sid] = cls._of_book(
                    engine.books.books[sid],
                    own,
                    counts,
                    sid,
                    strategy.params,
                    data_issues,
                    benchmark=benchmark,
                )
        return cls._of_book(
            engine.portfolio,
            orders,
            counts,
            first.strategy_id if first else "",
            first.params if first else {},
            data_issues,
            per_strategy,
            benchmark=benchmark,
        )

    @classmethod
    def _of_book(
        cls,
        portfolio: Portfolio,
        orders: Sequence[Order],
        counts: EngineStatistics,
        strategy: str,
        params: dict[str, Any],
        data_issues: dict[str, Any] | None,
        per_strategy: dict[str, RunResult] | None = None,
        *,
        benchmark: BenchmarkPrices | None = None,
    ) -> RunResult:
        times, values = portfolio.equity_curve
        fills = portfolio.fills.snapshot()
        trades = portfolio.closed_trades.snapshot()
        stats = compute_statistics(
            start_cash=portfolio.start_cash,
            equity_ts=times,
            equity=values,
            trades=trades,
            fills=fills,
            commissions=portfolio.commissions,
            open_trade_entries=portfolio.trades.open_entry_times(),
            drawdown=portfolio.drawdown(),
            first_prices=portfolio.first_price,
            last_prices=portfolio.last_price,
            benchmark=benchmark,
        )
        stats["orders"] = len(orders)
        statuses = (
            orders.counts("status")
            if isinstance(orders, Records)
            else collections.Counter(order.status for order in orders)
        )
        for status in (OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            stats[f"orders_{status.value}"] = statuses.get(status, 0)
        return cls(
            strategy=strategy,
            params=params,
            start_cash=portfolio.start_cash,
            final_equity=portfolio.equity(),
            bars=counts.bars,
            events=counts.events,
            fills=fills,
            trades=trades,
            equity_ts=times,
            equity=values,
            stats=stats,
            data_issues=data_issues or {},
            orders=orders,
            per_strategy=per_strategy or {},
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; keys and list order are fixed, so equal runs give equal bytes."""
        return self._document(
            fills=_FILLS.dicts(self.fills),
            trades=_TRADES.dicts(self.trades),
            orders=_ORDERS.dicts(self.orders),
        )

    def to_json(self) -> bytes:
        """Indented JSON bytes of :meth:`to_dict`, ending with a newline."""
        # orjson appends the newline: concatenating would copy the whole document once more.
        return orjson.dumps(self.to_dict(), option=_JSON_OPTIONS | orjson.OPT_APPEND_NEWLINE)

    def write_json(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_json`'s bytes to ``path`` without holding them, or the dicts of
        every fill and order, in memory at once (a long run has 100,000s of them)."""
        with open(path, "wb") as out:
            out.writelines(self._json_pieces())

    def _document(self, *, fills: Any, trades: Any, orders: Any) -> dict[str, Any]:
        document = {
            "strategy": self.strategy,
            "params": self.params,
            "start_cash": self.start_cash,
            "final_equity": self.final_equity,
            "bars": self.bars,
            "fills": fills,
            "trades": trades,
            "stats": self.stats,
            "data_issues": self.data_issues,
            "orders": orders,
        }
        if self.per_strategy:
            # Each strategy's figures; its fills, trades and orders are in the lists above
            # (an order names its strategy; a fill and a trade belong to their order's).
            document["strategies"] = {
                sid: {
                    "params": result.params,
                    "final_equity": result.final_equity,
                    "fills": len(result.fills),
                    "trades": len(result.trades),
                    "stats": result.stats,
                }
                for sid, result in self.per_strategy.items()
            }
        return document

    def _json_pieces(self) -> Iterator[bytes]:
        """:meth:`to_json` in pieces: the document with a placeholder string for each record
        list, cut at the placeholders, and each list serialised a batch of records at a time."""
        lists: tuple[tuple[str, Sequence[Any], _Format], ...] = (
            ("fills", self.fills, _FILLS),
            ("trades", self.trades, _TRADES),
            ("orders", self.orders, _ORDERS),
        )
        rest = orjson.dumps(
            self._document(**{key: _placeholder(key) for key, _, _ in lists}),
            option=_JSON_OPTIONS | orjson.OPT_APPEND_NEWLINE,
        )
        heads = []
        for key, _, _ in lists:
            marker = orjson.dumps(_placeholder(key))
            head, found, rest = rest.partition(marker)
            if not found or marker in rest:  # only if a parameter is spelled like a marker
                yield self.to_json()
                return
            heads.append(head)
        for head, (_, records, form) in zip(heads, lists, strict=True):
            yield head
            yield from _json_list(records, form)
        yield rest

    def write_fills_csv(self, path: str | os.PathLike[str]) -> None:
        """Write the fills as CSV with a header row (:data:`FILL_COLUMNS`); commissions are
        rounded to :data:`CSV_MONEY_DIGITS` significant digits of the fill's notional."""
        _write_csv(path, FILL_COLUMNS, self.fills, _FILLS, _fill_csv_row)

    def write_trades_csv(self, path: str | os.PathLike[str]) -> None:
        """Write the closed trades as CSV with a header row (:data:`TRADE_COLUMNS`); pnl and
        commission are rounded to :data:`CSV_MONEY_DIGITS` significant digits of the trade's
        notional, prices written as they are."""
        _write_csv(path, TRADE_COLUMNS, self.trades, _TRADES, _trade_csv_row)

    @functools.cached_property
    def arrow(self) -> ResultTables:
        """The fills, trades, orders and equity curve as Arrow tables (``.fills``, ``.trades``,
        ``.orders``, ``.equity``; columns in :mod:`framework.results._tables`), built on first
        use and kept."""
        # Imported here: pyarrow costs a tenth of a second, and most runs never ask.
        from ._tables import result_tables

        return result_tables(
            fills=self.fills,
            trades=self.trades,
            orders=self.orders,
            equity_ts=self.equity_ts,
            equity=self.equity,
        )

    def to_pandas(self, table: str = "fills") -> pandas.DataFrame:
        """One of :attr:`arrow`'s tables (``fills``, ``trades``, ``orders``, ``equity``) as a
        pandas DataFrame; times are ``datetime64[ns, UTC]``. Needs pandas
        (``pip install 'tradewire[frames]'``)."""
        _require("pandas", "to_pandas")
        frame: pandas.DataFrame = self.arrow.table(table).to_pandas()
        return frame

    def to_polars(self, table: str = "fills") -> polars.DataFrame:
        """One of :attr:`arrow`'s tables as a polars DataFrame, sharing its memory. Needs
        polars (``pip install 'tradewire[frames]'``)."""
        pl = _require("polars", "to_polars")
        frame: polars.DataFrame = pl.from_arrow(self.arrow.table(table))
        return frame

    def write_parquet(self, path: str | os.PathLike[str]) -> None:
        """Write the tables of :attr:`arrow` as Parquet files, with ``stats.json``, into the
        directory ``path`` (created; it may be named ``*.parquet``). Every file's schema
        metadata holds the run's strategy, parameters, cash and statistics as JSON under
        ``b"tradewire"``: see :mod:`framework.results._parquet`."""
        from ._parquet import write_parquet

        write_parquet(self, path)

    def summary(self) -> str:
        """The figures of a run for a terminal, one per line (formatted as everywhere else:
        :mod:`framework.results._display`)."""
        s = self.stats
        lines = [
            f"strategy       {self.strategy} {_format_params(self.params)}",
            f"bars           {self.bars:,}",
            f"orders         {s.get('orders', len(self.orders)):,}" + _order_outcomes(s),
            f"fills          {len(self.fills):,}"
            + (
                f" ({s['intrabar_guess_fills']:,} on an intra-bar guess)"
                if s.get("intrabar_guess_fills")
                else ""
            ),
            f"trades         {len(self.trades):,}",
            f"final equity   {_stat('final_equity', self.final_equity)}"
            f" (start {_stat('final_equity', self.start_cash)})",
            f"return         {_stat('total_return', s['total_return'])}"
            + (
                f" (annualised {_stat('annualized_return', s['annualized_return'])})"
                if s.get("annualized_return") is not None
                else ""
            ),
            *_buy_and_hold_lines(s),
            f"volatility     {_stat('volatility', s.get('volatility'))} annualised",
            f"sharpe         {_stat('sharpe', s.get('sharpe'))}",
            f"sortino        {_stat('sortino', s.get('sortino'))}",
            f"calmar         {_stat('calmar', s.get('calmar'))}",
            f"max drawdown   {_stat('max_drawdown', s['max_drawdown'])}"
            + (
                f" (longest {_stat('max_drawdown_duration_s', s['max_drawdown_duration_s'])})"
                if s.get("max_drawdown_duration_s")
                else ""
            ),
            f"win rate       {_stat('win_rate', s.get('win_rate'))}",
            f"profit factor  {_stat('profit_factor', s.get('profit_factor'))}",
            f"average trade  {_stat('avg_trade_pnl', s.get('avg_trade_pnl'))}"
            f" (win {_stat('avg_win', s.get('avg_win'))},"
            f" loss {_stat('avg_loss', s.get('avg_loss'))})",
            f"expectancy     {_stat('expectancy', s.get('expectancy'))} per trade"
            f" (best {_stat('best_trade', s.get('best_trade'))},"
            f" worst {_stat('worst_trade', s.get('worst_trade'))})",
            f"sqn            {_stat('sqn', s.get('sqn'))}",
            f"trade duration {_stat('avg_trade_duration_s', s.get('avg_trade_duration_s'))} average"
            f" ({_stat('max_trade_duration_s', s.get('max_trade_duration_s'))} longest)",
            f"losing streak  {_stat('max_consecutive_losses', s.get('max_consecutive_losses'))}"
            " trades at most",
            f"exposure time  {_stat('exposure_time', s.get('exposure_time'))}",
            f"commissions    {_stat('commissions', s.get('commissions', 0.0))}",
        ]
        for sid, result in self.per_strategy.items():
            own = result.stats
            lines.append(
                f"  {sid}: return {_stat('total_return', own['total_return'])}, "
                f"{len(result.fills):,} fills, {len(result.trades):,} trades, "
                f"max drawdown {_stat('max_drawdown', own['max_drawdown'])}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        # The attrs repr spelled out every fill, trade and order: 100,000+ characters for a
        # day of minute bars. The figures that tell runs apart fit on a line; the rest is one
        # attribute away (.stats, .fills, .trades, .orders, .equity).
        s = self.stats
        figures = [
            f"strategy={_SHORT_REPR.repr(self.strategy)}",
            f"params={_short_params(self.params)}",
            f"bars={self.bars}",
            f"fills={len(self.fills)}",
            f"trades={len(self.trades)}",
            f"final_equity={self.final_equity:.2f}",
            f"return={_stat('total_return', s.get('total_return'))}",
            f"max_drawdown={_stat('max_drawdown', s.get('max_drawdown'))}",
            f"sharpe={_stat('sharpe', s.get('sharpe'))}",
        ]
        if "benchmark" in s:
            figures += [
                f"benchmark={_SHORT_REPR.repr(s['benchmark'])}",
                f"benchmark_return={_stat('benchmark_return', s.get('benchmark_return'))}",
                f"alpha={_stat('alpha', s.get('alpha'))}",
                f"beta={_stat('beta', s.get('beta'))}",
            ]
        return f"RunResult({', '.join(figures)})"

    def _repr_html_(self) -> str:
        """The equity curve as an inline SVG chart and the statistics as an HTML table, for
        Jupyter; the key column names each figure's entry in :attr:`stats`."""
        esc = html.escape
        rows = "".join(
            f"<tr><td>{esc(statistic_label(name).label)}</td>"
            f"<td>{esc(_stat(name, value))}</td><td><code>{esc(name)}</code></td></tr>"
            for name, value in [("final_equity", self.final_equity), *self.stats.items()]
        )
        caption = f"{self.strategy} {_format_params(self.params)}".strip()
        return (
            f"<div>{equity_svg(self.equity_ts, self.equity)}"
            f"<table><caption>{esc(caption)}: {self.bars:,} bars, {len(self.fills):,} fills, "
            f"{len(self.trades):,} trades</caption>"
            "<thead><tr><th>statistic</th><th>value</th><th>key</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div>"
        )


def fill_to_dict(fill: OrderFilled) -> dict[str, Any]:
    return {
        "time": _iso(fill.ts_event),
        "order_id": fill.order_id,
        "symbol": fill.symbol,
        "side": fill.side.value,
        "qty": fill.qty,
        "price": fill.price,
        "commission": fill.commission,
        "is_intrabar_guess": fill.is_intrabar_guess,
    }


def trade_to_dict(trade: Trade) -> dict[str, Any]:
    return {
        "symbol": trade.symbol,
        "side": "long" if trade.side > 0 else "short",
        "qty": trade.qty,
        "entry_time": _iso(trade.entry_time),
        "entry_price": trade.entry_price,
        "exit_time": _iso(trade.exit_time),
        "exit_price": trade.exit_price,
        "pnl": trade.pnl,
        "commission": trade.commission,
    }


def order_to_dict(order: Order) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "strategy": order.strategy_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "type": order.type.value,
        "qty": order.qty,
        "limit_price": order.limit_price,
        "stop_price": order.stop_price,
        "tif": order.tif.value,
        "submitted": _iso(order.ts_submitted),
        "status": order.status.value,
        "filled_qty": order.filled_qty,
        "avg_fill_price": order.avg_fill_price,
        "commission": order.commission,
        "parent_id": order.parent_id,
        "oco_id": order.oco_id,
        "reason": order.reason,
    }


def _fill_dicts(fills: Records[OrderFilled], start: int, stop: int) -> list[dict[str, Any]]:
    """:func:`fill_to_dict` of fills ``start`` to ``stop - 1``, read from the columns."""
    column = functools.partial(fills.values, start=start, stop=stop)
    return [
        {
            "time": time,
            "order_id": order_id,
            "symbol": symbol,
            "side": side,
            "qty": qty,
            "price": price,
            "commission": commission,
            "is_intrabar_guess": guess,
        }
        for time, order_id, symbol, side, qty, price, commission, guess in zip(
            list(map(_iso, column("ts_event"))),
            column("order_id"),
            column("symbol"),
            _member_values(column("side")),
            column("qty"),
            column("price"),
            column("commission"),
            column("is_intrabar_guess"),
            strict=True,
        )
    ]


def _trade_dicts(trades: Records[Trade], start: int, stop: int) -> list[dict[str, Any]]:
    """:func:`trade_to_dict` of trades ``start`` to ``stop - 1``, read from the columns."""
    column = functools.partial(trades.values, start=start, stop=stop)
    # The CSV columns are the Trade fields' names, in the same order.
    return [
        {
            "symbol": symbol,
            "side": "long" if side > 0 else "short",
            "qty": qty,
            "entry_time": _iso(entry_time),
            "entry_price": entry_price,
            "exit_time": _iso(exit_time),
            "exit_price": exit_price,
            "pnl": pnl,
            "commission": commission,
        }
        for symbol, side, qty, entry_time, entry_price, exit_time, exit_price, pnl, commission in (
            zip(*map(column, TRADE_COLUMNS), strict=True)
        )
    ]


def _order_dicts(orders: Records[Order], start: int, stop: int) -> list[dict[str, Any]]:
    """:func:`order_to_dict` of orders ``start`` to ``stop - 1``, read from the columns."""
    column = functools.partial(orders.values, start=start, stop=stop)
    columns = {name: column(name) for name in _ORDER_FIELDS}
    for name in ("side", "type", "tif", "status"):
        columns[name] = _member_values(columns[name])
    columns["ts_submitted"] = list(map(_iso, columns["ts_submitted"]))
    rows = zip(*columns.values(), strict=True)
    return [
        {
            "order_id": order_id,
            "strategy": strategy,
            "symbol": symbol,
            "side": side,
            "type": type_,
            "qty": qty,
            "limit_price": limit,
            "stop_price": stop_price,
            "tif": tif,
            "submitted": submitted,
            "status": status,
            "filled_qty": filled_qty,
            "avg_fill_price": filled_value / filled_qty if filled_qty else None,
            "commission": commission,
            "parent_id": parent_id,
            "oco_id": oco_id,
            "reason": reason,
        }
        for (
            order_id,
            strategy,
            symbol,
            side,
            type_,
            qty,
            limit,
            stop_price,
            tif,
            submitted,
            status,
            filled_qty,
            filled_value,
            commission,
            parent_id,
            oco_id,
            reason,
        ) in rows
    ]


#: The Order fields :func:`order_to_dict` reads, in the order of its keys.
_ORDER_FIELDS = (
    "order_id", "strategy_id", "symbol", "side", "type", "qty", "limit_price", "stop_price",
    "tif", "ts_submitted", "status", "filled_qty", "filled_value", "commission",
    "parent_id", "oco_id", "reason",
)  # fmt: skip


def _member_values(members: list[enum.Enum]) -> list[Any]:
    """``[member.value for member in members]`` at a quarter of the cost: ``value`` is a
    property, a Python call per member, while ``_value_`` (the documented attribute it reads)
    is a plain one, and a result reads the side and status of 100,000s of records."""
    return list(map(_MEMBER_VALUE, members))


_MEMBER_VALUE = operator.attrgetter("_value_")


@attrs.frozen(slots=True)
class _Format:
    """How one list of the result becomes dicts: record by record, or from the columns of
    :class:`~framework.portfolio.Records` (same dicts, without building the records)."""

    to_dict: Callable[[Any], dict[str, Any]]
    from_columns: Callable[[Any, int, int], list[dict[str, Any]]]

    def dicts(
        self, records: Sequence[Any], start: int = 0, stop: int | None = None
    ) -> list[dict[str, Any]]:
        stop = len(records) if stop is None else min(stop, len(records))
        if isinstance(records, Records):
            return self.from_columns(records, start, stop)
        return [self.to_dict(record) for record in records[start:stop]]


_FILLS = _Format(fill_to_dict, _fill_dicts)
_TRADES = _Format(trade_to_dict, _trade_dicts)
_ORDERS = _Format(order_to_dict, _order_dicts)


def _placeholder(key: str) -> str:
    return f"\x00{key}\x00"


def _json_list(records: Sequence[Any], form: _Format) -> Iterator[bytes]:
    """A list of records as orjson's OPT_INDENT_2 writes it as the value of a top-level key."""
    if not records:
        yield b"[]"
        return
    yield b"[\n"
    for start in range(0, len(records), _JSON_BATCH):
        if start:
            yield b",\n"
        batch = form.dicts(records, start, start + _JSON_BATCH)
        # Written as the value of a key, as in the document, orjson indents the records as
        # deep as the document holds them; only the key and the brackets are cut off.
        text = orjson.dumps({"": batch}, option=_JSON_OPTIONS)
        yield text[len(_NESTED_HEAD) : -len(_NESTED_TAIL)]
    yield b"\n  ]"


#: What :func:`_json_list` cuts off ``{"": records}`` in orjson's OPT_INDENT_2 layout.
_NESTED_HEAD = b'{\n  "": [\n'
_NESTED_TAIL = b"\n  ]\n}"


def _iso(nanos: int) -> str:
    """:func:`~framework._time.iso_from_nanos`, about fifteen times faster for whole seconds.

    A result can hold 100,000s of times (fills, trades, orders) on few distinct days and, for
    bars, few distinct times of day; formatting them is the slow part, so the date and the
    time of day are each formatted once and cached.
    """
    day, of_day = divmod(nanos, _NANOS_PER_DAY)
    if of_day % NANOS_PER_SECOND:
        return iso_from_nanos(nanos)
    return _iso_date(day) + _iso_time_of_day(of_day)


@functools.lru_cache(maxsize=4_096)
def _iso_date(day: int) -> str:
    return iso_from_nanos(day * _NANOS_PER_DAY)[:10]


@functools.lru_cache(maxsize=4_096)
def _iso_time_of_day(nanos: int) -> str:
    """``THH:MM:SSZ`` of whole seconds into a day."""
    hour, second_of_hour = divmod(nanos // NANOS_PER_SECOND, 3_600)
    minute, second = divmod(second_of_hour, 60)
    return f"T{hour:02d}:{minute:02d}:{second:02d}Z"


def _write_csv(
    path: str | os.PathLike[str],
    columns: tuple[str, ...],
    records: Sequence[Any],
    form: _Format,
    to_csv_row: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for start in range(0, len(records), _JSON_BATCH):
            writer.writerows(map(to_csv_row, form.dicts(records, start, start + _JSON_BATCH)))


def _fill_csv_row(row: dict[str, Any]) -> dict[str, Any]:
    """A fill's JSON dict, its commission rounded for the CSV file."""
    row["commission"] = csv_money(row["commission"], notional=row["qty"] * row["price"])
    return row


def _trade_csv_row(row: dict[str, Any]) -> dict[str, Any]:
    """A trade's JSON dict, its money rounded for the CSV file."""
    notional = abs(row["qty"]) * max(abs(row["entry_price"]), abs(row["exit_price"]))
    row["pnl"] = csv_money(row["pnl"], notional=notional)
    row["commission"] = csv_money(row["commission"], notional=notional)
    return row


def csv_money(value: float, *, notional: float) -> float:
    """``value`` rounded to :data:`CSV_MONEY_DIGITS` significant digits of ``notional`` (or of
    ``value``, if larger): ``csv_money(-1531.0000000000002, notional=9952.0) == -1531.0``."""
    scale = max(abs(value), abs(notional))
    if scale == 0 or not math.isfinite(scale):
        return value
    decimals = CSV_MONEY_DIGITS - 1 - math.floor(math.log10(scale))
    # + 0.0: a tiny negative rounds to -0.0, which would read "-0.0" in the file.
    return round(value, decimals) + 0.0


def _require(module: str, method: str) -> Any:
    """Import an optional frame library, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"RunResult.{method}() needs {module}: pip install 'tradewire[frames]'"
        ) from exc


def _buy_and_hold_lines(stats: dict[str, Any]) -> list[str]:
    """The buy-and-hold line of the summary, and the benchmark's when the run has one."""
    symbols = stats.get("buy_and_hold_by_symbol") or {}
    held = next(iter(symbols)) if len(symbols) == 1 else f"equal weight of {len(symbols)} symbols"
    lines = [
        f"buy & hold     {_stat('buy_and_hold_return', stats.get('buy_and_hold_return'))}"
        + (f" ({held})" if symbols else "")
    ]
    if "benchmark" in stats:
        lines.append(
            f"benchmark      {stats['benchmark']}"
            f" {_stat('benchmark_return', stats.get('benchmark_return'))}"
            f" (alpha {_stat('alpha', stats.get('alpha'))},"
            f" beta {_stat('beta', stats.get('beta'))})"
        )
    return lines


def _order_outcomes(stats: dict[str, Any]) -> str:
    parts = [
        f"{stats[key]:,} {key.removeprefix('orders_')}"
        for key in ("orders_rejected", "orders_cancelled", "orders_expired")
        if stats.get(key)
    ]
    return f" ({', '.join(parts)})" if parts else ""


def _short_params(params: dict[str, Any]) -> str:
    # Not reprlib's dict repr: that sorts the keys, and parameters read best as declared.
    items = [
        f"{_SHORT_REPR.repr(k)}: {_SHORT_REPR.repr(v)}"
        for k, v in list(params.items())[:_REPR_MAX_PARAMS]
    ]
    more = ", ..." if len(params) > _REPR_MAX_PARAMS else ""
    return "{" + ", ".join(items) + more + "}"


def _format_params(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items())
