"""Tables given as folders of Parquet parts (``DIR/persons/part-00000.parquet``, ...): which
folders hold parts, the refusal of a table given twice (a file and a folder, or two folders),
and the reading of a table's parts in name order with rows numbered on from one part to the
next, so that every problem names its part file and its row as if the parts were one sheet.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pandas as pd

from fpanalysis.core import schema
from fpanalysis.core.dataset import Problem
from fpanalysis.core.errors import DataError
from fpanalysis.io.frames import frame_from_records
from fpanalysis.io.read import DATA_SUFFIXES, records_parquet

__all__ = ["frame_from_parts", "part_layout", "partition_paths"]

_PART_SUFFIXES = (".parquet", ".pq")


def part_layout(path: Path) -> dict[str, list[Path]]:
    """Folder name -> its Parquet part files (sorted by name), for folders named after a table.

    Raises:
        DataError: a table is both a file and a folder (``persons.parquet`` and
            ``persons/``), or two folders name one table (``persons/`` and ``人员/``).
    """
    layout: dict[str, list[Path]] = {}
    table_of: dict[str, str] = {}
    for d in sorted(path.iterdir()):
        if d.name.startswith(".") or not d.is_dir():
            continue
        try:
            t = schema.table_for_name(d.name)
        except KeyError:
            continue
        part_files = sorted(
            f
            for f in d.iterdir()
            if f.is_file() and f.suffix.lower() in _PART_SUFFIXES and not f.name.startswith(".")
        )
        if not part_files:
            continue
        if t.name in table_of:
            raise DataError(
                f"表“{t.zh}”有两个分区文件夹：{table_of[t.name]}/ 和 {d.name}/，请只保留一个",
                f"table '{t.name}' is in two folders of parts: {table_of[t.name]}/ and "
                f"{d.name}/; keep one",
                file=f"{d.name}/",
                rule="duplicate_table",
            )
        table_of[t.name] = d.name
        layout[d.name] = part_files
    for f in sorted(path.iterdir()):
        if f.name.startswith((".", "~$")) or not f.is_file():
            continue
        if f.suffix.lower() not in DATA_SUFFIXES:
            continue
        try:
            t = schema.table_for_name(f.stem)
        except KeyError:
            continue
        if t.name in table_of:
            folder = table_of[t.name]
            raise DataError(
                f"表“{t.zh}”既有文件 {f.name} 又有分区文件夹 {folder}/："
                "两种布局不能混用，请只保留一个",
                f"table '{t.name}' is both a file ({f.name}) and a folder of parts ({folder}/): "
                "mixed layouts are refused; keep one",
                file=f.name,
                rule="mixed_layout",
            )
    return layout


def partition_paths(path: str | os.PathLike) -> dict[str, list[Path]]:
    """The Parquet part files of a partitioned dataset: English table name -> sorted parts.

    A table is partitioned when the dataset folder holds a folder named after
    it (English or Chinese) with ``.parquet`` files in it
    (``DIR/persons/part-00000.parquet``, ...); parts are in name order, the
    order :func:`load_dataset` numbers rows in. Tables given as one file are
    not listed; a path that is not a folder gives ``{}``.

    Raises:
        DataError: a table is both a file and a folder of parts, or two folders.

    Examples:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> (d / "persons").mkdir()
        >>> for name in ("part-00001.parquet", "part-00000.parquet"):
        ...     _ = (d / "persons" / name).write_bytes(b"")
        >>> [p.name for p in partition_paths(d)["persons"]]
        ['part-00000.parquet', 'part-00001.parquet']
    """
    path = Path(path)
    if not path.is_dir():
        return {}
    out = {schema.table_for_name(k).name: v for k, v in part_layout(path).items()}
    return {t: out[t] for t in schema.TABLES if t in out}


def frame_from_parts(
    table: schema.Table, part_files: list[Path], folder: str
) -> tuple[
    pd.DataFrame | None,
    pd.DataFrame | None,
    dict[str, str],
    list[Problem],
    list[tuple[int, int, str]],
]:
    """Read a table's Parquet parts in order; rows are numbered on from one part to the next.

    Part ``k``'s first record is row ``2 + records in the parts before it``
    (as if the parts were one sheet), and every problem names the part file
    (``persons/part-00001.parquet``). A part that cannot be used, or whose
    columns differ from the first part's, makes the whole table unusable.

    Returns:
        (typed frame, raw frame, headers, problems, [(first row, last row, part file), ...]).
    """
    frames, raws, problems, spans = [], [], [], []
    headers: dict[str, str] | None = None
    fatal = False
    offset = 0
    for part in part_files:
        shown = f"{folder}/{part.name}"
        try:
            records = records_parquet(part, shown)
        except DataError as e:
            problems.append(Problem.from_error(e, table.name, shown))
            fatal = True
            continue
        n = len(records) - 1
        frame, raw, hdrs, probs = frame_from_records(table, records, shown)
        if offset:
            probs = [
                p if p.row is None else dataclasses.replace(p, row=p.row + offset) for p in probs
            ]
            if frame is not None:
                frame.index = frame.index + offset
            if raw is not None:
                raw.index = raw.index + offset
        problems.extend(probs)
        spans.append((2 + offset, 1 + offset + n, shown))
        offset += n
        if headers is None:
            headers = hdrs
        elif raw is not None and hdrs != headers:
            problems.append(
                Problem(
                    table.name,
                    None,
                    None,
                    None,
                    "part_columns",
                    f"分区文件 {shown} 的列与第一个分区文件不同",
                    f"the part file {shown} has other columns than the first part",
                    "error",
                    None,
                    shown,
                )
            )
            fatal = True
        if frame is None:
            fatal = True
        frames.append(frame)
        raws.append(raw)
    good_raws = [r for r in raws if r is not None]
    raw = pd.concat(good_raws) if good_raws else None
    frame = None if fatal or not frames else pd.concat(frames)
    return frame, raw, headers or {}, problems, spans
