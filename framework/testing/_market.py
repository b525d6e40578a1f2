"""A seeded synthetic market: deterministic trades, bars and quotes, with no I/O.

:class:`SyntheticMarket` is the data source behind the vendor adapters' simulated servers, and
it is usable on its own in tests. It is a pure function of its seed and of simulated time;
its docstring says how.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Mapping
from typing import Final

import attrs

from .._intervals import Interval
from .._time import NANOS_PER_SECOND

#: 2026-01-05T00:00:00Z, a Monday: the default start of simulated time.
DEFAULT_START_NS: Final = 1_767_571_200 * NANOS_PER_SECOND

#: Bar sizes the market can produce; months vary in length and are not simulated.
BAR_UNITS: Final = frozenset({"second", "minute", "hour", "day", "week"})

_TICK: Final = 0.01
_DAY_NS: Final = 86_400 * NANOS_PER_SECOND
# 1970-01-01 was a Thursday; weeks are aligned to the following Monday.
_WEEK_OFFSET_NS: Final = 4 * _DAY_NS
# A single history bar never moves more than this (log-return standard deviation).
_MAX_BAR_SIGMA: Final = 0.2
_MEAN_TRADE_SIZE: Final = 105.0


@attrs.frozen(slots=True, kw_only=True)
class SyntheticTrade:
    """One simulated trade, with the book around it just after the trade."""

    code: str
    seq: int
    ts: int
    price: float
    size: float
    bid: float
    ask: float
    bid_size: float
    ask_size: float


@attrs.frozen(slots=True, kw_only=True)
class SyntheticBar:
    """OHLCV of one period; ``ts_update`` is when it last changed (simulated ns)."""

    ts_open: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    ts_update: int


@attrs.frozen(slots=True, kw_only=True)
class SyntheticQuote:
    """Level-1 state of a code after its latest trade; ``ts_update`` is that trade's time."""

    code: str
    status: str
    ts_update: int
    last_price: float
    bid: float
    ask: float
    bid_size: float
    ask_size: float
    volume: float
    open_price: float
    high_price: float
    low_price: float
    prev_close_price: float

    @property
    def change(self) -> float:
        """``last_price - prev_close_price``, in cents."""
        return round(self.last_price - self.prev_close_price, 2)

    @property
    def change_percent(self) -> float:
        """The change as a percentage of ``prev_close_price``, to 4 decimals."""
        return round(100.0 * (self.last_price - self.prev_close_price) / self.prev_close_price, 4)


def _cents(value: float) -> float:
    return max(_TICK, round(value, 2))


def _check_bar_interval(interval: Interval) -> int:
    nanos = interval.nanos
    if interval.unit not in BAR_UNITS or nanos is None:
        raise ValueError(
            f"the synthetic market has no {interval.label} bars; "
            f"units: {', '.join(sorted(BAR_UNITS))}"
        )
    return nanos


class _Walk:
    """The trade sequence of one code: step ``k`` is always the same trade for a given seed."""

    __slots__ = ("_raw", "_rng", "_volatility")

    def __init__(self, seed: int, code: str, base_price: float, volatility: float) -> None:
        self._rng = random.Random(f"tradewire-sim:{seed}:{code}:trades")
        self._raw = base_price
        self._volatility = volatility

    def step(self, code: str, seq: int, ts: int) -> SyntheticTrade:
        rng = self._rng
        self._raw *= math.exp(self._volatility * rng.gauss(0.0, 1.0))
        price = _cents(self._raw)
        size = float(rng.randint(1, 20) * 10)
        ticks = rng.randint(1, 3) * _TICK
        bid = round(price - ticks, 2)
        if bid <= 0:
            bid = price / 2
        return SyntheticTrade(
            code=code,
            seq=seq,
            ts=ts,
            price=price,
            size=size,
            bid=bid,
            ask=round(price + ticks, 2),
            bid_size=float(rng.randint(1, 50) * 100),
            ask_size=float(rng.randint(1, 50) * 100),
        )


class _BarSeries:
    """Bars of one (code, interval), built from trades; completed bars are kept up to a limit."""

    __slots__ = (
        "completed",
        "current",
        "fill_empty",
        "interval_ns",
        "offset_ns",
        "total_completed",
    )

    def __init__(self, interval: Interval, limit: int) -> None:
        self.interval_ns = _check_bar_interval(interval)
        self.offset_ns = _WEEK_OFFSET_NS if interval.unit == "week" else 0
        self.fill_empty = interval.unit != "second"
        self.completed: deque[SyntheticBar] = deque(maxlen=limit)
        self.current: SyntheticBar | None = None
        self.total_completed = 0

    def align(self, ts: int) -> int:
        return (ts - self.offset_ns) // self.interval_ns * self.interval_ns + self.offset_ns

    def open_flat(self, ts: int, price: float) -> None:
        """Start with a flat bar at ``price`` for the period holding ``ts`` (minute and longer)."""
        if self.fill_empty and self.current is None:
            period = self.align(ts)
            self.current = SyntheticBar(
                ts_open=period,
                open=price,
                high=price,
                low=price,
                close=price,
                volume=0.0,
                ts_update=ts,
            )

    def on_trade(self, ts: int, price: float, size: float) -> None:
        period = self.align(ts)
        current = self.current
        if current is not None and period == current.ts_open:
            self.current = attrs.evolve(
                current,
                high=max(current.high, price),
                low=min(current.low, price),
                close=price,
                volume=current.volume + size,
                ts_update=ts,
            )
            return
        if current is not None:
            self._complete_through(period)
        self.current = SyntheticBar(
            ts_open=period,
            open=price,
            high=price,
            low=price,
            close=price,
            volume=size,
            ts_update=ts,
        )

    def roll_to(self, ts: int) -> None:
        """Open the period holding ``ts`` with a flat bar if no trade has opened it yet."""
        current = self.current
        if not self.fill_empty or current is None:
            return
        period = self.align(ts)
        if period > current.ts_open:
            self._complete_through(period)
            price = current.close
            self.current = SyntheticBar(
                ts_open=period,
                open=price,
                high=price,
                low=price,
                close=price,
                volume=0.0,
                ts_update=period,
            )

    def _complete_through(self, period: int) -> None:
        """Complete the current bar and, for minute+ bars, flat bars for skipped periods."""
        current = self.current
        assert current is not None
        self._append(current)
        if not self.fill_empty:
            return
        price = current.close
        step = self.interval_ns
        # Never materialise more skipped bars than the history keeps.
        first = max(current.ts_open + step, period - step * (self.completed.maxlen or 1))
        for ts_open in range(first, period, step):
            self._append(
                SyntheticBar(
                    ts_open=ts_open,
                    open=price,
                    high=price,
                    low=price,
                    close=price,
                    volume=0.0,
                    ts_update=ts_open,
                )
            )

    def _append(self, bar: SyntheticBar) -> None:
        self.completed.append(bar)
        self.total_completed += 1


class _History:
    """Bars before the market's start, synthesised newest first from the starting price."""

    __slots__ = ("_bars", "_first_open", "_interval_ns", "_next_close", "_rng", "_sigma", "_volume")

    def __init__(
        self,
        *,
        seed: int,
        code: str,
        interval: Interval,
        first_open: int,
        anchor_price: float,
        trade_step_ns: int,
        volatility: float,
    ) -> None:
        interval_ns = _check_bar_interval(interval)
        trades_per_bar = max(1.0, interval_ns / trade_step_ns)
        self._rng = random.Random(f"tradewire-sim:{seed}:{code}:{interval.label}:history")
        self._sigma = min(_MAX_BAR_SIGMA, volatility * math.sqrt(trades_per_bar))
        self._volume = trades_per_bar * _MEAN_TRADE_SIZE
        self._interval_ns = interval_ns
        self._first_open = first_open
        self._next_close = anchor_price
        self._bars: list[SyntheticBar] = []

    def newest(self, count: int) -> list[SyntheticBar]:
        """The ``count`` bars just before the start, oldest first."""
        rng = self._rng
        sigma = self._sigma
        while len(self._bars) < count:
            close = self._next_close
            open_ = _cents(close / math.exp(sigma * rng.gauss(0.0, 1.0)))
            high = _cents(max(open_, close) * math.exp(abs(rng.gauss(0.0, 0.5)) * sigma))
            low = _cents(min(open_, close) / math.exp(abs(rng.gauss(0.0, 0.5)) * sigma))
            volume = float(round(self._volume * rng.uniform(0.5, 1.5)))
            ts_open = self._first_open - (len(self._bars) + 1) * self._interval_ns
            self._bars.append(
                SyntheticBar(
                    ts_open=ts_open,
                    open=open_,
                    high=max(high, open_, close),
                    low=min(low, open_, close),
                    close=close,
                    volume=volume,
                    ts_update=ts_open + self._interval_ns - 1,
                )
            )
            self._next_close = open_
        return self._bars[count - 1 :: -1] if count else []


class _CodeState:
    __slots__ = (
        "base_price",
        "high",
        "histories",
        "last",
        "low",
        "prev_close",
        "series",
        "trades",
        "volume",
        "walk",
    )

    def __init__(self, walk: _Walk, base_price: float, prev_close: float, limit: int) -> None:
        self.walk = walk
        self.base_price = base_price
        self.prev_close = prev_close
        self.last: SyntheticTrade | None = None
        self.volume = 0.0
        self.high = base_price
        self.low = base_price
        self.trades: deque[SyntheticTrade] = deque(maxlen=limit)
        self.series: dict[Interval, _BarSeries] = {}
        self.histories: dict[Interval, _History] = {}

    def apply(self, trade: SyntheticTrade) -> None:
        self.last = trade
        self.volume += trade.size
        self.high = max(self.high, trade.price)
        self.low = min(self.low, trade.price)
        self.trades.append(trade)
        for series in self.series.values():
            series.on_trade(trade.ts, trade.price, trade.size)


class SyntheticMarket:
    """Deterministic random-walk market: a pure function of its seed and of simulated time.

    Call :meth:`track` for each code (and bar size) of interest, :meth:`advance_to` as
    simulated time passes, then read :meth:`bars`, :meth:`current_bar`, :meth:`quote` and
    :meth:`trades_after`. Everything is synchronous and allocation-bounded: completed bars and
    recent trades are kept up to ``history_limit`` per series.

    - Trades happen on a fixed grid of simulated time, ``start_ns + k * trade_step_ns`` for
      ``k = 1, 2, ...``; every tracked code trades once per step. Each code walks
      multiplicatively (``price *= exp(volatility * N(0, 1))``) from a random generator seeded
      by ``(seed, code)``, so prices stay positive and a code's trades do not depend on which
      other codes are tracked, or on when it started being tracked (a code or bar size tracked
      late replays its trades from ``start_ns``).
    - Bars of every tracked ``(code, interval)`` aggregate those trades. Open times are aligned to
      the interval on the UTC epoch (weeks start on Monday). Minute and longer bars exist for every
      period, trades or not: a period without trades gets a flat zero-volume bar at the previous
      close, as the live service pushes a bar at each new period. Second bars exist only for seconds
      that had trades.
    - History before ``start_ns`` is synthesised bar by bar, walking backwards from the starting
      price with its own ``(seed, code, interval)`` generator, so a burst of 1000 daily bars does
      not need 1000 days of trades. It is deterministic and the same however far back it is read.
    - Quotes derive from the latest trade: ``bid < last < ask`` always, session volume, open, high,
      low and change against a fixed previous close.

    Time is integer UTC nanoseconds throughout; prices are floats rounded to cents.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        start_ns: int = DEFAULT_START_NS,
        trade_step_ns: int = NANOS_PER_SECOND,
        volatility: float = 0.0005,
        base_prices: Mapping[str, float] | None = None,
        history_limit: int = 1000,
    ) -> None:
        if trade_step_ns < 1:
            raise ValueError(f"trade_step_ns must be positive, got {trade_step_ns!r}")
        if not 0 <= volatility < 1:
            raise ValueError(f"volatility must be in [0, 1), got {volatility!r}")
        if history_limit < 1:
            raise ValueError(f"history_limit must be at least 1, got {history_limit!r}")
        for code, price in (base_prices or {}).items():
            if not (price > 0 and math.isfinite(price)):
                raise ValueError(f"base price of {code} must be positive, got {price!r}")
        self._seed = seed
        self._start_ns = start_ns
        self._step_ns = trade_step_ns
        self._volatility = volatility
        self._base_prices = dict(base_prices or {})
        self._limit = history_limit
        self._steps = 0
        self._now = start_ns
        self._codes: dict[str, _CodeState] = {}

    @property
    def start_ns(self) -> int:
        """The time trading starts: the first trade is one step after it."""
        return self._start_ns

    @property
    def now_ns(self) -> int:
        """Simulated time reached by :meth:`advance_to`."""
        return self._now

    @property
    def steps(self) -> int:
        """Trades made so far per code (the ``seq`` of the latest trade)."""
        return self._steps

    @property
    def history_limit(self) -> int:
        """Completed bars and recent trades kept per series."""
        return self._limit

    def base_price(self, code: str) -> float:
        """The price ``code`` starts at: configured, or drawn from the seed."""
        configured = self._base_prices.get(code)
        if configured is not None:
            return configured
        return round(random.Random(f"tradewire-sim:{self._seed}:{code}:base").uniform(20, 500), 2)

    def track(self, code: str, interval: Interval | None = None) -> None:
        """Start producing trades and quotes for ``code`` and, if given, bars of ``interval``.

        ``interval`` may be a tick interval (trades only). Tracking late replays the code's
        trades from the start, so the result is the same as if it had been tracked all along.
        Raises ``ValueError`` for bar sizes the market cannot produce (months).
        """
        state = self._codes.get(code)
        if state is None:
            state = self._new_state(code)
            self._replay(code, state, into=None)
            self._codes[code] = state
        if interval is None or interval.unit == "tick" or interval in state.series:
            return
        series = _BarSeries(interval, self._limit)
        series.open_flat(self._start_ns, state.base_price)
        self._replay(code, self._new_state(code), into=series)
        series.roll_to(self._now)
        state.series[interval] = series

    def advance_to(self, ts: int) -> int:
        """Move simulated time to ``ts``, making every trade due by then; returns how many steps.

        Earlier times are ignored: time never goes backwards.
        """
        if ts <= self._now:
            return 0
        last_step = (ts - self._start_ns) // self._step_ns
        made = 0
        while self._steps < last_step:
            self._steps += 1
            made += 1
            trade_ts = self._start_ns + self._steps * self._step_ns
            for code, state in self._codes.items():
                state.apply(state.walk.step(code, self._steps, trade_ts))
        self._now = ts
        for state in self._codes.values():
            for series in state.series.values():
                series.roll_to(ts)
        return made

    def bars(self, code: str, interval: Interval, count: int) -> list[SyntheticBar]:
        """The newest ``count`` bars, oldest first; the last is the in-progress bar.

        ``count`` is clamped to ``1 .. history_limit``. Bars before the start are synthesised.
        """
        series = self._series(code, interval)
        count = max(1, min(count, self._limit))
        live = list(series.completed)
        if series.current is not None:
            live.append(series.current)
        if len(live) >= count or series.total_completed > len(series.completed):
            return live[-count:]
        return self._history(code, interval).newest(count - len(live)) + live

    def bars_since(self, code: str, interval: Interval, ts_open: int) -> list[SyntheticBar]:
        """Kept bars opened at or after ``ts_open``, oldest first; the last is in progress.

        A client that was sent the bar opened at ``ts_open`` gets from this its final state and
        every bar completed since, flat ones for periods without trades included: one time step
        may cross several bar periods, and each of them is a bar (at most ``history_limit``).
        """
        series = self._series(code, interval)
        newer: list[SyntheticBar] = []
        if series.current is not None and series.current.ts_open >= ts_open:
            newer.append(series.current)
        for bar in reversed(series.completed):
            if bar.ts_open < ts_open:
                break
            newer.append(bar)
        newer.reverse()
        return newer

    def current_bar(self, code: str, interval: Interval) -> SyntheticBar | None:
        """The in-progress bar (None for second bars before the first trade)."""
        return self._series(code, interval).current

    def quote(self, code: str) -> SyntheticQuote:
        """Level-1 state of a tracked code."""
        state = self._state(code)
        last = state.last
        if last is None:
            price = state.base_price
            return SyntheticQuote(
                code=code,
                status="OPEN",
                ts_update=self._start_ns,
                last_price=price,
                bid=round(price - _TICK, 2) if price > 2 * _TICK else price / 2,
                ask=round(price + _TICK, 2),
                bid_size=100.0,
                ask_size=100.0,
                volume=0.0,
                open_price=price,
                high_price=price,
                low_price=price,
                prev_close_price=state.prev_close,
            )
        return SyntheticQuote(
            code=code,
            status="OPEN",
            ts_update=last.ts,
            last_price=last.price,
            bid=last.bid,
            ask=last.ask,
            bid_size=last.bid_size,
            ask_size=last.ask_size,
            volume=state.volume,
            open_price=state.base_price,
            high_price=state.high,
            low_price=state.low,
            prev_close_price=state.prev_close,
        )

    def trades(self, code: str, count: int) -> list[SyntheticTrade]:
        """The newest ``count`` trades of ``code`` (at most ``history_limit``), oldest first."""
        recent = self._state(code).trades
        count = max(0, min(count, len(recent)))
        return list(recent)[len(recent) - count :]

    def trades_after(self, code: str, seq: int) -> list[SyntheticTrade]:
        """Trades of ``code`` with ``seq`` greater than the given one that are still kept."""
        recent = self._state(code).trades
        if not recent or recent[-1].seq <= seq:
            return []
        return [trade for trade in recent if trade.seq > seq]

    def _new_state(self, code: str) -> _CodeState:
        base = self.base_price(code)
        drift = random.Random(f"tradewire-sim:{self._seed}:{code}:prev-close").gauss(0.0, 0.01)
        return _CodeState(
            _Walk(self._seed, code, base, self._volatility),
            base,
            _cents(base * math.exp(drift)),
            self._limit,
        )

    def _replay(self, code: str, state: _CodeState, *, into: _BarSeries | None) -> None:
        """Run a fresh walk through the steps made so far, feeding ``state`` or one series."""
        for seq in range(1, self._steps + 1):
            trade = state.walk.step(code, seq, self._start_ns + seq * self._step_ns)
            if into is None:
                state.apply(trade)
            else:
                into.on_trade(trade.ts, trade.price, trade.size)

    def _state(self, code: str) -> _CodeState:
        state = self._codes.get(code)
        if state is None:
            raise KeyError(f"{code} is not tracked; call track() first")
        return state

    def _series(self, code: str, interval: Interval) -> _BarSeries:
        series = self._state(code).series.get(interval)
        if series is None:
            raise KeyError(f"{interval.label} bars of {code} are not tracked; call track() first")
        return series

    def _history(self, code: str, interval: Interval) -> _History:
        state = self._state(code)
        history = state.histories.get(interval)
        if history is None:
            series = state.series[interval]
            history = _History(
                seed=self._seed,
                code=code,
                interval=interval,
                first_open=series.align(self._start_ns),
                anchor_price=state.base_price,
                trade_step_ns=self._step_ns,
                volatility=self._volatility,
            )
            state.histories[interval] = history
        return history
