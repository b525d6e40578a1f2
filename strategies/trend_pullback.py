"""TrendPullback: trade pullbacks in the direction of a higher timeframe's trend, behind a
trailing stop."""

from __future__ import annotations

import math

from framework import (
    Bar,
    BarWindow,
    Event,
    Interval,
    OrderEvent,
    OrderFilled,
    OrderSide,
    Param,
    ParameterError,
    Strategy,
)
from framework.execution import Order, OrderStatus
from framework.indicators import ATR, RSI


class _Book:
    """One symbol's indicators, trend window and working orders."""

    __slots__ = ("atr", "entry", "previous_rsi", "rsi", "stop", "trend")

    def __init__(self, trend: BarWindow, rsi_period: int, atr_period: int) -> None:
        self.trend = trend
        self.rsi = RSI(rsi_period)
        self.atr = ATR(atr_period)
        self.previous_rsi: float | None = None
        #: The market order that opens the position, until it has filled.
        self.entry: Order | None = None
        #: The trailing stop protecting the open position.
        self.stop: Order | None = None


class TrendPullback(Strategy):
    """Buy dips in an uptrend and sell rallies in a downtrend, each behind a trailing stop.

    Two timeframes, because each answers a different question. The trend comes from bars of
    ``trend_interval`` (15 minutes by default) that the framework builds from the feed's bars:
    up while the mean close of the last ``trend_fast`` of them is above the mean of the last
    ``trend_slow``, down while it is below. A trend read on a slower clock changes its mind
    rarely, which keeps the strategy from trading every wiggle. Entries come from the feed's
    own bars (one-minute bars, say), where a pullback shows while the trend still holds: the
    ``rsi_period`` RSI of their closes dips below ``pullback`` and then crosses back above it
    (in a downtrend: rises above ``100 - pullback`` and crosses back below). Waiting for the
    cross back, rather than buying the dip itself, means the pullback has at least paused.
    The entry is a market order of ``qty``, so with bars it fills at the next bar's open.

    Once the entry has filled, a trailing stop protects the position: ``trail_atr`` times the
    ``atr_period`` ATR of the feed's bars at that moment, first set that far from the fill
    price and then following the best close (or quote, live) since (docs/execution.md, 2.4),
    never loosening. A distance in ATRs adapts to the market's noise: a fixed percentage is
    too tight on a wild day and too loose on a calm one. The stop lets a winner run for as
    long as the trend carries it and caps what a loser costs. A trend bar that turns against
    the position (or flattens out) closes it at market and cancels the stop; a pending entry
    is cancelled the same way. One position per symbol at a time; ``allow_short`` off trades
    only the long side.

    Runs on every symbol it receives, each with its own trend and indicators. Give it one bar
    interval that is finer than ``trend_interval`` and divides it (one- or five-minute bars
    for a fifteen-minute trend). Trend bars follow the UTC clock, and a partial first one
    (data that start inside a bucket) is dropped (docs/bars.md); the first entry comes after
    ``trend_slow`` whole trend bars, and ``warmup_bars`` asks a live session for that much
    history of one-minute bars.
    """

    trend_interval = Param("15m", "Bar size of the trend, built from the feed's bars.")
    trend_fast = Param(4, "Trend bars in the fast mean of closes.", min=1)
    trend_slow = Param(16, "Trend bars in the slow mean of closes.", min=2)
    rsi_period = Param(14, "Bars in the entry RSI.", min=2)
    pullback = Param(
        30.0, "RSI level a pullback dips below (a rally rises above 100 - it).", min=1, max=49
    )
    atr_period = Param(14, "Bars in the ATR that sizes the trailing stop.", min=1)
    trail_atr = Param(3.0, "Trailing stop distance, in ATRs at the entry.", min=0.1)
    qty = Param(100.0, "Quantity of each entry.", min=0)
    allow_short = Param(True, "Also sell short on rallies in a downtrend.")

    def validate(self) -> None:
        if self.trend_fast >= self.trend_slow:
            raise ParameterError(
                f"trend_fast ({self.trend_fast}) must be shorter than "
                f"trend_slow ({self.trend_slow})"
            )
        try:
            nanos = Interval.parse(self.trend_interval).nanos
        except ValueError as exc:
            raise ParameterError(f"trend_interval: {exc}") from exc
        if nanos is None:
            raise ParameterError(
                "trend_interval must be a fixed length (seconds to weeks), "
                f"got {self.trend_interval!r}"
            )

    def warmup_bars(self) -> int:
        """One-minute bars for ``trend_slow`` whole trend bars, the partial first one and the
        RSI: then the first live bar can enter."""
        nanos = Interval.parse(self.trend_interval).nanos
        assert nanos is not None  # validate() refused the others
        minutes = max(1, nanos // 60_000_000_000)
        return (self.trend_slow + 1) * minutes + self.rsi_period

    def on_start(self) -> None:
        self._trend_label = Interval.parse(self.trend_interval).label
        self._books: dict[str, _Book] = {}
        self.subscribe(Bar)  # the feed's bars, every symbol
        self.subscribe(Bar, None, interval=self._trend_label)

    # -- market data ----------------------------------------------------------------------

    def on_bar(self, bar: Bar) -> None:
        book = self._books.get(bar.symbol)
        if book is None:
            # A symbol's first bar comes before its first trend bar, so the window misses none.
            window = self.history(bar.symbol, self.trend_slow, self._trend_label)
            book = self._books[bar.symbol] = _Book(window, self.rsi_period, self.atr_period)
        if bar.interval == self._trend_label:
            self._check_trend(bar.symbol, book)
        else:
            self._look_for_entry(bar, book)

    def trend(self, symbol: str) -> int:
        """+1 up, -1 down, 0 flat or not known yet (fewer than ``trend_slow`` trend bars)."""
        book = self._books.get(symbol)
        if book is None or len(book.trend) < self.trend_slow:
            return 0
        closes = book.trend.close
        fast = math.fsum(closes[-self.trend_fast :]) / self.trend_fast
        slow = math.fsum(closes) / self.trend_slow
        return (fast > slow) - (fast < slow)

    def _check_trend(self, symbol: str, book: _Book) -> None:
        held = self.position(symbol).qty
        if book.entry is not None:
            side = 1 if book.entry.side is OrderSide.BUY else -1
        else:
            side = (held > 0) - (held < 0)
        if side == 0 or self.trend(symbol) == side:
            return
        self.cancel_all(symbol)  # the pending entry and the stop
        book.entry = book.stop = None
        if held != 0:
            self.close(symbol)

    def _look_for_entry(self, bar: Bar, book: _Book) -> None:
        atr = book.atr.update(bar.high, bar.low, bar.close)
        rsi = book.rsi.update(bar.close)
        before, book.previous_rsi = book.previous_rsi, rsi
        if rsi is None or before is None or atr is None or self.is_warming_up:
            return
        if book.entry is not None or self.position(bar.symbol).qty != 0:
            return
        trend = self.trend(bar.symbol)
        low, high = self.pullback, 100.0 - self.pullback
        if trend > 0 and before < low <= rsi:
            entry = self.buy(bar.symbol, self.qty)
        elif trend < 0 and self.allow_short and before > high >= rsi:
            entry = self.sell(bar.symbol, self.qty)
        else:
            return
        if entry.status.is_open:  # a refused order (a risk limit) leaves the way open
            book.entry = entry

    # -- orders ---------------------------------------------------------------------------

    def on_fill(self, fill: OrderFilled) -> None:
        book = self._books.get(fill.symbol)
        if book is None:
            return
        if book.stop is not None and fill.order_id == book.stop.order_id:
            book.stop = None  # stopped out
        entry = book.entry
        if entry is None or fill.order_id != entry.order_id:
            return
        if entry.status is not OrderStatus.FILLED:
            return  # protect the whole entry once it is in (with bars, at once)
        book.entry = None
        held = self.position(fill.symbol).qty
        atr = book.atr.value
        if held == 0 or atr is None:
            return
        distance = self.trail_atr * atr
        price = fill.price if entry.avg_fill_price is None else entry.avg_fill_price
        if held > 0:
            stop = self.sell(fill.symbol, held, trail=distance, stop=price - distance)
        else:
            stop = self.buy(fill.symbol, -held, trail=distance, stop=price + distance)
        if stop.status.is_open:
            book.stop = stop
        else:
            self.close(fill.symbol)  # the stop was refused: hold nothing unprotected

    def on_order(self, event: Event) -> None:
        """Forget an entry or a stop that ended without filling (cancelled, expired,
        rejected), so that a new entry can come."""
        if not isinstance(event, OrderEvent):
            return
        book = self._books.get(event.symbol)
        if book is None:
            return
        if book.entry is not None and not book.entry.status.is_open:
            book.entry = None
        if book.stop is not None and not book.stop.status.is_open:
            book.stop = None
