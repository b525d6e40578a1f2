"""Commission and slippage models: each changes a result by what a hand calculation gives."""

from pathlib import Path

import pytest

from framework import ConfigError, OrderSide, backtest
from framework.execution import (
    BpsSlippage,
    BrokerConfig,
    FillModel,
    FixedCommission,
    NoCommission,
    NoSlippage,
    PercentageCommission,
    PerShareCommission,
    SpreadSlippage,
    TickSlippage,
    parse_commission,
    parse_slippage,
)
from strategies.sma_cross import SmaCross

SAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "data" / "AAPL.csv")


@pytest.mark.parametrize(
    ("model", "qty", "value", "expected"),
    [
        (PerShareCommission(0.005), 100, 1_000.0, 0.5),
        (PerShareCommission(0.005, minimum=1.0), 100, 1_000.0, 1.0),
        (PerShareCommission(0.005, minimum=1.0), 1_000, 1_000.0, 5.0),
        (PercentageCommission(0.1), 10, 2_500.0, 2.5),
        (PercentageCommission(0.1, minimum=5.0), 10, 2_500.0, 5.0),
        (FixedCommission(1.25), 7, 70.0, 1.25),
        (NoCommission(), 7, 70.0, 0.0),
        (PerShareCommission(0.005, minimum=1.0), 0, 0.0, 0.0),  # nothing filled, nothing paid
    ],
)
def test_commission_models_by_hand(model, qty, value, expected):
    assert model.order_commission(qty, value) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("model", "side", "expected"),
    [
        (TickSlippage(2, tick_size=0.05), OrderSide.BUY, 100.10),
        (TickSlippage(2, tick_size=0.05), OrderSide.SELL, 99.90),
        (BpsSlippage(5), OrderSide.BUY, 100.05),
        (BpsSlippage(5), OrderSide.SELL, 99.95),
        (SpreadSlippage(0.5), OrderSide.BUY, 100.1),  # half of the 0.2 spread
        (SpreadSlippage(0.5), OrderSide.SELL, 99.9),
        (NoSlippage(), OrderSide.BUY, 100.0),
    ],
)
def test_slippage_models_by_hand(model, side, expected):
    assert model.slipped_price(side, 100.0, 99.9, 100.1) == pytest.approx(expected)


def test_spread_slippage_is_nothing_without_a_quote():
    assert SpreadSlippage(0.5).slipped_price(OrderSide.BUY, 100.0, None, None) == 100.0


def test_the_minimum_is_per_order_across_partial_fills(make_desk):
    desk = make_desk(
        BrokerConfig(
            commission=PerShareCommission(0.5, minimum=3.0),
            fill_model=FillModel(quote_sizes=True),
        )
    )
    desk.quote(0, 10.0, 10.1)
    order = desk.buy(10)
    desk.quote(1, 10.0, 10.1, ask_size=4)  # 4 × 0.5 = 2 → the minimum 3
    desk.quote(2, 10.0, 10.1, ask_size=6)  # total 10 × 0.5 = 5 → 2 more
    assert [f.commission for f in desk.fills] == [3.0, 2.0]
    assert order.commission == 5.0 and desk.portfolio.commissions == 5.0
    assert desk.portfolio.cash == pytest.approx(100_000 - 10 * 10.1 - 5.0)


def test_fixed_commission_is_charged_once_per_order(make_desk):
    desk = make_desk(
        BrokerConfig(commission=FixedCommission(1.0), fill_model=FillModel(quote_sizes=True))
    )
    desk.quote(0, 10.0, 10.1)
    desk.buy(10)
    desk.quote(1, 10.0, 10.1, ask_size=4)
    desk.quote(2, 10.0, 10.1, ask_size=6)
    assert [f.commission for f in desk.fills] == [1.0, 0.0]


def test_spread_slippage_on_quotes_by_hand(make_desk):
    desk = make_desk(BrokerConfig(slippage=SpreadSlippage(0.5)))
    desk.quote(0, 10.0, 10.2)
    desk.buy(10)
    desk.quote(1, 10.0, 10.2)
    desk.sell(10)
    desk.quote(2, 10.0, 10.2)
    assert desk.prices() == [("buy", 10.0, pytest.approx(10.3)), ("sell", 10.0, pytest.approx(9.9))]
    assert desk.portfolio.equity() == pytest.approx(100_000 - 10 * 0.4)


def test_slippage_never_crosses_a_limit_price(make_desk):
    desk = make_desk(BrokerConfig(slippage=TickSlippage(10, tick_size=0.01)))
    desk.quote(0, 9.9, 10.1)
    desk.buy(1, limit=10.0)
    desk.sell(1, limit=9.0)
    desk.buy(1)
    desk.quote(1, 9.5, 9.95)
    assert desk.prices() == [
        ("buy", 1.0, 10.0),  # 9.95 + 0.10 capped at the limit
        ("sell", 1.0, pytest.approx(9.4)),  # 9.5 - 0.10, above the limit 9.0
        ("buy", 1.0, pytest.approx(10.05)),  # a market order is not capped
    ]


# -- SmaCross over the sample data: each model's effect computed by hand ------------------------


@pytest.fixture(scope="module")
def zero_cost():
    return backtest(SmaCross(), [SAMPLE])


def test_zero_costs_are_the_default(zero_cost):
    explicit = backtest(SmaCross(), [SAMPLE], commission=NoCommission(), slippage=NoSlippage())
    assert explicit.fills == zero_cost.fills and explicit.final_equity == zero_cost.final_equity
    assert zero_cost.stats["commissions"] == 0.0


@pytest.mark.parametrize(
    ("model", "per_fill"),
    [
        (PerShareCommission(0.005, minimum=1.0), lambda f: max(0.005 * f.qty, 1.0)),
        (PerShareCommission(0.02), lambda f: 0.02 * f.qty),
        (PercentageCommission(0.1), lambda f: 0.001 * f.qty * f.price),
        (FixedCommission(2.5), lambda f: 2.5),
    ],
)
def test_each_commission_model_lowers_equity_by_the_hand_computed_total(zero_cost, model, per_fill):
    result = backtest(SmaCross(), [SAMPLE], commission=model)
    expected = sum(per_fill(f) for f in zero_cost.fills)
    assert [(f.side, f.qty, f.price) for f in result.fills] == [
        (f.side, f.qty, f.price) for f in zero_cost.fills
    ]
    assert [f.commission for f in result.fills] == pytest.approx(
        [per_fill(f) for f in zero_cost.fills]
    )
    assert result.stats["commissions"] == pytest.approx(expected)
    assert result.final_equity == pytest.approx(zero_cost.final_equity - expected, abs=1e-6)
    # a closed trade's pnl is net of the commissions of its entry and exit
    assert result.trades[0].pnl == pytest.approx(
        zero_cost.trades[0].pnl - per_fill(zero_cost.fills[0]) - per_fill(zero_cost.fills[1])
    )


@pytest.mark.parametrize(
    ("model", "per_unit"),
    [
        (BpsSlippage(2), lambda f: f.price * 2 / 10_000),
        (TickSlippage(1, tick_size=0.01), lambda f: 0.01),
        (SpreadSlippage(0.5), lambda f: 0.0),  # bars carry no spread
    ],
)
def test_each_slippage_model_lowers_equity_by_the_hand_computed_total(zero_cost, model, per_unit):
    result = backtest(SmaCross(), [SAMPLE], slippage=model)
    assert [f.price for f in result.fills] == pytest.approx(
        [f.price + f.side.sign * per_unit(f) for f in zero_cost.fills]
    )
    expected = sum(f.qty * per_unit(f) for f in zero_cost.fills)
    assert result.final_equity == pytest.approx(zero_cost.final_equity - expected, abs=1e-6)


@pytest.mark.parametrize(
    ("text", "model"),
    [
        ("per_share:0.005,min=1", PerShareCommission(0.005, minimum=1.0)),
        ("percent:0.1", PercentageCommission(0.1)),
        ("percent:0.1,min=2", PercentageCommission(0.1, minimum=2.0)),
        ("fixed:1", FixedCommission(1.0)),
        ("none", NoCommission()),
    ],
)
def test_commission_command_line_forms(text, model):
    assert parse_commission(text) == model


@pytest.mark.parametrize(
    ("text", "model"),
    [
        ("ticks:1", TickSlippage(1)),
        ("ticks:2,tick=0.25", TickSlippage(2, tick_size=0.25)),
        ("bps:2", BpsSlippage(2)),
        ("spread:0.5", SpreadSlippage(0.5)),
        ("none", NoSlippage()),
    ],
)
def test_slippage_command_line_forms(text, model):
    assert parse_slippage(text) == model


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (parse_commission, "per_share", "expected one of none, per_share:RATE"),
        (parse_commission, "per_share:x", "could not convert"),
        (parse_commission, "per_share:-1", "rate must be a finite number >= 0"),
        (parse_commission, "fixed:1,min=2", "unknown option min"),
        (parse_commission, "flat:1", "expected one of"),
        (parse_slippage, "bps:2,tick=1", "unknown option tick"),
        (parse_slippage, "bps:20000", "under 10000"),
        (parse_slippage, "ticks:1,tick", "is not name=value"),
    ],
)
def test_bad_cost_forms_are_config_errors(parse, text, message):
    with pytest.raises(ConfigError, match=message):
        parse(text)
