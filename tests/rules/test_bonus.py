"""The only-child parents' reward (rulebook §5): cases by hand, bands, scenarios, liability."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fpanalysis.core.params import load_params
from fpanalysis.core.schema import coerce, empty_frame
from fpanalysis.io.scenarios import load_scenarios
from fpanalysis.rules import bonus

P = load_params()

# ---------------------------------------------------------------------------- a small world


def world(
    *,
    birth="2015-06-10",
    issue="2016-01-05",
    revoked=None,
    payee="W",
    wife=None,
    husband=None,
    extra_couples=(),
    children=True,
):
    """One couple (W, H), their child K1 and certificate G1.

    By default the wife is staff of U1, the husband staff of U2.
    """
    w = {
        "person_id": "W",
        "sex": "F",
        "birth_date": "1988-01-01",
        "unit_id": "U1",
        "category": "staff",
        "hire_date": "2010-01-01",
    }
    h = {
        "person_id": "H",
        "sex": "M",
        "birth_date": "1987-01-01",
        "unit_id": "U2",
        "category": "staff",
        "hire_date": "2010-01-01",
    }
    w.update(wife or {})
    h.update(husband or {})
    persons = [w, h]
    couples = [
        {"couple_id": "C1", "wife_id": "W", "husband_id": "H", "marriage_date": "2012-01-01"}
    ]
    for c in extra_couples:
        persons += c["persons"]
        couples.append(c["couple"])
    return {
        "units": coerce(
            "units",
            [
                {"unit_id": "U1", "name": "办公室"},
                {"unit_id": "U2", "name": "福利院"},
                {"unit_id": "U3", "name": "救助站"},
            ],
        ),
        "persons": coerce("persons", persons),
        "couples": coerce("couples", couples),
        "children": coerce(
            "children",
            [{"child_id": "K1", "couple_id": "C1", "birth_date": birth, "sex": "M"}]
            if children
            else [],
        ),
        "certificates": coerce(
            "certificates",
            [
                {
                    "cert_id": "G1",
                    "couple_id": "C1",
                    "child_id": "K1",
                    "issue_date": issue,
                    "payee_id": payee,
                    "revoked_date": revoked,
                }
            ]
            if children
            else [],
        ),
    }


def by_unit(df: pd.DataFrame, col: str = "committed_yuan") -> dict[str, list[str]]:
    """{unit: [amount per month as text]} for units that pay anything."""
    out = {}
    for u, g in df.groupby("unit_id", sort=True):
        vals = [str(v) for v in g.sort_values("month")[col]]
        if any(v != "0.00" for v in vals):
            out[u] = vals
    return out


# ------------------------------------------------------------------------ committed: hand-computed

COMMITTED_CASES = [
    # (world kwargs, overrides, start, months, expected {unit: [yuan per month]})
    pytest.param(
        dict(birth="2020-01-10", issue="2025-03-31"),
        {},
        "2025-01",
        4,
        {"U1": ["0.00", "0.00", "20.00", "20.00"]},
        id="issued-in-March-paid-from-March",
    ),
    pytest.param(
        dict(birth="2012-03-15", issue="2013-01-05"),
        {},
        "2026-02",
        3,
        {"U1": ["20.00", "20.00", "0.00"]},
        id="paid-through-14th-birthday-month",
    ),
    pytest.param(
        dict(birth="2012-02-29", issue="2013-01-05"),
        {},
        "2026-01",
        3,
        {"U1": ["20.00", "20.00", "0.00"]},
        id="29-Feb-birthday-ends-in-February",
    ),
    pytest.param(
        dict(birth="2012-02-29", issue="2013-01-05"),
        {"reward_age_cap": 16},
        "2028-01",
        3,
        {"U1": ["20.00", "20.00", "0.00"]},
        id="29-Feb-birthday-cap-16-ends-February-2028",
    ),
    pytest.param(
        dict(revoked="2025-05-20"),
        {},
        "2025-03",
        4,
        {"U1": ["20.00", "20.00", "0.00", "0.00"]},
        id="revocation-month-not-paid",
    ),
    pytest.param(
        dict(wife={"hire_date": "2025-07-15"}),
        {},
        "2025-05",
        4,
        {"U1": ["0.00", "0.00", "20.00", "20.00"]},
        id="payee-hired-mid-July-paid-from-July",
    ),
    pytest.param(
        dict(wife={"leave_date": "2025-09-10"}),
        {},
        "2025-08",
        3,
        {"U1": ["20.00", "20.00", "0.00"]},
        id="payee-leaving-in-September-paid-through-September",
    ),
    pytest.param(
        dict(),
        {"reward_monthly_yuan": {"2025-07-01": 30}},
        "2025-05",
        4,
        {"U1": ["20.00", "20.00", "30.00", "30.00"]},
        id="rise-to-30-from-July",
    ),
    pytest.param(
        dict(birth="2010-06-01", issue="2011-01-01"),
        {"reward_age_cap": 18},
        "2028-05",
        3,
        {"U1": ["20.00", "20.00", "0.00"]},
        id="age-cap-18-pays-through-18th-birthday",
    ),
    pytest.param(
        dict(birth="2010-06-01", issue="2011-01-01"),
        {},
        "2028-05",
        3,
        {},
        id="age-cap-14-same-child-already-aged-out",
    ),
    pytest.param(
        dict(payee="H"),
        {},
        "2025-01",
        2,
        {"U2": ["20.00", "20.00"]},
        id="husband-payee-paid-by-his-unit",
    ),
    pytest.param(
        dict(),
        {"reward_split": "half"},
        "2025-01",
        2,
        {"U1": ["10.00", "10.00"], "U2": ["10.00", "10.00"]},
        id="half-split-both-staff-ten-each",
    ),
    pytest.param(
        dict(),
        {"reward_split": "half", "reward_monthly_yuan": 25.01},
        "2025-01",
        1,
        {"U1": ["12.51"], "U2": ["12.50"]},
        id="half-split-odd-fen-to-payees-unit",
    ),
    pytest.param(
        dict(payee="H"),
        {"reward_split": "half", "reward_monthly_yuan": 25.01},
        "2025-01",
        1,
        {"U1": ["12.50"], "U2": ["12.51"]},
        id="half-split-husband-payee-gets-odd-fen",
    ),
    pytest.param(
        dict(husband={"category": "outside", "unit_id": None, "hire_date": None}),
        {"reward_split": "half"},
        "2025-01",
        2,
        {"U1": ["20.00", "20.00"]},
        id="half-split-husband-outside-wifes-unit-pays-all",
    ),
    pytest.param(
        dict(husband={"leave_date": "2025-01-20"}),
        {"reward_split": "half"},
        "2025-01",
        2,
        # January both on the payroll: 10 + 10; February only the wife: her unit pays all 20
        {"U1": ["10.00", "20.00"], "U2": ["10.00", "0.00"]},
        id="half-split-husband-leaves-in-January-wife-unit-pays-20-from-February",
    ),
    pytest.param(
        dict(),
        {"reward_split": {"2025-02-01": "half"}},
        "2025-01",
        2,
        {"U1": ["20.00", "10.00"], "U2": ["0.00", "10.00"]},
        id="split-changes-to-half-from-February",
    ),
    pytest.param(
        dict(wife={"category": "floating"}),
        {},
        "2025-01",
        2,
        {},
        id="floating-payee-outside-budget",
    ),
    pytest.param(
        dict(issue="2015-06-10", birth="2015-06-10"),
        {"reward_age_cap": {"2025-01-01": 8}},
        "2024-12",
        2,
        {"U1": ["20.00", "0.00"]},
        id="cap-lowered-to-8-stops-a-9-year-old",
    ),
]


@pytest.mark.parametrize("kw,overrides,start,months,expected", COMMITTED_CASES)
def test_committed_hand_computed(kw, overrides, start, months, expected):
    df = bonus.committed_payments(world(**kw), P.with_overrides(overrides), start, months)
    assert list(df.columns) == ["month", "unit_id", "committed_yuan"]
    assert by_unit(df) == expected


def test_committed_rows_cover_every_unit_and_month():
    df = bonus.committed_payments(world(), P, "2025-11", 3)
    assert df["month"].tolist() == ["2025-11"] * 3 + ["2025-12"] * 3 + ["2026-01"] * 3
    assert df["unit_id"].tolist() == ["U1", "U2", "U3"] * 3
    assert df["committed_yuan"].map(type).eq(Decimal).all()


def test_empty_dataset_gives_empty_tables():
    t = {name: empty_frame(name) for name in bonus.TABLES_NEEDED}
    pr = bonus.project(t, P, "2025-01", months=3, draws=20, seed=1)
    df = pr.table()
    assert list(df.columns) == bonus.OUTPUT_COLUMNS
    assert len(df) == 0
    assert bonus.liability(t, P, "2025-01").empty
    assert bonus.outside_budget(t, P, "2025-01").empty
    total = pr.table(())
    assert total[["committed_yuan", "new_p50_yuan"]].iloc[0].tolist() == [
        Decimal("0.00"),
        Decimal("0.00"),
    ]


def test_outside_budget_shown_apart():
    t = world(wife={"category": "floating"}, birth="2020-01-10", issue="2020-06-01")
    out = bonus.outside_budget(t, P, "2025-01", 12)
    assert out[["cert_id", "category", "unit_id", "months_due"]].values.tolist() == [
        ["G1", "floating", "U1", 12]
    ]
    assert out["outside_yuan"].tolist() == [Decimal("240.00")]
    assert bonus.committed_payments(t, P, "2025-01", 12)["committed_yuan"].sum() == 0


def test_outside_budget_under_half_needs_neither_spouse_on_payroll():
    t = world(wife={"category": "floating"})
    assert bonus.outside_budget(t, P.with_overrides({"reward_split": "half"}), "2025-01").empty


# ----------------------------------------------------------------------- cohorts and re-projection


def test_cohorts_fold_certificates_and_reproject_age_cap():
    # Three certificates of one unit issued before the start, children born in the same month: one
    # cohort per split mode (the half-split cohort is kept for a scenario that switches to half).
    persons = [
        {
            "person_id": f"W{i}",
            "sex": "F",
            "unit_id": "U1",
            "category": "staff",
            "hire_date": "2000-01-01",
        }
        for i in range(3)
    ]
    t = {
        "units": coerce("units", [{"unit_id": "U1", "name": "办公室"}]),
        "persons": coerce("persons", persons),
        "couples": coerce(
            "couples",
            [{"couple_id": f"C{i}", "wife_id": f"W{i}", "husband_id": f"H{i}"} for i in range(3)],
        ),
        "children": coerce(
            "children",
            [
                {"child_id": f"K{i}", "couple_id": f"C{i}", "birth_date": f"2012-03-{10 + i}"}
                for i in range(3)
            ],
        ),
        "certificates": coerce(
            "certificates",
            [
                {
                    "cert_id": f"G{i}",
                    "couple_id": f"C{i}",
                    "child_id": f"K{i}",
                    "issue_date": f"201{3 + i}-01-01",
                    "payee_id": f"W{i}",
                }
                for i in range(3)
            ],
        ),
    }
    model = bonus.BonusModel.build(t, P, "2026-02")
    assert len(model.cohorts) == 2 and model.cohorts.count.tolist() == [3, 3]
    base = model.project(P, months=3, draws=5).table()
    assert base["committed_yuan"].astype(str).tolist() == ["60.00", "60.00", "0.00"]
    cap16 = model.project(P.with_overrides({"reward_age_cap": 16}), months=3, draws=5).table()
    assert cap16["committed_yuan"].astype(str).tolist() == ["60.00", "60.00", "60.00"]


# ---------------------------------------------------------------------------- new certificates


def childless(n, *, unit="U1", husband_unit=None, category="staff", birth="1995-05-05"):
    """``n`` married childless couples; the wife is staff of ``unit``."""
    out = []
    for i in range(n):
        out.append(
            {
                "persons": [
                    {
                        "person_id": f"NW{unit}{i}",
                        "sex": "F",
                        "birth_date": birth,
                        "unit_id": unit,
                        "category": category,
                        "hire_date": "2018-01-01",
                    },
                    {
                        "person_id": f"NH{unit}{i}",
                        "sex": "M",
                        "birth_date": "1994-01-01",
                        "unit_id": husband_unit,
                        "category": "staff" if husband_unit else "outside",
                        "hire_date": "2018-01-01" if husband_unit else None,
                    },
                ],
                "couple": {
                    "couple_id": f"N{unit}{i}",
                    "wife_id": f"NW{unit}{i}",
                    "husband_id": f"NH{unit}{i}",
                    "marriage_date": "2020-01-01",
                },
            }
        )
    return out


CERTAIN = {
    "births_per_couple_year": {
        k: 1.0 for k in ("15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49")
    },
    "uptake": 1.0,
    "lag_months": 2,
}

NEW_CASES = [
    pytest.param(
        dict(extra_couples=childless(3)),
        CERTAIN,
        5,
        {"U1": ["0.00", "0.00", "60.00", "60.00", "60.00"]},
        id="three-certain-births-certificates-after-two-months",
    ),
    pytest.param(
        dict(extra_couples=childless(3)),
        {**CERTAIN, "uptake": 0.0},
        5,
        {},
        id="no-uptake-no-new-certificates",
    ),
    pytest.param(
        dict(extra_couples=childless(2, unit="U3", husband_unit="U2")),
        {**CERTAIN, "reward_split": "half"},
        4,
        {"U2": ["0.00", "0.00", "20.00", "20.00"], "U3": ["0.00", "0.00", "20.00", "20.00"]},
        id="half-split-new-certificates-shared-by-both-units",
    ),
    pytest.param(
        dict(extra_couples=childless(2, category="floating")),
        CERTAIN,
        4,
        {},
        id="floating-couples-outside-budget",
    ),
    pytest.param(
        dict(extra_couples=childless(2, birth="1970-01-01")),
        CERTAIN,
        4,
        {},
        id="wife-over-49-not-childbearing",
    ),
    pytest.param(
        dict(extra_couples=childless(1)),
        {**CERTAIN, "lag_months": 0, "reward_age_cap": 0},
        3,
        {"U1": ["20.00", "0.00", "0.00"]},
        id="age-cap-0-pays-birth-month-only",
    ),
]


@pytest.mark.parametrize("kw,overrides,months,expected", NEW_CASES)
def test_new_certificates_hand_computed(kw, overrides, months, expected):
    # The world's own couple C1 has a child, so only the extra couples can have new certificates.
    pr = bonus.project(
        world(**kw), P.with_overrides(overrides), "2025-01", months, draws=50, seed=3
    )
    df = pr.table()
    for q in ("p10", "p50", "p90"):
        assert by_unit(df, f"new_{q}_yuan") == expected


def test_couple_with_a_child_has_no_new_certificate():
    t = world(extra_couples=childless(2))
    t["children"] = pd.concat(
        [
            t["children"],
            coerce(
                "children", [{"child_id": "K9", "couple_id": "NU10", "birth_date": "2024-01-01"}]
            ),
        ]
    )
    groups = bonus.new_certificate_groups(t, P, "2025-01-01")
    assert groups["couples"].sum() == 1


def test_draws_are_seeded():
    t = world(extra_couples=childless(40))
    a = bonus.project(t, P, "2025-01", 24, draws=200, seed=7)
    b = bonus.project(t, P, "2025-01", 24, draws=200, seed=7)
    assert np.array_equal(a.new_fen, b.new_fen)
    assert a.table().equals(b.table())


def test_percentile_of_summed_draws_not_sum_of_percentiles():
    # Ten draws: unit U1 gets 0..9 fen, U2 the mirror image 9..0, so their sum is 9 fen in every
    # draw. P90 of each unit (smallest draw with 90 % at or below) is 8 fen; the bureau's P90 is 9
    # fen, not 16.
    a = np.arange(10)
    new = np.stack([a, 9 - a], axis=1)[:, :, None]  # (draws, units, months)
    pr = bonus.BonusProjection(24300, ("U1", "U2"), np.zeros((2, 1), np.int64), new)
    units = pr.table()
    assert units["new_p90_yuan"].tolist() == [Decimal("0.08"), Decimal("0.08")]
    bureau = pr.table(("month",))
    assert bureau["new_p90_yuan"].tolist() == [Decimal("0.09")]
    assert bureau["new_p10_yuan"].tolist() == [Decimal("0.09")]


def test_yearly_percentile_sums_months_within_each_draw():
    # Two draws over two months of one year: (10, 0) and (0, 10) fen. Each month's P90 is 10 fen,
    # but every draw's year total is 10 fen, so the year's P90 is 10 fen, not 20.
    new = np.array([[[10, 0]], [[0, 10]]])
    pr = bonus.BonusProjection(24300, ("U1",), np.array([[100, 200]]), new)
    year = pr.table(("year", "unit_id"))
    assert year[["year", "unit_id", "committed_yuan", "new_p90_yuan"]].values.tolist() == [
        [2025, "U1", Decimal("3.00"), Decimal("0.10")]
    ]


# ---------------------------------------------------------------------------- scenarios


def test_scenarios_side_by_side(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(
        "scenarios:\n  rise:\n    reward_monthly_yuan: {2025-02-01: 30}\n  cap18:\n"
        "    reward_age_cap: 18\n",
        encoding="utf-8",
    )
    g = tmp_path / "uptake_low.yaml"
    g.write_text("uptake: 0.5\n", encoding="utf-8")
    sc = load_scenarios([f, g])
    assert list(sc) == ["rise", "cap18", "uptake_low"]
    t = world()
    model = bonus.BonusModel.build(t, P, "2025-01")
    df = bonus.compare_scenarios(
        model, bonus.scenario_params(P, sc), months=2, draws=10, by=("month",)
    )
    got = {(r.scenario, r.month): str(r.committed_yuan) for r in df.itertuples()}
    assert got == {
        ("baseline", "2025-01"): "20.00",
        ("baseline", "2025-02"): "20.00",
        ("rise", "2025-01"): "20.00",
        ("rise", "2025-02"): "30.00",
        ("cap18", "2025-01"): "20.00",
        ("cap18", "2025-02"): "20.00",
        ("uptake_low", "2025-01"): "20.00",
        ("uptake_low", "2025-02"): "20.00",
    }


def test_bad_scenario_is_a_param_error(tmp_path):
    from fpanalysis.core.errors import ParamError

    f = tmp_path / "bad.yaml"
    f.write_text("scenarios:\n  x:\n    reward_monthy_yuan: 30\n", encoding="utf-8")
    with pytest.raises(ParamError):
        bonus.scenario_params(P, load_scenarios([f]))


# ---------------------------------------------------------------------------- liability

LIABILITY_CASES = [
    pytest.param(
        dict(birth="2012-03-15", issue="2013-01-05"),
        {},
        "2026-01",
        ("U1", 1, "60.00", "59.85"),
        id="three-months-left-at-3-percent",
    ),
    pytest.param(
        dict(birth="2012-03-15", issue="2013-01-05", wife={"leave_date": "2026-02-10"}),
        {},
        "2026-01",
        ("U1", 1, "40.00", "39.95"),
        id="payee-leaving-2026-02-paid-jan-and-feb-only",
    ),  # the leave date counts: 20 + 20/1.03^(1/12) = 20 + 19.9508 = 39.95
    pytest.param(
        dict(birth="2012-03-15", issue="2013-01-05", wife={"leave_date": "2025-12-10"}),
        {},
        "2026-01",
        ("U1", 0, "0.00", "0.00"),
        id="payee-left-before-start-owes-nothing",
    ),
    pytest.param(
        dict(birth="2012-03-15", issue="2013-01-05"),
        {"discount_rate": 0},
        "2026-01",
        ("U1", 1, "60.00", "60.00"),
        id="zero-rate-equals-undiscounted",
    ),
    pytest.param(
        dict(birth="2012-03-15", issue="2013-01-05"),
        {"reward_monthly_yuan": {"2026-03-01": 50}},
        "2026-01",
        ("U1", 1, "90.00", "89.71"),
        id="dated-rise-counts-in-liability",
    ),  # 20 + 19.9508 + 50/1.03^(2/12) = 20 + 19.9508 + 49.7543
]


@pytest.mark.parametrize("kw,overrides,start,expected", LIABILITY_CASES)
def test_liability_hand_computed(kw, overrides, start, expected):
    # 20 + 20/1.03^(1/12) + 20/1.03^(2/12) = 20 + 19.9508 + 19.9017 = 59.85 (rounded once)
    df = bonus.liability(world(**kw), P.with_overrides(overrides), start)
    row = df[df["unit_id"] == "U1"].iloc[0]
    assert (
        row["unit_id"],
        int(row["certificates"]),
        str(row["liability_yuan"]),
        str(row["liability_discounted_yuan"]),
    ) == expected
    assert list(df.columns) == bonus.LIABILITY_COLUMNS


# ------------------------------------------------------------------ the age cap of each month

#: A child born 2025-07-10 (certificate issued 2025-08-01) under a cap of 1 year is paid through
#: 2026-07. The cap falls to 0 from 2026-03-15 and is 1 again from 2026-05-01: each month takes the
#: cap in force on its first day, so March (cap 1 on 03-01) is paid, April (0 on 04-01) is not, May
#: to July are, August (past the 1st birthday month) is not. Horizon 2026-01 .. 2026-08.
CAP_BY_FIRST_DAY = {"reward_age_cap": {"1900-01-01": 1, "2026-03-15": 0, "2026-05-01": 1}}
PAID_BY_FIRST_DAY = [2000, 2000, 2000, 0, 2000, 2000, 2000, 0]  # fen, 2026-01 .. 2026-08


def _cap_committed(params):
    t = world(birth="2025-07-10", issue="2025-08-01")
    df = bonus.committed_payments(t, params, "2026-01", 8)
    return [int(v * 100) for v in df[df["unit_id"] == "U1"]["committed_yuan"]]


def _cap_new(params):
    # one certificate issued in the horizon's first month, for a child born 6 months before it
    # (lag_months = 6): born 2025-07, as above
    mp = bonus.MonthlyParams.of(params, bonus.parse_month("2026-01"), 8)
    groups = pd.DataFrame(
        {"payee_unit_id": ["U1"], "other_unit_id": [None], "rate": [0.5], "couples": [1]}
    )
    issued = np.zeros((1, 1, 8), np.int64)
    issued[0, 0, 0] = 1
    return bonus.project_new(groups, issued, mp, 6, ["U1"])[0, 0].tolist()


def _cap_liability(params):
    # the months owed from 2026-01, undiscounted: 2026-01, 02, 03, 05, 06, 07 = 6 x 20 = 120 yuan
    t = world(birth="2025-07-10", issue="2025-08-01")
    df = bonus.liability(t, params.with_overrides({"discount_rate": 0}), "2026-01")
    fen = int(df.set_index("unit_id").loc["U1", "liability_yuan"] * 100)
    return [fen]


@pytest.mark.parametrize(
    "compute, expected",
    [
        pytest.param(_cap_committed, PAID_BY_FIRST_DAY, id="committed-march-paid-april-not"),
        pytest.param(_cap_new, PAID_BY_FIRST_DAY, id="new-certificate-march-paid-april-not"),
        pytest.param(_cap_liability, [sum(PAID_BY_FIRST_DAY)], id="liability-6-months-120-yuan"),
    ],
)
def test_age_cap_in_force_on_each_months_first_day(compute, expected):
    # rulebook §5.3
    assert compute(P.with_overrides(CAP_BY_FIRST_DAY)) == expected


# ---------------------------------------------------------------------------- defaults and errors


def test_default_start_is_month_after_last_recorded_date():
    t = world(revoked="2025-11-28")
    assert bonus.default_start(t) == "2025-12"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("2025/01", id="slash"),
        pytest.param("Jan 2025", id="words"),
        pytest.param("2025-13", id="month-13"),
    ],
)
def test_bad_month_is_usage_error(value):
    from fpanalysis.core.errors import UsageError

    with pytest.raises(UsageError):
        bonus.parse_month(value)


# ----------------------------------------------------------------- property: vs a simple reference


def _cap_month(birth: dt.date, cap: int) -> tuple[int, int]:
    try:
        d = birth.replace(year=birth.year + cap)
    except ValueError:  # 29 February in a non-leap year falls on 28 February
        d = birth.replace(year=birth.year + cap, day=28)
    return d.year, d.month


def reference_committed(tables, params, start_m, months):
    """A deliberately plain month-by-month loop over certificates, as the rule reads."""
    persons = tables["persons"].set_index("person_id")
    couples = tables["couples"].set_index("couple_id")
    births = tables["children"].set_index("child_id")["birth_date"]
    total = {}

    def ym(ts):
        return None if pd.isna(ts) else (ts.year, ts.month)

    def on_payroll(pid, y, m):
        if pid not in persons.index:
            return False, None
        p = persons.loc[pid]
        if p["category"] != "staff" or pd.isna(p["unit_id"]) or pd.isna(p["hire_date"]):
            return False, None
        if (y, m) < ym(p["hire_date"]):
            return False, p["unit_id"]
        if not pd.isna(p["leave_date"]) and (y, m) > ym(p["leave_date"]):
            return False, p["unit_id"]
        return True, p["unit_id"]

    def is_staff(pid):
        return (
            pid in persons.index
            and persons.loc[pid, "category"] == "staff"
            and not pd.isna(persons.loc[pid, "unit_id"])
            and not pd.isna(persons.loc[pid, "hire_date"])
        )

    for c in tables["certificates"].itertuples():
        birth = births[c.child_id].date()
        for k in range(months):
            mi = start_m + k
            y, m = mi // 12, mi % 12 + 1
            first = dt.date(y, m, 1)
            cap = params.at("reward_age_cap", first)
            amount = bonus.yuan_to_fen(params.at("reward_monthly_yuan", first))
            if (y, m) < ym(c.issue_date) or (y, m) > _cap_month(birth, cap):
                continue
            if not pd.isna(c.revoked_date) and (y, m) >= ym(c.revoked_date):
                continue
            if params.at("reward_split", first) == "payee":
                ok, unit = on_payroll(c.payee_id, y, m)
                if ok:
                    total[(unit, mi)] = total.get((unit, mi), 0) + amount
            else:
                wife, husband = (
                    couples.loc[c.couple_id, "wife_id"],
                    couples.loc[c.couple_id, "husband_id"],
                )
                # judged month by month: who of the two is on the payroll this month
                paying = [s for s in (wife, husband) if is_staff(s) and on_payroll(s, y, m)[0]]
                for s in paying:
                    unit = on_payroll(s, y, m)[1]
                    if len(paying) == 1:
                        part = amount
                    else:
                        major = s == c.payee_id or (c.payee_id not in (wife, husband) and s == wife)
                        part = amount - amount // 2 if major else amount // 2
                    total[(unit, mi)] = total.get((unit, mi), 0) + part
    return total


dates = st.dates(dt.date(2004, 1, 1), dt.date(2027, 12, 31))
opt_dates = st.one_of(st.none(), dates)


@st.composite
def small_datasets(draw):
    n = draw(st.integers(0, 6))
    persons, couples, children, certs = [], [], [], []
    for i in range(n):
        spouses = []
        for who, sex in (("W", "F"), ("H", "M")):
            cat = draw(st.sampled_from(["staff", "staff", "floating", "outside"]))
            hire = draw(opt_dates) if cat == "staff" else None
            spouses.append(
                {
                    "person_id": f"{who}{i}",
                    "sex": sex,
                    "category": cat,
                    "unit_id": draw(st.sampled_from(["U1", "U2"])) if cat != "outside" else None,
                    "hire_date": hire,
                    "leave_date": draw(opt_dates) if hire else None,
                }
            )
        persons += spouses
        couples.append({"couple_id": f"C{i}", "wife_id": f"W{i}", "husband_id": f"H{i}"})
        birth = draw(st.one_of(dates, st.just(dt.date(2008, 2, 29)), st.just(dt.date(2012, 2, 29))))
        children.append({"child_id": f"K{i}", "couple_id": f"C{i}", "birth_date": birth})
        certs.append(
            {
                "cert_id": f"G{i}",
                "couple_id": f"C{i}",
                "child_id": f"K{i}",
                "issue_date": draw(dates),
                "payee_id": draw(st.sampled_from([f"W{i}", f"H{i}"])),
                "revoked_date": draw(opt_dates),
            }
        )
    overrides = {}
    if draw(st.booleans()):
        overrides["reward_monthly_yuan"] = {
            draw(dates).isoformat(): draw(st.sampled_from([25.01, 30, 0.03]))
        }
    if draw(st.booleans()):
        overrides["reward_age_cap"] = {
            draw(dates).isoformat(): draw(st.sampled_from([0, 14, 16, 18]))
        }
    if draw(st.booleans()):
        overrides["reward_split"] = draw(
            st.sampled_from(["half", {draw(dates).isoformat(): "half"}])
        )
    t = {
        "units": coerce("units", [{"unit_id": "U1", "name": "a"}, {"unit_id": "U2", "name": "b"}]),
        "persons": coerce("persons", persons),
        "couples": coerce("couples", couples),
        "children": coerce("children", children),
        "certificates": coerce("certificates", certs),
    }
    start = draw(st.dates(dt.date(2010, 1, 1), dt.date(2026, 12, 1)))
    return t, overrides, start.year * 12 + start.month - 1, draw(st.integers(1, 30))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_datasets())
def test_vectorised_committed_matches_simple_reference(case):
    t, overrides, start_m, months = case
    params = P.with_overrides(overrides)
    got = bonus.committed_payments(t, params, bonus.month_label(start_m), months)
    got_fen = {
        (r.unit_id, bonus.parse_month(r.month)): int(r.committed_yuan * 100)
        for r in got.itertuples()
        if r.committed_yuan
    }
    assert got_fen == reference_committed(t, params, start_m, months)
