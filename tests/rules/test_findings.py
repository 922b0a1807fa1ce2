"""Conclusions as figures and sentences (rulebook §3, §5, §6): hand-computed rounds, scorecards
and projections, and the one sentence that says what a quota is, the same wherever it is said."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fpanalysis.core import config
from fpanalysis.core.params import load_params
from fpanalysis.core.schema import coerce
from fpanalysis.rules import findings
from fpanalysis.rules.bonus import BonusProjection
from fpanalysis.rules.relief import rank_households

P = load_params()
AS_OF = "2025-06-30"


def _households(receiving=()):
    """Urban standard 770: one-person households A (income 100 -> 670 yuan), B (200 -> 570),
    C (500 -> 270) eligible, D (800) not."""
    hh = [
        {
            "household_id": h,
            "head_name": "张三",
            "area": "urban",
            "size": 1,
            "monthly_income": inc,
            "application_date": "2025-03-01",
            "receiving": h in receiving,
        }
        for h, inc in (("A", 100.0), ("B", 200.0), ("C", 500.0), ("D", 800.0))
    ]
    mm = [{"member_id": f"{h}1", "household_id": h, "relation": "head", "sex": "M"} for h in "ABCD"]
    return {
        "households": coerce("households", hh),
        "household_members": coerce("household_members", mm),
    }


@pytest.mark.parametrize(
    ("receiving", "quota", "figures", "cut"),
    [
        pytest.param(
            (),
            None,
            (0, 3, 0, 1510),
            "未设名额或预算：应保尽保，符合条件的 3 户全部纳入",
            id="no-limit",
        ),
        pytest.param(
            (), 2, (0, 2, 1, 1240), "分界线：名额 2 户，在保户 0 户先占，新纳入 2 户", id="quota-2"
        ),
        pytest.param(
            ("B", "C"),
            2,
            (2, 0, 1, 840),
            "新申请户中没有分界线：在保户 2 户已达到名额 2 户",
            id="continuing-fill-the-quota",
        ),
        pytest.param(
            ("A", "B", "C"),
            1,
            (3, 0, 0, 1510),
            "名额 1 户足够",
            id="continuing-exceed-nobody-waits",
        ),
    ],
)
def test_relief_findings(receiving, quota, figures, cut):
    r = rank_households(_households(receiving), P, AS_OF, quota=quota)
    f = findings.relief_findings(r)
    got = tuple(f.figures[k] for k in ("continuing", "admitted", "waiting", "monthly_yuan"))
    assert got == figures
    assert any(line.zh.startswith(cut) for line in f.lines), f.texts("zh")


def test_relief_versus_counts_households_and_money():
    base = rank_households(_households(), P, AS_OF, quota=1)
    more = rank_households(_households(), P, AS_OF, quota=3)
    d = findings.relief.versus(base, more)
    assert (d["selected"], d["admitted"], d["waiting"], d["monthly_yuan"]) == (2, 2, -2, 840)
    assert findings.relief.versus_sentence(d).en == (
        "Against the baseline: 2 more households selected, 2 fewer waiting, ¥840.00 more a month."
    )


def _card(rows):
    cols = ["unit_id", "period", "score", "grade", "veto", *findings.compliance.INDICATORS]
    out = pd.DataFrame(rows)
    for c in cols:
        if c not in out:
            out[c] = 1.0 if c in findings.compliance.RATE_INDICATORS else 0
    return out[cols]


def test_compliance_findings_name_failing_units_and_half_years():
    card = _card(
        [
            {"unit_id": "U1", "period": "2024", "score": 95.0, "grade": "excellent", "veto": False},
            {
                "unit_id": "U2",
                "period": "2024",
                "score": 65.5,
                "grade": "fail",
                "veto": False,
                "feedback_timeliness": 0.0,
            },
            {
                "unit_id": "U3",
                "period": "2024",
                "score": 80.0,
                "grade": "fail",
                "veto": True,
                "out_of_plan_births": 1,
            },
        ]
    )
    halves = pd.DataFrame(
        {
            "unit_id": ["U1", "U1"],
            "period": ["2024H1", "2024H2"],
            "score": [95.0, 61.0],
            "grade": ["excellent", "fail"],
            "veto": [False, False],
        }
    )
    f = findings.compliance_findings(card, names={"U2": "人事股"}, halves=halves)
    assert f.figures["failed"] == ["U2", "U3"] and f.figures["half_year_fails"] == ["2024H2 U1"]
    assert f.texts("zh")[1:] == [
        "U2 人事股：不合格。得分 65.50，低于合格线；最弱：信息反馈及时率 0.0%。",
        "U3：不合格。一票否决：计划外生育 1 起。",
        "2024H2 半年不合格：U1 61.00 分。",
    ]


def test_year_totals_mark_partial_years_and_quote_the_first_full_one():
    # 14 months from December 2024: 2024 has 1, 2025 has 12, 2026 has 1
    pr = BonusProjection(2024 * 12 + 11, ("U1",), np.full((1, 14), 2000), np.zeros((4, 1, 14), int))
    t = findings.year_totals(pr)
    assert t[["year", "months", "full"]].values.tolist() == [
        [2024, 1, False],
        [2025, 12, True],
        [2026, 1, False],
    ]
    assert findings.quoted_year(pr) == 2025
    assert findings.bonus_findings(pr).figures["total_p50"] == "240.00"


def test_quota_meaning_is_said_the_same_everywhere():
    """The CLI's help, the README and the rulebook say what a quota is in the same words."""
    from fpanalysis.cli.relief import DESCRIPTION

    zh, en = findings.QUOTA_MEANING
    flat = " ".join(DESCRIPTION.split()).replace("， ", "，").replace("时， ", "时，")
    help_zh = "".join(DESCRIPTION.split())
    assert "".join(zh.split()) in help_zh
    assert en in flat
    readme = (config.PROJ_ROOT / "README.md").read_text(encoding="utf-8")
    assert zh in readme and en in " ".join(readme.split())
    rules = " ".join((config.PROJ_ROOT / "docs" / "rules.md").read_text(encoding="utf-8").split())
    assert zh in rules.replace(" ", "") or zh in rules
    assert en in rules


def test_relief_findings_against_a_baseline_say_what_the_limit_costs():
    base = rank_households(_households(), P, AS_OF)
    r = rank_households(_households(), P, AS_OF, quota=1)
    f = findings.relief_findings(r, baseline=base, baseline_label=("应保尽保", "no limit"))
    assert f.figures["versus"]["admitted"] == -2
    assert (
        f.texts("zh")[-1]
        == "与应保尽保相比：纳入少 2 户（新纳入少 2 户），候补多 2 户，每月少支出 ¥840.00。"
    )


def test_compliance_findings_against_current_parameters_name_grade_changes():
    card = _card(
        [{"unit_id": "U1", "period": "2024", "score": 65.0, "grade": "fail", "veto": False}]
    )
    base = card.assign(score=72.0, grade="pass")
    f = findings.compliance_findings(card, names={"U1": "办公室"}, baseline=base)
    assert "与现行参数相比：U1 办公室 从 合格 降为 不合格（72.00 → 65.00 分）。" in f.texts("zh")
