"""Seeded random-walk 1-minute bars, written as a bar file: CSV, or Parquet for ``.parquet``.

    python bench/random_walk.py OUT.csv --bars 1000000 [--seed 7] [--symbol SYM]
    python bench/random_walk.py OUT.parquet --bars 10000000

The same seed always gives the same file. Prices follow a multiplicative walk rounded to
cents; high/low bracket open and close.
"""

from __future__ import annotations

import argparse
import itertools
import random
from collections.abc import Iterator

START = 1_704_205_800  # 2024-01-02T14:30:00Z


def random_walk_rows(
    bars: int, *, seed: int = 7, start_price: float = 100.0, step: int = 60
) -> Iterator[tuple[int, float, float, float, float, int]]:
    """(time, open, high, low, close, volume) rows of a seeded random walk."""
    rng = random.Random(seed)
    price = start_price
    for i in range(bars):
        open_ = round(price, 2)
        close = round(max(0.01, open_ * (1 + rng.gauss(0, 0.001))), 2)
        high = round(max(open_, close) * (1 + abs(rng.gauss(0, 0.0005))), 2)
        low = round(max(0.01, min(open_, close) * (1 - abs(rng.gauss(0, 0.0005)))), 2)
        yield START + i * step, open_, high, low, close, rng.randint(100, 10_000)
        price = close


def write_csv(path: str, bars: int, *, seed: int = 7, symbol: str | None = None) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write("time,open,high,low,close,volume" + (",symbol\n" if symbol else "\n"))
        suffix = f",{symbol}\n" if symbol else "\n"
        for t, o, h, low, c, v in random_walk_rows(bars, seed=seed):
            out.write(f"{t},{o},{h},{low},{c},{v}{suffix}")


def write_parquet(path: str, bars: int, *, seed: int = 7, symbol: str | None = None) -> None:
    """The same rows as :func:`write_csv`, as Parquet, written in slices of a million rows so
    that ten million bars do not sit in lists at once."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = ["time", "open", "high", "low", "close", "volume"]
    rows = random_walk_rows(bars, seed=seed)
    writer = None
    try:
        while True:
            part = list(itertools.islice(rows, 1_000_000))
            if not part:
                break
            table = pa.table(dict(zip(names, map(list, zip(*part, strict=True)), strict=True)))
            if symbol:
                table = table.append_column("symbol", pa.array([symbol] * len(part)))
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--symbol")
    args = parser.parse_args()
    write = write_parquet if args.out.endswith(".parquet") else write_csv
    write(args.out, args.bars, seed=args.seed, symbol=args.symbol)


if __name__ == "__main__":
    main()
