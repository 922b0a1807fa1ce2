"""Rows of text to typed frames: the header row (searched below a title), the columns
(English or Chinese headers, unknown ones dropped with a warning, a missing required one
making the table unusable), blank and overlong rows, and each column parsed to its type, every
cell that is no value of its type becoming a :class:`~fpanalysis.core.dataset.Problem` that
names its row: a bare year in a date column, money finer than a fen or too large, and a
workbook's formula with no saved value among them (rulebook, general conventions G4, G5).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from fpanalysis.core import schema
from fpanalysis.core.dataset import Problem, row_keys
from fpanalysis.io.cells import (
    EXCEL_SERIAL_MAX,
    EXCEL_SERIAL_MIN,
    MONEY_MAX_YUAN,
    TYPE_MESSAGES,
    money_problems,
    parse_column,
)
from fpanalysis.io.read import HEADER_SEARCH_ROWS

__all__ = [
    "CELL_RULES",
    "MONEY_RULES",
    "absent_column",
    "date_message",
    "frame_from_records",
    "money_checked",
    "raw_column_names",
    "resolve_columns",
]

#: The rules of a cell that holds no usable value beyond its type's (a type error stands for
#: the emptiness it causes: "required" is not repeated for the cell).
CELL_RULES = frozenset({"formula_no_value", "money_fen", "money_range"})
_YEAR_RE = r"\s*[0-9０-９]{4}(?:\.0*)?\s*"
_NUMBER_RE = r"\s*[0-9０-９]+(?:\.[0-9０-９]*)?\s*"


#: Money cells that are no real amount: (rule, zh, en), rulebook G4.
MONEY_RULES = (
    (
        "money_fen",
        "金额精确到分（最多 2 位小数）：不会被四舍五入，请核对后改正",
        "money is exact to the fen (at most 2 decimals): it is never rounded; check and correct it",
    ),
    (
        "money_range",
        f"金额超过 {MONEY_MAX_YUAN:,} 元，不是真实的值",
        f"an amount over {MONEY_MAX_YUAN:,} yuan is not a real value",
    ),
)


def money_checked(
    table: schema.Table,
    column: schema.Column,
    text: pd.Series,
    values: pd.Series,
    file: str | Callable[[int], str],
) -> tuple[pd.Series, list[Problem]]:
    """A money column's values with the cells finer than a fen or over the limit emptied, and a
    problem naming each (``text``: the cells as the file shows them, indexed by row, all rows or
    some; ``file``: the file shown, or a function giving a row's file)."""
    fine, large = money_problems(text, values.loc[text.index])
    problems = [
        Problem(
            table.name,
            int(row),
            column.name,
            v,
            rule,
            zh,
            en,
            "error",
            None,
            file if isinstance(file, str) else file(int(row)),
        )
        for (rule, zh, en), mask in zip(MONEY_RULES, (fine, large), strict=True)
        for row, v in text[mask].items()
    ]
    bad = (fine | large).reindex(values.index, fill_value=False).astype(bool)
    return values.where(~bad), problems


def date_message(v: str) -> tuple[str, str]:
    """Why a date cell holds no day: a bare year, another number, or other text."""
    if re.fullmatch(_YEAR_RE, v):
        return (
            f"只有年份（{v.strip()}），不是某一天：请写成 YYYY-MM-DD（如 {v.strip()[:4]}-06-01）",
            f"a year alone ({v.strip()}) is not a day: write YYYY-MM-DD "
            f"(e.g. {v.strip()[:4]}-06-01)",
        )
    if re.fullmatch(_NUMBER_RE, v):
        return (
            f"不是有效日期：数字只有作为 Excel 日期序号 {EXCEL_SERIAL_MIN}–{EXCEL_SERIAL_MAX}"
            "（1910-01-01 至 2099-12-31）才算日期；请写成 YYYY-MM-DD",
            f"not a valid date: a number is a day only as an Excel serial date from "
            f"{EXCEL_SERIAL_MIN} to {EXCEL_SERIAL_MAX} (1910-01-01 to 2099-12-31); "
            "write YYYY-MM-DD",
        )
    return TYPE_MESSAGES["date"]


def _header_row(table: schema.Table, records: list[list[str]]) -> int | None:
    """The index of the header row: row 1 unless a lower row names more known columns.

    Only the first :data:`HEADER_SEARCH_ROWS` rows are searched (a title, a
    blank line, the upper level of a merged two-level header). ``None`` when
    row 1 is blank and no row names a column.

    Examples:
        >>> t = schema.TABLES["units"]
        >>> rows = [["某县单位名单"], [], ["单位编号", "单位名称", "单位类型"], ["U1", "a", "股室"]]
        >>> _header_row(t, rows)
        2
        >>> _header_row(t, [["unit_id", "oops"], ["U1", "x"]]), _header_row(t, [[""], ["U1"]])
        (0, None)
    """
    hmap = table.header_map()

    def score(r: list[str]) -> int:
        return len({hmap[k] for k in (schema._norm_header(c) for c in r if c.strip()) if k in hmap})

    scores = [score(r) for r in records[:HEADER_SEARCH_ROWS]]
    if not scores:
        return None
    best = max(range(len(scores)), key=lambda i: (scores[i], -i))
    if scores[best] > scores[0]:
        return best
    return 0 if any(c.strip() for c in records[0]) else None


def raw_column_names(header: list[str]) -> list[str]:
    """The raw frame's column names: the headers as written, made unique (``(colN)`` if blank).

    Examples:
        >>> raw_column_names(["a", "", "a"])
        ['a', '(col2)', 'a.1']
    """
    raw_cols, seen = [], {}
    for j, h in enumerate(header):
        name = h or f"(col{j + 1})"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        raw_cols.append(name)
    return raw_cols


def absent_column(column: schema.Column, index: pd.Index) -> pd.Series:
    """An empty ``column`` of the right type, for a file that does not have it."""
    return pd.Series(np.nan if column.dtype != "boolean" else pd.NA, index=index).astype(
        column.dtype
    )


def resolve_columns(
    table: schema.Table,
    header: list[str],
    raw_cols: list[str],
    blank_column: Callable[[str], bool],
    table_error: Callable[..., None],
) -> tuple[dict[str, str], bool]:
    """Match the headers to ``table``'s columns (docs/data_dictionary.md).

    An unknown header is a warning (a blank header over a blank column is an empty column a
    spreadsheet left behind, ignored); a column given twice or a required column missing makes
    the table unusable. ``blank_column(raw name)`` says whether a column holds no text.

    Returns:
        ({English column: raw column name}, fatal).
    """
    hmap = table.header_map()
    found: dict[str, str] = {}
    fatal = False
    for j, h in enumerate(header):
        rc = raw_cols[j]
        name = hmap.get(schema._norm_header(h))
        if name is None:
            if h == "" and blank_column(rc):
                continue  # an empty trailing column Excel left behind
            table_error(
                "unknown_column",
                f"未知列“{rc}”，已忽略（表“{table.zh}”没有这一列）",
                f"unknown column '{rc}' ignored (table '{table.name}' has no such column)",
                value=rc,
                severity="warning",
            )
            continue
        if name in found:
            fatal = True
            table_error(
                "duplicate_column",
                f"列“{table.column(name).zh}”出现了两次（“{found[name]}”和“{h}”）",
                f"column '{name}' appears twice ('{found[name]}' and '{h}')",
                column=name,
                value=h,
            )
            continue
        found[name] = rc
    for c in table.columns:
        if c.name not in found and c.required:
            fatal = True
            table_error(
                "missing_column",
                f"表“{table.zh}”缺少必填列“{c.zh}”（{c.name}）",
                f"table '{table.name}' lacks the required column '{c.name}' ({c.zh})",
                column=c.name,
            )
    return found, fatal


def frame_from_records(
    table: schema.Table,
    records: list[list[str]],
    file: str,
    formulas: list[tuple[int, int, str, str]] = (),
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, dict[str, str], list[Problem]]:
    """Header + rows of text -> (typed frame, raw frame, headers, problems).

    The typed frame is None when the table cannot be used at all (no header,
    a required column missing, a column given twice). ``formulas``: the
    workbook cells holding a formula with no saved value (row from 1, column
    from 0, cell, formula; :func:`fpanalysis.io.read.uncached_formulas`), each
    an error naming its cell: its text read as empty would change the data.
    """
    problems: list[Problem] = []

    def table_error(rule, zh, en, column=None, value=None, severity="error"):
        problems.append(
            Problem(table.name, None, column, value, rule, zh, en, severity, None, file)
        )

    at = _header_row(table, records)
    if at is None:
        if any(any(c.strip() for c in r) for r in records[:HEADER_SEARCH_ROWS]):
            table_error(
                "no_header",
                f"前 {HEADER_SEARCH_ROWS} 行中找不到表头"
                f"（第 1 行为空，其余各行都不含表“{table.zh}”的列名）：请把表头放在第 1 行",
                f"no header row in the first {HEADER_SEARCH_ROWS} rows (row 1 is blank and no row "
                f"names a column of table '{table.name}'); put the header in row 1",
            )
        else:
            table_error(
                "empty_file",
                f"文件为空或第 1 行没有表头：表“{table.zh}”无法读取",
                f"the file is empty or row 1 has no header: table '{table.name}' cannot be read",
            )
        return None, None, {}, problems

    header = [h.strip().lstrip("\ufeff") for h in records[at]]
    if at > 0:
        # A header cell merged downwards (two-level header) is blank in the lower row:
        # take the known column name written above it.
        hmap_ = table.header_map()
        for j, h in enumerate(header):
            if h:
                continue
            for above in reversed(records[:at]):
                v = above[j].strip() if j < len(above) else ""
                if v and schema._norm_header(v) in hmap_:
                    header[j] = v
                    break
        above_zh, above_en = ("第 1 行", "row 1") if at == 1 else (f"第 1–{at} 行", f"rows 1-{at}")
        table_error(
            "header_row",
            f"表头在第 {at + 1} 行；其上的{above_zh}（标题等）已忽略",
            f"the header is row {at + 1}; {above_en} above it (a title) ignored",
            severity="note",
        )
    width = len(header)
    body = records[at + 1 :]
    # Keep row numbers; drop blank rows (not data) and pad short rows.
    rows, numbers, overflow = [], [], []
    for i, r in enumerate(body, start=at + 2):
        if not any(c.strip() for c in r):
            continue
        if len(r) > width:
            if any(c.strip() for c in r[width:]):
                overflow.append(i)
            r = r[:width]
        elif len(r) < width:
            r = r + [""] * (width - len(r))
        rows.append(r)
        numbers.append(i)
    index = pd.Index(numbers, dtype="int64", name="row")

    raw_cols = raw_column_names(header)
    raw = (
        pd.DataFrame(rows, columns=raw_cols, index=index, dtype="str")
        if rows
        else pd.DataFrame({c: pd.Series([], dtype="str") for c in raw_cols}, index=index)
    )

    for i in overflow:
        problems.append(
            Problem(
                table.name,
                i,
                None,
                None,
                "extra_cells",
                "本行单元格多于表头，多出的内容被忽略",
                "this row has more cells than the header; the extra cells are ignored",
                "warning",
                None,
                file,
            )
        )

    found, fatal = resolve_columns(
        table, header, raw_cols, lambda rc: not (raw[rc].str.strip() != "").any(), table_error
    )
    headers = {name: rc for name, rc in found.items()}
    if fatal:
        return None, raw, headers, problems

    typed: dict[str, pd.Series] = {}
    for c in table.columns:
        if c.name not in found:
            typed[c.name] = absent_column(c, index)
            continue
        src = raw[found[c.name]]
        values, bad = parse_column(src, c)
        if bad.any():
            for row, v in src[bad].items():
                zh, en = date_message(v) if c.type == "date" else TYPE_MESSAGES[c.type]
                problems.append(
                    Problem(table.name, int(row), c.name, v, c.type, zh, en, "error", None, file)
                )
        if c.type == "number":  # money: yuan, to the fen, never rounded (rulebook G4)
            values, money = money_checked(table, c, src, values, file)
            problems += money
        typed[c.name] = values.astype(c.dtype)
    frame = pd.DataFrame(typed, index=index)
    problems += _formula_problems(table, formulas, at, raw_cols, found, index, file)
    if problems:
        keys = row_keys(frame, table.name)
        problems = [
            p if p.row is None or p.key is not None else _with_key(p, keys.get(p.row))
            for p in problems
        ]
    return frame, raw, headers, problems


def _formula_problems(
    table: schema.Table,
    formulas,
    at: int,
    raw_cols: list[str],
    found: dict[str, str],
    index: pd.Index,
    file: str,
) -> list[Problem]:
    """A formula cell with no saved value: an error naming the cell (its row rejected)."""
    by_raw = {rc: name for name, rc in found.items()}
    out = []
    for row, col, cell, formula in formulas:
        zh = (
            f"单元格 {cell} 是公式（{formula}），没有保存计算结果（多半由脚本写入）："
            "请在 Excel 中打开并保存，或把公式换成它的值"
        )
        en = (
            f"cell {cell} holds a formula ({formula}) with no saved result (a script wrote it): "
            "open and save the workbook in Excel, or replace the formula by its value"
        )
        name = by_raw.get(raw_cols[col]) if col < len(raw_cols) else None
        if row in index:
            out.append(
                Problem(
                    table.name, row, name, formula, "formula_no_value", zh, en, "error", None, file
                )
            )
        elif row <= at + 1:  # the header (or a title above it): the whole table
            out.append(
                Problem(
                    table.name, None, None, formula, "formula_no_value", zh, en, "error", None, file
                )
            )
    return out


def _with_key(p: Problem, key: str | None) -> Problem:
    return dataclasses.replace(p, key=key or None)
