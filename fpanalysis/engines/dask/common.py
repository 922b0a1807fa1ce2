"""The plumbing the three Dask engines (budget, compliance, relief) share: how an analysis reads one
partition (:class:`PartitionSpec`, :func:`load_partition`), what a map task sends back
(:class:`Partial`, with a worker's :class:`~fpanalysis.core.errors.FPError` carried as a
:class:`Failure` and raised again in the driver naming the partition), the first pass for a default
date, gathering and scattering, and the driver's fallback when partitions are not aligned
(:func:`run_partitions`: load in the driver, re-partition, refuse keys repeated across
partitions)."""

from __future__ import annotations

import contextlib
import functools
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core import schema
from fpanalysis.core.errors import DataError, FPError


@dataclass
class Failure:
    """An FPError raised in a worker, carried back as plain fields (FPError does not unpickle)."""

    cls: str
    fields: dict[str, Any]

    def raise_(self) -> None:
        from fpanalysis.core import errors

        raise getattr(errors, self.cls, FPError)(**self.fields)


def failure(exc: FPError, where: str) -> Failure:
    """``exc`` as a :class:`Failure`, its messages naming the partition ``where``.

    Examples:
        >>> from fpanalysis.core.errors import DataError
        >>> f = failure(DataError("坏", "bad", rule="r"), "part-00001.parquet")
        >>> f.cls, f.fields["message_en"]
        ('DataError', 'bad (partition part-00001.parquet)')
    """
    return Failure(
        type(exc).__name__,
        {
            "message_zh": f"{exc.message_zh}（分区 {where}）",
            "message_en": f"{exc.message_en} (partition {where})",
            "file": exc.file,
            "row": exc.row,
            "column": exc.column,
            "value": exc.value,
            "rule": exc.rule,
            "exit_code": exc.exit_code,
        },
    )


@contextlib.contextmanager
def as_folder(files: Mapping[str, Sequence[str | Path]]) -> Iterator[Path]:
    """A temporary folder with one ``<table>.parquet`` per table (links to the part files), for
    the loader."""
    with tempfile.TemporaryDirectory(prefix="fp-part-") as tmp:
        for table, paths in files.items():
            paths = [Path(p) for p in paths]
            target = Path(tmp) / f"{table}.parquet"
            if len(paths) == 1:
                try:
                    target.symlink_to(paths[0].resolve())
                except OSError:
                    import shutil

                    shutil.copyfile(paths[0], target)
            else:
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(
                    pa.concat_tables([pq.read_table(p) for p in paths], promote_options="default"),
                    target,
                )
        yield Path(tmp)


def read_parts(
    files: Mapping[str, Sequence[str | Path]],
    tables: Sequence[str],
    *,
    columns: Mapping[str, Sequence[str]] | None = None,
    empty_missing: bool = False,
) -> dict[str, pd.DataFrame]:
    """One partition's ``tables`` read with pyarrow and put in the typed form (no validation).

    Columns the schema does not know are dropped; with ``columns``, only
    ``columns[table]`` are read (and kept). A table without part files is
    left out, or with ``empty_missing`` given as an empty typed frame.
    """
    import pyarrow.parquet as pq

    out = {}
    for table in tables:
        paths = files.get(table, [])
        if not paths and not empty_missing:
            continue
        wanted = schema.TABLES[table].names if columns is None else columns[table]
        frames = []
        for f in paths:
            have = set(pq.read_schema(f).names)
            frames.append(pq.read_table(f, columns=[c for c in wanted if c in have]).to_pandas())
        df = (
            pd.concat(frames, ignore_index=True)
            if len(frames) > 1
            else (frames[0] if frames else pd.DataFrame())
        )
        out[table] = schema.coerce(table, df, None if columns is None else columns[table])
    return out


def is_frames(source: Any) -> bool:
    """Whether a map task's source is in-memory tables (not part files)."""
    return (
        isinstance(source, Mapping)
        and bool(source)
        and all(isinstance(v, pd.DataFrame) for v in source.values())
    )


def part_name(files: Mapping[str, Sequence[str | Path]], table: str) -> str:
    """The part file(s) of ``table`` (else of the first table) that name a partition in messages.

    Examples:
        >>> part_name({"couples": ["d/couples/part-00003.parquet"]}, "couples")
        'part-00003.parquet'
    """
    parts = files.get(table) or next(iter(files.values()), [])
    return ", ".join(Path(p).name for p in parts) or "?"


def n_workers(client: Any) -> int:
    """The cluster's worker count (2 when the scheduler does not say)."""
    try:
        return max(1, len(client.scheduler_info()["workers"]))
    except Exception:  # noqa: BLE001 - a scheduler without the info: assume two
        return 2


def key_hashes(
    tables: Mapping[str, pd.DataFrame], keys: Mapping[str, str]
) -> dict[str, np.ndarray]:
    """Sorted hashes of each table's key column (table -> key column in ``keys``)."""
    return {
        t: np.sort(pd.util.hash_array(tables[t][k].dropna().to_numpy(object)))
        for t, k in keys.items()
        if t in tables
    }


def check_unique(hashes: Sequence[dict[str, np.ndarray] | None], keys: Mapping[str, str]) -> None:
    """Refuse keys repeated across partitions (each partition is validated on its own).

    Raises:
        DataError: a key of ``keys`` appears in two partitions.

    Examples:
        >>> keys = {"couples": "couple_id"}
        >>> h = key_hashes({"couples": pd.DataFrame({"couple_id": ["C1"]})}, keys)
        >>> try:
        ...     check_unique([h, h], keys)
        ... except DataError as exc:
        ...     print(exc.message_en)
        couples.couple_id repeats across partitions; check the partitioned data
    """
    for t, key in keys.items():
        arrays = [h[t] for h in hashes if h and t in h]
        if len(arrays) < 2:
            continue
        allh = np.sort(np.concatenate(arrays))
        if len(allh) and (allh[1:] == allh[:-1]).any():
            raise DataError(
                f"表“{schema.TABLES[t].zh}”的 {key} 在不同分区中重复，请检查分区数据",
                f"{t}.{key} repeats across partitions; check the partitioned data",
                column=key,
                rule="duplicate_key_across_partitions",
            )


# --------------------------------------------------------------------------- one partition


@dataclass
class Partial:
    """What a map task sends back about its partition; each engine adds its results' fields.

    ``last_date`` (first pass), ``rows`` read per table, the loader's ``skipped`` rows and
    ``messages``, key ``hashes`` (for :func:`check_unique`), ``not_aligned`` (why the partition
    does not hold whole records: nothing was computed) and ``failure`` (an FPError raised in the
    worker).
    """

    last_date: pd.Timestamp | None = None
    rows: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    hashes: dict[str, np.ndarray] | None = None
    not_aligned: str | None = None
    failure: Failure | None = None


@dataclass(frozen=True)
class PartitionSpec:
    """How one analysis cuts and reads its dataset on Dask.

    The tables every partition holds whole (:attr:`shared`) and the keys that must be unique
    across the dataset (:attr:`unique_keys`) follow from the schema.

    Attributes:
        tables: the tables it needs.
        name_table: the table whose part files name a partition in messages.
        split: ``(tables, n)`` -> at most ``n`` aligned partitions of an in-memory dataset.
        partial: the engine's :class:`Partial` (a map task's result).
        alignment: typed tables -> why they do not hold whole records, or ``None``; ``None``
            here: :func:`load_partition` leaves alignment to the engine.
        recorded: the tables whose recorded dates give the default period or date.
        columns: the columns :meth:`read_fast` reads, per table (``None``: all the schema's).
        empty_missing: a table without part files is read as an empty typed frame (else left
            out).
    """

    tables: tuple[str, ...]
    name_table: str
    split: Callable[[Mapping[str, pd.DataFrame], int], list[dict[str, pd.DataFrame]]]
    partial: type[Partial] = Partial
    alignment: Callable[[Mapping[str, pd.DataFrame]], str | None] | None = None
    recorded: tuple[str, ...] = ()
    columns: Mapping[str, Sequence[str]] | None = None
    empty_missing: bool = False

    @property
    def shared(self) -> tuple[str, ...]:
        """The reference tables among :attr:`tables` (``units``...): whole in every partition."""
        return tuple(t for t in self.tables if t in schema.REFERENCE_TABLES)

    @property
    def unique_keys(self) -> dict[str, str]:
        """Table -> its key column, unique across the whole dataset (the partitioned tables
        with a one-column key)."""
        return {
            t: schema.TABLES[t].key[0]
            for t in self.tables
            if t not in self.shared and len(schema.TABLES[t].key) == 1
        }

    def read_fast(self, files: Mapping[str, Sequence[str | Path]]) -> dict[str, pd.DataFrame]:
        """One partition's tables (``{table: [part files]}``) read with pyarrow and typed, without
        validation (:func:`read_parts`)."""
        return read_parts(
            files, self.tables, columns=self.columns, empty_missing=self.empty_missing
        )


def source_name(source: Any, table: str) -> str:
    """The partition a map task reads, as messages name it: its part files, ``?`` for frames.

    Examples:
        >>> source_name({"couples": ["d/couples/part-00003.parquet"]}, "couples")
        'part-00003.parquet'
        >>> source_name({"couples": pd.DataFrame()}, "couples")
        '?'
    """
    return "?" if is_frames(source) else part_name(source, table)


def map_task(spec: PartitionSpec) -> Callable[[Callable[..., Partial]], Callable[..., Partial]]:
    """Decorator of a map task ``task(source, ...)``: an FPError it raises comes back as
    ``spec.partial(failure=...)`` naming the partition, to be raised again in the driver."""

    def wrap(task: Callable[..., Partial]) -> Callable[..., Partial]:
        @functools.wraps(task)
        def run(source: Any, *args: Any, **kwargs: Any) -> Partial:
            try:
                return task(source, *args, **kwargs)
            except FPError as exc:
                return spec.partial(failure=failure(exc, source_name(source, spec.name_table)))

        return run

    return wrap


def read_validated(
    files: Mapping[str, Sequence[str | Path]],
    tables: Sequence[str],
    *,
    skip_invalid: bool,
    lang: str,
):
    """One partition through the package's loader and validator (the pandas engine's semantics)."""
    from fpanalysis.io import load_for_analysis

    with as_folder(files) as folder:
        return load_for_analysis(folder, list(tables), skip_invalid=skip_invalid, lang=lang)


def load_partition(
    spec: PartitionSpec,
    source: Any,
    info: Partial,
    *,
    validate: bool,
    skip_invalid: bool,
    lang: str,
) -> Mapping[str, pd.DataFrame]:
    """A partition's tables: ``source`` is a dict of frames (returned as it is) or part files.

    Part files are read fast and, with ``spec.alignment``, checked first: a partition that does
    not hold whole records is only reported (``info.not_aligned``; its fast tables returned), so
    that a reference leaving it is never taken for a data error. With ``validate`` they then go
    through the package's loader and validator (:func:`read_validated`), whose ``skipped`` rows and
    ``messages`` land in ``info``.
    """
    if is_frames(source):
        return source
    if spec.alignment is not None:
        fast = spec.read_fast(source)
        problem = spec.alignment(fast)
        if problem is not None:
            info.not_aligned = f"{part_name(source, spec.name_table)}: {problem}"
            return fast
        if not validate:
            return fast
    elif not validate:
        return spec.read_fast(source)
    ds = read_validated(source, spec.tables, skip_invalid=skip_invalid, lang=lang)
    info.skipped = dict(getattr(ds, "skipped", {}) or {})
    info.messages = list(getattr(ds, "messages", []) or [])
    return ds


def last_date_task(
    spec: PartitionSpec,
    source: Any,
    *,
    validate: bool = False,
    skip_invalid: bool = False,
    lang: str = "zh",
) -> Partial:
    """First pass: the partition's last recorded date (of ``spec.recorded``), unless not aligned."""
    try:
        info = spec.partial()
        tables = load_partition(
            spec, source, info, validate=validate, skip_invalid=skip_invalid, lang=lang
        )
        if not info.not_aligned:
            info.last_date = schema.last_recorded_date(tables, among=spec.recorded)
        return info
    except FPError as exc:
        return spec.partial(failure=failure(exc, source_name(source, spec.name_table)))


def total_rows(partials: Sequence[Partial]) -> dict[str, int]:
    """Rows read per table, over every partition.

    Examples:
        >>> total_rows([Partial(rows={"couples": 2}), Partial(rows={"couples": 1, "persons": 4})])
        {'couples': 3, 'persons': 4}
    """
    rows: dict[str, int] = {}
    for p in partials:
        for t, k in p.rows.items():
            rows[t] = rows.get(t, 0) + k
    return rows


def partial_messages(partials: Sequence[Partial]) -> list[str]:
    """The partitions' messages, each once, in order (shared tables warn in every partition).

    Examples:
        >>> partial_messages([Partial(messages=["a", "b"]), Partial(messages=["a", "c"])])
        ['a', 'b', 'c']
    """
    return list(dict.fromkeys(m for p in partials for m in p.messages))


# --------------------------------------------------------------------------- driver


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


def gather_as_completed(
    client: Any, futures: Sequence[Any], on_result: Callable[[Any], Any] | None = None
) -> list[Any]:
    """Results of ``futures`` as they complete (passed through ``on_result``), each released once
    fetched; the first worker failure cancels the rest and is raised as the FPError it was."""
    from distributed import as_completed

    out = []
    for fut in as_completed(futures, loop=client.loop):
        res = fut.result()
        fut.release()
        if res.failure is not None:
            for f in futures:
                f.cancel()
            res.failure.raise_()
        out.append(on_result(res) if on_result is not None else res)
    return out


def partition_count(client: Any, partitions: int | None) -> int:
    """How many partitions to cut an in-memory dataset into: ``partitions``, else 4 per worker."""
    return partitions or 4 * n_workers(client)


def scatter_parts(
    client: Any, spec: PartitionSpec, frames: Mapping[str, pd.DataFrame], partitions: int | None
) -> list[Any]:
    """``frames`` cut by ``spec.split`` (:func:`partition_count` parts) and scattered to workers."""
    parts = spec.split(frames, partition_count(client, partitions))
    return client.scatter(parts or [dict(frames)])


def trusted(lang: str) -> dict[str, Any]:
    """Map-task options for frames the driver has already loaded and validated."""
    return {"validate": False, "skip_invalid": False, "lang": lang}


def partition_sources(
    dataset: str | Path | None, tables: Sequence[str], shared: Sequence[str], lang: str
) -> tuple[list[dict[str, list[Path]]] | None, list[str]]:
    """The aligned part files of a partitioned Parquet dataset, or ``None`` (load in the driver),
    and notes."""
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
    """Load and validate a dataset in the driver, exactly as the pandas engine does; (tables,
    messages).

    A partitioned folder is read by the package's loader too (it reads
    ``DIR/<table>/part-*.parquet`` and names the part of every problem).
    """
    from fpanalysis.io import load_for_analysis

    ds = load_for_analysis(dataset, list(tables), skip_invalid=skip_invalid, lang=lang)
    return ds, list(getattr(ds, "messages", []) or [])


def not_aligned_note(where: str, lang: str) -> str:
    """The note that partitions were not aligned and the dataset was re-partitioned in the driver.

    Examples:
        >>> not_aligned_note("part-00001.parquet: ...", "zh")
        '分区未对齐（part-00001.parquet: ...），已在本机读入后重新分区'
    """
    return (
        f"分区未对齐（{where}），已在本机读入后重新分区"
        if lang == "zh"
        else f"partitions not aligned ({where}): loaded in the driver and re-partitioned"
    )


@dataclass
class Sources:
    """What the map tasks read: the partitions, their options, and how they came to be.

    ``parts``: per partition ``{table: [part files]}`` (read in the workers) or scattered frames;
    ``opts``: the map tasks' ``validate``, ``skip_invalid`` and ``lang``; ``frames``: the dataset
    when it was loaded in the driver; ``repartitioned``: cut in the driver rather than read as
    aligned parts; ``messages``: notes and the driver loader's messages.
    """

    parts: list[Any]
    opts: dict[str, Any]
    frames: Mapping[str, pd.DataFrame] | None = None
    repartitioned: bool = False
    messages: list[str] = field(default_factory=list)


def driver_sources(
    client: Any,
    spec: PartitionSpec,
    frames: Mapping[str, pd.DataFrame] | None,
    dataset: Any,
    *,
    skip_invalid: bool,
    lang: str,
    partitions: int | None,
    messages: Sequence[str] = (),
) -> Sources:
    """The dataset (``frames``, else ``dataset`` loaded and validated in the driver) cut by
    ``spec.split`` and scattered; ``messages`` come first."""
    msgs: list[str] = []
    if frames is None:
        frames, msgs = driver_tables(dataset, spec.tables, skip_invalid=skip_invalid, lang=lang)
    parts = scatter_parts(client, spec, frames, partitions)
    return Sources(parts, trusted(lang), frames, True, [*messages, *msgs])


def run_partitions(
    client: Any,
    spec: PartitionSpec,
    dataset: str | Path | None,
    tables: Mapping[str, pd.DataFrame] | None,
    run: Callable[[Sources], tuple[Any, list[Partial]]],
    *,
    dangling: DataError,
    validate: bool,
    skip_invalid: bool,
    lang: str,
    partitions: int | None,
) -> tuple[Any, list[Partial], Sources]:
    """Run an analysis over a dataset's partitions; re-partition in the driver when not aligned.

    The partitions are the aligned part files of a partitioned Parquet ``dataset`` (read, and with
    ``validate`` validated, in the workers), else the dataset (``tables``, or ``dataset`` loaded
    and validated in the driver as the pandas engine does) cut by ``spec.split`` and scattered.
    ``run(sources)`` maps the analysis over them and returns ``(result, partials)``. A partition
    that does not hold whole records is never computed on: the dataset is then loaded in the
    driver, re-partitioned and run again (a note says so). Keys repeated across part files are
    refused, and the partitions' messages are added once each.

    Returns:
        ``(result, partials, sources)`` of the last run; ``sources.messages`` holds every note.

    Raises:
        DataError: ``dangling`` when even the driver's partitions are not aligned (a reference to
            a record that is nowhere); keys repeated across partitions.
    """
    sources = None
    notes: list[str] = []
    if tables is None:
        parts, notes = partition_sources(dataset, spec.tables, spec.shared, lang)
        if parts is not None:
            opts = {"validate": validate, "skip_invalid": skip_invalid, "lang": lang}
            sources = Sources(parts, opts, messages=notes)
    if sources is None:
        sources = driver_sources(
            client,
            spec,
            tables,
            dataset,
            skip_invalid=skip_invalid,
            lang=lang,
            partitions=partitions,
            messages=notes,
        )
    result, partials = run(sources)
    bad = [p.not_aligned for p in partials if p.not_aligned]
    if bad:
        # Never compute on partitions that do not hold whole records: re-partition in the driver.
        sources = driver_sources(
            client,
            spec,
            None,
            dataset,
            skip_invalid=skip_invalid,
            lang=lang,
            partitions=partitions,
            messages=[*sources.messages, not_aligned_note(bad[0], lang)],
        )
        result, partials = run(sources)
        if any(p.not_aligned for p in partials):
            raise dangling
    if not sources.repartitioned:
        check_unique([p.hashes for p in partials], spec.unique_keys)
        sources.messages += partial_messages(partials)
    return result, partials, sources


def first_pass(
    client: Any, spec: PartitionSpec, sources: Sources
) -> tuple[pd.Timestamp | None, list[Partial]]:
    """The latest of the partitions' last recorded dates (:func:`last_date_task`), or ``None``
    without any; and the partitions found not aligned (then no date)."""
    task = functools.partial(last_date_task, spec)
    firsts = gather(client.map(task, sources.parts, pure=False, **sources.opts))
    bad = [p for p in firsts if p.not_aligned]
    if bad:
        return None, bad
    dates = [p.last_date for p in firsts if p.last_date is not None]
    return (max(dates) if dates else None), []
