import random

import pytest
import trio
from factories import bar, quote
from hypothesis import given
from hypothesis import strategies as st

from framework.adapters.insightsentry import Backoff, BackoffPolicy, Outbox


@given(st.integers(0, 10_000), st.lists(st.floats(0, 100) | st.none(), min_size=1, max_size=30))
def test_backoff_delays_stay_within_bounds(seed, floors):
    policy = BackoffPolicy(initial=0.5, factor=2.0, cap=30.0)
    backoff = Backoff(policy, rng=random.Random(seed))
    for n, floor in enumerate(floors):
        base = min(30.0, 0.5 * 2.0**n)
        delay = backoff.next_delay(floor)
        assert max(base / 2, floor or 0) <= delay <= max(base, floor or 0)


def test_backoff_grows_and_caps_while_connections_deliver_no_data():
    backoff = Backoff(BackoffPolicy(initial=1.0, cap=8.0, reset_after=60.0), rng=random.Random(1))
    highs = []
    for _ in range(6):
        highs.append(backoff.bounds()[1])
        # Accepted, then dropped after 13 s without a data frame: still a failure.
        backoff.connection_ended(lasted=13.0, delivered_data=False)
        backoff.next_delay()
    assert highs == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert backoff.failures == 6


def test_backoff_resets_once_a_connection_delivered_data_however_short():
    backoff = Backoff(BackoffPolicy(initial=1.0, cap=8.0, reset_after=60.0), rng=random.Random(1))
    for _ in range(4):
        backoff.next_delay()
    backoff.connection_ended(lasted=0.5, delivered_data=True)
    assert backoff.failures == 0 and backoff.bounds() == (0.5, 1.0)


def test_backoff_resets_after_a_long_quiet_connection_too():
    backoff = Backoff(BackoffPolicy(initial=1.0, cap=8.0, reset_after=60.0), rng=random.Random(1))
    for _ in range(4):
        backoff.next_delay()
    backoff.connection_ended(lasted=59.0, delivered_data=False)
    assert backoff.failures == 4
    backoff.connection_ended(lasted=60.0, delivered_data=False)
    assert backoff.failures == 0


def test_a_server_dropping_every_13_s_after_data_gets_prompt_reconnects():
    """The issue's case: with the old rule (reset only after 60 s up) these delays climbed to
    the 15-30 s of a 30 s cap."""
    policy = BackoffPolicy()  # 0.5 s initial, x2, 30 s cap, 60 s
    backoff = Backoff(policy, rng=random.Random(21))
    delays = []
    for _ in range(20):
        backoff.connection_ended(lasted=13.0, delivered_data=True)
        delays.append(backoff.next_delay())
    assert all(0.25 <= d <= 0.5 for d in delays), delays
    # Jittered, not in step.
    assert len(set(delays)) == len(delays)
    # A server's floor still wins.
    backoff.connection_ended(lasted=13.0, delivered_data=True)
    assert backoff.next_delay(floor=7.0) == 7.0


def test_backoff_policy_rejects_nonsense():
    with pytest.raises(ValueError):
        BackoffPolicy(initial=5.0, cap=1.0)


async def test_outbox_conflates_quotes_keeps_bars_and_time_order():
    box = Outbox()
    q1, q2, q3 = quote(0, 1.0, 1.1), quote(1, 1.0, 1.2), quote(2, 2.0, 2.1, symbol="MSFT")
    b1, b2 = bar(0, 1.0), bar(1, 1.0)
    assert box.put([q1, b1, q3])
    assert box.put([q2, b2])
    assert box.conflated == 1
    assert await box.take() == [b1, q3, q2, b2]


async def test_outbox_reports_overflow_without_dropping_bars():
    box = Outbox(max_pending=3)
    assert box.put([bar(i, 1.0) for i in range(3)])
    assert not box.put([bar(3, 1.0)])
    assert len(await box.take()) == 4


async def test_outbox_requeue_puts_a_batch_back_in_front_and_close_drains():
    box = Outbox()
    box.put([bar(2, 1.0)])
    box.requeue([bar(0, 1.0), bar(1, 1.0)])
    box.close()
    taken = await box.take()
    assert [b.ts_open for b in taken] == sorted(b.ts_open for b in taken)
    assert await box.take() is None


async def test_outbox_take_waits_for_events():
    box = Outbox()
    got = []

    async def consumer():
        got.append(await box.take())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(consumer)
        await trio.sleep(0.01)
        assert got == []
        box.put([bar(0, 1.0)])
    assert len(got[0]) == 1


async def test_attached_outbox_hands_lists_straight_to_a_channel_with_room():
    box = Outbox()
    send, receive = trio.open_memory_channel(1)
    box.attach(send)
    first = [bar(0, 1.0)]
    assert box.put(first)
    assert len(box) == 0
    assert receive.receive_nowait() is first


async def test_attached_outbox_queues_behind_pending_events_and_a_full_channel():
    box = Outbox()
    send, receive = trio.open_memory_channel(1)
    box.attach(send)
    box.put([bar(0, 1.0)])  # fills the channel
    box.put([bar(1, 1.0)])  # channel full: waits here
    box.put([bar(2, 1.0)])  # something waits here: queued behind it, though...
    assert receive.receive_nowait() == [bar(0, 1.0)]  # ...the channel now has room
    box.put([bar(3, 1.0)])
    assert await box.take() == [bar(1, 1.0), bar(2, 1.0), bar(3, 1.0)]
    assert box.put([bar(4, 1.0)]) and len(box) == 0  # nothing waits: straight through again
    assert receive.receive_nowait() == [bar(4, 1.0)]


async def test_attached_outbox_keeps_events_when_the_channel_is_closed():
    box = Outbox()
    send, receive = trio.open_memory_channel(1)
    box.attach(send)
    await receive.aclose()
    assert box.put([bar(0, 1.0)])
    box.attach(None)
    assert box.put([bar(1, 1.0)])
    assert await box.take() == [bar(0, 1.0), bar(1, 1.0)]
