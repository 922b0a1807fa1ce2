"""Excel/CSV input templates and the data dictionary, built from the schema."""

import io
import zipfile

import openpyxl
import pytest

from fpanalysis.cli import main
from fpanalysis.core import config, schema
from fpanalysis.io import templates


@pytest.fixture(autouse=True)
def _no_epoch(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@pytest.fixture(scope="module")
def workbook_bytes():
    return templates.build_workbook_bytes()


@pytest.fixture(scope="module")
def wb(workbook_bytes):
    return openpyxl.load_workbook(io.BytesIO(workbook_bytes))


def test_one_sheet_per_table_named_in_chinese(wb):
    assert wb.sheetnames == [t.zh for t in schema.TABLES_LIST]


@pytest.mark.parametrize("table", [t.name for t in schema.TABLES_LIST])
def test_sheet_header_is_the_only_row(wb, table):
    t = schema.TABLES[table]
    ws = wb[t.zh]
    assert ws.max_row == 1
    assert [c.value for c in ws[1]] == [c.zh for c in t.columns]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    for cell, col in zip(ws[1], t.columns, strict=True):
        assert cell.comment is not None
        assert f"英文名：{col.name}" in cell.comment.text
        assert ("必填：是" in cell.comment.text) == col.required


def _validations(ws):
    return {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}


@pytest.mark.parametrize(
    "sheet,cells,kind,formula1,formula2",
    [
        # persons.sex, 4th column
        pytest.param("人员", "D2:D10000", "list", '"女,男"', None, id="sex"),
        # persons.category
        pytest.param(
            "人员", "G2:G10000", "list", '"干部职工,流动人口,系统外"', None, id="category"
        ),
        # pregnancies.county_approved (bool)
        pytest.param("妊娠", "H2:H10000", "list", '"是,否"', None, id="bool-yes-no"),
        # gestation_weeks 0-45
        pytest.param("妊娠", "F2:F10000", "whole", "0", "45", id="int-bounds"),
        # monthly_income >= 0
        pytest.param("低保户", "G2:G10000", "decimal", "0", None, id="number-min"),
    ],
)
def test_data_validation(wb, sheet, cells, kind, formula1, formula2):
    dv = _validations(wb[sheet])[cells]
    assert (dv.type, dv.formula1, dv.formula2) == (kind, formula1, formula2)
    assert dv.allow_blank


def test_set_and_text_columns_have_no_list(wb):
    # households.special_groups (set, column I) and name (text) take free entry
    sq = set(_validations(wb["低保户"]))
    assert "I2:I10000" not in sq and "B2:B10000" not in sq


def test_id_number_column_shows_18_characters(wb):
    assert wb["人员"].column_dimensions["C"].width >= 22


def test_workbook_bytes_are_reproducible(workbook_bytes, monkeypatch):
    assert templates.build_workbook_bytes() == workbook_bytes
    with zipfile.ZipFile(io.BytesIO(workbook_bytes)) as z:
        assert {i.date_time for i in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        assert b"2000-01-01T00:00:00Z" in z.read("docProps/core.xml")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14T22:13:20Z
    other = templates.build_workbook_bytes()
    assert other != workbook_bytes and other == templates.build_workbook_bytes()
    with zipfile.ZipFile(io.BytesIO(other)) as z:
        assert b"2023-11-14T22:13:20Z" in z.read("docProps/core.xml")


def test_csv_template():
    assert (
        templates.csv_template(schema.TABLES["children"])
        == "\ufeff子女编号,夫妻编号,出生日期,性别\n".encode()
    )


def test_blank_templates_load_as_empty_tables(tmp_path):
    from fpanalysis.io import load_dataset

    templates.write_templates(tmp_path, None)
    for path in (tmp_path / templates.WORKBOOK_NAME, tmp_path / templates.CSV_DIR):
        ds = load_dataset(path)
        assert sorted(ds) == sorted(schema.TABLES)
        for name, df in ds.items():
            assert len(df) == 0 and list(df.columns) == schema.TABLES[name].names


def test_filled_template_loads(tmp_path, workbook_bytes):
    from fpanalysis.io import load_dataset

    wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes))
    wb["人员"].append(
        ["P1", "张三丰", "11010519491231002X", "女", "1949-12-31", None, "系统外", None, None]
    )
    path = tmp_path / "filled.xlsx"
    wb.save(path)
    df = load_dataset(path, tables=["persons"])["persons"]
    row = df.iloc[0]
    assert (row["person_id"], row["sex"], row["category"], str(row["birth_date"].date())) == (
        "P1",
        "F",
        "outside",
        "1949-12-31",
    )
    assert df.index.tolist() == [2]


def test_data_dictionary_lists_every_column():
    md = templates.data_dictionary()
    for t in schema.TABLES_LIST:
        assert f"\n## {t.name}\n" in md
        for c in t.columns:
            assert f"| `{c.name}` | {c.zh} |" in md
    assert "`sex_selection` 选择性别" in md
    assert "`persons.person_id`" in md


def test_committed_templates_are_up_to_date(tmp_path):
    """data/templates and docs/data_dictionary.md match the schema.

    Run `fpanalysis templates` if not.
    """
    from fpanalysis.io.guard import MARKER, mark_written

    dd = tmp_path / "data_dictionary.md"
    written = templates.write_templates(tmp_path / "templates", dd)
    # the marker `fpanalysis templates` leaves (it may write the folder again while unchanged)
    mark_written(tmp_path / "templates", [p for p in written if p != dd], "templates")
    written.append(tmp_path / "templates" / MARKER)
    stale = []
    for p in written:
        committed = (
            templates.DICTIONARY_PATH
            if p == dd
            else config.TEMPLATES_DIR / p.relative_to(tmp_path / "templates")
        )
        if not committed.exists() or committed.read_bytes() != p.read_bytes():
            stale.append(str(committed))
    assert not stale, f"out of date, run `python -m fpanalysis templates`: {stale}"
    extra = {
        p.relative_to(config.TEMPLATES_DIR) for p in config.TEMPLATES_DIR.rglob("*") if p.is_file()
    }
    assert extra == {p.relative_to(tmp_path / "templates") for p in written if p != dd}


def test_cli_writes_into_the_chosen_folder(tmp_path, capsys):
    assert main(["templates", "--out", str(tmp_path), "--lang", "en"]) == 0
    assert (tmp_path / templates.WORKBOOK_NAME).exists()
    assert (tmp_path / "csv" / "persons.csv").exists()
    assert (tmp_path / "data_dictionary.md").read_text(
        encoding="utf-8"
    ) == templates.data_dictionary()
    assert "wrote" in capsys.readouterr().out
