"""Sized orders (docs/execution.md, section 8): size= on buy and sell, the order_target_*
methods, lot rounding, the cash limit, open market orders, and the errors for bad input."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from factories import bar

from framework import (
    Bar,
    ConfigError,
    Event,
    ListFeed,
    OrderRejected,
    ParameterError,
    Strategy,
    WarmupCompleted,
    WarmupStarted,
    backtest,
)
from framework.execution import BrokerConfig, LotSizes, Order, OrderType
from framework.execution._sizing import lots_worth

Action = Callable[["Scripted", Bar], Any]


class Scripted(Strategy):
    """Runs the action given for each bar index (of any symbol) and keeps what it returned."""

    def __init__(self, script: dict[int, Action]) -> None:
        super().__init__()
        self.script = script

    def on_start(self) -> None:
        self.index = 0
        self.returned: dict[int, Any] = {}
        self.rejected: list[OrderRejected] = []

    def on_bar(self, bar: Bar) -> None:
        action = self.script.get(self.index)
        if action is not None:
            self.returned[self.index] = action(self, bar)
        self.index += 1

    def on_order(self, event: Event) -> None:
        if isinstance(event, OrderRejected):
            self.rejected.append(event)


def run(
    script: dict[int, Action],
    events: list[Event] | None = None,
    *,
    closes: tuple[float, ...] = (100.0, 100.0, 100.0, 100.0),
    cash: float = 10_000.0,
    lots: LotSizes | None = None,
    **options: Any,
) -> tuple[Scripted, Any]:
    """Bars of AAPL closing at ``closes`` (each opening at the close before it), unless
    ``events`` are given; a market order sent on bar i fills at bar i + 1's open."""
    if events is None:
        events = []
        for i, c in enumerate(closes):
            o = closes[i - 1] if i else c
            events.append(bar(i, c, open=o, high=max(o, c) + 1, low=min(o, c) - 1))
    strategy = Scripted(script)
    if lots is not None:
        options["broker_config"] = BrokerConfig(lots=lots)
    result = backtest(strategy, [ListFeed(events)], cash=cash, **options)
    return strategy, result


def sent(order: Order | None) -> tuple[str, float] | None:
    return None if order is None else (order.side.value, order.qty)


def positions(result: Any) -> dict[str, float]:
    """The open positions at the end, from the fills."""
    held: dict[str, float] = {}
    for fill in result.fills:
        held[fill.symbol] = held.get(fill.symbol, 0.0) + fill.side.sign * fill.qty
    return {symbol: qty for symbol, qty in held.items() if qty}


# -- size= on buy and sell ---------------------------------------------------------------------


def test_buy_with_size_buys_that_fraction_of_equity_at_the_last_price_in_whole_units():
    s, result = run({0: lambda s, b: s.buy("AAPL", size=0.5)}, closes=(33.0, 34.0))
    # 0.5 x 10,000 / 33 = 151.5: 151 shares, filled at the next open.
    assert sent(s.returned[0]) == ("buy", 151.0)
    assert s.returned[0].type is OrderType.MARKET
    assert [(f.qty, f.price) for f in result.fills] == [(151.0, 33.0)]


def test_sell_with_size_sells_short_when_flat_and_is_not_limited_by_cash():
    script: dict[int, Action] = {
        0: lambda s, b: s.sell("AAPL", size=1.0),
        1: lambda s, b: s.sell("AAPL", size=0.25),
    }
    s, result = run(script)
    # Equity stays 10,000 at a flat price: a full short, then another quarter of equity.
    assert sent(s.returned[0]) == ("sell", 100.0)
    assert sent(s.returned[1]) == ("sell", 25.0)
    assert positions(result)["AAPL"] == -125.0


def test_size_keeps_the_other_options_of_the_order():
    def orders(s: Scripted, b: Bar) -> tuple[Order | None, ...]:
        return (
            s.buy("AAPL", size=0.5, limit=95.0, tif="day"),
            s.sell("AAPL", size=0.2, trail=2.0),
        )

    s, _ = run({0: orders})
    limit, trailing = s.returned[0]
    assert (limit.type, limit.limit_price, limit.tif.value, limit.qty) == (
        OrderType.LIMIT,
        95.0,
        "day",
        50.0,
    )
    assert (trailing.type, trailing.trail_offset, trailing.qty) == (
        OrderType.TRAILING_STOP_MARKET,
        2.0,
        20.0,
    )


def test_a_sized_buy_never_spends_more_than_the_cash_left():
    script: dict[int, Action] = {
        0: lambda s, b: s.buy("AAPL", size=0.9),
        1: lambda s, b: s.buy("AAPL", size=1.0),
        2: lambda s, b: s.buy("AAPL", size=0.5),
    }
    s, result = run(script)
    assert sent(s.returned[0]) == ("buy", 90.0)
    # Equity is 10,000 but cash is 1,000: 10 shares, not 100.
    assert sent(s.returned[1]) == ("buy", 10.0)
    # No cash left: less than a share, so nothing is sent.
    assert s.returned[2] is None
    assert len(result.orders) == 2
    assert positions(result)["AAPL"] == 100.0


def test_size_none_means_no_size():
    s, _ = run({0: lambda s, b: s.buy("AAPL", 3, size=None)})
    assert sent(s.returned[0]) == ("buy", 3.0)


# -- order_target_* ----------------------------------------------------------------------------


def test_order_target_percent_moves_the_position_toward_the_fraction_and_never_past_it():
    script: dict[int, Action] = {
        0: lambda s, b: s.order_target_percent("AAPL", 0.9),
        1: lambda s, b: s.order_target_percent("AAPL", 0.3),
        2: lambda s, b: s.order_target_percent("AAPL", -0.25),
        3: lambda s, b: s.order_target_percent("AAPL", 0.0),
    }
    s, result = run(script, closes=(100.0, 110.0, 90.0, 95.0, 95.0))
    assert sent(s.returned[0]) == ("buy", 90.0)
    # Filled at 100, marked at 110: equity 10,900, target 3,270 = 29.7 shares: sell 60.3
    # rounded toward zero, 61 would pass the target.
    assert sent(s.returned[1]) == ("sell", 60.0)
    # Filled at 110; at 90 equity is 10,900 - 30 x 20 = 10,300: target -2,575 = -28.6 shares
    # from 30: sell 58.6, 58.
    assert sent(s.returned[2]) == ("sell", 58.0)
    # Zero closes the whole position.
    assert sent(s.returned[3]) == ("buy", 28.0)
    assert "AAPL" not in positions(result)


def test_order_target_value_sizes_the_difference_of_values_and_reverses_through_zero():
    script: dict[int, Action] = {
        0: lambda s, b: s.order_target_value("AAPL", 1_050.0),
        1: lambda s, b: s.order_target_value("AAPL", -500.0),
        2: lambda s, b: s.order_target_value("AAPL", -500.0),
    }
    s, result = run(script)
    assert sent(s.returned[0]) == ("buy", 10.0)
    assert sent(s.returned[1]) == ("sell", 15.0)
    assert s.returned[2] is None
    assert positions(result)["AAPL"] == -5.0


def test_order_target_qty_uses_the_quantity_as_given():
    script: dict[int, Action] = {
        0: lambda s, b: s.order_target_qty("AAPL", 2.5),
        1: lambda s, b: s.order_target_qty("AAPL", 2.5),
        2: lambda s, b: s.order_target_qty("AAPL", -1_000),
    }
    s, result = run(script)
    # Not rounded to the lot, and not limited by cash (10,000 buys 100 shares).
    assert sent(s.returned[0]) == ("buy", 2.5)
    assert s.returned[1] is None
    assert sent(s.returned[2]) == ("sell", 1_002.5)
    assert positions(result)["AAPL"] == -1_000.0


def test_a_target_of_zero_closes_a_position_that_is_not_a_whole_lot():
    script: dict[int, Action] = {
        0: lambda s, b: s.buy("AAPL", 2.75),
        1: lambda s, b: s.order_target_percent("AAPL", 0),
        2: lambda s, b: s.order_target_value("AAPL", 0),
    }
    s, result = run(script)
    assert sent(s.returned[1]) == ("sell", 2.75)
    assert s.returned[2] is None
    assert "AAPL" not in positions(result)


def test_open_market_orders_count_toward_the_target_and_conditional_orders_do_not():
    def twice(s: Scripted, b: Bar) -> tuple[Order | None, ...]:
        s.buy("AAPL", 50, limit=50.0)  # far below the market: may never fill
        return (
            s.order_target_qty("AAPL", 10),
            s.order_target_qty("AAPL", 10),
            s.order_target_percent("AAPL", 0.1),
            s.order_target_qty("AAPL", 4),
        )

    s, result = run({0: twice})
    first, second, percent, fewer = s.returned[0]
    assert sent(first) == ("buy", 10.0)
    # The first is still open: the position with it is already at the target.
    assert second is None
    assert percent is None  # 10 shares at 100 are 10 % of 10,000
    assert sent(fewer) == ("sell", 6.0)
    assert positions(result)["AAPL"] == 4.0


def test_open_market_orders_count_while_latency_holds_them_back():
    # With 90 s of latency an order sent at the end of bar 0 reaches the market after bar 2
    # opened and fills at bar 3's open: the calls on bars 1 and 2 must not send it again.
    script: dict[int, Action] = {
        0: lambda s, b: s.order_target_percent("AAPL", 0.5),
        1: lambda s, b: s.order_target_percent("AAPL", 0.5),
        2: lambda s, b: s.order_target_percent("AAPL", 0.5),
    }
    s, result = run(script, broker_config=BrokerConfig(latency_ms=90_000))
    assert sent(s.returned[0]) == ("buy", 50.0)
    assert s.returned[1] is None
    assert s.returned[2] is None
    assert [f.ts_event for f in result.fills] == [bar(3, 100.0).ts_open]
    assert positions(result)["AAPL"] == 50.0


def test_the_cash_limit_counts_open_market_orders_of_every_symbol():
    events: list[Event] = []
    for i in range(3):
        events += [bar(i, 100.0, symbol="A"), bar(i, 50.0, symbol="B")]

    def rotate(s: Scripted, b: Bar) -> tuple[Order | None, ...]:
        return s.order_target_percent("A", 0), s.order_target_percent("B", 0.9)

    script: dict[int, Action] = {
        # Bar 1 is B's first: both symbols have a price.
        1: lambda s, b: (s.order_target_percent("A", 0.9), s.order_target_percent("B", 0.9)),
        # The sale of A is counted as cash for B.
        3: rotate,
    }
    s, result = run(script, events)
    a, b = s.returned[1]
    assert sent(a) == ("buy", 90.0)
    # 9,000 of the 10,000 are promised to A: B gets 1,000 worth, not 9,000.
    assert sent(b) == ("buy", 20.0)
    close_a, more_b = s.returned[3]
    assert sent(close_a) == ("sell", 90.0)
    assert sent(more_b) == ("buy", 160.0)
    assert positions(result) == {"B": 180.0}


def test_the_part_of_a_buy_that_covers_a_short_is_never_limited_by_cash():
    events: list[Event] = [
        bar(0, 100.0, symbol="B"),
        bar(0, 100.0, symbol="A"),
        bar(1, 100.0, symbol="B"),
        bar(1, 100.0, symbol="A"),
        bar(2, 100.0, symbol="B"),
        bar(2, 150.0, symbol="A", open=100.0),
        bar(3, 100.0, symbol="B"),
        bar(3, 150.0, symbol="A"),
    ]
    script: dict[int, Action] = {
        1: lambda s, b: (s.buy("B", 90), s.sell("A", 50)),
        # Cash 1,000 + 5,000 = 6,000; the short is worth 7,500 at 150; equity 7,500.
        5: lambda s, b: s.order_target_percent("A", 0.1),
    }
    s, result = run(script, events)
    # Target +750: 55 shares to buy; cash buys 40; covering the short takes 50, and is allowed.
    assert sent(s.returned[5]) == ("buy", 50.0)
    assert positions(result) == {"B": 90.0}


def test_a_bust_account_sizes_nothing_but_can_still_close():
    script: dict[int, Action] = {
        0: lambda s, b: s.order_target_qty("AAPL", -150),
        2: lambda s, b: (
            s.buy("AAPL", size=0.5),
            s.order_target_percent("AAPL", 0.5),
            s.order_target_percent("AAPL", 0),
        ),
    }
    # Short 150 at 100 with 10,000: at 200 equity is 10,000 - 150 x 100 < 0.
    s, result = run(script, closes=(100.0, 100.0, 200.0, 200.0))
    size, percent, close = s.returned[2]
    assert size is None
    assert percent is None
    assert sent(close) == ("buy", 150.0)
    assert positions(result) == {}


def test_sized_orders_during_warm_up_come_back_refused_like_any_order():
    events: list[Event] = [
        WarmupStarted(feed="f", bars=2, ts_event=bar(0, 100.0).ts_event, ts_recv=0),
        bar(0, 100.0),
        bar(1, 100.0),
        WarmupCompleted(feed="f", bars=2, ts_event=bar(1, 100.0).ts_event, ts_recv=0),
        bar(2, 100.0),
        bar(3, 100.0),
    ]
    script: dict[int, Action] = {
        1: lambda s, b: (s.order_target_percent("AAPL", 0.5), s.sell("AAPL", size=0.1)),
        2: lambda s, b: s.order_target_percent("AAPL", 0.5),
    }
    s, result = run(script, events)
    warm = s.returned[1]
    assert [sent(o) for o in warm] == [("buy", 50.0), ("sell", 10.0)]
    assert [r.reason for r in s.rejected] == ["warmup", "warmup"]
    assert sent(s.returned[2]) == ("buy", 50.0)
    assert positions(result)["AAPL"] == 50.0


# -- lots --------------------------------------------------------------------------------------


def fx_bars(price: float) -> list[Event]:
    return [bar(i, price, symbol="FX:EURUSD") for i in range(3)]


def test_lot_sizes_round_sized_quantities_toward_zero_per_symbol():
    lots = LotSizes(symbols={"FX:EURUSD": 1_000})
    s, result = run(
        {0: lambda s, b: s.order_target_value("FX:EURUSD", 50_500.0)},
        fx_bars(1.1),
        cash=100_000.0,
        lots=lots,
    )
    # 50,500 / 1.1 = 45,909.09: 45 lots of 1,000.
    assert sent(s.returned[0]) == ("buy", 45_000.0)
    assert positions(result)["FX:EURUSD"] == 45_000.0


def test_fractional_quantities_for_crypto_with_a_small_lot_or_none():
    def buys(s: Scripted, b: Bar) -> tuple[Order | None, ...]:
        return s.buy("BTC", size=0.1), s.buy("ETH", size=0.1)

    events: list[Event] = []
    for i in range(2):
        events += [bar(i, 30_000.0, symbol="BTC"), bar(i, 1_234.5, symbol="ETH")]
    lots = LotSizes(default=None, symbols={"BTC": 0.0001})
    s, _ = run({1: buys}, events, lots=lots)
    btc, eth = s.returned[1]
    # 1,000 / 30,000 = 0.0333...: 333 lots of 0.0001, exactly 0.0333.
    assert btc.qty == 0.0333
    # No lot: the quantity as computed.
    assert eth.qty == pytest.approx(1_000 / 1_234.5, rel=1e-15)


def test_without_lot_sizes_a_share_is_the_smallest_quantity():
    s, _ = run({0: lambda s, b: s.buy("AAPL", size=0.009)})
    # 90 worth at 100: less than one share.
    assert s.returned[0] is None


def test_rounding_is_decimal_so_binary_float_noise_does_not_lose_a_lot():
    assert 0.9 / 3.0 / 0.1 < 3  # what binary floats say
    assert lots_worth(0.9, 3.0, 0.1) == 0.3
    assert lots_worth(100_000.0, 0.1, 1.0) == 1_000_000.0
    assert lots_worth(999.99, 100.0, 1.0) == 9.0
    assert lots_worth(1_000.0, 3.0, None) == 1_000.0 / 3.0
    # A buy's cash limit, and the short it covers.
    assert lots_worth(5_000.0, 100.0, 1.0, cash=1_234.0) == 12.0
    assert lots_worth(5_000.0, 100.0, 1.0, cash=100.0, cover=30.0) == 30.0
    assert lots_worth(5_000.0, 100.0, 1.0, cash=-500.0) == 0.0


# -- errors ------------------------------------------------------------------------------------


def raises(call: Action, error: type[Exception], match: str) -> None:
    def check(s: Scripted, b: Bar) -> None:
        with pytest.raises(error, match=match):
            call(s, b)

    s, result = run({0: check, 1: lambda s, b: s.buy("AAPL", 1)})
    assert s.returned == {0: None, 1: s.returned[1]}  # the run goes on after the error
    assert len(result.orders) == 1  # nothing was sent by the failed call


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda s, b: s.buy("AAPL", 5, size=0.5), r"buy\(\) takes a quantity or size="),
        (lambda s, b: s.sell("AAPL", 5, size=0.5), r"sell\(\) takes a quantity or size="),
        (lambda s, b: s.buy("AAPL"), "order quantity missing"),
        (lambda s, b: s.sell("AAPL", limit=101.0), "order quantity missing"),
        (lambda s, b: s.sell("AAPL", trail=1.0), "order quantity missing"),
        (lambda s, b: s.buy("AAPL", size=0), r"size is a fraction of equity in \(0, 1\]"),
        (lambda s, b: s.buy("AAPL", size=1.5), r"in \(0, 1\].*no margin accounts"),
        (lambda s, b: s.sell("AAPL", size=-0.5), r"in \(0, 1\]"),
        (lambda s, b: s.buy("AAPL", size=math.nan), r"in \(0, 1\]"),
        (lambda s, b: s.buy("AAPL", size="0.5"), "size is a fraction of equity"),
        (lambda s, b: s.buy("AAPL", size=True), "size is a fraction of equity"),
        (lambda s, b: s.order_target_percent("AAPL", 1.5), r"fraction.*\[-1, 1\]"),
        (lambda s, b: s.order_target_percent("AAPL", -2), r"fraction.*\[-1, 1\]"),
        (lambda s, b: s.order_target_percent("AAPL", math.inf), r"\[-1, 1\]"),
        (lambda s, b: s.order_target_value("AAPL", math.nan), "value must be a finite"),
        (lambda s, b: s.order_target_value("AAPL", "1000"), "value must be a number"),
        (lambda s, b: s.order_target_qty("AAPL", math.inf), "qty must be a finite"),
        (lambda s, b: s.order_target_qty("AAPL", None), "qty must be a number"),
    ],
)
def test_bad_sizing_arguments_raise_parameter_errors(call, match):
    raises(call, ParameterError, match)


@pytest.mark.parametrize(
    "call",
    [
        lambda s, b: s.order_target_percent("MSFT", 0.5),
        lambda s, b: s.order_target_value("MSFT", 100.0),
        lambda s, b: s.buy("MSFT", size=0.5),
        lambda s, b: s.sell("MSFT", size=0.5),
    ],
)
def test_sizing_a_symbol_without_a_price_is_a_config_error_naming_it(call):
    raises(call, ConfigError, "cannot size an order for MSFT: no price yet")


def test_target_qty_and_closing_need_no_price():
    s, _ = run({0: lambda s, b: (s.order_target_qty("MSFT", 0), s.order_target_percent("MSFT", 0))})
    assert s.returned[0] == (None, None)


def test_numpy_numbers_are_numbers():
    script: dict[int, Action] = {
        0: lambda s, b: s.order_target_qty("AAPL", np.int64(3)),
        1: lambda s, b: s.buy("AAPL", size=np.float64(0.1)),
    }
    s, _ = run(script)
    assert sent(s.returned[0]) == ("buy", 3.0)
    assert sent(s.returned[1]) == ("buy", 10.0)


def test_parameter_errors_are_value_errors():
    assert issubclass(ParameterError, ValueError)
    assert issubclass(ConfigError, ValueError)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"default": 0}, "LotSizes default: a lot size is a finite number > 0 or None"),
        ({"default": -1.0}, "LotSizes default"),
        ({"default": math.inf}, "LotSizes default"),
        ({"default": "1"}, "LotSizes default: a lot size is a number > 0 or None"),
        ({"symbols": {"FX:EURUSD": 0}}, "LotSizes FX:EURUSD"),
        ({"symbols": [("FX:EURUSD", 1000)]}, "a mapping of symbol to lot size"),
    ],
)
def test_bad_lot_sizes_are_config_errors(options, match):
    with pytest.raises(ConfigError, match=match):
        LotSizes(**options)


def test_lot_sizes_default_to_whole_units_and_take_none_for_any_fraction():
    assert BrokerConfig().lots.of("AAPL") == 1.0
    lots = LotSizes(default=None, symbols={"FX:EURUSD": 1000, "BTC": None})
    assert (lots.of("ETH"), lots.of("FX:EURUSD"), lots.of("BTC")) == (None, 1000.0, None)
