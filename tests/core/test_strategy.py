import pytest
from factories import bar, quote

from framework import (
    Bar,
    EngineError,
    ListFeed,
    Param,
    ParameterError,
    Quote,
    Strategy,
    backtest,
)


class Params(Strategy):
    length = Param(10, "bars", min=1)
    ratio = Param(0.5, "a ratio")
    enabled = Param(True, "a switch")
    label = Param("x", "a name")


def test_defaults_and_typed_overrides():
    s = Params()
    assert (s.length, s.ratio, s.enabled, s.label) == (10, 0.5, True, "x")
    s = Params(length="20", ratio="2", enabled="false", label="y")
    assert (s.length, s.ratio, s.enabled, s.label) == (20, 2.0, False, "y")
    assert isinstance(Params(ratio=3).ratio, float)
    assert s.params == {"length": 20, "ratio": 2.0, "enabled": False, "label": "y"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lenght": 3}, r"Params has no parameter 'lenght' \(parameters: length, ratio"),
        ({"length": "ten"}, "parameter 'length' takes int, got 'ten'"),
        ({"length": 1.5}, "parameter 'length' takes int, got 1.5"),
        ({"length": "0"}, "parameter 'length' must be >= 1"),
        ({"ratio": "nan"}, "parameter 'ratio' must be finite"),
        ({"enabled": "maybe"}, "parameter 'enabled' takes bool"),
    ],
)
def test_bad_parameters_raise_parameter_error(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        Params(**kwargs)


def test_parameters_are_introspectable_for_the_cli():
    params = Params.parameters()
    assert list(params) == ["length", "ratio", "enabled", "label"]
    assert params["length"].doc == "bars" and params["length"].kind is int


def test_order_entry_before_registration_is_a_clear_error():
    with pytest.raises(EngineError, match="not registered"):
        Params().buy("AAPL", 1)


class Collects(Strategy):
    def on_start(self) -> None:
        self.bars: list[Bar] = []
        self.quotes: list[Quote] = []

    def on_bar(self, bar: Bar) -> None:
        self.bars.append(bar)

    def on_quote(self, quote: Quote) -> None:
        self.quotes.append(quote)


def mixed_events():
    return [
        bar(0, 10.0, symbol="AAPL"),
        bar(0, 20.0, symbol="MSFT"),
        quote(1, 9.9, 10.1, symbol="AAPL"),
        quote(1, 19.9, 20.1, symbol="MSFT"),
    ]


def test_by_default_a_strategy_receives_every_bar_and_quote():
    s = Collects()
    backtest(s, [ListFeed(mixed_events())])
    assert [b.symbol for b in s.bars] == ["AAPL", "MSFT"]
    assert [q.symbol for q in s.quotes] == ["AAPL", "MSFT"]


def test_subscribe_narrows_to_symbols_and_types():
    class OnlyMsftBars(Collects):
        def on_start(self) -> None:
            super().on_start()
            self.subscribe(Bar, "MSFT")
            self.subscribe(Quote, "NONE")

    s = OnlyMsftBars()
    backtest(s, [ListFeed(mixed_events())])
    assert [b.symbol for b in s.bars] == ["MSFT"]
    assert s.quotes == []


def test_subscribing_to_an_unhandled_type_is_refused():
    class Bad(Strategy):
        def on_start(self) -> None:
            self.subscribe(int)  # type: ignore[arg-type]

    with pytest.raises(ValueError, match="cannot subscribe to int"):
        backtest(Bad(), [ListFeed(mixed_events())])
