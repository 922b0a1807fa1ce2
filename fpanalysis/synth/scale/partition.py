"""One partition of the province-scale dataset: whole couples with their persons, the units
they belong to and everything drawn for them (:func:`partition_tables`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fpanalysis.core import schema
from fpanalysis.synth.common import END_DAY, NEVER, Y, dibao_standards, uniform_int
from fpanalysis.synth.scale.columns import (
    Couples,
    arrow_table,
    date_array,
    draw_part_regions,
    name_pools,
    part_id_numbers,
    part_ids,
    uniform_years,
)
from fpanalysis.synth.scale.events import attendance_table, check_rounds, survey_table
from fpanalysis.synth.scale.families import birth_tables
from fpanalysis.synth.scale.households import household_plan, household_tables

PERSONS_PER_COUPLE = 2.2
COUPLES_PER_UNIT = 15


def partition_tables(
    seed: int,
    part: int,
    people: int,
    *,
    n_partitions: int = 1,
    certificates_per_couple: float | None = None,
    rounds: tuple[list[str], np.ndarray, np.ndarray] | None = None,
    standards: Mapping[str, float] | None = None,
    tables: Iterable[str] | None = None,
) -> dict[str, pa.Table]:
    """Generate partition ``part`` (``people`` persons) as pyarrow tables, units included.

    Args:
        seed: the dataset's seed; partition ``part`` uses
            ``SeedSequence(seed).spawn(n_partitions)[part]`` only.
        part: partition number (0-based).
        people: persons rows in this partition (at least 1).
        n_partitions: how many partitions the dataset has (for the spawn).
        certificates_per_couple: ``None`` for realistic shapes, else the
            certificates-heavy mode (``docs/synth.md``).
        rounds: (ids, start days, end days) of the check rounds; default the
            dataset's schedule for ``seed``.
        standards: 低保 standards by area (yuan per person per month); default
            those in force at the extract date.
        tables: the tables wanted (default all): ``surveys``,
            ``check_attendance`` and the households are only made when asked
            for. Each has its own random stream, so the others are the same
            bytes whichever are asked for.

    Returns:
        table name -> pyarrow table: every table of the data dictionary except
        ``check_rounds`` (``units`` holds this partition's units), less the
        optional ones not asked for.

    Examples:
        >>> t = partition_tables(1, 0, 500)
        >>> t["persons"].num_rows, t["persons"]["person_id"][0].as_py()
        (500, 'P00000_00000001')
    """
    ss = np.random.SeedSequence(seed).spawn(n_partitions)[part]
    # one stream for the people and their events, one each for surveys, checks and households
    rng, rng_sv, rng_at, rng_hh = (np.random.default_rng(s) for s in ss.spawn(4))
    want = set(schema.TABLES) if tables is None else set(tables)
    pools = name_pools()
    if rounds is None:
        _, rids, rs, re_ = check_rounds(seed)
    else:
        rids, rs, re_ = rounds
    if standards is None:
        standards = dibao_standards()
    k = part
    n = int(people)
    C = min(n // 2, int(round(n / PERSONS_PER_COUPLE)))
    S = n - 2 * C
    U = max(1, int(round(C / COUPLES_PER_UNIT)))
    out: dict[str, pa.Table] = {}

    # ---- units and their diligence (miss rates scale with it, so scorecards differ)
    diligence = np.clip(rng.lognormal(0.0, 0.45, U), 0.3, 2.5)

    # ---- couples: wife, husband, marriage, the anchoring spouse (staff or floating)
    w_birth = END_DAY - uniform_years(rng, 22, 66, C)
    h_birth = w_birth - (np.clip(rng.normal(2.0, 2.5, C), -3, 10) * Y).astype("int64")
    # a husband under 22 would be too young to marry (rulebook §2): spread over 22-25 (not
    # clipped onto one day)
    young = h_birth > END_DAY - int(22 * Y) - 1
    h_birth = np.where(young, END_DAY - uniform_years(rng, 22, 25, C), h_birth)
    legal = np.maximum(w_birth + int(20 * Y) + 1, h_birth + int(22 * Y) + 1)
    marriage = legal + uniform_years(rng, 0, 9, C)
    marriage = np.minimum(marriage, END_DAY - uniform_int(rng, 30, 400, C))
    marriage = np.maximum(marriage, legal)
    divorced = rng.random(C) < 0.05
    divorce = np.where(
        divorced, marriage + ((END_DAY - marriage) * rng.random(C)).astype("int64"), NEVER
    )
    divorced &= divorce > marriage
    divorce = np.where(divorced, divorce, NEVER)
    staff_couple = rng.random(C) < 0.70
    anchor_wife = rng.random(C) < 0.5
    anchor_unit = rng.integers(0, U, C)
    r_other = rng.random(C)
    other_cat = np.where(
        r_other < 0.65, 2, np.where(r_other < 0.90, 0, 1)
    )  # 0 staff 1 floating 2 outside
    other_unit = np.where(rng.random(C) < 0.85, anchor_unit, rng.integers(0, U, C))

    # ---- persons: wives 0..C-1, husbands C..2C-1, single staff 2C..n-1
    birth = np.r_[w_birth, h_birth, END_DAY - uniform_years(rng, 22, 60, S)]
    female = np.r_[np.ones(C, bool), np.zeros(C, bool), rng.random(S) < 0.5]
    anchor_cat = np.where(staff_couple, 0, 1)
    w_cat = np.where(anchor_wife, anchor_cat, other_cat)
    h_cat = np.where(anchor_wife, other_cat, anchor_cat)
    cat = np.r_[w_cat, h_cat, np.zeros(S, "int64")]
    w_unit = np.where(anchor_wife, anchor_unit, other_unit)
    h_unit = np.where(anchor_wife, other_unit, anchor_unit)
    unit = np.r_[w_unit, h_unit, rng.integers(0, U, S)]
    staff = cat == 0
    transfer = rng.random(n) < 0.2
    hire = birth + np.where(transfer, uniform_years(rng, 30, 45, n), uniform_years(rng, 22, 30, n))
    hire = np.where(hire > END_DAY, END_DAY - uniform_int(rng, 0, 300, n), hire)
    retire = birth + np.where(female, int(55 * Y), int(60 * Y))
    early = rng.random(n) < 0.08
    leave = np.where(early, hire + ((END_DAY - hire) * rng.random(n)).astype("int64"), retire)
    left = (leave <= END_DAY) & (leave >= hire) & staff
    leave = np.where(left, leave, NEVER)
    hire = np.where(staff, hire, NEVER)
    regions = draw_part_regions(rng, k, n)

    # household heads are generated now so that their ID numbers are unique with the persons'
    hh = household_plan(rng_hh, C, standards)
    all_birth = np.r_[birth, hh["head_birth"]]
    all_female = np.r_[female, hh["head_female"]]
    all_regions = np.r_[regions, draw_part_regions(rng, k, C)]
    all_idn = part_id_numbers(rng, k, all_birth, all_female, all_regions)
    person_ids = part_ids("P", k, n)
    unit_ids = part_ids("U", k, U)
    has_unit = cat != 2
    cat_codes = pa.array(["staff", "floating", "outside"])
    person_names = pools.names(rng, female)
    out["persons"] = arrow_table(
        "persons",
        {
            "person_id": person_ids,
            "name": person_names,
            "id_number": all_idn.slice(0, n),
            "sex": pa.array(np.where(female, "F", "M")),
            "birth_date": date_array(birth),
            "unit_id": unit_ids.take(pa.array(unit, mask=~has_unit)),
            "category": cat_codes.take(pa.array(cat)),
            "hire_date": date_array(hire, staff),
            "leave_date": date_array(leave, left),
        },
    )

    # units: the head is the unit's most senior staff member in post, the liaison the most recent
    in_post = staff & (leave == NEVER)
    idx = np.flatnonzero(in_post)
    head = np.full(U, -1)
    liaison = np.full(U, -1)
    if idx.size:
        o = idx[np.lexsort((hire[idx], unit[idx]))]
        u_sorted = unit[o]
        firsts = np.r_[True, u_sorted[1:] != u_sorted[:-1]]
        lasts = np.r_[u_sorted[1:] != u_sorted[:-1], True]
        head[u_sorted[firsts]] = o[firsts]
        liaison[u_sorted[lasts]] = o[lasts]
    liaison = np.where(liaison == head, -1, liaison)
    j = np.arange(U)
    base_name = pools.unit_names.take(pa.array(j % 20))
    suffix = pc.if_else(
        pa.array(j < 20), pa.scalar(""), pc.cast(pa.array(j // 20 + 1), pa.string())
    )
    unit_name = pc.binary_join_element_wise(base_name, suffix, "")
    out["units"] = arrow_table(
        "units",
        {
            "unit_id": unit_ids,
            "name": unit_name,
            "kind": pa.array(np.where(j % 20 < 10, "section", "affiliated")),
            "head_name": person_names.take(pa.array(np.maximum(head, 0), mask=head < 0)),
            "liaison_name": person_names.take(pa.array(np.maximum(liaison, 0), mask=liaison < 0)),
        },
    )

    couple_ids = part_ids("C", k, C)
    out["couples"] = arrow_table(
        "couples",
        {
            "couple_id": couple_ids,
            "wife_id": person_ids.slice(0, C),
            "husband_id": person_ids.slice(C, C),
            "marriage_date": date_array(marriage),
            "divorce_date": date_array(divorce, divorced),
        },
    )

    # the anchoring spouse: the unit answers for the couple while the anchor is on its books
    a_person = np.where(anchor_wife, np.arange(C), C + np.arange(C))

    couples = Couples(
        part=k,
        ids=couple_ids,
        person_ids=person_ids,
        unit_ids=unit_ids,
        wife_birth=w_birth,
        marriage=marriage,
        divorce=divorce,
        staff=staff_couple,
        anchor_wife=anchor_wife,
        anchor_unit=anchor_unit,
        anchor_hire=np.where(staff_couple, hire[a_person], -NEVER),
        anchor_leave=np.where(staff_couple, leave[a_person], NEVER),
        diligence=diligence[anchor_unit],
    )
    births, pregnant, sterilised_from = birth_tables(rng, couples, certificates_per_couple)
    out.update(births)
    if "surveys" in want:
        out["surveys"] = survey_table(rng_sv, couples)
    if "check_attendance" in want:
        out["check_attendance"] = attendance_table(
            rng_at, couples, (rids, rs, re_), pregnant, sterilised_from
        )

    # ---- hardship households and members (as the county generator, vectorised the same way)
    if {"households", "household_members"} & want:
        out["households"], out["household_members"] = household_tables(
            rng_hh, k, hh, all_idn.slice(n, C), pools, standards
        )
    return out
