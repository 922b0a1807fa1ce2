"""Hypothesis strategies: small datasets and parameter files, valid and broken.

A drawn dataset starts from a tiny, valid synthetic county (``synth.generate``,
6 couples, as text exactly as the generator writes it), adds rows typed from
:mod:`fpanalysis.core.schema` (each cell a valid value of its column's type) and
then applies a few hostile edits: odd cell values (wrong types, impossible
dates, CJK, NUL and control characters, emoji, formulas, huge numbers),
dangling references, duplicate keys, dropped or renamed columns, unknown
columns, header-only tables, empty files, binary garbage, missing tables. It
is written as a CSV folder (UTF-8 with BOM or GB18030, English or Chinese
headers), one ``.xlsx`` workbook or a Parquet folder by :func:`write_dataset`.

A drawn parameter file is YAML text: overrides of real parameters with
plausible or wrong values and dates, unknown names, non-mapping documents,
unsafe tags and plain junk.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from hypothesis import strategies as st

from fpanalysis.core import schema

# --------------------------------------------------------------------------- the base dataset

_BASE: dict[str, pd.DataFrame] = {}


def base_tables() -> dict[str, pd.DataFrame]:
    """The valid starting point, as text frames with English headers (cached; ~1 s once)."""
    if not _BASE:
        from fpanalysis import synth

        tables = synth.generate(seed=1, people=6)
        for name, df in tables.items():
            _BASE[name] = synth.to_text(df, name, "en").reset_index(drop=True)
    return {k: v.copy() for k, v in _BASE.items()}


TABLE_NAMES = [t.name for t in schema.TABLES_LIST]

# --------------------------------------------------------------------------- cell values

ODD_VALUES = [
    "",
    " ",
    "\u00a0",
    "\u3000",
    "N/A",
    "nan",
    "NaN",
    "None",
    "NULL",
    "null",
    "-",
    "0",
    "-1",
    "-0",
    "1e309",
    "-1e309",
    "inf",
    "1,200",
    "1 200.50",
    "１２００",
    "12.5",
    "9" * 30,
    "0x1F",
    "1899-12-31",
    "1900-01-01",
    "1900-02-29",
    "2024-02-30",
    "2099-12-31",
    "0000-00-00",
    "45352",
    "-45352",
    "2958466",
    "2024/13/01",
    "20240301",
    "2024年3月1日",
    "2024.3.1",
    "1/3/2024",
    "2024-03-01 25:61:00",
    "是",
    "否",
    "maybe",
    "TRUE",
    "yes",
    "x",
    "X",
    "=1+2",
    "+cmd|' /C calc'!A0",
    "@SUM(A1)",
    "-2",
    "\t=1",
    "'",
    '"',
    '""',
    "a,b",
    "a;b",
    "a\nb",
    "😀",
    "張三𠀀",
    "\x00",
    "\x07bell",
    "\u202e反向",
    "\ufeff",
    "\ud7ff",
    "F",
    "M",
    "f",
    "女",
    "staff",
    "STAFF",
    "在编职工",
    "sex_selection",
    "U01",
    "P00001",
    "C0001",
    "H0001",
    "ZZ999",
    "11010519491231002X",
    "11010519491231002x",
    "110105194912310021",
    "130503670401001",
    "disabled;disabled",
    "orphan、disabled",
    "urban",
    "rural",
    "城镇",
    "only_daughter",
]
ODD = st.sampled_from(ODD_VALUES)

DATES = st.dates(min_value=dt.date(1890, 1, 1), max_value=dt.date(2110, 12, 31))

cell_values = st.one_of(
    ODD,
    ODD,  # odd values twice as likely as free text
    st.text(max_size=10),
    st.integers(-(10**15), 10**15).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    DATES.map(str),
)


def _typed_value(col: schema.Column, keys: dict[str, list[str]]) -> st.SearchStrategy[str]:
    """A valid text value for a column of the schema (a reference picks an existing key)."""
    if col.references:
        table, key = col.references.split(".")
        pool = keys.get(f"{table}.{key}") or ["X1"]
        return st.sampled_from(pool)
    if col.type == "id":
        return st.from_regex(r"[A-Z]{1,2}[0-9]{3,5}", fullmatch=True)
    if col.type == "enum":
        return st.sampled_from(list(col.codes) + list(col.labels.values()))
    if col.type == "set":
        return st.lists(st.sampled_from(list(col.codes)), max_size=3, unique=True).map(";".join)
    if col.type == "date":
        return st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2025, 11, 28)).map(str)
    if col.type == "bool":
        return st.sampled_from(["是", "否", "Y", "N", "true", "false", "1", "0", ""])
    if col.type == "int":
        lo = int(col.min) if col.min is not None else 0
        hi = int(col.max) if col.max is not None else 60
        return st.integers(lo, hi).map(str)
    if col.type == "number":
        lo = col.min if col.min is not None else 0
        hi = col.max if col.max is not None else 100_000
        return st.floats(lo, hi, allow_nan=False).map(lambda v: f"{v:.2f}")
    return st.text(alphabet="张王李赵刘陈杨黄周吴秀英华明军伟芳", min_size=2, max_size=3)


@st.composite
def schema_rows(draw, table: str, keys: dict[str, list[str]]) -> dict[str, str]:
    """One row of ``table`` whose every cell is a valid value of its column's type."""
    t = schema.TABLES[table]
    row = {}
    for c in t.columns:
        if not c.required and draw(st.booleans()):
            row[c.name] = ""
        else:
            row[c.name] = draw(_typed_value(c, keys))
    return row


# --------------------------------------------------------------------------- datasets


EDITS = [
    "cell",
    "cell",
    "cell",
    "cell",
    "dangling",
    "duplicate",
    "drop_column",
    "unknown_column",
    "header_only",
    "empty_file",
    "garbage",
    "drop_table",
    "add_rows",
    "blank_row",
    "swap_dates",
]


@st.composite
def datasets(draw, max_edits: int = 6) -> dict[str, Any]:
    """A dataset spec: ``tables`` (text frames or ``bytes``), ``fmt``, ``lang``, ``encoding``,
    ``edits``."""
    tables: dict[str, Any] = base_tables()
    keys = {
        f"{t.name}.{c}": list(tables[t.name][c])
        for t in schema.TABLES_LIST
        if t.name in tables
        for c in t.key
    }
    edits = []
    for _ in range(draw(st.integers(0, max_edits))):
        kind = draw(st.sampled_from(EDITS))
        name = draw(
            st.sampled_from(
                sorted(k for k, v in tables.items() if isinstance(v, pd.DataFrame)) or ["units"]
            )
        )
        df = tables.get(name)
        if not isinstance(df, pd.DataFrame):
            continue
        t = schema.TABLES[name]
        if kind == "cell" and len(df) and len(df.columns):
            i = draw(st.integers(0, len(df) - 1))
            col = draw(st.sampled_from(list(df.columns)))
            df.loc[i, col] = draw(cell_values)
            edits.append((kind, name, i, col))
        elif kind == "dangling":
            refs = [c.name for c in t.columns if c.references and c.name in df.columns]
            if refs and len(df):
                col = draw(st.sampled_from(refs))
                df.loc[draw(st.integers(0, len(df) - 1)), col] = draw(
                    st.sampled_from(["ZZ999", "", " P00001 "])
                )
                edits.append((kind, name, col))
        elif kind == "duplicate" and len(df):
            i = draw(st.integers(0, len(df) - 1))
            tables[name] = pd.concat([df, df.iloc[[i]]], ignore_index=True)
            edits.append((kind, name, i))
        elif kind == "drop_column" and len(df.columns) > 1:
            col = draw(st.sampled_from(list(df.columns)))
            tables[name] = df.drop(columns=[col])
            edits.append((kind, name, col))
        elif kind == "unknown_column":
            col = draw(st.sampled_from(["备注", "remark", "", "name", "姓名", "Unnamed: 3"]))
            df[col] = draw(cell_values)
            edits.append((kind, name, col))
        elif kind == "header_only":
            tables[name] = df.iloc[0:0]
            edits.append((kind, name))
        elif kind == "empty_file":
            tables[name] = b""
            edits.append((kind, name))
        elif kind == "garbage":
            tables[name] = draw(st.binary(min_size=1, max_size=64))
            edits.append((kind, name))
        elif kind == "drop_table":
            del tables[name]
            edits.append((kind, name))
        elif kind == "add_rows":
            rows = draw(st.lists(schema_rows(name, keys), min_size=1, max_size=3))
            tables[name] = pd.concat(
                [df, pd.DataFrame(rows, columns=df.columns)], ignore_index=True
            )
            edits.append((kind, name, len(rows)))
        elif kind == "blank_row" and len(df):
            blank = pd.DataFrame([[""] * len(df.columns)], columns=df.columns)
            tables[name] = pd.concat([blank, df], ignore_index=True)
            edits.append((kind, name))
        elif kind == "swap_dates":
            dates = [c.name for c in t.columns if c.type == "date" and c.name in df.columns]
            if len(dates) >= 2:
                a, b = draw(st.sampled_from(dates)), draw(st.sampled_from(dates))
                df[[a, b]] = df[[b, a]].to_numpy()
                edits.append((kind, name, a, b))
    return {
        "tables": tables,
        "fmt": draw(st.sampled_from(["csv", "csv", "xlsx", "parquet"])),
        "lang": draw(st.sampled_from(["en", "zh"])),
        "encoding": draw(st.sampled_from(["utf-8-sig", "gb18030"])),
        "edits": edits,
    }


def _headers(df: pd.DataFrame, table: str, lang: str) -> list[str]:
    if lang != "zh":
        return [str(c) for c in df.columns]
    t = schema.TABLES[table]
    return [t.column(c).zh if c in t.names else str(c) for c in df.columns]


def _csv_bytes(df: pd.DataFrame, headers: list[str], encoding: str) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(headers)
    w.writerows(df.astype(str).to_numpy().tolist())
    text = buf.getvalue()
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:  # GB18030 covers all of Unicode, but lone surrogates do not encode
        return text.encode("utf-8", "replace")


def _xlsx_cell(v: str) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    v = ILLEGAL_CHARACTERS_RE.sub("", str(v))
    if v.isascii() and v.lstrip("-").isdigit() and len(v) < 10:
        return int(v)  # a number typed into a spreadsheet is a number cell
    return v


def write_dataset(spec: dict[str, Any], folder: Path) -> Path:
    """Write a drawn dataset under ``folder``; return the path to load (folder or workbook)."""
    fmt, lang = spec["fmt"], spec["lang"]
    folder.mkdir(parents=True, exist_ok=True)
    sheet_name = (lambda n: schema.TABLES[n].zh) if lang == "zh" else (lambda n: n)
    if fmt == "xlsx":
        import openpyxl

        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for name, df in spec["tables"].items():
            ws = wb.create_sheet(sheet_name(name))
            if isinstance(df, bytes):
                if df:
                    ws.append([_xlsx_cell(df.decode("latin-1"))])
                continue
            ws.append([_xlsx_cell(h) for h in _headers(df, name, lang)])
            for row in df.astype(str).to_numpy().tolist():
                ws.append([_xlsx_cell(v) for v in row])
        path = folder / "dataset.xlsx"
        wb.save(path)
        return path
    path = folder / "dataset"
    path.mkdir()
    for name, df in spec["tables"].items():
        stem = sheet_name(name)
        if isinstance(df, bytes):
            (path / f"{stem}.{fmt}").write_bytes(df)
        elif fmt == "csv":
            (path / f"{stem}.csv").write_bytes(
                _csv_bytes(df, _headers(df, name, lang), spec["encoding"])
            )
        else:
            out = df.astype(str)
            out.columns = _headers(df, name, lang)
            if len(set(out.columns)) != len(out.columns):  # parquet needs unique names
                out = out.loc[:, ~pd.Index(out.columns).duplicated()]
            out.to_parquet(path / f"{stem}.parquet", index=False)
    return path


# --------------------------------------------------------------------------- parameter files


def _param_specs() -> dict[str, Any]:
    from fpanalysis.core.params import default_params

    p = default_params()
    return {n: p._spec(n) for n in p.names}


def _value_for(spec) -> st.SearchStrategy[Any]:
    o = dict(spec.options)
    num = st.one_of(
        st.integers(-5, 500), st.floats(-1, 1e6, allow_nan=False), st.sampled_from([0, 0.5, 1])
    )
    junk = st.one_of(
        st.text(max_size=6), st.none(), st.booleans(), st.lists(st.integers(), max_size=2)
    )
    if spec.type == "int":
        good = st.integers(int(o.get("min", 0)), int(o.get("max", 100)))
    elif spec.type == "number":
        good = st.floats(o.get("min", 0), o.get("max", 1e5), allow_nan=False)
    elif spec.type == "int_range":
        good = st.lists(st.integers(0, 80), min_size=2, max_size=2)
    elif spec.type == "enum":
        good = st.sampled_from(o["choices"])
    elif spec.type == "month_day":
        good = st.sampled_from(["03-31", "02-29", "02-30", "13-01", "12-31", "3-31", "01-01"])
    elif spec.type in ("weights", "number_map"):
        good = st.fixed_dictionaries({k: num for k in o["keys"]})
    elif spec.type == "increasing":
        good = st.lists(st.floats(0, 2, allow_nan=False), min_size=0, max_size=4)
    elif spec.type == "order":
        good = st.permutations(o["choices"])
    elif spec.type == "age_band_rates":
        good = st.dictionaries(
            st.sampled_from(["15-19", "20-24", "25-49", "50-40", "x"]),
            st.floats(-0.5, 1.5, allow_nan=False),
            max_size=3,
        )
    elif spec.type == "by_area":
        good = st.dictionaries(
            st.sampled_from(["urban", "rural", "town"]),
            st.dictionaries(DATES.map(str), num, min_size=1, max_size=2),
            max_size=2,
        )
    else:
        good = num
    dated = st.dictionaries(
        st.one_of(DATES.map(str), DATES, st.sampled_from(["2024-13-01", "soon"])),
        good,
        min_size=1,
        max_size=3,
    )
    return st.one_of(good, good, dated, junk)


@st.composite
def param_files(draw) -> str:
    """The text of a parameter override file (YAML), valid or broken."""
    kind = draw(
        st.sampled_from(["override", "override", "override", "unknown", "junk", "unsafe", "list"])
    )
    if kind == "junk":
        return draw(
            st.one_of(
                st.text(max_size=40),
                st.sampled_from(["a: [1, 2", "a: b: c", "\t- x", "{", "%YAML 9.9\n---\n"]),
            )
        )
    if kind == "unsafe":
        return "!!python/object/apply:os.system ['echo pwned']\n"
    if kind == "list":
        return "- reward_age_cap\n- 18\n"
    specs = _param_specs()
    names = draw(st.lists(st.sampled_from(sorted(specs)), min_size=1, max_size=3, unique=True))
    doc = {n: draw(_value_for(specs[n])) for n in names}
    if kind == "unknown":
        doc[draw(st.sampled_from(["reward_age_limit", "", "1", "奖励"]))] = draw(st.integers(0, 20))
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
