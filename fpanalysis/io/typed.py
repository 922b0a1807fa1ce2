"""Parquet tables read typed (docs/design.md, "Loading"): each column is read with pyarrow and
turned into its typed pandas column directly, with the same values, the same cells refused and
the same row numbers as the text path (:func:`~fpanalysis.io.read.records_parquet` then
:func:`~fpanalysis.io.frames.frame_from_records`), without rendering millions of cells as text.
The raw text of a row (for a problem's value, or the rejects) is rendered from its file when asked
for (:class:`ParquetRawReader`). A file the typed path cannot read exactly as the text path does
(a title row, blank or repeated headers, a column of another kind) is left to the text path.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fpanalysis.core import schema
from fpanalysis.core.dataset import ID_NUMBER_COLUMNS, Problem, row_keys
from fpanalysis.core.textnumbers import one_array, text_layout
from fpanalysis.io.cells import MONEY_MAX_YUAN, TYPE_MESSAGES, float_text, parse_column
from fpanalysis.io.frames import (
    _header_row,
    absent_column,
    date_message,
    money_checked,
    raw_column_names,
    resolve_columns,
)
from fpanalysis.io.read import HEADER_SEARCH_ROWS, parquet_text

__all__ = ["ParquetRawReader", "TypedPlan", "TypedTable", "plan_typed", "read_typed"]

STR = pd.StringDtype("pyarrow", na_value=np.nan)
# A value that each cell parser leaves as it is: no edge character that a strip could remove
# (whitespace, format and control characters), and for identifiers printable ASCII only (NFKC
# leaves it alone); resident ID numbers already in the canonical 18-character form.
_EDGE = r"[^\p{Z}\p{C}]"
_CLEAN_TEXT = rf"(?s)^{_EDGE}(?:.*{_EDGE})?$"
_CLEAN_ID_NUMBER = r"^[0-9]{17}[0-9X]$"
# A blank cell as the text path sees it: nothing left after Python's str.strip().
# (Every such character lies in the Basic Multilingual Plane, the last being U+3000: scanning it
# alone finds the same set at import in a hundredth of the time.)
_SPACES = "".join(f"\\x{{{cp:x}}}" for cp in range(0x10000) if chr(cp).isspace())
_BLANK = rf"^[{_SPACES}]*$"
# Whole numbers every route through text reads exactly (str of an int, or of a whole float).
_EXACT_INT = 10**15
_YEAR_MIN, _YEAR_MAX = 1678, 2261  # years a datetime64[ns] holds (fpanalysis.io.cells)
# The same years as nanoseconds since 1970 (first instant held, first instant past), and a day.
_NS_FIRST = int(np.datetime64(f"{_YEAR_MIN}-01-01", "ns").astype("int64"))
_NS_END = int(np.datetime64(f"{_YEAR_MAX + 1}-01-01", "ns").astype("int64"))
_NS_DAY = 86_400 * 10**9


@dataclass
class _Part:
    path: Path
    shown: str
    offset: int  # records in the parts before this one
    rows: int


@dataclass
class TypedTable:
    """A table read typed: what :func:`~fpanalysis.io.frames.frame_from_records` gives, the raw
    frame replaced by a reader."""

    frame: pd.DataFrame
    raw: ParquetRawReader
    headers: dict[str, str]
    problems: list[Problem]
    spans: list[tuple[int, int, str]]


class ParquetRawReader:
    """The rows of a table read typed, as the text the text path shows (``Dataset.raw``).

    ``index`` holds the row numbers (blank rows left out), ``columns`` the headers as written;
    :meth:`rows` renders the rows asked for from their part files, cell by cell as
    :func:`~fpanalysis.io.read.records_parquet` does.
    """

    def __init__(self, parts: list[_Part], columns: list[str], index: pd.Index | None) -> None:
        self.parts = parts
        self.columns = columns
        self.index = index

    def rows(self, rows: pd.Index) -> pd.DataFrame:
        values = np.asarray(rows, dtype="int64")
        cells = [np.full(len(values), None, dtype=object) for _ in self.columns]
        for part in self.parts:
            first = 2 + part.offset
            at = np.flatnonzero((values >= first) & (values < first + part.rows))
            if not len(at):
                continue
            df = pd.read_parquet(part.path)
            pos = values[at] - first
            for j in range(len(self.columns)):
                cells[j][at] = parquet_text(df.iloc[pos, j]).to_numpy(dtype=object)
        index = pd.Index(values, dtype="int64", name="row")
        return pd.DataFrame(
            {
                c: pd.Series(v, index=index, dtype="str")
                for c, v in zip(self.columns, cells, strict=True)
            },
            index=index,
        )


def _names(path: Path) -> tuple[list[str], object] | None:
    """The header of a Parquet file as the text path reads it, and its pyarrow schema."""
    import pyarrow.parquet as pq

    try:
        arrow = pq.read_schema(path)
    except Exception:  # noqa: BLE001 - the text path reports an unreadable file
        return None
    meta = arrow.pandas_metadata or {}
    index_cols = {c for c in meta.get("index_columns", []) if isinstance(c, str)}
    names = [n for n in arrow.names if n not in index_cols]
    by_field = {c.get("field_name"): c.get("name") for c in meta.get("columns", [])}
    if any(by_field.get(n, n) not in (n, None) for n in names):
        return None  # labels that differ from the field names: left to the text path
    return names, arrow


def _is_string(t) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _header_is_first_row(table: schema.Table, path: Path, header: list[str], arrow) -> bool:
    """Whether the text path takes row 1 as the header (no row below names more columns)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    strings = [n for n in header if _is_string(arrow.field(n).type)]
    rows: list[list[str]] = []
    if strings:
        batch = next(pq.ParquetFile(path).iter_batches(HEADER_SEARCH_ROWS, columns=strings), None)
        if batch is not None:
            cols = [
                batch.column(i).cast(pa.large_string()).to_pylist() for i in range(len(strings))
            ]
            rows = [[v or "" for v in r] for r in zip(*cols, strict=True)]
    return _header_row(table, [header, *rows]) == 0


def read_typed(table: schema.Table, files: list[tuple[Path, str]]) -> TypedTable | None:
    """Read ``table`` from Parquet ``files`` ([(path, name shown)], parts in order) typed.

    Rows are numbered on from one part to the next (part ``k``'s first row is ``2 + rows in the
    parts before it``), problems name their part. Returns ``None`` when the files must go
    through the text path for the same result (see the module docstring).
    """
    plan = plan_typed(table, files)
    return None if plan is None else plan.read()


@dataclass
class TypedPlan:
    """A table's Parquet parts whose headers were checked for the typed path, to be read whole
    (:meth:`read`) or a part at a time (:meth:`read` of one part: its rows keep their numbers
    in the whole table), so that a table larger than memory can be checked part by part."""

    table: schema.Table
    parts: list[_Part]
    header: list[str]
    found: dict[str, str]
    raw_cols: list[str]
    header_problems: list[list[Problem]]  # per part: what its header said

    @property
    def rows(self) -> int:
        """The table's rows, every part's counted from its metadata (no cell read)."""
        return sum(p.rows for p in self.parts)

    @property
    def spans(self) -> list[tuple[int, int, str]]:
        """[(first row, last row, part file), ...] as :class:`TypedTable` gives them."""
        return [(2 + p.offset, 1 + p.offset + p.rows, p.shown) for p in self.parts]

    def reader(self, index: pd.Index | None = None) -> ParquetRawReader:
        """The raw rows of every part (``index``: the table's row numbers, when known)."""
        return ParquetRawReader(self.parts, self.raw_cols, index)

    @functools.cached_property
    def raw(self) -> ParquetRawReader:
        """The table's raw rows (its ``index`` set once every part has been read)."""
        return self.reader(pd.Index([], dtype="int64", name="row"))

    def read(
        self, which: list[int] | None = None, header_problems: bool = True, one_chunk: bool = True
    ) -> TypedTable:
        """The parts ``which`` (default every part) read typed; ``header_problems``: with what
        their headers said (else only the problems of their cells); ``one_chunk``: each text
        column as one Arrow array (:func:`_one_chunk`, a copy), else as the parts' pieces (for
        a slice checked and let go, whose look-ups do not need one array: the same values)."""
        which = list(range(len(self.parts))) if which is None else which
        return _read_parts(self, which, header_problems, one_chunk)


def plan_typed(table: schema.Table, files: list[tuple[Path, str]]) -> TypedPlan | None:
    """The headers of ``table``'s Parquet ``files`` checked for the typed path (``None``: the
    text path must read them, see the module docstring); no cell is read."""
    import pyarrow.parquet as pq

    parts: list[_Part] = []
    problems_of: list[list[Problem]] = []
    header: list[str] | None = None
    found: dict[str, str] = {}
    raw_cols: list[str] = []
    offset = 0
    for path, shown in files:
        named = _names(path)
        if named is None:
            return None
        names, arrow = named
        if header is None:
            header = names
        elif names != header:
            return None  # the text path reports the part's other columns
        clean = [h.strip().lstrip("\ufeff") for h in names]
        if not clean or any(h == "" for h in clean) or len(set(names)) != len(names):
            return None
        if not _header_is_first_row(table, path, clean, arrow):
            return None
        probs: list[Problem] = []

        def table_error(
            rule, zh, en, column=None, value=None, severity="error", file=shown, probs=probs
        ):
            probs.append(
                Problem(table.name, None, column, value, rule, zh, en, severity, None, file)
            )

        raw_cols = raw_column_names(clean)
        found, fatal = resolve_columns(table, clean, raw_cols, lambda rc: False, table_error)
        if fatal:
            return None
        try:
            n = pq.ParquetFile(path).metadata.num_rows
        except Exception:  # noqa: BLE001
            return None
        parts.append(_Part(path, shown, offset, n))
        problems_of.append(probs)
        offset += n
    if header is None:
        return None
    return TypedPlan(table, parts, header, dict(found), raw_cols, problems_of)


def _read_parts(
    plan: TypedPlan, which: list[int], header_problems: bool, one_chunk: bool = True
) -> TypedTable:
    """The body of :meth:`TypedPlan.read`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table, header, found, raw_cols = plan.table, plan.header, plan.found, plan.raw_cols
    parts = [plan.parts[k] for k in which]
    problems_of = [list(plan.header_problems[k]) if header_problems else [] for k in which]
    blank = [np.ones(p.rows, dtype=bool) for p in parts]
    typed: dict[str, list[pd.Series]] = {}
    bad_of: dict[str, list[np.ndarray]] = {}
    cols = [next((table.column(k) for k, v in found.items() if v == rc), None) for rc in raw_cols]
    for k, part in enumerate(parts):
        # the part read once (its columns decoded on all cores), each column let go as soon as
        # it is converted, so that a part is never held twice
        whole = pq.ParquetFile(part.path).read(columns=header)
        for name, col in zip(header, cols, strict=True):
            at = whole.schema.get_field_index(name)
            arr = whole.column(at)
            whole = whole.remove_column(at)
            if _is_string(arr.type):  # cast once (its offsets widened, its bytes shared): the
                arr = arr.cast(pa.large_string())  # steps below read large_string as it is
            if blank[k].any():
                blank[k] &= _blank(arr)
            if col is None:
                continue
            values, bad = _convert(arr, col, part.path, name)
            typed.setdefault(col.name, []).append(values)
            bad_of.setdefault(col.name, []).append(bad)
            del arr

    keep = [~b for b in blank]
    numbers = np.concatenate(
        [np.flatnonzero(kp) + 2 + p.offset for kp, p in zip(keep, parts, strict=True)]
        or [np.zeros(0, dtype=np.int64)]
    ).astype("int64")
    index = pd.Index(numbers, dtype="int64", name="row")
    columns: dict[str, pd.Series] = {}
    for c in table.columns:
        if c.name not in typed:
            columns[c.name] = absent_column(c, index)
            continue
        pieces = [
            v[kp] if not kp.all() else v for v, kp in zip(typed.pop(c.name), keep, strict=True)
        ]
        s = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0]
        s = s.reset_index(drop=True).astype(c.dtype)
        if one_chunk:
            s = _one_chunk(s)
        s.index = index
        columns[c.name] = s
    # the columns as they are (not stacked into one block per type: a copy of every date and
    # number of the table, which the checks and rules, column by column, never need)
    frame = pd.DataFrame(columns, index=index, copy=False)
    reader = ParquetRawReader(parts, raw_cols, index)

    # Cells that are no value of their type, named by row, with the text as the file shows it.
    bad_rows: dict[str, list[np.ndarray]] = {}
    for name, bads in bad_of.items():
        bad_rows[name] = [
            np.flatnonzero(b & kp) + 2 + p.offset
            for b, kp, p in zip(bads, keep, parts, strict=True)
        ]
    every = np.unique(np.concatenate([r for rs in bad_rows.values() for r in rs] or [[]]))
    texts = reader.rows(pd.Index(every.astype("int64"))) if len(every) else None
    money = _money(table, frame, reader, found, parts)
    problems: list[Problem] = []
    for k, part in enumerate(parts):
        probs = problems_of[k]
        for c in table.columns:
            if c.name in bad_rows and len(bad_rows[c.name][k]):
                assert texts is not None
                shown_text = texts[found[c.name]]
                for row in bad_rows[c.name][k]:
                    v = shown_text.at[int(row)]
                    zh, en = date_message(v) if c.type == "date" else TYPE_MESSAGES[c.type]
                    probs.append(
                        Problem(
                            table.name,
                            int(row),
                            c.name,
                            v,
                            c.type,
                            zh,
                            en,
                            "error",
                            None,
                            part.shown,
                        )
                    )
            probs.extend(money.get((k, c.name), ()))
        problems.extend(probs)
    with_row = sorted({p.row for p in problems if p.row is not None})
    if with_row:
        keys = row_keys(frame.loc[with_row], table.name)
        problems = [
            p if p.row is None else dataclasses.replace(p, key=keys.get(p.row) or None)
            for p in problems
        ]
    spans = [(2 + p.offset, 1 + p.offset + p.rows, p.shown) for p in parts]
    return TypedTable(frame, reader, dict(found), problems, spans)


def _one_chunk(s: pd.Series) -> pd.Series:
    """A text column's pieces (one per part) as one Arrow array: pyarrow's sorts, takes and
    lookups, which the checks run over whole key columns, are many times slower over chunks."""
    import pyarrow as pa

    if not isinstance(s.dtype, pd.StringDtype) or s.dtype.storage != "pyarrow":
        return s
    arr = pa.array(s.array)
    if not isinstance(arr, pa.ChunkedArray) or arr.num_chunks < 2:
        return s
    one = arr.combine_chunks()
    out = pa.chunked_array([one]).to_pandas(types_mapper={one.type: s.dtype}.get)
    out.index, out.name = s.index, s.name
    return out


@dataclass(frozen=True)
class _Edges:
    """A text column's cells by their bytes (:func:`_edges`): ``valid`` (not missing),
    ``length`` (bytes), ``first`` (their first byte, 0 for an empty cell), and ``offsets`` and
    ``data`` (every cell's bytes end to end, as :func:`~fpanalysis.core.textnumbers.text_layout`
    gives them)."""

    valid: np.ndarray
    length: np.ndarray
    first: np.ndarray
    offsets: np.ndarray
    data: np.ndarray

    def last(self) -> np.ndarray:
        """Each cell's last byte (0 for an empty cell)."""
        if not len(self.data):
            return np.zeros(len(self.length), dtype=np.uint8)
        out = self.data.take(np.maximum(self.offsets[1:] - 1, 0))
        out[self.length == 0] = 0
        return out


def _edges(arr) -> _Edges:
    """:class:`_Edges` of a ``large_string`` array (chunked or not): a few numpy steps over the
    column, where a regular expression or a string kernel reads every cell in turn."""
    offsets, data = text_layout(arr)
    length = np.diff(offsets)
    if len(data):  # an empty cell's first byte: 0
        first = data.take(np.minimum(offsets[:-1], len(data) - 1))
        first[length == 0] = 0
    else:
        first = np.zeros(len(length), dtype=np.uint8)
    if arr.null_count:
        valid = arr.is_valid().to_numpy(zero_copy_only=False)
    else:
        valid = np.ones(len(length), dtype=bool)
    return _Edges(valid, length, first, offsets, data)


def _blank(arr) -> np.ndarray:
    """Which cells of a column are blank as the text path sees them (missing, or spaces only).

    A cell that begins with printable ASCII other than the space (``!`` to ``~``, a character
    no strip removes) is not blank: it is decided from its first byte. The others (missing,
    empty, or beginning with a space or any other character) are matched against the spaces
    that ``str.strip()`` removes; all of the column at once when they are most of it.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not _is_string(arr.type):
        return arr.is_null().to_numpy(zero_copy_only=False)
    arr = arr.cast(pa.large_string())
    e = _edges(arr)
    undecided = ~(e.valid & (e.first > 0x20) & (e.first < 0x7F))
    if 2 * undecided.sum() > len(arr):
        undecided[:] = True
    blank = np.zeros(len(arr), dtype=bool)
    at = np.flatnonzero(undecided)
    if len(at):
        some = arr if len(at) == len(arr) else arr.take(pa.array(at))
        found = pc.match_substring_regex(some, _BLANK).fill_null(True)
        blank[at] = found.to_numpy(zero_copy_only=False)
    return blank


def _clean(arr, col: schema.Column) -> np.ndarray:
    """Which cells of an id or text column its parser leaves as they are (missing: True).

    Read from the column's bytes as one block (:func:`_edges`) where they are plain: an id
    column whose bytes are all printable ASCII (its least and greatest byte) has its empty cells
    and those that begin or end with a space unclean; a column of resident ID numbers whose
    present cells are each of 18 bytes is read digit by digit. Every other column by
    :func:`_clean_by_kernels` (texts, most of them Chinese, are not decided by a byte or two).
    """
    if col.type == "id":
        e = _edges(arr)
        if not len(e.data) or (e.data.min() >= 0x20 and e.data.max() < 0x7F):
            return ~e.valid | ((e.length > 0) & (e.first != 0x20) & (e.last() != 0x20))
    elif col.name in ID_NUMBER_COLUMNS:  # 17 digits, then a digit or X
        e = _edges(arr)
        if (e.length[e.valid] == 18).all() and not e.length[~e.valid].any():
            digits = e.data.reshape(-1, 18)
            body = ((digits[:, :17] >= 0x30) & (digits[:, :17] <= 0x39)).all(axis=1)
            end = digits[:, 17]
            ok = np.ones(len(e.valid), dtype=bool)
            ok[e.valid] = body & (((end >= 0x30) & (end <= 0x39)) | (end == 0x58))
            return ok
    return _clean_by_kernels(arr, col)


def _clean_by_kernels(arr, col: schema.Column) -> np.ndarray:
    """:func:`_clean` by Arrow's string kernels and regular expressions, cell by cell: the rule
    as written, and the way for the ID numbers whose bytes are not 18 to a cell."""
    import pyarrow.compute as pc

    if col.type == "id":  # printable ASCII, no space at either end
        ok = pc.and_(
            pc.and_(pc.ascii_is_printable(arr), pc.greater(pc.binary_length(arr), 0)),
            pc.invert(pc.or_(pc.starts_with(arr, " "), pc.ends_with(arr, " "))),
        )
    else:
        pattern = _CLEAN_ID_NUMBER if col.name in ID_NUMBER_COLUMNS else _CLEAN_TEXT
        ok = pc.match_substring_regex(arr, pattern)
    return ok.fill_null(True).to_numpy(zero_copy_only=False)


def _text_series(arr) -> pd.Series:
    """A string column as pandas ``str`` (missing as NaN)."""
    import pyarrow as pa

    return arr.cast(pa.large_string()).to_pandas(types_mapper={pa.large_string(): STR}.get)


def _parse_text(arr, col: schema.Column) -> tuple[pd.Series, np.ndarray]:
    """A string column of another type than id or text, parsed (:func:`_parse_readable`).

    A column whose every value is one that parses to itself (an enum column written in its
    codes, as usual; :func:`_fixed_words`) is its own parse, none bad: a missing cell stays
    missing, as the empty text it is read as parses to nothing. Such a column is found by one
    lookup of its values among those few words, and is not parsed.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    fixed = _fixed_words(col)
    if len(fixed) and not pa.types.is_dictionary(arr.type):
        held = pc.sum(pc.is_in(arr, value_set=fixed)).as_py() or 0
        if held + arr.null_count == len(arr):  # (one piece, as a parsed column is: the
            # checks and rules that take and look up rows are slower over many)
            return _text_series(one_array(arr)), np.zeros(len(arr), dtype=bool)
    return _parse_readable(arr, col)


_FIXED: dict[int, tuple[schema.Column, object]] = {}


def _fixed_words(col: schema.Column):
    """The codes of an enum or set column that its parser gives back as they are, none bad
    (as an Arrow array; empty for another type)."""
    import pyarrow as pa

    held = _FIXED.get(id(col))
    if held is not None and held[0] is col:
        return held[1]
    words = list(col.labels) if col.type in ("enum", "set") else []
    if words:
        values, bad = parse_column(pd.Series(words, dtype=STR), col)
        words = [
            w
            for w, v, b in zip(words, values.tolist(), bad.tolist(), strict=True)
            if not b and v == w
        ]
    out = pa.array(words, pa.string())
    _FIXED[id(col)] = (col, out)
    return out


def _parse_readable(arr, col: schema.Column) -> tuple[pd.Series, np.ndarray]:
    """A string column's text, missing as empty, parsed by
    :func:`~fpanalysis.io.cells.parse_column` (the readable rule of :func:`_parse_text`)."""
    values, bad = parse_column(_text_series(arr).fillna(""), col)
    return values.reset_index(drop=True), bad.to_numpy(dtype=bool)


#: Decimal places tried by :func:`_as_fifteen_digits` before formatting a value.
_FEW_DECIMALS = (1, 2, 3, 4)


def _as_fifteen_digits(values: np.ndarray) -> np.ndarray:
    """``float(float_text(x))`` of each of ``values`` (finite, under 1e15): the number its text
    of 15 significant digits says.

    A value that is the nearest float to a decimal of a few places (``k / 10**d`` with ``k``
    whole, as a sum of money is) and of at most 15 significant digits is already that number
    (a decimal of up to 15 digits survives the round trip through a float): it is kept as it
    is, found for whole arrays at once. Only the others (``0.1 + 0.2``, more digits than a
    float keeps) are formatted one by one, the readable rule.

    Examples:
        >>> _as_fifteen_digits(np.array([2309.99, 0.1 + 0.2, 1234.5, 2309.995, 1 / 3])).tolist()
        [2309.99, 0.3, 1234.5, 2309.995, 0.333333333333333]
    """
    out = values.astype(np.float64, copy=True)
    todo = np.arange(len(out))
    for d in _FEW_DECIMALS:
        if not len(todo):
            break
        scale = 10.0**d
        whole = np.rint(out[todo] * scale)
        # whole / 10**d: at most 15 significant digits (|whole| < 10**15), and the float
        # nearest to it (a whole number under 2**53 divided by a power of ten, rounded once)
        same = (np.abs(whole) < 1e15) & (whole / scale == out[todo])
        todo = todo[~same]
    if len(todo):
        out[todo] = [float(float_text(float(x))) for x in out[todo]]
    return out


def _convert(arr, col: schema.Column, path: Path, name: str):
    """A part's column -> (typed values, bad mask), exactly as through text; None: not here."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = arr.type
    n = len(arr)
    nobad = np.zeros(n, dtype=bool)
    if pa.types.is_null(t):
        empty = pd.Series(np.nan if col.dtype != "boolean" else pd.NA, index=range(n))
        return empty.astype(col.dtype), nobad
    if _is_string(t):
        s = _text_series(arr)
        if col.type in ("id", "text"):
            clean = _clean(arr, col)
            if clean.all():
                return s, nobad
            other = s[~clean].fillna("")
            values, _ = parse_column(other, col)
            s = s.copy()
            s[~clean] = values
            return s, nobad
        return _parse_text(arr, col)
    if col.type == "bool" and pa.types.is_boolean(t):
        return arr.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get), nobad
    if col.type in ("int", "number") and pa.types.is_integer(t):
        lo, hi = pc.min_max(arr).values()
        if lo.as_py() is None or max(abs(lo.as_py()), abs(hi.as_py())) < _EXACT_INT:
            v = arr.cast(pa.int64()).to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
            return (v if col.type == "int" else v.astype("float64")), nobad
    if col.type in ("int", "number") and pa.types.is_floating(t):
        v = arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(v)
            if col.type == "number":
                # the text of a float is its 15 significant digits (cells.float_text): exponent
                # notation (1e+15, 1e-05) is no number; a fraction is read as those digits say
                size = np.abs(np.where(finite, v, 0.0))
                ok = finite & (size < 1e15) & ((size == 0) | (size >= 1e-4))
                out = np.where(ok, v + 0.0, np.nan)
                frac = ok & (out != np.floor(out))
                if frac.any():
                    out[frac] = _as_fifteen_digits(out[frac])
                return pd.Series(out), ~np.isnan(v) & ~ok
            ok = finite & (np.abs(np.where(finite, v, 0)) < 1e15) & (v == np.floor(v))
        out = pd.Series(pd.NA, index=range(n), dtype="Int64")
        if ok.any():
            out[ok] = np.round(v[ok]).astype("int64")
        return out, ~np.isnan(v) & ~ok
    if col.type == "date" and (
        (pa.types.is_timestamp(t) and t.tz is None)
        or pa.types.is_date32(t)
        or pa.types.is_date64(t)
    ):
        if pa.types.is_timestamp(t) and t.unit == "ns":
            stamps = arr.to_numpy(zero_copy_only=False)
            ns = stamps.view("int64")[~np.isnat(stamps)]
            if not len(ns) or (
                ns.min() >= _NS_FIRST and ns.max() < _NS_END and not (ns % _NS_DAY).any()
            ):  # every date at midnight, in the years held: the values as they are, none bad
                return pd.Series(stamps), nobad
        if pa.types.is_date64(t):
            arr = arr.cast(pa.date32())
        days = arr.to_numpy(zero_copy_only=False).astype("datetime64[D]")
        known = ~np.isnat(days)
        year = days.astype("datetime64[Y]").astype("int64") + 1970
        ok = known & (year >= _YEAR_MIN) & (year <= _YEAR_MAX)
        out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        out[ok] = days[ok].astype("datetime64[ns]")
        return pd.Series(out), known & ~ok
    # Any other kind of column: through its text, as the text path reads it.
    s = pd.read_parquet(path, columns=[name])[name]
    values, bad = parse_column(parquet_text(s), col)
    return values.reset_index(drop=True), bad.to_numpy(dtype=bool)


def _money(
    table: schema.Table,
    frame: pd.DataFrame,
    reader: ParquetRawReader,
    found: dict[str, str],
    parts: list[_Part],
) -> dict[tuple[int, str], list[Problem]]:
    """Money finer than a fen or over the limit, as the text path finds it (rulebook G4), by
    (part, column): only the cells that may be such (not a whole number of fen, or large) are
    rendered as text; their values are emptied in ``frame``."""
    out: dict[tuple[int, str], list[Problem]] = {}
    for c in table.columns:
        if c.type != "number" or c.name not in found:
            continue
        v = frame[c.name]
        maybe = v.notna() & ((v.abs() > MONEY_MAX_YUAN) | (v.round(2) != v))
        if not maybe.any():
            continue
        rows = v.index[maybe.to_numpy()]
        text = reader.rows(rows)[found[c.name]]
        for k, part in enumerate(parts):
            first = 2 + part.offset
            mine = text[(text.index >= first) & (text.index < first + part.rows)]
            if len(mine):
                v, out[(k, c.name)] = money_checked(table, c, mine, v, part.shown)
        frame[c.name] = v
    return out
