"""The reward budget on Dask (rulebook §5), a map-reduce over aligned partitions: each worker turns
its partition's certificates into cohorts and its childless couples into new-certificate groups with
the functions of :mod:`fpanalysis.rules.bonus` (and, on request, liability cohorts and the
certificates outside the budget); the partial cohort tables are merged in the workers into a
running total, a few at a time (:func:`reduce_chain`, :func:`merge_cohorts`), so the driver
receives only the final cohorts, adds up the small new-certificate groups (:func:`merge_groups`)
and projects a :class:`~fpanalysis.rules.bonus.BonusModel` over them, exactly as the pandas engine
does; a dataset that is not partitioned, or whose partitions split a couple, is loaded in the
driver and split by couple (:func:`split_by_couple`)."""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core import schema
from fpanalysis.core.dataset import unit_ids
from fpanalysis.core.errors import FPError
from fpanalysis.core.params import Params
from fpanalysis.core.textnumbers import one_array
from fpanalysis.engines.dask import common
from fpanalysis.engines.dask.common import (
    PartitionSpec,
    as_folder,
    check_unique,
    failure,
    gather_as_completed,
    is_frames,
    key_hashes,
    load_partition,
    map_task,
    source_name,
    total_rows,
    trusted,
)
from fpanalysis.rules import bonus

TABLES_NEEDED = bonus.TABLES_NEEDED
#: The columns the budget reads, per table (the fast reader loads only these).
COLUMNS_NEEDED: dict[str, list[str]] = {
    "units": ["unit_id"],
    "persons": ["person_id", "sex", "birth_date", "unit_id", "category", "hire_date", "leave_date"],
    "couples": ["couple_id", "wife_id", "husband_id", "marriage_date", "divorce_date"],
    "children": ["child_id", "couple_id", "birth_date"],
    "certificates": ["cert_id", "couple_id", "child_id", "issue_date", "payee_id", "revoked_date"],
}
#: Cohort tables merged at once by a task of the reduce (:func:`reduce_chain`).
FAN_IN = 4
#: Rows of the merged key order a merge handles at once (bounds its working memory).
MERGE_CHUNK = 1 << 20


# --------------------------------------------------------------------------- reduce


def merge_cohorts(parts: Sequence[bonus.Cohorts], units: Sequence[str] = ()) -> bonus.Cohorts:
    """Sum cohort counts over equal keys: what ``compress`` gives on the concatenated segments.

    Unit codes are re-coded into the sorted union of every part's units and
    ``units``; rows come out sorted by (mode, unit, share, first, end, birth
    month) like :func:`fpanalysis.rules.bonus.compress`'s. Every part must share
    ``start_m`` and ``max_months``.

    Examples:
        >>> seg = pd.DataFrame({"cert_id": ["A", "B", "C"], "mode": [0, 0, 0],
        ...     "unit_id": ["U2", "U1", "U2"], "share": [0, 0, 0], "first_m": [24300] * 3,
        ...     "end_m": [24400] * 3, "birth_m": [24200] * 3})
        >>> a, b = bonus.compress(seg[:2], 24300), bonus.compress(seg[2:], 24300)
        >>> m = merge_cohorts([a, b])
        >>> m.units, m.unit.tolist(), m.count.tolist()
        (('U1', 'U2'), [0, 1], [1, 2])
    """
    if not parts:
        raise ValueError("merge_cohorts needs at least one part")
    starts = {p.start_m for p in parts}
    maxes = {p.max_months for p in parts}
    if len(starts) != 1 or len(maxes) != 1:
        raise ValueError("cohorts to merge must share start_m and max_months")
    all_units = sorted(set(units).union(*(p.units for p in parts)))
    index = pd.Index(all_units, dtype=object)
    live = [p for p in parts if len(p)]
    recodes = [index.get_indexer(list(p.units)).astype(np.int64) for p in live]
    fields = ("mode", "unit", "share", "first_m", "end_m", "birth_m")

    def column(k: int, j: int) -> np.ndarray:  # key column j of part k (units re-coded), as int64
        if j == 1:
            return recodes[k][live[k].unit]
        return np.asarray(getattr(live[k], fields[j])).astype(np.int64, copy=False)

    if live:
        lows = np.array([min(int(column(k, j).min()) for k in range(len(live))) for j in range(6)])
        highs = np.array([max(int(column(k, j).max()) for k in range(len(live))) for j in range(6)])
        spans = highs - lows + 1
    if live and np.prod(spans.astype(float)) < 2.0**62:
        # Mixed-radix packing into one int64 per cohort (as compress does): its order is the rows'
        # lexicographic order.
        cols = _merge_packed(live, column, lows, spans)
    elif live:  # pathological month ranges
        stacked = np.concatenate(
            [np.column_stack([column(k, j) for j in range(6)]) for k in range(len(live))]
        )
        weights = np.concatenate([np.asarray(p.count, np.int64) for p in live])
        uniq, inv = np.unique(stacked, axis=0, return_inverse=True)
        count = np.zeros(len(uniq), np.int64)
        np.add.at(count, inv.reshape(-1), weights)  # exact integer sums
        cols = [uniq[:, j].astype(t) for j, t in enumerate(_KEY_TYPES)] + [count]
    else:
        cols = [np.zeros(0, t) for t in _KEY_TYPES] + [np.zeros(0, np.int64)]
    return bonus.Cohorts(
        units=tuple(all_units),
        mode=cols[0],
        unit=cols[1],
        share=cols[2],
        first_m=cols[3],
        end_m=cols[4],
        birth_m=cols[5],
        count=cols[6],
        start_m=starts.pop(),
        max_months=maxes.pop(),
    )


#: The types of a cohort's six key columns (mode, unit, share, first, end, birth month).
_KEY_TYPES = (np.int8, np.int64, np.int8, np.int64, np.int64, np.int64)


def _merge_packed(live, column, lows: np.ndarray, spans: np.ndarray) -> list[np.ndarray]:
    """The merge on packed keys: the six key columns and the count of each merged cohort.

    Each part's keys are sorted (a part is merged or compressed cohorts;
    one that is not is sorted first), so the merge goes through the key
    order :data:`MERGE_CHUNK` rows at a time: a slice of every part, cut at
    the same keys, is sorted, its equal keys summed and decoded into the
    output columns. Beside its inputs it holds one int64 key per input row and
    the output (written into buffers as long as every input: pages never
    written are never resident, and the columns returned are views of their
    written rows), never the six stacked int64 columns or the whole sort.
    """
    keys, weights = [], []
    for k in range(len(live)):
        key = np.zeros(len(live[k]), np.int64)
        for j in range(6):
            key *= spans[j]
            key += column(k, j) - lows[j]
        w = np.asarray(live[k].count, np.int64)
        if len(key) > 1 and (key[1:] < key[:-1]).any():
            o = np.argsort(key, kind="stable")
            key, w = key[o], w[o]
        keys.append(key)
        weights.append(w)
    total = sum(len(k) for k in keys)
    out = [np.empty(total, t) for t in _KEY_TYPES] + [np.empty(total, np.int64)]
    big = keys[int(np.argmax([len(k) for k in keys]))]
    step = max(1, MERGE_CHUNK * len(big) // max(total, 1))
    bounds = np.unique(big[step::step])
    cuts = [
        np.concatenate([[0], np.searchsorted(key, bounds, side="left"), [len(key)]]) for key in keys
    ]
    filled = 0
    for c in range(len(bounds) + 1):
        ck = np.concatenate([key[cut[c] : cut[c + 1]] for key, cut in zip(keys, cuts, strict=True)])
        cw = np.concatenate([w[cut[c] : cut[c + 1]] for w, cut in zip(weights, cuts, strict=True)])
        o = np.argsort(ck, kind="stable")
        ck, cw = ck[o], cw[o]
        first = np.flatnonzero(np.concatenate([[True], ck[1:] != ck[:-1]])) if len(ck) else o[:0]
        m = len(first)
        if m:
            out[6][filled : filled + m] = np.add.reduceat(cw, first)
            rest = ck[first]
            for j in reversed(range(6)):
                out[j][filled : filled + m] = rest % spans[j] + lows[j]
                rest //= spans[j]
        filled += m
    return [col[:filled] for col in out]


GROUP_KEYS = ["payee_unit_id", "other_unit_id", "rate"]


def merge_groups(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Sum the couples of equal new-certificate groups: ``new_certificate_groups`` on the whole.

    Examples:
        >>> a = pd.DataFrame({"payee_unit_id": ["U1"],
        ...     "other_unit_id": pd.Series([None], dtype="str"),
        ...     "rate": [0.1], "couples": [2]})
        >>> merge_groups([a, a])["couples"].tolist()
        [4]
    """
    frames = [p for p in parts if len(p)]
    if not frames:
        return parts[0].iloc[:0].reset_index(drop=True) if parts else bonus.empty_groups()
    g = pd.concat(frames, ignore_index=True)
    out = (
        g.groupby(GROUP_KEYS, dropna=False, sort=True)["couples"]
        .sum()
        .rename("couples")
        .reset_index()
    )
    out["payee_unit_id"] = out["payee_unit_id"].astype("str")
    out["other_unit_id"] = out["other_unit_id"].astype("str")
    out["couples"] = out["couples"].astype("int64")
    return out[out["rate"] > 0].reset_index(drop=True)


# --------------------------------------------------------------------------- partitions


def split_by_couple(tables: Mapping[str, pd.DataFrame], n: int) -> list[dict[str, pd.DataFrame]]:
    """Cut an in-memory dataset into ``n`` aligned partitions by couple (for non-partitioned input).

    Couples go in contiguous blocks of their table order; a child or
    certificate goes with its couple (one whose couple is unknown with the
    first partition); a person goes to every partition whose couples or
    certificates refer to it (a person married twice may be copied), and
    persons nobody refers to go to the first; ``units`` goes to every one.
    Empty partitions are dropped.

    Examples:
        >>> from fpanalysis.core.schema import coerce
        >>> t = {"units": coerce("units", [{"unit_id": "U1"}]),
        ...      "couples": coerce("couples", [{"couple_id": c, "wife_id": w, "husband_id": h}
        ...          for c, w, h in [("C1", "W1", "H1"), ("C2", "W2", "H1")]]),
        ...      "persons": coerce("persons", [{"person_id": p} for p in ["W1", "H1", "W2", "X"]]),
        ...      "children": coerce("children", []), "certificates": coerce("certificates", [])}
        >>> [sorted(p["persons"]["person_id"]) for p in split_by_couple(t, 2)]
        [['H1', 'W1', 'X'], ['H1', 'W2']]
    """
    couples = tables["couples"]
    n = max(1, min(int(n), max(len(couples), 1)))
    block = (np.arange(len(couples)) * n) // max(len(couples), 1)
    cpos = pd.Index(couples["couple_id"].to_numpy(object))
    if not cpos.is_unique:  # duplicated keys (validated data has none): the first copy decides
        first = ~cpos.duplicated(keep="first")
        lookup = pd.Series(block[first], index=cpos[first])
    else:
        lookup = pd.Series(block, index=cpos)

    def part_of(ids: pd.Series) -> np.ndarray:
        return lookup.reindex(ids.to_numpy(object)).fillna(0).to_numpy(np.int64)

    out: list[dict[str, pd.DataFrame]] = [{} for _ in range(n)]
    child_part = part_of(tables["children"]["couple_id"])
    cert_part = part_of(tables["certificates"]["couple_id"])
    persons = tables["persons"]
    # who refers to whom: (person id, partition) pairs from couples and certificates
    refs = pd.DataFrame(
        {
            "pid": np.concatenate(
                [
                    couples["wife_id"].to_numpy(object),
                    couples["husband_id"].to_numpy(object),
                    tables["certificates"]["payee_id"].to_numpy(object),
                ]
            ),
            "part": np.concatenate([block, block, cert_part]),
        }
    ).dropna()
    pidx = pd.Index(persons["person_id"].to_numpy(object))
    pos = pidx.get_indexer_for(refs["pid"].to_numpy(object)) if len(refs) else np.zeros(0, int)
    # get_indexer_for on duplicated person ids returns every copy: repeat the partitions to match
    if len(refs) and not pidx.is_unique:
        counts = pd.Series(pidx).value_counts()
        rep = counts.reindex(refs["pid"].to_numpy(object)).fillna(1).astype(int).to_numpy()
        parts_rep = np.repeat(refs["part"].to_numpy(), rep)
    else:
        parts_rep = refs["part"].to_numpy()
    found = pos >= 0
    pairs = pd.DataFrame({"pos": pos[found], "part": parts_rep[found]}).drop_duplicates()
    orphan = np.setdiff1d(np.arange(len(persons)), pairs["pos"].to_numpy())
    pairs = pd.concat(
        [pairs, pd.DataFrame({"pos": orphan, "part": np.zeros(len(orphan), np.int64)})]
    ).sort_values(["part", "pos"], kind="stable")
    for k in range(n):
        p = out[k]
        for t in SHARED_TABLES:
            if t in tables:
                p[t] = tables[t]
        p["couples"] = couples[block == k]
        p["children"] = tables["children"][child_part == k]
        p["certificates"] = tables["certificates"][cert_part == k]
        p["persons"] = persons.iloc[pairs.loc[pairs["part"] == k, "pos"].to_numpy()]
    return [p for p in out if len(p["couples"]) or len(p["certificates"]) or len(p["persons"])]


def alignment_problem(tables: Mapping[str, pd.DataFrame]) -> str | None:
    """Why a partition is not aligned (a reference leaves it), or ``None`` when it is.

    Checks that every certificate's couple, child and payee, every child's
    couple and every couple's spouses are in the partition (missing values
    are not references).
    """
    return _encode(tables)[1]


def _isin(values: pd.Series, keys: pd.Series) -> np.ndarray:
    """``values.isin(keys)`` as a bool array, in pyarrow (pandas' string ``isin`` is slower).

    Examples:
        >>> s = pd.Series(["a", None, "c"], dtype="str")
        >>> _isin(s, pd.Series(["a", "b"], dtype="str")).tolist()
        [True, False, False]
    """
    import pyarrow.compute as pc

    found = pc.is_in(_arrow(values), value_set=_arrow(keys).drop_null(), skip_nulls=True)
    return np.asarray(found.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _arrow(s: pd.Series):
    """A key column as one pyarrow array (integers as they are, anything else as strings)."""
    import pyarrow as pa

    if s.dtype.kind in "iu":
        return pa.array(s.to_numpy())
    try:
        a = pa.array(s.astype("str"), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed objects: go through Python strings
        a = pa.array(s.astype(object).where(s.notna(), None).map(str, na_action="ignore"))
    return one_array(a)


def _positions_in(values: pd.Series, keys: pd.Series) -> np.ndarray:
    """Position in ``keys`` of each value (the first of repeated keys; -1: absent), in pyarrow."""
    import pyarrow.compute as pc

    pos = pc.index_in(_arrow(values), value_set=_arrow(keys))
    return np.asarray(pos.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


#: Key columns and the table (and key) each refers to: encoded to integer positions by
#: :func:`encode_ids`.
_REFERENCES = {
    "couples": {"wife_id": "persons", "husband_id": "persons"},
    "children": {"couple_id": "couples"},
    "certificates": {"couple_id": "couples", "child_id": "children", "payee_id": "persons"},
}
_KEYS = {
    "persons": "person_id",
    "couples": "couple_id",
    "children": "child_id",
    "certificates": "cert_id",
}


def encode_ids(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables with every person, couple, child and certificate id replaced by an integer code.

    A row's key becomes its position in its table (0, 1, ...) and a reference
    the position of the first row holding that key (-1 when none), which is how
    :func:`fpanalysis.rules.bonus.certificate_segments` resolves string keys too (the
    first of duplicated keys wins; an unknown one is absent) — so the segments,
    cohorts and groups are the same, while the look-ups become integer offsets
    instead of string hashing (the partition's main cost). Unit ids stay as
    they are (they appear in the output). Not for outputs that list ids.

    Examples:
        >>> from fpanalysis.core.schema import coerce
        >>> t = encode_ids({"persons": coerce("persons", [{"person_id": "W"}, {"person_id": "H"}]),
        ...     "couples": coerce("couples", [{"couple_id": "C", "wife_id": "W",
        ...         "husband_id": "X"}]),
        ...     "children": coerce("children", []), "certificates": coerce("certificates", [])})
        >>> t["couples"][["couple_id", "wife_id", "husband_id"]].values.tolist()
        [[0, 0, -1]]
    """
    return _encode(tables)[0]


def _encode(tables: Mapping[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], str | None]:
    """:func:`encode_ids`, and the first reference that leaves the partition (``None``: aligned)."""
    out = dict(tables)
    problem = None
    for t, refs in _REFERENCES.items():
        df = tables[t].copy()
        for col, ref in refs.items():
            pos = _positions_in(tables[t][col], tables[ref][_KEYS[ref]])
            if problem is None:
                lost = (pos < 0) & tables[t][col].notna().to_numpy()
                if lost.any():
                    problem = f"{t}.{col} {tables[t][col].to_numpy()[lost.argmax()]!r} not in {ref}"
            df[col] = pos
        out[t] = df
    for t, key in _KEYS.items():
        df = out[t] if out[t] is not tables[t] else tables[t].copy()
        df[key] = np.arange(len(df), dtype=np.int64)
        out[t] = df
    return out, problem


def _childless_only(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables ``new_certificate_groups`` needs, cut to the childless couples.

    That function keeps only in-scope couples with no row in ``children``; a
    couple's scope depends on its own row and its spouses only, so dropping the
    couples with a child (and every child) beforehand gives the same groups,
    without pandas' slow string ``isin`` over every couple.
    """
    couples = tables["couples"]
    childless = couples[~_isin(couples["couple_id"], tables["children"]["couple_id"])]
    persons = tables["persons"]
    spouses = pd.concat([childless["wife_id"], childless["husband_id"]], ignore_index=True)
    return {
        **tables,
        "couples": childless,
        "persons": persons[_isin(persons["person_id"], spouses)],
        "children": tables["children"].iloc[:0],
    }


# --------------------------------------------------------------------------- map


@dataclass
class Partial(common.Partial):
    """What one partition gives back: small, whatever the partition's size."""

    cohorts: bonus.Cohorts | None = None
    groups: pd.DataFrame | None = None
    liability: bonus.Cohorts | None = None
    liability_certificates: dict[str, int] | None = None
    outside: pd.DataFrame | None = None
    warnings: list[Any] = field(default_factory=list)
    units: list[str] | None = None


#: How the budget reads a partition (alignment is checked in :func:`map_budget`).
SPEC = PartitionSpec(
    tables=tuple(TABLES_NEEDED),
    name_table="certificates",
    split=split_by_couple,
    partial=Partial,
    recorded=tuple(bonus.RECORDED_TABLES),
    columns=COLUMNS_NEEDED,
    empty_missing=True,
)
#: The reference tables every partition holds whole, and the keys unique across the dataset.
SHARED_TABLES, UNIQUE_KEYS = SPEC.shared, SPEC.unique_keys
#: The budget's columns of one partition, read typed in their stored types, without validation.
read_partition_fast = SPEC.read_fast


def _load(source, *, validate: bool, skip_invalid: bool, lang: str) -> tuple[Mapping, Partial]:
    """Tables of one partition (``common.load_partition``), with the validation's warnings."""
    info = Partial()
    tables = load_partition(
        SPEC, source, info, validate=validate, skip_invalid=skip_invalid, lang=lang
    )
    if validate and not is_frames(source):
        report = getattr(tables, "report", None)
        info.warnings = list(report.warnings) if report is not None else []
    return tables, info


@map_task(SPEC)
def map_last_date(source, *, validate: bool = False, skip_invalid: bool = False, lang: str = "zh"):
    """Map task of the first pass: the partition's last recorded date (for the default start)."""
    if not validate and not is_frames(source):
        tables = _read_dates(source)
    else:
        if validate and alignment_problem(read_partition_fast(source)) is not None:
            return Partial(not_aligned=source_name(source, SPEC.name_table))  # re-partitioned
        tables, _ = _load(source, validate=validate, skip_invalid=skip_invalid, lang=lang)
    return Partial(last_date=schema.last_recorded_date(tables, among=bonus.RECORDED_TABLES))


def _read_dates(files) -> dict[str, pd.DataFrame]:
    import pyarrow.parquet as pq

    out = {}
    for t in bonus.RECORDED_TABLES:
        cols = [c.name for c in schema.TABLES[t].columns if c.recorded]
        frames = []
        for f in files.get(t, []):
            have = set(pq.read_schema(f).names)
            use = [c for c in cols if c in have]
            if use:
                df = pq.read_table(f, columns=use).to_pandas()
                frames.append(
                    df.apply(lambda s: pd.to_datetime(s).astype("datetime64[ns]").dt.normalize())
                )
        if frames:
            out[t] = pd.concat(frames, ignore_index=True)
    return out


def map_budget(
    source,
    params: Params,
    start_m: int,
    months: int,
    *,
    want_liability: bool = False,
    want_outside: bool = False,
    validate: bool = False,
    skip_invalid: bool = False,
    lang: str = "zh",
    check_keys: bool = True,
    check_alignment: bool = True,
) -> Partial:
    """Map task: one partition's cohorts, new-certificate groups (liability, outside rows)."""
    where = source_name(source, SPEC.name_table)
    try:
        if validate and skip_invalid:
            # --skip-invalid would quietly drop a reference that lives in another partition: check
            # first.
            problem = alignment_problem(read_partition_fast(source))
            if problem is not None:
                return Partial(not_aligned=f"{where}: {problem}")
        try:
            tables, info = _load(source, validate=validate, skip_invalid=skip_invalid, lang=lang)
        except FPError:
            if validate:  # a reference error may only mean that the partitions are not aligned
                problem = alignment_problem(read_partition_fast(source))
                if problem is not None:
                    return Partial(not_aligned=f"{where}: {problem}")
            raise
        # The unit list as this partition loaded it (units are in every partition; the pandas engine
        # takes them from the loaded table too, so a normalised or skipped unit row counts the
        # same).
        units = unit_ids(tables)
        info.units = units
        # integer look-ups (same segments, a fraction of the time); the same pass checks alignment
        coded, problem = _encode(tables)
        if problem is not None and check_alignment:
            info.not_aligned = f"{where}: {problem}"
            return info
        seg, _ = bonus.certificate_segments(coded, with_info=False)
        info.cohorts = bonus.compress(seg, start_m, units=units, max_months=months)
        if want_liability:  # the same segments, to the end of every entitlement (no horizon)
            info.liability = bonus.compress(seg, start_m, units=units)
            info.liability_certificates = bonus.liability_certificates(seg, params, start_m)
        del seg
        info.groups = bonus.new_certificate_groups(
            _childless_only(coded), params, bonus.month_start(start_m)
        )
        del coded
        if want_outside:
            info.outside = bonus.outside_budget(tables, params, bonus.month_label(start_m), months)
        info.rows = {t: len(tables[t]) for t in TABLES_NEEDED if t in tables}
        if check_keys:
            info.hashes = key_hashes(tables, UNIQUE_KEYS)
        return info
    except FPError as exc:
        return Partial(failure=failure(exc, where))


# --------------------------------------------------------------------------- driver


@dataclass
class DaskBudget:
    """The reduced result: a :class:`~fpanalysis.rules.bonus.BonusModel` and the extra tables."""

    model: bonus.BonusModel
    start: str
    liability: pd.DataFrame | None
    outside: pd.DataFrame | None
    partitions: int
    rows: dict[str, int]
    messages: list[str]
    repartitioned: bool = False


def _sources(
    client,
    dataset,
    *,
    partitions: int | None,
    validate: bool,
    skip_invalid: bool,
    lang: str,
    tables: Mapping[str, pd.DataFrame] | None,
):
    """(list of map sources, unit ids, repartitioned?, messages)."""
    from fpanalysis.engines.dask.cluster import aligned_partitions, partition_paths

    if tables is None and dataset is not None:
        parts = partition_paths(dataset)
        aligned = aligned_partitions(parts, TABLES_NEEDED, SHARED_TABLES) if parts else None
        if aligned:
            return aligned, None, False, []
        note = []
        if parts:
            note.append(
                "分区数据集的各表分区数不一致（未对齐），已在本机读入后按夫妇重新分区"
                if lang == "zh"
                else "the partitioned dataset's tables have different part counts (not aligned): "
                "loaded in the driver and re-partitioned by couple"
            )
        return None, None, True, note
    return None, None, True, []


def _driver_tables(dataset, tables, *, skip_invalid: bool, lang: str):
    from fpanalysis.engines.dask.cluster import partition_paths
    from fpanalysis.io import load_for_analysis

    if tables is not None:
        return tables, []
    parts = partition_paths(dataset)
    if parts:
        # A partitioned folder that is not aligned: its parts, table by table, as one file each.
        with as_folder({t: parts[t] for t in TABLES_NEEDED if t in parts}) as folder:
            ds = load_for_analysis(folder, TABLES_NEEDED, skip_invalid=skip_invalid, lang=lang)
    else:
        ds = load_for_analysis(dataset, TABLES_NEEDED, skip_invalid=skip_invalid, lang=lang)
    return ds, list(getattr(ds, "messages", []))


def _messages(partials: Sequence[Partial], lang: str) -> list[str]:
    from fpanalysis.io import MAX_WARNINGS_SHOWN

    zh = lang == "zh"
    skipped: dict[str, int] = {}
    for i, p in enumerate(partials):
        for t, n in p.skipped.items():
            if t not in SHARED_TABLES or i == 0:  # shared tables are validated in every partition
                skipped[t] = skipped.get(t, 0) + n
    out = []
    for t in TABLES_NEEDED:
        if skipped.get(t):
            n = skipped[t]
            out.append(
                f"表“{schema.TABLES[t].zh}”有 {n} 行未通过校验被剔除"
                if zh
                else f"{t}: {n} rows left out (failed validation)"
            )
    warns = [
        w
        for i, p in enumerate(partials)
        for w in p.warnings
        if i == 0 or getattr(w, "table", None) not in SHARED_TABLES
    ]
    out.extend(w.text(lang) for w in warns[:MAX_WARNINGS_SHOWN])
    if len(warns) > MAX_WARNINGS_SHOWN:
        rest = len(warns) - MAX_WARNINGS_SHOWN
        out.append(
            f"……另有 {rest} 个警告，运行 `fpanalysis validate` 查看全部"
            if zh
            else f"... and {rest} more warnings; run `fpanalysis validate` to see them all"
        )
    return out


def _summary(part: Partial) -> Partial:
    """What the driver gathers of a partition: everything but its cohort tables (reduced in the
    workers)."""
    return dataclasses.replace(part, cohorts=None, liability=None)


def merge_task(name: str, *parts: Any, units: Sequence[str] = ()) -> bonus.Cohorts | None:
    """Task of the reduce: :func:`merge_cohorts` of the parts' ``name`` tables.

    A part is a partition's :class:`Partial` (its ``cohorts`` or ``liability``)
    or a table merged already; ``None`` when no part holds one (a partition
    that failed: the driver raises its error).
    """
    tables = [getattr(p, name) if isinstance(p, Partial) else p for p in parts]
    tables = [t for t in tables if t is not None]
    return merge_cohorts(tables, units) if tables else None


def reduce_chain(items: Sequence[Any], merge: Any, fan_in: int = FAN_IN) -> list[Any]:
    """``items`` merged into a running total, ``fan_in`` tables a merge: a left-deep tree.

    ``merge(group)`` combines a group of two or more (on Dask it submits a
    :func:`merge_task`, so the merges run in the workers): the first ``fan_in``
    items, then the running total with each next ``fan_in - 1``. Returns the
    root's inputs: ``items`` themselves when there are at most ``fan_in``,
    else the running total alone. Summing counts over equal keys is
    associative and commutative, so this gives the flat merge's cohorts, as
    any tree does.

    Why a chain and not a balanced tree: the partitions' cohorts hardly
    overlap until most are merged (at 100M certificates, four partitions of
    1.87M cohorts merge to 6.58M; all 100 to 20M), so a balanced tree's
    intermediate tables, waiting for their siblings level by level, add up to
    several times the final table and pushed the workers past 4 GB. A running
    total holds one table as large as the final one and the few partitions not
    yet added.

    Examples:
        >>> reduce_chain(list(range(10)), sum, 3)  # ((0+1+2) + 3+4) + 5+6, + 7+8, + 9
        [45]
        >>> reduce_chain([1, 2], sum, 3)
        [1, 2]
    """
    fan_in = max(2, int(fan_in))
    items = list(items)
    if len(items) <= fan_in:
        return items
    total = merge(items[:fan_in])
    for i in range(fan_in, len(items), fan_in - 1):
        total = merge([total, *items[i : i + fan_in - 1]])
    return [total]


def budget(
    client,
    dataset: str | Path | None,
    params: Params,
    *,
    start: str | None = None,
    months: int = bonus.DEFAULT_MONTHS,
    liability: bool = False,
    outside: bool = False,
    validate: bool = True,
    skip_invalid: bool = False,
    lang: str = "zh",
    partitions: int | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
) -> DaskBudget:
    """The reward budget's reduced model on a Dask cluster (map per partition, then reduce).

    Args:
        client: a ``distributed.Client`` (see :func:`fpanalysis.engines.dask.cluster.dask_client`).
        dataset: a partitioned Parquet folder (read in the workers), or any
            dataset the package reads (loaded in the driver and split by couple).
        params: the parameters (baseline) — the model re-projects any scenario.
        start: ``YYYY-MM``; ``None``: the month after the last recorded date of
            the whole dataset (a first pass over the partitions).
        months: the horizon the model must serve (cohorts are clipped to it).
        liability, outside: also compute the liability by unit / the
            certificates outside the budget (what ``--liability`` / ``--outside`` write).
        validate: load and validate each partition with the package's loader
            (the CLI); ``False`` reads typed Parquet directly (trusted data).
        skip_invalid: drop rejected rows (per partition) instead of refusing.
        lang: language of messages.
        partitions: how many partitions to split a non-partitioned dataset
            into (default: 4 per worker, at most one per couple).
        tables: an in-memory dataset instead of ``dataset`` (split by couple).

    Returns:
        A :class:`DaskBudget`; ``result.model.project(params, months, draws, seed)``
        then gives exactly the pandas engine's projection.

    Raises:
        DataError: the data fail validation (naming the partition), or keys
            repeat across partitions.
    """
    if start is not None:
        bonus.parse_month(start)
    if dataset is not None:
        # Workers open the part files themselves: absolute paths (a remote cluster needs them on a
        # file system it shares with this machine, at the same path).
        dataset = Path(dataset).resolve()
    sources, unit_ids, repartition, messages = _sources(
        client,
        dataset,
        partitions=partitions,
        validate=validate,
        skip_invalid=skip_invalid,
        lang=lang,
        tables=tables,
    )
    opts = {"validate": validate, "skip_invalid": skip_invalid, "lang": lang}
    driver_tables = None
    if repartition:
        driver_tables, msgs = _driver_tables(dataset, tables, skip_invalid=skip_invalid, lang=lang)
        messages += msgs
        sources, unit_ids = _scatter(client, driver_tables, partitions)
        opts = trusted(lang)

    def run(sources, unit_ids, opts):
        start_label = start
        if start_label is None:
            first = functools.partial(map_last_date, **opts)
            firsts = gather_as_completed(client, client.map(first, sources, pure=False))
            if any(p.not_aligned for p in firsts):
                return None, None, ([p for p in firsts if p.not_aligned], None)
            dates = [p.last_date for p in firsts if p.last_date is not None]
            if not dates:
                bonus.default_start({})  # raises the pandas engine's UsageError
            start_label = bonus.month_after(max(dates))
        start_m = bonus.parse_month(start_label)
        # The constant arguments travel in a partial: distributed would turn a large keyword value
        # (a province's unit list) into a task of its own, keyed by the keyword's name.
        task = functools.partial(
            map_budget,
            params=params,
            start_m=start_m,
            months=months,
            want_liability=liability,
            want_outside=outside,
            check_keys=validate and not repartition,
            # split_by_couple's parts are aligned by construction: a reference it could not place
            # exists nowhere, and the pandas engine treats it as absent, so the map must too.
            check_alignment=not repartition,
            **opts,
        )
        futures = client.map(task, sources, pure=False)
        # The running total's merges run in the workers as the partitions finish (before the next
        # partitions: higher priority); the root waits for the units, known from the partitions'
        # summaries.
        tops = {
            name: reduce_chain(
                futures,
                lambda group, name=name: client.submit(
                    merge_task, name, *group, pure=False, priority=1
                ),
                FAN_IN,
            )
            for name in names
        }
        try:
            partials = gather_as_completed(
                client, client.map(_summary, futures, pure=False, priority=2)
            )
        except BaseException:
            client.cancel([*futures, *(f for top in tops.values() for f in top)])
            raise
        # Only the roots' inputs are held from here: a partition's cohorts stay in its worker until
        # the merge that reads them (and its summary) has run, then are let go. (Holding every
        # partition's future until the roots were submitted kept all of them in the workers: at
        # 100M certificates, 100 partitions' cohorts, over the workers' 4 GB.) With FAN_IN
        # partitions or fewer the roots' inputs are the partitions' own futures.
        return start_label, start_m, (partials, tops)

    names = ["cohorts", "liability"] if liability else ["cohorts"]
    start_label, start_m, (partials, tops) = run(sources, unit_ids, opts)
    bad = [p.not_aligned for p in partials if p.not_aligned]
    if bad:
        # Never compute on partitions that do not hold whole couples: re-partition in the driver.
        if tops is not None:
            client.cancel([f for top in tops.values() for f in top])
            tops = None
        messages.append(
            f"分区未对齐（{bad[0]}），已在本机读入后按夫妇重新分区"
            if lang == "zh"
            else f"partitions not aligned ({bad[0]}): loaded in the driver and re-partitioned "
            "by couple"
        )
        repartition = True
        driver_tables, msgs = _driver_tables(dataset, tables, skip_invalid=skip_invalid, lang=lang)
        messages += msgs
        sources, unit_ids = _scatter(client, driver_tables, partitions)
        start_label, start_m, (partials, tops) = run(sources, unit_ids, trusted(lang))
    if unit_ids is None:  # aligned partitions: the units table as the workers loaded it
        unit_ids = partials[0].units or [] if partials else []
    if not repartition:
        check_unique([p.hashes for p in partials], UNIQUE_KEYS)
        messages += _messages(partials, lang)

    groups = merge_groups([p.groups for p in partials])
    extra = groups["payee_unit_id"].tolist() + groups["other_unit_id"].dropna().tolist()
    all_units = sorted(set(unit_ids) | set(extra))
    # The root of each reduce, in a worker, with the final unit list: only its result reaches here.
    roots = {"cohorts": _root(client, tops["cohorts"], "cohorts", all_units)}
    if liability:
        roots["liability"] = _root(client, tops["liability"], "liability", list(unit_ids))
    tops.clear()
    cohorts = _fetch(roots["cohorts"])
    model = bonus.BonusModel(start_m, cohorts, groups, cohorts.units)
    liab = None
    if liability:
        lc = _fetch(roots["liability"])
        counts: Counter[str] = Counter()  # a certificate lies in one partition: counts add up
        for p in partials:
            counts.update(p.liability_certificates or {})
        liab = bonus.liability_from_cohorts(lc, params, start_m, certificates=counts)
    out_rows = None
    if outside:
        frames = [p.outside for p in partials]
        out_rows = (
            pd.concat(frames, ignore_index=True)
            .sort_values("cert_id", kind="stable")
            .reset_index(drop=True)
        )
    rows = total_rows(partials)
    return DaskBudget(
        model, start_label, liab, out_rows, len(partials), rows, messages, repartition
    )


def _root(client, top: list[Any], name: str, units: Sequence[str]) -> Any:
    """The reduce's root: its inputs merged in a worker, with ``units`` (a future)."""
    task = functools.partial(merge_task, name, units=list(units))
    return client.submit(task, *top, pure=False, priority=1)


def _fetch(fut: Any) -> bonus.Cohorts:
    """A root's merged cohorts, fetched (the only cohorts that reach the driver)."""
    out = fut.result()
    fut.release()
    return out


def _scatter(client, tables: Mapping[str, pd.DataFrame], partitions: int | None):
    return common.scatter_parts(client, SPEC, tables, partitions), unit_ids(tables)
