"""Unit compliance C1–C8, score, grade, veto (rulebook §3): hand-computed cases.

Every case is a tiny bureau that a person can check on paper. The base world:
units U1 and U2; couple C1 = wife W1 (born 1990-06-01, staff of U1 since 2010)
and husband H1 (outside the system), married 2015-05-01. Each case adds or
changes a few rows and states the numerator/denominator or count expected for
one unit.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pandas as pd
import pytest
from conftest import GRADE_THRESHOLDS, SCORE_WEIGHTS

from fpanalysis.core.errors import UsageError
from fpanalysis.core.params import load_params
from fpanalysis.core.schema import coerce
from fpanalysis.rules.compliance import (
    INDICATORS,
    SCORECARD_COLUMNS,
    Period,
    accountability_list,
    compliance_detail,
    compliance_scorecard,
    indicator_summary,
    latest_complete_year,
    parse_period,
    round_half_up,
    score_unit,
)

UNITS = [
    {
        "unit_id": "U1",
        "name": "办公室",
        "kind": "section",
        "head_name": "王局长",
        "liaison_name": "李联络",
    },
    {
        "unit_id": "U2",
        "name": "福利院",
        "kind": "affiliated",
        "head_name": "赵院长",
        "liaison_name": "钱联络",
    },
]


def person(pid, sex, birth, unit=None, category="outside", hire=None, leave=None, name=None):
    return {
        "person_id": pid,
        "name": name or f"张{pid}",
        "sex": sex,
        "birth_date": birth,
        "unit_id": unit,
        "category": category,
        "hire_date": hire,
        "leave_date": leave,
    }


W1 = person("W1", "F", "1990-06-01", "U1", "staff", "2010-01-01", name="张三妹")
H1 = person("H1", "M", "1988-01-01", name="李四")
C1 = {"couple_id": "C1", "wife_id": "W1", "husband_id": "H1", "marriage_date": "2015-05-01"}


def world(persons=None, couples=None, **tables):
    """The base bureau with ``persons``/``couples`` replacing the defaults and extra tables."""
    t = {
        "units": coerce("units", UNITS),
        "persons": coerce("persons", persons if persons is not None else [W1, H1]),
        "couples": coerce("couples", couples if couples is not None else [C1]),
    }
    for name, rows in tables.items():
        t[name] = coerce(name, rows)
    return t


def survey(sid, kind, date, couple="C1", unit="U1", problem=False, reported=None):
    return {
        "survey_id": sid,
        "couple_id": couple,
        "unit_id": unit,
        "kind": kind,
        "survey_date": date,
        "problem_found": problem,
        "reported_date": reported,
    }


_LAST: list = []  # [(tables, params, period), detail]: the last computation, for a second unit


def fig(t, period, unit, indicator, params=None):
    """(numerator, denominator) of a rate, or the count, for one unit.

    A test asking about both units of the same tables, parameters and period gets the one
    computation (the same objects, compared by identity: each test builds its own)."""
    key = (t, params, period)
    if _LAST and all(a is b for a, b in zip(_LAST[0], key, strict=True)):
        d = _LAST[1]
    else:
        d = compliance_detail(t, params or load_params(), period)
        _LAST[:] = [key, d]
    s = indicator_summary(d, ["U1", "U2"], parse_period(period).label).set_index(
        ["unit_id", "indicator"]
    )
    row = s.loc[(unit, indicator)]
    if pd.isna(row["denominator"]):
        return int(row["numerator"])
    return int(row["numerator"]), int(row["denominator"])


# --------------------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("text", "label", "start", "end"),
    [
        pytest.param("2024", "2024", "2024-01-01", "2024-12-31", id="year"),
        pytest.param("2024H1", "2024H1", "2024-01-01", "2024-06-30", id="first-half"),
        pytest.param("2024h2", "2024H2", "2024-07-01", "2024-12-31", id="second-half-lowercase"),
        pytest.param(" 2023-H2 ", "2023H2", "2023-07-01", "2023-12-31", id="dash-and-spaces"),
    ],
)
def test_parse_period(text, label, start, end):
    p = parse_period(text)
    assert (p.label, str(p.start.date()), str(p.end.date())) == (label, start, end)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("2024H3", id="H3"),
        pytest.param("24", id="two-digit"),
        pytest.param("2024Q1", id="quarter"),
        pytest.param("", id="empty"),
    ],
)
def test_parse_period_refuses(text):
    with pytest.raises(UsageError) as e:
        parse_period(text)
    assert "2024H1" in e.value.message_en and "考核期" in e.value.message_zh


@pytest.mark.parametrize(
    ("last", "year"),
    [
        pytest.param("2025-11-28", 2024, id="mid-year"),
        pytest.param("2024-12-31", 2024, id="31-dec-completes-its-year"),
        pytest.param("2025-01-01", 2024, id="1-jan"),
        pytest.param("2024-12-30", 2023, id="30-dec"),
    ],
)
def test_latest_complete_year(last, year):
    t = world(surveys=[survey("S1", "followup", "2020-03-01"), survey("S2", "followup", last)])
    assert latest_complete_year(t) == year


# --------------------------------------------------------------------------- C1


@pytest.mark.parametrize(
    ("surveys", "expected"),
    [
        pytest.param([survey("S1", "baseline", "2024-01-01")], (1, 1), id="1-jan-first-day"),
        pytest.param(
            [survey("S1", "baseline", "2024-03-31")], (1, 1), id="31-mar-deadline-inclusive"
        ),
        pytest.param([survey("S1", "baseline", "2024-04-01")], (0, 1), id="1-apr-too-late"),
        pytest.param([survey("S1", "baseline", "2023-12-31")], (0, 1), id="previous-year"),
        pytest.param(
            [survey("S1", "followup", "2024-02-01")], (0, 1), id="followup-is-not-baseline"
        ),
        pytest.param(
            [survey("S1", "baseline", "2024-02-01", unit="U2")],
            (1, 1),
            id="done-by-other-unit-counts-for-responsible",
        ),
        pytest.param(
            [survey("S1", "baseline", "2024-02-01"), survey("S2", "baseline", "2024-03-01")],
            (1, 1),
            id="two-surveys-one-couple",
        ),
        pytest.param([], (0, 1), id="no-survey"),
    ],
)
def test_c1_baseline(surveys, expected):
    t = world(surveys=surveys)
    assert fig(t, "2024", "U1", "baseline_coverage") == expected
    assert fig(t, "2024", "U2", "baseline_coverage") == (0, 0)


@pytest.mark.parametrize(
    ("wife", "couple", "expected"),
    [
        # married mid-year: not in scope on 1 Jan
        pytest.param(W1, {**C1, "marriage_date": "2024-03-15"}, (0, 0), id="married-mid-year"),
        # married on 1 Jan: in scope
        pytest.param(W1, {**C1, "marriage_date": "2024-01-01"}, (1, 1), id="married-1-jan"),
        # turned 50 on 1 Jan
        pytest.param({**W1, "birth_date": "1974-01-01"}, C1, (0, 0), id="age-50-on-1-jan"),
        # 49 on 1 Jan
        pytest.param({**W1, "birth_date": "1974-01-02"}, C1, (1, 1), id="age-49-on-1-jan"),
        # floating: not in C1
        pytest.param(
            {**W1, "category": "floating", "hire_date": None}, C1, (0, 0), id="floating-not-in-c1"
        ),
        # hired after 1 Jan
        pytest.param({**W1, "hire_date": "2024-01-02"}, C1, (0, 0), id="hired-2-jan"),
    ],
)
def test_c1_scope(wife, couple, expected):
    t = world([wife, H1], [couple], surveys=[survey("S1", "baseline", "2024-02-01")])
    assert fig(t, "2024H1", "U1", "baseline_coverage") == expected


@pytest.mark.parametrize(
    ("deadline", "year", "surveyed", "expected"),
    [
        pytest.param("04-30", 2024, "04-10", (1, 1), id="deadline-30-apr-covers-10-apr"),
        # 2025 has no 29 February: the deadline is 2025-02-28, and the survey on it counts
        pytest.param("02-29", 2025, "02-28", (1, 1), id="29-feb-deadline-is-28-feb-2025-inclusive"),
        pytest.param("02-29", 2025, "03-01", (0, 1), id="29-feb-deadline-1-mar-2025-too-late"),
        pytest.param("02-29", 2024, "02-29", (1, 1), id="29-feb-deadline-in-leap-2024-itself"),
    ],
)
def test_c1_baseline_deadline_parameter(deadline, year, surveyed, expected):
    t = world(surveys=[survey("S1", "baseline", f"{year}-{surveyed}")])
    p = load_params({"baseline_deadline": deadline})
    assert fig(t, str(year), "U1", "baseline_coverage", p) == expected


def test_c1_29_feb_deadline_named_as_in_force_in_a_common_year():
    # a couple without a survey in 2025: the reason names the deadline of that year, 02-28
    t = world()
    d = compliance_detail(t, load_params({"baseline_deadline": "02-29"}), "2025")
    row = d[d["indicator"] == "baseline_coverage"].iloc[0]
    assert row["reason_en"].endswith("no baseline survey from 01-01 to 02-28")


# --------------------------------------------------------------------------- C2


@pytest.mark.parametrize(
    ("period", "surveys", "couple", "expected"),
    [
        pytest.param(
            "2024H1",
            [survey("S1", "followup", "2024-06-30")],
            C1,
            (1, 1),
            id="30-jun-last-day-of-h1",
        ),
        pytest.param(
            "2024H1", [survey("S1", "followup", "2024-07-01")], C1, (0, 1), id="1-jul-not-in-h1"
        ),
        pytest.param(
            "2024H2",
            [survey("S1", "followup", "2024-07-01")],
            C1,
            (1, 1),
            id="1-jul-first-day-of-h2",
        ),
        pytest.param(
            "2024H2",
            [survey("S1", "followup", "2024-12-31")],
            C1,
            (1, 1),
            id="31-dec-last-day-of-h2",
        ),
        pytest.param(
            "2024",
            [survey("S1", "followup", "2024-03-01")],
            C1,
            (1, 2),
            id="year-pools-halves-one-missing",
        ),
        pytest.param(
            "2024",
            [survey("S1", "followup", "2024-03-01"), survey("S2", "followup", "2024-09-01")],
            C1,
            (2, 2),
            id="year-pools-halves-both",
        ),
        pytest.param(
            "2024",
            [survey("S1", "followup", "2024-09-01")],
            {**C1, "marriage_date": "2024-03-15"},
            (1, 1),
            id="married-mid-year-only-h2",
        ),
        pytest.param(
            "2024H1",
            [survey("S1", "baseline", "2024-02-01")],
            C1,
            (0, 1),
            id="baseline-is-not-followup",
        ),
    ],
)
def test_c2_followup(period, surveys, couple, expected):
    t = world(couples=[couple], surveys=surveys)
    assert fig(t, period, "U1", "followup_coverage") == expected


def test_c2_floating_couple_counts_under_registration_unit():
    wife = person("W2", "F", "1992-01-01", "U2", "floating")
    t = world(
        [W1, H1, wife, person("H2", "M", "1990-01-01")],
        [
            C1,
            {"couple_id": "C2", "wife_id": "W2", "husband_id": "H2", "marriage_date": "2018-01-01"},
        ],
        surveys=[survey("S1", "followup", "2024-03-01", couple="C2", unit="U1")],
    )
    assert fig(t, "2024H1", "U2", "followup_coverage") == (1, 1)
    assert fig(t, "2024H1", "U1", "followup_coverage") == (0, 1)  # U1's own couple C1, unsurveyed


@pytest.mark.parametrize(
    ("override", "u1", "u2"),
    [
        pytest.param(None, (1, 1), (0, 0), id="both-staff-wifes-unit"),
        pytest.param(
            {"responsible_spouse": "husband"},
            (0, 0),
            (1, 1),
            id="both-staff-husbands-unit-by-parameter",
        ),
    ],
)
def test_c2_both_spouses_staff_of_different_units(override, u1, u2):
    husband = person("H1", "M", "1988-01-01", "U2", "staff", "2012-01-01")
    t = world([W1, husband], surveys=[survey("S1", "followup", "2024-03-01", unit="U2")])
    p = load_params(override)
    assert fig(t, "2024H1", "U1", "followup_coverage", p) == u1
    assert fig(t, "2024H1", "U2", "followup_coverage", p) == u2


# --------------------------------------------------------------------------- C3


@pytest.mark.parametrize(
    ("surveys", "expected"),
    [
        pytest.param(
            [survey("S1", "followup", "2024-03-01", problem=True, reported="2024-03-16")],
            (1, 1),
            id="reported-day-15-timely",
        ),
        pytest.param(
            [survey("S1", "followup", "2024-03-01", problem=True, reported="2024-03-17")],
            (0, 1),
            id="reported-day-16-late",
        ),
        pytest.param(
            [survey("S1", "followup", "2024-03-01", problem=True, reported="2024-03-01")],
            (1, 1),
            id="reported-same-day",
        ),
        pytest.param(
            [survey("S1", "followup", "2024-03-01", problem=True)],
            (0, 1),
            id="no-report-date-not-timely",
        ),
        pytest.param(
            [survey("S1", "followup", "2024-03-01", problem=False)],
            (0, 0),
            id="no-problem-not-counted",
        ),
        pytest.param(
            [
                survey("S1", "baseline", "2024-02-01", problem=True, reported="2024-02-05"),
                survey("S2", "followup", "2024-05-01", problem=True, reported="2024-06-01"),
                survey("S3", "followup", "2024-06-30", problem=True, reported="2024-07-10"),
            ],
            (2, 3),
            id="three-problems-two-timely",
        ),
        pytest.param(
            [
                survey(
                    "S1", "followup", "2024-03-01", unit="U2", problem=True, reported="2024-03-02"
                )
            ],
            (1, 1),
            id="survey-by-other-unit-counts-for-responsible",
        ),
    ],
)
def test_c3_feedback(surveys, expected):
    t = world(surveys=surveys)
    assert fig(t, "2024H1", "U1", "feedback_timeliness") == expected
    assert fig(t, "2024H1", "U2", "feedback_timeliness") == (0, 0)


def test_c3_belongs_to_the_half_of_the_survey():
    t = world(surveys=[survey("S1", "followup", "2024-06-30", problem=True, reported="2024-07-20")])
    assert fig(t, "2024H1", "U1", "feedback_timeliness") == (0, 1)
    assert fig(t, "2024H2", "U1", "feedback_timeliness") == (0, 0)


# --------------------------------------------------------------------------- C4

ROUND = [{"round_id": "R1", "start_date": "2024-04-01", "end_date": "2024-04-30"}]


def attend(date, pid="W1", rid="R1"):
    return {"round_id": rid, "person_id": pid, "attended_date": date}


def contra(rid, pid, method, start, end=None, falsified=None, couple="C1"):
    return {
        "record_id": rid,
        "couple_id": couple,
        "person_id": pid,
        "method": method,
        "start_date": start,
        "end_date": end,
        "falsified_found_date": falsified,
    }


def preg(gid, detected, outcome="ongoing", outcome_date=None, couple="C1", **kw):
    return {
        "pregnancy_id": gid,
        "couple_id": couple,
        "detected_date": detected,
        "outcome": outcome,
        "outcome_date": outcome_date,
        **kw,
    }


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param({"check_attendance": [attend("2024-04-01")]}, (1, 1), id="attended-first-day"),
        pytest.param({"check_attendance": [attend("2024-04-30")]}, (1, 1), id="attended-last-day"),
        pytest.param(
            {"check_attendance": [attend("2024-05-01")]}, (0, 1), id="attended-day-after-window"
        ),
        pytest.param(
            {"check_attendance": [attend("2024-03-31")]}, (0, 1), id="attended-day-before-window"
        ),
        pytest.param({}, (0, 1), id="did-not-attend"),
        pytest.param(
            {"contraception": [contra("K1", "H1", "male_sterilization", "2020-01-01")]},
            (0, 0),
            id="exempt-husband-sterilised",
        ),
        pytest.param(
            {"contraception": [contra("K1", "W1", "female_sterilization", "2020-01-01")]},
            (0, 0),
            id="exempt-wife-sterilised",
        ),
        pytest.param(
            {"contraception": [contra("K1", "W1", "female_sterilization", "2024-04-01")]},
            (0, 0),
            id="exempt-sterilised-on-start-day",
        ),
        pytest.param(
            {"contraception": [contra("K1", "W1", "female_sterilization", "2024-04-02")]},
            (0, 1),
            id="sterilised-day-after-start-required",
        ),
        pytest.param(
            {
                "contraception": [
                    contra("K1", "W1", "female_sterilization", "2020-01-01", end="2023-06-01")
                ]
            },
            (0, 1),
            id="sterilisation-ended-required",
        ),
        pytest.param(
            {
                "contraception": [
                    contra("K1", "W1", "female_sterilization", "2020-01-01", falsified="2024-03-01")
                ]
            },
            (0, 1),
            id="sterilisation-falsified-required",
        ),
        pytest.param(
            {"contraception": [contra("K1", "W1", "iud", "2020-01-01")]},
            (0, 1),
            id="iud-is-not-sterilisation",
        ),
        pytest.param(
            {"pregnancies": [preg("G1", "2024-02-01")]}, (0, 0), id="exempt-pregnant-on-start"
        ),
        pytest.param(
            {"pregnancies": [preg("G1", "2024-04-01")]},
            (0, 0),
            id="exempt-pregnancy-detected-on-start-day",
        ),
        pytest.param(
            {"pregnancies": [preg("G1", "2024-04-01", "miscarriage", "2024-04-01")]},
            (0, 0),
            # detected on 2024-04-01, the start, with no outcome before it: pregnant on the start
            id="exempt-pregnancy-detected-and-ended-on-start-day",
        ),
        pytest.param(
            {"pregnancies": [preg("G1", "2024-04-02")]},
            (0, 1),
            id="pregnancy-detected-after-start-required",
        ),
        pytest.param(
            {"pregnancies": [preg("G1", "2023-07-01", "birth", "2024-03-02")]},
            (0, 0),
            id="exempt-outcome-30-days-before",
        ),
        pytest.param(
            {"pregnancies": [preg("G1", "2023-07-01", "birth", "2024-03-01")]},
            (0, 1),
            id="outcome-31-days-before-required",
        ),
        pytest.param(
            {"pregnancies": [preg("G1", "2024-01-10", "miscarriage", "2024-03-20")]},
            (0, 0),
            id="exempt-miscarriage-12-days-before",
        ),
    ],
)
def test_c4_check_attendance(extra, expected):
    t = world(check_rounds=ROUND, **extra)
    assert fig(t, "2024H1", "U1", "check_attendance") == expected


def test_c4_pregnancy_detected_on_start_day_reason():
    # rulebook §3 C4: "pregnant on the round's start" includes a pregnancy detected on that day
    t = world(check_rounds=ROUND, pregnancies=[preg("G1", "2024-04-01")])
    d = compliance_detail(t, load_params(), "2024H1")
    row = d[d["indicator"] == "check_attendance"].iloc[0]
    assert (bool(row["in_denominator"]), row["reason_en"]) == (
        False,
        "exempt: pregnant on the round's start (G1)",
    )


@pytest.mark.parametrize(
    ("birth", "expected"),
    [
        pytest.param("1974-04-01", (0, 0), id="turns-50-on-start"),
        pytest.param("1974-04-02", (0, 1), id="49-on-start"),
        pytest.param("2009-04-01", (0, 1), id="turns-15-on-start"),
        pytest.param("2009-04-02", (0, 0), id="14-on-start"),
    ],
)
def test_c4_age_boundaries(birth, expected):
    t = world([{**W1, "birth_date": birth}, H1], check_rounds=ROUND)
    assert fig(t, "2024", "U1", "check_attendance") == expected


def test_c4_year_pools_rounds_and_rounds_belong_to_their_start():
    rounds = ROUND + [
        {"round_id": "R2", "start_date": "2024-06-25", "end_date": "2024-07-10"},
        {"round_id": "R3", "start_date": "2024-10-01", "end_date": "2024-10-31"},
    ]
    t = world(
        check_rounds=rounds,
        check_attendance=[attend("2024-04-10"), attend("2024-07-05", rid="R2")],
    )
    assert fig(t, "2024H1", "U1", "check_attendance") == (2, 2)  # R2 starts in H1
    assert fig(t, "2024H2", "U1", "check_attendance") == (0, 1)
    assert fig(t, "2024", "U1", "check_attendance") == (2, 3)


def test_c4_exemption_days_parameter():
    t = world(check_rounds=ROUND, pregnancies=[preg("G1", "2023-07-01", "birth", "2024-02-15")])
    assert fig(t, "2024H1", "U1", "check_attendance") == (0, 1)  # 46 days
    p = load_params({"check_exempt_after_outcome_days": 60})
    assert fig(t, "2024H1", "U1", "check_attendance", p) == (0, 0)


# --------------------------------------------------------------------------- C5–C8


def permit(pid, issued, couple="C1", cancelled=None):
    return {
        "permit_id": pid,
        "couple_id": couple,
        "issue_date": issued,
        "cancelled_date": cancelled,
    }


def child(kid, born, couple="C1", sex="F"):
    return {"child_id": kid, "couple_id": couple, "birth_date": born, "sex": sex}


@pytest.mark.parametrize(
    ("extra", "period", "expected"),
    [
        pytest.param(
            {"contraception": [contra("K1", "W1", "iud", "2020-01-01", falsified="2024-05-01")]},
            "2024",
            1,
            id="found-in-year",
        ),
        pytest.param(
            {"contraception": [contra("K1", "W1", "iud", "2020-01-01", falsified="2023-12-31")]},
            "2024",
            0,
            id="found-previous-year",
        ),
        pytest.param(
            {
                "contraception": [
                    contra("K1", "H1", "male_sterilization", "2020-01-01", falsified="2024-07-01")
                ]
            },
            "2024H2",
            1,
            id="husband-found-1-jul-h2",
        ),
        pytest.param(
            {
                "contraception": [
                    contra("K1", "H1", "male_sterilization", "2020-01-01", falsified="2024-07-01")
                ]
            },
            "2024H1",
            0,
            id="found-1-jul-not-h1",
        ),
    ],
)
def test_c5_falsifications(extra, period, expected):
    assert fig(world(**extra), period, "U1", "falsifications") == expected


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param({"children": [child("K1", "2024-05-01")]}, 1, id="birth-without-permit"),
        pytest.param(
            {"children": [child("K1", "2024-05-01")], "permits": [permit("B1", "2023-01-01")]},
            0,
            id="birth-with-permit",
        ),
        pytest.param(
            {"children": [child("K1", "2024-05-01")], "permits": [permit("B1", "2024-05-01")]},
            0,
            id="permit-issued-on-birth-day",
        ),
        pytest.param(
            {"children": [child("K1", "2024-05-01")], "permits": [permit("B1", "2024-05-02")]},
            1,
            id="permit-issued-day-after",
        ),
        pytest.param(
            {
                "children": [child("K1", "2024-05-01")],
                "permits": [permit("B1", "2023-01-01", cancelled="2024-05-01")],
            },
            1,
            id="permit-cancelled-on-birth-day",
        ),
        pytest.param(
            {
                "children": [child("K1", "2024-05-01")],
                "permits": [permit("B1", "2023-01-01", cancelled="2024-05-02")],
            },
            0,
            id="permit-cancelled-day-after",
        ),
        pytest.param(
            {
                "children": [child("K1", "2024-05-01")],
                "pregnancies": [preg("G1", "2023-09-01", "birth", "2024-05-01", child_id="K1")],
            },
            1,
            id="pregnancy-and-its-child-one-birth",
        ),
        pytest.param(
            {
                "children": [child("K1", "2024-05-01"), child("K2", "2024-05-01", sex="M")],
                "pregnancies": [preg("G1", "2023-09-01", "birth", "2024-05-01", child_id="K1")],
            },
            1,
            id="twins-one-birth",
        ),
        pytest.param(
            {"children": [child("K1", "2024-05-01"), child("K2", "2024-05-01", sex="M")]},
            1,
            id="twins-without-pregnancy-one-birth",
        ),
        pytest.param(
            {"pregnancies": [preg("G1", "2023-09-01", "birth", "2024-05-01")]},
            1,
            id="pregnancy-birth-without-child-record",
        ),
        pytest.param(
            {
                "children": [child("K0", "2020-03-01"), child("K1", "2024-05-01")],
                "permits": [permit("B1", "2019-06-01")],
            },
            1,
            id="permit-used-by-earlier-birth",
        ),
        pytest.param(
            {
                "children": [child("K0", "2020-03-01"), child("K1", "2024-05-01")],
                "permits": [permit("B1", "2019-06-01"), permit("B2", "2023-06-01")],
            },
            0,
            id="second-permit-for-second-birth",
        ),
        pytest.param({"children": [child("K1", "2023-12-31")]}, 0, id="birth-previous-year"),
    ],
)
def test_c6_out_of_plan_births(extra, expected):
    assert fig(world(**extra), "2024", "U1", "out_of_plan_births") == expected


def test_c6_counts_whatever_the_wifes_age_and_under_unit_on_the_birth_date():
    # W1 aged 50 at the birth (no longer childbearing) still counts; she left U1 on 2024-06-01 and
    # the husband joined U2 on 2024-03-01: a birth on 2024-07-01 is U2's.
    wife = {**W1, "birth_date": "1974-01-01", "leave_date": "2024-06-01"}
    husband = person("H1", "M", "1970-01-01", "U2", "staff", "2024-03-01")
    t = world([wife, husband], children=[child("K1", "2024-02-01"), child("K2", "2024-07-01")])
    assert fig(t, "2024", "U1", "out_of_plan_births") == 1
    assert fig(t, "2024", "U2", "out_of_plan_births") == 1


def test_c6_couple_outside_scope_on_the_date_counts_for_nobody():
    wife = {**W1, "leave_date": "2024-01-01"}
    t = world([wife, H1], children=[child("K1", "2024-05-01")])
    assert fig(t, "2024", "U1", "out_of_plan_births") == 0
    assert fig(t, "2024", "U2", "out_of_plan_births") == 0


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param({"pregnancies": [preg("G1", "2024-03-01")]}, 1, id="no-permit"),
        pytest.param(
            {"pregnancies": [preg("G1", "2024-03-01")], "permits": [permit("B1", "2024-03-01")]},
            0,
            id="permit-issued-that-day",
        ),
        pytest.param(
            {"pregnancies": [preg("G1", "2024-03-01")], "permits": [permit("B1", "2024-03-02")]},
            1,
            id="permit-issued-next-day",
        ),
        pytest.param(
            {
                "pregnancies": [preg("G1", "2024-03-01")],
                "permits": [permit("B1", "2019-01-01")],
                "children": [child("K0", "2020-01-01")],
            },
            1,
            id="permit-already-used",
        ),
        pytest.param({"pregnancies": [preg("G1", "2023-12-31")]}, 0, id="detected-previous-year"),
    ],
)
def test_c7_pregnancies_without_permit(extra, expected):
    assert fig(world(**extra), "2024", "U1", "pregnancies_without_permit") == expected


def term(gid, date, weeks, reason="medical", approved=True, designated=True, couple="C1"):
    return preg(
        gid,
        "2024-01-01",
        "termination",
        date,
        couple=couple,
        gestation_weeks=weeks,
        termination_reason=reason,
        county_approved=approved,
        designated_facility=designated,
    )


@pytest.mark.parametrize(
    ("row", "override", "count", "veto"),
    [
        pytest.param(
            term("G1", "2024-05-01", 16, approved=False), None, 1, False, id="16-weeks-unapproved"
        ),
        pytest.param(
            term("G1", "2024-05-01", 15, approved=False), None, 0, False, id="15-weeks-not-late"
        ),
        pytest.param(
            term("G1", "2024-05-01", 16), None, 0, False, id="16-weeks-approved-designated"
        ),
        pytest.param(
            term("G1", "2024-05-01", 20, designated=False),
            None,
            1,
            False,
            id="approved-not-designated",
        ),
        pytest.param(
            term("G1", "2024-05-01", 20, approved=None, designated=True),
            None,
            1,
            False,
            id="empty-approval-counts-as-no",
        ),
        pytest.param(
            term("G1", "2024-05-01", 20, reason="sex_selection"),
            None,
            1,
            True,
            id="sex-selection-never-lawful-veto",
        ),
        pytest.param(
            term("G1", "2024-05-01", 12, reason="sex_selection", approved=False),
            None,
            0,
            False,
            id="sex-selection-12-weeks-not-c8",
        ),
        pytest.param(
            term("G1", "2024-05-01", 14, approved=False),
            {"late_termination_weeks": 14},
            1,
            False,
            id="threshold-14-by-parameter",
        ),
        pytest.param(
            term("G1", "2024-05-01", 14, approved=False),
            {"late_termination_weeks": {"2024-06-01": 14}},
            0,
            False,
            id="threshold-14-only-from-june",
        ),
    ],
)
def test_c8_late_terminations(row, override, count, veto):
    t = world(pregnancies=[row])
    p = load_params(override)
    assert fig(t, "2024", "U1", "unapproved_late_terminations", p) == count
    card = compliance_scorecard(t, p, "2024").set_index("unit_id")
    assert bool(card.loc["U1", "veto"]) is veto


# --------------------------------------------------------------------------- score, grade, veto

W, T = SCORE_WEIGHTS, GRADE_THRESHOLDS
FULL = {k: (1, 1) for k in W}


@pytest.mark.parametrize(
    ("rates", "penalty", "veto", "score", "grade"),
    [
        pytest.param(FULL, 0, False, "100.00", "excellent", id="all-full"),
        pytest.param(
            {k: (0, 0) for k in W},
            0,
            False,
            "100.00",
            "excellent",
            id="all-denominators-zero-count-as-1",
        ),
        pytest.param(
            {**FULL, "check_attendance": (7, 8)},
            0,
            False,
            "95.63",
            "excellent",
            id="half-up-95.625",
        ),
        pytest.param(
            {**FULL, "check_attendance": (5, 7)},
            0,
            False,
            "90.00",
            "excellent",
            id="exactly-90-excellent",
        ),
        pytest.param(
            {**FULL, "check_attendance": (5, 7)}, 20, False, "70.00", "pass", id="exactly-70-pass"
        ),
        pytest.param(
            {**FULL, "check_attendance": (5, 7)}, 25, False, "65.00", "fail", id="65-fail"
        ),
        pytest.param(FULL, 120, False, "0.00", "fail", id="floored-at-0"),
        pytest.param(FULL, 0, True, "100.00", "fail", id="veto-overrides-score"),
        pytest.param(
            {**FULL, "baseline_coverage": None, "followup_coverage": (1, 2)},
            0,
            False,
            "83.33",
            "pass",
            id="h2-reweighted-followup-half",
        ),
        pytest.param(
            {**FULL, "baseline_coverage": None, "feedback_timeliness": (1, 3)},
            0,
            False,
            "86.67",
            "pass",
            id="h2-reweighted-feedback-third",
        ),
    ],
)
def test_score_unit(rates, penalty, veto, score, grade):
    assert score_unit(rates, penalty, W, T, veto) == (Decimal(score), grade)


@pytest.mark.parametrize(
    ("x", "out"),
    [
        pytest.param(Fraction(89995, 1000), "90.00", id="89.995-up"),
        pytest.param(Fraction(69994, 1000), "69.99", id="69.994-down"),
        pytest.param(Fraction(1, 200), "0.01", id="0.005-up"),
        pytest.param(Fraction(1, 3), "0.33", id="third"),
    ],
)
def test_round_half_up(x, out):
    assert round_half_up(x) == Decimal(out)


def test_rounding_before_grading_89_995_is_excellent():
    # Full rates (100) minus a penalty of 10.005 points (an override may give fractional penalties).
    s, g = score_unit(FULL, Decimal("10.005"), W, T, False)
    assert (s, g) == (Decimal("90.00"), "excellent")  # 89.995 rounds up to 90.00 before grading


def test_scorecard_columns_units_and_h2():
    t = world(
        surveys=[survey("S1", "baseline", "2024-01-05"), survey("S2", "followup", "2024-09-01")],
        check_rounds=[{"round_id": "R1", "start_date": "2024-10-01", "end_date": "2024-10-31"}],
    )
    card = compliance_scorecard(t, load_params(), "2024H2")
    assert list(card.columns) == SCORECARD_COLUMNS
    assert card["unit_id"].tolist() == ["U1", "U2"]  # U2 has nobody: every rate counts as 1
    u1 = card.set_index("unit_id").loc["U1"]
    assert pd.isna(u1["baseline_coverage"])
    # H2 weights 0.25, 0.15, 0.35 scaled by 1/0.75: C2 1, C3 1 (no problems), C4 0 -> 100 * 0.4/0.75
    assert (u1["followup_coverage"], u1["check_attendance"], u1["score"], u1["grade"]) == (
        1.0,
        0.0,
        53.33,
        "fail",
    )
    assert card.set_index("unit_id").loc["U2", "score"] == 100.0
    year = compliance_scorecard(t, load_params(), "2024").set_index("unit_id").loc["U1"]
    # C1 1/1, C2 1/2 (H1 unsurveyed), C3 1, C4 0/1 -> 25 + 12.5 + 15 + 0 = 52.5
    assert (year["baseline_coverage"], year["followup_coverage"], year["score"]) == (1.0, 0.5, 52.5)


def test_veto_falls_on_the_half_and_its_year_only():
    t = world(
        surveys=[
            survey("S1", "baseline", "2024-01-05"),
            survey("S2", "followup", "2024-03-01"),
            survey("S3", "followup", "2024-09-01"),
        ],
        children=[child("K1", "2024-05-01")],
    )
    p = load_params()
    h1 = compliance_scorecard(t, p, "2024H1").set_index("unit_id").loc["U1"]
    h2 = compliance_scorecard(t, p, "2024H2").set_index("unit_id").loc["U1"]
    yr = compliance_scorecard(t, p, "2024").set_index("unit_id").loc["U1"]
    assert (h1["score"], h1["grade"], bool(h1["veto"])) == (80.0, "fail", True)  # 100 - 20, vetoed
    assert (h2["score"], h2["grade"], bool(h2["veto"])) == (100.0, "excellent", False)
    assert (yr["score"], yr["grade"], bool(yr["veto"])) == (80.0, "fail", True)


def test_penalties_and_weights_from_parameters():
    t = world(
        surveys=[survey("S1", "baseline", "2024-01-05"), survey("S2", "followup", "2024-03-01")],
        pregnancies=[preg("G1", "2024-03-01")],
    )
    p = load_params(
        {
            "compliance_penalties": {
                "2024-03-01": {
                    "falsifications": 5,
                    "out_of_plan_births": 20,
                    "pregnancies_without_permit": 7.5,
                    "unapproved_late_terminations": 20,
                }
            }
        }
    )
    u1 = compliance_scorecard(t, p, "2024H1").set_index("unit_id").loc["U1"]
    assert (u1["pregnancies_without_permit"], u1["score"], u1["grade"]) == (1, 92.5, "excellent")


def test_detail_traces_every_figure():
    t = world(
        [W1, H1, {**W1, "person_id": "W2", "birth_date": "1991-01-01"}, {**H1, "person_id": "H2"}],
        [
            C1,
            {"couple_id": "C2", "wife_id": "W2", "husband_id": "H2", "marriage_date": "2016-01-01"},
        ],
        surveys=[survey("S1", "baseline", "2024-01-05")],
    )
    d = compliance_detail(t, load_params(), "2024H1")
    c1 = d[d["indicator"] == "baseline_coverage"]
    assert c1[
        ["unit_id", "couple_id", "person_id", "event_id", "in_denominator", "in_numerator"]
    ].astype(object).where(
        c1[
            ["unit_id", "couple_id", "person_id", "event_id", "in_denominator", "in_numerator"]
        ].notna(),
        None,
    ).values.tolist() == [
        ["U1", "C1", "W1", "S1", True, True],
        ["U1", "C2", "W2", None, True, False],
    ]
    assert c1["reason_en"].tolist() == [
        "baseline survey S1 on 2024-01-05",
        "no baseline survey from 01-01 to 03-31",
    ]
    card = compliance_scorecard(t, load_params(), "2024H1", detail=d).set_index("unit_id")
    assert card.loc["U1", "baseline_coverage"] == 0.5
    assert set(d["indicator"]) <= set(INDICATORS)


def test_period_object_roundtrip():
    assert parse_period(Period("2024H1", 2024, 1)).halves == [Period("2024H1", 2024, 1)]
    assert [h.label for h in parse_period("2024").halves] == ["2024H1", "2024H2"]


# --------------------------------------------------------------------------- accountability


def test_accountability_list_one_row_per_violation():
    t = world(
        children=[child("K1", "2024-05-01")],
        pregnancies=[
            preg("G1", "2024-03-01", "birth", "2024-05-01", child_id="K1"),
            term("G2", "2024-09-01", 12, reason="sex_selection", approved=False),
            term("G3", "2024-11-01", 18, approved=False),
        ],
        contraception=[contra("K9", "W1", "iud", "2020-01-01", falsified="2024-02-01")],
    )
    a = accountability_list(t, load_params(), "2024")
    got = a[
        [
            "date",
            "rule",
            "event_id",
            "unit_id",
            "unit_head_name",
            "liaison_name",
            "wife_name",
            "veto",
        ]
    ]
    got = got.assign(date=got["date"].dt.strftime("%Y-%m-%d")).values.tolist()
    # G2 and G3 were detected on 2024-01-01 (see term()) without a permit: two C7 events.
    assert got == [
        [
            "2024-01-01",
            "pregnancies_without_permit",
            "G2",
            "U1",
            "王局长",
            "李联络",
            "张三妹",
            False,
        ],
        [
            "2024-01-01",
            "pregnancies_without_permit",
            "G3",
            "U1",
            "王局长",
            "李联络",
            "张三妹",
            False,
        ],
        ["2024-02-01", "falsifications", "K9", "U1", "王局长", "李联络", "张三妹", False],
        [
            "2024-03-01",
            "pregnancies_without_permit",
            "G1",
            "U1",
            "王局长",
            "李联络",
            "张三妹",
            False,
        ],
        ["2024-05-01", "out_of_plan_births", "G1", "U1", "王局长", "李联络", "张三妹", True],
        [
            "2024-09-01",
            "sex_selective_termination",
            "G2",
            "U1",
            "王局长",
            "李联络",
            "张三妹",
            False,
        ],
        [
            "2024-11-01",
            "unapproved_late_terminations",
            "G3",
            "U1",
            "王局长",
            "李联络",
            "张三妹",
            False,
        ],
    ]
    assert a["husband_name"].unique().tolist() == ["李四"]
    assert a["penalty"].tolist() == [5.0, 5.0, 5.0, 5.0, 20.0, 0.0, 20.0]


@pytest.mark.parametrize(
    ("weeks", "expected"),
    [
        pytest.param(
            18,
            [
                ("sex_selective_termination", 0.0, False),
                ("unapproved_late_terminations", 20.0, True),
            ],
            # 18 >= 16 weeks, for sex selection: a C8 (20 points, a veto) and the §4.2 row
            id="sex-selection-at-18-weeks-two-rows-c8-and-sex-selection",
        ),
        pytest.param(
            16,
            [
                ("sex_selective_termination", 0.0, False),
                ("unapproved_late_terminations", 20.0, True),
            ],
            id="sex-selection-at-16-weeks-threshold-two-rows",
        ),
        pytest.param(
            12,
            [("sex_selective_termination", 0.0, False)],
            # below the threshold: no C8, the sex selection alone (no penalty points)
            id="sex-selection-at-12-weeks-one-row",
        ),
    ],
)
def test_accountability_late_sex_selective_termination_is_both_rules(weeks, expected):
    # rulebook §3.9, §3.10: the termination is G1 on 2024-09-01 (detected 2024-01-01, with a
    # permit valid then, so no C7)
    t = world(
        permits=[permit("B1", "2023-06-01")],
        pregnancies=[term("G1", "2024-09-01", weeks, reason="sex_selection", approved=False)],
    )
    a = accountability_list(t, load_params(), "2024")
    assert a["event_id"].unique().tolist() == ["G1"]
    assert list(zip(a["rule"], a["penalty"], a["veto"], strict=True)) == expected
    if len(expected) == 2:
        assert a.loc[0, "reason_en"] == (
            f"sex-selective termination at {weeks} weeks (an unapproved late termination too)"
        )


# ------------------------------------------------------------------ widgets and charts (pure parts)


def _small():
    return world(
        [
            W1,
            H1,
            {**W1, "person_id": "W2", "name": "王小红", "birth_date": "1991-01-01"},
            {**H1, "person_id": "H2"},
        ],
        [
            C1,
            {"couple_id": "C2", "wife_id": "W2", "husband_id": "H2", "marriage_date": "2016-01-01"},
        ],
        surveys=[survey("S1", "baseline", "2024-01-05"), survey("S2", "followup", "2024-03-01")],
        check_rounds=ROUND,
        check_attendance=[attend("2024-04-03")],
    )


def test_drilldown_lists_who_is_missing_masked():
    from fpanalysis.widgets.compliance import missing_rows

    t = _small()
    d = compliance_detail(t, load_params(), "2024H1")
    rows = missing_rows(d, "U1", "check_attendance", t)
    assert rows[["couple_id", "person_id", "wife_name"]].values.tolist() == [["C2", "W2", "王**"]]
    assert missing_rows(d, "U1", "check_attendance", t, reveal=True)["wife_name"].tolist() == [
        "王小红"
    ]
    assert missing_rows(d, "U1", "followup_coverage", t)["couple_id"].tolist() == ["C2"]


@pytest.mark.parametrize(
    ("weights", "score"),
    [
        pytest.param(
            {
                "baseline_coverage": 0.25,
                "followup_coverage": 0.25,
                "feedback_timeliness": 0.15,
                "check_attendance": 0.35,
            },
            57.5,
            id="default-weights",
        ),
        pytest.param(
            {
                "baseline_coverage": 0,
                "followup_coverage": 0,
                "feedback_timeliness": 0,
                "check_attendance": 1,
            },
            50.0,
            id="all-on-checks",
        ),
        pytest.param(
            {
                "baseline_coverage": 2,
                "followup_coverage": 2,
                "feedback_timeliness": 0,
                "check_attendance": 0,
            },
            50.0,
            id="sliders-scaled-to-sum-1",
        ),
        pytest.param(
            {
                "baseline_coverage": 0,
                "followup_coverage": 0,
                "feedback_timeliness": 0,
                "check_attendance": 0,
            },
            62.5,
            id="all-zero-equal-weights",
        ),
    ],
)
def test_reweight_scores(weights, score):
    # U1 in 2024H1: C1 1/2, C2 1/2, C3 1 (no problems), C4 1/2; defaults: 12.5 + 12.5 + 15 + 17.5.
    from fpanalysis.widgets.compliance import rescored

    t = _small()
    d = compliance_detail(t, load_params(), "2024H1")
    card = rescored(d, load_params(), "2024H1", weights, ["U1", "U2"]).set_index("unit_id")
    assert card.loc["U1", "score"] == score


def test_widgets_redraw_their_tables_on_change():
    from fpanalysis.widgets.compliance import drilldown, reweight

    t = _small()
    d = compliance_detail(t, load_params(), "2024H1")
    dd = drilldown(d, t, unit="U1")
    table = dd.children[1]
    assert "王**" in table.value and "王小红" not in table.value
    dd.children[0].children[1].value = "check_attendance"
    assert "C4 环孕检到检率：1 行 rows" in table.value
    assert "fp-trace" not in table.value  # no parameters given: rows only
    traced = drilldown(d, t, unit="U1", params=load_params(), period="2024H1")
    assert '<div class="fp-trace"' in traced.children[1].value
    assert "单位 U1" in traced.children[1].value and "王小红" not in traced.children[1].value
    traced.children[0].children[1].value = "check_attendance"  # the trace stays with the unit
    assert "C4 环孕检到检率：1 行 rows" in traced.children[1].value
    assert "单位 U1" in traced.children[1].value
    rw = reweight(d, load_params(), "2024H1", ["U1", "U2"])
    assert "57.5" in rw.children[2].value
    rw.children[0].children[0].value = 0.0  # C1 weight to 0: the others scale up
    rw.children[0].children[1].value = 0.0
    rw.children[1].children[0].value = 0.0
    assert "50.0" in rw.children[2].value  # checks only: 1/2


def test_heatmap_has_a_cell_per_unit_and_indicator():
    from fpanalysis.charts.compliance import heatmap, indicator_frame, trend

    card = compliance_scorecard(_small(), load_params(), "2024H1")
    long = indicator_frame(card)
    assert len(long) == 2 * 8
    assert long.set_index(["unit_id", "indicator"]).loc[("U1", "check_attendance"), "text"] == "50%"
    spec = heatmap(card).to_dict()
    assert spec["config"]["font"] == "Noto Sans CJK SC"
    assert trend(card, "U1").to_dict()["layer"][0]["mark"]["type"] == "line"
