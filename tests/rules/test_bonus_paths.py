"""The budget engine's fast paths (rulebook §5) give the same cohorts whatever the keys' shape.

``fpanalysis.rules.bonus`` picks a look-up per key column (consecutive integers: an
offset; sorted integers: bisection; anything else: a hash), folds typical and
atypical segments differently, and hands big tables to two threads. Every
path must give the same cohorts, and the same payments as an independent
engine (DuckDB's SQL in benchmarks/bench_bonus.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fpanalysis.rules import bonus
from fpanalysis.rules.bonus import cohorts, parallel
from fpanalysis.rules.bonus.months import month_or
from fpanalysis.rules.bonus.segments import factorize_units, lookup

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_bonus as bb  # noqa: E402

N = 4000
START = bonus.parse_month(bb.START)


@pytest.mark.parametrize(
    "keys, values, expected",
    [
        # consecutive: offsets
        pytest.param([10, 11, 12, 13], [13, 10, 14, 9], [3, 0, -1, -1], id="consecutive"),
        # sorted with a repeat: the first wins
        pytest.param([10, 20, 20, 30], [30, 20, 25], [3, 1, -1], id="sorted-repeat"),
        # values out of order
        pytest.param([10, 20, 30], [30, 10, 20], [2, 0, 1], id="values-unsorted"),
        # unsorted keys: hashed
        pytest.param([30, 10, 20], [10, 30, 40], [1, 0, -1], id="keys-unsorted"),
        # strings: hashed, first wins
        pytest.param(["b", "a", "b"], ["a", "b", "c"], [1, 0, -1], id="strings"),
        pytest.param([], [1, 2], [-1, -1], id="empty"),
    ],
)
def test_lookup(keys, values, expected):
    k = pd.Series(keys, dtype="int64" if keys and isinstance(keys[0], int) else "str")
    v = pd.Series(values, dtype="int64" if isinstance(values[0], int) else "str")
    assert lookup(k, v).tolist() == expected


@pytest.mark.parametrize(
    "dates, expected",
    [
        pytest.param(["2024-02-29", "2025-01-01"], [24289, 24300], id="leap-day"),
        pytest.param(
            ["1969-12-31", None, "1900-02-28"], [23639, -1, 22801], id="before-1970-and-missing"
        ),  # before 1970; missing
        pytest.param([None, None], [-1, -1], id="all-missing"),
    ],
)
def test_month_or(dates, expected):
    s = pd.Series(pd.to_datetime(pd.Series(dates, dtype="object")), dtype="datetime64[ns]")
    assert month_or(s, -1).tolist() == expected


def _cohorts(tables) -> bonus.Cohorts:
    seg, _ = bonus.certificate_segments(tables, with_info=False)
    return bonus.compress(seg, START, max_months=bb.MONTHS)


def _same(a: bonus.Cohorts, b: bonus.Cohorts) -> bool:
    return a.units == b.units and all(
        np.array_equal(getattr(a, f), getattr(b, f))
        for f in ("mode", "unit", "share", "first_m", "end_m", "birth_m", "count")
    )


@pytest.fixture(scope="module")
def tables():
    return bb.synth_tables(N, seed=3)


def _gapped(t):
    """Person ids 0, 3, 6, ... (sorted, not consecutive): the bisection path."""
    t = {k: v.copy() for k, v in t.items()}
    t["persons"]["person_id"] *= 3
    for c in ("wife_id", "husband_id"):
        t["couples"][c] *= 3
    t["certificates"]["payee_id"] *= 3
    return t


def _shuffled(t):
    """Every table's rows in a random order: unsorted keys, the hash path."""
    rng = np.random.default_rng(0)
    return {k: v.iloc[rng.permutation(len(v))].reset_index(drop=True) for k, v in t.items()}


def _strings(t):
    """Ids as text, as a county's files have them."""
    t = {k: v.copy() for k, v in t.items()}
    for name, cols in {
        "persons": ["person_id"],
        "couples": ["couple_id", "wife_id", "husband_id"],
        "children": ["child_id", "couple_id"],
        "certificates": ["cert_id", "couple_id", "child_id", "payee_id"],
    }.items():
        for c in cols:
            t[name][c] = ("X" + t[name][c].astype(str)).astype("str")
    return t


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(_gapped, id="sorted-with-gaps"),
        pytest.param(_shuffled, id="shuffled"),
        pytest.param(_strings, id="string-ids"),
    ],
)
def test_every_key_path_gives_the_same_cohorts(tables, variant):
    assert _same(_cohorts(tables), _cohorts(variant(tables)))


def test_two_threads_give_the_same_cohorts(tables, monkeypatch):
    serial = _cohorts(tables)
    monkeypatch.setattr(parallel, "PARALLEL_MIN", 0)
    assert _same(serial, _cohorts(tables))


@pytest.mark.parametrize(
    "dense_max",
    [
        pytest.param(cohorts.DENSE_MAX, id="dense-table"),
        pytest.param(0, id="hash-only"),
    ],
)
def test_fold_paths_agree_with_duckdb(tables, monkeypatch, dense_max):
    monkeypatch.setattr(cohorts, "DENSE_MAX", dense_max)
    _, ours, _ = bb.run_fpanalysis(tables, bb.bench_params())
    _, duck = bb.run_duckdb(tables, bb.bench_params(), threads=1)
    assert ours.sum() > 0
    assert ours.equals(duck)


def test_unit_codes_of_a_chunked_arrow_column():
    # concatenated frames keep one Arrow chunk each, each with its own dictionary once encoded
    s = pd.concat(
        [pd.Series(["b", "a", None], dtype="str"), pd.Series(["c", "a", "b"], dtype="str")],
        ignore_index=True,
    )
    codes, labels = factorize_units(s)
    assert codes.tolist() == [0, 1, -1, 2, 1, 0]
    assert list(labels) == ["b", "a", "c"]


@pytest.mark.parametrize(
    "split",
    [
        pytest.param("payee", id="payee"),
        pytest.param("half", id="half"),
    ],
)
def test_projection_does_not_need_sorted_cohorts(tables, split, monkeypatch):
    c = _cohorts(tables)
    rev = bonus.Cohorts(
        c.units,
        *(
            getattr(c, f)[::-1].copy()
            for f in ("mode", "unit", "share", "first_m", "end_m", "birth_m", "count")
        ),
        start_m=c.start_m,
        max_months=c.max_months,
    )
    p = bb.bench_params().with_overrides(
        {"reward_split": split, "reward_age_cap": {"2026-09-01": 16}}
    )
    mp = bonus.MonthlyParams.of(p, START, bb.MONTHS)
    want = bonus.project_cohorts(c, mp)
    assert want.sum() > 0
    assert np.array_equal(bonus.project_cohorts(rev, mp), want)
    monkeypatch.setattr(parallel, "PARALLEL_MIN", 0)  # two halves per run of months
    assert np.array_equal(bonus.project_cohorts(c, mp), want)


def _hand_cohorts() -> bonus.Cohorts:
    """Seven hand-made cohorts over two units (readable labels), sorted by mode: four of mode 0,
    three of mode 1; month 24300 is 2025-01."""
    return bonus.Cohorts(
        ("county-east", "county-west"),
        mode=np.array([0, 0, 0, 0, 1, 1, 1], np.int8),
        unit=np.array([0, 1, 0, 1, 0, 1, 1]),
        share=np.array([0, 0, 0, 0, 1, 2, 0], np.int8),
        first_m=np.array([24300, 24301, 24302, 24300, 24300, 24300, 24303]),
        end_m=np.array([24310, 24302, 24310, 24300, 24310, 24310, 24310]),
        birth_m=np.array([24150, 24200, 24290, 24100, 24200, 24200, 24250]),
        count=np.array([2, 1, 3, 5, 1, 1, 4]),
        start_m=24300,
    )


@pytest.mark.parametrize("slice_size", [1, 2, 3, 7, 100])
@pytest.mark.parametrize("split", [0, 1])
def test_sliced_projection_equals_whole(slice_size, split):
    c = _hand_cohorts()
    mp = bonus.MonthlyParams(
        np.arange(24300, 24306),
        np.array([2000, 2000, 2000, 3000, 3000, 3000]),
        np.array([14, 14, 14, 14, 14, 12]),
        np.full(6, split, np.int8),
        np.ones(6),
    )
    whole = cohorts.project_cohorts(c, mp, slice_size=1 << 20)
    assert whole.sum() > 0
    assert np.array_equal(cohorts.project_cohorts(c, mp, slice_size=slice_size), whole)
    if split == 0:
        # mode 0 only: east holds 2 (born 2012-07, cap 12 from the sixth month stops them) + 3 from
        # the third month; west 1 in the second and third (its 5 born 2008-05 turned 14 in 2022)
        fen = np.array([2000, 2000, 2000, 3000, 3000, 3000])
        east = 2 * fen * np.array([1, 1, 1, 1, 1, 0]) + 3 * fen * np.array([0, 0, 1, 1, 1, 1])
        west = fen * np.array([0, 1, 1, 0, 0, 0])
        assert whole.tolist() == [east.tolist(), west.tolist()]


def test_sliced_projection_unsorted_and_threaded(monkeypatch):
    c = _hand_cohorts()
    rev = bonus.Cohorts(
        c.units,
        *(
            getattr(c, f)[::-1].copy()
            for f in ("mode", "unit", "share", "first_m", "end_m", "birth_m", "count")
        ),
        start_m=c.start_m,
    )
    mp = bonus.MonthlyParams(
        np.arange(24300, 24306),
        np.full(6, 2000),
        np.array([14, 14, 14, 12, 12, 12]),
        np.array([0, 0, 1, 1, 0, 0], np.int8),
        np.ones(6),
    )
    whole = cohorts.project_cohorts(c, mp)
    monkeypatch.setattr(parallel, "PARALLEL_MIN", 0)  # slices handed to two threads
    for size in (1, 2, 3):
        assert np.array_equal(cohorts.project_cohorts(c, mp, slice_size=size), whole)
        assert np.array_equal(cohorts.project_cohorts(rev, mp, slice_size=size), whole)
