"""Masking of names and resident ID numbers (rulebook §7): a name keeps its first character
(``张**``), an ID number its first 6 and last 4 (``110105********002X``), in every output unless
the user asks otherwise (``--reveal-pii``); :func:`mask_frame` finds the columns holding them
under English or Chinese headers (declared in :mod:`fpanalysis.core.schema` as ``pii_kind``,
plus the output-only :data:`PII_NAME_COLUMNS` / :data:`PII_ID_COLUMNS`); a value of any other
column, or a word inside a text, shaped like an ID number (:data:`ID_SHAPE`) is masked as an ID
too (:func:`mask_text`), and :func:`mask_problem` masks what a validation problem quotes;
:func:`find_unmasked_ids` / :func:`find_names` scan text for what escaped (choices:
``docs/design.md``, "Masking").

Examples:
    >>> mask_name("张三丰"), mask_id_number("11010519491231002X")
    ('张**', '110105********002X')
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from fpanalysis.core import schema

if TYPE_CHECKING:
    from fpanalysis.core.dataset import Problem

# Output-only columns that hold names / ID numbers (analyses use these names).
_OUTPUT_NAME_COLUMNS = {
    "wife_name",
    "husband_name",
    "payee_name",
    "unit_head_name",
    "party_name",
    "approved_by",  # the staff member who approved a relief round (an audit field)
}
_OUTPUT_ID_COLUMNS = {"wife_id_number", "husband_id_number"}


def _pii_columns(kind: str) -> set[str]:
    return {c.name for t in schema.TABLES_LIST for c in t.columns if c.pii and c.pii_kind == kind}


def _pii_headers(kind: str, output_only: set[str]) -> set[str]:
    zh = {c.zh for t in schema.TABLES_LIST for c in t.columns if c.pii and c.pii_kind == kind}
    zh |= {schema.OUTPUT_COLUMNS[c] for c in output_only if c in schema.OUTPUT_COLUMNS}
    return zh


#: English names of columns holding personal names.
PII_NAME_COLUMNS: frozenset[str] = frozenset(_pii_columns("name") | _OUTPUT_NAME_COLUMNS)
#: English names of columns holding resident ID numbers.
PII_ID_COLUMNS: frozenset[str] = frozenset(_pii_columns("id_number") | _OUTPUT_ID_COLUMNS)
#: Chinese headers of the same columns (a localised frame is masked too).
PII_NAME_HEADERS: frozenset[str] = frozenset(_pii_headers("name", _OUTPUT_NAME_COLUMNS))
PII_ID_HEADERS: frozenset[str] = frozenset(_pii_headers("id_number", _OUTPUT_ID_COLUMNS))

# One pattern per kind; the callables decide the stars, so that a whole column is
# masked by one vectorised str.replace.
_ALL_RE = re.compile(r"^(.)(.*)$", re.DOTALL)
_ID_RE = re.compile(r"^(.{6})(.+)(.{4})$", re.DOTALL)


def _name_repl(m: re.Match) -> str:
    return m[1] + "*" * len(m[2]) if m[2] else "*"


def _id_repl(m: re.Match) -> str:
    return m[1] + "*" * len(m[2]) + m[3]


def _missing(s: Any) -> bool:
    try:
        return bool(pd.isna(s))
    except (TypeError, ValueError):
        return False


def mask_name(s: Any) -> Any:
    """Keep the first character of a name and star the rest.

    Examples:
        >>> mask_name("张三丰"), mask_name("王五"), mask_name("李"), mask_name("")
        ('张**', '王*', '*', '')
        >>> mask_name(float("nan"))
        nan
    """
    if _missing(s):
        return s
    return _ALL_RE.sub(_name_repl, str(s))


#: the forms a name may take on a public notice (rulebook §6 公示, parameter ``notice_name_mask``)
NAME_FORMS = ("first_and_last", "first_only")


def mask_name_as(s: Any, form: str = "first_and_last") -> Any:
    """A name as a public notice shows it.

    ``first_and_last``: the surname (first character) and the last character, the rest
    starred (张*三, the common practice); a two-character name keeps only its first
    (keeping the last would show all of it). ``first_only``: as :func:`mask_name` (张**).

    Examples:
        >>> [mask_name_as(n) for n in ("张小三", "欧阳娜娜", "王五", "李")]
        ['张*三', '欧**娜', '王*', '*']
        >>> mask_name_as("张小三", "first_only")
        '张**'
    """
    if form not in NAME_FORMS:
        raise ValueError(f"unknown name form {form!r}; one of {NAME_FORMS}")
    if _missing(s):
        return s
    s = str(s)
    if form == "first_only" or len(s) <= 2:
        return mask_name(s)
    return s[0] + "*" * (len(s) - 2) + s[-1]


def mask_id_number(s: Any) -> Any:
    """Keep the first 6 and last 4 characters of an ID number; star the rest.

    A value of 10 characters or fewer is starred entirely.

    Examples:
        >>> mask_id_number("11010519491231002X")
        '110105********002X'
        >>> mask_id_number("130503670401001"), mask_id_number("12345")
        ('130503*****1001', '*****')
    """
    if _missing(s):
        return s
    s = str(s)
    if len(s) <= 10:
        return "*" * len(s)
    return _ID_RE.sub(_id_repl, s)


def _mask_names_arrow(s: pd.Series) -> pd.Series:
    """:func:`mask_name` of each value of a ``str`` column, with Arrow's string kernels."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from fpanalysis.core.textnumbers import one_array

    a = one_array(pa.array(s))  # in one piece, as a column made from Python texts is
    text = a.type
    n = pc.utf8_length(a)
    rest = pc.max_element_wise(pc.subtract(n, 1), 0)
    starred = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(a, 0, 1),
        pc.binary_repeat(pa.scalar("*", text), rest),
        pa.scalar("", text),
    )
    one = pc.if_else(pc.equal(n, 1), pa.scalar("*", text), a)
    out = pc.if_else(pc.greater(n, 1), starred, one)
    return pd.Series(out, index=s.index, name=s.name, dtype=s.dtype)


def _mask_series(s: pd.Series, kind: str) -> pd.Series:
    if not (pd.api.types.is_string_dtype(s) and not pd.api.types.is_object_dtype(s)):
        # numbers typed into a spreadsheet, object columns: mask their text form
        s = s.astype("str").where(s.notna())
    if kind == "name":
        if s.dtype == "str":  # a province's names: the first character kept, the rest starred
            return _mask_names_arrow(s)
        return s.str.replace(_ALL_RE, _name_repl, regex=True)
    long = s.str.len() > 10
    starred = s.str.replace(_ALL_RE, lambda m: "*" * len(m[0]), regex=True)
    return s.str.replace(_ID_RE, _id_repl, regex=True).where(long | s.isna(), starred)


def _kind(label: Any) -> str | None:
    if label in PII_NAME_COLUMNS or label in PII_NAME_HEADERS:
        return "name"
    if label in PII_ID_COLUMNS or label in PII_ID_HEADERS:
        return "id_number"
    return None


#: The shape of a resident ID number, as a word of its own: 17 digits and a digit or ``X``
#: (18 characters), or 15 digits (the legacy form, rulebook §8).
ID_SHAPE = r"[0-9]{17}[0-9Xx]|[0-9]{15}"
_ID_WORD_RE = re.compile(rf"(?<![0-9A-Za-z])(?:{ID_SHAPE})(?![0-9A-Za-z])")
_ID_VALUE_RE = re.compile(rf"\s*(?:{ID_SHAPE})\s*")


def _id_word_repl(m: re.Match) -> str:
    return mask_id_number(m[0])


def looks_like_id(v: Any) -> bool:
    """Whether a value is shaped like a resident ID number (:data:`ID_SHAPE`).

    Examples:
        >>> [looks_like_id(v) for v in ["11010519491231002X", "130503670401001", "H0001", None]]
        [True, True, False, False]
    """
    return isinstance(v, str) and _ID_VALUE_RE.fullmatch(v) is not None


def id_shaped(s: pd.Series) -> pd.Series:
    """The cells of ``s`` shaped like a resident ID number (text cells only; missing: False).

    Examples:
        >>> id_shaped(pd.Series(["11010519491231002X", "H1", None])).tolist()
        [True, False, False]
    """
    if s.dtype == "str":  # vectorised: a province's key columns hold millions of values
        # a cell of fewer than 15 bytes is none (stripping only shortens it), nor one that
        # starts with a Latin letter (stripping keeps it, and a number starts with a digit):
        # only the others are matched, key columns holding codes like P00000_00000001
        long = _may_be_id_shaped(s)
        if long.all():
            return _text_id_shaped_cells(s)
        out = pd.Series(False, index=s.index)
        if long.any():
            out[long] = _text_id_shaped_cells(s[long]).to_numpy(dtype=bool)
        return out
    if not pd.api.types.is_object_dtype(s):
        return pd.Series(False, index=s.index)
    return s.map(looks_like_id).astype(bool)


def _may_be_id_shaped(s: pd.Series):
    """Which cells of a text column hold 15 bytes or more and do not start with an ASCII
    letter (read from the offsets and first bytes of each Arrow chunk in turn, the chunks not
    joined; missing: False)."""
    import numpy as np
    import pyarrow as pa

    from fpanalysis.core.textnumbers import text_layout

    arr = pa.array(s.astype(pd.StringDtype("pyarrow", na_value=float("nan"))).array)
    out = np.zeros(len(arr), dtype=bool)
    start = 0
    for chunk in arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]:
        offsets, data = text_layout(chunk)
        n = len(chunk)
        if len(data):
            some = offsets[1:] - offsets[:-1] >= 15
            if chunk.null_count:
                some &= chunk.is_valid().to_numpy(zero_copy_only=False)
            first = data[offsets[:-1][some]] | 0x20  # lower case for an ASCII letter
            out[start : start + n][some] = (first < ord("a")) | (first > ord("z"))
        start += n
    return out


def _text_id_shaped_cells(s: pd.Series) -> pd.Series:
    """:func:`id_shaped` of a text column, cell by cell (by pyarrow)."""
    return s.str.strip().str.fullmatch(ID_SHAPE).fillna(False).astype(bool)


def mask_text(text: Any) -> Any:
    """``text`` with every word shaped like an ID number masked (names are not found here).

    Examples:
        >>> mask_text("户 11010519491231002X 与上一名 130503670401001 相同；H0001 不变")
        '户 110105********002X 与上一名 130503*****1001 相同；H0001 不变'
    """
    if not isinstance(text, str):
        return text
    return _ID_WORD_RE.sub(_id_word_repl, text)


_DIGIT_RUN_RE = re.compile(r"[0-9]{15}")


#: bytes of text sifted at a time by :func:`_may_hold_digit_run` (its working arrays stay in
#: the processor's cache)
_SIFT_BYTES = 1 << 18


def _may_hold_digit_run(s: pd.Series) -> bool:
    """Whether some cell of a ``str`` column may hold a run of 15 ASCII digits
    (:data:`_DIGIT_RUN_RE`): ``False`` only when none does.

    Read from the Arrow data buffers, all the cells' bytes one after another, a
    block at a time: a run inside a cell is a run there (a run across two cells,
    or in the bytes of a missing one, only says "maybe", and the cells are then
    searched one by one). Several times faster than searching cell by cell for
    a province's reasons (hundreds of megabytes of text).

    Examples:
        >>> _may_hold_digit_run(pd.Series(["户 H00001_00091357", None], dtype="str"))
        False
        >>> _may_hold_digit_run(pd.Series(["证件 110105194912310021 号"], dtype="str"))
        True
        >>> _may_hold_digit_run(pd.Series(["12345678", "9012345"], dtype="str"))  # across
        True
    """
    import numpy as np

    from fpanalysis.core.dataset import text_bytes

    pieces = text_bytes(s)
    if pieces is None:  # pragma: no cover - not Arrow text: searched cell by cell
        return True
    # working arrays made once and written over block after block (fresh ones for each block
    # would be memory mapped and faulted in each time: seconds of system time at 2M people)
    codes = np.empty(_SIFT_BYTES + 14, np.uint8)
    runs = np.empty((2, _SIFT_BYTES + 14), bool)
    for data in pieces:
        for start in range(0, len(data), _SIFT_BYTES):
            # each block with the 14 bytes after it: a run starting in the block is whole in it
            block = data[start : start + _SIFT_BYTES + 14]
            n = len(block)
            if n < 15:
                break
            np.subtract(block, ord("0"), out=codes[:n])
            run = np.less(codes[:n], 10, out=runs[0, :n])  # ASCII digits
            # digits at i..i+1, then i..i+3, i..i+7, i..i+14: a run of 15 from i
            for k, step in enumerate((1, 2, 4, 7)):
                run = np.logical_and(
                    run[:-step], run[step:], out=runs[(k + 1) % 2, : len(run) - step]
                )
            if run.any():
                return True
    return False


def _mask_id_words(s: pd.Series) -> pd.Series:
    """A text column with every word shaped like an ID number masked (others untouched).

    Cells are first sifted for a run of 15 digits (vectorised on a string
    column: the whole column's bytes first, :func:`_may_hold_digit_run`, then
    cell by cell); only those are searched for ID-shaped words
    (:func:`mask_text`, the readable rule, on each).
    """
    if s.dtype == "str":
        if not _may_hold_digit_run(s):  # the usual case: no cell holds 15 digits in a row
            return s
        hit = s.str.contains(_DIGIT_RUN_RE.pattern, regex=True, na=False)
    elif pd.api.types.is_object_dtype(s):
        hit = s.map(lambda v: isinstance(v, str) and _DIGIT_RUN_RE.search(v) is not None)
    else:
        return s
    hit = hit.astype(bool)
    if not hit.any():
        return s
    out = s.astype(object).copy()
    out[hit] = out[hit].map(mask_text)
    return out.astype(s.dtype)


def _no_text(level: pd.Index) -> bool:
    """Whether an index level holds numbers or dates only (no text, so nothing ID-shaped)."""
    return pd.api.types.is_numeric_dtype(level.dtype) or pd.api.types.is_datetime64_any_dtype(
        level.dtype
    )


def _text_id_shaped(level: pd.Series) -> bool:
    """Whether an index level holds a value shaped like an ID number (a level of numbers or
    dates holds no text: not looked at cell by cell)."""
    return not _no_text(level) and bool(id_shaped(level.astype(object)).any())


def mask_frame(df: pd.DataFrame, reveal: bool = False) -> pd.DataFrame:
    """A copy of ``df`` with every PII column masked (rulebook §7).

    Columns are found by English name (:data:`PII_NAME_COLUMNS`,
    :data:`PII_ID_COLUMNS`) or Chinese header; index levels with such names
    are masked too. In every other text column (and index level), a value or
    a word shaped like an ID number is masked as an ID (rulebook §7: a key
    column holding ID numbers is personal information too).
    ``reveal=True`` returns an unmasked copy (``--reveal-pii``). Masking an
    already masked frame changes nothing.

    Examples:
        >>> df = pd.DataFrame({"姓名": ["张三丰"], "id_number": ["11010519491231002X"], "n": [1]})
        >>> mask_frame(df).to_dict("records")
        [{'姓名': '张**', 'id_number': '110105********002X', 'n': 1}]
        >>> mask_frame(df, reveal=True).iloc[0, 0]
        '张三丰'
        >>> mask_frame(pd.DataFrame({"household_id": ["11010519491231002X", "H2"]}))[
        ...     "household_id"].tolist()
        ['110105********002X', 'H2']
    """
    out = df.copy(deep=False)  # copy-on-write: a column is copied only when masked
    if reveal:
        return out
    for j, col in enumerate(out.columns):
        kind = _kind(col)
        # by position: a frame may repeat a header
        if kind is not None:
            out.isetitem(j, _mask_series(out.iloc[:, j], kind))
        else:
            out.isetitem(j, _mask_id_words(out.iloc[:, j]))
    names = list(out.index.names)
    kinds = [_kind(n) for n in names]
    if not any(kinds) and all(_no_text(out.index.get_level_values(j)) for j in range(len(names))):
        return out  # numbers or dates (a row number): nothing shaped like an ID to mask
    idx = out.index.to_frame(index=False)
    if any(kinds) or any(_text_id_shaped(idx.iloc[:, j]) for j in range(len(names))):
        for j, k in enumerate(kinds):
            col = idx.iloc[:, j]
            idx.isetitem(j, _mask_series(col, k) if k is not None else _mask_id_words(col))
        out.index = (
            pd.MultiIndex.from_frame(idx)
            if len(names) > 1
            else pd.Index(idx.iloc[:, 0], name=names[0])
        )
    return out


def mask_problem(problem: Problem) -> Problem:
    """A validation problem as anything but ``validate`` itself may show it (rulebook §7).

    The value it quotes is masked as its column's kind (a name, an ID number)
    or, in another column, as an ID when shaped like one; an ID-shaped key and
    ID-shaped words of its messages (the 18-character form of a legacy number)
    are masked too.

    Examples:
        >>> from fpanalysis.core.dataset import Problem
        >>> p = Problem("persons", 3, "id_number", "130503670401001", "legacy_15",
        ...             "已升级为 18 位：130503196704010012", "upgraded: 130503196704010012",
        ...             "warning", "P3")
        >>> mask_problem(p).text("en")
        "warning: persons row 3 [P3] column id_number value '130503*****1001': upgraded: \
130503********0012 (rule legacy_15)"
    """
    kind = _kind(problem.column) if problem.column else None
    value = problem.value
    if isinstance(value, str) and value:
        if kind == "name":
            value = mask_name(value)
        elif kind == "id_number" or looks_like_id(value):
            value = mask_id_number(value.strip())
        else:
            value = mask_text(value)
    key = problem.key
    if isinstance(key, str):
        key = "/".join(mask_text(k) for k in key.split("/"))
    return replace(
        problem,
        value=value,
        key=key,
        message_zh=mask_text(problem.message_zh),
        message_en=mask_text(problem.message_en),
    )


_ID_IN_TEXT_RE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[0-9Xx])(?![0-9A-Za-z])")


def find_unmasked_ids(text: str) -> list[str]:
    """Every 18-character ID number with a valid check character in ``text``.

    For the PII tests of outputs: a hit is a number that was not masked.
    Occurrences are returned in order (repeats included).

    Examples:
        >>> find_unmasked_ids("a 11010519491231002X, b 110105********002X, c 110105194912310021")
        ['11010519491231002X']
    """
    from fpanalysis.core.ids import check_char

    return [m for m in _ID_IN_TEXT_RE.findall(text) if check_char(m[:17]) == m[17].upper()]


def find_names(text: str, names: Iterable[Any]) -> list[str]:
    """The names in ``names`` (2 characters or more) that occur in ``text``.

    Returned once each, in the order of ``names``; missing values are skipped.

    Examples:
        >>> find_names("负责人：张**，联系人 李四", ["张三丰", "李四", "王", None])
        ['李四']
    """
    seen: dict[str, None] = {}
    for n in names:
        if _missing(n):
            continue
        n = str(n).strip()
        if len(n) >= 2 and n not in seen and n in text:
            seen[n] = None
    return list(seen)
