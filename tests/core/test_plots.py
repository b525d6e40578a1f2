"""Strategy.plot: series recorded per bar on the strategy's clock, kept only when the run keeps
plots, carried by the result (not its JSON)."""

import math

import pytest
from factories import MINUTE, T0, bar

from framework import ConfigError, Engine, ListFeed, RunResult, Strategy, backtest
from framework.indicators import RSI


class Plotter(Strategy):
    """Plots each close, and its RSI in a panel of its own, per symbol."""

    def on_start(self):
        self.rsi = {}

    def on_bar(self, bar):
        rsi = self.rsi.setdefault(bar.symbol, RSI(3))
        self.plot("close", bar.close, symbol=bar.symbol)
        self.plot("rsi", rsi.update(bar.close), panel="rsi", symbol=bar.symbol)


def bars(symbols=("AAPL",), n=6):
    return [bar(i, 100.0 + i * (-1) ** i, symbol=s) for i in range(n) for s in symbols]


def test_plot_records_each_value_at_the_strategys_clock():
    result = backtest(Plotter(), [ListFeed(bars())], plots=True)
    close, rsi = result.plots
    assert (close.strategy, close.name, close.panel, close.symbol) == (
        "Plotter",
        "close",
        "price",
        "AAPL",
    )
    assert list(close.ts) == [T0 + (i + 1) * MINUTE for i in range(6)]  # each bar's ts_event
    assert list(close.values) == [b.close for b in bars()]
    assert rsi.panel == "rsi"
    # None (RSI warming up) is a gap: NaN.
    assert [math.isnan(v) for v in rsi.values] == [True] * 3 + [False] * 3


def test_each_symbol_has_its_own_series_and_each_strategy_its_own_plots():
    class Second(Plotter):
        name = "second"

    result = backtest([Plotter(), Second()], [ListFeed(bars(("AAPL", "MSFT")))], plots=True)
    keys = [(p.strategy, p.name, p.symbol) for p in result.plots]
    assert keys == [
        (sid, name, symbol)
        for sid in ("Plotter", "second")
        for symbol in ("AAPL", "MSFT")
        for name in ("close", "rsi")
    ]
    assert all(len(p) == 6 for p in result.plots)
    own = result.strategies["second"].plots
    assert own and all(p.strategy == "second" for p in own)


def test_plotting_says_whether_the_run_keeps_plots():
    kept, dropped = Plotter(), Plotter()
    assert not kept.plotting
    backtest(kept, [ListFeed(bars())], plots=True)
    backtest(dropped, [ListFeed(bars())], plots=False)
    assert kept.plotting and not dropped.plotting


def test_a_run_without_plots_records_nothing_and_plot_costs_a_check():
    result = backtest(Plotter(), [ListFeed(bars())], plots=False)
    assert result.plots == ()
    strategy = Plotter()
    strategy.plot("anything", 1.0)  # not registered, not recording: nothing happens
    assert strategy._plots is None


def test_an_engine_run_keeps_no_plots_unless_asked():
    # Engine runs (paper sessions, replays, the benchmarks' run phase) never record.
    strategy = Plotter()
    engine = Engine(feeds=[ListFeed(bars())], strategies=[strategy])
    import trio

    trio.run(engine.run)
    assert strategy._plots is None and not strategy.plotting
    assert RunResult.from_engine(engine).plots == ()


def test_plots_stay_out_of_the_json_result():
    with_plots = backtest(Plotter(), [ListFeed(bars())], plots=True)
    without = backtest(Plotter(), [ListFeed(bars())], plots=False)
    assert with_plots.plots and with_plots.to_json() == without.to_json()
    assert with_plots == without  # plots are for drawing: not part of a result's equality


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", 1.0), "name must be a non-empty string"),
        ((3, 1.0), "name must be a non-empty string"),
        (("x", 1.0, ""), "panel must be a non-empty string"),
        (("x", 1.0, "price", 7), "symbol must be a string or None"),
    ],
)
def test_a_bad_name_panel_or_symbol_is_a_config_error(args, message):
    class Bad(Strategy):
        def on_bar(self, bar):
            self.plot(*args)

    with pytest.raises(ConfigError, match=message):
        backtest(Bad(), [ListFeed(bars())], plots=True)


def test_a_value_that_is_not_a_number_is_a_type_error_naming_the_series():
    class Bad(Strategy):
        def on_bar(self, bar):
            self.plot("label", "high")

    with pytest.raises(
        TypeError, match="plot 'label': the value must be a number or None, not str"
    ):
        backtest(Bad(), [ListFeed(bars())], plots=True)


def test_a_series_keeps_the_panel_of_its_first_call():
    class Moving(Strategy):
        def on_bar(self, bar):
            self.plot("x", bar.close, panel="first" if bar.close >= 100 else "second")

    (series,) = backtest(Moving(), [ListFeed(bars())], plots=True).plots
    assert series.panel == "first" and len(series) == 6
