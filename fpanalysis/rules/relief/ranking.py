"""Ranking of a relief pool (rulebook §6).

The ranking keys as sortable columns, and the eligible households of a pool
numbered in the declared order (``ranking_order``) with the key that
separates each from the one just above. The order ends with ``household_id``,
so it is total: parts sorted on their own and merged give the same list.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from fpanalysis.rules.relief.texts import ABOVE_COLUMNS, ABOVE_PREFIX, decided_texts


def sort_frame(a: pd.DataFrame) -> pd.DataFrame:
    """The ranking keys as sortable columns (all ascending)."""
    return pd.DataFrame(
        {
            "tier": a["tier"],
            "fp_priority": (~a["fp_priority"]).astype("int64"),  # 0 = priority, first
            "per_capita_income_yuan": a["pc_key"],
            "application_date": a["application_date"],
            "household_id": a["household_id"],
        },
        index=a.index,
    )


def rank_keys(assessed: pd.DataFrame, order: Iterable[str]) -> pd.DataFrame:
    """The eligible rows of one pool sorted in the declared order, with ``rank`` and ``decided_by``.

    The vectorised half of :func:`rank_pool` (no text); it needs only the key
    columns (:func:`sort_frame`'s inputs, ``eligible`` and ``household_id``),
    so it may run on the keys of many parts merged.

    Returns:
        The eligible rows sorted, with ``rank`` (1, 2, ...), ``decided_by``
        (the first key that separates a row from the one just above; NaN for
        rank 1), ``above_id`` and ``above_rank``.
    """
    order = list(order)
    eligible = np.flatnonzero(assessed["eligible"].fillna(False).astype(bool).to_numpy())
    # the keys sorted, then the rows taken once in that order (a province's wide rows)
    keys = sort_frame(assessed.iloc[eligible]).reset_index(drop=True)
    keys = keys.sort_values(order, kind="mergesort", na_position="last")
    e = assessed.iloc[eligible[keys.index.to_numpy()]]  # a new frame (copy on write)
    keys = keys.set_axis(e.index)
    e["rank"] = pd.array(np.arange(1, len(e) + 1), dtype="Int64")
    decided = pd.Series(np.nan, index=e.index, dtype="str")
    for k in reversed(order):  # the earliest differing key wins: assign from the last
        prev = keys[k].shift()
        differs = keys[k].ne(prev) & ~(keys[k].isna() & prev.isna())
        decided = decided.mask(differs, k)
    decided.iloc[:1] = np.nan
    e["decided_by"] = decided
    e["above_id"] = e["household_id"].shift()
    e["above_rank"] = e["rank"].shift()
    return e


def rank_pool(assessed: pd.DataFrame, order: Iterable[str], *, texts: bool = True) -> pd.DataFrame:
    """Rank the eligible households of one pool in the declared order (rulebook §6).

    Args:
        assessed: rows of :func:`assess` (one pool).
        order: ``ranking_order``; it ends with ``household_id``, so the order is total.
        texts: write ``decided_zh``/``decided_en``; ``False`` leaves them to
            :func:`texts_for` and adds the row above's :data:`ABOVE_COLUMNS`
            as ``above__<column>`` (what the texts quote).

    Returns:
        The eligible rows sorted, with ``rank`` (1, 2, ...), ``decided_by``
        (the first key that separates a row from the one just above; NaN for
        rank 1), ``above_id`` and ``decided_zh``/``decided_en`` texts.
    """
    e = rank_keys(assessed, order)
    return add_decided(e, e[ABOVE_COLUMNS].shift(), order, texts=texts)


def add_decided(
    e: pd.DataFrame, above: pd.DataFrame, order: Iterable[str], *, texts: bool = True
) -> pd.DataFrame:
    """Ranked rows with what their ranking texts say, or (lean) what those texts quote.

    Args:
        e: ranked rows (:func:`rank_keys`); columns are added to it.
        above: the row just above each row of ``e`` (same index), with :data:`ABOVE_COLUMNS`.
        order: the ranking order.
        texts: add ``decided_zh``/``decided_en``; ``False`` adds the row above's
            values as ``above__<column>`` instead (:func:`texts_for` writes the texts later).

    Returns:
        ``e``.
    """
    if texts:
        e["decided_zh"], e["decided_en"] = decided_texts(e, above, order)
    else:
        for c in ABOVE_COLUMNS:
            e[ABOVE_PREFIX + c] = above[c]
    return e


def rank_positions(assessed: pd.DataFrame, order: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`rank_keys` as arrays: where the ranked rows are and which key decided each.

    The same sort as :func:`rank_keys` (its key columns only), without taking
    the rows: for a driver that holds a province's keys and needs no copy of them.

    Returns:
        ``(positions, decided)``: the eligible rows' positions in ``assessed``
        in rank order, and per ranked row the index in ``order`` of the key that
        separates it from the row above (``-1`` where :func:`rank_keys` gives
        NaN: rank 1, or no key differs).

    Examples:
        >>> a = pd.DataFrame({"household_id": ["H3", "H1", "H2"],
        ...     "eligible": pd.array([True, True, False]), "tier": [1, 1, 2],
        ...     "fp_priority": [False] * 3, "pc_key": [1.0, 1.0, 2.0],
        ...     "application_date": pd.to_datetime(["2025-01-01"] * 3)})
        >>> pos, decided = rank_positions(a, ["tier", "household_id"])
        >>> pos.tolist(), decided.tolist()
        ([1, 0], [-1, 1])
    """
    order = list(order)
    eligible = np.flatnonzero(assessed["eligible"].fillna(False).astype(bool).to_numpy())
    keys = sort_frame(assessed.iloc[eligible]).reset_index(drop=True)
    keys = keys.sort_values(order, kind="mergesort", na_position="last")
    positions = eligible[keys.index.to_numpy()]
    decided = np.full(len(keys), -1, np.int8)
    for i in reversed(range(len(order))):  # the earliest differing key wins: assign from the last
        k = keys[order[i]].reset_index(drop=True)
        prev = k.shift()
        differs = k.ne(prev) & ~(k.isna() & prev.isna())
        differs = differs.to_numpy(dtype=bool, na_value=True)  # one missing: they differ
        decided[differs] = i
    decided[:1] = -1
    return positions, decided
