"""`tradewire catalog import` / `catalog list`, and backtests over a catalog."""

from __future__ import annotations

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
    from framework.feeds.insightsentry import RecordingFeed

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
