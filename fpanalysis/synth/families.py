"""Each couple's reproductive history: pregnancies from marriage on with their outcomes, the
children, the birth permits, and the only-child certificates (rulebook §3 C6/C7, §4, §5)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fpanalysis.synth.common import (
    END_DAY,
    NEVER,
    Y,
    couple_ix,
    day_of,
    uniform_int,
)

_TERM_WEEKS = {  # (share at or after 16 weeks, early range, late range) by termination reason
    "medical": (0.7, (8, 15), (16, 28)),
    "other": (0.1, (6, 12), (16, 24)),
    "sex_selection": (1.0, (14, 15), (14, 26)),
    "unknown": (0.3, (8, 15), (16, 20)),
}


PREG_DTYPES = {
    "c": "int64",
    "conception": "int64",
    "detected": "int64",
    "out_day": "int64",
    "weeks": "int64",
    "approved": "float64",
    "designated": "float64",
    "planned": "bool",
    "permit": "int64",
}
KID_DTYPES = {"c": "int64", "birth": "int64", "twin": "bool"}
PERMIT_DTYPES = {"pid": "int64", "c": "int64", "issue": "int64", "used_day": "int64"}
CONTRA_DTYPES = {"c": "int64", "start": "int64", "end": "int64", "falsified": "int64"}


def simulate_reproduction(rng, couples: pd.DataFrame):
    """Simulate each couple's pregnancies from marriage on, vectorised over couples.

    Returns (pregnancies, children, permits) as frames of all events, before
    the register's start too; the caller keeps what the register holds.
    """
    n = len(couples)
    scripted = couples["scripted"].to_numpy()
    marriage = couples["marriage"].to_numpy()
    target = rng.choice(4, size=n, p=[0.08, 0.50, 0.37, 0.05])
    target[scripted] = 1
    wants_unplanned = (rng.random(n) < 0.12) & ~scripted
    cap = np.minimum(
        couples["wife_birth"].to_numpy() + int(44 * Y), couples["divorce"].to_numpy() - 30
    )
    t = marriage + uniform_int(rng, 30, 900, n)
    t[scripted] = marriage[scripted] + uniform_int(rng, 100, 700, int(scripted.sum()))
    births = np.zeros(n, dtype=int)
    active = np.ones(n, dtype=bool)
    attempt_permit = np.full(n, -1)
    attempt_open = np.zeros(n, dtype=bool)
    unplanned_done = scripted.copy()
    last_outcome = marriage.copy()

    preg, kids, permits = [], [], []
    n_permits = 0
    for _step in range(10):
        planned = active & (births < target)
        unpl = active & ~planned & ~unplanned_done & wants_unplanned
        active &= planned | unpl
        conception = np.where(unpl, last_outcome + (rng.uniform(1, 8, n) * Y).astype("int64"), t)
        going = active & (conception <= cap)
        active &= going
        if not going.any():
            break
        lmp = conception - 14
        # permit for a new planned attempt: before conception (93%), during pregnancy (3%),
        # none (4%)
        new_att = going & planned & ~attempt_open
        r_permit = rng.random(n)
        early_issue = np.maximum(conception - uniform_int(rng, 20, 300, n), marriage + 7)
        early_issue = np.minimum(early_issue, conception - 1)

        r = rng.random(n)
        outcome = np.where(
            planned,
            np.where(r < 0.84, "birth", np.where(r < 0.95, "miscarriage", "termination")),
            np.where(r < 0.75, "termination", "birth"),
        )
        outcome = np.where(scripted, "birth", outcome)
        rr = rng.random(n)
        reason = np.where(
            planned,
            np.select(
                [rr < 0.6, rr < 0.85, rr < 0.95], ["medical", "other", "sex_selection"], "unknown"
            ),
            np.where(rr < 0.85, "other", "unknown"),
        )
        reason = np.where(outcome == "termination", reason, None)
        weeks = np.where(
            rng.random(n) < 0.95, uniform_int(rng, 37, 41, n), uniform_int(rng, 33, 36, n)
        )
        mis_weeks = np.where(
            rng.random(n) < 0.8, uniform_int(rng, 7, 12, n), uniform_int(rng, 13, 22, n)
        )
        weeks = np.where(outcome == "miscarriage", mis_weeks, weeks)
        r_late = rng.random(n)
        for why, (late_share, (e0, e1), (l0, l1)) in _TERM_WEEKS.items():
            w = np.where(
                r_late < late_share, uniform_int(rng, l0, l1, n), uniform_int(rng, e0, e1, n)
            )
            weeks = np.where(reason == why, w, weeks)
        detect_week = np.minimum(uniform_int(rng, 5, 12, n), weeks - 1)
        detected = lmp + detect_week * 7 + uniform_int(rng, 0, 6, n)
        out_day = lmp + weeks * 7 + uniform_int(rng, 0, 6, n)
        out_day = np.maximum(out_day, detected)
        # approval is asked for late terminations; medical ones get it
        late = weeks >= 16
        ra, rd = rng.random(n), rng.random(n)
        approved = np.full(n, np.nan)
        designated = np.full(n, np.nan)
        is_t = outcome == "termination"
        med = reason == "medical"
        sel = reason == "sex_selection"
        approved = np.where(is_t & med & late, (ra < 0.92).astype(float), approved)
        approved = np.where(is_t & med & ~late & (ra < 0.5), 1.0, approved)
        approved = np.where(is_t & ~med & ~sel & late, np.where(ra < 0.15, 1.0, 0.0), approved)
        approved = np.where(is_t & sel, np.where(ra < 0.5, 0.0, np.nan), approved)
        designated = np.where(
            is_t & ~sel, np.where(late & ~med, rd < 0.5, rd < 0.9).astype(float), designated
        )
        designated = np.where(is_t & sel, (rd < 0.3).astype(float), designated)

        late_issue = detected + uniform_int(rng, 7, 60, n)
        kind = np.select(
            [r_permit < 0.93, (r_permit < 0.96) & (late_issue < out_day)], ["early", "late"], "none"
        )
        issue = np.where(kind == "early", early_issue, late_issue)
        got = new_att & (kind != "none") & (issue <= END_DAY)
        idx = np.flatnonzero(got)
        permits.append(
            pd.DataFrame({"pid": n_permits + np.arange(idx.size), "c": idx, "issue": issue[idx]})
        )
        attempt_permit[idx] = n_permits + np.arange(idx.size)
        n_permits += idx.size
        attempt_open |= new_att

        seen = going & (detected <= END_DAY)
        ongoing = seen & (out_day > END_DAY)
        idx = np.flatnonzero(seen)
        preg.append(
            pd.DataFrame(
                {
                    "c": idx,
                    "conception": conception[idx],
                    "detected": detected[idx],
                    "outcome": np.where(ongoing[idx], "ongoing", outcome[idx]),
                    "out_day": np.where(ongoing[idx], NEVER, out_day[idx]),
                    "weeks": weeks[idx],
                    "reason": reason[idx],
                    "approved": approved[idx],
                    "designated": designated[idx],
                    "planned": planned[idx],
                    "permit": attempt_permit[idx],
                }
            )
        )
        active &= seen & ~ongoing
        born = active & (outcome == "birth")
        idx = np.flatnonzero(born)
        twins = rng.random(idx.size) < 0.01
        kid_c = np.r_[idx, idx[twins]]
        kids.append(
            pd.DataFrame(
                {
                    "c": kid_c,
                    "birth": out_day[kid_c],
                    "twin": np.r_[twins, np.ones(twins.sum(), bool)],
                }
            )
        )
        # a permit covers the first birth after its issue
        births = births + born
        attempt_open &= ~born
        attempt_permit = np.where(born, -1, attempt_permit)
        spacing = (rng.uniform(1.5, 6, n) * Y).astype("int64")
        t = np.where(born, out_day + spacing, out_day + uniform_int(rng, 90, 540, n))
        last_outcome = np.where(active, out_day, last_outcome)
        # an unplanned pregnancy ends the story; the rulebook §4 couples' later story is
        # scripted
        active &= ~unpl & ~(scripted & born)
        unplanned_done |= unpl

    preg = pd.concat(preg, ignore_index=True).astype(PREG_DTYPES)
    kids = pd.concat(kids, ignore_index=True).astype(KID_DTYPES)
    permits = pd.concat(permits, ignore_index=True).astype(
        {"pid": "int64", "c": "int64", "issue": "int64"}
    )
    # the birth that used each permit: the first birth of the couple after its issue
    births_pc = preg.loc[preg["outcome"] == "birth", ["c", "out_day"]].sort_values("out_day")
    permits = permits.sort_values(["issue", "pid"], kind="mergesort")
    used = pd.merge_asof(
        permits,
        births_pc.rename(columns={"out_day": "used_day"}),
        left_on="issue",
        right_on="used_day",
        by="c",
        direction="forward",
    )
    permits = used.sort_values("pid").reset_index(drop=True)
    permits["used_day"] = permits["used_day"].fillna(NEVER).astype("int64")
    return preg, kids, permits, target


def draw_certificates(rng, couples, kids, target) -> pd.DataFrame:
    """Only-child certificates for first children born since 2004 (rates in ``docs/synth.md``)."""
    k = kids.sort_values(["c", "birth"], kind="mergesort").reset_index(drop=True)
    first = k.groupby("c").head(1)
    first = first[~first["twin"]]
    later = k.merge(first[["c", "birth"]].rename(columns={"birth": "fb"}), on="c")
    second = later[later["birth"] > later["fb"]].groupby("c")["birth"].min()
    first = first[first["birth"] >= day_of("2004-01-01")].reset_index()
    n = len(first)
    c = couple_ix(first)
    basis = couples["basis"].to_numpy()[c]
    # couples who plan a second child seldom take the certificate (they would give it back)
    take = rng.random(n) < np.where(basis == "staff", 0.85, 0.30) * np.where(
        target[c] > 1, 0.2, 1.0
    )
    lag = np.clip(1 + rng.gamma(1.5, 4.0, n), 1, 48)
    issue = first["birth"].to_numpy() + (lag * 30.44).astype("int64")
    sec = second.reindex(c).fillna(NEVER).astype("int64").to_numpy()
    take &= (issue <= END_DAY) & (sec > issue)
    revoked = np.where(sec <= END_DAY, sec + uniform_int(rng, 0, 90, n), NEVER)
    revoked = np.where(revoked <= END_DAY, revoked, NEVER)
    wc, hc = couples["wife_cat"].to_numpy()[c], couples["husband_cat"].to_numpy()[c]
    wife_pays = np.where(
        basis == "staff",
        (wc == "staff") & ((hc != "staff") | (rng.random(n) < 0.6)),
        wc == "floating",
    )
    # 3%: the spouse outside the system is recorded as payee (outside the bureau's budget)
    outside = rng.random(n) < 0.03
    wife_pays = np.where(
        outside & (wc == "outside"), True, np.where(outside & (hc == "outside"), False, wife_pays)
    )
    payee = np.where(
        wife_pays, couples["wife_id"].to_numpy()[c], couples["husband_id"].to_numpy()[c]
    )
    # a staff payee is normally on the payroll when the certificate is issued; a quarter of those
    # hired later transferred in with the certificate (a payee may join the payroll after the
    # issue date)
    hire = np.where(
        wife_pays, couples["wife_hire"].to_numpy()[c], couples["husband_hire"].to_numpy()[c]
    )
    leave = np.where(
        wife_pays, couples["wife_leave"].to_numpy()[c], couples["husband_leave"].to_numpy()[c]
    )
    payee_staff = np.where(wife_pays, wc, hc) == "staff"
    take &= ~payee_staff | (((hire <= issue) | (rng.random(n) < 0.25)) & (leave > issue))
    return pd.DataFrame(
        {
            "c": c,
            "child_id": first["child_id"].to_numpy(),
            "kid_birth": first["birth"].to_numpy(),
            "issue": issue,
            "payee": payee,
            "revoked": revoked,
        }
    )[take].reset_index(drop=True)
