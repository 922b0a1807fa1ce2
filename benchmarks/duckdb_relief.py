"""DuckDB SQL contender for a relief round (rulebook §6), reading the Parquet directly.

Run (from the repository root)::

    .venv/bin/python benchmarks/duckdb_relief.py DATASET --quota 6000 --out round.parquet

The SQL an expert would write for the ranked, selected list ``fpanalysis
relief`` writes, over the same Parquet files (``households`` and
``household_members``), from ``fpanalysis/rules/relief`` and ``docs/rules.md`` §6:

- **Money in integer fen**: the income (at most 2 decimals, as validation
  requires) is ``round(income × 100)``; the standard in force on the as-of
  date by area; eligible iff income < standard × size, compared in integers;
  the entitlement standard × size − income rounded up to whole yuan; the
  per-capita income shown rounded half up to the fen.
- **Tier** (§6.3): the assessed tier, else one plus the bands the ratio
  reaches, each band compared as an exact fraction in integers (at most the
  number of bands).
- **FP priority types** (§6.4) from the members: one child, a daughter; two
  children, both daughters, the head or spouse sterilised; no child and
  infertility recorded.
- **Ranking** (§6.5): eligible households by tier, then the declared
  ``ranking_order`` (priority first, per-capita income as the exact quotient
  income ÷ size, application date, household id), numbered per pool.
- **Selection** (§6.9): continuing households (receiving now and eligible)
  first, then newcomers strictly in rank order while the quota (less the
  continuing households) or the budget (after the continuing households'
  entitlements) holds, stopping at the first that does not fit: window
  functions over the ranking.

The output is the list in the order ``fpanalysis relief`` writes it (each
pool's ranked households, then its households not eligible, by id) with the
same figures; it leaves out the plain-language reasons and the masked head's
name, which ``fpanalysis relief`` also writes, and it does not validate the
files (the synthetic data is valid). The as-of date defaults to the
households' last recorded date, as the command's does; the households'
application dates are not filtered against it, as the command does not.

The same query runs on frames in memory (:func:`run_frames`, the kernel rows of
``bench_relief.py`` and ``bench_all.py``): the two frames are registered and
the same views (columns and casts) put over them; :func:`compare_frames`
compares two lists whatever their dtypes (a round's table may hold more
columns).
"""

from __future__ import annotations

import argparse
import sys
import time
from fractions import Fraction
from pathlib import Path

import pandas as pd
from duckdb_common import (
    connect,
    exact,
    last_recorded_sql,
    register_frames,
    sql_text,
    views_from_frames,
    views_from_parquet,
)

from fpanalysis.rules.relief import CLI_COLUMNS, RECORDED_TABLES, RELIEF_TABLES

HOUSEHOLDS, MEMBERS = RELIEF_TABLES

#: Each ranking key (``ranking_order``) as an ascending SQL sort key.
SORT_KEYS = {
    "tier": "tier ASC NULLS LAST",
    "fp_priority": "(fp_type IS NULL)::INT ASC",
    "per_capita_income_yuan": "pc_key ASC NULLS LAST",
    "application_date": "application_date ASC NULLS LAST",
    "household_id": "household_id ASC NULLS LAST",
}

#: The command's columns (``CLI_COLUMNS``) less the masked name and the reasons.
OUTPUT_COLUMNS = [c for c in CLI_COLUMNS if c not in ("head_name", "reason_zh", "reason_en")]


def _fen(yuan) -> int:
    """Yuan as integer fen, half up (exact)."""
    f = exact(yuan) * 100
    return int((f.numerator * 2 + f.denominator) // (2 * f.denominator))


def round_sql(
    standards: dict[str, int],
    bands: list,
    order: list[str],
    limits: dict[str, tuple[int | None, int | None]],
    pool: str,
) -> str:
    """The round's query: every household of the pools, ranked and selected, in output order.

    ``standards`` maps an area to its standard in fen; ``limits`` maps a pool
    to its (quota, budget in fen), None for no limit.
    """
    std = ", ".join(f"({sql_text(a)}, {v})" for a, v in standards.items())
    lim = ", ".join(
        f"({sql_text(p)}, {'NULL' if q is None else int(q)}::BIGINT, "
        f"{'NULL' if b is None else int(b)}::BIGINT)"
        for p, (q, b) in limits.items()
    )
    reached = " + ".join(
        f"(income * {f.denominator} >= {f.numerator} * line)::INT"
        for f in (Fraction(exact(b)) for b in bands)
    )
    where = f"WHERE h.area = {sql_text(pool)}" if pool in ("urban", "rural") else ""
    pool_expr = "area" if pool == "separate" else sql_text(pool)
    order_by = ", ".join(SORT_KEYS[k] for k in order)
    return f"""
WITH std(area, std) AS (VALUES {std}),
limits(pool, quota, budget) AS (VALUES {lim}),
kids AS (
    SELECT household_id, count(*) AS nc, count(*) FILTER (WHERE sex = 'F') AS nd
    FROM {MEMBERS} WHERE relation = 'child' GROUP BY household_id),
ster AS (
    SELECT DISTINCT household_id FROM {MEMBERS}
    WHERE relation IN ('head', 'spouse') AND sterilized),
a AS (
    SELECT h.household_id, h.area, h.township, h.size, h.assessed_tier, h.application_date,
           coalesce(h.receiving, false) AS receiving, coalesce(h.infertile, false) AS infertile,
           CAST(round(h.monthly_income * 100) AS BIGINT) AS income, s.std,
           s.std * h.size AS line, coalesce(k.nc, 0) AS nc, coalesce(k.nd, 0) AS nd,
           st.household_id IS NOT NULL AS sterilised
    FROM {HOUSEHOLDS} h LEFT JOIN std s ON s.area = h.area
    LEFT JOIN kids k ON k.household_id = h.household_id
    LEFT JOIN ster st ON st.household_id = h.household_id
    {where}),
b AS (
    SELECT *, {pool_expr} AS pool, income < line AS eligible,
           CASE WHEN nc = 1 AND nd = 1 THEN 'only_daughter'
                WHEN nc = 2 AND nd = 2 AND sterilised THEN 'two_daughters_sterilized'
                WHEN nc = 0 AND infertile THEN 'infertile' END AS fp_type,
           income / size AS pc_key
    FROM a),
c AS (
    SELECT *, coalesce(assessed_tier,
                       CASE WHEN eligible THEN least(1 + {reached}, {len(bands)}) END) AS tier,
           CASE WHEN eligible THEN (line - income + 99) // 100 END AS ent_yuan
    FROM b),
ranked AS (
    SELECT c.*, row_number() OVER (PARTITION BY pool ORDER BY {order_by}) AS rank,
           eligible AND receiving AS inc
    FROM c WHERE eligible),
running AS (
    SELECT *,
           sum(inc::INT) OVER (PARTITION BY pool) AS inc_n,
           sum(CASE WHEN inc THEN ent_yuan * 100 ELSE 0 END) OVER (PARTITION BY pool) AS inc_cost,
           sum((NOT inc)::INT) OVER w AS pos,
           sum(CASE WHEN inc THEN 0 ELSE ent_yuan * 100 END) OVER w AS new_cost
    FROM ranked
    WINDOW w AS (PARTITION BY pool ORDER BY rank ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)),
fits AS (
    SELECT r.*, NOT r.inc AND NOT (
               (l.quota IS NULL OR r.pos <= greatest(0, l.quota - r.inc_n))
               AND (l.budget IS NULL OR r.inc_cost + r.new_cost <= l.budget)) AS misfit
    FROM running r JOIN limits l ON l.pool = r.pool),
selected AS (
    SELECT household_id, rank,
           CASE WHEN inc THEN 'continuing'
                WHEN pos < coalesce(min(CASE WHEN misfit THEN pos END) OVER (PARTITION BY pool),
                                    9223372036854775807) THEN 'admitted'
                ELSE 'waiting' END AS selection
    FROM fits)
SELECT {"c.pool, " if pool == "separate" else ""}s.rank, c.household_id, c.area, c.township,
       c.eligible, c.tier, c.fp_type,
       floor(c.income / c.size) / 100 AS per_capita_income_yuan,  -- cut to the fen
       c.std / 100 AS standard_yuan, c.ent_yuan AS entitlement_yuan,
       coalesce(s.selection IN ('continuing', 'admitted'), false) AS selected,
       coalesce(s.selection, 'not_eligible') AS selection
FROM c LEFT JOIN selected s ON s.household_id = c.household_id
ORDER BY c.pool, s.rank NULLS LAST, c.household_id"""


#: Each table's columns as the views give them (the same from Parquet and from frames).
VIEWS = {
    HOUSEHOLDS: "household_id, area, township, size, monthly_income, assessed_tier, infertile, "
    "CAST(application_date AS DATE) AS application_date, receiving",
    MEMBERS: "household_id, relation, sex, sterilized",
}


def _round_query(con, params, as_of, quota, budget_yuan, pool: str) -> str:
    """The round's SQL on ``as_of`` (the views in place): standards of the areas, limits, order."""
    areas = [r[0] for r in con.execute(f"SELECT DISTINCT area FROM {HOUSEHOLDS}").fetchall()]
    standards = {a: _fen(params.dibao_standard(a, as_of)) for a in sorted(x for x in areas if x)}
    pools = sorted(standards) if pool == "separate" else [pool]

    def limit(value, p):
        return value.get(p) if isinstance(value, dict) else value

    limits = {
        p: (
            limit(quota, p),
            None if limit(budget_yuan, p) is None else _fen(limit(budget_yuan, p)),
        )
        for p in pools
    }
    return round_sql(
        standards,
        list(params.at("tier_bands", as_of)),
        list(params.at("ranking_order", as_of)),
        limits,
        pool,
    )


def run(
    dataset: Path,
    out: Path,
    as_of=None,
    *,
    quota=None,
    budget_yuan=None,
    pool: str = "all",
    params=None,
    threads: int | None = None,
) -> dict:
    """Rank and select on ``as_of`` (default: the households' last recorded date) into ``out``.

    ``quota`` / ``budget_yuan``: a number, or with ``pool="separate"`` a
    mapping per area; None for no limit.
    """
    from fpanalysis.core.params import load_params

    params = params or load_params()
    t0 = time.perf_counter()
    con = connect(threads)
    views_from_parquet(con, dataset, VIEWS)
    if as_of is None:
        as_of = con.execute(last_recorded_sql(dataset, RECORDED_TABLES)).fetchone()[0]
    as_of = pd.Timestamp(as_of).normalize()
    sql = _round_query(con, params, as_of, quota, budget_yuan, pool)
    con.execute(f"COPY ({sql}) TO {sql_text(out)} (FORMAT parquet)")
    n, chosen = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE selected) FROM read_parquet({sql_text(out)})"
    ).fetchone()
    return {
        "as_of": as_of.date().isoformat(),
        "households": int(n),
        "selected": int(chosen),
        "total_s": time.perf_counter() - t0,
    }


def run_frames(
    tables: dict[str, pd.DataFrame],
    params,
    as_of,
    *,
    quota=None,
    budget_yuan=None,
    pool: str = "all",
    threads: int = 2,
) -> tuple[float, pd.DataFrame]:
    """The same round on in-memory frames (``tables``: the typed frames an engine reads).

    The two frames are registered with DuckDB (``{table}_frame``) and viewed
    with the Parquet views' columns and casts; ``quota``, ``budget_yuan`` and
    ``pool`` as for :func:`run`. Returns (seconds of the query work after
    registering: the views, the areas' standards and the round fetched as a
    frame; the list, with the columns :func:`run` writes).
    """
    con = connect(threads)
    register_frames(con, tables, VIEWS)
    t0 = time.perf_counter()
    views_from_frames(con, VIEWS)
    as_of = pd.Timestamp(as_of).normalize()
    sql = _round_query(con, params, as_of, quota, budget_yuan, pool)
    round_ = con.execute(sql).df()
    return time.perf_counter() - t0, round_


_TYPES = {
    "rank": "Int64",
    "tier": "Int64",
    "entitlement_yuan": "Int64",
    "eligible": "boolean",
    "selected": "boolean",
    "per_capita_income_yuan": "Float64",
    "standard_yuan": "Float64",
}


def compare_frames(a: pd.DataFrame, b: pd.DataFrame) -> tuple[bool, str]:
    """Whether two relief lists agree: household order, rank, selection, entitlement and figures.

    The frames may differ in dtypes (DuckDB's, the pandas engine's) and hold
    other columns too; :data:`OUTPUT_COLUMNS` are compared. Returns
    ``(equal, what differs)``.
    """
    if len(a) != len(b):
        return False, f"{len(a)} households against {len(b)}"
    bad = []
    for c in OUTPUT_COLUMNS:
        if c in ("area", "township"):
            continue  # labels, the same in both; the figures are what is compared
        x = a[c].astype(_TYPES.get(c, "string")).reset_index(drop=True)
        y = b[c].astype(_TYPES.get(c, "string")).reset_index(drop=True)
        if not x.equals(y):
            first = int((x.fillna(-1).astype(str) != y.fillna(-1).astype(str)).to_numpy().argmax())
            bad.append(f"{c} (first at row {first}: {x.iloc[first]!r} against {y.iloc[first]!r})")
    return (not bad), ("equal" if not bad else "differ: " + "; ".join(bad))


def compare(ours: Path, theirs: Path) -> tuple[bool, str]:
    """Whether two relief list files agree (:func:`compare_frames`).

    ``theirs`` is ``fpanalysis relief --lang en``'s output. Returns ``(equal, what differs)``.
    """
    return compare_frames(pd.read_parquet(ours), pd.read_parquet(theirs))


def _limit_arg(text: str | None, whole: bool):
    if text is None:
        return None
    conv = int if whole else float
    if "=" in text:
        return {k.strip(): conv(v) for k, v in (p.split("=") for p in text.split(","))}
    return conv(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path, help="folder of Parquet tables")
    ap.add_argument("--as-of", help="YYYY-MM-DD (default: the households' last recorded date)")
    ap.add_argument("--quota", help="households, or urban=N,rural=M with --pool separate")
    ap.add_argument("--budget", help="yuan a month, or urban=Y,rural=Z with --pool separate")
    ap.add_argument("--pool", choices=["all", "urban", "rural", "separate"], default="all")
    ap.add_argument("--out", type=Path, required=True, help="the list (.parquet)")
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all)")
    args = ap.parse_args(argv)
    res = run(
        args.dataset,
        args.out,
        args.as_of,
        quota=_limit_arg(args.quota, True),
        budget_yuan=_limit_arg(args.budget, False),
        pool=args.pool,
        threads=args.threads,
    )
    print(
        f"as of {res['as_of']}: {res['households']} households, {res['selected']} selected "
        f"in {res['total_s']:.2f} s; {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
