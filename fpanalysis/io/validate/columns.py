"""Per-column checks by pandera, with schemas built from :data:`fpanalysis.core.schema.TABLES`:
required values, enum and set values, bounds and unique keys (composite for
``check_attendance``; every copy of a duplicated key is rejected), run lazily so that every
failure is collected, each turned into a message a clerk can act on.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import pandas as pd

from fpanalysis.core import schema

if TYPE_CHECKING:
    import pandera.pandas as pa

__all__ = ["column_problems", "pandera_schema"]


def _set_check(codes: frozenset[str]):
    def check(v: str) -> bool:
        return all(p in codes for p in str(v).split(";"))

    return check


@functools.cache
def pandera_schema(table: str) -> pa.DataFrameSchema:
    """The pandera schema of ``table``, built from :data:`fpanalysis.core.schema.TABLES`.

    Checks required values, enum/set values, bounds and unique keys; types are
    already checked while reading (:mod:`fpanalysis.io`), so no dtype is forced.

    Examples:
        >>> s = pandera_schema("pregnancies")
        >>> [c.name for c in s.columns["gestation_weeks"].checks]
        ['in_range']
    """
    import pandera.pandas as pa  # only when validating: pandera takes a while to import

    t = schema.TABLES[table]
    cols = {}
    for c in t.columns:
        checks = []
        if c.type == "enum":
            checks.append(pa.Check.isin(list(c.codes), name="enum"))
        elif c.type == "set":
            checks.append(pa.Check(_set_check(frozenset(c.codes)), element_wise=True, name="set"))
        if c.min is not None and c.max is not None:
            checks.append(pa.Check.in_range(c.min, c.max, name="in_range"))
        elif c.min is not None:
            checks.append(pa.Check.ge(c.min, name="ge"))
        elif c.max is not None:
            checks.append(pa.Check.le(c.max, name="le"))
        single_key = t.key == (c.name,)
        cols[c.name] = pa.Column(
            nullable=not c.required,
            unique=single_key,
            report_duplicates="all",
            checks=checks,
            required=True,
        )
    unique = list(t.key) if len(t.key) > 1 else None
    return pa.DataFrameSchema(cols, unique=unique, report_duplicates="all", name=table)


def _allowed(c: schema.Column) -> tuple[str, str]:
    zh = "、".join(f"{lab}（{code}）" for code, lab in c.labels.items())
    en = ", ".join(f"{code} ({lab})" for code, lab in c.labels.items())
    return zh, en


def _bound_text(c: schema.Column) -> tuple[str, str]:
    def n(x):
        return int(x) if float(x).is_integer() else x

    if c.min is not None and c.max is not None:
        return f"应在 {n(c.min)} 到 {n(c.max)} 之间", f"must be between {n(c.min)} and {n(c.max)}"
    if c.min is not None:
        return f"应不小于 {n(c.min)}", f"must be at least {n(c.min)}"
    return f"应不大于 {n(c.max)}", f"must be at most {n(c.max)}"


def column_problems(table: str, df: pd.DataFrame) -> list[tuple[int, str | None, str, str, str]]:
    """Run the pandera schema lazily; (row, column, rule, zh, en) per failure."""
    from pandera.errors import SchemaErrors

    t = schema.TABLES[table]
    try:
        pandera_schema(table).validate(df, lazy=True)
        return []
    except SchemaErrors as exc:
        fc = exc.failure_cases
    out = []
    key_zh = "、".join(t.column(k).zh for k in t.key)
    for rec in fc.itertuples(index=False):
        if pd.isna(rec.index):
            continue  # a column- or frame-level failure has no row; none is expected here
        row = int(rec.index)
        check = str(rec.check)
        col = rec.column if isinstance(rec.column, str) and rec.column in t.names else None
        if check == "not_nullable":
            out.append((row, col, "required", "必填项为空", "a required value is empty"))
        elif check in ("field_uniqueness", "multiple_fields_uniqueness"):
            if len(t.key) > 1:
                if col is not None and col != t.key[0]:
                    continue  # one problem per row for a composite key
                out.append(
                    (
                        row,
                        t.key[0],
                        "unique",
                        f"{key_zh} 的组合重复：同一组合只能有一行",
                        f"duplicate key ({', '.join(t.key)}): each combination may appear once",
                    )
                )
            else:
                out.append(
                    (
                        row,
                        col,
                        "unique",
                        f"{key_zh}重复：每个编号只能出现一次",
                        f"duplicate key {t.key[0]}: each value may appear once",
                    )
                )
        elif check.startswith("enum") or check.startswith("isin"):
            zh, en = _allowed(t.column(col))
            out.append(
                (
                    row,
                    col,
                    "enum",
                    f"不是允许的选项，应为：{zh}",
                    f"not an allowed value; use one of: {en}",
                )
            )
        elif check.startswith("set"):
            zh, en = _allowed(t.column(col))
            out.append(
                (
                    row,
                    col,
                    "set",
                    f"含有不允许的选项，可选：{zh}（用 ; 或 、 分隔）",
                    f"holds a value that is not allowed; choose from: {en} (separated by ; or 、)",
                )
            )
        elif check.startswith(("in_range", "greater_than_or_equal_to", "less_than_or_equal_to")):
            zh, en = _bound_text(t.column(col))
            out.append((row, col, "range", f"超出范围：{zh}", f"out of range: {en}"))
        else:  # pragma: no cover - a check added to the schema without a message
            out.append((row, col, check, f"未通过检查 {check}", f"failed check {check}"))
    # uniqueness may be reported by both the column and the frame: once per (row, rule)
    return list(dict.fromkeys(out))
