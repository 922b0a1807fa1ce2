"""Hardship households (低保) and their members: family types, incomes against the 低保
standard, assessed tiers and declared family-planning types (rulebook §6)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from fpanalysis.synth.common import (
    BOY_SHARE,
    END_DAY,
    RURAL_TOWNSHIPS,
    URBAN_TOWNSHIPS,
    Y,
    day_of,
    serial_ids,
    to_dt,
    uniform_int,
)
from fpanalysis.synth.people import Names, draw_id_numbers

# the kinds of household and the share of each
HOUSEHOLD_TYPES = (
    "single_elderly",
    "orphan",
    "only_daughter",
    "two_daughters",
    "infertile",
    "general",
)
HOUSEHOLD_SHARES = (0.14, 0.02, 0.12, 0.07, 0.04, 0.61)


def draw_households(rng, n: int, names: Names, standards: Mapping[str, float], taken: set):
    """Hardship households and their members (rulebook §6; rates in ``docs/synth.md``)."""
    kind = np.array(HOUSEHOLD_TYPES)[rng.choice(len(HOUSEHOLD_TYPES), size=n, p=HOUSEHOLD_SHARES)]
    area = np.where(rng.random(n) < 0.4, "urban", "rural")
    township = np.where(
        area == "urban",
        np.array(URBAN_TOWNSHIPS)[rng.choice(3, size=n, p=[0.6, 0.2, 0.2])],
        np.array(RURAL_TOWNSHIPS)[rng.integers(0, len(RURAL_TOWNSHIPS), n)],
    )
    head_sex = np.where(
        kind == "single_elderly",
        np.where(rng.random(n) < 0.6, "F", "M"),
        np.where(
            kind == "orphan",
            np.where(rng.random(n) < 0.5, "F", "M"),
            np.where(rng.random(n) < 0.8, "M", "F"),
        ),
    )
    lo = np.select([kind == "single_elderly", kind == "orphan", kind == "general"], [62, 8, 25], 30)
    hi = np.select([kind == "single_elderly", kind == "orphan"], [88, 17], 72)
    head_birth = END_DAY - (rng.uniform(lo, hi + 0.99) * Y).astype("int64")
    has_spouse = np.select(
        [np.isin(kind, ["single_elderly", "orphan"]), kind == "only_daughter", kind == "general"],
        [False, rng.random(n) < 0.8, rng.random(n) < 0.75],
        True,
    )
    spouse_birth = head_birth + (rng.normal(0, 2.5, n) * Y).astype("int64")
    spouse_birth = np.minimum(spouse_birth, END_DAY - int(20 * Y))
    n_child = np.select(
        [kind == "only_daughter", kind == "two_daughters", kind == "general"],
        [1, 2, rng.choice(4, size=n, p=[0.1, 0.35, 0.4, 0.15])],
        0,
    )
    # children born to a mother of 21-26, 1.5-6 years apart; a young family has only those born
    # by the extract date; an FP family's daughters are pulled back before it, 500 days apart
    mother_birth = np.where((head_sex == "F") | ~has_spouse, head_birth, spouse_birth)
    first = mother_birth + (rng.uniform(21, 26, n) * Y).astype("int64")
    gaps = (rng.uniform(1.5, 6, (2, n)) * Y).astype("int64")
    kb = np.vstack([first, first + gaps[0], first + gaps[0] + gaps[1]])
    fits = (kb <= END_DAY - 30).sum(axis=0)
    n_child = np.where(kind == "general", np.minimum(n_child, fits), n_child)
    two_d = kind == "two_daughters"
    kb[1] = np.where(two_d, np.minimum(kb[1], END_DAY - 30), kb[1])
    kb[0] = np.where(two_d, np.minimum(kb[0], kb[1] - 500), kb[0])
    kb[0] = np.where(kind == "only_daughter", np.minimum(kb[0], END_DAY - 30), kb[0])
    n_other = np.where(
        kind == "orphan",
        rng.choice(2, size=n),
        np.where(kind == "single_elderly", 0, rng.choice(3, size=n, p=[0.7, 0.2, 0.1])),
    )
    # sizes 1-6: drop others first, then children of general households
    base = 1 + has_spouse + n_child
    n_other = np.minimum(n_other, 6 - base)
    size = base + n_other

    # one frame per member slot (head, spouse, child k, other k), vectorised over households
    rows = []

    def slot(mask, order, relation, sex, birth, sterilized=None, birth_known=None):
        i = np.flatnonzero(mask)
        rows.append(
            pd.DataFrame(
                {
                    "h": i,
                    "order": order,
                    "relation": relation,
                    "sex": np.asarray(sex)[i],
                    "birth": np.asarray(birth)[i],
                    "birth_known": True if birth_known is None else np.asarray(birth_known)[i],
                    "sterilized": False if sterilized is None else np.asarray(sterilized)[i],
                }
            )
        )

    # two-daughter households: the wife sterilised (85%) or the husband
    r_ster = rng.random(n)
    wife_is_head = head_sex == "F"
    two = kind == "two_daughters"
    ster_wife = (two & (r_ster < 0.85)) | ((kind == "general") & (n_child >= 2) & (r_ster < 0.1))
    ster_husband = two & (r_ster >= 0.85)
    head_ster = np.where(wife_is_head, ster_wife, ster_husband & has_spouse) | (
        ster_husband & ~has_spouse
    )
    spouse_ster = np.where(wife_is_head, ster_husband, ster_wife) & has_spouse
    slot(np.ones(n, bool), 0, "head", head_sex, head_birth, head_ster)
    slot(has_spouse, 1, "spouse", np.where(head_sex == "F", "M", "F"), spouse_birth, spouse_ster)
    for k in range(3):
        girl = np.isin(kind, ["only_daughter", "two_daughters"]) | (rng.random(n) >= BOY_SHARE)
        slot(n_child > k, 2 + k, "child", np.where(girl, "F", "M"), kb[k])
    for k in range(2):
        # parents of the head, or siblings of an orphan
        ob = np.where(
            kind == "orphan",
            head_birth + (rng.uniform(-6, 6, n) * Y).astype("int64"),
            head_birth - (rng.uniform(22, 32, n) * Y).astype("int64"),
        )
        ob = np.minimum(ob, END_DAY - 365)
        slot(
            n_other > k,
            5 + k,
            "other",
            np.where(rng.random(n) < 0.5, "F", "M"),
            ob,
            birth_known=rng.random(n) >= 0.05,
        )
    m = (
        pd.concat(rows, ignore_index=True)
        .sort_values(["h", "order"], kind="mergesort")
        .reset_index(drop=True)
    )
    disabled = rng.random(len(m)) < np.where(kind[m["h"]] == "single_elderly", 0.25, 0.07)
    m["disabled"] = disabled
    any_disabled = np.zeros(n, dtype=bool)
    any_disabled[m.loc[disabled, "h"].to_numpy()] = True

    groups = np.empty(n, dtype=object)
    groups[:] = ""
    widowed = (kind == "single_elderly") | ((kind == "only_daughter") & ~has_spouse)
    flags = {
        "widower": widowed & (head_sex == "M"),
        "widow": widowed & (head_sex == "F"),
        "orphan": kind == "orphan",
        "disabled": any_disabled & (rng.random(n) < 0.8),
        "other": rng.random(n) < 0.04,
    }
    for code in sorted(flags):
        groups = np.where(flags[code], np.where(groups == "", code, groups + ";" + code), groups)
    special = np.where(groups == "", None, groups)

    declared = np.select(
        [kind == "only_daughter", kind == "two_daughters", kind == "infertile"],
        ["only_daughter", "two_daughters_sterilized", "infertile"],
        None,
    )
    declared = np.where(rng.random(n) < 0.85, declared, None)
    infertile = np.where(kind == "infertile", 1.0, np.where(rng.random(n) < 0.05, np.nan, 0.0))

    std = np.where(area == "urban", float(standards["urban"]), float(standards["rural"]))
    r = np.where(rng.random(n) < 0.72, rng.beta(2.0, 1.6, n), rng.uniform(1.0, 1.8, n))
    r = np.where(np.isin(kind, ["orphan", "single_elderly"]) & (rng.random(n) < 0.1), 0.0, r)
    income = np.round(r * std * size)
    cents = rng.random(n) < 0.25
    income = np.where(cents & (income > 0), income + rng.integers(1, 100, n) / 100, income)
    pc_ratio = income / (std * size)
    band_tier = np.select([pc_ratio < 0.3, pc_ratio < 0.6], [1, 2], 3)
    tier = np.clip(
        np.where(rng.random(n) < 0.8, band_tier, band_tier + rng.choice([-1, 1], size=n)), 1, 3
    )
    has_tier = (pc_ratio < 1.0) & (rng.random(n) < 0.35)
    applied = day_of("2016-01-01") + np.floor(
        rng.random(n) * (END_DAY - 10 - day_of("2016-01-01"))
    ).astype("int64")
    settled = applied <= END_DAY - 120
    receiving = settled & (rng.random(n) < np.where(pc_ratio < 1.0, 0.75, 0.2))
    review = np.maximum(applied, END_DAY - uniform_int(rng, 10, 330, n))
    head_id = draw_id_numbers(rng, head_birth, head_sex, home_share=1.0, taken=taken)
    head_name = names.draw(head_sex)

    hh_ids = serial_ids("H", n, 4)
    households = pd.DataFrame(
        {
            "household_id": hh_ids,
            "head_name": head_name,
            "head_id_number": head_id,
            "area": area,
            "township": township,
            "size": size,
            "monthly_income": income,
            "assessed_tier": pd.array(np.where(has_tier, tier, 0), dtype="Int64").astype("Int64"),
            "special_groups": special,
            "infertile": pd.array(infertile, dtype="Float64").astype("boolean"),
            "declared_fp_type": declared,
            "application_date": to_dt(applied),
            "receiving": receiving,
            "last_review_date": to_dt(review, receiving),
        }
    )
    households.loc[~has_tier, "assessed_tier"] = pd.NA
    members = pd.DataFrame(
        {
            "member_id": serial_ids("M", len(m), 5),
            "household_id": hh_ids[m["h"].to_numpy()],
            "relation": m["relation"].to_numpy(),
            "sex": m["sex"].to_numpy(),
            "birth_date": to_dt(m["birth"].to_numpy(), m["birth_known"].to_numpy()),
            "sterilized": m["sterilized"].to_numpy(),
            "disabled": m["disabled"].to_numpy(),
        }
    )
    # the other members' sterilisation is not recorded (empty)
    members["sterilized"] = (
        members["sterilized"].astype("boolean").where(members["relation"] != "other")
    )
    return households, members
