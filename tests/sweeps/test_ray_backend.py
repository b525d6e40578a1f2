"""The same sweep on processes and on Ray (a local Ray instance, started once for the module)."""

from pathlib import Path

import pytest

from framework.cli import main
from framework.sweeps import Grid, LocalBackend, RayBackend, sweep

ray = pytest.importorskip("ray", reason="Ray not installed: pip install '.[ray]'")

ROOT = Path(__file__).resolve().parents[2]
AAPL = ROOT / "examples" / "data" / "AAPL.csv"

# 60 combinations; slow=15 with fast 16, 18, 20 is invalid.
GRID = ["fast=2:20:2", "slow=15,22,30,38,46,54"]


@pytest.fixture(scope="module")
def ray_session():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="warning")
    yield
    ray.shutdown()


def test_sixty_combinations_give_identical_tables_on_processes_and_ray(ray_session, tmp_path):
    tables = {}
    for backend in ("local", "ray"):
        out = tmp_path / f"{backend}.csv"
        code = main(["sweep", "sma_cross", "--data", str(AAPL), *(f"--grid={g}" for g in GRID),
                     "--backend", backend, "--workers", "2", "--out", str(out), "-q"])  # fmt: skip
        assert code == 0
        tables[backend] = out.read_bytes()
    assert tables["local"] == tables["ray"]
    lines = tables["ray"].decode().splitlines()
    assert len(lines) == 61
    assert sum(line.split(",")[3] == "ok" for line in lines[1:]) == 57


def test_ray_backend_reuses_the_running_instance_and_reports_worker_errors(
    ray_session, tmp_path, capsys
):
    grid = Grid.parse(["fast=5,10"])
    assert (
        sweep("sma_cross", [AAPL], grid, backend=RayBackend()).rows
        == sweep("sma_cross", [AAPL], grid, backend=LocalBackend(workers=2)).rows
    )
    assert ray.is_initialized()
    bad = tmp_path / "bad.csv"
    bad.write_text("time,open,high,low,close,volume\n1704205800,1,1,1,1,1\n1704205860,x,1,1,1,1\n")
    code = main(["sweep", "sma_cross", "--data", str(bad), "--interval", "1m",
                 "--grid", "fast=5", "--backend", "ray"])  # fmt: skip
    assert code == 2
    assert f"{bad}:3: unparsable number" in capsys.readouterr().err
