"""A partition's hardship households (低保) and their members, as the county generator draws
them, vectorised over the partition (rulebook §6)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fpanalysis.synth.common import (
    BOY_SHARE,
    END_DAY,
    RURAL_TOWNSHIPS,
    URBAN_TOWNSHIPS,
    Y,
    day_of,
    uniform_int,
)
from fpanalysis.synth.households import HOUSEHOLD_SHARES
from fpanalysis.synth.scale.columns import arrow_table, date_array, part_ids

# kinds are coded by their position in HOUSEHOLD_TYPES: 0 single elderly ... 5 general
_HH_P = np.cumsum(HOUSEHOLD_SHARES)
_D2016 = day_of("2016-01-01")


def household_plan(rng, n: int, standards) -> dict[str, np.ndarray]:
    """The households' kinds, heads and sizes (drawn before the ID numbers are made)."""
    kind = np.minimum(np.searchsorted(_HH_P, rng.random(n), side="right"), 5)
    single, orphan, only_d, two_d, infert, general = (kind == i for i in range(6))
    head_female = np.where(
        single, rng.random(n) < 0.6, np.where(orphan, rng.random(n) < 0.5, rng.random(n) >= 0.8)
    )
    lo = np.select([single, orphan, general], [62, 8, 25], 30)
    hi = np.select([single, orphan], [88, 17], 72)
    head_birth = END_DAY - (rng.uniform(lo, hi + 0.99) * Y).astype("int64")
    has_spouse = np.select(
        [single | orphan, only_d, general], [False, rng.random(n) < 0.8, rng.random(n) < 0.75], True
    )
    spouse_birth = np.minimum(
        head_birth + (rng.normal(0, 2.5, n) * Y).astype("int64"), END_DAY - int(20 * Y)
    )
    n_child = np.select(
        [only_d, two_d, general],
        [
            1,
            2,
            np.searchsorted(np.cumsum([0.1, 0.35, 0.4, 0.15]), rng.random(n), side="right").clip(
                0, 3
            ),
        ],
        0,
    )
    mother = np.where(head_female | ~has_spouse, head_birth, spouse_birth)
    first = mother + (rng.uniform(21, 26, n) * Y).astype("int64")
    gaps = (rng.uniform(1.5, 6, (2, n)) * Y).astype("int64")
    kb = np.vstack([first, first + gaps[0], first + gaps[0] + gaps[1]])
    fits = (kb <= END_DAY - 30).sum(axis=0)
    n_child = np.where(general, np.minimum(n_child, fits), n_child)
    kb[1] = np.where(two_d, np.minimum(kb[1], END_DAY - 30), kb[1])
    kb[0] = np.where(two_d, np.minimum(kb[0], kb[1] - 500), kb[0])
    kb[0] = np.where(only_d, np.minimum(kb[0], END_DAY - 30), kb[0])
    n_other = np.where(
        orphan,
        rng.integers(0, 2, n),
        np.where(single, 0, np.searchsorted([0.7, 0.9], rng.random(n), side="right")),
    )
    base = 1 + has_spouse + n_child
    n_other = np.minimum(n_other, 6 - base)
    return {
        "kind": kind,
        "head_female": head_female,
        "head_birth": head_birth,
        "has_spouse": has_spouse,
        "spouse_birth": spouse_birth,
        "n_child": n_child,
        "kb": kb,
        "n_other": n_other,
        "size": base + n_other,
    }


def household_tables(rng, part, plan, head_idn, pools, standards) -> tuple[pa.Table, pa.Table]:
    n = len(plan["kind"])
    kind = plan["kind"]
    single, orphan, only_d, two_d, infert, general = (kind == i for i in range(6))
    hf, hb, has_sp = plan["head_female"], plan["head_birth"], plan["has_spouse"]
    n_child, kb, n_other, size = plan["n_child"], plan["kb"], plan["n_other"], plan["size"]
    area_urban = rng.random(n) < 0.4
    towns = pa.array(list(URBAN_TOWNSHIPS) + list(RURAL_TOWNSHIPS))
    town = np.where(
        area_urban,
        np.searchsorted([0.6, 0.8], rng.random(n), side="right"),
        3 + rng.integers(0, len(RURAL_TOWNSHIPS), n),
    )
    # member slots: head, spouse, children 1-3, others 1-2 (parents of the head / an orphan's
    # siblings)
    r_ster = rng.random(n)
    ster_wife = (two_d & (r_ster < 0.85)) | (general & (n_child >= 2) & (r_ster < 0.1))
    ster_husband = two_d & (r_ster >= 0.85)
    head_ster = np.where(hf, ster_wife, ster_husband & has_sp) | (ster_husband & ~has_sp)
    spouse_ster = np.where(hf, ster_husband, ster_wife) & has_sp
    slots_h, slots_o, slots_rel, slots_f, slots_b, slots_known, slots_st = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )

    def slot(mask, order, rel, female, b, st=None, known=None):
        i = np.flatnonzero(mask)
        slots_h.append(i)
        slots_o.append(np.full(i.size, order))
        slots_rel.append(np.full(i.size, rel))
        slots_f.append(np.asarray(female)[i])
        slots_b.append(np.asarray(b)[i])
        slots_known.append(np.ones(i.size, bool) if known is None else np.asarray(known)[i])
        slots_st.append(np.zeros(i.size, bool) if st is None else np.asarray(st)[i])

    slot(np.ones(n, bool), 0, 0, hf, hb, head_ster)
    slot(has_sp, 1, 1, ~hf, plan["spouse_birth"], spouse_ster)
    for j in range(3):
        girl = only_d | two_d | (rng.random(n) >= BOY_SHARE)
        slot(n_child > j, 2 + j, 2, girl, kb[j])
    for j in range(2):
        ob = np.where(
            orphan,
            hb + (rng.uniform(-6, 6, n) * Y).astype("int64"),
            hb - (rng.uniform(22, 32, n) * Y).astype("int64"),
        )
        ob = np.minimum(ob, END_DAY - 365)
        slot(n_other > j, 5 + j, 3, rng.random(n) < 0.5, ob, known=rng.random(n) >= 0.05)
    mh, mo, mrel, mf, mb, mk, mst = (
        np.concatenate(a)
        for a in (slots_h, slots_o, slots_rel, slots_f, slots_b, slots_known, slots_st)
    )
    o = np.lexsort((mo, mh))
    mh, mrel, mf, mb, mk, mst = mh[o], mrel[o], mf[o], mb[o], mk[o], mst[o]
    disabled = rng.random(mh.size) < np.where(single[mh], 0.25, 0.07)
    any_dis = np.zeros(n, bool)
    any_dis[mh[disabled]] = True
    widowed = single | (only_d & ~has_sp)
    flags = [
        ("disabled", any_dis & (rng.random(n) < 0.8)),
        ("orphan", orphan),
        ("other", rng.random(n) < 0.04),
        ("widow", widowed & hf),
        ("widower", widowed & ~hf),
    ]  # sorted by code, joined by ";" (as the loaders normalise a set)
    groups = pa.array(np.full(n, ""))
    for code, f in flags:
        with_code = pc.if_else(
            pc.equal(groups, ""),
            pa.scalar(code),
            pc.binary_join_element_wise(groups, pa.scalar(code), ";"),
        )
        groups = pc.if_else(pa.array(f), with_code, groups)
    groups = pc.if_else(pc.equal(groups, ""), pa.scalar(None, pa.string()), groups)
    declared_code = np.select([only_d, two_d, infert], [0, 1, 2], -1)
    declared_code = np.where(rng.random(n) < 0.85, declared_code, -1)
    infertile_val = np.where(infert, True, False)
    infertile_null = ~infert & (rng.random(n) < 0.05)
    std = np.where(area_urban, float(standards["urban"]), float(standards["rural"]))
    r = np.where(rng.random(n) < 0.72, rng.beta(2.0, 1.6, n), rng.uniform(1.0, 1.8, n))
    r = np.where((orphan | single) & (rng.random(n) < 0.1), 0.0, r)
    income = np.round(r * std * size)
    cents = rng.random(n) < 0.25
    income = np.where(cents & (income > 0), income + rng.integers(1, 100, n) / 100, income)
    pc_ratio = income / (std * size)
    band = np.select([pc_ratio < 0.3, pc_ratio < 0.6], [1, 2], 3)
    tier = np.clip(np.where(rng.random(n) < 0.8, band, band + rng.choice([-1, 1], size=n)), 1, 3)
    has_tier = (pc_ratio < 1.0) & (rng.random(n) < 0.35)
    applied = _D2016 + np.floor(rng.random(n) * (END_DAY - 10 - _D2016)).astype("int64")
    settled = applied <= END_DAY - 120
    receiving = settled & (rng.random(n) < np.where(pc_ratio < 1.0, 0.75, 0.2))
    review = np.maximum(applied, END_DAY - uniform_int(rng, 10, 330, n))
    hh_ids = part_ids("H", part, n)
    households = arrow_table(
        "households",
        {
            "household_id": hh_ids,
            "head_name": pools.names(rng, hf),
            "head_id_number": head_idn,
            "area": pa.array(np.where(area_urban, "urban", "rural")),
            "township": towns.take(pa.array(town)),
            "size": pa.array(size.astype("int64")),
            "monthly_income": pa.array(income),
            "assessed_tier": pa.array(tier.astype("int64"), mask=~has_tier),
            "special_groups": groups,
            "infertile": pa.array(infertile_val, mask=infertile_null),
            "declared_fp_type": pa.array(
                ["only_daughter", "two_daughters_sterilized", "infertile"]
            ).take(pa.array(np.maximum(declared_code, 0), mask=declared_code < 0)),
            "application_date": date_array(applied),
            "receiving": pa.array(receiving),
            "last_review_date": date_array(review, receiving),
        },
    )
    members = arrow_table(
        "household_members",
        {
            "member_id": part_ids("M", part, mh.size),
            "household_id": hh_ids.take(pa.array(mh)),
            "relation": pa.array(["head", "spouse", "child", "other"]).take(pa.array(mrel)),
            "sex": pa.array(np.where(mf, "F", "M")),
            "birth_date": date_array(mb, mk),
            # the other members' sterilisation is not recorded (empty)
            "sterilized": pa.array(mst, mask=mrel == 3),
            "disabled": pa.array(disabled),
        },
    )
    return households, members
