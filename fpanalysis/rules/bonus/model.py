"""The budget projection of the reward (rulebook §5): :class:`BonusModel`, the compressed form
(cohorts and new-certificate groups, built once per dataset and start month) that re-projects any
parameters in milliseconds, and :class:`BonusProjection`, committed fen per unit-month with every
Monte Carlo draw of new fen kept, so that a percentile at any level is the percentile of that
level's summed draws."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from fpanalysis.core.dataset import unit_ids
from fpanalysis.core.errors import UsageError
from fpanalysis.core.params import Params
from fpanalysis.rules.bonus.cohorts import Cohorts, compress, project_cohorts
from fpanalysis.rules.bonus.draws import DenseDraws, NewDraws, by_periods, percentiles
from fpanalysis.rules.bonus.months import (
    MonthlyParams,
    fen_to_yuan,
    month_label,
    month_start,
    parse_month,
)
from fpanalysis.rules.bonus.new import new_certificate_groups, new_draws, simulate_slots
from fpanalysis.rules.bonus.segments import certificate_segments

#: Default projection horizon in months (three budget years).
DEFAULT_MONTHS = 36
#: Default number of Monte Carlo draws.
DEFAULT_DRAWS = 1000
OUTPUT_COLUMNS = [
    "month",
    "unit_id",
    "committed_yuan",
    "new_p10_yuan",
    "new_p50_yuan",
    "new_p90_yuan",
]


def _repeated(values: Sequence[Any], at: np.ndarray) -> Any:
    """``[values[i] for i in at]`` as a frame's column: text taken from one Arrow array of the
    distinct labels (no Python string per row), whole numbers as int64; no row: a list, as ever."""
    if not len(at):
        return [values[i] for i in at]
    if all(isinstance(v, str) for v in values):
        return pd.array(pa.array(list(values), pa.large_string()).take(at), dtype="str")
    if all(isinstance(v, int) for v in values):
        return np.asarray(values, dtype=np.int64)[at]
    return [values[i] for i in at]


@dataclass
class BonusProjection:
    """A projection over a horizon: committed fen per unit-month and every draw of new fen.

    Attributes:
        start_m: first month (index).
        units: unit ids (rows of ``committed_fen``).
        committed_fen: int64 ``(units, months)``.
        new: every draw of new fen, ``(draws, units, months)``: a :class:`NewDraws` (the
            simulation's, kept small) or an int64 array, kept so that any level's percentile is
            taken over that level's summed draws.
    """

    start_m: int
    units: tuple[str, ...]
    committed_fen: np.ndarray
    new: NewDraws
    scenario: str = "baseline"
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.new, NewDraws):
            self.new = DenseDraws(self.new)

    @property
    def new_fen(self) -> np.ndarray:
        """Every draw as one int64 array ``(draws, units, months)``: a small projection's (a
        province's is billions of numbers: the tables reduce :attr:`new` a block at a time)."""
        return self.new.dense()

    @property
    def months(self) -> list[str]:
        return [month_label(self.start_m + i) for i in range(self.committed_fen.shape[1])]

    def table(self, by: Sequence[str] = ("month", "unit_id"), *, fen: bool = False) -> pd.DataFrame:
        """Totals at a level: ``by`` ⊆ {``month`` or ``year``, ``unit_id``}; ``()``: the horizon.

        New-certificate percentiles are taken over the draws summed to that
        level (rulebook §5). Rows sorted by period then unit. ``fen=True``: the
        money columns hold whole fen (int64) under the same names, the yuan
        Decimals being :func:`fen_to_yuan` of them (a province's table without a
        Python object per cell, for :func:`fpanalysis.io.write.write_table`'s ``fen``).

        Examples:
            >>> pr = BonusProjection(24300, ("U1", "U2"), np.array([[100, 100], [0, 50]]),
            ...                      np.array([[[0, 10], [10, 0]], [[10, 0], [0, 10]]]))
            >>> pr.table(("month",))[["month", "committed_yuan", "new_p90_yuan"]]
                 month committed_yuan new_p90_yuan
            0  2025-01           1.00         0.10
            1  2025-02           1.50         0.10
        """
        by = tuple(by)
        n_m = self.committed_fen.shape[1]
        months = np.arange(self.start_m, self.start_m + n_m)
        if "month" in by:
            starts = np.arange(n_m)
            periods, pcol = [month_label(int(m)) for m in months], "month"
        elif "year" in by:
            years = months // 12
            starts = np.flatnonzero(np.r_[True, years[1:] != years[:-1]][:n_m])
            periods, pcol = [int(y) for y in years[starts]], "year"
        else:
            starts = np.zeros(1 if n_m else 0, np.intp)
            periods, pcol = [None], None
        c = by_periods(self.committed_fen, starts, False, axis=1)  # (U, P)
        if "unit_id" in by:
            p, _ = self.new.unit_periods(starts)  # (3, U, P)
            units = list(self.units)
        else:
            c = c.sum(axis=0, keepdims=True)
            p = percentiles(by_periods(self.new.month_totals(), starts, False, axis=1))[:, None]
            units = [None]
        if not len(starts):  # no month: one period of nothing, as ever
            c = np.zeros((c.shape[0], len(periods)), np.int64)
            p = np.zeros((3, c.shape[0], len(periods)), np.int64)
        # rows: period-major, then unit
        labels: dict[str, Any] = {}
        if pcol:
            labels[pcol] = _repeated(periods, np.repeat(np.arange(len(periods)), len(units)))
        if "unit_id" in by:
            labels["unit_id"] = _repeated(units, np.tile(np.arange(len(units)), len(periods)))
        money = (lambda v: np.asarray(v, dtype=np.int64)) if fen else fen_to_yuan
        df = pd.DataFrame(labels)
        df["committed_yuan"] = money(np.ascontiguousarray(c.T).reshape(-1))
        for i, q in enumerate(("p10", "p50", "p90")):
            df[f"new_{q}_yuan"] = money(np.ascontiguousarray(p[i].T).reshape(-1))
        if self.scenario != "baseline" or self.meta.get("show_scenario"):
            df.insert(0, "scenario", self.scenario)
        return df


@dataclass
class BonusModel:
    """The compressed form a projection (and a widget) works from: built once per dataset and start.

    Re-projecting with new parameters (amount, age cap, split, uptake, lag,
    horizon up to ``max_months``) reads only cohorts and new-certificate groups.
    """

    start_m: int
    cohorts: Cohorts
    groups: pd.DataFrame
    units: tuple[str, ...]
    #: The last draws of new certificates and what they were drawn for: a scenario (or a
    #: widget's slider) that changes only what a certificate pays (amount, age cap, split)
    #: takes the same draws, so they are not drawn again.
    _drawn: tuple[tuple, np.ndarray] | None = field(default=None, repr=False, compare=False)

    def _slots(self, mp: MonthlyParams, lag: int, draws: int, seed: int) -> np.ndarray:
        """:func:`simulate_slots` of this model's groups, or the same draws kept from before."""
        # the draws depend on the groups (this model's), the horizon, the lag, the uptake of the
        # issue months, the number of draws and the seed: nothing else
        key = (len(mp.months), lag, draws, seed, mp.uptake[max(lag, 0) :].tobytes())
        if self._drawn is None or self._drawn[0] != key:
            self._drawn = (key, simulate_slots(self.groups, mp, lag, draws, seed))
        return self._drawn[1]

    @classmethod
    def build(
        cls,
        tables: Mapping[str, pd.DataFrame],
        params: Params,
        start: Any,
        max_months: int | None = None,
    ) -> BonusModel:
        """Segments, cohorts and new-certificate groups as of the first day of ``start`` (a month).

        ``max_months`` bounds the horizons this model can project (see :func:`compress`);
        ``None``: any.
        """
        start_m = parse_month(start)
        seg, _ = certificate_segments(tables, with_info=False)
        groups = new_certificate_groups(tables, params, month_start(start_m))
        extra = groups["payee_unit_id"].tolist() + groups["other_unit_id"].dropna().tolist()
        cohorts = compress(
            seg, start_m, units=sorted(set(unit_ids(tables)) | set(extra)), max_months=max_months
        )
        return cls(start_m, cohorts, groups, cohorts.units)

    def project(
        self,
        params: Params,
        months: int = DEFAULT_MONTHS,
        draws: int = DEFAULT_DRAWS,
        seed: int = 0,
        scenario: str = "baseline",
    ) -> BonusProjection:
        """Committed and new payments for ``months`` months from the start under ``params``."""
        if months < 1:
            raise UsageError(
                "预测月数应至少为 1",
                "the horizon must be at least 1 month",
                value=months,
                rule="months",
            )
        if draws < 1:
            raise UsageError(
                "模拟次数应至少为 1", "draws must be at least 1", value=draws, rule="draws"
            )
        if self.cohorts.max_months is not None and months > self.cohorts.max_months:
            raise UsageError(
                f"此模型最多预测 {self.cohorts.max_months} 个月",
                f"this model projects at most {self.cohorts.max_months} months",
                value=months,
                rule="months",
            )
        mp = MonthlyParams.of(params, self.start_m, months)
        committed = project_cohorts(self.cohorts, mp)
        lag = int(params.at("lag_months", month_start(self.start_m)))
        slots = self._slots(mp, lag, draws, seed)
        new = new_draws(self.groups, mp, lag, draws, seed, self.units, slots=slots)
        return BonusProjection(
            self.start_m,
            self.units,
            committed,
            new,
            scenario=scenario,
            meta={"draws": draws, "seed": seed, "months": months, "lag_months": lag},
        )


def project(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    start: Any,
    months: int = DEFAULT_MONTHS,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
) -> BonusProjection:
    """The budget projection (rulebook §5): committed payments and new certificates with bands."""
    return BonusModel.build(tables, params, start, max_months=months).project(
        params, months, draws, seed
    )


def committed_payments(
    tables: Mapping[str, pd.DataFrame], params: Params, start: Any, months: int = DEFAULT_MONTHS
) -> pd.DataFrame:
    """Committed payments per month and unit: ``month``, ``unit_id``, ``committed_yuan``.

    Examples:
        >>> from fpanalysis.core.schema import coerce
        >>> from fpanalysis.core.params import load_params
        >>> t = {
        ...     "persons": coerce("persons", [{"person_id": "P1", "sex": "F", "unit_id": "U1",
        ...         "category": "staff", "hire_date": "2000-01-01"}]),
        ...     "couples": coerce("couples", [{"couple_id": "C1", "wife_id": "P1",
        ...         "husband_id": "P2"}]),
        ...     "children": coerce("children", [{"child_id": "K1", "couple_id": "C1",
        ...         "birth_date": "2012-03-15"}]),
        ...     "certificates": coerce("certificates", [{"cert_id": "G1", "couple_id": "C1",
        ...         "child_id": "K1", "issue_date": "2013-01-05", "payee_id": "P1"}])}
        >>> committed_payments(t, load_params(), "2026-01", 4)
             month unit_id committed_yuan
        0  2026-01      U1          20.00
        1  2026-02      U1          20.00
        2  2026-03      U1          20.00
        3  2026-04      U1           0.00
    """
    start_m = parse_month(start)
    seg, _ = certificate_segments(tables, with_info=False)
    cohorts = compress(seg, start_m, units=unit_ids(tables), max_months=months)
    mp = MonthlyParams.of(params, start_m, months)
    fen = project_cohorts(cohorts, mp)
    pr = BonusProjection(start_m, cohorts.units, fen, np.zeros((0, *fen.shape), np.int64))
    return pr.table()[["month", "unit_id", "committed_yuan"]]
