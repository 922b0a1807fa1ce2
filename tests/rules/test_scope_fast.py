"""The integer-keyed responsible unit (rulebook §2) agrees with the rule as it reads: each spouse's
unit picked as a position in ``persons`` and spelt out at the end (``responsible_units``, with a
:class:`Memo` or without) against the frames of unit ids picked by ``is_staff_on``,
``is_floating_on`` and ``_pick`` (``responsible_units_plain``); the Arrow look-up of text keys
(``positions``) against ``Index.get_indexer``; the scorecard's penalty points placed by look-up
against a plain sum per unit and indicator. Small hand-checkable tables, then random ones."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from test_compliance import person
from test_scope import COUPLES, PERSONS

from fpanalysis.core.params import load_params
from fpanalysis.core.schema import coerce
from fpanalysis.rules.compliance.scoring import unit_sums
from fpanalysis.rules.frames import (
    Memo,
    first_of_runs,
    lookup,
    lookup_columns,
    positions,
    sort_rows,
    unique_keys,
)
from fpanalysis.rules.scope import (
    SCOPE_COLUMNS,
    age_on,
    age_years,
    birth_keys,
    couples_in_scope,
    responsible_units,
    responsible_units_plain,
)

DATES = ["2011-06-01", "2024-01-01", "2024-03-30", "2024-03-31", "2024-07-15", "2025-06-30"]


def events_of(couples: list[str], dates: list[str | None]) -> pd.DataFrame:
    """Every couple on every date (and an unknown couple, a missing one), on a shuffled index."""
    rows = [(c, d) for c in [*couples, "CX", None] for d in dates]
    return pd.DataFrame(
        {
            "couple_id": pd.Series([c for c, _ in rows], dtype="str"),
            "date": pd.to_datetime([d for _, d in rows]),
        },
        index=np.arange(len(rows))[::-1] * 10,
    )


def assert_same_as_plain(tables, params, events):
    plain = responsible_units_plain(tables, params, events)
    pd.testing.assert_frame_equal(responsible_units(tables, params, events), plain)
    pd.testing.assert_frame_equal(responsible_units(Memo(tables), params, events), plain)


@pytest.mark.parametrize("override", [None, {"responsible_spouse": "husband"}])
def test_responsible_units_as_the_rule_reads(override):
    tables = {"persons": coerce("persons", PERSONS), "couples": coerce("couples", COUPLES)}
    events = events_of([c["couple_id"] for c in COUPLES], [*DATES, None])
    assert_same_as_plain(tables, load_params(override), events)


def test_responsible_units_hand_checked():
    """Both staff of different units (wife first; husband first by parameter), staff before
    floating, a floating wife alone, and a wife who left: read off the table."""
    tables = {"persons": coerce("persons", PERSONS), "couples": coerce("couples", COUPLES)}
    events = pd.DataFrame(
        {
            "couple_id": ["C1", "C4", "C3", "C8", "C8"],
            "date": pd.to_datetime(["2024-01-01"] * 3 + ["2024-03-30", "2024-03-31"]),
        }
    )
    got = responsible_units(tables, load_params(), events)
    assert got["responsible_unit_id"].tolist()[:4] == ["U1", "U2", "U1", "U1"]
    assert got["basis"].tolist()[:4] == ["staff", "staff", "floating", "staff"]
    assert got["responsible_unit_id"].isna().tolist() == [False] * 4 + [True]
    husband = responsible_units(tables, load_params({"responsible_spouse": "husband"}), events)
    assert husband["responsible_unit_id"].iloc[0] == "U2"


def test_responsible_units_without_persons():
    tables = {"persons": coerce("persons", []), "couples": coerce("couples", COUPLES)}
    events = events_of(["C1", "C2"], DATES)
    assert_same_as_plain(tables, load_params(), events)
    assert responsible_units(Memo(tables), load_params(), events)["basis"].isna().all()


def random_tables(rng: np.random.Generator, n: int):
    """``n`` couples of random spouses: categories, units, hire and leave dates, some spouses
    unknown or shared, some dates missing."""
    day = pd.Timestamp("2020-01-01")

    def date(p_missing):
        if rng.random() < p_missing:
            return None
        return str((day + pd.Timedelta(days=int(rng.integers(0, 2000)))).date())

    people = []
    for i in range(2 * n):
        cat = rng.choice(["staff", "floating", "outside"])
        unit = None if rng.random() < 0.2 else f"U{rng.integers(1, 5)}"
        birth = str(
            (pd.Timestamp("1970-01-01") + pd.Timedelta(days=int(rng.integers(0, 15000)))).date()
        )
        people.append(
            person(f"P{i}", "F" if i % 2 else "M", birth, unit, cat, date(0.3), date(0.6))
        )
    couples = [
        {
            "couple_id": f"C{i}",
            "wife_id": f"P{rng.integers(0, 2 * n + 3)}",  # now and then nobody known
            "husband_id": f"P{rng.integers(0, 2 * n + 3)}",
            "marriage_date": date(0.1),
            "divorce_date": date(0.8),
        }
        for i in range(n)
    ]
    return {"persons": coerce("persons", people), "couples": coerce("couples", couples)}


@pytest.mark.parametrize("seed", range(4))
def test_responsible_units_random(seed):
    rng = np.random.default_rng(seed)
    tables = random_tables(rng, 30)
    dates = [
        str((pd.Timestamp("2020-01-01") + pd.Timedelta(days=int(d))).date())
        for d in rng.integers(0, 2000, 6)
    ]
    events = events_of([f"C{i}" for i in range(30)], dates).sample(frac=0.5, random_state=seed)
    override = {"responsible_spouse": "husband"} if seed % 2 else None
    assert_same_as_plain(tables, load_params(override), events)


@pytest.mark.parametrize("seed", range(3))
def test_couples_in_scope_from_the_plain_rule(seed):
    """The couples in scope are the married couples with a responsible unit, as the plain rule
    finds them."""
    rng = np.random.default_rng(seed)
    tables = random_tables(rng, 40)
    on = "2023-06-01"
    got = couples_in_scope(Memo(tables), load_params(), on)
    ev = pd.DataFrame({"couple_id": tables["couples"]["couple_id"], "date": pd.Timestamp(on)})
    plain = responsible_units_plain(tables, load_params(), ev)
    plain = plain[plain["married"] & plain["responsible_unit_id"].notna()]
    assert got["couple_id"].tolist() == sorted(plain["couple_id"])
    want = plain.set_index("couple_id").loc[got["couple_id"], "responsible_unit_id"]
    assert got["responsible_unit_id"].tolist() == want.tolist()


@pytest.mark.parametrize("seed", range(4))
def test_positions_is_get_indexer(seed):
    rng = np.random.default_rng(seed)
    ids = [f"K{i}" for i in rng.permutation(50)]
    index = pd.Index(ids, dtype="str")
    keys = pd.Series(
        [None if rng.random() < 0.1 else f"K{rng.integers(0, 70)}" for _ in range(80)], dtype="str"
    )
    assert positions(index, keys).tolist() == index.get_indexer(keys).tolist()
    assert positions(index, keys.astype(object)).tolist() == index.get_indexer(keys).tolist()
    assert positions(index[:0], keys).tolist() == [-1] * len(keys)
    own = pd.Series(index.array)  # the index's own keys in its order, and shuffled
    assert positions(index, own).tolist() == list(range(50))
    shuffled = own.sample(frac=1, random_state=seed)
    assert positions(index, shuffled).tolist() == index.get_indexer(shuffled).tolist()
    assert positions(index, keys[:0]).tolist() == []


def test_positions_hand():
    index = pd.Index(["C1", "C2", "C3"], dtype="str")
    got = positions(index, pd.Series(["C2", "C9", None, "C1"], dtype="str"))
    assert got.tolist() == [1, -1, -1, 0]


def test_unit_sums_penalties_hand():
    """Penalty points of two units and two count indicators, exact: U1 falsifications 0.5 + 0.25,
    U2 out-of-plan births 3; every other (unit, indicator) 0."""
    d = pd.DataFrame(
        {
            "unit_id": ["U1", "U1", "U2", "U2", "U1", "U2"],
            "indicator": ["falsifications"] * 2
            + ["out_of_plan_births", "followup_coverage", "followup_coverage", "falsifications"],
            "in_denominator": pd.array([pd.NA, pd.NA, pd.NA, True, True, pd.NA], dtype="boolean"),
            "in_numerator": pd.array([True, True, True, False, True, False], dtype="boolean"),
            "penalty": [0.5, 0.25, 3.0, np.nan, np.nan, 0.0],
            "veto": [False, False, True, False, False, False],
        }
    )
    got = {(r.unit_id, r.indicator): r.penalty for r in unit_sums(d).itertuples()}
    assert got == {
        ("U1", "falsifications"): Fraction(3, 4),
        ("U1", "followup_coverage"): 0,
        ("U2", "falsifications"): 0,
        ("U2", "followup_coverage"): 0,
        ("U2", "out_of_plan_births"): Fraction(3),
    }


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        ("2000-02-29", "2023-02-27", 22),  # 29 February: the birthday is 28 February in 2023
        ("2000-02-29", "2023-02-28", 23),
        ("2000-02-29", "2024-02-28", 23),  # a leap year: the birthday is 29 February
        ("1975-06-30", "2025-06-29", 49),
        ("1975-06-30", "2025-06-30", 50),
        ("1990-12-31", "2024-01-01", 33),
        (None, "2024-01-01", pd.NA),
        ("1990-01-01", None, pd.NA),
    ],
)
def test_age_years_hand(birth, on, age):
    b = np.array([birth or "NaT"], dtype="datetime64[ns]")
    d = np.array([on or "NaT"], dtype="datetime64[ns]")
    got = age_years(b, d).tolist()
    assert got == [age] if age is not pd.NA else got[0] is pd.NA


@pytest.mark.parametrize("seed", range(3))
def test_age_years_is_age_on(seed):
    rng = np.random.default_rng(seed)
    n = 2000
    birth = pd.Series(
        pd.to_datetime("1960-01-01") + pd.to_timedelta(rng.integers(0, 20000, n), "D")
    )
    on = pd.Series(pd.to_datetime("2000-01-01") + pd.to_timedelta(rng.integers(0, 12000, n), "D"))
    birth[rng.random(n) < 0.05] = pd.NaT
    on[rng.random(n) < 0.05] = pd.NaT
    birth[:2] = pd.to_datetime(["1996-02-29", "1964-02-29"])  # born on a leap day
    got = age_years(birth.to_numpy(), on.to_numpy())
    pd.testing.assert_series_equal(got, age_on(birth, on), check_names=False)
    # the births' numbers found once (as a Memo's spouses keep them) give the same ages
    keys = birth_keys(birth.to_numpy())
    got = age_years(birth.to_numpy(), on.to_numpy(), keys)
    pd.testing.assert_series_equal(got, age_on(birth, on), check_names=False)
    # and on one day for all (a scope's), 29 February's birthdays in a year without one
    for day in ("2023-02-28", "2024-02-28", "2024-02-29", "2025-03-01"):
        one = pd.Series(pd.to_datetime([day] * n))
        got = age_years(birth.to_numpy(), one.to_numpy(), keys)
        pd.testing.assert_series_equal(got, age_on(birth, one), check_names=False)


@pytest.mark.parametrize("seed", range(3))
def test_couples_in_scope_is_the_sorted_selection(seed):
    """The couples in scope, taken in an order by id found once per analysis, are the rule's
    selection sorted by ``sort_rows``: couples listed out of order, several days, one Memo."""
    rng = np.random.default_rng(seed)
    tables = random_tables(rng, 40)
    tables["couples"] = tables["couples"].sample(frac=1, random_state=seed, ignore_index=True)
    params = load_params()
    memo = Memo(tables)
    for on in ["2021-01-01", "2023-06-01", "2024-07-01"]:
        ev = pd.DataFrame({"couple_id": tables["couples"]["couple_id"], "date": pd.Timestamp(on)})
        r = responsible_units(tables, params, ev)
        for childbearing in (False, True):
            keep = r["married"] & r["responsible_unit_id"].notna()
            if childbearing:
                keep &= r["wife_childbearing"]
            want = sort_rows(r.loc[keep, SCOPE_COLUMNS], ["couple_id"]).reset_index(drop=True)
            got = couples_in_scope(memo, params, on, childbearing_only=childbearing)
            pd.testing.assert_frame_equal(got, want)


def test_couples_in_scope_order_hand():
    """C10, C2 and C1 listed in that order come out as text sorts them: C1, C10, C2."""
    persons = [person(p, "F", "1990-01-01", "U1", "staff", "2010-01-01", None) for p in "ABC"]
    couples = [
        {"couple_id": c, "wife_id": w, "marriage_date": "2015-01-01"}
        for c, w in [("C10", "A"), ("C2", "B"), ("C1", "C")]
    ]
    tables = {"persons": coerce("persons", persons), "couples": coerce("couples", couples)}
    got = couples_in_scope(Memo(tables), load_params(), "2024-01-01")
    assert got["couple_id"].tolist() == ["C1", "C10", "C2"]
    assert got["wife_id"].tolist() == ["C", "A", "B"]


def test_lookup_columns_is_lookup():
    """Several columns looked up with the keys found once, as each looked up alone: C2's
    survey, nothing for C9 or a missing key, the first of a repeated C1."""
    first = pd.DataFrame(
        {
            "survey_id": pd.array(["S1", "S2", "S3"], dtype="str"),
            "survey_date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-03-01"]),
        },
        index=pd.Index(["C1", "C2", "C1"], dtype="str"),
    )
    keys = pd.Series(["C2", "C9", None, "C1"], dtype="str", index=[7, 5, 3, 1])
    sid, sdate = lookup_columns(keys, first, ["survey_id", "survey_date"])
    assert sid.tolist() == ["S2", np.nan, np.nan, "S1"]
    assert sdate.tolist()[0] == pd.Timestamp("2024-02-01") and sdate.isna().tolist()[1:3] == [
        True,
        True,
    ]
    for got, col in ((sid, "survey_id"), (sdate, "survey_date")):
        pd.testing.assert_series_equal(got, lookup(keys, first[col]))


@pytest.mark.parametrize("seed", range(4))
def test_positions_of_few_keys_is_get_indexer(seed):
    """A few keys in a large index (the index looked up in the keys, not the keys in the index):
    as ``Index.get_indexer``, missing and unknown keys -1, repeated keys each found."""
    rng = np.random.default_rng(seed)
    index = pd.Index([f"K{i}" for i in rng.permutation(400)], dtype="str")
    keys = pd.Series(
        [None if rng.random() < 0.1 else f"K{rng.integers(0, 500)}" for _ in range(40)],
        dtype="str",
    )
    assert positions(index, keys).tolist() == index.get_indexer(keys).tolist()
    assert positions(index, keys[keys.isna()]).tolist() == [-1] * int(keys.isna().sum())


def test_positions_of_few_keys_hand():
    """C3 twice, C9 unknown, a missing key; then an index holding C1 twice: the first C1."""
    index = pd.Index([f"C{i}" for i in range(1, 41)], dtype="str")
    got = positions(index, pd.Series(["C3", "C9", None, "C3", "C99"], dtype="str"))
    assert got.tolist() == [2, 8, -1, 2, -1]
    twice = pd.Index(["C1", *[f"C{i}" for i in range(2, 40)], "C1"], dtype="str")
    assert positions(twice, pd.Series(["C1", "C5"], dtype="str")).tolist() == [0, 4]


def test_first_of_runs_hand():
    """Rows sorted by couple and date: the first of C1 on 1 May (K1, not K2), of C1 on 2 May,
    of C2 with no date (K4, not K5), and of the rows with no couple (K6, not K7)."""
    f = pd.DataFrame(
        {
            "couple_id": pd.array(["C1", "C1", "C1", "C2", "C2", None, None], dtype="str"),
            "date": pd.to_datetime(
                ["2024-05-01", "2024-05-01", "2024-05-02", None, None, "2024-01-01", "2024-01-01"]
            ),
            "k": [f"K{i}" for i in range(1, 8)],
        },
        index=[70, 60, 50, 40, 30, 20, 10],
    )
    got = first_of_runs(f, ["couple_id", "date"])
    assert got["k"].tolist() == ["K1", "K3", "K4", "K6"]
    pd.testing.assert_frame_equal(got, f.drop_duplicates(["couple_id", "date"]))


@pytest.mark.parametrize("seed", range(4))
def test_first_of_runs_is_drop_duplicates(seed):
    """Random sorted rows (texts, dates, integers, objects, missing values): as drop_duplicates."""
    rng = np.random.default_rng(seed)
    n = 200
    f = pd.DataFrame(
        {
            "a": pd.array(
                [None if rng.random() < 0.1 else f"C{rng.integers(0, 9)}" for _ in range(n)],
                dtype="str",
            ),
            "d": pd.to_datetime(
                [None if rng.random() < 0.2 else f"2024-0{rng.integers(1, 4)}-01" for _ in range(n)]
            ),
            "i": rng.integers(0, 3, n),
            "o": pd.Series([None if rng.random() < 0.2 else int(x) for x in rng.integers(0, 3, n)]),
        }
    )
    for keys in (["a"], ["a", "d"], ["d", "i"], ["a", "o"], ["i"]):
        s = sort_rows(f, keys)
        pd.testing.assert_frame_equal(first_of_runs(s, keys), s.drop_duplicates(keys))
    assert len(first_of_runs(f.iloc[:1], ["a"])) == 1 and len(first_of_runs(f.iloc[:0], ["a"])) == 0


def test_age_years_on_one_day_hand():
    """Every row on one day (a scope's), its fields found once: on 28 Feb 2025 one born on
    29 Feb 2000 is 25 (28 Feb stands for it), one born on 1 Mar 2000 is 24; no birth: missing."""
    birth = np.array(["2000-02-29", "2000-03-01", "NaT"], dtype="datetime64[ns]")
    on = np.array(["2025-02-28"] * 3, dtype="datetime64[ns]")
    assert age_years(birth, on).tolist() == [25, 24, pd.NA]
    pd.testing.assert_series_equal(
        age_years(birth, on), age_on(pd.Series(birth), "2025-02-28").astype("Int64")
    )


@pytest.mark.parametrize("seed", range(4))
def test_unique_keys_is_is_unique(seed):
    """Ids in increasing order (seen by neighbours), shuffled, repeated or missing: as pandas."""
    rng = np.random.default_rng(seed)
    ids = [f"C{i:03d}" for i in range(60)]
    cases = [ids, list(rng.permutation(ids)), [*ids, "C005"], sorted([*ids, "C005"])]
    cases += [[*ids, None], [None, *ids], ids[:1], [], ["C2", "C10"], ["C10", "C2"]]
    for v in cases:
        for values in (pd.Series(v, dtype="str"), pd.Index(v, dtype="str")):
            assert unique_keys(values) == values.is_unique, v


@pytest.mark.parametrize("seed", range(4))
def test_unique_keys_of_row_numbers_is_is_unique(seed):
    """Row numbers (a table's rows taken in another order, some twice, far apart or negative)
    marked in flags where they are few enough: as pandas."""
    rng = np.random.default_rng(seed)
    rows = rng.permutation(200)[:150]
    cases = [rows, np.r_[rows, rows[7]], rows[:1], np.array([3, 3]), np.array([0, 599, 2])]
    cases += [np.array([0, 10**12]), np.array([-1, 4, 2]), np.array([5, -1, 5])]
    for v in cases:
        for values in (pd.Index(v.astype(np.int64)), pd.Series(v.astype(np.int64))):
            assert unique_keys(values) == values.is_unique, v
