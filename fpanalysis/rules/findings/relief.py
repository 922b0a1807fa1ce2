"""What a relief round says (rulebook §6), as figures and sentences: how many households
continue, enter and wait, what it costs a month, where the cut line falls and why, what a quota
means, and another round (a standard, quota or budget moved) as a difference from a baseline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from fpanalysis.rules.findings.text import Findings, Line, money

#: What a quota means, in one sentence: the CLI's help, the README, the report and the
#: dashboard's slider say it in these words (rulebook §6.9).
QUOTA_MEANING = (
    "名额是本轮拟纳入的总户数：在保户仍符合条件的先占名额，剩余名额按排名给新申请户；"
    "在保户已达到或超过名额时，在保户全部继续保障，本轮无新纳入。",
    "The quota is the number of households selected in the round: continuing households that "
    "still qualify take their places first and the places left go to newcomers in rank order; "
    "when the continuing households reach or exceed it, they all keep relief and nobody new "
    "enters.",
)


def _count(t: pd.DataFrame, code: str) -> int:
    return int(t["selection"].eq(code).sum())


def _yuan(t: pd.DataFrame) -> int:
    e = t["entitlement_yuan"]
    return int(e.astype("int64").sum()) if len(t) else 0


def round_figures(result: Any) -> dict[str, Any]:
    """The counts and monthly amounts of a round (whole yuan; ``result`` is a ``ReliefResult``).

    Keys: ``households``, ``eligible``, ``continuing``, ``admitted``, ``waiting``,
    ``not_eligible``, ``selected``, ``monthly_yuan`` (selected), ``continuing_yuan``,
    ``admitted_yuan``, ``waiting_yuan``, ``quota``, ``budget_yuan``, ``first_waiting_rank``,
    ``last_admitted_rank``.
    """
    t = result.table
    sel = t[t["selection"].isin(["continuing", "admitted"])]
    waiting = t[t["selection"].eq("waiting")]
    admitted = t[t["selection"].eq("admitted")]
    rank = pd.to_numeric(t["rank"], errors="coerce")
    return {
        "households": len(t),
        "eligible": int(t["eligible"].fillna(False).astype(bool).sum()),
        "continuing": _count(t, "continuing"),
        "admitted": _count(t, "admitted"),
        "waiting": _count(t, "waiting"),
        "not_eligible": _count(t, "not_eligible"),
        "selected": len(sel),
        "monthly_yuan": _yuan(sel),
        "continuing_yuan": _yuan(t[t["selection"].eq("continuing")]),
        "admitted_yuan": _yuan(admitted),
        "waiting_yuan": _yuan(waiting),
        "quota": result.quota,
        "budget_yuan": result.budget_yuan,
        "first_waiting_rank": int(rank[waiting.index].min()) if len(waiting) else None,
        "last_admitted_rank": int(rank[admitted.index].max()) if len(admitted) else None,
    }


def _limit_text(f: Mapping[str, Any]) -> tuple[str, str]:
    if f["quota"] is not None:
        return f"名额 {f['quota']} 户", f"a quota of {f['quota']}"
    if f["budget_yuan"] is not None:
        return (
            f"每月预算 {money(f['budget_yuan'])}",
            f"a monthly budget of {money(f['budget_yuan'])}",
        )
    return "", ""


def cut_sentence(f: Mapping[str, Any]) -> Line:
    """Where the cut line falls, in one sentence, from :func:`round_figures`.

    Examples:
        >>> import textwrap
        >>> f = {"quota": 190, "budget_yuan": None, "continuing": 169, "admitted": 21,
        ...      "waiting": 36, "eligible": 226, "last_admitted_rank": 65,
        ...      "first_waiting_rank": 66, "waiting_yuan": 50000}
        >>> for part in cut_sentence(f).zh.split("；"):
        ...     print(part)
        分界线：名额 190 户，在保户 169 户先占，新纳入 21 户（排名至第 65 名）
        第 66 名起 36 户候补（每月共需 ¥50,000.00）。
        >>> f.update(quota=40, admitted=0, waiting=57, last_admitted_rank=None,
        ...          first_waiting_rank=2)
        >>> print(textwrap.fill(cut_sentence(f).en, 90))
        No cut line among newcomers: the 169 continuing households already exceed a quota of 40,
        so they all keep relief and nobody new enters; 57 eligible newcomers wait (from rank 2
        on).
    """
    lim_zh, lim_en = _limit_text(f)
    if not lim_zh:
        return Line(
            f"未设名额或预算：应保尽保，符合条件的 {f['eligible']} 户全部纳入，没有分界线。",
            f"No quota or budget: all {f['eligible']} eligible households are covered "
            "(应保尽保); there is no cut line.",
            "good",
        )
    if f["waiting"] == 0:
        return Line(
            f"{lim_zh}足够：符合条件的 {f['eligible']} 户全部纳入，没有候补户。",
            f"{lim_en[0].upper()}{lim_en[1:]} is enough: all {f['eligible']} eligible "
            "households are selected and nobody waits.",
            "good",
        )
    if f["admitted"] == 0:
        over = "超过" if f["quota"] is None or f["continuing"] > (f["quota"] or 0) else "达到"
        over_en = "exceed" if over == "超过" else "reach"
        return Line(
            f"新申请户中没有分界线：在保户 {f['continuing']} 户已{over}{lim_zh}，全部继续保障，"
            f"本轮无新纳入；符合条件的 {f['waiting']} 户新申请户候补（自第 "
            f"{f['first_waiting_rank']} 名起）。",
            f"No cut line among newcomers: the {f['continuing']} continuing households already "
            f"{over_en} {lim_en}, so they all keep relief and nobody new enters; {f['waiting']} "
            f"eligible newcomers wait (from rank {f['first_waiting_rank']} on).",
            "warn",
        )
    return Line(
        f"分界线：{lim_zh}，在保户 {f['continuing']} 户先占，新纳入 {f['admitted']} 户（排名至第 "
        f"{f['last_admitted_rank']} 名）；第 {f['first_waiting_rank']} 名起 {f['waiting']} 户候补"
        f"（每月共需 {money(f['waiting_yuan'])}）。",
        f"Cut line: {lim_en}; {f['continuing']} continuing households come first, "
        f"{f['admitted']} newcomers enter (down to rank {f['last_admitted_rank']}); from rank "
        f"{f['first_waiting_rank']} on, {f['waiting']} wait (they would need "
        f"{money(f['waiting_yuan'])} a month).",
        "warn",
    )


def relief_findings(
    result: Any, *, baseline: Any = None, baseline_label: tuple[str, str] = ("基准", "the baseline")
) -> Findings:
    """The conclusion of a round: who continues, enters and waits, the monthly cost and the
    cut-line sentence; with ``baseline`` (another round, e.g. current standards with no
    limit), what this round changes against it. Figures: :func:`round_figures` (and
    ``versus``, the differences, with a baseline)."""
    f = round_figures(result)
    lines = [
        Line(
            f"{f['households']} 户申请，符合条件 {f['eligible']} 户：继续保障 "
            f"{f['continuing']} 户，新纳入 {f['admitted']} 户，候补 {f['waiting']} 户；"
            f"不符合条件 {f['not_eligible']} 户。",
            f"{f['households']} households applied and {f['eligible']} qualify: "
            f"{f['continuing']} continue, {f['admitted']} enter, {f['waiting']} wait; "
            f"{f['not_eligible']} do not qualify.",
        ),
        Line(
            f"每月保障金 {money(f['monthly_yuan'])}（继续 {money(f['continuing_yuan'])}，新纳入 "
            f"{money(f['admitted_yuan'])}），每年 {money(f['monthly_yuan'] * 12)}。",
            f"Relief costs {money(f['monthly_yuan'])} a month ({money(f['continuing_yuan'])} "
            f"continuing, {money(f['admitted_yuan'])} new), {money(f['monthly_yuan'] * 12)} a "
            "year.",
        ),
        cut_sentence(f),
    ]
    if f["admitted"] or not f["waiting"]:  # else the cut sentence already says what the notes say
        lines += [Line(z, e, "warn") for z, e in getattr(result, "notes", [])]
    if baseline is not None:
        d = versus(baseline, result)
        lines.append(versus_sentence(d, *baseline_label))
        f = {**f, "versus": d}
    return Findings("结论", "Conclusions", f, tuple(lines))


def versus(base: Any, other: Any) -> dict[str, int]:
    """Round ``other`` against round ``base``: the differences of :func:`round_figures`
    (``selected``, ``admitted``, ``continuing``, ``waiting``, ``eligible``, ``monthly_yuan``)."""
    a, b = round_figures(base), round_figures(other)
    keys = ("selected", "admitted", "continuing", "waiting", "eligible", "monthly_yuan")
    return {k: b[k] - a[k] for k in keys}


def versus_sentence(
    d: Mapping[str, int], base_zh: str = "基准", base_en: str = "the baseline"
) -> Line:
    """ "N more households enter, ¥Y more a month": a difference of rounds in one line.

    Examples:
        >>> versus_sentence({"selected": 12, "admitted": 12, "continuing": 0, "waiting": -12,
        ...                  "eligible": 0, "monthly_yuan": 15300}).zh
        '与基准相比：纳入多 12 户（新纳入多 12 户），候补少 12 户，每月多支出 ¥15,300.00。'
        >>> versus_sentence(dict.fromkeys(["selected", "admitted", "continuing", "waiting",
        ...                  "eligible", "monthly_yuan"], 0)).en
        'Same as the baseline: nobody moves and the monthly cost is unchanged.'
    """
    if not any(d.values()):
        return Line(
            f"与{base_zh}相同：没有户变动，每月支出不变。",
            f"Same as {base_en}: nobody moves and the monthly cost is unchanged.",
        )

    def more(n: int, zh: str) -> str:
        return f"{zh}{'多' if n > 0 else '少'} {abs(n)} 户"

    def more_en(n: int, en: str) -> str:
        return f"{abs(n)} {'more' if n > 0 else 'fewer'} {en}"

    zh = [more(d["selected"], "纳入")] if d["selected"] else []
    en = [more_en(d["selected"], "households selected")] if d["selected"] else []
    if d["admitted"] and d["admitted"] != d["selected"]:
        zh.append(more(d["admitted"], "其中新纳入"))
        en.append(more_en(d["admitted"], "newcomers"))
    elif d["admitted"]:
        zh[-1] += f"（新纳入{'多' if d['admitted'] > 0 else '少'} {abs(d['admitted'])} 户）"
    if d["eligible"]:
        zh.append(more(d["eligible"], "符合条件"))
        en.append(more_en(d["eligible"], "eligible"))
    if d["waiting"]:
        zh.append(more(d["waiting"], "候补"))
        en.append(more_en(d["waiting"], "waiting"))
    m = d["monthly_yuan"]
    zh.append(f"每月{'多' if m >= 0 else '少'}支出 {money(abs(m))}")
    en.append(f"{money(abs(m))} {'more' if m >= 0 else 'less'} a month")
    return Line(
        f"与{base_zh}相比：" + "，".join(zh) + "。",
        f"Against {base_en}: " + ", ".join(en) + ".",
        "warn" if m > 0 else "info",
    )
