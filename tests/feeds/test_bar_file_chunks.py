"""The bar file's column reader changes speed only: it gives the bars, the errors and the skip
counts of the row-by-row reader, chunk boundaries included."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any
from unittest import mock

import orjson
import pytest
import trio
from factories import collect, write_csv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framework import BarFileError, BarFileFeed
from framework._events import ohlcv_is_valid
from framework.feeds import _bar_file
from framework.feeds._bar_columns import all_bars_valid

T0 = 1_704_205_800  # 2024-01-02T14:30:00Z
NS = 10**9


def read(path: Path | str, *, row_path_only: bool = False, **options: Any) -> Any:
    """("bars", their reprs, statistics) or ("error", message) of reading ``path``."""

    feed = BarFileFeed(path, **options)
    errors: list[BaseException] = []
    try:
        if row_path_only:
            with mock.patch.object(_bar_file, "clean_columns", lambda *args: None):
                bars = trio.run(collect, feed)
        else:
            bars = trio.run(collect, feed)
    except* BarFileError as group:
        errors = list(group.exceptions)
    if errors:
        (error,) = errors
        return ("error", str(error))
    stats = feed.statistics()
    # repr tells -0.0 from 0.0, which == does not.
    return ("bars", [repr(b) for b in bars], stats.skipped_by_reason, stats.examples)


def good(t: int, close: float = 10.0) -> str:
    return f"{t},{close},{close + 1},{close - 1},{close},100"


# -- chunks, hand-made ------------------------------------------------------------------------


@pytest.mark.parametrize("interval", ["1m", None])
@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("{t},abc,11,9,10,1", "unparsable number"),
        ("{t},nan,11,9,10,1", "NaN or infinite"),
        ("{t},10,9,11,10,1", "inconsistent OHLC"),
        ("{t},-10,11,9,10,1", "open must be a finite positive price"),
        ("{back},10,11,9,10,1", "time goes backwards"),
        ("{same},10,11,9,10,1", "second bar for"),
        ("yesterday,10,11,9,10,1", "unparsable time"),
        ("{t},10,11,9", "expected 6 fields, found 4"),
    ],
)
def test_a_bad_row_deep_in_a_later_chunk_names_its_own_line(tmp_path, interval, row, reason):
    bad_index = 2_500  # in the third chunk of 1024 rows, not at a boundary
    rows = [good(T0 + 60 * i) for i in range(4_000)]
    t = T0 + 60 * bad_index
    rows[bad_index] = row.format(t=t, back=t - 120, same=t - 60)
    path = write_csv(str(tmp_path / "long.csv"), rows)
    line = bad_index + 2  # the header is line 1
    assert read(path, interval=interval) == read(path, interval=interval, row_path_only=True)
    kind, message = read(path, interval=interval)
    assert kind == "error"
    assert message.startswith(f"{path}:{line}: ")
    assert reason in message


def test_skipping_counts_bad_rows_in_every_chunk_as_the_row_reader_does(tmp_path):
    rows = [good(T0 + 60 * i) for i in range(5_000)]
    for i in range(7, 5_000, 333):
        rows[i] = f"{T0 + 60 * i},nan,11,9,10,1"
    rows[4_321] = f"{T0},10,11,9,10,1"  # backwards
    path = write_csv(str(tmp_path / "dirty.csv"), rows)
    feed_options = {"interval": "1m", "skip_bad_rows": True}
    kind, bars, skipped, examples = read(path, **feed_options)
    assert (kind, bars, skipped, examples) == read(path, row_path_only=True, **feed_options)
    assert skipped == {"non_finite": 15, "time_backwards": 1}
    assert len(bars) == 5_000 - 16
    assert examples[0].endswith(
        "dirty.csv:9: NaN or infinite value in ['1704206220', 'nan', '11', '9', '10', '1']"
    )


def test_iso_and_decimal_times_read_by_chunk_as_by_row(tmp_path):
    iso = [f"2024-01-02T{9 + i // 60:02d}:{i % 60:02d}:00-05:00,10,11,9,10,1" for i in range(300)]
    decimal = [f"{T0 + 18_000 + 60 * i}.25,10,11,9,10,1" for i in range(300)]
    path = write_csv(str(tmp_path / "iso.csv"), iso + decimal)
    result = read(path)
    assert result == read(path, row_path_only=True)
    assert result[0] == "bars" and len(result[1]) == 600
    assert f"ts_open={(T0 - 1_800) * NS}," in result[1][0]
    assert "ts_open=1704223800250000000," in result[1][300]


def test_symbol_column_in_chunks_catches_a_repeat_across_a_chunk_boundary(tmp_path):
    rows = []
    for i in range(700):  # two symbols per time: 1400 rows, a boundary at row 1024
        rows += [f"A,{T0 + 60 * i},1,1,1,1,1", f"B,{T0 + 60 * i},2,2,2,2,2"]
    path = write_csv(
        str(tmp_path / "ab.csv"), rows, header="symbol,time,open,high,low,close,volume"
    )
    clean = read(path, interval="1m")
    assert clean == read(path, interval="1m", row_path_only=True)
    assert len(clean[1]) == 1_400
    # Row 1025 (line 1026) opens the second chunk and repeats row 1023's bar (B at time 511).
    rows.insert(1_024, f"B,{T0 + 60 * 511},2,2,2,2,2")
    path = write_csv(
        str(tmp_path / "ab.csv"), rows, header="symbol,time,open,high,low,close,volume"
    )
    assert read(path, interval="1m") == ("error", f"{path}:1026: second bar for B at the same time")


def test_windows_line_ends_blank_lines_and_no_final_newline(tmp_path):
    path = tmp_path / "crlf.csv"
    rows = [good(T0 + 60 * i) for i in range(2_100)]
    rows[1_500] = ""
    path.write_bytes(("time,open,high,low,close,volume\r\n" + "\r\n".join(rows)).encode())
    result = read(path)
    assert result == read(path, row_path_only=True)
    assert len(result[1]) == 2_099


def test_a_quoted_field_spanning_a_chunk_boundary_is_read_by_csv(tmp_path):
    rows = [good(T0 + 60 * i) for i in range(2_000)]
    rows[1_022] = f'"{T0 + 60 * 1_022}",10,11,9,10,"100'  # the quote closes on the next line
    rows[1_023] = 'x"'
    path = write_csv(str(tmp_path / "quoted.csv"), rows)
    result = read(path, skip_bad_rows=True)
    assert result == read(path, row_path_only=True, skip_bad_rows=True)
    assert result[2] == {"bad_number": 1}
    assert result[3][0].startswith(f"{path}:1024: unparsable number")


# -- any file, generated ----------------------------------------------------------------------

ROW_KINDS = [
    "good", "good", "good", "good", "good", "good", "int_prices", "spaces", "exponent",
    "minus_zero_volume", "plus_sign", "underscore", "decimal_time", "iso_time", "nan", "inf",
    "negative", "high_below_low", "word", "backwards", "repeat", "short", "long", "blank",
    "true", "null", "bracket", "quoted", "other_unit", "naive_time", "skipped_time",
    "past_2262", "negative_time",
]  # fmt: skip

#: How a file writes its times: epoch numbers in a unit, or naive wall-clock times.
TIME_FORMS = ["s", "ms", "us", "ns", "naive"]


def stamp(t: int, form: str) -> str:
    """Time ``t`` (seconds) as a file of ``form`` writes it."""
    if form == "naive":
        return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    return str(t * {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[form])


def row_of(kind: str, t: int, price: int, form: str = "s") -> tuple[str, int]:
    """A row of ``kind`` for time ``t`` (seconds) in a file of time ``form``, and the time
    the next row follows."""
    p = f"{price / 100}"
    hi, lo = f"{(price + 7) / 100}", f"{(price - 7) / 100}"
    ts = stamp(t, form)
    rows = {
        "good": f"{ts},{p},{hi},{lo},{p},1234",
        "int_prices": f"{ts},{price},{price + 1},{price - 1},{price},0",
        "spaces": f" {ts} , {p},{hi} ,{lo},{p},\t5 ",
        "exponent": f"{ts},{price}e-2,{hi},{lo},{p},1e3",
        "minus_zero_volume": f"{ts},{p},{hi},{lo},{p},-0",
        "plus_sign": f"{ts},+{p},{hi},{lo},{p},1",
        "underscore": f"{ts},{p},{hi},{lo},{p},1_000",
        "decimal_time": f"{ts}.5,{p},{hi},{lo},{p},1",
        "iso_time": f"1970-01-01T00:00:00+00:00,{p},{hi},{lo},{p},1"
        if t == 0
        else f"{_iso(t)},{p},{hi},{lo},{p},1",
        "nan": f"{ts},{p},{hi},{lo},nan,1",
        "inf": f"{ts},{p},inf,{lo},{p},1",
        "negative": f"{ts},{p},{hi},-{lo},{p},1",
        "high_below_low": f"{ts},{p},{lo},{hi},{p},1",
        "word": f"{ts},{p},{hi},{lo},{p},many",
        "backwards": f"{stamp(max(t - 120, 0), form)},{p},{hi},{lo},{p},1",
        "repeat": f"{stamp(max(t - 60, 0), form)},{p},{hi},{lo},{p},1",
        "short": f"{ts},{p},{hi},{lo},{p}",
        "long": f"{ts},{p},{hi},{lo},{p},1,1",
        "blank": "",
        "true": f"{ts},{p},{hi},{lo},{p},true",
        "null": f"{ts},{p},null,{lo},{p},1",
        "bracket": f"{ts},{p},{hi},{lo},{p},1],[{ts}",
        "quoted": f'{ts},"{p}",{hi},{lo},{p},1',
        "other_unit": f"{stamp(t, 'ms' if form == 's' else 's')},{p},{hi},{lo},{p},1",
        "naive_time": f"{stamp(t, 'naive')},{p},{hi},{lo},{p},1",
        "skipped_time": f"2024-03-10 02:30:00,{p},{hi},{lo},{p},1",  # not in New York
        "past_2262": f"{stamp(10**10, form)},{p},{hi},{lo},{p},1",
        "negative_time": f"-{ts},{p},{hi},{lo},{p},1",
    }
    return rows[kind], t + 60


def _iso(t: int) -> str:
    from framework._time import iso_from_nanos

    return iso_from_nanos(t * NS)


@st.composite
def bar_files(draw: st.DrawFn, form: str = "s") -> list[str]:
    kinds = draw(st.lists(st.sampled_from(ROW_KINDS), min_size=1, max_size=40))
    t = T0
    lines = []
    for kind in kinds:
        price = draw(st.integers(min_value=8, max_value=100_000))
        line, t = row_of(kind, t, price, form)
        lines.append(line)
    return lines


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=bar_files(),
    chunk=st.integers(min_value=1, max_value=6),
    skip=st.booleans(),
    interval=st.sampled_from(["1m", None]),
    line_end=st.sampled_from(["\n", "\r\n"]),
)
def test_chunks_of_any_size_read_any_file_as_rows_do(
    tmp_path_factory, rows, chunk, skip, interval, line_end
):
    path = tmp_path_factory.mktemp("files") / "gen.csv"
    path.write_bytes(("time,open,high,low,close,volume" + line_end).encode())
    with path.open("ab") as out:
        out.write(line_end.join(rows).encode() + line_end.encode())
    options = {"skip_bad_rows": skip, "interval": interval}
    with mock.patch.object(_bar_file, "REPLAY_BATCH_SIZE", chunk):
        assert read(path, **options) == read(path, row_path_only=True, **options)


#: Headers of the files people have, and where their rows carry a column that is not read.
HEADERS = {
    "plain": ("time,open,high,low,close,volume", None),
    "pandas": (",Open,High,Low,Close,Volume", None),
    "yahoo": ("Date,Open,High,Low,Close,Adj Close,Volume", 5),
}


def with_extra_field(row: str, at: int | None) -> str:
    if at is None or not row:
        return row
    fields = row.split(",")
    return ",".join([*fields[:at], "9.5", *fields[at:]])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    form=st.sampled_from(TIME_FORMS),
    header=st.sampled_from(sorted(HEADERS)),
    tz=st.sampled_from([None, "UTC", "America/New_York"]),
    name_the_unit=st.booleans(),
    chunk=st.integers(min_value=1, max_value=6),
    skip=st.booleans(),
    interval=st.sampled_from(["1m", None]),
)
def test_chunks_read_every_time_form_and_header_as_rows_do(
    tmp_path_factory, data, form, header, tz, name_the_unit, chunk, skip, interval
):
    names, extra_at = HEADERS[header]
    rows = [with_extra_field(row, extra_at) for row in data.draw(bar_files(form))]
    path = tmp_path_factory.mktemp("files") / "gen.csv"
    write_csv(str(path), rows, header=names)
    options = {
        "skip_bad_rows": skip,
        "interval": interval,
        "tz": tz,
        "time_unit": form if name_the_unit and form != "naive" else None,
    }
    with mock.patch.object(_bar_file, "REPLAY_BATCH_SIZE", chunk):
        assert read(path, **options) == read(path, row_path_only=True, **options)


@pytest.mark.parametrize("form", [*TIME_FORMS, "date"])
def test_files_of_every_time_form_take_the_column_path(tmp_path, form):
    if form == "date":  # daily, over several daylight-saving changes
        times = [str(dt.date(2015, 1, 1) + dt.timedelta(days=i)) for i in range(3_000)]
    else:
        times = [stamp(T0 + 60 * i, form) for i in range(3_000)]
    rows = [f"{t},10,11,9,10,9.5,1" for t in times]
    path = write_csv(str(tmp_path / "X.csv"), rows, header=HEADERS["yahoo"][0])
    taken = []

    def spy(*args: Any) -> Any:
        columns = real(*args)
        taken.append(columns is not None)
        return columns

    real = _bar_file.clean_columns
    with mock.patch.object(_bar_file, "clean_columns", spy):
        result = read(path, tz="America/New_York")
    assert taken and all(taken)
    assert result == read(path, tz="America/New_York", row_path_only=True)
    assert result[0] == "bars" and len(result[1]) == 3_000


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["A", "B", "C", " B ", ""]), st.integers(-1, 3)),
        min_size=1,
        max_size=30,
    ),
    chunk=st.integers(min_value=1, max_value=5),
    skip=st.booleans(),
)
def test_chunks_read_symbol_columns_as_rows_do(tmp_path_factory, rows, chunk, skip):
    # Steps of 0 make times shared by several symbols (and repeats of a bar); -1 goes back.
    t = T0
    lines = []
    for symbol, step in rows:
        t += 60 * step
        lines.append(f"{symbol},{t},1,2,1,2,3")
    path = tmp_path_factory.mktemp("files") / "many.csv"
    write_csv(str(path), lines, header="symbol,time,open,high,low,close,volume")
    options = {"skip_bad_rows": skip, "interval": "1m"}
    with mock.patch.object(_bar_file, "REPLAY_BATCH_SIZE", chunk):
        assert read(path, **options) == read(path, row_path_only=True, **options)


# -- the assumption under the number reader ---------------------------------------------------

json_numbers = st.from_regex(r"\A(0|[1-9][0-9]{0,20})(\.[0-9]{1,25})?([eE][+-]?[0-9]{1,3})?\Z")


@settings(max_examples=2_000)
@given(text=json_numbers)
def test_orjson_reads_a_decimal_number_as_float_does(text):
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        assert not math.isfinite(float(text))  # out of range: rejected on both paths
        return
    assert float(parsed) == float(text)
    assert math.copysign(1.0, float(parsed)) == 1.0


# -- the whole-column check of a chunk's values -----------------------------------------------

# Few distinct values, so that rows often hit the edges of the check (equal prices, zero).
chunk_values = st.sampled_from([0.0, -0.0, 1.0, 2.0, 1e308, -1.0, math.inf, -math.inf, math.nan])


@settings(max_examples=1_000)
@given(rows=st.lists(st.tuples(*[chunk_values] * 5), max_size=6))
def test_whole_column_check_accepts_what_every_row_check_accepts(rows):
    columns = [list(column) for column in zip(*rows, strict=True)] or [[]] * 5
    every_row = all(ohlcv_is_valid(*row) for row in rows)
    if sum(columns[4]) == math.inf and every_row:
        return  # volumes adding up past the largest float: the row reader takes the chunk
    assert all_bars_valid(*columns) == every_row
