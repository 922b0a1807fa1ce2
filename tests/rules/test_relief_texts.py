"""The relief texts written a column at a time are the readable rules' texts (rulebook §6).

:func:`rl.reason_texts` and :func:`rl.decided_texts` write a province's
reasons a column at a time (:mod:`fpanalysis.rules.relief.textcols`); the
readable rules, one household at a time, are :func:`texts.reason_text` and
:func:`texts.decided_text`. They must give the same texts on every row: on the
hand-made round of ``test_relief_lean`` (five one-person households with
readable ids), on rows the columns cannot write (a missing value, an amount that
is not whole fen, a tier with no label), on the sample and on a synthetic county.
The column formatters are checked value for value against the one-value ones, and
:func:`rl.derive_fp_types` against the per-household groupby statement of the rule.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pandas.testing as pt
import pytest

from fpanalysis.core.numbers import whole_fen
from fpanalysis.core.params import load_params
from fpanalysis.core.schema import coerce
from fpanalysis.rules import relief as rl
from fpanalysis.rules.relief import textcols as tc
from fpanalysis.rules.relief import texts
from fpanalysis.rules.relief.fp_types import fp_types

P = load_params()
ORDER = list(P.at("ranking_order", pd.Timestamp("2025-06-30")))
BANDS = tuple(P.at("tier_bands", pd.Timestamp("2025-06-30")))


def _lean(tables, as_of="2025-06-30", **kw):
    """A lean round with its FP evidence written (what its slices' texts quote; the round made
    here leaves it for later too), as the Dask engine's lean round has it."""
    r = rl.rank_households(tables, P, as_of, texts=False, **kw)
    table = rl.fp_types.with_evidence(r.table, r.children)
    return dataclasses.replace(r, table=table, children=None)


def _hand_round():
    from tests.rules.test_relief_lean import round_tables

    return round_tables()


def assert_texts_agree(lean: pd.DataFrame, bands=BANDS, order=ORDER) -> None:
    """The column-wise texts of a lean table are the readable rules' texts, row for row."""
    e = lean[lean["rank"].notna()]
    above = e[[rl.ABOVE_PREFIX + c for c in rl.ABOVE_COLUMNS]].set_axis(rl.ABOVE_COLUMNS, axis=1)
    dz, de = rl.decided_texts(e, above, order)
    rz, re_ = texts.decided_texts_by_row(e, above, order)
    pt.assert_series_equal(dz, rz)
    pt.assert_series_equal(de, re_)
    t = lean.assign(decided_zh=dz.reindex(lean.index), decided_en=de.reindex(lean.index))
    fz, fe = rl.reason_texts(t, bands)
    bz, be = texts.reason_texts_by_row(t, bands)
    pt.assert_series_equal(fz, bz)
    pt.assert_series_equal(fe, be)


# ------------------------------------------------------------------------- hand-checkable rounds


def test_the_hand_round_reads_as_the_readable_rule_says():
    t = _lean(_hand_round()).table
    assert_texts_agree(t)
    full = rl.rank_households(_hand_round(), P, "2025-06-30").table.set_index("household_id")
    assert full.loc["H3", "decided_en"] == (
        "same tier, FP priority, per-capita income as H2 (rank 2) just above; "
        "separated by application date: 2025-03-05 here, 2025-03-01 there"
    )
    assert full.loc["H5", "reason_en"] == (
        "not eligible: per-capita income 900.00 yuan (household income 900.00 yuan / 1) "
        "is not below the urban standard of 770 yuan "
        "(household income 900.00 >= 770 x 1 = 770.00 yuan)"
    )


def _hand(**change):
    """The hand round with some households changed (``H2={"assessed_tier": 3}``)."""
    tables = _hand_round()
    hh = tables["households"].copy()
    for hid, values in change.items():
        for c, v in values.items():
            hh.loc[hh["household_id"].eq(hid), c] = v
    return {**tables, "households": hh}


@pytest.mark.parametrize(
    ("change", "kw"),
    [
        pytest.param({}, {"quota": 2}, id="quota-cuts-after-H2"),
        pytest.param({}, {"budget_yuan": 1300}, id="budget-stops-at-the-first-that-does-not-fit"),
        pytest.param({"H2": {"assessed_tier": 3}}, {}, id="assessed-tier-differs-from-ratio"),
        pytest.param({"H1": {"assessed_tier": 1}}, {}, id="assessed-tier-same-as-ratio"),
        pytest.param({"H5": {"assessed_tier": 2}}, {}, id="not-eligible-with-assessed-tier"),
        pytest.param({"H5": {"receiving": True}}, {}, id="not-eligible-receiving-now-exits"),
        pytest.param({"H1": {"receiving": True}}, {"quota": 1}, id="continuing-takes-the-quota"),
        pytest.param({"H4": {"application_date": pd.NaT}}, {}, id="no-application-date"),
        pytest.param({"H2": {"monthly_income": -50.0}}, {}, id="negative-income"),
        pytest.param(
            {"H1": {"area": "rural"}},
            {"pool": "separate", "quota": {"urban": 1, "rural": 1}},
            id="separate-pools",
        ),  # fmt: skip
    ],
)
def test_hand_rounds_agree_with_the_readable_rule(change, kw):
    assert_texts_agree(_lean(_hand(**change), **kw).table)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        pytest.param("per_capita_income_yuan", 123.456, id="per-capita-not-whole-fen"),
        pytest.param("per_capita_income_yuan", -0.0, id="per-capita-negative-zero"),
        pytest.param("tier", 4, id="tier-with-no-label"),
        pytest.param("area", "suburb", id="area-with-no-label"),
        pytest.param("fp_evidence_en", np.nan, id="missing-evidence"),
        pytest.param("why_zh", np.nan, id="missing-why"),
        pytest.param(rl.ABOVE_PREFIX + "tier", 5, id="row-above-tier-with-no-label"),
    ],
)
def test_rows_the_columns_cannot_write_are_the_readable_rules(column, value):
    t = _lean(_hand()).table.copy()
    if t[column].dtype == "str" and not isinstance(value, str):
        t[column] = t[column].astype(object)
    t.loc[t.index[1:3], column] = value
    assert_texts_agree(t)


def test_a_table_without_incumbent_or_rows():
    t = _lean(_hand()).table
    assert_texts_agree(t.drop(columns=["incumbent"]))
    assert_texts_agree(t.iloc[0:0])


# ------------------------------------------------------------------------- whole datasets


@pytest.mark.parametrize(
    "kw",
    [
        pytest.param({"quota": 40}, id="quota"),
        pytest.param({"budget_yuan": 20000}, id="budget"),
        pytest.param({"pool": "separate", "quota": {"urban": 5, "rural": 9}}, id="separate"),
    ],
)
def test_the_sample_agrees_with_the_readable_rule(kw):
    from fpanalysis.core.config import SAMPLE_DIR
    from fpanalysis.io import load_for_analysis

    ds = load_for_analysis(SAMPLE_DIR, list(rl.RELIEF_TABLES))
    tables = {t: ds[t] for t in rl.RELIEF_TABLES}
    assert_texts_agree(_lean(tables, None, **kw).table)


@pytest.fixture(scope="module")
def synth_tables():
    from fpanalysis.synth import generate

    t = generate(seed=11, people=3000)
    return {name: t[name] for name in rl.RELIEF_TABLES}


def test_a_synthetic_county_agrees_with_the_readable_rule(synth_tables):
    r = _lean(synth_tables, None, quota=500)
    assert r.table["selection"].eq("waiting").any()
    assert_texts_agree(r.table, r.bands, list(r.order))


def test_derive_fp_types_is_the_groupby_rule_on_a_synthetic_county(synth_tables):
    h, m = synth_tables["households"], synth_tables["household_members"]
    for part in (h, h.iloc[::3], h.iloc[0:0]):
        pt.assert_frame_equal(rl.derive_fp_types(part, m), _derive_by_groupby(part, m))


def test_the_types_alone_are_the_derived_types(synth_tables):
    """What validation compares a declared type with (``fp_types``, no evidence) is the type
    the relief round derives, on a county and on households listed twice or missing."""
    h, m = synth_tables["households"], synth_tables["household_members"]
    for part in (h, h.iloc[::3], h.iloc[0:0], pd.concat([h.iloc[:50], h.iloc[[3, 1]]])):
        pt.assert_series_equal(
            fp_types(part, m), rl.derive_fp_types(part, m)["fp_type"], check_names=False
        )
    assert fp_types(h, m).notna().any()


def test_derive_fp_types_hand_cases():
    hh = coerce(
        "households",
        [
            {"household_id": h, "infertile": inf}
            for h, inf in [("H1", None), ("H2", None), ("H3", True), ("H4", None), ("H5", None)]
        ],
    )
    mm = coerce(
        "household_members",
        [
            {"member_id": "B", "household_id": "H1", "relation": "child", "sex": "F"},
            {"member_id": "A", "household_id": "H2", "relation": "head", "sterilized": True},
            {"member_id": "D", "household_id": "H2", "relation": "child", "sex": "F"},
            {"member_id": "C", "household_id": "H2", "relation": "child", "sex": "F"},
            {"member_id": "E", "household_id": "H4", "relation": "child", "sex": "M"},
            {"member_id": "F", "household_id": "H4", "relation": "child"},
            {"member_id": "G", "household_id": "H9", "relation": "child", "sex": "F"},
        ],
    )
    got = rl.derive_fp_types(hh, mm).set_index("household_id")
    pt.assert_frame_equal(got, _derive_by_groupby(hh, mm).set_index("household_id"))
    twice = pd.concat([hh, hh.iloc[[1, 0]]])  # a household listed twice: both rows the same
    pt.assert_frame_equal(rl.derive_fp_types(twice, mm), _derive_by_groupby(twice, mm))
    assert got["fp_type"].tolist()[:3] == ["only_daughter", "two_daughters_sterilized", "infertile"]
    assert got.loc["H2", "fp_evidence_en"] == (
        "two-daughters-sterilised household: both children C (F), D (F) are daughters "
        "and A sterilised"
    )
    four = "非计生优先户：子女 2 人（0 女）：E（男）、F（性别不详）"
    assert got.loc["H4", "fp_evidence_zh"] == four
    assert got.loc["H5", "fp_evidence_en"] == (
        "no FP priority type: no children, but infertility not recorded"
    )


def test_the_evidence_left_for_later_is_written_for_any_rows_in_any_order():
    """A lean round keeps what the FP evidence is written from (the case, the counts, where a
    household's children start) and the children listed; any rows of it, in any order (a slice
    in rank order), get the evidence the whole derivation gives them."""
    hh = coerce(
        "households",
        [{"household_id": h} for h in ("H1", "H2", "H3", "H4")],
    )
    mm = coerce(
        "household_members",
        [
            {"member_id": "M4", "household_id": "H3", "relation": "child", "sex": "F"},
            {"member_id": "M2", "household_id": "H1", "relation": "child", "sex": "M"},
            {"member_id": "M1", "household_id": "H1", "relation": "child"},
            {"member_id": "M3", "household_id": "H3", "relation": "head"},
        ],
    )
    frame, children = rl.fp_types.derive_without_evidence(hh, mm)
    # H1's children M1, M2 (member-id order) first, then H3's M4; H2 and H4 have none
    assert children.ids.to_pylist() == ["M1", "M2", "M4"]
    assert children.sex.tolist() == [2, 1, 0]  # none, M, F
    assert frame["children_at"].tolist() == [0, -1, 2, -1]
    assert frame["fp_branch"].tolist() == [5, 3, 0, 3]  # other, no child, only daughter, none
    whole = rl.derive_fp_types(hh, mm)
    assert (
        whole["fp_evidence_zh"].iloc[0]
        == "非计生优先户：子女 2 人（0 女）：M1（性别不详）、M2（男）"
    )
    assert whole["fp_evidence_en"].iloc[2] == (
        "only-daughter household: the only child M4 (F) is a daughter"
    )
    for rows in ([2, 0], [3], [1, 2, 0, 3], []):
        got = rl.fp_types.with_evidence(frame.iloc[rows], children)
        pt.assert_frame_equal(got, whole.iloc[rows])


def test_a_lean_assessment_with_its_evidence_is_the_assessment(synth_tables):
    # every tenth household declares itself infertile: those with children are contradicted,
    # and the problem's words quote the evidence
    h = synth_tables["households"].copy()
    h.loc[h.index[::10], "declared_fp_type"] = "infertile"
    tables = {**synth_tables, "households": h}
    as_of = rl.default_as_of(tables)
    full, problems = rl.prepare_round(tables, P, as_of, pool="all", previous_round=None)
    lean, lean_problems, children = rl.prepare_lean_round(
        tables, P, as_of, pool="all", previous_round=None
    )
    assert len(problems) > 0
    assert not set(rl.EVIDENCE_COLUMNS) & set(lean.columns)
    pt.assert_frame_equal(rl.fp_types.with_evidence(lean, children), full)
    pt.assert_frame_equal(lean_problems, problems)  # the contradicted types' words too


def _derive_by_groupby(households: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """The FP types by the plain groupby statement of rulebook §6 (each household's
    children counted and listed by ``groupby``; the texts by branch)."""
    m = members.sort_values("member_id", kind="mergesort")
    kids = m[m["relation"].eq("child")]
    zh_sex = kids["sex"].map({"F": "女", "M": "男"}).fillna("性别不详")
    en_sex = kids["sex"].map({"F": "F", "M": "M"}).fillna("?")
    kid_zh = (kids["member_id"] + "（" + zh_sex + "）").groupby(kids["household_id"]).agg("、".join)
    kid_en = (kids["member_id"] + " (" + en_sex + ")").groupby(kids["household_id"]).agg(", ".join)
    parents = m[m["relation"].isin(["head", "spouse"]) & m["sterilized"].fillna(False).astype(bool)]
    ster = parents.groupby("household_id")["member_id"].agg("、".join)
    rows = []
    for _, h in households.iterrows():
        k = h["household_id"]
        nc = int((kids["household_id"] == k).sum())
        nd = int(((kids["household_id"] == k) & kids["sex"].eq("F")).sum())
        kz, ke = kid_zh.get(k, ""), kid_en.get(k, "")
        st = ster.get(k, np.nan)
        infertile = bool(h["infertile"]) if pd.notna(h["infertile"]) else False
        if nc == 1 and nd == 1:
            t, z, e = (
                "only_daughter",
                f"独女户：唯一子女 {kz} 为女儿",
                (f"only-daughter household: the only child {ke} is a daughter"),
            )
        elif nc == 2 and nd == 2 and pd.notna(st):
            t = "two_daughters_sterilized"
            z = f"二女结扎户：两个子女 {kz} 均为女儿，且 {st} 已结扎"
            e = (
                f"two-daughters-sterilised household: both children {ke} are daughters and "
                f"{st.replace('、', ', ')} sterilised"
            )
        elif nc == 0 and infertile:
            t, z = "infertile", "不育户：无子女，且登记为不育"
            e = "infertile household: no children and infertility recorded"
        elif nc == 0:
            t, z = np.nan, "非计生优先户：无子女，但未登记不育"
            e = "no FP priority type: no children, but infertility not recorded"
        elif nc == 2 and nd == 2:
            t, z = np.nan, f"非计生优先户：两个子女 {kz} 均为女儿，但户主夫妻均未登记结扎"
            e = (
                f"no FP priority type: both children {ke} are daughters, but neither head nor "
                "spouse is recorded sterilised"
            )
        else:
            t = np.nan
            z = f"非计生优先户：子女 {nc} 人（{nd} 女）" + (f"：{kz}" if kz else "")
            e = (
                f"no FP priority type: {nc} {'child' if nc == 1 else 'children'} ({nd} "
                f"{'daughter' if nd == 1 else 'daughters'})" + (f": {ke}" if ke else "")
            )
        rows.append((k, t, nc, nd, st, z, e))
    cols = ["household_id", "fp_type", "n_children", "n_daughters", "sterilized_members"]
    cols += ["fp_evidence_zh", "fp_evidence_en"]
    out = pd.DataFrame(rows, columns=cols, index=households.index)
    for c in ("fp_type", "sterilized_members", "fp_evidence_zh", "fp_evidence_en"):
        out[c] = out[c].astype("str")
    out["household_id"] = households["household_id"]
    for c in ("n_children", "n_daughters"):
        out[c] = out[c].astype("int64")
    return out


# ------------------------------------------------------------------------- the column formatters

AMOUNTS = [0, 1, 5, 99, 100, 101, 12345, 77000, -1, -99, -100, -12345, 10**12 + 7]


def test_yuan_texts_are_yuan_text():
    rng = np.random.default_rng(7)
    fen = np.array(AMOUNTS + list(rng.integers(-(10**9), 10**9, 500)), dtype=np.int64)
    for whole in (False, True):
        got = tc.yuan_texts(fen, whole).to_pylist()
        assert got == [texts.yuan_text(int(v), whole) for v in fen]


def test_ratio_texts_are_ratio_text():
    rng = np.random.default_rng(8)
    num = np.array([0, 1, -1, 2309, 3080, -7] + list(rng.integers(-(10**7), 10**7, 500)))
    den = np.array([3, 3, 3, 3080, 3080, 3] + list(rng.integers(1, 10**7, 500)))
    got = tc.ratio_texts(num, den).to_pylist()
    assert got == [texts._ratio_text(int(a), int(b)) for a, b in zip(num, den, strict=True)]


def test_cents_are_the_two_decimals_a_float_shows():
    rng = np.random.default_rng(9)
    amounts = rng.integers(-(10**8), 10**8, 500)
    values = np.concatenate(
        [amounts / 100, [0.1 + 0.2, 100.005, 1e-3, -0.0, 0.0, np.nan, np.inf, 769.99, 1e15]]
    )
    fen, exact = whole_fen(values)
    assert exact[:500].all()
    shown = tc.yuan_texts(fen).to_pylist()
    for v, ok, text in zip(values, exact, shown, strict=True):
        if ok:
            assert text == f"{v:.2f}"
    assert not exact[-4]  # NaN
    assert not exact[-6]  # -0.0 shows "-0.00"


def test_date_texts_are_date_text():
    d = pd.Series(pd.to_datetime(["2025-03-01", None, "1970-01-01", "1969-12-31", "2262-04-11"]))
    assert tc.date_texts(d).to_pylist() == [texts.date_text(v) for v in d]


def test_by_value_computes_each_distinct_value_once():
    calls = []

    def text(a, b):
        calls.append((a, b))
        return f"{a}-{b}", f"{b}"

    zh, en = tc.by_value([pd.Series([1, 2, 1, 1]), pd.Series(["x", "y", "x", "z"])], text)
    assert zh.to_pylist() == ["1-x", "2-y", "1-x", "1-z"]
    assert en.to_pylist() == ["x", "y", "x", "z"]
    assert sorted(calls) == [(1, "x"), (1, "z"), (2, "y")]
