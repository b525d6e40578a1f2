"""`tradewire history` as users run it (subprocesses against the simulated server)."""

import csv
import itertools
import json
import os
import subprocess
import sys

import trio

from framework.adapters.insightsentry.sim import DEFAULT_API_KEY, SimConfig, open_simulated_server


def tradewire(*args: str, key: str | None = DEFAULT_API_KEY) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "INSIGHTSENTRY_API_KEY"}
    if key is not None:
        env["INSIGHTSENTRY_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "framework", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def rows(path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


async def run_in_thread(*args: str, **options) -> subprocess.CompletedProcess[str]:
    return await trio.to_thread.run_sync(lambda: tradewire(*args, **options))


async def test_history_writes_a_bar_file_and_a_recording_that_backtest_the_same(tmp_path):
    csv_path, rec_path = tmp_path / "aapl.csv", tmp_path / "aapl.twrec"
    config = SimConfig(seed=5, speed=1.0, trade_interval=0.25)
    with trio.fail_after(60):
        async with open_simulated_server(config) as server:
            done = await run_in_thread(
                "history",
                "NASDAQ:AAPL@1m",
                "--bars",
                "300",
                "--out",
                str(csv_path),
                "--url",
                server.rest_url,
            )
            again = await run_in_thread(
                "history",
                "NASDAQ:AAPL@1m",
                "--bars",
                "300",
                "--out",
                str(rec_path),
                "--url",
                server.rest_url,
                "-q",
            )
    assert done.returncode == 0, done.stderr
    assert "wrote 300 bars of NASDAQ:AAPL@1m" in done.stdout and "in 1 request(s)" in done.stdout
    assert again.returncode == 0 and again.stdout == ""
    lines = csv_path.read_text().splitlines()
    assert lines[0] == "time,open,high,low,close,volume" and len(lines) == 301
    times = [int(row["time"]) for row in rows(csv_path)]
    assert {b - a for a, b in itertools.pairwise(times)} == {60}
    assert DEFAULT_API_KEY.encode() not in rec_path.read_bytes()
    results = []
    for data in (csv_path, rec_path):
        out = tmp_path / f"{data.suffix[1:]}.json"
        run = tradewire(
            "backtest",
            "sma_cross",
            "--param",
            "fast=5",
            "--param",
            "slow=20",
            "--data",
            str(data),
            "--symbol" if data == csv_path else "--cash",
            "NASDAQ:AAPL" if data == csv_path else "100000",
            "--json",
            str(out),
        )
        assert run.returncode == 0, run.stderr
        results.append(json.loads(out.read_bytes()))
    assert results[0]["bars"] == results[1]["bars"] == 300
    assert results[0]["fills"] == results[1]["fills"]
    inspected = tradewire("inspect", str(rec_path))
    assert "rest       history 1" in inspected.stdout


async def test_more_bars_than_one_request_page_back_through_history(tmp_path):
    paged, single = tmp_path / "paged.csv", tmp_path / "single.csv"
    config = SimConfig(seed=5, speed=1.0, trade_interval=0.25)
    with trio.fail_after(60):
        async with open_simulated_server(config) as server:
            done = await run_in_thread(
                "history",
                "NASDAQ:AAPL@1h",
                "--bars",
                "1000",
                "--chunk",
                "100",
                "--out",
                str(paged),
                "--url",
                server.rest_url,
            )
            await run_in_thread(
                "history",
                "NASDAQ:AAPL@1h",
                "--bars",
                "1000",
                "--out",
                str(single),
                "--url",
                server.rest_url,
            )
            pages = [r.path.rsplit("/", 1)[1] for r in server.rest_requests][:3]
    assert done.returncode == 0, done.stderr
    assert "wrote 1,000 bars" in done.stdout and "in 3 request(s)" in done.stdout
    assert pages == ["series", "history", "history"]
    assert rows(paged) == rows(single)


async def test_history_writes_parquet_bars_equal_to_its_bar_file(tmp_path):
    import pyarrow.parquet as pq

    from framework.feeds._bar_table import BAR_SCHEMA

    csv_path, parquet_path = tmp_path / "aapl.csv", tmp_path / "aapl.parquet"
    config = SimConfig(seed=5, speed=1.0, trade_interval=0.25)
    with trio.fail_after(60):
        async with open_simulated_server(config) as server:
            for out in (csv_path, parquet_path):
                done = await run_in_thread(
                    "history",
                    "NASDAQ:AAPL@1m",
                    "--bars",
                    "300",
                    "--out",
                    str(out),
                    "--url",
                    server.rest_url,
                )
                assert done.returncode == 0, done.stderr
    assert "wrote 300 bars of NASDAQ:AAPL@1m" in done.stdout and str(parquet_path) in done.stdout
    assert not list(tmp_path.glob(".*partial"))
    table = pq.read_table(parquet_path)
    assert table.schema.equals(BAR_SCHEMA)
    assert set(table["symbol"].to_pylist()) == {"NASDAQ:AAPL"}
    assert set(table["interval"].to_pylist()) == {"1m"}
    from_csv = rows(csv_path)
    seconds = [t // 1_000_000_000 for t in table["time"].cast("int64").to_pylist()]
    assert seconds == [int(row["time"]) for row in from_csv]
    for column in ("open", "high", "low", "close", "volume"):
        assert table[column].to_pylist() == [float(row[column]) for row in from_csv]
    catalog = tmp_path / "catalog"
    stored = tradewire("catalog", "import", str(parquet_path), "--catalog", str(catalog))
    assert stored.returncode == 0, stored.stderr
    assert "NASDAQ:AAPL 1m: 300 bars written" in stored.stdout


async def test_history_needs_a_key_and_refuses_bad_arguments(tmp_path):
    done = tradewire("history", "NASDAQ:AAPL@1m", "--out", str(tmp_path / "x.csv"), key=None)
    assert done.returncode == 2 and "no API key" in done.stderr
    done = tradewire("history", "NASDAQ:AAPL@1m", "--out", str(tmp_path / "x.txt"))
    assert done.returncode == 2 and "--out must end in .csv, .parquet or .twrec" in done.stderr
    done = tradewire(
        "history",
        "NASDAQ:AAPL@1D",
        "--bars",
        "50",
        "--chunk",
        "10",
        "--out",
        str(tmp_path / "d.csv"),
        "--url",
        "http://127.0.0.1:9",
    )
    assert done.returncode == 2 and "at most 9 day bars" in done.stderr
    existing = tmp_path / "exists.csv"
    existing.write_text("keep me")
    done = tradewire("history", "NASDAQ:AAPL@1m", "--out", str(existing))
    assert done.returncode == 2 and "--force" in done.stderr
    assert existing.read_text() == "keep me"


async def test_a_refused_key_is_a_clear_error(tmp_path):
    with trio.fail_after(60):
        async with open_simulated_server(SimConfig(seed=5)) as server:
            done = await run_in_thread(
                "history",
                "NASDAQ:AAPL@1m",
                "--out",
                str(tmp_path / "x.csv"),
                "--url",
                server.rest_url,
                key="wrong-key",
            )
    assert done.returncode == 2
    assert "refused the key with HTTP 401" in done.stderr and "wrong-key" not in done.stderr
    assert not (tmp_path / "x.csv").exists()
