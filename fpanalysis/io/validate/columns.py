"""Per-column checks built from :data:`fpanalysis.core.schema.TABLES`: required values, enum and
set values, bounds and unique keys (composite for ``check_attendance``; every copy of a duplicated
key is rejected), each failure turned into a message a clerk can act on. :func:`column_problems`
runs them vectorised over whole columns; :func:`pandera_problems` runs the same rules as a pandera
schema (:func:`pandera_schema`), the reference the vectorised checks are tested against.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from fpanalysis.core import schema

if TYPE_CHECKING:
    import pandera.pandas as pa

__all__ = ["column_problems", "pandera_problems", "pandera_schema"]


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


def pandera_problems(table: str, df: pd.DataFrame) -> list[tuple[int, str | None, str, str, str]]:
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


def _messages(t: schema.Table, col: str, rule: str) -> tuple[str, str]:
    if rule == "required":
        return "必填项为空", "a required value is empty"
    if rule == "unique":
        key_zh = "、".join(t.column(k).zh for k in t.key)
        if len(t.key) > 1:
            return (
                f"{key_zh} 的组合重复：同一组合只能有一行",
                f"duplicate key ({', '.join(t.key)}): each combination may appear once",
            )
        return (
            f"{key_zh}重复：每个编号只能出现一次",
            f"duplicate key {t.key[0]}: each value may appear once",
        )
    zh, en = _allowed(t.column(col)) if rule in ("enum", "set") else _bound_text(t.column(col))
    if rule == "enum":
        return f"不是允许的选项，应为：{zh}", f"not an allowed value; use one of: {en}"
    if rule == "set":
        return (
            f"含有不允许的选项，可选：{zh}（用 ; 或 、 分隔）",
            f"holds a value that is not allowed; choose from: {en} (separated by ; or 、)",
        )
    return f"超出范围：{zh}", f"out of range: {en}"


def _duplicated(df: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Rows whose values in ``columns`` appear in another row too (missing equals missing).

    Keys written in order cannot repeat; otherwise each row's key is read as one number
    (:func:`_row_numbers`) and the numbers that repeat are found by sorting them
    (:func:`_repeated_numbers`): the rows :func:`_sorted_duplicates`, the readable rule,
    finds by sorting the texts.

    Examples:
        >>> df = pd.DataFrame({"a": ["x", "y", "x", None, None], "b": ["1", "1", "1", "2", "2"]})
        >>> _duplicated(df, ["a"]).tolist(), _duplicated(df, ["a", "b"]).tolist()
        ([True, False, True, True, True], [True, False, True, True, True])
    """
    from fpanalysis.core.dataset import arrow_text
    from fpanalysis.core.textnumbers import one_array

    n = len(df)
    if n < 2:
        return np.zeros(n, dtype=bool)
    arrays = [arrow_text(df[c]) for c in columns]
    if _strictly_increasing(arrays):  # keys written in order, as usual: none can repeat
        return np.zeros(n, dtype=bool)
    numbers = _row_numbers(arrays)
    if numbers is None:  # too many distinct values for one 63-bit number a row
        return _sorted_duplicates([one_array(a) for a in arrays])  # (sorted quicker unchunked)
    return _repeated_numbers(numbers)


def _row_numbers(arrays: list) -> np.ndarray | None:
    """Each row's values in Arrow text ``arrays`` as one ``int64`` number, equal rows and only
    they having equal numbers: each column's numbers
    (:func:`~fpanalysis.core.textnumbers.text_numbers`: ids read as numbers, other text by a
    dictionary of its values) side by side, as the digits of a number whose places span each
    column's bound. ``None`` when those bounds multiplied reach 2**63.

    Examples:
        >>> import pyarrow as pa
        >>> _row_numbers([pa.array(["R1", "R2", "R1"]), pa.array(["P7", "P7", "P8"])]).tolist()
        [0, 2, 1]
    """
    from fpanalysis.core.textnumbers import text_numbers

    out = None
    bound = 1
    for a in arrays:
        numbers, size = text_numbers(a)
        bound *= max(size, 1)
        if bound >= 2**63:
            return None
        if out is None:
            out = numbers
        else:
            out *= size
            out += numbers
    return out


def _repeated_numbers(numbers: np.ndarray) -> np.ndarray:
    """Which of ``numbers`` another one equals: sorted, equal neighbours are the repeats, and a
    row is marked when its number is among them (none sought when none repeats, as usual).

    Examples:
        >>> _repeated_numbers(np.array([5, 3, 5, 9, 3, 1])).tolist()
        [True, True, True, False, True, False]
    """
    ordered = np.sort(numbers)
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return np.zeros(len(numbers), dtype=bool)
    return np.isin(numbers, ordered[1:][same])


def _sorted_duplicates(arrays: list) -> np.ndarray:
    """The readable rule of :func:`_duplicated` on Arrow ``arrays`` (one per key column): the
    rows sorted by the key, and equal neighbours are the duplicates."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(arrays[0])
    table = pa.table({f"k{i}": a for i, a in enumerate(arrays)})
    order = pc.sort_indices(table, sort_keys=[(f"k{i}", "ascending") for i in range(len(arrays))])
    same = np.ones(n - 1, dtype=bool)
    for a in arrays:
        srt = a.take(order)
        later, earlier = srt.slice(1), srt.slice(0, n - 1)
        eq = pc.equal(later, earlier).fill_null(False).to_numpy(zero_copy_only=False)
        both = (later.is_null().to_numpy(zero_copy_only=False)) & earlier.is_null().to_numpy(
            zero_copy_only=False
        )
        same &= eq | both
    if not same.any():
        return np.zeros(n, dtype=bool)
    dup = np.zeros(n, dtype=bool)
    dup[1:] |= same
    dup[:-1] |= same
    out = np.zeros(n, dtype=bool)
    out[order.to_numpy(zero_copy_only=False)] = dup
    return out


def _strictly_increasing(arrays: list) -> bool:
    """Whether the rows of these columns (none missing) each come before the next, comparing
    the first column, then the next where equal: then no two rows are equal."""
    import pyarrow.compute as pc

    n = len(arrays[0])
    if any(a.null_count for a in arrays):
        return False
    before = equal = None
    for i, a in enumerate(arrays):
        earlier, later = a.slice(0, n - 1), a.slice(1)
        less = pc.less(earlier, later)
        before = less if before is None else pc.or_(before, pc.and_(equal, less))
        if i == len(arrays) - 1:
            break
        equal = (
            pc.equal(earlier, later) if equal is None else pc.and_(equal, pc.equal(earlier, later))
        )
    return bool(pc.all(before).as_py())


def column_problems(
    table: str, df: pd.DataFrame, unique: bool = True
) -> list[tuple[int, str | None, str, str, str]]:
    """Every failure of the per-column checks, vectorised: (row, column, rule, zh, en).

    ``unique=False`` leaves out the duplicate keys (a table checked a part at a time: its keys
    are compared across the parts at the end, by :func:`unique_problems`).

    The same failures as :func:`pandera_problems`: a missing value fails only ``required``;
    a duplicated key fails every copy (missing keys are not compared; a composite key is named by
    its first column, and a row missing that column is not named).

    Examples:
        >>> units = schema.coerce("units", [
        ...     {"unit_id": "U1", "name": "办公室", "kind": "office"},
        ...     {"unit_id": "U1", "name": None, "kind": "section"}])
        >>> sorted((row, rule) for row, _, rule, _, _ in column_problems("units", units))
        [(2, 'enum'), (2, 'unique'), (3, 'required'), (3, 'unique')]
    """
    from fpanalysis.core.dataset import isin_keys

    t = schema.TABLES[table]
    out: list[tuple[int, str | None, str, str, str]] = []
    rows = df.index.to_numpy()

    def add(mask, col: str, rule: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            zh, en = _messages(t, col, rule)
            out.extend((int(r), col, rule, zh, en) for r in rows[mask])

    for c in t.columns:
        if c.name not in df.columns:
            continue
        s = df[c.name]
        known = s.notna().to_numpy(dtype=bool)
        if unique and t.key == (c.name,):
            dup = np.zeros(len(s), dtype=bool)
            if known.all():  # the usual key column: no copy of it without its missing cells
                dup = _duplicated(df, [c.name])
            elif known.any():
                dup[known] = _duplicated(df.loc[known, [c.name]], [c.name])
            add(dup, c.name, "unique")
        if c.required:
            add(~known, c.name, "required")
        if c.type == "enum":
            add(
                known & ~isin_keys(s, pd.Series(list(c.codes), dtype="str")).to_numpy(),
                c.name,
                "enum",
            )
        elif c.type == "set":
            codes = frozenset(c.codes)
            values, uniques = pd.factorize(s)
            ok = np.array([all(p in codes for p in str(v).split(";")) for v in uniques], dtype=bool)
            add(known & ~np.append(ok, True)[values], c.name, "set")
        if c.min is not None or c.max is not None:
            v = s.astype("float64").to_numpy(dtype="float64", na_value=np.nan)
            with np.errstate(invalid="ignore"):
                bad = np.zeros(len(v), dtype=bool)
                if c.min is not None:
                    bad |= v < c.min
                if c.max is not None:
                    bad |= v > c.max
            add(known & bad, c.name, "range")
    if unique and len(t.key) > 1 and all(k in df.columns for k in t.key):
        first = df[t.key[0]].notna().to_numpy(dtype=bool)
        add(_duplicated(df, list(t.key)) & first, t.key[0], "unique")
    return out


def unique_problems(table: str, keys: pd.DataFrame) -> list[tuple[int, str | None, str, str, str]]:
    """The duplicate keys :func:`column_problems` finds, from the key columns alone.

    Examples:
        >>> keys = pd.DataFrame({"unit_id": ["U1", "U2", "U1"]}, index=[2, 3, 4])
        >>> [(row, rule) for row, _, rule, _, _ in unique_problems("units", keys)]
        [(2, 'unique'), (4, 'unique')]
    """
    t = schema.TABLES[table]
    found = column_problems(table, keys[list(t.key)], unique=True)
    return [p for p in found if p[2] == "unique"]
