import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from framework import OrderFilled, OrderSide
from framework._drafts import unchecked_constructor
from framework.portfolio._trades import Trade

make_fill = unchecked_constructor(OrderFilled)


@given(
    order_id=st.integers(1, 2**40),
    side=st.sampled_from(OrderSide),
    qty=st.floats(0.001, 1e9),
    price=st.floats(0.001, 1e9),
    ts=st.integers(0, 2**62),
    guess=st.booleans(),
)
def test_an_unchecked_record_equals_the_checked_one(order_id, side, qty, price, ts, guess):
    fast = make_fill(order_id, "X:Y", side, qty, price, 0.5, ts, ts + 1, guess)
    checked = OrderFilled(
        order_id=order_id,
        symbol="X:Y",
        side=side,
        qty=qty,
        price=price,
        commission=0.5,
        ts_event=ts,
        ts_recv=ts + 1,
        is_intrabar_guess=guess,
    )
    assert type(fast) is OrderFilled
    assert (fast, hash(fast), repr(fast)) == (checked, hash(checked), repr(checked))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fast.price = 1.0  # type: ignore[misc]


def test_defaults_apply_as_declared():
    fill = make_fill(1, "X", OrderSide.BUY, 1.0, 2.0, 0.0, 3, 4)
    assert fill.is_intrabar_guess is False
    trade = unchecked_constructor(Trade)("X", 1, 2.0, 0, 10.0, 60, 11.0, 2.0, 0.0)
    assert trade == Trade(
        symbol="X",
        side=1,
        qty=2.0,
        entry_time=0,
        entry_price=10.0,
        exit_time=60,
        exit_price=11.0,
        pnl=2.0,
        commission=0.0,
    )


def test_classes_it_cannot_copy_are_refused_when_asked():
    @attrs.frozen(slots=True)
    class WithWeakref:
        x: int

    @attrs.frozen
    class WithDict:
        x: int

    for cls in (WithWeakref, WithDict):
        with pytest.raises(TypeError, match="weakref_slot=False"):
            unchecked_constructor(cls)
