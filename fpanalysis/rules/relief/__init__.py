"""Hardship households and minimum-living relief (低保): ranking, selection, review (POLICY.md §6).

The work plan's clause 五 (计生特困户救助制度): a household whose per-capita
income is below the local 低保 standard is eligible; eligible households are
ranked by hardship tier and, "在同档次生活困难情况下", family-planning
priority households first; the committee selects under a quota or a monthly
budget; every household carries a plain-language reason; and the register is
managed dynamically (动态管理): enter, continue, tier change, exit, review.

The rules here are pure functions over typed frames (docs/design.md): no file
access except :func:`export_meeting_xlsx`, the committee's meeting workbook,
which is an output helper kept beside the rules it formats.

Money is exact: incomes and standards are converted once to integer fen
(half up, through ``Decimal``) and every comparison is made in integers:

- eligible iff ``income_fen < standard_fen × size`` (no rounded per-capita
  figure in between);
- tier from ``ratio = income ÷ (standard × size)`` compared with each band
  as a fraction (``0.3`` is exactly 3/10);
- entitlement ``standard × size − income``, rounded UP to whole yuan;
- the per-capita income used to rank is ``income_fen / size`` as a float64:
  IEEE division is correctly rounded, so equal fractions give equal keys and
  different ones (denominators ≤ a few dozen) never collide.

Choices where the spec is silent (also in docs/design.md):

- **As-of date**: defaults to the dataset's last recorded date, the latest
  ``application_date`` or ``last_review_date`` of the households.
- **Tiers when ``tier_bands`` is overridden**: the tier is one plus the
  number of bands the ratio reaches, capped at the number of bands, so an
  eligible household above a last band below 1.0 is in the last tier. An
  ineligible household has a tier only when the committee assessed one
  (shown, never ranked).
- **Ranks** number every eligible household of a pool, continuing ones
  included, in the declared order (``ranking_order``), so the committee sees
  one list; continuing households are nonetheless *selected* first (they are
  re-checked, not re-ranked against newcomers: POLICY.md §6).
- **Pools**: ``pool="all"`` ranks urban and rural households together (one
  fund); ``"urban"`` or ``"rural"`` keeps one area; ``"separate"`` ranks and
  selects each area on its own, with a quota or budget given per area
  (``{"urban": 10, "rural": 25}``).
- **Quota and budget together** (the library allows both; the CLI takes one):
  a newcomer must fit both.
- **FP priority types** use the ``child`` members only; "a spouse sterilised"
  is the ``head`` or ``spouse`` member with ``sterilized`` true. A declared
  type the members contradict is reported (``fp_type_contradicted``) and the
  derived type used; a household that declares nothing gets its derived type.
- **Review** (:func:`review`): a household has a disabled member when a member
  has ``disabled`` true or its ``special_groups`` include ``disabled`` (残).
  "Income has not changed" needs the previous data: without it, or for a
  household not in it, the change is unknown and the default 6 months apply.
  The review clock runs from ``last_review_date``, else ``application_date``;
  a household that enters in this round was assessed now, so its next review
  is counted from the as-of date. A review falls due on the day the months
  have passed (``base + months ≤ as_of``; month ends clip, 31 Aug + 6 months
  = 28/29 Feb). Due-for-review is given for households selected now only.
- **Moved or died**: the data records neither, so an exit because the
  household is no longer listed says "no longer listed (moved or died)".

Examples:
    >>> import pandas as pd
    >>> from fpanalysis.core.params import load_params
    >>> from fpanalysis.core.schema import coerce
    >>> hh = coerce("households", [
    ...     {"household_id": "H1", "head_name": "张三", "area": "urban", "size": 2,
    ...      "monthly_income": 300.0, "application_date": "2025-03-01"},
    ...     {"household_id": "H2", "head_name": "李四", "area": "urban", "size": 1,
    ...      "monthly_income": 800.0, "application_date": "2025-03-02"}])
    >>> mm = coerce("household_members", [
    ...     {"member_id": "M1", "household_id": "H1", "relation": "head", "sex": "F"},
    ...     {"member_id": "M2", "household_id": "H1", "relation": "child", "sex": "F"},
    ...     {"member_id": "M3", "household_id": "H2", "relation": "head", "sex": "M"}])
    >>> r = rank_households({"households": hh, "household_members": mm}, load_params(), "2025-06-30")
    >>> r.table[["household_id", "rank", "tier", "fp_type", "entitlement_yuan", "selected"]].astype(object).values.tolist()
    [['H1', 1, 1, 'only_daughter', 1240, True], ['H2', <NA>, <NA>, nan, <NA>, False]]
    >>> print(r.table.loc[0, "reason_en"])  # doctest: +ELLIPSIS
    rank 1. tier 1 (income ratio = household income / (standard x size) = 300.00 / 1540.00 = 0.1948, below 0.3); only-daughter household: the only child M2 (F) is a daughter; household income 300.00 yuan < urban standard 770 x 2 = 1540.00 yuan: eligible; entitlement 1540.00 - 300.00, rounded up to 1240 yuan a month; ranking: first in the pool; admitted: no quota or budget (all who qualify are covered)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core.errors import DataError, UsageError
from fpanalysis.core.params import Params
from fpanalysis.core.schema import last_recorded_date

RELIEF_TABLES = ("households", "household_members")
FP_TYPES = ("only_daughter", "two_daughters_sterilized", "infertile")
FP_LABELS = {
    "only_daughter": ("独女户", "only-daughter household"),
    "two_daughters_sterilized": ("二女结扎户", "two-daughters-sterilised household"),
    "infertile": ("不育户", "infertile household"),
}
AREA_LABELS = {"urban": ("城镇", "urban"), "rural": ("农村", "rural")}
TIER_LABELS = {1: ("一档", "tier 1"), 2: ("二档", "tier 2"), 3: ("三档", "tier 3")}
POOLS = ("all", "urban", "rural", "separate")

# Selection codes (``selection`` column) with their zh labels in schema.OUTPUT_LABELS.
SELECTION_CODES = ("continuing", "admitted", "waiting", "not_eligible")

# Output columns of :func:`rank_households`, in order.
RELIEF_COLUMNS = [
    "pool",
    "rank",
    "household_id",
    "area",
    "township",
    "head_name",
    "size",
    "monthly_income",
    "eligible",
    "tier",
    "tier_basis",
    "fp_type",
    "per_capita_income_yuan",
    "standard_yuan",
    "entitlement_yuan",
    "cumulative_yuan",
    "incumbent",
    "selected",
    "selection",
    "application_date",
    "reason_zh",
    "reason_en",
]

# The columns the CLI writes (the list plus area, township, masked head_name).
CLI_COLUMNS = [
    "rank",
    "household_id",
    "area",
    "township",
    "head_name",
    "eligible",
    "tier",
    "fp_type",
    "per_capita_income_yuan",
    "standard_yuan",
    "entitlement_yuan",
    "selected",
    "selection",
    "reason_zh",
    "reason_en",
]

REVIEW_COLUMNS = [
    "household_id",
    "area",
    "township",
    "head_name",
    "transition",
    "previous_tier",
    "tier",
    "previously_selected",
    "selected",
    "income_changed",
    "review_months",
    "last_review_date",
    "next_review_date",
    "review_due",
    "reason_zh",
    "reason_en",
]

# Key name -> (zh, en) label, for reasons.
KEY_LABELS = {
    "tier": ("档次", "tier"),
    "fp_priority": ("计生优先", "FP priority"),
    "per_capita_income_yuan": ("人均月收入", "per-capita income"),
    "application_date": ("申请日期", "application date"),
    "household_id": ("户编号", "household id"),
}


# --------------------------------------------------------------------------- money


def to_fen(yuan: pd.Series) -> pd.Series:
    """Yuan amounts (float64) as integer fen, half up, through ``Decimal`` (exact).

    ``repr`` of a float is the shortest text that reads back as it, so an
    amount typed with two decimals converts without binary error.

    Examples:
        >>> to_fen(pd.Series([0.1 + 0.2, 1234.56, 100.005, 0.0])).tolist()
        [30, 123456, 10001, 0]
    """

    def one(v: float) -> int:
        return int((Decimal(repr(float(v))) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    return yuan.map(one, na_action="ignore").astype("Int64")


def _value_fen(v: Any) -> int:
    return int(
        (Decimal(repr(v) if isinstance(v, float) else str(v)) * 100).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
    )


def _yuan_text(fen: int, whole_if_round: bool = False) -> str:
    """``12345`` -> ``"123.45"``; with ``whole_if_round`` ``77000`` -> ``"770"``."""
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    if whole_if_round and fen % 100 == 0:
        return f"{sign}{fen // 100}"
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def _ratio_text(num: int, den: int) -> str:
    """num/den floored to 4 decimals, so the text never crosses a band it did not cross."""
    r = (int(num) * 10000) // int(den)
    return f"{r // 10000}.{r % 10000:04d}"


def _band_text(b: float) -> str:
    return format(Decimal(repr(float(b))).normalize(), "f")


def _date_text(d: Any) -> str:
    return "" if pd.isna(d) else pd.Timestamp(d).strftime("%Y-%m-%d")


# --------------------------------------------------------------------------- dates


#: the tables whose recorded dates (``schema.Column.recorded``) give the default as-of date
RECORDED_TABLES = ("households",)


def default_as_of(tables: Mapping[str, pd.DataFrame]) -> pd.Timestamp:
    """The households' last recorded date: the latest application or review date.

    The default as-of date of ``relief`` and ``review`` (POLICY.md general
    conventions: defaults come from the data, never from today).

    Raises:
        DataError: the households table has no dates at all.
    """
    last = last_recorded_date(tables, among=RECORDED_TABLES)
    if last is None:
        raise DataError(
            "低保户表没有任何申请日期或复核日期，无法确定基准日；请用 --as-of 指定",
            "the households table has no application or review dates to take the as-of date from; give --as-of",
            rule="as_of",
        )
    return last.normalize()


# --------------------------------------------------------------------------- FP types


def _join_per_group(keys: pd.Series, values: pd.Series, sep: str) -> pd.Series:
    """``values.groupby(keys).agg(sep.join)`` in one vectorised pass (pyarrow's ``binary_join``).

    The groupby runs a Python join per group: most of a province's relief
    round (5M households: minutes). Same result: indexed by the sorted keys
    (missing keys dropped), each group's values joined in their order.

    Examples:
        >>> _join_per_group(pd.Series(["H2", "H1", "H2"]), pd.Series(["a", "b", "c"]), "、").to_dict()
        {'H1': 'b', 'H2': 'a、c'}
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    codes, uniques = pd.factorize(keys, sort=True)
    keep = codes >= 0
    codes = codes[keep]
    order = np.argsort(codes, kind="stable")  # stable: each group keeps its rows' order
    offsets = np.zeros(len(uniques) + 1, np.int64)
    np.cumsum(np.bincount(codes, minlength=len(uniques)), out=offsets[1:])
    vals = pa.array(values.to_numpy(object)[keep][order], type=pa.large_string())
    joined = pc.binary_join(
        pa.LargeListArray.from_arrays(pa.array(offsets), vals), pa.scalar(sep, pa.large_string())
    )
    return pd.Series(joined.to_numpy(zero_copy_only=False), index=pd.Index(uniques), dtype="str")


def _records(df: pd.DataFrame, columns: Iterable[str]) -> list[dict]:
    """``df[columns].to_dict("records")``, several times faster on text columns (one ``tolist`` a column)."""
    cols = list(dict.fromkeys(columns))
    lists = [df[c].tolist() for c in cols]
    return [dict(zip(cols, vals, strict=True)) for vals in zip(*lists, strict=True)]


def derive_fp_types(households: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Each household's FP priority type from its members (POLICY.md §6).

    - ``only_daughter``: exactly one ``child`` member, a daughter;
    - ``two_daughters_sterilized``: exactly two ``child`` members, both
      daughters, and the ``head`` or ``spouse`` member sterilised;
    - ``infertile``: no ``child`` member and ``infertile`` recorded true.

    ``child`` members are the head couple's children ever born, living in the
    household or not (a married-out daughter still counts).

    Returns:
        A frame aligned with ``households`` (same index): ``household_id``,
        ``fp_type`` (NaN when none), ``n_children``, ``n_daughters``,
        ``sterilized_members`` (member ids, ``、``-joined), ``fp_evidence_zh``,
        ``fp_evidence_en`` (the members that establish the type, or why not).

    Examples:
        >>> from fpanalysis.core.schema import coerce
        >>> hh = coerce("households", [{"household_id": "H1"}, {"household_id": "H2"}])
        >>> mm = coerce("household_members", [
        ...     {"member_id": "A", "household_id": "H1", "relation": "child", "sex": "F"},
        ...     {"member_id": "B", "household_id": "H1", "relation": "child", "sex": "M"},
        ...     {"member_id": "C", "household_id": "H2", "relation": "child", "sex": "F"}])
        >>> derive_fp_types(hh, mm)[["household_id", "fp_type", "n_children"]].to_dict("records")
        [{'household_id': 'H1', 'fp_type': nan, 'n_children': 2}, {'household_id': 'H2', 'fp_type': 'only_daughter', 'n_children': 1}]
    """
    m = members.sort_values("member_id", kind="mergesort")
    kids = m[m["relation"].eq("child")]
    n_children = kids.groupby("household_id").size()
    n_daughters = kids[kids["sex"].eq("F")].groupby("household_id").size()
    kid_text_zh = _join_per_group(
        kids["household_id"],
        kids["member_id"]
        + "（"
        + kids["sex"].map({"F": "女", "M": "男"}).fillna("性别不详")
        + "）",
        "、",
    )
    kid_text_en = _join_per_group(
        kids["household_id"],
        kids["member_id"] + " (" + kids["sex"].map({"F": "F", "M": "M"}).fillna("?") + ")",
        ", ",
    )
    parents = m[m["relation"].isin(["head", "spouse"]) & m["sterilized"].fillna(False).astype(bool)]
    ster = _join_per_group(parents["household_id"], parents["member_id"], "、")

    hid = households["household_id"]
    nc = hid.map(n_children).fillna(0).astype("int64")
    nd = hid.map(n_daughters).fillna(0).astype("int64")
    st = hid.map(ster).astype("str")
    has_st = st.notna()
    infertile = households["infertile"].fillna(False).astype(bool)

    only_daughter = nc.eq(1) & nd.eq(1)
    two_daughters = nc.eq(2) & nd.eq(2) & has_st
    infert = nc.eq(0) & infertile
    fp_type = pd.Series(np.nan, index=households.index, dtype="str")
    fp_type = (
        fp_type.mask(only_daughter, "only_daughter")
        .mask(two_daughters, "two_daughters_sterilized")
        .mask(infert, "infertile")
    )

    ktz = hid.map(kid_text_zh).astype("str").fillna("")
    kte = hid.map(kid_text_en).astype("str").fillna("")
    stz = st.fillna("")
    # Evidence: why the type holds, or the near miss that keeps it from holding.
    zh = np.select(
        [only_daughter, two_daughters, infert, nc.eq(0), nc.eq(2) & nd.eq(2)],
        [
            "独女户：唯一子女 " + ktz + " 为女儿",
            "二女结扎户：两个子女 " + ktz + " 均为女儿，且 " + stz + " 已结扎",
            pd.Series("不育户：无子女，且登记为不育", index=hid.index),
            pd.Series("非计生优先户：无子女，但未登记不育", index=hid.index),
            "非计生优先户：两个子女 " + ktz + " 均为女儿，但户主夫妻均未登记结扎",
        ],
        default="非计生优先户：子女 "
        + nc.astype(str)
        + " 人（"
        + nd.astype(str)
        + " 女）"
        + np.where(ktz.ne(""), "：" + ktz, ""),
    )
    en = np.select(
        [only_daughter, two_daughters, infert, nc.eq(0), nc.eq(2) & nd.eq(2)],
        [
            "only-daughter household: the only child " + kte + " is a daughter",
            "two-daughters-sterilised household: both children "
            + kte
            + " are daughters and "
            + st.fillna("").str.replace("、", ", ")
            + " sterilised",
            pd.Series("infertile household: no children and infertility recorded", index=hid.index),
            pd.Series(
                "no FP priority type: no children, but infertility not recorded", index=hid.index
            ),
            "no FP priority type: both children "
            + kte
            + " are daughters, but neither head nor spouse is recorded sterilised",
        ],
        default="no FP priority type: "
        + nc.astype(str)
        + np.where(nc.eq(1), " child (", " children (")
        + nd.astype(str)
        + np.where(nd.eq(1), " daughter)", " daughters)")
        + np.where(kte.ne(""), ": " + kte, ""),
    )
    return pd.DataFrame(
        {
            "household_id": hid,
            "fp_type": fp_type,
            "n_children": nc,
            "n_daughters": nd,
            "sterilized_members": st,
            "fp_evidence_zh": pd.Series(zh, index=hid.index, dtype="str"),
            "fp_evidence_en": pd.Series(en, index=hid.index, dtype="str"),
        },
        index=households.index,
    )


PROBLEM_COLUMNS = [
    "table",
    "row",
    "household_id",
    "column",
    "value",
    "rule",
    "message_zh",
    "message_en",
]


def fp_type_problems(households: pd.DataFrame, derived: pd.DataFrame) -> pd.DataFrame:
    """Declared FP types the members contradict: one problem per household (POLICY.md §6).

    Args:
        households: the households table.
        derived: :func:`derive_fp_types` of it.

    Returns:
        ``table, row, household_id, column, value, rule, message_zh, message_en``;
        ``row`` is the household's row in its file; rule ``fp_type_contradicted``.
    """
    declared = households["declared_fp_type"]
    bad = declared.notna() & declared.ne(derived["fp_type"].fillna(""))
    h = households[bad]
    d = derived[bad]
    dz = h["declared_fp_type"].map(lambda v: FP_LABELS.get(v, (v, v))[0])
    de = h["declared_fp_type"].map(lambda v: FP_LABELS.get(v, (v, v))[1])
    uz = (
        d["fp_type"]
        .map(lambda v: FP_LABELS[v][0], na_action="ignore")
        .astype("str")
        .fillna("无计生优先类型")
    )
    ue = (
        d["fp_type"]
        .map(lambda v: FP_LABELS[v][1], na_action="ignore")
        .astype("str")
        .fillna("no FP priority type")
    )
    out = pd.DataFrame(
        {
            "table": "households",
            "row": pd.array(h.index, dtype="Int64"),
            "household_id": h["household_id"].to_numpy(),
            "column": "declared_fp_type",
            "value": h["declared_fp_type"].to_numpy(),
            "rule": "fp_type_contradicted",
            "message_zh": (
                "户 "
                + h["household_id"]
                + " 申报为"
                + dz
                + "，与家庭成员不符（"
                + d["fp_evidence_zh"]
                + "）；按成员认定为"
                + uz
            ).to_numpy(),
            "message_en": (
                "household "
                + h["household_id"]
                + " declares "
                + de
                + ", which its members contradict ("
                + d["fp_evidence_en"]
                + "); the members make it: "
                + ue
            ).to_numpy(),
        },
        columns=PROBLEM_COLUMNS,
    )
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- assessment


def _standards(area: pd.Series, params: Params, as_of: pd.Timestamp) -> pd.Series:
    """The standard in force on ``as_of`` per household's area, in fen (Int64)."""
    fen = {a: _value_fen(params.dibao_standard(a, as_of)) for a in sorted(area.dropna().unique())}
    return area.map(fen).astype("Int64")


def assess(
    tables: Mapping[str, pd.DataFrame], params: Params, as_of: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Eligibility, tier, FP type and entitlement of every household on ``as_of`` (POLICY.md §6).

    Returns:
        ``(assessed, problems)``: ``assessed`` has one row per household (the
        households' index) with the input columns and ``income_fen``,
        ``standard_fen``, ``standard_yuan``, ``eligible``, ``ratio_tier``,
        ``tier``, ``tier_basis`` (``assessed``/``ratio``), ``fp_type``,
        ``fp_priority``, ``per_capita_income_yuan`` (2 decimals, half up, for
        display), ``pc_key`` (exact ranking key), ``entitlement_fen`` and
        ``entitlement_yuan`` (whole yuan, rounded up; eligible only), and the
        FP evidence; ``problems`` as :func:`fp_type_problems`.
    """
    as_of = pd.Timestamp(as_of).normalize()
    h = tables["households"].copy()
    derived = derive_fp_types(h, tables["household_members"])
    problems = fp_type_problems(h, derived)

    size = h["size"].astype("int64")
    income = to_fen(h["monthly_income"]).astype("int64")
    std = _standards(h["area"], params, as_of).astype("int64")
    line = std * size
    eligible = income < line

    bands = params.at("tier_bands", as_of)
    reached = pd.Series(0, index=h.index, dtype="int64")
    for b in bands:
        f = Fraction(Decimal(repr(float(b))))
        reached += (income * f.denominator >= f.numerator * line).astype("int64")
    ratio_tier = (1 + reached).clip(upper=len(bands)).astype("Int64").where(eligible, pd.NA)
    assessed_tier = h["assessed_tier"].astype("Int64")
    tier = assessed_tier.where(assessed_tier.notna(), ratio_tier)
    basis = pd.Series(
        np.where(assessed_tier.notna(), "assessed", "ratio"), index=h.index, dtype="str"
    ).where(tier.notna())

    ent_fen = (line - income).astype("Int64").where(eligible)
    ent_yuan = -((-ent_fen) // 100)  # ceiling to whole yuan, in integers

    h["income_fen"] = income
    h["standard_fen"] = std
    h["standard_yuan"] = std / 100
    h["eligible"] = eligible.astype("boolean")
    h["ratio_tier"] = ratio_tier
    h["tier"] = tier
    h["tier_basis"] = basis
    h["fp_type"] = derived["fp_type"]
    h["fp_priority"] = derived["fp_type"].notna()
    h["per_capita_income_yuan"] = ((income * 2 + size) // (2 * size)) / 100  # half up to the fen
    h["pc_key"] = income / size
    h["entitlement_fen"] = ent_fen
    h["entitlement_yuan"] = ent_yuan
    for c in (
        "n_children",
        "n_daughters",
        "sterilized_members",
        "fp_evidence_zh",
        "fp_evidence_en",
    ):
        h[c] = derived[c]
    return h, problems


# --------------------------------------------------------------------------- ranking


def _sort_frame(a: pd.DataFrame) -> pd.DataFrame:
    """The ranking keys as sortable columns (all ascending)."""
    return pd.DataFrame(
        {
            "tier": a["tier"],
            "fp_priority": (~a["fp_priority"]).astype("int64"),  # 0 = priority, first
            "per_capita_income_yuan": a["pc_key"],
            "application_date": a["application_date"],
            "household_id": a["household_id"],
        },
        index=a.index,
    )


def _key_value_text(key: str, row: pd.Series) -> tuple[str, str]:
    if key == "tier":
        t = TIER_LABELS.get(int(row["tier"]), (f"{row['tier']}档", f"tier {row['tier']}"))
        return t
    if key == "fp_priority":
        return (
            ("计生优先户", "an FP priority household")
            if row["fp_priority"]
            else ("非计生优先户", "not an FP priority household")
        )
    if key == "per_capita_income_yuan":
        v = f"{row['per_capita_income_yuan']:.2f}"
        return f"{v} 元", f"{v} yuan"
    if key == "application_date":
        d = _date_text(row["application_date"]) or "未填"
        return d, _date_text(row["application_date"]) or "none"
    return str(row["household_id"]), str(row["household_id"])


# The columns of the row just above that the "decided by" text quotes.
ABOVE_COLUMNS = list(dict.fromkeys(["household_id", "rank", *KEY_LABELS]))

#: The texts written row by row, the costly part of a round at province scale. A *lean* round
#: (``rank_households(..., texts=False)``) leaves them out and carries the row above's values as
#: ``above__<column>`` instead; :meth:`ReliefResult.chunks` writes them a slice at a time.
TEXT_COLUMNS = ("decided_zh", "decided_en", "reason_zh", "reason_en")
ABOVE_PREFIX = "above__"
#: Rows per slice when a lean round's texts are written (about 100 MB of texts and working columns).
CHUNK_ROWS = 100_000
#: What the texts are written from (:func:`texts_for`): a slice of a lean table needs only these.
TEXT_INPUT_COLUMNS = list(
    dict.fromkeys(
        [
            "household_id",
            "rank",
            "decided_by",
            *KEY_LABELS,
            "area",
            "size",
            "eligible",
            "incumbent",
            "tier",
            "tier_basis",
            "ratio_tier",
            "standard_fen",
            "income_fen",
            "entitlement_yuan",
            "fp_evidence_zh",
            "fp_evidence_en",
            "why_zh",
            "why_en",
            *(ABOVE_PREFIX + c for c in ABOVE_COLUMNS),
        ]
    )
)


def rank_keys(assessed: pd.DataFrame, order: Iterable[str]) -> pd.DataFrame:
    """The eligible rows of one pool sorted in the declared order, with ``rank`` and ``decided_by``.

    The vectorised half of :func:`rank_pool` (no text): the Dask engine runs it
    on the merged ranking keys of every partition. ``order`` ends with
    ``household_id``, a key, so the order is total and sorting the union of
    per-partition sorted lists gives the same list as sorting everything.

    Returns:
        The eligible rows sorted, with ``rank`` (1, 2, ...), ``decided_by``
        (the first key that separates a row from the one just above; NaN for
        rank 1), ``above_id`` and ``above_rank``.
    """
    order = list(order)
    e = assessed[assessed["eligible"].fillna(False).astype(bool)]
    keys = _sort_frame(e)
    keys = keys.sort_values(order, kind="mergesort", na_position="last")
    e = e.loc[keys.index].copy()
    e["rank"] = pd.array(np.arange(1, len(e) + 1), dtype="Int64")
    decided = pd.Series(np.nan, index=e.index, dtype="str")
    for k in reversed(order):  # the earliest differing key wins: assign from the last
        prev = keys[k].shift()
        differs = keys[k].ne(prev) & ~(keys[k].isna() & prev.isna())
        decided = decided.mask(differs, k)
    decided.iloc[:1] = np.nan
    e["decided_by"] = decided
    e["above_id"] = e["household_id"].shift()
    e["above_rank"] = e["rank"].shift()
    return e


def decided_texts(
    e: pd.DataFrame, above: pd.DataFrame, order: Iterable[str]
) -> tuple[pd.Series, pd.Series]:
    """What puts each ranked row below the one just above it, zh and en (POLICY.md §6).

    Args:
        e: ranked rows (:func:`rank_keys`): ``household_id``, ``rank``,
            ``decided_by`` and the key columns.
        above: the row just above each row of ``e`` (same index), with
            :data:`ABOVE_COLUMNS`; ignored for rank 1.
        order: the ranking order.

    Each text needs only its row and the row above, so the rows may be cut
    into pieces and done in parallel.
    """
    order = list(order)
    zh, en = [], []
    rows = _records(e, ["household_id", "rank", "decided_by", *KEY_LABELS])
    aboves = _records(above, ABOVE_COLUMNS)
    for row, ab in zip(rows, aboves, strict=True):
        if row["rank"] == 1:
            zh.append("本资金池中排序最前")
            en.append("first in the pool")
            continue
        k = row["decided_by"]
        equal = order[: order.index(k)]
        vz, ve = _key_value_text(k, row)
        az, ae = _key_value_text(k, ab)
        same_zh = "、".join(KEY_LABELS[x][0] for x in equal)
        same_en = ", ".join(KEY_LABELS[x][1] for x in equal)
        pre_zh = (
            f"与上一名 {ab['household_id']}（第 {ab['rank']} 名）{same_zh}相同，"
            if equal
            else f"与上一名 {ab['household_id']}（第 {ab['rank']} 名）相比，"
        )
        pre_en = (
            f"same {same_en} as {ab['household_id']} (rank {ab['rank']}) just above; "
            if equal
            else f"against {ab['household_id']} (rank {ab['rank']}) just above, "
        )
        zh.append(f"{pre_zh}由{KEY_LABELS[k][0]}区分：本户 {vz}，上一名 {az}")
        en.append(f"{pre_en}separated by {KEY_LABELS[k][1]}: {ve} here, {ae} there")
    return pd.Series(zh, index=e.index, dtype="str"), pd.Series(en, index=e.index, dtype="str")


def rank_pool(assessed: pd.DataFrame, order: Iterable[str], *, texts: bool = True) -> pd.DataFrame:
    """Rank the eligible households of one pool in the declared order (POLICY.md §6).

    Args:
        assessed: rows of :func:`assess` (one pool).
        order: ``ranking_order``; it ends with ``household_id``, so the order is total.
        texts: write ``decided_zh``/``decided_en``; ``False`` leaves them to
            :func:`texts_for` and adds the row above's :data:`ABOVE_COLUMNS`
            as ``above__<column>`` (what the texts quote).

    Returns:
        The eligible rows sorted, with ``rank`` (1, 2, ...), ``decided_by``
        (the first key that separates a row from the one just above; NaN for
        rank 1), ``above_id`` and ``decided_zh``/``decided_en`` texts.
    """
    e = rank_keys(assessed, order)
    above = e[ABOVE_COLUMNS].shift()
    if texts:
        e["decided_zh"], e["decided_en"] = decided_texts(e, above, order)
    else:
        for c in ABOVE_COLUMNS:
            e[ABOVE_PREFIX + c] = above[c]
    return e


# --------------------------------------------------------------------------- selection


@dataclass
class ReliefResult:
    """A round of relief selection: the table, the problems, the notes and the cut.

    Attributes:
        table: one row per household of the pool(s) (:data:`RELIEF_COLUMNS`
            plus working columns), ranked households first in rank order.
        problems: data problems (:func:`fp_type_problems`), shown as warnings.
        notes: ``(zh, en)`` lines the output must say (incumbents exceeding the
            quota or budget, a pool with nobody new).
        as_of: the date the standards and tiers are taken on.
        pool: ``all``, ``urban``, ``rural`` or ``separate``.
        quota, budget_yuan: what limited the round (``None`` = no limit).
        order: the ranking order used.
    """

    table: pd.DataFrame
    problems: pd.DataFrame
    notes: list[tuple[str, str]]
    as_of: pd.Timestamp
    pool: str = "all"
    quota: Any = None
    budget_yuan: Any = None
    order: tuple[str, ...] = field(default_factory=tuple)
    bands: tuple = ()
    #: How a lean round's texts are written: ``runner(slices, bands, order)`` yields
    #: :func:`texts_for` of each slice, in order. ``None``: here, one slice after another;
    #: the Dask engine sets one that writes them in its workers.
    runner: Callable[..., Iterator[pd.DataFrame]] | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def selected(self) -> pd.DataFrame:
        """The selected households in rank order."""
        t = self.table
        return t[t["selected"].fillna(False).astype(bool)]

    @property
    def lean(self) -> bool:
        """Whether the texts (:data:`TEXT_COLUMNS`) are still to be written (:meth:`chunks`)."""
        return "reason_zh" not in self.table.columns

    def output_columns(self) -> list[str]:
        """The CLI's columns (:data:`CLI_COLUMNS`, with ``pool`` first when the pools run separately)."""
        return CLI_COLUMNS if self.pool != "separate" else ["pool", *CLI_COLUMNS]

    def chunks(
        self, rows: int | None = None, columns: list[str] | None = None
    ) -> Iterator[pd.DataFrame]:
        """The table a slice of ``rows`` rows at a time, with every text, in table order.

        A lean round writes each slice's texts when it is reached, so the
        texts of a province (gigabytes) are never all in memory: a writer
        appends slice after slice. At least one (maybe empty) slice comes, so
        a writer always gets the header. Joined, the slices are the table
        :func:`rank_households` gives with ``texts=True``. ``rows`` defaults
        to :data:`CHUNK_ROWS`.
        """
        rows = rows or CHUNK_ROWS
        t = self.table
        n = len(t)
        starts = range(0, n, rows) if n else range(1)
        if not self.lean:
            for s in starts:
                piece = t.iloc[s : s + rows]
                yield piece if columns is None else piece[columns]
            return
        slices = (t.iloc[s : s + rows] for s in starts)
        inputs = (sl[[c for c in TEXT_INPUT_COLUMNS if c in sl.columns]] for sl in slices)
        run = self.runner or _texts_here
        for s, texts in zip(starts, run(inputs, self.bands, self.order), strict=True):
            full = with_texts(t.iloc[s : s + rows], texts)
            yield full if columns is None else full[columns]

    def with_texts(self) -> ReliefResult:
        """This round with every text written (itself when it is not lean)."""
        if not self.lean:
            return self
        table = pd.concat(list(self.chunks()))
        return dataclasses.replace(self, table=table.reset_index(drop=True), runner=None)

    def output(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The table with the CLI's columns (:data:`CLI_COLUMNS`), unmasked."""
        cols = columns or self.output_columns()
        if self.lean:
            return pd.concat(list(self.chunks(columns=cols))).reset_index(drop=True)
        return self.table[cols].reset_index(drop=True)

    def output_chunks(self, rows: int | None = None) -> Iterator[pd.DataFrame]:
        """:meth:`output` a slice at a time (what the CLI writes)."""
        for piece in self.chunks(rows, columns=self.output_columns()):
            yield piece.reset_index(drop=True)


def texts_for(lean: pd.DataFrame, bands: tuple, order: Iterable[str]) -> pd.DataFrame:
    """The texts (:data:`TEXT_COLUMNS`) of some rows of a lean round's table (POLICY.md §6).

    Each row's texts need only the row itself and the row above's values
    (``above__<column>``), so any slice may be written on its own, anywhere.

    Args:
        lean: rows of a lean table (at least :data:`TEXT_INPUT_COLUMNS` that it has).
        bands: ``tier_bands`` on the round's date.
        order: the ranking order.

    Returns:
        ``decided_zh``, ``decided_en`` (ranked rows; NaN otherwise),
        ``reason_zh``, ``reason_en``, on ``lean``'s index.
    """
    order = list(order)
    if ABOVE_PREFIX + "rank" in lean:
        e = lean[lean["rank"].notna()]
        above = e[[ABOVE_PREFIX + c for c in ABOVE_COLUMNS]].set_axis(ABOVE_COLUMNS, axis=1)
        dz, de = decided_texts(e, above, order)
    else:  # a round with no household has no ranking columns
        dz = de = pd.Series([], dtype=object)
    t = lean.assign(
        decided_zh=dz.reindex(lean.index).astype(object),
        decided_en=de.reindex(lean.index).astype(object),
    )
    rz, re_ = _reasons(t, bands)
    return pd.DataFrame(
        {
            "decided_zh": t["decided_zh"],
            "decided_en": t["decided_en"],
            "reason_zh": rz,
            "reason_en": re_,
        },
        index=lean.index,
    )


def with_texts(lean: pd.DataFrame, texts: pd.DataFrame) -> pd.DataFrame:
    """Rows of a lean table with their texts, in the columns and order of the full table.

    ``decided_zh``/``decided_en`` take the place of the ``above__`` columns
    (where :func:`rank_pool` writes them); ``reason_zh``/``reason_en`` come last.
    """
    cols = list(lean.columns)
    above = [c for c in cols if c.startswith(ABOVE_PREFIX)]
    out = lean.drop(columns=above)
    if above:  # a round with no household has no ranking columns (as the full table)
        at = cols.index(above[0])
        for k, c in enumerate(
            ("decided_zh", "decided_en")
        ):  # object, as the stacked full table has them
            out.insert(
                at + k, c, pd.Series(texts[c].to_numpy(object), index=out.index, dtype=object)
            )
    out["reason_zh"] = texts["reason_zh"].to_numpy()
    out["reason_en"] = texts["reason_en"].to_numpy()
    return out


def _texts_here(
    slices: Iterable[pd.DataFrame], bands: tuple, order: Iterable[str]
) -> Iterator[pd.DataFrame]:
    for sl in slices:
        yield texts_for(sl, bands, order)


def _limit_for(limit: Any, pool: str, what: str) -> Any:
    if limit is None or not isinstance(limit, Mapping):
        return limit
    if pool not in limit:
        raise UsageError(
            f"分池运行时须为资金池 {pool} 指定{what}",
            f"with separate pools, give the {what} for the {pool} pool",
            value=str(dict(limit)),
        )
    return limit[pool]


def _check_limit(value: Any, name: str) -> None:
    if value is None:
        return
    bad = isinstance(value, bool) or not isinstance(value, int | float | Decimal)
    if not bad:
        # NaN and infinity are no amount (found by fuzzing: --budget nan crashed the money arithmetic)
        finite = (
            value.is_finite()
            if isinstance(value, Decimal)
            else not isinstance(value, float) or np.isfinite(value)
        )
        bad = not finite or value < 0
    if bad or (name == "quota" and not (isinstance(value, int) or float(value).is_integer())):
        raise UsageError(
            f"{'名额' if name == 'quota' else '预算'}应为非负{'整数' if name == 'quota' else '数'}：{value!r}",
            f"the {name} must be a non-negative {'whole number' if name == 'quota' else 'number'}: {value!r}",
            value=str(value),
            rule=name,
        )


def select_pool(
    ranked: pd.DataFrame, incumbent: pd.Series, *, quota: int | None = None, budget_yuan: Any = None
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Select from one ranked pool (POLICY.md §6 selection).

    Continuing households (incumbents still eligible) are selected first and
    their entitlements come first out of the quota or budget, even when they
    alone exceed it. What remains goes to the other eligible households
    strictly in rank order, stopping at the first that does not fit.

    Args:
        ranked: :func:`rank_pool` output (eligible rows in rank order).
        incumbent: bool per row of ``ranked`` (receiving now or selected last round).
        quota: households (``None`` = no limit).
        budget_yuan: monthly budget in yuan (``None`` = no limit).

    Returns:
        ``(frame, notes)``: ``ranked`` plus ``incumbent``, ``selected``, ``selection``,
        ``cumulative_fen``, ``why_zh``, ``why_en``; ``notes`` are ``(zh, en)`` lines.
    """
    r = ranked.copy()
    inc = incumbent.reindex(r.index).fillna(False).astype(bool)
    # Budgets pay whole yuan: the rounded-up entitlement is what a household costs.
    ent = r["entitlement_yuan"].astype("int64") * 100
    inc_cost = int(ent[inc].sum())
    inc_n = int(inc.sum())
    new = ~inc
    pos = new.cumsum().where(new, 0)  # 1-based position among newcomers
    new_cost = ent.where(new, 0).cumsum()
    ok = pd.Series(True, index=r.index)
    budget_fen = None if budget_yuan is None else _value_fen(budget_yuan)
    slots = None if quota is None else max(0, int(quota) - inc_n)
    if slots is not None:
        ok &= pos <= slots
    if budget_fen is not None:
        ok &= (inc_cost + new_cost) <= budget_fen
    # Stop at the first newcomer that does not fit: everything after it waits too.
    admitted = new & ok
    stopped = (new & ~ok).cumsum() > 0
    admitted &= ~stopped
    selected = inc | admitted
    r["incumbent"] = inc
    r["selected"] = selected.astype("boolean")
    r["selection"] = np.where(inc, "continuing", np.where(admitted, "admitted", "waiting"))
    cum = (ent.where(inc, 0).sum() + ent.where(admitted, 0).cumsum()).where(selected)
    # Incumbents' cumulative: their running sum among themselves (paid first).
    cum = cum.mask(inc, ent.where(inc, 0).cumsum())
    r["cumulative_fen"] = cum.astype("Int64")

    notes: list[tuple[str, str]] = []
    waiting_n = int((r["selection"] == "waiting").sum())
    inc_cost_txt = _yuan_text(inc_cost)
    if quota is not None and inc_n > quota:
        notes.append(
            (
                f"在保户 {inc_n} 户已超过名额 {quota} 户：全部继续保障，本轮无新纳入",
                f"the {inc_n} continuing households exceed the quota of {quota}: all continue and nobody new enters",
            )
        )
    elif quota is not None and 0 < inc_n == quota and waiting_n:
        notes.append(
            (
                f"在保户 {inc_n} 户正好用完名额 {quota} 户：本轮无新纳入",
                f"the {inc_n} continuing households use the whole quota of {quota}: nobody new enters",
            )
        )
    if budget_fen is not None and inc_cost > budget_fen:
        notes.append(
            (
                f"在保户月保障金合计 {inc_cost_txt} 元已超过预算 {_yuan_text(budget_fen, True)} 元：全部继续保障，本轮无新纳入",
                f"the continuing households' entitlements, {inc_cost_txt} yuan a month, exceed the budget of "
                f"{_yuan_text(budget_fen, True)} yuan: all continue and nobody new enters",
            )
        )

    # Why each newcomer is in or out.
    why_zh = pd.Series("", index=r.index, dtype="str")
    why_en = pd.Series("", index=r.index, dtype="str")
    why_zh[inc] = "在保户复核仍符合条件：继续保障（不与新申请户重新排序），保障金先行列支"
    why_en[inc] = (
        "receives relief now and is still eligible: continues (re-checked, not re-ranked against newcomers), paid first"
    )
    lim_zh = []
    lim_en = []
    if slots is not None:
        lim_zh.append(f"名额 {quota} 户")
        lim_en.append(f"quota {quota}")
    if budget_fen is not None:
        lim_zh.append(f"预算 {_yuan_text(budget_fen, True)} 元")
        lim_en.append(f"budget {_yuan_text(budget_fen, True)} yuan")
    lz = "、".join(lim_zh) or "不限名额和预算（应保尽保）"
    le = ", ".join(lim_en) or "no quota or budget (all who qualify are covered)"
    cum_txt = pd.Series(
        [_yuan_text(v) if pd.notna(v) else "" for v in r["cumulative_fen"]],
        index=r.index,
        dtype="str",
    )
    if lim_zh:
        why_zh[admitted] = "新纳入：按排序在" + lz + "之内（累计 " + cum_txt[admitted] + " 元）"
        why_en[admitted] = (
            "admitted: within the "
            + le
            + " in rank order (cumulative "
            + cum_txt[admitted]
            + " yuan)"
        )
    else:
        why_zh[admitted] = "新纳入：" + lz
        why_en[admitted] = "admitted: " + le
    first_out = new & ~ok & ~((new & ~ok).cumsum().shift(fill_value=0) > 0)
    for idx in r.index[first_out]:
        reasons_zh, reasons_en = [], []
        if slots is not None and pos[idx] > slots:
            reasons_zh.append(f"名额 {quota} 户已用完（在保户 {inc_n} 户，新纳入 {slots} 户）")
            reasons_en.append(
                f"the quota of {quota} is used up ({inc_n} continuing, {slots} admitted)"
            )
        if budget_fen is not None and inc_cost + int(new_cost[idx]) > budget_fen:
            left = budget_fen - (inc_cost + int(new_cost[idx]) - int(ent[idx]))
            if inc_cost >= budget_fen:
                reasons_zh.append(
                    f"在保户月保障金合计 {_yuan_text(inc_cost)} 元已用完预算 {_yuan_text(budget_fen, True)} 元"
                )
                reasons_en.append(
                    f"the continuing households' {_yuan_text(inc_cost)} yuan use up the budget of "
                    f"{_yuan_text(budget_fen, True)} yuan"
                )
            else:
                reasons_zh.append(
                    f"预算剩余 {_yuan_text(left)} 元，不足本户月保障金 {_yuan_text(ent[idx])} 元"
                )
                reasons_en.append(
                    f"the budget has {_yuan_text(left)} yuan left, less than this household's {_yuan_text(ent[idx])} yuan"
                )
        why_zh[idx] = (
            "未纳入："
            + "；".join(reasons_zh)
            + "。按排序在此停止，其后各户均不纳入（跳过本户会打乱优先次序）"
        )
        why_en[idx] = (
            "waiting: "
            + "; ".join(reasons_en)
            + ". Selection stops here in rank order; every household below waits too (skipping this one would break the priority)"
        )
    if first_out.any():
        fo = r.index[first_out][0]
        later = (r["selection"] == "waiting") & ~first_out
        why_zh[later] = (
            f"未纳入：排序在前的 {r.at[fo, 'household_id']}（第 {r.at[fo, 'rank']} 名）未能纳入，按排序在该户处停止"
        )
        why_en[later] = (
            f"waiting: selection stopped at {r.at[fo, 'household_id']} (rank {r.at[fo, 'rank']}) above, which did not fit"
        )
    r["why_zh"] = why_zh
    r["why_en"] = why_en
    return r, notes


def _incumbents(households: pd.DataFrame, previous_round: Any) -> pd.Series:
    inc = households["receiving"].fillna(False).astype(bool)
    if previous_round is not None:
        ids = _selected_ids(previous_round)
        inc |= households["household_id"].isin(ids)
    return inc


def _selected_ids(previous_round: Any) -> set[str]:
    """Household ids from a last round: a frame with ``household_id`` and ``selected``, or ids."""
    if isinstance(previous_round, pd.DataFrame):
        sel = (
            previous_round["selected"].fillna(False).astype(bool)
            if "selected" in previous_round
            else True
        )
        return set(previous_round.loc[sel, "household_id"].dropna().astype(str))
    return {str(x) for x in previous_round}


def rank_households(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    as_of: Any = None,
    *,
    quota: int | Mapping[str, int] | None = None,
    budget_yuan: Any = None,
    pool: str = "all",
    previous_round: Any = None,
    texts: bool = True,
) -> ReliefResult:
    """Rank and select hardship households for 低保 on ``as_of`` (POLICY.md §6).

    Args:
        tables: ``households`` and ``household_members`` (typed frames).
        params: parameters (``dibao_standard_yuan``, ``tier_bands``, ``ranking_order``).
        as_of: the date of the round; default :func:`default_as_of`.
        quota: households per round (new admissions are limited; continuing
            households are never dropped). A mapping per area with ``pool="separate"``.
        budget_yuan: monthly budget in yuan (same rules). A mapping per area
            with ``pool="separate"``.
        pool: ``all`` (one pool), ``urban``, ``rural`` or ``separate``.
        previous_round: the last recorded round's selection (a frame with
            ``household_id`` and ``selected``, or the selected ids); those
            households count as receiving relief now, like ``receiving``.
        texts: write every text now. ``False`` gives a *lean* round: the
            same table without :data:`TEXT_COLUMNS`, whose texts
            :meth:`ReliefResult.chunks` writes a slice at a time (a province's
            millions of reasons need not all be in memory at once).

    Returns:
        A :class:`ReliefResult`; ``result.table`` has a reason for every household.

    Raises:
        UsageError: an unknown pool, a negative quota or budget, or a missing per-pool limit.
    """
    check_round_options(quota, budget_yuan, pool)
    as_of = default_as_of(tables) if as_of is None else pd.Timestamp(as_of).normalize()
    order = tuple(params.at("ranking_order", as_of))
    assessed, problems = prepare_round(
        tables, params, as_of, pool=pool, previous_round=previous_round
    )
    parts, notes = [], []
    for p in sorted(assessed["pool"].dropna().unique()):
        a = assessed[assessed["pool"].eq(p)]
        ranked = rank_pool(a, order, texts=texts)
        q = _limit_for(quota, p, "名额/quota")
        b = _limit_for(budget_yuan, p, "预算/budget")
        sel, n = select_pool(ranked, ranked["incumbent"], quota=q, budget_yuan=b)
        notes += pool_notes(n, p, pool)
        parts += [sel, not_ranked(a, sel)]
    table = finish_table(parts, assessed, params, as_of, texts=texts)
    return ReliefResult(
        table=table,
        problems=problems,
        notes=notes,
        as_of=as_of,
        pool=pool,
        quota=quota,
        budget_yuan=budget_yuan,
        order=order,
        bands=tuple(params.at("tier_bands", as_of)),
    )


def check_round_options(quota: Any, budget_yuan: Any, pool: str) -> None:
    """Refuse an unknown pool, a negative quota or budget, or per-area limits without separate pools."""
    if pool not in POOLS:
        raise UsageError(
            f"未知的资金池 {pool!r}，可选 {POOLS}",
            f"unknown pool {pool!r}; choose from {POOLS}",
            value=pool,
        )
    for name, lim in (("quota", quota), ("budget", budget_yuan)):
        for v in lim.values() if isinstance(lim, Mapping) else [lim]:
            _check_limit(v, name)
    if (isinstance(quota, Mapping) or isinstance(budget_yuan, Mapping)) and pool != "separate":
        raise UsageError(
            "按地区分别给出的名额或预算须配合分池（separate）使用",
            "a quota or budget per area needs pool='separate'",
        )


def prepare_round(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    as_of: pd.Timestamp,
    *,
    pool: str,
    previous_round: Any,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`assess`, plus ``incumbent`` and ``pool``, keeping only the pool's households.

    Row by row (a household and its members), so it runs on any part of a
    dataset holding whole households: the "map" of the Dask engine.
    ``previous_round`` may be a frame, ids, or a set of ids.
    """
    assessed, problems = assess(tables, params, as_of)
    assessed["incumbent"] = _incumbents(assessed, previous_round)
    if pool in ("urban", "rural"):
        assessed = assessed[assessed["area"].eq(pool)]
        assessed["pool"] = pool
        problems = problems[problems["household_id"].isin(assessed["household_id"])].reset_index(
            drop=True
        )
    elif pool == "separate":
        assessed["pool"] = assessed["area"]
    else:
        assessed["pool"] = "all"
    return assessed, problems


def pool_notes(notes: list[tuple[str, str]], p: str, pool: str) -> list[tuple[str, str]]:
    """A pool's notes, prefixed with the pool's name when the pools run separately."""
    if pool != "separate":
        return list(notes)
    az, ae = AREA_LABELS.get(p, (p, p))
    return [(f"{az}资金池：{z}", f"{ae} pool: {e}") for z, e in notes]


def not_ranked(a: pd.DataFrame, sel: pd.DataFrame) -> pd.DataFrame:
    """The pool's households that are not ranked (not eligible), by household id."""
    rest = a[~a.index.isin(sel.index)].sort_values("household_id", kind="mergesort").copy()
    rest["selected"] = pd.array([False] * len(rest), dtype="boolean")
    rest["selection"] = "not_eligible"
    for c in ("rank", "cumulative_fen", "above_rank"):
        rest[c] = pd.array([pd.NA] * len(rest), dtype="Int64")
    return rest


def finish_table(
    parts: list[pd.DataFrame],
    assessed: pd.DataFrame,
    params: Params,
    as_of: pd.Timestamp,
    *,
    texts: bool = True,
) -> pd.DataFrame:
    """Stack the pools' ranked and unranked rows, fix the types and write every reason (row by row).

    ``texts=False``: no reasons (a lean table, :func:`rank_households`).
    """
    cols = list(dict.fromkeys([c for p_ in parts for c in p_.columns]))
    table = pd.concat([p_.reindex(columns=cols) for p_ in parts]) if parts else assessed.iloc[0:0]
    for c, dtype in (("rank", "Int64"), ("selected", "boolean"), ("cumulative_fen", "Int64")):
        if c not in table:
            table[c] = pd.Series(dtype=dtype)
        if str(table[c].dtype) != dtype:
            table[c] = table[c].astype(dtype)
    if (
        "selection" not in table
    ):  # no household at all: the columns still exist (an empty output, not a KeyError)
        table["selection"] = pd.Series(dtype="str")
    table["cumulative_yuan"] = table["cumulative_fen"] / 100
    table["incumbent"] = table["incumbent"].astype(bool)
    for c in (ABOVE_PREFIX + "rank", ABOVE_PREFIX + "tier"):
        if c in table:  # the unranked rows' NaN made them floats: "rank 3", not "rank 3.0"
            v = table[c]
            na = v.isna().to_numpy()
            ints = (
                v.astype("float64").fillna(0).to_numpy().astype(np.int64)
            )  # no NaN cast (np.seterr)
            table[c] = pd.arrays.IntegerArray(ints, na)
    # Stacking with the unranked rows' NaN left these as Python objects (~60-110 bytes a row; a
    # province's table is millions of rows): typed, they are the same values in a fraction of it.
    for c, dtype in (
        ("decided_by", "str"),
        ("above_id", "str"),
        (ABOVE_PREFIX + "household_id", "str"),
        (ABOVE_PREFIX + "fp_priority", "boolean"),
        (ABOVE_PREFIX + "application_date", "datetime64[ns]"),
    ):
        if c in table and table[c].dtype == object:
            table[c] = table[c].astype(dtype)
    if texts:
        table["reason_zh"], table["reason_en"] = _reasons(
            table, tuple(params.at("tier_bands", as_of))
        )
    return table.reset_index(drop=True)


def _band_place(tier: int, bands: tuple, lang: str = "zh") -> str:
    """Where a ratio sits among the bands: ``< 0.3``, ``0.3 ≤ … < 0.6``, ``≥ 0.6``."""
    lo = _band_text(bands[tier - 2]) if tier >= 2 else None
    hi = _band_text(bands[tier - 1]) if tier <= len(bands) - 1 else None
    if lo is None:
        return f"，低于 {hi}" if lang == "zh" else f", below {hi}"
    if hi is None:
        return f"，不低于 {lo}" if lang == "zh" else f", at least {lo}"
    return f"，在 {lo} 与 {hi} 之间（含 {lo}）" if lang == "zh" else f", from {lo} up to below {hi}"


def _reasons(t: pd.DataFrame, bands: tuple) -> tuple[pd.Series, pd.Series]:
    """The plain-language reason of every household, zh and en (POLICY.md §6)."""
    zh, en = [], []
    needed = [
        "area",
        "standard_fen",
        "income_fen",
        "size",
        "per_capita_income_yuan",
        "eligible",
        "tier",
        "ratio_tier",
        "tier_basis",
        "entitlement_yuan",
        "rank",
        "fp_evidence_zh",
        "fp_evidence_en",
        "decided_zh",
        "decided_en",
        "why_zh",
        "why_en",
    ]
    for r in _records(
        t, [c for c in [*needed, "incumbent"] if c in t]
    ):  # an empty round lacks some
        area_z, area_e = AREA_LABELS.get(r["area"], (r["area"], r["area"]))
        std = _yuan_text(r["standard_fen"], True)
        inc = _yuan_text(r["income_fen"])
        size = int(r["size"])
        line = _yuan_text(r["standard_fen"] * size)
        pc = f"{r['per_capita_income_yuan']:.2f}"
        ratio = _ratio_text(r["income_fen"], r["standard_fen"] * size)
        if not r["eligible"]:
            z = (
                f"不符合低保条件：人均月收入 {pc} 元（家庭月收入 {inc} 元 ÷ {size} 人）不低于{area_z}低保标准 {std} 元"
                f"（家庭月收入 {inc} 元 ≥ {std} × {size} = {line} 元）"
            )
            e = (
                f"not eligible: per-capita income {pc} yuan (household income {inc} yuan / {size}) is not below the "
                f"{area_e} standard of {std} yuan (household income {inc} >= {std} x {size} = {line} yuan)"
            )
            if r.get("incumbent"):
                z += "；目前在保，复核后不再符合，应退出"
                e += "; receives relief now but no longer qualifies: should exit"
            if pd.notna(r["tier"]):
                z += f"（评定档次 {int(r['tier'])} 不改变资格）"
                e += f" (the assessed tier {int(r['tier'])} does not change eligibility)"
            zh.append(z)
            en.append(e)
            continue
        tz, te = TIER_LABELS.get(int(r["tier"]), (f"{r['tier']}档", f"tier {r['tier']}"))
        if r["tier_basis"] == "assessed":
            rt = int(r["ratio_tier"])
            same = rt == int(r["tier"])
            tier_z = f"{tz}（民政评议评定；按收入比 {ratio} 应为{TIER_LABELS.get(rt, ('', ''))[0]}{'，一致' if same else ''}）"
            tier_e = f"{te} (assessed by the committee; the income ratio {ratio} gives {TIER_LABELS.get(rt, ('', ''))[1]}{', the same' if same else ''})"
        else:
            tier_z = f"{tz}（收入比 = 家庭月收入 ÷（标准 × 人数）= {inc} ÷ {line} = {ratio}{_band_place(int(r['ratio_tier']), bands)}）"
            tier_e = f"{te} (income ratio = household income / (standard x size) = {inc} / {line} = {ratio}{_band_place(int(r['ratio_tier']), bands, 'en')})"
        ent = int(r["entitlement_yuan"])
        elig_z = f"家庭月收入 {inc} 元 < {area_z}标准 {std} 元 × {size} 人 = {line} 元，符合低保条件；月保障金 {line} − {inc} 元，向上取整为 {ent} 元"
        elig_e = (
            f"household income {inc} yuan < {area_e} standard {std} x {size} = {line} yuan: eligible; "
            f"entitlement {line} - {inc}, rounded up to {ent} yuan a month"
        )
        z = f"第 {int(r['rank'])} 名。{tier_z}；{r['fp_evidence_zh']}；{elig_z}；排序：{r['decided_zh']}；{r['why_zh']}"
        e = f"rank {int(r['rank'])}. {tier_e}; {r['fp_evidence_en']}; {elig_e}; ranking: {r['decided_en']}; {r['why_en']}"
        zh.append(z)
        en.append(e)
    return pd.Series(zh, index=t.index, dtype="str"), pd.Series(en, index=t.index, dtype="str")


# --------------------------------------------------------------------------- the cut line

CUT_COLUMNS = [
    "pool",
    "side",
    "rank",
    "household_id",
    "selection",
    "tier",
    "fp_type",
    "per_capita_income_yuan",
    "application_date",
    "entitlement_yuan",
    "cumulative_yuan",
    "separated_by_zh",
    "separated_by_en",
]


def cut_line(result: ReliefResult, n: int = 1) -> pd.DataFrame:
    """The households just above and just below each pool's cut line, and what separates them.

    Above: the last ``n`` newcomers admitted (or, when nobody new entered, the
    last continuing households); below: the first ``n`` eligible households
    left waiting. ``separated_by_*`` says, for the pair straddling the line,
    which ranking key puts one above the other and why the line falls there.
    A pool where nobody waits has no cut line (no rows).

    Returns:
        :data:`CUT_COLUMNS`; ``side`` is ``above`` or ``below``.
    """
    t = result.table
    out = []
    for p in sorted(t["pool"].dropna().unique()):
        pt = t[t["pool"].eq(p) & t["rank"].notna()].sort_values("rank")
        waiting = pt[pt["selection"].eq("waiting")]
        if waiting.empty:
            continue
        admitted = pt[pt["selection"].eq("admitted")]
        above = (
            (admitted if not admitted.empty else pt[pt["selection"].eq("continuing")])
            .tail(n)
            .copy()
        )
        below = waiting.head(n).copy()
        above["side"] = "above"
        below["side"] = "below"
        first = below.iloc[0]
        ab_z, ab_e = _separation(above.iloc[-1] if not above.empty else None, first, result.order)
        above["separated_by_zh"] = ab_z
        above["separated_by_en"] = ab_e
        below["separated_by_zh"] = first["why_zh"]
        below["separated_by_en"] = first["why_en"]
        out += [above, below]
    if not out:
        return pd.DataFrame(columns=CUT_COLUMNS)
    return pd.concat(out)[CUT_COLUMNS].reset_index(drop=True)


def _separation(above: pd.Series | None, below: pd.Series, order: Iterable[str]) -> tuple[str, str]:
    if above is None:
        return "", ""
    if above["selection"] == "continuing":
        # Nobody new entered: the line is drawn by the continuing households, not by the ranking.
        return (
            "在保户继续保障，先行占用名额/预算（不与新申请户重新排序），新申请户自 "
            f"{below['household_id']}（第 {below['rank']} 名）起均未纳入",
            "continues: households receiving relief now are paid first (not re-ranked against newcomers); "
            f"newcomers from {below['household_id']} (rank {below['rank']}) on wait",
        )
    for k in order:
        # The same keys the ranking sorted on, from the two rows of the (typed) table.
        keys = _sort_frame(pd.DataFrame([above, below]).astype({"fp_priority": bool}))
        sa, sb = keys[k].iloc[0], keys[k].iloc[1]
        if not (sa == sb or (pd.isna(sa) and pd.isna(sb))):
            az, ae = _key_value_text(k, above)
            bz, be = _key_value_text(k, below)
            return (
                f"纳入；排在 {below['household_id']} 之前，因{KEY_LABELS[k][0]}：{az} 对 {bz}",
                f"admitted; ranks above {below['household_id']} by {KEY_LABELS[k][1]}: {ae} against {be}",
            )
    return "", ""  # pragma: no cover - household_id separates every pair


# --------------------------------------------------------------------------- dynamic management


def _disabled_households(tables: Mapping[str, pd.DataFrame]) -> pd.Series:
    h = tables["households"]
    m = tables["household_members"]
    dis_ids = set(m.loc[m["disabled"].fillna(False).astype(bool), "household_id"])
    groups = h["special_groups"].fillna("").str.split(";").map(lambda g: "disabled" in g)
    return h["household_id"].isin(dis_ids) | groups.astype(bool)


def review(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    as_of: Any = None,
    *,
    previous: Mapping[str, pd.DataFrame] | None = None,
    previous_as_of: Any = None,
    previous_round: Any = None,
    quota: Any = None,
    budget_yuan: Any = None,
    pool: str = "all",
) -> tuple[pd.DataFrame, ReliefResult]:
    """Dynamic management between two periods (POLICY.md §6 动态管理).

    "Before" is ``previous_round`` (the last recorded round's selection) when
    given, else the previous dataset's ``receiving`` households, else this
    dataset's ``receiving`` households (this period against who receives relief
    now). "Now" is this round's selection (:func:`rank_households`, with the
    "before" households continuing while still eligible).

    Each household selected before or now is ``enter``, ``continue``,
    ``tier_change`` (the previous tier from the previous data, or from a
    recorded round's ``tier``/``income_fen`` columns when ``previous_round`` is
    a register round; unknown without either, which counts as the same) or
    ``exit`` (income at or above the
    standard, or no longer listed: moved or died). Others have no transition.

    Returns:
        ``(review_table, relief_result)``: one row per household listed now or
        before (:data:`REVIEW_COLUMNS`, sorted by household id), and the round.
    """
    as_of = default_as_of(tables) if as_of is None else pd.Timestamp(as_of).normalize()
    cur_h = tables["households"]
    if previous_round is not None:
        before = _selected_ids(previous_round)
    elif previous is not None:
        ph = previous["households"]
        before = set(ph.loc[ph["receiving"].fillna(False).astype(bool), "household_id"])
    else:
        before = set(cur_h.loc[cur_h["receiving"].fillna(False).astype(bool), "household_id"])

    res = rank_households(
        tables,
        params,
        as_of,
        quota=quota,
        budget_yuan=budget_yuan,
        pool=pool,
        previous_round=sorted(before),
    )
    now = res.table.set_index("household_id")

    prev_tier = pd.Series(dtype="Int64")
    prev_income = pd.Series(dtype="Int64")
    prev_rows = pd.DataFrame()
    if previous is not None:
        p_as_of = (
            default_as_of(previous) if previous_as_of is None else pd.Timestamp(previous_as_of)
        )
        pa, _ = assess(previous, params, p_as_of)
        pa = pa.set_index("household_id")
        prev_tier = pa["tier"]
        prev_income = pa["income_fen"]
        prev_rows = pa
    elif isinstance(previous_round, pd.DataFrame) and "tier" in previous_round:
        # A recorded round (fpanalysis.register) knows each household's tier and income then.
        pr = previous_round.drop_duplicates("household_id").set_index("household_id")
        prev_tier = pr["tier"].astype("Int64")
        if "income_fen" in pr:
            prev_income = pr["income_fen"].astype("Int64")
    if pool in ("urban", "rural"):
        area_of = (
            now["area"].combine_first(prev_rows["area"]) if not prev_rows.empty else now["area"]
        )
        before = {h for h in before if h in area_of.index and area_of.get(h) == pool}

    ids = sorted(set(now.index) | before)
    info = ["area", "township", "head_name", "last_review_date", "application_date"]
    out = now[[*info, "eligible", "income_fen", "standard_fen", "per_capita_income_yuan"]].reindex(
        ids
    )
    out.index.name = "household_id"
    if not prev_rows.empty:  # an exited household keeps its last known details
        out[info] = out[info].combine_first(prev_rows[info].reindex(ids))
    listed = out.index.isin(now.index)
    out["tier"] = now["tier"].reindex(out.index).astype("Int64")
    out["previous_tier"] = prev_tier.reindex(out.index).astype("Int64")
    sel_now = now["selected"].reindex(out.index).fillna(False).astype(bool)
    sel_before = pd.Series(out.index.isin(sorted(before)), index=out.index)
    out["selected"] = sel_now.astype("boolean")
    out["previously_selected"] = sel_before.astype("boolean")

    tier_known = out["previous_tier"].notna() & out["tier"].notna()
    changed_tier = tier_known & out["previous_tier"].ne(out["tier"]).fillna(False).astype(bool)
    trans = np.select(
        [
            sel_now & ~sel_before,
            sel_now & sel_before & changed_tier,
            sel_now & sel_before,
            ~sel_now & sel_before,
        ],
        ["enter", "tier_change", "continue", "exit"],
        default="",
    )
    out["transition"] = pd.Series(trans, index=out.index, dtype="str").replace("", np.nan)

    # Income change against the previous data: unknown without it.
    cur_inc = now["income_fen"].reindex(out.index)
    pinc = prev_income.reindex(out.index)
    income_changed = pd.Series(pd.NA, index=out.index, dtype="boolean")
    known = cur_inc.notna() & pinc.notna()
    income_changed[known] = (
        cur_inc[known].astype("int64").ne(pinc[known].astype("int64")).to_numpy()
    )
    out["income_changed"] = income_changed

    months = params.at("review_months", as_of)
    dis = (
        pd.Series(_disabled_households(tables).to_numpy(), index=cur_h["household_id"])
        .reindex(out.index)
        .fillna(False)
        .astype(bool)
    )
    long_ok = dis & income_changed.eq(False).fillna(False).astype(bool)
    out["review_months"] = pd.array(
        np.where(long_ok, months["disabled_member"], months["default"]), dtype="Int64"
    )
    base = out["last_review_date"].combine_first(out["application_date"])
    entering = out["transition"].eq("enter").fillna(False).astype(bool)
    base = base.mask(entering, as_of)
    next_due = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    for m_ in sorted(set(out["review_months"].dropna().astype(int))):
        sel = out["review_months"].eq(m_).fillna(False).astype(bool) & base.notna()
        next_due[sel] = (base[sel] + pd.DateOffset(months=m_)).astype("datetime64[ns]")
    out["next_review_date"] = next_due.where(sel_now)
    due = pd.Series(pd.NA, index=out.index, dtype="boolean")
    due[sel_now] = (next_due[sel_now].isna() | (next_due[sel_now] <= as_of)).to_numpy()
    out["review_due"] = due
    out["review_months"] = out["review_months"].where(sel_now)
    out["reason_zh"], out["reason_en"] = _review_reasons(out, listed, dis, months, as_of)
    out = out.reset_index()
    return out[REVIEW_COLUMNS], res


def _review_reasons(
    out: pd.DataFrame, listed: np.ndarray, dis: pd.Series, months: Mapping, as_of
) -> tuple[pd.Series, pd.Series]:
    zh, en = [], []
    for (hid, r), is_listed in zip(out.iterrows(), listed, strict=True):
        t = r["transition"]
        tz = TIER_LABELS.get(int(r["tier"]), ("", ""))[0] if pd.notna(r["tier"]) else ""
        te = TIER_LABELS.get(int(r["tier"]), ("", ""))[1] if pd.notna(r["tier"]) else ""
        if t == "enter":
            z, e = (
                f"新纳入：本轮选中（{tz}），上期未在保",
                f"enters: selected in this round ({te}), not receiving before",
            )
        elif t == "continue":
            if pd.notna(r["previous_tier"]):
                z, e = (
                    f"继续：两期均在保，档次未变（{tz}）",
                    f"continues: selected both times, same tier ({te})",
                )
            else:
                z, e = (
                    f"继续：两期均在保（{tz}；上期档次无记录）",
                    f"continues: selected both times ({te}; previous tier not recorded)",
                )
        elif t == "tier_change":
            pz = TIER_LABELS.get(int(r["previous_tier"]), ("", ""))
            z, e = (
                f"档次变动：两期均在保，{pz[0]} → {tz}",
                f"tier change: selected both times, {pz[1]} -> {te}",
            )
        elif t == "exit":
            if not is_listed:
                z, e = (
                    "退出：本期名册中已无此户（迁出或死亡）",
                    "exits: no longer listed (moved or died)",
                )
            elif r["eligible"] is False or r["eligible"] is pd.NA or not bool(r["eligible"]):
                pc = f"{r['per_capita_income_yuan']:.2f}"
                std = _yuan_text(r["standard_fen"], True)
                z = f"退出：人均月收入 {pc} 元，已达到或超过低保标准 {std} 元"
                e = f"exits: per-capita income {pc} yuan is at or above the standard of {std} yuan"
            else:  # pragma: no cover - an eligible incumbent always continues
                z, e = "退出：本轮未选中", "exits: not selected in this round"
        else:
            z, e = "上期和本轮均未在保", "not selected before or now"
        if pd.notna(r["review_due"]):
            nd = _date_text(r["next_review_date"])
            why_z = (
                "有残疾成员且收入未变"
                if int(r["review_months"]) == months["disabled_member"]
                and months["disabled_member"] != months["default"]
                else (
                    "有残疾成员但收入有变化"
                    if dis[hid] and r["income_changed"] is True
                    else ("有残疾成员，收入是否变化未知" if dis[hid] else "一般")
                )
            )
            why_e = {
                "有残疾成员且收入未变": "a disabled member and income unchanged",
                "有残疾成员但收入有变化": "a disabled member but income changed",
                "有残疾成员，收入是否变化未知": "a disabled member, income change unknown",
                "一般": "default",
            }[why_z]
            since = (
                "本轮纳入日"
                if r["transition"] == "enter"
                else ("最近复核日" if pd.notna(r["last_review_date"]) else "申请日")
            )
            since_e = (
                "this round's admission"
                if r["transition"] == "enter"
                else ("the last review" if pd.notna(r["last_review_date"]) else "the application")
            )
            if r["review_due"]:
                z += f"；应复核：自{since}起已满 {int(r['review_months'])} 个月（{why_z}），应于 {nd} 复核"
                e += f"; due for review: {int(r['review_months'])} months ({why_e}) after {since_e} ran out on {nd}"
            else:
                z += f"；下次复核 {nd}（{since}起 {int(r['review_months'])} 个月，{why_z}）"
                e += (
                    f"; next review {nd} ({int(r['review_months'])} months from {since_e}, {why_e})"
                )
        zh.append(z)
        en.append(e)
    return pd.Series(zh, index=out.index, dtype="str"), pd.Series(en, index=out.index, dtype="str")


# --------------------------------------------------------------------------- meeting workbook


def export_meeting_xlsx(
    result: ReliefResult,
    path: str | Path,
    *,
    lang: str = "zh",
    reveal_pii: bool = False,
    title: str | None = None,
) -> Path:
    """Write the selected list as a formatted workbook for the committee's meeting.

    A title row (the round, its date and limits), bold frozen headers, column
    widths, the selected households in rank order (continuing first, then the
    admitted ones) and fixed document properties and zip times, so reruns give
    identical bytes (``SOURCE_DATE_EPOCH`` when set, else 2000-01-01). Names are
    masked unless ``reveal_pii``. Written to a temporary name and renamed.

    Returns:
        The path written.
    """
    import io as _io
    import os
    import tempfile
    import zipfile

    import openpyxl
    from openpyxl.styles import Alignment, Font
    from openpyxl.writer.excel import ExcelWriter

    from fpanalysis.core import schema
    from fpanalysis.io import neutralize_text

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise UsageError(
            "会议表须为 .xlsx 文件", "the meeting workbook must be an .xlsx file", file=str(path)
        )
    cols = [
        "pool",
        "rank",
        "household_id",
        "area",
        "township",
        "head_name",
        "size",
        "tier",
        "fp_type",
        "per_capita_income_yuan",
        "standard_yuan",
        "entitlement_yuan",
        "cumulative_yuan",
        "selection",
        "reason_zh" if lang == "zh" else "reason_en",
    ]
    if result.pool != "separate":
        cols.remove("pool")  # one pool: the title says which
    result = result.with_texts()  # a lean round: its reasons now (the meeting list is a county's)
    sel = result.selected.copy()
    sel = sel.assign(_first=~sel["incumbent"]).sort_values(
        ["pool", "_first", "rank"], kind="mergesort"
    )[cols]
    if not reveal_pii:
        from fpanalysis.core.privacy import mask_frame

        sel = mask_frame(sel)
    zh = lang == "zh"
    labels = (
        {**{c: schema.zh_header(c, "households") for c in cols}, "reason_zh": "理由"}
        if zh
        else {c: c for c in cols}
    )
    value_labels = {
        "area": {k: v[0 if zh else 1] for k, v in AREA_LABELS.items()}
        | {"all": "城乡合并" if zh else "all"},
        "pool": {k: v[0 if zh else 1] for k, v in AREA_LABELS.items()}
        | {"all": "城乡合并" if zh else "all"},
        "fp_type": {k: v[0 if zh else 1] for k, v in FP_LABELS.items()},
        "selection": ({"continuing": "继续保障", "admitted": "新纳入"} if zh else {}),
    }
    total = int(result.selected["entitlement_yuan"].astype("int64").sum()) * 100
    if title is None:
        lim = []
        if result.quota is not None:
            lim.append((f"名额 {result.quota}", f"quota {result.quota}"))
        if result.budget_yuan is not None:
            lim.append((f"预算 {result.budget_yuan} 元", f"budget {result.budget_yuan} yuan"))
        limz = "，".join(x[0] for x in lim) or "应保尽保"
        lime = ", ".join(x[1] for x in lim) or "all who qualify"
        if result.pool in AREA_LABELS:
            limz = f"{AREA_LABELS[result.pool][0]}资金池；{limz}"
            lime = f"{AREA_LABELS[result.pool][1]} pool; {lime}"
        title = (
            f"低保拟纳入名单（基准日 {_date_text(result.as_of)}；{limz}；共 {len(sel)} 户，月保障金合计 {_yuan_text(total)} 元）"
            if zh
            else f"Minimum-living relief: selected households (as of {_date_text(result.as_of)}; {lime}; "
            f"{len(sel)} households, {_yuan_text(total)} yuan a month)"
        )

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "拟纳入名单" if zh else "selected"
    ws.append([neutralize_text(title)])
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(cols))
    ws.append([labels[c] for c in cols])
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for rec in sel.to_dict("records"):
        row = []
        for c in cols:
            v = rec[c]
            if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
                v = None
            elif c in value_labels:
                v = value_labels[c].get(v, v)
            elif isinstance(v, np.generic):
                v = v.item()
            v = neutralize_text(v)  # formula injection: text stays text (fpanalysis.io)
            row.append(v)
        ws.append(row)
    widths = {
        "reason_zh": 80,
        "reason_en": 100,
        "township": 12,
        "head_name": 10,
        "household_id": 12,
    }
    for j, c in enumerate(cols, start=1):
        ws.column_dimensions[openpyxl.utils.get_column_letter(j)].width = widths.get(c, 11)
        if c.startswith("reason"):
            for (cell,) in ws.iter_rows(min_row=3, min_col=j, max_col=j):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        if c.endswith("_yuan"):
            for (cell,) in ws.iter_rows(min_row=3, min_col=j, max_col=j):
                cell.number_format = (
                    "0.00" if c in ("per_capita_income_yuan", "cumulative_yuan") else "0"
                )
    ws.freeze_panes = "A3"
    from fpanalysis.core.clock import document_time

    when = document_time()
    wb.properties.creator = "fpanalysis"
    wb.properties.title = title
    wb.properties.created = when
    wb.properties.modified = when
    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()  # not save_workbook: it stamps the current time
    stamp = max(when, dt.datetime(1980, 1, 1)).timetuple()[:6]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        buf.seek(0)
        with zipfile.ZipFile(buf) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                zi = zipfile.ZipInfo(info.filename, date_time=stamp)
                zi.compress_type = zipfile.ZIP_DEFLATED
                zi.external_attr = 0o600 << 16
                dst.writestr(zi, src.read(info.filename))
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
