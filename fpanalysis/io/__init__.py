"""Reading datasets and writing outputs (DATA.md; docs/design.md "The in-memory dataset", "Outputs").

A **dataset** is a folder of CSV or Parquet files (one per table, the file stem
the English or Chinese table name) or one ``.xlsx`` workbook (one sheet per
table). Everything is first read as *text*, exactly as it stands in the input,
and then parsed column by column, so that a bad cell becomes a
:class:`Problem` naming its row instead of a crash. :func:`load_dataset` reads;
:func:`fpanalysis.io.validate.validate_dataset` checks the rules;
:func:`load_for_analysis` does both and refuses (or, with ``skip_invalid``,
trims) a dataset with errors, as POLICY.md's general conventions ask.

What the reader accepts (DATA.md "Types"):

- CSV in UTF-8, UTF-8 with BOM or GB18030/GBK (tried in that order, strictly);
  a file with NUL or other control bytes is refused as "not a text CSV".
- headers in English or Chinese (case, spaces and full-width brackets ignored);
  unknown columns are dropped with a warning, a missing required column is an
  error for the whole table.
- dates as ``2024-03-01``, ``2024/3/1``, ``2024.3.1``, ``2024年3月1日``,
  ``20240301``, an optional time after the date (ignored), Excel serial numbers
  (``45352``, counted from 1899-12-30, so serials before 1900-03-01 are off by
  Excel's leap-year bug: no such dates occur in this data) and real date cells;
- booleans 是/否, Y/N, yes/no, true/false, 1/0 (case-insensitive);
- whole numbers and numbers with surrounding spaces, full-width digits, a
  ``.0`` that Excel adds and ``,`` or space (also no-break space) thousands
  separators (``1,200``, ``1 200.50``, ``１２００``);
- CSV delimited by ``,``, ``;``, tab or ``|``: the delimiter that makes the most
  known headers in the first 10 lines wins (comma on a tie);
- a title (or a two-level merged header) above the header row: the header is
  the row among the first 10 that names the most known columns; rows above it
  are ignored with a note, and a blank header cell takes the name written above
  it (a header cell merged downwards);
- enum values as the English code (case-insensitive) or the Chinese label;
  set values separated by ``;`` ``；`` ``、`` ``,`` or ``，``.

Choices where the spec is silent (also in docs/design.md):

- Blank rows (every cell empty) are not data rows: they are skipped, keep their
  row number, and are not counted as rows read.
- Row numbers: header = row 1 for CSV and XLSX (the sheet's row). A Parquet file
  has no header row; its records are numbered the same way (first record = row 2)
  so that messages look alike for every format.
- Resident ID numbers (``id_number``, ``head_id_number``) are normalised with
  :func:`fpanalysis.core.ids.normalize_id_number` (spaces, full-width digits, ``x``);
  a 15-digit number is kept as it is (not upgraded).
- Output CSV: UTF-8 with BOM, ``\\n`` line ends (Excel and WPS open it
  correctly), dates as ``YYYY-MM-DD``.
- Formula injection: a text cell (or header) that begins with ``= + - @``, a
  tab, a carriage return, a line feed or the full-width ``＝ ＋ － ＠`` gets a
  leading ``'`` in CSV and XLSX outputs (OWASP's advice); numbers, dates and
  booleans are never changed. A carriage return inside a CSV text cell is
  written as a line feed (a lone CR is not quoted by the csv module, and
  readers split the row there).
- XLSX outputs carry fixed document dates (``SOURCE_DATE_EPOCH`` when set, else
  2000-01-01) and fixed zip entry times, so reruns give identical bytes.
- XLSX inputs: openpyxl parses the workbook's XML through ``defusedxml``
  (it switches this on by itself when defusedxml is installed, which
  ``pyproject.toml`` requires); :func:`load_dataset` checks that it is on and
  refuses to read a workbook otherwise. A workbook whose XML declares entities
  (billion laughs, external entities) is refused as ``unsafe_xml``; a part that
  inflates more than :data:`XLSX_BOMB_RATIO` times past
  :data:`XLSX_BOMB_MIN_BYTES`, or a workbook past :data:`XLSX_MAX_BYTES`, as
  ``xlsx_too_large``, before anything is inflated. A file that is no workbook
  (not a zip; a zip without ``xl/workbook.xml``; an old ``.xls``) says so.
- Impossible cell text never crashes the reader: a year outside 1678–2261 is
  "not a valid date"; a CSV the csv module cannot read (an unclosed quote
  swallowing the file past its 128 KiB cell limit) is an ``unreadable_file``
  error naming the line; control bytes anywhere in a CSV (not only in its
  first 64 KiB) refuse the file, naming the line.
- :func:`write_table` does not mask personal information: the caller masks with
  :func:`fpanalysis.core.privacy.mask_frame` (a rejects file must not be masked).

Examples:
    >>> parse_dates(pd.Series(["2024/3/1", "2024年3月1日", "45352", "2024-02-30"]))[0].dt.strftime("%Y-%m-%d").tolist()
    ['2024-03-01', '2024-03-01', '2024-03-01', nan]
    >>> parse_bools(pd.Series(["是", "N", "TRUE", "maybe"]))[0].tolist()
    [True, False, True, <NA>]
"""

from __future__ import annotations

import bisect
import csv
import dataclasses
import datetime as dt
import functools
import hashlib
import io as _io
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core import schema
from fpanalysis.core.clock import document_time
from fpanalysis.core.errors import DataError, UsageError

__all__ = [
    "Dataset",
    "Problem",
    "load_dataset",
    "load_for_analysis",
    "localize",
    "write_table",
    "parse_dates",
    "parse_bools",
    "parse_ints",
    "parse_numbers",
    "neutralize_formulas",
    "neutralize_text",
]

# Columns holding resident ID numbers: normalised on reading.
ID_NUMBER_COLUMNS = frozenset(
    {"id_number", "head_id_number", "wife_id_number", "husband_id_number"}
)

SEVERITY_LABELS = {
    "error": ("错误", "error"),
    "warning": ("警告", "warning"),
    "note": ("说明", "note"),
}


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One problem found in a dataset, as a clerk needs it to correct the input.

    Attributes:
        table: English table name (``None`` for the dataset as a whole).
        row: row number as the user sees it (header = 1); ``None`` for the whole table.
        column: English column name, if one is concerned.
        value: the cell as it stands in the input (raw text).
        rule: short rule name (``date``, ``enum``, ``required``, ``unique``,
            ``reference``, ``date_order``, ``id_check_char``...).
        message_zh, message_en: what is wrong, in Chinese and English.
        severity: ``error`` (rejects the row), ``warning`` or ``note``.
        key: the row's key value (``P0001``; ``R1/P0003`` for a composite key).
        file: the input file (``persons.csv``; ``book.xlsx[人员]`` for a sheet).
    """

    table: str | None
    row: int | None
    column: str | None
    value: str | None
    rule: str
    message_zh: str
    message_en: str
    severity: str = "error"
    key: str | None = None
    file: str | None = None

    def text(self, lang: str = "zh") -> str:
        """One line for a person: where, what, rule.

        Examples:
            >>> Problem("persons", 5, "sex", "X", "enum", "不是允许的选项", "not an allowed value",
            ...         key="P3", file="persons.csv").text("en")
            "error: persons.csv row 5 [P3] column sex value 'X': not an allowed value (rule enum)"
        """
        zh = lang == "zh"
        sev = SEVERITY_LABELS.get(self.severity, (self.severity, self.severity))[0 if zh else 1]
        where = []
        if self.file or self.table:
            where.append(self.file or self.table)
        if self.row is not None:
            where.append(f"第{self.row}行" if zh else f"row {self.row}")
        if self.key:
            where.append(f"[{self.key}]")
        if self.column:
            col = schema.zh_header(self.column, self.table) if zh else self.column
            where.append(f"列 {col}" if zh else f"column {self.column}")
        if self.value not in (None, ""):
            where.append(f"值 {self.value!r}" if zh else f"value {self.value!r}")
        msg = self.message_zh if zh else self.message_en
        rule = f"（规则 {self.rule}）" if zh else f" (rule {self.rule})"
        sep = "：" if zh else ": "
        return f"{sev}{sep}{' '.join(where)}{sep}{msg}{rule}" if where else f"{sev}{sep}{msg}{rule}"


# --------------------------------------------------------------------------- dataset


class Dataset(Mapping):
    """A loaded dataset: English table name -> typed DataFrame (docs/design.md).

    Attributes:
        source: the folder or workbook read.
        files: table -> the file it came from (``persons.csv``, ``book.xlsx[人员]``).
        sha256: file name -> SHA-256 hex of every input file read (provenance).
        raw: table -> the rows as text exactly as in the input (all original
            columns under their original headers, index = row number).
        headers: table -> {English column: header as written in the input}.
        problems: problems found while reading (types, headers, files).
        absent: known tables asked for and not in the dataset.
        skipped: table -> rows left out by ``load_for_analysis(skip_invalid=True)``.
        messages: lines for a command to print (rows left out, warnings), in
            the language asked of :func:`load_for_analysis`.
        parts: table -> [(first row, last row, part file), ...] for a table
            read from a folder of Parquet parts (rows numbered on across parts).
    """

    def __init__(
        self,
        frames: Mapping[str, pd.DataFrame],
        *,
        source: Path | str | None = None,
        files: Mapping[str, str] | None = None,
        sha256: Mapping[str, str] | None = None,
        raw: Mapping[str, pd.DataFrame] | None = None,
        headers: Mapping[str, Mapping[str, str]] | None = None,
        problems: Iterable[Problem] = (),
        absent: Iterable[str] = (),
        skipped: Mapping[str, int] | None = None,
        parts: Mapping[str, list[tuple[int, int, str]]] | None = None,
    ) -> None:
        self._frames = dict(frames)
        self.source = Path(source) if source is not None else None
        self.files = dict(files or {})
        self.sha256 = dict(sha256 or {})
        self.raw = dict(raw or {})
        self.headers = {k: dict(v) for k, v in (headers or {}).items()}
        self.problems = list(problems)
        self.absent = tuple(absent)
        self.skipped = dict(skipped or {})
        self.parts = {k: list(v) for k, v in (parts or {}).items()}
        self.messages: list[str] = []

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self._frames[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._frames)

    def __len__(self) -> int:
        return len(self._frames)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self._frames.items())
        return f"Dataset({self.source}: {sizes})"

    def replace_frames(self, frames: Mapping[str, pd.DataFrame]) -> Dataset:
        """A copy with other frames and the same provenance."""
        out = Dataset(
            frames,
            source=self.source,
            files=self.files,
            sha256=self.sha256,
            raw=self.raw,
            headers=self.headers,
            problems=self.problems,
            absent=self.absent,
            skipped=self.skipped,
            parts=self.parts,
        )
        out.messages = list(self.messages)
        return out

    def file_of(self, table: str | None, row: int | None = None) -> str | None:
        """The input file a table came from (for messages).

        For a table read from a folder of Parquet parts, ``row`` picks the
        part file that holds it (``persons/part-00001.parquet``); without a
        row it is the folder (``persons/``).
        """
        if table is None:
            return self.source.name if self.source else None
        spans = self.parts.get(table) if row is not None else None
        if spans:
            i = bisect.bisect_right([s[0] for s in spans], row) - 1
            if i >= 0 and spans[i][0] <= row <= spans[i][1]:
                return spans[i][2]
        return self.files.get(table)


# --------------------------------------------------------------------------- cell parsers
#
# Each parser takes a Series of text (missing = NaN) and returns (parsed, bad): ``bad``
# marks cells that hold something that is not a value of the type. Vectorised: these
# run over whole columns of large tables.

_DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL_RE = re.compile(r"^\d{1,5}(?:\.\d+)?$")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Thousands separators: "," or a space (after NFKC a no-break, thin or full-width space is
# a plain space), the same one throughout the number: 1,200 / 1 200.50; "1 2 0 0" is refused.
_INT_RE = re.compile(r"^[+-]?(?:\d+|\d{1,3}(?:,\d{3})+|\d{1,3}(?: \d{3})+)(?:\.0*)?$")
_NUMBER_RE = re.compile(
    r"^[+-]?(?:\d+|\d{1,3}(?:,\d{3})+|\d{1,3}(?: \d{3})+)(?:\.\d*)?$|^[+-]?\.\d+$"
)
# Years a datetime64[ns] can hold; a date outside is "not a valid date", not a crash.
_YEAR_MIN, _YEAR_MAX = 1678, 2261
# Invisible characters that copy-and-paste from web pages and chat tools leaves around a cell.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_TRUE = frozenset({"是", "y", "yes", "true", "t", "1", "1.0"})
_FALSE = frozenset({"否", "n", "no", "false", "f", "0", "0.0"})
_SET_SPLIT = r"\s*[;；、,，]\s*"


def _text(s: pd.Series) -> pd.Series:
    """Strip (Unicode whitespace, full-width space, NBSP); empty -> NaN."""
    s = s.astype("str").str.strip().str.strip(_INVISIBLE).str.strip()
    return s.where(s.notna() & (s != ""))


def _nfkc(s: pd.Series) -> pd.Series:
    """Full-width digits and letters -> ASCII, then strip."""
    # astype first: an all-empty column may arrive as floats (NaN), which has no .str
    return _text(s.astype("str").str.normalize("NFKC"))


def parse_dates(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse a text column of dates into ``datetime64[ns]``.

    Returns:
        (dates, bad): ``bad`` is True where a non-empty cell is not a date.

    Examples:
        >>> d, bad = parse_dates(pd.Series(["2024-3-1", "", "1/3/2024", "2024-03-01 00:00:00"]))
        >>> d.dt.strftime("%Y-%m-%d").tolist(), bad.tolist()
        (['2024-03-01', nan, nan, '2024-03-01'], [False, False, True, False])
    """
    t = _nfkc(s)
    parts = t.str.extract(_DATE_RE)
    compact = t.str.extract(_COMPACT_DATE_RE)
    parts = parts.fillna(compact)
    ymd = parts.apply(pd.to_numeric, errors="coerce")
    ymd.columns = ["year", "month", "day"]
    has = ymd.notna().all(axis=1) & ymd["year"].between(_YEAR_MIN, _YEAR_MAX)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    if has.any():
        good = ymd[has].astype("int64")
        # Out-of-range parts (2024-02-30, month 13) become NaT, and so "bad".
        out[has] = pd.to_datetime(good, errors="coerce").astype("datetime64[ns]")
    serial = t.notna() & ~has & t.str.fullmatch(_SERIAL_RE).fillna(False).astype(bool)
    if serial.any():
        days = np.floor(pd.to_numeric(t[serial]).astype("float64"))
        out[serial] = (_EXCEL_EPOCH + pd.to_timedelta(days, unit="D")).astype("datetime64[ns]")
    bad = t.notna() & out.isna()
    return out, bad


def parse_bools(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse 是/否, Y/N, yes/no, true/false, 1/0 into nullable ``boolean``.

    Examples:
        >>> b, bad = parse_bools(pd.Series(["否", "y", None, "x"]))
        >>> b.tolist(), bad.tolist()
        ([False, True, <NA>, <NA>], [False, False, False, True])
    """
    t = _nfkc(s).str.lower()
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[t.isin(_TRUE)] = True
    out[t.isin(_FALSE)] = False
    bad = t.notna() & out.isna()
    return out, bad


def parse_ints(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse whole numbers (``12``, `` 12 ``, ``12.0``, ``1,200``) into ``Int64``.

    Examples:
        >>> i, bad = parse_ints(pd.Series([" 3 ", "4.0", "4.5", "", "x"]))
        >>> i.tolist(), bad.tolist()
        ([3, 4, <NA>, <NA>, <NA>], [False, False, True, False, True])
    """
    t = _nfkc(s)
    ok = t.str.fullmatch(_INT_RE).fillna(False).astype(bool)
    num = pd.to_numeric(t.where(ok).str.replace(r"[, ]", "", regex=True), errors="coerce")
    # Past 2**53 a float loses digits: such a number is not a count we use, so refuse it.
    ok &= num.abs().lt(2**53).fillna(False).astype(bool)
    out = pd.Series(pd.NA, index=s.index, dtype="Int64")
    if ok.any():
        out[ok] = num[ok].astype("float64").round().astype("int64")
    bad = t.notna() & ~ok
    return out, bad


def parse_numbers(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse numbers (yuan) into ``float64``; thousands separators allowed.

    Examples:
        >>> x, bad = parse_numbers(pd.Series(["1,234.50", " 7 ", "abc", "inf"]))
        >>> x.tolist()[:2], bad.tolist()
        ([1234.5, 7.0], [False, False, True, True])
    """
    t = _nfkc(s)
    ok = t.str.fullmatch(_NUMBER_RE).fillna(False).astype(bool)
    num = pd.to_numeric(t.where(ok).str.replace(r"[, ]", "", regex=True), errors="coerce")
    out = num.astype("float64").where(ok)
    bad = t.notna() & out.isna()
    return out, bad


def parse_enum(s: pd.Series, col: schema.Column) -> pd.Series:
    """Chinese labels and codes (case-insensitive) -> the English code.

    An unknown value is kept as written, so that validation reports it.

    Examples:
        >>> parse_enum(pd.Series(["女", "m", "X"]), schema.TABLES["persons"].column("sex")).tolist()
        ['F', 'M', 'X']
    """
    t = _nfkc(s)
    lookup = {}
    for code, label in col.labels.items():
        lookup[unicodedata.normalize("NFKC", label)] = code
        lookup[code.lower()] = code
    mapped = t.str.lower().map(lookup)
    mapped = mapped.where(mapped.notna(), t.map(lookup))
    return mapped.where(mapped.notna(), t).astype("str")


def parse_set(s: pd.Series, col: schema.Column) -> pd.Series:
    """Several enum values in one cell -> English codes, sorted, joined by ``;``.

    Examples:
        >>> parse_set(pd.Series(["寡、残", "orphan", None]),
        ...           schema.TABLES["households"].column("special_groups")).tolist()
        ['disabled;widow', 'orphan', nan]
    """
    t = _nfkc(s)
    parts = t.str.split(_SET_SPLIT, regex=True).explode()
    parts = parts[parts.notna() & (parts != "")]
    codes = parse_enum(parts, col)
    joined = codes.groupby(level=0, sort=False).agg(lambda v: ";".join(sorted(set(v))))
    out = pd.Series(np.nan, index=s.index, dtype="str")
    if len(joined):
        # explode keeps duplicate index labels; rows are unique labels here
        out.loc[joined.index] = joined.to_numpy()
    return out


def _parse_column(raw: pd.Series, col: schema.Column) -> tuple[pd.Series, pd.Series]:
    """Raw text -> typed column of ``col``'s dtype, with the mask of unparseable cells.

    Each distinct text is parsed once (a column of 200,000 survey dates holds a
    few thousand days), then spread back over the rows.
    """
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    values, bad = _parse_values(pd.Series(uniques, dtype="str"), col)
    values = values.reindex(codes)
    bad = bad.reindex(codes, fill_value=False)
    values.index = raw.index
    bad.index = raw.index
    return values.astype(col.dtype), bad.astype(bool)


def _parse_values(raw: pd.Series, col: schema.Column) -> tuple[pd.Series, pd.Series]:
    no_bad = pd.Series(False, index=raw.index)
    if col.type == "date":
        return parse_dates(raw)
    if col.type == "bool":
        return parse_bools(raw)
    if col.type == "int":
        return parse_ints(raw)
    if col.type == "number":
        return parse_numbers(raw)
    if col.type == "enum":
        return parse_enum(raw, col), no_bad
    if col.type == "set":
        return parse_set(raw, col), no_bad
    if col.type == "id":
        return _nfkc(raw).astype("str"), no_bad
    t = _text(raw).astype("str")
    if col.name in ID_NUMBER_COLUMNS:
        t = _normalize_id_numbers(t)
    return t, no_bad


@functools.cache
def _unicode_digits() -> dict[int, str]:
    """Every Unicode decimal digit that is not ASCII -> its ASCII digit (for ``str.translate``)."""
    import sys

    out = {}
    for cp in range(128, sys.maxunicode + 1):
        c = chr(cp)
        if unicodedata.category(c) == "Nd":
            out[cp] = str(unicodedata.digit(c))
    return out


def _normalize_id_numbers(s: pd.Series) -> pd.Series:
    from fpanalysis.core import ids  # the ID rules live there (POLICY.md §8)

    # a number already in the canonical form (17 digits and a digit or X) is left as it is:
    # only the others go through the normaliser one by one (a province has millions of rows)
    # [0-9], not \d: \d also matches full-width digits, which must be normalised
    canonical = s.str.fullmatch(r"[0-9]{17}[0-9X]").fillna(False).astype(bool)
    if canonical.all():
        return s.astype("str")
    uniq = s[~canonical].dropna().unique()
    # other scripts' decimal digits (Arabic-Indic ٣, Devanagari ३...) -> ASCII first: Python's
    # int() reads them, so they would otherwise pass the check character unnoticed
    mapping = {v: ids.normalize_id_number(str(v).translate(_unicode_digits())) for v in uniq}
    out = s.astype(object).copy()
    out[~canonical] = s[~canonical].map(mapping)
    return out.astype("str")


_TYPE_MESSAGES = {
    "date": (
        "不是有效日期，请写成 YYYY-MM-DD（如 2024-03-01）",
        "not a valid date; write YYYY-MM-DD (e.g. 2024-03-01)",
    ),
    "bool": ("不是 是/否，请填 是 或 否", "not yes/no; write 是/否, Y/N, true/false or 1/0"),
    "int": ("不是整数", "not a whole number"),
    "number": ("不是数字", "not a number"),
}


# --------------------------------------------------------------------------- reading files


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def decode_csv_bytes(data: bytes, file: str) -> str:
    """Decode a CSV file's bytes: UTF-8 (with or without BOM), else GB18030.

    Raises:
        DataError: the bytes are not text in either encoding (a binary file, a
            UTF-16 "Unicode text" export, a renamed workbook).
    """
    # The whole file, not just its head: a NUL deep in a file would otherwise end up inside
    # a key or a name (C-speed search: about 0.1 s for 60 MB).
    found = _CONTROL.search(data)
    if found:
        line = data.count(b"\n", 0, found.start()) + 1
        where_zh, where_en = ("", "") if line == 1 else (f"第 {line} 行起", f" from line {line}")
        raise DataError(
            f"不是文本 CSV 文件（{where_zh}含二进制内容）。请在 Excel 中“另存为 CSV UTF-8（逗号分隔）”后再试",
            f"not a text CSV file (binary content{where_en}). Save it from Excel as 'CSV UTF-8 "
            "(comma delimited)'",
            file=file,
            row=None if line == 1 else line,
            rule="unreadable_file",
        )
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DataError(
        "无法识别文件编码（既不是 UTF-8 也不是 GB18030/GBK）。请另存为 CSV UTF-8",
        "cannot read the file's encoding (neither UTF-8 nor GB18030/GBK); save it as CSV UTF-8",
        file=file,
        rule="unreadable_file",
    )


# How many rows from the top are searched for the header row (title rows above it).
HEADER_SEARCH_ROWS = 10
_DELIMITERS = (",", ";", "\t", "|")


@functools.cache
def _known_headers() -> frozenset[str]:
    """Every accepted header of every table, normalised (for delimiter detection)."""
    return frozenset(h for t in schema.TABLES_LIST for h in t.header_map())


def _detect_delimiter(text: str) -> str:
    r"""The delimiter that splits the first lines into the most known headers.

    A semicolon or tab file (Excel's "CSV" in some locales, a pasted table) is
    read like a comma one. On a tie (no known header at all) the old rule
    stands: tab when the first line has a tab and no comma, else comma.

    Examples:
        >>> _detect_delimiter("单位编号;单位名称;单位类型\nU1;办公室,一;股室\n")
        ';'
        >>> _detect_delimiter("a,b\n1,2\n")
        ','
    """
    head = "\n".join(text.split("\n", HEADER_SEARCH_ROWS)[:HEADER_SEARCH_ROWS])
    known = _known_headers()
    first = text.split("\n", 1)[0]
    best = "\t" if ("\t" in first and "," not in first) else ","
    best_score = -1
    for d in (best, *(x for x in _DELIMITERS if x != best)):
        try:
            rows = list(csv.reader(_io.StringIO(head, newline=""), delimiter=d))
        except csv.Error:
            continue
        score = max((len({schema._norm_header(c) for c in r} & known) for r in rows), default=0)
        if score > best_score:
            best, best_score = d, score
    return best


def _records_csv(path: Path) -> list[list[str]]:
    text = decode_csv_bytes(path.read_bytes(), path.name)
    delimiter = _detect_delimiter(text)
    # csv keeps a quoted line break inside its cell: one record = one row in Excel.
    reader = csv.reader(_io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [list(r) for r in reader]
    except csv.Error as exc:
        # e.g. a cell over csv's field limit (128 KiB): an unclosed quote swallowed the file
        raise DataError(
            f"CSV 第 {reader.line_num} 行附近无法读取（多半是引号未闭合，或单元格过长）：{exc}",
            f"CSV cannot be read near line {reader.line_num} (most likely an unclosed quote "
            f"or an overlong cell): {exc}",
            file=path.name,
            row=reader.line_num,
            rule="unreadable_file",
        ) from None


def _cell_text(v: Any) -> str:
    """A cell value from openpyxl or Parquet as the text a person would type."""
    if v is None:
        return ""
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, dt.datetime | pd.Timestamp):
        if pd.isna(v):
            return ""
        if (v.hour, v.minute, v.second, v.microsecond) == (0, 0, 0, 0):
            return v.strftime("%Y-%m-%d")
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.isoformat()
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        if np.isnan(v):
            return ""
        if float(v).is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(float(v))
    return str(v)


def _check_defused() -> None:
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:  # pragma: no cover - defusedxml is a dependency
        raise DataError(
            "未安装 defusedxml，出于安全原因不读取 xlsx 文件",
            "defusedxml is not active; refusing to parse an xlsx file for safety",
            rule="unsafe_xml",
        )


# Zip-bomb limits for .xlsx input: a part inflating past XLSX_BOMB_RATIO times its compressed
# size (a real sheet compresses 5-20 times, a bomb about 1000) once above XLSX_BOMB_MIN_BYTES,
# or a workbook inflating past XLSX_MAX_BYTES in all (Excel's own 1,048,576 rows stay far below).
XLSX_BOMB_RATIO = 200
XLSX_BOMB_MIN_BYTES = 64 * 2**20
XLSX_MAX_BYTES = 4 * 2**30


def _not_a_workbook(path: Path) -> DataError | None:
    """Why ``path`` is not an .xlsx workbook, judged from its bytes (None if it may be one)."""
    with path.open("rb") as f:
        magic = f.read(8)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: Excel 97-2003 .xls, or an encrypted .xlsx
        return DataError(
            "无法打开 Excel 工作簿：这是旧版 Excel（.xls）文件或加密的工作簿：请在 Excel 中取消密码并“另存为 .xlsx”",
            "cannot open the Excel workbook: this is an old Excel (.xls) file or an encrypted workbook: remove the password "
            "and 'Save As' .xlsx in Excel",
            file=path.name,
            rule="unreadable_file",
        )
    if not zipfile.is_zipfile(path):
        return DataError(
            "无法打开 Excel 工作簿：不是 .xlsx（.xlsx 文件其实是 zip 压缩包，这个文件不是）：文件损坏，或是改了扩展名的其他文件",
            "cannot open the Excel workbook: not an .xlsx (an .xlsx file is a zip archive; this one is not): the file is "
            "damaged or another kind of file renamed",
            file=path.name,
            rule="unreadable_file",
        )
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError):
        infos = []
    if "xl/workbook.xml" not in {i.filename for i in infos}:
        return DataError(
            "无法打开 Excel 工作簿：是 zip 压缩包但不是工作簿（没有 xl/workbook.xml）",
            "cannot open the Excel workbook: a zip archive but not a workbook (no xl/workbook.xml)",
            file=path.name,
            rule="unreadable_file",
        )
    # A decompression bomb: the sizes the zip declares bound what zipfile will inflate.
    total = sum(i.file_size for i in infos)
    bomb = [
        i
        for i in infos
        if i.file_size > XLSX_BOMB_MIN_BYTES
        and i.file_size > XLSX_BOMB_RATIO * max(i.compress_size, 1)
    ]
    if bomb or total > XLSX_MAX_BYTES:
        mb = total // 2**20
        return DataError(
            f"无法打开 Excel 工作簿：解压后有 {mb} MB"
            + ("，压缩比异常（疑似“压缩炸弹”）" if bomb else "，超出可在内存中读取的大小")
            + "。大表请导出为 CSV 或 Parquet 后再读",
            f"cannot open the Excel workbook: it inflates to {mb} MB"
            + (
                " at an abnormal compression ratio (a zip bomb?)"
                if bomb
                else ", more than can be read in memory"
            )
            + ". Export a large table as CSV or Parquet instead",
            file=path.name,
            value=bomb[0].filename if bomb else None,
            rule="xlsx_too_large",
        )
    return None


def _open_workbook(path: Path):
    import openpyxl

    _check_defused()
    bad = _not_a_workbook(path)
    if bad is not None:
        raise bad
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        cause: BaseException | None = exc
        while cause is not None:
            # defusedxml refuses DTDs/entities (billion laughs, external entities) before
            # expanding anything: say so, rather than "damaged".
            if type(cause).__module__.startswith("defusedxml"):
                raise DataError(
                    "无法打开 Excel 工作簿：工作簿的 XML 含有实体声明（可能是“XML 炸弹”或外部实体攻击），出于安全原因拒绝读取。"
                    "请在 Excel 中打开并另存为新的 .xlsx",
                    "cannot open the Excel workbook: its XML declares entities (an XML bomb or external-entity attack); "
                    "refused for safety. Open it in Excel and save it as a new .xlsx",
                    file=path.name,
                    value=type(cause).__name__,
                    rule="unsafe_xml",
                ) from None
            cause = cause.__cause__ or cause.__context__
        raise DataError(
            f"无法打开 Excel 工作簿（文件损坏或不是 .xlsx）：{type(exc).__name__}",
            f"cannot open the Excel workbook (damaged or not .xlsx): {type(exc).__name__}",
            file=path.name,
            rule="unreadable_file",
        ) from None


def _records_sheet(ws) -> list[list[str]]:
    # A workbook's recorded dimension may be wrong (some tools write A1): forget it and
    # read every row. iter_rows still yields the missing (empty) rows, so the position
    # is the sheet's row number; rows are ragged and padded later.
    ws.reset_dimensions()
    return [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]


def _records_parquet(path: Path, shown: str | None = None) -> list[list[str]]:
    try:
        df = pd.read_parquet(path)
    except Exception as exc:
        raise DataError(
            f"无法读取 Parquet 文件：{type(exc).__name__}",
            f"cannot read the Parquet file: {type(exc).__name__}",
            file=shown or path.name,
            rule="unreadable_file",
        ) from None
    header = [str(c) for c in df.columns]
    cols = [_parquet_text(df.iloc[:, j]).tolist() for j in range(df.shape[1])]
    return [header, *map(list, zip(*cols, strict=True))] if cols else [header]


def _parquet_text(s: pd.Series) -> pd.Series:
    """A Parquet column as the text :func:`_cell_text` gives each cell, by whole columns.

    Strings, booleans, integers and whole floats are converted by vectorised
    operations (a province's tables have millions of rows); other values (dates
    as objects, times, mixed columns) cell by cell.
    """
    missing = s.isna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.strftime("%Y-%m-%d").fillna("").astype(str)
    if pd.api.types.is_string_dtype(s) and not pd.api.types.is_object_dtype(s):
        return s.fillna("").astype(str)
    if pd.api.types.is_bool_dtype(s):
        txt = np.where(s.fillna(False).to_numpy(dtype=bool), "true", "false")
        return pd.Series(np.where(missing, "", txt), index=s.index, dtype=object)
    if pd.api.types.is_integer_dtype(s):
        vals = s.fillna(0).to_numpy(dtype="int64").astype(str)
        return pd.Series(np.where(missing, "", vals), index=s.index, dtype=object)
    if pd.api.types.is_float_dtype(s):
        v = s.to_numpy(dtype="float64", na_value=np.nan)
        whole = np.isfinite(v) & (np.abs(v) < 1e15)
        whole[whole] = v[whole] == np.floor(v[whole])
        out = np.full(v.shape, "", dtype=object)
        out[whole] = v[whole].astype("int64").astype(str)
        other = ~whole & ~np.isnan(v)
        out[other] = [repr(float(x)) for x in v[other]]  # rare: non-whole amounts
        return pd.Series(out, index=s.index, dtype=object)
    obj = s.astype(object)
    return obj.where(s.notna(), None).map(_cell_text).astype(str)


# --------------------------------------------------------------------------- records -> frames


def _header_row(table: schema.Table, records: list[list[str]]) -> int | None:
    """The index of the header row: row 1 unless a lower row names more known columns.

    Only the first :data:`HEADER_SEARCH_ROWS` rows are searched (a title, a
    blank line, the upper level of a merged two-level header). ``None`` when
    row 1 is blank and no row names a column.

    Examples:
        >>> t = schema.TABLES["units"]
        >>> _header_row(t, [["某县单位名单"], [], ["单位编号", "单位名称", "单位类型"], ["U1", "a", "股室"]])
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


def _frame_from_records(
    table: schema.Table, records: list[list[str]], file: str
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, dict[str, str], list[Problem]]:
    """Header + rows of text -> (typed frame, raw frame, headers, problems).

    The typed frame is None when the table cannot be used at all (no header,
    a required column missing, a column given twice).
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
                f"前 {HEADER_SEARCH_ROWS} 行中找不到表头（第 1 行为空，其余各行都不含表“{table.zh}”的列名）："
                "请把表头放在第 1 行",
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

    # Raw frame: original headers made unique (a blank header gets a placeholder).
    raw_cols, seen = [], {}
    for j, h in enumerate(header):
        name = h or f"(col{j + 1})"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        raw_cols.append(name)
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

    hmap = table.header_map()
    found: dict[str, str] = {}
    fatal = False
    for j, h in enumerate(header):
        rc = raw_cols[j]
        name = hmap.get(schema._norm_header(h))
        if name is None:
            if h == "" and not (raw[rc].str.strip() != "").any():
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
    headers = {name: rc for name, rc in found.items()}
    if fatal:
        return None, raw, headers, problems

    typed: dict[str, pd.Series] = {}
    for c in table.columns:
        if c.name not in found:
            typed[c.name] = pd.Series(
                np.nan if c.dtype != "boolean" else pd.NA, index=index
            ).astype(c.dtype)
            continue
        src = raw[found[c.name]]
        values, bad = _parse_column(src, c)
        typed[c.name] = values.astype(c.dtype)
        if bad.any():
            zh, en = _TYPE_MESSAGES[c.type]
            for row, v in src[bad].items():
                problems.append(
                    Problem(table.name, int(row), c.name, v, c.type, zh, en, "error", None, file)
                )
    frame = pd.DataFrame(typed, index=index)
    if problems:
        keys = row_keys(frame, table.name)
        problems = [
            p if p.row is None or p.key is not None else _with_key(p, keys.get(p.row))
            for p in problems
        ]
    return frame, raw, headers, problems


def _with_key(p: Problem, key: str | None) -> Problem:
    return dataclasses.replace(p, key=key or None)


def row_keys(frame: pd.DataFrame, table: str) -> pd.Series:
    """The key value of each row as text (``R1/P0003`` for a composite key).

    Examples:
        >>> df = schema.coerce("check_attendance", [{"round_id": "R1", "person_id": "P3",
        ...                                          "attended_date": "2024-03-02"}])
        >>> row_keys(df, "check_attendance").tolist()
        ['R1/P3']
    """
    key = schema.TABLES[table].key
    parts = [frame[k].astype("str").fillna("") for k in key]
    out = parts[0]
    for p in parts[1:]:
        out = out + "/" + p
    return out


# --------------------------------------------------------------------------- load_dataset


_DATA_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_PART_SUFFIXES = (".parquet", ".pq")


def _part_layout(path: Path) -> dict[str, list[Path]]:
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
                f"table '{t.name}' is in two folders of parts: {table_of[t.name]}/ and {d.name}/; keep one",
                file=f"{d.name}/",
                rule="duplicate_table",
            )
        table_of[t.name] = d.name
        layout[d.name] = part_files
    for f in sorted(path.iterdir()):
        if f.name.startswith((".", "~$")) or not f.is_file():
            continue
        if f.suffix.lower() not in _DATA_SUFFIXES:
            continue
        try:
            t = schema.table_for_name(f.stem)
        except KeyError:
            continue
        if t.name in table_of:
            folder = table_of[t.name]
            raise DataError(
                f"表“{t.zh}”既有文件 {f.name} 又有分区文件夹 {folder}/：两种布局不能混用，请只保留一个",
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
    out = {schema.table_for_name(k).name: v for k, v in _part_layout(path).items()}
    return {t: out[t] for t in schema.TABLES if t in out}


def _frame_from_parts(
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
            records = _records_parquet(part, shown)
        except DataError as e:
            problems.append(
                Problem(
                    table.name,
                    None,
                    None,
                    None,
                    e.rule or "unreadable_file",
                    e.message_zh,
                    e.message_en,
                    "error",
                    None,
                    shown,
                )
            )
            fatal = True
            continue
        n = len(records) - 1
        frame, raw, hdrs, probs = _frame_from_records(table, records, shown)
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


_BOOK_SUFFIXES = {".xlsx", ".xlsm"}


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


def load_dataset(path: str | os.PathLike, tables: Iterable[str] | None = None) -> Dataset:
    """Read a dataset: a folder of CSV/Parquet files, one ``.xlsx`` workbook, or one table file.

    Args:
        path: the folder, workbook or single CSV/Parquet file (stem = table name).
        tables: English or Chinese names of the tables to read; ``None`` reads
            every known table that is present. Tables asked for and not found are
            listed in ``dataset.absent``; files and sheets that are not tables are
            ignored with a note.

    Returns:
        A :class:`Dataset`. Cells that cannot be parsed are missing in the typed
        frames and listed in ``dataset.problems``; a table whose header is
        unusable (empty file, required column missing) is left out of the
        mapping and listed there too. Nothing is validated beyond types: see
        :func:`fpanalysis.io.validate.validate_dataset`.

    Raises:
        DataError: the path does not exist or is not a dataset, the workbook
            cannot be opened, or two files hold the same table.

    Examples:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "单位.csv").write_text("单位编号,单位名称,单位类型\\nU1,办公室,股室\\n", encoding="gb18030")
        >>> ds = load_dataset(d)
        >>> ds["units"].loc[2, ["unit_id", "kind"]].tolist(), ds.absent[:2]
        (['U1', 'section'], ('persons', 'couples'))
    """
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
        sha[f.name] = _sha256(f)
        if t.name not in wanted:
            return
        if t.name in sources:
            raise DataError(
                f"表“{t.zh}”有两个文件：{sources[t.name][0]} 和 {f.name}，请只保留一个",
                f"table '{t.name}' is in two files: {sources[t.name][0]} and {f.name}; keep one",
                file=f.name,
                rule="duplicate_table",
            )
        reader = _records_csv if kind == "csv" else _records_parquet
        sources[t.name] = (f.name, lambda f=f, reader=reader: reader(f))

    workbook = None
    partitioned: dict[str, list[Path]] = {}
    if path.is_dir():
        layout = _part_layout(path)  # a table given both as a file and as a folder is refused
        for f in sorted(path.iterdir()):
            if f.name.startswith((".", "~$")):
                continue
            if f.is_dir() and f.name in layout:
                t = schema.table_for_name(f.name)
                for part in layout[f.name]:
                    sha[f"{f.name}/{part.name}"] = _sha256(part)
                if t.name in wanted:
                    sources[t.name] = (f"{f.name}/", None)
                    partitioned[t.name] = layout[f.name]
                continue
            if not f.is_file():
                continue
            kind = _DATA_SUFFIXES.get(f.suffix.lower())
            if kind:
                add_file(f, kind)
    elif path.suffix.lower() in _BOOK_SUFFIXES:
        sha[path.name] = _sha256(path)
        workbook = _open_workbook(path)
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
                raise DataError(
                    f"表“{t.zh}”有两个工作表：{sources[t.name][0]} 和 {shown}",
                    f"table '{t.name}' is in two sheets: {sources[t.name][0]} and {shown}",
                    file=shown,
                    rule="duplicate_table",
                )
            sources[t.name] = (shown, lambda ws=workbook[sheet]: _records_sheet(ws))
    elif path.suffix.lower() in _DATA_SUFFIXES:
        add_file(path, _DATA_SUFFIXES[path.suffix.lower()])
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

    frames, raws, headers, files = {}, {}, {}, {}
    parts: dict[str, list[tuple[int, int, str]]] = {}
    try:
        for name in wanted:  # schema order: deterministic
            if name not in sources:
                continue
            shown, read = sources[name]
            files[name] = shown
            table = schema.TABLES[name]
            if name in partitioned:
                frame, raw, hdrs, probs, spans = _frame_from_parts(
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
                problems.append(
                    Problem(
                        name,
                        None,
                        None,
                        None,
                        e.rule or "unreadable_file",
                        e.message_zh,
                        e.message_en,
                        "error",
                        None,
                        shown,
                    )
                )
                continue
            frame, raw, hdrs, probs = _frame_from_records(table, records, shown)
            problems.extend(probs)
            if raw is not None:
                raws[name] = raw
                headers[name] = hdrs
            if frame is not None:
                frames[name] = frame
    finally:
        if workbook is not None:
            workbook.close()

    absent = tuple(t for t in wanted if t not in sources)
    return Dataset(
        frames,
        source=path,
        files=files,
        sha256=dict(sorted(sha.items())),
        raw=raws,
        headers=headers,
        problems=problems,
        absent=absent,
        parts=parts,
    )


# --------------------------------------------------------------------------- load_for_analysis

MAX_LISTED = 20
MAX_WARNINGS_SHOWN = 5


def load_for_analysis(
    path: str | os.PathLike,
    tables: Iterable[str],
    *,
    skip_invalid: bool = False,
    lang: str = "zh",
) -> Dataset:
    """Load and validate the tables an analysis needs (POLICY.md general conventions).

    Args:
        path: the dataset (see :func:`load_dataset`).
        tables: the tables the analysis needs; each must be present.
        skip_invalid: drop rejected rows instead of refusing the dataset, and
            also every row that refers to a dropped row (a child of a dropped
            couple, say), repeatedly until nothing refers to a dropped row.
            ``dataset.skipped`` records {table: rows left out}.
        lang: language of ``dataset.messages`` (the lines a command prints:
            rows left out, the first 5 warnings and how many more there are).

    Raises:
        DataError: a table is missing or unreadable; or the tables have errors
            and ``skip_invalid`` is false (the message lists the first 20 problems
            and the count, and suggests ``fpanalysis validate`` and
            ``--skip-invalid``); or a whole table is unusable (a missing required
            column), which ``skip_invalid`` cannot mend.
    """
    from fpanalysis.io.validate import validate_dataset

    wanted = _requested(tables)
    ds = load_dataset(path, wanted)
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
    report = validate_dataset(ds)
    if unusable or (report.errors and not skip_invalid):
        raise _refusal(report, unusable_only=bool(unusable))
    kept = report.valid_frames(ds) if report.errors else dict(ds)
    kept, cascade = _drop_dangling(kept)
    skipped = {t: len(ds[t]) - len(kept[t]) for t in ds if len(ds[t]) != len(kept[t])}
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
    warns = report.warnings
    out.messages.extend(p.text(lang) for p in warns[:MAX_WARNINGS_SHOWN])
    if len(warns) > MAX_WARNINGS_SHOWN:
        rest = len(warns) - MAX_WARNINGS_SHOWN
        out.messages.append(
            f"……另有 {rest} 个警告，运行 `fpanalysis validate` 查看全部"
            if zh
            else f"... and {rest} more warnings; run `fpanalysis validate` to see them all"
        )
    out.report = report  # type: ignore[attr-defined]
    return out


def _refusal(report, unusable_only: bool = False) -> DataError:
    errs = [p for p in report.errors if (p.row is None) or not unusable_only]
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


def isin_keys(values: pd.Series, keys: pd.Series) -> pd.Series:
    """``values.isin(keys)`` through a hash index (pandas' string ``isin`` is slow on many keys).

    Examples:
        >>> isin_keys(pd.Series(["a", None, "c"], dtype="str"), pd.Series(["a", "b", "a"], dtype="str")).tolist()
        [True, False, False]
    """
    index = pd.Index(pd.unique(keys.dropna().to_numpy(dtype=object)))
    found = index.get_indexer(values.to_numpy(dtype=object)) >= 0
    return pd.Series(found & values.notna().to_numpy(), index=values.index)


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


# --------------------------------------------------------------------------- writing


def _labels_for(column: str, table: str | None) -> Mapping[str, str] | None:
    """English code -> Chinese label for an enum/set column of ``table`` or any table."""
    if column in schema.OUTPUT_LABELS:
        return schema.OUTPUT_LABELS[column]
    if table in schema.TABLES:
        try:
            c = schema.TABLES[table].column(column)
            return c.labels or None
        except KeyError:
            pass
    merged: dict[str, str] = {}
    conflicts: set[str] = set()
    for t in schema.TABLES_LIST:
        for c in t.columns:
            if c.name == column and c.labels:
                for code, label in c.labels.items():
                    if merged.get(code, label) != label:
                        conflicts.add(code)
                    merged[code] = label
    for code in conflicts:
        merged.pop(code)
    return merged or None


def localize(df: pd.DataFrame, lang: str, table: str | None = None) -> pd.DataFrame:
    """Headers and enum values in ``lang`` (``zh``: Chinese headers and labels, 是/否).

    Columns are looked up in ``table`` first, then in every table and in
    ``schema.OUTPUT_COLUMNS``/``OUTPUT_LABELS``; an unknown column keeps its
    name. Set values (``widow;disabled``) become ``寡、残``.

    Examples:
        >>> df = pd.DataFrame({"sex": ["F"], "grade": ["pass"], "veto": pd.array([True], dtype="boolean")})
        >>> localize(df, "zh").to_dict("records")
        [{'性别': '女', '等次': '合格', '一票否决': '是'}]
    """
    if lang not in ("zh", "en"):
        raise UsageError(f"不支持的语言：{lang}", f"unsupported language: {lang}", value=lang)
    out = df.copy()
    if lang == "en":
        return out
    for col in out.columns:
        s = out[col]
        labels = _labels_for(str(col), table)
        if labels and (s.dtype == "str" or s.dtype == object):
            is_set = any(
                c.name == col and c.type == "set" for t in schema.TABLES_LIST for c in t.columns
            )
            if is_set:
                # by position: the frame's index may repeat labels
                pos = s.reset_index(drop=True)
                parts = pos.str.split(";").explode()
                mapped = parts.map(lambda v, lab=labels: lab.get(v, v), na_action="ignore")
                joined = mapped.groupby(level=0, sort=False).agg(
                    lambda v: "、".join(x for x in v if isinstance(x, str))
                )
                joined = joined.reindex(pos.index).where(pos.notna())
                out[col] = pd.Series(joined.to_numpy(), index=s.index, dtype="str")
            else:
                out[col] = s.map(lambda v, lab=labels: lab.get(v, v), na_action="ignore")
        elif s.dtype == "boolean" or s.dtype == bool:
            out[col] = s.map({True: "是", False: "否"}).astype("str").where(s.notna())
    out.columns = [schema.zh_header(str(c), table) for c in out.columns]
    if out.index.name is not None:
        out.index.name = schema.zh_header(str(out.index.name), table)
    return out


# OWASP's list (= + - @ tab CR), LF, and the full-width forms a Chinese input method
# types (＝ ＋ － ＠), which WPS and Excel with an IME may turn into a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def neutralize_text(v: Any) -> Any:
    r"""``'`` + ``v`` when ``v`` is text a spreadsheet would run as a formula; else ``v``.

    Examples:
        >>> [neutralize_text(v) for v in ["=SUM(A1)", "＝1+1", "\t=1", "-5+1", -5, -5.5, "a=b"]]
        ["'=SUM(A1)", "'＝1+1", "'\t=1", "'-5+1", -5, -5.5, 'a=b']
    """
    if isinstance(v, str) and v.startswith(_FORMULA_START):
        return "'" + v
    return v


def neutralize_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix ``'`` to text cells (and headers) that a spreadsheet would run as a formula.

    Cells starting with ``= + - @``, tab, CR, LF or the full-width ``＝ ＋ － ＠``
    (OWASP: every such text cell, even ``"-3"``). Only text: a negative number
    (an int or float cell) stays a number.

    Examples:
        >>> neutralize_formulas(pd.DataFrame({"a": ["=1+1", "ok", "-x"], "b": [-1, 2, 3]})).to_dict("list")
        {'a': ["'=1+1", 'ok', "'-x"], 'b': [-1, 2, 3]}
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == "str" or s.dtype == object:
            risky = s.astype(object).map(
                lambda v: isinstance(v, str) and v.startswith(_FORMULA_START)
            )
            risky = risky.astype(bool)
            if risky.any():
                out[col] = s.where(~risky, "'" + s.astype("str"))
    if not isinstance(out.columns, pd.MultiIndex):
        out.columns = [neutralize_text(c) for c in out.columns]
    return out


def _prepare(df: pd.DataFrame) -> pd.DataFrame:
    """Index into columns when it carries information; the file row number does not."""
    if isinstance(df.index, pd.RangeIndex) or df.index.name in (None, "row"):
        if not (isinstance(df.index, pd.MultiIndex)):
            return df.reset_index(drop=True)
    return df.reset_index()


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _one_line_end(v: Any) -> Any:
    """CR LF and a lone CR inside text -> LF (see :func:`_csv_frame`)."""
    return v.replace("\r\n", "\n").replace("\r", "\n") if isinstance(v, str) else v


def _csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            midnight = s.dropna().eq(s.dropna().dt.normalize()).all()
            fmt = "%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M:%S"
            out[col] = s.dt.strftime(fmt)
        elif s.dtype == "str" or s.dtype == object:
            # The csv module quotes a cell holding "\n" (our line end) but not one holding a
            # lone "\r", which Excel and csv readers take as a line break: the row would split.
            cr = s.astype(object).map(lambda v: isinstance(v, str) and "\r" in v).astype(bool)
            if cr.any():
                out[col] = s.where(~cr, s.astype(object).map(_one_line_end))
    if not isinstance(out.columns, pd.MultiIndex):
        out.columns = [_one_line_end(c) for c in out.columns]
    return out


def _write_csv(df: pd.DataFrame, tmp: Path) -> None:
    _csv_frame(df).to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\n")


def _xlsx_value(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
        return v.date() if v.time() == dt.time(0) else v
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        return ILLEGAL_CHARACTERS_RE.sub("", v)
    return v


def _write_xlsx(df: pd.DataFrame, tmp: Path, sheet: str) -> None:
    import openpyxl
    from openpyxl.writer.excel import ExcelWriter

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = re.sub(r"[\[\]:*?/\\]", "_", sheet)[:31] or "data"
    ws.append([str(c) for c in df.columns])
    date_cols = [j for j, c in enumerate(df.columns) if pd.api.types.is_datetime64_any_dtype(df[c])]
    for row in df.itertuples(index=False, name=None):
        ws.append([_xlsx_value(v) for v in row])
    for j in date_cols:
        for cell in ws.iter_cols(min_col=j + 1, max_col=j + 1, min_row=2):
            for c in cell:
                if c.value is not None:
                    c.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"
    when = document_time()
    wb.properties.creator = "fpanalysis"
    wb.properties.created = when
    wb.properties.modified = when
    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        # ExcelWriter, not save_workbook: save_workbook stamps the current time.
        ExcelWriter(wb, archive).write_data()
    # Re-pack with fixed entry times so that reruns give identical bytes.
    stamp = max(when, dt.datetime(1980, 1, 1)).timetuple()[:6]
    buf.seek(0)
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=stamp)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, src.read(info.filename))


#: Data rows an .xlsx sheet holds (Excel's 1,048,576 rows, less the header).
XLSX_MAX_ROWS = 1_048_575


def _check_xlsx_rows(n: int, path: Path) -> None:
    if n > XLSX_MAX_ROWS:
        raise UsageError(
            f"输出有 {n:,} 行，超过 Excel 工作表的上限 {XLSX_MAX_ROWS:,} 行：请改用 .csv 或 .parquet",
            f"the output has {n:,} rows, more than an Excel sheet holds ({XLSX_MAX_ROWS:,}): use .csv or .parquet",
            file=str(path),
            value=str(n),
            rule="xlsx_rows",
        )


def write_table_chunks(
    chunks: Iterable[pd.DataFrame],
    path: str | os.PathLike,
    *,
    lang: str = "en",
    table: str | None = None,
) -> tuple[Path, int]:
    """:func:`write_table` for a table that comes a slice at a time (too large to hold whole).

    The slices are written as they come, so only one is in memory. The file
    is the one :func:`write_table` writes for the slices joined: identical
    bytes for ``.csv`` (one header, then every slice's rows) and for a single
    slice in any format; ``.parquet`` from several slices holds one row group
    per slice (same columns, types and values; the schema is the first
    slice's, a column that is empty there is text). ``.xlsx`` joins the slices
    (a sheet holds at most :data:`XLSX_MAX_ROWS` rows anyway) and refuses more.
    Atomic as :func:`write_table`: a reader sees the old file or the whole new one.

    Args:
        chunks: frames with the same columns, in order; at least one.
        path, lang, table: as :func:`write_table`.

    Returns:
        ``(path, rows written)``.

    Examples:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> df = pd.DataFrame({"sex": ["F", "M", "F"], "note": ["=1", "b", "c"]})
        >>> _ = write_table(df, d / "whole.csv", lang="zh")
        >>> write_table_chunks([df.iloc[:2], df.iloc[2:]], d / "parts.csv", lang="zh")[1]
        3
        >>> (d / "whole.csv").read_bytes() == (d / "parts.csv").read_bytes()
        True
    """
    path = Path(path)
    ext = path.suffix.lower()
    it = iter(chunks)
    first = next(it, None)
    if first is None:
        raise ValueError(
            "write_table_chunks needs at least one frame (an empty one writes the header)"
        )
    second = next(it, None)
    if second is None:  # one slice: exactly write_table
        return write_table(first, path, lang=lang, table=table), len(first)
    if ext == ".xlsx":
        whole = [first, second]
        n = len(first) + len(second)
        for c in it:
            n += len(c)
            _check_xlsx_rows(n, path)  # before holding more than a sheet can take
            whole.append(c)
        return write_table(pd.concat(whole, ignore_index=True), path, lang=lang, table=table), n
    if ext not in (".csv", ".parquet"):
        return write_table(first, path, lang=lang, table=table), len(first)  # refuses the type

    def frames() -> Iterator[pd.DataFrame]:
        yield first
        yield second
        yield from it

    rows = 0

    def write_csv(tmp: Path) -> None:
        nonlocal rows
        with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
            for k, df in enumerate(frames()):
                out = neutralize_formulas(localize(_prepare(df), lang, table))
                _csv_frame(out).to_csv(fh, index=False, header=k == 0, lineterminator="\n")
                rows += len(df)

    def write_parquet(tmp: Path) -> None:
        nonlocal rows
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer = None
        schema = None
        try:
            for df in frames():
                out = localize(_prepare(df), lang, table)
                if schema is None:
                    t = pa.Table.from_pandas(out, preserve_index=False)
                    # a column with no value in the first slice is typed null: make it text
                    fields = [
                        f.with_type(pa.string()) if pa.types.is_null(f.type) else f
                        for f in t.schema
                    ]
                    schema = pa.schema(fields, metadata=t.schema.metadata)
                    t = t.cast(schema)
                    writer = pq.ParquetWriter(tmp, schema)
                else:
                    t = pa.Table.from_pandas(out, schema=schema, preserve_index=False)
                writer.write_table(t)
                rows += len(df)
        finally:
            if writer is not None:
                writer.close()

    _atomic_write(path, write_csv if ext == ".csv" else write_parquet)
    return path, rows


def write_table(
    df: pd.DataFrame, path: str | os.PathLike, *, lang: str = "en", table: str | None = None
) -> Path:
    """Write an output table; the format follows the extension.

    ``.csv``: UTF-8 with BOM, ``\\n`` line ends, dates ``YYYY-MM-DD``.
    ``.xlsx``: one sheet (named after ``table`` in ``lang``), header frozen, fixed
    document properties and zip times (identical bytes on rerun).
    ``.parquet``: pyarrow, types kept, headers localised like the others.
    With ``lang="zh"`` headers and enum values are translated (:func:`localize`).
    Text cells that start with ``= + - @`` (or tab/CR) get a leading ``'``
    (CSV/XLSX). The file is written to a temporary name in the same folder and
    renamed, so a reader never sees half a file. The index is written as
    columns unless it is a plain counter or the input row number (``row``).
    Personal information is NOT masked here: mask first
    (:func:`fpanalysis.core.privacy.mask_frame`).

    Returns:
        The path written.

    Raises:
        UsageError: the extension is not .csv, .xlsx or .parquet.

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "out.csv"
        >>> _ = write_table(pd.DataFrame({"sex": ["F"], "note": ["=cmd"]}), p, lang="zh")
        >>> p.read_bytes().decode("utf-8")
        "\\ufeff性别,note\\n女,'=cmd\\n"
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in (".csv", ".xlsx", ".parquet"):
        raise UsageError(
            f"不支持的输出文件类型“{path.suffix}”，请用 .csv、.xlsx 或 .parquet",
            f"unsupported output type '{path.suffix}'; use .csv, .xlsx or .parquet",
            file=str(path),
            rule="output_type",
        )
    out = localize(_prepare(df), lang, table)
    if ext == ".parquet":
        _atomic_write(path, lambda tmp: out.to_parquet(tmp, index=False))
        return path
    out = neutralize_formulas(out)
    if ext == ".csv":
        _atomic_write(path, lambda tmp: _write_csv(out, tmp))
    else:
        _check_xlsx_rows(len(out), path)
        sheet = (
            (schema.TABLES[table].zh if lang == "zh" else table)
            if table in schema.TABLES
            else (table or "data")
        )
        _atomic_write(path, lambda tmp: _write_xlsx(out, tmp, sheet))
    return path
