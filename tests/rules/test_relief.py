"""Minimum-living relief (低保) ranking, selection and review (rulebook §6): hand-computed cases.

Standards in force by default (policy.yaml): urban 770, rural 600 yuan per
person per month from 2025-01-01 (730 / 560 from 2023-01-01). Every case
below is small enough to check on paper; the arithmetic is in the comments.
"""

from __future__ import annotations

import pandas as pd
import pytest

from fpanalysis.core.errors import UsageError
from fpanalysis.core.params import load_params
from fpanalysis.core.schema import coerce
from fpanalysis.rules import relief

P = load_params()
AS_OF = "2025-06-30"


def hh(
    hid,
    income,
    size=1,
    area="urban",
    *,
    tier=None,
    applied="2025-01-01",
    receiving=False,
    infertile=None,
    declared=None,
    last_review=None,
    groups=None,
    name="王某某",
):
    return {
        "household_id": hid,
        "head_name": name,
        "area": area,
        "township": "城关镇",
        "size": size,
        "monthly_income": income,
        "assessed_tier": tier,
        "special_groups": groups,
        "infertile": infertile,
        "declared_fp_type": declared,
        "application_date": applied,
        "receiving": receiving,
        "last_review_date": last_review,
    }


def mem(hid, *specs):
    """Members from short specs.

    ``"head:M"``, ``"spouse:F:st"`` (sterilised), ``"child:F"``, ``"other:M:dis"`` (disabled).
    """
    out = []
    for i, spec in enumerate(specs, start=1):
        relation, sex, *flags = spec.split(":")
        out.append(
            {
                "member_id": f"{hid}-{i}",
                "household_id": hid,
                "relation": relation,
                "sex": sex,
                "sterilized": "st" in flags,
                "disabled": "dis" in flags,
            }
        )
    return out


def tables(households, members=None):
    if members is None:  # one head per household
        members = [m for h in households for m in mem(h["household_id"], "head:M")]
    return {
        "households": coerce("households", households),
        "household_members": coerce("household_members", members),
    }


def run(households, members=None, params=P, as_of=AS_OF, **kw):
    r = relief.rank_households(tables(households, members), params, as_of, **kw)
    return r, r.table.set_index("household_id")


# --------------------------------------------------------------------------- eligibility and tiers


@pytest.mark.parametrize(
    ("income", "size", "eligible", "tier", "entitlement"),
    [
        # 230.99 / 770 < 0.3; 770 - 230.99 = 539.01 -> 540
        pytest.param(230.99, 1, True, 1, 540, id="below-0.3"),
        # 231 / 770 = 0.3 exactly: not below 0.3
        pytest.param(231.00, 1, True, 2, 539, id="ratio-exactly-0.3"),
        pytest.param(461.99, 1, True, 2, 309, id="below-0.6"),  # below 0.6; 308.01 -> 309
        pytest.param(462.00, 1, True, 3, 308, id="ratio-exactly-0.6"),  # 462 / 770 = 0.6 exactly
        # 0.01 short of the standard: eligible, 1 yuan (rounded up)
        pytest.param(769.99, 1, True, 3, 1, id="one-fen-below-standard"),
        # ratio 1.0: not below the standard
        pytest.param(770.00, 1, False, None, None, id="ratio-exactly-1.0"),
        # per capita 231 = 0.3 x 770; 2310 - 693 = 1617
        pytest.param(693.00, 3, True, 2, 1617, id="size3-ratio-exactly-0.3"),
        # per capita 769.996... (shown cut: 769.99) is below the standard: eligible
        pytest.param(2309.99, 3, True, 3, 1, id="size3-per-capita-just-below-standard"),
        pytest.param(2310.00, 3, False, None, None, id="size3-exactly-standard"),  # exactly 770 x 3
    ],
)
def test_tier_band_edges(income, size, eligible, tier, entitlement):
    _, t = run([hh("H1", income, size)])
    row = t.loc["H1"]
    assert bool(row["eligible"]) is eligible
    assert pd.isna(row["tier"]) if tier is None else row["tier"] == tier
    assert (
        pd.isna(row["entitlement_yuan"])
        if entitlement is None
        else row["entitlement_yuan"] == entitlement
    )
    assert pd.isna(row["rank"]) is (not eligible)


@pytest.mark.parametrize(
    ("income", "size", "shown"),
    [
        # 230999 fen / 3 = 76999.67 fen (769.9967 yuan): cut to 769.99, not rounded to 770.00
        pytest.param(2309.99, 3, 769.99, id="2309.99-by-3-is-769.9967-shown-769.99-not-770.00"),
        # 100001 fen / 3 = 33333.67 fen: cut to 333.33 (rounding would show 333.34)
        pytest.param(1000.01, 3, 333.33, id="1000.01-by-3-is-333.3367-shown-333.33"),
        # 1 fen / 2 = 0.5 fen: cut to 0.00 (rounding half up would show 0.01)
        pytest.param(0.01, 2, 0.00, id="1-fen-by-2-is-half-a-fen-shown-0.00"),
        # 153999 fen / 2 = 76999.5 fen: 769.99, below the standard of 770 as it is
        pytest.param(1539.99, 2, 769.99, id="1539.99-by-2-is-769.995-shown-769.99"),
        # 154000 fen / 2 = 77000 fen exactly: the standard itself, not eligible
        pytest.param(1540.00, 2, 770.00, id="1540.00-by-2-is-exactly-770.00"),
    ],
)
def test_per_capita_cut_to_the_fen(income, size, shown):
    # rulebook §6.7: shown cut to the fen, so a household below the standard never shows it
    _, t = run([hh("H1", income, size)])
    assert t.loc["H1", "per_capita_income_yuan"] == shown
    assert bool(t.loc["H1", "eligible"]) is (shown < 770)


def test_per_capita_shown_to_the_fen_but_compared_exactly():
    # 2309.99 / 3 = 769.99666...: shown cut to 769.99 (below the standard 770, as it is), while
    # eligibility compares the household income with the standard times the size exactly:
    # 2309.99 < 770 x 3 = 2310.00
    _, t = run([hh("H1", 2309.99, 3)])
    assert t.loc["H1", "per_capita_income_yuan"] == 769.99
    assert (
        "家庭月收入 2309.99 元 < 城镇标准 770 元 × 3 人 = 2310.00 元，符合低保条件"
        in t.loc["H1", "reason_zh"]
    )
    assert "2309.99 / 2310.00 = 0.9999, at least 0.6" in t.loc["H1", "reason_en"]


@pytest.mark.parametrize(
    ("assessed", "income", "eligible", "tier", "basis"),
    [
        # ratio 0.78 would give tier 3; the committee said 1
        pytest.param(1, 600.0, True, 1, "assessed", id="assessed-1-over-ratio-3"),
        # ratio 0.13 would give tier 1; the committee said 3
        pytest.param(3, 100.0, True, 3, "assessed", id="assessed-3-over-ratio-1"),
        # assessed, but income above 770: not eligible whatever the tier
        pytest.param(1, 800.0, False, 1, "assessed", id="assessed-but-income-too-high"),
        pytest.param(None, 600.0, True, 3, "ratio", id="no-assessment-ratio"),
    ],
)
def test_assessed_tier_overrides_income(assessed, income, eligible, tier, basis):
    _, t = run([hh("H1", income, tier=assessed)])
    row = t.loc["H1"]
    assert bool(row["eligible"]) is eligible
    assert row["tier"] == tier
    assert row["tier_basis"] == basis
    if not eligible:
        assert pd.isna(row["rank"]) and not row["selected"]
        assert "评定档次 1 不改变资格" in row["reason_zh"]


def test_assessed_tier_ranks_above_a_poorer_household():
    # H1: assessed tier 1 at income 600 (ratio 0.78); H2: income 300 (ratio 0.39, tier 2 by ratio).
    _, t = run([hh("H1", 600.0, tier=1), hh("H2", 300.0)])
    assert t.loc["H1", "rank"] == 1 and t.loc["H2", "rank"] == 2
    assert (
        "民政评议评定" in t.loc["H1", "reason_zh"]
        and "assessed by the committee" in t.loc["H1", "reason_en"]
    )


@pytest.mark.parametrize(
    ("area", "income", "eligible", "standard", "entitlement"),
    [
        pytest.param("urban", 650.0, True, 770, 120, id="urban-770"),
        pytest.param("rural", 650.0, False, 600, None, id="rural-600-not-eligible"),
        # 0.50 rounded up to 1 yuan
        pytest.param("rural", 599.5, True, 600, 1, id="rural-600-eligible"),
    ],
)
def test_urban_and_rural_standards(area, income, eligible, standard, entitlement):
    _, t = run([hh("H1", income, area=area)])
    assert bool(t.loc["H1", "eligible"]) is eligible
    assert t.loc["H1", "standard_yuan"] == standard
    assert (
        pd.isna(t.loc["H1", "entitlement_yuan"])
        if entitlement is None
        else t.loc["H1", "entitlement_yuan"] == entitlement
    )


@pytest.mark.parametrize(
    ("as_of", "eligible", "entitlement"),
    [
        pytest.param("2025-06-30", False, None, id="day-before-rise-770"),
        pytest.param("2025-07-01", True, 20, id="rise-day-800"),
        pytest.param("2024-12-31", False, None, id="previous-year-730"),
    ],
)
def test_standard_changes_mid_year(as_of, eligible, entitlement):
    params = P.with_overrides({"dibao_standard_yuan": {"urban": {"2025-07-01": 800}}})
    # applied in 2024, so that the household is in each round (rulebook §6.6)
    _, t = run([hh("H1", 780.0, applied="2024-06-01")], params=params, as_of=as_of)
    assert bool(t.loc["H1", "eligible"]) is eligible
    assert (
        pd.isna(t.loc["H1", "entitlement_yuan"])
        if entitlement is None
        else t.loc["H1", "entitlement_yuan"] == entitlement
    )


@pytest.mark.parametrize(
    ("standard", "size", "income", "entitlement"),
    [
        # 2310 - 1000 = 1310 exactly: nothing to round
        pytest.param(770, 3, 1000.00, 1310, id="whole"),
        pytest.param(770, 3, 1000.01, 1310, id="99-fen-up"),  # 1309.99 -> 1310
        pytest.param(770, 3, 999.99, 1311, id="1-fen-up"),  # 1310.01 -> 1311 (up, not to nearest)
        pytest.param(770.5, 3, 0.0, 2312, id="half-yuan-standard-up"),  # 2311.50 -> 2312
        pytest.param(770.5, 2, 0.0, 1541, id="half-yuan-standard-even"),  # 1541.00
        # float 0.30000000000000004 read as 0.30 yuan; 769.70 -> 770
        pytest.param(770, 1, 0.1 + 0.2, 770, id="float-noise"),
    ],
)
def test_entitlement_rounded_up_to_whole_yuan(standard, size, income, entitlement):
    params = P.with_overrides({"dibao_standard_yuan": {"urban": standard}})
    _, t = run([hh("H1", income, size)], params=params)
    assert t.loc["H1", "entitlement_yuan"] == entitlement


# --------------------------------------------------------------------------- FP priority types


@pytest.mark.parametrize(
    ("specs", "infertile", "fp_type"),
    [
        pytest.param(["head:M", "spouse:F", "child:F"], None, "only_daughter", id="only-daughter"),
        # a widow and her (married-out) daughter
        pytest.param(["head:F", "child:F"], None, "only_daughter", id="only-daughter-widow"),
        # near miss: a son and a daughter
        pytest.param(
            ["head:M", "spouse:F", "child:M", "child:F"], None, None, id="son-and-daughter"
        ),
        pytest.param(["head:M", "spouse:F", "child:M"], None, None, id="only-son"),
        pytest.param(
            ["head:M:st", "spouse:F", "child:F", "child:F"],
            None,
            "two_daughters_sterilized",
            id="two-daughters-head-sterilised",
        ),
        pytest.param(
            ["head:M", "spouse:F:st", "child:F", "child:F"],
            None,
            "two_daughters_sterilized",
            id="two-daughters-spouse-sterilised",
        ),
        # near miss: nobody sterilised
        pytest.param(
            ["head:M", "spouse:F", "child:F", "child:F"],
            None,
            None,
            id="two-daughters-nobody-sterilised",
        ),
        # a grandmother is not a spouse
        pytest.param(
            ["head:M", "spouse:F", "child:F", "child:F", "other:F:st"],
            None,
            None,
            id="two-daughters-other-sterilised",
        ),
        # three daughters
        pytest.param(
            ["head:M:st", "spouse:F", "child:F", "child:F", "child:F"],
            None,
            None,
            id="three-daughters",
        ),
        pytest.param(["head:M", "spouse:F"], True, "infertile", id="infertile"),
        # near miss: childless, infertility not recorded
        pytest.param(["head:M", "spouse:F"], None, None, id="childless-not-recorded"),
        pytest.param(["head:M", "spouse:F"], False, None, id="childless-recorded-no"),
        # a child makes "infertile" moot
        pytest.param(
            ["head:M", "spouse:F", "child:F"], True, "only_daughter", id="child-and-infertile-flag"
        ),
    ],
)
def test_fp_priority_types(specs, infertile, fp_type):
    _, t = run([hh("H1", 100.0, size=len(specs), infertile=infertile)], mem("H1", *specs))
    got = t.loc["H1", "fp_type"]
    assert pd.isna(got) if fp_type is None else got == fp_type


@pytest.mark.parametrize(
    ("declared", "specs", "infertile", "problem"),
    [
        pytest.param(
            "only_daughter",
            ["head:M", "child:M", "child:F"],
            None,
            True,
            id="declared-only-daughter-has-son",
        ),
        pytest.param(
            "two_daughters_sterilized",
            ["head:M", "spouse:F", "child:F", "child:F"],
            None,
            True,
            id="declared-two-daughters-nobody-sterilised",
        ),
        pytest.param(
            "infertile", ["head:M", "spouse:F"], None, True, id="declared-infertile-not-recorded"
        ),
        pytest.param("only_daughter", ["head:M", "child:F"], None, False, id="declared-agrees"),
        # nothing declared: the derived type, no problem
        pytest.param(None, ["head:M", "child:F"], None, False, id="undeclared"),
    ],
)
def test_declared_type_contradicted_is_a_problem_and_derived_is_used(
    declared, specs, infertile, problem
):
    r, t = run(
        [hh("H1", 100.0, size=len(specs), declared=declared, infertile=infertile)],
        mem("H1", *specs),
    )
    assert (len(r.problems) == 1) is problem
    if problem:
        p = r.problems.iloc[0]
        assert (p["household_id"], p["row"], p["column"], p["rule"]) == (
            "H1",
            2,
            "declared_fp_type",
            "fp_type_contradicted",
        )
        assert "H1" in p["message_zh"] and "H1" in p["message_en"]
        assert pd.isna(t.loc["H1", "fp_type"])  # the members decide
    else:
        assert t.loc["H1", "fp_type"] == "only_daughter"


def test_declared_type_the_members_contradict_warns_and_the_derived_type_ranks():
    # rulebook §6.4. Both tier 2 (300 / 770 = 0.39, 350 / 770 = 0.45). H1 declares an
    # only-daughter household but its one child is a son: no FP type, so the true only-daughter
    # household H2 ranks first although richer. Had the declaration been taken, H1 (a priority
    # household with the lower income) would rank first.
    from fpanalysis.core.dataset import Dataset
    from fpanalysis.io.validate import validate_dataset

    hs = [hh("H1", 300.0, 2, declared="only_daughter"), hh("H2", 350.0, 2)]
    ms = mem("H1", "head:M", "child:M") + mem("H2", "head:M", "child:F")
    r, t = run(hs, ms)
    assert (t.loc["H2", "rank"], t.loc["H1", "rank"]) == (1, 2)
    assert pd.isna(t.loc["H1", "fp_type"]) and t.loc["H2", "fp_type"] == "only_daughter"
    assert r.problems["rule"].tolist() == ["fp_type_contradicted"]
    report = validate_dataset(Dataset(tables(hs, ms)))
    assert report.ok  # a warning, not an error: the row is not rejected
    assert [(p.severity, p.table, p.row, p.rule) for p in report.warnings] == [
        ("warning", "households", 2, "fp_type_contradicted")
    ]


# --------------------------------------------------------------------------- ranking and ties


def test_priority_first_within_a_tier_even_when_richer():
    # Both tier 2 (300 and 350 of 770: 0.39 and 0.45); H2 is an only-daughter household.
    hs = [hh("H1", 300.0, 2), hh("H2", 350.0, 2)]
    ms = mem("H1", "head:M", "child:M") + mem("H2", "head:M", "child:F")
    _, t = run(hs, ms)
    assert (t.loc["H2", "rank"], t.loc["H1", "rank"]) == (1, 2)
    assert "由计生优先区分" in t.loc["H1", "reason_zh"]
    assert "separated by FP priority" in t.loc["H1", "reason_en"]


def test_tier_before_priority():
    # H1 tier 1 (per capita 50: 0.06) without priority ranks above
    # H2 tier 2 (per capita 300: 0.39) with priority.
    hs = [hh("H1", 100.0, 2), hh("H2", 600.0, 2)]
    ms = mem("H1", "head:M", "child:M") + mem("H2", "head:M", "child:F")
    _, t = run(hs, ms)
    assert (t.loc["H1", "rank"], t.loc["H2", "rank"]) == (1, 2)


@pytest.mark.parametrize(
    ("rows", "expected", "decided"),
    [
        # Lower per-capita income first: 150 < 160.
        pytest.param(
            [("H1", 320.0, 2, "2025-01-01"), ("H2", 300.0, 2, "2025-02-01")],
            ["H2", "H1"],
            "per_capita_income_yuan",
            id="per-capita",
        ),
        # Equal per capita as exact fractions (1000/3 = 2000/6): the earlier application first.
        pytest.param(
            [("H1", 2000.0, 6, "2025-02-01"), ("H2", 1000.0, 3, "2025-01-15")],
            ["H2", "H1"],
            "application_date",
            id="exact-equal-per-capita-then-date",
        ),
        # Everything equal: household id (text order).
        pytest.param(
            [("H2", 300.0, 2, "2025-01-01"), ("H1", 300.0, 2, "2025-01-01")],
            ["H1", "H2"],
            "household_id",
            id="full-tie-household-id",
        ),
    ],
)
def test_ties_resolved_by_the_declared_order(rows, expected, decided):
    hs = [hh(h, inc, size, applied=d) for h, inc, size, d in rows]
    r, t = run(hs, [m for h, *_ in rows for m in mem(h, "head:M")])
    assert list(t.sort_values("rank").index) == expected
    ranked = relief.rank_pool(relief.assess(tables(hs), P, AS_OF)[0], r.order)
    assert ranked.set_index("household_id").loc[expected[1], "decided_by"] == decided


def test_ranking_order_is_a_parameter():
    # Date before income: H1 (applied earlier, richer) now ranks first.
    params = P.with_overrides(
        {
            "ranking_order": [
                "tier",
                "application_date",
                "fp_priority",
                "per_capita_income_yuan",
                "household_id",
            ]
        }
    )
    hs = [hh("H1", 320.0, 2, applied="2025-01-01"), hh("H2", 300.0, 2, applied="2025-02-01")]
    _, t_default = run(hs)
    _, t_param = run(hs, params=params)
    assert t_default.loc["H2", "rank"] == 1
    assert t_param.loc["H1", "rank"] == 1


def test_same_inputs_same_output():
    hs = [hh(f"H{i}", 50.0 * i, 1 + i % 3, applied=f"2025-0{1 + i % 5}-01") for i in range(1, 9)]
    a, _ = run(hs, quota=3)
    b, _ = run(list(reversed(hs)), quota=3)
    pd.testing.assert_frame_equal(a.table, b.table)


# --------------------------------------------------------------------------- selection

# Four newcomers, urban, one person each: A 100 (ent. 670), B 200 (570), C 300 (470), D 400 (370).
# Ranks: A, B (tier 1: below 231), C, D (tier 2).
FOUR = [("A", 100.0), ("B", 200.0), ("C", 300.0), ("D", 400.0)]


def four(receiving=()):
    return [hh(h, inc, receiving=h in receiving) for h, inc in FOUR]


@pytest.mark.parametrize(
    ("kw", "receiving", "selected", "notes"),
    [
        pytest.param({}, (), "ABCD", 0, id="no-limit"),  # no limit: all who qualify
        pytest.param({"quota": 2}, (), "AB", 0, id="quota-2"),
        pytest.param({"quota": 0}, (), "", 0, id="quota-0"),
        # 670 + 570 = 1240 fits exactly
        pytest.param({"budget_yuan": 1240}, (), "AB", 0, id="budget-exact-fit"),
        # B does not fit; C (470) would, but selection stops at B
        pytest.param({"budget_yuan": 1239}, (), "A", 0, id="budget-stop-at-first-misfit"),
        # A does not fit: nobody, although D (370) would
        pytest.param({"budget_yuan": 669}, (), "", 0, id="budget-first-misfits-nobody"),
        # D continues and takes one place; A gets the other
        pytest.param({"quota": 2}, ("D",), "DA", 0, id="quota-with-incumbent"),
        # continuing households exceed the quota: both stay, nobody new
        pytest.param({"quota": 1}, ("C", "D"), "CD", 1, id="incumbents-exceed-quota"),
        # they use the whole quota: nobody new, and it is said
        pytest.param({"quota": 2}, ("C", "D"), "CD", 1, id="incumbents-fill-quota"),
        # 370 + 670 = 1040
        pytest.param({"budget_yuan": 1040}, ("D",), "DA", 0, id="budget-with-incumbent"),
        # 1039 - 370 = 669 < 670: stop at A
        pytest.param({"budget_yuan": 1039}, ("D",), "D", 0, id="budget-incumbent-then-stop"),
        # D alone (370) exceeds the budget: it stays, nobody new
        pytest.param({"budget_yuan": 300}, ("D",), "D", 1, id="incumbent-exceeds-budget"),
        # both limits: the quota binds
        pytest.param({"quota": 2, "budget_yuan": 5000}, (), "AB", 0, id="quota-and-budget"),
    ],
)
def test_selection(kw, receiving, selected, notes):
    r, t = run(four(receiving), **kw)
    assert set(t.index[t["selected"].astype(bool)]) == set(selected)
    assert len(r.notes) == notes
    for h in receiving:
        assert t.loc[h, "selection"] == "continuing"


def test_stop_rule_is_explained():
    r, t = run(four(), budget_yuan=1239)
    assert t.loc["B", "selection"] == "waiting" and t.loc["C", "selection"] == "waiting"
    assert "预算剩余 569.00 元，不足本户月保障金 570.00 元" in t.loc["B", "reason_zh"]
    assert "selection stopped at B (rank 2)" in t.loc["C", "reason_en"]
    cut = relief.cut_line(r)
    assert list(zip(cut["side"], cut["household_id"], strict=True)) == [
        ("above", "A"),
        ("below", "B"),
    ]
    assert "排在 B 之前，因人均月收入" in cut.loc[0, "separated_by_zh"]
    assert t.loc["A", "cumulative_yuan"] == 670.0


def test_incumbents_exceeding_quota_say_so():
    r, t = run(four(("C", "D")), quota=1)
    assert "nobody new enters" in r.notes[0][1] and "本轮无新纳入" in r.notes[0][0]
    assert "名额 1 户已用完（在保户 2 户，新纳入 0 户）" in t.loc["A", "reason_zh"]
    cut = relief.cut_line(r)
    assert list(cut["household_id"]) == ["D", "A"]
    assert "not re-ranked" in cut.loc[0, "separated_by_en"]


def test_incumbent_no_longer_eligible_leaves_and_frees_its_place():
    hs = four(("D",))
    hs[3] = hh("D", 800.0, receiving=True)  # income now above 770
    _, t = run(hs, quota=2)
    assert t.loc["D", "selection"] == "not_eligible" and not t.loc["D", "selected"]
    assert "应退出" in t.loc["D", "reason_zh"]
    assert set(t.index[t["selected"].astype(bool)]) == {"A", "B"}


def test_previous_round_counts_as_receiving():
    _, t = run(
        four(),
        quota=1,
        previous_round=pd.DataFrame({"household_id": ["D", "A"], "selected": [True, False]}),
    )
    assert t.loc["D", "selection"] == "continuing"
    assert not t.loc["A", "selected"]


@pytest.mark.parametrize(
    ("pool", "kw", "selected"),
    [
        # one fund: R (rural, 50/600) ranks first overall
        pytest.param("all", {"quota": 1}, {"R"}, id="joint"),
        pytest.param("urban", {"quota": 1}, {"U"}, id="urban-only"),
        pytest.param("rural", {"quota": 1}, {"R"}, id="rural-only"),
        pytest.param(
            "separate", {"quota": {"urban": 1, "rural": 1}}, {"U", "R"}, id="separate-quotas"
        ),
        # U needs 670 > 500
        pytest.param(
            "separate", {"budget_yuan": {"urban": 500, "rural": 600}}, {"R"}, id="separate-budgets"
        ),
    ],
)
def test_pools(pool, kw, selected):
    hs = [
        hh("U", 100.0),
        hh("U2", 150.0),
        hh("R", 50.0, area="rural"),
        hh("R2", 60.0, area="rural"),
    ]
    r, t = run(hs, pool=pool, **kw)
    assert set(t.index[t["selected"].astype(bool)]) == selected
    if pool in ("urban", "rural"):
        assert set(t["area"]) == {pool}
    if pool == "separate":
        assert t.loc["U", "rank"] == 1 and t.loc["R", "rank"] == 1  # each pool ranks on its own


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        pytest.param({"quota": -1}, "non-negative", id="negative-quota"),
        pytest.param({"quota": 1.5}, "whole number", id="fractional-quota"),
        pytest.param({"pool": "county"}, "unknown pool", id="unknown-pool"),
        pytest.param({"quota": {"urban": 1}}, "pool='separate'", id="mapping-without-separate"),
        pytest.param(
            {"quota": {"urban": 1}, "pool": "separate"}, "rural pool", id="missing-pool-limit"
        ),
    ],
)
def test_bad_limits_are_usage_errors(kw, message):
    hs = [hh("U", 100.0), hh("R", 50.0, area="rural")]
    with pytest.raises(UsageError) as exc:
        run(hs, **kw)
    assert message in exc.value.message_en


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        pytest.param(
            "2025-06-30",
            {"H1": (1, "admitted")},
            # H2 applied 2025-07-01, after the round's day: not in it, so H1 (applied on the day
            # itself) is first and takes the one place
            id="as-of-2025-06-30-applied-on-the-day-ranked-applied-next-day-not-in-round",
        ),
        pytest.param(
            "2025-07-01",
            {"H1": (2, "waiting"), "H2": (1, "admitted")},
            # both had applied: H2 (50 yuan, tier 1: 50 / 770 < 0.3) ranks before H1 (300 yuan,
            # tier 2: 300 / 770 = 0.39)
            id="as-of-2025-07-01-both-applied-poorer-h2-first",
        ),
    ],
)
def test_round_considers_only_households_applied_by_the_as_of_date(as_of, expected):
    # rulebook §6.6, quota 1 (standard 770 urban on both days)
    hs = [hh("H1", 300.0, applied="2025-06-30"), hh("H2", 50.0, applied="2025-07-01")]
    _, t = run(hs, as_of=as_of, quota=1)
    assert {h: (int(r["rank"]), r["selection"]) for h, r in t.iterrows()} == expected


def test_as_of_defaults_to_last_recorded_date():
    hs = [
        hh("H1", 100.0, applied="2025-03-01", last_review="2025-05-20"),
        hh("H2", 100.0, applied="2025-04-02"),
    ]
    r = relief.rank_households(tables(hs), P)
    assert r.as_of == pd.Timestamp("2025-05-20")


def test_every_household_has_both_reasons():
    r, t = run(four(("D",)) + [hh("X", 900.0)], quota=2)
    assert t["reason_zh"].str.len().gt(20).all() and t["reason_en"].str.len().gt(20).all()
    assert "不符合低保条件" in t.loc["X", "reason_zh"]


# --------------------------------------------------------------------------- dynamic management


def review_case():
    """Previous period (2024-12-31) and this one (2025-06-30).

    H1 receiving, tier 1 both times, disabled, income unchanged  -> continue, 12 months
    H2 receiving, tier 1 (100) before, 2 (300) now, disabled     -> tier_change, 6 months
    H3 not receiving before, eligible now                        -> enter
    H4 receiving before, income 900 now (>= 770)                 -> exit (income)
    H5 receiving before, not listed now                          -> exit (moved or died)
    H6 never eligible                                            -> no transition
    """
    prev = [
        hh("H1", 100.0, receiving=True, last_review="2025-01-01"),
        hh("H2", 100.0, receiving=True, last_review="2025-01-01"),
        hh("H3", 900.0),
        hh("H4", 100.0, receiving=True, last_review="2024-12-31"),
        hh("H5", 100.0, receiving=True),
        hh("H6", 900.0),
    ]
    cur = [
        hh("H1", 100.0, receiving=True, last_review="2025-01-01"),
        hh("H2", 300.0, receiving=True, last_review="2024-12-31"),
        hh("H3", 100.0, applied="2025-05-01"),
        hh("H4", 900.0, receiving=True, last_review="2024-12-31"),
        hh("H6", 900.0),
    ]
    pm = [
        m
        for h in prev
        for m in mem(
            h["household_id"], "head:M:dis" if h["household_id"] in ("H1", "H2") else "head:M"
        )
    ]
    cm = [
        m
        for h in cur
        for m in mem(
            h["household_id"], "head:M:dis" if h["household_id"] in ("H1", "H2") else "head:M"
        )
    ]
    return tables(cur, cm), tables(prev, pm)


@pytest.mark.parametrize(
    ("hid", "transition", "words_en", "months", "next_review", "due"),
    [
        pytest.param(
            "H1",
            "continue",
            "same tier",
            12,
            "2026-01-01",
            False,
            id="continue-disabled-unchanged-12m",
        ),
        # 6 months up on the as-of day
        pytest.param(
            "H2",
            "tier_change",
            "tier 1 -> tier 2",
            6,
            "2025-06-30",
            True,
            id="tier-change-income-changed-6m",
        ),
        # counted from this round
        pytest.param("H3", "enter", "enters", 6, "2025-12-30", False, id="enter"),
        pytest.param(
            "H4", "exit", "at or above the standard of 770", None, None, None, id="exit-income"
        ),
        pytest.param(
            "H5", "exit", "no longer listed (moved or died)", None, None, None, id="exit-not-listed"
        ),
        pytest.param("H6", None, "not selected before or now", None, None, None, id="never"),
    ],
)
def test_review_transitions(hid, transition, words_en, months, next_review, due):
    cur, prev = review_case()
    out, _ = relief.review(cur, P, AS_OF, previous=prev, previous_as_of="2024-12-31")
    row = out.set_index("household_id").loc[hid]
    assert pd.isna(row["transition"]) if transition is None else row["transition"] == transition
    assert words_en in row["reason_en"]
    assert pd.isna(row["review_months"]) if months is None else row["review_months"] == months
    assert (
        pd.isna(row["next_review_date"])
        if next_review is None
        else row["next_review_date"] == pd.Timestamp(next_review)
    )
    assert pd.isna(row["review_due"]) if due is None else bool(row["review_due"]) is due


def test_review_without_previous_data_uses_receiving_and_6_months():
    cur, _ = review_case()
    out, _ = relief.review(cur, P, AS_OF)
    t = out.set_index("household_id")
    # Income change unknown without the previous data: the disabled household H1 gets 6 months,
    # due since 2025-07-01? no: last review 2025-01-01 + 6 months = 2025-07-01 > 2025-06-30,
    # so not yet due.
    assert t.loc["H1", "review_months"] == 6 and not t.loc["H1", "review_due"]
    assert pd.isna(t.loc["H1", "income_changed"])
    assert (
        t.loc["H1", "transition"] == "continue"
        and "previous tier not recorded" in t.loc["H1", "reason_en"]
    )
    assert t.loc["H3", "transition"] == "enter"
    assert t.loc["H4", "transition"] == "exit"
    assert "H5" not in t.index  # nobody knows it was receiving


@pytest.mark.parametrize(
    ("last_review", "next_review", "due"),
    [
        pytest.param("2024-12-31", "2025-06-30", True, id="due-on-the-day"),
        pytest.param("2025-01-01", "2025-07-01", False, id="one-day-early"),
        pytest.param("2024-08-31", "2025-02-28", True, id="month-end-clips"),
    ],
)
def test_review_due_date(last_review, next_review, due):
    cur = tables([hh("H1", 100.0, receiving=True, last_review=last_review)])
    out, _ = relief.review(cur, P, AS_OF)
    assert out.loc[0, "next_review_date"] == pd.Timestamp(next_review)
    assert bool(out.loc[0, "review_due"]) is due


@pytest.mark.parametrize(
    ("last_review", "previous_income", "months", "next_review", "due"),
    [
        # a disabled member, income unchanged (100 then and now): 12 months;
        # 2024-06-30 + 12 months = 2025-06-30, the as-of date itself: due
        pytest.param("2024-06-30", 100.0, 12, "2025-06-30", True, id="12-months-due-on-the-day"),
        # 2024-07-01 + 12 months = 2025-07-01, the day after: not yet due
        pytest.param("2024-07-01", 100.0, 12, "2025-07-01", False, id="12-months-one-day-early"),
        # income changed (150 before, 100 now): 6 months; 2024-12-31 + 6 = 2025-06-30: due
        pytest.param("2024-12-31", 150.0, 6, "2025-06-30", True, id="income-changed-6-months-due"),
        # 2025-01-01 + 6 months = 2025-07-01, the day after the as-of date: not yet due
        pytest.param("2025-01-01", 150.0, 6, "2025-07-01", False, id="income-changed-not-yet"),
    ],
)
def test_review_due_on_or_before_the_as_of_date(
    last_review, previous_income, months, next_review, due
):
    # rulebook §6.13: due when the last review plus review_months falls on or before the as-of
    # date (2025-06-30)
    members = mem("H1", "head:M:dis")
    cur = tables([hh("H1", 100.0, receiving=True, last_review=last_review)], members)
    prev = tables([hh("H1", previous_income, receiving=True, applied="2024-01-01")], members)
    out, _ = relief.review(cur, P, AS_OF, previous=prev, previous_as_of="2024-12-31")
    row = out.set_index("household_id").loc["H1"]
    assert row["review_months"] == months
    assert row["next_review_date"] == pd.Timestamp(next_review)
    assert bool(row["review_due"]) is due


# --------------------------------------------------------------------------- charts and widgets


def test_budget_frame_follows_the_payment_order_and_keeps_the_cut():
    from fpanalysis.charts.relief import budget_chart, budget_frame, pool_chart

    r, _ = run(four(("D",)), budget_yuan=1039)
    f = budget_frame(r)
    # D continues and is paid first (370), then A (670 -> 1040, over 1039: waits), B, C.
    assert f[["household_id", "cumulative_yuan", "selection"]].values.tolist() == [
        ["D", 370, "continuing"],
        ["A", 1040, "waiting"],
        ["B", 1610, "waiting"],
        ["C", 2080, "waiting"],
    ]
    thin = budget_frame(r, max_points=2)
    assert {"D", "A"} <= set(
        thin["household_id"]
    )  # the last selected and the first waiting survive thinning
    spec = budget_chart(r).to_dict()
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    # the continuing block (D) and its label, the line and points, the cut line and its label
    # (A waits: rank 1), the budget line
    assert marks == ["rect", "line", "circle", "text", "rule", "text", "rule"]
    labels = [v for layer in spec["layer"] for v in spec["datasets"].get(layer["data"]["name"], [])]
    assert any("在保户 1 户" in str(v.get("label")) for v in labels)
    assert any("排名第 1 名起候补" in str(v.get("label")) for v in labels)
    assert spec["config"]["font"] == "Noto Sans CJK SC"
    assert pool_chart(r).to_dict()["mark"]["type"] == "bar"


def test_widget_scenario_moves_the_standard_and_the_limit():
    from fpanalysis.widgets.relief import cut_dashboard, scenario, summary

    t = tables(four(("D",)))
    # Urban standard 500 from the as-of date: C (300, 470 -> 200) and D (400 -> 100) still
    # qualify; all four do.
    r = scenario(t, P, AS_OF, mode="quota", quota=2, standards={"urban": 500})
    assert r.table.set_index("household_id").loc["A", "entitlement_yuan"] == 400
    assert set(r.selected["household_id"]) == {"D", "A"}
    assert summary(r).startswith("拟纳入 2 户（继续 1，新纳入 1）")
    # The quota is ignored in "none" mode: all who qualify.
    assert len(scenario(t, P, AS_OF, mode="none", quota=2).selected) == 4
    box = cut_dashboard(t, P, AS_OF, quota=2)
    assert box.children[0].value == "quota"


def test_incumbents_using_the_whole_budget_is_the_reason_given():
    # D continues (370) and alone exceeds 300: A waits because the budget is gone,
    # not for want of 670.
    _, t = run(four(("D",)), budget_yuan=300)
    assert (
        "the continuing households' 370.00 yuan use up the budget of 300 yuan"
        in t.loc["A", "reason_en"]
    )
