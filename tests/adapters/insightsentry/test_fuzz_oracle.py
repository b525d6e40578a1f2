"""Fuzz with an oracle (issue 21, part 1): frames valid and hostile, generated with what each
one carries, go through the frame processor as the live feed and the replay send them, and
every outcome (events, the frame returned, every counter) is checked against an oracle that
models the protocol independently of the adapter (``tests/wire_fuzz.py``).

The long run is ``python bench/fuzz_live.py`` (a million frames); here, short Hypothesis-drawn
sequences, a seeded run of 20,000 frames, proof that the checks catch a wrong processor, and
the bugs the fuzz found, as minimal reproducers marked xfail until they are fixed.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wire_fuzz import (
    HOSTILE_KINDS,
    KINDS,
    KNOWN_BUG_KINDS,
    KNOWN_BUGS,
    MAX_BYTES,
    REASONS,
    SOURCE,
    FuzzRun,
    pick_kinds,
    subscription_set,
)

from framework import Bar, BarUpdate, DataRejected, Event, Quote
from framework.adapters.insightsentry import (
    FrameKind,
    FrameProcessor,
    Subscription,
    SubscriptionSet,
)

#: Every kind but those that show a known bug (see ``wire_fuzz.KNOWN_BUGS``).
SUITE_KINDS = tuple(kind for kind in KINDS if kind not in KNOWN_BUG_KINDS)


@pytest.fixture(autouse=True)
def _quiet_adapter_logs(caplog: pytest.LogCaptureFixture) -> None:
    # Hostile frames are logged as they are counted; thousands of lines would only slow the
    # run down (the bench counts them instead).
    caplog.set_level(logging.CRITICAL, logger="framework")


@settings(max_examples=300, derandomize=True, database=None)
@given(
    kinds=st.lists(st.sampled_from(SUITE_KINDS), min_size=1, max_size=40),
    rng=st.randoms(use_true_random=False),
    updates=st.booleans(),
    fast_path=st.booleans(),
)
def test_every_frame_of_a_generated_sequence_gives_what_the_oracle_predicts(
    kinds: list[str], rng: random.Random, updates: bool, fast_path: bool
) -> None:
    run = FuzzRun(rng, updates=updates, fast_path=fast_path, tolerate=KNOWN_BUGS)
    run.run(kinds)
    assert run.mismatch_count == 0, run.report()


def test_a_seeded_run_of_20000_frames_matches_the_oracle_and_covers_every_case() -> None:
    run = FuzzRun(random.Random(21), tolerate=KNOWN_BUGS)
    run.run(pick_kinds(random.Random(2026), 20_000, SUITE_KINDS))
    assert run.mismatch_count == 0, run.report()
    stats = run.processor.statistics()
    assert set(run.kinds) == set(SUITE_KINDS)
    # Every reason a rejection can have, every kind of frame, every kind of event.
    assert set(stats.rejected) == REASONS
    assert set(stats.frames) == {kind.name for kind in FrameKind}
    assert set(run.events) == {"Bar", "BarUpdate", "Quote", "DataRejected"}
    # The paths that matter most were taken many times, each checked.
    assert run.fast_path_frames > 3_000
    assert stats.duplicates > 1_000 and stats.corrections > 1_000
    assert run.heartbeat_bars > 100
    assert {"refused", "events", "events, part refused", "counted (duplicate/correction)"} <= set(
        run.outcomes
    )
    # Hostile frames are about a fifth of the run, and none got through as data.
    hostile = sum(run.kinds[kind] for kind in HOSTILE_KINDS)
    assert 2_000 < hostile < 6_000
    assert stats.frames["INVALID"] > 2_000


# -- the checks catch a wrong processor -------------------------------------------------------


@attrs.define
class Sabotaged:
    """A ``FrameProcessor`` whose output ``change`` bends: what the oracle must notice."""

    inner: FrameProcessor
    change: Callable[[list[Event]], list[Event]]
    statistics_change: Callable[[object], object] = lambda stats: stats

    @property
    def source(self) -> str:
        return self.inner.source

    def process_live(self, text: object, recv_ns: int) -> tuple[list[Event], object]:
        events, frame = self.inner.process_live(text, recv_ns)  # type: ignore[arg-type]
        return self.change(events), frame

    def statistics(self) -> object:
        return self.statistics_change(self.inner.statistics())

    def set_subscriptions(self, subscriptions: SubscriptionSet | None) -> None:
        self.inner.set_subscriptions(subscriptions)


def _first(events: list[Event], cls: type) -> int | None:
    return next((i for i, e in enumerate(events) if type(e) is cls), None)


def _bend_first(cls: type, **changes: object) -> Callable[[list[Event]], list[Event]]:
    def change(events: list[Event]) -> list[Event]:
        i = _first(events, cls)
        if i is None:
            return events
        return [*events[:i], attrs.evolve(events[i], **changes), *events[i + 1 :]]

    return change


def _again(events: list[Event]) -> list[Event]:
    i = _first(events, Bar)
    return events if i is None else [*events, events[i]]


def _more_volume(events: list[Event]) -> list[Event]:
    i = _first(events, Bar)
    if i is None:
        return events
    bar = events[i]
    assert isinstance(bar, Bar)
    return [*events[:i], attrs.evolve(bar, volume=bar.volume + 1), *events[i + 1 :]]


SABOTAGE: dict[str, Callable[[list[Event]], list[Event]]] = {
    "emits a final bar twice": _again,
    "adds to a final bar's volume": _more_volume,
    "drops bar updates": lambda events: [e for e in events if type(e) is not BarUpdate],
    "swallows rejections": lambda events: [e for e in events if type(e) is not DataRejected],
    "forgets a quote's bid size": _bend_first(Quote, bid_size=None),
    "stamps a bar update with a wrong time": _bend_first(BarUpdate, ts_event=1),
    "reorders events": lambda events: events[::-1],
}


def _run(make: Callable[[SubscriptionSet], Sabotaged], frames: int = 1_500) -> FuzzRun:
    run = FuzzRun(random.Random(5), processor=make, tolerate=KNOWN_BUGS)  # type: ignore[arg-type]
    run.run(pick_kinds(random.Random(6), frames, SUITE_KINDS))
    return run


def _processor(subscriptions: SubscriptionSet) -> FrameProcessor:
    return FrameProcessor(subscriptions, source=SOURCE, max_bytes=MAX_BYTES)


@pytest.mark.parametrize("sabotage", sorted(SABOTAGE))
def test_the_oracle_catches_a_processor_that(sabotage: str) -> None:
    run = _run(lambda subs: Sabotaged(_processor(subs), SABOTAGE[sabotage]))
    assert run.mismatch_count > 0


@pytest.mark.parametrize("counter", ["duplicates", "corrections", "bars", "quotes"])
def test_the_oracle_catches_a_counter_that_does_not_move(counter: str) -> None:
    run = _run(
        lambda subs: Sabotaged(
            _processor(subs),
            lambda events: events,
            lambda stats: attrs.evolve(stats, **{counter: 0}),  # type: ignore[misc]
        )
    )
    assert run.mismatch_count > 0
    assert any(counter in problem for m in run.mismatches for problem in m.problems)


def test_the_oracle_catches_a_processor_that_silently_drops_a_bar_frame() -> None:
    def drop_single_bar_updates(events: list[Event]) -> list[Event]:
        return [] if [type(e) for e in events] == [BarUpdate] else events

    run = _run(
        lambda subs: Sabotaged(
            _processor(subs),
            drop_single_bar_updates,
            lambda stats: stats,
        )
    )
    assert any(
        "events: got [], expected [BarUpdate" in p for m in run.mismatches for p in m.problems
    )


def test_the_replay_check_catches_a_replay_that_gives_other_events() -> None:
    run = FuzzRun(random.Random(5), tolerate=KNOWN_BUGS)
    # A replay that drops bar updates, as one built with updates=False would.
    run.replay = FrameProcessor(
        subscription_set(), source=SOURCE, max_bytes=MAX_BYTES, updates=False
    )
    run.run(pick_kinds(random.Random(6), 500, SUITE_KINDS))
    assert any("replay (process_events) gave" in p for m in run.mismatches for p in m.problems)


# -- bugs the fuzz found (minimal reproducers) ------------------------------------------------


def _bars_of(code: str) -> FrameProcessor:
    return FrameProcessor(SubscriptionSet([Subscription(code=code)]), source="repro")


def test_a_bad_quote_entry_beside_a_good_one_is_rejected_and_counted_once() -> None:
    quotes = SubscriptionSet([Subscription(code="X:A", type="quote")])
    processor = FrameProcessor(quotes, source="repro")
    text = '{"data":[{"code":"X:A","bid":1.0},{"code":"X:A","bid":-1.0}]}'
    events, _ = processor.process_live(text, 5)
    assert [type(e) for e in events].count(Quote) == 1
    assert [e.reason for e in events if isinstance(e, DataRejected)] == ["negative_price"]
    assert processor.statistics().rejected == {"negative_price": 1}


ZERO_VOLUME = (
    '{"code":"X:A","bar_type":"1m","bar_end":119,"last_update":61000,'
    '"series":[{"time":60,"open":1.0,"high":1.0,"low":1.0,"close":1.0,"volume":0.0}]}'
)
NO_VOLUME = (
    '{"code":"X:A","bar_type":"1m","bar_end":119,"last_update":62000,'
    '"series":[{"time":60,"open":1.0,"high":1.0,"low":1.0,"close":1.0}]}'
)


def test_a_bar_in_progress_sent_again_without_its_zero_volume_is_a_duplicate() -> None:
    processor = _bars_of("X:A")
    first, _ = processor.process_live(ZERO_VOLUME, 1)
    again, _ = processor.process_live(NO_VOLUME, 2)
    assert [type(e) for e in first] == [BarUpdate]
    assert again == []
    assert processor.statistics().duplicates == 1


def test_a_final_bar_sent_again_without_its_zero_volume_is_no_correction() -> None:
    processor = _bars_of("X:A")
    processor.process_live(ZERO_VOLUME, 1)
    closed, _ = processor.process_live('{"server_time":120000}', 2)
    assert [(type(e), e.volume) for e in closed] == [(Bar, 0.0)]  # type: ignore[attr-defined]
    processor.process_live(NO_VOLUME, 3)
    stats = processor.statistics()
    assert (stats.duplicates, stats.corrections) == (1, 0)


def test_a_seeded_run_with_the_known_bug_kinds_and_a_strict_oracle_matches() -> None:
    run = FuzzRun(random.Random(21))
    run.run(pick_kinds(random.Random(2026), 3_000))
    assert run.mismatch_count == 0, run.report()
