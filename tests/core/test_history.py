"""History windows: ``Strategy.history(symbol, n, interval=None)``, the last ``n`` final bars a
strategy received, as a read-only live sequence with column views over a bounded ring."""

from __future__ import annotations

import pytest
from factories import MINUTE, T0, bar

from framework import Bar, Engine, Event, ListFeed, Strategy, WarmupCompleted, WarmupStarted
from framework._failure import run_sync
from framework._history import BarRing, BarWindow

COLUMNS = ("open", "high", "low", "close", "volume", "ts_event")


def minutes(count: int) -> list[Bar]:
    """Bars whose fields all differ from one another, so a column mix-up shows."""
    return [
        bar(i, 100.0 + i, open=99.5 + i, high=101.0 + i, low=99.0 + i, volume=1_000.0 + i)
        for i in range(count)
    ]


class Keeper(Strategy):
    """Declares windows in on_start and checks, on every bar, that the bar being delivered is
    the newest of its window."""

    def __init__(self, *windows: tuple[str, int, str | None], subscribe: bool = True) -> None:
        super().__init__()
        self.windows = windows
        self.do_subscribe = subscribe
        self.kept: dict[tuple[str, int, str | None], BarWindow] = {}
        self.newest_was_current: list[bool] = []

    def on_start(self) -> None:
        if self.do_subscribe:
            self.subscribe(Bar, "AAPL")
            self.subscribe(Bar, "AAPL", interval="5m")
        for symbol, n, interval in self.windows:
            self.kept[(symbol, n, interval)] = self.history(symbol, n, interval)

    def on_bar(self, bar: Bar) -> None:
        label = None if bar.interval == "1m" else bar.interval
        for symbol, n, interval in self.windows:
            if (symbol, interval) == (bar.symbol, label):
                self.newest_was_current.append(self.history(symbol, n, interval)[-1] is bar)


def run(events: list[Event], *strategies: Strategy) -> Engine:
    engine = Engine(feeds=[ListFeed(events)], strategies=list(strategies))
    run_sync(engine.run)
    return engine


@pytest.mark.parametrize(("n", "k"), [(10, 4), (4, 10), (4, 4), (1, 7)])
def test_a_window_holds_the_last_n_bars_received_and_fewer_until_n_have_come(n, k):
    data = minutes(k)
    strategy = Keeper(("AAPL", n, None))
    run(data, strategy)

    window = strategy.kept[("AAPL", n, None)]
    expected = data[-n:]
    assert len(window) == min(n, k)
    assert list(window) == expected
    assert [window[i] for i in range(len(window))] == expected
    assert window[-1] is data[-1] and window[0] is expected[0]
    assert window[1:] == expected[1:]
    assert list(reversed(window)) == expected[::-1]
    assert data[-1] in window and (k <= n or data[0] not in window)
    with pytest.raises(IndexError):
        window[len(window)]
    with pytest.raises(IndexError):
        window[-len(window) - 1]
    assert all(strategy.newest_was_current)


def test_column_views_equal_the_bars_fields_and_numpy_reads_them_without_a_copy():
    np = pytest.importorskip("numpy")
    data = minutes(12)
    strategy = Keeper(("AAPL", 5, None))
    run(data, strategy)
    window = strategy.kept[("AAPL", 5, None)]

    for name in COLUMNS:
        column = getattr(window, name)
        assert isinstance(column, memoryview) and column.readonly
        assert column.tolist() == [getattr(b, name) for b in data[-5:]]
        as_array = np.asarray(column)
        assert not as_array.flags.writeable
        assert np.shares_memory(as_array, np.asarray(getattr(window, name)))
    assert window.ts_event.format == "q" and window.close.format == "d"
    assert sum(window.volume) == sum(b.volume for b in data[-5:])


def test_a_window_is_read_only():
    strategy = Keeper(("AAPL", 5, None))
    run(minutes(8), strategy)
    window = strategy.kept[("AAPL", 5, None)]
    with pytest.raises(TypeError):
        window[0] = window[1]  # type: ignore[index]
    with pytest.raises(TypeError):
        window.close[0] = 1.0
    with pytest.raises(AttributeError):
        window.close = window.open  # type: ignore[misc]
    with pytest.raises(TypeError):
        del window[0]  # type: ignore[attr-defined]


def test_memory_is_bounded_by_the_largest_n_asked_for_however_many_bars_come():
    strategy = Keeper(("AAPL", 7, None), ("AAPL", 3, None))
    run(minutes(500), strategy)
    window = strategy.kept[("AAPL", 7, None)]
    assert window.capacity == 7
    assert strategy.kept[("AAPL", 3, None)].capacity == 7  # one buffer per series
    ring = window._ring
    assert ring.count == 500 and ring.held() == 7
    assert all(len(getattr(ring, f"_{name}")) == 2 * 7 for name in COLUMNS)
    assert len(ring._bars) == 2 * 7
    assert len(strategy.kept[("AAPL", 3, None)]) == 3


def test_a_larger_n_later_enlarges_the_buffer_keeping_the_bars_held():
    class Grows(Keeper):
        def on_bar(self, bar: Bar) -> None:
            super().on_bar(bar)
            if bar.ts_open == T0 + 9 * MINUTE:
                self.kept[("AAPL", 6, None)] = self.history("AAPL", 6)

    data = minutes(12)
    strategy = Grows(("AAPL", 3, None))
    run(data, strategy)
    grown = strategy.kept[("AAPL", 6, None)]
    assert grown.capacity == 6
    # Three were held when it grew (bars 7 to 9); bars 10 and 11 came after.
    assert list(grown) == data[7:]
    assert list(strategy.kept[("AAPL", 3, None)]) == data[-3:]


def test_bars_received_before_the_first_call_are_not_kept():
    class Late(Strategy):
        def on_bar(self, bar: Bar) -> None:
            if bar.ts_open == T0 + 4 * MINUTE:
                self.window = self.history("AAPL", 10)

    data = minutes(8)
    strategy = Late()
    run(data, strategy)
    assert list(strategy.window) == data[5:]


def test_windows_of_an_interval_keep_the_built_bars_and_each_series_is_its_own():
    msft = [bar(i, 200.0 + i, symbol="MSFT") for i in range(30)]
    data = sorted(minutes(30) + msft, key=lambda b: (b.ts_event, b.symbol))
    strategy = Keeper(("AAPL", 4, None), ("AAPL", 4, "5m"), ("MSFT", 4, None))
    run(data, strategy)
    five = strategy.kept[("AAPL", 4, "5m")]
    assert [b.interval for b in five] == ["5m"] * 4
    assert [b.ts_open for b in five] == [T0 + i * 5 * MINUTE for i in range(2, 6)]
    assert list(five.close) == [114.0, 119.0, 124.0, 129.0]
    assert [b.symbol for b in strategy.kept[("AAPL", 4, None)]] == ["AAPL"] * 4
    # Only the subscribed series are received: MSFT bars never reach this strategy.
    assert len(strategy.kept[("MSFT", 4, None)]) == 0
    assert all(strategy.newest_was_current)


def test_an_interval_window_fills_once_the_strategy_subscribes_in_either_order():
    class Order(Strategy):
        def on_start(self) -> None:
            self.before = self.history("AAPL", 2, "5m")
            self.subscribe(Bar, "AAPL", interval="5m")
            self.after = self.history("AAPL", 2, "15m")
            self.subscribe(Bar, "AAPL", interval="15m")

    strategy = Order()
    run(minutes(30), strategy)
    assert [b.interval for b in strategy.before] == ["5m", "5m"]
    assert [b.interval for b in strategy.after] == ["15m", "15m"]


def test_warm_up_bars_count():
    history = minutes(6)
    events: list[Event] = [
        WarmupStarted(feed="f", bars=4, ts_event=history[0].ts_event, ts_recv=0),
        *history[:4],
        WarmupCompleted(feed="f", bars=4, ts_event=history[3].ts_event, ts_recv=0),
        *history[4:],
    ]
    warmed: list[int] = []

    class Warm(Keeper):
        def on_bar(self, bar: Bar) -> None:
            super().on_bar(bar)
            if not self.is_warming_up and not warmed:
                warmed.append(len(self.history("AAPL", 5)))

    strategy = Warm(("AAPL", 5, None))
    run(events, strategy)
    assert warmed == [5]  # four history bars and the first live one
    assert list(strategy.kept[("AAPL", 5, None)]) == history[1:]


def test_a_strategy_without_history_gets_its_bars_straight_from_the_bus():
    # The cost of history is paid by the strategies that use it: the others' route is on_bar.
    plain = Keeper(subscribe=True)
    keeping = Keeper(("AAPL", 2, None))
    keeping.strategy_id = "keeping"

    class Only(Strategy):
        def on_bar(self, bar: Bar) -> None:
            pass

    only = Only()
    engine = Engine(feeds=[ListFeed(minutes(3))], strategies=[only, keeping])
    engine.start(at=T0)
    catch_all, by_symbol = engine.bus.compile_route(Bar)
    handlers = list(catch_all) + list((by_symbol or {}).get("AAPL", ()))
    assert only.on_bar in handlers
    assert keeping.on_bar not in handlers  # its recorder is there instead
    assert plain._history is None


def test_n_must_be_a_positive_int():
    class Bad(Strategy):
        def on_start(self) -> None:
            self.history("AAPL", 0)

    with pytest.raises(ValueError, match="n >= 1"):
        run(minutes(1), Bad())


def test_the_ring_keeps_each_window_contiguous_across_wrap_around():
    ring = BarRing(3)
    data = minutes(8)
    for i, b in enumerate(data):
        ring.append(b)
        held = data[max(0, i - 2) : i + 1]
        assert ring.newest(len(held)) == held
        assert ring.column("close", len(held)).tolist() == [b.close for b in held]
