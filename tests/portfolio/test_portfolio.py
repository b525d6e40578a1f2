import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from framework import OrderSide
from framework.portfolio import Portfolio
from tests.factories import fill


def test_average_price_realised_pnl_and_flip():
    p = Portfolio(1_000.0)
    p.apply_fill(fill(OrderSide.BUY, 10, 10.0))
    p.apply_fill(fill(OrderSide.BUY, 10, 12.0))
    pos = p.position("X")
    assert (pos.qty, pos.avg_price) == (20, 11.0)
    p.apply_fill(fill(OrderSide.SELL, 25, 13.0, ts=5))  # closes 20 (+40), opens 5 short at 13
    assert (pos.qty, pos.avg_price, pos.realized_pnl) == (-5, 13.0, 40.0)
    (trade,) = p.closed_trades
    assert (trade.side, trade.qty, trade.entry_price, trade.exit_price, trade.pnl) == (
        1,
        20.0,
        11.0,
        13.0,
        40.0,
    )


trade_steps = st.lists(
    st.tuples(
        st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
        st.integers(1, 50).map(float),
        st.integers(1, 500).map(lambda c: c / 4),
    ),
    min_size=1,
    max_size=40,
)


@given(trade_steps, st.integers(1, 500).map(lambda c: c / 4))
def test_equity_identity_and_pnl_conservation(steps, mark):
    p = Portfolio(10_000.0)
    for ts, (side, qty, price) in enumerate(steps):
        p.apply_fill(fill(side, qty, price, ts))
    p.mark("X", mark, len(steps))
    pos = p.position("X")
    assert pos.qty == sum(q * s.sign for s, q, _ in steps)
    # equity = cash + qty * mark, and equals start + realised + unrealised
    assert p.equity() == pytest.approx(p.cash + pos.qty * mark)
    assert p.equity() == pytest.approx(
        10_000.0 + pos.realized_pnl + pos.unrealized_pnl(mark), rel=1e-9, abs=1e-6
    )
    # closed trades' pnl is the realised pnl of the closed cycles
    closed = sum(t.pnl for t in p.closed_trades)
    if pos.qty == 0:
        assert closed == pytest.approx(pos.realized_pnl, abs=1e-6)


def test_several_symbols_long_and_short_with_commissions():
    p = Portfolio(10_000.0)
    p.apply_fill(fill(OrderSide.BUY, 10, 50.0, symbol="A"))
    short = fill(OrderSide.SELL, 4, 200.0, symbol="B")
    p.apply_fill(attrs.evolve(short, commission=2.0))
    p.mark("A", 55.0, 1)
    p.mark("B", 190.0, 2)
    assert p.cash == 10_000.0 - 500.0 + 800.0 - 2.0
    assert p.market_value() == 10 * 55.0 - 4 * 190.0
    assert p.gross_exposure() == 10 * 55.0 + 4 * 190.0
    assert p.net_exposure() == 10 * 55.0 - 4 * 190.0
    assert p.unrealized_pnl() == 10 * 5.0 + 4 * 10.0
    assert p.realized_pnl() == 0.0
    assert p.equity() == pytest.approx(10_000.0 + 90.0 - 2.0)
    assert set(p.open_positions()) == {"A", "B"}
    p.apply_fill(fill(OrderSide.BUY, 4, 180.0, symbol="B"))
    assert p.realized_pnl() == 80.0 and set(p.open_positions()) == {"A"}
    times, values = p.equity_curve
    assert list(times) == [1, 2] and values[-1] == pytest.approx(10_000.0 + 50.0 + 40.0 - 2.0)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C", "D"]),
            st.sampled_from(OrderSide),
            st.floats(0.001, 1e4),
            st.floats(0.01, 1e4),
            st.floats(0.01, 1e4),
        ),
        max_size=30,
    )
)
def test_equity_is_the_sum_over_open_positions_term_by_term(steps):
    # The same float as adding each open position's value to the cash in order: results
    # reproduce bit for bit, however equity() computes it.
    p = Portfolio(10_000.0)
    for ts, (symbol, side, qty, price, mark) in enumerate(steps):
        p.apply_fill(fill(side, qty, price, ts=ts, symbol=symbol))
        if ts % 3:
            p.mark(symbol, mark, ts)
        value = p.cash
        for name, position in p.open_positions().items():
            value += position.qty * p.last_price.get(name, position.avg_price)
        assert repr(p.equity()) == repr(value)
