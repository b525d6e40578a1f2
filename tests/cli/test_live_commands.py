"""`tradewire demo`, `paper`, `record` and `inspect` as users run them (subprocesses)."""

import json
import os
import subprocess
import sys

import pytest
import trio

from framework.adapters.insightsentry.sim import DEFAULT_API_KEY, SimConfig, open_simulated_server


def tradewire(*args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
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


def test_demo_shows_that_paper_and_replay_match(tmp_path):
    done = tradewire("demo", "--duration", "3", "--out", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "MATCH: the backtest over the recording reproduced every order and fill." in done.stdout
    assert list(tmp_path.glob("demo-*.twrec"))


def test_live_commands_need_a_key_and_a_subscription():
    done = tradewire("record", "--series", "NASDAQ:AAPL", "--out", "x.twrec")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "tradewire: error: no API key: set $INSIGHTSENTRY_API_KEY or pass --api-key-file PATH"
    )
    done = tradewire("record", "--out", "x.twrec", key="k")
    assert "subscribe to something" in done.stderr and done.returncode == 2
    done = tradewire("record", "--series", "nasdaq:aapl", "--out", "x.twrec", key="k")
    assert done.returncode == 2 and "EXCHANGE:SYMBOL" in done.stderr


PORT_RANGE = "the port must be a number in 1..65535"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["paper", "sma_cross", "--series", "NASDAQ:AAPL", "--url", "ws://127.0.0.1:88120/live"],
            f"--url: {PORT_RANGE}, got 'ws://127.0.0.1:88120/live'",
        ),
        (
            ["record", "--series", "NASDAQ:AAPL", "--url", "ws://127.0.0.1:88120/live"],
            f"--url: {PORT_RANGE}, got 'ws://127.0.0.1:88120/live'",
        ),
        (
            ["record", "--series", "NASDAQ:AAPL", "--url", "http://127.0.0.1:8765/live"],
            "--url must start with ws:// or wss://, got 'http://127.0.0.1:8765/live'",
        ),
        (
            ["record", "--series", "NASDAQ:AAPL", "--url", "ws:///live"],
            "--url has no host: 'ws:///live'",
        ),
        (
            ["paper", "sma_cross", "--series", "NASDAQ:AAPL", "--rest-url", "http://[::1]:0"],
            f"--rest-url: {PORT_RANGE}, got 'http://[::1]:0'",
        ),
        (
            ["record", "--series", "NASDAQ:AAPL", "--rest-url", "ws://127.0.0.1:8765"],
            "--rest-url must start with http:// or https://, got 'ws://127.0.0.1:8765'",
        ),
        (
            ["history", "NASDAQ:AAPL", "--url", "http://127.0.0.1:88120"],
            f"--url: {PORT_RANGE}, got 'http://127.0.0.1:88120'",
        ),
        (
            ["serve-sim", "--port", "88120"],
            "--port must be in 0..65535 (0: any free port), got 88120",
        ),
    ],
)
def test_bad_ports_and_urls_are_one_line_errors_before_anything_connects(args, error, tmp_path):
    out = ["--out", str(tmp_path / ("h.csv" if args[0] == "history" else "x.twrec"))]
    done = tradewire(*args, *(out if args[0] in ("record", "history") else []), key="k")
    assert (done.returncode, done.stderr) == (2, f"tradewire: error: {error}\n")
    assert not list(tmp_path.iterdir())


async def test_paper_then_backtest_of_its_recording_give_the_same_fills(tmp_path):
    recording, paper_json, replay_json = (tmp_path / n for n in ("p.twrec", "p.json", "r.json"))
    config = SimConfig(seed=5, speed=1800.0, trade_interval=0.005, heartbeat_interval=0.2)
    with trio.fail_after(60):
        async with open_simulated_server(config) as server:
            paper = await trio.to_thread.run_sync(
                lambda: tradewire(
                    "paper",
                    "sma_cross",
                    "--param",
                    "fast=2",
                    "--param",
                    "slow=6",
                    "--series",
                    "NASDAQ:AAPL@1m",
                    "--bars",
                    "100",
                    "--url",
                    server.url,
                    "--rest-url",
                    server.rest_url,
                    "--record",
                    str(recording),
                    "--duration",
                    "3",
                    "--json",
                    str(paper_json),
                    key=DEFAULT_API_KEY,
                )
            )
    assert paper.returncode == 0, paper.stderr
    replay = tradewire(
        "backtest",
        "sma_cross",
        "--param",
        "fast=2",
        "--param",
        "slow=6",
        "--data",
        str(recording),
        "--json",
        str(replay_json),
    )
    assert replay.returncode == 0, replay.stderr
    p, r = json.loads(paper_json.read_bytes()), json.loads(replay_json.read_bytes())
    assert p["fills"] and p["fills"] == r["fills"] and p["trades"] == r["trades"]
    assert DEFAULT_API_KEY.encode() not in recording.read_bytes()
    inspected = tradewire("inspect", str(recording))
    assert inspected.returncode == 0
    assert "integrity  intact" in inspected.stdout
    assert "NASDAQ:AAPL@1m" in inspected.stdout and "0 gap(s)" in inspected.stdout
