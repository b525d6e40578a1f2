"""The statistics of docs/statistics.md on hand-computed examples; results as JSON and CSV."""

import csv
import json
import math

import attrs
import pytest
from factories import bar

from framework import ListFeed, OrderFilled, OrderSide, Strategy, backtest
from framework.portfolio import Trade, compute_statistics
from framework.results._run_result import csv_money

DAY = 86_400 * 10**9
HOUR = 3_600 * 10**9
D1 = 19_725 * DAY  # 2024-01-03 00:00 UTC


def trade(pnl: float, entry: int, exit_: int) -> Trade:
    return Trade(
        symbol="X",
        side=1,
        qty=1.0,
        entry_time=entry,
        entry_price=100.0,
        exit_time=exit_,
        exit_price=100.0 + pnl,
        pnl=pnl,
        commission=0.0,
    )


def test_return_risk_and_drawdown_figures_by_hand():
    # End-of-day equity 110, 99, 108.9 from a start of 100: daily returns +10 %, -10 %, +10 %.
    times = [D1 + 23 * HOUR, D1 + DAY + 12 * HOUR, D1 + DAY + 23 * HOUR, D1 + 2 * DAY + 23 * HOUR]
    equity = [110.0, 105.0, 99.0, 108.9]
    stats = compute_statistics(
        start_cash=100.0, equity_ts=times, equity=equity, trades=[], fills=[], commissions=0.0
    )
    assert stats["total_return"] == pytest.approx(0.089)
    assert stats["annualized_return"] == pytest.approx(1.089 ** (365.25 / 2) - 1)
    mean, std = 0.1 / 3, math.sqrt((2 * (0.2 / 3) ** 2 + (0.4 / 3) ** 2) / 2)
    assert stats["volatility"] == pytest.approx(std * math.sqrt(252))
    assert stats["sharpe"] == pytest.approx(mean / std * math.sqrt(252))
    assert stats["sortino"] == pytest.approx(mean / math.sqrt(0.01 / 3) * math.sqrt(252))
    assert stats["max_drawdown"] == pytest.approx(0.1)  # 110 → 99
    assert stats["max_drawdown_duration_s"] == 2 * 86_400  # never regained 110: to the end


def test_trade_figures_by_hand():
    trades = [trade(30.0, 0, 10), trade(-10.0, 20, 30), trade(-5.0, 40, 50), trade(25.0, 60, 70)]
    fills = [
        OrderFilled(
            order_id=i,
            symbol="X",
            side=OrderSide.BUY,
            qty=1.0,
            price=1.0,
            commission=0.5,
            ts_event=i,
            ts_recv=i,
            is_intrabar_guess=i % 3 == 0,
        )
        for i in range(7)
    ]
    stats = compute_statistics(
        start_cash=100.0,
        equity_ts=[0, 100],
        equity=[100.0, 140.0],
        trades=trades,
        fills=fills,
        commissions=3.5,
        open_trade_entries=[90],
    )
    assert stats["trades"] == 4 and stats["win_rate"] == 0.5
    assert stats["profit_factor"] == pytest.approx(55.0 / 15.0)
    assert stats["avg_trade_pnl"] == pytest.approx(10.0)
    # closed trades cover 40 of 100 ns, the trade still open covers 90..100
    assert stats["exposure_time"] == pytest.approx(0.5)
    assert (stats["fills"], stats["commissions"], stats["intrabar_guess_fills"]) == (7, 3.5, 3)


def test_undefined_figures_are_none():
    stats = compute_statistics(
        start_cash=100.0,
        equity_ts=[5],
        equity=[100.0],
        trades=[trade(1.0, 0, 1)],
        fills=[],
        commissions=0.0,
    )
    assert stats["profit_factor"] is None  # no losing trade
    for key in ("annualized_return", "volatility", "sharpe", "sortino", "exposure_time"):
        assert stats[key] is None


class RoundTrips(Strategy):
    def on_start(self) -> None:
        self.n = 0

    def on_bar(self, bar) -> None:
        self.n += 1
        if self.n == 1:
            self.buy(bar.symbol, 2)
            self.buy(bar.symbol, 1, limit=1.0)  # never fills
            self.sell(bar.symbol, 1, limit=1.0, tif="fok")  # marketable at the next open
        elif self.n == 3:
            self.close(bar.symbol)


@pytest.fixture
def result():
    events = [
        bar(i, c, open=o) for i, (o, c) in enumerate([(10, 10), (11, 12), (12, 13), (14, 15)])
    ]
    return backtest(RoundTrips(), [ListFeed(events)])


def test_json_has_every_documented_statistic_and_the_orders(result):
    data = json.loads(result.to_json())
    for key in (
        "total_return",
        "annualized_return",
        "volatility",
        "sharpe",
        "sortino",
        "max_drawdown",
        "max_drawdown_duration_s",
        "win_rate",
        "profit_factor",
        "avg_trade_pnl",
        "exposure_time",
        "trades",
        "commissions",
        "intrabar_guess_fills",
        "fills",
        "orders",
        "orders_rejected",
        "orders_cancelled",
        "orders_expired",
    ):
        assert key in data["stats"], key
    statuses = [(o["type"], o["status"]) for o in data["orders"]]
    assert statuses == [
        ("market", "filled"),
        ("limit", "accepted"),
        ("limit", "filled"),
        ("market", "filled"),
    ]
    assert data["stats"]["orders"] == 4


def test_fills_and_trades_as_csv(result, tmp_path):
    result.write_fills_csv(tmp_path / "fills.csv")
    result.write_trades_csv(tmp_path / "trades.csv")
    with open(tmp_path / "fills.csv", newline="") as handle:
        fills = list(csv.DictReader(handle))
    with open(tmp_path / "trades.csv", newline="") as handle:
        trades = list(csv.DictReader(handle))
    assert [(r["side"], float(r["qty"]), float(r["price"])) for r in fills] == [
        (f.side.value, f.qty, f.price) for f in result.fills
    ]
    assert fills[0]["time"] == "2024-01-02T14:31:00Z" and fills[0]["is_intrabar_guess"] == "False"
    assert [(r["side"], float(r["pnl"])) for r in trades] == [
        ("long" if t.side > 0 else "short", t.pnl) for t in result.trades
    ]
    assert list(trades[0]) == [
        "symbol",
        "side",
        "qty",
        "entry_time",
        "entry_price",
        "exit_time",
        "exit_price",
        "pnl",
        "commission",
    ]


def _noisy(result):
    """``result`` with a trade and a fill holding float noise, as arithmetic leaves it."""
    noisy_trade = attrs.evolve(
        result.trades[0],
        qty=100.0,
        entry_price=99.52,
        exit_price=84.21,
        pnl=-1531.0000000000002,
        commission=0.30000000000000004,
    )
    noisy_fill = attrs.evolve(result.fills[0], qty=3.0, price=99.52, commission=0.1 + 0.2)
    tiny = attrs.evolve(noisy_trade, qty=1e-8, pnl=1.234e-9, commission=-1e-30)
    return attrs.evolve(result, trades=(noisy_trade, tiny), fills=(noisy_fill,))


def test_csv_money_columns_hold_no_float_noise_and_lose_nothing(result, tmp_path):
    noisy = _noisy(result)
    noisy.write_trades_csv(tmp_path / "trades.csv")
    noisy.write_fills_csv(tmp_path / "fills.csv")
    text = (tmp_path / "trades.csv").read_text()
    assert "0000000" not in text and "9999999" not in text
    with open(tmp_path / "trades.csv", newline="") as handle:
        trades = list(csv.DictReader(handle))
    assert [(r["pnl"], r["commission"]) for r in trades] == [
        ("-1531.0", "0.3"),
        ("1.234e-09", "0.0"),  # tiny but real PnL kept; noise under the notional dropped
    ]
    assert (trades[0]["entry_price"], trades[0]["exit_price"]) == ("99.52", "84.21")
    with open(tmp_path / "fills.csv", newline="") as handle:
        fills = list(csv.DictReader(handle))
    assert (fills[0]["price"], fills[0]["commission"]) == ("99.52", "0.3")
    # The JSON stays the exact record.
    assert json.loads(noisy.to_json())["trades"][0]["pnl"] == -1531.0000000000002


def test_csv_money_columns_read_back_as_clean_numbers_in_pandas(result, tmp_path):
    pandas = pytest.importorskip("pandas")
    _noisy(result).write_trades_csv(tmp_path / "trades.csv")
    frame = pandas.read_csv(tmp_path / "trades.csv")
    assert frame["pnl"].tolist() == [-1531.0, 1.234e-09]
    assert frame["commission"].tolist() == [0.3, 0.0]


@pytest.mark.parametrize(
    ("value", "notional", "rounded"),
    [
        (-1531.0000000000002, 9_952.0, -1531.0),
        (45.000000000000284, 9_952.0, 45.0),
        (1_234_567.8900000001, 5e7, 1_234_567.89),
        (0.123456789012, 0.5, 0.123456789012),  # 12 digits of a small notional all kept
        (-1e-20, 100.0, 0.0),
        (math.inf, 100.0, math.inf),
        (0.0, 0.0, 0.0),
    ],
)
def test_csv_money_rounds_to_twelve_digits_of_the_notional(value, notional, rounded):
    assert csv_money(value, notional=notional) == rounded
    assert str(csv_money(value, notional=notional)) == str(rounded)


def test_summary_names_every_figure(result):
    text = result.summary()
    for label in (
        "orders",
        "fills",
        "trades",
        "final equity",
        "return",
        "volatility",
        "sharpe",
        "sortino",
        "max drawdown",
        "win rate",
        "profit factor",
        "average trade",
        "exposure time",
        "commissions",
    ):
        assert any(line.startswith(label) for line in text.splitlines()), label


@pytest.mark.parametrize(
    "equity",
    [
        [100.0, 4e-215, 100.0, 50.0],  # touched zero: the next day's return is ~1e217
        [100.0, 1e6, 1e300, 1e305],  # compounding a 1e303 return over days overflows
    ],
)
def test_extreme_equity_gives_infinite_figures_not_an_overflow_error(equity):
    day = 86_400_000_000_000
    stats = compute_statistics(
        start_cash=100.0,
        equity_ts=[0, day, 2 * day, 3 * day],
        equity=equity,
        trades=[],
        fills=[],
        commissions=0.0,
    )
    assert stats["volatility"] == math.inf
    assert stats["annualized_return"] in (-1.0, math.inf)
