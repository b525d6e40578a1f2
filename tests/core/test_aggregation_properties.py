"""No look-ahead in built bars, as properties over generated markets: a built bar reaches a
strategy only after the event that completes it, and its values depend only on data that was
final by its ``ts_event``."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from framework import Bar, Engine, Event, ListFeed, Quote, Strategy
from framework._failure import run_sync
from framework.testing import assert_no_lookahead, bars, capture_events, quotes

MINUTE = 60_000_000_000
SYMBOLS = ["AAPL", "MSFT"]
INTERVALS = ("5m", "15m", "1h")

markets = st.tuples(
    bars(symbols=SYMBOLS, min_bars=0, max_bars=90, gaps=True),
    quotes(symbols=["TSLA"], min_quotes=0, max_quotes=60),
)


class Building(Strategy):
    """Every symbol's minutes and quotes, every symbol's bars of three intervals, and the
    minutes of the symbol that only has quotes."""

    def on_start(self) -> None:
        self.subscribe(Bar)
        self.subscribe(Quote)
        for interval in INTERVALS:
            self.subscribe(Bar, interval=interval)
        self.subscribe(Bar, "TSLA", interval="1m")


def merged(market: tuple[list[Bar], list[Quote]]) -> list[Event]:
    minutes, quoted = market
    return sorted([*minutes, *quoted], key=lambda e: e.ts_event)


def observe(events: Sequence[Event]) -> tuple[list[Event], Building]:
    """Everything delivered in the run, in order, and the (captured) strategy."""
    strategy = Building()
    capture_events(strategy)
    engine = Engine(feeds=[ListFeed(list(events))], strategies=[strategy])
    observed: list[Event] = []
    engine.add_observer(observed.append)
    run_sync(engine.run)
    return observed, strategy


def is_built(event: Event) -> bool:
    # Minutes from the feed say 1m; TSLA's 1m bars can only have been built from its quotes.
    return isinstance(event, Bar) and (event.interval != "1m" or event.symbol == "TSLA")


@settings(max_examples=60)
@given(markets)
def test_a_built_bar_comes_after_the_event_that_completes_it_and_holds_only_what_was_final(
    market,
):
    observed, strategy = observe(merged(market))
    assert_no_lookahead(strategy)  # every bar final when delivered, in order per series
    for index, built in enumerate(observed):
        if not is_built(built):
            continue
        assert isinstance(built, Bar)
        before = observed[:index]
        start, end = built.ts_open, built.ts_event
        if built.symbol == "TSLA":
            inputs = [q for q in before if isinstance(q, Quote) and q.symbol == "TSLA"]
            # Completed by the quote just before it: the first stamped at or after its end.
            assert inputs[-1].ts_event >= end
            inside = [q for q in inputs if start <= q.ts_event < end]
            prices = [q.last_price for q in inside if q.last_price is not None]
            assert (built.open, built.high, built.low, built.close) == (
                prices[0],
                max(prices),
                min(prices),
                prices[-1],
            )
            continue
        inputs = [
            b for b in before if isinstance(b, Bar) and b.symbol == built.symbol and not is_built(b)
        ]
        # Completed by the minute just before it: one that ends the bucket, or a later one.
        last = inputs[-1]
        assert last.ts_open >= end or (last.ts_open + MINUTE == end and last.ts_event >= end)
        inside = [b for b in inputs if start <= b.ts_open < end]
        assert all(b.ts_event <= end for b in inside)
        assert (built.open, built.close) == (inside[0].open, inside[-1].close)
        assert built.high == max(b.high for b in inside)
        assert built.low == min(b.low for b in inside)
        assert built.volume == sum(b.volume for b in inside)
        # Nothing of its bucket arrives after it.
        later = observed[index + 1 :]
        assert not any(
            isinstance(b, Bar)
            and not is_built(b)
            and b.symbol == built.symbol
            and start <= b.ts_open < end
            for b in later
        )


@settings(max_examples=60)
@given(markets, st.integers(0, 120))
def test_changing_the_data_after_a_time_changes_no_bar_built_by_then(market, cut_minutes):
    events = merged(market)
    if not events:
        return
    cut = events[0].ts_event + cut_minutes * MINUTE

    def changed(event: Event) -> Event:
        if event.ts_event <= cut:
            return event
        if isinstance(event, Bar):
            return attrs.evolve(
                event,
                open=event.open * 2,
                high=event.high * 2,
                low=event.low * 2,
                close=event.close * 2,
                volume=event.volume + 1,
            )
        assert isinstance(event, Quote)
        return attrs.evolve(event, last_price=None, volume=None)

    def built_by_cut(observed: list[Event]) -> list[Event]:
        return [e for e in observed if is_built(e) and e.ts_event <= cut]

    original, _ = observe(events)
    future_changed, _ = observe([changed(e) for e in events])
    assert built_by_cut(future_changed) == built_by_cut(original)
