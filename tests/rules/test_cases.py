"""Late terminations and the birth quota (rulebook §4), births counted once (§3): hand-computed
cases.

The base couple C1 (wife W1, staff of U1; husband H1 outside) holds permit B1
issued 2023-01-10. A sex-selective termination G1 on 2024-03-01 cancels the
quota; what follows is out of plan.
"""

from __future__ import annotations

import pandas as pd
import pytest
from test_compliance import C1, H1, W1, child, fig, permit, preg, term, world

from fpanalysis.core.params import load_params
from fpanalysis.rules.cases import (
    birth_events,
    case_events,
    case_list,
    permit_status,
    terminations,
    valid_permit_on,
)
from fpanalysis.rules.compliance import compliance_scorecard

SEX_SEL = term("G1", "2024-03-01", 12, reason="sex_selection", approved=False, designated=False)


def status_of(t):
    s = permit_status(t, load_params()).set_index("permit_id")
    return {
        p: (
            None if pd.isna(r.effective_cancelled_date) else str(r.effective_cancelled_date.date()),
            None if pd.isna(r.cancel_basis) else r.cancel_basis,
        )
        for p, r in s.iterrows()
    }


@pytest.mark.parametrize(
    ("permits", "pregnancies", "expected"),
    [
        pytest.param(
            [permit("B1", "2023-01-10")],
            [SEX_SEL],
            {"B1": ("2024-03-01", "termination_date")},
            id="no-recorded-cancellation-from-termination-date",
        ),
        pytest.param(
            [permit("B1", "2023-01-10", cancelled="2024-04-15")],
            [SEX_SEL],
            {"B1": ("2024-04-15", "recorded")},
            id="recorded-cancellation-date-wins",
        ),
        pytest.param(
            [permit("B1", "2023-01-10"), permit("B2", "2024-08-01")],
            [SEX_SEL],
            {
                "B1": ("2024-03-01", "termination_date"),
                "B2": ("2024-08-01", "issued_after_cancellation"),
            },
            id="permit-issued-after-cancellation-never-valid",
        ),
        pytest.param(
            [permit("B1", "2023-01-10", cancelled="2024-04-15"), permit("B2", "2024-04-01")],
            [SEX_SEL],
            {"B1": ("2024-04-15", "recorded"), "B2": ("2024-04-01", "issued_after_cancellation")},
            id="permit-issued-between-termination-and-recorded-cancellation",
        ),
        pytest.param(
            [permit("B1", "2023-01-10")],
            [{**SEX_SEL, "termination_reason": "medical"}],
            {"B1": (None, None)},
            id="medical-termination-no-cancellation",
        ),
        pytest.param(
            [permit("B1", "2024-03-02")],
            [SEX_SEL],
            {"B1": (None, None)},
            id="permit-issued-after-termination-no-quota-held",
        ),
        pytest.param(
            [permit("B1", "2023-01-10", cancelled="2023-12-01")],
            [SEX_SEL],
            {"B1": ("2023-12-01", "recorded")},
            id="already-cancelled-before-termination",
        ),
        pytest.param(
            [permit("B1", "2023-01-10")],
            [
                {
                    **SEX_SEL,
                    "county_approved": True,
                    "designated_facility": True,
                    "gestation_weeks": 20,
                }
            ],
            {"B1": ("2024-03-01", "termination_date")},
            id="sex-selection-with-approval-flags-still-unlawful",
        ),
    ],
)
def test_quota_cancellation(permits, pregnancies, expected):
    t = world(permits=permits, pregnancies=pregnancies)
    assert status_of(t) == expected


def test_permit_used_before_termination_holds_no_quota():
    t = world(
        permits=[permit("B1", "2021-01-10")],
        children=[child("K0", "2022-02-01")],
        pregnancies=[SEX_SEL],
    )
    s = permit_status(t, load_params()).set_index("permit_id")
    assert s.loc["B1", "used_by"] == "K0"
    assert pd.isna(s.loc["B1", "effective_cancelled_date"])


@pytest.mark.parametrize(
    ("permits", "detected", "born", "c7", "c6"),
    [
        pytest.param(
            [permit("B1", "2023-01-10")],
            "2024-06-01",
            "2025-02-01",
            1,
            1,
            id="pregnancy-and-birth-after-cancellation-out-of-plan",
        ),
        pytest.param(
            [permit("B1", "2023-01-10")],
            "2024-03-01",
            None,
            1,
            0,
            id="pregnancy-on-the-termination-day",
        ),
        pytest.param(
            [permit("B1", "2023-01-10", cancelled="2024-04-15")],
            "2024-04-14",
            None,
            0,
            0,
            id="day-before-recorded-cancellation-still-valid",
        ),
        pytest.param(
            [permit("B1", "2023-01-10", cancelled="2024-04-15")],
            "2024-04-15",
            None,
            1,
            0,
            id="on-recorded-cancellation-day",
        ),
        pytest.param(
            [permit("B1", "2023-01-10"), permit("B2", "2024-08-01")],
            "2024-09-01",
            "2025-05-01",
            1,
            1,
            id="new-permit-after-cancellation-does-not-cover",
        ),
    ],
)
def test_out_of_plan_after_cancellation(permits, detected, born, c7, c6):
    pregs = [SEX_SEL, preg("G2", detected, "birth" if born else "ongoing", born)]
    t = world(permits=permits, pregnancies=pregs)
    # G1 was detected on 2024-01-01 while B1 was valid: never a C7. G2 is one when after the
    # cancellation.
    assert fig(t, "2024", "U1", "pregnancies_without_permit") == c7
    assert fig(t, "2025", "U1", "out_of_plan_births") == c6


def test_case_list_row():
    t = world(
        permits=[permit("B1", "2023-01-10"), permit("B2", "2024-08-01")],
        pregnancies=[SEX_SEL, preg("G2", "2024-09-01", "birth", "2025-05-01", child_id="K2")],
        children=[child("K2", "2025-05-01")],
    )
    cl = case_list(t, load_params())
    assert len(cl) == 1
    r = cl.iloc[0]
    assert (r.couple_id, r.unit_id, r.wife_name, r.husband_name) == ("C1", "U1", "张三妹", "李四")
    assert r.violations == "out_of_plan_birth;pregnancy_without_permit;sex_selective_termination"
    assert (str(r.quota_cancelled_from.date()), r.cancellation_basis) == (
        "2024-03-01",
        "termination_date",
    )
    assert (r.out_of_plan_births, r.pregnancies_without_permit) == (1, 1)
    assert r.timeline_en.split("; ") == [
        "2023-01-10 birth permit issued B1",
        "2024-01-01 pregnancy detected G1 (permit B1)",
        "2024-03-01 termination G1 (12 weeks, reason sex selection, county approval no, "
        "designated facility no)",
        "2024-03-01 birth permit cancelled B1 (from the termination date "
        "(no cancellation recorded))",
        "2024-08-01 birth permit issued B2 (quota cancelled: not valid)",
        "2024-09-01 pregnancy detected G2 (no valid permit)",
        "2025-05-01 birth G2 (no valid permit: out of plan)",
    ]
    assert "cancel the birth quota" in r.action_en and "注销其生育指标" in r.action_zh
    assert "confirm the county's decision" in r.action_en
    assert "administrative and economic penalties" in r.action_en


@pytest.mark.parametrize(
    ("rows", "violations", "action"),
    [
        pytest.param(
            [term("G1", "2024-05-01", 18, approved=False)],
            "unapproved_late_termination",
            "investigation",
            id="late-unapproved-is-a-case",
        ),
        pytest.param([term("G1", "2024-05-01", 18)], None, None, id="late-approved-no-case"),
        pytest.param(
            [term("G1", "2024-05-01", 10, approved=False)],
            None,
            None,
            id="early-unapproved-no-case",
        ),
        pytest.param(
            [term("G1", "2024-05-01", 10, reason="sex_selection")],
            "sex_selective_termination",
            "sex-selective",
            id="sex-selection-without-permit",
        ),
    ],
)
def test_case_list_which_couples(rows, violations, action):
    cl = case_list(world(pregnancies=rows), load_params())
    if violations is None:
        assert cl.empty
    else:
        assert cl["violations"].tolist() == [violations]
        assert action in cl.loc[0, "action_en"]
        assert pd.isna(cl.loc[0, "quota_cancelled_from"])


#: A phrase of each action of the case list (in the order the list gives them).
ACTION_PHRASES = {
    "unapproved_late_termination": "report the unapproved late termination to the county",
    "sex_selective_termination": "report the non-medical sex-selective termination",
    "cancel_quota": "cancel the birth quota",
    "confirm_cancellation": "confirm the county's decision",
}


@pytest.mark.parametrize(
    ("weeks", "flags", "permits", "violations", "actions"),
    [
        pytest.param(
            18,
            {"approved": False, "designated": False},
            [],
            "sex_selective_termination;unapproved_late_termination",
            ["unapproved_late_termination", "sex_selective_termination"],
            # 18 >= 16 without approval: C8; for sex selection: §4.2 too (no permit held: no quota)
            id="sex-selection-at-18-weeks-unapproved-both-labels-both-actions",
        ),
        pytest.param(
            16,
            {"approved": False, "designated": False},
            [permit("B1", "2023-01-10")],
            "sex_selective_termination;unapproved_late_termination",
            [
                "unapproved_late_termination",
                "sex_selective_termination",
                "cancel_quota",
                "confirm_cancellation",
            ],
            # 16 weeks is the threshold itself; B1 was valid on 2024-05-01: the quota is cancelled
            # from the termination date (no cancellation recorded, so the county's is confirmed)
            id="sex-selection-at-16-weeks-with-permit-both-labels-and-quota-cancelled",
        ),
        pytest.param(
            20,
            {"approved": True, "designated": True},
            [],
            "sex_selective_termination;unapproved_late_termination",
            ["unapproved_late_termination", "sex_selective_termination"],
            # the county's approval is for medical reasons: sex selection is never lawful
            id="sex-selection-at-20-weeks-approval-flags-still-both-labels",
        ),
        pytest.param(
            15,
            {"approved": False, "designated": False},
            [],
            "sex_selective_termination",
            ["sex_selective_termination"],
            # 15 < 16: not late, so no C8; sex selection alone
            id="sex-selection-at-15-weeks-one-label",
        ),
    ],
)
def test_late_sex_selective_termination_is_both_violations(
    weeks, flags, permits, violations, actions
):
    # rulebook §3.9
    t = world(
        permits=permits,
        pregnancies=[term("G1", "2024-05-01", weeks, reason="sex_selection", **flags)],
    )
    cl = case_list(t, load_params())
    assert cl["violations"].tolist() == [violations]
    got = [k for k, phrase in ACTION_PHRASES.items() if phrase in cl.loc[0, "action_en"]]
    assert got == actions
    ev = case_events(t, load_params())
    assert ev.loc[ev["kind"] == "termination", "violation"].tolist() == [violations]


def test_case_outside_the_bureau_not_listed():
    wife = {**W1, "leave_date": "2024-01-01"}
    t = world([wife, H1], [C1], pregnancies=[term("G1", "2024-05-01", 18, approved=False)])
    assert case_list(t, load_params()).empty


def test_case_events_are_in_date_order():
    t = world(permits=[permit("B1", "2023-01-10")], pregnancies=[SEX_SEL])
    ev = case_events(t, load_params())
    assert ev["kind"].tolist() == [
        "permit_issued",
        "pregnancy_detected",
        "termination",
        "permit_cancelled",
    ]
    assert ev["violation"].tolist()[2] == "sex_selective_termination"


def test_quota_cancellation_veto_and_scores():
    # An out-of-plan birth in 2025 after the cancellation vetoes 2025, not 2024 (G1 is 12 weeks:
    # no C8).
    t = world(
        permits=[permit("B1", "2023-01-10")],
        pregnancies=[SEX_SEL, preg("G2", "2024-06-01", "birth", "2025-02-01")],
    )
    p = load_params()
    assert not compliance_scorecard(t, p, "2024").set_index("unit_id").loc["U1", "veto"]
    assert compliance_scorecard(t, p, "2025H1").set_index("unit_id").loc["U1", "veto"]


# --------------------------------------------------------------------------- births once


def test_birth_events_mixed():
    t = world(
        children=[
            child("K1", "2024-05-01"),
            child("K2", "2024-05-01"),  # K1's twin, not named by G1
            child("K3", "2025-06-01"),  # no pregnancy record
            child("K4", "2025-06-01"),  # K3's twin
        ],
        pregnancies=[preg("G1", "2023-09-01", "birth", "2024-05-01", child_id="K1")],
    )
    b = birth_events(t)
    assert b[["event_id", "pregnancy_id", "child_ids"]].astype(object).where(
        b[["event_id", "pregnancy_id", "child_ids"]].notna(), None
    ).values.tolist() == [
        ["G1", "G1", "K1;K2"],
        ["K3", None, "K3;K4"],
    ]


def test_valid_permit_on_keeps_the_index():
    t = world(permits=[permit("B1", "2024-01-01")])
    ev = pd.DataFrame(
        {
            "couple_id": ["C1", "C1", "CX"],
            "date": pd.to_datetime(["2023-12-31", "2024-01-01", "2024-06-01"]),
        },
        index=[7, 8, 9],
    )
    v = valid_permit_on(t, load_params(), ev)
    assert list(v.index) == [7, 8, 9]
    assert v.isna().tolist() == [True, False, True]


def test_terminations_threshold_in_force_on_termination_date():
    t = world(
        pregnancies=[
            term("G1", "2024-05-31", 15, approved=False),
            term("G2", "2024-06-01", 15, approved=False),
        ]
    )
    out = terminations(t, load_params({"late_termination_weeks": {"2024-06-01": 14}}))
    assert out[["pregnancy_id", "late_weeks", "is_late", "is_lawful"]].values.tolist() == [
        ["G1", 16, False, True],
        ["G2", 14, True, False],
    ]


@pytest.mark.parametrize(
    ("children", "pregnancies", "expected"),
    [
        pytest.param(
            [child("K1", "2024-05-01"), child("K2", "2025-06-01")],
            [preg("G1", "2023-09-01", "birth", None, child_id="K1")],
            [["G1", "2024-05-01", "K1"], ["K2", "2025-06-01", "K2"]],
            id="unique-ids",
        ),
        pytest.param(
            [child("K1", "2024-05-01"), child("K1", "2024-06-01"), child("K2", "2025-06-01")],
            [preg("G1", "2023-09-01", "birth", None, child_id="K1")],
            [["G1", "2024-05-01", "K1"], ["K2", "2025-06-01", "K2"]],
            id="repeated-id-first-wins",
        ),
        pytest.param(
            [child(None, "2024-06-01"), child("K1", "2024-05-01"), child(None, "2025-06-01")],
            [
                preg("G1", "2023-09-01", "birth", None, child_id="K1"),
                preg("G2", "2024-09-01", "birth", None),
            ],
            # as a look-up by key: a pregnancy naming no child takes the first child of no id
            [["G1", "2024-05-01", "K1"], ["G2", "2024-06-01", None], [None, "2025-06-01", None]],
            id="missing-ids",
        ),
        pytest.param(
            None,
            [preg("G1", "2023-09-01", "birth", "2024-05-01", child_id="K1")],
            [["G1", "2024-05-01", "K1"]],
            id="no-children-table",
        ),
    ],
)
@pytest.mark.parametrize("kept", [pytest.param(False, id="plain"), pytest.param(True, id="memo")])
def test_birth_events_named_child_first_of_its_id(children, pregnancies, expected, kept):
    """A pregnancy without an outcome date takes the birth date of the child it names, the first
    child of a repeated id; the children table is looked up as it is (plain or kept)."""
    from fpanalysis.rules.frames import Memo

    t = world(pregnancies=pregnancies, **({} if children is None else {"children": children}))
    if kept:
        t = Memo(t)
    b = birth_events(t)
    cols = b[["event_id", "date", "child_ids"]]
    got = cols.astype(str).astype(object).where(cols.notna(), None).values.tolist()
    assert got == expected
    if children is not None:
        assert len(t["children"]) == len(children)  # the table itself is left as it was
