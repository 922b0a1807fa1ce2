"""The remaining liability of today's certificates and the certificates outside the bureau's budget
(rulebook §5). The liability applies the month rule of the committed payments to every future
month, recorded leave dates and revocations included, with the parameters in force in each month,
and is discounted at ``discount_rate`` (month ``start + k`` weighs ``(1+r)^(-k/12)``), rounded once
to the fen."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core.dataset import unit_ids
from fpanalysis.core.numbers import as_written
from fpanalysis.core.params import Params
from fpanalysis.rules.bonus.cohorts import Cohorts, compress, project_cohorts
from fpanalysis.rules.bonus.model import DEFAULT_MONTHS
from fpanalysis.rules.bonus.months import (
    MonthlyParams,
    fen_to_yuan,
    month_start,
    parse_month,
)
from fpanalysis.rules.bonus.segments import certificate_segments

LIABILITY_COLUMNS = ["unit_id", "certificates", "liability_yuan", "liability_discounted_yuan"]


def liability(tables: Mapping[str, pd.DataFrame], params: Params, start: Any) -> pd.DataFrame:
    """Remaining payments owed to today's certificates from ``start`` on, by paying unit.

    The month rule of :func:`~fpanalysis.rules.bonus.committed_payments` to
    the end of every entitlement (rulebook §5.5): a payer's recorded leave date
    ends their payments, a revocation the certificate's, and the split, the
    amount and the age cap in force on each future month's first day apply (a
    dated rise counts). Undiscounted and discounted at ``discount_rate``
    (yearly; month ``start + k`` weighs ``(1+r)^(-k/12)``), rounded once to the
    fen. ``certificates`` counts the certificates with at least one future
    payment from that unit (:func:`liability_certificates`).
    """
    start_m = parse_month(start)
    seg, _ = certificate_segments(tables, with_info=False)
    counts = liability_certificates(seg, params, start_m)
    cohorts = compress(seg, start_m, units=unit_ids(tables))
    return liability_from_cohorts(cohorts, params, start_m, certificates=counts)


def _horizon(first: np.ndarray, end: np.ndarray, birth: np.ndarray, params: Params, start_m: int):
    """Months from ``start_m`` to the last month any of the rows can be paid (at least one)."""
    if len(first) == 0:
        return 1
    max_cap = max(int(v) for _, v in params.timeline("reward_age_cap"))
    last = np.minimum(end, birth + 12 * max_cap)
    last = last[last >= np.maximum(first, start_m)]
    return max(int(last.max()) - start_m + 1, 1) if len(last) else 1


def liability_certificates(segments: pd.DataFrame, params: Params, start_m: int) -> dict[str, int]:
    """Certificates with at least one payment from ``start_m`` on, by paying unit (rulebook §5.5).

    A certificate counts once for a unit however many of its segments the unit
    pays: a spouse's months cut where the other spouse joins or leaves the
    payroll, both spouses in one unit, months under either split. The split and
    the age cap are those in force on each month's first day.

    Args:
        segments: :func:`~fpanalysis.rules.bonus.certificate_segments`' segments.
        params: the parameters (``reward_split``, ``reward_age_cap``).
        start_m: the first month (a month index).

    Returns:
        ``{unit_id: certificates}`` of the units that pay anything.
    """
    first = segments["first_m"].to_numpy(np.int64)
    end = segments["end_m"].to_numpy(np.int64)
    birth = segments["birth_m"].to_numpy(np.int64)
    mode = segments["mode"].to_numpy()
    mp = MonthlyParams.of(params, start_m, _horizon(first, end, birth, params, start_m))
    cap, split = mp.age_cap, mp.split
    cut = np.flatnonzero((cap[1:] != cap[:-1]) | (split[1:] != split[:-1])) + 1
    bounds = np.r_[0, cut, len(cap)]
    lo = np.maximum(first, start_m)
    paid = np.zeros(len(segments), bool)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):  # runs of one cap and one split
        hi = np.minimum(end, birth + 12 * int(cap[a]))
        np.minimum(hi, int(mp.months[b - 1]), out=hi)
        paid |= (mode == split[a]) & (np.maximum(lo, int(mp.months[a])) <= hi)
    if not paid.any():
        return {}
    pairs = pd.DataFrame(
        {
            "cert_id": segments["cert_id"].to_numpy()[paid],
            "unit_id": segments["unit_id"].astype("str").to_numpy()[paid],
        }
    ).drop_duplicates()
    return {str(u): int(n) for u, n in pairs.groupby("unit_id", sort=True).size().items()}


def liability_from_cohorts(
    cohorts: Cohorts, params: Params, start_m: int, *, certificates: Mapping[str, int]
) -> pd.DataFrame:
    """:func:`liability` from liability cohorts (those of several partitions merged, say).

    The cohorts come from :func:`certificate_segments` folded by
    ``compress(..., start_m, units=...)`` without ``max_months``;
    ``certificates`` is :func:`liability_certificates` of the same segments
    (added up over partitions: a certificate lies in one).
    """
    units = list(cohorts.units)
    months = _horizon(cohorts.first_m, cohorts.end_m, cohorts.birth_m, params, start_m)
    mp = MonthlyParams.of(params, start_m, months)
    fen = project_cohorts(cohorts, mp)  # (U, M)
    r = as_written(params.at("discount_rate", month_start(start_m)))
    # Discount factors exactly in Decimal on the unit-month totals (small), then one rounding per
    # unit.
    k = np.arange(months)
    nz = fen.any(axis=0)
    factors = {int(i): (1 + r) ** (Decimal(int(i)) / 12) for i in k[nz]}
    disc = []
    for row in fen:
        s = sum((Decimal(int(v)) / factors[int(i)] for i, v in enumerate(row) if v), Decimal(0))
        disc.append(int(s.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    return pd.DataFrame(
        {
            "unit_id": pd.Series(units, dtype="str"),
            "certificates": pd.Series([int(certificates.get(u, 0)) for u in units], dtype="int64"),
            "liability_yuan": fen_to_yuan(fen.sum(axis=1)),
            "liability_discounted_yuan": fen_to_yuan(disc),
        }
    )


OUTSIDE_COLUMNS = [
    "cert_id",
    "couple_id",
    "payee_id",
    "category",
    "unit_id",
    "months_due",
    "outside_yuan",
]


def outside_budget(
    tables: Mapping[str, pd.DataFrame], params: Params, start: Any, months: int = DEFAULT_MONTHS
) -> pd.DataFrame:
    """Certificates with no payer on the bureau's payroll, shown apart from the budget.

    Under the split in force in the start month. ``months_due`` and
    ``outside_yuan`` are what the certificate is entitled to in the horizon
    (issue, age cap and revocation applied; payroll not), which the bureau does
    not pay; ``unit_id`` is the payee's registered unit, if any. Certificates
    entitled to nothing in the horizon are left out.
    """
    start_m = parse_month(start)
    _, info = certificate_segments(tables)
    split = params.at("reward_split", month_start(start_m))
    inside = info["in_budget_payee"] if split == "payee" else info["in_budget_half"]
    out = info[~inside.to_numpy(bool)].reset_index(drop=True)
    mp = MonthlyParams.of(params, start_m, months)
    m = mp.months[None, :]
    ent = (
        (out["issue_m"].to_numpy()[:, None] <= m)
        & (m <= out["stop_m"].to_numpy()[:, None])
        & (m <= out["birth_m"].to_numpy()[:, None] + 12 * mp.age_cap[None, :])
    )
    res = pd.DataFrame(
        {
            "cert_id": out["cert_id"].astype("str"),
            "couple_id": out["couple_id"].astype("str"),
            "payee_id": out["payee_id"].astype("str"),
            "category": out["category"].astype("str"),
            "unit_id": out["payee_unit_id"].astype("str"),
            "months_due": ent.sum(axis=1).astype("int64"),
            "outside_yuan": fen_to_yuan((ent * mp.amount_fen[None, :]).sum(axis=1)),
        }
    )
    res = res[res["months_due"] > 0]  # entitled to nothing in the horizon: no budget question
    return res.sort_values("cert_id", kind="stable").reset_index(drop=True)
