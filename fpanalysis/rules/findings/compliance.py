"""What a unit compliance scorecard says (rulebook §3, §4), as figures and sentences: the units
that failed or were vetoed with the reason in one line, the half-years a unit failed in, the
grades another set of weights would change, and one unit's to-do list (the couples to survey,
the women to check, the cases to act on; names masked, rulebook §7)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from fpanalysis.core.labels import labels
from fpanalysis.core.privacy import mask_frame
from fpanalysis.core.schema import OUTPUT_LABELS
from fpanalysis.rules.compliance import INDICATORS, RATE_INDICATORS
from fpanalysis.rules.findings.text import Findings, Line, pct

GRADE_ZH = dict(OUTPUT_LABELS["grade"])
GRADE_EN = {"excellent": "excellent", "pass": "pass", "fail": "fail"}
_IND_EN = {
    "baseline_coverage": "baseline survey coverage",
    "followup_coverage": "follow-up survey coverage",
    "feedback_timeliness": "timely feedback",
    "check_attendance": "check attendance",
    "falsifications": "contraception falsification",
    "out_of_plan_births": "out-of-plan birth",
    "pregnancies_without_permit": "pregnancy without permit",
    "unapproved_late_terminations": "unapproved late termination",
}
#: What a unit must do about the rows it lacks, per rate indicator (zh, en).
TODO_KIND = labels(
    """
    baseline_coverage   | 补做年初摸底调查 | do the baseline survey
    followup_coverage   | 补做半年跟踪调查 | do the half-year follow-up survey
    feedback_timeliness | 按时反馈调查信息 | report the survey on time
    check_attendance    | 安排环孕检       | arrange the check
    case                | 处理案件         | act on the case
    """
)
TODO_COLUMNS = ["order", "task", "kind", "couple_id", "wife_name", "part", "date", "what"]


def grade_label(grade: str, lang: str) -> str:
    """A grade code in ``lang``.

    Examples:
        >>> grade_label("fail", "zh"), grade_label("excellent", "en")
        ('不合格', 'excellent')
    """
    return (GRADE_ZH if lang == "zh" else GRADE_EN).get(grade, grade)


def indicator_label(ind: str, lang: str) -> str:
    """An indicator code in ``lang`` (C1–C8 names).

    Examples:
        >>> indicator_label("check_attendance", "zh")
        '环孕检到检率'
    """
    return OUTPUT_LABELS["indicator"].get(ind, ind) if lang == "zh" else _IND_EN.get(ind, ind)


def unit_label(unit: str, names: Mapping[str, str] | None) -> str:
    """``U07 社会福利股``: the unit id and its name when known.

    Examples:
        >>> unit_label("U07", {"U07": "社会福利股"}), unit_label("U09", {})
        ('U07 社会福利股', 'U09')
    """
    name = (names or {}).get(unit) or ""
    return f"{unit} {name}".strip()


def _n(v) -> int:
    """A count, missing as 0."""
    return 0 if v is None or v != v else int(v)


def veto_counts(detail: pd.DataFrame | None, unit: str) -> dict[str, int]:
    """Per indicator, the events that vetoed ``unit`` in the detail's period."""
    if detail is None or "veto" not in detail:
        return {}
    d = detail[(detail["unit_id"] == unit) & detail["veto"].fillna(False).astype(bool)]
    d = d[d["in_numerator"].fillna(False).astype(bool)]
    return {k: int(v) for k, v in d["indicator"].value_counts().sort_index().items()}


def unit_reason(row: Mapping, detail: pd.DataFrame | None = None) -> tuple[str, str]:
    """Why a unit failed or was vetoed, in one line (zh, en).

    A vetoed unit: the events that vetoed it; a unit under the pass line: its
    score and its weakest rate indicator; then any violations counted.

    Examples:
        >>> row = {"unit_id": "U1", "score": 65.5, "grade": "fail", "veto": False,
        ...        "baseline_coverage": 1.0, "followup_coverage": 0.5, "feedback_timeliness": 0.0,
        ...        "check_attendance": 0.9, "falsifications": 1, "out_of_plan_births": 0,
        ...        "pregnancies_without_permit": 0, "unapproved_late_terminations": 0}
        >>> unit_reason(row)[0]
        '得分 65.50，低于合格线；最弱：信息反馈及时率 0.0%；节育弄虚作假 1 起'
    """
    zh: list[str] = []
    en: list[str] = []
    if bool(row.get("veto")):
        counts = veto_counts(detail, row["unit_id"]) or {
            "out_of_plan_births": _n(row.get("out_of_plan_births"))
        }
        counts = {k: v for k, v in counts.items() if v}
        zh.append(
            "一票否决："
            + "、".join(f"{indicator_label(k, 'zh')} {v} 起" for k, v in counts.items())
        )
        en.append(
            "vetoed: " + ", ".join(f"{v} {indicator_label(k, 'en')}" for k, v in counts.items())
        )
    else:
        zh.append(f"得分 {float(row['score']):.2f}，低于合格线")
        en.append(f"score {float(row['score']):.2f}, below the pass line")
    rates = {k: row.get(k) for k in RATE_INDICATORS if row.get(k) is not None}
    rates = {k: float(v) for k, v in rates.items() if v == v}
    if rates and not bool(row.get("veto")):
        worst = min(rates, key=lambda k: (rates[k], INDICATORS.index(k)))
        zh.append(f"最弱：{indicator_label(worst, 'zh')} {pct(rates[worst])}")
        en.append(f"weakest: {indicator_label(worst, 'en')} {pct(rates[worst])}")
    counted = [
        (k, _n(row.get(k))) for k in INDICATORS if k not in RATE_INDICATORS and _n(row.get(k))
    ]
    if counted and not bool(row.get("veto")):
        zh.append("、".join(f"{indicator_label(k, 'zh')} {n} 起" for k, n in counted))
        en.append(", ".join(f"{n} {indicator_label(k, 'en')}" for k, n in counted))
    return "；".join(zh), "; ".join(en)


def half_year_fails(halves: pd.DataFrame | None) -> pd.DataFrame:
    """The half-years a unit failed in (or was vetoed in), by period then unit."""
    if halves is None or halves.empty:
        return pd.DataFrame(columns=["unit_id", "period", "score", "grade", "veto"])
    f = halves[halves["grade"].eq("fail") | halves["veto"].astype(bool)]
    cols = ["unit_id", "period", "score", "grade", "veto"]
    return f[cols].sort_values(["period", "unit_id"], kind="mergesort").reset_index(drop=True)


def compliance_findings(
    card: pd.DataFrame,
    *,
    names: Mapping[str, str] | None = None,
    detail: pd.DataFrame | None = None,
    halves: pd.DataFrame | None = None,
    baseline: pd.DataFrame | None = None,
) -> Findings:
    """The conclusion of a scorecard: the grades counted, each unit that failed or was vetoed
    with its reason, each half-year a unit failed in, and, with ``baseline`` (the scorecard
    under current parameters), each unit whose grade the parameters in use change.

    Figures: ``units``, ``excellent``, ``pass``, ``fail``, ``vetoed``, ``failed`` (the failing
    unit ids), ``half_year_fails`` (``"2024H1 U16"`` strings).
    """
    period = ", ".join(sorted(set(card["period"].astype(str))))
    g = card["grade"].value_counts()
    n = {k: int(g.get(k, 0)) for k in ("excellent", "pass", "fail")}
    vetoed = int(card["veto"].astype(bool).sum())
    lines = [
        Line(
            f"{period} 考核 {len(card)} 个单位：优秀 {n['excellent']} 个，合格 {n['pass']} 个，"
            f"不合格 {n['fail']} 个（其中一票否决 {vetoed} 个）。",
            f"{period}: {len(card)} units — {n['excellent']} excellent, {n['pass']} pass, "
            f"{n['fail']} fail ({vetoed} vetoed).",
            "bad" if n["fail"] else "good",
        )
    ]
    bad = card[card["grade"].eq("fail") | card["veto"].astype(bool)]
    for _, row in bad.sort_values(["score", "unit_id"], kind="mergesort").iterrows():
        zh, en = unit_reason(row, detail)
        who = unit_label(row["unit_id"], names)
        lines.append(Line(f"{who}：不合格。{zh}。", f"{who}: fail. {en}.", "bad"))
    fails = half_year_fails(halves)
    if len(fails):
        for period_h, grp in fails.groupby("period", sort=True):
            who = "；".join(
                f"{unit_label(r.unit_id, names)} {float(r.score):.2f} 分"
                + ("（一票否决）" if r.veto else "")
                for r in grp.itertuples()
            )
            who_en = "; ".join(
                f"{unit_label(r.unit_id, names)} {float(r.score):.2f}"
                + (" (veto)" if r.veto else "")
                for r in grp.itertuples()
            )
            lines.append(
                Line(
                    f"{period_h} 半年不合格：{who}。",
                    f"failed in {period_h}: {who_en}.",
                    "warn",
                )
            )
    elif halves is not None:
        lines.append(Line("各半年均无不合格单位。", "No unit failed in any half-year.", "good"))
    changes = grade_changes(baseline, card, names) if baseline is not None else None
    if changes is not None and len(changes):
        lines += [
            Line(f"与现行参数相比：{z}。", f"Against current parameters: {e}.", "warn")
            for z, e in zip(changes["text_zh"], changes["text_en"], strict=True)
        ]
    elif changes is not None:
        lines.append(
            Line(
                "与现行参数相比，没有单位改变等次。",
                "Against current parameters, no unit changes grade.",
            )
        )
    figures = {
        "period": period,
        "units": len(card),
        **n,
        "vetoed": vetoed,
        "failed": sorted(bad["unit_id"].astype(str)),
        "half_year_fails": [f"{r.period} {r.unit_id}" for r in fails.itertuples()],
        "grade_changes": [] if changes is None else list(changes["text_en"]),
    }
    return Findings("结论", "Conclusions", figures, tuple(lines))


def grade_changes(
    base: pd.DataFrame, other: pd.DataFrame, names: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Units whose grade differs between two scorecards of the same period (baseline first).

    Columns: ``unit_id``, ``score_base``, ``grade_base``, ``score``, ``grade``, ``change``
    (``up``/``down``), ``text_zh``, ``text_en`` ("U07 从 合格 降为 不合格").

    Examples:
        >>> b = pd.DataFrame({"unit_id": ["U1", "U2"], "score": [72.0, 95.0],
        ...                   "grade": ["pass", "excellent"]})
        >>> o = pd.DataFrame({"unit_id": ["U1", "U2"], "score": [68.5, 95.5],
        ...                   "grade": ["fail", "excellent"]})
        >>> grade_changes(b, o)[["unit_id", "change", "text_zh"]].values.tolist()
        [['U1', 'down', 'U1 从 合格 降为 不合格（72.00 → 68.50 分）']]
    """
    rank = {"fail": 0, "pass": 1, "excellent": 2}
    m = base[["unit_id", "score", "grade"]].merge(
        other[["unit_id", "score", "grade"]], on="unit_id", suffixes=("_base", "")
    )
    m = m[m["grade"] != m["grade_base"]].copy()
    m["change"] = [
        "up" if rank[g] > rank[b] else "down"
        for g, b in zip(m["grade"], m["grade_base"], strict=True)
    ]
    zh, en = [], []
    for r in m.itertuples():
        who = unit_label(r.unit_id, names)
        verb_zh = "升为" if r.change == "up" else "降为"
        verb_en = "rises" if r.change == "up" else "falls"
        zh.append(
            f"{who} 从 {grade_label(r.grade_base, 'zh')} {verb_zh} {grade_label(r.grade, 'zh')}"
            f"（{float(r.score_base):.2f} → {float(r.score):.2f} 分）"
        )
        en.append(
            f"{who} {verb_en} from {r.grade_base} to {r.grade} "
            f"({float(r.score_base):.2f} → {float(r.score):.2f})"
        )
    m["text_zh"], m["text_en"] = zh, en
    return m.reset_index(drop=True)


def unit_todo(
    detail: pd.DataFrame,
    unit: str,
    *,
    cases: pd.DataFrame | None = None,
    persons: pd.DataFrame | None = None,
    lang: str = "zh",
    reveal: bool = False,
) -> pd.DataFrame:
    """One unit's to-do list: each couple still to survey, each woman still to check, each case
    to act on (names masked unless ``reveal``, rulebook §7).

    Columns :data:`TODO_COLUMNS`: ``order`` (1, 2, ...), ``kind`` (what to do), ``couple_id``,
    ``wife_name``, ``part`` (half-year or round), ``date``, ``what`` (the reason or the action);
    ``task`` is the indicator (or ``case``) and ``kind`` says what to do in ``lang``.
    """
    d = detail[
        (detail["unit_id"] == unit)
        & detail["indicator"].isin(RATE_INDICATORS)
        & detail["in_denominator"].fillna(False).astype(bool)
        & ~detail["in_numerator"].fillna(False).astype(bool)
    ].copy()
    d["_k"] = d["indicator"].map(INDICATORS.index)
    d = d.sort_values(["_k", "part", "couple_id"], kind="mergesort")
    reason = "reason_zh" if lang == "zh" else "reason_en"
    k = 0 if lang == "zh" else 1
    rows = pd.DataFrame(
        {
            "task": d["indicator"],
            "couple_id": d["couple_id"],
            "person_id": d["person_id"],
            "part": d["part"],
            "date": d["date"],
            "what": d[reason],
        }
    )
    if cases is not None and len(cases):
        c = cases[cases["unit_id"] == unit]
        action = "action_zh" if lang == "zh" else "action_en"
        rows = pd.concat(
            [
                rows,
                pd.DataFrame(
                    {
                        "task": ["case"] * len(c),
                        "couple_id": c["couple_id"].to_numpy(),
                        "person_id": c["wife_id"].to_numpy(),
                        "part": [""] * len(c),
                        "date": c["first_date"].to_numpy(),
                        "what": c[action].to_numpy(),
                    }
                ),
            ],
            ignore_index=True,
        )
    names = None
    if persons is not None and "person_id" in persons:
        names = persons.drop_duplicates("person_id").set_index("person_id")["name"]
    rows["wife_name"] = rows["person_id"].map(names) if names is not None else pd.NA
    rows["kind"] = rows["task"].map(lambda t: TODO_KIND[t][k])
    rows = rows.reset_index(drop=True)
    rows.insert(0, "order", range(1, len(rows) + 1))
    return mask_frame(rows[TODO_COLUMNS], reveal=reveal)


def todo_counts(todo: pd.DataFrame) -> dict[str, int]:
    """How many rows of each task a to-do list holds, in the list's order."""
    return {str(k): int(v) for k, v in todo["task"].value_counts(sort=False).items()}


def unit_findings(
    row: Mapping,
    todo: pd.DataFrame,
    *,
    names: Mapping[str, str] | None = None,
    detail: pd.DataFrame | None = None,
    halves: pd.DataFrame | None = None,
) -> Findings:
    """One unit's conclusion: its grade and score, why it failed (if it did), the half-years it
    failed in, and how much its to-do list holds."""
    unit = row["unit_id"]
    who = unit_label(unit, names)
    grade = row["grade"]
    tone = "bad" if grade == "fail" else ("good" if grade == "excellent" else "info")
    lines = [
        Line(
            f"{who} {row['period']} 考核：{grade_label(grade, 'zh')}，"
            f"得分 {float(row['score']):.2f}。",
            f"{who}, {row['period']}: {grade}, score {float(row['score']):.2f}.",
            tone,
        )
    ]
    if grade == "fail" or bool(row.get("veto")):
        zh, en = unit_reason(row, detail)
        lines.append(Line(f"原因：{zh}。", f"Why: {en}.", "bad"))
    fails = half_year_fails(halves)
    fails = fails[fails["unit_id"] == unit]
    if len(fails):
        pairs = list(zip(fails["period"], fails["score"], strict=True))
        lines.append(
            Line(
                "半年不合格：" + "、".join(f"{p}（{float(s):.2f} 分）" for p, s in pairs) + "。",
                "failed in: " + ", ".join(f"{p} ({float(s):.2f})" for p, s in pairs) + ".",
                "warn",
            )
        )
    counts = todo_counts(todo)
    if counts:
        lines.append(
            Line(
                "待办："
                + "，".join(f"{TODO_KIND[k][0]} {v} 项" for k, v in counts.items())
                + "（见文末清单）。",
                "To do: "
                + ", ".join(f"{TODO_KIND[k][1]} × {v}" for k, v in counts.items())
                + " (the list is at the end).",
                "warn",
            )
        )
    else:
        lines.append(Line("没有待办事项。", "Nothing left to do.", "good"))
    figures = {
        "unit": unit,
        "grade": grade,
        "score": float(row["score"]),
        "veto": bool(row.get("veto")),
        "todo": counts,
    }
    return Findings("结论", "Conclusions", figures, tuple(lines))


def failing_units(card: pd.DataFrame) -> Sequence[str]:
    """The ids of the units that failed (a veto fails a unit), in id order."""
    return sorted(card.loc[card["grade"].eq("fail") | card["veto"].astype(bool), "unit_id"])
