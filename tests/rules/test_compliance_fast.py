"""Unit compliance's fast paths agree with the readable rules they stand beside (rulebook §3):
every unit scored at once (``score_units``) against :func:`score_unit`, the births' children
joined by sorted runs (``join_sorted``) against a group-by join, and the drill-down's kept
derivations (``Memo``) against the rules called on the plain tables. Small hand-checkable cases,
then random ones."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from conftest import GRADE_THRESHOLDS, SCORE_WEIGHTS

from fpanalysis.core.params import load_params
from fpanalysis.rules.compliance import compliance_detail, score_unit
from fpanalysis.rules.compliance.indicators import RATE_INDICATORS
from fpanalysis.rules.compliance.scoring import score_units
from fpanalysis.rules.frames import Memo, join_sorted, sort_order
from fpanalysis.rules.scope import couples_in_scope, responsible_units

WEIGHTS, THRESHOLDS = SCORE_WEIGHTS, GRADE_THRESHOLDS


def readable_scores(nums, dens, pens, weights, thresholds, veto):
    """:func:`score_unit`, one unit at a time (the rulebook's statement)."""
    names = list(weights)
    out = []
    for i in range(len(pens)):
        rates = {k: (int(nums[i][j]), int(dens[i][j])) for j, k in enumerate(names)}
        score, grade = score_unit(rates, pens[i], weights, thresholds, bool(veto[i]))
        out.append((float(score), grade))
    return out


def fast_scores(nums, dens, pens, weights, thresholds, veto):
    score, grade = score_units(
        np.array(nums, dtype="int64").reshape(len(pens), len(weights)),
        np.array(dens, dtype="int64").reshape(len(pens), len(weights)),
        pens,
        list(weights.values()),
        thresholds,
        np.array(veto, dtype=bool),
    )
    return list(zip(score.tolist(), grade.tolist(), strict=True))


@pytest.mark.parametrize(
    ("nums", "dens", "pen", "veto", "expected"),
    [
        pytest.param([3, 1, 0, 2], [4, 1, 0, 3], 5, False, (77.08, "pass"), id="docstring-case"),
        # 100 × (0.25 × 1/8 + 0.75) = 78.125: a half cent, rounded up
        pytest.param([1, 1, 1, 1], [8, 1, 1, 1], 0, False, (78.13, "pass"), id="half-cent-up"),
        pytest.param([1, 1, 1, 1], [8, 1, 1, 1], 0, True, (78.13, "fail"), id="veto-fails"),
        pytest.param([0, 0, 0, 0], [0, 0, 0, 0], 0, False, (100.0, "excellent"), id="all-empty"),
        pytest.param([0, 0, 0, 0], [5, 5, 5, 5], 3, False, (0.0, "fail"), id="floored-at-zero"),
        pytest.param([9, 9, 9, 9], [10, 10, 10, 10], 0, False, (90.0, "excellent"), id="at-90"),
        # 100 × 0.35 × 1/3 + 65 = 76.666…: rounds to 76.67
        pytest.param([1, 1, 1, 1], [1, 1, 1, 3], 0, False, (76.67, "pass"), id="thirds"),
        pytest.param([1, 1, 1, 1], [1, 1, 1, 1], 0.5, False, (99.5, "excellent"), id="half-point"),
        pytest.param([7, 1, 1, 1], [10, 1, 1, 1], 20.5, False, (72.0, "pass"), id="at-pass-line"),
    ],
)
def test_score_units_hand(nums, dens, pen, veto, expected):
    args = ([nums], [dens], [Fraction(pen).limit_denominator()], WEIGHTS, THRESHOLDS, [veto])
    assert fast_scores(*args) == readable_scores(*args) == [expected]


def test_score_units_second_half_leaves_c1_out():
    weights = {k: WEIGHTS[k] for k in RATE_INDICATORS[1:]}
    # 100 × (0.25 × 1/2 + 0.5) / 0.75 = 83.333…
    args = ([[1, 1, 1]], [[2, 1, 1]], [Fraction(0)], weights, THRESHOLDS, [False])
    assert fast_scores(*args) == readable_scores(*args) == [(83.33, "pass")]


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in range(4)])
def test_score_units_random(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    dens = rng.integers(0, 9, size=(n, 4))
    big = rng.random((n, 4)) < 0.3
    dens[big] = rng.integers(0, 400, size=int(big.sum()))
    nums = np.floor(dens * rng.random((n, 4))).astype("int64")
    full = rng.random((n, 4)) < 0.4
    nums[full] = dens[full]
    steps = [Fraction(0), Fraction(1, 2), Fraction(1), Fraction(2), Fraction(5), Fraction(1, 4)]
    pens = [sum(rng.choice(steps, size=rng.integers(0, 4)), Fraction(0)) for _ in range(n)]
    veto = rng.random(n) < 0.05
    choices = [0.25, 0.2, 0.15, 0.35, 0.3, 0.1, 0.0]
    weights = {k: float(rng.choice(choices)) for k in RATE_INDICATORS}
    thresholds = {"excellent": float(rng.choice([90, 85.5])), "pass": 70}
    args = (nums, dens, pens, weights, thresholds, veto)
    assert fast_scores(*args) == readable_scores(*args)


def readable_join(frame: pd.DataFrame, keys: list[str], column: str) -> list[list]:
    g = frame.groupby(keys, sort=True)[column]
    out = pd.concat([g.first().rename("first"), g.agg(";".join).rename("joined")], axis=1)
    return out.reset_index().values.tolist()


@pytest.mark.parametrize(
    ("rows", "keys"),
    [
        pytest.param([("G1", "K1"), ("G1", "K2"), ("G2", "K3")], ["p"], id="twins-then-a-single"),
        pytest.param([("G1", "K1"), ("G1", "K2"), ("G1", "K3")], ["p"], id="triplets"),
        pytest.param([(None, "K1"), ("G2", "K2")], ["p"], id="missing-key-left-out"),
        pytest.param([], ["p"], id="empty"),
        pytest.param([("C1", "K1"), ("C1", "K2"), ("C2", "K3")], ["p", "d"], id="two-keys-by-day"),
    ],
)
def test_join_sorted_hand(rows, keys):
    f = pd.DataFrame(rows, columns=["p", "k"], dtype="str")
    f["d"] = pd.Timestamp("2024-09-01")
    f = f.sort_values([*keys, "k"], kind="stable")
    assert join_sorted(f, keys, "k").values.tolist() == readable_join(f, keys, "k")


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in range(4)])
def test_join_sorted_random(seed):
    rng = np.random.default_rng(seed)
    n = 2000
    f = pd.DataFrame(
        {
            "p": pd.Series([f"C{i}" for i in rng.integers(0, 300, n)], dtype="str"),
            "d": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 3, n), "D"),
            "k": pd.Series([f"K{i:05d}" for i in range(n)], dtype="str"),
        }
    )
    f.loc[rng.random(n) < 0.02, "p"] = np.nan
    f = f.sort_values(["p", "d", "k"], kind="stable")
    assert join_sorted(f, ["p", "d"], "k").values.tolist() == readable_join(f, ["p", "d"], "k")


def test_memo_gives_the_rules_results(sample_dir):
    from fpanalysis.io import load_for_analysis
    from fpanalysis.rules.compliance import TABLES_NEEDED
    from fpanalysis.rules.compliance.indicators import baseline_rows, check_rows, followup_rows

    ds = load_for_analysis(sample_dir, TABLES_NEEDED)
    plain = {t: ds[t] for t in TABLES_NEEDED}
    params = load_params()
    kept = Memo(plain)
    for on in ["2024-01-01", "2024-07-01", "2024-01-01"]:
        pd.testing.assert_frame_equal(
            couples_in_scope(kept, params, on, childbearing_only=True),
            couples_in_scope(plain, params, on, childbearing_only=True),
        )
    ev = plain["pregnancies"][["couple_id", "detected_date"]]
    pd.testing.assert_frame_equal(
        responsible_units(kept, params, ev, "detected_date"),
        responsible_units(plain, params, ev, "detected_date"),
    )
    from fpanalysis.rules.compliance import parse_period

    detail = compliance_detail(plain, params, "2024")
    period = parse_period("2024")
    for indicator, rows in [
        ("baseline_coverage", baseline_rows(plain, params, period)),
        ("followup_coverage", pd.concat([followup_rows(plain, params, h) for h in period.halves])),
        ("check_attendance", check_rows(plain, params, period)),
    ]:
        mine = detail[detail["indicator"] == indicator]
        assert len(mine) == len(rows)
        assert sorted(mine["couple_id"].astype(str)) == sorted(rows["couple_id"].astype(str))
        assert mine["in_numerator"].sum() == rows["in_numerator"].astype(bool).sum()


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in range(4)])
def test_sort_rows_random(seed):
    from fpanalysis.rules.frames import sort_rows

    rng = np.random.default_rng(seed)
    n = 3000
    f = pd.DataFrame(
        {
            "u": pd.Series([f"U{i}" for i in rng.integers(0, 20, n)], dtype="str"),
            "i": rng.integers(0, 8, n),
            "d": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 5, n), "D"),
            "c": pd.Series([f"C{i}" for i in rng.integers(0, 50, n)], dtype="str"),
        },
        index=rng.permutation(n),
    )
    f.loc[rng.random(n) < 0.1, "u"] = np.nan
    f.loc[rng.random(n) < 0.1, "d"] = pd.NaT
    f.loc[rng.random(n) < 0.1, "c"] = np.nan
    for keys in (["u"], ["u", "i", "c"], ["c", "d", "u", "i"]):
        expected = f.sort_values(keys, kind="stable", na_position="last")
        pd.testing.assert_frame_equal(sort_rows(f, keys), expected)
        assert f.index[sort_order(f, keys)].tolist() == expected.index.tolist()


@pytest.mark.parametrize(
    "period",
    [
        pytest.param("2024", id="year"),
        pytest.param("2024H1", id="first-half"),
        pytest.param("2024H2", id="second-half"),
    ],
)
def test_handed_over_tables_give_the_same_drill_down(sample_dir, period):
    from fpanalysis.io import load_for_analysis
    from fpanalysis.rules.compliance import TABLES_NEEDED

    ds = load_for_analysis(sample_dir, TABLES_NEEDED)
    params = load_params()
    handed = Memo({t: ds[t] for t in TABLES_NEEDED}, handed_over=True)
    pd.testing.assert_frame_equal(
        compliance_detail(handed, params, period), compliance_detail(ds, params, period)
    )
    assert list(handed) == ["units"] and not handed.kept  # let go of all it read
    shared = Memo({t: ds[t] for t in TABLES_NEEDED})  # not handed over: left as it was
    compliance_detail(shared, params, period)
    assert list(shared) == TABLES_NEEDED


def test_what_was_made_of_every_survey_is_let_go_when_a_period_keeps_some(sample_dir):
    """A handed-over Memo keeps only the period's surveys; the surveys' dates and kinds it had
    already made of every survey (other rows, in other positions) are let go, not read."""
    from fpanalysis.io import load_for_analysis
    from fpanalysis.rules.compliance import TABLES_NEEDED
    from fpanalysis.rules.compliance.indicators import _of_kind, _survey_dates

    ds = load_for_analysis(sample_dir, TABLES_NEEDED)
    params = load_params()
    handed = Memo({t: ds[t] for t in TABLES_NEEDED}, handed_over=True)
    _survey_dates(handed), _of_kind(handed, "baseline")  # made of every survey
    assert sum(k[:2] == ("keyed", "surveys") for k in handed.kept if isinstance(k, tuple)) == 2
    pd.testing.assert_frame_equal(
        compliance_detail(handed, params, "2024H2"), compliance_detail(ds, params, "2024H2")
    )


@pytest.mark.parametrize(
    "period",
    [pytest.param("2024", id="year"), pytest.param("2024H2", id="second-half")],
)
def test_drill_down_without_reasons_scores_the_same(sample_dir, period):
    from fpanalysis.io import load_for_analysis
    from fpanalysis.rules.compliance import TABLES_NEEDED, scorecard_from_detail

    ds = load_for_analysis(sample_dir, TABLES_NEEDED)
    params = load_params()
    whole = compliance_detail(ds, params, period)
    bare = compliance_detail(ds, params, period, reasons=False)
    assert bare["reason_zh"].isna().all() and bare["reason_en"].isna().all()
    assert bare["reason_zh"].dtype == whole["reason_zh"].dtype
    reasons = ["reason_zh", "reason_en"]
    pd.testing.assert_frame_equal(bare.drop(columns=reasons), whole.drop(columns=reasons))
    pd.testing.assert_frame_equal(
        scorecard_from_detail(bare, params, period), scorecard_from_detail(whole, params, period)
    )


@pytest.mark.parametrize(
    "period",
    [
        pytest.param("2024", id="year"),
        pytest.param("2024H1", id="first-half"),
        pytest.param("2024H2", id="second-half"),
        pytest.param("2019", id="no-rounds"),
    ],
)
def test_check_rows_without_reasons_are_its_rows_with_reasons_missing(sample_dir, period):
    from fpanalysis.io import load_for_analysis
    from fpanalysis.rules.compliance import TABLES_NEEDED, parse_period
    from fpanalysis.rules.compliance.indicators import check_rows

    ds = load_for_analysis(sample_dir, TABLES_NEEDED)
    params, p = load_params(), parse_period(period)
    whole = check_rows(ds, params, p)
    bare = check_rows(ds, params, p, reasons=False)
    reasons = ["reason_zh", "reason_en"]
    assert bare[reasons].isna().all().all()
    pd.testing.assert_frame_equal(bare.drop(columns=reasons), whole.drop(columns=reasons))


def readable_sort_detail(detail: pd.DataFrame) -> pd.DataFrame:
    """The drill-down's order as the whole frame sorted by pandas (unit, C1..C8, part, ...)."""
    from fpanalysis.rules.compliance import DETAIL_COLUMNS, INDICATORS

    out = detail.assign(_i=detail["indicator"].map({k: i for i, k in enumerate(INDICATORS)}))
    out = out.sort_values(
        ["unit_id", "_i", "part", "couple_id", "event_id", "person_id"],
        kind="stable",
        na_position="last",
    )
    return out.drop(columns="_i").reset_index(drop=True)[DETAIL_COLUMNS]


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in range(3)])
def test_sort_detail_random(sample_dir, seed):
    from fpanalysis.io import load_for_analysis
    from fpanalysis.rules.compliance import TABLES_NEEDED, sort_detail

    detail = compliance_detail(load_for_analysis(sample_dir, TABLES_NEEDED), load_params(), "2024")
    rng = np.random.default_rng(seed)
    shuffled = detail.iloc[rng.permutation(len(detail))]
    shuffled.index = rng.permutation(len(detail)) + 7  # any index
    got = sort_detail(shuffled)
    pd.testing.assert_frame_equal(got, readable_sort_detail(shuffled))
    pd.testing.assert_frame_equal(got, detail)


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in range(3)])
def test_date_text_random(seed):
    from fpanalysis.rules.frames import date_text

    rng = np.random.default_rng(seed)
    n = 2000
    s = pd.Series(
        pd.to_datetime("1960-02-29") + pd.to_timedelta(rng.integers(0, 30000, n), "D"),
        index=rng.permutation(n),
        name="when",
    )
    s[rng.random(n) < 0.2] = pd.NaT
    pd.testing.assert_series_equal(date_text(s), s.dt.strftime("%Y-%m-%d").fillna(""))


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in range(3)])
def test_reasons_by_case_random(seed):
    from fpanalysis.rules.compliance.indicators import reasons_by_case, select_reasons

    rng = np.random.default_rng(seed)
    n = 1000
    ids = pd.Series([f"S{i}" for i in range(n)], dtype="str", index=rng.permutation(n))
    a, b = rng.random(n) < 0.3, rng.random(n) < 0.5
    zh, en = select_reasons(
        [a, b], [("甲" + ids, "a " + ids), ("乙", "b")], ("无" + ids + "）", "none " + ids)
    )
    fast = reasons_by_case(
        [a, b],
        [lambda r: ("甲" + ids[r], "a " + ids[r]), lambda r: ("乙", "b")],
        lambda r: ("无" + ids[r] + "）", "none " + ids[r]),
    )
    assert fast[0].tolist() == zh.tolist() and fast[1].tolist() == en.tolist()


def readable_reasons(conditions, makers, default):
    """Each row's reasons made for it alone: the first case whose condition holds, else the
    default (the rulebook's statement of :func:`reasons_by_case`)."""
    n = len(conditions[0])
    zh, en = [], []
    for i in range(n):
        row = np.zeros(n, dtype=bool)
        row[i] = True
        make = next((mk for c, mk in zip(conditions, makers, strict=True) if c[i]), default)
        z, e = make(row)
        zh.append(z if isinstance(z, str) else list(z)[0])
        en.append(e if isinstance(e, str) else list(e)[0])
    return zh, en


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in range(4)])
def test_reasons_by_case_as_texts_random(seed):
    from fpanalysis.rules.compliance.indicators import reasons_by_case

    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 60))
    ids = pd.Series([f"S{i}" for i in rng.integers(0, 9, n)], dtype="str")
    conditions = [rng.random(n) < 0.3 for _ in range(3)]
    makers = [
        lambda r: ("有 " + ids[r], "has " + ids[r]),
        lambda r: ("一", "one"),  # one text for the case's rows
        lambda r: (ids[r].to_numpy(dtype=object), ("x " + ids[r]).to_numpy(dtype=object)),
    ]
    zh, en = reasons_by_case(conditions, makers, lambda r: ("无", "none"))
    assert (zh.tolist(), en.tolist()) == readable_reasons(
        conditions, makers, lambda r: ("无", "none")
    )
    assert str(zh.dtype) == "str" and len(zh) == n


@pytest.mark.parametrize(
    "ids",
    [
        pytest.param(["P1", "P2", "P3"], id="unique-keys"),
        pytest.param(["P1", "P2", "P1"], id="repeated-key-first-kept"),
        pytest.param(["P1", None, None], id="missing-keys"),
    ],
)
def test_keyed_is_the_table_without_repeats_indexed(ids):
    from fpanalysis.rules.frames import keyed

    t = pd.DataFrame({"person_id": pd.Series(ids, dtype="str"), "v": [1, 2, 3]})
    got = keyed(Memo({"persons": t}), "persons", "person_id")
    pd.testing.assert_frame_equal(got, t.drop_duplicates("person_id").set_index("person_id"))


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in range(4)])
def test_unit_penalties_random(seed):
    """Each unit's points added as integers over one denominator: the exact sums of its rows'
    points (Fractions added one by one), and those as floats; a unit listed with no row gets 0,
    a row of a unit not listed is left out."""
    from fpanalysis.rules.compliance.scoring import _unit_penalties

    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 300))
    steps = [Fraction(0), Fraction(1, 2), Fraction(3), Fraction(7, 20), Fraction(1, 3)]
    names = ["U1", "U2", "U10", "单位甲", "U9"]
    sums = pd.DataFrame(
        {
            "unit_id": pd.array(rng.choice(names, n), dtype="str"),
            "penalty": pd.Series([steps[i] for i in rng.integers(0, len(steps), n)], dtype=object),
        }
    )
    units = sorted(names[:4])  # U9's rows belong to no unit listed
    exact, floats = _unit_penalties(sums, units)
    want = {u: Fraction(0) for u in units}
    for u, p in zip(sums["unit_id"], sums["penalty"], strict=True):
        if u in want:
            want[u] += p
    assert exact == [want[u] for u in units]
    assert floats.tolist() == [float(want[u]) for u in units]
