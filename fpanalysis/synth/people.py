"""The county's people: names, region codes and resident ID numbers, the bureau's units, the
couples with their spouses and the single staff, and which unit answers for a couple on a day
(rulebook §1, §2, §8)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fpanalysis.core.ids import check_chars
from fpanalysis.synth.common import (
    AFFILIATED,
    END_DAY,
    NEVER,
    RURAL_TOWNSHIPS,
    SECTIONS,
    URBAN_TOWNSHIPS,
    Y,
    add_years,
    day_of,
    serial_ids,
    to_dt,
)

# Real county-level region codes (GB/T 2260). Each entry: (code before the
# change, code after, year of change) — the same county renumbered. People born
# before the change carry either code (the old one when registered before it,
# 70%; the new one when first registered after it, 30%: a real number that a
# dated code list like python-stdnum's refuses, rulebook §8). The county of
# the synthetic bureau is 上蔡县, Henan (412825 until 2000, 411722 since).
HOME_REGION = ("412825", "411722", 2000)  # 上蔡县
OTHER_REGIONS = (
    ("412826", "411727", 2000),  # 汝南县
    ("412827", "411723", 2000),  # 平舆县
    ("412824", "411721", 2000),  # 西平县
    ("412828", "411729", 2000),  # 新蔡县
    ("412721", "411621", 2000),  # 扶沟县
    ("110105", "110105", 1900),  # 北京市朝阳区
    ("420102", "420102", 1900),  # 武汉市江岸区 (code since 1983)
    ("422822", "422822", 1900),  # 建始县, Hubei
)


def _draw_regions(
    rng: np.random.Generator, birth_days: np.ndarray, home_share: float
) -> np.ndarray:
    """A real region code per person, valid for the birth year (see ``OTHER_REGIONS``)."""
    n = len(birth_days)
    entries = (HOME_REGION, *OTHER_REGIONS)
    p = np.r_[home_share, np.full(len(OTHER_REGIONS), (1 - home_share) / len(OTHER_REGIONS))]
    pick = rng.choice(len(entries), size=n, p=p)
    year = pd.Series(
        np.asarray(birth_days, dtype="int64").astype("datetime64[D]")
    ).dt.year.to_numpy()
    old = np.array([e[0] for e in entries])[pick]
    new = np.array([e[1] for e in entries])[pick]
    change = np.array([e[2] for e in entries])[pick]
    late_registered = rng.random(n) < 0.3
    return np.where((year >= change) | late_registered, new, old)


def draw_id_numbers(
    rng, birth_days, sex, home_share: float, taken: set | None = None
) -> np.ndarray:
    """Valid, unique 18-character resident ID numbers agreeing with birth date and sex.

    The region code is drawn per person, ``home_share`` of them the bureau's
    county; numbers in ``taken`` are not given again (and the new ones are added).
    """
    regions = _draw_regions(rng, birth_days, home_share)
    n = len(regions)
    ymd = (
        pd.Series(np.asarray(birth_days, dtype="int64").astype("datetime64[D]"))
        .dt.strftime("%Y%m%d")
        .to_numpy()
    )
    male = np.asarray(sex) == "M"
    taken = set() if taken is None else taken
    out = np.empty(n, dtype=object)
    todo = np.arange(n)
    while todo.size:
        # sequence: odd for men (001-999), even for women (002-998)
        k = rng.integers(1, 500, size=todo.size)
        seq = 2 * k - male[todo].astype(int)
        body = np.char.add(
            np.char.add(np.asarray(regions)[todo].astype("U6"), ymd[todo].astype("U8")),
            np.char.zfill(seq.astype("U3"), 3),
        )
        num = np.char.add(body, check_chars(body)).astype(object)
        # keep the first of each new number not already taken
        keep = ~pd.Series(num).duplicated().to_numpy() & ~pd.Series(num).isin(taken).to_numpy()
        out[todo[keep]] = num[keep]
        taken.update(num[keep].tolist())
        todo = todo[~keep]
    return out


class Names:
    """Chinese names drawn by numpy from Faker's zh_CN lists (weights for surnames)."""

    def __init__(self, rng: np.random.Generator):
        from faker.providers.person.zh_CN import Provider

        self.rng = rng
        last = Provider.last_names
        self.last = np.array(list(last))
        w = np.array(list(last.values()), dtype=float)
        self.last_p = w / w.sum()
        self.male = np.array(sorted(set(Provider.first_names_male)))
        self.female = np.array(sorted(set(Provider.first_names_female)))

    def draw(self, sex) -> np.ndarray:
        sex = np.asarray(sex)
        n = len(sex)
        last = self.rng.choice(self.last, size=n, p=self.last_p)
        fm = self.rng.choice(self.male, size=n)
        ff = self.rng.choice(self.female, size=n)
        return np.char.add(last.astype(str), np.where(sex == "F", ff, fm).astype(str)).astype(
            object
        )


def make_units(rng, n_couples: int, names: Names) -> pd.DataFrame:
    extra = max(0, round(n_couples / 15) - 20)
    unit_names = list(SECTIONS) + list(AFFILIATED)
    kinds = ["section"] * len(SECTIONS) + ["affiliated"] * len(AFFILIATED)
    townships = URBAN_TOWNSHIPS + RURAL_TOWNSHIPS
    for i in range(extra):  # a larger bureau: township old people's homes (乡镇敬老院)
        t = townships[i % len(townships)]
        unit_names.append(
            f"{t}敬老院" + (f"（{i // len(townships) + 1}）" if i >= len(townships) else "")
        )
        kinds.append("affiliated")
    n = len(unit_names)
    head_sex = np.where(rng.random(n) < 0.7, "M", "F")
    liaison_sex = np.where(rng.random(n) < 0.7, "F", "M")
    return pd.DataFrame(
        {
            "unit_id": serial_ids("U", n, 2),
            "name": unit_names,
            "kind": kinds,
            "head_name": names.draw(head_sex),
            "liaison_name": names.draw(liaison_sex),
        }
    )


def make_people(rng, n: int, units: pd.DataFrame, names: Names, n_script: int):
    """Couples and persons. Returns (couples frame with helper columns, persons frame)."""
    n_units = len(units)
    # affiliated units (福利院, 殡仪馆...) employ more people than sections
    w = np.where(units["kind"].to_numpy() == "affiliated", 2.0, 1.0) * rng.uniform(
        0.6, 1.4, n_units
    )
    unit_p = w / w.sum()
    unit_ids = units["unit_id"].to_numpy()

    basis = np.where(rng.random(n) < 0.7, "staff", "floating")
    anchor_unit = unit_ids[rng.choice(n_units, size=n, p=unit_p)]
    anchor_is_wife = rng.random(n) < 0.45
    other_draw = rng.random(n)
    # the other spouse: staff of another unit, floating (same unit) or outside the system
    other_cat = np.where(
        basis == "staff",
        np.where(other_draw < 0.15, "staff", "outside"),
        np.where(other_draw < 0.2, "floating", "outside"),
    )
    other_unit = np.where(
        other_cat == "staff", unit_ids[rng.choice(n_units, size=n, p=unit_p)], None
    )
    clash = (other_cat == "staff") & (other_unit == anchor_unit)
    other_unit = np.where(
        clash, unit_ids[(np.searchsorted(unit_ids, anchor_unit) + 1) % n_units], other_unit
    )
    other_unit = np.where(other_cat == "floating", anchor_unit, other_unit)

    # wife's age on END 22-58; marriage at 20.5 + gamma; husband about 2 years older
    wife_birth = END_DAY - (rng.uniform(22, 58.9, n) * Y).astype("int64")
    scripted = np.zeros(n, dtype=bool)
    # the rulebook §4 couples: staff wives born 1984-1990, married 2008-2012
    script_idx = np.flatnonzero(basis == "staff")[:n_script]
    scripted[script_idx] = True
    anchor_is_wife[script_idx] = True
    wife_birth[script_idx] = day_of("1984-01-01") + rng.integers(0, 7 * 365, script_idx.size)
    husband_birth = wife_birth - (np.clip(rng.normal(2, 2.5, n), -3, 10) * Y).astype("int64")
    # every couple is married by the extract date at legal ages (wife 20, husband 22)
    husband_birth = np.minimum(husband_birth, END_DAY - 30 - int(22.1 * Y))
    marriage = wife_birth + ((20.5 + rng.gamma(2.0, 1.8, n)) * Y).astype("int64")
    marriage = np.maximum.reduce(
        [marriage, add_years(wife_birth, 20), add_years(husband_birth, 22)]
    )
    too_late = marriage > END_DAY - 60
    age_end = (END_DAY - wife_birth) / Y
    marriage = np.where(
        too_late,
        wife_birth + (rng.uniform(20.5, np.maximum(age_end - 0.3, 20.6)) * Y).astype("int64"),
        marriage,
    )
    marriage = np.maximum.reduce(
        [marriage, add_years(wife_birth, 20), add_years(husband_birth, 22)]
    )
    marriage = np.minimum(marriage, END_DAY - 30)
    marriage[script_idx] = np.maximum.reduce(
        [
            day_of("2008-01-01") + rng.integers(0, 4 * 365, script_idx.size),
            add_years(wife_birth[script_idx], 21),
            add_years(husband_birth[script_idx], 22),
        ]
    )
    divorce = marriage + (rng.uniform(2, 15, n) * Y).astype("int64")
    divorced = (rng.random(n) < 0.05) & (divorce <= END_DAY) & ~scripted

    wife_cat = np.where(anchor_is_wife, basis, other_cat)
    husband_cat = np.where(anchor_is_wife, other_cat, basis)
    wife_unit = np.where(anchor_is_wife, anchor_unit, other_unit)
    husband_unit = np.where(anchor_is_wife, other_unit, anchor_unit)

    # single staff (unmarried, or spouse not recorded)
    n_single = round(0.2 * n)
    single_sex = np.where(rng.random(n_single) < 0.5, "F", "M")
    single_birth = END_DAY - (rng.uniform(22, 59.9, n_single) * Y).astype("int64")
    single_unit = unit_ids[rng.choice(n_units, size=n_single, p=unit_p)]

    sex = np.r_[np.full(n, "F"), np.full(n, "M"), single_sex]
    birth = np.r_[wife_birth, husband_birth, single_birth]
    cat = np.r_[wife_cat, husband_cat, np.full(n_single, "staff")].astype(object)
    unit = np.r_[wife_unit, husband_unit, single_unit].astype(object)
    m = len(sex)
    staff = cat == "staff"
    hire_age = np.where(rng.random(m) < 0.8, rng.uniform(21, 28, m), rng.uniform(28, 45, m))
    hire = birth + (hire_age * Y).astype("int64")
    # not yet hired by the extract date: hire them recently instead
    hire = np.where(hire > END_DAY - 30, END_DAY - rng.integers(30, 700, m), hire)
    hire = np.maximum(hire, add_years(birth, 18))
    retire = add_years(birth, np.where(sex == "F", 55, 60))
    early = hire + (rng.uniform(0.5, 30, m) * Y).astype("int64")
    leave = np.where(rng.random(m) < 0.08, np.minimum(early, retire), retire)
    leave = np.maximum(leave, hire + 30)
    has_leave = staff & (leave <= END_DAY)
    # the rulebook §4 wives stay in post throughout
    has_leave[script_idx] = False
    hire[script_idx] = np.minimum(
        hire[script_idx], day_of("2012-01-01") - rng.integers(0, 3 * 365, script_idx.size)
    )
    id_numbers = draw_id_numbers(rng, birth, sex, home_share=0.75)
    person_id = serial_ids("P", m, 5)
    persons = pd.DataFrame(
        {
            "person_id": person_id,
            "name": names.draw(sex),
            "id_number": id_numbers,
            "sex": sex,
            "birth_date": to_dt(birth),
            "unit_id": np.where(cat == "outside", None, unit),
            "category": cat,
            "hire_date": to_dt(hire, staff),
            "leave_date": to_dt(leave, has_leave),
        }
    )
    couples = pd.DataFrame(
        {
            "couple_id": serial_ids("C", n, 4),
            "wife_id": person_id[:n],
            "husband_id": person_id[n : 2 * n],
            "marriage": marriage,
            "divorce": np.where(divorced, divorce, NEVER),
            "divorced": divorced,
            "wife_birth": wife_birth,
            "basis": basis,
            "scripted": scripted,
            "wife_cat": wife_cat,
            "husband_cat": husband_cat,
            "wife_unit": wife_unit,
            "husband_unit": husband_unit,
            "wife_hire": np.where(wife_cat == "staff", hire[:n], NEVER),
            "wife_leave": np.where(has_leave[:n], leave[:n], NEVER),
            "husband_hire": np.where(husband_cat == "staff", hire[n : 2 * n], NEVER),
            "husband_leave": np.where(has_leave[n : 2 * n], leave[n : 2 * n], NEVER),
        }
    )
    couples.loc[couples["wife_cat"] == "floating", "wife_hire"] = -NEVER
    couples.loc[couples["husband_cat"] == "floating", "husband_hire"] = -NEVER
    return couples, persons


def assign_unit_heads(rng, units: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    """Each unit's head (its most senior staff member in post) and liaison (another, at random).

    A unit without two staff in post keeps the names drawn for it.
    """
    p = persons[(persons["category"] == "staff") & persons["leave_date"].isna()]
    p = p.assign(r=rng.random(len(p))).sort_values(
        ["unit_id", "birth_date", "person_id"], kind="mergesort"
    )
    head = p.groupby("unit_id").head(1)
    rest = p[~p["person_id"].isin(head["person_id"])].sort_values(
        ["unit_id", "r"], kind="mergesort"
    )
    liaison = rest.groupby("unit_id").head(1).set_index("unit_id")["name"]
    head = head.set_index("unit_id")["name"]
    units = units.copy()
    both = units["unit_id"].isin(head.index) & units["unit_id"].isin(liaison.index)
    units.loc[both, "head_name"] = units.loc[both, "unit_id"].map(head)
    units.loc[both, "liaison_name"] = units.loc[both, "unit_id"].map(liaison)
    return units


def responsible_units(couples: pd.DataFrame, day: int) -> tuple[np.ndarray, np.ndarray]:
    """(responsible unit or None, basis) of each couple on ``day`` (rulebook §2; wife first)."""
    married = (couples["marriage"].to_numpy() <= day) & (couples["divorce"].to_numpy() > day)
    ws = (
        (couples["wife_cat"].to_numpy() == "staff")
        & (couples["wife_hire"].to_numpy() <= day)
        & (couples["wife_leave"].to_numpy() > day)
    )
    hs = (
        (couples["husband_cat"].to_numpy() == "staff")
        & (couples["husband_hire"].to_numpy() <= day)
        & (couples["husband_leave"].to_numpy() > day)
    )
    wf = couples["wife_cat"].to_numpy() == "floating"
    hf = couples["husband_cat"].to_numpy() == "floating"
    wu, hu = couples["wife_unit"].to_numpy(), couples["husband_unit"].to_numpy()
    unit = np.select([ws, hs, wf, hf], [wu, hu, wu, hu], default=None)
    basis = np.where(ws | hs, "staff", np.where(wf | hf, "floating", ""))
    unit = np.where(married, unit, None)
    basis = np.where(married & pd.notna(unit), basis, "")
    return unit, basis
