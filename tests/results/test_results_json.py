"""A result written as JSON in pieces is byte for byte the JSON of to_json()."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from framework import Bar, ListFeed, RunResult, Strategy, backtest
from framework._time import iso_from_nanos
from framework.results._run_result import _iso

MINUTE = 60 * 10**9
T0 = 1_704_205_800 * 10**9


class FlipEveryBar(Strategy):
    """Buys on even bars and sells on odd ones: a fill, an order and half a trade per bar."""

    def on_start(self) -> None:
        self.n = 0

    def on_bar(self, bar: Bar) -> None:
        self.n += 1
        if self.n % 2:
            self.buy(bar.symbol, 1)
        else:
            self.sell(bar.symbol, 1)


class DoNothing(Strategy):
    def on_bar(self, bar: Bar) -> None:
        pass


def bars(count: int, *, offset_ns: int = 0) -> list[Bar]:
    out = []
    for i in range(count):
        ts = T0 + i * MINUTE + offset_ns
        price = 100.0 + (i % 7)
        out.append(
            Bar(
                symbol="X",
                interval="1m",
                ts_open=ts,
                open=price,
                high=price + 1,
                low=price - 1,
                close=price,
                volume=10.0,
                ts_event=ts + MINUTE,
                ts_recv=ts + MINUTE,
            )
        )
    return out


@pytest.mark.parametrize(
    ("strategy", "count", "offset_ns"),
    [
        (DoNothing, 5, 0),  # empty record lists
        (FlipEveryBar, 3, 0),  # fewer records than one batch
        (FlipEveryBar, 2_345, 0),  # several batches, the last one partial
        (FlipEveryBar, 40, 123_450_000),  # times with a fraction of a second
    ],
)
def test_write_json_writes_the_bytes_of_to_json(tmp_path, strategy, count, offset_ns):
    result = backtest(strategy(), [ListFeed(bars(count, offset_ns=offset_ns))])
    assert (len(result.fills) > 1_000) == (count > 2_000)
    path = tmp_path / "result.json"
    result.write_json(path)
    assert path.read_bytes() == result.to_json()


def test_write_json_survives_a_parameter_spelled_like_its_placeholders(tmp_path):
    result = backtest(FlipEveryBar(), [ListFeed(bars(10))])
    odd: RunResult = attrs.evolve(result, params={"note": "\x00fills\x00"})
    odd.write_json(tmp_path / "odd.json")
    assert (tmp_path / "odd.json").read_bytes() == odd.to_json()
    assert b'"note": "\\u0000fills\\u0000"' in odd.to_json()


@given(st.integers(min_value=0, max_value=253_402_300_799 * 10**9))
def test_result_times_are_formatted_as_iso_from_nanos_formats_them(nanos):
    assert _iso(nanos) == iso_from_nanos(nanos)
    whole = nanos - nanos % 10**9
    assert _iso(whole) == iso_from_nanos(whole)
