"""Download bars from the InsightSentry REST API into a bar file or a recording.

`tradewire history NASDAQ:AAPL@1m --bars 5000 --out aapl.csv` writes the newest 5000 final
bars as `time,open,high,low,close,volume` (time = the bar's open, Unix seconds): the bar-file
format `tradewire backtest --data aapl.csv` reads. `--out FILE.parquet` writes the same bars as
a Parquet bar table (BAR_SCHEMA: symbol, interval, time = open time, open .. volume), which
`tradewire catalog import` stores. With `--out FILE.twrec` the raw REST answers
are kept in a recording instead, which `tradewire backtest --data FILE.twrec` replays through
the live bar path. The newest point of an answer is the bar still in progress; it is left out.

Up to 30000 points come in one request (the vendor's cap on `dp`; `--chunk` lowers it). More
intraday bars page backwards through `/history`, one month (second bars: one day) per request.
The key comes from $INSIGHTSENTRY_API_KEY or --api-key-file, never from the command line.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .._errors import ConfigError
from .._time import NANOS_PER_SECOND, iso_from_nanos
from ._live_args import API_KEY_ENV, api_key_from, checked_url
from ._progress import ProgressSample, run_with_progress, wants_progress

if TYPE_CHECKING:
    from .._events import Bar
    from .._secret import Secret
    from ..adapters.insightsentry import SeriesResponse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..adapters.insightsentry._rest import DEFAULT_REST_URL, MAX_DP

    parser.add_argument(
        "series",
        metavar="CODE[@INTERVAL]",
        help="e.g. NASDAQ:AAPL@1m (INTERVAL: 1s, 5m, 1h, 1D...)",
    )
    parser.add_argument("--bars", type=int, default=1000, metavar="N", help="final bars wanted")
    parser.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="FILE.csv (bar file), FILE.parquet (bar table) or FILE.twrec (recording)",
    )
    parser.add_argument(
        "--url",
        default=DEFAULT_REST_URL,
        help=f"REST base URL, http:// or https:// (default {DEFAULT_REST_URL})",
    )
    parser.add_argument(
        "--api-key-file",
        metavar="PATH",
        help=f"read the API key from PATH instead of ${API_KEY_ENV} (never pass it as an argument)",
    )
    parser.add_argument(
        "--chunk",
        type=int,
        default=MAX_DP,
        metavar="N",
        help=f"most points per /series request (default and vendor maximum {MAX_DP})",
    )
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no summary")


def run(args: argparse.Namespace) -> int:
    from .._secret import secret_filter
    from ..adapters.insightsentry import RestConfig, SeriesRequest, Subscription

    subscription = Subscription.parse_cli("series", args.series)
    base_url = checked_url(args.url, option="--url", schemes=("http", "https"))
    if subscription.interval.unit == "tick":
        raise ConfigError("history downloads bars; tick data is not supported here")
    if args.bars < 1:
        raise ConfigError(f"--bars must be at least 1, got {args.bars}")
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet", ".twrec"):
        raise ConfigError(f"--out must end in .csv, .parquet or .twrec, got {out.name}")
    if out.exists() and not args.force:
        raise ConfigError(f"{out} exists; pass --force to replace it")
    config = RestConfig(base_url=base_url, max_dp=args.chunk)
    api_key = api_key_from(args)
    request = SeriesRequest.for_subscription(subscription, min(args.bars + 1, config.max_dp))
    progress = {"bars": 0, "requests": 0}

    async def download() -> tuple[list[SeriesResponse], list[Bar]]:
        from ..adapters.insightsentry._history import download as fetch_bars
        from ..adapters.insightsentry._rest import open_history_client

        def seen(_response: SeriesResponse, bars: int) -> None:
            progress["bars"] = bars
            progress["requests"] += 1

        async with open_history_client(api_key=api_key, config=config) as client:
            return await fetch_bars(
                client.fetch, request, args.bars, max_dp=config.max_dp, on_response=seen
            )

    def sample() -> ProgressSample:
        return ProgressSample(events=progress["bars"], done=progress["bars"], total=args.bars)

    # The key is scrubbed from log output while it is in use, and no filter outlives the command.
    with secret_filter(api_key):
        responses, bars = run_with_progress(
            download,
            sample,
            show=wants_progress(args.quiet),
            description=f"history {subscription.name}",
        )
    if out.exists():
        out.unlink()
    if suffix == ".csv":
        _write_csv(out, bars)
    elif suffix == ".parquet":
        _write_parquet(out, bars)
    else:
        _write_recording(out, responses, subscription.name, args, api_key)
    if not args.quiet:
        span = (
            f" ({iso_from_nanos(bars[0].ts_open)} .. {iso_from_nanos(bars[-1].ts_open)})"
            if bars
            else ""
        )
        print(
            f"wrote {len(bars):,} bars of {subscription.name}{span} to {out} "
            f"in {len(responses)} request(s)"
        )
        if len(bars) < args.bars:
            print(f"note: the API had {len(bars):,} final bars, fewer than the {args.bars:,} asked")
    return 0


def _seconds(ns: int) -> str:
    whole, rest = divmod(ns, NANOS_PER_SECOND)
    return str(whole) if not rest else repr(ns / NANOS_PER_SECOND)


def _write_csv(path: Path, bars: list[Bar]) -> None:
    """The bar file, written to a temporary name and renamed, so a failure leaves no half file."""
    temporary = path.with_name(f".{path.name}.partial")
    with temporary.open("w", encoding="utf-8", newline="") as file:
        file.write("time,open,high,low,close,volume\n")
        for bar in bars:
            file.write(
                f"{_seconds(bar.ts_open)},{bar.open!r},{bar.high!r},{bar.low!r},"
                f"{bar.close!r},{bar.volume!r}\n"
            )
    os.replace(temporary, path)


def _write_parquet(path: Path, bars: list[Bar]) -> None:
    """The bars as a BAR_SCHEMA Parquet file, written aside and renamed as the CSV is."""
    import pyarrow.parquet as pq

    from ..feeds._bar_table import COMPRESSION, bars_to_table

    temporary = path.with_name(f".{path.name}.partial")
    pq.write_table(bars_to_table(bars), temporary, compression=COMPRESSION)
    os.replace(temporary, path)


def _write_recording(
    path: Path,
    responses: list[SeriesResponse],
    name: str,
    args: argparse.Namespace,
    api_key: Secret,
) -> None:
    from .. import __version__
    from .._secret import redact
    from ..adapters.insightsentry._history import rest_record
    from ..recording import Durability, RecordingWriter, RecordKind

    meta = {
        "source": "insightsentry-history",
        "rest_url": args.url,
        "series": name,
        "bars": args.bars,
        "tradewire": __version__,
    }
    with RecordingWriter.open(path, meta=meta, durability=Durability.GROUP) as writer:
        for response in responses:
            writer.append(
                RecordKind.REST,
                rest_record(
                    purpose="history",
                    request=response.request,
                    body=redact(response.text, api_key),
                    status=response.status,
                    attempts=response.attempts,
                ),
                response.recv_wall_ns,
                0,
            )
