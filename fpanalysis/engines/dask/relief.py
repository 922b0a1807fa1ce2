"""Relief ranking and selection on Dask, with the pandas engine's result (rulebook §6).

Each worker assesses a partition of whole households
(:func:`~fpanalysis.rules.relief.prepare_round`), keeps the rows in the
order the round will list them and sends the driver only each household's
keys (:data:`~fpanalysis.engines.dask.relief_keys.KEY_COLUMNS`); the driver
ranks and selects each pool on the keys
(:func:`~fpanalysis.engines.dask.relief_keys.key_table`) and sends each
partition its ranked households' places; the workers then finish their rows.
The finished rows are stacked in the driver, or, with ``keys_only``, stay in
the workers in slices of the round's order, from which the output is written
a slice at a time (:mod:`~fpanalysis.engines.dask.relief_rows`); a lean
round's texts are written in the workers as its table is written. Aligned
partitioned Parquet is read and validated in the workers; other datasets are
loaded in the driver and cut into contiguous blocks of households
(:func:`split_by_household`).
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
from fpanalysis.core.memory import release_memory
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
    run_partitions,
    source_name,
    total_rows,
)
from fpanalysis.engines.dask.relief_keys import (
    KEY_COLUMNS,
    key_table,
    sort_partition,
)
from fpanalysis.rules import relief as rl

TABLES_NEEDED = list(rl.RELIEF_TABLES)


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


# --------------------------------------------------------------------------- map


@dataclass
class Partial(common.Partial):
    """One partition's work: the assessed rows stay in the worker; their ``keys`` go to the
    driver."""

    assessed: pd.DataFrame | None = None
    problems: pd.DataFrame | None = None
    keys: pd.DataFrame | None = None

    def summary(self) -> Partial:
        """What the driver gathers: everything but the assessed rows, with their keys
        (:data:`~fpanalysis.engines.dask.relief_keys.KEY_COLUMNS`, in the rows' order)."""
        keys = (
            self.assessed[KEY_COLUMNS].reset_index(drop=True) if self.assessed is not None else None
        )
        return dataclasses.replace(self, assessed=None, keys=keys)


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
    split=split_by_household,
    partial=Partial,
    alignment=alignment_problem,
    recorded=tuple(rl.RECORDED_TABLES),
    empty_missing=True,
)
#: The keys unique across the dataset.
UNIQUE_KEYS = SPEC.unique_keys
#: One partition's households and members read typed, without validation.
read_partition_fast = SPEC.read_fast


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
    """Map task: assess one partition; its rows kept in the round's order, their keys sent back.

    The assessed rows stay in the worker, sorted as the round lists them
    (:func:`~fpanalysis.engines.dask.relief_keys.sort_partition`); their keys
    are taken when the driver gathers the :meth:`Partial.summary`.
    """
    where = source_name(source, SPEC.name_table)
    try:
        info = Partial()
        tables = load_partition(
            SPEC, source, info, validate=validate, skip_invalid=skip_invalid, lang=lang
        )
        if info.not_aligned:
            return info
        a, problems = rl.prepare_round(
            tables, params, as_of, pool=pool, previous_round=previous_ids
        )
        info.assessed = sort_partition(a, params.at("ranking_order", as_of))
        info.problems = problems
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

    ``ranked`` holds this partition's ranked households
    (:meth:`~fpanalysis.engines.dask.relief_keys.KeyTable.ranked_slices`), in
    the round's order, which is the order the partition keeps its eligible
    rows in. The rows come out in the round's order too, their columns built
    in the pandas engine's order, by its code. ``texts=False``: the rows of a
    lean table (no texts; the ``above__`` columns kept).
    """
    a = part.assessed
    parts = []
    above_cols = {rl.ABOVE_PREFIX + c: c for c in rl.ABOVE_COLUMNS}
    for p in sorted(a["pool"].dropna().unique()):
        ap = a[a["pool"].eq(p)]
        rp = ranked[ranked["pool"].eq(p)].reset_index(drop=True)
        e = ap[ap["eligible"].fillna(False).astype(bool)].copy()
        if len(e) != len(rp):  # the driver and the worker sorted the same keys: never
            raise RuntimeError(f"pool {p}: {len(e)} eligible rows here, {len(rp)} ranked")
        at = e.index
        e["rank"] = rp["rank"].set_axis(at)
        e["decided_by"] = _strings(rp["decided_by"]).set_axis(at)
        e["above_id"] = rp[rl.ABOVE_PREFIX + "household_id"].set_axis(at)
        e["above_rank"] = rp[rl.ABOVE_PREFIX + "rank"].set_axis(at)
        above = rp[list(above_cols)].rename(columns=above_cols).set_axis(at)
        rl.add_decided(e, above, order, texts=texts)
        e["incumbent"] = rp["incumbent"].set_axis(at)
        e["selected"] = rp["selected"].set_axis(at)
        for c in ("selection", "cumulative_fen", "why_zh", "why_en"):
            e[c] = (_strings(rp[c]) if c != "cumulative_fen" else rp[c]).set_axis(at)
        parts += [e, rl.not_ranked(ap, e)]
    return rl.finish_table(parts, a, params, as_of, texts=texts)


def _strings(s: pd.Series) -> pd.Series:
    """A categorical column of texts as the ``str`` column the pandas engine has."""
    return s.astype("str") if isinstance(s.dtype, pd.CategoricalDtype) else s


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
    keys_only: bool = False,
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
        keys_only: the driver gathers only each household's keys; the table's
            rows stay in the workers (a
            :class:`~fpanalysis.engines.dask.relief_rows.HeldRound`, whose
            ``table`` is the key table and whose slices, texts and all, come
            from the workers while ``client`` is open). Needs ``texts=False``.

    Returns:
        A :class:`DaskRelief`; ``.result`` is the round.

    Raises:
        UsageError: as the pandas engine.
        DataError: the data fail validation (naming the partition), keys repeat
            across partitions, or no household has a date to default ``as_of`` to.
        ValueError: ``keys_only`` with ``texts``.
    """
    if keys_only and texts:
        raise ValueError("keys_only needs texts=False: the workers write the texts as asked")
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
    # Reduce: the households' keys merged into the round's order, each pool ranked and selected.
    # What the driver holds grows with the province: the keys are handed over to key_table (which
    # empties the list), and the key hashes, already checked, are not held through the ranking.
    keys = [p.keys for p in summaries]
    for p in summaries:
        p.keys = p.hashes = None
    kt = key_table(keys, order, quota=quota, budget_yuan=budget_yuan, pool=pool)
    del keys
    problems = pd.concat([p.problems for p in summaries], ignore_index=True)
    rows = total_rows(summaries)
    del summaries
    release_memory()  # the ranking's working memory back to the system before the rows are written

    # Finish: every partition writes its rows, in the round's order.
    # The slices travel inside the tasks, NOT scattered: scattered data has no lineage, so a worker
    # lost mid-round (killed by its nanny for memory) lost them for good and the scheduler cancelled
    # map_finish (FutureCancelledError at 1M households). Inside the task the scheduler keeps a copy
    # and recomputes after a restart, like map_assess from its part files.
    with warnings.catch_warnings():
        # distributed suggests scattering graphs over 10 MB: the very thing that lost the slices
        warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
        finishing = [
            client.submit(map_finish, f, s, params, day, order, texts, pure=False)
            for f, s in zip(futures, kt.ranked_slices(), strict=True)
        ]
    round_ = {
        "problems": problems.reset_index(drop=True),
        "notes": kt.notes,
        "params": params,
        "as_of": day,
        "pool": pool,
        "quota": quota,
        "budget_yuan": budget_yuan,
    }
    if keys_only:
        from fpanalysis.engines.dask.relief_rows import hold_rows

        result = hold_rows(client, kt, finishing, futures, **round_)
    else:
        done = gather_frames(finishing, release=futures)
        del finishing
        for f in futures:
            f.release()
        table = stack_in_order(done, kt.part)
        result = rl.ReliefResult.of_round(
            table, **round_, runner=None if texts else texts_runner(client)
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


def stack_in_order(frames: list[pd.DataFrame], part: np.ndarray) -> pd.DataFrame:
    """The partitions' finished rows stacked in the round's order.

    ``part`` gives, for each row of the round in order, the partition it
    comes from; each partition's rows are already in the round's order. The
    stacked rows are taken in that order once: the driver holds the table
    twice at most. The list is emptied (its frames are in the stack).

    Examples:
        >>> a, b = pd.DataFrame({"h": ["H2", "H9"]}), pd.DataFrame({"h": ["H1", "H3"]})
        >>> stack_in_order([a, b], np.array([1, 0, 1, 0]))["h"].tolist()
        ['H1', 'H2', 'H3', 'H9']
    """
    if sum(len(f) for f in frames) != len(part):  # the finish and the keys agree: never
        raise RuntimeError("the partitions' rows do not match the round's keys")
    # the stack lists the partitions in order, each in the round's order: row j of the stack is
    # the round's row grouped[j]
    grouped = np.argsort(part, kind="stable")
    where = np.empty_like(grouped)
    where[grouped] = np.arange(len(grouped))
    table = pd.concat(frames, ignore_index=True)
    frames.clear()
    return table.take(where).reset_index(drop=True)


def _no_households() -> pd.DataFrame:
    from fpanalysis.core.schema import empty_frame

    return empty_frame("households")


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
