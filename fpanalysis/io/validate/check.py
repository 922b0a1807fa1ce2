"""Validation of a loaded dataset: :func:`validate_dataset` runs every check (the problems met
while reading, the per-column checks, the checks across fields and tables, the resident ID
numbers) and lists every problem with its table, row, key, column, value as typed, rule and
message in Chinese and English; errors reject their row, warnings and notes do not, and a cell
that cannot be parsed is reported once, as a type error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import replace

import pandas as pd

from fpanalysis.core import schema, timings
from fpanalysis.core.dataset import Dataset, Problem, row_keys
from fpanalysis.io.frames import CELL_RULES
from fpanalysis.io.typed import TypedPlan
from fpanalysis.io.validate.byparts import check_by_part
from fpanalysis.io.validate.columns import column_problems
from fpanalysis.io.validate.crossfield import (
    conditional,
    date_bounds,
    date_order,
    references,
)
from fpanalysis.io.validate.findings import Finding, fmt_date, shared_lookups
from fpanalysis.io.validate.idnumbers import id_number_findings, key_id_problems
from fpanalysis.io.validate.report import ValidationReport

__all__ = ["drop_shadowed", "fill_keys_and_values", "finding_problems", "validate_dataset"]

# Rules whose problem is "the cell is empty": not repeated for a cell that has a type error.
_EMPTINESS_RULES = frozenset({"required", "hire_date_required", "outcome_date_required"})
_TYPE_RULES = frozenset({"date", "bool", "int", "number"}) | CELL_RULES


def validate_dataset(
    dataset: Dataset,
    *,
    as_of=None,
    by_part: Mapping[str, TypedPlan] | None = None,
    after_part: Callable[[str, pd.DataFrame], None] | None = None,
) -> ValidationReport:
    """Check every rule of the data dictionary over a loaded dataset; list every problem.

    Args:
        dataset: from :func:`fpanalysis.io.load_dataset` (or a
            :class:`~fpanalysis.core.dataset.Dataset` of hand-made frames).
        as_of: the day of the check (date, Timestamp or ``YYYY-MM-DD``): a birth
            date after it is an error (``date_in_future``). Default: today (UTC),
            the one thing a check may take from the clock, since a birth that
            has not happened yet is impossible whatever the data's extract date.
        by_part: tables not in ``dataset``'s frames, to be read and checked a part at a time
            (:func:`fpanalysis.io.load.load_by_part`): the same problems as when read whole.
        after_part: called with (table, frame) for each part of those tables once checked.

    Returns:
        A :class:`ValidationReport`; ``report.ok`` is true when nothing is an
        error. Problems are sorted by table (schema order), row, column.

    Examples:
        >>> units = schema.coerce("units", [
        ...     {"unit_id": "U1", "name": "办公室", "kind": "section"},
        ...     {"unit_id": "U1", "name": "财务股", "kind": "section"}])
        >>> report = validate_dataset(Dataset({"units": units}))
        >>> [(p.row, p.column, p.rule) for p in report.errors]
        [(2, 'unit_id', 'unique'), (3, 'unit_id', 'unique')]
        >>> report.ok
        False
    """
    with timings.phase("validate"), shared_lookups():
        return _validate(dataset, as_of=as_of, by_part=by_part or {}, after_part=after_part)


def _validate(
    dataset: Dataset,
    *,
    as_of=None,
    by_part: Mapping[str, TypedPlan],
    after_part: Callable[[str, pd.DataFrame], None] | None,
) -> ValidationReport:
    """The checks of :func:`validate_dataset`."""
    problems: list[Problem] = list(dataset.problems)
    if dataset.source is not None and not len(dataset) and not dataset.raw and not dataset.files:
        problems.append(
            Problem(
                None,
                None,
                None,
                None,
                "no_tables",
                "数据集中没有找到任何表（文件名或工作表名应为表名，如 persons.csv 或“人员”）",
                "no tables found in the dataset (files or sheets are named after tables, "
                "e.g. persons.csv or 人员)",
                "error",
                None,
                str(dataset.source),
            )
        )
    findings: list[Finding] = []
    col_probs: list[Problem] = []

    for t in schema.TABLES:
        if t in dataset:
            for row, col, rule, zh, en in column_problems(t, dataset[t]):
                col_probs.append(
                    Problem(t, row, col, None, rule, zh, en, "error", None, dataset.file_of(t, row))
                )
    ref_findings, notes = references(dataset)
    as_of = (
        pd.Timestamp(dt.datetime.now(dt.UTC).date()) if as_of is None else pd.Timestamp(as_of)
    ).normalize()
    findings += ref_findings + date_order(dataset) + date_bounds(dataset, as_of)
    findings += conditional(dataset) + id_number_findings(dataset)
    key_ids = key_id_problems(dataset)
    found = finding_problems(dataset, findings)
    # The tables checked a part at a time, each problem in its place among the others (the
    # problems are sorted below; what a part finds is in the same order as when read whole).
    for t in schema.TABLES:
        if t in by_part:
            got = check_by_part(dataset, t, by_part[t], as_of, after_part)
            problems += got.reading
            notes += got.notes
            col_probs += got.columns
            key_ids += got.key_ids
            found += got.findings
    problems += notes + col_probs + key_ids + found
    problems = drop_shadowed(problems)
    # Fill in the key and the raw value as the clerk typed it.
    filled = fill_keys_and_values(dataset, problems)
    order = {t: i for i, t in enumerate(schema.TABLES)}
    sev_order = {"error": 0, "warning": 1, "note": 2}
    colpos = {t.name: {c.name: i for i, c in enumerate(t.columns)} for t in schema.TABLES_LIST}
    filled.sort(
        key=lambda p: (
            sev_order.get(p.severity, 3),
            order.get(p.table, -1),
            -1 if p.row is None else p.row,
            colpos.get(p.table, {}).get(p.column, -1),
            p.rule,
        )
    )
    filled = list(dict.fromkeys(filled))

    rows = {t: len(dataset.raw.index(t)) for t in dataset.raw} | {
        t: len(df) for t, df in dataset.items()
    }
    whole = {p.table for p in filled if p.row is None and p.severity == "error"}
    by_table: dict[str, set[int]] = {}
    for p in filled:
        if p.severity == "error" and p.row is not None:
            by_table.setdefault(p.table, set()).add(p.row)
    rejected: dict[str, list[int]] = {}
    for t in rows:
        if t in whole:
            idx = dataset[t].index if t in dataset else dataset.raw.index(t)
            rej = set(idx)
        else:
            rej = by_table.get(t, set())
        if rej:
            rejected[t] = sorted(int(r) for r in rej)
    return ValidationReport(filled, rows, rejected)


def finding_problems(dataset: Dataset, findings: list[Finding]) -> list[Problem]:
    """One problem per row of each finding, with its message (and the row's detail)."""
    problems = []
    for f in findings:
        for row in f.rows:
            file = dataset.file_of(f.table, int(row))  # a part file for partitioned tables
            zh, en = f.zh, f.en
            if f.messages is not None:
                zh, en = f.messages.at[row, "message_zh"], f.messages.at[row, "message_en"]
            elif f.detail is not None:
                d = f.detail.get(row)
                if d is not None and not (isinstance(d, float) and pd.isna(d)) and d != "":
                    zh, en = f"{zh}（{d}）", f"{en} ({d})"
            problems.append(
                Problem(f.table, int(row), f.column, None, f.rule, zh, en, f.severity, None, file)
            )
    return problems


def drop_shadowed(problems: list[Problem]) -> list[Problem]:
    """One report per cell: a type error stands for the emptiness (and the date order) it
    causes."""
    typed_cells = {(p.table, p.row, p.column) for p in problems if p.rule in _TYPE_RULES}
    return [
        p
        for p in problems
        if not (p.rule in _EMPTINESS_RULES and (p.table, p.row, p.column) in typed_cells)
        and not (p.rule == "date_order" and (p.table, p.row, p.column) in typed_cells)
    ]


def fill_keys_and_values(dataset: Dataset, problems: list[Problem]) -> list[Problem]:
    """Each problem of a row with the row's key and the cell's text as the clerk typed it.

    Keys and raw text are looked up only for the rows that have a problem (a table read typed
    renders its raw text on demand: see :class:`~fpanalysis.core.dataset.RawTables`).
    """
    wanted: dict[str, set[int]] = {}
    for p in problems:
        if p.table in dataset and p.row is not None:
            wanted.setdefault(p.table, set()).add(p.row)
    keys: dict[str, pd.Series] = {}
    raws: dict[str, pd.DataFrame] = {}
    for t, rows in wanted.items():
        frame = dataset[t]
        present = sorted(r for r in rows if r in frame.index)
        keys[t] = row_keys(frame.loc[present], t)
        if t in list(dataset.raw):  # (membership by name: `in` would render the table)
            index = dataset.raw.index(t)
            in_raw = sorted(r for r in rows if r in index)
            raws[t] = dataset.raw.rows(t, in_raw)

    def raw_value(table: str, row: int, column: str | None) -> str | None:
        if column is None:
            return None
        raw = raws.get(table)
        header = dataset.headers.get(table, {}).get(column)
        if raw is not None and header is not None and row in raw.index:
            return raw.at[row, header]
        frame = dataset[table]
        v = frame.at[row, column] if row in frame.index else None
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return ""
        return fmt_date(v) if isinstance(v, pd.Timestamp) else str(v)

    filled = []
    for p in problems:
        if p.table in keys and p.row is not None:
            key = p.key if p.key is not None else (keys[p.table].get(p.row) or None)
            value = p.value if p.value is not None else raw_value(p.table, p.row, p.column)
            p = replace(p, key=key, value=value)
        filled.append(p)
    return filled
