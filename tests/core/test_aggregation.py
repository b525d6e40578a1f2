"""Bars of other intervals (``subscribe(Bar, symbol, interval=...)``), checked against pandas'
``resample`` of the same data, and their routing: only to the strategies that asked, shared,
after the event that completed them. The rules are in docs/bars.md."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import attrs
import pytest
from factories import MINUTE, T0, bar, quote

from framework import (
    Bar,
    Engine,
    Event,
    EventBus,
    Interval,
    ListFeed,
    OrderFilled,
    OrderSide,
    Quote,
    Strategy,
)
from framework._aggregation import BarAggregator
from framework._failure import run_sync
from strategies.sma_cross import SmaCross

pd = pytest.importorskip("pandas")

SECOND = 1_000_000_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
MONDAY = 1_704_067_200 * SECOND  # 2024-01-01T00:00:00Z, a Monday
SESSION_OPEN = 14 * HOUR + 30 * MINUTE  # 09:30 New York in winter, as UTC
SESSION_MINUTES = 390

Row = tuple[int, int, float, float, float, float, float]


# -- data --------------------------------------------------------------------------------------


def session_bars(
    symbol: str, *, days: int, seed: int, gap_rate: float = 0.05, hole: bool = True
) -> list[Bar]:
    """One-minute bars of a US trading day (14:30 to 21:00 UTC) on weekdays from Monday
    2024-01-01: a random walk in whole cents with whole-number volumes (sums are exact), a
    share of minutes missing and (with ``hole``) a missing half hour each day. The first and
    the last minute are always there."""
    rng = random.Random(seed)
    price = 100.0
    out: list[Bar] = []
    for day in range(days):
        start = MONDAY + day * DAY
        if (start // DAY + 3) % 7 >= 5:  # the epoch was a Thursday: 5 and 6 are the weekend
            continue
        hole_at = rng.randrange(SESSION_MINUTES - 30) if hole else -99
        for minute in range(SESSION_MINUTES):
            ts = start + SESSION_OPEN + minute * MINUTE
            o = price
            price = max(1.0, round(price + rng.uniform(-0.5, 0.5), 2))
            high = round(max(o, price) + rng.randrange(20) / 100, 2)
            low = round(min(o, price) - rng.randrange(20) / 100, 2)
            edge = (day == 0 and minute == 0) or (day == days - 1 and minute == SESSION_MINUTES - 1)
            if not edge and (hole_at <= minute < hole_at + 30 or rng.random() < gap_rate):
                continue
            out.append(
                Bar(
                    symbol=symbol,
                    interval="1m",
                    ts_open=ts,
                    open=o,
                    high=high,
                    low=low,
                    close=price,
                    volume=float(rng.randrange(1, 5_000)),
                    ts_event=ts + MINUTE,
                    ts_recv=ts + MINUTE,
                )
            )
    return out


def merged(*streams: Sequence[Bar]) -> list[Bar]:
    """Several symbols' bars interleaved as a feed delivers them: by event time."""
    return sorted((b for s in streams for b in s), key=lambda b: (b.ts_event, b.symbol))


def pandas_bars(bars: Sequence[Bar], rule: str, size: int) -> list[Row]:
    """The same bars resampled by pandas: buckets labelled and closed on the left, empty
    buckets (gaps) dropped; (ts_open, ts_event, open, high, low, close, volume)."""
    frame = pd.DataFrame(
        {
            "open": [b.open for b in bars],
            "high": [b.high for b in bars],
            "low": [b.low for b in bars],
            "close": [b.close for b in bars],
            "volume": [b.volume for b in bars],
        },
        index=pd.to_datetime([b.ts_open for b in bars], unit="ns", utc=True),
    )
    agg = frame.resample(rule, label="left", closed="left").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    )
    agg = agg.dropna(subset=["open"])
    return [
        (int(ts.value), int(ts.value) + size, r.open, r.high, r.low, r.close, r.volume)
        for ts, r in zip(agg.index, agg.itertuples(), strict=True)
    ]


def rows(bars: Sequence[Bar]) -> list[Row]:
    return [(b.ts_open, b.ts_event, b.open, b.high, b.low, b.close, b.volume) for b in bars]


# -- strategies --------------------------------------------------------------------------------


class Collector(Strategy):
    """Subscribes to what it is told in on_start and keeps every bar it receives."""

    def __init__(
        self, *asks: tuple[str | None, str | None], name: str = "Collector", **params: object
    ) -> None:
        super().__init__()
        self.strategy_id = name
        self.asks = asks
        self.got: list[Bar] = []

    def on_start(self) -> None:
        for symbol, interval in self.asks:
            self.subscribe(Bar, symbol, interval=interval)

    def on_bar(self, bar: Bar) -> None:
        self.got.append(bar)

    def of(self, interval: str, symbol: str | None = None) -> list[Bar]:
        return [
            b for b in self.got if b.interval == interval and (symbol is None or b.symbol == symbol)
        ]


def run(events: Sequence[Event], *strategies: Strategy) -> tuple[Engine, list[Event]]:
    """Run ``strategies`` over ``events``; returns the engine and what an observer saw."""
    engine = Engine(feeds=[ListFeed(list(events))], strategies=list(strategies))
    observed: list[Event] = []
    engine.add_observer(observed.append)
    run_sync(engine.run)
    return engine, observed


# -- the bus -----------------------------------------------------------------------------------


def test_interval_subscribers_get_only_interval_bars_and_observers_only_built_ones():
    bus = EventBus()
    seen: list[tuple[str, Bar]] = []
    bus.subscribe(Bar, lambda b: seen.append(("plain", b)))
    bus.subscribe(Bar, lambda b: seen.append(("5m", b)), symbol="AAPL", interval="5m")
    bus.subscribe(Bar, lambda b: seen.append(("5m all", b)), interval="5m")
    bus.subscribe(Bar, lambda b: seen.append(("1h", b)), symbol="AAPL", interval="1h")
    bus.subscribe(Event, lambda b: seen.append(("observer", b)))
    minute = bar(0, 1.0)
    five = Bar(**{**_fields(minute), "interval": "5m"})
    bus.publish(minute)
    bus.publish_interval(five)
    bus.publish_interval(five, built=False)
    assert [who for who, _ in seen] == [
        "plain",
        "observer",
        "5m",
        "5m all",
        "observer",
        "5m",
        "5m all",
    ]


def test_handlers_subscribed_last_run_after_those_subscribed_later_without_it():
    bus = EventBus()
    order: list[str] = []
    bus.subscribe(Bar, lambda b: order.append("first"))
    bus.subscribe(Bar, lambda b: order.append("last"), last=True)
    bus.subscribe(Bar, lambda b: order.append("later"))
    bus.publish(bar(0, 1.0))
    assert order == ["first", "later", "last"]


def test_replacing_a_handler_keeps_its_turn():
    bus = EventBus()
    order: list[str] = []

    def old(b: Bar) -> None:
        order.append("old")

    bus.subscribe(Bar, lambda b: order.append("before"))
    bus.subscribe(Bar, old)
    bus.subscribe(Bar, lambda b: order.append("after"))
    bus.publish(bar(0, 1.0))
    bus.replace(Bar, old, lambda b: order.append("new"))
    bus.publish(bar(1, 1.0))
    assert order == ["before", "old", "after", "before", "new", "after"]


# -- against pandas ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "rule", "size", "drop_first", "drop_last"),
    [
        # Data start at 14:30, a 5-minute boundary, and end with the bar that ends 21:00.
        ("5m", "5min", 5 * MINUTE, False, False),
        ("15m", "15min", 15 * MINUTE, False, False),
        # 14:30 is inside the 14:00 hour: the first hour is partial, so it is dropped.
        ("1h", "1h", HOUR, True, False),
        # The first UTC day is partial too; the last day is final only at midnight, which no
        # bar after it shows.
        ("1D", "1D", DAY, True, True),
    ],
)
def test_built_bars_equal_pandas_resample_of_the_same_minutes(
    interval, rule, size, drop_first, drop_last
):
    minutes = session_bars("AAPL", days=10, seed=1)
    strategy = Collector(("AAPL", interval))
    run(minutes, strategy)

    expected = pandas_bars(minutes, rule, size)
    expected = expected[1 if drop_first else 0 : -1 if drop_last else None]
    assert len(expected) > 5
    assert rows(strategy.got) == expected
    assert {(b.symbol, b.interval, b.is_backfill) for b in strategy.got} == {
        ("AAPL", interval, False)
    }
    assert all(b.ts_recv == b.ts_event for b in strategy.got)


def test_weeks_start_on_monday_utc():
    minutes = session_bars("AAPL", days=28, seed=2, gap_rate=0.0)
    strategy = Collector(("AAPL", "1W"))
    run(minutes, strategy)
    # The first week is partial (its first bar is Monday 14:30); the fourth is not final.
    expected = pandas_bars(minutes, "W-MON", 7 * DAY)[1:-1]
    assert rows(strategy.got) == expected
    assert [pd.Timestamp(b.ts_open, unit="ns").day_name() for b in strategy.got] == ["Monday"] * 2


def test_gaps_give_no_bar_and_buckets_with_holes_hold_what_came():
    minutes = session_bars("AAPL", days=3, seed=3, gap_rate=0.3)
    strategy = Collector(("AAPL", "5m"))
    run(minutes, strategy)

    built = {b.ts_open for b in strategy.got}
    opens = {b.ts_open - b.ts_open % (5 * MINUTE) for b in minutes}
    assert built == opens  # a bar for each bucket with a minute in it, and for no other
    assert rows(strategy.got) == pandas_bars(minutes, "5min", 5 * MINUTE)
    overnight = [b for b in strategy.got if b.ts_open % DAY == 20 * HOUR + 55 * MINUTE]
    assert overnight  # the last bucket of each day is final by its own last minute


def test_interleaved_symbols_are_built_separately():
    aapl = session_bars("AAPL", days=3, seed=4)
    msft = session_bars("MSFT", days=3, seed=5)
    spy = session_bars("SPY", days=3, seed=6)
    every = Collector((None, "5m"), name="every")  # every symbol
    one = Collector(("MSFT", "5m"), name="one")
    run(merged(aapl, msft, spy), every, one)

    for symbol, minutes in [("AAPL", aapl), ("MSFT", msft), ("SPY", spy)]:
        assert rows(every.of("5m", symbol)) == pandas_bars(minutes, "5min", 5 * MINUTE)
    assert one.got == every.of("5m", "MSFT")


def test_two_intervals_at_once_arrive_shorter_first_after_the_minute_that_completes_them():
    minutes = session_bars("AAPL", days=2, seed=7, gap_rate=0.0, hole=False)
    strategy = Collector(("AAPL", None), ("AAPL", "1h"), ("AAPL", "5m"))
    run(minutes, strategy)

    assert rows(strategy.of("5m")) == pandas_bars(minutes, "5min", 5 * MINUTE)
    assert rows(strategy.of("1h")) == pandas_bars(minutes, "1h", HOUR)[1:]
    # At 16:00: the 15:59 minute, then the 15:55 five minutes, then the 15:00 hour.
    at_four = [b for b in strategy.got if b.ts_event == MONDAY + 16 * HOUR]
    assert [b.interval for b in at_four] == ["1m", "5m", "1h"]
    position = {id(b): i for i, b in enumerate(strategy.got)}
    minute_of = {b.ts_event: b for b in strategy.of("1m")}
    for built in strategy.of("5m") + strategy.of("1h"):
        assert position[id(built)] > position[id(minute_of[built.ts_event])]


def test_built_from_quotes_last_prices_and_cumulative_volume_rises():
    rng = random.Random(8)
    quotes: list[Quote] = []
    ts = T0 + 17 * SECOND  # mid-bucket: the first five minutes are partial
    price, volume = 50.0, 1_000.0
    day_end = T0 + 2 * HOUR
    while ts < T0 + 3 * HOUR:
        last: float | None = round(price, 2)
        if rng.random() < 0.2:
            last = None  # a bid/ask update without a trade
        else:
            volume += rng.randrange(0, 300)
        if ts >= day_end and volume > 5_000:
            volume = float(rng.randrange(0, 100))  # the venue restarted its count
            day_end = 1 << 62
        quotes.append(
            Quote(
                symbol="AAPL",
                bid=round(price - 0.01, 2),
                ask=round(price + 0.01, 2),
                last_price=last,
                volume=volume if rng.random() < 0.9 else None,
                ts_event=ts,
                ts_recv=ts,
            )
        )
        price = max(1.0, price + rng.uniform(-0.2, 0.2))
        ts += rng.randrange(1, 40) * SECOND + rng.randrange(1000) * 1_000_000
        if rng.random() < 0.01:
            ts += 11 * MINUTE  # a silence: buckets with no quote
    strategy = Collector(("AAPL", "5m"))
    run(quotes, strategy)

    frame = pd.DataFrame(
        {"last": [q.last_price for q in quotes], "cum": [q.volume for q in quotes]},
        index=pd.to_datetime([q.ts_event for q in quotes], unit="ns", utc=True),
        dtype="float64",
    )
    carried = frame["cum"].dropna()
    before = carried.shift(1)
    # The first volume seen says nothing about this bucket; a fall is a restarted count.
    rise = (carried - before).where(carried >= before, carried).where(before.notna(), 0.0)
    frame["rise"] = rise.reindex(frame.index).fillna(0.0)
    agg = frame.resample("5min", label="left", closed="left").agg(
        {"last": ["first", "max", "min", "last", "count"], "rise": "sum"}
    )
    agg = agg[agg[("last", "count")] > 0]
    expected = [
        (int(ts.value), int(ts.value) + 5 * MINUTE, *values[:4], values[5])
        for ts, values in zip(agg.index, agg.itertuples(index=False), strict=True)
    ]
    # The first bucket began before the first quote; the last is not final when data end.
    assert rows(strategy.got) == expected[1:-1]
    assert len(strategy.got) > 20


# -- timing ------------------------------------------------------------------------------------


def test_a_bucket_is_final_at_the_minute_that_ends_it_or_at_the_first_later_minute():
    strategy = Collector(("AAPL", None), ("AAPL", "5m"))
    minutes = [bar(i, 100.0 + i) for i in (0, 1, 2, 3, 4, 5, 6, 12)]  # 7..11 missing
    run(minutes, strategy)
    order = [(b.interval, (b.ts_open - T0) // MINUTE) for b in strategy.got]
    # [0, 5) ends with minute 4; [5, 10) lacks its last minute, so minute 12 closes it.
    assert order == [
        ("1m", 0),
        ("1m", 1),
        ("1m", 2),
        ("1m", 3),
        ("1m", 4),
        ("5m", 0),
        ("1m", 5),
        ("1m", 6),
        ("1m", 12),
        ("5m", 5),
    ]
    assert [b.ts_event for b in strategy.of("5m")] == [T0 + 5 * MINUTE, T0 + 10 * MINUTE]


def test_a_bar_final_before_its_end_does_not_close_the_bucket_early():
    # A session cut the last minute short: final at :30 of its minute. The five minutes would
    # be stamped at their end, after that time, so they wait for the next bar.
    short = bar(4, 104.0)
    short = Bar(**{**_fields(short), "ts_event": short.ts_open + 30 * SECOND})
    minutes = [bar(0, 100.0), bar(1, 101.0), bar(2, 102.0), bar(3, 103.0), short, bar(5, 105.0)]
    strategy = Collector(("AAPL", None), ("AAPL", "5m"))
    run(minutes, strategy)
    assert [(b.interval, (b.ts_open - T0) // MINUTE) for b in strategy.got][-2:] == [
        ("1m", 5),
        ("5m", 0),
    ]
    assert strategy.of("5m")[0].close == 104.0


def test_the_first_bucket_is_dropped_when_data_start_inside_it():
    strategy = Collector(("AAPL", "5m"))
    run([bar(i, 100.0 + i) for i in range(2, 15)], strategy)  # starts at minute 2
    assert [(b.ts_open - T0) // MINUTE for b in strategy.got] == [5, 10]


def test_a_strategy_subscribing_later_shares_the_full_bucket_but_a_new_aggregator_starts_fresh():
    class Late(Collector):
        def on_bar(self, bar: Bar) -> None:
            super().on_bar(bar)
            if bar.interval == "1m" and (bar.ts_open - T0) // MINUTE == 7:
                self.subscribe(Bar, "AAPL", interval="5m")  # shared: the aggregator exists
                self.subscribe(Bar, "AAPL", interval="3m")  # new: it sees minute 7 first

    early = Collector(("AAPL", "5m"), name="early")
    late = Late(("AAPL", None), name="late")
    run([bar(i, 100.0 + i) for i in range(20)], early, late)
    assert late.of("5m") == early.of("5m")[1:]  # [5, 10) onwards, the same objects
    # The 3-minute bucket [6, 9) was under way when its aggregator started: dropped.
    assert [(b.ts_open - T0) // MINUTE for b in late.of("3m")] == [9, 12, 15]


# -- routing -----------------------------------------------------------------------------------


def test_plain_bar_subscribers_and_the_broker_never_receive_built_bars():
    minutes = [bar(i, 100.0 + (i % 7) - (i % 5)) for i in range(200)]
    framework_seen: list[Bar] = []

    class Watching(SmaCross):
        name = "watched"

        def on_bar(self, bar: Bar) -> None:
            framework_seen.append(bar)
            super().on_bar(bar)

    watched = Watching(fast=3, slow=8)
    builder = Collector(("AAPL", "5m"), ("AAPL", "1h"), name="builder")
    plain = Collector(("AAPL", None), name="plain")
    _, observed = run(minutes, watched, builder, plain)
    _, observed_alone = run(minutes, SmaCross(fast=3, slow=8))

    assert {b.interval for b in framework_seen} == {"1m"}
    assert {b.interval for b in plain.got} == {"1m"}
    assert len(builder.of("5m")) == 40
    # The broker filled the bar-driven strategy exactly as it does without anyone building.
    fills_alone = [fill_terms(f) for f in observed_alone if isinstance(f, OrderFilled)]
    assert fills_alone
    assert [fill_terms(f) for f in observed if isinstance(f, OrderFilled)] == fills_alone
    # Observers see every built bar once, right after the minute that completed it.
    built = [e for e in observed if isinstance(e, Bar) and e.interval != "1m"]
    assert built == sorted(
        builder.of("5m") + builder.of("1h"), key=lambda b: (b.ts_event, b.interval == "1h")
    )
    for i, event in enumerate(observed):
        if isinstance(event, Bar) and event.interval == "5m":
            previous = [e for e in observed[:i] if isinstance(e, Bar) and e.interval == "1m"]
            assert previous[-1].ts_event == event.ts_event


def test_strategies_asking_for_the_same_interval_share_one_aggregator():
    one = Collector(("AAPL", "5m"), name="one")
    two = Collector((None, "5m"), name="two")  # every symbol, AAPL included
    engine, _ = run([bar(i, 100.0 + i) for i in range(30)], one, two)
    aggregator = engine.interval_bars.aggregator("AAPL", "5m")
    assert isinstance(aggregator, BarAggregator)
    assert aggregator.source == "1m"
    assert len(one.got) == 6
    assert all(a is b for a, b in zip(one.got, two.got, strict=True))  # the same bar objects


def test_asking_for_the_feeds_own_interval_passes_its_bars_on_unchanged():
    minutes = [bar(i, 100.0 + i) for i in range(10)]
    plain = Collector(("AAPL", None), name="plain")
    minute = Collector(("AAPL", "1m"), name="minute")
    _, observed = run(minutes, plain, minute)
    assert all(a is b for a, b in zip(minute.got, minutes, strict=True))
    assert len(minute.got) == len(plain.got) == 10
    assert [e for e in observed if isinstance(e, Bar)] == minutes  # observers: each once


def test_bars_that_do_not_fit_the_bucket_are_ignored_and_the_first_fitting_interval_wins():
    def stamped(b: Bar, interval: str, size: int) -> Bar:
        return Bar(**{**_fields(b), "interval": interval, "ts_event": b.ts_open + size})

    events: list[Event] = []
    for i in range(15):
        events.append(bar(i, 100.0 + i))
        if i % 2 == 0:  # two-minute bars straddle five-minute buckets
            events.append(stamped(bar(i, 500.0), "2m", 2 * MINUTE))
        if i % 5 == 0:  # the feed's own five-minute bars come after the first minute
            events.append(stamped(bar(i, 700.0), "5m", 5 * MINUTE))
    events.append(stamped(bar(0, 900.0), "1D", DAY))  # longer than the bucket
    strategy = Collector(("AAPL", "5m"))
    run(sorted(events, key=lambda e: e.ts_event), strategy)
    assert [b.close for b in strategy.got] == [104.0, 109.0, 114.0]


def test_bars_replace_quotes_as_the_source_when_they_start_coming():
    events: list[Event] = []
    for i in range(3):  # quotes only, minutes 0 to 2
        for s in range(0, 60, 10):
            ts = T0 + i * MINUTE + s * SECOND
            events.append(
                Quote(symbol="AAPL", last_price=50.0 + i, volume=None, ts_event=ts, ts_recv=ts)
            )
    events += [bar(i, 100.0 + i) for i in range(3, 12)]
    strategy = Collector(("AAPL", "1m"), ("AAPL", "5m"))
    run(events, strategy)
    quote_built = [b for b in strategy.of("1m") if b.close < 100]
    assert [(b.ts_open - T0) // MINUTE for b in quote_built] == [0, 1]  # 2 was never closed
    assert all(b.volume == 0.0 for b in quote_built)  # no cumulative volume was sent
    # Minute 3 starts the bars; its five-minute bucket began with quotes: dropped.
    assert [(b.ts_open - T0) // MINUTE for b in strategy.of("5m")] == [5]


def test_a_built_bar_is_backfill_if_any_of_its_bars_was():
    minutes = [bar(i, 100.0 + i) for i in range(10)]
    minutes[7] = Bar(**{**_fields(minutes[7]), "is_backfill": True})
    strategy = Collector(("AAPL", "5m"))
    run(minutes, strategy)
    assert [b.is_backfill for b in strategy.got] == [False, True]


def test_unsubscribing_stops_delivery_and_the_last_one_out_drops_the_aggregator():
    class Quitter(Collector):
        def on_bar(self, bar: Bar) -> None:
            super().on_bar(bar)
            if bar.interval == "5m":
                self.unsubscribe(Bar, "AAPL", interval="5m")

    quitter = Quitter(("AAPL", "5m"))
    engine, _ = run([bar(i, 100.0 + i) for i in range(30)], quitter)
    assert len(quitter.got) == 1
    assert engine.interval_bars.aggregator("AAPL", "5m") is None
    # Nothing builds bars any more, so nothing of it listens to quotes either.
    assert engine.interval_bars.on_quote not in engine.bus.compile_route(Quote)[0]


def test_intervals_that_cannot_be_built_and_intervals_of_other_events_are_refused():
    class Asks(Strategy):
        def __init__(self, event_type: type[Event], interval: str) -> None:
            super().__init__()
            self.ask = (event_type, interval)

        def on_start(self) -> None:
            self.subscribe(self.ask[0], "AAPL", interval=self.ask[1])

    for event_type, interval, message in [
        (Bar, "1M", "months vary in length"),
        (Bar, "tick", "ticks are not bars"),
        (Bar, "5 minutes", "bad interval"),
        (Quote, "5m", "only bars have an interval"),
    ]:
        with pytest.raises(ValueError, match=message):
            run([bar(0, 1.0)], Asks(event_type, interval))


def test_the_failure_note_names_the_built_bar_the_hook_failed_on():
    class Fails(Collector):
        def on_bar(self, bar: Bar) -> None:
            if bar.interval == "5m":
                raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom") as caught:
        run([bar(i, 100.0) for i in range(10)], Fails(("AAPL", None), ("AAPL", "5m")))
    assert caught.value.__notes__ == [
        "raised in Fails.on_bar (strategy 'Collector'), handling Bar AAPL 5m at "
        "2024-01-02T14:35:00Z"
    ]


def test_an_interval_object_and_its_label_are_the_same_subscription():
    strategy = Collector(("AAPL", "5m"))

    class Both(Collector):
        def on_start(self) -> None:
            self.subscribe(Bar, "AAPL", interval="5m")
            self.subscribe(Bar, "AAPL", interval=Interval.parse("5m"))

    both = Both(name="both")
    run([bar(i, 100.0) for i in range(10)], strategy, both)
    assert both.got == strategy.got and len(both.got) == 2


def test_a_quote_does_not_close_a_bucket_built_from_bars():
    # Live, the last minute of a bucket may arrive after a quote stamped past the bucket's end.
    events: list[Event] = [bar(i, 100.0 + i) for i in range(4)]
    events.append(quote(5, 99.0, 101.0))  # at minute 5: after the bucket's end
    events.append(bar(4, 104.0))
    strategy = Collector(("AAPL", "5m"))
    run(events, strategy)
    [built] = strategy.got
    assert (built.close, built.volume) == (104.0, 5_000.0)


def fill_terms(fill: OrderFilled) -> tuple[int, float, float, OrderSide]:
    return (fill.ts_event, fill.price, fill.qty, fill.side)


def _fields(b: Bar) -> dict[str, Any]:
    return attrs.asdict(b, recurse=False)


def test_a_quote_stamped_on_the_boundary_closes_the_bucket_and_opens_the_next():
    def traded(second: int, price: float) -> Quote:
        ts = T0 + second * SECOND
        return Quote(symbol="AAPL", last_price=price, ts_event=ts, ts_recv=ts)

    strategy = Collector(("AAPL", None), ("AAPL", "1m"))
    run(
        [traded(0, 10.0), traded(30, 12.0), traded(60, 11.0), traded(90, 9.0), traded(120, 10.0)],
        strategy,
    )
    assert [(b.ts_open, b.open, b.high, b.low, b.close) for b in strategy.got] == [
        (T0, 10.0, 12.0, 10.0, 12.0),
        (T0 + MINUTE, 11.0, 11.0, 9.0, 9.0),
    ]
