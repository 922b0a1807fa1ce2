"""A partition's births and what goes with them: children, birth permits, pregnancies since
the register's start, contraception and only-child certificates (rulebook §3, §5)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from fpanalysis.synth.common import BOY_SHARE, END_DAY, NEVER, START_DAY, Y, day_of, uniform_int
from fpanalysis.synth.scale.columns import Couples, arrow_table, date_array, part_ids

_D2004 = day_of("2004-01-01")


def birth_tables(
    rng: np.random.Generator, couples: Couples, certificates_per_couple: float | None
) -> tuple[dict[str, pa.Table], tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """The children, permits, pregnancies, contraception and certificates of ``couples``.

    ``certificates_per_couple``: ``None`` for realistic shapes, else every
    couple has that many children (on average) born since 2004, each with a
    certificate (``docs/synth.md``).

    Returns:
        the tables; the pregnancies as (couple, detected day, last day: the
        outcome, or never for an ongoing one); each couple's first day
        sterilised (never when not).
    """
    k, C = couples.part, len(couples)
    couple_ids, person_ids = couples.ids, couples.person_ids
    w_birth, marriage, divorce = couples.wife_birth, couples.marriage, couples.divorce
    staff_couple, anchor_wife = couples.staff, couples.anchor_wife
    out: dict[str, pa.Table] = {}

    # ---- children: wanted 0-3 (8/50/37/5%), first 1-3 years after marriage, 2-5 years apart
    end_of_union = np.minimum(divorce, END_DAY)
    if certificates_per_couple is None:
        wanted = np.searchsorted(np.cumsum([0.08, 0.50, 0.37, 0.05]), rng.random(C), side="right")
        wanted = np.minimum(wanted, 3)
        first = marriage + uniform_int(rng, 300, 1100, C)
        gaps = uniform_int(rng, 700, 1800, (2, C))
        bdays = np.vstack([first, first + gaps[0], first + gaps[0] + gaps[1]])
        k_max = 3
        fertile_end = w_birth + int(45 * Y)
        born_mask = (np.arange(k_max)[:, None] < wanted) & (
            bdays <= np.minimum(end_of_union, fertile_end)
        )
        born_mask &= bdays <= END_DAY - 1
    else:
        x = float(certificates_per_couple)
        kc = np.floor(x).astype("int64") + (rng.random(C) < (x - np.floor(x)))
        k_max = int(kc.max()) if C else 0
        lo = np.maximum(marriage, _D2004) + 280
        span = np.maximum(END_DAY - 60 - lo, 0)
        bdays = np.sort(lo + (rng.random((max(k_max, 1), C)) * span).astype("int64"), axis=0)[
            :k_max
        ]
        wanted = kc
        born_mask = (np.arange(k_max)[:, None] < kc) & (span > 0)
    # conceived but not yet born by the extract date: an ongoing pregnancy
    next_child = np.where(born_mask, 0, 1).argmax(axis=0) if k_max else np.zeros(C, "int64")
    n_born = born_mask.sum(axis=0)
    ordr, cidx = np.nonzero(born_mask)
    o = np.lexsort((ordr, cidx))
    ordr, cidx = ordr[o], cidx[o]
    cbirth = bdays[ordr, cidx]
    csex_f = rng.random(cidx.size) >= BOY_SHARE
    NC = cidx.size
    child_ids = part_ids("K", k, NC)
    out["children"] = arrow_table(
        "children",
        {
            "child_id": child_ids,
            "couple_id": couple_ids.take(pa.array(cidx)),
            "birth_date": date_array(cbirth),
            "sex": pa.array(np.where(csex_f, "F", "M")),
        },
    )

    # ---- permits: 93% issued before conception, 3% during the pregnancy, 4% none
    conception = cbirth - 270
    r = rng.random(NC)
    has_permit = r < 0.96
    issue = np.where(
        r < 0.93,
        conception - uniform_int(rng, 30, 365, NC),
        conception + uniform_int(rng, 30, 150, NC),
    )
    p_idx = np.flatnonzero(has_permit)
    # ongoing pregnancies (conceived by the extract date, due after it)
    due = (
        bdays[np.minimum(next_child, max(k_max - 1, 0)), np.arange(C)]
        if k_max
        else np.full(C, NEVER)
    )
    ongoing_c = (
        (n_born < wanted) & (due > END_DAY) & (due - 270 + 56 <= END_DAY) & (due - 270 >= marriage)
    )
    ongoing_c &= divorce > END_DAY
    og = np.flatnonzero(ongoing_c)
    og_detect = due[og] - 270 + uniform_int(rng, 42, 70, og.size)
    og_detect = np.minimum(og_detect, END_DAY)
    og_permit = rng.random(og.size) < 0.93
    permit_couple = np.r_[cidx[p_idx], og[og_permit]]
    permit_issue = np.r_[
        issue[p_idx], due[og[og_permit]] - 270 - uniform_int(rng, 30, 365, int(og_permit.sum()))
    ]
    o = np.lexsort((permit_issue, permit_couple))
    permit_couple, permit_issue = permit_couple[o], permit_issue[o]
    out["permits"] = arrow_table(
        "permits",
        {
            "permit_id": part_ids("SYZ", k, permit_couple.size),
            "couple_id": couple_ids.take(pa.array(permit_couple)),
            "issue_date": date_array(permit_issue),
        },
    )

    # ---- pregnancies since the register's start: births (92% recorded), ongoing, miscarriages,
    # terminations (medical mostly late and approved, other early, a few for sex selection)
    rec = (cbirth - 250 >= START_DAY) & (rng.random(NC) < 0.92)
    b_idx = np.flatnonzero(rec)
    b_det = cbirth[b_idx] - uniform_int(rng, 200, 245, b_idx.size)
    b_weeks = uniform_int(rng, 37, 41, b_idx.size)
    mis_c = b_idx[rng.random(b_idx.size) < 0.11]
    mis_det = cbirth[mis_c] - 280 - uniform_int(rng, 120, 400, mis_c.size)
    ok = (mis_det >= START_DAY) & (mis_det > marriage[cidx[mis_c]])
    mis_c, mis_det = mis_c[ok], mis_det[ok]
    mis_out = mis_det + uniform_int(rng, 20, 60, mis_c.size)
    t_c = np.flatnonzero(
        (rng.random(C) < 0.05) & (divorce > END_DAY) & (w_birth + int(45 * Y) > START_DAY + 400)
    )
    t_det = np.maximum(np.maximum(marriage[t_c], START_DAY), w_birth[t_c] + int(20 * Y))
    t_det = t_det + (
        (np.minimum(END_DAY - 120, w_birth[t_c] + int(45 * Y)) - t_det).clip(0)
        * rng.random(t_c.size)
    ).astype("int64")
    rt = rng.random(t_c.size)
    t_reason = np.where(
        rt < 0.55, 0, np.where(rt < 0.95, 2, 1)
    )  # 0 medical 1 sex_selection 2 other
    t_weeks = np.select(
        [t_reason == 0, t_reason == 1],
        [uniform_int(rng, 16, 27, t_c.size), uniform_int(rng, 14, 20, t_c.size)],
        uniform_int(rng, 6, 12, t_c.size),
    )
    t_out = t_det + (t_weeks - 5).clip(1) * 7 - uniform_int(rng, 0, 20, t_c.size)
    t_out = np.maximum(t_out, t_det)
    t_approved = np.where(t_reason == 0, rng.random(t_c.size) < 0.9, False)
    t_facility = np.where(t_reason == 1, rng.random(t_c.size) < 0.3, rng.random(t_c.size) < 0.95)
    og_rec = og_detect >= START_DAY
    g_couple = np.r_[cidx[b_idx], og[og_rec], cidx[mis_c], t_c]
    g_det = np.r_[b_det, og_detect[og_rec], mis_det, t_det]
    g_kind = np.r_[
        np.full(b_idx.size, 1),
        np.full(int(og_rec.sum()), 0),
        np.full(mis_c.size, 3),
        np.full(t_c.size, 2),
    ]
    g_out = np.r_[cbirth[b_idx], np.full(int(og_rec.sum()), NEVER), mis_out, t_out]
    g_weeks = np.r_[
        b_weeks, np.zeros(int(og_rec.sum()), "int64"), uniform_int(rng, 6, 14, mis_c.size), t_weeks
    ]
    g_child = np.r_[b_idx, np.full(int(og_rec.sum()) + mis_c.size + t_c.size, -1)]
    g_reason = np.r_[np.full(b_idx.size + int(og_rec.sum()) + mis_c.size, -1), t_reason]
    g_appr = np.r_[np.zeros(b_idx.size + int(og_rec.sum()) + mis_c.size, bool), t_approved]
    g_fac = np.r_[np.zeros(b_idx.size + int(og_rec.sum()) + mis_c.size, bool), t_facility]
    o = np.lexsort((g_det, g_couple))
    g_couple, g_det, g_kind, g_out, g_weeks, g_child, g_reason, g_appr, g_fac = (
        a[o] for a in (g_couple, g_det, g_kind, g_out, g_weeks, g_child, g_reason, g_appr, g_fac)
    )
    is_term = g_kind == 2
    out["pregnancies"] = arrow_table(
        "pregnancies",
        {
            "pregnancy_id": part_ids("G", k, g_couple.size),
            "couple_id": couple_ids.take(pa.array(g_couple)),
            "detected_date": date_array(g_det),
            "outcome": pa.array(["ongoing", "birth", "termination", "miscarriage"]).take(
                pa.array(g_kind)
            ),
            "outcome_date": date_array(g_out, g_kind != 0),
            "gestation_weeks": pa.array(g_weeks, mask=g_kind == 0),
            "termination_reason": pa.array(["medical", "sex_selection", "other"]).take(
                pa.array(np.maximum(g_reason, 0), mask=~is_term)
            ),
            "county_approved": pa.array(g_appr, mask=~is_term),
            "designated_facility": pa.array(g_fac, mask=~is_term),
            "child_id": child_ids.take(pa.array(np.maximum(g_child, 0), mask=g_child < 0)),
        },
    )

    # ---- contraception: spacing after 60% of births that are not the last; after the last,
    # sterilisation (45%; female 85%) or an IUD (45%); 2% found falsified
    last_birth = ordr == (n_born[cidx] - 1)
    nxt = np.where(~last_birth, np.r_[cbirth[1:], NEVER] - 270, NEVER)
    st = cbirth + uniform_int(rng, 42, 120, NC)
    rr = rng.random(NC)
    spacing = ~last_birth & (rr < 0.6) & (nxt - 30 > st)
    ster = last_birth & (rr < 0.45)
    iud_last = last_birth & (rr >= 0.45) & (rr < 0.90)
    take = (spacing | ster | iud_last) & (st <= END_DAY)
    r2 = rng.random(NC)
    method = np.select(
        [spacing & (r2 < 0.70), spacing & (r2 < 0.85), spacing, ster & (r2 < 0.85), ster],
        [0, 3, 4, 1, 2],
        0,
    )  # 0 iud 1 female_sterilization 2 male_sterilization 3 implant 4 other
    c_end = np.where(spacing, nxt - uniform_int(rng, 0, 30, NC), NEVER)
    c_end = np.where(c_end > END_DAY, NEVER, c_end)
    fals = take & np.isin(method, [0, 1, 2]) & (rng.random(NC) < 0.02)
    fdate = st + ((np.minimum(c_end, END_DAY) - st).clip(0) * rng.random(NC)).astype("int64")
    fals &= fdate <= END_DAY
    ti = np.flatnonzero(take)
    c_cpl = cidx[ti]
    user = np.where(method[ti] == 2, C + c_cpl, c_cpl)
    out["contraception"] = arrow_table(
        "contraception",
        {
            "record_id": part_ids("J", k, ti.size),
            "couple_id": couple_ids.take(pa.array(c_cpl)),
            "person_id": person_ids.take(pa.array(user)),
            "method": pa.array(
                ["iud", "female_sterilization", "male_sterilization", "implant", "other"]
            ).take(pa.array(method[ti])),
            "start_date": date_array(st[ti]),
            "end_date": date_array(c_end[ti], c_end[ti] != NEVER),
            "falsified_found_date": date_array(fdate[ti], fals[ti]),
        },
    )
    sterilised_from = np.full(C, NEVER)
    s_i = ti[np.isin(method[ti], [1, 2])]
    np.minimum.at(sterilised_from, cidx[s_i], st[s_i])

    # ---- certificates: couples with one wanted child born since 2004 (staff 85%, floating 30%;
    # a fifth of that for couples who go on to a second), 1-48 months after the birth; revoked
    # within 3 months of a second birth. Heavy mode: every child born since 2004 has one.
    first_child = ordr == 0
    if certificates_per_couple is None:
        p_take = np.where(staff_couple[cidx], 0.85, 0.30) * np.where(wanted[cidx] == 1, 1.0, 0.2)
        cert = first_child & (cbirth >= _D2004) & (rng.random(NC) < p_take)
    else:
        cert = cbirth >= _D2004
    months = np.clip(np.round(rng.lognormal(np.log(6), 0.8, NC)), 1, 48).astype("int64")
    c_issue = cbirth + (months * 30.44).astype("int64")
    if certificates_per_couple is not None:
        c_issue = np.minimum(c_issue, END_DAY)  # heavy mode: every child born since 2004 has one
    cert &= c_issue <= END_DAY
    ce = np.flatnonzero(cert)
    ce_c = cidx[ce]
    second = np.full(C, NEVER)
    sec_i = np.flatnonzero(ordr == 1)
    second[cidx[sec_i]] = cbirth[sec_i]
    if certificates_per_couple is None:
        rev = second[ce_c] + uniform_int(rng, 0, 90, ce.size)
        revoked = (second[ce_c] != NEVER) & (rev <= END_DAY) & (rev >= c_issue[ce])
    else:
        rev = np.zeros(ce.size, "int64")
        revoked = np.zeros(ce.size, bool)
    payee_anchor = rng.random(ce.size) < 0.97
    payee_is_wife = np.where(payee_anchor, anchor_wife[ce_c], ~anchor_wife[ce_c])
    payee = np.where(payee_is_wife, ce_c, C + ce_c)
    out["certificates"] = arrow_table(
        "certificates",
        {
            "cert_id": part_ids("GRZ", k, ce.size),
            "couple_id": couple_ids.take(pa.array(ce_c)),
            "child_id": child_ids.take(pa.array(ce)),
            "issue_date": date_array(c_issue[ce]),
            "payee_id": person_ids.take(pa.array(payee)),
            "revoked_date": date_array(rev, revoked),
        },
    )

    return out, (g_couple, g_det, np.where(g_kind == 0, NEVER, g_out)), sterilised_from
