"""A partition's surveys and check-round attendance, drawn on the county's schedule: a
baseline a year, a follow-up a half-year, two check rounds a year (rulebook §3 C1–C4)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from fpanalysis.synth.common import END, END_DAY, NEVER, START, day_of, uniform_int
from fpanalysis.synth.events import draw_check_rounds
from fpanalysis.synth.scale.columns import Couples, arrow_table, date_array, part_ids


def check_rounds(seed: int) -> tuple[pa.Table, list[str], np.ndarray, np.ndarray]:
    """The county's check rounds for ``seed``: (table, ids, start days, end days)."""
    rounds = draw_check_rounds(np.random.default_rng(np.random.SeedSequence([seed, 1])))
    ids = rounds["round_id"].tolist()
    s = rounds["start"].to_numpy(dtype="int64")
    e = rounds["end"].to_numpy(dtype="int64")
    tab = arrow_table(
        "check_rounds",
        {"round_id": pa.array(ids), "start_date": date_array(s), "end_date": date_array(e)},
    )
    return tab, ids, s, e


def survey_table(rng_sv: np.random.Generator, couples: Couples) -> pa.Table:
    """A baseline each year (staff couples) and a follow-up each half-year, some late or missed."""
    k, U = couples.part, len(couples.unit_ids)
    couple_ids, unit_ids = couples.ids, couples.unit_ids
    staff_couple, anchor_unit, dil = couples.staff, couples.anchor_unit, couples.diligence
    responsible, childbearing = couples.responsible, couples.childbearing
    sv_c, sv_unit, sv_kind, sv_day, sv_prob, sv_rep = [], [], [], [], [], []
    for year in range(START.year, END.year + 1):
        y0 = day_of(f"{year}-01-01")
        h2 = day_of(f"{year}-07-01")
        y1 = day_of(f"{year}-12-31")
        # (kind 0 baseline / 1 follow-up, window start, window end): the baseline's
        # window is the first quarter, a follow-up's its half-year
        waves = [(0, y0, y0 + 89), (1, y0, h2 - 1), (1, h2, y1)]
        for kind, d0, d1 in waves:
            if d0 > END_DAY:
                continue
            need = responsible(d0) & childbearing(d0)
            if kind == 0:
                need &= staff_couple
            ci = np.flatnonzero(need)
            m = ci.size
            if not m:
                continue
            fl = ~staff_couple[ci]
            base_miss = np.where(kind == 0, 0.05, np.where(fl, 0.12, 0.06))
            miss = np.minimum(base_miss * dil[ci], 0.6)
            late_p = np.where(kind == 0, 0.05, 0.04)
            r = rng_sv.random(m)
            in_window = d0 + np.floor(rng_sv.random(m) * (d1 - d0 + 1)).astype("int64")
            late = np.where(
                kind == 0, d1 + uniform_int(rng_sv, 1, 60, m), d1 + uniform_int(rng_sv, 1, 45, m)
            )
            day = np.where(r < late_p, late, in_window)
            keep = (r >= late_p + miss) | (r < late_p)
            keep &= day <= END_DAY
            ci, day, fl = ci[keep], day[keep], fl[keep]
            m = ci.size
            prob = rng_sv.random(m) < np.where(fl, 0.10, 0.06)
            rr = rng_sv.random(m)
            rep = np.where(
                rr < 0.82, day + uniform_int(rng_sv, 0, 15, m), day + uniform_int(rng_sv, 16, 60, m)
            )
            rep = np.where(prob & (rr < 0.92) & (rep <= END_DAY), rep, NEVER)
            su = np.where(rng_sv.random(m) < 0.04, rng_sv.integers(0, U, m), anchor_unit[ci])
            sv_c.append(ci)
            sv_unit.append(su)
            sv_kind.append(np.full(m, kind))
            sv_day.append(day)
            sv_prob.append(prob)
            sv_rep.append(rep)
    if sv_c:
        sv = [np.concatenate(a) for a in (sv_c, sv_unit, sv_kind, sv_day, sv_prob, sv_rep)]
    else:
        sv = [np.zeros(0, "int64")] * 6
    o = np.lexsort((sv[2], sv[3], sv[0]))
    sv = [a[o] for a in sv]
    return arrow_table(
        "surveys",
        {
            "survey_id": part_ids("S", k, sv[0].size),
            "couple_id": couple_ids.take(pa.array(sv[0])),
            "unit_id": unit_ids.take(pa.array(sv[1])),
            "kind": pa.array(["baseline", "followup"]).take(pa.array(sv[2])),
            "survey_date": date_array(sv[3]),
            "problem_found": pa.array(sv[4].astype(bool)),
            "reported_date": date_array(sv[5], sv[5] != NEVER),
        },
    )


def attendance_table(
    rng_at: np.random.Generator,
    couples: Couples,
    rounds: tuple[list[str], np.ndarray, np.ndarray],
    pregnant: tuple[np.ndarray, np.ndarray, np.ndarray],
    sterilised_from: np.ndarray,
) -> pa.Table:
    """Required women attend each round in its window (by unit diligence), 2% late.

    ``pregnant``: (couple, detected day, last day) of each pregnancy: a woman
    pregnant or within 30 days of the outcome is not required.
    """
    rids, rs, re_ = rounds
    person_ids, dil = couples.person_ids, couples.diligence
    responsible, childbearing = couples.responsible, couples.childbearing
    g_couple, preg_start, preg_end = pregnant
    at_round, at_c, at_day = [], [], []
    for ri, (s, e) in enumerate(zip(rs.tolist(), re_.tolist(), strict=True)):
        need = responsible(s) & childbearing(s) & (sterilised_from > s)
        busy = g_couple[(preg_start <= s) & (preg_end + 30 >= s)]
        need[busy] = False
        ci = np.flatnonzero(need)
        m = ci.size
        miss = np.minimum(0.05 * dil[ci], 0.5)
        r = rng_at.random(m)
        day = np.where(
            r < 0.02,
            e + uniform_int(rng_at, 1, 20, m),
            s + np.floor(rng_at.random(m) * (e - s + 1)).astype("int64"),
        )
        keep = ((r >= 0.02 + miss) | (r < 0.02)) & (day <= END_DAY)
        at_round.append(np.full(int(keep.sum()), ri))
        at_c.append(ci[keep])
        at_day.append(day[keep])
    at_r = np.concatenate(at_round) if at_round else np.zeros(0, "int64")
    at_cc = np.concatenate(at_c) if at_c else np.zeros(0, "int64")
    at_d = np.concatenate(at_day) if at_day else np.zeros(0, "int64")
    round_ids = pa.array(list(rids), type=pa.string())
    return arrow_table(
        "check_attendance",
        {
            "round_id": round_ids.take(pa.array(at_r)),
            "person_id": person_ids.take(pa.array(at_cc)),
            "attended_date": date_array(at_d),
        },
    )
