"""The plain-language texts of a relief round (rulebook §6).

Amounts, ratios and dates as text, the labels of areas, tiers and ranking
keys, what puts each ranked household below the one just above it, and every
household's reason. Each row's texts need only the row and the row above's
values, so a lean round's texts can be written a slice at a time, anywhere.

Each text has its readable rule, one household at a time (:func:`decided_text`,
:func:`reason_text`: what the rulebook says a household is told), and the same
texts written a column at a time for a province (:func:`decided_texts`,
:func:`reason_texts`, with :mod:`.textcols`), which hand any row they cannot
write to the readable rule; the two agree on every row
(``tests/rules/test_relief_texts.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fpanalysis.core.labels import labels
from fpanalysis.core.numbers import plain_text, whole_fen

AREA_LABELS = {"urban": ("城镇", "urban"), "rural": ("农村", "rural")}
TIER_LABELS = {1: ("一档", "tier 1"), 2: ("二档", "tier 2"), 3: ("三档", "tier 3")}

# Key name -> (zh, en) label, for reasons.
KEY_LABELS = labels(
    """
    tier                   | 档次       | tier
    fp_priority            | 计生优先   | FP priority
    per_capita_income_yuan | 人均月收入 | per-capita income
    application_date       | 申请日期   | application date
    household_id           | 户编号     | household id
    """
)


def yuan_text(fen: int, whole_if_round: bool = False) -> str:
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
    return plain_text(float(b))


def date_text(d: Any) -> str:
    """A date as ``YYYY-MM-DD``; empty when missing."""
    return "" if pd.isna(d) else pd.Timestamp(d).strftime("%Y-%m-%d")


# The columns of the row just above that the "decided by" text quotes.
ABOVE_COLUMNS = list(dict.fromkeys(["household_id", "rank", *KEY_LABELS]))

#: The texts written row by row, the costly part of a round at province scale. A *lean* round
#: (``rank_households(..., texts=False)``) leaves them out and carries the row above's values as
#: ``above__<column>`` instead; :meth:`ReliefResult.chunks` writes them a slice at a time.
TEXT_COLUMNS = ("decided_zh", "decided_en", "reason_zh", "reason_en")
ABOVE_PREFIX = "above__"
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


def _records(df: pd.DataFrame, columns: Iterable[str]) -> list[dict]:
    """``df[columns].to_dict("records")``, several times faster on text columns.

    One ``tolist`` a column.
    """
    cols = list(dict.fromkeys(columns))
    lists = [df[c].tolist() for c in cols]
    return [dict(zip(cols, vals, strict=True)) for vals in zip(*lists, strict=True)]


def key_value_text(key: str, row: pd.Series) -> tuple[str, str]:
    """A row's value of one ranking key as text, zh and en (``row`` may be a dict)."""
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
        d = date_text(row["application_date"]) or "未填"
        return d, date_text(row["application_date"]) or "none"
    return str(row["household_id"]), str(row["household_id"])


def decided_text(
    row: Mapping[str, Any], above: Mapping[str, Any], order: list[str]
) -> tuple[str, str]:
    """What puts one ranked household below the one just above it, zh and en (rulebook §6).

    The readable rule, one household at a time: ``row`` has ``rank``,
    ``decided_by`` and the key columns; ``above`` the row just above's
    :data:`ABOVE_COLUMNS` (ignored for rank 1). :func:`decided_texts` writes
    the same texts a column at a time.
    """
    if row["rank"] == 1:
        return "本资金池中排序最前", "first in the pool"
    k = row["decided_by"]
    equal = order[: order.index(k)]
    vz, ve = key_value_text(k, row)
    az, ae = key_value_text(k, above)
    same_zh = "、".join(KEY_LABELS[x][0] for x in equal)
    same_en = ", ".join(KEY_LABELS[x][1] for x in equal)
    pre_zh = (
        f"与上一名 {above['household_id']}（第 {above['rank']} 名）{same_zh}相同，"
        if equal
        else f"与上一名 {above['household_id']}（第 {above['rank']} 名）相比，"
    )
    pre_en = (
        f"same {same_en} as {above['household_id']} (rank {above['rank']}) just above; "
        if equal
        else f"against {above['household_id']} (rank {above['rank']}) just above, "
    )
    return (
        f"{pre_zh}由{KEY_LABELS[k][0]}区分：本户 {vz}，上一名 {az}",
        f"{pre_en}separated by {KEY_LABELS[k][1]}: {ve} here, {ae} there",
    )


def decided_texts_by_row(
    e: pd.DataFrame, above: pd.DataFrame, order: Iterable[str]
) -> tuple[pd.Series, pd.Series]:
    """:func:`decided_text` of every row (the readable rule, row by row)."""
    order = list(order)
    rows = _records(e, ["household_id", "rank", "decided_by", *KEY_LABELS])
    aboves = _records(above, ABOVE_COLUMNS)
    made = [decided_text(row, ab, order) for row, ab in zip(rows, aboves, strict=True)]
    zh = [z for z, _ in made]
    en = [x for _, x in made]
    return pd.Series(zh, index=e.index, dtype="str"), pd.Series(en, index=e.index, dtype="str")


def decided_texts(
    e: pd.DataFrame, above: pd.DataFrame, order: Iterable[str]
) -> tuple[pd.Series, pd.Series]:
    """What puts each ranked row below the one just above it, zh and en (rulebook §6).

    :func:`decided_text` of every row, written a column at a time
    (:mod:`.textcols`); a row the columns cannot write (a missing value) is
    written by :func:`decided_text` itself.

    Args:
        e: ranked rows (:func:`rank_keys`): ``household_id``, ``rank``,
            ``decided_by`` and the key columns.
        above: the row just above each row of ``e`` (same index), with
            :data:`ABOVE_COLUMNS`; ignored for rank 1.
        order: the ranking order.

    Each text needs only its row and the row above, so the rows may be cut
    into pieces and done in parallel.
    """
    from fpanalysis.rules.relief import textcols as tc

    order = list(order)
    n = len(e)
    if n == 0:
        return decided_texts_by_row(e, above, order)
    rank = e["rank"]
    first = rank.eq(1).fillna(False).to_numpy(bool)
    by = e["decided_by"]
    ab_rank = above["rank"]
    ab_id = above["household_id"]
    ok = ~first & rank.notna().to_numpy(bool) & ab_rank.notna().to_numpy(bool)
    ok &= ab_id.notna().to_numpy(bool)
    parts = [(np.flatnonzero(first), None)]
    done = first.copy()
    for k in dict.fromkeys(order):
        rows = np.flatnonzero(ok & by.eq(k).fillna(False).to_numpy(bool))
        if not len(rows):
            continue
        here = _key_texts(k, e.iloc[rows])
        there = _key_texts(k, above.iloc[rows].set_axis(e.index[rows]))
        fine = here[2] & there[2]
        rows, sub = rows[fine], np.flatnonzero(fine)
        if not len(rows):
            continue
        equal = order[: order.index(k)]
        a_id = tc.texts_of(ab_id.iloc[rows])
        a_rank = _f_texts(ab_rank.iloc[rows])
        vz, ve, az, ae = (x.take(pa.array(sub)) for x in (*here[:2], *there[:2]))
        if equal:
            same_zh = "、".join(KEY_LABELS[x][0] for x in equal)
            same_en = ", ".join(KEY_LABELS[x][1] for x in equal)
            pre_zh = tc.cat("与上一名 ", a_id, "（第 ", a_rank, f" 名）{same_zh}相同，")
            pre_en = tc.cat(f"same {same_en} as ", a_id, " (rank ", a_rank, ") just above; ")
        else:
            pre_zh = tc.cat("与上一名 ", a_id, "（第 ", a_rank, " 名）相比，")
            pre_en = tc.cat("against ", a_id, " (rank ", a_rank, ") just above, ")
        zh = tc.cat(pre_zh, f"由{KEY_LABELS[k][0]}区分：本户 ", vz, "，上一名 ", az)
        en = tc.cat(pre_en, f"separated by {KEY_LABELS[k][1]}: ", ve, " here, ", ae, " there")
        parts.append((rows, (zh, en)))
        done[rows] = True
    rest = np.flatnonzero(~done)
    if len(rest):  # what the columns cannot write: the readable rule itself
        rz, re_ = decided_texts_by_row(e.iloc[rest], above.iloc[rest], order)
        parts.append((rest, (tc.texts_of(rz), tc.texts_of(re_))))
    firsts = len(parts[0][0])
    parts[0] = (
        parts[0][0],
        (tc.repeat("本资金池中排序最前", firsts), tc.repeat("first in the pool", firsts)),
    )
    zh = tc.assemble(n, [(p, t[0]) for p, t in parts])
    en = tc.assemble(n, [(p, t[1]) for p, t in parts])
    return tc.as_series(zh, e.index), tc.as_series(en, e.index)


def _f_texts(s: pd.Series) -> pa.Array:
    """``f"{v}"`` of each value of a column as :func:`_records` gives them (no missing value)."""
    from fpanalysis.rules.relief import textcols as tc

    if pd.api.types.is_integer_dtype(s.dtype):
        return tc.int_texts(s.to_numpy(np.int64))
    if s.dtype == "str":
        return tc.texts_of(s)
    return tc.by_value(s, lambda v: f"{v}")


def _key_texts(key: str, rows: pd.DataFrame) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """:func:`key_value_text` of one key for each row: ``(zh, en, written)``; where
    ``written`` is false the texts mean nothing (the readable rule writes that row)."""
    from fpanalysis.rules.relief import textcols as tc

    v = rows[key]
    present = v.notna().to_numpy(bool)
    if key in ("tier", "fp_priority"):  # a few values: each one's text once
        sub = v[present]
        zh, en = tc.by_value(sub, lambda x: key_value_text(key, {key: x}))
        return _spread(zh, present), _spread(en, present), present
    if key == "per_capita_income_yuan":
        fen, exact = whole_fen(v.to_numpy(np.float64, na_value=np.nan))
        t = tc.yuan_texts(np.where(exact, fen, 0))
        return tc.cat(t, " 元"), tc.cat(t, " yuan"), exact
    if key == "application_date":
        d = tc.date_texts(v)
        empty = pc.equal(d, tc.lit(""))
        return (
            pc.if_else(empty, tc.lit("未填"), d),
            pc.if_else(empty, tc.lit("none"), d),
            (np.ones(len(v), bool)),
        )
    t = _f_texts(v) if present.all() else pa.nulls(len(v), tc.TEXT)
    return t, t, np.full(len(v), bool(present.all()))


def _spread(texts: pa.Array, present: np.ndarray) -> pa.Array:
    """Texts of the present rows, in place among all rows (nulls elsewhere)."""
    if present.all():
        return texts
    at = np.full(len(present), -1, np.int64)
    at[present] = np.arange(int(present.sum()))
    return texts.take(pa.array(at, mask=~present))


def texts_for(lean: pd.DataFrame, bands: tuple, order: Iterable[str]) -> pd.DataFrame:
    """The texts (:data:`TEXT_COLUMNS`) of some rows of a lean round's table (rulebook §6).

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
    # missing (NaN) for the unranked rows, as :func:`reason_text` would quote them
    t = lean.assign(decided_zh=dz.reindex(lean.index), decided_en=de.reindex(lean.index))
    rz, re_ = reason_texts(t, bands)
    return pd.DataFrame(
        {
            "decided_zh": t["decided_zh"],
            "decided_en": t["decided_en"],
            "reason_zh": rz,
            "reason_en": re_,
        },
        index=lean.index,
    )


def _band_place(tier: int, bands: tuple, lang: str = "zh") -> str:
    """Where a ratio sits among the bands: ``< 0.3``, ``0.3 ≤ … < 0.6``, ``≥ 0.6``."""
    lo = _band_text(bands[tier - 2]) if tier >= 2 else None
    hi = _band_text(bands[tier - 1]) if tier <= len(bands) - 1 else None
    if lo is None:
        return f"，低于 {hi}" if lang == "zh" else f", below {hi}"
    if hi is None:
        return f"，不低于 {lo}" if lang == "zh" else f", at least {lo}"
    return f"，在 {lo} 与 {hi} 之间（含 {lo}）" if lang == "zh" else f", from {lo} up to below {hi}"


#: What a household's reason is written from (:func:`reason_text`).
REASON_INPUT_COLUMNS = [
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


def reason_text(r: Mapping[str, Any], bands: tuple) -> tuple[str, str]:
    """The plain-language reason of one household, zh and en (rulebook §6).

    The readable rule, one household at a time (``r`` has
    :data:`REASON_INPUT_COLUMNS` and maybe ``incumbent``); :func:`reason_texts`
    writes the same texts a column at a time.
    """
    area_z, area_e = AREA_LABELS.get(r["area"], (r["area"], r["area"]))
    std = yuan_text(r["standard_fen"], True)
    inc = yuan_text(r["income_fen"])
    size = int(r["size"])
    line = yuan_text(r["standard_fen"] * size)
    pc_ = f"{r['per_capita_income_yuan']:.2f}"
    ratio = _ratio_text(r["income_fen"], r["standard_fen"] * size)
    if not r["eligible"]:
        z = (
            f"不符合低保条件：人均月收入 {pc_} 元（家庭月收入 {inc} 元 ÷ {size} 人）"
            f"不低于{area_z}低保标准 {std} 元"
            f"（家庭月收入 {inc} 元 ≥ {std} × {size} = {line} 元）"
        )
        e = (
            f"not eligible: per-capita income {pc_} yuan (household income {inc} yuan / {size}) "
            f"is not below the {area_e} standard of {std} yuan "
            f"(household income {inc} >= {std} x {size} = {line} yuan)"
        )
        if r.get("incumbent"):
            z += "；目前在保，复核后不再符合，应退出"
            e += "; receives relief now but no longer qualifies: should exit"
        if pd.notna(r["tier"]):
            z += f"（评定档次 {int(r['tier'])} 不改变资格）"
            e += f" (the assessed tier {int(r['tier'])} does not change eligibility)"
        return z, e
    tz, te = TIER_LABELS.get(int(r["tier"]), (f"{r['tier']}档", f"tier {r['tier']}"))
    if r["tier_basis"] == "assessed":
        rt = int(r["ratio_tier"])
        same = rt == int(r["tier"])
        rt_z, rt_e = TIER_LABELS.get(rt, ("", ""))
        tier_z = f"{tz}（民政评议评定；按收入比 {ratio} 应为{rt_z}{'，一致' if same else ''}）"
        tier_e = (
            f"{te} (assessed by the committee; the income ratio {ratio} gives "
            f"{rt_e}{', the same' if same else ''})"
        )
    else:
        place_z = _band_place(int(r["ratio_tier"]), bands)
        place_e = _band_place(int(r["ratio_tier"]), bands, "en")
        tier_z = f"{tz}（收入比 = 家庭月收入 ÷（标准 × 人数）= {inc} ÷ {line} = {ratio}{place_z}）"
        tier_e = (
            f"{te} (income ratio = household income / (standard x size) = "
            f"{inc} / {line} = {ratio}{place_e})"
        )
    ent = int(r["entitlement_yuan"])
    elig_z = (
        f"家庭月收入 {inc} 元 < {area_z}标准 {std} 元 × {size} 人 = {line} 元，符合低保条件；"
        f"月保障金 {line} − {inc} 元，向上取整为 {ent} 元"
    )
    elig_e = (
        f"household income {inc} yuan < {area_e} standard {std} x {size} = {line} yuan: "
        f"eligible; entitlement {line} - {inc}, rounded up to {ent} yuan a month"
    )
    rank = int(r["rank"])
    z = (
        f"第 {rank} 名。{tier_z}；{r['fp_evidence_zh']}；{elig_z}；"
        f"排序：{r['decided_zh']}；{r['why_zh']}"
    )
    e = (
        f"rank {rank}. {tier_e}; {r['fp_evidence_en']}; {elig_e}; "
        f"ranking: {r['decided_en']}; {r['why_en']}"
    )
    return z, e


def reason_texts_by_row(t: pd.DataFrame, bands: tuple) -> tuple[pd.Series, pd.Series]:
    """:func:`reason_text` of every household (the readable rule, row by row)."""
    cols = [c for c in [*REASON_INPUT_COLUMNS, "incumbent"] if c in t]  # an empty round lacks some
    made = [reason_text(r, bands) for r in _records(t, cols)]
    zh = [z for z, _ in made]
    en = [x for _, x in made]
    return pd.Series(zh, index=t.index, dtype="str"), pd.Series(en, index=t.index, dtype="str")


def reason_texts(t: pd.DataFrame, bands: tuple) -> tuple[pd.Series, pd.Series]:
    """The plain-language reason of every household, zh and en (rulebook §6).

    :func:`reason_text` of every row, written a column at a time
    (:mod:`.textcols`): each branch of the rule (not eligible; eligible) is one
    join of its pieces over the rows it holds; a row the columns cannot write
    (a missing value, an amount that is not whole fen) is written by
    :func:`reason_text` itself.
    """
    from fpanalysis.rules.relief import textcols as tc

    n = len(t)
    if n == 0 or not set(REASON_INPUT_COLUMNS) <= set(t.columns):
        return reason_texts_by_row(t, bands)
    has = {c: t[c].notna().to_numpy(bool) for c in REASON_INPUT_COLUMNS}
    size, has_size = tc.ints(t["size"])
    std_fen, has_std = tc.ints(t["standard_fen"])
    inc_fen, has_inc = tc.ints(t["income_fen"])
    tier, has_tier = tc.ints(t["tier"])
    rtier, has_rt = tc.ints(t["ratio_tier"])
    ent, has_ent = tc.ints(t["entitlement_yuan"])
    rank, has_rank = tc.ints(t["rank"])
    line_fen = std_fen * size
    ok = has["eligible"] & has["area"] & has_size & has_std & has_inc & (line_fen != 0)
    elig = t["eligible"].fillna(False).to_numpy(bool)
    pc_fen, exact = whole_fen(t["per_capita_income_yuan"].to_numpy(np.float64, na_value=np.nan))
    ok_out = ok & ~elig & exact
    text_cols = ("fp_evidence_zh", "fp_evidence_en", "decided_zh", "decided_en", "why_zh", "why_en")
    ok_in = ok & elig & has_tier & has_rt & has_ent & has_rank & has["tier_basis"]
    ok_in &= np.logical_and.reduce([has[c] for c in text_cols])
    if not pd.api.types.is_integer_dtype(t["tier"].dtype):  # "4.0档" as an f-string shows it
        ok_in &= np.isin(tier, list(TIER_LABELS))
    ok_all = ok_in | ok_out

    # pieces both branches quote (null where neither writes the row)
    area_z, area_e = tc.by_value(t["area"], lambda a: AREA_LABELS.get(a, (f"{a}", f"{a}")))
    std = tc.yuan_texts(std_fen, True, valid=ok_all)
    inc = tc.yuan_texts(inc_fen, valid=ok_all)
    sz = tc.int_texts(size, valid=ok_all)
    line = tc.yuan_texts(line_fen, valid=ok_all)
    branches_z, branches_e = [], []

    if ok_out.any():  # not eligible: null wherever this branch does not write the row
        pc_t = tc.yuan_texts(pc_fen, valid=ok_out)
        incumbent = (
            t["incumbent"].fillna(False).astype(bool).to_numpy() if "incumbent" in t else False
        )
        keys = [pd.Series(incumbent & ok_out), pd.Series(has_tier & ok_out)]
        keys.append(pd.Series(np.where(has_tier & ok_out, tier, 0)))
        tail_z, tail_e = tc.by_value(
            keys,
            lambda out, tiered, k: (
                ("；目前在保，复核后不再符合，应退出" if out else "")
                + (f"（评定档次 {k} 不改变资格）" if tiered else ""),
                ("; receives relief now but no longer qualifies: should exit" if out else "")
                + (f" (the assessed tier {k} does not change eligibility)" if tiered else ""),
            ),
        )
        branches_z.append(
            tc.cat(
                "不符合低保条件：人均月收入 ",
                pc_t,
                " 元（家庭月收入 ",
                inc,
                " 元 ÷ ",
                sz,
                " 人）不低于",
                area_z,
                "低保标准 ",
                std,
                " 元（家庭月收入 ",
                inc,
                " 元 ≥ ",
                std,
                " × ",
                sz,
                " = ",
                line,
                " 元）",
                tail_z,
            )  # fmt: skip
        )
        branches_e.append(
            tc.cat(
                "not eligible: per-capita income ",
                pc_t,
                " yuan (household income ",
                inc,
                " yuan / ",
                sz,
                ") is not below the ",
                area_e,
                " standard of ",
                std,
                " yuan ",
                "(household income ",
                inc,
                " >= ",
                std,
                " x ",
                sz,
                " = ",
                line,
                " yuan)",
                tail_e,
            )  # fmt: skip
        )

    if ok_in.any():  # eligible: null wherever this branch does not write the row
        assessed = (t["tier_basis"] == "assessed").fillna(False).to_numpy(bool) & ok_in
        keys = [pd.Series(assessed), pd.Series(np.where(ok_in, tier, 1))]
        keys.append(pd.Series(np.where(ok_in, rtier, 1)))
        head_z, head_e, tail_z, tail_e = tc.by_value(
            keys, lambda a, k, rt: _tier_pieces(a, k, rt, bands)
        )
        ratio = tc.ratio_texts(inc_fen, line_fen, valid=ok_in)
        mid = pc.if_else(pa.array(assessed), tc.lit(""), tc.cat(inc, " ÷ ", line, " = "))
        mid_e = pc.if_else(pa.array(assessed), tc.lit(""), tc.cat(inc, " / ", line, " = "))
        ent_t = tc.int_texts(ent, valid=ok_in)
        rank_t = tc.int_texts(rank, valid=ok_in)
        x = {c: tc.texts_of(t[c]) for c in text_cols}
        branches_z.append(
            tc.cat(
                "第 ",
                rank_t,
                " 名。",
                head_z,
                mid,
                ratio,
                tail_z,
                "；",
                x["fp_evidence_zh"],
                "；家庭月收入 ",
                inc,
                " 元 < ",
                area_z,
                "标准 ",
                std,
                " 元 × ",
                sz,
                " 人 = ",
                line,
                " 元，符合低保条件；月保障金 ",
                line,
                " − ",
                inc,
                " 元，向上取整为 ",
                ent_t,
                " 元；排序：",
                x["decided_zh"],
                "；",
                x["why_zh"],
            )  # fmt: skip
        )
        branches_e.append(
            tc.cat(
                "rank ",
                rank_t,
                ". ",
                head_e,
                mid_e,
                ratio,
                tail_e,
                "; ",
                x["fp_evidence_en"],
                "; household income ",
                inc,
                " yuan < ",
                area_e,
                " standard ",
                std,
                " x ",
                sz,
                " = ",
                line,
                " yuan: eligible; entitlement ",
                line,
                " - ",
                inc,
                ", rounded up to ",
                ent_t,
                " yuan a month; ranking: ",
                x["decided_en"],
                "; ",
                x["why_en"],
            )  # fmt: skip
        )

    rest = np.flatnonzero(~ok_all)
    fix = None
    if len(rest):  # what the columns cannot write: the readable rule itself
        rz, re_ = reason_texts_by_row(t.iloc[rest], bands)
        fix = (rest, tc.texts_of(rz), tc.texts_of(re_))
    zh = tc.combine(n, branches_z, fix and (fix[0], fix[1]))
    en = tc.combine(n, branches_e, fix and (fix[0], fix[2]))
    return tc.as_series(zh, t.index), tc.as_series(en, t.index)


def _tier_pieces(assessed: bool, tier: int, rt: int, bands: tuple) -> tuple[str, str, str, str]:
    """The words of :func:`reason_text`'s tier part around the ratio (and, by the ratio, the
    household income and line before it): ``(head_zh, head_en, tail_zh, tail_en)``."""
    tz, te = TIER_LABELS.get(tier, (f"{tier}档", f"tier {tier}"))
    if assessed:
        rt_z, rt_e = TIER_LABELS.get(rt, ("", ""))
        same = rt == tier
        return (
            f"{tz}（民政评议评定；按收入比 ",
            f"{te} (assessed by the committee; the income ratio ",
            f" 应为{rt_z}{'，一致' if same else ''}）",
            f" gives {rt_e}{', the same' if same else ''})",
        )
    return (
        f"{tz}（收入比 = 家庭月收入 ÷（标准 × 人数）= ",
        f"{te} (income ratio = household income / (standard x size) = ",
        f"{_band_place(rt, bands)}）",
        f"{_band_place(rt, bands, 'en')})",
    )
