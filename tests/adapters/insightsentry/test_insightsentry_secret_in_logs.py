"""A live session and a history download scrub the API key from log output while they run,
and leave no filter behind on the loggers when they end."""

import hashlib
import logging

import trio

import framework.cli._history as history_command
from framework import Strategy
from framework.adapters.insightsentry import LiveFeedConfig, Subscription
from framework.adapters.insightsentry._session import paper_trade
from framework.adapters.insightsentry.sim import SimConfig, open_simulated_server
from framework.cli import main
from framework.recording import SecretFilter

KEY = "sk_scoped_4e1d9b7c2a"
MARKER = f"<redacted:{hashlib.sha256(KEY.encode()).hexdigest()[:4]}>"
log = logging.getLogger("tests.secret_in_logs")


def secret_filters_on_the_root_logger() -> list[logging.Filter]:
    root = logging.getLogger()
    return [
        candidate
        for target in (root, *root.handlers)
        for candidate in target.filters
        if isinstance(candidate, SecretFilter)
    ]


def sim() -> SimConfig:
    return SimConfig(api_keys={KEY}, seed=2, speed=600.0, trade_interval=0.01)


class LogsTheKey(Strategy):
    """A careless strategy: it logs the key, and sees the session's filters while it runs."""

    filters_seen: list[logging.Filter] = []

    def on_start(self) -> None:
        type(self).filters_seen = secret_filters_on_the_root_logger()
        log.warning("careless strategy logs %s", KEY)


async def test_a_paper_session_scrubs_the_key_while_it_runs_and_leaves_no_filter(caplog):
    caplog.set_level(logging.DEBUG)
    with trio.fail_after(20):
        async with open_simulated_server(sim()) as server:
            await paper_trade(
                [LogsTheKey()],
                [Subscription(code="NASDAQ:AAPL", bars=10)],
                api_key=KEY,
                url=server.url,
                rest_url=server.rest_url,
                duration=0.5,
                config=LiveFeedConfig(connect_timeout=1.0, close_timeout=0.3),
            )
    assert LogsTheKey.filters_seen, "the session should filter while it runs"
    assert KEY not in caplog.text
    assert f"careless strategy logs {MARKER}" in caplog.text
    assert secret_filters_on_the_root_logger() == []
    log.warning("after the session: %s", KEY)  # nothing scrubs it any more
    assert KEY in caplog.text


async def test_the_history_command_scrubs_the_key_while_it_runs_and_leaves_no_filter(
    caplog, monkeypatch, tmp_path
):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("INSIGHTSENTRY_API_KEY", KEY)
    download = history_command.run_with_progress
    seen: list[list[logging.Filter]] = []

    def careless_download(*args, **options):
        seen.append(secret_filters_on_the_root_logger())
        log.warning("download with %s", KEY)
        return download(*args, **options)

    monkeypatch.setattr(history_command, "run_with_progress", careless_download)
    out = tmp_path / "aapl.csv"
    argv = ["history", "NASDAQ:AAPL@1m", "--bars", "50", "--out", str(out), "-q"]
    with trio.fail_after(30):
        async with open_simulated_server(sim()) as server:
            code = await trio.to_thread.run_sync(main, [*argv, "--url", server.rest_url])
    assert code == 0 and out.exists()
    assert seen and seen[0], "the command should filter while it runs"
    assert KEY not in caplog.text
    assert f"download with {MARKER}" in caplog.text
    assert secret_filters_on_the_root_logger() == []
