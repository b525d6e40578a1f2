"""The real price files the cross-checks against backtrader share (tests/execution/data, from
backtesting.py): read as rows for tradewire, and as the same bars for a backtrader Cerebro."""

from __future__ import annotations

import csv
import datetime
from pathlib import Path
from typing import Any

import backtrader as bt

from framework import Bar

DATA = Path(__file__).parent / "execution" / "data"

#: (time, open, high, low, close) of a bar.
Row = tuple[datetime.datetime, float, float, float, float]


def read_rows(path: Path, fmt: str) -> list[Row]:
    """Every bar of a price file, its time parsed with ``fmt``."""
    with path.open(newline="") as handle:
        rows = csv.reader(handle)
        next(rows)
        return [
            (datetime.datetime.strptime(r[0], fmt), float(r[1]), float(r[2]), float(r[3]),
             float(r[4]))
            for r in rows
        ]  # fmt: skip


def backtrader_feed(path: Path, fmt: str, minutes: int | None) -> Any:
    """The same file as backtrader data: daily bars, or ``minutes``-minute bars."""
    options: dict[str, Any] = {}
    if minutes is not None:
        options = {"timeframe": bt.TimeFrame.Minutes, "compression": minutes}
    return bt.feeds.GenericCSVData(
        dataname=str(path),
        dtformat=fmt,
        datetime=0,
        open=1,
        high=2,
        low=3,
        close=4,
        volume=5,
        openinterest=-1,
        **options,
    )


def as_bars(rows: list[Row], symbol: str, step: datetime.timedelta) -> list[Bar]:
    """The rows as tradewire bars of ``step`` (a day or an hour), each final at its end."""
    nanos = int(step.total_seconds()) * 1_000_000_000
    bars = []
    for when, o, h, low, c in rows:
        ts = int(when.replace(tzinfo=datetime.UTC).timestamp()) * 1_000_000_000
        bars.append(
            Bar(
                symbol=symbol,
                interval="1d" if step.days else "1h",
                ts_open=ts,
                open=o,
                high=h,
                low=low,
                close=c,
                volume=0.0,
                ts_event=ts + nanos,
                ts_recv=ts + nanos,
            )
        )
    return bars
