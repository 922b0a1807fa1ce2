"""The budget's reduce (rulebook §5): partial cohort tables merged a few at a time into a running
total, in the workers.

Summing counts over equal keys is associative and commutative, so any tree over the partial tables
(any fan-in, any grouping, any order) must give the flat merge's cohorts, and the flat merge must
give a plain group-by of the rows. The partial tables here are made by hand: overlapping keys,
different unit lists, and one table out of key order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fpanalysis.core.params import load_params
from fpanalysis.engines.dask import bonus as db
from fpanalysis.engines.dask.cluster import dask_client
from fpanalysis.io import load_for_analysis
from fpanalysis.rules import bonus

START = 24_300
FIELDS = ("mode", "unit", "share", "first_m", "end_m", "birth_m", "count")


def cohorts(units, rows, start=START) -> bonus.Cohorts:
    """A partial cohort table: ``rows`` of (mode, unit id, share, first, end, birth, count)."""
    units = tuple(sorted(units))
    cols = list(zip(*rows, strict=True)) if rows else [()] * 7
    code = [units.index(u) for u in cols[1]]
    return bonus.Cohorts(
        units=units,
        mode=np.array(cols[0], np.int8),
        unit=np.array(code, np.int64),
        share=np.array(cols[2], np.int8),
        first_m=np.array(cols[3], np.int64),
        end_m=np.array(cols[4], np.int64),
        birth_m=np.array(cols[5], np.int64),
        count=np.array(cols[6], np.int64),
        start_m=start,
    )


def random_parts(seed: int, n: int = 9) -> list[bonus.Cohorts]:
    """``n`` partial tables drawn from a small key space (so keys repeat across tables)."""
    rng = np.random.default_rng(seed)
    pool = [f"U{k}" for k in range(7)]
    parts = []
    for k in range(n):
        units = sorted(rng.choice(pool, size=int(rng.integers(1, 5)), replace=False).tolist())
        keys = {
            (
                int(rng.integers(0, 2)),
                str(rng.choice(units)),
                int(rng.integers(0, 2)),
                START + int(rng.integers(0, 3)),
                START + int(rng.integers(3, 40)),
                START - int(rng.integers(0, 300)),
            )
            for _ in range(int(rng.integers(0, 30)))
        }
        rows = sorted((*key, int(rng.integers(1, 5))) for key in keys)
        if k == 3:  # a table out of key order
            rows = rows[::-1]
        parts.append(cohorts(units, rows))
    return parts


def group_by(parts, units=()) -> pd.DataFrame:
    """The cohorts' rows summed per key by pandas, unit ids spelled out."""
    frames = [
        pd.DataFrame({f: getattr(p, f) for f in FIELDS}).assign(
            unit=lambda d, p=p: (
                np.asarray(p.units, dtype=object)[d["unit"]] if len(p.units) else d["unit"]
            )
        )
        for p in parts
    ]
    keys = list(FIELDS[:-1])
    out = pd.concat(frames).groupby(keys, sort=True)["count"].sum().reset_index()
    return out.astype({"mode": "int64", "share": "int64"})


def spelled(c: bonus.Cohorts) -> pd.DataFrame:
    d = pd.DataFrame({f: getattr(c, f) for f in FIELDS})
    d["unit"] = np.asarray(c.units, dtype=object)[d["unit"]] if len(c.units) else d["unit"]
    return d.astype({"mode": "int64", "share": "int64"})


def assert_same(a: bonus.Cohorts, b: bonus.Cohorts) -> None:
    assert a.units == b.units
    assert (a.start_m, a.max_months) == (b.start_m, b.max_months)
    for f in FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype, f
        np.testing.assert_array_equal(x, y, err_msg=f)


def random_tree(items, rng):
    """Merge ``items`` along a random tree: random groups of two or more, in random order."""
    level = list(items)
    while len(level) > 1:
        rng.shuffle(level)
        out, i = [], 0
        while i < len(level):
            size = int(rng.integers(1, 4))
            group = level[i : i + size]
            out.append(db.merge_cohorts(group) if len(group) > 1 else group[0])
            i += size
        level = out
    return level[0]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_flat_merge_is_a_group_by(seed):
    parts = random_parts(seed)
    merged = db.merge_cohorts(parts, units=["U9"])
    assert "U9" in merged.units and merged.units == tuple(sorted(merged.units))
    pd.testing.assert_frame_equal(spelled(merged), group_by(parts))


@pytest.mark.parametrize("fan_in", [2, 3, 4, 8, 100])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_fan_in_gives_the_flat_merge(seed, fan_in):
    parts = random_parts(seed)
    flat = db.merge_cohorts(parts, units=["U9"])
    top = db.reduce_chain(parts, db.merge_cohorts, fan_in)
    assert len(top) <= max(2, fan_in)
    assert_same(db.merge_cohorts(top, units=["U9"]), flat)


@pytest.mark.parametrize("shape", range(6))
def test_any_tree_gives_the_flat_merge(shape):
    parts = random_parts(shape + 10)
    rng = np.random.default_rng(shape)
    root = random_tree(parts, rng)
    assert_same(db.merge_cohorts([root], units=["U9"]), db.merge_cohorts(parts, units=["U9"]))


@pytest.mark.parametrize("chunk", [1, 2, 7, 1 << 20])
def test_the_merge_in_chunks_of_the_key_order_is_the_same(monkeypatch, chunk):
    parts = random_parts(4)
    want = group_by(parts)
    monkeypatch.setattr(db, "MERGE_CHUNK", chunk)
    pd.testing.assert_frame_equal(spelled(db.merge_cohorts(parts)), want)


def test_the_running_total_takes_the_next_parts_in_order():
    """Merges of at most ``fan_in`` tables: the first ``fan_in``, then the total and the next."""
    shown = lambda group: "(" + "+".join(group) + ")"  # noqa: E731
    assert db.reduce_chain(list("abcdefg"), shown, 3) == ["(((a+b+c)+d+e)+f+g)"]
    assert db.reduce_chain(list("abcde"), shown, 4) == ["((a+b+c+d)+e)"]
    assert db.reduce_chain(list("abc"), shown, 3) == ["a", "b", "c"]  # the root merges these
    assert db.reduce_chain([], shown, 3) == []


def test_a_chain_over_empty_and_missing_tables():
    """A partition with no cohort, and a task whose parts hold none (a failed partition)."""
    parts = [cohorts([], []), *random_parts(5, 3), cohorts(["U1"], [])]
    assert_same(
        db.merge_cohorts(db.reduce_chain(parts, db.merge_cohorts, 2)), db.merge_cohorts(parts)
    )
    assert db.merge_task("cohorts", db.Partial(), db.Partial()) is None
    merged = db.merge_task("cohorts", db.Partial(cohorts=parts[1]), None, parts[2], units=["U0"])
    assert_same(merged, db.merge_cohorts(parts[1:3], units=["U0"]))


def test_hand_made_cohorts_merge_to_their_sums():
    a = cohorts(["U1", "U2"], [(0, "U1", 0, START, START + 9, START - 5, 2)])
    b = cohorts(["U2", "U3"], [(0, "U1", 0, START, START + 9, START - 5, 3)][:0])
    c = cohorts(
        ["U1", "U3"],
        [(0, "U1", 0, START, START + 9, START - 5, 1), (1, "U3", 1, START, START + 1, START, 4)],
    )
    m = db.merge_cohorts(db.reduce_chain([a, b, c], db.merge_cohorts, 2))
    assert m.units == ("U1", "U2", "U3")
    assert m.unit.tolist() == [0, 2] and m.count.tolist() == [3, 4]


def in_a_worker() -> bool:
    from distributed import get_worker

    try:
        get_worker()
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("fan_in", [2, 3, 64])
def test_the_reduce_on_dask_gives_the_pandas_budget(monkeypatch, sample_dir, fan_in, arrivals):
    """The sample cut into 11 partitions: running totals of one to ten merges, in the workers.

    Every merge runs in a worker, and the driver receives the partitions'
    summaries without their cohorts and one merged table per reduce: a driver
    that gathered the partial tables, or merged any, fails here.
    """
    monkeypatch.setattr(db, "FAN_IN", fan_in)
    monkeypatch.setattr(db, "MERGE_CHUNK", 50)
    merges = []
    merge = db.merge_cohorts

    def recording(parts, units=()):
        merges.append((in_a_worker(), len(parts)))
        return merge(parts, units)

    monkeypatch.setattr(db, "merge_cohorts", recording)
    params = load_params()
    ds = load_for_analysis(sample_dir, bonus.TABLES_NEEDED)
    with dask_client(n_workers=2, processes=False, memory_limit="2GB") as client:
        res = db.budget(client, None, params, months=36, tables=ds, partitions=11, liability=True)
    assert res.partitions == 11
    start = bonus.default_start(ds)
    want = bonus.BonusModel.build(ds, params, start, max_months=36)
    assert res.model.units == want.units
    assert_same(res.model.cohorts, want.cohorts)
    pd.testing.assert_frame_equal(
        res.model.project(params, 36, 10, 0).table(), want.project(params, 36, 10, 0).table()
    )
    pd.testing.assert_frame_equal(res.liability, bonus.liability(ds, params, start))

    below: list = []
    db.reduce_chain(range(11), below.append, fan_in)  # the merges below the root
    assert len(merges) == 2 * (len(below) + 1)  # cohorts and liability, each with its root
    assert all(worker for worker, _ in merges)
    assert max(n for _, n in merges) <= max(fan_in, 2)
    summaries = [o for o in arrivals if isinstance(o, db.Partial) and o.groups is not None]
    assert len(summaries) == 11
    partials = [o for o in arrivals if isinstance(o, db.Partial)]
    assert all(o.cohorts is None and o.liability is None for o in partials)
    received = [o for o in arrivals if isinstance(o, bonus.Cohorts)]
    assert len(received) == 2  # the two roots' merged tables, nothing below them
    assert_same(received[0], want.cohorts)
