"""Backtests at scale: peak memory over 10,000,000 bars, and the cost per bar of 100 symbols.

    python bench/bench_scale.py [--bars 10000000] [--symbol-bars 1000000] [--skip-memory]

SmaCross(10, 30, qty 100) over seeded random-walk 1-minute bars (bench/random_walk.py), data
written once under bench/.data. Prints, from one run on this machine:
  1. peak RSS of ``tradewire backtest`` over --bars bars of one symbol (one Parquet file) and
     over 100 Parquet files of --bars/100 bars each (one symbol per file), beside the peak RSS
     of a process that only imports what such a run imports (the floor);
  2. the cost per bar of 100 symbols in one run against one symbol over the same number of
     bars (--symbol-bars): the run phase (bars in memory, one feed per symbol merged by the
     engine) and ``tradewire backtest`` end to end (a directory of 100 Parquet files against
     one file).
Figures from one run only; the machine is noisy, so compare the ratios.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

SYMBOLS = 100
FLOOR = "import framework.cli, framework._engine, pyarrow.parquet, pyarrow.compute, trio"


def write_walk(path: Path, bars: int, seed: int) -> None:
    """Written by a child process: this one must stay small, or the peak RSS of the
    processes it starts later would count its pages (a forked child's do, until exec)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    walk = [sys.executable, str(HERE / "random_walk.py"), str(path)]
    subprocess.run([*walk, "--bars", str(bars), "--seed", str(seed)], check=True)


def one_symbol(bars: int) -> Path:
    path = HERE / ".data" / f"walk_{bars}.parquet"
    if not path.exists():
        write_walk(path, bars, seed=7)
    return path


def many_symbols(bars: int) -> Path:
    """A directory of SYMBOLS Parquet files, S00 to S99, of ``bars`` bars each (seeds differ,
    times are the same)."""
    folder = HERE / ".data" / f"walk_{SYMBOLS}x{bars}"
    for k in range(SYMBOLS):
        path = folder / f"S{k:02}.parquet"
        if not path.exists():
            write_walk(path, bars, seed=k + 1)
    return folder


def measured(command: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of ``command`` in a fresh process; ``os.wait4`` gives that
    child's own peak."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env={**os.environ, "PYTHONHASHSEED": "0"})
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"failed: {' '.join(command)}")
    return seconds, usage.ru_maxrss / 1024


def backtest(data: Path, *options: str) -> tuple[float, float]:
    out = HERE / ".data" / "scale.json"
    command = [sys.executable, "-m", "framework", "backtest", "strategies.sma_cross:SmaCross"]
    command += ["--data", str(data), *options, "--json", str(out), "-q"]
    return measured(command)


def run_phase(data: list[Path], symbols: list[str]) -> float:
    """Seconds of the engine over bars already in memory, one ListFeed per symbol."""
    import pyarrow.parquet as pq
    import trio

    from framework import Bar, Engine, ListFeed
    from strategies.sma_cross import SmaCross

    feeds = []
    for path, symbol in zip(data, symbols, strict=True):
        table = pq.read_table(path)
        columns = [table[name].to_pylist() for name in ("time", "open", "high", "low", "close")]
        volume = table["volume"].to_pylist()
        bars = [
            Bar(
                symbol=symbol,
                interval="1m",
                ts_open=t * 1_000_000_000,
                open=o,
                high=h,
                low=low,
                close=c,
                volume=float(v),
                ts_event=(t + 60) * 1_000_000_000,
                ts_recv=(t + 60) * 1_000_000_000,
            )
            for t, o, h, low, c, v in zip(*columns, volume, strict=True)
        ]
        feeds.append(ListFeed(bars, name=symbol))
    engine = Engine(feeds=feeds, strategies=[SmaCross(fast=10, slow=30, qty=100)])
    gc.collect()
    started = time.perf_counter()
    trio.run(engine.run)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=10_000_000, help="bars of the memory runs")
    parser.add_argument(
        "--symbol-bars", type=int, default=1_000_000, help="bars of the per-symbol runs"
    )
    parser.add_argument("--skip-memory", action="store_true", help="only the per-bar section")
    args = parser.parse_args()

    if not args.skip_memory:
        _, floor_mb = measured([sys.executable, "-c", FLOOR])
        one_s, one_mb = backtest(one_symbol(args.bars), "--symbol", "SYM")
        many_s, many_mb = backtest(many_symbols(args.bars // SYMBOLS))
        print(f"peak RSS, imports only (floor)        {floor_mb:8.0f} MB")
        print(
            f"peak RSS, {args.bars:,} bars, 1 file      {one_mb:8.0f} MB"
            f"  ({args.bars / one_s:,.0f} bars/s end to end; target <= 150 MB)"
        )
        print(
            f"peak RSS, {SYMBOLS} files x {args.bars // SYMBOLS:,} bars  {many_mb:8.0f} MB"
            f"  ({args.bars / many_s:,.0f} bars/s end to end; target <= 150 MB)"
        )

    n = args.symbol_bars
    single = one_symbol(n)
    folder = many_symbols(n // SYMBOLS)
    files = sorted(folder.glob("*.parquet"))
    one_e2e, _ = backtest(single, "--symbol", "SYM")
    many_e2e, _ = backtest(folder)
    one_run = run_phase([single], ["SYM"])
    many_run = run_phase(files, [f.stem for f in files])
    print(f"bars per run                          {n:,}")
    print(f"run phase, 1 symbol                   {n / one_run:12,.0f} bars/s")
    print(f"run phase, {SYMBOLS} symbols (one feed each)  {n / many_run:12,.0f} bars/s")
    print(f"end to end, 1 Parquet file            {n / one_e2e:12,.0f} bars/s")
    print(f"end to end, {SYMBOLS} Parquet files         {n / many_e2e:12,.0f} bars/s")
    print(f"cost per bar, run phase, 100 / 1      {many_run / one_run:12.2f}  (target <= 1.3)")
    print(f"cost per bar, end to end, 100 / 1     {many_e2e / one_e2e:12.2f}  (target <= 1.3)")


if __name__ == "__main__":
    main()
