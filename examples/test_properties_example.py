"""Property tests for SmaCross with the tradewire Hypothesis generators.

``bars(...)`` draws whole market histories: one or more symbols, gaps, regime changes in
drift and volatility. Each property runs the real engine over them in simulated time.
Hypothesis does not allow function-scoped fixtures inside ``@given``, so these tests build
their own :class:`~framework.testing.Backtester`, which is what the fixture returns.

The last test fuzzes a decoder (tradewire's own) with ``hostile_frames()``.
"""

import math
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framework import Bar, DecodeError, OrderAccepted, OrderFilled
from framework.adapters.insightsentry import decode_frame
from framework.testing import Backtester, assert_no_lookahead, bars, hostile_frames
from strategies.sma_cross import SmaCross

SYMBOLS = ["NASDAQ:AAPL", "NASDAQ:MSFT"]
markets = bars(symbols=SYMBOLS, min_bars=0, max_bars=120, gaps=True, regimes=3)
fast_lengths = st.integers(1, 8)
extra_lengths = st.integers(1, 12)
quantities = st.sampled_from([1.0, 10.0, 250.0])

#: Nothing here depends on time: no deadline per example, and no health check on how long the
#: inputs take to draw, so a busy CI machine cannot fail a correct property.
untimed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings(untimed, max_examples=50)
@given(markets, fast_lengths, extra_lengths, quantities)
def test_sma_cross_never_holds_more_than_its_quantity(market, fast, extra, qty):
    backtester = Backtester()
    strategy = SmaCross(fast=fast, slow=fast + extra, qty=qty)
    result = backtester(strategy, market)

    held: dict[str, float] = defaultdict(float)
    for fill in result.fills:
        held[fill.symbol] += fill.qty * fill.side.sign
        assert 0 <= held[fill.symbol] <= qty  # long only, one lot at most


@settings(untimed, max_examples=50)
@given(markets, fast_lengths, extra_lengths)
def test_sma_cross_never_trades_before_warm_up(market, fast, extra):
    slow = fast + extra
    backtester = Backtester()
    strategy = SmaCross(fast=fast, slow=slow)
    backtester(strategy, market)
    seen = backtester.seen(strategy)

    bars_seen: dict[str, int] = defaultdict(int)
    for event in seen.events:
        if isinstance(event, Bar):
            bars_seen[event.symbol] += 1
        elif isinstance(event, OrderAccepted):
            # `slow` bars fill the slow average; one more is needed to see a cross.
            assert bars_seen[event.symbol] >= slow + 1
    assert_no_lookahead(seen)


@settings(untimed, max_examples=50)
@given(markets, fast_lengths, extra_lengths)
def test_equity_is_cash_plus_positions_at_their_last_price(market, fast, extra):
    backtester = Backtester(cash=50_000.0)
    strategy = SmaCross(fast=fast, slow=fast + extra)
    result = backtester(strategy, market)
    seen = backtester.seen(strategy)

    cash = result.start_cash
    held: dict[str, float] = defaultdict(float)
    for fill in seen.of_type(OrderFilled):
        cash -= fill.qty * fill.side.sign * fill.price + fill.commission
        held[fill.symbol] += fill.qty * fill.side.sign
    last_close = {bar.symbol: bar.close for bar in seen.bars}
    expected = cash + sum(qty * last_close[symbol] for symbol, qty in held.items())
    assert math.isclose(result.final_equity, expected, rel_tol=1e-9, abs_tol=1e-6)


@untimed
@given(hostile_frames(max_bytes=4_096))
def test_the_decoder_rejects_every_hostile_frame_with_decode_error(message):
    with pytest.raises(DecodeError):
        decode_frame(message, max_bytes=4_096, recv_ns=0)
