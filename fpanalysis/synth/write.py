"""Writing a generated dataset as a clerk's input files: a folder of CSV or Parquet files, or one
XLSX workbook, with English or Chinese headers and labels, written atomically (the mode of a file
replaced kept, else the user's umask: :func:`fpanalysis.io.guard.atomic_file`)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from fpanalysis.core.clock import document_time
from fpanalysis.core.schema import TABLES, TABLES_LIST
from fpanalysis.io import write_table
from fpanalysis.io.guard import atomic_file

FORMATS = ("csv", "parquet", "xlsx")


def _fmt_number(v) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _cell_text(col, v, lang: str) -> str:
    """One value as the text a clerk would type (ISO dates, 是/否 or true/false, labels with zh)."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    if isinstance(v, str):
        if col.type == "enum" and lang == "zh":
            return col.labels.get(v, v)
        if col.type == "set" and lang == "zh":
            return "、".join(col.labels.get(x, x) for x in v.split(";"))
        return v
    if col.type == "date":
        return pd.Timestamp(v).strftime("%Y-%m-%d")
    if col.type == "bool":
        return ("是" if v else "否") if lang == "zh" else ("true" if v else "false")
    if col.type == "int":
        return str(int(v))
    if col.type == "number":
        return _fmt_number(float(v))
    return str(v)


def to_text(df: pd.DataFrame, table: str, lang: str = "en") -> pd.DataFrame:
    """The frame as text cells with English or Chinese headers and labels (what the files hold).

    Examples:
        >>> from fpanalysis.core.schema import coerce
        >>> df = coerce("children", [{"child_id": "K1", "couple_id": "C1",
        ...                           "birth_date": "2020-01-02", "sex": "F"}])
        >>> to_text(df, "children", "zh").iloc[0].tolist()
        ['K1', 'C1', '2020-01-02', '女']
    """
    t = TABLES[table]
    out = {}
    for c in t.columns:
        s = df[c.name]
        if s.dtype == object or c.type in ("enum", "set", "number", "int", "bool"):
            txt = [_cell_text(c, v, lang) for v in s.tolist()]
        elif c.type == "date":
            txt = s.dt.strftime("%Y-%m-%d").fillna("").tolist()
        else:
            txt = s.fillna("").astype(str).tolist()
        out[c.header(lang)] = txt
    return pd.DataFrame(out, index=df.index)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary name beside ``path`` to write to, renamed to ``path`` when the block ends.

    A reader sees the old file or the whole new one; the temporary file is
    removed if the block fails (:func:`fpanalysis.io.guard.atomic_file`).
    """
    with atomic_file(path) as tmp:
        yield tmp


def _write_csv(df: pd.DataFrame, path: Path, table: str, lang: str) -> None:
    # the clerk's text cells, written as every CSV of the package is (UTF-8 with BOM, "\n")
    write_table(to_text(df, table, lang), path)


def _parquet_bytes(df: pd.DataFrame, table: str, lang: str) -> bytes:
    t = TABLES[table]
    out = df.reset_index(drop=True).copy()
    for c in t.columns:
        if out[c.name].dtype == object:  # a format fault: the column is text
            out[c.name] = to_text(df[[x.name for x in t.columns]], table, "en")[c.name].to_numpy()
        if lang == "zh" and c.type in ("enum", "set"):
            out[c.name] = out[c.name].map(lambda v, c=c: _cell_text(c, v, "zh") or None)
    if lang == "zh":
        out.columns = [c.header("zh") for c in t.columns]
    buf = io.BytesIO()
    out.to_parquet(buf, index=False, engine="pyarrow", compression="zstd")
    return buf.getvalue()


def _xlsx_bytes(tables: Mapping[str, pd.DataFrame], lang: str) -> bytes:
    from openpyxl import Workbook

    fixed = document_time()
    wb = Workbook()
    wb.remove(wb.active)
    for t in TABLES_LIST:
        if t.name not in tables:
            continue
        df = tables[t.name]
        ws = wb.create_sheet(t.zh if lang == "zh" else t.name)
        ws.append([c.header(lang) for c in t.columns])
        text = to_text(df, t.name, lang)
        cols = []
        for c in t.columns:
            s = df[c.name]
            if c.type == "date" and s.dtype != object:
                cols.append([None if pd.isna(v) else v.date() for v in s.tolist()])
            elif c.type == "int" and s.dtype != object:
                cols.append([None if pd.isna(v) else int(v) for v in s.tolist()])
            elif c.type == "number" and s.dtype != object:
                cols.append([None if pd.isna(v) else float(v) for v in s.tolist()])
            else:  # ids (ID numbers must stay text), enums, bools as 是/否 or true/false, faults
                cols.append([v if v != "" else None for v in text[c.header(lang)].tolist()])
        for row in zip(*cols, strict=True):
            ws.append(list(row))
        for j, c in enumerate(t.columns, start=1):
            if c.type == "date":
                for cell in ws.iter_cols(min_col=j, max_col=j, min_row=2):
                    for x in cell:
                        x.number_format = "yyyy-mm-dd"
        ws.freeze_panes = "A2"
    wb.properties.creator = "fpanalysis synth"
    wb.properties.created = fixed
    raw = io.BytesIO()
    wb.save(raw)
    # openpyxl stamps "modified" with now and the zip entries with the clock: fix both
    stamp = fixed.strftime("%Y-%m-%dT%H:%M:%SZ")
    src = zipfile.ZipFile(io.BytesIO(raw.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp.encode() + rb"\g<2>",
                    data,
                )
            zi = zipfile.ZipInfo(info.filename, date_time=fixed.timetuple()[:6])
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, data)
    return out.getvalue()


def write_dataset(
    tables: Mapping[str, pd.DataFrame], out: str | Path, format: str = "csv", lang: str = "en"
) -> list[Path]:
    """Write a dataset: a folder of ``<table>.csv`` or ``<table>.parquet``, or one ``.xlsx`` file.

    CSV is UTF-8 with BOM, one file per table, ``\\n`` line ends, ISO dates;
    XLSX has one sheet per table (dates as Excel dates, ID numbers as text);
    ``lang="zh"`` writes the Chinese headers, sheet names and enum labels of
    :mod:`fpanalysis.core.schema` (是/否 for yes/no). Rows keep the frames' order
    (``generate`` sorts them by key). Each file is written to a temporary name
    and renamed. File names stay English (``docs/data_dictionary.md``).

    Returns:
        the files written.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    if lang not in ("en", "zh"):
        raise ValueError("lang must be en or zh")
    out = Path(out)
    if format == "xlsx":
        data = _xlsx_bytes(tables, lang)
        with atomic_path(out) as tmp:
            tmp.write_bytes(data)
        return [out]
    written = []
    for t in TABLES_LIST:
        if t.name not in tables:
            continue
        path = out / f"{t.name}.{format}"
        if format == "csv":
            _write_csv(tables[t.name], path, t.name, lang)
        else:
            data = _parquet_bytes(tables[t.name], t.name, lang)
            with atomic_path(path) as tmp:
                tmp.write_bytes(data)
        written.append(path)
    return written
