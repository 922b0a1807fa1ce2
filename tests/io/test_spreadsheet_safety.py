"""Spreadsheet safety: formula injection, safe YAML, XML bombs in .xlsx input.

- Every writer of CSV/XLSX in the package neutralises text that a spreadsheet
  would run as a formula (a leading ``'``), while numbers stay numbers;
  a guard test lists the writers so that a new one cannot slip past.
- Parameter files are read with a safe loader: a ``!!python/...`` tag is a
  clear error and runs nothing; a YAML alias bomb ends quickly.
- ``.xlsx`` input goes through defusedxml: a billion-laughs entity bomb (built
  here with zipfile) and an external entity are refused at once, in bounded
  memory, with a bilingual error.
"""

from __future__ import annotations

import csv
import io as _io
import re
import time
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import fpanalysis
from fpanalysis import io
from fpanalysis.cli import main
from fpanalysis.core import schema
from fpanalysis.core.errors import DataError, ParamError
from fpanalysis.core.params import load_params
from fpanalysis.io import read
from fpanalysis.io.exports import export_meeting_xlsx
from fpanalysis.rules import relief

HOSTILE = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"
PACKAGE = Path(fpanalysis.__file__).resolve().parent

# prefix, why a spreadsheet would run it
RISKY = [
    pytest.param("=", "formula", id="eq"),
    pytest.param("+", "formula (Excel turns +1+1 into =1+1)", id="plus"),
    pytest.param("-", "formula (-1+1)", id="minus"),
    pytest.param("@", "Lotus-style function (@SUM)", id="at"),
    pytest.param("\t", "tab before a formula (OWASP)", id="tab"),
    pytest.param("\r", "carriage return before a formula (OWASP)", id="cr"),
    pytest.param("\n", "line feed before a formula", id="lf"),
    pytest.param("＝", "full-width equals typed with a Chinese input method", id="fw-eq"),
    pytest.param("＋", "full-width plus", id="fw-plus"),
    pytest.param("－", "full-width minus", id="fw-minus"),
    pytest.param("＠", "full-width at", id="fw-at"),
]


def _frame(prefix: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "note": [prefix + "1+1", "a=b", "张三"],
            "amount": [-3, 4, -5],
            "yuan": [-2.5, 0.0, 1.25],
            prefix + "hdr": ["x", "y", "z"],
        }
    )


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


@pytest.mark.parametrize("prefix,why", RISKY)
def test_write_table_csv_neutralises_text_but_not_numbers(tmp_path, prefix, why):
    rows = _csv_rows(io.write_table(_frame(prefix), tmp_path / "o.csv"))
    p = "\n" if prefix == "\r" else prefix  # a CR in text is written as LF (a lone CR splits rows)
    assert rows[0] == ["note", "amount", "yuan", "'" + p + "hdr"]  # headers too
    assert [r[0] for r in rows[1:]] == ["'" + p + "1+1", "a=b", "张三"]
    assert [r[1] for r in rows[1:]] == ["-3", "4", "-5"]  # negative numbers stay numbers
    assert [r[2] for r in rows[1:]] == ["-2.5", "0.0", "1.25"]


@pytest.mark.parametrize("prefix,why", RISKY)
def test_write_table_xlsx_neutralises_text_but_not_numbers(tmp_path, prefix, why):
    ws = openpyxl.load_workbook(io.write_table(_frame(prefix), tmp_path / "o.xlsx")).active
    p = "\n" if prefix == "\r" else prefix  # XML reads a CR back as LF
    assert ws["D1"].value == "'" + p + "hdr"
    assert [ws.cell(row=r, column=1).value for r in (2, 3, 4)] == ["'" + p + "1+1", "a=b", "张三"]
    assert [ws.cell(row=r, column=2).value for r in (2, 3, 4)] == [-3, 4, -5]
    assert ws["B2"].data_type == "n" and ws["C2"].value == -2.5
    assert not [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]


def test_write_table_zh_labels_then_neutralises(tmp_path):
    df = pd.DataFrame({"sex": ["F"], "cancel_reason": ["=cmd|' /C calc'!A0"]})
    rows = _csv_rows(io.write_table(df, tmp_path / "o.csv", lang="zh"))
    assert rows == [["性别", "注销原因"], ["女", "'=cmd|' /C calc'!A0"]]


def test_a_carriage_return_inside_text_does_not_split_the_csv_row(tmp_path):
    df = pd.DataFrame({"a\rb": ["x\ry", "p\r\nq"], "n": [1, 2]})
    rows = _csv_rows(io.write_table(df, tmp_path / "o.csv"))
    assert rows == [["a\nb", "n"], ["x\ny", "1"], ["p\nq", "2"]]


def test_neutralize_text_examples():
    assert [io.neutralize_text(v) for v in ["=1", "ok", "1-2", None, -1, 2.5]] == [
        "'=1",
        "ok",
        "1-2",
        None,
        -1,
        2.5,
    ]


# ------------------------------------------------------------------------ relief meeting workbook


def _relief_result():
    hh = schema.coerce(
        "households",
        [
            {
                "household_id": "A",
                "head_name": '=HYPERLINK("http://x","点我")',
                "area": "urban",
                "township": "=1+1",
                "size": 1,
                "monthly_income": 100.0,
                "application_date": "2025-01-01",
            },
            {
                "household_id": "B",
                "head_name": "李四",
                "area": "urban",
                "township": "＠SUM(A1)",
                "size": 1,
                "monthly_income": 200.0,
                "application_date": "2025-01-01",
            },
        ],
    )
    members = schema.coerce(
        "household_members",
        [
            {"member_id": "A-1", "household_id": "A", "relation": "head", "sex": "M"},
            {"member_id": "B-1", "household_id": "B", "relation": "head", "sex": "M"},
        ],
    )
    return relief.rank_households(
        {"households": hh, "household_members": members}, load_params(), as_of="2025-12-31"
    )


@pytest.mark.parametrize(
    "reveal",
    [
        pytest.param(False, id="masked"),
        pytest.param(True, id="revealed"),
    ],
)
def test_relief_meeting_workbook_neutralises_text(tmp_path, reveal):
    path = export_meeting_xlsx(_relief_result(), tmp_path / "m.xlsx", reveal_pii=reveal)
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[2]]
    town = header.index(schema.zh_header("township", "households")) + 1
    name = header.index(schema.zh_header("head_name", "households")) + 1
    size = header.index(schema.zh_header("size", "households")) + 1
    rows = range(3, ws.max_row + 1)
    assert sorted(ws.cell(row=r, column=town).value for r in rows) == ["'=1+1", "'＠SUM(A1)"]
    names = sorted(ws.cell(row=r, column=name).value for r in rows)
    typed = '=HYPERLINK("http://x","点我")'
    assert names == (["'" + typed, "李四"] if reveal else ["'=" + "*" * (len(typed) - 1), "李*"])
    assert all(isinstance(ws.cell(row=r, column=size).value, int) for r in rows)
    assert not [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]


# --------------------------------------------------------------------------- the CLI's own files


def test_validate_rejects_and_problem_list_are_neutralised(capsys, tmp_path):
    data = HOSTILE / "formula_in_input"
    rc = main(
        [
            "validate",
            str(data),
            "--rejects",
            str(tmp_path / "rej"),
            "--out",
            str(tmp_path / "p.xlsx"),
        ]
    )
    capsys.readouterr()
    assert rc == 1
    rows = _csv_rows(tmp_path / "rej" / "units.csv")
    assert rows[0][:4] == ["行号", "unit_id", "name", "kind"]
    assert [r[:4] for r in rows[1:]] == [
        ["2", "U1", '\'=HYPERLINK("http://example.invalid","点我")', "section"],
        ["3", "U1", "'@SUM(1+1)", "section"],
        ["4", "U3", "'＝1+1", "'=2+3"],
    ]
    ws = openpyxl.load_workbook(tmp_path / "p.xlsx").active
    values = [c.value for c in ws["G"]]  # the value column of the problem list
    assert values[1] == "值" and "'=2+3" in values  # row 1: the title
    assert not [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]


def test_input_read_back_keeps_the_text_as_typed():
    # reading is not writing: the loader keeps "-5" and "=HYPERLINK(...)" as typed
    ds = io.load_dataset(HOSTILE / "formula_in_input")
    assert ds["units"]["name"].tolist()[0].startswith("=HYPERLINK")
    assert ds["units"]["name"].tolist()[-1] == "-5"


# --------------------------------------------------------------------------- every writer is known

# file -> why its spreadsheet writes are safe. A new writer must use io.write_table (or
# io.neutralize_text on each cell) and be added here with its reason.
AUDITED_WRITERS = {
    "io/write.py": "write_table: neutralize_formulas on every text cell and header (tested above)",
    "io/exports.py": (
        "export_meeting_xlsx: neutralize_text on every cell and the title (tested above)"
    ),
    "io/workbooks.py": (
        "write_table_workbook: neutralize_formulas on every text cell and header, "
        "neutralize_text on the title (tests/io/test_workbooks.py)"
    ),
    "io/budget.py": (
        "the budget request: neutralize_text on every cell it writes; its monthly "
        "sheet through workbooks.fill_table (tests/io/test_workbooks.py)"
    ),
    "synth/write.py": "writes synthetic INPUT datasets (generated names and codes), not outputs",
    "io/templates.py": "writes empty input templates: fixed headers and notes from schema.py",
    "io/meeting.py": (
        "the meeting workbook's committee part: neutralize_text on the titles and the "
        "round's values; the lists are written by exports.fill_sheet (tested above)"
    ),
    "io/notice.py": "the public notice as a workbook: neutralize_text on every text cell",
}
WRITE_CALL = re.compile(
    r"\.to_csv\(|\.to_excel\(|csv\.writer\(|csv\.DictWriter\(|Workbook\(|ExcelWriter\(|xlsxwriter"
    r"|\.write_csv\(|FORMAT\s*\(?\s*CSV|\.write_xlsx\("
)


def test_every_spreadsheet_writer_in_the_package_is_audited():
    found = set()
    for f in sorted(PACKAGE.rglob("*.py")):
        text = f.read_text(encoding="utf-8")
        if WRITE_CALL.search(text):
            found.add(str(f.relative_to(PACKAGE)))
    assert found == set(AUDITED_WRITERS), (
        "a module writes CSV/XLSX itself: route it through fpanalysis.io.write_table or "
        "neutralize_text, then list it in AUDITED_WRITERS"
    )


def test_templates_hold_no_formula_text():
    from fpanalysis.io import templates

    wb = openpyxl.load_workbook(_io.BytesIO(templates.build_workbook_bytes()))
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
    assert cells and not [c.coordinate for c in cells if c.data_type == "f"]
    assert not [
        c.value for c in cells if isinstance(c.value, str) and c.value.startswith(io.FORMULA_START)
    ]


# --------------------------------------------------------------------------- YAML


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "reward_monthly_yuan: !!python/object/apply:os.system ['echo owned']\n",
            id="object-apply",
        ),
        pytest.param(
            "reward_monthly_yuan: !!python/object/new:subprocess.Popen [['echo', 'owned']]\n",
            id="object-new",
        ),
        pytest.param("reward_monthly_yuan: !!python/name:os.system\n", id="name"),
    ],
)
def test_python_tags_in_a_parameter_file_are_refused(tmp_path, text):
    f = tmp_path / "evil.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ParamError) as e:
        load_params(f)
    assert e.value.rule == "yaml-unsafe-tag" and e.value.row == 1 and e.value.file == str(f)
    assert "不允许的标签" in e.value.message_zh and "not allowed" in e.value.message_en


def test_yaml_alias_bomb_ends_quickly(tmp_path):
    names = load_params().names
    lines = [f"{names[0]}: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for k in range(1, 9):  # 10**9 leaves if expanded
        lines.append(f"{names[k]}: &a{k} [" + ", ".join([f"*a{k - 1}"] * 10) + "]")
    f = tmp_path / "bomb.yaml"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    t0 = time.perf_counter()
    with pytest.raises(ParamError) as e:
        load_params(f)
    assert time.perf_counter() - t0 < 5
    assert len(e.value.text("en")) < 2000


# --------------------------------------------------------------------------- XML bombs in .xlsx

LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol;" if i == 1 else f"&lol{i - 1};") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n"
)  # &lol9; expands to 10**9 "lol"s: 3 GB
XXE = '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY lol9 SYSTEM "file:///etc/passwd">]>\n'


def _bomb_workbook(path: Path, where: str, dtd: str, payload: str = "&lol9;") -> Path:
    """A real workbook whose shared strings, sheet or workbook XML carries ``dtd``."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "units"
    ws.append(["unit_id", "name", "kind"])
    ws.append(["U1", "办公室", "section"])
    buf = _io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(_io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for n in src.namelist():
            data = src.read(n)
            if where == "sharedStrings":
                if n == "[Content_Types].xml":
                    data = data.replace(
                        b"</Types>",
                        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                    )
                elif n == "xl/_rels/workbook.xml.rels":
                    data = data.replace(
                        b"</Relationships>",
                        b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/'
                        b'officeDocument/2006/relationships/sharedStrings" '
                        b'Target="sharedStrings.xml"/>'
                        b"</Relationships>",
                    )
                elif n == "xl/worksheets/sheet1.xml":
                    data = re.sub(
                        rb'<c r="B2" t="inlineStr"><is><t>[^<]*</t></is></c>',
                        b'<c r="B2" t="s"><v>0</v></c>',
                        data,
                    )
            elif where == "sheet" and n == "xl/worksheets/sheet1.xml":
                data = dtd.encode() + re.sub(rb"^<\?xml[^>]*\?>", b"", data).replace(
                    "办公室".encode(), payload.encode()
                )
            elif where == "workbook" and n == "xl/workbook.xml":
                data = dtd.encode() + re.sub(rb"^<\?xml[^>]*\?>", b"", data)
            dst.writestr(n, data)
        if where == "sharedStrings":
            dst.writestr(
                "xl/sharedStrings.xml",
                dtd + '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                'count="1" uniqueCount="1"><si><t>' + payload + "</t></si></sst>",
            )
    return path


@pytest.mark.parametrize(
    "where,dtd",
    [
        pytest.param("sharedStrings", LAUGHS, id="laughs-in-sharedStrings"),
        pytest.param("sheet", LAUGHS, id="laughs-in-sheet"),
        pytest.param("workbook", LAUGHS, id="laughs-in-workbook"),
        pytest.param("sheet", XXE, id="external-entity"),
    ],
)
def test_xml_bomb_refused_quickly_in_bounded_memory(capsys, tmp_path, where, dtd):
    book = _bomb_workbook(tmp_path / "bomb.xlsx", where, dtd)
    tracemalloc.start()
    try:
        with pytest.raises(DataError) as e:
            io.load_dataset(book)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # refused before the entities expand: the memory shows it (no timing: a busy machine varies)
    assert peak < 50 * 2**20, peak
    assert (e.value.rule, e.value.file) == ("unsafe_xml", "bomb.xlsx")
    assert "XML 炸弹" in e.value.message_zh and "XML bomb" in e.value.message_en
    rc = main(["validate", str(book)])
    err = capsys.readouterr().err
    assert rc == 1 and "XML 炸弹" in err and "Traceback" not in err


def test_the_same_workbook_without_the_bomb_loads(tmp_path):
    # the bomb builder makes a sound workbook when given an empty DTD: the test above
    # fails for the entities, not for a broken file
    for where in ("sharedStrings", "sheet", "workbook"):
        book = _bomb_workbook(tmp_path / f"{where}.xlsx", where, '<?xml version="1.0"?>\n', "甲")
        ds = io.load_dataset(book)
        expected = "办公室" if where == "workbook" else "甲"
        assert ds["units"]["name"].tolist() == [expected], where


# --------------------------------------------------------------------------- zip bombs in .xlsx


def _inflating_workbook(path: Path, inflated_bytes: int) -> Path:
    """A sound workbook plus a part of ``inflated_bytes`` spaces (deflate: about 1000 to 1)."""
    wb = openpyxl.Workbook()
    wb.active.title = "units"
    wb.active.append(["unit_id", "name", "kind"])
    buf = _io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(_io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for n in src.namelist():
            dst.writestr(n, src.read(n))
        with dst.open("xl/media/padding.xml", "w") as f:  # streamed: the test stays small
            chunk = b" " * 2**20
            for _ in range(inflated_bytes // 2**20):
                f.write(chunk)
    return path


def test_zip_bomb_refused_before_inflating(capsys, tmp_path, monkeypatch):
    # the limits are lowered so the test builds 8 MB, not the real 64 MB threshold
    monkeypatch.setattr(read, "XLSX_BOMB_MIN_BYTES", 4 * 2**20)
    book = _inflating_workbook(tmp_path / "bomb.xlsx", 8 * 2**20)
    assert book.stat().st_size < 100_000
    with pytest.raises(DataError) as e:
        io.load_dataset(book)
    assert (e.value.rule, e.value.value) == ("xlsx_too_large", "xl/media/padding.xml")
    assert "疑似“压缩炸弹”" in e.value.message_zh and "zip bomb" in e.value.message_en
    monkeypatch.setattr(read, "XLSX_BOMB_MIN_BYTES", 16 * 2**20)  # the same file under the limit
    assert list(io.load_dataset(book)) == ["units"]


def test_workbook_too_large_for_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(read, "XLSX_MAX_BYTES", 2**20)
    book = _inflating_workbook(tmp_path / "big.xlsx", 2 * 2**20)
    with pytest.raises(DataError) as e:
        io.load_dataset(book)
    assert e.value.rule == "xlsx_too_large" and "导出为 CSV 或 Parquet" in e.value.message_zh
