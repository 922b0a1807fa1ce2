"""Cell text and its parsing: each parser takes a column of text as it stands in the input
(missing = NaN) and returns the typed column with the mask of the cells that hold no value of
the type (dates, yes/no, whole numbers, numbers, enum and set values, identifiers, resident ID
numbers); vectorised, since they run over whole columns of large tables. A number in a date
column is a day only as an Excel serial date from :data:`EXCEL_SERIAL_MIN` to
:data:`EXCEL_SERIAL_MAX` (rulebook, general conventions G5); money is at most
:data:`MONEY_MAX_YUAN` and never finer than a fen (G4, :func:`money_problems`).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import sys
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core import ids, schema
from fpanalysis.core.dataset import ID_NUMBER_COLUMNS

__all__ = [
    "EXCEL_SERIAL_MAX",
    "EXCEL_SERIAL_MIN",
    "MONEY_MAX_YUAN",
    "TYPE_MESSAGES",
    "cell_text",
    "float_text",
    "money_problems",
    "parse_bools",
    "parse_column",
    "parse_dates",
    "parse_enum",
    "parse_ints",
    "parse_numbers",
    "parse_set",
]

_DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL_RE = re.compile(r"^\d{1,5}(?:\.\d+)?$")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: The Excel serial dates a date column accepts: 1910-01-01 (3654) to 2099-12-31 (73050).
#: Below, a number is more likely a year (``1995`` would be 1905-06-17) or a slip than a day
#: anyone in this county's records was born, married or applied on; above, no record's day yet.
#: ``0`` stays Excel's empty date (1899-12-30), refused as before 1900.
EXCEL_SERIAL_MIN, EXCEL_SERIAL_MAX = 3654, 73050
#: The largest money value the input may hold (rulebook, general conventions G4).
MONEY_MAX_YUAN = 1_000_000_000
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
        >>> d, _ = parse_dates(pd.Series(["2024/3/1", "2024年3月1日", "45352", "2024-02-30"]))
        >>> d.dt.strftime("%Y-%m-%d").tolist()
        ['2024-03-01', '2024-03-01', '2024-03-01', nan]
        >>> parse_dates(pd.Series(["1995", "3653", "3654", "73051"]))[1].tolist()
        [True, True, False, True]
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
        # a bare year (1995) or another number is no day: only the accepted serial range is
        in_range = days.between(EXCEL_SERIAL_MIN, EXCEL_SERIAL_MAX) | days.eq(0)
        serial[serial] = in_range.to_numpy()
        days = days[in_range]
        out[serial] = (_EXCEL_EPOCH + pd.to_timedelta(days, unit="D")).astype("datetime64[ns]")
    bad = t.notna() & out.isna()
    return out, bad


def parse_bools(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse 是/否, Y/N, yes/no, true/false, 1/0 into nullable ``boolean``.

    Examples:
        >>> b, bad = parse_bools(pd.Series(["否", "y", None, "x"]))
        >>> b.tolist(), bad.tolist()
        ([False, True, <NA>, <NA>], [False, False, False, True])
        >>> parse_bools(pd.Series(["是", "N", "TRUE", "maybe"]))[0].tolist()
        [True, False, True, <NA>]
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


_FRACTION_RE = re.compile(r"\.(\d*?)0*$")


def money_problems(raw: pd.Series, values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The money cells finer than a fen, and those over :data:`MONEY_MAX_YUAN` (or below its
    negative), from the text as typed and its parsed values (rulebook, general conventions G4).

    A fen is 0.01 yuan: ``2309.995`` is an error, never rounded (rounding it can move a
    household across the standard); ``2309.990`` is 2309.99.

    Examples:
        >>> raw = pd.Series(["2309.995", "2309.990", "1,200.5", "1000000000", "1000000000.01"])
        >>> fine, big = money_problems(raw, parse_numbers(raw)[0])
        >>> fine.tolist(), big.tolist()
        ([True, False, False, False, False], [False, False, False, False, True])
    """
    t = _nfkc(raw)
    decimals = t.str.extract(_FRACTION_RE, expand=False).str.len()
    too_fine = values.notna() & decimals.gt(2).fillna(False).astype(bool)
    too_large = values.notna() & values.abs().gt(MONEY_MAX_YUAN)
    return too_fine.astype(bool), too_large.astype(bool)


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


def parse_column(raw: pd.Series, col: schema.Column) -> tuple[pd.Series, pd.Series]:
    """Raw text -> typed column of ``col``'s dtype, with the mask of unparseable cells.

    Each distinct text is parsed once (a column of 200,000 survey dates holds a
    few thousand days), then spread back over the rows.
    """
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    values, bad = _parse_values(pd.Series(uniques, dtype="str"), col)
    values = _spread(values, codes, None)
    bad = _spread(bad, codes, False)
    values.index = raw.index
    bad.index = raw.index
    return values.astype(col.dtype), bad.astype(bool)


def _spread(values: pd.Series, codes: np.ndarray, fill) -> pd.Series:
    """``values.reindex(codes, fill_value=fill)`` for ``values`` numbered 0, 1, ... as it is
    after :func:`pandas.factorize`: taken by position (pandas' reindex builds an index of the
    millions of codes first)."""
    if not values.index.equals(pd.RangeIndex(len(values))):
        return values.reindex(codes, fill_value=fill)
    from pandas.api.extensions import ExtensionDtype, take

    arr = values.array if isinstance(values.dtype, ExtensionDtype) else values.to_numpy()
    return pd.Series(take(arr, codes, allow_fill=True, fill_value=fill), name=values.name)


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
    out = {}
    for cp in range(128, sys.maxunicode + 1):
        c = chr(cp)
        if unicodedata.category(c) == "Nd":
            out[cp] = str(unicodedata.digit(c))
    return out


def _normalize_id_numbers(s: pd.Series) -> pd.Series:
    """Resident ID numbers as :func:`fpanalysis.core.ids.normalize_id_number` writes them.

    The ID number rules are rulebook §8; a 15-digit number is kept as it is (not upgraded).
    """
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


TYPE_MESSAGES = {
    "date": (
        "不是有效日期，请写成 YYYY-MM-DD（如 2024-03-01）",
        "not a valid date; write YYYY-MM-DD (e.g. 2024-03-01)",
    ),
    "bool": ("不是 是/否，请填 是 或 否", "not yes/no; write 是/否, Y/N, true/false or 1/0"),
    "int": ("不是整数", "not a whole number"),
    "number": ("不是数字", "not a number"),
}


def cell_text(v: Any) -> str:
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
        return float_text(float(v))
    return str(v)


def float_text(v: float) -> str:
    """A number cell's value as a spreadsheet shows it: 15 significant digits (what Excel
    keeps), so that a computed ``0.30000000000000004`` reads ``0.3`` while ``2309.995`` stays.

    Examples:
        >>> float_text(0.1 + 0.2), float_text(2309.995), float_text(1234.5)
        ('0.3', '2309.995', '1234.5')
    """
    return format(v, ".15g")
