"""Several replay feeds reach the strategies in one order: by ts_event, ties to the feed listed
first, each feed's own order kept — however the feeds cut their events into batches, and also
when a feed's times go back (then the merge takes one head at a time)."""

from typing import Any

import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from framework import Engine, FeedConnected
from tests.factories import MINUTE, T0, bar


class BatchFeed:
    """A replay feed that sends its events cut into batches of the given sizes."""

    is_live = False

    def __init__(self, name: str, events: list[Any], sizes: list[int]) -> None:
        self.name = name
        self.events = events
        self.sizes = sizes

    async def run(self, send, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        async with send:
            task_status.started()
            start, turn = 0, 0
            while start < len(self.events):
                size = self.sizes[turn % len(self.sizes)]
                await send.send(self.events[start : start + size])  # size 0: an empty batch
                start, turn = start + size, turn + 1


def note(i: int, feed: str) -> FeedConnected:
    ts = T0 + (i + 1) * MINUTE  # the time bar i closes
    return FeedConnected(feed=feed, attempt=i, ts_event=ts, ts_recv=ts)


def reference(feeds: list[list[Any]]) -> list[Any]:
    """The definition: again and again, the head with the smallest (ts_event, feed index)."""
    positions = [0] * len(feeds)
    merged = []
    while True:
        heads = [
            (events[positions[i]].ts_event, i)
            for i, events in enumerate(feeds)
            if positions[i] < len(events)
        ]
        if not heads:
            return merged
        _, index = min(heads)
        merged.append(feeds[index][positions[index]])
        positions[index] += 1


# A feed: steps forward of 0 to 2 minutes (0: several symbols at one time), a bar of one of
# two symbols or, now and then, a notification; with out_of_order, some steps go back.
def feed_events(index: int, out_of_order: bool):
    step = st.integers(-2 if out_of_order else 0, 2)
    kinds = st.sampled_from(["A", "B", "A", "B", "note"])
    return st.lists(st.tuples(step, kinds), max_size=60).map(lambda pairs: _events(index, pairs))


def _events(index: int, pairs: list[tuple[int, str]]) -> list[Any]:
    events, i = [], 5
    for step, kind in pairs:
        i = max(0, i + step)
        if kind == "note":
            events.append(note(i, f"f{index}"))
        else:
            events.append(bar(i, 100.0 + index, symbol=f"{kind}{index}"))
    return events


@st.composite
def runs(draw, out_of_order: bool):
    count = draw(st.integers(2, 5))
    feeds = [draw(feed_events(i, out_of_order and i == 0)) for i in range(count)]
    sizes = [draw(st.lists(st.integers(0, 7), min_size=1, max_size=4)) for _ in feeds]
    for size in sizes:
        if not any(size):
            size.append(1)
    return feeds, sizes


def delivered(feeds: list[list[Any]], sizes: list[list[int]]) -> list[Any]:
    engine = Engine(
        feeds=[
            BatchFeed(f"f{i}", events, size)
            for i, (events, size) in enumerate(zip(feeds, sizes, strict=True))
        ]
    )
    seen: list[Any] = []
    engine.add_observer(seen.append)
    trio.run(engine.run)
    return seen


@settings(max_examples=200, deadline=None)
@given(runs(out_of_order=False))
def test_feeds_in_time_order_merge_by_time_then_feed(run):
    feeds, sizes = run
    assert delivered(feeds, sizes) == reference(feeds)


@settings(max_examples=200, deadline=None)
@given(runs(out_of_order=True))
def test_a_feed_whose_times_go_back_keeps_its_order_and_the_rule(run):
    feeds, sizes = run
    assert delivered(feeds, sizes) == reference(feeds)


def test_a_hundred_aligned_feeds_interleave_by_feed_at_each_time():
    feeds = [[bar(i, 100.0, symbol=f"S{k:02}") for i in range(30)] for k in range(100)]
    seen = delivered(feeds, [[7]] * 100)
    assert [(b.ts_event, b.symbol) for b in seen] == sorted(
        (b.ts_event, b.symbol) for f in feeds for b in f
    )
