"""Benchmark the reward projection (rulebook §5) against DuckDB SQL and a naive per-row loop.

Run (from the repository root)::

    .venv/bin/python benchmarks/bench_bonus.py --sizes 1000000 10000000
    .venv/bin/python benchmarks/bench_bonus.py --sizes 100000          # a quick run

For each size N it generates N certificates (with their children, couples and
2N persons) directly with numpy (seeded, vectorised; no Faker), then times:

- **fpanalysis**: ``certificate_segments`` + ``compress`` (the one pass over
  certificates, both split modes) and ``project_cohorts`` (36 months, a rise
  from the horizon's 7th month) — the projection proper, whose cost depends on
  the number of cohorts only;
- **DuckDB**: the same payee-split rule as an expert would write it in SQL:
  joins, cohorts by (unit, first month, last month), ``generate_series`` over
  the months joined to a month → amount table;
- **naive pandas**: a per-certificate, per-month Python loop on a sample of
  ``--naive-sample`` certificates, extrapolated linearly to N.

The two vectorised results are checked to agree to the fen. It also times the
widget's re-projection on the sample dataset (``data/sample``): one slider
change = new parameters + projection (1000 draws) + bureau summary, and the
same plus building the fan chart's Vega-Lite spec. Results are printed and
written to ``benchmarks/results/bench_bonus.json`` (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from fpanalysis.core.memory import keep_freed_memory, no_huge_pages
from fpanalysis.core.params import load_params
from fpanalysis.rules import bonus

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
START = "2025-12"
MONTHS = 36
EPOCH = np.datetime64("1970-01-01", "D")


def _days(s: str) -> int:
    return int((np.datetime64(s, "D") - EPOCH).astype(int))


def synth_tables(n: int, seed: int = 1) -> dict[str, pd.DataFrame]:
    """N certificates with their children, couples and 2N persons; integer ids, vectorised numpy."""
    rng = np.random.default_rng(seed)
    n_units = max(20, n // 5000)
    unit_names = np.array([f"U{i:05d}" for i in range(n_units)], dtype=object)

    def dates(lo: str, hi: str, size: int) -> np.ndarray:
        return (rng.integers(_days(lo), _days(hi), size=size) + EPOCH).astype("datetime64[ns]")

    def nat_where(arr: np.ndarray, missing: np.ndarray) -> np.ndarray:
        out = arr.copy()
        out[missing] = np.datetime64("NaT")
        return out

    # persons: wife of couple i is 2i, husband 2i+1
    m = 2 * n
    is_wife = np.arange(m) % 2 == 0
    cat = np.where(
        is_wife,
        rng.choice(
            np.array(["staff", "floating", "outside"], dtype=object), size=m, p=[0.85, 0.10, 0.05]
        ),
        rng.choice(np.array(["staff", "outside"], dtype=object), size=m, p=[0.5, 0.5]),
    )
    unit = unit_names[rng.integers(0, n_units, size=m)]
    unit[cat == "outside"] = None
    hire = dates("1990-01-01", "2026-06-30", m)
    leave_off = rng.integers(0, 20 * 365, size=m).astype("timedelta64[D]")
    leave = nat_where(hire + leave_off, rng.random(m) > 0.1)
    persons = pd.DataFrame(
        {
            "person_id": np.arange(m, dtype=np.int64),
            "category": pd.Series(cat, dtype="str"),
            "unit_id": pd.Series(unit, dtype="str"),
            "hire_date": nat_where(hire, cat == "outside"),
            "leave_date": nat_where(leave, cat == "outside"),
        }
    )
    ids = np.arange(n, dtype=np.int64)
    couples = pd.DataFrame({"couple_id": ids, "wife_id": 2 * ids, "husband_id": 2 * ids + 1})
    birth = dates("2005-01-01", "2025-10-31", n)
    children = pd.DataFrame({"child_id": ids, "couple_id": ids, "birth_date": birth})
    issue = birth + rng.integers(0, 720, size=n).astype("timedelta64[D]")
    revoked = nat_where(
        issue + rng.integers(30, 3000, size=n).astype("timedelta64[D]"), rng.random(n) > 0.03
    )
    certificates = pd.DataFrame(
        {
            "cert_id": ids,
            "couple_id": ids,
            "child_id": ids,
            "issue_date": issue,
            "payee_id": np.where(rng.random(n) < 0.8, 2 * ids, 2 * ids + 1),
            "revoked_date": revoked,
        }
    )
    return {
        "persons": persons,
        "couples": couples,
        "children": children,
        "certificates": certificates,
    }


def bench_params():
    p = load_params()
    rise = bonus.month_start(bonus.parse_month(START) + 6).isoformat()
    return p.with_overrides({"reward_monthly_yuan": {rise: 30}})


def run_fpanalysis(tables, params) -> tuple[dict, pd.DataFrame, int]:
    t0 = time.perf_counter()
    seg, _ = bonus.certificate_segments(tables, with_info=False)
    t1 = time.perf_counter()
    cohorts = bonus.compress(seg, bonus.parse_month(START), max_months=MONTHS)
    t2 = time.perf_counter()
    mp = bonus.MonthlyParams.of(params, bonus.parse_month(START), MONTHS)
    fen = bonus.project_cohorts(cohorts, mp)
    t3 = time.perf_counter()
    months = mp.months
    res = pd.DataFrame(fen, index=list(cohorts.units), columns=months).stack().rename("fen")
    res = res[res != 0].sort_index()
    timings = {
        "segments_s": t1 - t0,
        "compress_s": t2 - t1,
        "project_s": t3 - t2,
        "total_s": t3 - t0,
    }
    return timings, res, len(cohorts)


SQL = """
WITH pm AS (                                   -- month -> amount in fen and age cap
    SELECT m, amount_fen, age_cap FROM month_params
),
cert AS (                                      -- one pass: payer, paid window, child's cap month
    SELECT p.unit_id,
           greatest(year(c.issue_date) * 12 + month(c.issue_date) - 1,
                    year(p.hire_date) * 12 + month(p.hire_date) - 1, {start}) AS first_m,
           least(coalesce(year(c.revoked_date) * 12 + month(c.revoked_date) - 2, 99999999),
                 coalesce(year(p.leave_date) * 12 + month(p.leave_date) - 1, 99999999),
                 year(k.birth_date) * 12 + month(k.birth_date) - 1 + 12 * {cap}) AS last_m
    FROM certificates c
    JOIN children k ON k.child_id = c.child_id
    JOIN persons p ON p.person_id = c.payee_id
    WHERE p.category = 'staff' AND p.unit_id IS NOT NULL AND p.hire_date IS NOT NULL
),
cohorts AS (                                   -- certificates folded into cohorts
    SELECT unit_id, first_m, last_m, count(*) AS n
    FROM cert
    WHERE first_m <= last_m AND last_m >= {start} AND first_m <= {end}
    GROUP BY ALL
)
SELECT h.unit_id, pm.m, sum(h.n * pm.amount_fen) AS fen
FROM cohorts h
JOIN (SELECT generate_series AS m FROM generate_series({start}, {end})) g
    ON g.m BETWEEN h.first_m AND h.last_m
JOIN pm ON pm.m = g.m
GROUP BY ALL
ORDER BY 1, 2
"""


def run_duckdb(tables, params, threads: int = 2) -> tuple[float, pd.DataFrame]:
    import duckdb

    start = bonus.parse_month(START)
    mp = bonus.MonthlyParams.of(params, start, MONTHS)
    assert len(set(mp.age_cap.tolist())) == 1 and set(mp.split.tolist()) == {0}
    con = duckdb.connect()
    con.execute(f"SET threads TO {int(threads)}")
    month_params = pd.DataFrame(
        {"m": mp.months, "amount_fen": mp.amount_fen, "age_cap": mp.age_cap}
    )
    for name, df in {**tables, "month_params": month_params}.items():
        con.register(name, df)
    sql = SQL.format(start=start, end=start + MONTHS - 1, cap=int(mp.age_cap[0]))
    t0 = time.perf_counter()
    out = con.execute(sql).df()
    t1 = time.perf_counter()
    res = out.set_index(["unit_id", "m"])["fen"].astype("int64").rename("fen")
    res.index.names = [None, None]
    return t1 - t0, res[res != 0].sort_index()


def run_naive(tables, params, sample: int) -> float:
    """A per-certificate, per-month loop as a first draft would be written (payee split)."""
    certs = tables["certificates"].iloc[:sample]
    persons = tables["persons"].set_index("person_id")
    births = tables["children"].set_index("child_id")["birth_date"]
    start = bonus.parse_month(START)
    mp = bonus.MonthlyParams.of(params, start, MONTHS)
    t0 = time.perf_counter()
    total: dict = {}
    for c in certs.itertuples():
        p = persons.loc[c.payee_id]
        if p["category"] != "staff" or pd.isna(p["unit_id"]) or pd.isna(p["hire_date"]):
            continue
        b = births.loc[c.child_id]
        for k in range(MONTHS):
            m = start + k
            y, mo = m // 12, m % 12 + 1
            if (y, mo) < (c.issue_date.year, c.issue_date.month):
                continue
            if (y, mo) > (b.year + int(mp.age_cap[k]), b.month):
                continue
            if not pd.isna(c.revoked_date) and (y, mo) >= (
                c.revoked_date.year,
                c.revoked_date.month,
            ):
                continue
            if (y, mo) < (p["hire_date"].year, p["hire_date"].month):
                continue
            if not pd.isna(p["leave_date"]) and (y, mo) > (
                p["leave_date"].year,
                p["leave_date"].month,
            ):
                continue
            key = (p["unit_id"], m)
            total[key] = total.get(key, 0) + int(mp.amount_fen[k])
    return time.perf_counter() - t0


def widget_latency(repeats: int = 3) -> dict:
    from fpanalysis.charts.bonus import fan_chart
    from fpanalysis.core import config
    from fpanalysis.io import load_for_analysis
    from fpanalysis.widgets.bonus import reproject, summary

    ds = load_for_analysis(config.SAMPLE_DIR, bonus.TABLES_NEEDED)
    params = load_params()
    start = bonus.default_start(ds)
    t0 = time.perf_counter()
    model = bonus.BonusModel.build(ds, params, start, max_months=120)
    build_s = time.perf_counter() - t0
    changes = [
        dict(amount_yuan=a, age_cap=c, uptake=u, months=h)
        for a, c, u, h in [
            (20, 14, 0.8, 36),
            (30, 14, 0.8, 36),
            (30, 16, 0.8, 36),
            (30, 18, 0.8, 36),
            (30, 18, 0.5, 36),
            (30, 18, 0.5, 60),
            (40, 18, 0.5, 120),
            (20, 14, 0.8, 12),
        ]
    ]
    proj, chart = [], []
    for _ in range(repeats):
        for ch in changes:
            t0 = time.perf_counter()
            pr = reproject(model, params, draws=1000, seed=0, **ch)
            summary(pr)
            t1 = time.perf_counter()
            fan_chart(pr).to_dict()
            t2 = time.perf_counter()
            proj.append(t1 - t0)
            chart.append(t2 - t0)
    return {
        "sample_certificates": len(ds["certificates"]),
        "cohorts": len(model.cohorts),
        "new_groups": len(model.groups),
        "build_ms": build_s * 1000,
        "reproject_median_ms": statistics.median(proj) * 1000,
        "reproject_max_ms": max(proj) * 1000,
        "with_chart_spec_median_ms": statistics.median(chart) * 1000,
        "with_chart_spec_max_ms": max(chart) * 1000,
        "changes_timed": len(proj),
    }


def main(argv=None) -> int:
    # The kernels run as the commands run them: ``cli.main`` asks numpy for no huge pages first
    # (``fpanalysis.core.memory.no_huge_pages``); the processes started from here inherit it.
    no_huge_pages()
    keep_freed_memory()  # as a command on the pandas engine (``cli.main``)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--naive-sample", type=int, default=5000)
    ap.add_argument("--no-widget", action="store_true")
    ap.add_argument(
        "--out", type=Path, default=RESULTS / "bench_bonus.json", help="the JSON file written"
    )
    args = ap.parse_args(argv)
    params = bench_params()
    results = {
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "start": START,
        "months": MONTHS,
        "sizes": {},
    }
    for n in args.sizes:
        t0 = time.perf_counter()
        tables = synth_tables(n)
        gen_s = time.perf_counter() - t0
        ours, res_ours, n_cohorts = run_fpanalysis(tables, params)
        duck_s, res_duck = run_duckdb(tables, params)
        # our result also holds the half-split cohorts, which the payee split in force leaves unpaid
        agree = res_ours.equals(res_duck)
        naive_sample = min(args.naive_sample, n)
        naive_s = run_naive(tables, params, naive_sample) * n / naive_sample
        r = {
            "generate_s": gen_s,
            **{f"fpanalysis_{k}": v for k, v in ours.items()},
            "cohorts": n_cohorts,
            "duckdb_s": duck_s,
            "naive_extrapolated_s": naive_s,
            "naive_sample": naive_sample,
            "results_agree_to_the_fen": bool(agree),
            "total_fen": int(res_ours.sum()),
            "duckdb_over_fpanalysis": duck_s / ours["total_s"],
            "naive_over_fpanalysis": naive_s / ours["total_s"],
        }
        results["sizes"][str(n)] = r
        print(f"N={n:,} certificates ({n_cohorts:,} cohorts): generate {gen_s:.1f}s")
        print(
            f"  fpanalysis  {ours['total_s']:.2f}s  (segments {ours['segments_s']:.2f}s, compress "
            f"{ours['compress_s']:.2f}s, project {ours['project_s'] * 1000:.1f} ms)"
        )
        print(
            f"  duckdb SQL  {duck_s:.2f}s   ratio duckdb/fpanalysis "
            f"{r['duckdb_over_fpanalysis']:.2f}"
        )
        print(
            f"  naive loop  {naive_s:.1f}s (extrapolated from {naive_sample:,})   ratio "
            "naive/fpanalysis "
            f"{r['naive_over_fpanalysis']:.0f}"
        )
        print(f"  results agree to the fen: {agree}; total {int(res_ours.sum()) / 100:,.2f} yuan")
        del tables
    if not args.no_widget:
        w = widget_latency()
        results["widget"] = w
        print(
            f"widget on the sample ({w['sample_certificates']} certificates, {w['cohorts']} "
            "cohorts, "
            f"{w['new_groups']} new-certificate groups, 1000 draws): re-projection median "
            f"{w['reproject_median_ms']:.1f} ms, max {w['reproject_max_ms']:.1f} ms; with the "
            "chart spec "
            f"median {w['with_chart_spec_median_ms']:.1f} ms, max "
            f"{w['with_chart_spec_max_ms']:.1f} ms"
        )
    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
