"""Validation (fpanalysis.io.validate), load_for_analysis and `fpanalysis validate`.

Each broken fixture in tests/fixtures/bad/ is valid except for one fault; its
test names the exact problems expected (severity, table, row, column, rule) and
a piece of the message a clerk reads.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import sample_available

from fpanalysis import io
from fpanalysis.cli import main
from fpanalysis.core import config, schema
from fpanalysis.core.dataset import Dataset
from fpanalysis.core.errors import DataError
from fpanalysis.io.validate import validate_dataset, write_rejects

BAD = Path(__file__).resolve().parents[1] / "fixtures" / "bad"


def _found(report, severities=("error", "warning")):
    return [
        (p.severity, p.table, p.row, p.column, p.rule)
        for p in report.problems
        if p.severity in severities
    ]


# --------------------------------------------------------------------------- broken fixtures

FIXTURES = [
    # (folder, [(severity, table, row, column, rule)], text in message_en, text in message_zh)
    ("all_valid", [], None, None),
    (
        "bad_date",
        [("error", "persons", 4, "birth_date", "date")],
        "not a valid date",
        "不是有效日期",
    ),
    ("bad_enum", [("error", "persons", 5, "sex", "enum")], "F (女), M (男)", "女（F）、男（M）"),
    ("bad_bool", [("error", "surveys", 2, "problem_found", "bool")], "not yes/no", "是/否"),
    (
        "duplicate_key",
        [
            ("error", "check_attendance", 2, "round_id", "unique"),
            ("error", "check_attendance", 4, "round_id", "unique"),
        ],
        "duplicate key (round_id, person_id)",
        "组合重复",
    ),
    (
        "dangling_reference",
        [("error", "couples", 3, "husband_id", "reference")],
        "no such person_id in table 'persons'",
        "找不到",
    ),
    (
        "missing_column",
        [("error", "persons", None, "sex", "missing_column")],
        "lacks the required column 'sex'",
        "缺少必填列“性别”",
    ),
    (
        "missing_value",
        [("error", "units", 3, "name", "required")],
        "required value is empty",
        "必填项为空",
    ),
    (
        "end_before_start",
        [("error", "check_rounds", 3, "end_date", "date_order")],
        "end_date is before start_date (2024-09-15)",
        "结束日期早于开始日期",
    ),
    (
        "certificate_before_birth",
        [("error", "certificates", 2, "issue_date", "certificate_before_birth")],
        "before the child's birth_date (2017-08-08)",
        "领证日期早于子女出生日期",
    ),
    (
        "id_check_char",
        [("error", "persons", 2, "id_number", "id_bad_check_character")],
        "expected '2'",
        "校验码错误",
    ),
    (
        "id_sex_mismatch",
        [("error", "persons", 3, "id_number", "id_sex_mismatch")],
        "says sex M; the record says F",
        "性别",
    ),
    (
        "id_birth_mismatch",
        [("error", "persons", 5, "id_number", "id_birth_date_mismatch")],
        "1991-01-15, disagrees with the recorded 1991-01-16",
        "不一致",
    ),
    (
        "id_unknown_region",
        [("warning", "persons", 4, "id_number", "id_unknown_region")],
        "999999",
        "地区码",
    ),
    (
        "household_size",
        [("error", "households", 2, "size", "household_size")],
        "members listed (2)",
        "家庭人口",
    ),
    ("gb18030_zh", [], None, None),
    ("bom", [], None, None),
    ("header_only", [], None, None),
    (
        "garbage",
        [("error", "persons", None, None, "unreadable_file")],
        "not a text CSV",
        "不是文本 CSV",
    ),
    ("empty", [("error", "persons", None, None, "empty_file")], "file is empty", "文件为空"),
    ("xlsx/zh_sheets.xlsx", [], None, None),
    ("xlsx/excel_serial.xlsx", [], None, None),
]


@pytest.mark.parametrize("folder,expected,en,zh", [pytest.param(*f, id=f[0]) for f in FIXTURES])
def test_broken_fixture_reports_exactly_its_fault(folder, expected, en, zh):
    report = validate_dataset(io.load_dataset(BAD / folder))
    assert _found(report) == expected
    if en:
        first = [p for p in report.problems if p.severity != "note"][0]
        assert en in first.message_en
        assert zh in first.message_zh
    assert report.ok == all(e[0] != "error" for e in expected)


def test_problem_carries_key_and_value_as_typed():
    [p] = validate_dataset(io.load_dataset(BAD / "dangling_reference")).errors
    assert (p.key, p.value, p.file) == ("C2", "P9", "couples.csv")
    [q] = validate_dataset(io.load_dataset(BAD / "bad_date")).errors
    assert (q.key, q.value) == ("P3", "1992-13-20")


def test_absent_table_reference_is_noted_not_checked():
    report = validate_dataset(io.load_dataset(BAD / "dangling_reference"))
    notes = [(p.table, p.column, p.rule) for p in report.notes]
    assert ("persons", "unit_id", "reference_not_checked") in notes


def test_empty_folder_is_an_error(tmp_path):
    report = validate_dataset(io.load_dataset(tmp_path))
    assert [p.rule for p in report.errors] == ["no_tables"]


# ---------------------------------------------------------------------- rules on hand-made frames


def _base():
    """A small valid world: P1 (F) married to P2 (M) as C1; child K1 born 2017-08-08."""
    return {
        "persons": schema.coerce(
            "persons",
            [
                {
                    "person_id": "P1",
                    "name": "甲",
                    "sex": "F",
                    "birth_date": "1990-05-12",
                    "unit_id": "U1",
                    "category": "staff",
                    "hire_date": "2012-07-01",
                },
                {
                    "person_id": "P2",
                    "name": "乙",
                    "sex": "M",
                    "birth_date": "1988-03-01",
                    "category": "outside",
                },
                {
                    "person_id": "P3",
                    "name": "丙",
                    "sex": "M",
                    "birth_date": "1985-01-01",
                    "category": "outside",
                },
            ],
        ),
        "couples": schema.coerce(
            "couples",
            [
                {
                    "couple_id": "C1",
                    "wife_id": "P1",
                    "husband_id": "P2",
                    "marriage_date": "2015-10-01",
                }
            ],
        ),
        "children": schema.coerce(
            "children",
            [
                {"child_id": "K1", "couple_id": "C1", "birth_date": "2017-08-08", "sex": "F"},
                {"child_id": "K2", "couple_id": "C9", "birth_date": "2018-01-01", "sex": "M"},
            ],
        ),
    }


def _rules(tables):
    return [
        (p.table, p.row, p.column, p.rule)
        for p in validate_dataset(Dataset(tables)).problems
        if p.severity == "error" and p.rule != "reference"
    ]


RULE_CASES = [
    (
        "leave-before-hire",
        "persons",
        [
            {
                "person_id": "X",
                "name": "a",
                "sex": "F",
                "birth_date": "1990-01-01",
                "category": "staff",
                "hire_date": "2020-01-01",
                "leave_date": "2019-12-31",
            }
        ],
        [("persons", 2, "leave_date", "date_order")],
    ),
    (
        "leave-on-hire-day-ok",
        "persons",
        [
            {
                "person_id": "X",
                "name": "a",
                "sex": "F",
                "birth_date": "1990-01-01",
                "category": "staff",
                "hire_date": "2020-01-01",
                "leave_date": "2020-01-01",
            }
        ],
        [],
    ),
    (
        "staff-without-hire-date",
        "persons",
        [
            {
                "person_id": "X",
                "name": "a",
                "sex": "F",
                "birth_date": "1990-01-01",
                "category": "staff",
            }
        ],
        [("persons", 2, "hire_date", "hire_date_required")],
    ),
    (
        "floating-without-hire-date-ok",
        "persons",
        [
            {
                "person_id": "X",
                "name": "a",
                "sex": "F",
                "birth_date": "1990-01-01",
                "category": "floating",
            }
        ],
        [],
    ),
    (
        "divorce-before-marriage",
        "couples",
        [
            {
                "couple_id": "C",
                "wife_id": "W",
                "husband_id": "H",
                "marriage_date": "2020-01-02",
                "divorce_date": "2020-01-01",
            }
        ],
        [("couples", 2, "divorce_date", "date_order")],
    ),
    (
        "outcome-before-detected",
        "pregnancies",
        [
            {
                "pregnancy_id": "G",
                "couple_id": "C",
                "detected_date": "2024-05-01",
                "outcome": "miscarriage",
                "outcome_date": "2024-04-30",
            }
        ],
        [("pregnancies", 2, "outcome_date", "date_order")],
    ),
    (
        "birth-without-outcome-date",
        "pregnancies",
        [
            {
                "pregnancy_id": "G",
                "couple_id": "C",
                "detected_date": "2024-05-01",
                "outcome": "birth",
            }
        ],
        [("pregnancies", 2, "outcome_date", "outcome_date_required")],
    ),
    (
        "ongoing-without-outcome-date-ok",
        "pregnancies",
        [
            {
                "pregnancy_id": "G",
                "couple_id": "C",
                "detected_date": "2024-05-01",
                "outcome": "ongoing",
            }
        ],
        [],
    ),
    (
        "gestation-46-weeks",
        "pregnancies",
        [
            {
                "pregnancy_id": "G",
                "couple_id": "C",
                "detected_date": "2024-05-01",
                "outcome": "ongoing",
                "gestation_weeks": 46,
            }
        ],
        [("pregnancies", 2, "gestation_weeks", "range")],
    ),
    (
        "gestation-45-weeks-ok",
        "pregnancies",
        [
            {
                "pregnancy_id": "G",
                "couple_id": "C",
                "detected_date": "2024-05-01",
                "outcome": "ongoing",
                "gestation_weeks": 45,
            }
        ],
        [],
    ),
    (
        "contraception-end-before-start",
        "contraception",
        [
            {
                "record_id": "N",
                "couple_id": "C",
                "person_id": "P",
                "method": "iud",
                "start_date": "2020-01-01",
                "end_date": "2019-01-01",
            }
        ],
        [("contraception", 2, "end_date", "date_order")],
    ),
    (
        "permit-cancelled-before-issue",
        "permits",
        [
            {
                "permit_id": "B",
                "couple_id": "C",
                "issue_date": "2020-01-01",
                "cancelled_date": "2019-01-01",
            }
        ],
        [("permits", 2, "cancelled_date", "date_order")],
    ),
    (
        "certificate-revoked-before-issue",
        "certificates",
        [
            {
                "cert_id": "Z",
                "couple_id": "C",
                "child_id": "K",
                "issue_date": "2020-01-01",
                "payee_id": "P",
                "revoked_date": "2019-12-31",
            }
        ],
        [("certificates", 2, "revoked_date", "date_order")],
    ),
    (
        "reported-before-survey",
        "surveys",
        [
            {
                "survey_id": "S",
                "couple_id": "C",
                "unit_id": "U",
                "kind": "baseline",
                "survey_date": "2024-02-10",
                "problem_found": True,
                "reported_date": "2024-02-09",
            }
        ],
        [("surveys", 2, "reported_date", "date_order")],
    ),
    (
        "survey-problem-found-empty",
        "surveys",
        [
            {
                "survey_id": "S",
                "couple_id": "C",
                "unit_id": "U",
                "kind": "baseline",
                "survey_date": "2024-02-10",
            }
        ],
        [("surveys", 2, "problem_found", "required")],
    ),
    (
        "size-zero",
        "households",
        [
            {
                "household_id": "H",
                "head_name": "a",
                "area": "rural",
                "size": 0,
                "monthly_income": 1.0,
                "application_date": "2024-01-01",
            }
        ],
        [("households", 2, "size", "range")],
    ),
    (
        "income-negative",
        "households",
        [
            {
                "household_id": "H",
                "head_name": "a",
                "area": "rural",
                "size": 1,
                "monthly_income": -1.0,
                "application_date": "2024-01-01",
            }
        ],
        [("households", 2, "monthly_income", "range")],
    ),
    (
        "tier-4",
        "households",
        [
            {
                "household_id": "H",
                "head_name": "a",
                "area": "rural",
                "size": 1,
                "monthly_income": 1.0,
                "assessed_tier": 4,
                "application_date": "2024-01-01",
            }
        ],
        [("households", 2, "assessed_tier", "range")],
    ),
    (
        "special-group-unknown",
        "households",
        [
            {
                "household_id": "H",
                "head_name": "a",
                "area": "rural",
                "size": 1,
                "monthly_income": 1.0,
                "special_groups": "orphan;alien",
                "application_date": "2024-01-01",
            }
        ],
        [("households", 2, "special_groups", "set")],
    ),
    (
        "area-unknown",
        "households",
        [
            {
                "household_id": "H",
                "head_name": "a",
                "area": "suburb",
                "size": 1,
                "monthly_income": 1.0,
                "application_date": "2024-01-01",
            }
        ],
        [("households", 2, "area", "enum")],
    ),
]


@pytest.mark.parametrize(
    "name,table,rows,expected", [pytest.param(*c, id=c[0]) for c in RULE_CASES]
)
def test_single_table_rules(name, table, rows, expected):
    assert _rules({table: schema.coerce(table, rows)}) == expected


CROSS_CASES = [
    (
        "wife-is-male",
        "couples",
        [{"couple_id": "C2", "wife_id": "P3", "husband_id": "P2", "marriage_date": "2020-01-01"}],
        [("couples", 2, "wife_id", "wife_sex")],
    ),
    (
        "husband-is-female",
        "couples",
        [{"couple_id": "C2", "wife_id": "P1", "husband_id": "P1", "marriage_date": "2020-01-01"}],
        [("couples", 2, "husband_id", "husband_sex")],
    ),
    (
        "attendance-of-a-man",
        "check_attendance",
        [{"round_id": "R1", "person_id": "P2", "attended_date": "2024-03-02"}],
        [("check_attendance", 2, "person_id", "attendance_woman")],
    ),
    (
        "attendance-of-a-woman-ok",
        "check_attendance",
        [{"round_id": "R1", "person_id": "P1", "attended_date": "2024-03-02"}],
        [],
    ),
    (
        "certificate-child-of-other-couple",
        "certificates",
        [
            {
                "cert_id": "Z",
                "couple_id": "C1",
                "child_id": "K2",
                "issue_date": "2018-02-01",
                "payee_id": "P1",
            }
        ],
        [("certificates", 2, "child_id", "certificate_child_couple")],
    ),
    (
        "certificate-payee-not-a-spouse",
        "certificates",
        [
            {
                "cert_id": "Z",
                "couple_id": "C1",
                "child_id": "K1",
                "issue_date": "2017-09-01",
                "payee_id": "P3",
            }
        ],
        [("certificates", 2, "payee_id", "payee_spouse")],
    ),
    (
        "certificate-on-birth-day-ok",
        "certificates",
        [
            {
                "cert_id": "Z",
                "couple_id": "C1",
                "child_id": "K1",
                "issue_date": "2017-08-08",
                "payee_id": "P2",
            }
        ],
        [],
    ),
    (
        "certificate-day-before-birth",
        "certificates",
        [
            {
                "cert_id": "Z",
                "couple_id": "C1",
                "child_id": "K1",
                "issue_date": "2017-08-07",
                "payee_id": "P2",
            }
        ],
        [("certificates", 2, "issue_date", "certificate_before_birth")],
    ),
    (
        "contraception-by-a-stranger",
        "contraception",
        [
            {
                "record_id": "N",
                "couple_id": "C1",
                "person_id": "P3",
                "method": "male_sterilization",
                "start_date": "2020-01-01",
            }
        ],
        [("contraception", 2, "person_id", "contraception_spouse")],
    ),
    (
        "pregnancy-names-other-couples-child",
        "pregnancies",
        [
            {
                "pregnancy_id": "G",
                "couple_id": "C1",
                "detected_date": "2017-07-01",
                "outcome": "birth",
                "outcome_date": "2018-01-01",
                "child_id": "K2",
            }
        ],
        [("pregnancies", 2, "child_id", "pregnancy_child_couple")],
    ),
]


@pytest.mark.parametrize(
    "name,table,rows,expected", [pytest.param(*c, id=c[0]) for c in CROSS_CASES]
)
def test_cross_table_rules(name, table, rows, expected):
    tables = _base()
    tables[table] = schema.coerce(table, rows)
    # K2 refers to a couple C9 that does not exist: a reference error filtered out by _rules
    assert _rules(tables) == expected


def test_reference_errors_on_hand_made_frames():
    report = validate_dataset(Dataset(_base()))
    assert [(p.table, p.row, p.column, p.rule) for p in report.errors] == [
        ("children", 3, "couple_id", "reference")
    ]
    # persons.unit_id -> units, which is absent: a note, not an error
    assert ("persons", "unit_id") in {(p.table, p.column) for p in report.notes}


HOUSEHOLD_CASES = [
    ("size-2-members-2", 2, ["head", "child"], []),
    ("size-3-members-2", 3, ["head", "child"], [("households", 2, "size", "household_size")]),
    ("size-1-no-members", 1, [], [("households", 2, "size", "household_size")]),
]


@pytest.mark.parametrize(
    "name,size,relations,expected", [pytest.param(*c, id=c[0]) for c in HOUSEHOLD_CASES]
)
def test_household_size_equals_members(name, size, relations, expected):
    h = schema.coerce(
        "households",
        [
            {
                "household_id": "H1",
                "head_name": "a",
                "area": "urban",
                "size": size,
                "monthly_income": 100.0,
                "application_date": "2024-01-01",
            }
        ],
    )
    m = schema.coerce(
        "household_members",
        [
            {"member_id": f"M{i}", "household_id": "H1", "relation": r, "sex": "F"}
            for i, r in enumerate(relations)
        ],
    )
    assert _rules({"households": h, "household_members": m}) == expected


@pytest.mark.parametrize(
    ("sizes", "listed", "expected_rows"),
    [
        # every household listed, in order: the members' runs are the households
        pytest.param(
            {"H1": 2, "H2": 1, "H3": 3},
            ["H1", "H1", "H2", "H3", "H3", "H3"],
            [],
            id="all-listed-in-order",
        ),
        pytest.param(
            {"H1": 2, "H2": 2, "H3": 3},
            ["H1", "H1", "H2", "H3", "H3", "H3"],
            [3],
            id="in-order-one-short",
        ),
        # H2 has no member: the runs are not the households, looked up one by one
        pytest.param({"H1": 2, "H2": 1, "H3": 1}, ["H1", "H1", "H3"], [3], id="one-unlisted"),
        # listed out of order: counted by hashing
        pytest.param({"H1": 2, "H2": 1, "H3": 1}, ["H1", "H3", "H2", "H1"], [], id="out-of-order"),
    ],
)
def test_household_sizes_against_members_listed(sizes, listed, expected_rows):
    h = schema.coerce(
        "households",
        [
            {
                "household_id": k,
                "head_name": "a",
                "area": "urban",
                "size": n,
                "monthly_income": 100.0,
                "application_date": "2024-01-01",
            }
            for k, n in sizes.items()
        ],
    )
    m = schema.coerce(
        "household_members",
        [
            {
                "member_id": f"M{i}",
                "household_id": k,
                "relation": "head" if i == 0 else "child",
                "sex": "F",
            }
            for i, k in enumerate(listed)
        ],
    )
    want = [("households", r, "size", "household_size") for r in expected_rows]
    assert _rules({"households": h, "household_members": m}) == want


def test_head_id_number_against_head_member():
    # 420106 1960-02-02 seq 005 (odd: a man), check character computed by hand:
    # see make_fixtures.rid
    from fixtures.bad.make_fixtures import rid

    num = rid("420106", "1960-02-02", 5)
    h = schema.coerce(
        "households",
        [
            {
                "household_id": "H1",
                "head_name": "a",
                "head_id_number": num,
                "area": "urban",
                "size": 1,
                "monthly_income": 100.0,
                "application_date": "2024-01-01",
            }
        ],
    )
    ok = schema.coerce(
        "household_members",
        [
            {
                "member_id": "M1",
                "household_id": "H1",
                "relation": "head",
                "sex": "M",
                "birth_date": "1960-02-02",
            }
        ],
    )
    assert _rules({"households": h, "household_members": ok}) == []
    wrong = schema.coerce(
        "household_members",
        [
            {
                "member_id": "M1",
                "household_id": "H1",
                "relation": "head",
                "sex": "F",
                "birth_date": "1960-02-03",
            }
        ],
    )
    assert _rules({"households": h, "household_members": wrong}) == [
        ("households", 2, "head_id_number", "id_birth_date_mismatch"),
        ("households", 2, "head_id_number", "id_sex_mismatch"),
    ]


# --------------------------------------------------------------------------- rejects and accounting


def _multi_fault(tmp_path) -> Path:
    """all_valid with three faults: a bad date (persons row 3, P2), a child of an unknown couple
    (children row 3, K2 -> C9), a duplicated unit (units rows 3 and 4, U2)."""
    d = tmp_path / "multi"
    shutil.copytree(BAD / "all_valid", d)
    p = d / "persons.csv"
    p.write_text(
        p.read_text(encoding="utf-8").replace("1988-03-01", "1988-02-30"), encoding="utf-8"
    )
    c = d / "children.csv"
    c.write_text(c.read_text(encoding="utf-8") + "K2,C9,2019-01-01,M\n", encoding="utf-8")
    u = d / "units.csv"
    u.write_text(u.read_text(encoding="utf-8") + "U2,重复,section,,\n", encoding="utf-8")
    return d


def test_rejects_account_for_every_row(tmp_path):
    ds = io.load_dataset(_multi_fault(tmp_path))
    report = validate_dataset(ds)
    assert report.rejected == {"units": [3, 4], "persons": [3], "children": [3]}
    written = write_rejects(report, ds, tmp_path / "rej", lang="zh")
    assert sorted(p.name for p in written.values()) == ["children.csv", "persons.csv", "units.csv"]
    for t, raw in ds.raw.items():
        n_rejected = (
            len(pd.read_csv(written[t], dtype=str, keep_default_na=False)) if t in written else 0
        )
        n_valid = len(report.valid_frames(ds)[t])
        assert n_valid + n_rejected == len(raw), t
    rej = pd.read_csv(written["persons"], dtype=str, keep_default_na=False, encoding="utf-8-sig")
    # row number, every original column as typed (unmasked), both reasons
    assert list(rej.columns) == ["行号", *ds.raw["persons"].columns, "问题", "问题（英文）"]
    assert (
        rej.loc[0, "行号"] == "3"
        and rej.loc[0, "birth_date"] == "1988-02-30"
        and rej.loc[0, "name"] == "刘二"
    )
    assert "不是有效日期" in rej.loc[0, "问题"] and "(date)" in rej.loc[0, "问题（英文）"]
    assert written["persons"].read_bytes().startswith(b"\xef\xbb\xbf")


def test_rejects_of_a_table_level_error_list_every_row(tmp_path):
    ds = io.load_dataset(BAD / "missing_column")
    report = validate_dataset(ds)
    written = write_rejects(report, ds, tmp_path, lang="en")
    rej = pd.read_csv(written["persons"], dtype=str, keep_default_na=False)
    assert rej["row"].tolist() == ["2", "3", "4", "5"]
    assert rej["reasons_en"].str.contains("missing_column").all()


# --------------------------------------------------------------------------- load_for_analysis


def test_load_for_analysis_refuses_with_listed_problems(tmp_path):
    with pytest.raises(DataError) as e:
        io.load_for_analysis(_multi_fault(tmp_path), ["units", "persons", "couples", "children"])
    msg = e.value.message_en
    assert "4 errors" in msg and "fpanalysis validate" in msg and "--skip-invalid" in msg
    assert "row 3" in msg and "1988-02-30" in msg
    assert "fpanalysis validate" in e.value.message_zh


def test_load_for_analysis_skip_invalid_drops_rows_and_what_refers_to_them(tmp_path):
    ds = io.load_for_analysis(
        _multi_fault(tmp_path),
        ["units", "persons", "couples", "children", "certificates"],
        skip_invalid=True,
    )
    # units: U2 twice, both rejected -> P3, P4 (unit U2) go -> C2 (P3, P4) goes;
    # persons row 3 is P2 (bad date) -> C1 (husband P2) goes -> child K1 and certificate Z1 (C1) go;
    # children row 3 (K2 -> C9) rejected.
    assert ds.skipped == {"units": 2, "persons": 3, "couples": 2, "children": 2, "certificates": 1}
    assert ds["persons"]["person_id"].tolist() == ["P1"]
    assert len(ds["couples"]) == 0
    assert any("行因引用了被剔除的行" in m for m in ds.messages)


def test_load_for_analysis_valid_data_passes_through():
    ds = io.load_for_analysis(BAD / "all_valid", ["persons", "couples"])
    assert list(ds) == ["persons", "couples"] and ds.skipped == {}
    assert len(ds["persons"]) == 4


def test_load_for_analysis_missing_table():
    with pytest.raises(DataError) as e:
        io.load_for_analysis(BAD / "bom", ["units", "households"])
    assert (
        e.value.rule == "missing_table"
        and "households" in e.value.message_en
        and "低保户" in e.value.message_zh
    )


@pytest.mark.parametrize(
    ("table", "line", "needed", "command"),
    [
        pytest.param(
            "children",
            "K2,C2,2100-01-01,M",
            ["units", "persons", "couples", "children"],
            ["compliance", "--period", "2024"],
            # a birth on 2100-01-01 is after the 2024 period: C6 counts nothing for it
            id="child-born-2100-01-01-loads-and-compliance-2024-runs",
        ),
        pytest.param(
            "persons",
            "P5,周五,,M,2100-01-01,,outside,,",
            ["units", "persons", "couples", "children", "certificates"],
            ["bonus", "--start", "2025-01", "--months", "2", "--draws", "10"],
            # P5 is in no couple and holds no certificate: the budget has nothing for him
            id="person-born-2100-01-01-loads-and-bonus-runs",
        ),
    ],
)
def test_load_for_analysis_never_asks_the_clock(tmp_path, table, line, needed, command):
    # rulebook G7: a date after the day of the run is validate's question (--as-of, default today),
    # never an analysis's; 2100-01-01 is after any day these tests run on
    d = tmp_path / "future"
    shutil.copytree(BAD / "all_valid", d)
    f = d / f"{table}.csv"
    f.write_text(f.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")
    ds = io.load_for_analysis(d, needed)
    assert ds.skipped == {} and ds.report.errors == []
    assert "2100-01-01" in ds[table].astype(str).to_numpy().ravel().tolist()
    # the clerk's check still refuses the birth before its day, and accepts it on the day
    found = validate_dataset(io.load_dataset(d), as_of="2099-12-31")
    assert [(p.table, p.rule) for p in found.errors] == [(table, "date_in_future")]
    assert validate_dataset(io.load_dataset(d), as_of="2100-01-01").ok
    assert main([command[0], str(d), *command[1:], "--out", str(tmp_path / "out.csv")]) == 0


def test_load_for_analysis_table_error_cannot_be_skipped():
    with pytest.raises(DataError) as e:
        io.load_for_analysis(BAD / "missing_column", ["persons"], skip_invalid=True)
    assert "missing_column" in e.value.message_en and "--skip-invalid" not in e.value.message_en


# --------------------------------------------------------------------------- the command


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_cli_validate_errors_exit_1_writes_rejects_and_never_touches_input(tmp_path, capsys):
    d = _multi_fault(tmp_path)
    before = _hashes(d)
    rc = main(
        [
            "validate",
            str(d),
            "--rejects",
            str(tmp_path / "rej"),
            "--out",
            str(tmp_path / "problems.xlsx"),
            "--lang",
            "en",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 1
    assert _hashes(d) == before
    assert "persons            persons.csv                    4         1" in out
    assert "error: persons.csv row 3 [P2] column birth_date value '1988-02-30'" in out
    assert (tmp_path / "rej" / "persons.csv").exists()
    import openpyxl

    ws = openpyxl.load_workbook(tmp_path / "problems.xlsx").active
    assert ws["A1"].value == "Dataset problems (dataset multi)"  # the title, then the header
    assert [c.value for c in ws[2]] == [
        "severity",
        "table",
        "file",
        "row",
        "key",
        "column",
        "value",
        "rule",
        "message_zh",
        "message_en",
    ]
    assert ws.max_row == 2 + 4 + len(validate_dataset(io.load_dataset(d)).notes)


def test_cli_validate_warnings_only_exit_0_in_chinese(capsys):
    rc = main(["validate", str(BAD / "id_unknown_region")])
    out = capsys.readouterr().out
    assert rc == 0
    assert "警告：persons.csv 第4行 [P3] 列 身份证号 值 '999999199207200042'" in out
    assert "结论：数据可用" in out


def test_cli_validate_unreadable_workbook_no_traceback(tmp_path, capsys):
    p = tmp_path / "book.xlsx"
    p.write_bytes(b"\x00\x01garbage")
    rc = main(["validate", str(p)])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err and "无法打开 Excel 工作簿" in err


def test_cli_validate_out_csv_in_chinese(tmp_path, capsys):
    rc = main(["validate", str(BAD / "bad_enum"), "--out", str(tmp_path / "p.csv")])
    assert rc == 1
    df = pd.read_csv(tmp_path / "p.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    row = df[df["级别"] == "错误"].iloc[0]
    assert (row["表"], row["行号"], row["列"], row["值"], row["规则"]) == (
        "人员",
        "5",
        "性别",
        "X",
        "enum",
    )


# --------------------------------------------------------------------------- the committed sample

needs_sample = pytest.mark.skipif(not sample_available(), reason="data/sample not generated yet")


@needs_sample
def test_sample_validates_with_exit_0(capsys):
    assert main(["validate", str(config.SAMPLE_DIR)]) == 0


@needs_sample
@pytest.mark.skipif(
    not config.SAMPLE_WORKBOOK.exists(), reason="data/sample_workbook.xlsx not generated yet"
)
def test_sample_csv_and_workbook_load_identically():
    a = io.load_dataset(config.SAMPLE_DIR)
    b = io.load_dataset(config.SAMPLE_WORKBOOK)
    assert list(a) == list(b)
    for t in a:
        pd.testing.assert_frame_equal(a[t], b[t], obj=t)
    assert validate_dataset(b).ok


# --------------------------------------------------------------------------- the generator's faults

# synth.FAULTS name -> the rule validate reports for it
FAULT_RULES = {
    "bad_check_char": "id_bad_check_character",
    "sex_id_mismatch": "id_sex_mismatch",
    "birth_id_mismatch": "id_birth_date_mismatch",
    "unknown_unit": "reference",
    "wife_not_female": "wife_sex",
    "cert_before_birth": "certificate_before_birth",
    "end_before_start": "date_order",
    "duplicate_key": "unique",
    "size_mismatch": "household_size",
    "fp_type_contradicted": "fp_type_contradicted",
    "head_id_mismatch": "id_birth_date_mismatch",
    "bad_date": "date",
    "bad_number": "number",
    "bad_enum": "enum",
}


def test_every_generator_fault_is_caught(tmp_path):
    from fpanalysis import synth

    assert set(FAULT_RULES) == set(synth.FAULTS)
    synth.write_dataset(synth.generate(seed=3, people=60, faults=True), tmp_path / "f")
    rep = validate_dataset(io.load_dataset(tmp_path / "f"))
    found = {(p.table, p.rule) for p in rep.errors + rep.warnings}
    missing = {f for f, rule in FAULT_RULES.items() if (synth.FAULTS[f][0], rule) not in found}
    assert missing == set()


FP_CASES = [
    ("only-daughter-declared-one-daughter-ok", "only_daughter", ["F"], False, []),
    (
        "only-daughter-declared-but-a-son",
        "only_daughter",
        ["M"],
        False,
        [("households", 2, "declared_fp_type", "fp_type_contradicted")],
    ),
    ("infertile-declared-no-children-recorded-ok", "infertile", [], True, []),
    (
        "infertile-declared-with-a-child",
        "infertile",
        ["F"],
        True,
        [("households", 2, "declared_fp_type", "fp_type_contradicted")],
    ),
]


@pytest.mark.parametrize(
    "name,declared,children,infertile,expected", [pytest.param(*c, id=c[0]) for c in FP_CASES]
)
def test_declared_fp_type_against_members(name, declared, children, infertile, expected):
    size = 1 + len(children)
    h = schema.coerce(
        "households",
        [
            {
                "household_id": "H1",
                "head_name": "a",
                "area": "rural",
                "size": size,
                "monthly_income": 100.0,
                "application_date": "2024-01-01",
                "declared_fp_type": declared,
                "infertile": infertile,
            }
        ],
    )
    members = [{"member_id": "M0", "household_id": "H1", "relation": "head", "sex": "M"}]
    members += [
        {"member_id": f"M{i + 1}", "household_id": "H1", "relation": "child", "sex": s}
        for i, s in enumerate(children)
    ]
    problems = validate_dataset(
        Dataset({"households": h, "household_members": schema.coerce("household_members", members)})
    )
    # A contradiction is reported, naming the household, but as a warning: relief uses the
    # type the members establish, so the row is not rejected.
    assert problems.errors == []
    assert [(p.table, p.row, p.column, p.rule) for p in problems.warnings] == expected
    if expected:
        assert "H1" in problems.warnings[0].message_en and problems.warnings[0].value == declared


def test_declared_fp_types_among_households_that_declare_none():
    """Each household's type is its own members': H2 declares none and has a son, H3 declares
    only-daughter and has a son, H1 declares only-daughter and has a daughter; the members are
    listed out of household order. Only H3 (row 4: the header is row 1) is contradicted."""
    rows = [("H1", "only_daughter"), ("H2", None), ("H3", "only_daughter")]
    h = schema.coerce(
        "households",
        [
            {
                "household_id": hid,
                "head_name": "a",
                "area": "rural",
                "size": 2,
                "monthly_income": 100.0,
                "application_date": "2024-01-01",
                "declared_fp_type": declared,
                "infertile": False,
            }
            for hid, declared in rows
        ],
    )
    members = [
        {"member_id": m, "household_id": hid, "relation": rel, "sex": sex}
        for m, hid, rel, sex in [
            ("M1", "H3", "child", "M"),
            ("M2", "H1", "head", "M"),
            ("M3", "H2", "child", "M"),
            ("M4", "H1", "child", "F"),
            ("M5", "H3", "head", "F"),
            ("M6", "H2", "head", "F"),
        ]
    ]
    problems = validate_dataset(
        Dataset({"households": h, "household_members": schema.coerce("household_members", members)})
    )
    assert problems.errors == []
    got = [(p.table, p.row, p.column, p.rule) for p in problems.warnings]
    assert got == [("households", 4, "declared_fp_type", "fp_type_contradicted")]
    assert "H3" in problems.warnings[0].message_en


def test_load_for_analysis_shows_five_warnings_and_counts_the_rest(tmp_path):
    from fixtures.bad.make_fixtures import rid

    lines = ["person_id,name,id_number,sex,birth_date,category"]
    lines += [
        f"P{i},某,{rid('999999', '1990-01-01', 2 * i)},F,1990-01-01,outside" for i in range(1, 8)
    ]
    (tmp_path / "persons.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ds = io.load_for_analysis(tmp_path, ["persons"], lang="en")
    assert len(ds) == 1 and ds.skipped == {}
    assert len(ds.messages) == 6
    assert all("id_unknown_region" in m for m in ds.messages[:5])
    assert ds.messages[5] == "... and 2 more warnings; run `fpanalysis validate` to see them all"


def test_the_checks_across_tables_reuse_the_references_look_ups(sample_dir, monkeypatch):
    """The references look up their keys on a pool's threads, which store what they found in
    the caller's shared look-ups: the checks across tables after them look nothing up again
    (on 10M people, 5.5 s of a validation when the pool's threads kept their own)."""
    from fpanalysis.io import load_dataset
    from fpanalysis.io.validate import crossfield, findings

    ds = load_dataset(sample_dir)
    calls: list[int] = []
    real = findings._key_positions_together

    def counted(columns, keys):
        calls.append(len(columns))
        return real(columns, keys)

    monkeypatch.setattr(findings, "_key_positions_together", counted)
    with findings.shared_lookups():  # alone: it looks up everything for itself, once
        crossfield.conditional(ds)
    alone = len(calls)
    calls.clear()
    with findings.shared_lookups():
        crossfield.references(ds)
        assert calls
        calls.clear()
        crossfield.conditional(ds)
    assert len(calls) < alone, (len(calls), alone)  # what the references found, not again
