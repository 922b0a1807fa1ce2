"""C4 (check attendance, rulebook §3) found by positions agrees with the readable rule, its joins
of ids as texts: the sterilisation in force, the pregnancy ongoing or just ended, the wife's first
attendance and whether one was inside the round's window. The helpers first (by hand), then small
hand-checkable datasets, then random ones, and the cases where positions cannot stand for the ids
(the readable rule is used)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fpanalysis.core.params import load_params
from fpanalysis.core.schema import coerce
from fpanalysis.rules.compliance.indicators import (
    _found_by_merges,
    _found_by_positions,
    _round_wives,
    check_rows,
)
from fpanalysis.rules.compliance.period import parse_period
from fpanalysis.rules.frames import GroupedRows, Memo, dense_ranks

# --------------------------------------------------------------------------- the helpers


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param(["b", "a", "c"], [1, 0, 2], id="distinct"),
        pytest.param(["b", "a", "b", "a"], [1, 0, 1, 0], id="ties-share-a-rank"),
        pytest.param(["b", None, "a", None], [1, 2, 0, 2], id="missing-last-and-equal"),
        pytest.param(["R10", "R9", "R1"], [1, 2, 0], id="as-texts-not-numbers"),
        pytest.param([], [], id="empty"),
    ],
)
def test_dense_ranks(values, expected):
    assert dense_ranks(pd.Series(values, dtype="str")).tolist() == expected


# rows: key, rank; the first row with ok in each key's group, by rank then the table's order
KEYS = np.array([5, 2, 5, 5, 2, -1])
RANKS = np.array([3, 0, 1, 1, 0, 0])


@pytest.mark.parametrize(
    ("ok", "wanted", "first", "any_"),
    [
        # key 5 holds rows 0 (rank 3), 2 and 3 (rank 1, table order): row 2 first
        pytest.param([1, 1, 1, 1, 1, 1], [5, 2, 7, -1], [2, 1, -1, -1], [1, 1, 0, 0], id="all-ok"),
        pytest.param([1, 0, 0, 1, 0, 1], [5, 2], [3, -1], [1, 0], id="later-rank-and-none"),
        pytest.param([1, 0, 0, 0, 1, 0], [5, 2, 5], [0, 4, 0], [1, 1, 1], id="only-the-last"),
        # a row of key -1 is nobody's: -1 finds nothing
        pytest.param([0, 0, 0, 0, 0, 1], [-1, 5], [-1, -1], [0, 0], id="minus-one-finds-nothing"),
    ],
)
@pytest.mark.parametrize("size", [None, 6, 100], ids=["searched", "starts", "starts-sparse"])
def test_grouped_rows(ok, wanted, first, any_, size):
    g = GroupedRows(KEYS, RANKS, size)
    lo, hi = g.ranges(np.array([w if size is None or w < size else -1 for w in wanted]))
    assert g.first(np.array(ok, dtype=bool), lo, hi).tolist() == first
    assert g.any(np.array(ok, dtype=bool), lo, hi).astype(int).tolist() == any_


def test_grouped_rows_without_rank_keeps_the_tables_order():
    g = GroupedRows(np.array([1, 0, 1, 1]))
    lo, hi = g.ranges(np.array([1]))
    assert g.first(np.array([False, True, True, True]), lo, hi).tolist() == [2]


@pytest.mark.parametrize("size", [None, 5])
def test_grouped_rows_of_nothing(size):
    g = GroupedRows(np.array([], dtype=np.int64), size=size)
    lo, hi = g.ranges(np.array([3, -1]))
    assert g.first(np.array([], dtype=bool), lo, hi).tolist() == [-1, -1]
    assert g.any(np.array([], dtype=bool), lo, hi).tolist() == [False, False]


# --------------------------------------------------------------------------- small datasets


def wife(pid: str, **kw) -> dict:
    return {
        "person_id": pid,
        "sex": "F",
        "birth_date": "1990-06-01",
        "unit_id": "U1",
        "category": "staff",
        "hire_date": "2010-01-01",
        **kw,
    }


def husband(pid: str) -> dict:
    return {"person_id": pid, "sex": "M", "birth_date": "1988-01-01"}


def dataset(couples, contraception=(), pregnancies=(), attendance=(), extra_persons=()):
    """Rounds R1 (2024-03-01～03-15) and R2 (2024-09-01～09-15); every wife W<n> with husband
    H<n> in couple C<n>, married in 2015."""
    persons = [wife(f"W{n}") for n in couples] + [husband(f"H{n}") for n in couples]
    return {
        "units": coerce("units", [{"unit_id": "U1", "name": "办公室", "kind": "section"}]),
        "persons": coerce("persons", persons + list(extra_persons)),
        "couples": coerce(
            "couples",
            [
                {
                    "couple_id": f"C{n}",
                    "wife_id": f"W{n}",
                    "husband_id": None if n in NO_HUSBAND else f"H{n}",
                    "marriage_date": "2015-05-01",
                }
                for n in couples
            ],
        ),
        "check_rounds": coerce(
            "check_rounds",
            [
                {"round_id": "R1", "start_date": "2024-03-01", "end_date": "2024-03-15"},
                {"round_id": "R2", "start_date": "2024-09-01", "end_date": "2024-09-15"},
            ],
        ),
        "contraception": coerce("contraception", list(contraception)),
        "pregnancies": coerce("pregnancies", list(pregnancies)),
        "check_attendance": coerce("check_attendance", list(attendance)),
    }


NO_HUSBAND = {9}


def steril(rid, pid, start, end=None, method="female_sterilization", falsified=None):
    return {
        "record_id": rid,
        "person_id": pid,
        "method": method,
        "start_date": start,
        "end_date": end,
        "falsified_found_date": falsified,
    }


def preg(gid, cid, detected, outcome=None):
    return {
        "pregnancy_id": gid,
        "couple_id": cid,
        "detected_date": detected,
        "outcome_date": outcome,
        "outcome": "live_birth" if outcome else None,
    }


def att(rid, pid, day):
    return {"round_id": rid, "person_id": pid, "attended_date": day}


CASES = {
    # W1's two records in force: the lesser id (K1) though listed second
    "two-records-lesser-id": dict(
        couples=[1],
        contraception=[steril("K2", "W1", "2020-01-01"), steril("K1", "W1", "2021-01-01")],
    ),
    # the husband's record has the lesser id: his
    "husbands-record-first": dict(
        couples=[2],
        contraception=[
            steril("K5", "W2", "2020-01-01"),
            steril("K3", "H2", "2020-01-01", method="male_sterilization"),
        ],
    ),
    # K6 in force on R1 but ended on R2's start; K7 falsified before R1; K8 started after R2;
    # K9 no sterilisation
    "ended-falsified-not-yet": dict(
        couples=[3],
        contraception=[
            steril("K6", "W3", "2020-01-01", end="2024-09-01"),
            steril("K7", "W3", "2020-01-01", falsified="2024-02-01"),
            steril("K8", "W3", "2024-09-02"),
            steril("K9", "W3", "2020-01-01", method="iud"),
        ],
    ),
    # C4: G2 ongoing on R1 (it ended on the start itself), G1 ended 10 days before R2 (G1
    # detected after R1's start); C5: G3 ongoing on R2, G5 detected after it
    "pregnancies": dict(
        couples=[4, 5],
        pregnancies=[
            preg("G2", "C4", "2023-08-01", "2024-03-01"),
            preg("G1", "C4", "2024-03-02", "2024-08-22"),
            preg("G3", "C5", "2024-08-30"),
            preg("G5", "C5", "2024-09-02"),
            preg("G4", "C9X", "2024-01-01"),  # of no known couple: nobody's
        ],
    ),
    # first listed attendance outside the window, a later one inside; the other round's; none
    "attendance": dict(
        couples=[6, 7, 8, 9],
        attendance=[
            att("R1", "W6", "2024-03-20"),
            att("R1", "W6", "2024-03-05"),
            att("R2", "W7", "2024-09-15"),
            att("R2", "W8", None),
            att("R1", "W9", "2024-02-28"),
            att("R9", "W6", "2024-03-05"),
        ],
    ),
}


def both_ways(tables, period="2024", kept=False):
    """C4's finds both ways; ``kept``: the tables in a Memo, whose scopes give the couples' and
    spouses' positions (else each id is looked up)."""
    p = parse_period(period)
    tables = Memo(tables) if kept else tables
    w = _round_wives(tables, load_params(), p)
    assert all(k in w for k in ("_couple", "_wife", "_husband")) == kept
    return w, _found_by_positions(tables, w), _found_by_merges(tables, w)


@pytest.mark.parametrize("kept", [False, True], ids=["looked-up", "from-the-scopes"])
@pytest.mark.parametrize("case", list(CASES))
def test_positions_agree_with_the_readable_rule(case, kept):
    w, fast, plain = both_ways(dataset(**CASES[case]), kept=kept)
    assert fast is not None
    assert list(fast) == list(plain)
    for k in plain:
        pd.testing.assert_series_equal(fast[k], plain[k], check_names=False, obj=k)


@pytest.mark.parametrize(
    ("case", "column", "expected"),
    [
        ("two-records-lesser-id", "steril", ["K1", "K1"]),
        ("husbands-record-first", "steril", ["K3", "K3"]),
        ("ended-falsified-not-yet", "steril", ["K6", None]),
        ("pregnancies", "preg_on", ["G2", None, None, "G3"]),
        ("pregnancies", "ended_id", [None, None, "G1", None]),
        ("attendance", "att_ok", [True, False, False, False, False, True, False, False]),
    ],
)
def test_what_positions_find_by_hand(case, column, expected):
    """Rows: R1's couples, then R2's (each by couple id)."""
    _, fast, _ = both_ways(dataset(**CASES[case]))
    got = fast[column].astype(object).where(fast[column].notna(), None).tolist()
    assert got == expected


def test_first_attendance_date_is_the_first_listed():
    _, fast, _ = both_ways(dataset(**CASES["attendance"]))
    days = fast["att_date"].dt.strftime("%Y-%m-%d")
    assert days.astype(object).where(days.notna(), None).tolist()[:4] == [
        "2024-03-20",  # W6: listed first, outside; a later one inside makes att_ok
        None,
        None,
        "2024-02-28",  # W9: before the window
    ]


@pytest.mark.parametrize(
    "unknown",
    [
        pytest.param({"contraception": [steril("K1", "X1", "2020-01-01")]}, id="sterilised-X"),
        pytest.param({"attendance": [att("R1", "X1", "2024-03-05")]}, id="attended-X"),
    ],
)
def test_a_person_not_in_persons_takes_the_readable_rule(unknown):
    tables = dataset(couples=[1, 2], **unknown)
    w, fast, _ = both_ways(tables)
    assert fast is None
    rows = check_rows(tables, load_params(), parse_period("2024"))
    assert len(rows) == len(w)


def test_a_round_id_twice_takes_the_readable_rule():
    tables = dataset(couples=[1], attendance=[att("R1", "W1", "2024-03-05")])
    tables["check_rounds"] = coerce(
        "check_rounds",
        [
            {"round_id": "R1", "start_date": "2024-03-01", "end_date": "2024-03-15"},
            {"round_id": "R1", "start_date": "2024-09-01", "end_date": "2024-09-15"},
        ],
    )
    w, fast, plain = both_ways(tables)
    assert fast is None
    assert plain["att_ok"].tolist() == [True, False]  # each row's own window


# --------------------------------------------------------------------------- random datasets


def random_tables(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 40))
    day = pd.Timestamp("2023-06-01")

    def date(span=600, missing=0.2):
        if rng.random() < missing:
            return None
        return str((day + pd.Timedelta(days=int(rng.integers(0, span)))).date())

    contraception = [
        steril(
            f"K{int(rng.integers(0, 3 * n))}",  # repeated record ids now and then
            f"{'WH'[int(rng.integers(0, 2))]}{int(rng.integers(0, n))}",
            date(missing=0.1),
            end=date(missing=0.6),
            falsified=date(missing=0.8),
            method=rng.choice(["female_sterilization", "male_sterilization", "iud"]),
        )
        for _ in range(int(rng.integers(0, 2 * n)))
    ]
    pregnancies = [
        preg(
            f"G{int(rng.integers(0, 3 * n))}",
            f"C{int(rng.integers(0, n + 2))}",
            date(missing=0),
            date(),
        )
        for _ in range(int(rng.integers(0, 2 * n)))
    ]
    attendance = [
        att(f"R{int(rng.integers(1, 4))}", f"W{int(rng.integers(0, n))}", date())
        for _ in range(int(rng.integers(0, 3 * n)))
    ]
    return dataset(list(range(n)), contraception, pregnancies, attendance)


@pytest.mark.parametrize("seed", range(25))
def test_positions_agree_on_random_datasets(seed):
    w, fast, plain = both_ways(random_tables(seed), kept=bool(seed % 2))
    assert fast is not None
    for k in plain:
        pd.testing.assert_series_equal(fast[k], plain[k], check_names=False, obj=k)
