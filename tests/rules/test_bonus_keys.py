"""Key look-ups of the reward's fast path on text ids (hashed by pyarrow) against pandas' own
hashing: the position of the first of repeated keys, -1 for an absent one, a missing id finding a
missing key; and the new-certificate groups against the spouses found with ``reindex``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import sample_available

from fpanalysis.core import config
from fpanalysis.core.params import load_params
from fpanalysis.io.load import load_dataset
from fpanalysis.rules import bonus
from fpanalysis.rules.bonus.segments import lookup
from fpanalysis.rules.scope import couples_in_scope


def _pandas_lookup(keys: pd.Series, values: pd.Series) -> list[int]:
    """The first position of each value among ``keys`` by pandas' hashing of Python objects."""
    k = pd.Index(keys.astype(object))
    first = ~k.duplicated(keep="first")
    pos = pd.Index(k[first]).get_indexer(values.astype(object))
    return np.where(pos >= 0, np.flatnonzero(first)[np.maximum(pos, 0)], -1).tolist()


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"random-{s}") for s in range(6)])
def test_text_lookup_agrees_with_pandas_hashing(seed):
    rng = np.random.default_rng(seed)
    pool = [f"P{k:03d}" for k in range(int(rng.integers(1, 40)))] + [None]
    keys = pd.Series(rng.choice(pool, size=int(rng.integers(0, 60))), dtype="str")
    values = pd.Series(rng.choice(pool + ["absent"], size=int(rng.integers(1, 60))), dtype="str")
    assert lookup(keys, values).tolist() == _pandas_lookup(keys, values)


@pytest.mark.parametrize(
    "keys, values, expected",
    [
        pytest.param(["b", None, "b"], [None, "b", "c"], [1, 0, -1], id="missing-finds-missing"),
        pytest.param(["b", "a"], [None], [-1], id="missing-absent"),
        pytest.param(["甲", "乙"], ["乙", "甲"], [1, 0], id="chinese-ids"),
    ],
)
def test_text_lookup_cases(keys, values, expected):
    got = lookup(pd.Series(keys, dtype="str"), pd.Series(values, dtype="str"))
    assert got.tolist() == expected


def _groups_by_reindex(tables, params, start) -> pd.DataFrame:
    """The groups with the spouses found by ``reindex`` on the persons keyed by id (the first of
    a repeated id), as the rule was first written."""
    on = pd.Timestamp(start)
    scope = couples_in_scope(tables, params, on, childbearing_only=True)
    has_child = scope["couple_id"].isin(tables["children"]["couple_id"])
    scope = scope[~has_child & (scope["basis"] == "staff")].reset_index(drop=True)
    if scope.empty:
        return bonus.empty_groups()
    persons = tables["persons"].drop_duplicates("person_id").set_index("person_id")
    wife = persons.reindex(scope["wife_id"].to_numpy())
    husb = persons.reindex(scope["husband_id"].to_numpy())
    return bonus.new._payer_groups(scope, wife, husb, params, on)


def _sample(seed: int):
    """The sample dataset, each person's category and hire date drawn again (more staff couples
    in more units), a person listed twice (the first row counts), a spouse no row names and a
    spouse missing."""
    t = dict(load_dataset(config.SAMPLE_DIR, bonus.TABLES_NEEDED))
    rng = np.random.default_rng(seed)
    p = t["persons"].copy()
    p["category"] = pd.array(rng.choice(["staff", "floating", "outside"], len(p)), dtype="str")
    years = rng.integers(1995, 2030, len(p)).astype(str)
    p["hire_date"] = pd.to_datetime(pd.Series(years) + "-03-01").where(rng.random(len(p)) < 0.9)
    if seed % 2:
        twin = p.iloc[[3]].assign(category="outside")
        p = pd.concat([p, twin], ignore_index=True)
        c = t["couples"].copy()
        c.loc[c.index[1], "husband_id"] = "NOBODY"
        childless = ~c["couple_id"].isin(t["children"]["couple_id"])
        c.loc[c.index[childless][0], "husband_id"] = None
        t["couples"] = c
    t["persons"] = p
    return t


@pytest.mark.skipif(not sample_available(), reason="data/sample not generated")
@pytest.mark.parametrize("seed", [pytest.param(s, id=f"random-{s}") for s in range(4)])
def test_new_groups_agree_with_reindex(seed):
    t = _sample(seed)
    params = load_params()
    for start in ("2025-01-01", "2019-07-01"):
        got = bonus.new_certificate_groups(t, params, start)
        pd.testing.assert_frame_equal(got, _groups_by_reindex(t, params, start))
