"""Unit compliance on Dask: map per partition, add the per-unit sums, score in the driver (POLICY.md §3).

The pandas engine (:mod:`fpanalysis.rules.compliance`) computes a drill-down
(:func:`~fpanalysis.rules.compliance.compliance_detail`, one row per couple, woman
or event looked at) and adds it up. Every row depends on one couple only (its
spouses, children, permits, pregnancies, surveys, contraception and check
attendance) plus the two small reference tables (``units``, ``check_rounds``),
and every figure of the scorecard is a *sum* over rows. So:

1. **map** (workers, one task per partition holding whole couples): the
   partition's drill-down, folded into per-unit sums
   (:func:`~fpanalysis.rules.compliance.unit_sums`: numerators, denominators, exact
   penalty points, vetoes per unit and indicator);
2. **reduce**: :func:`~fpanalysis.rules.compliance.add_unit_sums` adds the sums of a
   unit whose couples are spread over several partitions;
3. **compute** (driver): :func:`~fpanalysis.rules.compliance.scorecard_from_sums`
   pools halves and rounds, reweights H2, scores exactly, rounds half up,
   grades and applies the veto — the very code the pandas engine runs, so the
   scorecard is identical.

Choices where the spec is silent (also in docs/design.md):

- **The default period** (no ``period``): the latest complete year of the
  whole dataset — a first, cheap pass takes each partition's last recorded date.
- **The drill-down** at province scale has one row per couple and indicator
  (tens of millions): it is only computed when asked. ``detail=True`` gathers
  it in the driver and sorts it exactly as the pandas engine does (the same
  rows and order: the CLI's ``--detail`` file is byte-identical), which needs
  the driver to hold it; ``detail_dir=DIR`` is the lean mode: each worker
  writes its own partition's drill-down (masked, sorted like the pandas one)
  to ``DIR/part-NNNNN.parquet`` and nothing of it reaches the driver.
- **Aligned partitions** (``DIR/<table>/part-NNNNN.parquet``, part k of every
  table holding whole couples; ``units`` and ``check_rounds`` one shared part)
  are read and validated in the workers. A partition whose references leave
  it (a couple's spouse, a child's couple, a check attendance's woman in
  another part) is never computed on: the dataset is then loaded in the
  driver and re-partitioned (a note says so).
- **Not a partitioned dataset** (a CSV folder, a workbook): loaded and
  validated in the driver as the pandas engine does, then cut by
  :func:`split_by_couple_group`: couples linked through a person (a person
  married twice) stay together, with every row that refers to them, so that
  a sterilisation recorded under a first marriage still exempts the second.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core import schema
from fpanalysis.core.errors import DataError, FPError
from fpanalysis.core.params import Params
from fpanalysis.engines.dask.common import (
    Failure,
    as_folder,
    check_unique,
    failure,
    is_frames,
    key_hashes,
    n_workers,
    part_name,
    read_parts,
)
from fpanalysis.rules import compliance as cp

TABLES_NEEDED = list(cp.TABLES_NEEDED)
SHARED_TABLES = ("units", "check_rounds")
#: Tables whose rows belong to a couple (by ``couple_id``).
BY_COUPLE = ("children", "permits", "pregnancies", "surveys", "contraception")
#: Keys that must be unique across the whole dataset (checked across partitions).
UNIQUE_KEYS = {
    "persons": "person_id",
    "couples": "couple_id",
    "children": "child_id",
    "permits": "permit_id",
    "pregnancies": "pregnancy_id",
    "surveys": "survey_id",
    "contraception": "record_id",
}


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
        >>> t = {"couples": coerce("couples", [{"couple_id": k, "wife_id": w, "husband_id": h} for k, w, h in
        ...          [("C1", "W1", "H1"), ("C2", "W2", "H2"), ("C3", "W3", "H3"), ("C4", "W4", "H1")]]),
        ...      "persons": coerce("persons", [{"person_id": p} for p in ["W1", "H1", "W2", "H2", "W3", "H3", "W4"]])}
        >>> [p["couples"]["couple_id"].tolist() for p in split_by_couple_group(t, 2)]  # C4 follows H1's first marriage
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


def read_partition_fast(files: Mapping[str, Sequence[str | Path]]) -> dict[str, pd.DataFrame]:
    """One partition's tables read with pyarrow in their stored types and put in the typed form (no validation)."""
    return read_parts(files, TABLES_NEEDED)


def _part_name(files: Mapping[str, Sequence[str | Path]]) -> str:
    return part_name(files, "couples")


# --------------------------------------------------------------------------- map


@dataclass
class Partial:
    """What one partition gives back: the per-unit sums (small), and the drill-down only when asked."""

    sums: pd.DataFrame | None = None
    detail: pd.DataFrame | None = None
    last_date: pd.Timestamp | None = None
    rows: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    hashes: dict[str, np.ndarray] | None = None
    not_aligned: str | None = None
    failure: Failure | None = None


def load_partition(
    source: Any,
    *,
    validate: bool,
    skip_invalid: bool,
    lang: str,
    tables: Sequence[str] = TABLES_NEEDED,
) -> tuple[Mapping[str, pd.DataFrame], Partial]:
    """A partition's tables: ``source`` is a dict of frames (already loaded) or ``{table: [part files]}``.

    With ``validate`` the part files go through the package's loader and
    validator (:func:`fpanalysis.io.load_for_analysis`), as the pandas engine's
    input does; a reference error that only means the partition is not aligned
    is reported as such (``info.not_aligned``), not as a data error.
    """
    info = Partial()
    if is_frames(source):
        return source, info
    if not validate:
        return read_partition_fast(source), info
    from fpanalysis.io import load_for_analysis

    fast = read_partition_fast(source)
    problem = alignment_problem(fast)
    if problem is not None:
        info.not_aligned = f"{_part_name(source)}: {problem}"
        return fast, info
    with as_folder(source) as folder:
        ds = load_for_analysis(folder, list(tables), skip_invalid=skip_invalid, lang=lang)
    info.skipped = dict(getattr(ds, "skipped", {}) or {})
    info.messages = list(getattr(ds, "messages", []) or [])
    return ds, info


def map_last_date(
    source: Any, *, validate: bool = False, skip_invalid: bool = False, lang: str = "zh"
) -> Partial:
    """First pass: the partition's last recorded date (of ``compliance.RECORDED_TABLES``)."""
    where = "?" if is_frames(source) else _part_name(source)
    try:
        tables, info = load_partition(
            source, validate=validate, skip_invalid=skip_invalid, lang=lang
        )
        if info.not_aligned:
            return info
        info.last_date = schema.last_recorded_date(tables, among=cp.RECORDED_TABLES)
        return info
    except FPError as exc:
        return Partial(failure=failure(exc, where))


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
    """Map task: one partition's per-unit sums (and drill-down when asked, or written to ``detail_path``)."""
    where = "?" if is_frames(source) else _part_name(source)
    try:
        tables, info = load_partition(
            source, validate=validate, skip_invalid=skip_invalid, lang=lang
        )
        if info.not_aligned:
            return info
        problem = alignment_problem(tables)
        if problem is not None:
            info.not_aligned = f"{where}: {problem}"
            return info
        detail = cp.compliance_detail(tables, params, period)
        info.sums = cp.unit_sums(detail)
        if want_detail:
            info.detail = detail
        if detail_path is not None:
            from fpanalysis.core.privacy import mask_frame
            from fpanalysis.io import write_table

            write_table(mask_frame(detail, reveal=reveal_pii), Path(detail_path))
        info.rows = {
            t: len(tables[t]) for t in TABLES_NEEDED if t in tables and t not in SHARED_TABLES
        }
        if check_keys:
            info.hashes = key_hashes(tables, UNIQUE_KEYS)
        return info
    except FPError as exc:
        return Partial(failure=failure(exc, where))


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


def gather(futures: Sequence[Any]) -> list[Any]:
    """Results of ``futures`` in their order; raise the first worker failure as the FPError it was.

    When some partition is not aligned, the results are returned as they are
    (failures included): an error in another partition may only be a
    consequence (a household whose members sit elsewhere has the wrong size),
    and the caller re-partitions and validates the whole dataset again.
    """
    out = [fut.result() for fut in futures]
    if any(getattr(res, "not_aligned", None) for res in out):
        return out
    for res in out:
        if getattr(res, "failure", None) is not None:
            res.failure.raise_()
    return out


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


def partition_sources(
    dataset: str | Path | None, tables: Sequence[str], shared: Sequence[str], lang: str
) -> tuple[list[dict[str, list[Path]]] | None, list[str]]:
    """The aligned part files of a partitioned Parquet dataset, or ``None`` (load in the driver), and notes."""
    from fpanalysis.engines.dask.cluster import aligned_partitions, partition_paths

    if dataset is None:
        return None, []
    parts = partition_paths(dataset)
    if not parts:
        return None, []
    aligned = aligned_partitions(parts, list(tables), tuple(shared))
    if aligned:
        return aligned, []
    return None, [
        "分区数据集的各表分区数不一致（未对齐），已在本机读入后重新分区"
        if lang == "zh"
        else "the partitioned dataset's tables have different part counts (not aligned): "
        "loaded in the driver and re-partitioned"
    ]


def driver_tables(dataset: Any, tables: Sequence[str], *, skip_invalid: bool, lang: str):
    """Load and validate a dataset in the driver, exactly as the pandas engine does; (tables, messages).

    A partitioned folder is read by the package's loader too (it reads
    ``DIR/<table>/part-*.parquet`` and names the part of every problem).
    """
    from fpanalysis.io import load_for_analysis

    ds = load_for_analysis(dataset, list(tables), skip_invalid=skip_invalid, lang=lang)
    return ds, list(getattr(ds, "messages", []) or [])


def _not_aligned_note(where: str, lang: str) -> str:
    return (
        f"分区未对齐（{where}），已在本机读入后重新分区"
        if lang == "zh"
        else f"partitions not aligned ({where}): loaded in the driver and re-partitioned"
    )


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
    """Unit scorecards on a Dask cluster, identical to :func:`fpanalysis.rules.compliance.compliance_scorecard`.

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
    messages: list[str] = []
    sources, notes = (
        (None, [])
        if tables is not None
        else partition_sources(dataset, TABLES_NEEDED, SHARED_TABLES, lang)
    )
    messages += notes
    opts = {"validate": validate, "skip_invalid": skip_invalid, "lang": lang}
    unit_ids: list[str] = []
    repartitioned = sources is None

    def scatter(frames: Mapping[str, pd.DataFrame]):
        n = partitions or 4 * n_workers(client)
        parts = split_by_couple_group(frames, n)
        ids = list(frames["units"]["unit_id"].dropna().astype("str")) if "units" in frames else []
        return client.scatter(parts), ids

    if sources is None:
        frames, msgs = (
            (tables, [])
            if tables is not None
            else driver_tables(dataset, TABLES_NEEDED, skip_invalid=skip_invalid, lang=lang)
        )
        messages += msgs
        sources, unit_ids = scatter(frames)
        opts = {"validate": False, "skip_invalid": False, "lang": lang}
    else:
        unit_ids = _unit_ids(sources[0].get("units", []))

    def run(sources, opts):
        label = period
        if label is None:
            firsts = gather(client.map(map_last_date, sources, pure=False, **opts))
            if any(p.not_aligned for p in firsts):
                return None, [p for p in firsts if p.not_aligned]
            dates = [p.last_date for p in firsts if p.last_date is not None]
            last = max(dates) if dates else None
            label = str(
                cp.latest_complete_year({})
                if last is None
                else (last.year if (last.month, last.day) == (12, 31) else last.year - 1)
            )
        paths = [None] * len(sources)
        if detail_dir is not None:
            Path(detail_dir).mkdir(parents=True, exist_ok=True)
            paths = [str(Path(detail_dir) / f"part-{k:05d}.parquet") for k in range(len(sources))]
        futures = [
            client.submit(
                map_compliance,
                s,
                params,
                label,
                want_detail=detail,
                detail_path=pth,
                reveal_pii=reveal_pii,
                check_keys=not repartitioned,
                pure=False,
                **opts,
            )
            for s, pth in zip(sources, paths, strict=True)
        ]
        return label, gather(futures)

    label, partials = run(sources, opts)
    bad = [p.not_aligned for p in partials if p.not_aligned]
    if bad:
        # Never compute on partitions that do not hold whole couples: re-partition in the driver.
        messages.append(_not_aligned_note(bad[0], lang))
        repartitioned = True
        frames, msgs = driver_tables(dataset, TABLES_NEEDED, skip_invalid=skip_invalid, lang=lang)
        messages += msgs
        sources, unit_ids = scatter(frames)
        label, partials = run(sources, {"validate": False, "skip_invalid": False, "lang": lang})
        if any(p.not_aligned for p in partials):
            raise DataError(
                "数据中有引用不到的夫妇或人员，无法计算",
                "the data refer to couples or persons that are not there",
                rule="dangling_reference",
            )
    if not repartitioned:
        check_unique([p.hashes for p in partials], UNIQUE_KEYS)
        seen: set[str] = set()
        for p in partials:  # the shared tables' warnings come once per partition: say them once
            for m in p.messages:
                if m not in seen:
                    seen.add(m)
                    messages.append(m)
    sums = cp.add_unit_sums([p.sums for p in partials if p.sums is not None])
    card = cp.scorecard_from_sums(sums, params, label, unit_ids)
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
    rows: dict[str, int] = {}
    for p in partials:
        for t, k in p.rows.items():
            rows[t] = rows.get(t, 0) + k
    return DaskCompliance(card, label, det, len(partials), rows, messages, repartitioned)
