"""Sweep throughput: backtests per second in-process, on 1 worker, on every core and on Ray.

    python bench/bench_sweep.py [--bars 20000] [--grid fast=5:40:5 --grid slow=50,60,80]
                                [--repeat 2] [--no-ray]

SmaCross over seeded random-walk 1-minute bars (bench/random_walk.py). Prints, from one run:
  1. in-process serial: the backtests one after another in this process (no pool), what a
     pool has to beat;
  2. the local backend with 1 worker and with every core (process start-up included);
  3. when Ray is installed (unless --no-ray), the Ray backend on a local Ray instance with
     every core: the driver reads the data once and puts it in the object store, which is
     included; Ray's own start-up is not, and is reported apart, with the read and put;
and the speed-ups against 1 worker. Every table is checked identical to the 1-worker one.
Each figure is the best of --repeat interleaved rounds; the machine is noisy.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from random_walk import write_csv  # noqa: E402

from framework.sweeps import (  # noqa: E402
    Grid,
    LocalBackend,
    RayBackend,
    default_workers,
    run_job,
    sweep,
)
from framework.sweeps._sweep import _jobs  # noqa: E402
from framework.sweeps._windows import DataSlice  # noqa: E402


def data_file(bars: int) -> Path:
    path = HERE / ".data" / f"walk_{bars}.csv"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        write_csv(str(path), bars, seed=7, symbol=None)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=20_000)
    parser.add_argument("--grid", action="append")
    parser.add_argument(
        "--no-ray", action="store_true", help="skip the Ray backend (timed when installed)"
    )
    parser.add_argument(
        "--repeat", type=int, default=2, help="rounds, interleaved; the best time counts (2)"
    )
    args = parser.parse_args()
    grid = Grid.parse(args.grid or ["fast=5:40:5", "slow=50,60,80"])
    path = data_file(args.bars)
    n = len(grid)
    cores = default_workers()
    options = {"symbol": "SYM"}

    jobs = _jobs("sma_cross", grid, None, (DataSlice(path=str(path)),), 100_000.0, options, None)
    timings: dict[str, float] = {}
    tables: dict[str, str] = {}

    def timed(label: str, seconds: float) -> None:
        timings[label] = min(seconds, timings.get(label, seconds))

    with_ray = not args.no_ray and importlib.util.find_spec("ray") is not None
    ray_start_s = ray_put_s = None
    if with_ray:
        import ray

        from framework.sweeps._shared_data import share_data

        started = time.perf_counter()
        ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False)
        ray_start_s = time.perf_counter() - started
        started = time.perf_counter()
        share_data(jobs, ray.put)
        ray_put_s = time.perf_counter() - started
    ray_label = f"ray, {cores} CPUs"
    try:
        # Interleaved rounds, best of each: other load on the machine hits every variant alike.
        for _ in range(args.repeat):
            started = time.perf_counter()
            for job in jobs:
                run_job(job)
            timed("in-process serial", time.perf_counter() - started)
            for label, backend in (
                ("1 worker", LocalBackend(1)),
                (f"{cores} workers", LocalBackend(cores)),
                *([(ray_label, RayBackend())] if with_ray else []),
            ):
                started = time.perf_counter()
                result = sweep("sma_cross", [path], grid, backend=backend, feed_options=options)
                timed(label, time.perf_counter() - started)
                tables[label] = result.to_csv()
    finally:
        if with_ray:
            ray.shutdown()

    one = timings["1 worker"]
    print(f"bars per backtest             {args.bars:,}")
    print(f"backtests                     {n}")
    print(f"cores                         {cores}")
    for label, seconds in timings.items():
        print(
            f"{label:29} {n / seconds:8.2f} backtests/s  "
            f"({seconds:.2f} s, x{one / seconds:.2f} vs 1 worker)"
        )
    if ray_start_s is not None:
        print(f"ray start-up (not counted)    {ray_start_s:8.2f} s")
        print(f"ray read + put of the data    {ray_put_s:8.2f} s  (once per sweep, counted)")
    elif args.no_ray:
        print("ray                           skipped (--no-ray)")
    else:
        print("ray                           not installed: pip install 'tradewire[ray]'")
    same = all(table == tables["1 worker"] for table in tables.values())
    print(f"tables identical              {same}")


if __name__ == "__main__":
    main()
