"""`tradewire export`: a recording's bars and quotes as Parquet, equal to what its replay
delivers."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import trio
from factories import collect

from framework import Bar, Quote
from framework.cli import main
from framework.adapters.insightsentry import RecordingFeed

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_REC = ROOT / "examples" / "data" / "sample.twrec"


def nullable(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def test_export_writes_the_bars_and_quotes_a_replay_delivers(tmp_path, capsys):
    pandas = pytest.importorskip("pandas")
    out = tmp_path / "session"
    assert main(["export", str(SAMPLE_REC), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed == (
        f"wrote 498 bars to {out / 'bars.parquet'} and 251 quotes to "
        f"{out / 'quotes.parquet'} (2 symbols)\n"
    )
    events = trio.run(collect, RecordingFeed(SAMPLE_REC))
    bars = [e for e in events if type(e) is Bar]
    quotes = [e for e in events if type(e) is Quote]

    frame = pandas.read_parquet(out / "bars.parquet")
    assert list(frame.columns) == [
        "symbol", "interval", "time", "open", "high", "low", "close", "volume"
    ]  # fmt: skip
    assert str(frame["time"].dtype) == "datetime64[ns, UTC]"
    exported = [
        (r.symbol, r.interval, r.time.value, r.open, r.high, r.low, r.close, r.volume)
        for r in frame.itertuples()
    ]
    assert exported == [
        (b.symbol, b.interval, b.ts_open, b.open, b.high, b.low, b.close, b.volume) for b in bars
    ]

    frame = pandas.read_parquet(out / "quotes.parquet")
    assert list(frame.columns) == [
        "symbol", "time", "recv_time", "bid", "ask", "bid_size", "ask_size", "last_price",
        "last_size", "volume", "status", "last_time",
    ]  # fmt: skip
    exported_quotes = [
        tuple(nullable(v) for v in row)
        for row in zip(
            frame["symbol"],
            frame["time"].map(lambda t: t.value),
            frame["recv_time"].map(lambda t: t.value),
            frame["bid"],
            frame["ask"],
            frame["bid_size"],
            frame["ask_size"],
            frame["last_price"],
            frame["last_size"],
            frame["volume"],
            frame["status"],
            frame["last_time"].map(lambda t: None if pandas.isna(t) else t.value),
            strict=True,
        )
    ]
    assert exported_quotes == [
        (
            q.symbol, q.ts_event, q.ts_recv, q.bid, q.ask, q.bid_size, q.ask_size, q.last_price,
            q.last_size, q.volume, q.status, q.ts_last,
        )
        for q in quotes
    ]  # fmt: skip
    assert any(q.last_size is None for q in quotes)  # nulls stay nulls


def test_export_refuses_to_overwrite_without_force(tmp_path, capsys):
    out = tmp_path / "session"
    assert main(["export", str(SAMPLE_REC), "--out", str(out), "-q"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["export", str(SAMPLE_REC), "--out", str(out)]) == 2
    assert "bars.parquet exists; pass --force" in capsys.readouterr().err
    assert main(["export", str(SAMPLE_REC), "--out", str(out), "--force", "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["bars.parquet", "quotes.parquet"]


@pytest.mark.parametrize(
    ("name", "message"),
    [("missing.twrec", "recording not found"), ("bars.csv", "export reads recordings (.twrec)")],
)
def test_export_names_a_wrong_source(tmp_path, capsys, name, message):
    path = tmp_path / name
    if name.endswith(".csv"):
        path.write_text("time,open,high,low,close,volume\n")
    assert main(["export", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_corrupt_recording_is_a_one_line_error(tmp_path, capsys):
    damaged = tmp_path / "damaged.twrec"
    data = SAMPLE_REC.read_bytes()
    damaged.write_bytes(data[:2000] + b"\xff" * 64 + data[2064:])
    assert main(["export", str(damaged), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "damaged.twrec" in err
    assert not (tmp_path / "o" / "bars.parquet").exists()
