"""A golden test over the bundled recorded session.

examples/data/sample.twrec is a few seconds of a live session (two symbols of 1-minute bars
plus quotes), recorded from the simulated InsightSentry server by make_sample_recording.py.
Replaying it goes through the same decoder and bar assembly as the live feed. The expected
result lives in examples/golden/sma_cross_sample.json; after an intended change, rewrite it
with ``pytest examples/test_golden_example.py --tradewire-update-golden`` and review the diff.
"""

from pathlib import Path

from framework.testing import assert_deterministic
from strategies.sma_cross import SmaCross

SAMPLE = Path(__file__).parent / "data" / "sample.twrec"


def test_sma_cross_over_the_sample_session_matches_the_golden_result(
    tradewire_backtest, tradewire_golden
):
    result = tradewire_backtest(SmaCross(fast=5, slow=20), SAMPLE)
    assert result.trades
    tradewire_golden(result, "sma_cross_sample")


def test_the_sample_session_replays_identically():
    assert_deterministic(lambda: SmaCross(fast=5, slow=20), SAMPLE)
