"""The Dask engine's budget out of core: N certificates on a LocalCluster with a memory limit
per worker.

Usage (the 100M target: 2 workers, 4 GB each, on a 24 GB 2-core machine)::

    .venv/bin/python benchmarks/bench_dask_scale.py --certificates 100000000
    # quick, checked:
    .venv/bin/python benchmarks/bench_dask_scale.py --certificates 1000000 --check-pandas

What it does, in one run:

1. **Data**: a certificates-heavy aligned partitioned Parquet dataset
   (``DIR/<table>/part-NNNNN.parquet``), generated *in the workers*, one task
   per partition (each couple: wife and husband, one child, one certificate;
   string ids carrying the partition number; ``max(20, N // 5000)`` units, the
   unit count ``benchmarks/bench_bonus.py`` uses). Not the realistic province
   generator (:mod:`fpanalysis.synth.scale`): it makes one unit per 15
   couples, so at 100M certificates the by-unit projection alone would be
   hundreds of thousands of units × months × draws; and it runs in one
   process.
2. **Budget** on a *fresh* cluster (so each worker's lifetime peak RSS is the
   budget's alone): :func:`fpanalysis.engines.dask.bonus.budget` (map per
   partition → cohorts; reduce; ``validate=False``: the data are the
   generator's, typed) and the projection over the merged cohorts in the driver.
3. **Memory**: each worker's peak RSS (``getrusage(RUSAGE_SELF).ru_maxrss`` in
   the worker at the end, plus a 1 s poll of the current RSS), the driver's
   peak RSS, and whether any worker died or restarted (worker pids before and after).

Prints a table and writes ``benchmarks/results/bench_dask_scale.json``. The
data are deleted afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EPOCH = np.datetime64("1970-01-01", "D")
END = np.datetime64("2025-11-28", "ms")  # the extract date (fpanalysis.synth.END)
TABLES = ["persons", "couples", "children", "certificates"]


def _days(s: str) -> int:
    return int((np.datetime64(s, "D") - EPOCH).astype(np.int64))


def n_units_for(n: int) -> int:
    return max(20, n // 5000)


def unit_ids(n_units: int) -> np.ndarray:
    return np.array([f"U{i:06d}" for i in range(n_units)], dtype=object)


def make_partition(k: int, n: int, n_units: int, seed: int, out: str) -> int:
    """Write partition ``k`` (``n`` couples and certificates) of every table; return ``n``. Runs in
    a worker."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(k + 1)[k])

    def ids(prefix: str, values: np.ndarray) -> pa.Array:
        return pc.binary_join_element_wise(
            f"{prefix}{k:05d}_", pa.array(values).cast(pa.string()), ""
        )

    def dates(lo: str, hi: str, size: int) -> np.ndarray:
        return (rng.integers(_days(lo), _days(hi), size=size) + EPOCH).astype("datetime64[ms]")

    def nat_where(arr: np.ndarray, missing: np.ndarray) -> pa.Array:
        return pa.array(arr, mask=missing)

    m = 2 * n
    i = np.arange(n, dtype=np.int64)
    is_wife = np.arange(m) % 2 == 0
    cat = np.where(
        is_wife,
        rng.choice(np.array(["staff", "floating", "outside"]), size=m, p=[0.85, 0.10, 0.05]),
        rng.choice(np.array(["staff", "outside"]), size=m, p=[0.5, 0.5]),
    )
    unit = unit_ids(n_units)[rng.integers(0, n_units, size=m)]
    # Every recorded date is on or before the extract date, so the default start (the month after
    # the
    # last recorded date) is December 2025 and the budget pays real money.
    hire = dates("1990-01-01", "2025-10-31", m)
    leave = hire + rng.integers(0, 20 * 365, size=m).astype("timedelta64[D]")
    outside = cat == "outside"
    left = (rng.random(m) < 0.1) & (leave <= END)
    person_no = np.arange(m, dtype=np.int64)
    persons = pa.table(
        {
            "person_id": ids("P", person_no),
            "sex": pa.array(np.where(is_wife, "F", "M")),
            "birth_date": pa.array(
                np.where(
                    is_wife,
                    dates("1976-01-01", "1996-01-01", m),
                    dates("1974-01-01", "1994-01-01", m),
                )
            ),
            "unit_id": pa.array(unit, mask=outside),
            "category": pa.array(cat),
            "hire_date": nat_where(hire, outside),
            "leave_date": nat_where(leave, outside | ~left),
        }
    )
    couples = pa.table(
        {
            "couple_id": ids("C", i),
            "wife_id": ids("P", 2 * i),
            "husband_id": ids("P", 2 * i + 1),
            "marriage_date": pa.array(dates("1998-01-01", "2012-01-01", n)),
            "divorce_date": pa.nulls(n, pa.timestamp("ms")),
        }
    )
    birth = dates("2005-01-01", "2025-10-31", n)
    children = pa.table(
        {
            "child_id": ids("K", i),
            "couple_id": ids("C", i),
            "birth_date": pa.array(birth),
            "sex": pa.array(np.where(rng.random(n) < 0.46, "F", "M")),
        }
    )
    issue = np.minimum(birth + rng.integers(0, 720, size=n).astype("timedelta64[D]"), END)
    revoked = issue + rng.integers(30, 3000, size=n).astype("timedelta64[D]")
    certificates = pa.table(
        {
            "cert_id": ids("G", i),
            "couple_id": ids("C", i),
            "child_id": ids("K", i),
            "issue_date": pa.array(issue),
            "payee_id": ids("P", np.where(rng.random(n) < 0.8, 2 * i, 2 * i + 1)),
            "revoked_date": nat_where(revoked, (rng.random(n) > 0.03) | (revoked > END)),
        }
    )
    for name, t in zip(TABLES, [persons, couples, children, certificates], strict=True):
        pq.write_table(t, Path(out) / name / f"part-{k:05d}.parquet", compression="zstd")
    return n


def generate(client, out: Path, n: int, per_part: int, seed: int) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    for t in ["units", *TABLES]:
        (out / t).mkdir(exist_ok=True)
    n_units = n_units_for(n)
    u = unit_ids(n_units)
    pd.DataFrame({"unit_id": u, "name": [f"单位{x[1:]}" for x in u], "kind": "section"}).to_parquet(
        out / "units" / "part-00000.parquet", index=False
    )
    sizes = [per_part] * (n // per_part) + ([n % per_part] if n % per_part else [])
    t0 = time.perf_counter()
    futs = client.map(
        make_partition,
        range(len(sizes)),
        sizes,
        n_units=n_units,
        seed=seed,
        out=str(out),
        pure=False,
    )
    done = sum(f.result() for f in futs)
    secs = time.perf_counter() - t0
    bytes_ = sum(p.stat().st_size for p in out.rglob("*.parquet"))
    return {
        "certificates": done,
        "partitions": len(sizes),
        "units": n_units,
        "seconds": round(secs, 2),
        "rows_per_s": round(5 * done / secs),
        "disk_gb": round(bytes_ / 1e9, 2),
    }


class MemoryPoll:
    """Poll every worker's current RSS once a second (the peak from getrusage is read at the
    end)."""

    def __init__(self, client):
        self.client, self.peak, self.stop = client, {}, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        import psutil  # noqa: F401 - imported by the workers too

        while not self.stop.wait(1.0):
            try:
                now = self.client.run(_rss)
            except Exception:  # noqa: BLE001 - a worker being replaced: noted by the pid check
                continue
            for w, v in now.items():
                self.peak[w] = max(self.peak.get(w, 0), v)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def _rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def _maxrss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_budget(client, data: Path, months: int, draws: int) -> tuple[dict, pd.DataFrame]:
    from fpanalysis.core.params import load_params
    from fpanalysis.engines.dask import bonus as db

    params = load_params()
    pids0 = client.run(os.getpid)
    with MemoryPoll(client) as poll:
        t0 = time.perf_counter()
        res = db.budget(client, data, params, months=months, validate=False)
        t1 = time.perf_counter()
        driver_before_project = _maxrss()
        table = res.model.project(params, months, draws, 0).table()
        t2 = time.perf_counter()
    pids1 = client.run(os.getpid)
    peaks = client.run(_maxrss)
    certs = res.rows.get("certificates", 0)
    info = {
        "certificates": certs,
        "partitions": res.partitions,
        "cohorts": len(res.model.cohorts),
        "units": len(res.model.units),
        "start": res.start,
        "months": months,
        "draws": draws,
        "map_reduce_s": round(t1 - t0, 2),
        "project_s": round(t2 - t1, 3),
        "total_s": round(t2 - t0, 2),
        "certificates_per_s": round(certs / (t2 - t0)),
        "worker_peak_rss_gb": {w: round(v / 1e9, 3) for w, v in sorted(peaks.items())},
        "worker_polled_peak_rss_gb": {w: round(v / 1e9, 3) for w, v in sorted(poll.peak.items())},
        "workers_same_processes": pids0 == pids1,
        "driver_peak_before_project_gb": round(driver_before_project / 1e9, 3),
        "driver_peak_rss_gb": round(_maxrss() / 1e9, 3),
        "committed_total_yuan": str(sum(table["committed_yuan"], start=0)),
    }
    return info, table


def check_pandas(data: Path, months: int, draws: int, table: pd.DataFrame) -> bool:
    """The pandas engine on the same data (read whole in this process): identical table?"""
    from fpanalysis.core.params import load_params
    from fpanalysis.engines.dask import bonus as db
    from fpanalysis.engines.dask.cluster import partition_paths
    from fpanalysis.rules import bonus

    parts = partition_paths(data)
    tables = db.read_partition_fast(parts)
    params = load_params()
    start = bonus.default_start(tables)
    ref = bonus.BonusModel.build(tables, params, start, max_months=months).project(
        params, months, draws, 0
    )
    pd.testing.assert_frame_equal(ref.table(), table)
    return True


def main(argv=None) -> int:
    # The kernels run as the commands run them: ``cli.main`` asks numpy for no huge pages first
    # (``fpanalysis.core.memory.no_huge_pages``); the processes started from here inherit it.
    from fpanalysis.core.memory import no_huge_pages

    no_huge_pages()
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--certificates", type=int, default=100_000_000)
    ap.add_argument("--partition-certificates", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--worker-memory", default="4GB")
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--draws", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--data", type=Path, default=None, help="dataset folder (default /tmp/fp_dask_bench_N)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the generated data")
    ap.add_argument(
        "--check-pandas", action="store_true", help="also run the pandas engine (small N only)"
    )
    ap.add_argument(
        "--json", type=Path, default=ROOT / "benchmarks" / "results" / "bench_dask_scale.json"
    )
    a = ap.parse_args(argv)

    import dask
    import distributed

    from fpanalysis.engines.dask.cluster import dask_client

    data = a.data or Path(f"/tmp/fp_dask_bench_{a.certificates}")
    result = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "pandas": pd.__version__,
            "dask": dask.__version__,
            "distributed": distributed.__version__,
            "load_avg_at_start": os.getloadavg(),
        },
        "args": {k: str(v) for k, v in vars(a).items()},
    }
    generated = False
    try:
        if not (data / "certificates").is_dir():
            with dask_client(n_workers=a.workers, memory_limit=a.worker_memory) as client:
                result["generate"] = generate(
                    client, data, a.certificates, a.partition_certificates, a.seed
                )
            generated = True
            print("generated:", result["generate"], flush=True)
        with dask_client(n_workers=a.workers, memory_limit=a.worker_memory) as client:
            result["budget"], table = run_budget(client, data, a.months, a.draws)
        if a.check_pandas:
            result["pandas_identical"] = check_pandas(data, a.months, a.draws, table)
    finally:
        if generated and not a.keep:
            shutil.rmtree(data, ignore_errors=True)
    result["machine"]["load_avg_at_end"] = os.getloadavg()
    b = result["budget"]
    print(f"{'certificates':<28}{b['certificates']:>16,}")
    for key in (
        "partitions",
        "cohorts",
        "units",
        "map_reduce_s",
        "project_s",
        "total_s",
        "certificates_per_s",
        "driver_peak_before_project_gb",
        "driver_peak_rss_gb",
        "workers_same_processes",
    ):
        print(f"{key:<28}{b[key]!s:>16}")
    for w, v in b["worker_peak_rss_gb"].items():
        print(
            f"{'worker peak RSS GB':<20}{w[-16:]:>16} {v:>8}  (polled "
            f"{b['worker_polled_peak_rss_gb'].get(w)})"
        )
    if "pandas_identical" in result:
        print(f"{'identical to pandas engine':<28}{result['pandas_identical']!s:>16}")
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
