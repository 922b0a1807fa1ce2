"""Dynamic management of relief between two periods (rulebook §6 动态管理).

Each household selected before or now enters, continues, changes tier or
exits, with its next review date (sooner or later by whether it has a
disabled member and an unchanged income), whether the review is due, and a
plain-language reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core.params import Params
from fpanalysis.rules.relief.assess import assess, default_as_of
from fpanalysis.rules.relief.result import ReliefResult, rank_households
from fpanalysis.rules.relief.selection import selected_ids
from fpanalysis.rules.relief.texts import TIER_LABELS, date_text, yuan_text

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
    """Dynamic management between two periods (rulebook §6 动态管理).

    "Before" is ``previous_round`` (the last recorded round's selection) when
    given, else the previous dataset's ``receiving`` households, else this
    dataset's ``receiving`` households (this period against who receives relief
    now). "Now" is this round's selection (:func:`rank_households`, with the
    "before" households continuing while still eligible).

    Each household selected before or now is ``enter``, ``continue``,
    ``tier_change`` (the previous tier from the previous data, or from a
    recorded round's ``tier``/``income_fen`` columns when ``previous_round`` is
    a register round; unknown without either, which counts as the same) or
    ``exit`` (income at or above the standard, or no longer listed: moved or
    died). Others have no transition.

    Returns:
        ``(review_table, relief_result)``: one row per household listed now or
        before (:data:`REVIEW_COLUMNS`, sorted by household id), and the round.
    """
    as_of = default_as_of(tables) if as_of is None else pd.Timestamp(as_of).normalize()
    cur_h = tables["households"]
    if previous_round is not None:
        before = selected_ids(previous_round)
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
                std = yuan_text(r["standard_fen"], True)
                z = f"退出：人均月收入 {pc} 元，已达到或超过低保标准 {std} 元"
                e = f"exits: per-capita income {pc} yuan is at or above the standard of {std} yuan"
            else:  # pragma: no cover - an eligible incumbent always continues
                z, e = "退出：本轮未选中", "exits: not selected in this round"
        else:
            z, e = "上期和本轮均未在保", "not selected before or now"
        if pd.notna(r["review_due"]):
            nd = date_text(r["next_review_date"])
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
            months_n = int(r["review_months"])
            if r["review_due"]:
                z += f"；应复核：自{since}起已满 {months_n} 个月（{why_z}），应于 {nd} 复核"
                e += (
                    f"; due for review: {months_n} months ({why_e}) after {since_e} ran out on {nd}"
                )
            else:
                z += f"；下次复核 {nd}（{since}起 {months_n} 个月，{why_z}）"
                e += f"; next review {nd} ({months_n} months from {since_e}, {why_e})"
        zh.append(z)
        en.append(e)
    return pd.Series(zh, index=out.index, dtype="str"), pd.Series(en, index=out.index, dtype="str")
