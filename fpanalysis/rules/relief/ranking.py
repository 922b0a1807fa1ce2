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

from fpanalysis.rules.frames import texts_at
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


def sorted_order(keys: pd.DataFrame, order: list[str]) -> np.ndarray:
    """The rows of ``keys`` (:func:`sort_frame`, numbered from 0) in ranking order: the
    permutation ``keys.sort_values(order, kind="mergesort", na_position="last")`` gives.

    That readable statement hashes every key (a province's millions of household ids, too);
    where the ids are listed in increasing order, as a validated table lists them, a row's
    position is its id's place, and the same stable sort is one ``numpy.lexsort`` over
    integers: each key as (missing, value), a missing key after every present one.

    Examples:
        >>> k = pd.DataFrame({"tier": pd.array([2, None, 1], dtype="Int64"),
        ...                   "household_id": pd.array(["H1", "H2", "H3"], dtype="str")})
        >>> sorted_order(k, ["tier", "household_id"]).tolist()
        [2, 0, 1]
    """
    arrays = _lexsort_arrays(keys, order)
    if arrays is None:
        return keys.sort_values(order, kind="mergesort", na_position="last").index.to_numpy()
    return np.lexsort(arrays) if arrays else np.arange(len(keys))


def _lexsort_arrays(keys: pd.DataFrame, order: list[str]) -> list[np.ndarray] | None:
    """``numpy.lexsort``'s keys for :func:`sorted_order` (the last the first sorted on), or
    None where a key is not one of :func:`sort_frame`'s kinds or the ids are not in order.

    A key with a missing value is two (missing, then the value); without, one. The ids, in
    order, need no key of their own when they come last: the sort is stable, and the rows
    are in id order already."""
    from fpanalysis.core.dataset import text_in_order

    out: list[np.ndarray] = []
    for i, k in enumerate(reversed(order)):
        s = keys[k]
        if k == "household_id":
            if not text_in_order(s, strict=True):
                return None
            if i:  # not the last key: the rows' places are the ids' order
                out.append(np.arange(len(s)))
            continue
        missing = s.isna().to_numpy(bool)
        if pd.api.types.is_datetime64_dtype(s.dtype):
            values = _narrowed(s.to_numpy("datetime64[ns]").view(np.int64), missing, _DAY_NS)
        elif pd.api.types.is_integer_dtype(s.dtype):
            values = _narrowed(s.to_numpy(np.int64, na_value=0), missing, 1)
        elif pd.api.types.is_float_dtype(s.dtype):
            values = s.to_numpy(np.float64, na_value=0)
        else:
            return None
        out += [np.where(missing, 0, values), missing] if missing.any() else [values]
    return out


#: A day in nanoseconds: the unit of application dates (days, as validated).
_DAY_NS = 86_400 * 10**9


def _narrowed(values: np.ndarray, missing: np.ndarray, unit: int) -> np.ndarray:
    """An integer key (``int64``; where ``missing``, any value) in as few bits as keep its order
    and its ties: each present value's distance from the least, in ``unit``s where every
    distance is a whole number of them, as ``uint8`` or ``uint16`` where it fits; else
    ``values`` as they are. numpy sorts integers of 16 bits or fewer stably by their digits
    (a radix sort) and wider ones by merging, so the sort of a tier or a date (days
    within 179 years) is one pass over the rows, not a merge sort's many: for the 3,292,805
    eligible households of 10M people the sort took 1.31 s against 1.74 s (``docs/design.md``,
    "Relief's rules without wasted work")."""
    present = values[~missing] if missing.any() else values
    if not len(present):
        return values
    least, most = int(present.min()), int(present.max())
    if (most - least) // unit >= 1 << 16:
        return values
    distance = values - least
    if unit > 1:
        if (distance[~missing] % unit).any():
            return values  # not whole units: as it is (a wider span, a merge sort)
        distance //= unit
    narrow = np.uint8 if (most - least) // unit < 1 << 8 else np.uint16
    return np.where(missing, 0, distance).astype(narrow)


def decided_codes(keys: pd.DataFrame, order: list[str]) -> np.ndarray:
    """Per row of ``keys`` sorted in ranking order, the place in ``order`` of the first key that
    separates it from the row above (-1: the first row, or no key differs); a key missing in
    one of the two rows differs. :func:`decided_by` says the same in words.

    Examples:
        >>> k = pd.DataFrame({"tier": [1, 1, 2], "household_id": ["H1", "H2", "H3"]})
        >>> decided_codes(k, ["tier", "household_id"]).tolist()
        [-1, 1, 0]
    """
    decided = np.full(len(keys), -1, np.int8)
    for i in reversed(range(len(order))):  # the earliest differing key wins: assign from the last
        k = keys[order[i]].reset_index(drop=True)
        prev = k.shift()
        differs = k.ne(prev) & ~(k.isna() & prev.isna())
        differs = differs.to_numpy(dtype=bool, na_value=True)  # one missing: they differ
        decided[differs] = i
    decided[:1] = -1
    return decided


def decided_by(keys: pd.DataFrame, order: list[str]) -> pd.Series:
    """The readable statement of :func:`decided_codes`: per sorted row, the name of the first key
    that separates it from the row above (NaN for the first row)."""
    decided = pd.Series(np.nan, index=keys.index, dtype="str")
    for k in reversed(order):  # the earliest differing key wins: assign from the last
        prev = keys[k].shift()
        differs = keys[k].ne(prev) & ~(keys[k].isna() & prev.isna())
        decided = decided.mask(differs, k)
    decided.iloc[:1] = np.nan
    return decided


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
    # the keys sorted, then the rows taken once in that order (a province's wide rows), and
    # the keys read again from the rows taken (not taken a second time themselves)
    keys = sort_frame(assessed.iloc[eligible]).reset_index(drop=True)
    e = assessed.iloc[eligible[sorted_order(keys, order)]]  # a new frame (copy on write)
    keys = sort_frame(e)
    e["rank"] = pd.array(np.arange(1, len(e) + 1), dtype="Int64")
    e["decided_by"] = pd.Series(texts_at(order, decided_codes(keys, order)), index=e.index)
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
    keys = keys.take(sorted_order(keys, order))
    positions = eligible[keys.index.to_numpy()]
    return positions, decided_codes(keys, order)
