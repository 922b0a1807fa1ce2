"""The trace of one household in a relief round (rulebook §6): its per-capita income (exact, and as
shown), the standard in force, eligibility, the tier and why, the FP type and the members that make
it, the entitlement, the ranking keys, its rank with the households just above and below it in its
pool, and why it is or is not selected. Read from the round the analysis gives
(:func:`~fpanalysis.rules.relief.rank_households`)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core.numbers import plain_text, yuan_to_fen
from fpanalysis.core.params import Params
from fpanalysis.core.schema import OUTPUT_LABELS
from fpanalysis.rules.explain.common import (
    day_text,
    exact_text,
    id_number_text,
    name_text,
    unknown_id,
)
from fpanalysis.rules.explain.trace import Trace
from fpanalysis.rules.relief import (
    AREA_LABELS,
    KEY_LABELS,
    TIER_LABELS,
    ReliefResult,
    key_value_text,
    rank_households,
    yuan_text,
)

#: Pool -> (zh, en) name.
POOL_LABELS = {
    "all": (OUTPUT_LABELS["pool"]["all"], "joint urban and rural"),
    "urban": (OUTPUT_LABELS["pool"]["urban"], "urban"),
    "rural": (OUTPUT_LABELS["pool"]["rural"], "rural"),
}


def explain_household(
    tables: Mapping[str, pd.DataFrame],
    household: str,
    as_of: Any,
    params: Params,
    *,
    result: ReliefResult | None = None,
    reveal_pii: bool = False,
    **round_options: Any,
) -> Trace:
    """The trace of one household's eligibility, rank and selection in a round (rulebook §6).

    Args:
        tables: ``households`` and ``household_members``.
        household: the household's id.
        as_of: the round's date; ``None``: the households' last recorded date.
        params: parameters in force.
        result: the round, when already computed (its own date and options are then used).
        reveal_pii: show the head's name and ID number in full (rulebook §7; masked by default).
        round_options: the round's ``quota``, ``budget_yuan``, ``pool`` and ``previous_round``,
            as :func:`~fpanalysis.rules.relief.rank_households` takes them.

    Returns:
        A :class:`Trace` whose ``result`` holds ``in_round``, ``pool``, ``eligible``, ``rank``,
        ``tier``, ``entitlement_yuan``, ``selected`` and ``selection`` as the round gives them.

    Raises:
        UsageError: a household the dataset does not hold (naming the closest ids), or options
            the round refuses.
    """
    hh = tables["households"]
    key = str(household).strip()
    if not hh["household_id"].astype(str).eq(key).any():
        raise unknown_id(("户", "household"), key, hh["household_id"])
    if result is None:
        result = rank_households(tables, params, as_of, **round_options)
    result = result.with_texts()
    src = hh[hh["household_id"].astype(str).eq(key)].iloc[0]
    t = Trace("household", key, reveal=reveal_pii)
    day = day_text(result.as_of)
    area_zh, area_en = AREA_LABELS.get(src["area"], (str(src["area"]), str(src["area"])))
    name = name_text(src["head_name"], reveal_pii) or "—"
    idn = id_number_text(src["head_id_number"], reveal_pii) or "—"
    town = "" if pd.isna(src["township"]) else str(src["township"])
    size = "" if pd.isna(src["size"]) else int(src["size"])
    t.add(
        "title",
        f"户 {key}（户主 {name}，身份证号 {idn}；{area_zh}，{town}，{size} 人）基准日 {day} 的"
        "低保资格、排序与选定（规则手册 §6）",
        f"household {key} (head {name}, ID number {idn}; {area_en}, {town}, {size} persons) as "
        f"of {day}: eligibility, rank and selection (rulebook §6)",
        rule="§6",
    )
    table = result.table
    at = np.flatnonzero(table["household_id"].astype(str).eq(key).to_numpy())
    if not len(at):
        _not_in_round(t, src, result)
        return t
    r = table.iloc[at[0]]
    _assessment(t, r, result, day)
    if bool(r["eligible"]):
        _ranking(t, r, result)
    else:
        exit_zh = exit_en = ""
        if bool(r["incumbent"]):
            exit_zh, exit_en = (
                "；目前在保，复核后不再符合，应退出",
                "; receives relief now: should exit",
            )
        t.add(
            "selection",
            f"选定（§6.9）：否，不符合条件{exit_zh}",
            f"selected (§6.9): no, not eligible{exit_en}",
            rule="§6.9",
            value=False,
        )
    t.result = {
        "household_id": key,
        "in_round": True,
        "pool": str(r["pool"]),
        "eligible": bool(r["eligible"]),
        "rank": None if pd.isna(r["rank"]) else int(r["rank"]),
        "tier": None if pd.isna(r["tier"]) else int(r["tier"]),
        "entitlement_yuan": None if pd.isna(r["entitlement_yuan"]) else int(r["entitlement_yuan"]),
        "selected": bool(r["selected"]),
        "selection": str(r["selection"]),
    }
    return t


def _not_in_round(t: Trace, src: pd.Series, result: ReliefResult) -> None:
    app = src["application_date"]
    if result.pool in ("urban", "rural") and src["area"] != result.pool:
        pz, pe = POOL_LABELS[result.pool]
        zh = f"本轮只排{pz}资金池，本户不参加"
        en = f"this round ranks the {pe} pool only: the household is not in it"
    elif not pd.isna(app) and pd.Timestamp(app) > result.as_of:
        zh = f"申请日期 {day_text(app)} 晚于基准日，不参加本轮（§6.6）"
        en = f"applied on {day_text(app)}, after the as-of date: not in this round (§6.6)"
    else:
        zh, en = "本户不在本轮的名单中（§6.6）", "the household is not in this round (§6.6)"
    t.add("round", zh, en, rule="§6.6", value=False)
    t.result = {
        "household_id": t.key,
        "in_round": False,
        "pool": None,
        "eligible": None,
        "rank": None,
        "tier": None,
        "entitlement_yuan": None,
        "selected": False,
        "selection": None,
    }


def _assessment(t: Trace, r: pd.Series, result: ReliefResult, day: str) -> None:
    """Application, per-capita income, standard, eligibility, tier, FP type, entitlement."""
    app = day_text(r["application_date"]) or "未填"
    inc_zh = inc_en = ""
    if bool(r["incumbent"]):
        why = (
            ("在保=是", "receiving = yes") if bool(r["receiving"]) else ("上一轮已选定", "selected")
        )
        inc_zh = f"；目前在保（{why[0]}）"
        inc_en = f"; receives relief now ({why[1]})"
    applied = r["application_date"]
    if pd.isna(applied) or pd.Timestamp(applied) <= result.as_of:
        zh = f"申请日期 {app}，不晚于基准日 {day}：参加本轮（§6.6）"
        en = (
            f"applied on {day_text(applied) or 'no date'}, on or before {day}: in this round (§6.6)"
        )
    else:  # a round that lists a household applying later than its date says so
        zh = f"申请日期 {app} 晚于基准日 {day}（§6.6 只考虑此前申请的户），但本轮仍列入了本户"
        en = (
            f"applied on {day_text(applied)}, after {day} (§6.6 considers only the households "
            "that had applied by then), yet the round lists it"
        )
    t.add("round", zh + inc_zh, en + inc_en, rule="§6.6", value=True)
    income, size, std = int(r["income_fen"]), int(r["size"]), int(r["standard_fen"])
    line = std * size
    inc, std_t, line_t = yuan_text(income), yuan_text(std, True), yuan_text(line)
    exact = Fraction(income, 100 * size)
    shown = f"{float(r['per_capita_income_yuan']):.2f}"
    t.add(
        "per_capita",
        f"人均月收入（§6.7）：家庭月收入 {inc} 元 ÷ {size} 人 = {exact_text(exact)} 元"
        f"（排序用此精确值），显示为 {shown} 元",
        f"per-capita income (§6.7): household income {inc} yuan / {size} = {exact_text(exact)} "
        f"yuan (ranked on this exact value), shown as {shown} yuan",
        rule="§6.7",
        value=exact,
    )
    az, ae = AREA_LABELS.get(r["area"], (str(r["area"]), str(r["area"])))
    t.add(
        "standard",
        f"低保标准（§6.2）：{az} {std_t} 元/人/月（{day} 有效）",
        f"standard (§6.2): {ae} {std_t} yuan per person a month (in force on {day})",
        rule="§6.2",
        value=Decimal(std).scaleb(-2),
    )
    if bool(r["eligible"]):
        elig_zh = f"家庭月收入 {inc} 元 < {std_t} × {size} = {line_t} 元：符合低保条件"
        elig_en = f"household income {inc} yuan < {std_t} x {size} = {line_t} yuan: eligible"
    else:
        elig_zh = f"家庭月收入 {inc} 元 ≥ {std_t} × {size} = {line_t} 元：不符合低保条件"
        elig_en = f"household income {inc} yuan >= {std_t} x {size} = {line_t} yuan: not eligible"
        if not pd.isna(r["tier"]):
            elig_zh += f"（评定档次 {int(r['tier'])} 不改变资格）"
            elig_en += f" (the assessed tier {int(r['tier'])} does not change eligibility)"
    t.add(
        "eligibility",
        f"资格（§6.2）：{elig_zh}",
        f"eligibility (§6.2): {elig_en}",
        rule="§6.2",
        value=bool(r["eligible"]),
    )
    if bool(r["eligible"]):
        _tier(t, r, result.bands, inc, line_t, income, line)
    t.add(
        "fp_type",
        f"计生类型（§6.4，按家庭成员认定）：{r['fp_evidence_zh']}",
        f"FP type (§6.4, from the members): {r['fp_evidence_en']}",
        rule="§6.4",
        value=None if pd.isna(r["fp_type"]) else str(r["fp_type"]),
        refs=tuple(m for m in str(r["sterilized_members"] or "").split("、") if m),
    )
    probs = result.problems
    for p in probs[probs["household_id"].astype(str).eq(t.key)].itertuples(index=False):
        t.add("problem", p.message_zh, p.message_en, 1, rule="§6.4")
    if bool(r["eligible"]):
        ent = int(r["entitlement_yuan"])
        diff = yuan_text(line - income)
        t.add(
            "entitlement",
            f"月保障金（§6.8）：{line_t} − {inc} = {diff} 元，向上取整为 {ent} 元",
            f"entitlement (§6.8): {line_t} - {inc} = {diff} yuan, rounded up to {ent} yuan a month",
            rule="§6.8",
            value=ent,
        )


def _tier(t: Trace, r: pd.Series, bands: tuple, inc: str, line_t: str, income: int, line: int):
    """The tier and why: assessed, or the ratio and its band (rulebook §6.3)."""
    q = income * 10000 // line  # cut to 4 decimals: the text never crosses a band it did not
    ratio = f"{q // 10000}.{q % 10000:04d}"
    rt = int(r["ratio_tier"])
    lo = _band(bands[rt - 2]) if rt >= 2 else None
    hi = _band(bands[rt - 1]) if rt < len(bands) else None
    band = " ".join(x for x in (f"{lo} ≤" if lo else "", ratio, f"< {hi}" if hi else "") if x)
    rz, re_ = TIER_LABELS.get(rt, (f"{rt}档", f"tier {rt}"))
    tier = int(r["tier"])
    tz, te = TIER_LABELS.get(tier, (f"{tier}档", f"tier {tier}"))
    if r["tier_basis"] == "assessed":
        zh = (
            f"民政评议评定为{tz}（有评定档次时用评定档次；按收入比 {inc} ÷ {line_t} = {ratio}，"
            f"{band}，应为{rz}）"
        )
        en = (
            f"{te}, assessed by the committee (an assessed tier is used when given; the income "
            f"ratio {inc} / {line_t} = {ratio}, {band}, gives {re_})"
        )
    else:
        zh = f"按收入比 = 家庭月收入 ÷（标准 × 人数）= {inc} ÷ {line_t} = {ratio}，{band}：{tz}"
        en = (
            f"income ratio = household income / (standard x size) = {inc} / {line_t} = {ratio}, "
            f"{band}: {te}"
        )
    t.add("tier", f"档次（§6.3）：{zh}", f"tier (§6.3): {en}", rule="§6.3", value=tier)


def _band(b: float) -> str:
    return plain_text(float(b))


def _ranking(t: Trace, r: pd.Series, result: ReliefResult) -> None:
    """The ranking keys, the rank and the neighbours, the selection and its limits (§6.5, §6.9)."""
    order = list(result.order)
    labels_zh = "、".join(KEY_LABELS[k][0] for k in order)
    labels_en = ", ".join(KEY_LABELS[k][1] for k in order)
    values = [key_value_text(k, r) for k in order]
    t.add(
        "keys",
        f"排序键（§6.5，依次为{labels_zh}）：" + "；".join(v[0] for v in values),
        f"ranking keys (§6.5, in the order {labels_en}): " + "; ".join(v[1] for v in values),
        rule="§6.5",
    )
    pool = str(r["pool"])
    table = result.table
    cols = [
        "household_id",
        "rank",
        "selection",
        "tier",
        "fp_priority",
        "per_capita_income_yuan",
        *order,
    ]
    in_pool = table["pool"].eq(pool).to_numpy()
    ranked = table.loc[in_pool & table["rank"].notna().to_numpy(), list(dict.fromkeys(cols))]
    rank = int(r["rank"])
    pz, pe = POOL_LABELS.get(pool, (pool, pool))
    t.add(
        "rank",
        f"名次（§6.5）：{pz}资金池第 {rank} 名（共 {len(ranked)} 户符合条件）：{r['decided_zh']}",
        f"rank (§6.5): {rank} of {len(ranked)} eligible households in the {pe} pool: "
        f"{r['decided_en']}",
        rule="§6.5",
        value=rank,
    )
    for side, other in (("above", rank - 1), ("below", rank + 1)):
        n = ranked[ranked["rank"].eq(other)]
        if n.empty:
            continue
        o = n.iloc[0]
        tier, fp, pc = (
            key_value_text(k, o) for k in ("tier", "fp_priority", "per_capita_income_yuan")
        )
        sel = str(o["selection"])
        sz = OUTPUT_LABELS["selection"].get(sel, sel)
        oid = o["household_id"]
        t.add(
            "neighbour",
            f"{'上一名' if side == 'above' else '下一名'}：第 {other} 名 {oid}："
            f"{tier[0]}，{fp[0]}，人均 {pc[0]}，{sz}",
            f"just {side}: rank {other} {oid}: {tier[1]}, {fp[1]}, {pc[1]} a head, {sel}",
            1,
            rule="§6.5",
            refs=(str(oid),),
            value=other,
        )
    yes = bool(r["selected"])
    t.add(
        "selection",
        f"选定（§6.9）：{'是' if yes else '否'}；{r['why_zh']}",
        f"selected (§6.9): {'yes' if yes else 'no'}; {r['why_en']}",
        rule="§6.9",
        value=yes,
    )
    n = table.loc[in_pool, "selection"].value_counts()
    lz, le = _limits(result, pool)
    t.add(
        "pool",
        f"本资金池：{lz}；继续保障 {n.get('continuing', 0)} 户，新纳入 {n.get('admitted', 0)} 户，"
        f"候补 {n.get('waiting', 0)} 户（§6.9）",
        f"the pool: {le}; {n.get('continuing', 0)} continuing, {n.get('admitted', 0)} admitted, "
        f"{n.get('waiting', 0)} waiting (§6.9)",
        1,
        rule="§6.9",
    )
    prefix = AREA_LABELS.get(pool, ("", ""))[0] + "资金池："
    for zh, en in result.notes:
        if result.pool != "separate" or zh.startswith(prefix):
            t.add("note", zh, en, 1, rule="§6.9")


def _limits(result: ReliefResult, pool: str) -> tuple[str, str]:
    """The pool's quota or budget, as text."""
    quota, budget = result.quota, result.budget_yuan
    if isinstance(quota, Mapping):
        quota = quota.get(pool)
    if isinstance(budget, Mapping):
        budget = budget.get(pool)
    zh, en = [], []
    if quota is not None:
        zh.append(f"名额 {quota} 户")
        en.append(f"quota {quota} households")
    if budget is not None:
        b = yuan_text(yuan_to_fen(budget), True)
        zh.append(f"预算每月 {b} 元")
        en.append(f"budget {b} yuan a month")
    if not zh:
        return "不限名额和预算（应保尽保）", "no quota or budget (all who qualify are covered)"
    return "、".join(zh), ", ".join(en)
