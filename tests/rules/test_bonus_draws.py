"""The new certificates' draws kept small (rulebook §5): :func:`bonus.new_draws`, made a block of
units at a time, gives the fen of the readable rule (:func:`bonus.project_new` of
:func:`bonus.simulate_new`) draw for draw, and its reductions are those of the dense array."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fpanalysis.core.params import load_params
from fpanalysis.rules import bonus
from fpanalysis.rules.bonus import draws as draws_mod
from fpanalysis.rules.bonus import new as new_mod
from fpanalysis.rules.bonus import parallel

P = load_params()
UNITS = [f"U{i:02d}" for i in range(12)]


def groups_of(seed: int, n: int = 25) -> pd.DataFrame:
    """Random groups over UNITS: some with the other spouse's unit (one not among UNITS), a few
    couples each, four birth rates; sorted as new_certificate_groups sorts them."""
    rng = np.random.default_rng(seed)
    payee = rng.choice(UNITS[:9], n)  # U09 .. U11 pay nothing as payee
    other = rng.choice([*UNITS, "OUTSIDE", None], n)
    g = pd.DataFrame(
        {
            "payee_unit_id": payee.astype(str),
            "other_unit_id": pd.Series(other, dtype="str"),
            "rate": rng.choice([0.02, 0.08, 0.2, 0.9], n),
            "couples": rng.integers(1, 6, n).astype("int64"),
        }
    )
    return g.sort_values(["payee_unit_id", "other_unit_id", "rate"]).reset_index(drop=True)


CASES = {
    "36-months-lag-6": ({}, 36, 6),
    "lag-0": ({"lag_months": 0}, 24, 0),
    "lag-past-the-horizon": ({}, 5, 6),
    "cap-1-year-window-closes": ({"reward_age_cap": 1}, 40, 2),
    "half-split-from-2026": (
        {"reward_split": {"1900-01-01": "payee", "2026-01-01": "half"}},
        30,
        3,
    ),
    "amount-rises": ({"reward_monthly_yuan": {"1900-01-01": 10, "2026-06-01": 35.5}}, 36, 6),
}


@pytest.mark.parametrize("block_cells", [1 << 23, 300], ids=["one-block", "many-blocks"])
@pytest.mark.parametrize("overrides, months, lag", CASES.values(), ids=CASES.keys())
def test_blocks_give_the_readable_rules_fen_draw_for_draw(
    overrides, months, lag, block_cells, monkeypatch
):
    monkeypatch.setattr(draws_mod, "BLOCK_CELLS", block_cells)
    params = P.with_overrides(overrides)
    mp = bonus.MonthlyParams.of(params, bonus.parse_month("2025-07"), months)
    groups = groups_of(months + lag)
    dense = bonus.project_new(groups, bonus.simulate_new(groups, mp, lag, 40, 11), mp, lag, UNITS)
    small = bonus.new_draws(groups, mp, lag, 40, 11, UNITS)
    assert np.array_equal(small.dense(), dense)
    assert dense.any() or months <= lag


def test_slots_are_the_multinomials_counts_a_few_draws_at_a_time(monkeypatch):
    monkeypatch.setattr(new_mod, "SLOT_CHUNK", 100)  # one draw per call
    mp = bonus.MonthlyParams.of(P, bonus.parse_month("2025-07"), 36)
    groups = groups_of(5)
    issued = bonus.simulate_new(groups, mp, 6, 30, 2)
    slots = bonus.simulate_slots(groups, mp, 6, 30, 2)
    assert slots.shape == (groups["couples"].sum(), 30) and slots.dtype == np.uint8
    group_of = np.repeat(np.arange(len(groups)), groups["couples"])
    counts = np.zeros((30, len(groups), 36 - 6 + 1), np.int64)
    for d in range(30):
        np.add.at(counts[d], (group_of, slots[:, d]), 1)
    assert np.array_equal(counts[:, :, :-1], issued[:, :, 6:])  # last category: none issued


@pytest.mark.parametrize("threads", [False, True], ids=["in-turn", "two-threads"])
def test_reductions_equal_those_of_the_dense_array(threads, monkeypatch):
    monkeypatch.setattr(draws_mod, "BLOCK_CELLS", 500)
    if threads:  # a county's blocks go to two threads; here every size does
        monkeypatch.setattr(parallel, "PARALLEL_MIN", 0)
    mp = bonus.MonthlyParams.of(P, bonus.parse_month("2025-07"), 30)
    groups = groups_of(9, 40)
    small = bonus.new_draws(groups, mp, 4, 101, 3, UNITS)
    dense = small.dense()
    starts = [0, 6, 18]  # 2025-07 .. 12, 2026, 2027-01 .. 06
    pct, sums = small.unit_periods(starts, total=True)
    by_year = np.concatenate(
        [np.add.reduceat(dense, starts, axis=2), dense.sum(axis=2, keepdims=True)], axis=2
    )
    expected = np.percentile(by_year, [10, 50, 90], axis=0, method="inverted_cdf")
    assert np.array_equal(pct, expected.astype(np.int64))
    assert np.array_equal(sums, by_year.sum(axis=0))
    assert np.array_equal(small.month_totals(), dense.sum(axis=1))
    assert pct[:, 9:, :].sum() == 0  # U09 .. U11 are no payee; the other spouse's half only
    assert small.n_draws == 101 and small.shape == (101, 12, 30)


@pytest.mark.parametrize(
    "values, expected",
    [
        pytest.param([40, 10, 30, 20], [10, 20, 40], id="four-draws-actual-values"),
        pytest.param([7], [7, 7, 7], id="one-draw-is-every-percentile"),
        pytest.param(list(range(1, 11)), [1, 5, 9], id="ten-draws-1-to-10"),
        pytest.param([], [0, 0, 0], id="no-draw-zeros"),
    ],
)
def test_percentiles_are_actual_draws(values, expected):
    assert bonus.percentiles(np.array(values, np.int64)).tolist() == expected


@pytest.mark.parametrize("n_draws", [1, 60], ids=["one-draw", "60-draws"])
def test_a_table_takes_the_same_figures_from_either_form(n_draws):
    mp = bonus.MonthlyParams.of(P, bonus.parse_month("2025-07"), 24)
    groups = groups_of(21, 30)
    small = bonus.new_draws(groups, mp, 6, n_draws, 8, UNITS)
    committed = np.arange(12 * 24, dtype=np.int64).reshape(12, 24) * 100
    a = bonus.BonusProjection(bonus.parse_month("2025-07"), tuple(UNITS), committed, small)
    b = bonus.BonusProjection(bonus.parse_month("2025-07"), tuple(UNITS), committed, small.dense())
    for by in [("month", "unit_id"), ("year", "unit_id"), ("month",), ("year",), ()]:
        assert a.table(by).equals(b.table(by)), by


def _model():
    from tests.rules.test_bonus import childless, world

    return bonus.BonusModel.build(world(extra_couples=childless(30)), P, "2025-01", 36)


@pytest.mark.parametrize(
    "overrides, same_draws",
    [
        pytest.param({"reward_monthly_yuan": 35}, True, id="amount-same-draws"),
        pytest.param({"reward_age_cap": 1}, True, id="age-cap-same-draws"),
        pytest.param({"reward_split": "half"}, True, id="split-same-draws"),
        pytest.param({"uptake": 0.5}, False, id="uptake-drawn-again"),
        pytest.param({"lag_months": 3}, False, id="lag-drawn-again"),
    ],
)
def test_a_scenario_that_changes_only_the_pay_takes_the_same_draws(overrides, same_draws):
    model = _model()
    model.project(P, 36, 200, 5)
    before = model._drawn[1]
    scenario = P.with_overrides(overrides)
    again = model.project(scenario, 36, 200, 5).table()
    assert (model._drawn[1] is before) == same_draws
    assert again.equals(_model().project(scenario, 36, 200, 5).table())  # as if drawn afresh


def test_a_unit_whose_sums_could_pass_2_31_fen_is_summed_in_int64():
    # 100,000 couples x 1,000 fen x 36 months = 3.6e9 fen could be reached: past int32
    mp = bonus.MonthlyParams.of(P, bonus.parse_month("2025-07"), 36)
    groups = pd.DataFrame(
        {
            "payee_unit_id": ["U00"],
            "other_unit_id": pd.Series([None], dtype="str"),
            "rate": [0.9],
            "couples": [100_000],
        }
    )
    small = bonus.new_draws(groups, mp, 0, 3, 1, UNITS)
    ((units, fen),) = small.blocks()
    assert fen.dtype == np.int64 and units.tolist() == [0]
    dense = bonus.project_new(groups, bonus.simulate_new(groups, mp, 0, 3, 1), mp, 0, UNITS)
    assert np.array_equal(small.dense(), dense)
    pct, sums = small.unit_periods([0], total=False)  # the horizon: billions of fen
    assert sums[0, 0] == dense[:, 0, :].sum() > 2**31
