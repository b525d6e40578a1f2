"""Hypothesis generators for market data.

Named like Hypothesis' own generators (plural nouns, keyword-only bounds) and meant to be used
the same way::

    from hypothesis import given, strategies as st
    from framework.testing import bars

    @given(bars(symbols=["NASDAQ:AAPL", "NASDAQ:MSFT"], gaps=True, regimes=3))
    def test_something(generated): ...

- :func:`bars`: valid bar sequences (positive prices, ``low <= open, close <= high``, time
  strictly increasing per symbol), several symbols merged in ``ts_event`` order; gaps and
  regime changes in drift and volatility on request.
- :func:`quotes`: quote sequences with ``bid <= ask``, in ``ts_event`` order.

Generators of a vendor's wire frames live with its adapter, built on these.

Shrinking goes toward short, flat, gap-free data. Bad bounds raise
:class:`~framework.ConfigError` when the generator is built.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Final

from hypothesis import strategies as st

from .._errors import ConfigError
from .._events import Bar, Quote
from .._intervals import Interval
from .._time import NANOS_PER_MILLI
from ._market import DEFAULT_START_NS

DEFAULT_SYMBOLS: Final = ("NASDAQ:AAPL",)

#: Largest per-bar drift and volatility (log-return) of a regime; a shock is at most 3 sigma.
_MAX_DRIFT: Final = 0.02
_MAX_VOLATILITY: Final = 0.05
_MAX_SHOCK: Final = 3.0
#: A gap skips this many periods at most (a long weekend of minutes is ~4 000).
_MAX_GAP_PERIODS: Final = 5_000
_MAX_QUOTE_STEP_MS: Final = 60_000


# -- validation ------------------------------------------------------------------------------


def check_symbols(symbols: Sequence[str]) -> tuple[str, ...]:
    """``symbols`` as a tuple: distinct codes, at least one; else ConfigError."""
    if isinstance(symbols, str):
        raise ConfigError("symbols must be a sequence of codes, not one string")
    found = tuple(symbols)
    if not found:
        raise ConfigError("symbols must name at least one symbol")
    if len(set(found)) != len(found):
        raise ConfigError(f"symbols must be distinct, got {found!r}")
    return found


def _check_prices(min_price: float, max_price: float) -> None:
    if not (0 < min_price <= max_price < math.inf):
        raise ConfigError(
            f"need 0 < min_price <= max_price < inf, got min_price={min_price!r}, "
            f"max_price={max_price!r}"
        )


def _check_sizes(min_size: float, max_size: float) -> None:
    if not (0 <= min_size <= max_size < math.inf):
        raise ConfigError(
            f"need 0 <= min_size <= max_size < inf, got min_size={min_size!r}, "
            f"max_size={max_size!r}"
        )


def _check_counts(name: str, low: int, high: int) -> None:
    if not (0 <= low <= high):
        raise ConfigError(f"need 0 <= min_{name} <= max_{name}, got {low!r} and {high!r}")


def _check_decimals(decimals: int | None) -> None:
    if decimals is not None and not 0 <= decimals <= 8:
        raise ConfigError(f"decimals must be None or 0..8, got {decimals!r}")


def _bar_interval(interval: Interval | str) -> tuple[Interval, int]:
    parsed = Interval.parse(interval) if isinstance(interval, str) else interval
    nanos = parsed.nanos
    if nanos is None:
        raise ConfigError(f"bars() needs a fixed bar size (seconds to weeks), not {parsed.label}")
    return parsed, nanos


def _pricer(min_price: float, max_price: float, decimals: int | None) -> Callable[[float], float]:
    # Rounding and clamping are both monotonic, so they keep low <= open, close <= high and
    # bid <= ask; clamping last keeps every price inside the bounds.
    def price(value: float) -> float:
        if decimals is not None:
            value = round(value, decimals)
        return min(max(value, min_price), max_price)

    return price


# -- bars ------------------------------------------------------------------------------------


def bars(
    *,
    symbols: Sequence[str] = DEFAULT_SYMBOLS,
    interval: Interval | str = "1m",
    min_price: float = 1.0,
    max_price: float = 10_000.0,
    min_size: float = 0.0,
    max_size: float = 1_000_000.0,
    min_bars: int = 1,
    max_bars: int = 50,
    gaps: bool = False,
    regimes: int = 1,
    start_ns: int = DEFAULT_START_NS,
    decimals: int | None = 2,
) -> st.SearchStrategy[list[Bar]]:
    """Lists of final bars for ``symbols``, merged in ``ts_event`` order (ties in the order of
    ``symbols``).

    Each symbol gets ``min_bars`` to ``max_bars`` bars of ``interval``, the first opening at
    ``start_ns`` (keep it a whole second, as on the wire), each final one interval after its
    open (``ts_recv == ts_event``). Prices follow a random walk kept within
    ``[min_price, max_price]`` and rounded to ``decimals`` (None: unrounded); each bar opens at
    the previous close, its high and low add wicks. Volumes lie in ``[min_size, max_size]``.
    With ``gaps``, some bars are followed by missing periods (and the next bar may open away
    from the last close). ``regimes`` is the most drift/volatility regimes a sequence is split
    into (1: one regime throughout).

    Every bar costs a few Hypothesis draws: a large ``min_bars`` makes the smallest example
    large, which Hypothesis' ``large_base_example`` health check reports.
    """
    codes = check_symbols(symbols)
    parsed, nanos = _bar_interval(interval)
    _check_prices(min_price, max_price)
    _check_sizes(min_size, max_size)
    _check_counts("bars", min_bars, max_bars)
    _check_decimals(decimals)
    if regimes < 1:
        raise ConfigError(f"regimes must be at least 1, got {regimes!r}")
    if start_ns < 0:
        raise ConfigError(f"start_ns must be >= 0, got {start_ns!r}")
    price = _pricer(min_price, max_price, decimals)
    return _bar_lists(
        codes=codes,
        label=parsed.label,
        nanos=nanos,
        min_price=min_price,
        max_price=max_price,
        min_size=min_size,
        max_size=max_size,
        min_bars=min_bars,
        max_bars=max_bars,
        gaps=gaps,
        regimes=regimes,
        start_ns=start_ns,
        price=price,
    )


@st.composite
def _bar_lists(
    draw: st.DrawFn,
    *,
    codes: tuple[str, ...],
    label: str,
    nanos: int,
    min_price: float,
    max_price: float,
    min_size: float,
    max_size: float,
    min_bars: int,
    max_bars: int,
    gaps: bool,
    regimes: int,
    start_ns: int,
    price: Callable[[float], float],
) -> list[Bar]:
    keyed: list[tuple[int, int, Bar]] = []
    for order, code in enumerate(codes):
        count = draw(st.integers(min_bars, max_bars), label=f"{code} bars")
        plan = draw(_regime_plan(count, regimes))
        log_low, log_high = math.log(min_price), math.log(max_price)
        close = price(math.exp(log_low + draw(st.floats(0, 1)) * (log_high - log_low)))
        ts = start_ns
        gapped = False
        for index in range(count):
            drift, vol = plan[index]
            shock = draw(st.floats(-_MAX_SHOCK, _MAX_SHOCK))
            # One draw splits the wicks: fewer draws keep generation fast (each costs ~30 us).
            wick = draw(st.floats(0, 1))
            jump = draw(st.floats(-_MAX_SHOCK, _MAX_SHOCK)) if gapped else 0.0
            o = price(close * math.exp(vol * jump))
            c = price(o * math.exp(drift + vol * shock))
            h = price(max(o, c) * math.exp(vol * wick))
            lo = price(min(o, c) * math.exp(-vol * (1 - wick)))
            volume = draw(st.floats(min_size, max_size))
            bar = Bar(
                symbol=code,
                interval=label,
                ts_open=ts,
                open=o,
                high=h,
                low=lo,
                close=c,
                volume=volume,
                ts_event=ts + nanos,
                ts_recv=ts + nanos,
            )
            keyed.append((bar.ts_event, order, bar))
            close = c
            skipped = 0
            if gaps and draw(st.integers(0, 9)) == 9:
                skipped = draw(st.integers(1, _MAX_GAP_PERIODS))
            gapped = skipped > 0
            ts += nanos * (1 + skipped)
    keyed.sort(key=lambda item: (item[0], item[1]))
    return [bar for _, _, bar in keyed]


@st.composite
def _regime_plan(draw: st.DrawFn, count: int, regimes: int) -> list[tuple[float, float]]:
    """(drift, volatility) for each of ``count`` bars."""
    if count == 0:
        return []
    changes: list[int] = []
    if regimes > 1 and count > 1:
        changes = sorted(
            draw(
                st.sets(st.integers(1, count - 1), max_size=min(regimes - 1, count - 1)),
            )
        )
    plan: list[tuple[float, float]] = []
    bounds = [0, *changes, count]
    for start, end in itertools.pairwise(bounds):
        drift = draw(st.floats(-_MAX_DRIFT, _MAX_DRIFT))
        vol = draw(st.floats(0, _MAX_VOLATILITY))
        plan.extend([(drift, vol)] * (end - start))
    return plan


# -- quotes ----------------------------------------------------------------------------------


def quotes(
    *,
    symbols: Sequence[str] = DEFAULT_SYMBOLS,
    min_price: float = 1.0,
    max_price: float = 10_000.0,
    min_size: float = 0.0,
    max_size: float = 1_000_000.0,
    min_quotes: int = 1,
    max_quotes: int = 50,
    max_spread: float = 0.01,
    start_ns: int = DEFAULT_START_NS,
    decimals: int | None = 2,
) -> st.SearchStrategy[list[Quote]]:
    """Lists of quote snapshots for ``symbols``, merged in ``ts_event`` order.

    Per symbol, ``min_quotes`` to ``max_quotes`` quotes at strictly increasing whole
    milliseconds from ``start_ns`` (the wire's resolution), with ``bid <= ask`` (a spread of at
    most ``max_spread`` of the mid price; 0 gives locked quotes), ``last_price`` between them,
    sizes in ``[min_size, max_size]``, a non-decreasing session ``volume`` and ``status``
    ``"OPEN"``. Prices stay in ``[min_price, max_price]``, rounded to ``decimals``.
    """
    codes = check_symbols(symbols)
    _check_prices(min_price, max_price)
    _check_sizes(min_size, max_size)
    _check_counts("quotes", min_quotes, max_quotes)
    _check_decimals(decimals)
    if not 0 <= max_spread < 1:
        raise ConfigError(f"max_spread must be in [0, 1), got {max_spread!r}")
    if start_ns < 0 or start_ns % NANOS_PER_MILLI:
        raise ConfigError(f"start_ns must be whole milliseconds >= 0, got {start_ns!r}")
    return _quote_lists(
        codes=codes,
        min_price=min_price,
        max_price=max_price,
        min_size=min_size,
        max_size=max_size,
        min_quotes=min_quotes,
        max_quotes=max_quotes,
        max_spread=max_spread,
        start_ns=start_ns,
        price=_pricer(min_price, max_price, decimals),
    )


@st.composite
def _quote_lists(
    draw: st.DrawFn,
    *,
    codes: tuple[str, ...],
    min_price: float,
    max_price: float,
    min_size: float,
    max_size: float,
    min_quotes: int,
    max_quotes: int,
    max_spread: float,
    start_ns: int,
    price: Callable[[float], float],
) -> list[Quote]:
    keyed: list[tuple[int, int, Quote]] = []
    for order, code in enumerate(codes):
        count = draw(st.integers(min_quotes, max_quotes), label=f"{code} quotes")
        log_low, log_high = math.log(min_price), math.log(max_price)
        mid = math.exp(log_low + draw(st.floats(0, 1)) * (log_high - log_low))
        ts = start_ns
        volume = 0.0
        for _ in range(count):
            ts += draw(st.integers(1, _MAX_QUOTE_STEP_MS)) * NANOS_PER_MILLI
            mid = min(max(mid * math.exp(0.01 * draw(st.floats(-3, 3))), min_price), max_price)
            half = mid * draw(st.floats(0, max_spread)) / 2
            bid, ask = price(mid - half), price(mid + half)
            last = min(max(price(bid + (ask - bid) * draw(st.floats(0, 1))), bid), ask)
            volume += draw(st.floats(min_size, max_size))
            quote = Quote(
                symbol=code,
                bid=bid,
                ask=ask,
                bid_size=draw(st.floats(min_size, max_size)),
                ask_size=draw(st.floats(min_size, max_size)),
                last_price=last,
                volume=volume,
                status="OPEN",
                ts_last=ts,
                ts_event=ts,
                ts_recv=ts,
            )
            keyed.append((ts, order, quote))
    keyed.sort(key=lambda item: (item[0], item[1]))
    return [quote for _, _, quote in keyed]
