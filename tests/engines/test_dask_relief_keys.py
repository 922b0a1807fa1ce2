"""The driver's compact forms of a relief round's keys (``relief_keys``), against the plain
statements they replace: the keys joined with ``pd.concat`` then made categoricals, and the
ranking's texts written in place in an object column then made a categorical. No cluster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pt
import pytest

from fpanalysis.core.params import load_params
from fpanalysis.engines.dask import relief as dr
from fpanalysis.engines.dask import relief_keys as rk
from fpanalysis.rules import relief as rl

P = load_params()
DAY = pd.Timestamp("2025-06-30")


def part(ids, pools, fp_types):
    return pd.DataFrame(
        {"pool": pools, "household_id": ids, "fp_type": pd.Series(fp_types, dtype="str")}
    )


def test_merged_keys_are_the_joined_keys_as_categoricals():
    a = part(["HA1", "HA2"], ["rural", "rural"], ["only_son", None])
    b = part(["HB1"], ["urban"], ["two_daughters"])
    plain = pd.concat([a, b], ignore_index=True).astype({"pool": "category", "fp_type": "category"})
    frames = [a, b]
    got = rk.merge_keys(frames)
    pt.assert_frame_equal(got, plain)
    assert list(got["pool"].cat.categories) == ["rural", "urban"]
    assert got["fp_type"].isna().tolist() == [False, True, False]
    assert frames == []  # emptied: the driver does not hold the partitions' keys as well


def test_no_keys_merge_to_an_empty_frame_of_the_key_columns():
    got = rk.merge_keys([])
    assert list(got.columns) == rk.KEY_COLUMNS and len(got) == 0


def written_in_place(n, pieces):
    """The plain statement: every piece's texts written into an object column, then categorical."""
    values = np.full(n, np.nan, dtype=object)
    for start, codes, texts in pieces:
        values[start : start + len(codes)] = [texts[c] if c >= 0 else np.nan for c in codes]
    return pd.Categorical(values)


@pytest.mark.parametrize(
    "n, pieces",
    [
        pytest.param(
            6,
            [
                (0, np.array([-1, 0, 1, 0], np.int32), np.array(["tier", "fp_priority"], object)),
                (4, np.array([0, 1], np.int32), np.array(["household_id", "tier"], object)),
            ],
            id="two-pools-sharing-a-text",
        ),
        pytest.param(3, [(1, np.array([-1], np.int32), np.zeros(0, object))], id="rank-1-only"),
        pytest.param(2, [], id="nobody-ranked"),
    ],
)
def test_texts_categorical_is_the_texts_written_in_place(n, pieces):
    got = rk._texts_categorical(n, pieces)
    pt.assert_series_equal(pd.Series(got), pd.Series(written_in_place(n, pieces)))


def households():
    from fpanalysis.core.schema import coerce

    rows = [
        ("HA1", "urban", 1, 300.0, "2025-01-05", True),
        ("HA2", "rural", 2, 900.0, "2025-01-06", False),
        ("HB1", "urban", 1, 100.0, "2025-02-01", False),
        ("HB2", "rural", 1, 200.0, "2025-02-02", False),
        ("HC1", "urban", 3, 5000.0, "2025-03-01", False),
        ("HC2", "rural", 1, 350.0, "2025-03-02", True),
    ]
    hh = coerce(
        "households",
        [
            {
                "household_id": h,
                "head_name": "某" + h,
                "area": area,
                "size": size,
                "monthly_income": income,
                "application_date": day,
                "receiving": receiving,
            }
            for h, area, size, income, day, receiving in rows
        ],
    )
    mm = coerce(
        "household_members",
        [
            {"member_id": "M" + h, "household_id": h, "relation": "head", "sex": "F"}
            for h, *_ in rows
        ],
    )
    return {"households": hh, "household_members": mm}


@pytest.mark.parametrize(
    "kw",
    [
        pytest.param({"pool": "separate", "quota": {"urban": 1, "rural": 1}}, id="separate"),
        pytest.param({"pool": "all", "budget_yuan": 1500}, id="all-budget"),
    ],
)
def test_key_table_empties_the_keys_and_is_the_full_tables_keys(kw):
    tables = households()
    order = P.at("ranking_order", DAY)
    keys = []
    for p in dr.split_by_household(tables, 3):
        a, _ = rl.prepare_round(p, P, DAY, pool=kw["pool"], previous_round=None)
        keys.append(rk.sort_partition(a, order)[rk.KEY_COLUMNS].reset_index(drop=True))
    kt = rk.key_table(keys, order, **kw)
    assert keys == []
    full = rl.rank_households(tables, P, DAY, **kw)
    t = kt.table.astype({c: full.table[c].dtype for c in rk.CATEGORICAL})
    pt.assert_frame_equal(t, full.table[list(t.columns)])
    assert kt.notes == full.notes
