"""Reading input files into rows of text, exactly as they stand: CSV (UTF-8 with or without
BOM, else GB18030; the delimiter that names the most known headers), ``.xlsx`` workbooks
(parsed through defusedxml, refused before inflating when they are zip or XML bombs; the cells
holding a formula with no saved value found, :func:`uncached_formulas`) and Parquet files; the
SHA-256 of every file read is kept for provenance.

A formula cell is read as the value the workbook saved with it. A workbook written by a script
may hold formulas with no saved value, which openpyxl reads as empty: such a cell is reported
(rulebook, general conventions: a cell is read as it says, or refused), not evaluated. An
evaluator (the ``formulas`` package) would run the spreadsheet's logic, other sheets and
external links included, with volatile functions (``TODAY()``, ``RAND()``) that make a rerun
differ, to recover a value the clerk never saw: opening and saving the workbook in Excel gives
the value Excel computes, for one keystroke.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io as _io
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from fpanalysis.core import schema
from fpanalysis.core.errors import DataError
from fpanalysis.io.cells import cell_text, float_text

__all__ = [
    "BOOK_SUFFIXES",
    "DATA_SUFFIXES",
    "HEADER_SEARCH_ROWS",
    "XLSX_BOMB_MIN_BYTES",
    "XLSX_BOMB_RATIO",
    "XLSX_MAX_BYTES",
    "decode_csv_bytes",
    "open_workbook",
    "parquet_text",
    "records_csv",
    "records_parquet",
    "records_sheet",
    "sha256_file",
    "uncached_formulas",
]

#: Input file suffixes read as one table each (the file stem names the table).
DATA_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
#: Input workbooks (one sheet per table).
BOOK_SUFFIXES = {".xlsx", ".xlsm"}


def sha256_file(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes, as hex (read a megabyte at a time).

    Examples:
        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
        >>> _ = f.write_bytes(b"abc")
        >>> sha256_file(f)[:16]
        'ba7816bf8f01cfea'
    """
    path = Path(path)
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
            f"不是文本 CSV 文件（{where_zh}含二进制内容）。"
            "请在 Excel 中“另存为 CSV UTF-8（逗号分隔）”后再试",
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


def records_csv(path: Path) -> list[list[str]]:
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
            "无法打开 Excel 工作簿：这是旧版 Excel（.xls）文件或加密的工作簿："
            "请在 Excel 中取消密码并“另存为 .xlsx”",
            "cannot open the Excel workbook: this is an old Excel (.xls) file or an encrypted "
            "workbook: remove the password and 'Save As' .xlsx in Excel",
            file=path.name,
            rule="unreadable_file",
        )
    if not zipfile.is_zipfile(path):
        return DataError(
            "无法打开 Excel 工作簿：不是 .xlsx（.xlsx 文件其实是 zip 压缩包，这个文件不是）："
            "文件损坏，或是改了扩展名的其他文件",
            "cannot open the Excel workbook: not an .xlsx (an .xlsx file is a zip archive; "
            "this one is not): the file is damaged or another kind of file renamed",
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


def open_workbook(path: Path):
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
                    "无法打开 Excel 工作簿：工作簿的 XML 含有实体声明"
                    "（可能是“XML 炸弹”或外部实体攻击），出于安全原因拒绝读取。"
                    "请在 Excel 中打开并另存为新的 .xlsx",
                    "cannot open the Excel workbook: its XML declares entities (an XML bomb or "
                    "external-entity attack); refused for safety. Open it in Excel and save it as "
                    "a new .xlsx",
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


def records_sheet(ws) -> list[list[str]]:
    """A worksheet's rows as the text of each cell (:func:`sheet_cell_text`)."""
    # A workbook's recorded dimension may be wrong (some tools write A1): forget it and
    # read every row. iter_rows still yields the missing (empty) rows, so the position
    # is the sheet's row number; rows are ragged and padded later.
    ws.reset_dimensions()
    epoch = getattr(ws.parent, "epoch", None)
    return [[sheet_cell_text(v, epoch) for v in row] for row in ws.iter_rows(values_only=True)]


#: A date cell before this day is read as its serial number (:data:`EXCEL_SERIAL_MIN`).
_FIRST_SERIAL_DAY = dt.datetime(1910, 1, 1)


def sheet_cell_text(v, epoch=None) -> str:
    """A workbook cell as text (:func:`~fpanalysis.io.cells.cell_text`); a date cell before
    1910-01-01 as the number it holds, which a date column refuses (rulebook G5): ``1995``
    typed into a date-formatted cell shows 1905-06-17 but means a year.

    Examples:
        >>> sheet_cell_text(dt.datetime(1905, 6, 17)), sheet_cell_text(dt.datetime(1995, 6, 1))
        ('1995', '1995-06-01')
    """
    if isinstance(v, dt.datetime) and v < _FIRST_SERIAL_DAY:
        from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900, to_excel

        return cell_text(to_excel(v, epoch or CALENDAR_WINDOWS_1900))
    return cell_text(v)


_FORMULA_TAG_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def uncached_formulas(ws) -> list[tuple[int, int, str, str]]:
    """The cells of a read-only worksheet that hold a formula with no saved value.

    Returns ``(row from 1, column from 0, cell such as "C5", formula)`` for each.
    The sheet's XML is first scanned for a formula at all (C speed, a chunk at a
    time); only a sheet with formulas is parsed again, through defusedxml.
    """
    from defusedxml.ElementTree import iterparse
    from openpyxl.utils import column_index_from_string, get_column_letter

    archive, part = ws.parent._archive, ws._worksheet_path
    with archive.open(part) as f:
        tail, found = b"", False
        for chunk in iter(lambda: f.read(1 << 20), b""):
            if _FORMULA_TAG_RE.search(tail + chunk):
                found = True
                break
            tail = chunk[-64:]
    if not found:
        return []
    out: list[tuple[int, int, str, str]] = []
    row, col = 0, 0
    with archive.open(part) as f:
        for event, el in iterparse(f, events=("start", "end")):
            name = _local(el.tag)
            if event == "start":
                if name == "row":
                    row = int(el.get("r") or row + 1)
                    col = 0
                continue
            if name == "c":
                ref = el.get("r")
                if ref:
                    letters = ref.rstrip("0123456789")
                    col = column_index_from_string(letters)
                    row = int(ref[len(letters) :])
                else:
                    col += 1
                formula = value = None
                for child in el:
                    kind = _local(child.tag)
                    if kind == "f":
                        formula = child
                    elif kind in ("v", "is"):
                        value = child
                if formula is not None and (value is None or not "".join(value.itertext())):
                    text = "=" + (formula.text or "")
                    out.append((row, col - 1, f"{get_column_letter(col)}{row}", text))
                el.clear()
            elif name == "row":
                el.clear()
    return out


def records_parquet(path: Path, shown: str | None = None) -> list[list[str]]:
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
    cols = [parquet_text(df.iloc[:, j]).tolist() for j in range(df.shape[1])]
    return [header, *map(list, zip(*cols, strict=True))] if cols else [header]


def parquet_text(s: pd.Series) -> pd.Series:
    """A Parquet column as the text :func:`~fpanalysis.io.cells.cell_text` gives each cell.

    Strings, booleans, integers and whole floats are converted by vectorised
    operations (a province's tables have millions of rows); other values (dates
    as objects, times, mixed columns) cell by cell.
    """
    if isinstance(s.dtype, pd.CategoricalDtype):  # a dictionary column: its values' own type
        s = s.astype(s.dtype.categories.dtype)
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
        out[other] = [float_text(float(x)) for x in v[other]]  # rare: non-whole amounts
        return pd.Series(out, index=s.index, dtype=object)
    obj = s.astype(object)
    return obj.where(s.notna(), None).map(cell_text).astype(str)
