"""Properties of trailing stops over generated bars and quotes: the stop never loosens, it is
always the tightest trail of the prices seen so far, and it fills exactly where the stop rules
say."""

from __future__ import annotations

from hypothesis import event, given
from hypothesis import strategies as st

from framework import Bar, EventBus, OrderFilled, Quote, SimulatedClock
from framework.execution import OrderStatus, SimulatedBroker
from framework.portfolio import Portfolio
from framework.testing import bars, quotes

trails = st.one_of(
    st.builds(lambda v: {"trail": v}, st.floats(0.01, 50.0)),
    st.builds(lambda v: {"trail_percent": v}, st.floats(0.001, 0.5)),
)
sides = st.sampled_from(["buy", "sell"])


def broker_at(ts: int) -> tuple[SimulatedBroker, SimulatedClock, list[OrderFilled]]:
    clock = SimulatedClock(ts)
    broker = SimulatedBroker(Portfolio(1e9))
    broker.attach(EventBus(), clock)
    fills: list[OrderFilled] = []
    broker.add_listener(lambda e: fills.append(e) if isinstance(e, OrderFilled) else None)
    return broker, clock, fills


def distance(options: dict[str, float], price: float) -> float:
    return options["trail"] if "trail" in options else price * options["trail_percent"]


def tightest(side: str, options: dict[str, float], prices: list[float]) -> float:
    """The stop the trail of ``prices`` gives: each price's own stop, the tightest of them."""
    if side == "sell":
        return max(p - distance(options, p) for p in prices)
    return min(p + distance(options, p) for p in prices)


@given(bars(symbols=["AAPL"], min_bars=2, max_bars=60, gaps=True), trails, sides)
def test_on_bars_the_stop_is_the_tightest_trail_of_the_closes_and_fills_by_the_stop_rules(
    generated: list[Bar], options: dict[str, float], side: str
) -> None:
    first, *rest = generated
    broker, clock, fills = broker_at(first.ts_event)
    broker.on_bar(first)
    order = broker.submit_trailing_stop("s", "AAPL", side, 1.0, **options)
    closes = [first.close]
    sign = 1 if side == "buy" else -1
    for bar in rest:
        before = order.stop_price
        assert before == tightest(side, options, closes)
        clock.advance_to(bar.ts_event)
        broker.on_bar(bar)
        if order.status is OrderStatus.FILLED:
            event("filled")
            (fill,) = fills
            gapped = sign * (bar.open - before) >= 0
            assert fill.price == (bar.open if gapped else before)
            assert fill.ts_event == (bar.ts_open if gapped else bar.ts_event)
            assert sign * ((bar.high if sign > 0 else bar.low) - before) >= 0
            return
        assert fills == [] and sign * ((bar.high if sign > 0 else bar.low) - before) < 0
        closes.append(bar.close)
        assert sign * (order.stop_price - before) <= 0  # never loosens
    assert order.stop_price == tightest(side, options, closes)


@given(quotes(symbols=["AAPL"], min_quotes=2, max_quotes=60, max_spread=0.02), trails, sides)
def test_on_quotes_the_stop_is_the_tightest_trail_of_the_marks_and_triggers_on_its_side(
    generated: list[Quote], options: dict[str, float], side: str
) -> None:
    first, *rest = generated
    broker, clock, fills = broker_at(first.ts_event)
    broker.on_quote(first)
    order = broker.submit_trailing_stop("s", "AAPL", side, 1.0, **options)
    assert first.mark_price is not None
    marks = [first.mark_price]
    sign = 1 if side == "buy" else -1
    for quote in rest:
        before = order.stop_price
        assert before == tightest(side, options, marks)
        clock.advance_to(quote.ts_event)
        broker.on_quote(quote)
        price = quote.ask if sign > 0 else quote.bid
        assert price is not None and quote.mark_price is not None
        if sign * (price - before) >= 0:
            event("filled")
            assert [f.price for f in fills] == [price]
            assert order.status is OrderStatus.FILLED
            return
        assert fills == []
        marks.append(quote.mark_price)
        assert sign * (order.stop_price - before) <= 0  # never loosens
