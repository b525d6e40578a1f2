"""Hypothesis strategies for the records a run keeps: fills, closed trades, orders.

Each takes the strategies of the values its fields draw from, so a test chooses the range it
checks: odd values a column must keep aside, or values a result can print.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from framework import OrderFilled, OrderSide
from framework.execution import Order, OrderStatus, OrderType, TimeInForce
from framework.portfolio import Trade


def fill_records(
    *,
    ids: st.SearchStrategy[Any],
    symbols: st.SearchStrategy[Any],
    numbers: st.SearchStrategy[Any],
    times: st.SearchStrategy[Any],
    flags: st.SearchStrategy[Any],
) -> st.SearchStrategy[OrderFilled]:
    return st.builds(
        OrderFilled,
        order_id=ids,
        symbol=symbols,
        side=st.sampled_from(OrderSide),
        qty=numbers,
        price=numbers,
        commission=numbers,
        ts_event=times,
        ts_recv=times,
        is_intrabar_guess=flags,
    )


def trade_records(
    *,
    symbols: st.SearchStrategy[Any],
    sides: st.SearchStrategy[Any],
    numbers: st.SearchStrategy[Any],
    times: st.SearchStrategy[Any],
) -> st.SearchStrategy[Trade]:
    return st.builds(
        Trade,
        symbol=symbols,
        side=sides,
        qty=numbers,
        entry_time=times,
        entry_price=numbers,
        exit_time=times,
        exit_price=numbers,
        pnl=numbers,
        commission=numbers,
    )


def order_records(
    *,
    ids: st.SearchStrategy[Any],
    strategy_ids: st.SearchStrategy[Any],
    symbols: st.SearchStrategy[Any],
    numbers: st.SearchStrategy[Any],
    times: st.SearchStrategy[Any],
    reasons: st.SearchStrategy[Any],
    **more: st.SearchStrategy[Any],
) -> st.SearchStrategy[Order]:
    """Orders with the fields every test varies; ``more`` draws others (``pending``, ...)."""
    return st.builds(
        Order,
        order_id=ids,
        strategy_id=strategy_ids,
        symbol=symbols,
        side=st.sampled_from(OrderSide),
        qty=numbers,
        type=st.sampled_from(OrderType),
        limit_price=st.none() | numbers,
        stop_price=st.none() | numbers,
        tif=st.sampled_from(TimeInForce),
        ts_submitted=times,
        status=st.sampled_from(OrderStatus),
        filled_qty=numbers,
        filled_value=numbers,
        commission=numbers,
        parent_id=st.none() | ids,
        oco_id=st.none() | ids,
        reason=reasons,
        **more,
    )
