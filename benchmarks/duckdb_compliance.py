"""DuckDB SQL contender for the unit compliance scorecard (rulebook §3), reading Parquet directly.

Run (from the repository root)::

    .venv/bin/python benchmarks/duckdb_compliance.py DATASET --period 2024 --out card.parquet

The SQL an expert would write for the scorecard ``fpanalysis compliance``
writes: one row per unit with C1–C8, the score, the grade and the veto, for a
year or a half-year, over the same Parquet files (a folder of parts or one
file per table). The rules, from ``fpanalysis/rules/compliance.py`` and
``docs/rules.md`` §2–§4:

- **Scope** (§2): a couple's responsible unit on a date is the unit of its
  staff spouse (``responsible_spouse`` first when both are), else of its
  floating spouse; the wife's age in completed years (29 February falls on
  28 February in other years) against ``childbearing_age``. Couples in scope
  on the period's fixed dates (1 January, each half's first day, each check
  round's start) are computed once, for every such date, in one pass.
- **C1, C2**: couples in scope with a ``baseline`` survey from 1 January to
  ``baseline_deadline`` / a ``followup`` survey inside the half. **C3**:
  surveys in the period that found a problem, reported within
  ``feedback_days``, under the couple's unit on the survey date. **C4**: wives
  of couples in scope on each round's start, less the exempt (a spouse
  sterilised, pregnant on the start, a pregnancy ended within
  ``check_exempt_after_outcome_days``), who attended inside the window.
- **C5–C8**: falsifications found, births without a valid permit (births
  counted once: a pregnancy ending in birth and its child; a child with no
  pregnancy, once per couple and day), pregnancies detected without a valid
  permit, late terminations that were not lawful; each under the couple's
  unit on the event's date. A valid permit: issued, not cancelled (recorded,
  or derived by §4.2 from a sex-selective termination while holding one),
  not yet used by an earlier birth.
- **Score** (§3.4): exact rational arithmetic in 128-bit integers: rates over
  a common denominator, weights and penalties scaled to integers (millionths),
  rounded half up once; a denominator of 0 counts as 1; H2 drops C1's weight.

Effective-dated parameters are a small table joined with ``ASOF JOIN`` on the
date each is taken on (the event's date, or the fixed date); the yearly ones
(weights, thresholds, the baseline deadline) are constants of the query. The
query reads the files as they are: it does not validate them as
``fpanalysis compliance`` does (the synthetic data is valid), and writes the
scorecard only (no drill-down).

The same query runs on frames in memory (:func:`run_frames`, the kernel rows of
``bench_compliance.py`` and ``bench_all.py``): the frames are registered and
the same views (columns and casts) put over them; :func:`compare_frames`
compares two scorecards whatever their dtypes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import time
from pathlib import Path

import pandas as pd
from duckdb_common import (
    connect,
    last_recorded_sql,
    register_frames,
    scaled,
    sql_text,
    views_from_frames,
    views_from_parquet,
)

from fpanalysis.rules.compliance import COUNT_INDICATORS, RATE_INDICATORS, RECORDED_TABLES

#: Parameters taken on each event's or each fixed date: the ``ASOF`` table's columns.
DATED = (
    "childbearing_age",
    "responsible_spouse",
    "feedback_days",
    "late_termination_weeks",
    "check_exempt_after_outcome_days",
    "compliance_penalties",
)
#: Weights, thresholds and penalties are computed exactly in millionths.
MICRO = 10**6
PEN_COLUMNS = {k: f"pen_{i}" for i, k in enumerate(COUNT_INDICATORS, start=5)}


def _d(day: dt.date) -> str:
    return f"DATE '{day.isoformat()}'"


def parse_period(text: str) -> tuple[str, int, int | None]:
    """``2024``, ``2024H1`` or ``2024H2`` as (label, year, half)."""
    m = re.fullmatch(r"\s*(\d{4})\s*(?:[-_ ]?[Hh]([12]))?\s*", str(text))
    if not m:
        raise ValueError(f"period {text!r}: give 2024, 2024H1 or 2024H2")
    year, half = int(m.group(1)), m.group(2)
    return (f"{year}H{half}" if half else str(year), year, int(half) if half else None)


def param_table(params) -> pd.DataFrame:
    """One row per date on which a dated parameter changes, with every dated value then."""
    since = sorted({d for n in DATED for d in params.change_dates(n)})
    rows = []
    for d in since:
        lo, hi = params.at("childbearing_age", d)
        pen = params.at("compliance_penalties", d)
        rows.append(
            {
                "since": pd.Timestamp(d),
                "cb_lo": int(lo),
                "cb_hi": int(hi),
                "wife_first": params.at("responsible_spouse", d) != "husband",
                "feedback_days": int(params.at("feedback_days", d)),
                "late_weeks": int(params.at("late_termination_weeks", d)),
                "exempt_days": int(params.at("check_exempt_after_outcome_days", d)),
                **{c: scaled(pen[k], MICRO, k) for k, c in PEN_COLUMNS.items()},
            }
        )
    return pd.DataFrame(rows)


VIEWS = {
    "units": "unit_id",
    "persons": "person_id, unit_id, category, CAST(birth_date AS DATE) AS birth_date, "
    "CAST(hire_date AS DATE) AS hire_date, CAST(leave_date AS DATE) AS leave_date",
    "couples": "couple_id, wife_id, husband_id, CAST(marriage_date AS DATE) AS marriage_date, "
    "CAST(divorce_date AS DATE) AS divorce_date",
    "children": "child_id, couple_id, CAST(birth_date AS DATE) AS birth_date",
    "permits": "permit_id, couple_id, CAST(issue_date AS DATE) AS issue_date, "
    "CAST(cancelled_date AS DATE) AS cancelled_date",
    "pregnancies": "pregnancy_id, couple_id, CAST(detected_date AS DATE) AS detected_date, "
    "outcome, CAST(outcome_date AS DATE) AS outcome_date, gestation_weeks, termination_reason, "
    "county_approved, designated_facility, child_id",
    "surveys": "survey_id, couple_id, kind, CAST(survey_date AS DATE) AS survey_date, "
    "problem_found, CAST(reported_date AS DATE) AS reported_date",
    "check_rounds": "round_id, CAST(start_date AS DATE) AS start_date, "
    "CAST(end_date AS DATE) AS end_date",
    "check_attendance": "round_id, person_id, CAST(attended_date AS DATE) AS attended_date",
    "contraception": "record_id, couple_id, person_id, method, "
    "CAST(start_date AS DATE) AS start_date, CAST(end_date AS DATE) AS end_date, "
    "CAST(falsified_found_date AS DATE) AS falsified_found_date",
}

MACROS = """
CREATE MACRO age_on(b, d) AS
    year(d) - year(b) - CASE WHEN month(d) < month(b) OR (month(d) = month(b) AND day(d) <
        CASE WHEN month(b) = 2 AND day(b) = 29
              AND NOT (year(d) % 4 = 0 AND (year(d) % 100 <> 0 OR year(d) % 400 = 0))
             THEN 28 ELSE day(b) END) THEN 1 ELSE 0 END;
CREATE MACRO staff_on(cat, unit, hire, leave_, d) AS
    cat = 'staff' AND unit IS NOT NULL AND hire <= d AND (leave_ IS NULL OR leave_ > d);
CREATE MACRO floating_on(cat, unit, hire, leave_, d) AS
    cat = 'floating' AND unit IS NOT NULL AND (hire IS NULL OR hire <= d)
    AND (leave_ IS NULL OR leave_ > d);
CREATE MACRO pick(wife_first, w, h) AS CASE WHEN wife_first THEN coalesce(w, h)
                                            ELSE coalesce(h, w) END;
"""

# Each couple with both spouses' person columns: the scope's one join.
COUPLE_PERSONS = """
CREATE TEMP TABLE cp AS
SELECT c.couple_id, c.wife_id, c.husband_id, c.marriage_date, c.divorce_date,
       w.birth_date AS w_birth, w.unit_id AS w_unit, w.category AS w_cat,
       w.hire_date AS w_hire, w.leave_date AS w_leave,
       h.unit_id AS h_unit, h.category AS h_cat, h.hire_date AS h_hire, h.leave_date AS h_leave
FROM couples c
LEFT JOIN persons w ON w.person_id = c.wife_id
LEFT JOIN persons h ON h.person_id = c.husband_id
"""

PT_COLUMNS = "cb_lo, cb_hi, wife_first, feedback_days, late_weeks, exempt_days, " + ", ".join(
    PEN_COLUMNS.values()
)


def scope(asks: str) -> str:
    """Each row of ``asks`` (``couple_id``, ``d``, ...) with its couple's scope on ``d`` (§2).

    Adds ``wife_id``, ``husband_id``, ``married``, ``childbearing``,
    ``unit_id`` (the responsible unit, NULL outside the bureau), ``basis``
    and the dated parameters in force on ``d``.
    """
    return f"""(
    WITH a AS ({asks}),
    dp AS (SELECT dd.d, {PT_COLUMNS}
           FROM (SELECT DISTINCT d FROM a WHERE d IS NOT NULL) dd ASOF JOIN pt ON dd.d >= pt.since),
    x AS (
        SELECT a.*, cp.wife_id, cp.husband_id,
               {", ".join("dp." + c.strip() for c in PT_COLUMNS.split(","))},
               coalesce(cp.marriage_date <= a.d
                        AND (cp.divorce_date IS NULL OR cp.divorce_date > a.d), false) AS married,
               coalesce(age_on(cp.w_birth, a.d) BETWEEN dp.cb_lo AND dp.cb_hi, false)
                   AS childbearing,
               CASE WHEN staff_on(cp.w_cat, cp.w_unit, cp.w_hire, cp.w_leave, a.d)
                    THEN cp.w_unit END AS ws,
               CASE WHEN staff_on(cp.h_cat, cp.h_unit, cp.h_hire, cp.h_leave, a.d)
                    THEN cp.h_unit END AS hs,
               CASE WHEN floating_on(cp.w_cat, cp.w_unit, cp.w_hire, cp.w_leave, a.d)
                    THEN cp.w_unit END AS wf,
               CASE WHEN floating_on(cp.h_cat, cp.h_unit, cp.h_hire, cp.h_leave, a.d)
                    THEN cp.h_unit END AS hf
        FROM a LEFT JOIN cp ON cp.couple_id = a.couple_id LEFT JOIN dp ON dp.d = a.d)
    SELECT x.* EXCLUDE (ws, hs, wf, hf),
           coalesce(pick(wife_first, ws, hs), pick(wife_first, wf, hf)) AS unit_id,
           CASE WHEN coalesce(ws, hs) IS NOT NULL THEN 'staff'
                WHEN coalesce(wf, hf) IS NOT NULL THEN 'floating' END AS basis
    FROM x)"""


# Births counted once (§3.8) and each permit's use and effective cancellation (§3.1, §4.2).
PERMITS = """
CREATE TEMP TABLE birth_events AS
WITH pb AS (
    SELECT p.pregnancy_id, p.couple_id, coalesce(p.outcome_date, k.birth_date) AS d,
           k.birth_date AS named_birth
    FROM pregnancies p LEFT JOIN children k ON k.child_id = p.child_id
    WHERE p.outcome = 'birth'),
births AS (
    SELECT * FROM pb WHERE d IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY couple_id, d ORDER BY pregnancy_id) = 1),
birth_keys AS (
    SELECT couple_id, d FROM births
    UNION SELECT couple_id, named_birth FROM births WHERE named_birth IS NOT NULL),
named AS (SELECT DISTINCT child_id FROM pregnancies
          WHERE outcome = 'birth' AND child_id IS NOT NULL),
lone AS (
    SELECT k.couple_id, k.birth_date AS d, min(k.child_id) AS event_id
    FROM children k
    WHERE k.birth_date IS NOT NULL AND k.couple_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM birth_keys b
                      WHERE b.couple_id = k.couple_id AND b.d = k.birth_date)
      AND k.child_id NOT IN (SELECT child_id FROM named)
    GROUP BY k.couple_id, k.birth_date)
SELECT pregnancy_id AS event_id, couple_id, d FROM births
UNION ALL SELECT event_id, couple_id, d FROM lone;

CREATE TEMP TABLE permit_status AS
WITH used AS (
    SELECT p.permit_id, min(b.d) AS used_on
    FROM permits p JOIN birth_events b ON b.couple_id = p.couple_id AND b.d >= p.issue_date
    GROUP BY p.permit_id),
base AS (SELECT p.*, u.used_on FROM permits p LEFT JOIN used u USING (permit_id)),
held_pairs AS (
    SELECT s.pregnancy_id, s.couple_id, s.outcome_date AS d, b.permit_id
    FROM pregnancies s JOIN base b ON b.couple_id = s.couple_id
    WHERE s.outcome = 'termination' AND s.outcome_date IS NOT NULL
      AND s.termination_reason = 'sex_selection'
      AND b.issue_date <= s.outcome_date
      AND (b.cancelled_date IS NULL OR b.cancelled_date > s.outcome_date)
      AND (b.used_on IS NULL OR b.used_on >= s.outcome_date)),
trig AS (
    SELECT DISTINCT couple_id, pregnancy_id, d FROM held_pairs
    QUALIFY row_number() OVER (PARTITION BY couple_id ORDER BY d, pregnancy_id) = 1),
held AS (SELECT DISTINCT h.permit_id FROM held_pairs h JOIN trig t USING (couple_id, pregnancy_id))
SELECT b.permit_id, b.couple_id, b.issue_date, b.used_on,
       least(b.cancelled_date,
             CASE WHEN b.issue_date > t.d THEN b.issue_date
                  WHEN h.permit_id IS NOT NULL THEN coalesce(b.cancelled_date, t.d) END)
           AS cancelled_on
FROM base b LEFT JOIN trig t ON t.couple_id = b.couple_id
LEFT JOIN held h ON h.permit_id = b.permit_id;
"""

VALID_PERMIT = """EXISTS (
    SELECT 1 FROM permit_status s
    WHERE s.couple_id = {ev}.couple_id AND s.issue_date <= {ev}.d
      AND (s.cancelled_on IS NULL OR s.cancelled_on > {ev}.d)
      AND (s.used_on IS NULL OR s.used_on >= {ev}.d))"""


def scorecard_sql(
    label: str, year: int, half: int | None, deadline: dt.date, weights: dict, thresholds: dict
) -> str:
    """The scorecard query of a period (tables ``cp``, ``pt``, ``sf``, ``permit_status`` made)."""
    start = dt.date(year, 7 if half == 2 else 1, 1)
    end = dt.date(year, 6, 30) if half == 1 else dt.date(year, 12, 31)
    halves = [(start, end)] if half else [(start, dt.date(year, 6, 30)), (dt.date(year, 7, 1), end)]
    with_c1 = half != 2
    ps, pe, jan1 = _d(start), _d(end), _d(dt.date(year, 1, 1))
    c2 = " UNION ALL ".join(
        f"""SELECT s.unit_id, count(*) AS den, count(f.couple_id) AS num
        FROM sf s LEFT JOIN (SELECT DISTINCT couple_id FROM surveys WHERE kind = 'followup'
                             AND survey_date BETWEEN {_d(a)} AND {_d(b)}) f USING (couple_id)
        WHERE s.d = {_d(a)} GROUP BY s.unit_id"""
        for a, b in halves
    )
    c1 = (
        f"""SELECT s.unit_id, count(*) AS den, count(b.couple_id) AS num
        FROM sf s LEFT JOIN (SELECT DISTINCT couple_id FROM surveys WHERE kind = 'baseline'
                             AND survey_date BETWEEN {jan1} AND {_d(deadline)}) b USING (couple_id)
        WHERE s.d = {jan1} AND s.basis = 'staff' GROUP BY s.unit_id"""
        if with_c1
        else "SELECT NULL::VARCHAR AS unit_id, 0 AS den, 0 AS num WHERE false"
    )
    events = scope(
        f"""
        SELECT 'falsifications' AS ind, couple_id, falsified_found_date AS d, true AS counted,
               false AS veto, NULL::BIGINT AS weeks
        FROM contraception WHERE falsified_found_date BETWEEN {ps} AND {pe}
        UNION ALL
        SELECT 'out_of_plan_births', e.couple_id, e.d, NOT {VALID_PERMIT.format(ev="e")}, true, NULL
        FROM birth_events e WHERE e.d BETWEEN {ps} AND {pe}
        UNION ALL
        SELECT 'pregnancies_without_permit', e.couple_id, e.d, NOT {VALID_PERMIT.format(ev="e")},
               false, NULL
        FROM (SELECT couple_id, detected_date AS d FROM pregnancies
              WHERE detected_date BETWEEN {ps} AND {pe}) e
        UNION ALL
        SELECT 'unapproved_late_terminations', couple_id, outcome_date,
               coalesce(termination_reason = 'sex_selection', false)
                   OR NOT (coalesce(county_approved, false)
                           AND coalesce(designated_facility, false)),
               coalesce(termination_reason = 'sex_selection', false), gestation_weeks
        FROM pregnancies
        WHERE outcome = 'termination' AND outcome_date BETWEEN {ps} AND {pe}"""
    )
    pen_case = " ".join(f"WHEN '{k}' THEN {c}" for k, c in PEN_COLUMNS.items())
    counts = ", ".join(
        f"count(*) FILTER (WHERE ind = '{k}' AND counted) AS k{i}"
        for i, k in enumerate(COUNT_INDICATORS, start=5)
    )
    a = {k: scaled(weights[k], MICRO, k) for k in RATE_INDICATORS}
    used = [i for i in (1, 2, 3, 4) if with_c1 or i != 1]
    total_a = sum(a[RATE_INDICATORS[i - 1]] for i in used)
    prod = " * ".join(f"f{i}d" for i in used)
    n_terms = " + ".join(
        f"{a[RATE_INDICATORS[i - 1]]}::HUGEINT * f{i}n"
        + "".join(f" * f{j}d" for j in used if j != i)
        for i in used
    )
    # rate part = 100 N / Y; raw = 100 N / Y - pen / 10^6; score x 100 = X / Z, rounded half up.
    # X is about 10^14 times the product of a unit's four denominators: within HUGEINT (10^38)
    # while that product stays under 10^23, e.g. four denominators of 100,000 each.
    n_expr, y_expr = (f"({n_terms})", f"({total_a}::HUGEINT * {prod})") if total_a else ("1", "1")
    exc = -((-scaled(thresholds["excellent"], MICRO, "excellent") * 100) // MICRO)
    pas = -((-scaled(thresholds["pass"], MICRO, "pass") * 100) // MICRO)
    rate = {
        i: f"CASE WHEN d{i} = 0 THEN 1.0 ELSE n{i}::DOUBLE / d{i} END AS {RATE_INDICATORS[i - 1]}"
        for i in (1, 2, 3, 4)
    }
    if not with_c1:
        rate[1] = f"NULL::DOUBLE AS {RATE_INDICATORS[0]}"
    fractions = ", ".join(
        f"CASE WHEN d{i} = 0 THEN 1 ELSE n{i} END::HUGEINT AS f{i}n, "
        f"greatest(d{i}, 1)::HUGEINT AS f{i}d"
        for i in (1, 2, 3, 4)
    )
    return f"""
WITH
c1 AS ({c1}),
c2 AS (SELECT unit_id, sum(den) AS den, sum(num) AS num FROM ({c2}) GROUP BY unit_id),
c3 AS (
    SELECT unit_id, count(*) AS den,
           count(*) FILTER (WHERE date_diff('day', d, reported_date)
                                  BETWEEN 0 AND feedback_days) AS num
    FROM {
        scope(f'''SELECT couple_id, survey_date AS d, reported_date FROM surveys
                    WHERE survey_date BETWEEN {ps} AND {pe} AND problem_found''')
    }
    WHERE unit_id IS NOT NULL GROUP BY unit_id),
w AS (
    SELECT r.round_id, r.start_date AS st, r.end_date AS en, s.couple_id, s.unit_id,
           s.wife_id, s.husband_id, s.exempt_days
    FROM check_rounds r JOIN sf s ON s.d = r.start_date
    WHERE r.start_date BETWEEN {ps} AND {pe}),
ster AS (
    SELECT person_id, start_date, end_date, falsified_found_date FROM contraception
    WHERE method IN ('female_sterilization', 'male_sterilization')),
w_st AS (
    SELECT w.round_id, w.couple_id FROM w JOIN ster c ON c.person_id = w.wife_id
    WHERE c.start_date <= w.st AND (c.end_date IS NULL OR c.end_date > w.st)
      AND (c.falsified_found_date IS NULL OR c.falsified_found_date > w.st)
    UNION
    SELECT w.round_id, w.couple_id FROM w JOIN ster c ON c.person_id = w.husband_id
    WHERE c.start_date <= w.st AND (c.end_date IS NULL OR c.end_date > w.st)
      AND (c.falsified_found_date IS NULL OR c.falsified_found_date > w.st)),
w_pr AS (
    SELECT DISTINCT w.round_id, w.couple_id FROM w JOIN pregnancies p ON p.couple_id = w.couple_id
    WHERE coalesce(p.detected_date <= w.st AND (p.outcome_date IS NULL OR p.outcome_date >= w.st),
                   false)
       OR coalesce(date_diff('day', p.outcome_date, w.st) BETWEEN 0 AND w.exempt_days, false)),
w_at AS (
    SELECT DISTINCT w.round_id, w.couple_id FROM w
    JOIN check_attendance a ON a.round_id = w.round_id AND a.person_id = w.wife_id
    WHERE a.attended_date BETWEEN w.st AND w.en),
c4 AS (
    SELECT w.unit_id,
           count(*) FILTER (WHERE st.couple_id IS NULL AND pr.couple_id IS NULL) AS den,
           count(*) FILTER (WHERE st.couple_id IS NULL AND pr.couple_id IS NULL
                            AND wa.couple_id IS NOT NULL) AS num
    FROM w LEFT JOIN w_st st USING (round_id, couple_id)
    LEFT JOIN w_pr pr USING (round_id, couple_id)
    LEFT JOIN w_at wa USING (round_id, couple_id)
    GROUP BY w.unit_id),
ev AS (
    SELECT unit_id, {counts},
           sum(CASE WHEN counted THEN CASE ind {pen_case} END ELSE 0 END) AS pen,
           bool_or(veto AND counted) AS veto
    FROM {events}
    WHERE unit_id IS NOT NULL
      AND (ind <> 'unapproved_late_terminations' OR coalesce(weeks >= late_weeks, false))
    GROUP BY unit_id),
all_units AS (
    SELECT unit_id FROM units WHERE unit_id IS NOT NULL
    UNION SELECT unit_id FROM c1 UNION SELECT unit_id FROM c2 UNION SELECT unit_id FROM c3
    UNION SELECT unit_id FROM c4 UNION SELECT unit_id FROM ev),
wide AS (
    SELECT u.unit_id,
           coalesce(c1.num, 0) AS n1, coalesce(c1.den, 0) AS d1,
           coalesce(c2.num, 0) AS n2, coalesce(c2.den, 0) AS d2,
           coalesce(c3.num, 0) AS n3, coalesce(c3.den, 0) AS d3,
           coalesce(c4.num, 0) AS n4, coalesce(c4.den, 0) AS d4,
           {", ".join(f"coalesce(ev.k{i}, 0) AS k{i}" for i in (5, 6, 7, 8))},
           coalesce(ev.pen, 0)::HUGEINT AS pen, coalesce(ev.veto, false) AS veto
    FROM all_units u LEFT JOIN c1 USING (unit_id) LEFT JOIN c2 USING (unit_id)
    LEFT JOIN c3 USING (unit_id) LEFT JOIN c4 USING (unit_id) LEFT JOIN ev USING (unit_id)),
fr AS (SELECT *, {fractions} FROM wide),
xz AS (SELECT *, {MICRO}::HUGEINT * 100 * {n_expr} - pen * {y_expr} AS x,
              10000::HUGEINT * {y_expr} AS z FROM fr),
sc AS (SELECT *, CASE WHEN x <= 0 THEN 0 ELSE (2 * x + z) // (2 * z) END AS score100 FROM xz)
SELECT unit_id, {sql_text(label)} AS period,
       {", ".join(rate[i] for i in (1, 2, 3, 4))},
       {", ".join(f"k{i} AS {k}" for i, k in enumerate(COUNT_INDICATORS, start=5))},
       score100::DOUBLE / 100 AS score,
       CASE WHEN veto THEN 'fail' WHEN score100 >= {exc} THEN 'excellent'
            WHEN score100 >= {pas} THEN 'pass' ELSE 'fail' END AS grade,
       veto
FROM sc ORDER BY unit_id"""


def _scorecard_query(con, params, period: str) -> tuple[str, str]:
    """The period's working tables made on ``con`` (its views in place): (label, scorecard SQL)."""
    label, year, half = parse_period(period)
    jan1 = dt.date(year, 1, 1)
    mm, dd = (int(x) for x in params.at("baseline_deadline", jan1).split("-"))
    deadline = dt.date(year, mm, dd)
    end = dt.date(year, 6, 30) if half == 1 else dt.date(year, 12, 31)
    start = dt.date(year, 7 if half == 2 else 1, 1)
    con.execute(MACROS)
    con.register("pt_frame", param_table(params))
    con.execute(
        f"CREATE TEMP TABLE pt AS SELECT CAST(since AS DATE) AS since, {PT_COLUMNS} FROM pt_frame"
    )
    con.execute(COUPLE_PERSONS)
    fixed = {jan1} if half != 2 else set()
    fixed |= {start} if half else {jan1, dt.date(year, 7, 1)}
    dates = ", ".join(f"({_d(x)})" for x in sorted(fixed))
    # Couples in scope on every fixed date of the period at once (C1, C2, C4).
    con.execute(
        f"""CREATE TEMP TABLE sf AS
        SELECT couple_id, d, unit_id, basis, wife_id, husband_id, exempt_days
        FROM {
            scope(f'''SELECT cp.couple_id, f.d FROM cp CROSS JOIN (
                SELECT * FROM (VALUES {dates}) v(d)
                UNION SELECT start_date FROM check_rounds
                WHERE start_date BETWEEN {_d(start)} AND {_d(end)}) f''')
        }
        WHERE married AND childbearing AND unit_id IS NOT NULL"""
    )
    con.execute(PERMITS)
    sql = scorecard_sql(
        label,
        year,
        half,
        deadline,
        params.at("compliance_weights", end),
        params.at("grade_thresholds", end),
    )
    return label, sql


def run(
    dataset: Path,
    out: Path,
    period: str | None = None,
    *,
    params=None,
    threads: int | None = None,
) -> dict:
    """Compute the scorecard of ``period`` (default: the latest complete year) into ``out``."""
    from fpanalysis.core.params import load_params

    params = params or load_params()
    t0 = time.perf_counter()
    con = connect(threads)
    views_from_parquet(con, dataset, VIEWS)
    if period is None:
        last = con.execute(last_recorded_sql(dataset, RECORDED_TABLES)).fetchone()[0]
        period = str(last.year if (last.month, last.day) == (12, 31) else last.year - 1)
    label, sql = _scorecard_query(con, params, period)
    con.execute(f"COPY ({sql}) TO {sql_text(out)} (FORMAT parquet)")
    units = con.execute(f"SELECT count(*) FROM read_parquet({sql_text(out)})").fetchone()[0]
    return {"period": label, "units": int(units), "total_s": time.perf_counter() - t0}


def run_frames(
    tables: dict[str, pd.DataFrame], params, period: str, *, threads: int = 2
) -> tuple[float, pd.DataFrame]:
    """The same query on in-memory frames (``tables``: the typed frames an engine reads).

    Each frame is registered with DuckDB (``{table}_frame``) and viewed with
    the Parquet views' columns and casts. Returns (seconds of the query work
    after registering: the views, the macros, the working tables and the
    scorecard fetched as a frame; the scorecard).
    """
    con = connect(threads)
    register_frames(con, tables, VIEWS)
    t0 = time.perf_counter()
    views_from_frames(con, VIEWS)
    _, sql = _scorecard_query(con, params, period)
    card = con.execute(sql).df()
    return time.perf_counter() - t0, card


def compare_frames(a: pd.DataFrame, b: pd.DataFrame) -> tuple[bool, str]:
    """Whether two scorecards agree: same units in order, counts, rates, score to the cent.

    The frames may differ in dtypes (DuckDB's, the pandas engine's). Returns
    ``(equal, what differs)``.
    """
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    if list(a["unit_id"]) != list(b["unit_id"]):
        return False, f"units differ: {len(a)} against {len(b)} rows"
    if set(a["period"].astype(str)) != set(b["period"].astype(str)):
        return False, "periods differ"
    bad = []
    for k in RATE_INDICATORS:
        x, y = a[k].astype("float64"), b[k].astype("float64")
        same = (x.isna() & y.isna()) | ((x - y).abs() <= 1e-12)
        if not same.all():
            bad.append(f"{k} ({int((~same).sum())} units)")
    for k in COUNT_INDICATORS:
        if not (a[k].astype("int64").to_numpy() == b[k].astype("int64").to_numpy()).all():
            bad.append(k)
    cents = ((a["score"] * 100).round() != (b["score"] * 100).round()).sum()
    if cents:
        bad.append(f"score ({int(cents)} units)")
    for k in ("grade", "veto"):
        if list(a[k].astype(str)) != list(b[k].astype(str)):
            bad.append(k)
    return (not bad), ("equal" if not bad else "differ: " + ", ".join(bad))


def compare(ours: Path, theirs: Path) -> tuple[bool, str]:
    """Whether two scorecard files agree (:func:`compare_frames`).

    ``theirs`` is ``fpanalysis compliance --lang en``'s output. Returns
    ``(equal, what differs)``.
    """
    return compare_frames(pd.read_parquet(ours), pd.read_parquet(theirs))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path, help="folder of Parquet tables")
    ap.add_argument("--period", help="2024, 2024H1 or 2024H2 (default: latest complete year)")
    ap.add_argument("--out", type=Path, required=True, help="the scorecard (.parquet)")
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all)")
    args = ap.parse_args(argv)
    res = run(args.dataset, args.out, args.period, threads=args.threads)
    print(f"period {res['period']}: {res['units']} units in {res['total_s']:.2f} s; {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
