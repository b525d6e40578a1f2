"""`tradewire catalog import` / `catalog list`, and backtests over a catalog."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv
import pyarrow.parquet as pq
import pytest
from factories import write_csv

from framework.catalog import Catalog
from framework.cli import main

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "data"
AAPL, MSFT, SAMPLE_REC = DATA / "AAPL.csv", DATA / "MSFT.csv", DATA / "sample.twrec"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def direct(catalog: Path) -> pa.Table:
    """Every file of the catalog, read by pyarrow without the catalog."""
    return pa.concat_tables(pq.read_table(p) for p in sorted(catalog.rglob("part-*.parquet")))


def test_import_csv_then_list_shows_the_span_and_rows_the_files_hold(tmp_path, capsys):
    catalog = tmp_path / "catalog"
    code, out, _ = run(capsys, "catalog", "import", AAPL, MSFT, "--catalog", catalog)
    assert code == 0
    assert out.splitlines() == [
        f"{AAPL}: AAPL 1m: 10,000 bars written, 0 already stored "
        "(2024-01-02T14:30:00Z to 2024-01-09T13:10:00Z)",
        f"{MSFT}: MSFT 1m: 10,000 bars written, 0 already stored "
        "(2024-01-02T14:30:00Z to 2024-01-09T13:10:00Z)",
    ]
    code, out, _ = run(capsys, "catalog", "list", catalog)
    assert code == 0
    assert out.splitlines() == [
        "symbol  interval  start                 end                     rows",
        "AAPL    1m        2024-01-02T14:30:00Z  2024-01-09T13:10:00Z  10,000",
        "MSFT    1m        2024-01-02T14:30:00Z  2024-01-09T13:10:00Z  10,000",
    ]
    table = direct(catalog)
    for symbol, source in (("AAPL", AAPL), ("MSFT", MSFT)):
        rows = table.filter(pc.equal(table["symbol"], symbol))
        csv = pyarrow.csv.read_csv(source)
        seconds = csv["time"].cast(pa.int64()).to_pylist()
        assert rows.num_rows == len(seconds) == 10_000
        assert pc.min(rows["time"]).cast(pa.int64()).as_py() == seconds[0] * 10**9
        assert pc.max(rows["time"]).cast(pa.int64()).as_py() == seconds[-1] * 10**9
        assert seconds[-1] + 60 == 1_704_805_800  # 2024-01-09T13:10:00Z, the listed end
        # The stored bars are the CSV's, value for value.
        assert rows["close"].to_pylist() == csv["close"].cast(pa.float64()).to_pylist()


def test_importing_again_stores_nothing_new_and_says_so(tmp_path, capsys):
    catalog = tmp_path / "catalog"
    run(capsys, "catalog", "import", AAPL, "--catalog", catalog)
    files = sorted(catalog.rglob("*.parquet"))
    code, out, _ = run(capsys, "catalog", "import", AAPL, "--catalog", catalog)
    assert code == 0
    assert "AAPL 1m: 0 bars written, 10,000 already stored" in out
    assert sorted(catalog.rglob("*.parquet")) == files


def test_importing_a_changed_bar_is_refused_in_one_line(tmp_path, capsys):
    catalog = tmp_path / "catalog"
    first = write_csv(str(tmp_path / "X.csv"), ["1704205800,1,2,1,2,5", "1704205860,2,3,2,3,5"])
    run(capsys, "catalog", "import", first, "--catalog", catalog)
    changed = write_csv(str(tmp_path / "X2.csv"), ["1704205860,2,3,2,2.5,5"])
    code, _, err = run(
        capsys,
        "catalog",
        "import",
        changed,
        "--symbol",
        "X",
        "--interval",
        "1m",
        "--catalog",
        catalog,
    )
    assert code == 2
    assert err.count("\n") == 1
    assert "X 1m 2024-01-02T14:31:00Z: close 2.5 differs from 3.0 stored in" in err


def test_import_applies_bar_file_rules_and_reports_skipped_rows(tmp_path, capsys):
    catalog = tmp_path / "catalog"
    path = write_csv(
        str(tmp_path / "bad.csv"),
        ["1704205800,1,2,1,2,5", "1704205860,2,1,2,3,5", "1704205920,2,3,2,3,5"],
    )
    code, _, err = run(capsys, "catalog", "import", path, "--catalog", catalog)
    assert code == 2 and f"{path}:3:" in err
    assert not catalog.exists()
    code, out, _ = run(
        capsys,
        "catalog",
        "import",
        path,
        "--catalog",
        catalog,
        "--skip-bad-rows",
        "--interval",
        "1m",
    )
    assert code == 0
    assert "bad 1m: 2 bars written" in out
    assert f"{path}: skipped rows: 1 " in out


def test_import_of_naive_times_takes_the_zone_given(tmp_path, capsys):
    catalog = tmp_path / "catalog"
    path = write_csv(
        str(tmp_path / "N.csv"), ["2024-01-02 09:30:00,1,2,1,2,5", "2024-01-02 09:31:00,1,2,1,2,5"]
    )
    code, _, err = run(capsys, "catalog", "import", path, "--catalog", catalog)
    assert code == 2 and "tz" in err
    code, _, _ = run(
        capsys, "catalog", "import", path, "--catalog", catalog, "--tz", "America/New_York"
    )
    assert code == 0
    assert Catalog(catalog).entries()[0].start == 1_704_205_800 * 10**9


def test_import_of_a_recording_stores_the_final_bars_its_replay_delivers(tmp_path, capsys):
    import trio
    from factories import collect

    from framework import Bar
    from framework.adapters.insightsentry import RecordingFeed

    catalog = tmp_path / "catalog"
    code, out, _ = run(capsys, "catalog", "import", SAMPLE_REC, "--catalog", catalog)
    assert code == 0
    assert "NASDAQ:AAPL 1m: 249 bars written" in out and "NASDAQ:MSFT 1m: 249 bars written" in out
    replayed = [e for e in trio.run(collect, RecordingFeed(SAMPLE_REC)) if type(e) is Bar]
    stored = Catalog(catalog).bars()
    expected = sorted(replayed, key=lambda b: (b.ts_open, b.symbol))
    assert stored["symbol"].to_pylist() == [b.symbol for b in expected]
    assert stored["time"].cast(pa.int64()).to_pylist() == [b.ts_open for b in expected]
    assert stored["close"].to_pylist() == [b.close for b in expected]
    code, _, err = run(
        capsys, "catalog", "import", SAMPLE_REC, "--symbol", "X", "--catalog", catalog
    )
    assert code == 2 and "--symbol applies to bar files" in err


def test_import_of_a_parquet_bar_table(tmp_path, capsys):
    from framework.feeds._bar_table import BAR_SCHEMA

    catalog = tmp_path / "catalog"
    run(capsys, "catalog", "import", AAPL, "--catalog", catalog)
    table = Catalog(catalog).bars()
    pq.write_table(table.drop_columns(["symbol"]), tmp_path / "bars.parquet")
    other = tmp_path / "other"
    code, out, err = run(
        capsys,
        "catalog",
        "import",
        tmp_path / "bars.parquet",
        "--symbol",
        "AAPL",
        "--catalog",
        other,
    )
    assert code == 0, err
    assert "AAPL 1m: 10,000 bars written" in out
    assert Catalog(other).bars().equals(table)
    assert table.schema.equals(BAR_SCHEMA)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["catalog", "import", "nope.csv", "--catalog", "c"], "source not found: nope.csv"),
        (
            ["catalog", "import", str(AAPL), str(MSFT), "--symbol", "X", "--catalog", "c"],
            "one file",
        ),
        (["catalog", "list", "no/such/dir"], "catalog not found: no/such/dir"),
    ],
)
def test_command_line_mistakes_are_one_line(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *args)
    assert code == 2
    assert err.count("\n") == 1 and message in err


def test_unsupported_sources_are_named(tmp_path, capsys):
    path = tmp_path / "x.txt"
    path.write_text("hi")
    code, _, err = run(capsys, "catalog", "import", path, "--catalog", tmp_path / "c")
    assert code == 2 and f"unsupported source {path}" in err


def test_list_of_an_empty_catalog_and_of_a_corrupt_one(tmp_path, capsys):
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    assert run(capsys, "catalog", "list", catalog)[1] == f"no bars in {catalog}\n"
    run(capsys, "catalog", "import", AAPL, "--catalog", catalog)
    [path] = catalog.rglob("part-*.parquet")
    path.write_bytes(path.read_bytes()[:100])
    code, out, err = run(capsys, "catalog", "list", catalog)
    assert code == 2 and out == ""
    assert err.startswith(f"tradewire: error: {path}: unreadable Parquet file (")
    assert err.count("\n") == 1


# --- backtests over a catalog ------------------------------------------------------------


@pytest.fixture
def imported(tmp_path, capsys):
    catalog = tmp_path / "catalog"
    assert run(capsys, "catalog", "import", AAPL, MSFT, "--catalog", catalog, "-q")[0] == 0
    return catalog


def backtest_json(capsys, tmp_path, name: str, *args) -> dict:
    out = tmp_path / f"{name}.json"
    code, _, err = run(capsys, "backtest", "sma_cross", *args, "--json", out, "-q")
    assert code == 0, err
    return json.loads(out.read_bytes())


def test_a_backtest_over_the_catalog_equals_the_one_over_the_csv(tmp_path, capsys, imported):
    over_csv = backtest_json(capsys, tmp_path, "csv", "--data", AAPL)
    over_catalog = backtest_json(
        capsys, tmp_path, "catalog", "--catalog", imported, "--symbol", "AAPL"
    )
    assert over_catalog["fills"] == over_csv["fills"] and over_csv["fills"]
    assert over_catalog["trades"] == over_csv["trades"]
    assert over_catalog["final_equity"] == over_csv["final_equity"]
    assert over_catalog == over_csv


def test_several_symbols_from_the_catalog_equal_several_files(tmp_path, capsys, imported):
    over_csv = backtest_json(capsys, tmp_path, "csv", "--data", AAPL, "--data", MSFT)
    both = ("--symbol", "AAPL", "--symbol", "MSFT")
    over_catalog = backtest_json(capsys, tmp_path, "catalog", "--catalog", imported, *both)
    every = backtest_json(capsys, tmp_path, "every", "--catalog", imported)
    assert over_catalog == over_csv == every
    assert over_csv["bars"] == 20_000


def test_a_backtest_over_a_span_sees_exactly_its_bars(tmp_path, capsys, imported):
    import framework
    from strategies.sma_cross import SmaCross

    span = ("--start", "2024-01-03T14:30:00Z", "--end", "2024-01-05")
    result = backtest_json(
        capsys, tmp_path, "span", "--catalog", imported, "--symbol", "AAPL", *span
    )
    table = Catalog(imported).bars("AAPL", start="2024-01-03T14:30:00Z", end="2024-01-05")
    assert result["bars"] == table.num_rows > 0
    times = table["time"].cast(pa.int64()).to_pylist()
    assert times[0] == 1_704_292_200 * 10**9  # 2024-01-03T14:30:00Z, the start, included
    assert times[-1] < 1_704_412_800 * 10**9 <= times[-1] + 60 * 10**9  # 2024-01-05, excluded
    in_python = framework.backtest(SmaCross(), table)
    assert in_python.to_dict()["fills"] == result["fills"]
    assert in_python.final_equity == result["final_equity"]


def test_python_backtests_take_catalog_queries(imported):
    import framework
    from strategies.sma_cross import SmaCross

    over_csv = framework.backtest(SmaCross(), [str(AAPL)]).to_dict()
    catalog = Catalog(imported)
    assert framework.backtest(SmaCross(), catalog.bars("AAPL")).to_dict() == over_csv
    reader = catalog.scanner("AAPL").to_reader()
    assert framework.backtest(SmaCross(), reader).to_dict() == over_csv


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", str(AAPL), "--catalog", "{catalog}"], "--data and --catalog are exclusive"),
        ([], "no data: give --data PATH or --catalog PATH"),
        (["--data", str(AAPL), "--start", "2024-01-03"], "--start selects a span of --catalog"),
        (["--data", str(AAPL), "--symbol", "A", "--symbol", "B"], "--symbol is repeatable with"),
        (["--catalog", "{catalog}", "--symbol", "TSLA"], "has no bars of TSLA (it has AAPL, MSFT)"),
        (["--catalog", "{catalog}", "--interval", "5m"], "has no 5m bars (it has 1m)"),
        (["--catalog", "{catalog}", "--start", "2025-01-01"], "has no 1m bars of AAPL from 2025"),
        (["--catalog", "{catalog}", "--start", "yesterday"], "start 'yesterday': expected ISO"),
        (["--catalog", "{catalog}", "--start", "2024-01-05", "--end", "2024-01-04"], "not before"),
        (["--catalog", "{catalog}/nothing"], "catalog not found"),
    ],
)
def test_backtest_catalog_mistakes_are_one_line(capsys, imported, args, message):
    args = [a.replace("{catalog}", str(imported)) for a in args]
    code, _, err = run(capsys, "backtest", "sma_cross", *args)
    assert code == 2, err
    assert err.count("\n") == 1 and message in err


def test_a_symbol_in_two_bar_sizes_needs_interval(tmp_path, capsys, imported):
    hourly = write_csv(str(tmp_path / "AAPL.csv"), ["1704205800,1,2,1,2,5", "1704209400,1,2,1,2,5"])
    assert run(capsys, "catalog", "import", hourly, "--catalog", imported, "-q")[0] == 0
    code, _, err = run(capsys, "backtest", "sma_cross", "--catalog", imported, "--symbol", "AAPL")
    assert code == 2 and "has AAPL in 1h, 1m bars; pass --interval" in err
    result = backtest_json(
        capsys, tmp_path, "m", "--catalog", imported, "--symbol", "AAPL", "--interval", "1m"
    )
    assert result["bars"] == 10_000


def test_a_backtest_over_a_corrupt_catalog_names_the_file(capsys, imported):
    path = sorted(imported.rglob("part-*.parquet"))[0]
    path.write_bytes(b"PAR1" + b"\0" * 64 + b"PAR1")
    code, _, err = run(capsys, "backtest", "sma_cross", "--catalog", imported)
    assert code == 2
    assert err.startswith(f"tradewire: error: {path}: unreadable Parquet file (")
    assert err.count("\n") == 1


def test_import_of_arrow_files_applies_the_arrow_rules_and_skips_bad_rows(tmp_path, capsys):
    import pyarrow.feather as feather

    table = pa.table(
        {
            "Date": pa.array([1_704_205_800, 1_704_205_860, 1_704_205_920], pa.int64()),
            "Open": [1.0, 2.0, 2.0],
            "High": [2.0, 1.0, 3.0],
            "Low": [1.0, 2.0, 2.0],
            "Close": [2.0, 3.0, 3.0],
            "Volume": [5.0, 5.0, 5.0],
        }
    )
    path = tmp_path / "X.feather"
    feather.write_feather(table, path)
    catalog = tmp_path / "catalog"
    code, _, err = run(capsys, "catalog", "import", path, "--catalog", catalog, "--interval", "1m")
    assert code == 2 and err.count("\n") == 1 and f"{path}: row 1" in err
    code, out, _ = run(
        capsys,
        "catalog",
        "import",
        path,
        "--catalog",
        catalog,
        "--interval",
        "1m",
        "--skip-bad-rows",
    )
    assert code == 0
    assert f"{path}: X 1m: 2 bars written" in out and f"{path}: skipped rows: 1 " in out
