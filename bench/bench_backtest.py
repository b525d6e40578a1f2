"""Backtest throughput: SmaCross(10, 30, qty 100) over seeded random-walk 1-minute bars.

    python bench/bench_backtest.py [--bars 1000000]

Prints, from one run on this machine:
  1. the floor: a plain Python loop over arrays computing the same crossover trades;
  2. a minimal event engine (one event object per bar, a handler table): the floor of any
     event-driven design;
  3. tradewire's run phase (engine + bus + broker + strategy; bars already in memory);
  4. tradewire end to end: ``tradewire backtest`` on the same bars as CSV and as Parquet, with
     peak RSS;
and the ratios between them: end to end against the run phase says what reading, start-up and
writing the result add. Figures from one run only; the machine is noisy.

Each timed section starts after ``gc.collect()``: loading a million bars leaves the collector
a full collection due (about 0.3 s here) that would otherwise land in whichever section runs
next. The collector stays on while timing, as it does for users.
"""

from __future__ import annotations

import argparse
import csv
import gc
import math
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from random_walk import write_csv, write_parquet  # noqa: E402

from framework import Bar, Engine, ListFeed, RunResult  # noqa: E402
from strategies.sma_cross import SmaCross  # noqa: E402


def data_file(bars: int, suffix: str = ".csv") -> Path:
    path = HERE / ".data" / f"walk_{bars}{suffix}"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        write = write_parquet if suffix == ".parquet" else write_csv
        write(str(path), bars, seed=7, symbol=None)
    return path


def end_to_end(path: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of ``tradewire backtest`` over ``path`` in a fresh process,
    started while this one is small (a forked child's peak counts the parent's pages until
    exec); ``os.wait4`` gives that child's own figures."""
    out = HERE / ".data" / "result.json"
    command = [sys.executable, "-m", "framework", "backtest", "strategies.sma_cross:SmaCross"]
    command += ["--data", str(path), "--symbol", "SYM", "--json", str(out), "-q"]
    started = time.perf_counter()
    child = subprocess.Popen(command, env={**os.environ, "PYTHONHASHSEED": "0"})
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"tradewire backtest failed on {path}")
    return seconds, usage.ru_maxrss / 1024


def load(path: Path) -> tuple[list[int], list[float], list[float]]:
    times, opens, closes = [], [], []
    with path.open() as handle:
        rows = csv.reader(handle)
        next(rows)
        for row in rows:
            times.append(int(row[0]))
            opens.append(float(row[1]))
            closes.append(float(row[4]))
    return times, opens, closes


def plain_loop(opens: list[float], closes: list[float], fast: int, slow: int, qty: float):
    """Same rules as SmaCross with integer-cent sums (exact), fills at the next open."""
    cents = [round(c * 100) for c in closes]
    fills = []
    position = 0.0
    pending = 0
    prev = None
    fast_sum = slow_sum = 0
    for i in range(len(cents)):
        if pending:
            fills.append((i, pending, opens[i]))
            position = qty if pending > 0 else 0.0
            pending = 0
        c = cents[i]
        fast_sum += c
        slow_sum += c
        if i >= fast:
            fast_sum -= cents[i - fast]
        if i >= slow:
            slow_sum -= cents[i - slow]
        if i + 1 < slow:
            continue
        diff = fast_sum * slow - slow_sum * fast  # sign of fast_sma - slow_sma, exactly
        if prev is not None:
            if diff > 0 >= prev and position == 0:
                pending = 1
            elif diff < 0 <= prev and position > 0:
                pending = -1
        prev = diff
    return fills


def minimal_event_engine(bars: list[Bar], fast: int, slow: int, qty: float):
    """The issue's floor for any event-driven design: one event object per bar (the same Bar
    objects the engine gets), a handler table by event type, a strategy with running sums and a
    broker that fills market orders at the next bar's open."""
    fills = []
    state = {"position": 0.0, "pending": 0, "prev": None, "fast": 0.0, "slow": 0.0}
    window: list[float] = []

    def broker_on_bar(bar: Bar) -> None:
        pending = state["pending"]
        if pending:
            fills.append((pending, bar.open))
            state["position"] = qty if pending > 0 else 0.0
            state["pending"] = 0

    def strategy_on_bar(bar: Bar) -> None:
        c = bar.close
        window.append(c)
        state["fast"] += c
        state["slow"] += c
        n = len(window)
        if n > fast:
            state["fast"] -= window[n - 1 - fast]
        if n > slow:
            state["slow"] -= window.pop(0)
            n -= 1
        if n < slow:
            return
        diff = state["fast"] / fast - state["slow"] / slow
        if abs(diff) <= 1e-9 * state["slow"] / slow:
            diff = 0.0
        prev = state["prev"]
        state["prev"] = diff
        if prev is not None:
            if diff > 0 >= prev and state["position"] == 0:
                state["pending"] = 1
            elif diff < 0 <= prev and state["position"] > 0:
                state["pending"] = -1

    handlers = {Bar: [broker_on_bar, strategy_on_bar]}
    for event in bars:
        for handler in handlers[event.__class__]:
            handler(event)
    return fills


def make_bars(times: list[int], opens: list[float], closes: list[float], path: Path) -> list[Bar]:
    bars = []
    with path.open() as handle:
        rows = csv.reader(handle)
        next(rows)
        for row in rows:
            t = int(row[0]) * 1_000_000_000
            bars.append(
                Bar(
                    symbol="SYM",
                    interval="1m",
                    ts_open=t,
                    open=float(row[1]),
                    high=float(row[2]),
                    low=float(row[3]),
                    close=float(row[4]),
                    volume=float(row[5]),
                    ts_event=t + 60_000_000_000,
                    ts_recv=t + 60_000_000_000,
                )
            )
    return bars


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--run-phase-only", action="store_true", help="skip the end-to-end run")
    args = parser.parse_args()
    path = data_file(args.bars)
    n = args.bars
    # End to end first, while this process is small.
    csv_s = parquet_s = csv_mb = parquet_mb = math.nan
    if not args.run_phase_only:
        parquet = data_file(args.bars, ".parquet")
        parquet_s, parquet_mb = end_to_end(parquet)
        csv_s, csv_mb = end_to_end(path)

    times, opens, closes = load(path)

    gc.collect()
    started = time.perf_counter()
    reference = plain_loop(opens, closes, 10, 30, 100.0)
    plain_s = time.perf_counter() - started

    bars = make_bars(times, opens, closes, path)
    gc.collect()
    started = time.perf_counter()
    minimal = minimal_event_engine(bars, 10, 30, 100.0)
    minimal_s = time.perf_counter() - started

    engine = Engine(feeds=[ListFeed(bars)], strategies=[SmaCross(fast=10, slow=30, qty=100)])
    import trio

    gc.collect()
    started = time.perf_counter()
    trio.run(engine.run)
    run_s = time.perf_counter() - started
    result = RunResult.from_engine(engine)
    ours = [(f.side.sign, f.price) for f in result.fills]
    same = ours == [(side, price) for _, side, price in reference]
    del bars, engine

    print(f"bars                          {n:,}")
    print(f"plain loop (floor)            {n / plain_s:12,.0f} bars/s  ({len(reference):,} fills)")
    print(f"minimal event engine          {n / minimal_s:12,.0f} bars/s  ({len(minimal):,} fills)")
    print(f"tradewire run phase           {n / run_s:12,.0f} bars/s  ({len(ours):,} fills)")
    for label, seconds, mb in (("Parquet", parquet_s, parquet_mb), ("CSV", csv_s, csv_mb)):
        print(f"end to end, {label:18}{n / seconds:12,.0f} bars/s  (peak RSS {mb:.0f} MB)")
    print(f"run phase / plain loop        {plain_s / run_s:12.3f}")
    print(f"run phase / minimal engine    {minimal_s / run_s:12.3f}  (target >= 0.5)")
    print(f"Parquet end to end / run phase{run_s / parquet_s:12.3f}  (target >= 0.8)")
    print(f"CSV end to end / run phase    {run_s / csv_s:12.3f}")
    print(f"fills identical to the floor  {same}")
    print(f"trades                        {result.stats['trades']:,}")
    print(f"final equity                  {result.final_equity:,.2f}")


if __name__ == "__main__":
    main()
