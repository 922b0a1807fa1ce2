"""What happens to couples over the years besides births: contraception, the baseline and
follow-up surveys, the check rounds and who attends them (rulebook §3 C1–C5)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fpanalysis.synth.common import (
    END,
    END_DAY,
    NEVER,
    START,
    START_DAY,
    age_on,
    couple_ix,
    day_of,
    uniform_int,
)
from fpanalysis.synth.people import responsible_units


def draw_contraception(rng, couples, preg, target) -> pd.DataFrame:
    """Methods after births: spacing between births, sterilisation or an IUD after the last."""
    p = preg[~couples["scripted"].to_numpy()[couple_ix(preg)]].sort_values(
        ["c", "conception"], kind="mergesort"
    )
    p = p.reset_index(drop=True)
    p["n_births"] = (p["outcome"] == "birth").groupby(p["c"]).cumsum()
    nxt = p.groupby("c")[["conception", "detected", "planned"]].shift(-1)
    b = p[p["outcome"] == "birth"].copy()
    b["next_conception"] = nxt.loc[b.index, "conception"]
    b["next_detected"] = nxt.loc[b.index, "detected"]
    b["next_planned"] = nxt.loc[b.index, "planned"].astype("boolean")
    b = b.reset_index(drop=True)
    n = len(b)
    final = b["n_births"].to_numpy() >= target[couple_ix(b)]
    has_next = b["next_conception"].notna().to_numpy()
    next_conc = b["next_conception"].fillna(NEVER).astype("int64").to_numpy()
    next_det = b["next_detected"].fillna(NEVER).astype("int64").to_numpy()
    birth = b["out_day"].to_numpy()
    r, r2 = rng.random(n), rng.random(n)
    spacing = ~final & (r < 0.6)
    sterile = final & (r < 0.45)
    iud_final = final & (r >= 0.45) & (r < 0.9)
    method = np.select(
        [
            spacing & (r2 < 0.7),
            spacing & (r2 < 0.85),
            spacing,
            sterile & (r2 < 0.85),
            sterile,
            iud_final,
        ],
        ["iud", "implant", "other", "female_sterilization", "male_sterilization", "iud"],
        None,
    )
    start = birth + np.where(sterile, uniform_int(rng, 42, 365, n), uniform_int(rng, 42, 240, n))
    end = np.where(spacing & has_next, next_conc - uniform_int(rng, 30, 120, n), NEVER)
    # an IUD that fails: removed when the unplanned pregnancy is found
    end = np.where(iud_final & has_next, next_det, end)
    falsified = np.where(sterile & has_next, next_det + uniform_int(rng, 0, 45, n), NEVER)
    ok = (
        pd.notna(method)
        & (start <= END_DAY)
        & (end > start + 30)
        & ((end == NEVER) | (end >= day_of("2015-01-01")))
    )  # noqa: E711
    who = np.where(method == "male_sterilization", "husband", "wife")
    out = pd.DataFrame(
        {
            "c": couple_ix(b),
            "who": who,
            "method": method,
            "start": start,
            "end": end,
            "falsified": falsified,
        }
    )[ok].reset_index(drop=True)
    # 2% of the other IUD and sterilisation records are found falsified at some check
    m = len(out)
    lo = np.maximum(out["start"].to_numpy() + 180, START_DAY)
    hi = np.minimum(out["end"].to_numpy(), END_DAY)
    pick = (rng.random(m) < 0.02) & out["method"].isin(
        ["iud", "female_sterilization", "male_sterilization"]
    ).to_numpy()
    pick &= (out["falsified"].to_numpy() == NEVER) & (hi > lo)
    found = lo + np.floor(rng.random(m) * np.maximum(hi - lo, 1)).astype("int64")
    out["falsified"] = np.where(pick, found, out["falsified"].to_numpy())
    out.loc[out["falsified"] > END_DAY, "falsified"] = NEVER
    return out


def _childbearing(couples, day: int) -> np.ndarray:
    age = age_on(couples["wife_birth"].to_numpy(), day)
    return (age >= 15) & (age <= 49)


def draw_surveys(rng, couples, units, diligence) -> pd.DataFrame:
    """Baselines and half-year follow-ups, with late, missing and unreported ones."""
    unit_ids = units["unit_id"].to_numpy()
    f = pd.Series(diligence, index=unit_ids)
    out = [
        pd.DataFrame(
            {
                "c": np.array([], "int64"),
                "unit": np.array([], object),
                "kind": np.array([], object),
                "day": np.array([], "int64"),
                "floating": np.array([], bool),
            }
        )
    ]
    for year in range(
        START.year, END.year + 1
    ):  # a loop over years and halves, vectorised over couples
        jan1 = day_of(f"{year}-01-01")
        waves = [("baseline", jan1, day_of(f"{year}-03-31"), ("staff",), 1.0)]
        waves += [
            (
                "followup",
                day_of(f"{year}-{m0}-01"),
                day_of(f"{year}-{m1}"),
                ("staff", "floating"),
                2.0,
            )
            for m0, m1 in (("01", "06-30"), ("07", "12-31"))
        ]
        for kind, d0, d1, bases, floating_factor in waves:
            unit, basis = responsible_units(couples, d0)
            who = np.isin(basis, bases) & _childbearing(couples, d0)
            idx = np.flatnonzero(who)
            if idx.size == 0:
                continue
            factor = f.reindex(unit[idx]).to_numpy() * np.where(
                basis[idx] == "floating", floating_factor, 1.0
            )
            miss = np.minimum((0.05 if kind == "baseline" else 0.06) * factor, 0.6)
            late = np.minimum((0.05 if kind == "baseline" else 0.04) * factor, 0.3)
            r = rng.random(idx.size)
            on_time = d0 + np.floor(rng.random(idx.size) * (d1 - d0 + 1)).astype("int64")
            late_day = d1 + 1 + uniform_int(rng, 0, 60 if kind == "baseline" else 44, idx.size)
            day = np.where(r < late, late_day, on_time)
            keep = (r >= late + miss) | (r < late)
            keep &= day <= END_DAY
            by = unit[idx].astype(object)
            other = unit_ids[rng.integers(0, len(unit_ids), idx.size)]
            by = np.where(rng.random(idx.size) < 0.04, other, by)
            out.append(
                pd.DataFrame(
                    {
                        "c": idx,
                        "unit": by,
                        "kind": kind,
                        "day": day,
                        "floating": basis[idx] == "floating",
                    }
                )[keep]
            )
    s = pd.concat(out, ignore_index=True)
    n = len(s)
    problem = rng.random(n) < np.where(s["floating"], 0.10, 0.06)
    r = rng.random(n)
    lag = np.where(r < 0.82, uniform_int(rng, 0, 15, n), uniform_int(rng, 16, 60, n))
    reported = np.where(
        problem & (r < 0.92) & (s["day"].to_numpy() + lag <= END_DAY),
        s["day"].to_numpy() + lag,
        NEVER,
    )
    s["problem"] = problem
    s["reported"] = reported
    return s


def draw_check_rounds(rng) -> pd.DataFrame:
    """Twice a year, spring (March) and autumn (September): the county's schedule."""
    rows = []
    for year in range(START.year, END.year + 1):
        for k, month in ((1, "03"), (2, "09")):
            start = day_of(f"{year}-{month}-08") + int(rng.integers(0, 7))
            end = start + int(rng.integers(12, 16))
            if end <= END_DAY:
                rows.append({"round_id": f"R{year}-{k}", "start": start, "end": end})
    return pd.DataFrame(rows)


def draw_attendance(rng, couples, rounds, preg, contra, diligence_by_unit) -> pd.DataFrame:
    """Required women attend in the window (93%, by unit diligence), some late, some never.

    Required (rulebook §3 C4): married, 15–49, not sterilised, not pregnant, no pregnancy
    ended in the 30 days before the round.
    """
    out = [
        pd.DataFrame(
            {
                "round_id": np.array([], object),
                "c": np.array([], "int64"),
                "day": np.array([], "int64"),
            }
        )
    ]
    ster = contra[contra["method"].isin(["female_sterilization", "male_sterilization"])]
    for rnd in rounds.itertuples(index=False):  # one step per round, vectorised over couples
        d = rnd.start
        unit, _ = responsible_units(couples, d)
        need = pd.notna(unit) & _childbearing(couples, d)
        s = ster[(ster["start"] <= d) & (ster["end"] > d) & (ster["falsified"] > d)]["c"].to_numpy()
        pregnant = preg[(preg["detected"] < d) & (preg["out_day"] >= d)]["c"].to_numpy()
        recent = preg[(preg["out_day"] < d) & (preg["out_day"] >= d - 30)]["c"].to_numpy()
        exempt = np.zeros(len(couples), dtype=bool)
        exempt[np.r_[s, pregnant, recent].astype(int)] = True
        idx = np.flatnonzero(need & ~exempt)
        factor = diligence_by_unit.reindex(unit[idx]).to_numpy()
        miss = np.minimum(0.05 * factor, 0.5)
        r = rng.random(idx.size)
        length = rnd.end - rnd.start + 1
        day = np.where(
            r < 0.02,
            rnd.end + uniform_int(rng, 1, 20, idx.size),
            rnd.start + np.floor(rng.random(idx.size) * length).astype("int64"),
        )
        keep = (r >= 0.02 + miss) | (r < 0.02)
        keep &= day <= END_DAY
        out.append(pd.DataFrame({"round_id": rnd.round_id, "c": idx, "day": day})[keep])
    return pd.concat(out, ignore_index=True)
