"""Findings turned into problems, one report per cell, and each problem given its row's key
and the cell's text as typed: shared by the whole-table checks (:mod:`.check`) and the checks
a slice of parts at a time (:mod:`.byparts`)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from fpanalysis.core.dataset import Dataset, Problem, row_keys
from fpanalysis.io.frames import CELL_RULES
from fpanalysis.io.validate.findings import Finding, fmt_date

__all__ = ["drop_shadowed", "fill_keys_and_values", "finding_problems"]

# Rules whose problem is "the cell is empty": not repeated for a cell that has a type error.
_EMPTINESS_RULES = frozenset({"required", "hire_date_required", "outcome_date_required"})
_TYPE_RULES = frozenset({"date", "bool", "int", "number"}) | CELL_RULES


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
