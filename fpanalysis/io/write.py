"""Writing outputs: :func:`write_table` and :func:`write_table_chunks` write a frame as
``.csv`` (UTF-8 with BOM), ``.xlsx`` or ``.parquet``, headers and enum values in the language
asked (:func:`localize`), text a spreadsheet would run as a formula neutralised
(:func:`neutralize_formulas`), atomically (:func:`fpanalysis.io.guard.atomic_file`: the mode
of the file replaced kept, an OS error a bilingual message) and with identical bytes on every run;
:func:`write_workbook` does the same for a workbook built cell by cell. Personal information
is not masked here: the caller masks with :func:`fpanalysis.core.privacy.mask_frame`.
"""

from __future__ import annotations

import datetime as dt
import io as _io
import os
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
import pandas as pd

from fpanalysis.core import schema
from fpanalysis.core.ahead import read_ahead
from fpanalysis.core.clock import document_time
from fpanalysis.core.errors import UsageError
from fpanalysis.core.textnumbers import text_layout
from fpanalysis.io.guard import atomic_file

if TYPE_CHECKING:
    from openpyxl import Workbook

__all__ = [
    "FORMULA_START",
    "XLSX_MAX_ROWS",
    "check_xlsx_rows",
    "localize",
    "neutralize_formulas",
    "neutralize_text",
    "prepare_frame",
    "workbook_bytes",
    "write_table",
    "write_table_chunks",
    "write_workbook",
    "xlsx_value",
]


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
        >>> veto = pd.array([True], dtype="boolean")
        >>> df = pd.DataFrame({"sex": ["F"], "grade": ["pass"], "veto": veto})
        >>> localize(df, "zh").to_dict("records")
        [{'性别': '女', '等次': '合格', '一票否决': '是'}]
    """
    if lang not in ("zh", "en"):
        raise UsageError(f"不支持的语言：{lang}", f"unsupported language: {lang}", value=lang)
    out = df.copy(deep=False)  # copy-on-write: a column is copied only when translated
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
                out[col] = _relabel(s, labels)
        elif s.dtype == "boolean" or s.dtype == bool:
            out[col] = s.map({True: "是", False: "否"}).astype("str").where(s.notna())
    out.columns = [schema.zh_header(str(c), table) for c in out.columns]
    if out.index.name is not None:
        out.index.name = schema.zh_header(str(out.index.name), table)
    return out


def _relabel(s: pd.Series, labels: Mapping[str, str]) -> pd.Series:
    """Each value's label (a value with none kept; missing kept): the readable rule is
    ``s.map(lambda v: labels.get(v, v), na_action="ignore")``, which an object column takes;
    a ``str`` column's distinct values are looked up once each (a province's millions of rows).

    Examples:
        >>> s = pd.Series(["urban", None, "moon", "urban"], dtype="str", index=[3, 1, 2, 0])
        >>> _relabel(s, {"urban": "城镇"}).tolist()
        ['城镇', nan, 'moon', '城镇']
    """
    arrow = s.dtype == "str" and getattr(s.dtype, "storage", None) == "pyarrow"
    codes, values = pd.factorize(s) if arrow else (None, ())
    if not len(values):  # not Arrow text (an object column), or no value (the map gives floats)
        return s.map(lambda v, lab=labels: lab.get(v, v), na_action="ignore")
    made = pd.array([labels.get(v, v) for v in values.tolist()], dtype="str")
    return pd.Series(made.take(codes, allow_fill=True), index=s.index, name=s.name)


# OWASP's list (= + - @ tab CR), LF, and the full-width forms a Chinese input method
# types (＝ ＋ － ＠), which WPS and Excel with an IME may turn into a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def neutralize_text(v: Any) -> Any:
    r"""``'`` + ``v`` when ``v`` is text a spreadsheet would run as a formula; else ``v``.

    Examples:
        >>> [neutralize_text(v) for v in ["=SUM(A1)", "＝1+1", "\t=1", "-5+1", -5, -5.5, "a=b"]]
        ["'=SUM(A1)", "'＝1+1", "'\t=1", "'-5+1", -5, -5.5, 'a=b']
    """
    if isinstance(v, str) and v.startswith(FORMULA_START):
        return "'" + v
    return v


def neutralize_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix ``'`` to text cells (and headers) that a spreadsheet would run as a formula.

    Cells starting with ``= + - @``, tab, CR, LF or the full-width ``＝ ＋ － ＠``
    (OWASP: every such text cell, even ``"-3"``). Only text: a negative number
    (an int or float cell) stays a number.

    Examples:
        >>> df = pd.DataFrame({"a": ["=1+1", "ok", "-x"], "b": [-1, 2, 3]})
        >>> neutralize_formulas(df).to_dict("list")
        {'a': ["'=1+1", 'ok', "'-x"], 'b': [-1, 2, 3]}
    """
    out = df.copy(deep=False)  # the columns changed are replaced, never written into
    for col in out.columns:
        s = out[col]
        if s.dtype == "str" or s.dtype == object:
            risky = _text_test(s, lambda t: t.str.startswith(FORMULA_START), _is_formula)
            if risky.any():
                out[col] = s.where(~risky, "'" + s.astype("str"))
    if not isinstance(out.columns, pd.MultiIndex):
        out.columns = [neutralize_text(c) for c in out.columns]
    return out


def _is_formula(v: Any) -> bool:
    return isinstance(v, str) and v.startswith(FORMULA_START)


def _has_cr(v: Any) -> bool:
    return isinstance(v, str) and "\r" in v


_CR = re.compile(b"\r")


def _may_hold_cr(s: pd.Series) -> bool:
    """Whether some cell of a text column may hold a CR: ``False`` only when none does, found
    by one search of the column's bytes (:func:`~fpanalysis.core.dataset.text_bytes`), several
    times faster than a search cell by cell; a column not held as Arrow text: ``True``.

    Examples:
        >>> _may_hold_cr(pd.Series(["a", None, "b"], dtype="str"))
        False
        >>> _may_hold_cr(pd.Series(["a", "b\\rc"], dtype="str"))
        True
    """
    from fpanalysis.core.dataset import text_bytes

    pieces = text_bytes(s)
    return pieces is None or any(_CR.search(p) is not None for p in pieces)


def _text_test(s: pd.Series, vectorised, one) -> np.ndarray:
    """Which cells of a text column pass a test, as a numpy bool array (a missing cell never):
    a ``str`` column at once (``vectorised`` over its ``.str``), a column of Python objects
    (text beside numbers, say) a cell at a time (``one``).

    Examples:
        >>> s = pd.Series(["=1", None, "x"], dtype="str")
        >>> _text_test(s, lambda t: t.str.startswith("="), _is_formula).tolist()
        [True, False, False]
        >>> _text_test(s.astype(object), None, _is_formula).tolist()
        [True, False, False]
    """
    if s.dtype == "str":
        return np.asarray(vectorised(s).fillna(False), dtype=bool)
    return np.asarray(s.map(one), dtype=bool)


def prepare_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Index into columns when it carries information; the file row number does not."""
    if isinstance(df.index, pd.RangeIndex) or df.index.name in (None, "row"):
        if not (isinstance(df.index, pd.MultiIndex)):
            return df.reset_index(drop=True)
    return df.reset_index()


def _atomic_write(path: Path, write) -> None:
    # the mode of the file replaced, OS errors as bilingual errors: fpanalysis.io.guard
    with atomic_file(path) as tmp:
        write(tmp)


def _one_line_end(v: Any) -> Any:
    """CR LF and a lone CR inside text -> LF (see :func:`_csv_frame`)."""
    return v.replace("\r\n", "\n").replace("\r", "\n") if isinstance(v, str) else v


def _csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy(deep=False)  # the columns changed are replaced, never written into
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            midnight = s.dropna().eq(s.dropna().dt.normalize()).all()
            fmt = "%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M:%S"
            out[col] = s.dt.strftime(fmt)
        elif s.dtype == "str" or s.dtype == object:
            # The csv module quotes a cell holding "\n" (our line end) but not one holding a
            # lone "\r", which Excel and csv readers take as a line break: the row would split.
            if s.dtype == "str" and not _may_hold_cr(s):  # the usual case, found at once
                continue
            cr = _text_test(s, lambda t: t.str.contains("\r", regex=False), _has_cr)
            if cr.any():
                out[col] = s.where(~cr, s.astype(object).map(_one_line_end))
    if not isinstance(out.columns, pd.MultiIndex):
        out.columns = [_one_line_end(c) for c in out.columns]
    return out


def _write_csv(df: pd.DataFrame, tmp: Path) -> None:
    with _csv_file(tmp) as fh:
        _csv_rows(_csv_frame(df), fh, header=True)


#: Rows of a .csv made at a time by :func:`_csv_body` (bounds the text held at once).
CSV_SLICE_ROWS = 25_000
#: Bytes handed to the system per write call. A slice's lines (tens of MB for the relief list)
#: are written in pieces: on the benchmark machine a 1 GB file written 27 MB a call took 10.03 s,
#: and 1 MB a call 0.26 s (benchmarks/bench_memory.py; apparently the kernel backs a large write
#: with large pages, which that virtual machine is slow to provide).
CSV_WRITE_BYTES = 1 << 20
#: A cell holding one of these is quoted (its quotes doubled), as the csv module does for the
#: dialect pandas writes with (delimiter ",", quote '"', line end "\n").
_CSV_QUOTE = '[,"\n]'


def _csv_rows(df: pd.DataFrame, fh, header: bool) -> None:
    """``df``'s rows (and its header when ``header``) to the open text file ``fh``, the bytes
    ``df.to_csv(fh, index=False, header=header, lineterminator="\\n")`` writes.

    A table of text, numbers and yes/no (what the large outputs are, once :func:`_csv_frame`
    and :func:`_fen_as_text` have made their text) is joined into lines column-wise by Arrow
    (:func:`_csv_body`), a slice at a time; anything else (a column of Python objects, a single
    column, a lone CR) is left to pandas, which formats a Python object per cell."""
    if _csv_body(df.head(0)) is None or df.shape[1] < 2:
        df.to_csv(fh, index=False, header=header, lineterminator="\n")
        return
    if header:
        df.head(0).to_csv(fh, index=False, lineterminator="\n")
    fh.flush()
    for start in range(0, len(df), CSV_SLICE_ROWS):
        part = df.iloc[start : start + CSV_SLICE_ROWS]
        body = _csv_body(part)
        if body is None:  # a cell the csv module writes its own way: this slice by pandas
            part.to_csv(fh, index=False, header=False, lineterminator="\n")
            fh.flush()
        else:
            for at in range(0, len(body), CSV_WRITE_BYTES):
                fh.buffer.write(body[at : at + CSV_WRITE_BYTES])


def _csv_body(df: pd.DataFrame) -> memoryview | None:
    """The lines of ``df`` (no header) as UTF-8 bytes, as ``to_csv`` writes them, made by Arrow
    column-wise; ``None`` when a column is none of text, whole numbers, yes/no and numpy's
    floats (a column of Python objects, say), a text cell holds a CR or a float is -0.0.

    Examples:
        >>> df = pd.DataFrame({"a": pd.Series(["x", 'say "hi", then', None], dtype="str"),
        ...                    "n": [1, -2, 3]})
        >>> text = bytes(_csv_body(df)).decode()
        >>> text == df.to_csv(index=False, header=False, lineterminator=chr(10))
        True
        >>> _csv_body(df.assign(n=pd.array([0.5, 1.0, 2.0], dtype="Float64"))) is None
        True
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    def text(v: str):
        return pa.scalar(v, pa.large_string())

    cells = []
    for j in range(df.shape[1]):
        s = df.iloc[:, j]
        if s.dtype == "str":
            if _may_hold_cr(s) and s.str.contains("\r", regex=False).any():
                return None
            a = pa.chunked_array([pa.array(s.array)]) if len(s) else pa.chunked_array([], "string")
            a = a.cast(pa.large_string())
            quote = pc.match_substring_regex(a, _CSV_QUOTE)
            if len(a) and pc.any(quote).as_py():
                quoted = pc.binary_join_element_wise(
                    text('"'), pc.replace_substring(a, '"', '""'), text('"'), text("")
                )
                a = pc.if_else(quote, quoted, a)
            cells.append(a.fill_null(""))
        elif s.dtype.kind in "iub":  # whole numbers and yes/no, numpy's or nullable
            values = pa.array(s.array) if not isinstance(s.dtype, np.dtype) else s.to_numpy()
            if s.dtype.kind == "b":  # as Python writes them
                yes_no = pa.array(["False", "True"], pa.large_string())
                cells.append(yes_no.take(pc.cast(pa.array(values), pa.int8())).fill_null(""))
            else:
                cells.append(pc.cast(pa.array(values), pa.large_string()).fill_null(""))
        elif isinstance(s.dtype, np.dtype) and s.dtype.kind == "f":
            # each distinct number as pandas shows it (numpy's shortest text), missing as ""
            v = s.to_numpy()
            if np.any((v == 0) & np.signbit(v)):  # -0.0 and 0.0 are one value to a hash
                return None
            at, distinct = pd.factorize(v, use_na_sentinel=True)
            shown = pa.array([*distinct.astype(str), ""], pa.large_string())
            cells.append(shown.take(pa.array(np.where(at < 0, len(distinct), at))))
        else:
            return None
    if not len(df):
        return memoryview(b"")
    cells[-1] = pc.binary_join_element_wise(cells[-1], text(""), text("\n"))  # the line's end
    lines = pc.binary_join_element_wise(*cells, text(","))
    del cells
    return memoryview(text_layout(lines)[1])  # the lines' bytes end to end (no nulls)


def _csv_file(tmp: Path):
    """``tmp`` open for text, its byte-order mark written: UTF-8 with BOM, as Excel opens it.
    (The BOM by hand, the rest as plain UTF-8: Python's ``utf-8-sig`` encoder is called once
    a row, several times slower on millions of rows than the built-in UTF-8.)"""
    fh = tmp.open("w", encoding="utf-8", newline="")
    fh.write("\ufeff")
    return fh


def xlsx_value(v: Any) -> Any:
    """A frame's value as an .xlsx cell takes it: a missing value empty, a midnight a date.

    Examples:
        >>> xlsx_value(pd.Timestamp("2025-01-31")), xlsx_value(np.int64(3)), xlsx_value(pd.NA)
        (datetime.date(2025, 1, 31), 3, None)
    """
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

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = re.sub(r"[\[\]:*?/\\]", "_", sheet)[:31] or "data"
    ws.append([str(c) for c in df.columns])
    date_cols = [j for j, c in enumerate(df.columns) if pd.api.types.is_datetime64_any_dtype(df[c])]
    for row in df.itertuples(index=False, name=None):
        ws.append([xlsx_value(v) for v in row])
    for j in date_cols:
        for cell in ws.iter_cols(min_col=j + 1, max_col=j + 1, min_row=2):
            for c in cell:
                if c.value is not None:
                    c.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"
    _save_workbook(wb, tmp)


def _save_workbook(
    wb: Workbook,
    dst: Path | BinaryIO,
    *,
    title: str | None = None,
    last_modified_by: str | None = None,
    file_mode: int = 0o600,
) -> None:
    """Save ``wb`` to ``dst`` with fixed document properties and zip entry times."""
    from openpyxl.writer.excel import ExcelWriter

    when = document_time()
    wb.properties.creator = "fpanalysis"
    if last_modified_by is not None:
        wb.properties.lastModifiedBy = last_modified_by
    if title is not None:
        wb.properties.title = title
    wb.properties.created = when
    wb.properties.modified = when
    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        # ExcelWriter, not save_workbook: save_workbook stamps the current time.
        ExcelWriter(wb, archive).write_data()
    # Re-pack with fixed entry times so that reruns give identical bytes.
    stamp = max(when, dt.datetime(1980, 1, 1)).timetuple()[:6]
    buf.seek(0)
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=stamp)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = file_mode << 16
            out.writestr(zi, src.read(info.filename))


def workbook_bytes(
    wb: Workbook,
    *,
    title: str | None = None,
    last_modified_by: str | None = None,
    file_mode: int = 0o600,
) -> bytes:
    """An openpyxl workbook as the bytes of an .xlsx file, identical on every run.

    The document's creator is ``fpanalysis``, its created and modified dates and
    every zip entry's time are :func:`fpanalysis.core.clock.document_time`
    (``SOURCE_DATE_EPOCH`` when set, else 2000-01-01); ``title`` and
    ``last_modified_by`` are set when given; ``file_mode`` is the permission
    recorded for each zip entry.

    Examples:
        >>> import openpyxl
        >>> workbook_bytes(openpyxl.Workbook()) == workbook_bytes(openpyxl.Workbook())
        True
    """
    out = _io.BytesIO()
    _save_workbook(wb, out, title=title, last_modified_by=last_modified_by, file_mode=file_mode)
    return out.getvalue()


def write_workbook(wb: Workbook, path: str | os.PathLike, *, title: str | None = None) -> Path:
    """Write an openpyxl workbook to ``path`` atomically, with fixed document properties.

    The bytes are those of :func:`workbook_bytes` (identical on every run); the
    file is written to a temporary name in the same folder and renamed, so a
    reader sees the old file or the whole new one. Cells are written as they
    are: neutralise formula text first (:func:`neutralize_text`).

    Returns:
        The path written.

    Examples:
        >>> import openpyxl, tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "book.xlsx"
        >>> wb = openpyxl.Workbook()
        >>> write_workbook(wb, p, title="t").read_bytes() == workbook_bytes(wb, title="t")
        True
    """
    path = Path(path)
    _atomic_write(path, lambda tmp: _save_workbook(wb, tmp, title=title))
    return path


#: Data rows an .xlsx sheet holds (Excel's 1,048,576 rows, less the header).
XLSX_MAX_ROWS = 1_048_575


def check_xlsx_rows(n: int, path: Path) -> None:
    """Refuse (:class:`UsageError`) ``n`` data rows when an .xlsx sheet holds fewer."""
    if n > XLSX_MAX_ROWS:
        raise UsageError(
            f"输出有 {n:,} 行，超过 Excel 工作表的上限 {XLSX_MAX_ROWS:,} 行："
            "请改用 .csv 或 .parquet",
            f"the output has {n:,} rows, more than an Excel sheet holds ({XLSX_MAX_ROWS:,}): "
            "use .csv or .parquet",
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
    ahead: bool = True,
) -> tuple[Path, int]:
    """:func:`write_table` for a table that comes a slice at a time (too large to hold whole).

    The slices are written as they come; with ``ahead`` each next one is made on another
    thread while the last is written (:func:`fpanalysis.core.ahead.read_ahead`), so two are
    in memory, else one. The file
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
        ahead: make the next slice while the last is written (default), or not.

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
    it = read_ahead(chunks) if ahead else iter(chunks)
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
            check_xlsx_rows(n, path)  # before holding more than a sheet can take
            whole.append(c)
        return write_table(pd.concat(whole, ignore_index=True), path, lang=lang, table=table), n
    if ext not in (".csv", ".parquet"):
        return write_table(first, path, lang=lang, table=table), len(first)  # refuses the type

    head = [first, second]
    del first, second

    def frames() -> Iterator[pd.DataFrame]:
        # the two slices read ahead are let go once written: one slice held at a time
        while head:
            yield head.pop(0)
        yield from it

    rows = 0

    def write_csv(tmp: Path) -> None:
        nonlocal rows
        with _csv_file(tmp) as fh:
            for k, df in enumerate(frames()):
                out = neutralize_formulas(localize(prepare_frame(df), lang, table))
                _csv_rows(_csv_frame(out), fh, header=k == 0)
                rows += len(df)
                del df, out  # not held while the next slice is made

    def write_parquet(tmp: Path) -> None:
        nonlocal rows
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer = None
        schema = None
        try:
            for df in frames():
                out = localize(prepare_frame(df), lang, table)
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
                # one chunk per column: the pages written do not depend on how the slice was
                # stacked (the Dask engine's slices come from several workers' pieces)
                writer.write_table(t.combine_chunks())
                rows += len(df)
                del df, out, t  # not held while the next slice is made
        finally:
            if writer is not None:
                writer.close()

    _atomic_write(path, write_csv if ext == ".csv" else write_parquet)
    return path, rows


def write_table(
    df: pd.DataFrame,
    path: str | os.PathLike,
    *,
    lang: str = "en",
    table: str | None = None,
    fen: Iterable[str] = (),
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
    (:func:`fpanalysis.core.privacy.mask_frame`). ``fen`` names columns of whole
    fen (int64) written as yuan with exactly 2 decimals: the file is the one
    written for those columns as ``Decimal`` yuan
    (:func:`fpanalysis.rules.bonus.fen_to_yuan`), byte for byte; a ``.parquet``
    of millions of rows is then written without a Decimal per cell.

    Returns:
        The path written.

    Raises:
        UsageError: the extension is not .csv, .xlsx or .parquet.

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "out.csv"
        >>> _ = write_table(pd.DataFrame({"sex": ["F"], "note": ["=cmd"]}), p, lang="zh")
        >>> p.read_bytes().decode("utf-8")
        "\\ufeff性别,备注\\n女,'=cmd\\n"
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
    out = prepare_frame(df)
    money = [j for j, c in enumerate(out.columns) if c in set(fen)]  # by position: headers change
    out = localize(out, lang, table)
    if ext == ".parquet":
        if not (money and _fen_parquet_ok(out, money)):
            out = _fen_as_yuan(out, money)
            _atomic_write(path, lambda tmp: out.to_parquet(tmp, index=False))
        else:
            _atomic_write(path, lambda tmp: _write_fen_parquet(out, money, tmp))
        return path
    if ext == ".csv":
        # fen as text after the formulas' check: "-0.05" is a number, not text to neutralize
        out = _fen_as_text(neutralize_formulas(out), money)
        _atomic_write(path, lambda tmp: _write_csv(out, tmp))
    else:
        out = neutralize_formulas(_fen_as_yuan(out, money))
        check_xlsx_rows(len(out), path)
        sheet = (
            (schema.TABLES[table].zh if lang == "zh" else table)
            if table in schema.TABLES
            else (table or "data")
        )
        _atomic_write(path, lambda tmp: _write_xlsx(out, tmp, sheet))
    return path


def _fen_as_yuan(df: pd.DataFrame, money: list[int]) -> pd.DataFrame:
    """``df`` with the fen columns at positions ``money`` as yuan Decimals."""
    if not money:
        return df
    from fpanalysis.rules.bonus import fen_to_yuan

    out = df.copy(deep=False)
    for j in money:
        out.isetitem(j, fen_to_yuan(out.iloc[:, j].to_numpy()))  # a list, as a frame takes it
    return out


def _fen_as_text(df: pd.DataFrame, money: list[int]) -> pd.DataFrame:
    """``df`` with the fen columns at positions ``money`` as the text a ``.csv`` shows for
    their yuan Decimals (:func:`_fen_as_yuan`): :func:`fen_text` for whole-number columns
    (no Decimal per cell), the Decimals themselves for any other."""
    if not money:
        return df
    whole = [j for j in money if df.iloc[:, j].dtype.kind in "iu"]
    out = _fen_as_yuan(df, [j for j in money if j not in whole])
    if whole and out is df:
        out = df.copy(deep=False)
    for j in whole:
        out.isetitem(j, fen_text(out.iloc[:, j].to_numpy()))
    return out


def fen_text(fen: np.ndarray) -> pd.Series:
    """Whole fen as yuan text with two decimals, as ``str`` of the yuan Decimal shows it
    (:func:`fpanalysis.rules.bonus.fen_to_yuan`), column-wise.

    Examples:
        >>> fen_text(np.array([1250, 0, -5, -1234567, 7])).tolist()
        ['12.50', '0.00', '-0.05', '-12345.67', '0.07']
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    fen = np.asarray(fen, dtype=np.int64)
    at, amounts = pd.factorize(fen)  # each distinct amount made once (a table repeats them)
    size = np.abs(amounts)
    whole = pc.cast(pa.array(size // 100), pa.string())
    cents = pc.utf8_lpad(pc.cast(pa.array(size % 100), pa.string()), width=2, padding="0")
    text = pc.binary_join_element_wise(whole, cents, ".")
    text = pc.if_else(pa.array(amounts < 0), pc.binary_join_element_wise("-", text, ""), text)
    return pd.Series(pd.array(text, dtype="str").take(at), dtype="str")


def _fen_parquet_ok(df: pd.DataFrame, money: list[int]) -> bool:
    """Whether :func:`_write_fen_parquet` writes ``df`` exactly as ``to_parquet`` would: some row,
    whole-number fen columns, text headers once each, and every other column of a type that its
    dtype alone decides (no column of Python objects, whose Arrow type depends on the values)."""
    if not len(df) or df.attrs or not df.columns.is_unique:
        return False
    if not all(isinstance(c, str) for c in df.columns):
        return False
    for j in range(df.shape[1]):
        dtype = df.iloc[:, j].dtype
        if j in money and not (isinstance(dtype, np.dtype) and dtype.kind in "iu"):
            return False
        if j not in money and pd.api.types.is_object_dtype(dtype):
            return False
    return True


def _decimal_array(fen: np.ndarray, typ: Any, words: np.ndarray) -> Any:
    """Whole fen as an Arrow decimal128 column of scale 2 (the same unscaled integers), written
    into ``words`` (at least ``len(fen)`` rows of two int64: reused from one slice to the next,
    so that fresh memory is not touched for each)."""
    import pyarrow as pa

    n = len(fen)
    w = words[:n]  # little-endian 128-bit: low word, sign word
    w[:, 0] = fen
    np.right_shift(w[:, 0], 63, out=w[:, 1])
    return pa.Array.from_buffers(typ, n, [None, pa.py_buffer(w)])


def _write_fen_parquet(df: pd.DataFrame, money: list[int], tmp: Path) -> None:
    """``df.to_parquet(tmp, index=False)`` with the fen columns as Decimal yuan (same bytes).

    The schema (types and pandas metadata) is the one pyarrow gives two rows holding each
    column's least and greatest value (a Decimal's inferred precision grows with its size, the
    scale is always 2); the rows are then written a row group at a time, as pyarrow splits them.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        from pyarrow._parquet import _DEFAULT_ROW_GROUP_SIZE as rows_per_group
    except ImportError:  # pragma: no cover - the figure pyarrow has used since version 15
        rows_per_group = 1024 * 1024
    from fpanalysis.rules.bonus import fen_to_yuan

    ends = [0, len(df) - 1]
    proxy = {}
    for j, c in enumerate(df.columns):
        s = df.iloc[:, j]
        if j in money:
            v = s.to_numpy()
            proxy[c] = pd.Series(fen_to_yuan([int(v.min()), int(v.max())]), dtype=object)
        else:
            proxy[c] = s.iloc[ends].reset_index(drop=True)
    schema = pa.Table.from_pandas(pd.DataFrame(proxy), preserve_index=False).schema
    if not all(pa.types.is_decimal128(schema.field(j).type) for j in money):  # pragma: no cover
        df.pipe(_fen_as_yuan, money).to_parquet(tmp, index=False)
        return
    others = [j for j in range(df.shape[1]) if j not in money]
    rest = pa.schema([schema.field(j) for j in others])
    words = {j: np.empty((min(len(df), rows_per_group), 2), dtype=np.int64) for j in money}
    with pq.ParquetWriter(tmp, schema, compression="snappy") as writer:
        for a in range(0, len(df), rows_per_group):
            part = df.iloc[a : a + rows_per_group]
            text = (
                pa.Table.from_pandas(part.iloc[:, others], schema=rest, preserve_index=False)
                if others
                else None
            )
            arrays = []
            for j in range(df.shape[1]):
                if j in money:
                    fen = part.iloc[:, j].to_numpy()
                    arrays.append(_decimal_array(fen, schema.field(j).type, words[j]))
                else:
                    arrays.append(text.column(others.index(j)))  # type: ignore[union-attr]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            del arrays  # the words are written over by the next slice
