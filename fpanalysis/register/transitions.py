"""Each unit's grade from one compliance round to another (rulebook §3): improved, declined,
unchanged, new or dropped, with a reason in Chinese and English."""

from __future__ import annotations

import pandas as pd

from fpanalysis.register.connection import Database
from fpanalysis.register.errors import RegisterError
from fpanalysis.register.read import as_text, compliance_units, last_round

GRADE_ORDER = {"fail": 0, "pass": 1, "excellent": 2}
GRADE_LABELS = {
    "excellent": ("优秀", "excellent"),
    "pass": ("合格", "pass"),
    "fail": ("不合格", "fail"),
}
UNIT_TRANSITION_COLUMNS = [
    "unit_id",
    "previous_round_id",
    "round_id",
    "previous_period",
    "period",
    "previous_grade",
    "grade",
    "previous_score",
    "score",
    "veto",
    "transition",
    "reason_zh",
    "reason_en",
]


def _reason(r: dict) -> tuple[str, str, str]:
    """(transition, reason_zh, reason_en) of one unit's row."""
    pg, g = r["previous_grade"], r["grade"]
    if pd.isna(pg):
        t = "new"
        z, e = (
            f"新列入考核：{GRADE_LABELS[g][0]}（{r['score']:.2f} 分）",
            f"new: {g} ({r['score']:.2f} points)",
        )
    elif pd.isna(g):
        t = "dropped"
        z, e = "本轮考核中已无此单位", "no longer in this round's evaluation"
    else:
        d = GRADE_ORDER[g] - GRADE_ORDER[pg]
        t = "improved" if d > 0 else ("declined" if d < 0 else "unchanged")
        word_z = {"improved": "上升", "declined": "下降", "unchanged": "未变"}[t]
        z = (
            f"等次{word_z}：{GRADE_LABELS[pg][0]}"
            f"（{r['previous_period']}，{r['previous_score']:.2f} 分）"
            f" → {GRADE_LABELS[g][0]}（{r['period']}，{r['score']:.2f} 分）"
        )
        e = (
            f"grade {t}: {pg} ({r['previous_period']}, {r['previous_score']:.2f} points)"
            f" -> {g} ({r['period']}, {r['score']:.2f} points)"
        )
    if r["veto"] is True:
        z += "；本期一票否决"
        e += "; vetoed this period"
    return t, z, e


def unit_transitions(
    reg: Database, *, new: str | None = None, old: str | None = None
) -> pd.DataFrame:
    """Each unit's grade between two compliance rounds (default: the last two in force).

    ``transition``: ``improved`` / ``declined`` (grade order 不合格 < 合格 < 优秀),
    ``unchanged``, ``new`` (not in the older round) or ``dropped`` (not in the newer one).

    Raises:
        RegisterError: fewer than two compliance rounds to compare.
    """
    if new is None:
        last = last_round(reg, "compliance")
        new = None if last is None else last["round_id"]
    if new is not None and old is None:
        prev = last_round(reg, "compliance", before=new)
        old = None if prev is None else prev["round_id"]
    if new is None or old is None:
        raise RegisterError(
            "登记簿中可比较的考核轮次不足两轮",
            "the register holds fewer than two compliance rounds to compare",
            file=reg.where,
            rule="register-rounds",
        )
    a = compliance_units(reg, old).set_index("unit_id")
    b = compliance_units(reg, new).set_index("unit_id")
    ids = sorted(set(a.index) | set(b.index))
    out = pd.DataFrame({"unit_id": ids})
    out["previous_round_id"] = old
    out["round_id"] = new
    out["previous_period"] = out["unit_id"].map(a["period"])
    out["period"] = out["unit_id"].map(b["period"])
    out["previous_grade"] = out["unit_id"].map(a["grade"])
    out["grade"] = out["unit_id"].map(b["grade"])
    out["previous_score"] = out["unit_id"].map(a["score"]).astype("float64")
    out["score"] = out["unit_id"].map(b["score"]).astype("float64")
    out["veto"] = out["unit_id"].map(b["veto"]).astype("boolean")
    reasons = [_reason(r) for r in out.to_dict("records")]  # one per unit (tens to hundreds)
    for i, c in enumerate(("transition", "reason_zh", "reason_en")):
        out[c] = pd.Series([x[i] for x in reasons], dtype="str")
    as_text(
        out,
        ("previous_round_id", "round_id", "previous_period", "period", "previous_grade", "grade"),
    )
    return out[UNIT_TRANSITION_COLUMNS]
