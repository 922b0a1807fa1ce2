"""Benchmark the relief ranking (rulebook §6) at province scale: pandas engine, DuckDB and Dask
engine.

Run (from the repository root)::

    .venv/bin/python benchmarks/bench_relief.py --households 5000000
    .venv/bin/python benchmarks/bench_relief.py --households 2000      # a quick run

The input is :func:`fpanalysis.synth.scale.generate_partitioned` with only
``households`` and ``household_members`` (one household per couple, so
``people = 2.2 × households``), written to a scratch folder under /tmp and
removed afterwards. The round ranks every household and selects with a quota
of six in ten (continuing households first: about 52 % of the synthetic
households receive relief now and 72 % are eligible, so the cut falls among
the newcomers and the selection stops inside the ranking). The pandas engine loads the
folder with the Dask engine's own typed Parquet reader (``read_partition_fast`` over every part; not
validated, like the Dask engine with ``validate=False``) and runs
:func:`fpanalysis.rules.relief.rank_households`; the Dask engine
(:func:`fpanalysis.engines.dask.relief.rank_households`, ``validate=False``)
assesses and ranks per partition in the workers and merges in the driver.

Both run as the CLI does: a *lean* round (``texts=False``), then the output
table written a slice at a time (:func:`write_round`: masked, Chinese headers,
``write_table_chunks``), every household's reasons written per slice — by the
driver for pandas, by the workers for Dask. The output is Parquet (a CSV of 5M
households' reasons is ~7 GB); both engines' files must be byte-identical
(SHA-256 compared). ``rank_s`` is the round without texts, ``write_s`` the
texts and the file.

DuckDB runs the round query of ``duckdb_relief.py`` on the same typed frames
in memory (registered, not copied; 2 threads; only the query timed, as the
budget's DuckDB row), on the same as-of date with the same quota. It writes no
reasons, so it is compared with ``rank_s``, and its list with the lean round's
table (``duckdb_relief.compare_frames``).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from fpanalysis.core.memory import keep_freed_memory, no_huge_pages
from fpanalysis.core.params import load_params
from fpanalysis.rules import relief

#: Persons per household in synth_scale (one household per couple, 2.2 persons per couple).
PEOPLE_PER_HOUSEHOLD = 2.2


def prepare(
    out_dir: Path, households: int, *, partition_people: int = 500_000, seed: int = 7
) -> dict:
    """Generate ``households`` (about) with their members; row counts and generation time."""
    from fpanalysis.synth.scale import generate_partitioned

    people = max(1, round(households * PEOPLE_PER_HOUSEHOLD))
    t0 = time.perf_counter()
    rows = generate_partitioned(
        out_dir,
        people,
        seed=seed,
        partition_people=min(partition_people, people),
        tables=list(relief.RELIEF_TABLES),
    )
    secs = time.perf_counter() - t0
    return {"generate_s": secs, "rows": {t: int(rows.get(t, 0)) for t in relief.RELIEF_TABLES}}


def quota_for(n_households: int) -> int:
    """Six in ten households: above the ~52 % continuing, below the ~72 % eligible: a real cut."""
    return max(1, n_households * 6 // 10)


def write_round(result, path: Path) -> dict:
    """Write a round's table as the CLI does (masked, zh headers, a slice at a time): rows and
    SHA-256."""
    import hashlib

    from fpanalysis.core.privacy import mask_frame
    from fpanalysis.io import write_table_chunks

    _, rows = write_table_chunks(
        (mask_frame(c) for c in result.output_chunks()), path, lang="zh", table="households"
    )
    return {
        "rows": rows,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "bytes": path.stat().st_size,
    }


def run_pandas(data: Path, out: Path, *, with_table: bool = False):
    """Read the typed Parquet parts (not validated), rank with the pandas engine, write ``out``:
    figures; with ``with_table``, (figures, the lean round's table) to compare with DuckDB's."""
    from fpanalysis.engines.dask.cluster import partition_paths
    from fpanalysis.engines.dask.relief import read_partition_fast

    params = load_params()
    t0 = time.perf_counter()
    # every part at once through the Dask engine's reader: both engines start from the same typed
    # frames
    tables = read_partition_fast(partition_paths(data))
    t1 = time.perf_counter()
    res = relief.rank_households(
        tables, params, quota=quota_for(len(tables["households"])), texts=False
    )
    t2 = time.perf_counter()
    n = len(tables["households"])
    del tables
    written = write_round(res, out)
    t3 = time.perf_counter()
    figures = {
        "load_s": t1 - t0,
        "rank_s": t2 - t1,
        "write_s": t3 - t2,
        "compute_s": t3 - t1,
        "total_s": t3 - t0,
        "households": n,
        "selected": int(res.table["selected"].sum()),
        **written,
    }
    return (figures, res.table) if with_table else figures


def run_duckdb(data: Path, *, threads: int = 2):
    """DuckDB's round query on the same typed frames in memory: (figures, the list).

    The frames are read as :func:`run_pandas` reads them; the round is on the
    same as-of date (the households' last recorded date) with the same quota;
    ``query_s`` is :func:`duckdb_relief.run_frames`' time (after registering
    the frames). DuckDB writes no reasons: compare it with ``rank_s``.
    """
    from duckdb_relief import run_frames

    from fpanalysis.engines.dask.cluster import partition_paths
    from fpanalysis.engines.dask.relief import read_partition_fast

    params = load_params()
    t0 = time.perf_counter()
    tables = read_partition_fast(partition_paths(data))
    t1 = time.perf_counter()
    as_of = relief.default_as_of(tables)
    n = len(tables["households"])
    query_s, listed = run_frames(tables, params, as_of, quota=quota_for(n), threads=threads)
    return {
        "load_s": t1 - t0,
        "query_s": query_s,
        "total_s": time.perf_counter() - t0,
        "threads": threads,
        "as_of": as_of.date().isoformat(),
        "households": n,
        "selected": int(listed["selected"].sum()),
    }, listed


def run_dask(data: Path, out: Path, n_workers: int = 2, processes: bool = True):
    """The Dask engine on a fresh LocalCluster, writing ``out``: (figures, per-worker peak RSS in
    MB)."""
    import pyarrow.parquet as pq

    from fpanalysis.engines.dask.cluster import dask_client
    from fpanalysis.engines.dask.relief import rank_households as dask_rank

    params = load_params()
    n = sum(pq.read_metadata(f).num_rows for f in sorted((data / "households").glob("*.parquet")))
    t0 = time.perf_counter()
    with dask_client(
        n_workers=n_workers, threads_per_worker=1, memory_limit="4GB", processes=processes
    ) as client:
        t1 = time.perf_counter()
        res = dask_rank(client, data, params, quota=quota_for(n), validate=False, texts=False)
        t2 = time.perf_counter()
        written = write_round(res.result, out)  # the workers write the texts, slice by slice
        t3 = time.perf_counter()
        workers = sorted(
            client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024).values()
        )
    return (
        {
            "rank_s": t2 - t1,
            "write_s": t3 - t2,
            "total_s": t3 - t1,
            "cluster_start_s": t1 - t0,
            "partitions": res.partitions,
            "households": n,
            "selected": int(res.result.table["selected"].sum()),
            **written,
        },
        workers,
    )


def main(argv=None) -> int:
    # The kernels run as the commands run them: ``cli.main`` asks numpy for no huge pages first
    # (``fpanalysis.core.memory.no_huge_pages``); the processes started from here inherit it.
    no_huge_pages()
    keep_freed_memory()  # as a command on the pandas engine (``cli.main``)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=5_000_000)
    ap.add_argument("--partition-people", type=int, default=500_000)
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="fp_bench_relief_"))
    try:
        prep = prepare(scratch / "data", args.households, partition_people=args.partition_people)
        print(prep["rows"], f"generated in {prep['generate_s']:.1f} s")
        out, lean = run_pandas(scratch / "data", scratch / "pandas.parquet", with_table=True)
        print(
            f"pandas: load {out['load_s']:.2f} s + ranking {out['rank_s']:.2f} s + reasons and "
            "file "
            f"{out['write_s']:.2f} s ({out['households']:,} households, {out['selected']:,} "
            "selected)"
        )
        from duckdb_relief import compare_frames

        qout, listed = run_duckdb(scratch / "data")
        same, _ = compare_frames(listed, lean)
        del lean, listed
        print(
            f"duckdb: load {qout['load_s']:.2f} s + ranking {qout['query_s']:.2f} s, no reasons "
            f"({qout['threads']} threads, {qout['selected']:,} selected); "
            f"x pandas ranking {qout['query_s'] / out['rank_s']:.2f}; agrees: {same}"
        )
        if not args.no_dask:
            dout, workers = run_dask(scratch / "data", scratch / "dask.parquet")
            print(
                f"dask:   ranking {dout['rank_s']:.2f} s + reasons and file {dout['write_s']:.2f} "
                "s "
                f"({dout['partitions']} partitions, cluster start {dout['cluster_start_s']:.1f} "
                "s); "
                f"worker peaks {workers} MB; identical files: {dout['sha256'] == out['sha256']}"
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
