"""Smoke test: every benchmark script runs at a tiny size and its contenders agree (no timing
asserted).

The benchmarks live outside the package (``benchmarks/``) and are run by hand
(``make bench``); this keeps them from rotting when the APIs they call change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "bench_all.json"
    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    proc = subprocess.run(
        # every section but the commands', which is bench_commands.run: run --quick by
        # tests/system/test_bench_commands.py (its wiring here: the test after the next)
        [sys.executable, str(BENCH / "bench_all.py"), "--quick", "--out", str(out), "--only"]
        + ["budget", "widget", "compliance", "relief", "dask_scale", "report"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8")), proc.stdout


def test_the_kernels_run_without_huge_pages_as_the_commands_do(quick_run):
    """``bench_all`` asks numpy for no huge pages first, as ``cli.main`` does, and says so."""
    results, stdout = quick_run
    assert results["machine"]["numpy_huge_pages"] == "0"
    assert "NUMPY_MADVISE_HUGEPAGE=0" in stdout.splitlines()[0]


def test_the_commands_section_is_the_commands_benchmark_at_the_quick_sizes(monkeypatch, tmp_path):
    """``bench_all --quick``'s commands section calls ``bench_commands.run`` with the quick
    sizes, every command, the Dask rows and no settle; what it raises is the section's error."""
    monkeypatch.syspath_prepend(str(BENCH))
    import bench_all
    import bench_commands

    seen = {}

    def run(sizes, commands, **kw):
        seen.update(sizes=sizes, commands=commands, **kw)
        raise RuntimeError("recorded")

    monkeypatch.setattr(bench_commands, "run", run)
    # main() sets it for the processes it starts: put back as it was afterwards
    monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", os.environ.get("NUMPY_MADVISE_HUGEPAGE", ""))
    out = tmp_path / "b.json"
    assert bench_all.main(["--quick", "--only", "commands", "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["commands"] == {
        "error": "RuntimeError: recorded"
    }
    assert seen["sizes"] == [20_000] == seen["dask_sizes"]
    assert list(seen["commands"]) == list(bench_commands.COMMANDS)
    assert list(seen["dask_commands"]) == list(bench_commands.DASK_COMMANDS)
    assert seen["settle"] == 0.0


def test_quick_run_measures_every_budget_contender(quick_run):
    results, _ = quick_run
    (row,) = results["budget"].values()
    for name in ("pandas", "dask", "duckdb", "duckdb_1thread", "naive", "floor"):
        assert "error" not in row[name], (name, row[name])
        assert row[name]["total_s"] >= 0
    # the three engines compute the same payments, to the fen
    assert row["agree_duckdb"] is True
    assert row["agree_duckdb_1thread"] is True
    assert row["agree_dask"] is True
    assert row["pandas"]["total_fen"] == row["duckdb"]["total_fen"] > 0
    assert row["pandas"]["reproject_changes"] == 24


def test_quick_run_measures_widget_compliance_relief(quick_run):
    results, stdout = quick_run
    assert results["widget"]["changes_timed"] == 8
    for key in ("compliance", "relief"):
        row = results[key]
        assert "error" not in row["pandas"], row["pandas"]
        assert "error" not in row["dask"], row["dask"]
        assert row["agree_dask"] is True, key
        # DuckDB on the same frames in memory: its query time against the pandas kernel's
        assert "error" not in row["duckdb"], row["duckdb"]
        assert row["agree_duckdb"] is True, key
        assert row["duckdb"]["query_s"] >= 0 and row["duckdb"]["threads"] == 2
        assert row["duckdb"]["over_pandas"] >= 0
        pandas_s = row["pandas"][row["duckdb"]["pandas_key"]]  # compute_s, or relief's rank_s
        assert row["duckdb"]["over_pandas"] == pytest.approx(row["duckdb"]["query_s"] / pandas_s)
        assert row["duckdb"]["pandas_key"] == ("rank_s" if key == "relief" else "compute_s")
    assert results["compliance"]["duckdb"]["period"] == results["compliance"]["pandas"]["period"]
    assert results["relief"]["duckdb"]["selected"] == results["relief"]["pandas"]["selected"]
    assert results["compliance"]["prepare"]["rows"]["couples"] > 0
    relief = results["relief"]["pandas"]
    assert (
        0 < relief["selected"] < relief["households"]
    )  # continuing households plus a quota of new ones
    assert results["report"] == {"skipped": "--quick"}
    assert "budget (committed payments" in stdout and "relief ranking" in stdout
    duckdb_rows = [line for line in stdout.splitlines() if line.startswith("  duckdb ")]
    assert len(duckdb_rows) == 2  # compliance and relief (the budget's rows are numbered)
    assert all("x pandas" in line and line.endswith("agrees: True") for line in duckdb_rows)


def test_quick_run_measures_the_dask_budget_out_of_core(quick_run):
    results, stdout = quick_run
    b = results["dask_scale"]["budget"]
    assert b["certificates"] == 20_000 and b["cohorts"] > 0
    assert b["driver_peak_rss_gb"] > 0 and len(b["worker_peak_rss_gb"]) == 2
    assert b["workers_same_processes"] is True
    assert "Dask budget out of core (bench_dask_scale): 20,000 certificates" in stdout


@pytest.mark.parametrize(
    "script, args",
    [
        pytest.param(
            "bench_bonus.py",
            ["--sizes", "2000", "--naive-sample", "100", "--no-widget", "--out", "{tmp}/b.json"],
            id="bonus",
        ),
        pytest.param(
            "bench_compliance.py",
            ["--people", "3000", "--partition-people", "1500", "--no-dask"],
            id="compliance",
        ),
        pytest.param(
            "bench_relief.py",
            ["--households", "1000", "--partition-people", "1500", "--no-dask"],
            id="relief",
        ),
        pytest.param(
            "bench_lookups.py",
            ["--people", "20000", "--rows", "20000", "--repeat", "1", "--data-dir", "{tmp}/d"],
            id="lookups",
        ),
        pytest.param(
            "bench_memory.py",
            ["--gb", "0.02", "--rest", "0", "--out", "{tmp}/m.json"],
            id="memory",
        ),
    ],
)
def test_single_benchmark_scripts_run(script, args, tmp_path):
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), *(a.format(tmp=tmp_path) for a in args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    if script == "bench_memory.py":  # its own table: every row measured
        rows = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))["rows"]
        assert [r["what"].split(",")[0] for r in rows] == ["fill"] * 3 + ["write"] * 3
        assert all(r["seconds"] > 0 for r in rows)
        assert {r["bytes"] for r in rows if "bytes" in r} == {int(0.02 * 2**30)}
        return
    if script == "bench_lookups.py":  # a row per reference, both ways agreeing (else it fails)
        rows = [r for r in proc.stdout.splitlines() if r.startswith("| ") and " s | " in r]
        assert [r.split(" | ")[0] for r in rows][:2] == [
            "| check_attendance.person_id",
            "| surveys.couple_id",
        ]
        assert len(rows) == 7
        return
    assert "pandas" in proc.stdout or "fpanalysis" in proc.stdout
    if script in ("bench_compliance.py", "bench_relief.py"):  # DuckDB on the same frames
        (line,) = [x for x in proc.stdout.splitlines() if x.startswith("duckdb:")]
        assert "x pandas" in line and line.endswith("agrees: True"), line
