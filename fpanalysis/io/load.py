"""Loading a dataset: :func:`load_dataset` reads a folder of CSV/Parquet files (or of Parquet
parts), one ``.xlsx`` workbook or one table file into a :class:`~fpanalysis.core.dataset.Dataset`
of typed frames, with every problem met while reading; :func:`load_for_analysis` also validates
it and refuses a dataset with errors, or (``skip_invalid``) leaves out the rejected rows and the
rows that refer to them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from fpanalysis.core import ahead, schema, timings
from fpanalysis.core.dataset import Dataset, Problem, RawTables, isin_keys
from fpanalysis.core.errors import DataError, UsageError
from fpanalysis.core.privacy import mask_problem
from fpanalysis.io.frames import frame_from_records
from fpanalysis.io.parts import frame_from_parts, part_layout
from fpanalysis.io.read import (
    BOOK_SUFFIXES,
    DATA_SUFFIXES,
    open_workbook,
    records_csv,
    records_parquet,
    records_sheet,
    sha256_file,
    uncached_formulas,
)
from fpanalysis.io.typed import TypedPlan, TypedTable, plan_typed
from fpanalysis.io.validate import KEY_ID_RULE, ValidationReport, validate_dataset
from fpanalysis.io.validate.byparts import BY_PART_TABLES

__all__ = [
    "MAX_LISTED",
    "MAX_WARNINGS_SHOWN",
    "load_by_part",
    "load_dataset",
    "load_for_analysis",
    "load_table_file",
]


def _requested(tables: Iterable[str] | None) -> list[str]:
    if tables is None:
        return list(schema.TABLES)
    out = []
    for t in tables:
        try:
            out.append(schema.table_for_name(t).name)
        except KeyError:
            raise UsageError(f"未知的表：{t}", f"unknown table: {t}", value=t) from None
    return out


def _given_twice(table: schema.Table, first: str, second: str, kind: str) -> DataError:
    """Two files (or two sheets of a workbook) hold one table."""
    if kind == "sheets":
        zh = f"表“{table.zh}”有两个工作表：{first} 和 {second}"
        en = f"table '{table.name}' is in two sheets: {first} and {second}"
    else:
        zh = f"表“{table.zh}”有两个文件：{first} 和 {second}，请只保留一个"
        en = f"table '{table.name}' is in two files: {first} and {second}; keep one"
    return DataError(zh, en, file=second, rule="duplicate_table")


def load_dataset(
    path: str | os.PathLike, tables: Iterable[str] | None = None, *, typed: bool = True
) -> Dataset:
    """Read a dataset: a folder of CSV/Parquet files, one ``.xlsx`` workbook, or one table file.

    Args:
        path: the folder, workbook or single CSV/Parquet file (stem = table name).
        tables: English or Chinese names of the tables to read; ``None`` reads
            every known table that is present. Tables asked for and not found are
            listed in ``dataset.absent``; files and sheets that are not tables are
            ignored with a note.
        typed: read Parquet files typed (:mod:`fpanalysis.io.typed`); ``False`` reads
            them through their text, like CSV: the same frames and problems, slower.

    Returns:
        A :class:`~fpanalysis.core.dataset.Dataset`. Cells that cannot be parsed
        are missing in the typed frames and listed in ``dataset.problems``; a table whose header is
        unusable (empty file, required column missing) is left out of the
        mapping and listed there too. Nothing is validated beyond types: see
        :func:`fpanalysis.io.validate.validate_dataset`.

    Raises:
        DataError: the path does not exist or is not a dataset, the workbook
            cannot be opened, or two files hold the same table.

    Examples:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> text = "单位编号,单位名称,单位类型\\nU1,办公室,股室\\n"
        >>> _ = (d / "单位.csv").write_text(text, encoding="gb18030")
        >>> ds = load_dataset(d)
        >>> ds["units"].loc[2, ["unit_id", "kind"]].tolist(), ds.absent[:2]
        (['U1', 'section'], ('persons', 'couples'))
    """
    return _load(path, tables, typed=typed, by_part=False)[0]


def load_by_part(
    path: str | os.PathLike, tables: Iterable[str] | None = None
) -> tuple[Dataset, dict[str, TypedPlan]]:
    """:func:`load_dataset`, but the tables no other table refers to
    (:data:`~fpanalysis.io.validate.byparts.BY_PART_TABLES`), when given as folders of Parquet
    parts read typed, are left unread: their headers are checked (problems, headers, parts and
    raw rows are in the dataset as usual) and their plans returned, {table: plan}, for
    :func:`~fpanalysis.io.validate.validate_dataset` to read and check a part at a time
    (``by_part=``). The dataset's frames hold the other tables."""
    return _load(path, tables, typed=True, by_part=True)


def _load(
    path: str | os.PathLike, tables: Iterable[str] | None, *, typed: bool, by_part: bool
) -> tuple[Dataset, dict[str, TypedPlan]]:
    """The body of :func:`load_dataset` and :func:`load_by_part`."""
    path = Path(path)
    wanted = _requested(tables)
    if not path.exists():
        raise DataError(
            f"找不到数据集：{path}", f"dataset not found: {path}", file=str(path), rule="no_dataset"
        )

    sources: dict[str, tuple[str, Any]] = {}  # table -> (display file name, loader)
    sha: dict[str, str] = {}
    problems: list[Problem] = []

    def note(rule, zh, en, file):
        problems.append(Problem(None, None, None, None, rule, zh, en, "note", None, file))

    def add_file(f: Path, kind: str):
        try:
            t = schema.table_for_name(f.stem)
        except KeyError:
            note(
                "unknown_file",
                f"文件“{f.name}”不是已知的表，已忽略",
                f"file '{f.name}' is not a known table; ignored",
                f.name,
            )
            return
        sha[f.name] = sha256_file(f)
        if t.name not in wanted:
            return
        if t.name in sources:
            raise _given_twice(t, sources[t.name][0], f.name, "files")
        reader = records_csv if kind == "csv" else records_parquet
        sources[t.name] = (f.name, lambda f=f, reader=reader: reader(f))
        if kind == "parquet":
            typed_files[t.name] = [(f, f.name)]

    workbook = None
    partitioned: dict[str, list[Path]] = {}
    typed_files: dict[str, list[tuple[Path, str]]] = {}
    part_files: list[tuple[str, Path]] = []  # hashed beside the reading (hashlib lets go of
    # the interpreter): a province's parts are hundreds of MB
    if path.is_dir():
        layout = part_layout(path)  # a table given both as a file and as a folder is refused
        for f in sorted(path.iterdir()):
            if f.name.startswith((".", "~$")):
                continue
            if f.is_dir() and f.name in layout:
                t = schema.table_for_name(f.name)
                part_files += [(f"{f.name}/{part.name}", part) for part in layout[f.name]]
                if t.name in wanted:
                    sources[t.name] = (f"{f.name}/", None)
                    partitioned[t.name] = layout[f.name]
                    typed_files[t.name] = [(p, f"{f.name}/{p.name}") for p in layout[f.name]]
                continue
            if not f.is_file():
                continue
            kind = DATA_SUFFIXES.get(f.suffix.lower())
            if kind:
                add_file(f, kind)
    elif path.suffix.lower() in BOOK_SUFFIXES:
        sha[path.name] = sha256_file(path)
        workbook = open_workbook(path)
        for sheet in workbook.sheetnames:
            shown = f"{path.name}[{sheet}]"
            try:
                t = schema.table_for_name(sheet)
            except KeyError:
                note(
                    "unknown_sheet",
                    f"工作表“{sheet}”不是已知的表，已忽略",
                    f"sheet '{sheet}' is not a known table; ignored",
                    shown,
                )
                continue
            if t.name not in wanted:
                continue
            if t.name in sources:
                raise _given_twice(t, sources[t.name][0], shown, "sheets")
            sources[t.name] = (
                shown,
                lambda ws=workbook[sheet]: (records_sheet(ws), uncached_formulas(ws)),
            )
    elif path.suffix.lower() in DATA_SUFFIXES:
        add_file(path, DATA_SUFFIXES[path.suffix.lower()])
        if not sources and not sha:
            raise DataError(
                f"文件名“{path.stem}”不是已知的表名",
                f"file name '{path.stem}' is not a known table name",
                file=path.name,
                rule="no_dataset",
            )
    else:
        raise DataError(
            "数据集应为 CSV/Parquet 文件夹或一个 .xlsx 工作簿",
            "a dataset is a folder of CSV/Parquet files or one .xlsx workbook",
            file=str(path),
            rule="no_dataset",
        )

    parts_hashed = (
        ahead.beside(lambda: {key: sha256_file(f) for key, f in part_files}) if part_files else dict
    )
    frames, raws, headers, files, readers = {}, {}, {}, {}, {}
    parts: dict[str, list[tuple[int, int, str]]] = {}
    plans: dict[str, TypedPlan] = {}
    planned: dict[str, TypedPlan | None] = {}
    if typed:  # headers checked for the typed path (no cell read)
        for name in wanted:
            if name in sources and name in typed_files:
                planned[name] = plan_typed(schema.TABLES[name], typed_files[name])
    typed_plans = {name: plan for name, plan in planned.items() if plan is not None}
    # read and checked a part at a time by the validation
    left_to_validation = {
        name for name in typed_plans if by_part and name in partitioned and name in BY_PART_TABLES
    }
    read_before = _read_typed_before(
        {name: plan for name, plan in typed_plans.items() if name not in left_to_validation},
        sum(plan.rows for plan in typed_plans.values()),
    )
    try:
        for name in wanted:  # schema order: deterministic
            if name not in sources:
                continue
            shown, read = sources[name]
            files[name] = shown
            table = schema.TABLES[name]
            with timings.phase(f"read {name}"):
                plan = planned.get(name)
                if plan is not None and name in left_to_validation:
                    plans[name], readers[name], headers[name] = plan, plan.raw, dict(plan.found)
                    problems.extend(p for ps in plan.header_problems for p in ps)
                    parts[name] = plan.spans
                    continue
                if name in read_before:
                    got = read_before.pop(name)()  # (what reading it raised, raised here)
                else:
                    got = plan.read() if plan is not None else None
                if got is not None:
                    frames[name], readers[name], headers[name] = got.frame, got.raw, got.headers
                    problems.extend(got.problems)
                    if name in partitioned:
                        parts[name] = got.spans
                    continue
                if name in partitioned:
                    frame, raw, hdrs, probs, spans = frame_from_parts(
                        table, partitioned[name], shown.rstrip("/")
                    )
                    problems.extend(probs)
                    parts[name] = spans
                    if raw is not None:
                        raws[name] = raw
                        headers[name] = hdrs
                    if frame is not None:
                        frames[name] = frame
                    continue
                try:
                    records = read()
                except DataError as e:
                    problems.append(Problem.from_error(e, name, shown))
                    continue
                formulas: list = []
                if isinstance(records, tuple):  # a sheet: its rows, and its formulas with no value
                    records, formulas = records
                frame, raw, hdrs, probs = frame_from_records(table, records, shown, formulas)
                problems.extend(probs)
                if raw is not None:
                    raws[name] = raw
                    headers[name] = hdrs
                if frame is not None:
                    frames[name] = frame
    finally:
        if workbook is not None:
            workbook.close()

    sha.update(parts_hashed())
    absent = tuple(t for t in wanted if t not in sources)
    dataset = Dataset(
        frames,
        source=path,
        files=files,
        sha256=dict(sorted(sha.items())),
        raw=RawTables(raws, readers),
        headers=headers,
        problems=problems,
        absent=absent,
        parts=parts,
    )
    return dataset, plans


def _read_typed_before(
    plans: dict[str, TypedPlan], rows_in_all: int
) -> dict[str, Callable[[], TypedTable]]:
    """The tables of ``plans`` (read whole and typed) read two at a time, the largest first,
    when there are two or more and :func:`~fpanalysis.core.ahead.two_threads` allows the
    dataset's typed tables (``rows_in_all`` rows, those read by parts too) (else each is read
    alone, as before: empty). Each table's outcome is kept for the loader to take in its order:
    the table, or what reading it raised, raised when it is taken (so the first table in schema
    order that fails to read is the one reported, as on one thread)."""
    if len(plans) < 2 or not ahead.two_threads(rows_in_all):
        return {}
    with timings.phase("read the tables read whole, two at a time"):
        return ahead.both_ends(
            [
                (n, partial(ahead.outcome_of, plans[n].read))
                for n in sorted(plans, key=lambda n: -plans[n].rows)
            ]
        )


MAX_LISTED = 20
MAX_WARNINGS_SHOWN = 5
#: The day an analysis's validation checks dates against: the last day a date can name, so that
#: no date is "in the future". Whether a birth has happened is a question for ``validate`` (the
#: clerk's tool, ``--as-of``, default today); an analysis never asks the clock (rulebook G7).
NO_CLOCK = pd.Timestamp.max.normalize()


def load_for_analysis(
    path: str | os.PathLike,
    tables: Iterable[str],
    *,
    skip_invalid: bool = False,
    lang: str = "zh",
    keep: Mapping[str, Callable[[pd.DataFrame], pd.DataFrame]] | None = None,
) -> Dataset:
    """Load and validate the tables an analysis needs (rulebook, general conventions, G7, G8).

    The validation does not read the clock: a date after the day the analysis is
    run (a child still to be born) is no error here, so the same command on the
    same data gives the same answer whatever the day. Each analysis's rules place
    such a date against its own reference date (outside the period, not yet
    applied, a birth still to come).

    Args:
        path: the dataset (see :func:`load_dataset`).
        tables: the tables the analysis needs; each must be present.
        skip_invalid: drop rejected rows instead of refusing the dataset, and
            also every row that refers to a dropped row (a child of a dropped
            couple, say), repeatedly until nothing refers to a dropped row.
            ``dataset.skipped`` records {table: rows left out}.
        lang: language of ``dataset.messages`` (the lines a command prints:
            rows left out, the first 5 warnings and how many more there are; a key
            column holding ID numbers is always among them).
        keep: table -> the rows of it the analysis can look at (a window of dates its rules
            select from, say): the rest are validated and then let go, a part at a time for a
            table given as parts, so that they are never held together. Rows left out by
            ``skip_invalid`` are counted over the whole table, before this.

    The tables no other table refers to are read and validated a part at a time when given
    as folders of Parquet parts (:func:`load_by_part`); only the rows the analysis keeps of
    each part stay.

    The values, keys and messages of the problems it shows (the warnings, the
    errors of a refusal) are masked (:func:`fpanalysis.core.privacy.mask_problem`):
    only ``validate`` itself shows them as typed (rulebook §7).

    Raises:
        DataError: a table is missing or unreadable; or the tables have errors
            and ``skip_invalid`` is false (the message lists the first 20 problems
            and the count, and suggests ``fpanalysis validate`` and
            ``--skip-invalid``); or a whole table is unusable (a missing required
            column), which ``skip_invalid`` cannot mend.
    """
    wanted = _requested(tables)
    keep = dict(keep or {})
    ds, plans = load_by_part(path, wanted)
    pieces: dict[str, list[pd.DataFrame]] = {t: [] for t in plans}

    def kept_rows(table: str, frame: pd.DataFrame) -> pd.DataFrame:
        return keep[table](frame) if table in keep else frame

    def after_part(table: str, frame: pd.DataFrame) -> None:
        pieces[table].append(kept_rows(table, frame))

    unusable = [
        p for p in ds.problems if p.severity == "error" and p.row is None and p.table in wanted
    ]
    missing = [t for t in wanted if t in ds.absent]
    if missing:
        names_zh = "、".join(f"{schema.TABLES[t].zh}（{t}）" for t in missing)
        names_en = ", ".join(missing)
        raise DataError(
            f"数据集缺少本分析需要的表：{names_zh}。请添加相应文件或工作表",
            f"the dataset lacks tables this analysis needs: {names_en}; add the files or sheets",
            file=str(ds.source),
            rule="missing_table",
        )
    report = validate_dataset(ds, as_of=NO_CLOCK, by_part=plans, after_part=after_part)
    if unusable or (report.errors and not skip_invalid):
        raise _refusal(report, unusable_only=bool(unusable))
    with timings.phase("prepare (rows left out)"):
        kept, cascade = dict(ds), {}
        skipped = {}
        if report.errors:  # without errors every reference resolves: nothing to leave out
            kept, cascade = _drop_dangling(report.valid_frames(ds))
            skipped = {t: len(ds[t]) - len(kept[t]) for t in ds if len(ds[t]) != len(kept[t])}
            for t in plans:  # read again: their rows left out are counted over every part
                pieces[t] = []
                left_out, refer = _valid_parts(plans[t], report, kept, pieces[t], kept_rows)
                if left_out:
                    skipped[t], cascade[t] = left_out, refer
        for t in plans:
            kept[t] = stack_parts(pieces.pop(t), plans[t].table)
        # the tables in the order asked for, each with the rows the analysis keeps
        order = [t for t in wanted if t in kept]
        kept = {t: kept[t] if t in plans else kept_rows(t, kept[t]) for t in order}
        skipped = {t: skipped[t] for t in kept if t in skipped}
    out = ds.replace_frames(kept)
    out.skipped = skipped
    zh = lang == "zh"
    for t, n in skipped.items():
        c = cascade.get(t, 0)
        if zh:
            extra = f"（其中 {c} 行因引用了被剔除的行）" if c else ""
            out.messages.append(f"表“{schema.TABLES[t].zh}”有 {n} 行未通过校验被剔除{extra}")
        else:
            extra = f" ({c} of them refer to a left-out row)" if c else ""
            out.messages.append(f"{t}: {n} rows left out (failed validation){extra}")
    # Warnings do not stop an analysis; show a few, not thousands (a county with many
    # renamed region codes would otherwise bury the output).
    # a key column holding ID numbers first: it concerns every output (rulebook §7)
    warns = sorted(report.warnings, key=lambda p: p.rule != KEY_ID_RULE)
    out.messages.extend(mask_problem(p).text(lang) for p in warns[:MAX_WARNINGS_SHOWN])
    if len(warns) > MAX_WARNINGS_SHOWN:
        rest = len(warns) - MAX_WARNINGS_SHOWN
        out.messages.append(
            f"……另有 {rest} 个警告，运行 `fpanalysis validate` 查看全部"
            if zh
            else f"... and {rest} more warnings; run `fpanalysis validate` to see them all"
        )
    out.report = report  # type: ignore[attr-defined]
    return out


def _refusal(report: ValidationReport, unusable_only: bool = False) -> DataError:
    errs = [mask_problem(p) for p in report.errors if (p.row is None) or not unusable_only]
    n = len(errs)
    lines_zh = [p.text("zh") for p in errs[:MAX_LISTED]]
    lines_en = [p.text("en") for p in errs[:MAX_LISTED]]
    more_zh = f"\n……另有 {n - MAX_LISTED} 个问题" if n > MAX_LISTED else ""
    more_en = f"\n... and {n - MAX_LISTED} more" if n > MAX_LISTED else ""
    hint_zh = "请运行 `fpanalysis validate 数据集 --rejects 文件夹` 查看并改正全部问题"
    hint_en = "run `fpanalysis validate DATASET --rejects DIR` to see and correct them all"
    if not unusable_only:
        hint_zh += "，或加 --skip-invalid 跳过这些行后运行"
        hint_en += ", or add --skip-invalid to run without those rows"
    return DataError(
        f"数据有 {n} 个错误，分析未运行：\n" + "\n".join(lines_zh) + more_zh + "\n" + hint_zh,
        f"the data has {n} errors; the analysis did not run:\n"
        + "\n".join(lines_en)
        + more_en
        + "\n"
        + hint_en,
        rule="invalid_data",
    )


def _valid_parts(
    plan: TypedPlan,
    report: ValidationReport,
    frames: Mapping[str, pd.DataFrame],
    pieces: list[pd.DataFrame],
    kept_rows: Callable[[str, pd.DataFrame], pd.DataFrame],
) -> tuple[int, int]:
    """A table read a part at a time, again, without its rejected rows and the rows that refer
    to a row left out of ``frames`` (what :func:`_drop_dangling` leaves of it: no other table
    refers to it); the rows kept of each part go to ``pieces``. Returns (rows left out, of
    them referring to a left-out row)."""
    t = plan.table
    rejected = pd.Index(report.rejected.get(t.name, []), dtype="int64")
    left_out = refer = 0
    for k in range(len(plan.parts)):
        df = plan.read([k], header_problems=False).frame
        valid = ~df.index.isin(rejected)
        ok = valid.copy()
        for c in t.columns:
            if c.references and c.references.split(".")[0] in frames:
                tt, tc = c.references.split(".")
                v = df[c.name]
                ok &= (v.isna() | isin_keys(v, frames[tt][tc])).to_numpy(dtype=bool)
        left_out += int((~ok).sum())
        refer += int((valid & ~ok).sum())
        pieces.append(kept_rows(t.name, df[ok]))
    return left_out, refer


def stack_parts(pieces: list[pd.DataFrame], table: schema.Table) -> pd.DataFrame:
    """The rows kept of a table's parts as one frame, as the table read whole holds them: a
    text column as one Arrow array; each part's column let go once stacked."""
    from fpanalysis.io.typed import _one_chunk

    if not pieces:
        return schema.empty_frame(table.name)
    if len(pieces) == 1:
        return pieces[0]
    index = pieces[0].index.append([p.index for p in pieces[1:]])
    columns = {}
    for c in list(pieces[0].columns):
        s = pd.concat([p.pop(c) for p in pieces], ignore_index=True)
        s = _one_chunk(s)
        s.index = index
        columns[c] = s
    return pd.DataFrame(columns, index=index, copy=False)


def _drop_dangling(
    frames: dict[str, pd.DataFrame],
) -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """Drop rows whose reference no longer resolves, until none is left (skip_invalid)."""
    frames = dict(frames)
    cascade: dict[str, int] = {}
    changed = True
    while changed:
        changed = False
        for t, df in list(frames.items()):
            keep = pd.Series(True, index=df.index)
            for c in schema.TABLES[t].columns:
                if not c.references:
                    continue
                tt, tc = c.references.split(".")
                if tt not in frames:
                    continue
                v = df[c.name]
                keep &= v.isna() | isin_keys(v, frames[tt][tc])
            if not keep.all():
                cascade[t] = cascade.get(t, 0) + int((~keep).sum())
                frames[t] = df[keep]
                changed = True
    return frames, cascade


def load_table_file(path: str | os.PathLike, option: str) -> pd.DataFrame:
    """One table given as a file (an earlier output: ``--previous-round``), as text under its
    header row, read by the dataset's readers with their limits.

    A ``.csv`` is decoded as every input CSV (UTF-8 or GB18030, the delimiter
    found); an ``.xlsx`` is checked for zip and XML bombs before it is opened,
    and its first sheet is read, a formula with no saved value refused.

    Raises:
        UsageError: the file does not exist, is a folder or is neither .csv nor .xlsx.
        DataError: it cannot be read (binary, damaged, a bomb, a formula with no value).

    Examples:
        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
        >>> _ = f.write_bytes("户编号;拟纳入\\nH1;是\\n".encode("gb18030"))
        >>> load_table_file(f, "--previous-round").to_dict("records")
        [{'户编号': 'H1', '拟纳入': '是'}]
    """
    path = Path(path)
    if not path.exists() or path.is_dir():
        what = "不存在" if not path.exists() else "是一个文件夹"
        what_en = "does not exist" if not path.exists() else "is a folder"
        raise UsageError(
            f"{option} 的文件{what}：{path}",
            f"the {option} file {what_en}: {path}",
            file=str(path),
            rule="file-exists",
        )
    suffix = path.suffix.lower()
    formulas: list = []
    if suffix == ".csv":
        records = records_csv(path)
    elif suffix in BOOK_SUFFIXES:
        book = open_workbook(path)
        try:
            ws = book[book.sheetnames[0]]
            records, formulas = records_sheet(ws), uncached_formulas(ws)
        finally:
            book.close()
    else:
        raise UsageError(
            f"{option} 的文件应为 .csv 或 .xlsx：{path}",
            f"the {option} file must be .csv or .xlsx: {path}",
            file=str(path),
            rule="file-type",
        )
    if formulas:
        row, _, cell, formula = formulas[0]
        raise DataError(
            f"单元格 {cell} 是公式（{formula}），没有保存计算结果：请在 Excel 中打开并保存",
            f"cell {cell} holds a formula ({formula}) with no saved result: open and save the "
            "workbook in Excel",
            file=path.name,
            row=row,
            rule="formula_no_value",
        )
    records = [r for r in records if any(c.strip() for c in r)]
    if not records:
        raise DataError(
            f"{option} 的文件是空的",
            f"the {option} file is empty",
            file=path.name,
            rule="empty_file",
        )
    header = [h.strip().lstrip("\ufeff") for h in records[0]]
    width = len(header)
    rows = [(r + [""] * width)[:width] for r in records[1:]]
    return pd.DataFrame(rows, columns=header, dtype="str")
