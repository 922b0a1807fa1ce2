"""Unit compliance on Dask (rulebook §3): each partition's drill-down folded into per-unit sums in
the workers (map), the sums added (reduce) and scored in the driver by the pandas engine's own code
(compute), so the scorecard, and the drill-down when asked (gathered, or written by each worker),
equal the pandas engine's; a partition holds whole couples, and couples linked through a remarried
person stay together."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core import schema
from fpanalysis.core.dataset import unit_ids
from fpanalysis.core.errors import DataError
from fpanalysis.core.params import Params
from fpanalysis.engines.dask import common
from fpanalysis.engines.dask.common import (
    PartitionSpec,
    Sources,
    first_pass,
    gather,
    is_frames,
    load_partition,
    map_task,
    run_partitions,
    source_name,
    total_rows,
)
from fpanalysis.rules import compliance as cp

TABLES_NEEDED = list(cp.TABLES_NEEDED)
#: Tables whose rows belong to a couple (by ``couple_id``).
BY_COUPLE = ("children", "permits", "pregnancies", "surveys", "contraception")


# --------------------------------------------------------------------------- partitions


def couple_groups(couples: pd.DataFrame) -> np.ndarray:
    """For each couple (by position), a group label: couples sharing a spouse share a label.

    The label is the first position of the group (connected components of
    the couple–person graph, by repeated minimum label propagation: a handful
    of passes, as many as the longest chain of remarriages).

    Examples:
        >>> from fpanalysis.core.schema import coerce
        >>> c = coerce("couples", [{"couple_id": k, "wife_id": w, "husband_id": h} for k, w, h in
        ...     [("C1", "W1", "H1"), ("C2", "W2", "H2"), ("C3", "W3", "H1"), ("C4", "W2", "H4")]])
        >>> couple_groups(c).tolist()
        [0, 1, 0, 1]
    """
    n = len(couples)
    label = np.arange(n, dtype=np.int64)
    if n == 0:
        return label
    wife = couples["wife_id"].to_numpy(object)
    husband = couples["husband_id"].to_numpy(object)
    pid = np.concatenate([wife, husband])
    known = pd.notna(pid)
    codes, _ = pd.factorize(pid[known])
    pos = np.concatenate([np.arange(n), np.arange(n)])[known]
    for _ in range(n + 1):  # ends long before: each pass spreads a minimum one step further
        per_person = np.full(
            codes.max() + 1 if len(codes) else 0, np.iinfo(np.int64).max, dtype=np.int64
        )
        np.minimum.at(per_person, codes, label[pos])
        new = label.copy()
        np.minimum.at(new, pos, per_person[codes])
        if np.array_equal(new, label):
            break
        label = new
    return label


def split_by_couple_group(
    tables: Mapping[str, pd.DataFrame], n: int
) -> list[dict[str, pd.DataFrame]]:
    """Cut an in-memory dataset into at most ``n`` aligned partitions for compliance.

    Groups of couples linked by a person (:func:`couple_groups`) go to one
    partition, in contiguous blocks of the couples' table order; each couple
    takes its spouses' ``persons`` rows and the ``children``, ``permits``,
    ``pregnancies``, ``surveys``, ``contraception`` of its ``couple_id`` and the
    ``check_attendance`` of its spouses. Persons in no couple, and rows whose
    couple or person is unknown, go to the first partition. ``units`` and
    ``check_rounds`` go to every partition. Rows keep their table order (and
    their row numbers) inside a partition. Empty partitions are dropped.

    Examples:
        >>> from fpanalysis.core.schema import coerce
        >>> t = {"couples": coerce("couples", [
        ...          {"couple_id": k, "wife_id": w, "husband_id": h} for k, w, h in
        ...          [("C1", "W1", "H1"), ("C2", "W2", "H2"), ("C3", "W3", "H3"),
        ...           ("C4", "W4", "H1")]]),
        ...      "persons": coerce("persons", [
        ...          {"person_id": p} for p in ["W1", "H1", "W2", "H2", "W3", "H3", "W4"]])}
        >>> # C4 follows H1's first marriage
        >>> [p["couples"]["couple_id"].tolist() for p in split_by_couple_group(t, 2)]
        [['C1', 'C2', 'C4'], ['C3']]
    """
    couples = tables["couples"]
    nc = len(couples)
    n = max(1, min(int(n), max(nc, 1)))
    group = couple_groups(couples)
    cpart = (group * n) // max(nc, 1)
    by_couple = pd.Series(cpart, index=pd.Index(couples["couple_id"].to_numpy(object)))
    by_couple = by_couple[~by_couple.index.duplicated()]
    spouses = pd.DataFrame(
        {
            "pid": np.concatenate(
                [couples["wife_id"].to_numpy(object), couples["husband_id"].to_numpy(object)]
            ),
            "part": np.concatenate([cpart, cpart]),
        }
    ).dropna()
    by_person = spouses.drop_duplicates("pid").set_index("pid")["part"]  # one group: one partition

    def part_of(ids: pd.Series, lookup: pd.Series) -> np.ndarray:
        return lookup.reindex(ids.to_numpy(object)).fillna(0).to_numpy(np.int64)

    where: dict[str, np.ndarray] = {"couples": cpart}
    if "persons" in tables:
        where["persons"] = part_of(tables["persons"]["person_id"], by_person)
    for t in BY_COUPLE:
        if t in tables:
            where[t] = part_of(tables[t]["couple_id"], by_couple)
    if "check_attendance" in tables:
        where["check_attendance"] = part_of(tables["check_attendance"]["person_id"], by_person)
    out = []
    for k in range(n):
        p = {t: tables[t] for t in SHARED_TABLES if t in tables}
        for t, w in where.items():
            p[t] = tables[t][w == k]
        if k == 0 or any(len(p[t]) for t in where):
            out.append(p)
    return out


def alignment_problem(tables: Mapping[str, pd.DataFrame]) -> str | None:
    """Why a partition does not hold whole couples (a reference leaves it), or ``None``.

    Every couple's spouses, every row's couple and every check attendance's
    woman must be in the partition.
    """
    from fpanalysis.core.dataset import isin_keys

    checks = [(t, "couple_id", "couples", "couple_id") for t in BY_COUPLE] + [
        ("couples", "wife_id", "persons", "person_id"),
        ("couples", "husband_id", "persons", "person_id"),
        ("check_attendance", "person_id", "persons", "person_id"),
    ]
    for t, col, ref, key in checks:
        if t not in tables or ref not in tables:
            continue
        v = tables[t][col]
        missing = v.notna() & ~isin_keys(v, tables[ref][key])
        if missing.any():
            return f"{t}.{col} {v[missing].iloc[0]!r} not in {ref}"
    return None


# --------------------------------------------------------------------------- map


@dataclass
class Partial(common.Partial):
    """What one partition gives back: the per-unit sums (small), and the drill-down when asked."""

    sums: pd.DataFrame | None = None
    detail: pd.DataFrame | None = None


SPEC = PartitionSpec(
    tables=tuple(TABLES_NEEDED),
    name_table="couples",
    split=split_by_couple_group,
    partial=Partial,
    alignment=alignment_problem,
    recorded=tuple(cp.RECORDED_TABLES),
)
#: The reference tables every partition holds whole, and the keys unique across the dataset.
SHARED_TABLES, UNIQUE_KEYS = SPEC.shared, SPEC.unique_keys
#: One partition's tables read typed, without validation.
read_partition_fast = SPEC.read_fast


@map_task(SPEC)
def map_compliance(
    source: Any,
    params: Params,
    period: str,
    *,
    want_detail: bool = False,
    detail_path: str | Path | None = None,
    reveal_pii: bool = False,
    validate: bool = False,
    skip_invalid: bool = False,
    lang: str = "zh",
    check_keys: bool = False,
) -> Partial:
    """Map task: one partition's per-unit sums (and drill-down when asked, or written to
    ``detail_path``)."""
    info = Partial()
    tables = load_partition(
        SPEC, source, info, validate=validate, skip_invalid=skip_invalid, lang=lang
    )
    if info.not_aligned:
        return info
    if validate or is_frames(source):  # part files read fast were checked as they were loaded
        problem = alignment_problem(tables)
        if problem is not None:
            info.not_aligned = f"{source_name(source, SPEC.name_table)}: {problem}"
            return info
    detail = cp.compliance_detail(tables, params, period)
    info.sums = cp.unit_sums(detail)
    if want_detail:
        info.detail = detail
    if detail_path is not None:
        from fpanalysis.core.privacy import mask_frame
        from fpanalysis.io import write_table

        write_table(mask_frame(detail, reveal=reveal_pii), Path(detail_path))
    info.rows = {t: len(tables[t]) for t in TABLES_NEEDED if t in tables and t not in SHARED_TABLES}
    if check_keys:
        info.hashes = common.key_hashes(tables, UNIQUE_KEYS)
    return info


# --------------------------------------------------------------------------- driver


@dataclass
class DaskCompliance:
    """The scorecard (identical to the pandas engine's), and the drill-down when gathered."""

    scorecard: pd.DataFrame
    period: str
    detail: pd.DataFrame | None
    partitions: int
    rows: dict[str, int]
    messages: list[str]
    repartitioned: bool = False


def _unit_ids(files: Sequence[Path]) -> list[str]:
    import pyarrow.parquet as pq

    ids: list[str] = []
    for f in files:
        ids.extend(
            pq.read_table(f, columns=["unit_id"])
            .to_pandas()["unit_id"]
            .dropna()
            .astype("str")
            .tolist()
        )
    return ids


def compliance(
    client: Any,
    dataset: str | Path | None,
    params: Params,
    period: str | None = None,
    *,
    detail: bool = False,
    detail_dir: str | Path | None = None,
    reveal_pii: bool = False,
    validate: bool = True,
    skip_invalid: bool = False,
    lang: str = "zh",
    partitions: int | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
) -> DaskCompliance:
    """Unit scorecards on a Dask cluster, identical to the pandas engine's
    (:func:`fpanalysis.rules.compliance.compliance_scorecard`).

    Args:
        client: a ``distributed.Client`` (:func:`fpanalysis.engines.dask.cluster.dask_client`).
        dataset: a partitioned Parquet folder (``DIR/<table>/part-NNNNN.parquet``,
            read in the workers) or any dataset the package reads (loaded in the
            driver and cut by :func:`split_by_couple_group`).
        params: parameters in force.
        period: ``2024``, ``2024H1``, ``2024H2``; ``None``: the whole dataset's
            latest complete year (a first pass over the partitions).
        detail: also gather the drill-down (identical to
            :func:`~fpanalysis.rules.compliance.compliance_detail`) in the driver.
        detail_dir: lean drill-down: each partition's rows written by its
            worker to ``detail_dir/part-NNNNN.parquet`` (masked unless
            ``reveal_pii``); nothing of it reaches the driver.
        validate: load and validate each partition with the package's loader
            (the CLI); ``False`` reads typed Parquet directly (trusted data).
        skip_invalid: drop rejected rows instead of refusing (per partition).
        lang: language of messages.
        partitions: how many partitions to cut a non-partitioned dataset into
            (default: 4 per worker).
        tables: an in-memory dataset instead of ``dataset``.

    Returns:
        A :class:`DaskCompliance`.

    Raises:
        UsageError: a bad period, or no dated record to take a default from.
        DataError: the data fail validation (naming the partition), or keys
            repeat across partitions.
    """
    if period is not None:
        period = cp.parse_period(period).label

    def run(sources: Sources) -> tuple[str | None, list[Partial]]:
        label = period
        if label is None:
            last, bad = first_pass(client, SPEC, sources)
            if bad:
                return None, bad
            label = str(cp.complete_year(last))
        paths = [None] * len(sources.parts)
        if detail_dir is not None:
            Path(detail_dir).mkdir(parents=True, exist_ok=True)
            paths = [
                str(Path(detail_dir) / f"part-{k:05d}.parquet") for k in range(len(sources.parts))
            ]
        futures = [
            client.submit(
                map_compliance,
                s,
                params,
                label,
                want_detail=detail,
                detail_path=pth,
                reveal_pii=reveal_pii,
                check_keys=not sources.repartitioned,
                pure=False,
                **sources.opts,
            )
            for s, pth in zip(sources.parts, paths, strict=True)
        ]
        return label, gather(futures)

    label, partials, sources = run_partitions(
        client,
        SPEC,
        dataset,
        tables,
        run,
        dangling=DataError(
            "数据中有引用不到的夫妇或人员，无法计算",
            "the data refer to couples or persons that are not there",
            rule="dangling_reference",
        ),
        validate=validate,
        skip_invalid=skip_invalid,
        lang=lang,
        partitions=partitions,
    )
    units = (
        unit_ids(sources.frames)
        if sources.frames is not None
        else _unit_ids(sources.parts[0].get("units", []))
    )
    sums = cp.add_unit_sums([p.sums for p in partials if p.sums is not None])
    card = cp.scorecard_from_sums(sums, params, label, units)
    det = None
    if detail:
        frames_ = [p.detail for p in partials if p.detail is not None]
        det = (
            cp.sort_detail(pd.concat(frames_, ignore_index=True))
            if frames_
            else cp.compliance_detail(
                {t: schema.empty_frame(t) for t in TABLES_NEEDED}, params, label
            )
        )
    return DaskCompliance(
        card,
        label,
        det,
        len(partials),
        total_rows(partials),
        sources.messages,
        sources.repartitioned,
    )
