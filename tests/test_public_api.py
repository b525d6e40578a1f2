"""The public API is pinned: a change here is a change users see."""

import importlib
import pkgutil
import subprocess
import sys
import types

import pytest

import framework
import framework.execution
import framework.feeds

#: Every package's public names, as its ``__all__`` lists them. The vendor adapter's are
#: pinned with it (tests/adapters/insightsentry/test_insightsentry_api.py).
PUBLIC_API: dict[str, set[str]] = {
    "framework": {
        "backtest",
        "backtest_async",
        "Bar",
        "BarFileError",
        "BarFileFeed",
        "BarGap",
        "BarTableError",
        "BarUpdate",
        "BarWindow",
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
        "FeedConnected",
        "FeedConnectError",
        "FeedDisconnected",
        "FeedError",
        "FeedResumed",
        "feeds_for",
        "FeedStale",
        "FeedTerminated",
        "FeedTLSError",
        "HistoryAuthError",
        "HistoryError",
        "HistoryNotFound",
        "HistoryUnavailable",
        "Interval",
        "InvalidEvent",
        "ListFeed",
        "LiveClock",
        "load_strategy_class",
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
        "PlotSeries",
        "Quote",
        "RecordingCorrupted",
        "RecordingError",
        "run",
        "RunResult",
        "SimulatedClock",
        "Strategy",
        "StrategyLoadError",
        "SubscriptionError",
        "TimerFired",
        "TradewireError",
        "TradingHalted",
        "TradingResumed",
        "WarmupCompleted",
        "WarmupStarted",
    },
    "framework.adapters": set(),
    "framework.catalog": {
        "BarScanner",
        "Catalog",
        "CatalogEntry",
        "CatalogWrite",
        "COMPRESSION",
        "ROW_GROUP_ROWS",
        "ScanStatistics",
        "TimeBound",
    },
    "framework.cli": {
        "main",
    },
    "framework.execution": {
        "BpsSlippage",
        "Bracket",
        "BrokerConfig",
        "BrokerStatistics",
        "COMMISSION_FORMS",
        "CommissionModel",
        "DailySessions",
        "FillModel",
        "FixedCommission",
        "JOURNAL_KIND",
        "KILL_SWITCH_OWNER",
        "LotSizes",
        "NoCommission",
        "NoSlippage",
        "Order",
        "OrderStatus",
        "OrderType",
        "PaperBook",
        "PaperJournal",
        "PaperJournalError",
        "parse_commission",
        "parse_slippage",
        "PendingChange",
        "PercentageCommission",
        "PerShareCommission",
        "read_paper_journal",
        "RiskLimits",
        "SimulatedBroker",
        "SLIPPAGE_FORMS",
        "SlippageModel",
        "SpreadSlippage",
        "TickSlippage",
        "TimeInForce",
    },
    "framework.feeds": {
        "ArrowFeed",
        "BarFileFeed",
        "BarFileStatistics",
        "EventBatch",
        "Feed",
        "ListFeed",
        "REPLAY_BATCH_SIZE",
    },
    "framework.indicators": {
        "ADX",
        "ATR",
        "BollingerBands",
        "DonchianChannels",
        "EMA",
        "KeltnerChannels",
        "MACD",
        "OBV",
        "ROC",
        "RSI",
        "SMA",
        "Stochastic",
        "VWAP",
        "WMA",
    },
    "framework.portfolio": {
        "compute_statistics",
        "Portfolio",
        "Position",
        "Records",
        "StrategyBooks",
        "Trade",
    },
    "framework.recording": {
        "AsyncRecordingWriter",
        "Corruption",
        "DEFAULT_GROUP_INTERVAL_NS",
        "DEFAULT_GROUP_RECORDS",
        "Durability",
        "format_summary",
        "FORMAT_VERSION",
        "install_secret_filter",
        "MAX_PAYLOAD_BYTES",
        "open_recording_writer",
        "read_recording",
        "Record",
        "Recording",
        "RecordingHeader",
        "RecordingSummary",
        "RecordingWriter",
        "RecordKind",
        "RecoveryReport",
        "redact",
        "repair_recording",
        "Secret",
        "SecretFilter",
        "summarize",
        "verify_recording",
        "WriterStatistics",
    },
    "framework.reports": {
        "build_report",
        "build_report_async",
        "CandleColumns",
        "ChartData",
        "FillRecord",
        "MAX_CHART_TIMES",
        "PlotColumn",
        "PriceRecorder",
        "record_prices",
        "record_prices_async",
        "render_html",
        "ReportData",
        "SeriesPoints",
        "TradeLines",
        "write_html",
        "write_png",
    },
    "framework.results": {
        "ResultTables",
        "RunResult",
    },
    "framework.sweeps": {
        "Backend",
        "BarFileWindowFeed",
        "DataSlice",
        "default_workers",
        "Grid",
        "JobFailed",
        "LocalBackend",
        "LOWER_IS_BETTER",
        "make_backend",
        "plan_windows",
        "RayBackend",
        "run_job",
        "sweep",
        "SweepJob",
        "SweepResult",
        "SweepRow",
        "TableSlice",
        "walk_forward",
        "WalkForwardResult",
        "WalkWindow",
        "WindowResult",
        "WindowSize",
    },
    "framework.testing": {
        "assert_deterministic",
        "assert_deterministic_async",
        "assert_matches_golden",
        "assert_no_lookahead",
        "Backtester",
        "bars",
        "capture_events",
        "CapturedEvents",
        "ConnectionStatistics",
        "Data",
        "DEFAULT_API_KEY",
        "Delivery",
        "Fault",
        "FaultSpec",
        "frames",
        "GoldenFiles",
        "Hostile",
        "RestFault",
        "RestFaultSpec",
        "RestRequest",
        "hostile_frames",
        "open_simulated_server",
        "quotes",
        "quotes_frame_text",
        "run_sim_server",
        "series_frame_text",
        "serve_forever",
        "ServerStatistics",
        "SimConfig",
        "SimulatedServer",
        "StrategyHarness",
        "SyntheticBar",
        "SyntheticMarket",
        "SyntheticQuote",
        "SyntheticTrade",
        "write_golden",
    },
}

#: Names a package's ``__init__`` holds for its own use, not for users.
NOT_EXPORTS = {"TYPE_CHECKING", "Any"}


def public_packages() -> list[str]:
    """Every package of framework/ but the vendor adapters' (pinned beside them)."""
    found = ["framework"]
    for info in pkgutil.walk_packages(framework.__path__, "framework."):
        if info.ispkg and not info.name.startswith(("framework.adapters.", "framework.feeds.")):
            found.append(info.name)
    return sorted(found)


#: Every package, the vendor adapter's and the compatibility ones included: their exports are
#: pinned beside them, and checked both ways here.
EVERY_PACKAGE = [
    "framework",
    *sorted(
        info.name for info in pkgutil.walk_packages(framework.__path__, "framework.") if info.ispkg
    ),
]


def test_every_package_is_pinned():
    assert set(public_packages()) == set(PUBLIC_API)


@pytest.mark.parametrize("package", sorted(PUBLIC_API))
def test_the_exports_are_exactly_the_pinned_names(package):
    assert set(importlib.import_module(package).__all__) == PUBLIC_API[package]


@pytest.mark.parametrize("package", EVERY_PACKAGE)
def test_every_public_attribute_is_exported(package):
    # The other direction, as httpx checks its own: a public name defined or imported in a
    # package's __init__ (loaded now, or on first use) must be listed.
    module = importlib.import_module(package)
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    # A name a package loads on first use is public whether or not a test has used it yet.
    public |= set(getattr(module, "_LAZY", ()))
    assert public - NOT_EXPORTS <= set(module.__all__)


@pytest.mark.parametrize("package", EVERY_PACKAGE)
def test_every_exported_name_imports_in_a_fresh_interpreter(package):
    # Lazy names (PEP 562) resolve only when asked: ask for each, from nothing loaded.
    code = (
        f"from {package} import *\n"
        f"import {package} as m\n"
        "print(len([getattr(m, n) for n in m.__all__]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    exported = importlib.import_module(package).__all__
    assert int(out) == len(exported)
    assert all(not name.startswith("_") for name in exported)


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
