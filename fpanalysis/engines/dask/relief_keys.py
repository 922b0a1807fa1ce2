"""The driver's half of a relief round on Dask (rulebook §6): the households' keys sent by every
partition merged into the round's order, each pool ranked and selected on those keys alone by the
pandas engine's own step (:func:`fpanalysis.rules.relief.rank_and_select`), giving the round's key
table (:class:`KeyTable`: a few columns a household, in the order the round lists them) and what
each partition needs to finish its own rows (:meth:`KeyTable.ranked_slices`). Nothing here needs a
cluster."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core.memory import release_memory
from fpanalysis.rules import relief as rl
from fpanalysis.rules.relief.selection import SELECTION_INPUT_COLUMNS, rank_and_select_arrays

#: What a partition sends the driver of each household it lists, in its own order: what the
#: selection reads (:data:`SELECTION_INPUT_COLUMNS`, one list shared with the pandas engine)
#: and the FP type, which the key table keeps for the round's figures.
KEY_COLUMNS = [*SELECTION_INPUT_COLUMNS, "fp_type"]
#: The key table's columns, in the order the round's full table has them.
TABLE_COLUMNS = [
    "household_id",
    "application_date",
    "eligible",
    "tier",
    "fp_type",
    "fp_priority",
    "per_capita_income_yuan",
    "pc_key",
    "entitlement_yuan",
    "incumbent",
    "pool",
    "rank",
    "decided_by",
    "selected",
    "selection",
    "cumulative_fen",
    "why_zh",
    "why_en",
    "cumulative_yuan",
]
#: Key-table columns held as categoricals (few distinct values, or texts shared by many rows).
CATEGORICAL = ("pool", "fp_type", "decided_by", "selection", "why_zh", "why_en")
#: What a partition gets back for each of its ranked households, besides the row above's values.
RANKED_COLUMNS = [
    "pool",
    "rank",
    "decided_by",
    "incumbent",
    "selected",
    "selection",
    "cumulative_fen",
    "why_zh",
    "why_en",
]
#: The selection's codes, as the key table's categories.
SELECTION = list(rl.SELECTION_CODES)
#: The row above's values each ranked household's texts quote.
ABOVE_KEYS = [rl.ABOVE_PREFIX + c for c in rl.ABOVE_COLUMNS]


def sort_partition(assessed: pd.DataFrame, order: Sequence[str]) -> pd.DataFrame:
    """A partition's assessed rows in the order the round lists them (rulebook §6).

    Per pool (by name): the eligible households in ranking order, then the
    others by household id (as :func:`fpanalysis.rules.relief.not_ranked`).
    Households without a pool are left out (the round does not list them).
    The round's order restricted to a partition is this order, so a
    partition's rows never need to be re-sorted once ranked.

    Examples:
        >>> a = pd.DataFrame({"pool": ["all"] * 3, "household_id": ["H3", "H1", "H2"],
        ...     "eligible": pd.array([False, True, True]), "tier": pd.array([1, 2, 1]),
        ...     "fp_priority": [False] * 3, "pc_key": [1.0, 2.0, 3.0],
        ...     "application_date": pd.to_datetime(["2025-01-01"] * 3)})
        >>> sort_partition(a, ["tier", "household_id"])["household_id"].tolist()
        ['H2', 'H1', 'H3']
    """
    parts = []
    for p in sorted(assessed["pool"].dropna().unique()):
        ap = assessed[assessed["pool"].eq(p)]
        eligible = ap["eligible"].fillna(False).astype(bool)
        e = ap[eligible]
        keys = rl.sort_frame(e).sort_values(list(order), kind="mergesort", na_position="last")
        rest = ap[~eligible].sort_values("household_id", kind="mergesort")
        parts += [e.loc[keys.index], rest]
    return pd.concat(parts) if parts else assessed.iloc[0:0]


@dataclass
class KeyTable:
    """A round ranked and selected on its keys (rulebook §6).

    Attributes:
        table: :data:`TABLE_COLUMNS`, one row a household, in the round's
            order (per pool: the ranked rows by rank, then the rest by
            household id); the columns in :data:`CATEGORICAL` are
            categoricals, the others have the full table's types.
        part: the partition each row comes from (int32).
        notes: the round's ``(zh, en)`` notes.
        n_parts: how many partitions sent keys.
    """

    table: pd.DataFrame
    part: np.ndarray
    notes: list[tuple[str, str]] = field(default_factory=list)
    n_parts: int = 0

    def ranked_slices(self) -> Iterator[pd.DataFrame]:
        """Per partition, in partition order: its ranked households' places in the round.

        One row per ranked household of the partition, in the round's order
        (which is the partition's own order, :func:`sort_partition`):
        :data:`RANKED_COLUMNS` and the row above's values (:data:`ABOVE_KEYS`,
        missing for rank 1). Categoricals keep only their used categories, so
        a slice is small.
        """
        t = self.table
        rank = t["rank"]
        ranked = np.flatnonzero(rank.notna().to_numpy())
        owner = self.part[ranked]
        by_part = ranked[np.argsort(owner, kind="stable")]
        bounds = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=self.n_parts))])
        for k in range(self.n_parts):
            yield ranked_slice(t, by_part[bounds[k] : bounds[k + 1]])


def ranked_slice(table: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """The key table's ``rows`` (ranked households) as a partition needs them to finish its rows.

    The row above a ranked household is the one before it in the round's
    order (ranked rows of a pool are contiguous, by rank).
    """
    rank = table["rank"].to_numpy(dtype=np.int64, na_value=0)[rows]
    first = rank == 1
    above = np.where(first, 0, rows - 1)
    out = {}
    for c in RANKED_COLUMNS:
        v = table[c].iloc[rows]
        if isinstance(v.dtype, pd.CategoricalDtype):
            v = v.cat.remove_unused_categories()
        out[c] = v.reset_index(drop=True)
    for c in rl.ABOVE_COLUMNS:
        v = table[c].iloc[above].reset_index(drop=True)
        if v.dtype == bool:
            v = v.astype("boolean")
        out[rl.ABOVE_PREFIX + c] = v.mask(pd.Series(first))
    return pd.DataFrame(out)


def key_table(
    keys: Sequence[pd.DataFrame],
    order: Sequence[str],
    *,
    quota: Any = None,
    budget_yuan: Any = None,
    pool: str = "all",
) -> KeyTable:
    """Rank and select every pool on the partitions' keys: the round's key table (rulebook §6).

    Args:
        keys: per partition, :data:`KEY_COLUMNS` of the households it lists,
            in its own order (:func:`sort_partition`). A ``list`` is emptied
            once its frames are merged: the driver does not hold the keys twice.
        order: the ranking order.
        quota, budget_yuan, pool: as :func:`fpanalysis.rules.relief.rank_households`.

    Each pool's keys go through
    :func:`fpanalysis.rules.relief.selection.rank_and_select_arrays`, the pandas
    engine's step (:func:`fpanalysis.rules.relief.rank_and_select`) on arrays:
    the same ranking and selection, with no copy of the rows and no text a row
    (the order is total, so ranking the partitions' keys together gives the
    list the whole table gives); the households it does not rank follow by
    household id.

    What the driver holds grows with the province (millions of households), so
    each pool's selection is kept as compact columns (codes of its few texts)
    as soon as it is made, and the memory its working columns held is handed
    back before the next step (:func:`release_memory`).

    Raises:
        UsageError: separate pools without a limit for one of them.
    """
    lens = [len(k) for k in keys]
    part = np.repeat(np.arange(len(keys), dtype=np.int32), lens)
    frames = list(keys)
    if isinstance(keys, list):
        keys.clear()  # merged below: the partitions' frames are not held as well
    allkeys = merge_keys(frames)
    pool_code, pool_names = pd.factorize(allkeys["pool"].cat.codes.to_numpy())
    pool_names = allkeys["pool"].cat.categories[pool_names]
    order = list(order)
    notes: list[tuple[str, str]] = []
    # The round's order as blocks of positions in allkeys: per pool, its ranked households with
    # their selection, then the rest.
    blocks: list[tuple[np.ndarray, dict[str, Any] | None]] = []
    inputs = allkeys[list(SELECTION_INPUT_COLUMNS)]  # what the selection reads (no copy)
    for p in sorted(pool_names):
        in_pool = np.flatnonzero(pool_code == pool_names.get_loc(p))
        whole = len(in_pool) == len(allkeys)  # one pool: its keys as they are, not a copy
        at, one, n = rank_and_select_arrays(
            inputs if whole else inputs.iloc[in_pool],
            order,
            p,
            quota=quota,
            budget_yuan=budget_yuan,
            pool=pool,
        )
        notes += n
        ranked = at if whole else in_pool[at]  # positions in allkeys
        blocks.append((ranked, one))
        del one
        release_memory()
        rest = np.setdiff1d(in_pool, ranked)
        ids = allkeys["household_id"].iloc[rest].reset_index(drop=True)
        blocks.append((rest[ids.sort_values(kind="mergesort").index.to_numpy()], None))
    del inputs
    where = np.concatenate([b for b, _ in blocks]) if blocks else np.zeros(0, np.int64)
    table = _assemble(allkeys, where, blocks)
    return KeyTable(table, part[where], notes, len(lens))


def merge_keys(keys: list[pd.DataFrame]) -> pd.DataFrame:
    """The partitions' keys as one frame, :data:`CATEGORICAL` columns as categoricals.

    The few-valued texts (``pool``, ``fp_type``) become categoricals before
    the frames are joined (a byte a household instead of a string), on the
    categories the joined column would have (its distinct values, sorted).
    The list is emptied: each frame is replaced by its compact copy, then joined.

    Examples:
        >>> a = pd.DataFrame({"pool": ["rural"], "fp_type": ["only_son"]})
        >>> b = pd.DataFrame({"pool": ["all", "rural"], "fp_type": [None, "only_son"]})
        >>> m = merge_keys([a, b])
        >>> list(m["pool"].cat.categories), m["fp_type"].astype(object).tolist()
        (['all', 'rural'], ['only_son', nan, 'only_son'])
    """
    if not len(keys):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in KEY_COLUMNS}).astype(
            {c: "category" for c in KEY_COLUMNS if c in CATEGORICAL}
        )
    few = [c for c in keys[0].columns if c in CATEGORICAL]
    # each column's categories: what astype("category") of the joined column gives
    cats = {c: pd.concat([k[c].drop_duplicates() for k in keys]).astype("category") for c in few}
    dtypes = {c: pd.CategoricalDtype(cats[c].cat.categories) for c in few}
    for i, k in enumerate(keys):
        keys[i] = k.astype(dtypes)
    out = pd.concat(keys, ignore_index=True)
    keys.clear()
    return out


#: The ranking's text columns the key table keeps, as categoricals.
TEXTS = ("decided_by", "why_zh", "why_en")


def _texts_categorical(n: int, pieces: list[tuple[int, np.ndarray, np.ndarray]]) -> pd.Categorical:
    """``n`` rows of texts from pieces ``(start, codes, texts)`` (as
    :func:`~fpanalysis.rules.relief.selection.select_arrays` gives them), missing
    elsewhere: what ``pd.Categorical`` of the texts written in place gives (the categories sorted).

    Examples:
        >>> one = (0, np.array([0, 1], np.int32), np.array(["b", "a"], object))
        >>> two = (3, np.array([0], np.int32), np.array(["c"], object))
        >>> t = _texts_categorical(4, [one, two])
        >>> list(t.categories), t.astype(object).tolist()
        (['a', 'b', 'c'], ['b', 'a', nan, 'c'])
    """
    everything = np.concatenate([t for _, _, t in pieces]) if pieces else np.zeros(0, object)
    if not len(everything):  # no text at all: as the texts written in place give
        return pd.Categorical(np.full(n, np.nan, dtype=object))
    categories = pd.Categorical(everything).categories
    codes = np.full(n, -1, np.int32)
    for start, c, texts in pieces:
        to_global = categories.get_indexer(texts).astype(np.int32)
        codes[start : start + len(c)] = np.where(c < 0, -1, to_global[c])
    return pd.Categorical.from_codes(codes, categories)


def _assemble(
    allkeys: pd.DataFrame,
    where: np.ndarray,
    blocks: list[tuple[np.ndarray, dict[str, Any] | None]],
) -> pd.DataFrame:
    """The key table: ``allkeys`` taken in the round's order (``where``, the ``blocks`` joined),
    with the ranking's columns (a block's selection, or ``None``: households not ranked)."""
    n = len(where)
    out: dict[str, Any] = {}
    for c in KEY_COLUMNS:
        v = allkeys[c].iloc[where].reset_index(drop=True)
        out[c] = v.astype("category") if c in CATEGORICAL else v
    rank = np.zeros(n, np.int64)
    has_rank = np.zeros(n, bool)
    selected = np.zeros(n, bool)
    cum = np.zeros(n, np.int64)
    cum_na = np.ones(n, bool)
    selection = np.full(n, SELECTION.index("not_eligible"), np.int8)
    texts: dict[str, list] = {c: [] for c in TEXTS}
    start = 0
    for at, one in blocks:
        stop = start + len(at)
        if one is not None:
            rank[start:stop] = np.arange(1, len(at) + 1)
            has_rank[start:stop] = True
            selected[start:stop] = one["selected"]
            c = one["cumulative_fen"]
            cum[start:stop] = c.to_numpy(dtype=np.int64, na_value=0)
            cum_na[start:stop] = c.isna()
            selection[start:stop] = one["selection"]
            for name, pieces in texts.items():
                pieces.append((start, *one[name]))
        start = stop
    out["rank"] = pd.arrays.IntegerArray(rank, ~has_rank)
    out["selected"] = pd.array(selected, dtype="boolean")
    out["cumulative_fen"] = pd.arrays.IntegerArray(cum, cum_na)
    out["selection"] = pd.Categorical.from_codes(selection, SELECTION)
    for name in list(texts):
        out[name] = _texts_categorical(n, texts.pop(name))
    table = pd.DataFrame(out)
    table["cumulative_yuan"] = table["cumulative_fen"] / 100
    return table[TABLE_COLUMNS]
