"""Benchmark the compliance scorecard (rulebook §3) at province scale: pandas engine, DuckDB and
Dask engine.

Run (from the repository root)::

    .venv/bin/python benchmarks/bench_compliance.py --people 2200000    # about 1M couples
    .venv/bin/python benchmarks/bench_compliance.py --people 4000       # a quick run

The input is :func:`fpanalysis.synth.scale.generate_partitioned` (aligned
Parquet partitions, written to a scratch folder under /tmp and removed
afterwards) with the tables the scorecard reads. The pandas engine loads the
folder with the Dask engine's own typed Parquet reader (``read_partition_fast`` over every part; not
validated, like the Dask engine with ``validate=False``) and runs
:func:`fpanalysis.rules.compliance.compliance_scorecard`; the Dask engine
(:func:`fpanalysis.engines.dask.compliance.compliance`, ``validate=False``)
reads each partition in its worker, sums per unit and scores in the driver.
Both scorecards must be identical. DuckDB runs the scorecard query of
``duckdb_compliance.py`` on the same typed frames in memory (registered, not
copied; 2 threads; only the query timed, as the budget's DuckDB row), for the
same period; its scorecard must agree with the pandas engine's
(``duckdb_compliance.compare_frames``). ``benchmarks/bench_all.py`` runs the
same functions, each engine in its own process.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

from fpanalysis.core.memory import keep_freed_memory, no_huge_pages
from fpanalysis.core.params import load_params
from fpanalysis.rules import compliance

#: Tables holding events (everything a couple does that an indicator counts).
EVENT_TABLES = (
    "permits",
    "pregnancies",
    "surveys",
    "check_attendance",
    "contraception",
    "children",
)


def prepare(out_dir: Path, people: int, *, partition_people: int = 500_000, seed: int = 7) -> dict:
    """Generate the scorecard's tables for ``people`` persons; row counts and generation time."""
    from fpanalysis.synth.scale import generate_partitioned

    t0 = time.perf_counter()
    rows = generate_partitioned(
        out_dir,
        people,
        seed=seed,
        partition_people=min(partition_people, people),
        tables=compliance.TABLES_NEEDED,
    )
    secs = time.perf_counter() - t0
    rows = {t: int(n) for t, n in sorted(rows.items())}
    return {
        "generate_s": secs,
        "rows": {
            "couples": rows.get("couples", 0),
            "events": sum(rows.get(t, 0) for t in EVENT_TABLES),
            "persons": rows.get("persons", 0),
        },
        "tables": rows,
    }


def run_pandas(data: Path):
    """Read the typed Parquet parts (not validated) and score with the pandas engine: (figures,
    scorecard)."""
    from fpanalysis.engines.dask.cluster import partition_paths
    from fpanalysis.engines.dask.compliance import read_partition_fast

    params = load_params()
    t0 = time.perf_counter()
    # every part at once through the Dask engine's reader: both engines start from the same typed
    # frames
    tables = read_partition_fast(partition_paths(data))
    t1 = time.perf_counter()
    period = str(compliance.latest_complete_year(tables))
    card = compliance.compliance_scorecard(tables, params, period)
    t2 = time.perf_counter()
    return {
        "load_s": t1 - t0,
        "compute_s": t2 - t1,
        "total_s": t2 - t0,
        "period": period,
        "units": len(card),
    }, card


def run_duckdb(data: Path, period: str | None = None, *, threads: int = 2):
    """DuckDB's scorecard query on the same typed frames in memory: (figures, scorecard).

    The frames are read as :func:`run_pandas` reads them; ``query_s`` is
    :func:`duckdb_compliance.run_frames`' time (after registering the frames),
    on ``period`` (default: the latest complete year, as :func:`run_pandas`).
    """
    from duckdb_compliance import run_frames

    from fpanalysis.engines.dask.cluster import partition_paths
    from fpanalysis.engines.dask.compliance import read_partition_fast

    params = load_params()
    t0 = time.perf_counter()
    tables = read_partition_fast(partition_paths(data))
    t1 = time.perf_counter()
    period = period or str(compliance.latest_complete_year(tables))
    query_s, card = run_frames(tables, params, period, threads=threads)
    return {
        "load_s": t1 - t0,
        "query_s": query_s,
        "total_s": time.perf_counter() - t0,
        "threads": threads,
        "period": period,
        "units": len(card),
    }, card


def run_dask(data: Path, period: str, n_workers: int = 2, processes: bool = True):
    """The Dask engine on a fresh LocalCluster: (figures, scorecard, per-worker peak RSS in MB)."""
    from fpanalysis.engines.dask.cluster import dask_client
    from fpanalysis.engines.dask.compliance import compliance as dask_compliance

    params = load_params()
    t0 = time.perf_counter()
    with dask_client(
        n_workers=n_workers, threads_per_worker=1, memory_limit="4GB", processes=processes
    ) as client:
        t1 = time.perf_counter()
        out = dask_compliance(client, data, params, period, validate=False)
        t2 = time.perf_counter()
        workers = sorted(
            client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024).values()
        )
    return (
        {
            "total_s": t2 - t1,
            "cluster_start_s": t1 - t0,
            "partitions": out.partitions,
            "units": len(out.scorecard),
        },
        out.scorecard,
        workers,
    )


def main(argv=None) -> int:
    # The kernels run as the commands run them: ``cli.main`` asks numpy for no huge pages first
    # (``fpanalysis.core.memory.no_huge_pages``); the processes started from here inherit it.
    no_huge_pages()
    keep_freed_memory()  # as a command on the pandas engine (``cli.main``)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=2_200_000)
    ap.add_argument("--partition-people", type=int, default=500_000)
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="fp_bench_compliance_"))
    try:
        prep = prepare(scratch / "data", args.people, partition_people=args.partition_people)
        print(json.dumps(prep["rows"]), f"generated in {prep['generate_s']:.1f} s")
        out, card = run_pandas(scratch / "data")
        print(
            f"pandas: load {out['load_s']:.2f} s + scorecard {out['compute_s']:.2f} s "
            f"({out['units']} units)"
        )
        from duckdb_compliance import compare_frames

        qout, qcard = run_duckdb(scratch / "data", out["period"])
        same, _ = compare_frames(qcard, card)
        print(
            f"duckdb: load {qout['load_s']:.2f} s + scorecard {qout['query_s']:.2f} s "
            f"({qout['threads']} threads, {qout['units']} units); "
            f"x pandas {qout['query_s'] / out['compute_s']:.2f}; agrees: {same}"
        )
        if not args.no_dask:
            dout, dcard, workers = run_dask(scratch / "data", out["period"])
            same = (
                card.reset_index(drop=True)
                .astype(str)
                .equals(dcard.reset_index(drop=True).astype(str))
            )
            print(
                f"dask:   {dout['total_s']:.2f} s ({dout['partitions']} partitions, cluster start "
                f"{dout['cluster_start_s']:.1f} s); worker peaks {workers} MB; identical: {same}"
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
