"""Selection of relief households under a quota or a monthly budget (rulebook §6).

The round's options checked, who receives relief now, the pools (one fund,
one area, or each area on its own), and each pool ranked and selected:
continuing households first, paid first, then newcomers strictly in rank
order, stopping at the first that does not fit. :func:`rank_and_select` is
that step for one pool, whatever engine assessed the households.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fpanalysis.core.errors import UsageError
from fpanalysis.core.numbers import yuan_to_fen
from fpanalysis.core.params import Params
from fpanalysis.rules.frames import texts_at, unique_keys
from fpanalysis.rules.relief.assess import assess_lean
from fpanalysis.rules.relief.fp_types import Children, with_evidence
from fpanalysis.rules.relief.ranking import rank_pool, rank_positions
from fpanalysis.rules.relief.textcols import TEXT, as_series, cat, yuan_texts
from fpanalysis.rules.relief.texts import AREA_LABELS, yuan_text

POOLS = ("all", "urban", "rural", "separate")
# Selection codes (``selection`` column) with their zh labels in schema.OUTPUT_LABELS.
SELECTION_CODES = ("continuing", "admitted", "waiting", "not_eligible")
#: The columns :func:`rank_and_select` and :func:`not_ranked` read: a pool's ranking keys.
SELECTION_INPUT_COLUMNS = (
    "pool",
    "household_id",
    "eligible",
    "tier",
    "fp_priority",
    "pc_key",
    "per_capita_income_yuan",
    "application_date",
    "entitlement_yuan",
    "incumbent",
)


def _limit_for(limit: Any, pool: str, what: str) -> Any:
    if limit is None or not isinstance(limit, Mapping):
        return limit
    if pool not in limit:
        raise UsageError(
            f"分池运行时须为资金池 {pool} 指定{what}",
            f"with separate pools, give the {what} for the {pool} pool",
            value=str(dict(limit)),
        )
    return limit[pool]


def _check_limit(value: Any, name: str) -> None:
    if value is None:
        return
    bad = isinstance(value, bool) or not isinstance(value, int | float | Decimal)
    if not bad:
        # NaN and infinity are no amount (--budget nan once crashed the money arithmetic)
        finite = (
            value.is_finite()
            if isinstance(value, Decimal)
            else not isinstance(value, float) or np.isfinite(value)
        )
        bad = not finite or value < 0
    if bad or (name == "quota" and not (isinstance(value, int) or float(value).is_integer())):
        quota = name == "quota"
        raise UsageError(
            f"{'名额' if quota else '预算'}应为非负{'整数' if quota else '数'}：{value!r}",
            f"the {name} must be a non-negative {'whole number' if quota else 'number'}: {value!r}",
            value=str(value),
            rule=name,
        )


def check_round_options(quota: Any, budget_yuan: Any, pool: str) -> None:
    """Refuse an unknown pool, a negative quota or budget, or per-area limits on one pool."""
    if pool not in POOLS:
        raise UsageError(
            f"未知的资金池 {pool!r}，可选 {POOLS}",
            f"unknown pool {pool!r}; choose from {POOLS}",
            value=pool,
        )
    for name, lim in (("quota", quota), ("budget", budget_yuan)):
        for v in lim.values() if isinstance(lim, Mapping) else [lim]:
            _check_limit(v, name)
    if (isinstance(quota, Mapping) or isinstance(budget_yuan, Mapping)) and pool != "separate":
        raise UsageError(
            "按地区分别给出的名额或预算须配合分池（separate）使用",
            "a quota or budget per area needs pool='separate'",
        )


def _incumbents(households: pd.DataFrame, previous_round: Any) -> pd.Series:
    inc = households["receiving"].fillna(False).astype(bool)
    if previous_round is not None:
        ids = selected_ids(previous_round)
        inc |= households["household_id"].isin(ids)
    return inc


def selected_ids(previous_round: Any) -> set[str]:
    """Household ids from a last round: a frame with ``household_id`` and ``selected``, or ids."""
    if isinstance(previous_round, pd.DataFrame):
        sel = (
            previous_round["selected"].fillna(False).astype(bool)
            if "selected" in previous_round
            else True
        )
        return set(previous_round.loc[sel, "household_id"].dropna().astype(str))
    return {str(x) for x in previous_round}


def applied_by(tables: Mapping[str, pd.DataFrame], as_of: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """The households (and their members) that had applied on or before ``as_of`` (rulebook §6.6).

    A household whose application is dated after the as-of date is not yet in
    the round; one with no application date is kept.

    Examples:
        >>> from fpanalysis.core.schema import coerce
        >>> hh = coerce("households", [{"household_id": h, "application_date": d}
        ...     for h, d in [("H1", "2025-06-30"), ("H2", "2025-07-01"), ("H3", None)]])
        >>> mm = coerce("household_members", [{"member_id": f"M{h}", "household_id": h}
        ...     for h in ("H1", "H2", "H3")])
        >>> t = applied_by({"households": hh, "household_members": mm}, pd.Timestamp("2025-06-30"))
        >>> t["households"]["household_id"].tolist(), t["household_members"]["member_id"].tolist()
        (['H1', 'H3'], ['MH1', 'MH3'])
    """
    h = tables["households"]
    later = (h["application_date"] > as_of).fillna(False).astype(bool)
    if not later.any():
        return dict(tables)
    out = dict(tables)
    out["households"] = h[~later]
    m = tables["household_members"]
    out["household_members"] = m[~m["household_id"].isin(h.loc[later, "household_id"])]
    return out


def prepare_round(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    as_of: pd.Timestamp,
    *,
    pool: str,
    previous_round: Any,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`assess`, plus ``incumbent`` and ``pool``, keeping only the pool's households.

    A round on ``as_of`` considers only the households that had applied by then
    (rulebook §6.6: ``application_date`` on or before it; one with no
    application date is kept). Row by row (a household and its members), so it
    runs on any part of a dataset holding whole households. ``previous_round``
    may be a frame, ids, or a set of ids.
    """
    assessed, problems, children = prepare_lean_round(
        tables, params, as_of, pool=pool, previous_round=previous_round
    )
    return with_evidence(assessed, children), problems


def prepare_lean_round(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    as_of: pd.Timestamp,
    *,
    pool: str,
    previous_round: Any,
) -> tuple[pd.DataFrame, pd.DataFrame, Children]:
    """:func:`prepare_round` with the FP evidence's texts left for later (:func:`assess_lean`):
    ``(assessed, problems, children)``."""
    assessed, problems, children = assess_lean(applied_by(tables, as_of), params, as_of)
    assessed["incumbent"] = _incumbents(assessed, previous_round)
    if pool in ("urban", "rural"):
        assessed = assessed[assessed["area"].eq(pool)]
        assessed["pool"] = pool
        problems = problems[problems["household_id"].isin(assessed["household_id"])].reset_index(
            drop=True
        )
    elif pool == "separate":
        assessed["pool"] = assessed["area"]
    else:
        assessed["pool"] = "all"
    return assessed, problems, children


def select_pool(
    ranked: pd.DataFrame, incumbent: pd.Series, *, quota: int | None = None, budget_yuan: Any = None
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Select from one ranked pool (rulebook §6 selection).

    Continuing households (incumbents still eligible) are selected first and
    their entitlements come first out of the quota or budget, even when they
    alone exceed it. What remains goes to the other eligible households
    strictly in rank order, stopping at the first that does not fit.

    Args:
        ranked: :func:`rank_pool` output (eligible rows in rank order).
        incumbent: bool per row of ``ranked`` (receiving now or selected last round).
        quota: households (``None`` = no limit).
        budget_yuan: monthly budget in yuan (``None`` = no limit).

    Returns:
        ``(frame, notes)``: ``ranked`` plus ``incumbent``, ``selected``, ``selection``,
        ``cumulative_fen``, ``why_zh``, ``why_en``; ``notes`` are ``(zh, en)`` lines.
    """
    r = ranked.copy(deep=False)  # its own columns; the ranked rows' data shared (copy on write)
    inc = incumbent.reindex(r.index).fillna(False).astype(bool)
    # Budgets pay whole yuan: the rounded-up entitlement is what a household costs.
    ent = r["entitlement_yuan"].astype("int64") * 100
    inc_cost = int(ent[inc].sum())
    inc_n = int(inc.sum())
    new = ~inc
    pos = new.cumsum().where(new, 0)  # 1-based position among newcomers
    new_cost = ent.where(new, 0).cumsum()
    ok = pd.Series(True, index=r.index)
    budget_fen = None if budget_yuan is None else yuan_to_fen(budget_yuan)
    slots = None if quota is None else max(0, int(quota) - inc_n)
    if slots is not None:
        ok &= pos <= slots
    if budget_fen is not None:
        ok &= (inc_cost + new_cost) <= budget_fen
    # Stop at the first newcomer that does not fit: everything after it waits too.
    admitted = new & ok
    stopped = (new & ~ok).cumsum() > 0
    admitted &= ~stopped
    selected = inc | admitted
    r["incumbent"] = inc
    r["selected"] = selected.astype("boolean")
    r["selection"] = np.where(inc, "continuing", np.where(admitted, "admitted", "waiting"))
    cum = (ent.where(inc, 0).sum() + ent.where(admitted, 0).cumsum()).where(selected)
    # Incumbents' cumulative: their running sum among themselves (paid first).
    cum = cum.mask(inc, ent.where(inc, 0).cumsum())
    r["cumulative_fen"] = cum.astype("Int64")

    waiting_n = int((r["selection"] == "waiting").sum())
    notes = _selection_notes(quota, budget_fen, inc_n, inc_cost, waiting_n)

    # Why each newcomer is in or out.
    why_zh = pd.Series("", index=r.index, dtype="str")
    why_en = pd.Series("", index=r.index, dtype="str")
    why_zh[inc], why_en[inc] = CONTINUING_WHY
    (zh_head, zh_tail), (en_head, en_tail) = _admitted_why(
        quota if slots is not None else None, budget_fen
    )
    if zh_tail is not None:
        cum = r["cumulative_fen"]
        cum_txt = as_series(  # yuan_text of each amount, empty where none
            pc.fill_null(yuan_texts(cum.to_numpy("int64", na_value=0), valid=cum.notna()), ""),
            r.index,
        )
        why_zh[admitted] = zh_head + cum_txt[admitted] + zh_tail
        why_en[admitted] = en_head + cum_txt[admitted] + en_tail
    else:
        why_zh[admitted], why_en[admitted] = zh_head, en_head
    first_out = new & ~ok & ~((new & ~ok).cumsum().shift(fill_value=0) > 0)
    for idx in r.index[first_out]:
        why_zh[idx], why_en[idx] = _first_out_why(
            quota, slots, budget_fen, inc_n, inc_cost, pos[idx], new_cost[idx], ent[idx]
        )
    if first_out.any():
        fo = r.index[first_out][0]
        later = (r["selection"] == "waiting") & ~first_out
        fo_id, fo_rank = r.at[fo, "household_id"], r.at[fo, "rank"]
        why_zh[later], why_en[later] = _below_first_why(fo_id, fo_rank)
    r["why_zh"] = why_zh
    r["why_en"] = why_en
    return r, notes


def rank_and_select(
    assessed: pd.DataFrame,
    order: Iterable[str],
    p: str,
    *,
    quota: Any = None,
    budget_yuan: Any = None,
    pool: str = "all",
    texts: bool = True,
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Rank one pool and select under its quota or budget (rulebook §6).

    Args:
        assessed: the pool's rows of :func:`prepare_round` (or only their
            ranking keys, :data:`SELECTION_INPUT_COLUMNS`).
        order: the ranking order.
        p: the pool's name (``all``, ``urban`` or ``rural``).
        quota, budget_yuan: the round's limits; a mapping per area with separate pools.
        pool: the round's pool option (``separate`` prefixes the notes with the pool's name).
        texts: as :func:`rank_pool`.

    Returns:
        ``(frame, notes)``: :func:`select_pool` of :func:`rank_pool` of ``assessed``
        (made by :func:`select_frame`: the same frame, its ``why_zh``/``why_en`` the Python
        texts the round's table stacks them as, each text once).

    Raises:
        UsageError: separate pools without a limit for this one.
    """
    ranked = rank_pool(assessed, order, texts=texts)
    sel, notes = select_frame(
        ranked,
        ranked["incumbent"],
        quota=_limit_for(quota, p, "名额/quota"),
        budget_yuan=_limit_for(budget_yuan, p, "预算/budget"),
        shared=True,
    )
    return sel, pool_notes(notes, p, pool)


#: The selection codes of ranked rows as Arrow texts, taken by :func:`select_arrays`' codes.
_SELECTION_TEXTS = pa.array(SELECTION_CODES[:3], TEXT)


def select_frame(
    ranked: pd.DataFrame,
    incumbent: pd.Series,
    *,
    quota: int | None = None,
    budget_yuan: Any = None,
    shared: bool = False,
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """:func:`select_pool`'s frame and notes, the selection made on arrays (:func:`select_arrays`).

    The same columns, values and types as the readable statement (:func:`select_pool`), without
    its row-by-row assignments into text columns (a province's pool: seconds).
    A frame whose row labels repeat goes to :func:`select_pool` itself.

    ``shared``: ``why_zh``/``why_en`` as Python texts, each of the few texts once (object
    columns), which is what the round's table makes of them when it stacks the ranked rows
    with the unranked ones (``result._shared_texts``). Made that way here, a province's
    millions of reasons are never written out as Arrow texts only to be folded back.
    """
    if not unique_keys(ranked.index):
        return select_pool(ranked, incumbent, quota=quota, budget_yuan=budget_yuan)
    r = ranked.copy(deep=False)
    inc = incumbent.reindex(r.index).fillna(False).astype(bool)
    cols, notes = select_arrays(
        r["household_id"].reset_index(drop=True),
        r["entitlement_yuan"].astype("int64").to_numpy(),
        inc.to_numpy(),
        quota=quota,
        budget_yuan=budget_yuan,
    )
    r["incumbent"] = inc
    r["selected"] = pd.array(cols["selected"], dtype="boolean")
    r["selection"] = as_series(_SELECTION_TEXTS.take(pa.array(cols["selection"])), r.index)
    r["cumulative_fen"] = pd.Series(cols["cumulative_fen"], index=r.index)
    for c in ("why_zh", "why_en"):
        codes, texts = cols[c]
        if shared:  # equal texts are one object; a missing one is NaN, as stacking gives it
            once: dict[Any, Any] = {}
            each = np.empty(len(texts), dtype=object)
            each[:] = [np.nan if t is None else once.setdefault(t, t) for t in texts]
            r[c] = pd.Series(each.take(codes.astype(np.int64)), index=r.index, dtype=object)
        else:
            taken = pa.array(texts, TEXT).take(pa.array(codes.astype(np.int64)))
            r[c] = as_series(taken, r.index)
    return r, notes


def rank_and_select_arrays(
    keys: pd.DataFrame,
    order: Iterable[str],
    p: str,
    *,
    quota: Any = None,
    budget_yuan: Any = None,
    pool: str = "all",
) -> tuple[np.ndarray, dict[str, Any], list[tuple[str, str]]]:
    """:func:`rank_and_select` on a pool's keys (:data:`SELECTION_INPUT_COLUMNS`), as arrays.

    The same ranking (:func:`~fpanalysis.rules.relief.ranking.rank_positions`)
    and selection (:func:`select_arrays`), for a driver holding a province's
    keys: no copy of the rows, no text a row.

    Returns:
        ``(positions, columns, notes)``: the ranked rows' positions in ``keys``
        in rank order; :func:`select_arrays`'s columns plus ``decided_by`` as
        ``(codes, texts)`` (-1: none); the pool's notes as :func:`rank_and_select`'s.

    Raises:
        UsageError: separate pools without a limit for this one.
    """
    order = list(order)
    at, decided = rank_positions(keys, order)
    cols, notes = select_arrays(
        keys["household_id"].iloc[at].reset_index(drop=True),
        keys["entitlement_yuan"].iloc[at].to_numpy(),
        keys["incumbent"].iloc[at].fillna(False).astype(bool).to_numpy(),
        quota=_limit_for(quota, p, "名额/quota"),
        budget_yuan=_limit_for(budget_yuan, p, "预算/budget"),
    )
    used = np.unique(decided[decided >= 0])
    renumber = np.full(len(order), -1, np.int32)
    renumber[used] = np.arange(len(used), dtype=np.int32)
    codes = np.where(decided >= 0, renumber[np.maximum(decided, 0)], -1).astype(np.int32)
    cols["decided_by"] = (codes, np.array(order, dtype=object)[used])
    return at, cols, pool_notes(notes, p, pool)


def pool_notes(notes: list[tuple[str, str]], p: str, pool: str) -> list[tuple[str, str]]:
    """A pool's notes, prefixed with the pool's name when the pools run separately."""
    if pool != "separate":
        return list(notes)
    az, ae = AREA_LABELS.get(p, (p, p))
    return [(f"{az}资金池：{z}", f"{ae} pool: {e}") for z, e in notes]


def not_ranked(a: pd.DataFrame, sel: pd.DataFrame) -> pd.DataFrame:
    """The pool's households that are not ranked (not eligible), by household id."""
    at = np.flatnonzero(~a.index.isin(sel.index))
    # by id: the ids sorted, then the rows taken once in that order (a province's wide rows)
    ids = a[["household_id"]].iloc[at].reset_index(drop=True)
    rest = a.iloc[at[ids.sort_values("household_id", kind="mergesort").index.to_numpy()]]
    n = len(rest)
    rest["selected"] = pd.arrays.BooleanArray(np.zeros(n, bool), np.zeros(n, bool))
    rest["selection"] = "not_eligible"
    for c in ("rank", "cumulative_fen", "above_rank"):
        rest[c] = absent(n, "Int64")
    return rest


def absent(n: int, dtype: str) -> Any:
    """``pd.array([pd.NA] * n, dtype=dtype)`` made without a Python list (a province's rows):
    ``Int64``, ``boolean``, ``str`` or ``datetime64[ns]``.

    Examples:
        >>> [absent(2, t).tolist() for t in ("Int64", "boolean")]
        [[<NA>, <NA>], [<NA>, <NA>]]
        >>> absent(2, "str").dtype == pd.array([None, None], dtype="str").dtype
        True
    """
    if dtype == "Int64":
        return pd.arrays.IntegerArray(np.zeros(n, np.int64), np.ones(n, bool))
    if dtype == "boolean":
        return pd.arrays.BooleanArray(np.zeros(n, bool), np.ones(n, bool))
    if dtype == "datetime64[ns]":
        return pd.array(np.full(n, np.datetime64("NaT"), "datetime64[ns]"))
    if dtype == "str":  # taken, not converted from a Python object per row
        return texts_at([], np.full(n, -1))
    return pd.array(np.full(n, None, dtype=object), dtype=dtype)


#: The why-texts :func:`select_pool` gives every continuing household.
CONTINUING_WHY = (
    "在保户复核仍符合条件：继续保障（不与新申请户重新排序），保障金先行列支",
    "receives relief now and is still eligible: continues "
    "(re-checked, not re-ranked against newcomers), paid first",
)


def select_arrays(
    household_id: np.ndarray,
    entitlement_yuan: np.ndarray,
    incumbent: np.ndarray,
    *,
    quota: int | None = None,
    budget_yuan: Any = None,
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """:func:`select_pool` on arrays: the same selection, its texts as codes (rulebook §6).

    For a driver holding a province's keys: no frame, no text a row. The
    readable statement is :func:`select_pool`; this gives the same values.

    Args:
        household_id: the ranked households' ids, in rank order (indexed by
            position; only the first household that does not fit is read).
        entitlement_yuan: their entitlements (whole yuan), in rank order.
        incumbent: bool per ranked household (receiving now or selected last round).
        quota, budget_yuan: as :func:`select_pool` (one pool's limits).

    Returns:
        ``(columns, notes)``: ``selected`` (bool), ``selection`` (int8 codes into
        :data:`SELECTION_CODES`), ``cumulative_fen`` (Int64 array), and
        ``why_zh``/``why_en`` as ``(codes, texts)``: int32 codes into an object
        array of texts (every text used at least once); ``notes`` as :func:`select_pool`'s.
    """
    inc = np.asarray(incumbent, dtype=bool)
    ent = np.asarray(entitlement_yuan).astype(np.int64) * 100
    n = len(ent)
    new = ~inc
    inc_cost = int(ent[inc].sum())
    inc_n = int(inc.sum())
    pos = np.where(new, np.cumsum(new), 0)  # 1-based position among newcomers
    new_cost = np.cumsum(np.where(new, ent, 0))
    ok = np.ones(n, bool)
    budget_fen = None if budget_yuan is None else yuan_to_fen(budget_yuan)
    slots = None if quota is None else max(0, int(quota) - inc_n)
    if slots is not None:
        ok &= pos <= slots
    if budget_fen is not None:
        ok &= (inc_cost + new_cost) <= budget_fen
    out = new & ~ok
    first = int(np.argmax(out)) if out.any() else n  # the first newcomer that does not fit
    admitted = new & ok
    admitted[first:] = False  # everything after it waits too
    selected = inc | admitted
    selection = np.where(inc, 0, np.where(admitted, 1, 2)).astype(np.int8)
    cum = np.where(
        inc, np.cumsum(np.where(inc, ent, 0)), inc_cost + np.cumsum(np.where(admitted, ent, 0))
    )
    cumulative = pd.arrays.IntegerArray(np.where(selected, cum, 0).astype(np.int64), ~selected)

    notes = _selection_notes(quota, budget_fen, inc_n, inc_cost, int((selection == 2).sum()))
    (zh_head, zh_tail), (en_head, en_tail) = _admitted_why(
        quota if slots is not None else None, budget_fen
    )
    # codes: 0 continuing, 1 the first that does not fit, 2 those below it, 3 none, 4+ admitted
    fixed_zh = [CONTINUING_WHY[0], "", "", ""]
    fixed_en = [CONTINUING_WHY[1], "", "", ""]
    codes = np.full(n, 3, np.int32)
    codes[inc] = 0
    if first < n:
        zh, en = _first_out_why(
            quota, slots, budget_fen, inc_n, inc_cost, pos[first], new_cost[first], ent[first]
        )
        fixed_zh[1], fixed_en[1] = zh, en
        fid, frank = household_id[first], first + 1
        fixed_zh[2], fixed_en[2] = _below_first_why(fid, frank)
        codes[(selection == 2)] = 2
        codes[first] = 1
    at = np.flatnonzero(admitted)
    if zh_tail is not None:
        cum_txt = yuan_texts(cum[at])
        adm_zh = cat(zh_head, cum_txt, zh_tail).to_numpy(zero_copy_only=False)
        adm_en = cat(en_head, cum_txt, en_tail).to_numpy(zero_copy_only=False)
        codes[at] = 4 + np.arange(len(at), dtype=np.int32)
    else:
        fixed_zh.append(zh_head)
        fixed_en.append(en_head)
        adm_zh = adm_en = np.zeros(0, object)
        codes[at] = 4
    texts_zh = np.concatenate([np.array(fixed_zh, object), adm_zh.astype(object)])
    texts_en = np.concatenate([np.array(fixed_en, object), adm_en.astype(object)])
    cols = {
        "selected": selected,
        "selection": selection,
        "cumulative_fen": cumulative,
        "why_zh": _used(codes, texts_zh),
        "why_en": _used(codes, texts_en),
    }
    return cols, notes


def _used(codes: np.ndarray, texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, texts)`` keeping only the texts some code points at (codes renumbered)."""
    used = np.zeros(len(texts), bool)
    used[codes] = True
    renumber = np.cumsum(used, dtype=np.int32) - 1
    return renumber[codes], texts[used]


def _admitted_why(
    quota: Any, budget_fen: int | None
) -> tuple[tuple[str, str | None], tuple[str, str | None]]:
    """Why a newcomer is admitted, ``(zh, en)``, each ``(head, tail)``: under a limit the text is
    head + the cumulative yuan down to the household + tail; with no quota (``None``) and no
    budget, ``tail`` is ``None`` and the text is head alone, the same for every household.

    Examples:
        >>> _admitted_why(3, None)[1]
        ('admitted: within the quota 3 in rank order (cumulative ', ' yuan)')
        >>> _admitted_why(None, None)[0]
        ('新纳入：不限名额和预算（应保尽保）', None)
    """
    lim_zh, lim_en = [], []
    if quota is not None:
        lim_zh.append(f"名额 {quota} 户")
        lim_en.append(f"quota {quota}")
    if budget_fen is not None:
        lim_zh.append(f"预算 {yuan_text(budget_fen, True)} 元")
        lim_en.append(f"budget {yuan_text(budget_fen, True)} yuan")
    if not lim_zh:
        return (
            ("新纳入：不限名额和预算（应保尽保）", None),
            ("admitted: no quota or budget (all who qualify are covered)", None),
        )
    return (
        ("新纳入：按排序在" + "、".join(lim_zh) + "之内（累计 ", " 元）"),
        ("admitted: within the " + ", ".join(lim_en) + " in rank order (cumulative ", " yuan)"),
    )


def _below_first_why(first_id: Any, first_rank: Any) -> tuple[str, str]:
    """Why a newcomer ranked below the first one that does not fit waits."""
    return (
        f"未纳入：排序在前的 {first_id}（第 {first_rank} 名）未能纳入，按排序在该户处停止",
        f"waiting: selection stopped at {first_id} (rank {first_rank}) above, which did not fit",
    )


def _selection_notes(
    quota: Any, budget_fen: int | None, inc_n: int, inc_cost: int, waiting_n: int
) -> list[tuple[str, str]]:
    """A pool's ``(zh, en)`` notes: the continuing households alone fill its quota or budget."""
    notes: list[tuple[str, str]] = []
    inc_cost_txt = yuan_text(inc_cost)
    if quota is not None and inc_n > quota:
        notes.append(
            (
                f"在保户 {inc_n} 户已超过名额 {quota} 户：全部继续保障，本轮无新纳入",
                f"the {inc_n} continuing households exceed the quota of {quota}: "
                "all continue and nobody new enters",
            )
        )
    elif quota is not None and 0 < inc_n == quota and waiting_n:
        notes.append(
            (
                f"在保户 {inc_n} 户正好用完名额 {quota} 户：本轮无新纳入",
                f"the {inc_n} continuing households use the whole quota of {quota}: "
                "nobody new enters",
            )
        )
    if budget_fen is not None and inc_cost > budget_fen:
        notes.append(
            (
                f"在保户月保障金合计 {inc_cost_txt} 元已超过预算 {yuan_text(budget_fen, True)} 元："
                "全部继续保障，本轮无新纳入",
                f"the continuing households' entitlements, {inc_cost_txt} yuan a month, "
                f"exceed the budget of {yuan_text(budget_fen, True)} yuan: "
                "all continue and nobody new enters",
            )
        )
    return notes


def _first_out_why(
    quota: Any,
    slots: int | None,
    budget_fen: int | None,
    inc_n: int,
    inc_cost: int,
    pos: Any,
    new_cost: Any,
    ent: Any,
) -> tuple[str, str]:
    """Why the first newcomer that does not fit waits (``pos``: its place among newcomers,
    ``new_cost``: the newcomers' cost down to it, ``ent``: its own, in fen)."""
    reasons_zh, reasons_en = [], []
    if slots is not None and pos > slots:
        reasons_zh.append(f"名额 {quota} 户已用完（在保户 {inc_n} 户，新纳入 {slots} 户）")
        reasons_en.append(f"the quota of {quota} is used up ({inc_n} continuing, {slots} admitted)")
    if budget_fen is not None and inc_cost + int(new_cost) > budget_fen:
        left = budget_fen - (inc_cost + int(new_cost) - int(ent))
        if inc_cost >= budget_fen:
            reasons_zh.append(
                f"在保户月保障金合计 {yuan_text(inc_cost)} 元"
                f"已用完预算 {yuan_text(budget_fen, True)} 元"
            )
            reasons_en.append(
                f"the continuing households' {yuan_text(inc_cost)} yuan use up the budget of "
                f"{yuan_text(budget_fen, True)} yuan"
            )
        else:
            reasons_zh.append(
                f"预算剩余 {yuan_text(left)} 元，不足本户月保障金 {yuan_text(ent)} 元"
            )
            reasons_en.append(
                f"the budget has {yuan_text(left)} yuan left, "
                f"less than this household's {yuan_text(ent)} yuan"
            )
    return (
        "未纳入："
        + "；".join(reasons_zh)
        + "。按排序在此停止，其后各户均不纳入（跳过本户会打乱优先次序）",
        "waiting: "
        + "; ".join(reasons_en)
        + ". Selection stops here in rank order; every household below waits too "
        "(skipping this one would break the priority)",
    )
