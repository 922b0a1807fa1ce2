"""A seeded synthetic county Civil Affairs Bureau (民政局): every table of DATA.md.

``generate(seed)`` builds a realistic, internally consistent dataset that the
analyses (POLICY.md §2–§6) can run on; ``write_dataset`` writes it as CSV,
Parquet or one XLSX workbook. ``fpanalysis synth`` is the command line. The
committed sample ``data/sample`` is ``generate(20241)``.

What is in it (the default ``people=300`` couples; ``--people N`` scales the
couples, households and, past 300 couples, units roughly proportionally):

- **Units** (§1): 20 — ten sections (股室) and ten affiliated units (局属单位)
  of a county bureau; the head (第一责任人) is the unit's most senior staff
  member in post, the FP liaison another of its staff.
- **Persons and couples** (§2): about 70% of couples have a staff spouse
  (wife or husband; about 15% of those are married to staff of another unit),
  the rest a floating-population spouse registered with a unit; the other
  spouse is ``outside`` (empty ``unit_id``) or staff/floating too. About 20%
  more single staff. Staff have hire dates (a fifth transferred in later in
  life) and leave on retirement (women at 55, men at 60) or, for 8%, earlier.
  About 5% of couples divorce.
- **Births** (§3 C6, §5): each couple wants 0–3 children (8/50/37/5%:
  completed fertility ≈ 1.4 for wives past 46, inside the 1.2–1.6 range of
  China's measured total fertility — about 1.2 in the 2010 census, 1.3 in
  the 2020 census, about 1.6 in the 2017 national fertility survey); a child
  is a boy with probability 118/218: a sex ratio at birth of about 118 boys
  per 100 girls, as the 2005 1% population sample survey and the 2010 census
  measured it (NBS). Pregnancies are simulated from marriage on, with
  miscarriages (11% of planned pregnancies), terminations (5%; medical ones
  mostly after 16 weeks and county-approved, a few ``other`` late ones
  unapproved, a few for sex selection) and unplanned pregnancies after the
  wanted family is complete (12% of couples; 75% terminated). 1% of births are
  twins. Pregnancy records start in 2018 (the register's start); ~8% of births
  since then have none (a birth registered without a pregnancy record).
- **Birth permits** (§3 C6/C7, §4): 93% of planned attempts have a permit
  issued before conception, 3% one issued during the pregnancy (a pregnancy
  without a permit, then a permitted birth), 4% none (an out-of-plan birth);
  unused permits of divorced couples are cancelled. Permits are kept back to
  the oldest child's (an old birth is not out of plan for want of a record);
  sex-selective terminations by permit holders outside the scripted cases
  have the county's cancellation recorded half of the time.
- **The §4 case**: at least ``max(2, couples/150)`` scripted couples with a
  valid permit terminate a pregnancy for sex selection without approval and
  later have another pregnancy or birth — alternately with the county's
  cancellation recorded in ``permits`` and without it (then a new permit is
  issued, which §4 says is not valid).
- **Surveys** (§3 C1–C3), for couples whose wife is 15–49: a baseline each
  year for staff couples (90% between 1 Jan and 31 Mar, 5% late in April/May,
  5% missing), a follow-up each half-year for staff and floating couples (90%
  inside the half, 4% in the first 45 days of the next, 6% missing — twice as
  often for floating couples); each unit's miss rates are scaled by its own
  diligence factor (0.3–2.5) so that scorecards differ. 6% of surveys (10%
  floating) find a problem: 82% are reported within 15 days, 10% after 16–60
  days, 8% never. 4% of surveys are carried out by another unit.
- **Check rounds** (§3 C4): twice a year, starting 8–14 March and 8–14
  September and lasting 13–16 days — local practice (县计生部门每年春秋两次
  环孕检). Required women (married, 15–49, not sterilised, not pregnant, no
  pregnancy ended in the 30 days before) attend inside the window with
  probability 0.93 (scaled by unit diligence), 2% come late, the rest miss.
- **Contraception** (§3 C4/C5): spacing methods (IUD 70%, implant 15%, other
  15%) after 60% of births that are not the last; after the last, female
  (85%) or male sterilisation for 45% and an IUD for 45%. A sterilisation
  followed by an unplanned pregnancy is found falsified; 2% of other IUD or
  sterilisation records are found falsified on a day while in use.
- **Only-child certificates** (§5): 85% of staff couples and 30% of floating
  couples who want one child (a fifth of that for couples who plan a second)
  with a first child born since 2004 take one 1–48 months after the birth
  (median about 6); the payee is the staff (or floating) parent, 3% the
  spouse outside the system; a staff payee is on the payroll at the issue
  date except a quarter of those hired later (transfers in, DATA.md); a
  certificate is revoked within 3 months of a second birth.
- **Hardship households** (§6): as many as couples; 40% urban; sizes 1–6;
  single elderly (鳏/寡), orphans (孤), only-daughter (12%), two daughters with
  a spouse sterilised (7%), infertile (4%) and other families. Per-capita
  incomes are 72% below the county 低保 standard in force at the data's end
  (``policy.yaml`` ``dibao_standard_yuan``: 2021 = the national averages of
  684 yuan urban and 504 yuan rural per person per month, MCA statistics) and
  28% at 1.0–1.8 times it. 85% of FP households declare their type; a declared
  type always agrees with the members (a contradiction is a data-entry error,
  added only by ``faults``). A third of eligible households have an assessed
  tier (80% equal to the income band's tier).

Years: events run from before 2018 (children, certificates, marriages) to
``END`` = 2025-11-28, the extract date: every default period of the analyses
comes from the data, never from today's date.

**Faults.** The clean sample holds non-compliant *behaviour* (late or missing
surveys, missed checks, out-of-plan births, unapproved late terminations,
falsified contraception), never data-entry errors. ``generate(faults=True)``
(``fpanalysis synth --faults``) adds the data-entry errors of :data:`FAULTS`,
each at its documented rate (at least one of each); the format faults
(``bad_date``, ``bad_number``, ``bad_enum``) are text in a typed column and
are written as text.

Determinism: a ``numpy`` generator per component, spawned from one
``SeedSequence(seed)``; names are drawn by numpy from Faker's ``zh_CN`` name
lists (no Faker randomness, no dates from today); rows sorted by key; CSV
UTF-8 with BOM and ``\\n`` line ends; XLSX with fixed document properties and
zip entry times (``SOURCE_DATE_EPOCH`` when set, else 2000-01-01).

Examples:
    >>> t = generate(seed=7, people=40)
    >>> sorted(t) == sorted(TABLES)
    True
    >>> t["couples"]["couple_id"].is_unique
    True
    >>> generate(seed=7, people=40)["persons"].equals(t["persons"])
    True
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from fpanalysis.core.clock import document_time
from fpanalysis.core.ids import check_chars
from fpanalysis.core.schema import TABLES, TABLES_LIST

DEFAULT_SEED = 20241
DEFAULT_COUPLES = 300
START = pd.Timestamp("2018-01-01")  # the register's first year
END = pd.Timestamp("2025-11-28")  # the extract date: the last recorded date is on or before it
_EPOCH = pd.Timestamp("1970-01-01")
_S = int((START - _EPOCH).days)
_E = int((END - _EPOCH).days)
Y = 365.25
# "no such date" in the int-day arrays: far in the future, small enough never to overflow
# when days are added to it or when it goes through float64 (missing values in pandas)
_NEVER = 10**9

# Real county-level region codes (GB/T 2260). Each entry: (code before the
# change, code after, year of change) — the same county renumbered. People born
# before the change carry either code (the old one when registered before it,
# 70%; the new one when first registered after it, 30%: a real number that a
# dated code list like python-stdnum's refuses, POLICY.md §8). The county of
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

SECTIONS = (
    "办公室",
    "人事股",
    "财务股",
    "社会救助股",
    "优抚安置股",
    "基层政权和社区建设股",
    "社会事务股",
    "区划地名股",
    "社会组织管理股",
    "老龄办",
)
AFFILIATED = (
    "社会福利院",
    "殡仪馆",
    "救助管理站",
    "光荣院",
    "婚姻登记处",
    "城关敬老院",
    "居民家庭经济状况核对中心",
    "烈士陵园管理所",
    "军队离退休干部休养所",
    "福利彩票销售管理站",
)
URBAN_TOWNSHIPS = ("城关镇", "东城街道", "西城街道")
RURAL_TOWNSHIPS = (
    "黄埠镇",
    "杨集镇",
    "洙湖镇",
    "党店镇",
    "朱里镇",
    "华陂镇",
    "塔桥乡",
    "东洪乡",
    "邵店镇",
    "五龙镇",
)

# Data-entry faults added by ``faults=True``: kind -> (table, rate of the table's rows, zh, en).
# At least one of each kind is added whatever the rate.
FAULTS: Mapping[str, tuple[str, float, str, str]] = {
    "bad_check_char": (
        "persons",
        0.01,
        "身份证号校验码错误",
        "resident ID number with a wrong check character",
    ),
    "sex_id_mismatch": (
        "persons",
        0.005,
        "性别与身份证号不一致",
        "sex disagrees with the ID number",
    ),
    "birth_id_mismatch": (
        "persons",
        0.005,
        "出生日期与身份证号不一致",
        "birth date disagrees with the ID number",
    ),
    "unknown_unit": ("persons", 0.005, "单位编号不存在", "unit_id refers to no unit"),
    "wife_not_female": ("couples", 0.005, "女方编号指向男性", "wife_id refers to a man"),
    "cert_before_birth": (
        "certificates",
        0.02,
        "领证日期早于子女出生",
        "certificate issued before the child's birth",
    ),
    "end_before_start": (
        "contraception",
        0.005,
        "结束日期早于开始日期",
        "end_date before start_date",
    ),
    "duplicate_key": ("children", 0.005, "编号重复", "duplicate key"),
    "size_mismatch": (
        "households",
        0.01,
        "家庭人口与成员数不符",
        "size differs from the members listed",
    ),
    "fp_type_contradicted": (
        "households",
        0.01,
        "申报计生类型与成员不符",
        "declared FP type contradicted by the members",
    ),
    "head_id_mismatch": (
        "households",
        0.01,
        "户主身份证号与户主成员不符",
        "head_id_number disagrees with the head member",
    ),
    "bad_date": ("surveys", 0.002, "日期无法识别", "unreadable date (text)"),
    "bad_number": ("households", 0.005, "数字无法识别", "unreadable number (text)"),
    "bad_enum": (
        "pregnancies",
        0.005,
        "选项不在允许值内",
        "value not among the allowed codes (text)",
    ),
}
_TEXT_FAULTS = ("bad_date", "bad_number", "bad_enum")
_COMPONENTS = (
    "units",
    "people",
    "repro",
    "script",
    "contra",
    "certs",
    "surveys",
    "checks",
    "households",
    "faults",
)


class SynthTables(dict):
    """``dict`` table name -> typed frame, plus the faults added (``faults`` log, a DataFrame).

    A format fault (``bad_date`` ...) cannot live in a typed column: its column
    is held as ``object`` with the raw text in the faulted cell.
    """

    faults: pd.DataFrame | None = None


# --------------------------------------------------------------------------- helpers


def _days(ts) -> int:
    return int((pd.Timestamp(ts) - _EPOCH).days)


def _to_dt(days, valid=None) -> pd.Series:
    """int days since 1970 (numpy) -> datetime64[ns] Series; ``valid`` False -> NaT."""
    d = np.asarray(days, dtype="int64")
    out = pd.Series(d.astype("datetime64[D]").astype("datetime64[ns]"))
    if valid is not None:
        out = out.where(np.asarray(valid, dtype=bool))
    return out


def _add_years(days: np.ndarray, years) -> np.ndarray:
    """The date ``years`` after each date, 29 Feb -> 28 Feb (as int days)."""
    s = pd.Series(np.asarray(days, dtype="int64").astype("datetime64[D]"))
    y = s.dt.year.to_numpy() + np.asarray(years)
    m = s.dt.month.to_numpy()
    d = s.dt.day.to_numpy()
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    d = np.where((m == 2) & (d == 29) & ~leap, 28, d)
    ts = pd.to_datetime(pd.DataFrame({"year": y, "month": m, "day": d}))
    return ((ts - _EPOCH).dt.days).to_numpy().astype("int64")


def _age_on(birth_days: np.ndarray, on_days) -> np.ndarray:
    """Completed years on ``on`` (29 Feb birthdays fall on 28 Feb), as ints."""
    b = pd.Series(np.asarray(birth_days, dtype="int64").astype("datetime64[D]"))
    o = pd.Series(
        np.broadcast_to(np.asarray(on_days, dtype="int64"), b.shape).astype("datetime64[D]")
    )
    by, bm, bd = b.dt.year.to_numpy(), b.dt.month.to_numpy(), b.dt.day.to_numpy()
    oy, om, od = o.dt.year.to_numpy(), o.dt.month.to_numpy(), o.dt.day.to_numpy()
    leap = (oy % 4 == 0) & ((oy % 100 != 0) | (oy % 400 == 0))
    bd = np.where((bm == 2) & (bd == 29) & ~leap, 28, bd)
    return oy - by - ((om < bm) | ((om == bm) & (od < bd))).astype(int)


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    """``prefix`` + zero-padded 1..n, wide enough that string order is numeric order."""
    w = max(width, len(str(n)))
    return np.array([f"{prefix}{i:0{w}d}" for i in range(1, n + 1)], dtype=object)


def _regions(rng: np.random.Generator, birth_days: np.ndarray, home_share: float) -> np.ndarray:
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


def _id_numbers(rng, regions, birth_days, sex, taken: set | None = None) -> np.ndarray:
    """Valid, unique 18-character resident ID numbers agreeing with birth date and sex."""
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


class _Names:
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


def _typed(table: str, data: dict) -> pd.DataFrame:
    """A frame of ``table`` in schema order and dtypes, sorted by key, index = file row."""
    t = TABLES[table]
    n = len(next(iter(data.values()))) if data else 0
    cols = {}
    for c in t.columns:
        v = data.get(c.name)
        if v is None:
            s = pd.Series([None] * n, dtype="object")
        else:
            s = pd.Series(v).reset_index(drop=True)
        if c.type == "date":
            s = pd.to_datetime(s).astype("datetime64[ns]")
        elif c.type in ("id", "text", "enum", "set"):
            s = s.astype("object").where(s.notna()).astype("str")
        elif c.type == "number":
            s = s.astype("float64")
        else:
            s = s.astype(c.dtype)
        cols[c.name] = s
    df = pd.DataFrame(cols)
    df = df.sort_values(list(t.key), kind="mergesort").reset_index(drop=True)
    df.index = pd.RangeIndex(2, 2 + len(df), name="row")
    return df


# --------------------------------------------------------------------------- units and people


def _units(rng, n_couples: int, names: _Names) -> pd.DataFrame:
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
            "unit_id": _ids("U", n, 2),
            "name": unit_names,
            "kind": kinds,
            "head_name": names.draw(head_sex),
            "liaison_name": names.draw(liaison_sex),
        }
    )


def _people(rng, n: int, units: pd.DataFrame, names: _Names, n_script: int):
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
    wife_birth = _E - (rng.uniform(22, 58.9, n) * Y).astype("int64")
    scripted = np.zeros(n, dtype=bool)
    # the §4 couples: staff wives born 1984-1990, married 2008-2012
    script_idx = np.flatnonzero(basis == "staff")[:n_script]
    scripted[script_idx] = True
    anchor_is_wife[script_idx] = True
    wife_birth[script_idx] = _days("1984-01-01") + rng.integers(0, 7 * 365, script_idx.size)
    husband_birth = wife_birth - (np.clip(rng.normal(2, 2.5, n), -3, 10) * Y).astype("int64")
    # every couple is married by the extract date at legal ages (wife 20, husband 22)
    husband_birth = np.minimum(husband_birth, _E - 30 - int(22.1 * Y))
    marriage = wife_birth + ((20.5 + rng.gamma(2.0, 1.8, n)) * Y).astype("int64")
    marriage = np.maximum.reduce(
        [marriage, _add_years(wife_birth, 20), _add_years(husband_birth, 22)]
    )
    too_late = marriage > _E - 60
    age_end = (_E - wife_birth) / Y
    marriage = np.where(
        too_late,
        wife_birth + (rng.uniform(20.5, np.maximum(age_end - 0.3, 20.6)) * Y).astype("int64"),
        marriage,
    )
    marriage = np.maximum.reduce(
        [marriage, _add_years(wife_birth, 20), _add_years(husband_birth, 22)]
    )
    marriage = np.minimum(marriage, _E - 30)
    marriage[script_idx] = np.maximum.reduce(
        [
            _days("2008-01-01") + rng.integers(0, 4 * 365, script_idx.size),
            _add_years(wife_birth[script_idx], 21),
            _add_years(husband_birth[script_idx], 22),
        ]
    )
    divorce = marriage + (rng.uniform(2, 15, n) * Y).astype("int64")
    divorced = (rng.random(n) < 0.05) & (divorce <= _E) & ~scripted

    wife_cat = np.where(anchor_is_wife, basis, other_cat)
    husband_cat = np.where(anchor_is_wife, other_cat, basis)
    wife_unit = np.where(anchor_is_wife, anchor_unit, other_unit)
    husband_unit = np.where(anchor_is_wife, other_unit, anchor_unit)

    # single staff (unmarried, or spouse not recorded)
    n_single = round(0.2 * n)
    single_sex = np.where(rng.random(n_single) < 0.5, "F", "M")
    single_birth = _E - (rng.uniform(22, 59.9, n_single) * Y).astype("int64")
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
    hire = np.where(hire > _E - 30, _E - rng.integers(30, 700, m), hire)
    hire = np.maximum(hire, _add_years(birth, 18))
    retire = _add_years(birth, np.where(sex == "F", 55, 60))
    early = hire + (rng.uniform(0.5, 30, m) * Y).astype("int64")
    leave = np.where(rng.random(m) < 0.08, np.minimum(early, retire), retire)
    leave = np.maximum(leave, hire + 30)
    has_leave = staff & (leave <= _E)
    # the §4 wives stay in post throughout
    has_leave[script_idx] = False
    hire[script_idx] = np.minimum(
        hire[script_idx], _days("2012-01-01") - rng.integers(0, 3 * 365, script_idx.size)
    )
    ids_region = _regions(rng, birth, home_share=0.75)
    id_numbers = _id_numbers(rng, ids_region, birth, sex)
    person_id = _ids("P", m, 5)
    persons = pd.DataFrame(
        {
            "person_id": person_id,
            "name": names.draw(sex),
            "id_number": id_numbers,
            "sex": sex,
            "birth_date": _to_dt(birth),
            "unit_id": np.where(cat == "outside", None, unit),
            "category": cat,
            "hire_date": _to_dt(hire, staff),
            "leave_date": _to_dt(leave, has_leave),
        }
    )
    couples = pd.DataFrame(
        {
            "couple_id": _ids("C", n, 4),
            "wife_id": person_id[:n],
            "husband_id": person_id[n : 2 * n],
            "marriage": marriage,
            "divorce": np.where(divorced, divorce, _NEVER),
            "divorced": divorced,
            "wife_birth": wife_birth,
            "basis": basis,
            "scripted": scripted,
            "wife_cat": wife_cat,
            "husband_cat": husband_cat,
            "wife_unit": wife_unit,
            "husband_unit": husband_unit,
            "wife_hire": np.where(wife_cat == "staff", hire[:n], _NEVER),
            "wife_leave": np.where(has_leave[:n], leave[:n], _NEVER),
            "husband_hire": np.where(husband_cat == "staff", hire[n : 2 * n], _NEVER),
            "husband_leave": np.where(has_leave[n : 2 * n], leave[n : 2 * n], _NEVER),
        }
    )
    couples.loc[couples["wife_cat"] == "floating", "wife_hire"] = -_NEVER
    couples.loc[couples["husband_cat"] == "floating", "husband_hire"] = -_NEVER
    return couples, persons


def _unit_heads(rng, units: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
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


def _responsible(couples: pd.DataFrame, day: int) -> tuple[np.ndarray, np.ndarray]:
    """(responsible unit or None, basis) of each couple on ``day`` (POLICY.md §2; wife first)."""
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


# --------------------------------------------------------------------------- births and pregnancies

_TERM_WEEKS = {  # (share at or after 16 weeks, early range, late range) by termination reason
    "medical": (0.7, (8, 15), (16, 28)),
    "other": (0.1, (6, 12), (16, 24)),
    "sex_selection": (1.0, (14, 15), (14, 26)),
    "unknown": (0.3, (8, 15), (16, 20)),
}


_PREG_DTYPES = {
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
_KID_DTYPES = {"c": "int64", "birth": "int64", "twin": "bool"}
_PERMIT_DTYPES = {"pid": "int64", "c": "int64", "issue": "int64", "used_day": "int64"}
_CONTRA_DTYPES = {"c": "int64", "start": "int64", "end": "int64", "falsified": "int64"}


def _ix(frame: pd.DataFrame) -> np.ndarray:
    """The couple positions of a frame's ``c`` column, as integers even when it is empty."""
    return frame["c"].to_numpy(dtype="int64")


def _uniform_int(rng, lo, hi, size=None) -> np.ndarray:
    """Integers in [lo, hi] inclusive (arrays allowed)."""
    lo = np.asarray(lo, dtype="int64")
    hi = np.asarray(hi, dtype="int64")
    return lo + np.floor(
        rng.random(size if size is not None else np.broadcast(lo, hi).shape) * (hi - lo + 1)
    ).astype("int64")


def _reproduction(rng, couples: pd.DataFrame):
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
    t = marriage + _uniform_int(rng, 30, 900, n)
    t[scripted] = marriage[scripted] + _uniform_int(rng, 100, 700, int(scripted.sum()))
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
        # permit for a new planned attempt: before conception (93%), during pregnancy (3%), none (4%)
        new_att = going & planned & ~attempt_open
        r_permit = rng.random(n)
        early_issue = np.maximum(conception - _uniform_int(rng, 20, 300, n), marriage + 7)
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
            rng.random(n) < 0.95, _uniform_int(rng, 37, 41, n), _uniform_int(rng, 33, 36, n)
        )
        mis_weeks = np.where(
            rng.random(n) < 0.8, _uniform_int(rng, 7, 12, n), _uniform_int(rng, 13, 22, n)
        )
        weeks = np.where(outcome == "miscarriage", mis_weeks, weeks)
        r_late = rng.random(n)
        for why, (late_share, (e0, e1), (l0, l1)) in _TERM_WEEKS.items():
            w = np.where(
                r_late < late_share, _uniform_int(rng, l0, l1, n), _uniform_int(rng, e0, e1, n)
            )
            weeks = np.where(reason == why, w, weeks)
        detect_week = np.minimum(_uniform_int(rng, 5, 12, n), weeks - 1)
        detected = lmp + detect_week * 7 + _uniform_int(rng, 0, 6, n)
        out_day = lmp + weeks * 7 + _uniform_int(rng, 0, 6, n)
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

        late_issue = detected + _uniform_int(rng, 7, 60, n)
        kind = np.select(
            [r_permit < 0.93, (r_permit < 0.96) & (late_issue < out_day)], ["early", "late"], "none"
        )
        issue = np.where(kind == "early", early_issue, late_issue)
        got = new_att & (kind != "none") & (issue <= _E)
        idx = np.flatnonzero(got)
        permits.append(
            pd.DataFrame({"pid": n_permits + np.arange(idx.size), "c": idx, "issue": issue[idx]})
        )
        attempt_permit[idx] = n_permits + np.arange(idx.size)
        n_permits += idx.size
        attempt_open |= new_att

        seen = going & (detected <= _E)
        ongoing = seen & (out_day > _E)
        idx = np.flatnonzero(seen)
        preg.append(
            pd.DataFrame(
                {
                    "c": idx,
                    "conception": conception[idx],
                    "detected": detected[idx],
                    "outcome": np.where(ongoing[idx], "ongoing", outcome[idx]),
                    "out_day": np.where(ongoing[idx], _NEVER, out_day[idx]),
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
        t = np.where(born, out_day + spacing, out_day + _uniform_int(rng, 90, 540, n))
        last_outcome = np.where(active, out_day, last_outcome)
        # an unplanned pregnancy ends the story; the §4 couples' later story is scripted
        active &= ~unpl & ~(scripted & born)
        unplanned_done |= unpl

    preg = pd.concat(preg, ignore_index=True).astype(_PREG_DTYPES)
    kids = pd.concat(kids, ignore_index=True).astype(_KID_DTYPES)
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
    permits["used_day"] = permits["used_day"].fillna(_NEVER).astype("int64")
    return preg, kids, permits, target


_CANCEL_SEX_SELECTION = "选择性别终止妊娠，取消生育指标"
_CANCEL_DIVORCE = "夫妻离婚，注销未使用的生育证"


def _script_cases(rng, couples, preg, kids, permits):
    """The §4 story of each scripted couple, after its first child (see the module docstring).

    Alternately (A) the county's cancellation is recorded and a son is born
    later without a permit, and (B) no cancellation is recorded, a new permit
    is issued (not valid under §4) and another pregnancy follows. A loop over a
    handful of couples (``couples/150``), not over table rows.

    Returns (pregnancies, children, permits, cancellations, contraception) to append.
    """
    idx = np.flatnonzero(couples["scripted"].to_numpy())
    first_birth = kids.groupby("c")["birth"].min()
    next_pid = int(permits["pid"].max()) + 1 if len(permits) else 0
    P, K, B, X, J = [], [], [], [], []

    def u(lo, hi):
        return int(rng.integers(lo, hi + 1))

    for i, c in enumerate(idx):
        y0 = 2019 + (i // 2) % 4
        fb = int(first_birth.loc[c])
        variant_a = i % 2 == 0
        issue1 = _days(f"{y0}-02-01" if variant_a else f"{y0}-03-01") + u(0, 30)
        lmp1 = issue1 + u(40, 100)
        w1 = u(18, 22) if variant_a else u(14, 15)
        det1 = lmp1 + 7 * u(7, 9) + u(0, 6)
        out1 = lmp1 + 7 * w1 + u(0, 6)
        pid1 = next_pid
        next_pid += 1
        B.append({"pid": pid1, "c": c, "issue": issue1, "used_day": _NEVER})
        P.append(
            {
                "c": c,
                "conception": lmp1 + 14,
                "detected": det1,
                "outcome": "termination",
                "out_day": out1,
                "weeks": w1,
                "reason": "sex_selection",
                "approved": 0.0 if variant_a else np.nan,
                "designated": 0.0 if variant_a else 1.0,
                "planned": True,
                "permit": pid1,
            }
        )
        if variant_a:
            X.append({"pid": pid1, "cancelled": out1 + u(30, 90), "reason": _CANCEL_SEX_SELECTION})
            lmp2 = out1 + u(200, 400)
        else:
            issue2 = out1 + u(180, 300)
            B.append({"pid": next_pid, "c": c, "issue": issue2, "used_day": _NEVER})
            next_pid += 1
            lmp2 = issue2 + u(60, 200)
        det2 = lmp2 + 7 * 7 + u(0, 6)
        w2 = u(38, 40)
        out2 = lmp2 + 7 * w2 + u(0, 6)
        ongoing = out2 > _E
        P.append(
            {
                "c": c,
                "conception": lmp2 + 14,
                "detected": det2,
                "outcome": "ongoing" if ongoing else "birth",
                "out_day": _NEVER if ongoing else out2,
                "weeks": w2,
                "reason": None,
                "approved": np.nan,
                "designated": np.nan,
                "planned": True,
                "permit": -1,
            }
        )
        if not ongoing:
            K.append({"c": c, "birth": out2, "twin": False, "sex": "M"})
        start = fb + u(60, 200)
        end = lmp1 - u(30, 90)
        if end > start:
            J.append(
                {
                    "c": c,
                    "who": "wife",
                    "method": "iud",
                    "start": start,
                    "end": end,
                    "falsified": _NEVER,
                }
            )
    cols = {
        "P": list(preg.columns),
        "K": ["c", "birth", "twin", "sex"],
        "B": ["pid", "c", "issue", "used_day"],
    }
    return (
        pd.DataFrame(P, columns=cols["P"]).astype(_PREG_DTYPES),
        pd.DataFrame(K, columns=cols["K"]).astype(_KID_DTYPES),
        pd.DataFrame(B, columns=cols["B"]).astype(_PERMIT_DTYPES),
        pd.DataFrame(X, columns=["pid", "cancelled", "reason"]).astype(
            {"pid": "int64", "cancelled": "int64"}
        ),
        pd.DataFrame(J, columns=["c", "who", "method", "start", "end", "falsified"]).astype(
            _CONTRA_DTYPES
        ),
    )


def _contraception(rng, couples, preg, target) -> pd.DataFrame:
    """Methods after births: spacing between births, sterilisation or IUD after the last (module docstring)."""
    p = preg[~couples["scripted"].to_numpy()[_ix(preg)]].sort_values(
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
    final = b["n_births"].to_numpy() >= target[_ix(b)]
    has_next = b["next_conception"].notna().to_numpy()
    next_conc = b["next_conception"].fillna(_NEVER).astype("int64").to_numpy()
    next_det = b["next_detected"].fillna(_NEVER).astype("int64").to_numpy()
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
    start = birth + np.where(sterile, _uniform_int(rng, 42, 365, n), _uniform_int(rng, 42, 240, n))
    end = np.where(spacing & has_next, next_conc - _uniform_int(rng, 30, 120, n), _NEVER)
    # an IUD that fails: removed when the unplanned pregnancy is found
    end = np.where(iud_final & has_next, next_det, end)
    falsified = np.where(sterile & has_next, next_det + _uniform_int(rng, 0, 45, n), _NEVER)
    ok = (
        pd.notna(method)
        & (start <= _E)
        & (end > start + 30)
        & ((end == _NEVER) | (end >= _days("2015-01-01")))
    )  # noqa: E711
    who = np.where(method == "male_sterilization", "husband", "wife")
    out = pd.DataFrame(
        {
            "c": _ix(b),
            "who": who,
            "method": method,
            "start": start,
            "end": end,
            "falsified": falsified,
        }
    )[ok].reset_index(drop=True)
    # 2% of the other IUD and sterilisation records are found falsified at some check
    m = len(out)
    lo = np.maximum(out["start"].to_numpy() + 180, _S)
    hi = np.minimum(out["end"].to_numpy(), _E)
    pick = (rng.random(m) < 0.02) & out["method"].isin(
        ["iud", "female_sterilization", "male_sterilization"]
    ).to_numpy()
    pick &= (out["falsified"].to_numpy() == _NEVER) & (hi > lo)
    found = lo + np.floor(rng.random(m) * np.maximum(hi - lo, 1)).astype("int64")
    out["falsified"] = np.where(pick, found, out["falsified"].to_numpy())
    out.loc[out["falsified"] > _E, "falsified"] = _NEVER
    return out


def _certificates(rng, couples, kids, target) -> pd.DataFrame:
    """Only-child certificates for first children born since 2004 (module docstring)."""
    k = kids.sort_values(["c", "birth"], kind="mergesort").reset_index(drop=True)
    first = k.groupby("c").head(1)
    first = first[~first["twin"]]
    later = k.merge(first[["c", "birth"]].rename(columns={"birth": "fb"}), on="c")
    second = later[later["birth"] > later["fb"]].groupby("c")["birth"].min()
    first = first[first["birth"] >= _days("2004-01-01")].reset_index()
    n = len(first)
    c = _ix(first)
    basis = couples["basis"].to_numpy()[c]
    # couples who plan a second child seldom take the certificate (they would give it back)
    take = rng.random(n) < np.where(basis == "staff", 0.85, 0.30) * np.where(
        target[c] > 1, 0.2, 1.0
    )
    lag = np.clip(1 + rng.gamma(1.5, 4.0, n), 1, 48)
    issue = first["birth"].to_numpy() + (lag * 30.44).astype("int64")
    sec = second.reindex(c).fillna(_NEVER).astype("int64").to_numpy()
    take &= (issue <= _E) & (sec > issue)
    revoked = np.where(sec <= _E, sec + _uniform_int(rng, 0, 90, n), _NEVER)
    revoked = np.where(revoked <= _E, revoked, _NEVER)
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
    # hired later transferred in with the certificate (DATA.md: "may join the payroll after the issue date")
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


def _childbearing(couples, day: int) -> np.ndarray:
    age = _age_on(couples["wife_birth"].to_numpy(), day)
    return (age >= 15) & (age <= 49)


def _surveys(rng, couples, units, diligence) -> pd.DataFrame:
    """Baselines and half-year follow-ups with late, missing and unreported ones (module docstring)."""
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
        jan1 = _days(f"{year}-01-01")
        waves = [("baseline", jan1, _days(f"{year}-03-31"), ("staff",), 1.0)]
        waves += [
            (
                "followup",
                _days(f"{year}-{m0}-01"),
                _days(f"{year}-{m1}"),
                ("staff", "floating"),
                2.0,
            )
            for m0, m1 in (("01", "06-30"), ("07", "12-31"))
        ]
        for kind, d0, d1, bases, floating_factor in waves:
            unit, basis = _responsible(couples, d0)
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
            late_day = d1 + 1 + _uniform_int(rng, 0, 60 if kind == "baseline" else 44, idx.size)
            day = np.where(r < late, late_day, on_time)
            keep = (r >= late + miss) | (r < late)
            keep &= day <= _E
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
    lag = np.where(r < 0.82, _uniform_int(rng, 0, 15, n), _uniform_int(rng, 16, 60, n))
    reported = np.where(
        problem & (r < 0.92) & (s["day"].to_numpy() + lag <= _E), s["day"].to_numpy() + lag, _NEVER
    )
    s["problem"] = problem
    s["reported"] = reported
    return s


def _check_rounds(rng) -> pd.DataFrame:
    """Twice a year, spring (March) and autumn (September): the county's schedule."""
    rows = []
    for year in range(START.year, END.year + 1):
        for k, month in ((1, "03"), (2, "09")):
            start = _days(f"{year}-{month}-08") + int(rng.integers(0, 7))
            end = start + int(rng.integers(12, 16))
            if end <= _E:
                rows.append({"round_id": f"R{year}-{k}", "start": start, "end": end})
    return pd.DataFrame(rows)


def _attendance(rng, couples, rounds, preg, contra, diligence_by_unit) -> pd.DataFrame:
    """Required women attend in the window (93%, by unit diligence), some late, some never (§3 C4)."""
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
        unit, _ = _responsible(couples, d)
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
            rnd.end + _uniform_int(rng, 1, 20, idx.size),
            rnd.start + np.floor(rng.random(idx.size) * length).astype("int64"),
        )
        keep = (r >= 0.02 + miss) | (r < 0.02)
        keep &= day <= _E
        out.append(pd.DataFrame({"round_id": rnd.round_id, "c": idx, "day": day})[keep])
    return pd.concat(out, ignore_index=True)


_HH_TYPES = ("single_elderly", "orphan", "only_daughter", "two_daughters", "infertile", "general")
_HH_P = (0.14, 0.02, 0.12, 0.07, 0.04, 0.61)


def _households(rng, n: int, names: _Names, standards: Mapping[str, float], taken: set):
    """Hardship households and their members (POLICY.md §6; module docstring)."""
    kind = np.array(_HH_TYPES)[rng.choice(len(_HH_TYPES), size=n, p=_HH_P)]
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
    head_birth = _E - (rng.uniform(lo, hi + 0.99) * Y).astype("int64")
    has_spouse = np.select(
        [np.isin(kind, ["single_elderly", "orphan"]), kind == "only_daughter", kind == "general"],
        [False, rng.random(n) < 0.8, rng.random(n) < 0.75],
        True,
    )
    spouse_birth = head_birth + (rng.normal(0, 2.5, n) * Y).astype("int64")
    spouse_birth = np.minimum(spouse_birth, _E - int(20 * Y))
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
    fits = (kb <= _E - 30).sum(axis=0)
    n_child = np.where(kind == "general", np.minimum(n_child, fits), n_child)
    two_d = kind == "two_daughters"
    kb[1] = np.where(two_d, np.minimum(kb[1], _E - 30), kb[1])
    kb[0] = np.where(two_d, np.minimum(kb[0], kb[1] - 500), kb[0])
    kb[0] = np.where(kind == "only_daughter", np.minimum(kb[0], _E - 30), kb[0])
    n_other = np.where(
        kind == "orphan",
        rng.choice(2, size=n),
        np.where(kind == "single_elderly", 0, rng.choice(3, size=n, p=[0.7, 0.2, 0.1])),
    )
    # sizes 1-6: drop others first, then children of general households
    base = 1 + has_spouse + n_child
    n_other = np.minimum(n_other, 6 - base)
    size = base + n_other
    boy_p = 118 / 218

    rows = []  # one frame per member slot (head, spouse, child k, other k), vectorised over households

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
        girl = np.isin(kind, ["only_daughter", "two_daughters"]) | (rng.random(n) >= boy_p)
        slot(n_child > k, 2 + k, "child", np.where(girl, "F", "M"), kb[k])
    for k in range(2):
        # parents of the head, or siblings of an orphan
        ob = np.where(
            kind == "orphan",
            head_birth + (rng.uniform(-6, 6, n) * Y).astype("int64"),
            head_birth - (rng.uniform(22, 32, n) * Y).astype("int64"),
        )
        ob = np.minimum(ob, _E - 365)
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
    applied = _days("2016-01-01") + np.floor(
        rng.random(n) * (_E - 10 - _days("2016-01-01"))
    ).astype("int64")
    settled = applied <= _E - 120
    receiving = settled & (rng.random(n) < np.where(pc_ratio < 1.0, 0.75, 0.2))
    review = np.maximum(applied, _E - _uniform_int(rng, 10, 330, n))
    region = _regions(rng, head_birth, home_share=1.0)
    head_id = _id_numbers(rng, region, head_birth, head_sex, taken)

    hh_ids = _ids("H", n, 4)
    households = pd.DataFrame(
        {
            "household_id": hh_ids,
            "head_name": names.draw(head_sex),
            "head_id_number": head_id,
            "area": area,
            "township": township,
            "size": size,
            "monthly_income": income,
            "assessed_tier": pd.array(np.where(has_tier, tier, 0), dtype="Int64").astype("Int64"),
            "special_groups": special,
            "infertile": pd.array(infertile, dtype="Float64").astype("boolean"),
            "declared_fp_type": declared,
            "application_date": _to_dt(applied),
            "receiving": receiving,
            "last_review_date": _to_dt(review, receiving),
        }
    )
    households.loc[~has_tier, "assessed_tier"] = pd.NA
    members = pd.DataFrame(
        {
            "member_id": _ids("M", len(m), 5),
            "household_id": hh_ids[m["h"].to_numpy()],
            "relation": m["relation"].to_numpy(),
            "sex": m["sex"].to_numpy(),
            "birth_date": _to_dt(m["birth"].to_numpy(), m["birth_known"].to_numpy()),
            "sterilized": m["sterilized"].to_numpy(),
            "disabled": m["disabled"].to_numpy(),
        }
    )
    # the other members' sterilisation is not recorded (empty)
    members["sterilized"] = (
        members["sterilized"].astype("boolean").where(members["relation"] != "other")
    )
    return households, members


# --------------------------------------------------------------------------- the whole dataset


def generate(
    seed: int = DEFAULT_SEED, people: int | None = None, faults: bool = False
) -> SynthTables:
    """Generate a synthetic county bureau's dataset: every table of DATA.md, typed.

    Args:
        seed: the seed; the same seed (and ``people``) gives the same tables.
        people: the number of couples (default 300, the county sample); the
            households number the same, units grow past 300 couples.
        faults: add the data-entry errors of :data:`FAULTS` (for testing
            ``validate``); the clean default has none.

    Returns:
        table name -> frame with the English columns of DATA.md in schema
        order and the dtypes of ``docs/design.md``, rows sorted by key, index
        the file row number (2, 3, ...). With ``faults`` the log of what was
        added is ``result.faults``.

    Raises:
        ValueError: ``people`` below 1.
    """
    n = DEFAULT_COUPLES if people is None else int(people)
    if n < 1:
        raise ValueError("people must be at least 1")
    rngs = dict(
        zip(
            _COMPONENTS,
            (
                np.random.default_rng(s)
                for s in np.random.SeedSequence(seed).spawn(len(_COMPONENTS))
            ),
            strict=True,
        )
    )
    units = _units(rngs["units"], n, _Names(rngs["units"]))
    diligence = rngs["units"].uniform(0.3, 2.5, len(units))
    dil = pd.Series(diligence, index=units["unit_id"].to_numpy())
    n_script = min(max(2, round(n / 150)), max(1, n // 5))
    couples, persons = _people(rngs["people"], n, units, _Names(rngs["people"]), n_script)
    units = _unit_heads(rngs["units"], units, persons)

    rng = rngs["repro"]
    preg, kids, permits, target = _reproduction(rng, couples)
    kids["sex"] = np.where(rng.random(len(kids)) < 118 / 218, "M", "F")
    sp, sk, sb, sx, sj = _script_cases(rngs["script"], couples, preg, kids, permits)
    preg = pd.concat([preg, sp], ignore_index=True)
    kids = pd.concat([kids, sk], ignore_index=True)
    permits = pd.concat([permits, sb], ignore_index=True)

    # ---- children
    kids = kids.sort_values(["birth", "c"], kind="mergesort").reset_index(drop=True)
    kids["child_id"] = _ids("K", len(kids), 5)
    c_id = couples["couple_id"].to_numpy()
    children = _typed(
        "children",
        {
            "child_id": kids["child_id"],
            "couple_id": c_id[_ix(kids)],
            "birth_date": _to_dt(kids["birth"]),
            "sex": kids["sex"],
        },
    )

    # ---- permits and their cancellations
    x = [sx]
    sel = preg[
        (preg["reason"] == "sex_selection") & (preg["permit"] >= 0) & (preg["approved"] != 1.0)
    ]
    sel = sel[~couples["scripted"].to_numpy()[_ix(sel)]]
    rec = rng.random(len(sel)) < 0.5
    x.append(
        pd.DataFrame(
            {
                "pid": sel["permit"].to_numpy()[rec],
                "cancelled": sel["out_day"].to_numpy()[rec]
                + _uniform_int(rng, 20, 120, int(rec.sum())),
                "reason": _CANCEL_SEX_SELECTION,
            }
        )
    )
    div = couples["divorce"].to_numpy()[_ix(permits)]
    unused = (
        couples["divorced"].to_numpy()[_ix(permits)]
        & (permits["issue"] < div)
        & (permits["used_day"] > div)
    )
    dv = permits[unused]
    x.append(
        pd.DataFrame(
            {
                "pid": dv["pid"],
                "cancelled": div[unused.to_numpy()] + _uniform_int(rng, 10, 90, len(dv)),
                "reason": _CANCEL_DIVORCE,
            }
        )
    )
    x = pd.concat(x, ignore_index=True)
    x = (
        x[x["cancelled"] <= _E]
        .sort_values(["pid", "cancelled"], kind="mergesort")
        .drop_duplicates("pid")
    )
    permits = permits.merge(x, on="pid", how="left")
    # every permit is kept, back to the oldest child's: an old birth is not out of plan for want of a record
    permits = permits.sort_values(["issue", "c"], kind="mergesort").reset_index(drop=True)
    permits_t = _typed(
        "permits",
        {
            "permit_id": _ids("SYZ", len(permits), 5),
            "couple_id": c_id[_ix(permits)],
            "issue_date": _to_dt(permits["issue"]),
            "cancelled_date": _to_dt(
                permits["cancelled"].fillna(0).astype("int64"), permits["cancelled"].notna()
            ),
            "cancel_reason": permits["reason"],
        },
    )

    # ---- pregnancies: the register holds those ending since its start, and the ongoing ones
    rec_p = preg[(preg["out_day"] >= _S)].copy()
    births_no_record = (
        (rec_p["outcome"] == "birth")
        & (rng.random(len(rec_p)) < 0.08)
        & ~couples["scripted"].to_numpy()[_ix(rec_p)]
    )
    rec_p = rec_p[~births_no_record.to_numpy()]
    first_kid = kids.groupby(["c", "birth"], as_index=False)["child_id"].min()
    rec_p = rec_p.merge(
        first_kid.rename(columns={"birth": "out_day"}), on=["c", "out_day"], how="left"
    )
    rec_p.loc[rec_p["outcome"] != "birth", "child_id"] = None
    rec_p = rec_p.sort_values(["detected", "c"], kind="mergesort").reset_index(drop=True)
    ongoing = rec_p["outcome"] == "ongoing"
    pregnancies = _typed(
        "pregnancies",
        {
            "pregnancy_id": _ids("G", len(rec_p), 5),
            "couple_id": c_id[_ix(rec_p)],
            "detected_date": _to_dt(rec_p["detected"]),
            "outcome": rec_p["outcome"],
            "outcome_date": _to_dt(np.where(ongoing, 0, rec_p["out_day"]), ~ongoing),
            "gestation_weeks": pd.array(np.where(ongoing, 0, rec_p["weeks"]), dtype="Int64").astype(
                "Int64"
            ),
            "termination_reason": rec_p["reason"],
            "county_approved": pd.array(rec_p["approved"].to_numpy(), dtype="Float64").astype(
                "boolean"
            ),
            "designated_facility": pd.array(rec_p["designated"].to_numpy(), dtype="Float64").astype(
                "boolean"
            ),
            "child_id": rec_p["child_id"],
        },
    )
    pregnancies.loc[pregnancies["outcome"] == "ongoing", "gestation_weeks"] = pd.NA

    # ---- contraception
    contra = pd.concat(
        [_contraception(rngs["contra"], couples, preg, target), sj], ignore_index=True
    )
    contra = contra.sort_values(["start", "c"], kind="mergesort").reset_index(drop=True)
    who_id = np.where(
        contra["who"] == "wife",
        couples["wife_id"].to_numpy()[_ix(contra)],
        couples["husband_id"].to_numpy()[_ix(contra)],
    )
    end_known = contra["end"].to_numpy() != _NEVER
    fals_known = contra["falsified"].to_numpy() != _NEVER
    contraception = _typed(
        "contraception",
        {
            "record_id": _ids("J", len(contra), 5),
            "couple_id": c_id[_ix(contra)],
            "person_id": who_id,
            "method": contra["method"],
            "start_date": _to_dt(contra["start"]),
            "end_date": _to_dt(np.where(end_known, contra["end"], 0), end_known),
            "falsified_found_date": _to_dt(
                np.where(fals_known, contra["falsified"], 0), fals_known
            ),
        },
    )

    # ---- certificates
    certs = _certificates(rngs["certs"], couples, kids, target)
    certs = certs.sort_values(["issue", "c"], kind="mergesort").reset_index(drop=True)
    rev = certs["revoked"].to_numpy() != _NEVER
    certificates = _typed(
        "certificates",
        {
            "cert_id": _ids("GRZ", len(certs), 5),
            "couple_id": c_id[_ix(certs)],
            "child_id": certs["child_id"],
            "issue_date": _to_dt(certs["issue"]),
            "payee_id": certs["payee"],
            "revoked_date": _to_dt(np.where(rev, certs["revoked"], 0), rev),
        },
    )

    # ---- surveys, check rounds and attendance
    sv = _surveys(rngs["surveys"], couples, units, diligence)
    sv = sv.sort_values(["day", "c", "kind"], kind="mergesort").reset_index(drop=True)
    rep = sv["reported"].to_numpy() != _NEVER
    surveys = _typed(
        "surveys",
        {
            "survey_id": _ids("S", len(sv), 6),
            "couple_id": c_id[_ix(sv)],
            "unit_id": sv["unit"],
            "kind": sv["kind"],
            "survey_date": _to_dt(sv["day"]),
            "problem_found": sv["problem"],
            "reported_date": _to_dt(np.where(rep, sv["reported"], 0), rep),
        },
    )
    rounds = _check_rounds(rngs["checks"])
    check_rounds = _typed(
        "check_rounds",
        {
            "round_id": rounds["round_id"],
            "start_date": _to_dt(rounds["start"]),
            "end_date": _to_dt(rounds["end"]),
        },
    )
    rec_for_checks = rec_p.assign(
        out_day=np.where(rec_p["outcome"] == "ongoing", _NEVER, rec_p["out_day"])
    )
    att = _attendance(rngs["checks"], couples, rounds, rec_for_checks, contra, dil)
    check_attendance = _typed(
        "check_attendance",
        {
            "round_id": att["round_id"],
            "person_id": couples["wife_id"].to_numpy()[_ix(att)],
            "attended_date": _to_dt(att["day"]),
        },
    )

    # ---- households
    from fpanalysis.core.params import load_params

    params = load_params()
    standards = {a: params.dibao_standard(a, END.date()) for a in ("urban", "rural")}
    hh, members = _households(
        rngs["households"], n, _Names(rngs["households"]), standards, set(persons["id_number"])
    )

    couples_t = _typed(
        "couples",
        {
            "couple_id": c_id,
            "wife_id": couples["wife_id"],
            "husband_id": couples["husband_id"],
            "marriage_date": _to_dt(couples["marriage"]),
            "divorce_date": _to_dt(
                np.where(couples["divorced"], couples["divorce"], 0), couples["divorced"]
            ),
        },
    )
    out = SynthTables(
        units=_typed("units", units.to_dict("series")),
        persons=_typed("persons", persons.to_dict("series")),
        couples=couples_t,
        children=children,
        permits=permits_t,
        pregnancies=pregnancies,
        surveys=surveys,
        check_rounds=check_rounds,
        check_attendance=check_attendance,
        contraception=contraception,
        certificates=certificates,
        households=_typed("households", hh.to_dict("series")),
        household_members=_typed("household_members", members.to_dict("series")),
    )
    if faults:
        out = inject_faults(out, rngs["faults"])
    return out


# --------------------------------------------------------------------------- data-entry faults


def inject_faults(
    tables: Mapping[str, pd.DataFrame], rng: np.random.Generator | int = 0
) -> SynthTables:
    """Add the data-entry errors of :data:`FAULTS` to a copy of ``tables``.

    Each kind hits ``max(1, round(rate × rows))`` rows of its table (where the
    table has a row that can take it). The log (kind, table, key, column,
    value) is ``result.faults``.

    Examples:
        >>> t = inject_faults(generate(seed=3, people=40), 1)
        >>> sorted(t.faults["kind"].unique()) == sorted(FAULTS)
        True
    """
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    t = {k: v.copy() for k, v in tables.items()}
    log = []

    def pick(table: str, kind: str, candidates=None) -> np.ndarray:
        df = t[table]
        pool = np.arange(len(df)) if candidates is None else np.flatnonzero(np.asarray(candidates))
        k = min(len(pool), max(1, round(FAULTS[kind][1] * len(df))))
        return np.sort(rng.choice(pool, size=k, replace=False)) if k else pool[:0]

    def note(kind, table, rows, column, values):
        key = TABLES[table].key[0]
        for r, v in zip(rows, values, strict=True):
            log.append(
                {
                    "kind": kind,
                    "table": table,
                    "key": str(t[table][key].iloc[r]),
                    "column": column,
                    "value": "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v),
                }
            )

    def set_values(table, rows, column, values):
        df = t[table]
        df.iloc[rows, df.columns.get_loc(column)] = values

    p = t["persons"]
    # persons: each row gets at most one fault, so every fault stays visible
    order = rng.permutation(len(p))
    used = np.zeros(len(p), dtype=bool)

    def free_rows(kind):
        k = max(1, round(FAULTS[kind][1] * len(p)))
        rows = order[~used[order]][:k]
        used[rows] = True
        return np.sort(rows)

    rows = free_rows("bad_check_char")
    ids = p["id_number"].to_numpy()[rows]
    wrong = ["0" if x[-1] != "0" else "1" for x in ids]
    vals = [x[:17] + w for x, w in zip(ids, wrong, strict=True)]
    set_values("persons", rows, "id_number", vals)
    note("bad_check_char", "persons", rows, "id_number", vals)

    rows = free_rows("sex_id_mismatch")
    vals = np.where(p["sex"].to_numpy()[rows] == "F", "M", "F")
    set_values("persons", rows, "sex", vals)
    note("sex_id_mismatch", "persons", rows, "sex", vals)

    rows = free_rows("birth_id_mismatch")
    vals = (
        p["birth_date"].iloc[rows] + pd.to_timedelta(rng.integers(1, 400, rows.size), unit="D")
    ).to_numpy()
    set_values("persons", rows, "birth_date", vals)
    note(
        "birth_id_mismatch", "persons", rows, "birth_date", pd.Series(vals).dt.strftime("%Y-%m-%d")
    )

    rows = free_rows("unknown_unit")
    bad_unit = "U" + "9" * (len(t["units"]["unit_id"].iloc[0]) + 1)
    set_values("persons", rows, "unit_id", [bad_unit] * rows.size)
    note("unknown_unit", "persons", rows, "unit_id", [bad_unit] * rows.size)

    c = t["couples"]
    rows = pick("couples", "wife_not_female")
    vals = np.roll(c["husband_id"].to_numpy(), 1)[rows]
    set_values("couples", rows, "wife_id", vals)
    note("wife_not_female", "couples", rows, "wife_id", vals)

    ce = t["certificates"]
    if len(ce):
        rows = pick("certificates", "cert_before_birth")
        births = ce.iloc[rows][["child_id"]].merge(
            t["children"][["child_id", "birth_date"]], on="child_id", how="left"
        )
        vals = (
            births["birth_date"] - pd.to_timedelta(rng.integers(1, 200, rows.size), unit="D")
        ).to_numpy()
        set_values("certificates", rows, "issue_date", vals)
        note(
            "cert_before_birth",
            "certificates",
            rows,
            "issue_date",
            pd.Series(vals).dt.strftime("%Y-%m-%d"),
        )

    co = t["contraception"]
    rows = pick("contraception", "end_before_start")
    vals = (
        co["start_date"].iloc[rows] - pd.to_timedelta(rng.integers(1, 100, rows.size), unit="D")
    ).to_numpy()
    set_values("contraception", rows, "end_date", vals)
    note(
        "end_before_start",
        "contraception",
        rows,
        "end_date",
        pd.Series(vals).dt.strftime("%Y-%m-%d"),
    )

    hh = t["households"]
    m = t["household_members"]
    hh_order = rng.permutation(len(hh))
    hh_used = np.zeros(len(hh), dtype=bool)

    def free_households(kind, allowed=None):
        ok = (
            ~hh_used[hh_order]
            if allowed is None
            else ~hh_used[hh_order] & np.asarray(allowed)[hh_order]
        )
        rows = hh_order[ok][: max(1, round(FAULTS[kind][1] * len(hh)))]
        hh_used[rows] = True
        return np.sort(rows)

    rows = free_households("size_mismatch")
    vals = (hh["size"].iloc[rows] + 1).astype("Int64").to_numpy()
    set_values("households", rows, "size", vals)
    note("size_mismatch", "households", rows, "size", vals)

    n_children = m[m["relation"] == "child"].groupby("household_id").size()
    has_children = hh["household_id"].map(n_children).fillna(0).to_numpy() > 0
    rows = free_households("fp_type_contradicted", has_children)
    set_values("households", rows, "declared_fp_type", ["infertile"] * rows.size)
    note("fp_type_contradicted", "households", rows, "declared_fp_type", ["infertile"] * rows.size)

    rows = free_households("head_id_mismatch")
    heads = hh.iloc[rows]["head_id_number"].to_numpy()
    # a valid number for someone born a year later: it disagrees with the head member's birth date
    vals = []
    for x in heads:
        body = x[:6] + str(int(x[6:10]) + 1) + x[10:17]
        vals.append(body + check_chars([body])[0])
    set_values("households", rows, "head_id_number", vals)
    note("head_id_mismatch", "households", rows, "head_id_number", vals)

    ch = t["children"]
    rows = pick("children", "duplicate_key")
    dup = ch.iloc[rows].copy()
    dup["birth_date"] = dup["birth_date"] + pd.Timedelta(days=1)
    note("duplicate_key", "children", rows, "child_id", ch["child_id"].iloc[rows])
    t["children"] = pd.concat([ch, dup]).sort_values("child_id", kind="mergesort")
    t["children"].index = pd.RangeIndex(2, 2 + len(t["children"]), name="row")

    # format faults: text where a typed value belongs
    sv = t["surveys"]
    rows = pick("surveys", "bad_date")
    vals = [f"{y}-02-30" for y in sv["survey_date"].dt.year.to_numpy()[rows]]
    sv["survey_date"] = sv["survey_date"].astype(object)
    set_values("surveys", rows, "survey_date", vals)
    note("bad_date", "surveys", rows, "survey_date", vals)

    rows = free_households("bad_number")
    vals = [f"约{v:.0f}元" for v in hh["monthly_income"].to_numpy()[rows]]
    hh["monthly_income"] = hh["monthly_income"].astype(object)
    set_values("households", rows, "monthly_income", vals)
    note("bad_number", "households", rows, "monthly_income", vals)

    rows = pick("pregnancies", "bad_enum")
    vals = ["待定"] * rows.size
    set_values("pregnancies", rows, "outcome", vals)
    note("bad_enum", "pregnancies", rows, "outcome", vals)

    out = SynthTables(t)
    out.faults = pd.DataFrame(log, columns=["kind", "table", "key", "column", "value"])
    return out


# --------------------------------------------------------------------------- writing


FORMATS = ("csv", "parquet", "xlsx")


def _fmt_number(v) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _cell_text(col, v, lang: str) -> str:
    """One value as the text a clerk would type (ISO dates, 是/否 or true/false, labels with zh)."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    if isinstance(v, str):
        if col.type == "enum" and lang == "zh":
            return col.labels.get(v, v)
        if col.type == "set" and lang == "zh":
            return "、".join(col.labels.get(x, x) for x in v.split(";"))
        return v
    if col.type == "date":
        return pd.Timestamp(v).strftime("%Y-%m-%d")
    if col.type == "bool":
        return ("是" if v else "否") if lang == "zh" else ("true" if v else "false")
    if col.type == "int":
        return str(int(v))
    if col.type == "number":
        return _fmt_number(float(v))
    return str(v)


def to_text(df: pd.DataFrame, table: str, lang: str = "en") -> pd.DataFrame:
    """The frame as text cells with English or Chinese headers and labels (what the files hold).

    Examples:
        >>> from fpanalysis.core.schema import coerce
        >>> df = coerce("children", [{"child_id": "K1", "couple_id": "C1", "birth_date": "2020-01-02", "sex": "F"}])
        >>> to_text(df, "children", "zh").iloc[0].tolist()
        ['K1', 'C1', '2020-01-02', '女']
    """
    t = TABLES[table]
    out = {}
    for c in t.columns:
        s = df[c.name]
        if s.dtype == object or c.type in ("enum", "set", "number", "int", "bool"):
            txt = [_cell_text(c, v, lang) for v in s.tolist()]
        elif c.type == "date":
            txt = s.dt.strftime("%Y-%m-%d").fillna("").tolist()
        else:
            txt = s.fillna("").astype(str).tolist()
        out[c.header(lang)] = txt
    return pd.DataFrame(out, index=df.index)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        Path(tmp).chmod(0o644)  # mkstemp makes 0600; a dataset is for sharing
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _csv_bytes(df: pd.DataFrame, table: str, lang: str) -> bytes:
    text = to_text(df, table, lang)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(text.columns)
    w.writerows(text.itertuples(index=False, name=None))
    # UTF-8 with BOM: Excel in China opens it with the Chinese intact
    return buf.getvalue().encode("utf-8-sig")


def _parquet_bytes(df: pd.DataFrame, table: str, lang: str) -> bytes:
    t = TABLES[table]
    out = df.reset_index(drop=True).copy()
    for c in t.columns:
        if out[c.name].dtype == object:  # a format fault: the column is text
            out[c.name] = to_text(df[[x.name for x in t.columns]], table, "en")[c.name].to_numpy()
        if lang == "zh" and c.type in ("enum", "set"):
            out[c.name] = out[c.name].map(lambda v, c=c: _cell_text(c, v, "zh") or None)
    if lang == "zh":
        out.columns = [c.header("zh") for c in t.columns]
    buf = io.BytesIO()
    out.to_parquet(buf, index=False, engine="pyarrow", compression="zstd")
    return buf.getvalue()


def _xlsx_bytes(tables: Mapping[str, pd.DataFrame], lang: str) -> bytes:
    from openpyxl import Workbook

    fixed = document_time()
    wb = Workbook()
    wb.remove(wb.active)
    for t in TABLES_LIST:
        if t.name not in tables:
            continue
        df = tables[t.name]
        ws = wb.create_sheet(t.zh if lang == "zh" else t.name)
        ws.append([c.header(lang) for c in t.columns])
        text = to_text(df, t.name, lang)
        cols = []
        for c in t.columns:
            s = df[c.name]
            if c.type == "date" and s.dtype != object:
                cols.append([None if pd.isna(v) else v.date() for v in s.tolist()])
            elif c.type == "int" and s.dtype != object:
                cols.append([None if pd.isna(v) else int(v) for v in s.tolist()])
            elif c.type == "number" and s.dtype != object:
                cols.append([None if pd.isna(v) else float(v) for v in s.tolist()])
            else:  # ids (ID numbers must stay text), enums, bools as 是/否 or true/false, faults
                cols.append([v if v != "" else None for v in text[c.header(lang)].tolist()])
        for row in zip(*cols, strict=True):
            ws.append(list(row))
        for j, c in enumerate(t.columns, start=1):
            if c.type == "date":
                for cell in ws.iter_cols(min_col=j, max_col=j, min_row=2):
                    for x in cell:
                        x.number_format = "yyyy-mm-dd"
        ws.freeze_panes = "A2"
    wb.properties.creator = "fpanalysis synth"
    wb.properties.created = fixed
    raw = io.BytesIO()
    wb.save(raw)
    # openpyxl stamps "modified" with now and the zip entries with the clock: fix both
    stamp = fixed.strftime("%Y-%m-%dT%H:%M:%SZ")
    src = zipfile.ZipFile(io.BytesIO(raw.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp.encode() + rb"\g<2>",
                    data,
                )
            zi = zipfile.ZipInfo(info.filename, date_time=fixed.timetuple()[:6])
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, data)
    return out.getvalue()


def write_dataset(
    tables: Mapping[str, pd.DataFrame], out: str | Path, format: str = "csv", lang: str = "en"
) -> list[Path]:
    """Write a dataset: a folder of ``<table>.csv`` / ``<table>.parquet``, or one ``.xlsx`` workbook.

    CSV is UTF-8 with BOM, one file per table, ``\\n`` line ends, ISO dates;
    XLSX has one sheet per table (dates as Excel dates, ID numbers as text);
    ``lang="zh"`` writes the Chinese headers, sheet names and enum labels of
    :mod:`fpanalysis.core.schema` (是/否 for yes/no). Rows keep the frames' order
    (``generate`` sorts them by key). Each file is written to a temporary name
    and renamed. File names stay English (DATA.md: "named as below").

    Returns:
        the files written.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    if lang not in ("en", "zh"):
        raise ValueError("lang must be en or zh")
    out = Path(out)
    if format == "xlsx":
        _atomic_write(out, _xlsx_bytes(tables, lang))
        return [out]
    written = []
    for t in TABLES_LIST:
        if t.name not in tables:
            continue
        path = out / f"{t.name}.{format}"
        data = (
            _csv_bytes(tables[t.name], t.name, lang)
            if format == "csv"
            else _parquet_bytes(tables[t.name], t.name, lang)
        )
        _atomic_write(path, data)
        written.append(path)
    return written
