"""The selection on arrays (``select_arrays``, ``rank_and_select_arrays``: what the Dask driver
runs on a province's keys) against the readable statement it stands beside (``select_pool``,
``rank_and_select``): the same households selected, the same cumulative amounts, the same texts
and notes. Hand-made pools with readable ids, and the sample's pools."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fpanalysis.core.params import load_params
from fpanalysis.io import load_for_analysis
from fpanalysis.rules import relief as rl
from fpanalysis.rules.relief import selection as sl
from fpanalysis.rules.relief.ranking import (
    _narrowed,
    decided_by,
    rank_keys,
    rank_positions,
    sort_frame,
    sorted_order,
)

P = load_params()
DAY = pd.Timestamp("2025-06-30")


def decoded(codes, texts):
    """``(codes, texts)`` as the texts a row (``None`` for -1)."""
    return [None if c < 0 else texts[c] for c in codes]


def readable(values):
    return [None if pd.isna(v) else v for v in values]


def assert_same_selection(cols, notes, sel, sel_notes):
    assert cols["selected"].tolist() == sel["selected"].astype(bool).tolist()
    assert [sl.SELECTION_CODES[c] for c in cols["selection"]] == sel["selection"].tolist()
    assert readable(cols["cumulative_fen"]) == readable(sel["cumulative_fen"])
    for c in ("why_zh", "why_en"):
        codes, texts = cols[c]
        assert decoded(codes, texts) == readable(sel[c]), c
        assert len(set(codes.tolist())) == len(texts)  # every text used
    assert notes == sel_notes


def ranked(ents):
    n = len(ents)
    return pd.DataFrame(
        {
            "household_id": [f"H{i + 1}" for i in range(n)],
            "rank": pd.array(np.arange(1, n + 1), dtype="Int64"),
            "entitlement_yuan": pd.array(ents, dtype="Int64"),
        }
    )


#: Pools and limits, each one's outcome checkable by hand from its id.
POOLS = [
    pytest.param([300, 200, 100, 50], [False] * 4, {"quota": 2}, id="quota-2"),
    pytest.param([300, 200, 100, 50], [False, True, False, False], {"quota": 2}, id="quota-inc"),
    pytest.param([300, 200, 100], [True, True, True], {"quota": 2}, id="inc-over-quota"),
    pytest.param([300, 200, 100], [True, True, False], {"quota": 2}, id="inc-fill-quota"),
    pytest.param([300, 200, 100], [False] * 3, {"quota": 0}, id="quota-0"),
    pytest.param([300, 200, 100], [False] * 3, {"quota": 5}, id="quota-room"),
    pytest.param([300, 200, 100, 50], [False] * 4, {"budget_yuan": 550}, id="budget"),
    pytest.param([300, 200, 100], [True, False, False], {"budget_yuan": 250}, id="inc-over-budget"),
    pytest.param([300, 200, 100], [True, False, False], {"budget_yuan": 300}, id="inc-use-budget"),
    pytest.param([100, 900, 50], [False] * 3, {"budget_yuan": 500.5}, id="budget-stops-early"),
    pytest.param(
        [300, 200, 100, 50],
        [False, False, True, False],
        {"quota": 3, "budget_yuan": 560},
        id="quota-and-budget",
    ),
    pytest.param([300, 0, 0, 100], [False] * 4, {"budget_yuan": 300}, id="free-households"),
    pytest.param([300, 200], [False, True], {}, id="no-limit"),
    pytest.param([], [], {"quota": 3}, id="nobody-ranked"),
]


@pytest.mark.parametrize(("ents", "incumbent", "limits"), POOLS)
def test_select_arrays_is_select_pool(ents, incumbent, limits):
    r = ranked(ents)
    inc = pd.Series(incumbent, index=r.index, dtype=bool)
    sel, sel_notes = sl.select_pool(r, inc, **limits)
    cols, notes = sl.select_arrays(
        r["household_id"], r["entitlement_yuan"].to_numpy(), np.array(incumbent, bool), **limits
    )
    assert_same_selection(cols, notes, sel, sel_notes)


@pytest.mark.parametrize(("ents", "incumbent", "limits"), POOLS)
def test_select_frame_is_select_pool(ents, incumbent, limits):
    """What the pandas round uses (``select_frame``) is the readable statement's frame: the same
    columns, values, types and row labels (here not numbered from 0)."""
    r = ranked(ents).set_axis([10 * k + 5 for k in range(len(ents))])
    inc = pd.Series(incumbent, index=r.index, dtype=bool)
    sel, sel_notes = sl.select_pool(r, inc, **limits)
    frame, notes = sl.select_frame(r, inc, **limits)
    pd.testing.assert_frame_equal(frame, sel, check_exact=True)
    assert notes == sel_notes


def test_select_frame_with_repeated_labels_is_select_pool():
    r = ranked([300, 200, 100]).set_axis([7, 7, 8])
    inc = pd.Series([False, True, False], index=[7, 7, 8], dtype=bool)
    sel, sel_notes = sl.select_pool(r, inc, quota=2)
    frame, notes = sl.select_frame(r, inc, quota=2)
    pd.testing.assert_frame_equal(frame, sel, check_exact=True)
    assert notes == sel_notes


def test_the_stop_names_the_first_household_that_does_not_fit():
    r = ranked([100, 900, 50])
    cols, _ = sl.select_arrays(
        r["household_id"], r["entitlement_yuan"].to_numpy(), np.zeros(3, bool), budget_yuan=500
    )
    why = decoded(*cols["why_en"])
    assert why[1].startswith("waiting: the budget has 400.00 yuan left")
    assert why[2] == "waiting: selection stopped at H2 (rank 2) above, which did not fit"
    assert cols["selection"].tolist() == [1, 2, 2]


@pytest.fixture(scope="module")
def sample_assessed():
    from fpanalysis.core.config import SAMPLE_DIR

    ds = load_for_analysis(SAMPLE_DIR, list(rl.RELIEF_TABLES))
    tables = {t: ds[t] for t in rl.RELIEF_TABLES}
    a, _ = rl.prepare_round(tables, P, DAY, pool="separate", previous_round=None)
    return a.reset_index(drop=True)


@pytest.mark.parametrize(
    "limits",
    [
        pytest.param({"quota": 5}, id="quota-under-incumbents"),
        pytest.param({"quota": 100}, id="quota-admits"),
        pytest.param({"budget_yuan": 60000}, id="budget-admits"),
        pytest.param({"budget_yuan": 3000}, id="budget"),
        pytest.param({"quota": 8, "budget_yuan": 5000}, id="both"),
        pytest.param({}, id="none"),
    ],
)
def test_rank_and_select_arrays_is_rank_and_select_on_the_sample(sample_assessed, limits):
    order = P.at("ranking_order", DAY)
    for p in sorted(sample_assessed["pool"].dropna().unique()):
        keys = sample_assessed[sample_assessed["pool"].eq(p)][list(sl.SELECTION_INPUT_COLUMNS)]
        keys = keys.reset_index(drop=True)
        sel, sel_notes = rl.rank_and_select(keys, order, p, pool="separate", texts=False, **limits)
        at, cols, notes = sl.rank_and_select_arrays(keys, order, p, pool="separate", **limits)
        assert at.tolist() == sel.index.tolist()
        assert_same_selection(cols, notes, sel, sel_notes)
        assert decoded(*cols["decided_by"]) == readable(sel["decided_by"])
        ranked_keys = rl.rank_pool(keys, order, texts=False)
        frame, _ = sl.select_frame(ranked_keys, ranked_keys["incumbent"], **limits)
        readable_frame, _ = sl.select_pool(ranked_keys, ranked_keys["incumbent"], **limits)
        pd.testing.assert_frame_equal(frame, readable_frame, check_exact=True)


def test_rank_positions_is_rank_keys_with_missing_keys():
    a = pd.DataFrame(
        {
            "household_id": ["H1", "H2", "H3", "H4", "H5"],
            "eligible": pd.array([True, True, True, None, True]),
            "tier": pd.array([1, None, None, 1, 1], dtype="Int64"),
            "fp_priority": [False, True, True, False, False],
            "pc_key": [100.0, np.nan, np.nan, 1.0, 100.0],
            "application_date": pd.to_datetime(["2025-01-01", None, None, None, "2025-01-02"]),
        }
    )
    order = P.at("ranking_order", DAY)
    e = rank_keys(a, order)
    pos, decided = rank_positions(a, order)
    assert pos.tolist() == e.index.tolist()
    assert [None if d < 0 else order[d] for d in decided] == readable(e["decided_by"])
    # the readable statement, on the keys sorted: the same words
    keys = sort_frame(a).loc[e.index]
    assert readable(decided_by(keys, order)) == readable(e["decided_by"])
    # H1, H5 (a later application), H2 (no tier), H3 (every key missing as H2's: by id)
    assert readable(e["decided_by"]) == [None, "application_date", "tier", "household_id"]


def test_the_decided_keys_are_the_readable_statement_on_the_sample(sample_assessed):
    order = list(P.at("ranking_order", DAY))
    e = rank_keys(sample_assessed, order)
    keys = sort_frame(sample_assessed).loc[e.index]
    assert readable(decided_by(keys, order)) == readable(e["decided_by"])
    assert e["decided_by"].notna().sum() == len(e) - 1


def _keys(ids, tier, fp, pc, day):
    return pd.DataFrame(
        {
            "tier": pd.array(tier, dtype="Int64"),
            "fp_priority": np.asarray(fp, dtype="int64"),
            "per_capita_income_yuan": np.asarray(pc, dtype="float64"),
            "application_date": pd.to_datetime(day).astype("datetime64[ns]"),
            "household_id": pd.array(ids, dtype="str"),
        }
    )


ORDER = ["tier", "fp_priority", "per_capita_income_yuan", "application_date", "household_id"]


@pytest.mark.parametrize(
    ("keys", "order", "expected"),
    [
        pytest.param(
            _keys(["H1", "H2", "H3"], [2, 1, 1], [0, 1, 0], [5, 5, 5], ["2025-01-01"] * 3),
            ORDER,
            [2, 1, 0],
            id="tier-then-priority",
        ),
        pytest.param(
            _keys(["H1", "H2", "H3"], [None, 1, None], [0, 0, 0], [1, 2, 0], ["2025-01-01"] * 3),
            ORDER,
            [1, 2, 0],
            id="missing-tier-last-then-income",
        ),
        pytest.param(
            _keys(
                ["H1", "H2", "H3"],
                [1, 1, 1],
                [0, 0, 0],
                [np.nan, 3, 3],
                [None, "2025-02-01", "2025-01-01"],
            ),
            ORDER,
            [2, 1, 0],
            id="missing-income-last-then-date",
        ),
        pytest.param(
            _keys(["H1", "H2", "H3"], [1, 1, 1], [0, 0, 0], [3, 3, 3], [None, None, "2025-01-01"]),
            ORDER,
            [2, 0, 1],
            id="missing-date-last-then-id",
        ),
        pytest.param(
            _keys(["H2", "H1", "H3"], [1, 1, 1], [0, 0, 0], [3, 3, 3], ["2025-01-01"] * 3),
            ORDER,
            [1, 0, 2],
            id="ids-out-of-order-readable-sort",
        ),
        pytest.param(
            _keys(["H1", "H2", "H3"], [1, 2, 1], [0, 0, 1], [9, 1, 3], ["2025-01-01"] * 3),
            ["per_capita_income_yuan", "tier", "household_id"],
            [1, 2, 0],
            id="another-order",
        ),
    ],
)
def test_sorted_order_is_the_readable_sort(keys, order, expected):
    """The ranking's lexsort over integers (ids listed in order) is the readable sort_values."""
    readable_order = keys.sort_values(order, kind="mergesort", na_position="last").index
    assert sorted_order(keys, order).tolist() == readable_order.tolist() == expected


DAY_NS = 86_400 * 10**9


@pytest.mark.parametrize(
    ("values", "missing", "unit", "expected", "dtype"),
    [
        pytest.param([3, 1, 2], [False] * 3, 1, [2, 0, 1], np.uint8, id="tiers-from-the-least"),
        pytest.param([7, 0, 9], [False, True, False], 1, [0, 0, 2], np.uint8, id="missing-as-0"),
        pytest.param([0, 300], [False] * 2, 1, [0, 300], np.uint16, id="over-8-bits"),
        pytest.param(
            [5, 5 + 70_000], [False] * 2, 1, [5, 70_005], np.int64, id="over-16-bits-as-is"
        ),
        pytest.param(
            [3 * DAY_NS, DAY_NS, 400 * DAY_NS],
            [False] * 3,
            DAY_NS,
            [2, 0, 399],
            np.uint16,
            id="dates-as-days",
        ),
        pytest.param(
            [DAY_NS, DAY_NS + 1],
            [False] * 2,
            DAY_NS,
            [DAY_NS, DAY_NS + 1],
            np.int64,
            id="not-whole-days-as-is",
        ),
        pytest.param([4, 4], [True, True], 1, [4, 4], np.int64, id="all-missing-as-is"),
    ],
)
def test_a_key_narrowed_keeps_its_order(values, missing, unit, expected, dtype):
    """A key in 8 or 16 bits where its span allows: the distances from the least present value
    (in days for dates), a missing row 0 (the missing key sorts it apart)."""
    got = _narrowed(np.asarray(values, np.int64), np.asarray(missing), unit)
    assert got.dtype == dtype
    assert got.tolist() == expected


def test_sorted_order_on_wide_spans_is_the_readable_sort():
    """Keys too wide for 16 bits (dates 200 years apart, tiers 100,000 apart, times of day) keep
    the merge sort: the same order as the readable sort."""
    keys = _keys(
        ["H1", "H2", "H3", "H4"],
        [100_000, 1, 1, 100_000],
        [0, 0, 0, 0],
        [1, 1, 1, 1],
        pd.to_datetime(
            ["2210-01-01", "2010-01-01", "2010-01-01 12:00", "2010-01-01"], format="ISO8601"
        ),
    )
    for order in (ORDER, ["application_date", "tier", "household_id"]):
        readable_order = keys.sort_values(order, kind="mergesort", na_position="last").index
        assert sorted_order(keys, order).tolist() == readable_order.tolist()


def test_sorted_order_is_the_readable_sort_on_many_ties():
    rng = np.random.default_rng(7)
    n = 5000
    tier = rng.integers(1, 4, n).astype(object)
    tier[rng.random(n) < 0.1] = None
    pc = rng.integers(0, 5, n).astype(float)
    pc[rng.random(n) < 0.1] = np.nan
    day = pd.to_datetime("2025-01-01") + pd.to_timedelta(rng.integers(0, 3, n), unit="D")
    day = day.where(rng.random(n) >= 0.1)
    keys = _keys([f"H{i:05d}" for i in range(n)], tier, rng.integers(0, 2, n), pc, day)
    for order in (ORDER, ORDER[::-1], ["application_date", "tier", "household_id"]):
        readable_order = keys.sort_values(order, kind="mergesort", na_position="last").index
        assert sorted_order(keys, order).tolist() == readable_order.tolist()
