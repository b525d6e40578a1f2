"""Golden files: exact comparison, readable diffs, updates, tolerances."""

from __future__ import annotations

import pytest
from factories import bar

from framework import ListFeed, backtest
from framework.testing import GoldenFiles, assert_matches_golden, write_golden
from strategies.sma_cross import SmaCross


def run_result():
    closes = [10, 9, 8, 9, 11, 12, 10, 8, 7, 9, 12, 13]
    events = [bar(i, c) for i, c in enumerate(closes)]
    return backtest(SmaCross(fast=2, slow=3, qty=1), [ListFeed(events)])


def test_a_result_matches_the_golden_file_it_wrote(tmp_path):
    result = run_result()
    path = tmp_path / "deep" / "sma.json"
    assert write_golden(result, path) is True
    assert path.read_bytes() == result.to_json()
    assert write_golden(result, path) is False  # unchanged: not rewritten
    assert_matches_golden(result, path)


def test_a_missing_golden_file_says_how_to_create_it(tmp_path):
    with pytest.raises(AssertionError, match="does not exist; run pytest with --tradewire-update"):
        assert_matches_golden({"a": 1}, tmp_path / "missing.json")


def test_a_mismatch_shows_a_unified_diff_of_the_pretty_json(tmp_path):
    path = tmp_path / "summary.json"
    write_golden({"fills": 4, "final_equity": 100.0, "symbol": "AAPL"}, path)
    with pytest.raises(AssertionError) as caught:
        assert_matches_golden({"fills": 5, "final_equity": 100.0, "symbol": "AAPL"}, path)
    message = str(caught.value)
    assert f"result differs from golden file {path}" in message
    assert f"--- {path} (golden)\n+++ this run\n" in message
    assert '-  "fills": 4,\n+  "fills": 5,\n' in message
    assert '   "final_equity": 100.0,\n' in message  # context lines


def test_long_diffs_are_cut(tmp_path):
    path = tmp_path / "long.json"
    write_golden(list(range(500)), path)
    with pytest.raises(AssertionError, match=r"more diff lines\)"):
        assert_matches_golden([-n for n in range(500)], path)


def test_update_mode_rewrites_instead_of_comparing(tmp_path):
    path = tmp_path / "g.json"
    write_golden({"v": 1}, path)
    assert_matches_golden({"v": 2}, path, update=True)
    assert path.read_text() == '{\n  "v": 2\n}\n'


def test_tolerances_compare_numbers_approximately(tmp_path):
    path = tmp_path / "t.json"
    write_golden({"sharpe": 1.0000000001, "n": [1, 2], "flag": True}, path)
    assert_matches_golden({"sharpe": 1.0, "n": [1, 2], "flag": True}, path, rel_tol=1e-9)
    with pytest.raises(AssertionError):
        assert_matches_golden({"sharpe": 1.0, "n": [1, 2], "flag": True}, path)
    with pytest.raises(AssertionError):
        assert_matches_golden({"sharpe": 1.0, "n": [1, 3], "flag": True}, path, rel_tol=1e-9)
    with pytest.raises(AssertionError):
        assert_matches_golden({"sharpe": 1.0, "n": [1, 2], "flag": 1}, path, rel_tol=1e-9)


def test_golden_files_of_a_test_are_named_after_it_and_record_what_they_wrote(tmp_path):
    written = []
    golden = GoldenFiles(tmp_path, "test_x-fast", update=True, written=written)
    golden({"a": 1})
    golden({"b": 2}, "other")
    golden({"b": 2}, "other.json")  # same content again: not counted
    assert written == [tmp_path / "test_x-fast.json", tmp_path / "other.json"]
    checking = GoldenFiles(tmp_path, "test_x-fast")
    checking({"a": 1})
    with pytest.raises(AssertionError, match=r"other\.json"):
        checking({"b": 3}, "other")
