"""The engine raises the collector's thresholds for the length of a run, and only then."""

import gc

import pytest
import trio
from factories import bar

from framework import Engine, ListFeed
from framework._collector import RUN_THRESHOLDS, thresholds_for_a_run
from strategies.sma_cross import SmaCross


@pytest.fixture
def default_thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_thresholds_hold_for_the_block_and_come_back(default_thresholds):
    with thresholds_for_a_run():
        assert gc.get_threshold() == RUN_THRESHOLDS
    assert gc.get_threshold() == (700, 10, 10)


def test_overlapping_runs_restore_only_when_the_last_ends(default_thresholds):
    outer = thresholds_for_a_run()
    outer.__enter__()
    with thresholds_for_a_run():
        assert gc.get_threshold() == RUN_THRESHOLDS
    assert gc.get_threshold() == RUN_THRESHOLDS
    outer.__exit__(None, None, None)
    assert gc.get_threshold() == (700, 10, 10)


def test_automatic_collection_turned_off_by_the_user_stays_off(default_thresholds):
    gc.set_threshold(0)
    with thresholds_for_a_run():
        assert gc.get_threshold()[0] == 0
    assert gc.get_threshold()[0] == 0


def test_a_failing_block_restores_the_thresholds(default_thresholds):
    with pytest.raises(RuntimeError), thresholds_for_a_run():
        raise RuntimeError("boom")
    assert gc.get_threshold() == (700, 10, 10)


def test_an_engine_run_applies_them_while_running_and_restores_them(default_thresholds):
    seen = []

    class Probe(SmaCross):
        def on_bar(self, bar):
            seen.append(gc.get_threshold())
            super().on_bar(bar)

    engine = Engine(feeds=[ListFeed([bar(i, 10.0 + i) for i in range(5)])], strategies=[Probe()])
    trio.run(engine.run)
    assert seen and all(t == RUN_THRESHOLDS for t in seen)
    assert gc.get_threshold() == (700, 10, 10)
