"""The committee's procedure as pure rules (rulebook §6): the notice period, the order of
objections and approval, decisions applied to a proposal, the quota re-checked, the notice's
lists, and the notice's name form."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from fpanalysis.core.privacy import mask_name_as
from fpanalysis.rules.relief import (
    apply_decisions,
    approval_problems,
    decision_code,
    earliest_approval,
    limit_excess,
    notice_lists,
    notice_period,
    objection_problems,
)

D = dt.date


@pytest.mark.parametrize(
    ("first", "days", "last", "approval"),
    [
        pytest.param("2025-03-01", 7, D(2025, 3, 7), D(2025, 3, 8), id="7-days-from-1-march"),
        pytest.param("2025-03-01", 1, D(2025, 3, 1), D(2025, 3, 2), id="one-day"),
        pytest.param("2025-02-25", 7, D(2025, 3, 3), D(2025, 3, 4), id="across-february"),
        pytest.param("2024-02-25", 7, D(2024, 3, 2), D(2024, 3, 3), id="leap-year"),
        pytest.param("2025-12-29", 7, D(2026, 1, 4), D(2026, 1, 5), id="across-new-year"),
        pytest.param("2025-03-01", 15, D(2025, 3, 15), D(2025, 3, 16), id="fifteen-days"),
    ],
)
def test_notice_period(first, days, last, approval):
    assert notice_period(first, days) == (pd.Timestamp(first).date(), last)
    assert earliest_approval(first, days) == approval


NOTICE = pd.DataFrame({"first_day": [D(2025, 3, 1)], "days": [7]})
NONE = pd.DataFrame({"first_day": [], "days": []})


def events(*rows):
    return pd.DataFrame(rows, columns=["objection_id", "event", "date"])


OPEN = events(("O001", "raised", D(2025, 3, 3)))
CLOSED = events(("O001", "raised", D(2025, 3, 3)), ("O001", "upheld", D(2025, 3, 6)))
LATE = events(("O001", "raised", D(2025, 3, 3)), ("O001", "rejected", D(2025, 3, 10)))


@pytest.mark.parametrize(
    ("notices", "objections", "day", "rules"),
    [
        pytest.param(NONE, events(), "2025-03-20", ["notice-missing"], id="never-posted"),
        pytest.param(NOTICE, events(), "2025-03-07", ["notice-period"], id="last-day-of-notice"),
        pytest.param(NOTICE, events(), "2025-03-08", [], id="day-after-the-notice"),
        pytest.param(NOTICE, OPEN, "2025-03-08", ["objection-open"], id="objection-open"),
        pytest.param(
            NOTICE, OPEN, "2025-03-05", ["notice-period", "objection-open"], id="early-and-open"
        ),
        pytest.param(NOTICE, CLOSED, "2025-03-08", [], id="objection-closed"),
        pytest.param(NOTICE, LATE, "2025-03-08", ["approval-order"], id="closed-after-approval"),
        pytest.param(NOTICE, LATE, "2025-03-10", [], id="approved-the-day-it-closed"),
        pytest.param(
            pd.DataFrame({"first_day": [D(2025, 3, 1), D(2025, 3, 5)], "days": [7, 7]}),
            events(),
            "2025-03-10",
            ["notice-period"],
            id="posted-again-the-period-restarts",
        ),
    ],
)
def test_approval_order(notices, objections, day, rules):
    assert [p.rule for p in approval_problems(notices, objections, day)] == rules


@pytest.mark.parametrize(
    ("notices", "objections", "oid", "day", "rules"),
    [
        pytest.param(
            NONE, events(), None, "2025-03-02", ["objection-before-notice"], id="no-notice"
        ),
        pytest.param(
            NOTICE, events(), None, "2025-02-28", ["objection-before-notice"], id="before-it"
        ),
        pytest.param(NOTICE, events(), None, "2025-03-01", [], id="first-day"),
        pytest.param(NOTICE, events(), None, "2025-03-20", [], id="after-the-period"),
        pytest.param(NOTICE, OPEN, "O001", "2025-03-03", [], id="closed-the-day-raised"),
        pytest.param(NOTICE, OPEN, "O001", "2025-03-02", ["objection-order"], id="closed-before"),
        pytest.param(NOTICE, OPEN, "O002", "2025-03-04", ["objection-id"], id="unknown-id"),
        pytest.param(NOTICE, CLOSED, "O001", "2025-03-07", ["objection-closed"], id="twice"),
    ],
)
def test_objection_order(notices, objections, oid, day, rules):
    found = objection_problems(notices, objections, objection_id=oid, date=day)
    assert [p.rule for p in found] == rules
    for p in found:
        assert p.message_zh and p.message_en


# --------------------------------------------------------------------------- decisions

PROPOSAL = pd.DataFrame(
    {
        "household_id": ["A", "B", "C", "D", "E"],
        "pool": "all",
        "rank": [1, 2, 3, 4, pd.NA],
        "tier": [1, 1, 2, 3, pd.NA],
        "selected": [True, True, False, False, False],
        "selection": ["continuing", "admitted", "waiting", "waiting", "not_eligible"],
        "entitlement_yuan": [500, 400, 300, 200, pd.NA],
        "incumbent": [True, False, False, False, True],
    }
)


def marks(*rows):
    """Workbook rows ``(household, sheet, decision, reason, tier)``, cells numbered by row."""
    out = []
    for i, (hid, sheet, decision, reason, tier) in enumerate(rows, start=3):
        out.append(
            {
                "household_id": hid,
                "sheet": sheet,
                "round_id": "R1",
                "decision": decision,
                "reason": reason,
                "decided_tier": tier,
                "household_cell": f"B{i}",
                "decision_cell": f"O{i}",
                "reason_cell": f"P{i}",
                "tier_cell": f"Q{i}",
            }
        )
    return pd.DataFrame(out)


def test_decisions_applied_and_passes_over_named():
    m = marks(
        ("A", "selected", "调整档次", "支出大", 2),
        ("B", "selected", "不同意", "有经营收入", None),
        ("C", "waiting", None, None, None),
        ("D", "waiting", "补充纳入", "重病", None),
    )
    decided, problems = apply_decisions(PROPOSAL, m)
    assert problems == []
    d = decided.set_index("household_id")
    assert d["decision"].to_dict() == {
        "A": "change_tier",
        "B": "reject",
        "C": "confirm",
        "D": "admit",
    }
    assert d["decided_selected"].to_dict() == {"A": True, "B": False, "C": False, "D": True}
    assert d.loc["A", "decided_tier"] == 2 and d.loc["D", "passes_over"] == "C"
    # B's place freed by the rejection: D fits a quota of 2 (A continues, one place left)
    assert limit_excess(PROPOSAL, decided, quota=2) == []
    assert len(limit_excess(PROPOSAL, decided, quota=1)) == 1
    # budget: A's 500 first, then D's 200 in the 300 left; 250 left is not enough
    assert limit_excess(PROPOSAL, decided, budget_yuan=700) == []
    assert (
        "200 yuan a month is over the budget"
        in limit_excess(PROPOSAL, decided, budget_yuan=699.5)[0][1]
    )


def test_notice_lists_categories():
    m = marks(
        ("A", "selected", "调整档次", "支出大", 2),
        ("B", "selected", None, None, None),
        ("C", "waiting", None, None, None),
        ("D", "waiting", None, None, None),
    )
    decided, _ = apply_decisions(PROPOSAL, m)
    rows = PROPOSAL.assign(tier=[2, 1, 2, 3, pd.NA], area="urban", township="城关镇", size=1)
    lists = notice_lists(rows, decided)
    assert lists[["category", "household_id"]].values.tolist() == [
        ["admitted", "B"],
        ["changed", "A"],
        ["stopped", "E"],
    ]
    assert lists["entitlement_yuan"].isna().tolist() == [False, False, True]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        pytest.param(None, "confirm", id="blank"),
        pytest.param("  ", "confirm", id="spaces"),
        pytest.param("同意", "confirm", id="zh-confirm"),
        pytest.param("不同意", "reject", id="zh-reject"),
        pytest.param("调整档次", "change_tier", id="zh-change-tier"),
        pytest.param("补充纳入", "admit", id="zh-admit"),
        pytest.param("Change_Tier", "change_tier", id="en-code-any-case"),
        pytest.param("不 同意", None, id="unknown"),
    ],
)
def test_decision_values(text, code):
    assert decision_code(text) == code


@pytest.mark.parametrize(
    ("name", "form", "shown"),
    [
        pytest.param("张小三", "first_and_last", "张*三", id="three-characters"),
        pytest.param("欧阳娜娜", "first_and_last", "欧**娜", id="four-characters"),
        pytest.param("王五", "first_and_last", "王*", id="two-characters-keep-one"),
        pytest.param("李", "first_and_last", "*", id="one-character"),
        pytest.param("张小三", "first_only", "张**", id="surname-only"),
    ],
)
def test_notice_name_form(name, form, shown):
    assert mask_name_as(name, form) == shown
