"""The plain-language texts of a relief round (rulebook §6).

Amounts, ratios and dates as text, the labels of areas, tiers and ranking
keys, what puts each ranked household below the one just above it, and every
household's reason. Each row's texts need only the row and the row above's
values, so a lean round's texts can be written a slice at a time, anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pandas as pd

from fpanalysis.core.labels import labels

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
    return format(Decimal(repr(float(b))).normalize(), "f")


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


def decided_texts(
    e: pd.DataFrame, above: pd.DataFrame, order: Iterable[str]
) -> tuple[pd.Series, pd.Series]:
    """What puts each ranked row below the one just above it, zh and en (rulebook §6).

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
        vz, ve = key_value_text(k, row)
        az, ae = key_value_text(k, ab)
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
    t = lean.assign(
        decided_zh=dz.reindex(lean.index).astype(object),
        decided_en=de.reindex(lean.index).astype(object),
    )
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


def reason_texts(t: pd.DataFrame, bands: tuple) -> tuple[pd.Series, pd.Series]:
    """The plain-language reason of every household, zh and en (rulebook §6)."""
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
        std = yuan_text(r["standard_fen"], True)
        inc = yuan_text(r["income_fen"])
        size = int(r["size"])
        line = yuan_text(r["standard_fen"] * size)
        pc = f"{r['per_capita_income_yuan']:.2f}"
        ratio = _ratio_text(r["income_fen"], r["standard_fen"] * size)
        if not r["eligible"]:
            z = (
                f"不符合低保条件：人均月收入 {pc} 元（家庭月收入 {inc} 元 ÷ {size} 人）"
                f"不低于{area_z}低保标准 {std} 元"
                f"（家庭月收入 {inc} 元 ≥ {std} × {size} = {line} 元）"
            )
            e = (
                f"not eligible: per-capita income {pc} yuan (household income {inc} yuan / {size}) "
                f"is not below the {area_e} standard of {std} yuan "
                f"(household income {inc} >= {std} x {size} = {line} yuan)"
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
            rt_z, rt_e = TIER_LABELS.get(rt, ("", ""))
            tier_z = f"{tz}（民政评议评定；按收入比 {ratio} 应为{rt_z}{'，一致' if same else ''}）"
            tier_e = (
                f"{te} (assessed by the committee; the income ratio {ratio} gives "
                f"{rt_e}{', the same' if same else ''})"
            )
        else:
            place_z = _band_place(int(r["ratio_tier"]), bands)
            place_e = _band_place(int(r["ratio_tier"]), bands, "en")
            tier_z = (
                f"{tz}（收入比 = 家庭月收入 ÷（标准 × 人数）= {inc} ÷ {line} = {ratio}{place_z}）"
            )
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
        zh.append(z)
        en.append(e)
    return pd.Series(zh, index=t.index, dtype="str"), pd.Series(en, index=t.index, dtype="str")
