"""The budget table built fast (labels from Arrow, money as fen) against the table read plainly:
one row per period and unit, period-major, the money as yuan Decimals of whole fen."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from fpanalysis.rules import bonus


def _plain(pr: bonus.BonusProjection, by) -> pd.DataFrame:
    """The table as its docstring reads: sum to the level, percentiles over the summed draws."""
    c, n = pr.committed_fen, pr.new_fen
    if "unit_id" not in by:
        c, n = c.sum(axis=0, keepdims=True), n.sum(axis=1, keepdims=True)
    months = list(range(pr.start_m, pr.start_m + c.shape[1]))
    if "month" in by:
        periods = [bonus.month_label(m) for m in months]
        key = list(range(len(months)))
    elif "year" in by:
        periods = sorted({m // 12 for m in months})
        key = [periods.index(m // 12) for m in months]
    else:
        periods, key = [None], [0] * len(months)
    units = list(pr.units) if "unit_id" in by else [None]
    rows = []
    for pi, period in enumerate(periods):
        cols = [k for k, v in enumerate(key) if v == pi]
        for ui, unit in enumerate(units):
            row = {}
            if period is not None:
                row["month" if "month" in by else "year"] = period
            if unit is not None:
                row["unit_id"] = unit
            row["committed_yuan"] = Decimal(int(c[ui, cols].sum())).scaleb(-2)
            draws = n[:, ui][:, cols].sum(axis=1)
            for q, level in (("p10", 10), ("p50", 50), ("p90", 90)):
                fen = int(np.percentile(draws, level, method="inverted_cdf"))
                row[f"new_{q}_yuan"] = Decimal(fen).scaleb(-2)
            rows.append(row)
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"random-{s}") for s in range(4)])
@pytest.mark.parametrize(
    "by",
    [
        pytest.param(("month", "unit_id"), id="month-unit"),
        pytest.param(("year", "unit_id"), id="year-unit"),
        pytest.param(("month",), id="month"),
        pytest.param(("unit_id",), id="unit"),
        pytest.param((), id="horizon"),
    ],
)
def test_table_agrees_with_the_plain_reading(seed, by):
    rng = np.random.default_rng(seed)
    units = tuple(f"U{k}" for k in range(int(rng.integers(1, 5))))
    months, draws = int(rng.integers(1, 30)), 1 + seed % 3  # one draw: each percentile is it
    committed = rng.integers(0, 5000, size=(len(units), months))
    new = rng.integers(0, 3000, size=(draws, len(units), months))
    pr = bonus.BonusProjection(2024 * 12 + int(rng.integers(0, 12)), units, committed, new)
    got = pr.table(by)
    want = _plain(pr, by)
    assert list(got.columns) == list(want.columns)
    for c in got.columns:
        assert got[c].tolist() == want[c].tolist(), c
    as_fen = pr.table(by, fen=True)
    for c in got.columns:
        if c.endswith("_yuan"):
            assert as_fen[c].dtype == np.int64
            assert bonus.fen_to_yuan(as_fen[c].to_numpy()) == got[c].tolist()
        else:
            pd.testing.assert_series_equal(as_fen[c], got[c])


def test_table_labels_typed_as_lists_give_them():
    """Month and unit labels are text columns, years whole numbers, as lists of them give."""
    pr = bonus.BonusProjection(24300, ("U1", "U2"), np.ones((2, 14), np.int64), np.ones((1, 2, 14)))
    t = pr.table()
    plain = pd.DataFrame(
        {"month": [m for m in pr.months for _ in pr.units], "unit_id": list(pr.units) * 14}
    )
    pd.testing.assert_frame_equal(t[["month", "unit_id"]], plain)
    y = pr.table(("year", "unit_id"))
    assert y["year"].dtype == pd.DataFrame({"year": [2025, 2026]})["year"].dtype
    empty = bonus.BonusProjection(24300, (), np.zeros((0, 3), np.int64), np.zeros((1, 0, 3)))
    e, f = empty.table(), empty.table(fen=True)
    assert len(e) == len(f) == 0
    assert e[["month", "unit_id"]].dtypes.equals(f[["month", "unit_id"]].dtypes)


@pytest.mark.parametrize(
    "block, parallel_min",
    [
        pytest.param(1, 10**9, id="one-unit-blocks"),
        pytest.param(3 * 37 * 5, 0, id="five-unit-blocks-two-threads"),
    ],
)
def test_projected_cohorts_by_blocks_of_units_are_the_same(monkeypatch, block, parallel_min):
    """The count table turned into fen a block of units at a time (and the runs' halves summed
    from two threads) gives the fen of the whole table at once."""
    import sys
    from pathlib import Path

    from fpanalysis.core.params import load_params
    from fpanalysis.rules.bonus import parallel

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import bench_bonus as bb

    t = bb.synth_tables(3000, seed=11)
    seg, _ = bonus.certificate_segments(t, with_info=False)
    start = bonus.parse_month(bb.START)
    c = bonus.compress(seg, start, max_months=36)
    params = load_params().with_overrides({"reward_split": "half"}, source="test")
    mp = bonus.MonthlyParams.of(params, start, 36)
    whole = bonus.project_cohorts(c, mp)
    assert len(c.units) > 5 and whole.sum() > 0
    monkeypatch.setattr(parallel, "BLOCK", block)
    monkeypatch.setattr(parallel, "PARALLEL_MIN", parallel_min)
    assert np.array_equal(bonus.project_cohorts(c, mp), whole)
