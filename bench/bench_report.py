"""The HTML report at scale: file size, build time and the page's load and render time.

    python bench/bench_report.py [--bars 1000000] [--skip-browser]

SmaCross(10, 30, qty 100) over seeded random-walk 1-minute bars (bench/random_walk.py, the
file bench_backtest.py uses), then its report, as ``tradewire backtest --report`` builds it.
Prints, from one run on this machine:
  1. the backtest's run time with plots kept (SmaCross plots its two averages) and without;
  2. building the report (reading the bars again, bucketing, the statistics table) and
     writing the HTML, the file's size and the number of time slots drawn;
  3. in headless Chromium (Debian's, driven as tests/reports does), milliseconds from
     navigation to the page's load event, to the end of the report's script and to the first
     frame painted with every chart, and any console message or error;
  4. the same for examples/data/AAPL.csv (10,000 bars), for scale;
and ratios: the report against the backtest, plots kept against not. Figures from one run
only; the machine is noisy, so compare the ratios.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench_backtest import data_file  # noqa: E402

from framework import backtest  # noqa: E402
from framework.reports import build_report, write_html  # noqa: E402
from strategies.sma_cross import SmaCross  # noqa: E402

#: Evaluated once the report says it is ready: the navigation's and the report's own timings.
TIMINGS = """
new Promise((resolve) => {
  const wait = () => {
    const report = window.tradewireReport;
    if (!report || !report.ready) return setTimeout(wait, 20);
    const nav = performance.getEntriesByType("navigation")[0];
    resolve({
      load_event_ms: nav.loadEventEnd,
      script_end_ms: report.timings.start_ms + report.timings.script_ms,
      painted_ms: report.timings.start_ms + report.timings.painted_ms,
      slots: report.times.length,
      charts: report.charts.length,
    });
  };
  wait();
})
"""


def chromium_loader() -> Any:
    """tests/reports/conftest.py's page loader (Chromium over the DevTools protocol)."""
    spec = importlib.util.spec_from_file_location(
        "report_chromium", ROOT / "tests" / "reports" / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def open_page(page: Path) -> dict[str, Any]:
    import trio

    loader = chromium_loader()
    executable = loader.chromium_executable()
    if executable is None:
        raise SystemExit("Chromium not installed (Debian: apt-get install chromium)")

    async def interact(tab: Any) -> Any:
        with trio.fail_after(300):
            return await tab.evaluate(TIMINGS)

    async def main() -> Any:
        profile = Path(tempfile.mkdtemp(prefix="bench-report-"))
        try:
            return await loader.load_page(
                executable, page, profile, interact=interact, settle_s=0.0
            )
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    load = trio.run(main)
    return {**load.value, "problems": load.problems, "requests": load.outside_requests}


def timed(function: Any) -> tuple[Any, float]:
    gc.collect()
    started = time.perf_counter()
    value = function()
    return value, time.perf_counter() - started


def report_of(data: Path, out: Path, **options: Any) -> dict[str, Any]:
    result, run_s = timed(lambda: backtest(SmaCross(), [data], **options))
    _, bare_s = timed(lambda: backtest(SmaCross(), [data], plots=False, **options))
    report, build_s = timed(lambda: build_report(result, data=[data], **options))
    _, write_s = timed(lambda: write_html(report, out))
    return {
        "bars": result.bars,
        "run_s": run_s,
        "bare_s": bare_s,
        "build_s": build_s,
        "write_s": write_s,
        "bytes": out.stat().st_size,
        "slots": len(report.chart.times),
        "width": report.chart.width_s,
    }


def show(label: str, figures: dict[str, Any], page: dict[str, Any] | None) -> None:
    print(f"{label}: {figures['bars']:,} bars")
    print(f"  backtest, plots kept           {figures['run_s']:8.2f} s")
    print(f"  backtest, plots=False          {figures['bare_s']:8.2f} s")
    print(f"  report build (bars read again) {figures['build_s']:8.2f} s")
    print(f"  HTML written                   {figures['write_s']:8.2f} s")
    print(f"  file size                      {figures['bytes']:8,} bytes")
    print(f"  time slots drawn               {figures['slots']:8,} (of {figures['width']} s)")
    if page is not None:
        print(f"  Chromium: load event           {page['load_event_ms']:8.0f} ms")
        print(f"  Chromium: charts built         {page['script_end_ms']:8.0f} ms")
        print(f"  Chromium: charts painted       {page['painted_ms']:8.0f} ms")
        print(f"  console errors, requests       {len(page['problems'])}, {len(page['requests'])}")
    print(f"  report build / backtest        {figures['build_s'] / figures['run_s']:8.2f}")
    print(f"  backtest plots kept / not      {figures['run_s'] / figures['bare_s']:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--skip-browser", action="store_true", help="build the reports only")
    args = parser.parse_args()
    out = HERE / ".data"
    out.mkdir(exist_ok=True)
    for label, data, options in (
        ("examples/data/AAPL.csv", ROOT / "examples" / "data" / "AAPL.csv", {}),
        (f"random walk, {args.bars:,} bars", data_file(args.bars), {"symbol": "SYM"}),
    ):
        page = out / f"report_{Path(data).stem}.html"
        figures = report_of(Path(data), page, **options)
        loaded = None if args.skip_browser else open_page(page)
        show(label, figures, loaded)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process         {peak:8.0f} MB")


if __name__ == "__main__":
    main()
