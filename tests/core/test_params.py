"""Policy parameters (rulebook §9): defaults, values in force on a date, override files."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from fpanalysis.core.errors import ParamError
from fpanalysis.core.params import load_params

NAMES_IN_POLICY_MD = [
    "childbearing_age",
    "responsible_spouse",
    "baseline_deadline",
    "feedback_days",
    "check_exempt_after_outcome_days",
    "late_termination_weeks",
    "compliance_weights",
    "compliance_penalties",
    "grade_thresholds",
    "reward_monthly_yuan",
    "reward_age_cap",
    "reward_split",
    "births_per_couple_year",
    "uptake",
    "lag_months",
    "discount_rate",
    "dibao_standard_yuan",
    "tier_bands",
    "ranking_order",
    "review_months",
    "notice_days",
    "notice_name_mask",
]


def write(tmp_path, text: str):
    p = tmp_path / "override.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_every_name_of_policy_md_is_a_parameter():
    assert load_params().names == NAMES_IN_POLICY_MD


def test_every_parameter_has_unit_reference_and_descriptions():
    p = load_params()
    for spec in p.specs.values():
        assert spec.unit and spec.reference and spec.description_zh and spec.description_en, (
            spec.name
        )


@pytest.mark.parametrize(
    ("name", "date", "expected"),
    [
        pytest.param(
            "childbearing_age", "2024-01-01", (15, 49), id="childbearing_age-2024-01-01-(15, 49)"
        ),
        pytest.param(
            "responsible_spouse", "2024-01-01", "wife", id="responsible_spouse-2024-01-01-wife"
        ),
        pytest.param(
            "baseline_deadline", "2024-01-01", "03-31", id="baseline_deadline-2024-01-01-03-31"
        ),
        pytest.param("feedback_days", "2024-01-01", 15, id="feedback_days-2024-01-01-15"),
        pytest.param(
            "check_exempt_after_outcome_days",
            "2024-01-01",
            30,
            id="check_exempt_after_outcome_days-2024-01-01-30",
        ),
        pytest.param(
            "late_termination_weeks", "2024-01-01", 16, id="late_termination_weeks-2024-01-01-16"
        ),
        pytest.param(
            "reward_monthly_yuan", "2024-01-01", 20, id="reward_monthly_yuan-2024-01-01-20"
        ),
        pytest.param("reward_age_cap", "2024-01-01", 14, id="reward_age_cap-2024-01-01-14"),
        pytest.param("reward_split", "2024-01-01", "payee", id="reward_split-2024-01-01-payee"),
        pytest.param(
            "tier_bands", "2024-01-01", (0.3, 0.6, 1.0), id="tier_bands-2024-01-01-(0.3, 0.6, 1.0)"
        ),
        pytest.param(
            "ranking_order",
            "2024-01-01",
            ("tier", "fp_priority", "per_capita_income_yuan", "application_date", "household_id"),
            id="ranking_order-2024-01-01-('tier', 'fp_priority', 'per_capita_income_yuan',"
            " 'application_date', 'household_id')",
        ),
    ],
)
def test_defaults_of_policy_md(name, date, expected):
    assert load_params().at(name, date) == expected


def test_mapping_defaults():
    p = load_params()
    assert dict(p.at("compliance_weights", "2024-06-01")) == {
        "baseline_coverage": 0.25,
        "followup_coverage": 0.25,
        "feedback_timeliness": 0.15,
        "check_attendance": 0.35,
    }
    assert dict(p.at("compliance_penalties", "2024-06-01")) == {
        "falsifications": 5,
        "out_of_plan_births": 20,
        "pregnancies_without_permit": 5,
        "unapproved_late_terminations": 20,
    }
    assert dict(p.at("grade_thresholds", "2024-06-01")) == {"excellent": 90, "pass": 70}
    assert dict(p.at("review_months", "2024-06-01")) == {"default": 6, "disabled_member": 12}


@pytest.mark.parametrize(
    ("area", "date", "expected"),
    [
        pytest.param("urban", "2020-12-31", 624, id="urban-day-before-change"),
        # the effective date itself is in force
        pytest.param("urban", "2021-01-01", 684, id="urban-on-change-day"),
        pytest.param("rural", "2021-06-30", 504, id="rural-2021"),
        pytest.param("rural", "2025-03-01", 600, id="rural-2025"),
    ],
)
def test_dibao_standard_in_force(area, date, expected):
    assert load_params().dibao_standard(area, date) == expected


def test_values_are_frozen():
    w = load_params().at("compliance_weights", "2024-01-01")
    with pytest.raises(TypeError):
        w["baseline_coverage"] = 1  # type: ignore[index]


def test_policy_md_example_override(tmp_path):
    f = write(
        tmp_path,
        """
        reward_monthly_yuan:
          2025-07-01: 30        # from July 2025 on; earlier months keep the default
        reward_age_cap: 18      # a plain value holds from the start
        dibao_standard_yuan:
          urban: {2025-01-01: 800}
          rural: {2025-01-01: 600}
        """,
    )
    p = load_params(f)
    assert p.at("reward_monthly_yuan", "2025-06-30") == 20
    assert p.at("reward_monthly_yuan", "2025-07-01") == 30
    assert p.at("reward_age_cap", "1950-01-01") == 18
    assert p.dibao_standard("urban", "2024-12-31") == 730  # default before the override's date
    assert p.dibao_standard("urban", "2025-01-01") == 800
    assert p.override_file == str(f)
    assert p.sha256 != load_params().sha256


def test_area_not_named_keeps_default():
    p = load_params({"dibao_standard_yuan": {"urban": 900}})
    assert p.dibao_standard("urban", "2010-01-01") == 900
    assert p.dibao_standard("rural", "2021-06-01") == 504


def test_mapping_parameter_replaced_whole_and_validated_whole():
    new = {
        "baseline_coverage": 0.4,
        "followup_coverage": 0.4,
        "feedback_timeliness": 0.2,
        "check_attendance": 0.0,
    }
    assert (
        dict(load_params({"compliance_weights": new}).at("compliance_weights", "2024-01-01")) == new
    )


def test_dated_mapping_parameter():
    new = {
        "baseline_coverage": 0.4,
        "followup_coverage": 0.4,
        "feedback_timeliness": 0.2,
        "check_attendance": 0.0,
    }
    p = load_params({"compliance_weights": {"2025-01-01": new}})
    assert dict(p.at("compliance_weights", "2024-12-31"))["check_attendance"] == 0.35
    assert dict(p.at("compliance_weights", "2025-01-01")) == new


@pytest.mark.parametrize(
    "override",
    [
        pytest.param("02-29", id="plain-29-feb"),
        pytest.param({"2025-01-01": "02-29"}, id="dated-29-feb-from-a-common-year"),
    ],
)
def test_29_february_is_a_month_day(override):
    # 29 February is a day of the calendar: it means 28 February in other years (rulebook G2)
    p = load_params({"baseline_deadline": override})
    assert p.at("baseline_deadline", "2025-01-01") == "02-29"


def test_at_many_vectorised():
    import pandas as pd

    p = load_params({"reward_monthly_yuan": {"2025-07-01": 30}})
    assert p.at_many("reward_monthly_yuan", pd.to_datetime(["2025-06-30", "2025-07-01", None])) == [
        20,
        30,
        None,
    ]


def test_with_overrides_does_not_change_the_original():
    base = load_params()
    base.with_overrides({"reward_monthly_yuan": 50})
    assert base.at("reward_monthly_yuan", "2024-01-01") == 20


@pytest.mark.parametrize(
    ("override", "message_part"),
    [
        pytest.param({"reward_monthly": 30}, "unknown parameter reward_monthly", id="unknown-name"),
        pytest.param({"reward_monthly_yuan": "thirty"}, "must be a number", id="text-for-number"),
        pytest.param({"reward_monthly_yuan": True}, "must be a number", id="bool-for-number"),
        pytest.param({"reward_age_cap": 14.5}, "must be a whole number", id="fraction-for-int"),
        pytest.param(
            {"reward_monthly_yuan": {"2025-02-30": 30}},
            "is not a valid ISO date",
            id="impossible-date",
        ),
        pytest.param(
            {"reward_monthly_yuan": {"2025-07-01": 30, "July": 40}},
            "is not a valid ISO date",
            id="half-dated-mapping",
        ),
        pytest.param({"reward_split": "thirds"}, "must be one of", id="unknown-enum"),
        pytest.param({"baseline_deadline": "3/31"}, 'must be "MM-DD"', id="month-day-format"),
        pytest.param(
            {"baseline_deadline": "02-30"}, "is not a valid month-day", id="month-day-impossible"
        ),
        pytest.param(
            {"childbearing_age": [49, 15]}, "low must not exceed high", id="range-reversed"
        ),
        pytest.param(
            {
                "compliance_weights": {
                    "baseline_coverage": 0.5,
                    "followup_coverage": 0.5,
                    "feedback_timeliness": 0.5,
                    "check_attendance": 0,
                }
            },
            "weights must sum to 1",
            id="weights-not-summing-to-1",
        ),
        pytest.param(
            {"compliance_weights": {"baseline_coverage": 1}},
            "keys do not match",
            id="weights-missing-keys",
        ),
        pytest.param(
            {
                "compliance_penalties": {
                    "falsifications": -5,
                    "out_of_plan_births": 20,
                    "pregnancies_without_permit": 5,
                    "unapproved_late_terminations": 20,
                }
            },
            "must be a number >= 0",
            id="negative-penalty",
        ),
        pytest.param(
            {"grade_thresholds": {"excellent": 60, "pass": 70}},
            "excellent must not be below pass",
            id="thresholds-reversed",
        ),
        pytest.param(
            {"tier_bands": [0.6, 0.3, 1.0]}, "strictly increasing", id="bands-not-increasing"
        ),
        pytest.param({"tier_bands": [0.3, 1.0]}, "must have 3 numbers", id="bands-wrong-length"),
        pytest.param(
            {"ranking_order": ["tier", "household_id", "tier"]},
            "a key appears twice",
            id="order-repeat",
        ),
        pytest.param(
            {"ranking_order": ["tier", "fp_priority"]},
            "must end with household_id",
            id="order-not-total",
        ),
        pytest.param(
            {"ranking_order": ["size", "household_id"]}, "unknown keys", id="order-unknown-key"
        ),
        pytest.param(
            {"review_months": {"default": 6.5, "disabled_member": 12}},
            "must be a whole number >= 0",
            id="review-months-fraction",
        ),
        pytest.param(
            {"dibao_standard_yuan": {"suburban": {"2025-01-01": 700}}},
            "unknown area",
            id="dibao-unknown-area",
        ),
        pytest.param(
            {"dibao_standard_yuan": {"urban": {"2025-01-01": "lots"}}},
            "must be a number",
            id="dibao-text",
        ),
        pytest.param(
            {"dibao_standard_yuan": {"urban": {"2025-01-01": 0}}},
            "must be between 1 and 1000000",
            id="dibao-zero",
        ),
        pytest.param({"uptake": 1.5}, "must be between 0 and 1", id="share-above-1"),
        pytest.param(
            {"births_per_couple_year": {"20-29": 0.3, "25-34": 0.2}},
            "age bands overlap",
            id="age-bands-overlap",
        ),
    ],
)
def test_bad_overrides_name_the_key(override, message_part):
    with pytest.raises(ParamError) as exc:
        load_params(override)
    assert message_part in exc.value.text("en")
    assert exc.value.message_zh  # a Chinese message too
    assert str(next(iter(override))) in exc.value.text("en")


@pytest.mark.parametrize(
    ("text", "message_part"),
    [
        pytest.param(
            "reward_monthly_yuan:\n  2025-07-01: 30\n  2025-07-01: 40\n",
            "repeated key 2025-07-01",
            id="same-date-twice",
        ),
        pytest.param(
            "reward_monthly_yuan:\n  2025-07-01: 30\n  '2025-07-01': 40\n",
            "repeated key 2025-07-01",
            id="same-date-as-date-and-string",
        ),
        pytest.param("reward_monthly_yuan: [30\n", "not valid YAML", id="bad-yaml"),
        pytest.param("- 1\n- 2\n", "must be a mapping", id="not-a-mapping"),
        pytest.param(
            "!!python/object/apply:os.system ['echo hi']\n",
            "not valid YAML",
            id="unsafe-tag-refused",
        ),
    ],
)
def test_bad_override_files(tmp_path, text, message_part):
    f = tmp_path / "bad.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ParamError) as exc:
        load_params(f)
    assert message_part in exc.value.text("en")
    assert exc.value.file == str(f)


def test_missing_override_file(tmp_path):
    with pytest.raises(ParamError, match="not found"):
        load_params(tmp_path / "nope.yaml")


def test_empty_override_file_changes_nothing(tmp_path):
    f = tmp_path / "empty.yaml"
    f.write_text("# nothing\n", encoding="utf-8")
    assert load_params(f).sha256 == load_params().sha256


def test_timeline_sorted_and_change_dates():
    p = load_params({"reward_monthly_yuan": {"2026-01-01": 40, "2025-07-01": 30}})
    assert p.timeline("reward_monthly_yuan") == [
        (dt.date(1900, 1, 1), 20),
        (dt.date(2025, 7, 1), 30),
        (dt.date(2026, 1, 1), 40),
    ]
