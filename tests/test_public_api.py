"""The public API is pinned: a change here is a change users see."""

import subprocess
import sys

import pytest

import framework
import framework.catalog
import framework.execution
import framework.feeds
import framework.portfolio

EXPECTED = {
    "Bar",
    "BarFileError",
    "BarTableError",
    "BarFileFeed",
    "BarGap",
    "BarUpdate",
    "Clock",
    "ConfigError",
    "DataError",
    "DataRejected",
    "DecodeError",
    "Engine",
    "EngineError",
    "EngineStatistics",
    "Event",
    "EventBus",
    "Feed",
    "FeedConnectError",
    "FeedConnected",
    "FeedDisconnected",
    "FeedError",
    "HistoryAuthError",
    "HistoryError",
    "HistoryNotFound",
    "HistoryUnavailable",
    "WarmupCompleted",
    "WarmupStarted",
    "FeedResumed",
    "FeedStale",
    "FeedTLSError",
    "FeedTerminated",
    "Interval",
    "InvalidEvent",
    "ListFeed",
    "LiveClock",
    "OrderAccepted",
    "OrderCancelled",
    "OrderEvent",
    "OrderExpired",
    "OrderFilled",
    "OrderModified",
    "OrderModifyRejected",
    "OrderRejected",
    "OrderSide",
    "Param",
    "ParameterError",
    "Quote",
    "RecordingCorrupted",
    "RecordingError",
    "RunResult",
    "SimulatedClock",
    "Strategy",
    "StrategyLoadError",
    "SubscriptionError",
    "TimerFired",
    "TradingHalted",
    "TradingResumed",
    "TradewireError",
    "backtest",
    "backtest_async",
    "feeds_for",
    "load_strategy_class",
    "run",
}

FEEDS_EXPECTED = {
    "REPLAY_BATCH_SIZE",
    "ArrowFeed",
    "BarFileFeed",
    "BarFileStatistics",
    "EventBatch",
    "Feed",
    "ListFeed",
}


def test_top_level_exports_are_pinned():
    assert set(framework.__all__) == EXPECTED


def test_feed_exports_are_pinned():
    assert set(framework.feeds.__all__) == FEEDS_EXPECTED


def test_the_arrow_feed_loads_pyarrow_on_first_use_only():
    # Bar files and recordings never need pyarrow; a run over Arrow data loads it.
    code = (
        "import sys, framework.feeds\n"
        "print('pyarrow' in sys.modules)\n"
        "framework.feeds.ArrowFeed\n"
        "print('pyarrow' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "True"]
    from framework.feeds._arrow_feed import ArrowFeed

    assert framework.feeds.ArrowFeed is ArrowFeed
    assert "ArrowFeed" in dir(framework.feeds)


def test_every_export_exists_and_is_public():
    packages = (
        framework,
        framework.catalog,
        framework.feeds,
        framework.execution,
        framework.portfolio,
    )
    for package in packages:
        for name in package.__all__:
            assert hasattr(package, name), f"{package.__name__}.{name} missing"
            assert not name.startswith("_")


def test_user_errors_are_value_errors():
    assert issubclass(framework.ParameterError, ValueError)
    assert issubclass(framework.BarFileError, ValueError)
    assert issubclass(framework.SubscriptionError, ValueError)
    assert issubclass(framework.ParameterError, framework.TradewireError)


def test_importing_the_package_leaves_trio_and_the_engine_unloaded():
    # A strategy module, `tradewire list` and `--help` import framework and nothing more.
    code = (
        "import sys, framework\n"
        "loaded = [m for m in ('trio', 'framework._engine', 'framework.execution') "
        "if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""


def test_lazy_exports_resolve_to_the_implementation_and_are_listed():
    from framework._engine import Engine
    from framework.feeds import ListFeed

    assert framework.Engine is Engine
    assert framework.ListFeed is ListFeed
    assert {"Engine", "RunResult", "backtest"} <= set(dir(framework))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        framework.Nope  # noqa: B018


def test_a_backtest_import_leaves_the_journal_machinery_unloaded():
    code = (
        "import sys, framework\n"
        "framework.backtest, framework.Engine\n"
        "print('framework.recording' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
    from framework.execution._paper_journal import PaperJournal

    assert framework.execution.PaperJournal is PaperJournal
    assert "read_paper_journal" in dir(framework.execution)
