"""New certificates (rulebook §5): in-scope childless couples grouped by who would pay and their
yearly first-birth rate, a seeded Monte Carlo of the certificates they take up month by month
(vectorised over draws), and the fen those certificates are paid."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core.dataset import isin_keys
from fpanalysis.core.errors import UsageError
from fpanalysis.core.params import Params
from fpanalysis.rules.bonus.draws import SimulatedDraws
from fpanalysis.rules.bonus.months import MODES, MonthlyParams
from fpanalysis.rules.bonus.segments import lookup
from fpanalysis.rules.scope import couples_in_scope, is_staff_on

NEW_GROUP_COLUMNS = ["payee_unit_id", "other_unit_id", "rate", "couples"]


def _band_rate(ages: pd.Series, rates: Mapping[str, float]) -> np.ndarray:
    """The yearly rate of each age's band (``"15-19": 0.2``); an age in no band gets 0."""
    a = ages.astype("float64").to_numpy()
    out = np.zeros(len(a))
    for band, r in rates.items():  # a handful of bands, not rows
        lo, hi = (int(x) for x in str(band).split("-"))
        out[(a >= lo) & (a <= hi)] = float(r)
    return out


def _isin(values: pd.Series, keys: pd.Series) -> np.ndarray:
    """``values.isin(keys)`` (a missing value is in ``keys`` when a key is missing too)."""
    found = isin_keys(values, keys).to_numpy(dtype=bool)
    if keys.isna().any():
        found = found | values.isna().to_numpy(dtype=bool)
    return found


def empty_groups() -> pd.DataFrame:
    """No new-certificate group: the columns of :func:`new_certificate_groups`, typed, no row."""
    return pd.DataFrame(
        {
            "payee_unit_id": pd.Series([], dtype="str"),
            "other_unit_id": pd.Series([], dtype="str"),
            "rate": pd.Series([], dtype="float64"),
            "couples": pd.Series([], dtype="int64"),
        }
    )


def new_certificate_groups(
    tables: Mapping[str, pd.DataFrame], params: Params, start: Any
) -> pd.DataFrame:
    """In-scope childless couples on ``start`` grouped by who would pay and their birth rate (§5).

    Returns:
        One row per group with :data:`NEW_GROUP_COLUMNS`: the responsible
        (staff) unit that pays with split = payee, the other spouse's staff unit
        (or missing) for split = half, the yearly first-birth probability, and
        the number of couples. Sorted, so the simulation is reproducible.
    """
    on = pd.Timestamp(start)
    # A couple with a child takes no new certificate: only the childless couples, and the persons
    # they name, are placed in scope (a couple's scope reads its own row and its spouses' only).
    # isin as a hash lookup in pyarrow (pandas would turn each key into a Python object); a missing
    # id is found when the other side holds one too, as isin finds it.
    couples, persons = tables["couples"], tables["persons"]
    childless = couples[~_isin(couples["couple_id"], tables["children"]["couple_id"])]
    spouses = pd.concat([childless["wife_id"], childless["husband_id"]], ignore_index=True)
    persons = persons[_isin(persons["person_id"], spouses)]
    theirs = {**tables, "couples": childless, "persons": persons}
    scope = couples_in_scope(theirs, params, on, childbearing_only=True)
    scope = scope[scope["basis"] == "staff"].reset_index(drop=True)
    if scope.empty:
        return empty_groups()

    def spouse(column: str) -> pd.DataFrame:
        """The spouse's row (the first of a repeated id; missing when unknown): the columns that
        say whether the spouse is staff."""
        at = lookup(persons["person_id"], scope[column])
        return pd.DataFrame(
            {
                c: pd.api.extensions.take(persons[c].array, at, allow_fill=True)
                for c in ("unit_id", "category", "hire_date", "leave_date")
            }
        )

    return _payer_groups(scope, spouse("wife_id"), spouse("husband_id"), params, on)


def _payer_groups(
    scope: pd.DataFrame, wife: pd.DataFrame, husb: pd.DataFrame, params: Params, on: pd.Timestamp
) -> pd.DataFrame:
    """The staff couples in ``scope`` (with each spouse's row: ``unit_id``, ``category``,
    ``hire_date``, ``leave_date``) grouped by payee unit, other unit and birth rate."""
    w_unit = wife["unit_id"].where(is_staff_on(wife, on)).to_numpy(object)
    h_unit = husb["unit_id"].where(is_staff_on(husb, on)).to_numpy(object)
    payee_unit = scope["responsible_unit_id"].to_numpy(object)
    # The payee is the responsible spouse: the other spouse is the one whose staff unit is not the
    # payee's side.
    wife_pays = pd.Series(w_unit).notna().to_numpy() & (w_unit == payee_unit)
    if params.at("responsible_spouse", on) == "husband":
        wife_pays &= ~(pd.Series(h_unit).notna().to_numpy() & (h_unit == payee_unit))
    other = np.where(wife_pays, h_unit, w_unit)
    rate = _band_rate(scope["wife_age"], params.at("births_per_couple_year", on))
    g = pd.DataFrame({"payee_unit_id": payee_unit, "other_unit_id": other, "rate": rate})
    g["other_unit_id"] = g["other_unit_id"].astype("str")
    g["payee_unit_id"] = g["payee_unit_id"].astype("str")
    out = (
        g.groupby(["payee_unit_id", "other_unit_id", "rate"], dropna=False, sort=True)
        .size()
        .rename("couples")
        .reset_index()
    )
    out = out[out["rate"] > 0].reset_index(drop=True)
    out["couples"] = out["couples"].astype("int64")
    return out


def _issue_probabilities(groups: pd.DataFrame, mp: MonthlyParams, lag_months: int) -> np.ndarray:
    """Per group, the probabilities of "certificate issued ``lag + k`` months into the horizon"
    (``k`` = 0 .. months - lag - 1) and, last, "none within the horizon": ``(groups, k + 1)``."""
    k_issue = len(mp.months) - lag_months
    p = groups["rate"].to_numpy(np.float64)
    h = 1.0 - np.power(1.0 - np.clip(p, 0.0, 1.0), 1.0 / 12.0)
    k = np.arange(k_issue)
    birth_p = h[:, None] * np.power(1.0 - h[:, None], k[None, :])  # (G, K)
    up = mp.uptake[lag_months:][None, :]
    cat = birth_p * up
    rest = np.clip(1.0 - cat.sum(axis=1, keepdims=True), 0.0, 1.0)
    pvals = np.concatenate([cat, rest], axis=1)
    pvals /= pvals.sum(axis=1, keepdims=True)  # guard against rounding above 1
    return pvals


def _rng(seed: int) -> np.random.Generator:
    if seed is not None and int(seed) < 0:  # numpy's ValueError otherwise (found by fuzzing)
        raise UsageError(
            f"随机数种子应为非负整数：{seed!r}",
            f"the seed must be a whole number >= 0: {seed!r}",
            value=str(seed),
            rule="seed",
        )
    return np.random.default_rng(seed)


def simulate_new(
    groups: pd.DataFrame, mp: MonthlyParams, lag_months: int, draws: int, seed: int
) -> np.ndarray:
    """New certificates issued in each month of the horizon: int array ``(draws, groups, months)``.

    For a group of N couples with monthly hazard h, the certificate issue month
    of all N couples is one multinomial draw over the categories "birth in month
    k and certificate at k + lag" (probability ``h (1-h)^k × uptake``) and
    "none within the horizon"; vectorised over groups and draws (one call).
    The readable form: :func:`simulate_slots` draws the same numbers and keeps them small.
    """
    n_m = len(mp.months)
    g = len(groups)
    out = np.zeros((draws, g, n_m), dtype=np.int64)
    k_issue = n_m - lag_months  # issue months lag..n_m-1 come from births 0..k_issue-1
    if g == 0 or k_issue <= 0 or draws <= 0:
        return out
    pvals = _issue_probabilities(groups, mp, lag_months)
    rng = _rng(seed)
    n = groups["couples"].to_numpy(np.int64)
    draw = rng.multinomial(n, pvals, size=(draws, g))  # (D, G, K+1)
    out[:, :, lag_months:] = draw[:, :, :k_issue]
    return out


#: Multinomial counts per call of :func:`simulate_slots` (a few draws at a time: tens of MB).
SLOT_CHUNK = 1 << 22


def simulate_slots(
    groups: pd.DataFrame, mp: MonthlyParams, lag_months: int, draws: int, seed: int
) -> np.ndarray:
    """The draws of :func:`simulate_new` one byte per couple: ``(couples, draws)``.

    Row ``i`` is the ``i``-th couple of the groups (group after group, in their order): in each
    draw, the category of its certificate, ``k`` for one issued ``lag + k`` months into the
    horizon and ``months - lag`` for none. A group's couples take its multinomial counts in
    category order. The same random numbers as :func:`simulate_new` (numpy's multinomial taken a
    few draws at a time gives what one call gives), without its ``(draws, groups, months)`` int64.
    """
    n_m = len(mp.months)
    g = len(groups)
    k_issue = n_m - lag_months
    n = groups["couples"].to_numpy(np.int64)
    if g == 0 or k_issue <= 0 or draws <= 0:
        return np.zeros((int(n.sum()) if g else 0, max(draws, 0)), np.uint8)
    pvals = _issue_probabilities(groups, mp, lag_months)
    rng = _rng(seed)
    dtype = np.uint8 if k_issue < 255 else np.uint16 if k_issue < 65535 else np.uint32
    cats = np.arange(k_issue + 1, dtype=dtype)
    out = np.empty((int(n.sum()), draws), dtype)
    step = max(1, SLOT_CHUNK // (g * (k_issue + 1)))
    for d0 in range(0, draws, step):
        c = min(step, draws - d0)
        draw = rng.multinomial(n, pvals, size=(c, g))  # (c, G, K+1): each row sums to its couples
        every = np.repeat(np.broadcast_to(cats, draw.shape).ravel(), draw.ravel())
        out[:, d0 : d0 + c] = every.reshape(c, -1).T
    return out


def _legs(
    groups: pd.DataFrame, mp: MonthlyParams, units: Sequence[str]
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """Who pays for each group's certificates, and how much a month.

    Returns:
        ``(group, unit, kind)`` per leg (unit: index into ``units``), and ``(3, months)`` the fen
        one certificate pays a leg of each kind in each month (the split in force that month).
        Kind 0: the payee's unit when the other spouse is not staff (all, either split); 1: the
        payee's unit when the other spouse is staff (all under payee, the major half under
        half); 2: the other spouse's unit (nothing under payee, the minor half under half).
    """
    g = len(groups)
    uidx = pd.Index(list(units))
    payee_u = uidx.get_indexer(groups["payee_unit_id"].to_numpy(object))
    other_u = uidx.get_indexer(groups["other_unit_id"].to_numpy(object))
    has_other = groups["other_unit_id"].notna().to_numpy() & (other_u >= 0)
    fen = mp.share_fen()
    is_payee = mp.split == MODES.index("payee")
    kind_fen = np.stack([fen[0], np.where(is_payee, fen[0], fen[1]), np.where(is_payee, 0, fen[2])])
    leg_g = np.r_[np.arange(g), np.flatnonzero(has_other)]
    leg_u = np.r_[payee_u, other_u[has_other]]
    leg_kind = np.r_[np.where(has_other, 1, 0), np.full(int(has_other.sum()), 2)]
    return (leg_g, leg_u, leg_kind), kind_fen


def _first_paid(mp: MonthlyParams, lag_months: int) -> np.ndarray:
    """Per month of the horizon, the earliest issue month still paid (the child's age cap)."""
    m = np.arange(len(mp.months))
    return np.minimum(np.clip(m - 12 * mp.age_cap + lag_months, 0, None), m + 1)


def new_draws(
    groups: pd.DataFrame,
    mp: MonthlyParams,
    lag_months: int,
    draws: int,
    seed: int,
    units: Sequence[str],
    *,
    slots: np.ndarray | None = None,
) -> SimulatedDraws:
    """Fen paid to new certificates in every draw, unit and month, kept small: what
    :func:`project_new` of :func:`simulate_new` gives, made a block of units at a time.
    ``slots``: :func:`simulate_slots` of the same arguments, drawn before."""
    legs, kind_fen = _legs(groups, mp, units)
    return SimulatedDraws(
        simulate_slots(groups, mp, lag_months, draws, seed) if slots is None else slots,
        groups["couples"].to_numpy(np.int64),
        legs,
        kind_fen,
        _first_paid(mp, lag_months),
        lag_months,
        len(units),
        draws,
    )


def project_new(
    groups: pd.DataFrame,
    issued: np.ndarray,
    mp: MonthlyParams,
    lag_months: int,
    units: Sequence[str],
) -> np.ndarray:
    """Fen paid to new certificates: int array ``(draws, len(units), months)``, exact.

    A certificate issued in horizon month j (child born j - lag) is paid in
    month m iff ``j ≤ m ≤ j - lag + 12 × age_cap(m)``: a window sum over issue
    months, taken from cumulative sums (no loop over months). The readable rule:
    :func:`new_draws` gives the same fen a block of units at a time.
    """
    d, g, n_m = issued.shape
    out = np.zeros((d, len(units), n_m), dtype=np.int64)
    if g == 0 or n_m == 0:
        return out
    (leg_g, leg_u, leg_kind), kind_fen = _legs(groups, mp, units)
    leg_key = leg_u * 3 + leg_kind
    order = np.argsort(leg_key, kind="stable")
    leg_g, leg_key = leg_g[order], leg_key[order]
    first = np.flatnonzero(np.r_[True, leg_key[1:] != leg_key[:-1]])
    keys = leg_key[first]
    # The payment window is linear in the issued counts, so legs of one unit and kind are summed
    # first: the work below scales with units, not with couples or groups. Counts fit int32 (halves
    # the memory).
    issued_k = np.add.reduceat(issued[:, leg_g, :].astype(np.int32), first, axis=1)  # (D, K, M)
    csum = np.zeros((d, len(keys), n_m + 1), np.int32)
    np.cumsum(issued_k, axis=2, out=csum[:, :, 1:])
    lo = _first_paid(mp, lag_months)  # earliest issue still paid in m
    active = csum[:, :, 1:] - csum[:, :, lo]  # (D, K, M) certificates being paid in m
    values = active * kind_fen[keys % 3][None, :, :]  # int64 fen
    unit_of = keys // 3  # sorted, since keys are
    starts = np.flatnonzero(np.r_[True, unit_of[1:] != unit_of[:-1]])
    out[:, unit_of[starts], :] = np.add.reduceat(values, starts, axis=1)
    return out
