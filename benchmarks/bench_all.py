"""Every benchmark in one run: budget, re-projection, compliance, relief, report, the commands.

Run (from the repository root)::

    make bench                                   # = .venv/bin/python benchmarks/bench_all.py
    .venv/bin/python benchmarks/bench_all.py --quick     # tiny sizes, a few minutes

Each contender runs in its own Python process (``--worker NAME``), so that its
peak memory is its own: the worker loads its input, resets the kernel's
high-water mark (``/proc/self/clear_refs``), runs, and reports ``VmHWM`` — the
peak resident memory *while it ran*, input tables included — next to the
resident size of the input alone. Inputs are generated once per size into a
scratch folder under ``/tmp`` (removed at the end). Every ratio is computed in
this run from figures measured in this run; the machine, the library versions
and the load average before and after are printed and written with the
results to ``benchmarks/results/bench_all.json`` (gitignored).

The "commands" section is ``bench_commands.py``: each command (``validate``,
``bonus``, ``compliance``, ``relief``) run as a user runs it, a fresh process
on a synthetic Parquet dataset of 1M, 2M and 10M people (20k with
``--quick``, in fresh processes still), against its I/O floor and, for
compliance and relief, a DuckDB contender. The load average is taken before
and after every section and printed with it.

What each row measures and why the comparison is fair: ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

from fpanalysis.core.memory import (  # noqa: E402
    HUGE_PAGES_SWITCH,
    keep_freed_memory,
    no_huge_pages,
)

FULL = {
    "budget_sizes": [1_000_000, 10_000_000],
    "naive_sample": 5_000,
    "compliance_people": 2_200_000,  # about 1M couples (2.2 persons per couple in synth_scale)
    "relief_households": 5_000_000,
    "partition_people": 500_000,
    "budget_parts": 10,  # Parquet partitions of the budget input for the Dask engine
    "report": True,
    "command_sizes": [1_000_000, 2_000_000, 10_000_000],
    "dask_command_sizes": [20_000_000],
    "dask_scale_certificates": 100_000_000,
}
QUICK = {
    "budget_sizes": [3_000],
    "naive_sample": 300,
    "compliance_people": 4_000,
    "relief_households": 2_000,
    "partition_people": 2_000,
    "budget_parts": 3,
    "report": False,
    "command_sizes": [20_000],
    "dask_command_sizes": [20_000],
    "dask_scale_certificates": 20_000,
}


# --------------------------------------------------------------------------- measuring a worker


def _status(field: str) -> float:
    """A ``/proc/self/status`` field in MB (0 when unavailable)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Peak:
    """Peak resident memory of this process from now on (the input already loaded counts)."""

    def __init__(self) -> None:
        self.input_mb = _status("VmRSS")
        try:  # "5" resets the high-water mark (Linux ≥ 4.0)
            Path("/proc/self/clear_refs").write_text("5")
            self.isolated = True
        except OSError:
            self.isolated = False

    def mb(self) -> float:
        return _status("VmHWM")


def _timed(fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t0, out


def _dump(obj, path: Path) -> None:
    with path.open("wb") as f:
        pickle.dump(obj, f, protocol=5)


def _load(path: Path):
    with path.open("rb") as f:
        return pickle.load(f)


# --------------------------------------------------------------------------- budget workers


def _budget_tables(d: Path):
    return _load(d / "tables.pkl")


def _warm_up(tables, run) -> None:
    """One run on the first 1,000 couples, untimed: imports, caches, first calls are paid here."""
    k = 1000
    small = {t: df.iloc[: 2 * k if t == "persons" else k] for t, df in tables.items()}
    run(small)


def w_prepare_budget(d: Path, n: int, partition: int, dask: bool) -> dict:
    import bench_bonus as bb
    import numpy as np
    import pandas as pd

    t0 = time.perf_counter()
    tables = bb.synth_tables(n)
    gen = time.perf_counter() - t0
    _dump(tables, d / "tables.pkl")
    out = {"generate_s": gen, "certificates": n, "persons": 2 * n}
    if dask:
        # Aligned partitions for the Dask engine (DIR/<table>/part-NNNNN.parquet): couple i is
        # persons 2i and 2i+1, child i and certificate i, so cutting every table at the same
        # couple numbers aligns them.
        units = sorted(set(tables["persons"]["unit_id"].dropna().unique()))
        (d / "parts" / "units").mkdir(parents=True)
        pd.DataFrame(
            {"unit_id": pd.Series(units, dtype="str"), "name": pd.Series(units, dtype="str")}
        ).to_parquet(d / "parts" / "units" / "part-00000.parquet", index=False)
        cuts = list(range(0, n, partition)) + [n]
        for t, df in tables.items():
            (d / "parts" / t).mkdir(parents=True)
            per = 2 if t == "persons" else 1
            for k, (lo, hi) in enumerate(zip(cuts[:-1], cuts[1:], strict=True)):
                df.iloc[per * lo : per * hi].to_parquet(
                    d / "parts" / t / f"part-{k:05d}.parquet", index=False
                )
        out["partitions"] = len(cuts) - 1
        del np
    return out


def _series_result(res) -> dict:
    return {"total_fen": int(res.sum()), "rows": len(res)}


def w_budget_pandas(d: Path, n: int) -> dict:
    import bench_bonus as bb
    import numpy as np

    from fpanalysis.rules import bonus

    tables = _budget_tables(d)
    params = bb.bench_params()
    _warm_up(tables, lambda t: bb.run_fpanalysis(t, params))
    peak = Peak()
    timings, res, n_cohorts = bb.run_fpanalysis(tables, params)
    peak_mb = peak.mb()
    _dump(res, d / "res_pandas.pkl")
    # the first full-size run above is the "cold" one (fresh memory); the best of two more: "warm"
    warm = min(bb.run_fpanalysis(tables, params)[0]["total_s"] for _ in range(WARM_RUNS))
    # Re-projection after compression: what a widget re-runs on a slider move (cohorts kept).
    start = bonus.parse_month(bb.START)
    seg, _ = bonus.certificate_segments(tables, with_info=False)
    cohorts = bonus.compress(seg, start, max_months=120)
    del seg, tables
    base = bb.bench_params()
    changes = [
        {"reward_monthly_yuan": a, "reward_age_cap": c, "reward_split": s}
        for a, c, s in [
            (20, 14, "payee"),
            (30, 14, "payee"),
            (30, 16, "payee"),
            (30, 18, "payee"),
            (30, 18, "half"),
            (40, 18, "half"),
            (20, 14, "half"),
            (25, 16, "payee"),
        ]
    ]
    lat, lat120 = [], []
    for ch in changes * 3:
        p = base.with_overrides(ch)
        t0 = time.perf_counter()
        mp = bonus.MonthlyParams.of(p, start, bb.MONTHS)
        bonus.project_cohorts(cohorts, mp)
        t1 = time.perf_counter()
        mp = bonus.MonthlyParams.of(p, start, 120)
        fen = bonus.project_cohorts(cohorts, mp)
        t2 = time.perf_counter()
        lat.append(t1 - t0)
        lat120.append(t2 - t1)
        assert fen.dtype == np.int64
    return {
        **timings,
        "warm_s": warm,
        "cohorts": n_cohorts,
        "input_mb": peak.input_mb,
        "peak_mb": peak_mb,
        "peak_isolated": peak.isolated,
        **_series_result(res),
        "reproject_cohorts": len(cohorts),
        "reproject_36_median_ms": statistics.median(lat) * 1000,
        "reproject_36_max_ms": max(lat) * 1000,
        "reproject_120_median_ms": statistics.median(lat120) * 1000,
        "reproject_120_max_ms": max(lat120) * 1000,
        "reproject_changes": len(lat),
    }


def w_budget_duckdb(d: Path, n: int, threads: int) -> dict:
    import bench_bonus as bb

    tables = _budget_tables(d)
    params = bb.bench_params()
    _warm_up(tables, lambda t: bb.run_duckdb(t, params, threads=threads))
    peak = Peak()
    secs, res = bb.run_duckdb(tables, params, threads=threads)
    peak_mb = peak.mb()
    _dump(res, d / f"res_duckdb{threads}.pkl")
    warm = min(bb.run_duckdb(tables, params, threads=threads)[0] for _ in range(WARM_RUNS))
    return {
        "total_s": secs,
        "warm_s": warm,
        "threads": threads,
        "input_mb": peak.input_mb,
        "peak_mb": peak_mb,
        "peak_isolated": peak.isolated,
        **_series_result(res),
    }


def w_budget_naive(d: Path, n: int, sample: int) -> dict:
    import bench_bonus as bb

    tables = _budget_tables(d)
    params = bb.bench_params()
    sample = min(sample, n)
    peak = Peak()
    secs = bb.run_naive(tables, params, sample)
    return {
        "sample": sample,
        "sample_s": secs,
        "total_s": secs * n / sample,
        "input_mb": peak.input_mb,
        "peak_mb": peak.mb(),
        "peak_isolated": peak.isolated,
    }


def w_budget_floor(d: Path, n: int) -> dict:
    """One pass over every column the budget must read: numpy sums over their buffers."""
    import numpy as np

    tables = _budget_tables(d)
    needed = {
        "certificates": ["couple_id", "child_id", "issue_date", "payee_id", "revoked_date"],
        "children": ["child_id", "birth_date"],
        "couples": ["couple_id", "wife_id", "husband_id"],
        "persons": ["person_id", "category", "unit_id", "hire_date", "leave_date"],
    }
    arrays = []
    for t, cols in needed.items():
        for c in cols:
            s = tables[t][c]
            pa_arr = getattr(s.array, "_pa_array", None)
            if pa_arr is not None:  # a pyarrow string column: its offsets and characters
                for chunk in pa_arr.chunks:
                    for buf in chunk.buffers():
                        if buf is not None:
                            arrays.append(np.frombuffer(buf, np.uint8))
            else:
                a = s.to_numpy()
                arrays.append(a.view(np.int64) if a.dtype.kind == "M" else a)
    nbytes = sum(a.nbytes for a in arrays)
    peak = Peak()
    best = float("inf")
    for _ in range(3):  # the best of three: a floor
        t0 = time.perf_counter()
        for a in arrays:
            a.sum(dtype=np.int64) if a.dtype == np.uint8 else a.sum()
        best = min(best, time.perf_counter() - t0)
    return {
        "total_s": best,
        "bytes": nbytes,
        "gb_per_s": nbytes / best / 1e9,
        "input_mb": peak.input_mb,
        "peak_mb": peak.mb(),
        "peak_isolated": peak.isolated,
    }


def _worker_peaks(client) -> list[float]:
    def peak() -> float:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    return sorted(client.run(peak).values())


def w_budget_dask(d: Path, n: int) -> dict:
    import bench_bonus as bb

    from fpanalysis.engines.dask import bonus as dbonus
    from fpanalysis.engines.dask.cluster import dask_client
    from fpanalysis.rules import bonus

    params = bb.bench_params()
    start = bonus.parse_month(bb.START)
    peak = Peak()
    t0 = time.perf_counter()
    with dask_client(
        n_workers=2, threads_per_worker=1, memory_limit="4GB", processes=not INPROCESS
    ) as client:
        t1 = time.perf_counter()
        out = dbonus.budget(
            client, d / "parts", params, start=bb.START, months=bb.MONTHS, validate=False
        )
        mp = bonus.MonthlyParams.of(params, start, bb.MONTHS)
        fen = bonus.project_cohorts(out.model.cohorts, mp)
        t2 = time.perf_counter()
        workers = _worker_peaks(client)
    import pandas as pd

    res = (
        pd.DataFrame(fen, index=list(out.model.cohorts.units), columns=mp.months)
        .stack()
        .rename("fen")
    )
    res = res[res != 0].sort_index()
    _dump(res, d / "res_dask.pkl")
    return {
        "total_s": t2 - t1,
        "cluster_start_s": t1 - t0,
        "partitions": out.partitions,
        "driver_peak_mb": peak.mb(),
        "worker_peak_mb": workers,
        "peak_mb": max([peak.mb(), *workers]),
        "peak_isolated": peak.isolated,
        **_series_result(res),
    }


def w_widget(d: Path, quick: bool) -> dict:
    import bench_bonus as bb

    return bb.widget_latency(repeats=1 if quick else 3)


# --------------------------------------------------------------------------- compliance, relief


def w_prepare_compliance(d: Path, people: int, partition_people: int) -> dict:
    import bench_compliance as bc

    return bc.prepare(d / "data", people, partition_people=partition_people)


def w_compliance_pandas(d: Path) -> dict:
    import bench_compliance as bc

    peak = Peak()
    out, card = bc.run_pandas(d / "data")
    _dump(card, d / "card_pandas.pkl")
    return {**out, "peak_mb": peak.mb(), "input_mb": peak.input_mb, "peak_isolated": peak.isolated}


def w_compliance_duckdb(d: Path, period: str | None = None) -> dict:
    """DuckDB's scorecard query on the same typed frames in memory (2 threads; query timed)."""
    import bench_compliance as bc

    peak = Peak()
    out, card = bc.run_duckdb(d / "data", period, threads=2)
    peak_mb = peak.mb()
    _dump(card, d / "card_duckdb.pkl")
    return {**out, "peak_mb": peak_mb, "input_mb": peak.input_mb, "peak_isolated": peak.isolated}


def w_compliance_dask(d: Path, period: str) -> dict:
    import bench_compliance as bc

    peak = Peak()
    out, card, workers = bc.run_dask(d / "data", period, processes=not INPROCESS)
    _dump(card, d / "card_dask.pkl")
    return {
        **out,
        "driver_peak_mb": peak.mb(),
        "worker_peak_mb": workers,
        "peak_mb": max([peak.mb(), *workers]),
        "peak_isolated": peak.isolated,
    }


def w_prepare_relief(d: Path, households: int, partition_people: int) -> dict:
    import bench_relief as br

    return br.prepare(d / "data", households, partition_people=partition_people)


def w_relief_pandas(d: Path) -> dict:
    import bench_relief as br

    peak = Peak()
    out, lean = br.run_pandas(d / "data", d / "relief_pandas.parquet", with_table=True)
    peak_mb = peak.mb()
    _dump(lean, d / "relief_pandas.pkl")  # the lean round's table, for DuckDB's agreement
    return {**out, "peak_mb": peak_mb, "input_mb": peak.input_mb, "peak_isolated": peak.isolated}


def w_relief_duckdb(d: Path) -> dict:
    """DuckDB's round query on the same typed frames in memory (2 threads; query timed)."""
    import bench_relief as br

    peak = Peak()
    out, listed = br.run_duckdb(d / "data", threads=2)
    peak_mb = peak.mb()
    _dump(listed, d / "relief_duckdb.pkl")
    return {**out, "peak_mb": peak_mb, "input_mb": peak.input_mb, "peak_isolated": peak.isolated}


def w_relief_dask(d: Path) -> dict:
    import bench_relief as br

    peak = Peak()
    out, workers = br.run_dask(d / "data", d / "relief_dask.parquet", processes=not INPROCESS)
    return {
        **out,
        "driver_peak_mb": peak.mb(),
        "worker_peak_mb": workers,
        "peak_mb": max([peak.mb(), *workers]),
        "peak_isolated": peak.isolated,
    }


WORKERS = {
    "prepare-budget": w_prepare_budget,
    "budget-pandas": w_budget_pandas,
    "budget-duckdb": w_budget_duckdb,
    "budget-naive": w_budget_naive,
    "budget-floor": w_budget_floor,
    "budget-dask": w_budget_dask,
    "widget": w_widget,
    "prepare-compliance": w_prepare_compliance,
    "compliance-pandas": w_compliance_pandas,
    "compliance-duckdb": w_compliance_duckdb,
    "compliance-dask": w_compliance_dask,
    "prepare-relief": w_prepare_relief,
    "relief-pandas": w_relief_pandas,
    "relief-duckdb": w_relief_duckdb,
    "relief-dask": w_relief_dask,
}


# --------------------------------------------------------------------------- the parent


#: The sections, in the order they run.
SECTIONS = ["budget", "widget", "compliance", "relief", "dask_scale", "report", "commands"]

#: Runs after the first (cold) one, of which the best is reported as the warm time.
WARM_RUNS = 2

#: --quick runs the workers in this process (no interpreter start-ups; peaks not isolated)
INPROCESS = False


def run_worker(name: str, d: Path, **kw) -> dict:
    """Run one worker in a fresh interpreter; its JSON result, or ``{"error": ...}``."""
    if INPROCESS:
        t0 = time.perf_counter()
        try:
            out = json.loads(json.dumps(WORKERS[name](d, **kw), default=float))
        except (
            Exception
        ) as exc:  # a smoke run reports the failure in its row, like a failed process
            out = {"error": f"{type(exc).__name__}: {exc}"}
        out["process_wall_s"] = time.perf_counter() - t0
        if "peak_isolated" in out:
            out["peak_isolated"] = False
        return out
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        name,
        "--dir",
        str(d),
        "--kwargs",
        json.dumps(kw),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            out = json.loads(line[len("RESULT ") :])
            out["process_wall_s"] = wall
            return out
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-12:]
    return {"error": f"exit {proc.returncode}: " + " | ".join(tail), "process_wall_s": wall}


def machine() -> dict:
    import importlib.metadata as md

    info = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in lscpu.splitlines():
            key, _, val = line.partition(":")
            if key.strip() in (
                "Model name",
                "CPU(s)",
                "Thread(s) per core",
                "L3 cache",
                "CPU max MHz",
            ):
                info[key.strip()] = val.strip()
    except OSError:
        pass
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["ram_gb"] = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    for pkg in ("numpy", "pandas", "pyarrow", "duckdb", "dask", "distributed"):
        try:
            info[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            info[pkg] = None
    info["numpy_huge_pages"] = os.environ.get(HUGE_PAGES_SWITCH, "numpy's default")
    return info


def _load_avg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _equal_series(d: Path, a: str, b: str) -> bool | None:
    pa, pb = d / a, d / b
    if not (pa.exists() and pb.exists()):
        return None
    return bool(_load(pa).equals(_load(pb)))


def _equal_frames(d: Path, a: str, b: str) -> bool | None:
    pa, pb = d / a, d / b
    if not (pa.exists() and pb.exists()):
        return None
    x, y = _load(pa), _load(pb)
    x, y = x.reset_index(drop=True), y.reset_index(drop=True)
    if list(x.columns) != list(y.columns) or len(x) != len(y):
        return False
    # every cell as text (a missing cell stays missing and equals a missing cell); dtypes too
    return bool(x.astype(str).equals(y.astype(str))) and bool((x.dtypes == y.dtypes).all())


def _agree_frames(d: Path, a: str, b: str, compare) -> bool | None:
    """Whether two pickled results agree by ``compare`` (a ``compare_frames``; dtypes differ)."""
    pa, pb = d / a, d / b
    if not (pa.exists() and pb.exists()):
        return None
    return bool(compare(_load(pa), _load(pb))[0])


def _duckdb_row(row: dict, d: Path, run, pandas_key: str, names: tuple[str, str], compare) -> None:
    """The DuckDB row of a section: run it, its ratio to the pandas kernel, their agreement."""
    row["duckdb"] = r = run()
    pandas_s = row.get("pandas", {}).get(pandas_key)
    if pandas_s and r.get("query_s") is not None:
        r["over_pandas"] = r["query_s"] / pandas_s
        r["pandas_key"] = pandas_key
    row["agree_duckdb"] = _agree_frames(d, *names, compare)


def _ms(x) -> str:
    return "-" if x is None else f"{x:.1f} ms"


def _s(x) -> str:
    return "-" if x is None else (f"{x:.2f} s" if x < 100 else f"{x:.0f} s")


def _mb(x) -> str:
    return "-" if not x else f"{x / 1024:.2f} GB" if x >= 1024 else f"{x:.0f} MB"


def bench_budget(cfg: dict, scratch: Path, dask: bool, log) -> dict:
    out = {}
    for n in cfg["budget_sizes"]:
        d = scratch / f"budget_{n}"
        d.mkdir()
        log(f"budget N={n:,}: preparing input ...")
        prep = run_worker(
            "prepare-budget", d, n=n, partition=max(1, n // cfg["budget_parts"]), dask=dask
        )
        row = {"prepare": prep}
        if "error" in prep:
            out[str(n)] = row
            continue
        for name, kind, kw in [
            ("pandas", "budget-pandas", {}),
            ("duckdb", "budget-duckdb", {"threads": 2}),
            ("duckdb_1thread", "budget-duckdb", {"threads": 1}),
            ("naive", "budget-naive", {"sample": cfg["naive_sample"]}),
            ("floor", "budget-floor", {}),
        ] + ([("dask", "budget-dask", {})] if dask else []):
            log(f"budget N={n:,}: {name} ...")
            row[name] = run_worker(kind, d, n=n, **kw)
        pandas_s = row["pandas"].get("total_s")
        pandas_warm = row["pandas"].get("warm_s")
        for name in ("duckdb", "duckdb_1thread", "naive", "floor", "dask"):
            if name in row and pandas_s and row[name].get("total_s"):
                row[name]["over_pandas"] = row[name]["total_s"] / pandas_s
            if name in row and pandas_warm and row[name].get("warm_s"):
                row[name]["warm_over_pandas"] = row[name]["warm_s"] / pandas_warm
        row["agree_duckdb"] = _equal_series(d, "res_pandas.pkl", "res_duckdb2.pkl")
        row["agree_duckdb_1thread"] = _equal_series(d, "res_pandas.pkl", "res_duckdb1.pkl")
        row["agree_dask"] = _equal_series(d, "res_pandas.pkl", "res_dask.pkl") if dask else None
        if not dask:
            row["dask"] = {"error": "not measured (--no-dask)"}
        out[str(n)] = row
        shutil.rmtree(d, ignore_errors=True)
    return out


def bench_compliance(cfg: dict, scratch: Path, dask: bool, log) -> dict:
    d = scratch / "compliance"
    d.mkdir()
    log(f"compliance: generating {cfg['compliance_people']:,} people ...")
    prep = run_worker(
        "prepare-compliance",
        d,
        people=cfg["compliance_people"],
        partition_people=cfg["partition_people"],
    )
    row = {"prepare": prep}
    if "error" not in prep:
        log("compliance: pandas ...")
        row["pandas"] = run_worker("compliance-pandas", d)
        log("compliance: duckdb (the same frames in memory) ...")
        from duckdb_compliance import compare_frames

        _duckdb_row(
            row,
            d,
            lambda: run_worker("compliance-duckdb", d, period=row["pandas"].get("period")),
            "compute_s",
            ("card_pandas.pkl", "card_duckdb.pkl"),
            compare_frames,
        )
        if dask and "period" in row["pandas"]:
            log("compliance: dask ...")
            row["dask"] = run_worker("compliance-dask", d, period=row["pandas"]["period"])
            row["agree_dask"] = _equal_frames(d, "card_pandas.pkl", "card_dask.pkl")
        else:
            row["dask"] = {"error": "not measured"}
    shutil.rmtree(d, ignore_errors=True)
    return row


def bench_relief(cfg: dict, scratch: Path, dask: bool, log) -> dict:
    d = scratch / "relief"
    d.mkdir()
    log(f"relief: generating {cfg['relief_households']:,} households ...")
    prep = run_worker(
        "prepare-relief",
        d,
        households=cfg["relief_households"],
        partition_people=cfg["partition_people"],
    )
    row = {"prepare": prep}
    if "error" not in prep:
        log("relief: pandas ...")
        row["pandas"] = run_worker("relief-pandas", d)
        log("relief: duckdb (the same frames in memory) ...")
        from duckdb_relief import compare_frames

        # DuckDB writes no reasons: against the lean round (rank_s), list against its table
        _duckdb_row(
            row,
            d,
            lambda: run_worker("relief-duckdb", d),
            "rank_s",
            ("relief_pandas.pkl", "relief_duckdb.pkl"),
            compare_frames,
        )
        if dask:
            log("relief: dask ...")
            row["dask"] = run_worker("relief-dask", d)
            # the CLI's output file of each engine, byte for byte
            sha = [row[k].get("sha256") for k in ("pandas", "dask")]
            row["agree_dask"] = None if None in sha else sha[0] == sha[1]
        else:
            row["dask"] = {"error": "not measured"}
    shutil.rmtree(d, ignore_errors=True)
    return row


def bench_commands_section(cfg: dict, args: argparse.Namespace, log) -> dict:
    """The commands as a user runs them (``bench_commands.run``): fresh processes, even --quick."""
    import bench_commands

    try:
        return bench_commands.run(
            cfg["command_sizes"],
            args.commands or bench_commands.COMMANDS,
            data_dir=args.data_dir,
            timeout=args.timeout,
            log=log,
            dask_sizes=[] if args.no_dask else cfg["dask_command_sizes"],
            dask_commands=[c for c in bench_commands.DASK_COMMANDS if c in (args.commands or [c])],
            settle=0.0 if args.quick else bench_commands.SETTLE_S,
        )
    except Exception as exc:  # a failed section is reported in its place, like a failed worker
        return {"error": f"{type(exc).__name__}: {exc}"}


def bench_dask_scale(cfg: dict, scratch: Path, log) -> dict:
    """The Dask budget out of core (``bench_dask_scale.py``, a process of its own): its data
    generated in the workers, then the budget on a fresh 2 x 4 GB cluster; the driver's and each
    worker's peak, and whether a worker was restarted."""
    n = cfg["dask_scale_certificates"]
    out = scratch / "dask_scale.json"
    log(f"Dask budget out of core: {n:,} certificates ...")
    cmd = [sys.executable, str(HERE / "bench_dask_scale.py"), "--certificates", str(n)]
    cmd += ["--data", str(scratch / "dask_scale_data"), "--json", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode or not out.is_file():
        return {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-400:]}"}
    res = json.loads(out.read_text(encoding="utf-8"))
    return {"generate": res.get("generate", {}), "budget": res["budget"]}


def bench_report(scratch: Path) -> dict:
    out = scratch / "report"
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1764288000"}
    load = round(os.getloadavg()[0], 2)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "fpanalysis", "report", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    secs = time.perf_counter() - t0
    shutil.rmtree(out, ignore_errors=True)
    if proc.returncode:
        return {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-400:]}", "total_s": secs}
    return {"total_s": secs, "target_s": 60, "load_1min": [load, round(os.getloadavg()[0], 2)]}


def _section_load(results: dict, key: str) -> str:
    """The load average before and after a section, as printed under its heading."""
    s = results.get("sections", {}).get(key)
    if not s:
        return ""
    return f"  load average before {s.get('load_before')}, after {s.get('load_after')}"


def table(results: dict) -> str:
    """The printed summary."""
    lines = []
    add = lines.append
    m = results["machine"]
    add(
        f"machine: {m.get('Model name', '?')}, {m.get('CPU(s)', m['cpus'])} CPUs, "
        f"{m.get('ram_gb', '?')} GB RAM; "
        f"Python {m['python']}, numpy {m['numpy']}, pandas {m['pandas']}, pyarrow {m['pyarrow']}, "
        f"duckdb {m['duckdb']}, dask {m['dask']}, distributed {m['distributed']}; "
        f"{HUGE_PAGES_SWITCH}={m.get('numpy_huge_pages', '?')}"
    )
    quick = " (QUICK: tiny sizes, workers in one process, peaks not isolated)"
    add(
        f"load average before {results['load_before']}, after {results['load_after']}"
        f"{quick if results['quick'] else ''}"
    )
    if "budget" in results:
        add("")
        add("budget (committed payments, 36 months; certificates -> cohorts -> unit x month)")
        add(_section_load(results, "budget"))
        add(
            f"  {'N':>12} {'contender':<16} {'cold':>9} {'x pandas':>9} {'warm':>9} "
            f"{'x pandas':>9} {'peak RSS':>9} {'input RSS':>9}  notes"
        )
    for n, row in results.get("budget", {}).items():
        for name in ("pandas", "dask", "duckdb", "duckdb_1thread", "naive", "floor"):
            r = row.get(name)
            if r is None:
                continue
            if "error" in r:
                dashes = " ".join(f"{'-':>9}" for _ in range(6))
                add(f"  {int(n):>12,} {name:<16} {dashes}  {r['error'][:90]}")
                continue
            note = ""
            if name == "pandas":
                note = (
                    f"segments {r['segments_s']:.2f} s, compress {r['compress_s']:.2f} s, "
                    f"project {r['project_s'] * 1000:.1f} ms; {r['cohorts']:,} cohorts"
                )
            elif name == "dask":
                note = (
                    f"{r['partitions']} parts from Parquet, 2 workers x 1 thread; cluster start "
                    f"{r['cluster_start_s']:.1f} s not included; worker peaks "
                    + ", ".join(_mb(x) for x in r["worker_peak_mb"])
                    + f"; agrees: {row.get('agree_dask')}"
                )
            elif name.startswith("duckdb"):
                note = f"threads={r['threads']}; agrees to the fen: {row.get('agree_' + name)}"
            elif name == "naive":
                note = f"extrapolated from {r['sample']:,} certificates ({r['sample_s']:.2f} s)"
            elif name == "floor":
                note = f"{r['bytes'] / 1e9:.2f} GB read at {r['gb_per_s']:.1f} GB/s"
            ratio = "1.00" if name == "pandas" else f"{r.get('over_pandas', float('nan')):.2f}"
            wratio = (
                "1.00"
                if name == "pandas"
                else f"{r['warm_over_pandas']:.2f}"
                if "warm_over_pandas" in r
                else "-"
            )
            add(
                f"  {int(n):>12,} {name:<16} {_s(r['total_s']):>9} {ratio:>9} "
                f"{_s(r.get('warm_s')):>9} {wratio:>9} {_mb(r.get('peak_mb')):>9} "
                f"{_mb(r.get('input_mb')):>9}  {note}"
            )
    if "budget" in results or "widget" in results:
        add("")
        add(
            "re-projection after compression "
            "(project_cohorts only; cohorts kept, 8 parameter changes x 3)"
        )
        add(_section_load(results, "widget"))
    for n, row in results.get("budget", {}).items():
        r = row.get("pandas", {})
        if "reproject_36_median_ms" in r:
            add(
                f"  N={int(n):,} ({r['reproject_cohorts']:,} cohorts, max_months=120): "
                f"36 months median {_ms(r['reproject_36_median_ms'])}, "
                f"max {_ms(r['reproject_36_max_ms'])}; "
                f"120 months median {_ms(r['reproject_120_median_ms'])}, "
                f"max {_ms(r['reproject_120_max_ms'])}"
            )
    w = results.get("widget", {})
    if "error" in w:
        add(f"  widget on the sample: {w['error']}")
    elif w:
        add(
            f"  widget on the sample ({w['sample_certificates']} certificates, "
            f"{w['cohorts']} cohorts, 1000 draws): "
            f"re-projection median {_ms(w['reproject_median_ms'])}, "
            f"max {_ms(w['reproject_max_ms'])}; "
            f"with the chart spec median {_ms(w['with_chart_spec_median_ms'])}, "
            f"max {_ms(w['with_chart_spec_max_ms'])}"
        )
    for key, label in (("compliance", "compliance scorecard"), ("relief", "relief ranking")):
        if key not in results:
            continue
        row = results[key]
        add("")
        prep = row.get("prepare", {})
        if "error" in prep:
            add(f"{label}: input not generated: {prep['error'][:200]}")
            continue
        add(
            f"{label}: "
            + ", ".join(f"{k} {v:,}" for k, v in prep.get("rows", {}).items())
            + f" (generated in {_s(prep.get('generate_s'))})"
        )
        add(_section_load(results, key))
        for name in ("pandas", "dask"):
            r = row.get(name, {})
            if "error" in r:
                add(f"  {name:<8} failed: ...{r['error'][-200:]}")
                continue
            extra = ""
            if name == "pandas" and "rank_s" in r:
                extra = (
                    f"load {_s(r.get('load_s'))} + ranking {_s(r.get('rank_s'))}"
                    f" + reasons and output file {_s(r.get('write_s'))}"
                )
            elif name == "pandas":
                extra = f"load {_s(r.get('load_s'))} + compute {_s(r.get('compute_s'))}"
            elif "rank_s" in r:
                extra = (
                    f"ranking {_s(r.get('rank_s'))} + reasons (in the workers) and output file "
                    f"{_s(r.get('write_s'))}; cluster start {_s(r.get('cluster_start_s'))} "
                    "not included; worker peaks "
                    + ", ".join(_mb(x) for x in r.get("worker_peak_mb", []))
                    + f"; output file identical to pandas': {row.get('agree_dask')}"
                )
            else:
                extra = (
                    f"cluster start {_s(r.get('cluster_start_s'))} not included; worker peaks "
                    + ", ".join(_mb(x) for x in r.get("worker_peak_mb", []))
                    + f"; identical to pandas: {row.get('agree_dask')}"
                )
            add(f"  {name:<8} {_s(r.get('total_s')):>10}  peak {_mb(r.get('peak_mb')):>8}  {extra}")
        r = row.get("duckdb")
        if r is None:
            pass
        elif "error" in r:
            add(f"  {'duckdb':<8} failed: ...{r['error'][-200:]}")
        else:
            what = "ranking" if key == "relief" else "compute"
            ratio = r.get("over_pandas")
            add(
                f"  {'duckdb':<8} {_s(r.get('query_s')):>10}  peak {_mb(r.get('peak_mb')):>8}  "
                + ("-" if ratio is None else f"{ratio:.2f}")
                + f" x pandas {what}; the same frames in memory (load {_s(r.get('load_s'))} "
                f"not included), threads={r.get('threads')}"
                + ("; no reasons" if key == "relief" else "")
                + f"; agrees: {row.get('agree_duckdb')}"
            )
    ds = results.get("dask_scale")
    if ds is not None:
        add("")
        if "error" in ds:
            add(f"Dask budget out of core: failed: {ds['error'][-300:]}")
        else:
            b, g = ds["budget"], ds.get("generate", {})
            workers = ", ".join(f"{v} GB" for v in b.get("worker_peak_rss_gb", {}).values())
            add(
                f"Dask budget out of core (bench_dask_scale): {b['certificates']:,} certificates, "
                f"{b['partitions']} partitions, {b['cohorts']:,} cohorts, {b['units']:,} units; "
                f"data generated in {_s(g.get('seconds'))} ({g.get('disk_gb')} GB of Parquet)"
            )
            add(_section_load(results, "dask_scale"))
            add(
                f"  map, reduce and projection {_s(b['total_s'])} "
                f"({b['certificates_per_s']:,} certificates/s); "
                f"driver peak {b['driver_peak_rss_gb']} GB "
                f"({b.get('driver_peak_before_project_gb')} GB before the projection); "
                f"worker peaks {workers} (2 workers x 4 GB); "
                f"no worker restarted: {b['workers_same_processes']}"
            )
    rep = results.get("report")
    if rep is not None:
        add("")
    if rep is None:
        pass
    elif "error" in rep:
        add(f"make report on the sample: {rep['error'][:200]}")
    elif rep.get("skipped"):
        add(f"make report on the sample: skipped ({rep['skipped']})")
    else:
        add(
            f"make report on the sample: {_s(rep.get('total_s'))} (target under "
            f"{rep.get('target_s', 60)} s on 2 cores; 1-minute load before/after "
            f"{rep.get('load_1min')})"
        )
    if rep is not None:
        add(_section_load(results, "report"))
    if "commands" in results:
        import bench_commands

        add("")
        cmd = results["commands"]
        if "error" in cmd:
            add(f"commands: failed: {cmd['error'][-300:]}")
        else:
            lines.extend(bench_commands.table_lines(cmd))
    return "\n".join(lines)


def main(argv=None) -> int:
    # The kernels run as the commands run them: ``cli.main`` asks numpy for no huge pages first
    # (``fpanalysis.core.memory.no_huge_pages``); the processes started from here inherit it.
    no_huge_pages()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help="tiny sizes (a smoke run of a few minutes)"
    )
    ap.add_argument("--sizes", type=int, nargs="+", help="budget sizes (certificates)")
    ap.add_argument(
        "--compliance-people", type=int, help="persons for the compliance rows (2.2 per couple)"
    )
    ap.add_argument("--relief-households", type=int, help="households for the relief rows")
    ap.add_argument("--no-dask", action="store_true", help="skip the Dask engine rows")
    ap.add_argument(
        "--only",
        nargs="+",
        choices=SECTIONS,
        help="run only these sections",
    )
    ap.add_argument(
        "--command-sizes",
        nargs="+",
        help="people per dataset of the commands section (1M 2M 10M; --quick: 20k)",
    )
    ap.add_argument(
        "--commands",
        nargs="+",
        choices=["validate", "bonus", "compliance", "relief"],
        help="the commands of the commands section (default: all four)",
    )
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=HERE / "data",
        help="where the commands section keeps its datasets (default benchmarks/data)",
    )
    ap.add_argument(
        "--timeout", type=float, default=3600.0, help="seconds per command (commands section)"
    )
    ap.add_argument(
        "--out", type=Path, default=RESULTS / "bench_all.json", help="the JSON file written"
    )
    ap.add_argument(
        "--scratch", type=Path, default=None, help="scratch folder (default: a new one in /tmp)"
    )
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--kwargs", default="{}", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        # a worker runs its kernel as a command on the pandas engine runs it (``cli.main``
        # keeps freed memory for the next arrays), whichever contender it times; a Dask row's
        # worker is the Dask engine's driver, for which the command does not
        if "dask" not in args.worker:
            keep_freed_memory()
        out = WORKERS[args.worker](args.dir, **json.loads(args.kwargs))
        print("RESULT " + json.dumps(out, default=float), flush=True)
        return 0

    global INPROCESS
    INPROCESS = args.quick
    cfg = dict(QUICK if args.quick else FULL)
    if args.sizes:
        cfg["budget_sizes"] = args.sizes
    if args.compliance_people:
        cfg["compliance_people"] = args.compliance_people
    if args.relief_households:
        cfg["relief_households"] = args.relief_households
    if args.command_sizes:
        from bench_commands import parse_size

        cfg["command_sizes"] = [parse_size(x) for x in args.command_sizes]
    sections = set(args.only or SECTIONS)
    dask = not args.no_dask

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    results: dict = {
        "machine": machine(),
        "quick": args.quick,
        "config": cfg,
        "load_before": _load_avg(),
        "sections": {},
    }
    scratch = Path(tempfile.mkdtemp(prefix="fp_bench_", dir=args.scratch))
    import bench_commands

    # bytecode first, as an installed package has it: every section starts fresh processes
    cfg["compiled"] = bench_commands.compile_package()

    def report() -> dict:
        if not cfg["report"]:
            return {"skipped": "--quick"}
        log("make report on the sample ...")
        return bench_report(scratch)

    def widget() -> dict:
        log("widget re-projection on the sample ...")
        return run_worker("widget", scratch, quick=args.quick)

    run_section = {
        "budget": lambda: bench_budget(cfg, scratch, dask, log),
        "widget": widget,
        "compliance": lambda: bench_compliance(cfg, scratch, dask, log),
        "relief": lambda: bench_relief(cfg, scratch, dask, log),
        "dask_scale": lambda: (
            bench_dask_scale(cfg, scratch, log) if dask else {"error": "not measured (--no-dask)"}
        ),
        "report": report,
        "commands": lambda: bench_commands_section(cfg, args, log),
    }
    t0 = time.perf_counter()
    try:
        for name in SECTIONS:
            if name in sections:
                before = _load_avg()
                results[name] = run_section[name]()
                results["sections"][name] = {"load_before": before, "load_after": _load_avg()}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    results["load_after"] = _load_avg()
    results["wall_s"] = time.perf_counter() - t0
    text = table(results)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(results, indent=2, sort_keys=True, default=float) + "\n", encoding="utf-8"
    )
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
