"""The commands benchmark end to end at a small size, and its DuckDB contenders against fpanalysis.

``bench_commands.py --quick`` runs every command as a fresh process on a 20k
people dataset, with its I/O floor and the DuckDB contenders of compliance
and relief (whose outputs must equal the commands'); a process that times out
is a row that says so. The contenders are also checked, in this process, on
the sample-size synthetic dataset (the realistic generator: twins, scripted
§4 cases, cancelled permits) for several periods and rounds, from Parquet and
on frames in memory (``run_frames``, what the kernel rows of ``bench_all``
run), and on the benchmarks' typed frames against the pandas engine. No
timing is asserted.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from fpanalysis import synth
from fpanalysis.core.params import load_params
from fpanalysis.io import load_for_analysis
from fpanalysis.rules import bonus, compliance, relief

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_commands  # noqa: E402
import duckdb_compliance  # noqa: E402
import duckdb_relief  # noqa: E402


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bench_data")


@pytest.fixture(scope="module")
def quick(data_dir, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("bench_results") / "bench_commands.json"
    code = bench_commands.main(["--quick", "--data-dir", str(data_dir), "--out", str(out)])
    assert code == 0
    return json.loads(out.read_text(encoding="utf-8"))


def _rows(res: dict) -> list[dict]:
    return [r for block in res["sizes"].values() for r in block["rows"]]


def test_quick_run_measures_every_command_and_contender(quick):
    rows = _rows(quick)
    assert list(quick["sizes"]) == ["20k"]
    assert {(r["command"], r["runner"]) for r in rows} == {
        ("validate", "fpanalysis"),
        ("bonus", "fpanalysis"),
        ("bonus", "csv"),
        ("bonus", "defaults"),
        ("compliance", "fpanalysis"),
        ("compliance", "duckdb"),
        ("relief", "fpanalysis"),
        ("relief", "csv"),
        ("relief", "duckdb"),
        ("compliance", "dask"),
        ("relief", "dask"),
    }
    for r in rows:
        what = (r["command"], r["runner"], r.get("stderr_tail"))
        assert r["exit_code"] == 0 and r["status"] == "ok", what
        for k in ("wall_s", "peak_rss_mb", "read_s", "write_s", "floor_s", "ratio"):
            assert r[k] is not None and r[k] > 0, (k, what)
        assert r["floor_s"] == pytest.approx(r["read_s"] + r["write_s"])
        assert r["ratio"] == pytest.approx(r["wall_s"] / r["floor_s"])
        assert r["read_rows"] > 0 and r["output_bytes"] > 0
        # the CPU the kernel counted for the tree: some, and no more than its cores could give
        assert r["cpu_s"] == pytest.approx(r["user_s"] + r["system_s"]), what
        assert 0 < r["user_s"] and 0 <= r["system_s"], what
        assert r["cpu_s"] <= r["wall_s"] * os.cpu_count() + 0.5, what
        if r["runner"] in ("fpanalysis", "csv"):  # the same command, to .parquet and to .csv
            out = r["argv"][r["argv"].index("--out") + 1]
            assert out.endswith(".csv" if r["runner"] == "csv" else ".parquet"), what


def test_quick_run_has_the_budget_as_a_user_first_runs_it(quick):
    # no --start, --months or --draws: 36 months and 1,000 draws, as the command's help says
    (row,) = [r for r in _rows(quick) if r["runner"] == "defaults"]
    assert row["command"] == "bonus" and row["exit_code"] == 0
    opts = [a for a in row["argv"] if a.startswith("--")]
    assert opts == ["--lang", "--out"]


def test_quick_run_dask_rows_name_driver_and_workers_and_match_pandas(quick):
    dask = [r for r in _rows(quick) if r["runner"] == "dask"]
    assert sorted(r["command"] for r in dask) == ["compliance", "relief"]
    for r in dask:
        assert "--engine" in r["argv"] and "dask" in r["argv"]
        assert 0 < r["driver_mb"] <= r["peak_rss_mb"]
        assert len(r["workers_mb"]) == 2 and all(w > 0 for w in r["workers_mb"])
        assert r["identical"] is True, r["command"]
    plain = [r for r in _rows(quick) if r["runner"] == "fpanalysis"]
    assert all(r["workers_mb"] == [] for r in plain)


def test_quick_run_duckdb_contenders_agree_with_fpanalysis(quick):
    contenders = [r for r in _rows(quick) if r["runner"] == "duckdb"]
    assert len(contenders) == 2
    for r in contenders:
        assert r["agrees"] is True, (r["command"], r["agreement"])


def test_floor_reads_the_tables_each_command_names(quick):
    block = quick["sizes"]["20k"]
    tables = {r["command"]: r["tables"] for r in block["rows"]}
    assert tables["bonus"] == list(bonus.TABLES_NEEDED)
    assert tables["compliance"] == list(compliance.TABLES_NEEDED)
    assert tables["relief"] == list(relief.RELIEF_TABLES)
    assert sorted(tables["validate"]) == sorted(block["dataset"]["rows"])


def test_quick_run_says_where_each_command_spent_its_time(quick):
    # every fpanalysis row: the command's own phases (FPANALYSIS_TIMINGS), adding up to the
    # command, and the start-up and exit outside it making up the process's wall time
    for r in _rows(quick):
        what = (r["command"], r["runner"])
        if r["runner"] == "duckdb":
            assert r["phases"] == {} and 0 < r["in_process_s"] <= r["wall_s"], what
            continue
        ph = r["phases"]
        # (the Dask engine reads and validates in its workers: the driver's phases are fewer)
        driver_only = r["runner"] == "dask"
        needed = {"command", "start and exit"} | (set() if driver_only else {"read", "validate"})
        assert needed <= set(ph), what
        inside = sum(v for k, v in ph.items() if k not in ("command", "start and exit"))
        assert inside == pytest.approx(ph["command"], abs=0.02 * len(ph)), what
        assert ph["command"] + ph["start and exit"] == pytest.approx(r["wall_s"], abs=0.01)
        assert 0 < ph["start and exit"] < r["wall_s"], what  # Python starts before the command
    lines = "\n".join(bench_commands.table_lines(quick))
    assert "phases: start and exit" in lines and "in process" in lines


@pytest.mark.parametrize(
    ("stderr", "want"),
    [
        pytest.param(
            "[timings] read persons: 0.10 s, peak 9 MB\n"
            "[timings] command validate: 2.50 s, peak 90 MB\n"
            "[timings] summary: read 1.00 s, validate 1.20 s, analysis and outputs 0.30 s\n",
            {"read": 1.0, "validate": 1.2, "analysis and outputs": 0.3, "command": 2.5},
            id="summary",
        ),
        pytest.param("错误: 数据集缺少本分析需要的表\n", {}, id="failed-no-summary"),
        pytest.param(
            "[timings] summary: read 1.00 s, analysis and outputs 0.30 s\n", {}, id="no-command"
        ),
    ],
)
def test_phases_read_the_commands_summary(stderr, want):
    assert bench_commands.phases(stderr) == want


def test_contender_seconds_are_what_it_printed():
    out = "as of 2025-11-18: 909088 households, 545452 selected in 1.35 s; /tmp/r.parquet\n"
    assert bench_commands.contender_seconds(out) == 1.35
    assert bench_commands.contender_seconds("nothing timed\n") is None


def test_a_process_over_its_timeout_is_a_row_that_says_so(quick, data_dir):
    res = bench_commands.run(
        bench_commands.QUICK_SIZES, ["relief"], data_dir=data_dir, timeout=0.2, contenders=False
    )
    rows = _rows(res)
    assert [r["runner"] for r in rows] == ["fpanalysis", "csv"]
    for row in rows:
        assert row["status"] == "timeout" and row["exit_code"] < 0
        assert row["write_s"] is None and row["floor_s"] == row["read_s"] > 0
    assert res["sizes"]["20k"]["dataset"]["generate_s"] is None  # the cached dataset


@pytest.mark.parametrize(
    "argv, status",
    [
        pytest.param([sys.executable, "-c", "import sys; sys.exit(3)"], "failed", id="exit-3"),
        pytest.param(
            [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"],
            "killed",
            id="sigkill",
        ),
    ],
)
def test_measure_reports_failed_and_killed_processes(argv, status, tmp_path):
    m = bench_commands.measure(argv, log_dir=tmp_path, name="p")
    assert m["status"] == status
    assert m["exit_code"] == (3 if status == "failed" else -9)


# --------------------------------------------------------------------------- on the sample


@pytest.fixture(scope="module")
def sample_parquet(tmp_path_factory) -> Path:
    """The sample-size synthetic dataset (``synth --seed 20241``) as one Parquet file per table."""
    out = tmp_path_factory.mktemp("sample_parquet")
    synth.write_dataset(synth.generate(seed=synth.DEFAULT_SEED), out, format="parquet")
    return out


@pytest.mark.parametrize("period", ["2022", "2023H1", "2024H2"])
def test_duckdb_scorecard_equals_fpanalysis_on_the_sample(sample_parquet, period, tmp_path):
    tables = load_for_analysis(sample_parquet, compliance.TABLES_NEEDED)
    card = compliance.compliance_scorecard(tables, load_params(), period)
    card.to_parquet(tmp_path / "fpanalysis.parquet")
    duckdb_compliance.run(sample_parquet, tmp_path / "duckdb.parquet", period, threads=2)
    ok, msg = duckdb_compliance.compare(
        tmp_path / "duckdb.parquet", tmp_path / "fpanalysis.parquet"
    )
    assert ok, msg


#: Relief rounds checked against the contender: a quota, a budget, two pools each with its own.
RELIEF_LIMITS = [
    pytest.param({"quota": 180}, id="quota"),
    pytest.param({"budget_yuan": 210000}, id="budget"),
    pytest.param({"pool": "separate", "quota": {"urban": 60, "rural": 60}}, id="separate-pools"),
]


@pytest.mark.parametrize("limits", RELIEF_LIMITS)
def test_duckdb_relief_list_equals_fpanalysis_on_the_sample(sample_parquet, limits, tmp_path):
    tables = load_for_analysis(sample_parquet, relief.RELIEF_TABLES)
    res = relief.rank_households(tables, load_params(), texts=False, **limits)
    columns = (["pool"] if limits.get("pool") == "separate" else []) + duckdb_relief.OUTPUT_COLUMNS
    res.table[columns].to_parquet(tmp_path / "fpanalysis.parquet")
    duckdb_relief.run(
        sample_parquet,
        tmp_path / "duckdb.parquet",
        quota=limits.get("quota"),
        budget_yuan=limits.get("budget_yuan"),
        pool=limits.get("pool", "all"),
        threads=2,
    )
    ok, msg = duckdb_relief.compare(tmp_path / "duckdb.parquet", tmp_path / "fpanalysis.parquet")
    assert ok, msg
    # a real round: some households selected, some not
    n = pd.read_parquet(tmp_path / "duckdb.parquet")["selection"].value_counts()
    assert n.get("continuing", 0) + n.get("admitted", 0) > 0
    assert n.get("waiting", 0) + n.get("not_eligible", 0) > 0


# --------------------------------------------------------------------------- on frames in memory


@pytest.mark.parametrize("period", ["2022", "2023H1", "2024H2"])
def test_duckdb_scorecard_on_frames_equals_fpanalysis_on_the_sample(sample_parquet, period):
    """The same query on frames in memory (``run_frames``), as the kernel rows run it."""
    tables = load_for_analysis(sample_parquet, compliance.TABLES_NEEDED)
    card = compliance.compliance_scorecard(tables, load_params(), period)
    secs, theirs = duckdb_compliance.run_frames(tables, load_params(), period, threads=2)
    assert secs >= 0
    ok, msg = duckdb_compliance.compare_frames(theirs, card)
    assert ok, msg
    assert set(theirs["period"]) == {card["period"].iloc[0]}


@pytest.mark.parametrize("limits", RELIEF_LIMITS)
def test_duckdb_relief_on_frames_equals_fpanalysis_on_the_sample(sample_parquet, limits):
    tables = load_for_analysis(sample_parquet, relief.RELIEF_TABLES)
    as_of = relief.default_as_of(tables)
    res = relief.rank_households(tables, load_params(), as_of, texts=False, **limits)
    secs, theirs = duckdb_relief.run_frames(
        tables,
        load_params(),
        as_of,
        quota=limits.get("quota"),
        budget_yuan=limits.get("budget_yuan"),
        pool=limits.get("pool", "all"),
        threads=2,
    )
    assert secs >= 0
    columns = (["pool"] if limits.get("pool") == "separate" else []) + duckdb_relief.OUTPUT_COLUMNS
    assert list(theirs.columns) == columns  # the columns the Parquet contender writes
    ok, msg = duckdb_relief.compare_frames(theirs, res.table)
    assert ok, msg
    n = theirs["selection"].value_counts()
    assert n.get("continuing", 0) + n.get("admitted", 0) > 0
    assert n.get("waiting", 0) + n.get("not_eligible", 0) > 0


def test_compare_frames_say_where_results_differ(sample_parquet):
    params = load_params()
    tables = load_for_analysis(sample_parquet, compliance.TABLES_NEEDED)
    _, card = duckdb_compliance.run_frames(tables, params, "2023")
    other = card.copy()
    other.loc[0, "score"] += 0.01
    ok, msg = duckdb_compliance.compare_frames(other, card)
    assert not ok and "score (1 units)" in msg
    tables = load_for_analysis(sample_parquet, relief.RELIEF_TABLES)
    _, listed = duckdb_relief.run_frames(tables, params, relief.default_as_of(tables), quota=180)
    other = listed.copy()
    other.loc[0, "entitlement_yuan"] += 1
    ok, msg = duckdb_relief.compare_frames(other, listed)
    assert not ok and msg.startswith("differ: entitlement_yuan (first at row 0")
    assert duckdb_relief.compare_frames(listed.iloc[1:], listed)[0] is False


def test_duckdb_kernel_rows_agree_with_pandas_on_the_benchmark_frames(tmp_path):
    """``bench_compliance`` / ``bench_relief``'s DuckDB rows: the typed frames
    (``read_partition_fast``) of ``generate_partitioned``, the same period, as-of and quota."""
    import bench_compliance
    import bench_relief

    bench_compliance.prepare(tmp_path / "c", 4000, partition_people=2000)
    out, card = bench_compliance.run_pandas(tmp_path / "c")
    figures, theirs = bench_compliance.run_duckdb(tmp_path / "c", out["period"])
    assert figures["period"] == out["period"] and figures["threads"] == 2
    assert figures["query_s"] >= 0 and figures["units"] == len(card) > 0
    ok, msg = duckdb_compliance.compare_frames(theirs, card)
    assert ok, msg

    bench_relief.prepare(tmp_path / "r", 2000, partition_people=2000)
    out, lean = bench_relief.run_pandas(tmp_path / "r", tmp_path / "p.parquet", with_table=True)
    figures, theirs = bench_relief.run_duckdb(tmp_path / "r")
    assert figures["households"] == out["households"] == len(theirs)
    assert figures["selected"] == out["selected"]  # the same quota on the same as-of date
    ok, msg = duckdb_relief.compare_frames(theirs, lean)
    assert ok, msg


def test_measure_starts_the_process_after_the_settle(tmp_path):
    """The pause is taken before the process starts (it is not in its wall time)."""
    import time

    before = time.time()
    argv = [sys.executable, "-c", "import time; print(time.time())"]
    m = bench_commands.measure(argv, log_dir=tmp_path, name="p", settle=0.3)
    started = float(Path(m["stdout"]).read_text(encoding="utf-8"))
    assert m["status"] == "ok" and m["settle_s"] == 0.3
    assert started - before >= 0.3


def test_quick_run_does_not_settle_and_says_so(quick):
    assert quick["config"]["settle_s"] == 0.0
    assert all(r["settle_s"] == 0.0 for r in _rows(quick))
    assert "started 0 s after the one before" in "\n".join(bench_commands.table_lines(quick))
