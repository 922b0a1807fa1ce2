"""Relief ranking and selection on Dask, with the pandas engine's result (rulebook §6).

Each worker assesses a partition of whole households
(:func:`~fpanalysis.rules.relief.prepare_round`) and keeps the rows; only the
eligible households' ranking keys, sorted per pool, go to the driver, which
merges them (the order is total, so the merge equals a global sort), ranks
and selects each pool on the keys
(:func:`~fpanalysis.rules.relief.rank_and_select`) and sends each partition
its households' ranks and selection; the workers then write the texts and
reasons, or, for a lean round, write them a slice at a time as the output is
written (:func:`texts_runner`). Aligned partitioned Parquet is read and
validated in the workers; other datasets are loaded in the driver and cut
into contiguous blocks of households (:func:`split_by_household`).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core.errors import DataError, FPError
from fpanalysis.core.params import Params
from fpanalysis.engines.dask import common
from fpanalysis.engines.dask.common import (
    PartitionSpec,
    Sources,
    failure,
    first_pass,
    gather,
    key_hashes,
    load_partition,
    n_workers,
    read_parts,
    run_partitions,
    source_name,
    total_rows,
)
from fpanalysis.rules import relief as rl

TABLES_NEEDED = list(rl.RELIEF_TABLES)
UNIQUE_KEYS = {"households": "household_id", "household_members": "member_id"}
#: The columns of an eligible household the driver needs to rank and select.
KEY_COLUMNS = [
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
]
#: What a partition gets back for each of its ranked households (and the row above's values).
RANKED_COLUMNS = [
    "household_id",
    "rank",
    "decided_by",
    "above_id",
    "above_rank",
    "incumbent",
    "selected",
    "selection",
    "cumulative_fen",
    "why_zh",
    "why_en",
]
#: The row above's values each ranked household's texts quote.
ABOVE_KEYS = [rl.ABOVE_PREFIX + c for c in rl.ABOVE_COLUMNS]


# --------------------------------------------------------------------------- partitions


def split_by_household(tables: Mapping[str, pd.DataFrame], n: int) -> list[dict[str, pd.DataFrame]]:
    """Cut ``households`` and ``household_members`` into at most ``n`` parts of whole households.

    Households go in contiguous blocks of their table order, each with its
    members (a member of an unknown household goes to the first block), so
    stacking the partitions gives back the tables in their order.

    Examples:
        >>> from fpanalysis.core.schema import coerce
        >>> hh = [{"household_id": h} for h in ["H1", "H2", "H3"]]
        >>> mm = [{"member_id": m, "household_id": h} for m, h in [("M1", "H3"), ("M2", "H1")]]
        >>> t = {"households": coerce("households", hh),
        ...      "household_members": coerce("household_members", mm)}
        >>> [p["household_members"]["member_id"].tolist() for p in split_by_household(t, 2)]
        [['M2'], ['M1']]
    """
    h = tables["households"]
    nh = len(h)
    n = max(1, min(int(n), max(nh, 1)))
    block = (np.arange(nh) * n) // max(nh, 1)
    lookup = pd.Series(block, index=pd.Index(h["household_id"].to_numpy(object)))
    lookup = lookup[~lookup.index.duplicated()]
    m = tables["household_members"]
    mpart = lookup.reindex(m["household_id"].to_numpy(object)).fillna(0).to_numpy(np.int64)
    out = [{"households": h[block == k], "household_members": m[mpart == k]} for k in range(n)]
    return [
        p
        for i, p in enumerate(out)
        if i == 0 or len(p["households"]) or len(p["household_members"])
    ]


def alignment_problem(tables: Mapping[str, pd.DataFrame]) -> str | None:
    """Why a partition does not hold whole households (a member's household elsewhere), or None."""
    from fpanalysis.core.dataset import isin_keys

    v = tables["household_members"]["household_id"]
    missing = v.notna() & ~isin_keys(v, tables["households"]["household_id"])
    if missing.any():
        return f"household_members.household_id {v[missing].iloc[0]!r} not in households"
    return None


def read_partition_fast(files: Mapping[str, Sequence[str | Path]]) -> dict[str, pd.DataFrame]:
    """One partition's households and members read with pyarrow and typed (no validation)."""
    return read_parts(files, TABLES_NEEDED, empty_missing=True)


# --------------------------------------------------------------------------- map


@dataclass
class Partial(common.Partial):
    """One partition's work: the assessed rows stay in the worker; ``keys`` go to the driver."""

    assessed: pd.DataFrame | None = None
    problems: pd.DataFrame | None = None
    keys: pd.DataFrame | None = None

    def summary(self) -> Partial:
        """Everything but the assessed rows (what the driver gathers)."""
        return dataclasses.replace(self, assessed=None)


def _sizeof_partial(part: Partial) -> int:
    """Bytes a :class:`Partial` holds, for the Dask worker's memory manager.

    Without this ``dask.sizeof`` sees a dataclass as ~56 bytes, so a worker
    holding every assessed partition (gigabytes at 1M households) believes it
    holds nothing, never spills to disk and is killed by its nanny at 95 % of
    ``memory_limit`` — losing the scattered rank slices and cancelling
    ``map_finish``. Counting the frames lets the worker spill Partials instead.

    Examples:
        >>> import pandas as pd
        >>> from dask.sizeof import sizeof
        >>> df = pd.DataFrame({"a": range(100_000)})
        >>> sizeof(Partial(assessed=df)) >= sizeof(df)
        True
    """
    from dask.sizeof import sizeof

    held = (part.assessed, part.problems, part.keys, part.hashes, part.rows, part.messages)
    return 1_000 + sum(int(sizeof(x)) for x in held if x is not None)


def _register_sizeof() -> None:
    # Registered at import: workers import this module when they unpickle map_assess.
    from dask.sizeof import sizeof

    sizeof.register(Partial)(_sizeof_partial)


_register_sizeof()


SPEC = PartitionSpec(
    tables=tuple(TABLES_NEEDED),
    name_table="households",
    read_fast=read_partition_fast,
    split=split_by_household,
    partial=Partial,
    alignment=alignment_problem,
    recorded=tuple(rl.RECORDED_TABLES),
    unique_keys=UNIQUE_KEYS,
)


def map_assess(
    source: Any,
    params: Params,
    as_of: pd.Timestamp,
    *,
    pool: str,
    previous_ids: Sequence[str] | None,
    validate: bool = False,
    skip_invalid: bool = False,
    lang: str = "zh",
    check_keys: bool = False,
) -> Partial:
    """Map task: assess one partition; the eligible households' keys, sorted per pool and rank."""
    where = source_name(source, SPEC.name_table)
    try:
        info = Partial()
        tables = load_partition(
            SPEC, source, info, validate=validate, skip_invalid=skip_invalid, lang=lang
        )
        if info.not_aligned:
            return info
        order = list(params.at("ranking_order", as_of))
        a, problems = rl.prepare_round(
            tables, params, as_of, pool=pool, previous_round=previous_ids
        )
        info.assessed = a
        info.problems = problems
        e = a[a["eligible"].fillna(False).astype(bool)]
        sk = rl.sort_frame(e).assign(pool=e["pool"])
        sk = sk.sort_values(["pool", *order], kind="mergesort", na_position="last")
        info.keys = e.loc[sk.index, KEY_COLUMNS].reset_index(drop=True)
        info.rows = {t: len(tables[t]) for t in TABLES_NEEDED}
        if check_keys:
            info.hashes = key_hashes(tables, UNIQUE_KEYS)
        return info
    except FPError as exc:
        return Partial(failure=failure(exc, where))


def _summary(p: Partial) -> Partial:
    return p.summary()


def map_finish(
    part: Partial,
    ranked: pd.DataFrame,
    params: Params,
    as_of: pd.Timestamp,
    order: Sequence[str],
    texts: bool = True,
) -> pd.DataFrame:
    """Finish task: a partition's rows of the round's table, given their ranks and selection.

    ``ranked`` holds this partition's ranked households (:data:`RANKED_COLUMNS`,
    ``pool`` and the row above's values as ``above__<column>``), in rank order
    per pool. The columns are built in the pandas engine's order, by its code.
    ``texts=False``: the rows of a lean table (no texts; the ``above__`` columns kept).
    """
    a = part.assessed
    parts = []
    above_cols = {rl.ABOVE_PREFIX + c: c for c in rl.ABOVE_COLUMNS}
    for p in sorted(a["pool"].dropna().unique()):
        ap = a[a["pool"].eq(p)]
        rp = ranked[ranked["pool"].eq(p)]
        pos = pd.Index(ap["household_id"].to_numpy(object)).get_indexer(
            rp["household_id"].to_numpy(object)
        )
        e = ap.iloc[pos].copy()
        for c in ("rank", "decided_by", "above_id", "above_rank"):
            e[c] = rp[c].set_axis(e.index)
        above = rp[list(above_cols)].rename(columns=above_cols).set_axis(e.index)
        rl.add_decided(e, above, order, texts=texts)
        for c in ("incumbent", "selected", "selection", "cumulative_fen", "why_zh", "why_en"):
            e[c] = rp[c].set_axis(e.index)
        parts += [e, rl.not_ranked(ap, e)]
    return rl.finish_table(parts, a, params, as_of, texts=texts)


# --------------------------------------------------------------------------- driver


@dataclass
class DaskRelief:
    """A round on Dask: its result (the pandas engine's, to the byte) and how it ran."""

    result: rl.ReliefResult
    partitions: int
    rows: dict[str, int]
    messages: list[str]
    repartitioned: bool = False


def rank_households(
    client: Any,
    dataset: str | Path | None,
    params: Params,
    as_of: Any = None,
    *,
    quota: int | Mapping[str, int] | None = None,
    budget_yuan: Any = None,
    pool: str = "all",
    previous_round: Any = None,
    validate: bool = True,
    skip_invalid: bool = False,
    lang: str = "zh",
    partitions: int | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    texts: bool = True,
) -> DaskRelief:
    """:func:`fpanalysis.rules.relief.rank_households` on a Dask cluster, with the same result.

    Args:
        client: a ``distributed.Client`` (:func:`fpanalysis.engines.dask.cluster.dask_client`).
        dataset: a partitioned Parquet folder (``DIR/households/part-NNNNN.parquet``
            and ``DIR/household_members/part-NNNNN.parquet``, read in the
            workers) or any dataset the package reads (loaded in the driver
            and cut by :func:`split_by_household`).
        params, as_of, quota, budget_yuan, pool, previous_round: as
            :func:`fpanalysis.rules.relief.rank_households`.
        validate: load and validate each partition with the package's loader
            (the CLI); ``False`` reads typed Parquet directly (trusted data).
        skip_invalid: drop rejected rows instead of refusing (per partition).
        lang: language of messages.
        partitions: how many partitions to cut a non-partitioned dataset into
            (default: 4 per worker).
        tables: an in-memory dataset instead of ``dataset``.
        texts: write every text in the workers now. ``False`` gives a *lean*
            round (as :func:`fpanalysis.rules.relief.rank_households`): the driver
            holds the table without texts, and
            :meth:`~fpanalysis.rules.relief.ReliefResult.chunks` has the workers
            write them a slice at a time **while** ``client`` **is open**
            (a province's reasons never all in one process).

    Returns:
        A :class:`DaskRelief`; ``.result`` is the round.

    Raises:
        UsageError: as the pandas engine.
        DataError: the data fail validation (naming the partition), keys repeat
            across partitions, or no household has a date to default ``as_of`` to.
    """
    rl.check_round_options(quota, budget_yuan, pool)
    previous_ids = sorted(rl.selected_ids(previous_round)) if previous_round is not None else None

    def run(sources: Sources):
        day = None if as_of is None else pd.Timestamp(as_of).normalize()
        if day is None:
            last, bad = first_pass(client, SPEC, sources)
            if bad:
                return (None, None), bad
            day = last if last is not None else rl.default_as_of({"households": _no_households()})
        futures = client.map(
            map_assess,
            sources.parts,
            params=params,
            as_of=day,
            pool=pool,
            previous_ids=previous_ids,
            check_keys=not sources.repartitioned,
            pure=False,
            **sources.opts,
        )
        summaries = gather(client.map(_summary, futures, pure=False))
        return (day, futures), summaries

    (day, futures), summaries, sources = run_partitions(
        client,
        SPEC,
        dataset,
        tables,
        run,
        dangling=DataError(
            "家庭成员表中有引用不到的低保户，无法计算",
            "household members refer to households that are not there",
            rule="dangling_reference",
        ),
        validate=validate,
        skip_invalid=skip_invalid,
        lang=lang,
        partitions=partitions,
    )

    order = tuple(params.at("ranking_order", day))
    # Reduce: merge the per-partition sorted keys, rank and select each pool on the keys only.
    keys = pd.concat([p.keys.assign(_part=k) for k, p in enumerate(summaries)], ignore_index=True)
    pools = sorted(
        set().union(*[set(p.keys["pool"].dropna()) for p in summaries])
        | _pools_present(client, futures)
    )
    notes_out: list[tuple[str, str]] = []
    ranked_parts = []
    for p in pools:
        sel, n = rl.rank_and_select(
            keys[keys["pool"].eq(p)],
            order,
            p,
            quota=quota,
            budget_yuan=budget_yuan,
            pool=pool,
            texts=False,
        )
        notes_out += n
        ranked_parts.append(sel[["pool", "_part", *RANKED_COLUMNS, *ABOVE_KEYS]])
    allranked = (
        pd.concat(ranked_parts)
        if ranked_parts
        else pd.DataFrame(columns=["pool", "_part", *RANKED_COLUMNS])
    )
    del keys

    # Finish: every partition writes its rows' texts; the driver stacks them in the pandas order.
    slices = [
        allranked[allranked["_part"].eq(k)].drop(columns="_part") for k in range(len(futures))
    ]
    # The slices travel inside the tasks, NOT scattered: scattered data has no lineage, so a worker
    # lost mid-round (killed by its nanny for memory) lost them for good and the scheduler cancelled
    # map_finish (FutureCancelledError at 1M households). Inside the task the scheduler keeps a copy
    # and recomputes after a restart, like map_assess from its part files.
    with warnings.catch_warnings():
        # distributed suggests scattering graphs over 10 MB: the very thing that lost the slices
        warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
        finishing = [
            client.submit(map_finish, f, s, params, day, order, texts, pure=False)
            for f, s in zip(futures, slices, strict=True)
        ]
    del slices, allranked  # the tasks hold their own copies now
    done = gather_frames(finishing, release=futures)
    del finishing
    for f in futures:
        f.release()
    table = stack_in_order(done)
    problems = pd.concat([p.problems for p in summaries], ignore_index=True)
    rows = total_rows(summaries)
    result = rl.ReliefResult.of_round(
        table,
        problems.reset_index(drop=True),
        notes_out,
        params,
        day,
        pool=pool,
        quota=quota,
        budget_yuan=budget_yuan,
        runner=None if texts else texts_runner(client),
    )
    return DaskRelief(result, len(futures), rows, sources.messages, sources.repartitioned)


def texts_runner(client: Any, in_flight: int | None = None):
    """A :attr:`~fpanalysis.rules.relief.ReliefResult.runner`: a lean round's texts, in the workers.

    Slices go to the workers as they are asked for, at most ``in_flight``
    (default 2 per worker) at a time, and come back in order, so the driver
    holds a few slices' texts, never all of them. Once the client is closed
    the texts are written here, in the driver (the same texts, slower).
    """
    limit = in_flight or 2 * n_workers(client)

    def run(slices, bands, order):
        if getattr(client, "status", "running") != "running":  # the cluster is gone: write here
            for sl in slices:
                yield rl.texts_for(sl, bands, order)
            return
        pending: deque = deque()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
            for sl in slices:
                pending.append(client.submit(rl.texts_for, sl, bands, order, pure=False))
                if len(pending) >= limit:
                    yield _take_result(pending.popleft())
        while pending:
            yield _take_result(pending.popleft())

    return run


def _take_result(fut: Any) -> pd.DataFrame:
    out = fut.result()
    fut.release()
    return out


def stack_in_order(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The partitions' rows stacked in the pandas engine's order.

    Per pool: the ranked rows by rank, then the rest by household id.

    The order is found on three key columns, then the stacked rows are taken
    in it once: the driver holds the table twice at most (the stack and the
    ordered copy), not three times as a sort of the whole frame would. The
    list is emptied (its frames are in the stack).

    Examples:
        >>> def part(ranks, ids):
        ...     return pd.DataFrame({"pool": ["all", "all"], "household_id": ids,
        ...                          "rank": pd.array(ranks, dtype="Int64")})
        >>> a, b = part([2, None], ["H2", "H9"]), part([1, None], ["H1", "H3"])
        >>> stack_in_order([a, b])["household_id"].tolist()
        ['H1', 'H2', 'H3', 'H9']
    """
    keys = pd.concat([f[["pool", "rank", "household_id"]] for f in frames], ignore_index=True)
    order = (
        keys.assign(_rest=keys["rank"].isna())
        .sort_values(
            ["pool", "_rest", "rank", "household_id"], kind="mergesort", na_position="last"
        )
        .index.to_numpy()
    )
    del keys
    table = pd.concat(frames, ignore_index=True)
    frames.clear()
    return table.take(order).reset_index(drop=True)


def _no_households() -> pd.DataFrame:
    from fpanalysis.core.schema import empty_frame

    return empty_frame("households")


def _pools_of(part: Partial) -> set[str]:
    return set(part.assessed["pool"].dropna()) if part.assessed is not None else set()


def _pools_present(client: Any, futures: Sequence[Any]) -> set[str]:
    """Every pool with a household in some partition (a pool may have nobody eligible)."""
    out: set[str] = set()
    for s in client.gather(client.map(_pools_of, futures, pure=False)):
        out |= s
    return out


def gather_frames(futures: Sequence[Any], release: Sequence[Any] = ()) -> list[pd.DataFrame]:
    """Frames of ``futures`` in their order, each fetched as soon as it is done.

    A fetched future is released at once, with ``release[k]`` (the assessed
    partition its task read), so a worker does not hold every partition's
    assessed rows and finished table together until the last one is done.
    """
    from distributed import as_completed

    futures = list(futures)
    release = list(release)
    where = {f.key: k for k, f in enumerate(futures)}
    out: list[Any] = [None] * len(futures)
    if not futures:
        return []
    # the engine's client is not the default one (set_as_default=False): hand over its loop
    pending = as_completed(futures, loop=futures[0].client.loop)
    del futures
    for fut in pending:
        k = where[fut.key]
        out[k] = fut.result()
        fut.release()
        if k < len(release):
            release[k].release()
    return out
