"""Who is in scope and which unit answers for a couple (rulebook §2), hand-computed cases."""

from __future__ import annotations

import pandas as pd
import pytest
from test_compliance import person

from fpanalysis.core.params import load_params
from fpanalysis.core.schema import coerce
from fpanalysis.rules.scope import age_on, couples_in_scope, is_staff_on, responsible_units


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        # the day before her 50th birthday: still 49
        pytest.param("1975-06-30", "2025-06-29", 49, id="day-before-50th"),
        pytest.param("1975-06-30", "2025-06-30", 50, id="50th-birthday"),  # the birthday itself: 50
        pytest.param("2010-06-30", "2025-06-30", 15, id="15th-birthday"),
        pytest.param("2010-07-01", "2025-06-30", 14, id="day-before-15th"),
        pytest.param("2000-02-29", "2023-02-27", 22, id="feb29-day-before-28feb"),
        # non-leap year: birthday falls on 28 Feb
        pytest.param("2000-02-29", "2023-02-28", 23, id="feb29-on-28feb-nonleap"),
        # leap year: birthday is 29 Feb
        pytest.param("2000-02-29", "2024-02-28", 23, id="feb29-on-28feb-leap"),
        pytest.param("2000-02-29", "2024-02-29", 24, id="feb29-on-29feb-leap"),
        pytest.param("1990-12-31", "2024-01-01", 33, id="new-year"),
    ],
)
def test_age_on(birth, on, age):
    assert age_on(pd.Series(pd.to_datetime([birth])), on).tolist() == [age]


def test_age_on_per_row_dates_and_missing():
    b = pd.Series(pd.to_datetime(["2000-02-29", None, "1980-01-01"]))
    on = pd.Series(pd.to_datetime(["2001-02-28", "2020-01-01", None]))
    assert age_on(b, on).tolist() == [1, pd.NA, pd.NA]


@pytest.mark.parametrize(
    ("hire", "leave", "on", "staff"),
    [
        pytest.param("2020-03-01", None, "2020-03-01", True, id="hire-day"),  # hired that day
        pytest.param("2020-03-01", None, "2020-02-29", False, id="before-hire"),
        pytest.param("2020-03-01", "2024-06-30", "2024-06-29", True, id="day-before-leaving"),
        # left that day: "leave date after it" fails
        pytest.param("2020-03-01", "2024-06-30", "2024-06-30", False, id="leave-day"),
        pytest.param(None, None, "2024-01-01", False, id="no-hire-date"),  # no hire date: not staff
    ],
)
def test_is_staff_on(hire, leave, on, staff):
    p = coerce("persons", [person("P1", "F", "1990-01-01", "U1", "staff", hire, leave)])
    assert is_staff_on(p, on).tolist() == [staff]


# A small bureau: units U1, U2; couples chosen so each §2 case appears once.
PERSONS = [
    person("W1", "F", "1990-05-01", "U1", "staff", "2010-01-01"),  # C1: both staff, different units
    person("H1", "M", "1988-01-01", "U2", "staff", "2010-01-01"),
    person("W2", "F", "1992-01-01", None, "outside"),  # C2: only husband staff
    person("H2", "M", "1990-01-01", "U2", "staff", "2012-01-01"),
    person("W3", "F", "1991-01-01", "U1", "floating"),  # C3: floating wife, outside husband
    person("H3", "M", "1990-01-01", None, "outside"),
    # C4: floating wife, staff husband: staff first
    person("W4", "F", "1991-01-01", "U1", "floating"),
    person("H4", "M", "1990-01-01", "U2", "staff", "2015-01-01"),
    person("W5", "F", "1990-01-01", None, "outside"),  # C5: nobody in the system
    person("H5", "M", "1990-01-01", None, "outside"),
    person("W6", "F", "1975-06-30", "U1", "staff", "2000-01-01"),  # C6: turns 50 on 2025-06-30
    person("H6", "M", "1970-01-01", None, "outside"),
    person("W7", "F", "1995-01-01", "U2", "staff", "2018-01-01"),  # C7: married mid-2024
    person("H7", "M", "1994-01-01", None, "outside"),
    person("W8", "F", "1990-01-01", "U1", "staff", "2010-01-01", "2024-03-31"),  # C8: wife leaves
    person("H8", "M", "1990-01-01", None, "outside"),
]
COUPLES = [
    {"couple_id": "C1", "wife_id": "W1", "husband_id": "H1", "marriage_date": "2015-01-01"},
    {"couple_id": "C2", "wife_id": "W2", "husband_id": "H2", "marriage_date": "2015-01-01"},
    {"couple_id": "C3", "wife_id": "W3", "husband_id": "H3", "marriage_date": "2015-01-01"},
    {"couple_id": "C4", "wife_id": "W4", "husband_id": "H4", "marriage_date": "2016-01-01"},
    {"couple_id": "C5", "wife_id": "W5", "husband_id": "H5", "marriage_date": "2015-01-01"},
    {"couple_id": "C6", "wife_id": "W6", "husband_id": "H6", "marriage_date": "1998-01-01"},
    {"couple_id": "C7", "wife_id": "W7", "husband_id": "H7", "marriage_date": "2024-07-15"},
    {
        "couple_id": "C8",
        "wife_id": "W8",
        "husband_id": "H8",
        "marriage_date": "2012-01-01",
        "divorce_date": "2024-10-01",
    },
]


@pytest.fixture
def tables():
    return {"persons": coerce("persons", PERSONS), "couples": coerce("couples", COUPLES)}


def scope_on(tables, on, **kw):
    df = couples_in_scope(tables, load_params(kw.pop("override", None)), on, **kw)
    return {r.couple_id: (r.responsible_unit_id, r.basis) for r in df.itertuples()}


def test_responsible_unit_cases(tables):
    got = scope_on(tables, "2024-01-01")
    assert got == {
        "C1": ("U1", "staff"),  # both staff of different units: the wife's
        "C2": ("U2", "staff"),  # only the husband is staff
        "C3": ("U1", "floating"),  # floating wife registered with U1
        "C4": ("U2", "staff"),  # staff husband comes before floating wife
        "C6": ("U1", "staff"),
        "C8": ("U1", "staff"),
        # C5 nobody in the system; C7 not yet married
    }


def test_responsible_spouse_husband(tables):
    got = scope_on(tables, "2024-01-01", override={"responsible_spouse": "husband"})
    assert got["C1"] == ("U2", "staff")


def test_married_mid_year(tables):
    assert "C7" not in scope_on(tables, "2024-07-14")
    assert scope_on(tables, "2024-07-15")["C7"] == ("U2", "staff")


def test_leaving_and_divorce(tables):
    assert "C8" in scope_on(tables, "2024-03-30")
    assert "C8" not in scope_on(tables, "2024-03-31")  # wife left: no staff or floating spouse
    assert "C8" not in scope_on(tables, "2024-10-01")


def test_age_boundary_49_50(tables):
    on_49 = couples_in_scope(tables, load_params(), "2025-06-29", childbearing_only=True)
    on_50 = couples_in_scope(tables, load_params(), "2025-06-30", childbearing_only=True)
    assert "C6" in set(on_49["couple_id"])
    assert "C6" not in set(on_50["couple_id"])
    row = couples_in_scope(tables, load_params(), "2025-06-30").set_index("couple_id").loc["C6"]
    assert row["wife_age"] == 50 and not row["wife_childbearing"]


def test_childbearing_age_override(tables):
    df = couples_in_scope(
        tables, load_params({"childbearing_age": [15, 50]}), "2025-06-30", childbearing_only=True
    )
    assert "C6" in set(df["couple_id"])


def test_responsible_units_per_event_date(tables):
    events = pd.DataFrame(
        {
            "couple_id": ["C8", "C8", "C2", "CX"],
            "date": pd.to_datetime(["2024-03-30", "2024-04-01", "2011-06-01", "2024-01-01"]),
        },
        index=[10, 11, 12, 13],
    )
    out = responsible_units(tables, load_params(), events)
    assert list(out.index) == [10, 11, 12, 13]
    assert out["responsible_unit_id"].tolist()[0] == "U1"
    # after the wife left; before the husband of C2 was hired; an unknown couple
    assert out["responsible_unit_id"].isna().tolist() == [False, True, True, True]
