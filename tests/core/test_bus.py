from factories import bar, quote

from framework import Bar, Event, EventBus, Quote


def test_handlers_run_in_subscription_order_and_only_for_their_type():
    bus = EventBus()
    seen: list[tuple[str, object]] = []
    bus.subscribe(Bar, lambda e: seen.append(("first", e)))
    bus.subscribe(Quote, lambda e: seen.append(("quote", e)))
    bus.subscribe(Bar, lambda e: seen.append(("second", e)))
    b, q = bar(0, 10.0), quote(0, 9.9, 10.1)
    bus.publish(b)
    bus.publish(q)
    assert seen == [("first", b), ("second", b), ("quote", q)]


def test_symbol_filter_merges_with_catch_all_in_subscription_order():
    bus = EventBus()
    seen: list[str] = []
    bus.subscribe(Bar, lambda e: seen.append(f"all:{e.symbol}"))
    bus.subscribe(Bar, lambda e: seen.append(f"msft:{e.symbol}"), symbol="MSFT")
    bus.subscribe(Bar, lambda e: seen.append(f"all2:{e.symbol}"))
    bus.publish(bar(0, 1.0, symbol="AAPL"))
    bus.publish(bar(0, 1.0, symbol="MSFT"))
    assert seen == ["all:AAPL", "all2:AAPL", "all:MSFT", "msft:MSFT", "all2:MSFT"]


def test_base_type_subscription_receives_subclasses_and_unsubscribe_stops_delivery():
    bus = EventBus()
    seen: list[Event] = []
    bus.subscribe(Event, seen.append)
    bus.publish(bar(0, 1.0))
    bus.unsubscribe(Event, seen.append)
    bus.publish(bar(1, 1.0))
    assert len(seen) == 1


def test_subscribing_twice_delivers_once():
    bus = EventBus()
    seen: list[Event] = []
    bus.subscribe(Bar, seen.append)
    bus.subscribe(Bar, seen.append)
    bus.publish(bar(0, 1.0))
    assert len(seen) == 1


def test_subscription_after_first_publish_takes_effect():
    bus = EventBus()
    seen: list[str] = []
    bus.publish(bar(0, 1.0))
    bus.subscribe(Bar, lambda e: seen.append("late"))
    bus.publish(bar(1, 1.0))
    assert seen == ["late"]
