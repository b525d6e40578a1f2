"""The simulated server's frame texts, to the byte: they come from the adapter's encoder, and
writing them through it changed nothing on the wire (key order, float and integer forms)."""

import pytest

from framework import Interval
from framework.adapters.insightsentry.sim import Hostile
from framework.adapters.insightsentry.sim._wire import (
    error_text,
    hostile_frame,
    series_frame,
    tick_frame,
)
from framework.testing import SyntheticBar, SyntheticTrade

S = 1_000_000_000


def test_series_frame_text():
    bar = SyntheticBar(
        ts_open=1_767_571_200 * S,
        open=67.74,
        high=67.83,
        low=67.63,
        close=67.72,
        volume=678.0,
        ts_update=1_767_571_230_123_456_789,
    )
    assert series_frame("NASDAQ:AAPL", Interval.parse("1m"), [bar]) == (
        '{"code":"NASDAQ:AAPL","bar_type":"1m","bar_end":1767571259.0,"last_update":1767571230123,'
        '"series":[{"time":1767571200.0,"open":67.74,"high":67.83,"low":67.63,"close":67.72,'
        '"volume":678.0}]}'
    )


def test_tick_frame_text():
    trade = SyntheticTrade(
        code="BINANCE:BTCUSDT",
        seq=1,
        ts=1_767_571_201_234_000_000,
        price=93850.5,
        size=0.012,
        bid=93850.0,
        ask=93851.0,
        bid_size=1.0,
        ask_size=2.0,
    )
    assert tick_frame("BINANCE:BTCUSDT", [trade]) == (
        '{"code":"BINANCE:BTCUSDT","bar_type":"1T","last_update":1767571201234,'
        '"series":[{"time":1767571201.234,"close":93850.5,"volume":0.012}]}'
    )


def test_error_texts_in_both_styles():
    assert error_text("structured", "server_busy") == (
        '{"error":"server_busy","message":"Server is busy, please retry later",'
        '"action":"reconnect","retryable":true,"delay_seconds":5.0}'
    )
    assert error_text("structured", "invalid_symbol", message="Unknown symbol", symbol="A:B") == (
        '{"error":"invalid_symbol","message":"Unknown symbol","code":"A:B","retryable":false}'
    )
    assert error_text("legacy", "invalid_symbol", legacy_message="Invalid Symbol Code") == (
        '{"message":"Invalid Symbol Code"}'
    )


@pytest.mark.parametrize(
    ("kind", "bent"),
    [
        (Hostile.NAN, '"close":NaN'),
        (Hostile.HUGE_NUMBER, '"close":1e400'),
        (Hostile.NEGATIVE_PRICE, '"close":-100.5'),
        (Hostile.HIGH_BELOW_LOW, '"high":98.0'),
    ],
)
def test_hostile_frames_are_a_valid_frame_with_one_value_bent(kind, bent):
    point = '"time":1767797100.0,"open":100.0,"high":101.0,"low":99.0,"close":100.5,"volume":10.0'
    valid = (
        '{"code":"SIM:X","bar_type":"1m","last_update":1767797142517,"series":[{' + point + "}]}"
    )
    field = bent.split(":")[0]
    original = next(part for part in point.split(",") if part.startswith(field + ":"))
    assert hostile_frame(kind, "SIM:X") == valid.replace(original, bent)


def test_the_depth_bomb_nests_the_series_list():
    text = hostile_frame(Hostile.DEEP_NESTING, "SIM:X")
    head = '{"code":"SIM:X","bar_type":"1m","last_update":1767797142517,"series":'
    assert text == head + "[" * 10_000 + "]" * 10_000 + "}"
