"""Reading datasets and writing outputs (fpanalysis.io). Hand-computed, table-driven."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fpanalysis import io
from fpanalysis.core import schema
from fpanalysis.core.errors import DataError, UsageError

BAD = Path(__file__).resolve().parents[1] / "fixtures" / "bad"


def _s(values):
    return pd.Series(values, dtype="str")


# --------------------------------------------------------------------------- cell parsers

DATE_CASES = [
    ("2024-03-01", "2024-03-01"),
    ("2024/3/1", "2024-03-01"),
    ("2024年3月1日", "2024-03-01"),
    ("2024.3.1", "2024-03-01"),
    ("20240301", "2024-03-01"),
    (" 2024-03-01 ", "2024-03-01"),
    ("２０２４－０３－０１", "2024-03-01"),  # full-width, as an IME types it
    ("2024-03-01 00:00:00", "2024-03-01"),
    ("45352", "2024-03-01"),  # Excel serial: 1899-12-30 + 45352 days
    ("45352.75", "2024-03-01"),  # a serial with a time of day
    ("2024-02-29", "2024-02-29"),
    ("2023-02-29", None),  # not a leap year
    ("2024-13-01", None),
    ("1/3/2024", None),  # day-first or month-first? refused rather than guessed
    ("明天", None),
]


@pytest.mark.parametrize("text,expected", [pytest.param(*c, id=c[0]) for c in DATE_CASES])
def test_parse_dates(text, expected):
    d, bad = io.parse_dates(_s([text]))
    if expected is None:
        assert bad.tolist() == [True] and d.isna().all()
    else:
        assert bad.tolist() == [False]
        assert d.iloc[0] == pd.Timestamp(expected)
    assert str(d.dtype) == "datetime64[ns]"


def test_parse_dates_empty_is_missing_not_bad():
    d, bad = io.parse_dates(_s(["", None, "  "]))
    assert d.isna().all() and not bad.any()


BOOL_CASES = [
    ("是", True),
    ("否", False),
    ("Y", True),
    ("n", False),
    ("yes", True),
    ("NO", False),
    ("True", True),
    ("false", False),
    ("1", True),
    ("0", False),
    (" 是 ", True),
    ("", None),
    ("maybe", "bad"),
    ("2", "bad"),
]


@pytest.mark.parametrize("text,expected", [pytest.param(*c, id=repr(c[0])) for c in BOOL_CASES])
def test_parse_bools(text, expected):
    b, bad = io.parse_bools(_s([text]))
    if expected == "bad":
        assert bad.tolist() == [True] and b.isna().all()
    elif expected is None:
        assert not bad.any() and b.isna().all()
    else:
        assert not bad.any() and b.iloc[0] == expected
    assert str(b.dtype) == "boolean"


INT_CASES = [
    ("3", 3),
    (" 3 ", 3),
    ("3.0", 3),
    ("1,200", 1200),
    ("-2", -2),
    ("３", 3),
    ("3.5", "bad"),
    ("三", "bad"),
    ("1,20", "bad"),
    ("", None),
]


@pytest.mark.parametrize("text,expected", [pytest.param(*c, id=repr(c[0])) for c in INT_CASES])
def test_parse_ints(text, expected):
    i, bad = io.parse_ints(_s([text]))
    if expected == "bad":
        assert bad.tolist() == [True] and i.isna().all()
    elif expected is None:
        assert not bad.any() and i.isna().all()
    else:
        assert not bad.any() and i.iloc[0] == expected
    assert str(i.dtype) == "Int64"


NUMBER_CASES = [
    ("1234.5", 1234.5),
    (" 7 ", 7.0),
    ("1,234.50", 1234.5),
    (".5", 0.5),
    ("0", 0.0),
    ("abc", "bad"),
    ("nan", "bad"),
    ("inf", "bad"),
    ("12元", "bad"),
    ("", None),
]


@pytest.mark.parametrize("text,expected", [pytest.param(*c, id=repr(c[0])) for c in NUMBER_CASES])
def test_parse_numbers(text, expected):
    x, bad = io.parse_numbers(_s([text]))
    if expected == "bad":
        assert bad.tolist() == [True] and x.isna().all()
    elif expected is None:
        assert not bad.any() and x.isna().all()
    else:
        assert not bad.any() and x.iloc[0] == expected


ENUM_CASES = [
    ("女", "F"),
    ("F", "F"),
    ("f", "F"),
    ("男", "M"),
    (" 男 ", "M"),
    ("X", "X"),
    ("女性", "女性"),
]


@pytest.mark.parametrize("text,expected", [pytest.param(*c, id=repr(c[0])) for c in ENUM_CASES])
def test_parse_enum_label_or_code(text, expected):
    # Unknown values are kept as written so that validation can report them.
    assert io.parse_enum(_s([text]), schema.TABLES["persons"].column("sex")).tolist() == [expected]


SET_CASES = [
    ("寡、残", "disabled;widow"),
    ("widow;disabled", "disabled;widow"),
    ("孤", "orphan"),
    ("鳏；其他", "other;widower"),
    ("残、残", "disabled"),
    ("寡、外星", "widow;外星"),
]


@pytest.mark.parametrize("text,expected", [pytest.param(*c, id=c[0]) for c in SET_CASES])
def test_parse_set(text, expected):
    col = schema.TABLES["households"].column("special_groups")
    assert io.parse_set(_s([text]), col).tolist() == [expected]


# --------------------------------------------------------------------------- reading


def _write(d: Path, name: str, text: str, encoding="utf-8") -> Path:
    p = d / name
    p.write_bytes(text.encode(encoding))
    return p


def test_all_valid_fixture_loads_typed_in_schema_order():
    ds = io.load_dataset(BAD / "all_valid")
    assert list(ds) == list(schema.TABLES)
    assert ds.absent == ()
    for t, df in ds.items():
        assert list(df.columns) == schema.TABLES[t].names, t
        assert {c: str(v) for c, v in df.dtypes.items()} == {
            c.name: c.dtype for c in schema.TABLES[t].columns
        }
        assert df.index.name == "row" and df.index[0] == 2
    assert ds["households"].loc[2, "special_groups"] == "disabled"
    assert ds["surveys"]["problem_found"].tolist() == [False, True]


def test_gb18030_chinese_headers_and_labels_load_like_english():
    zh = io.load_dataset(BAD / "gb18030_zh")
    en = io.load_dataset(BAD / "all_valid", tables=["units", "persons"])
    assert zh.files == {"units": "单位.csv", "persons": "人员.csv"}
    pd.testing.assert_frame_equal(zh["units"], en["units"])
    # rows 2, 3 of the English file are P1, P2; 1990/5/12 and 2012年7月1日 parse,
    # the id's x is upper-cased
    pd.testing.assert_frame_equal(zh["persons"], en["persons"].loc[[2, 3]])
    assert not [p for p in zh.problems if p.severity != "note"]


def test_bom_csv_header_is_clean():
    bom = io.load_dataset(BAD / "bom")
    pd.testing.assert_frame_equal(
        bom["units"], io.load_dataset(BAD / "all_valid", ["units"])["units"]
    )
    assert (BAD / "bom" / "units.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_xlsx_with_chinese_sheet_names():
    ds = io.load_dataset(BAD / "xlsx" / "zh_sheets.xlsx")
    assert set(ds) == {"units", "check_rounds"}
    assert ds.files["units"] == "zh_sheets.xlsx[单位]"
    assert ds["units"]["kind"].tolist() == ["section", "affiliated"]
    assert ds["check_rounds"].loc[2, "end_date"] == pd.Timestamp("2024-03-15")
    # the instructions sheet is not a table: a note, nothing else
    assert [(p.rule, p.severity) for p in ds.problems] == [("unknown_sheet", "note")]


def test_xlsx_excel_serial_and_real_date_cells():
    ds = io.load_dataset(BAD / "xlsx" / "excel_serial.xlsx")
    r = ds["check_rounds"]
    assert r["start_date"].tolist() == [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-09-01")]
    assert r["end_date"].tolist() == [pd.Timestamp("2024-03-15"), pd.Timestamp("2024-09-15")]
    assert not ds.problems


@pytest.mark.parametrize(
    "folder,rule,en_text",
    [
        pytest.param(
            "garbage", "unreadable_file", "not a text CSV file", id="binary-garbage-named-csv"
        ),
        pytest.param(
            "empty", "empty_file", "the file is empty or row 1 has no header", id="empty-file"
        ),
    ],
)
def test_unusable_file_is_a_table_error_not_a_crash(folder, rule, en_text):
    ds = io.load_dataset(BAD / folder)
    assert "persons" not in ds and "units" in ds
    [p] = [p for p in ds.problems if p.severity == "error"]
    assert (p.table, p.row, p.rule, p.file) == ("persons", None, rule, "persons.csv")
    assert en_text in p.message_en and p.message_zh


def test_header_only_file_is_a_valid_empty_table():
    ds = io.load_dataset(BAD / "header_only")
    assert len(ds["persons"]) == 0
    pd.testing.assert_frame_equal(ds["persons"], schema.empty_frame("persons"))


def test_missing_required_column_is_a_table_error():
    ds = io.load_dataset(BAD / "missing_column")
    assert "persons" not in ds and len(ds.raw["persons"]) == 4
    [p] = ds.problems
    assert (p.rule, p.column, p.file) == ("missing_column", "sex", "persons.csv")
    assert "性别" in p.message_zh and "'sex'" in p.message_en


def test_row_numbers_count_blank_rows_and_multiline_cells(tmp_path):
    # row 1 header; row 2 U1; row 3 blank; row 4 U2 with a quoted line break; row 5 U3
    _write(
        tmp_path,
        "units.csv",
        'unit_id,name,kind\nU1,a,section\n\nU2,"two\nlines",section\nU3,c,股室\n',
    )
    df = io.load_dataset(tmp_path)["units"]
    assert df.index.tolist() == [2, 4, 5]
    assert df.loc[4, "name"] == "two\nlines"


def test_unknown_column_dropped_with_warning_and_optional_column_added(tmp_path):
    _write(tmp_path, "units.csv", "Unit_ID , 单位名称,kind,备注\nU1,a,section,x\n")
    ds = io.load_dataset(tmp_path)
    assert list(ds["units"].columns) == schema.TABLES["units"].names
    assert ds["units"]["head_name"].isna().all()
    [p] = ds.problems
    assert (p.severity, p.rule, p.value) == ("warning", "unknown_column", "备注")
    assert list(ds.raw["units"].columns) == ["Unit_ID", "单位名称", "kind", "备注"]


def test_bad_cell_becomes_problem_with_row_key_and_raw_value(tmp_path):
    _write(
        tmp_path,
        "check_rounds.csv",
        "round_id,start_date,end_date\nR1,2024-03-01,2024-03-15\nR2,2024-3-32,2024-04-01\n",
    )
    ds = io.load_dataset(tmp_path)
    [p] = ds.problems
    assert (p.table, p.row, p.key, p.column, p.value, p.rule) == (
        "check_rounds",
        3,
        "R2",
        "start_date",
        "2024-3-32",
        "date",
    )
    assert pd.isna(ds["check_rounds"].loc[3, "start_date"])


def test_duplicate_column_under_two_names(tmp_path):
    _write(tmp_path, "units.csv", "unit_id,单位编号,name,kind\nU1,U1,a,section\n")
    ds = io.load_dataset(tmp_path)
    assert "units" not in ds
    assert [p.rule for p in ds.problems] == ["duplicate_column"]


def test_two_files_for_one_table_is_an_error(tmp_path):
    _write(tmp_path, "units.csv", "unit_id,name,kind\nU1,a,section\n")
    _write(tmp_path, "单位.csv", "unit_id,name,kind\nU1,a,section\n")
    with pytest.raises(DataError) as e:
        io.load_dataset(tmp_path)
    assert e.value.rule == "duplicate_table"


def test_missing_path_and_non_dataset():
    with pytest.raises(DataError) as e:
        io.load_dataset(BAD / "no_such_folder")
    assert e.value.rule == "no_dataset"
    with pytest.raises(DataError):
        io.load_dataset(BAD / "make_fixtures.py")


def test_damaged_workbook_is_a_clear_error(tmp_path):
    p = tmp_path / "book.xlsx"
    p.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError) as e:
        io.load_dataset(p)
    assert e.value.rule == "unreadable_file" and "Excel" in e.value.message_en


def test_tables_argument_restricts_and_absent_lists_the_rest():
    ds = io.load_dataset(BAD / "all_valid", tables=["人员", "couples"])
    assert list(ds) == ["persons", "couples"] and ds.absent == ()
    ds2 = io.load_dataset(BAD / "bom", tables=["units", "persons"])
    assert ds2.absent == ("persons",)
    with pytest.raises(UsageError):
        io.load_dataset(BAD / "bom", tables=["nonsense"])


def test_sha256_of_every_input_file():
    ds = io.load_dataset(BAD / "gb18030_zh")
    assert ds.sha256 == {
        name: hashlib.sha256((BAD / "gb18030_zh" / name).read_bytes()).hexdigest()
        for name in ("人员.csv", "单位.csv")
    }
    book = BAD / "xlsx" / "zh_sheets.xlsx"
    assert io.load_dataset(book).sha256 == {
        "zh_sheets.xlsx": hashlib.sha256(book.read_bytes()).hexdigest()
    }


def test_parquet_folder_loads_like_csv(tmp_path):
    en = io.load_dataset(BAD / "all_valid")
    for t in ("persons", "households", "pregnancies"):
        io.write_table(en[t], tmp_path / f"{t}.parquet")
    pq = io.load_dataset(tmp_path)
    for t in ("persons", "households", "pregnancies"):
        pd.testing.assert_frame_equal(pq[t], en[t])


def test_openpyxl_uses_defusedxml():
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML


# --------------------------------------------------------------------------- writing


def test_csv_bytes_bom_lf_zh_labels_and_formula_neutralised(tmp_path):
    df = pd.DataFrame(
        {
            "sex": ["F", "M"],
            "grade": ["pass", None],
            "remark": ['=HYPERLINK("x")', "-3"],
            "amount": [-3, 4],
            "date": pd.to_datetime(["2024-03-01", None]),
            "veto": pd.array([True, None], dtype="boolean"),
        }
    )
    p = io.write_table(df, tmp_path / "o.csv", lang="zh")
    assert p.read_bytes() == (
        "\ufeff性别,等次,remark,amount,日期,一票否决\n"
        '女,合格,"\'=HYPERLINK(""x"")",-3,2024-03-01,是\n'
        "男,,'-3,4,,\n"
    ).encode("utf-8")


def test_csv_english_keeps_codes(tmp_path):
    p = io.write_table(pd.DataFrame({"sex": ["F"], "score": [91.5]}), tmp_path / "o.csv")
    assert p.read_text(encoding="utf-8-sig") == "sex,score\nF,91.5\n"


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("ext", [".csv", ".xlsx", ".parquet"])
def test_roundtrip_every_table_through_writer_and_reader(tmp_path, ext, lang):
    ds = io.load_dataset(BAD / "all_valid")
    for t, df in ds.items():
        name = (schema.TABLES[t].zh if lang == "zh" else t) + ext
        io.write_table(df, tmp_path / name, lang=lang, table=t)
    if ext == ".xlsx":  # one workbook per table: read each back as a dataset of one sheet
        back = {
            t: io.load_dataset(tmp_path / ((schema.TABLES[t].zh if lang == "zh" else t) + ext))[t]
            for t in ds
        }
    else:
        back = io.load_dataset(tmp_path)
    for t in ds:
        pd.testing.assert_frame_equal(back[t], ds[t], obj=t)


def test_xlsx_bytes_identical_on_rerun_with_fixed_dates(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    df = io.load_dataset(BAD / "all_valid")["persons"]
    a = io.write_table(df, tmp_path / "a.xlsx", lang="zh", table="persons").read_bytes()
    b = io.write_table(df, tmp_path / "b.xlsx", lang="zh", table="persons").read_bytes()
    assert a == b
    with zipfile.ZipFile(tmp_path / "a.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14T22:13:20Z
    c = io.write_table(df, tmp_path / "c.xlsx", lang="zh", table="persons").read_bytes()
    assert c != a
    with zipfile.ZipFile(tmp_path / "c.xlsx") as z:
        assert "2023-11-14T22:13:20Z" in z.read("docProps/core.xml").decode()


def test_xlsx_sheet_name_and_neutralised_text(tmp_path):
    import openpyxl

    df = pd.DataFrame({"unit_id": ["U1"], "name": ["@SUM(A1)"], "kind": ["section"]})
    p = io.write_table(df, tmp_path / "u.xlsx", lang="zh", table="units")
    wb = openpyxl.load_workbook(p)
    ws = wb["单位"]
    assert [c.value for c in ws[1]] == ["单位编号", "单位名称", "单位类型"]
    assert [c.value for c in ws[2]] == ["U1", "'@SUM(A1)", "股室"]
    assert ws["B2"].data_type == "s"


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path):
    p = tmp_path / "sub" / "o.csv"
    io.write_table(pd.DataFrame({"a": [1]}), p)
    io.write_table(pd.DataFrame({"a": [2]}), p)
    assert p.read_text(encoding="utf-8-sig") == "a\n2\n"
    assert [f.name for f in p.parent.iterdir()] == ["o.csv"]


def test_unsupported_extension_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError) as e:
        io.write_table(pd.DataFrame({"a": [1]}), tmp_path / "o.txt")
    assert e.value.exit_code == 2


def test_index_written_only_when_meaningful(tmp_path):
    df = pd.DataFrame({"score": [1.5]}, index=pd.Index(["U1"], name="unit_id"))
    assert (
        io.write_table(df, tmp_path / "a.csv").read_text(encoding="utf-8-sig")
        == "unit_id,score\nU1,1.5\n"
    )
    df2 = pd.DataFrame({"score": [1.5]}, index=pd.Index([7], name="row"))
    assert io.write_table(df2, tmp_path / "b.csv").read_text(encoding="utf-8-sig") == "score\n1.5\n"


def test_localize_set_and_ambiguous_kind():
    df = pd.DataFrame({"special_groups": ["disabled;widow", None], "kind": ["section", "baseline"]})
    out = io.localize(df, "zh")
    assert out.columns.tolist() == ["特困类别", "单位类型"]
    assert out["特困类别"].tolist()[0] == "残、寡" and pd.isna(out["特困类别"].tolist()[1])
    # `kind` is in units and surveys; codes do not clash, so both translate
    assert out["单位类型"].tolist() == ["股室", "年初摸底"]
    assert io.localize(df, "zh", table="surveys").columns.tolist() == ["特困类别", "调查类型"]


def test_localize_set_with_repeated_index_labels():
    df = pd.DataFrame({"special_groups": ["orphan", "widow;other", None]}, index=[5, 5, 6])
    assert io.localize(df, "zh")["特困类别"].tolist()[:2] == ["孤", "寡、其他"]


def test_xlsx_row_numbers_are_sheet_rows(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "单位"
    ws.append(["单位编号", "单位名称", "单位类型"])
    ws.append(["U1", "a", "股室"])
    ws.append([])  # row 3 blank
    ws["A4"], ws["B4"], ws["C4"] = "U2", "b", "bad-kind"
    wb.save(tmp_path / "b.xlsx")
    ds = io.load_dataset(tmp_path / "b.xlsx")
    assert ds["units"].index.tolist() == [2, 4]
    from fpanalysis.io.validate import validate_dataset

    [p] = validate_dataset(ds).errors
    assert (p.row, p.column, p.value, p.file) == (4, "kind", "bad-kind", "b.xlsx[单位]")


@settings(max_examples=60, deadline=None)
@given(
    day=st.dates(
        min_value=pd.Timestamp("1900-03-01").date(), max_value=pd.Timestamp("2099-12-31").date()
    ),
    style=st.sampled_from(["iso", "slash", "zh", "compact", "serial"]),
)
def test_parse_dates_every_accepted_spelling_of_a_day(day, style):
    text = {
        "iso": day.isoformat(),
        "slash": f"{day.year}/{day.month}/{day.day}",
        "zh": f"{day.year}年{day.month}月{day.day}日",
        "compact": day.strftime("%Y%m%d"),
        "serial": str((pd.Timestamp(day) - pd.Timestamp("1899-12-30")).days),
    }[style]
    # Excel serials are read from 3654 (1910-01-01): a smaller number is no date
    assume(style != "serial" or int(text) >= 3654)
    d, bad = io.parse_dates(_s([text]))
    assert not bad.any() and d.iloc[0] == pd.Timestamp(day)
