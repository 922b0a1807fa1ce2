"""Pieces every Dask map task shares (budget, compliance, relief).

A map task runs in a worker on one partition (a mapping table -> part files,
or table -> DataFrame when the driver cut the data itself). What it sends back
must unpickle anywhere, so an :class:`~fpanalysis.core.errors.FPError` raised in
the worker travels as a :class:`Failure` (plain fields) and is raised again in
the driver, naming the partition. Each partition is validated on its own, so
keys repeated *across* partitions are checked in the driver from per-partition
key hashes (:func:`key_hashes`, :func:`check_unique`).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
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
    """A temporary folder with one ``<table>.parquet`` per table (links to the part files) for the loader."""
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
        >>> h = key_hashes({"couples": pd.DataFrame({"couple_id": ["C1"]})}, {"couples": "couple_id"})
        >>> check_unique([h, h], {"couples": "couple_id"})
        Traceback (most recent call last):
        ...
        fpanalysis.core.errors.DataError: 表“夫妻”的 couple_id 在不同分区中重复，请检查分区数据 [列 couple_id，规则 duplicate_key_across_partitions] / couples.couple_id repeats across partitions; check the partitioned data [column couple_id, rule duplicate_key_across_partitions]
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
