"""The real price files the cross-checks against backtrader share (tests/execution/data, from
backtesting.py): read as rows for tradewire, and as the same bars for a backtrader Cerebro."""

from __future__ import annotations

import csv
import datetime
from pathlib import Path
from typing import Any

import backtrader as bt

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
