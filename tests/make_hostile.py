"""Write the hostile-input fixtures of tests/test_hostile.py into tests/fixtures/hostile/.

Each folder is one small dataset (or holds one ``book.xlsx`` workbook) with ONE
kind of hostile input, named by the folder; ``params/`` holds broken parameter
files. Everything is written byte for byte the same on every run (fixed zip
times, fixed workbook properties, no randomness), so the committed files only
change when this script does. Big inputs (a million rows, an XML bomb, an
overlong cell) are NOT committed: the tests build them under ``tmp_path``.

Run ``.venv/bin/python tests/make_hostile.py`` to regenerate; README.md in the
folder lists the cases and what each must end in.

Resident ID numbers are built here with the GB 11643 check character
(rulebook §8), independently of fpanalysis.core.ids.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent / "fixtures" / "hostile"
W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
FIXED = dt.datetime(2000, 1, 1)


def rid(region: str, birth: str, seq: int) -> str:
    """An 18-character ID: region, YYYYMMDD, 3-digit sequence (odd = male), check character."""
    body = f"{region}{birth.replace('-', '')}{seq:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, W, strict=True)) % 11]


def rid_ending_x(region: str, birth: str, odd: bool) -> str:
    """The first ID of that person whose check character is X (for the lowercase-x case)."""
    for seq in range(1 if odd else 2, 1000, 2):
        n = rid(region, birth, seq)
        if n.endswith("X"):
            return n
    raise AssertionError("no sequence gives X")  # pragma: no cover


ID_P1 = rid("110105", "1990-05-12", 2)  # woman: 110105199005120022
ID_P2 = rid_ending_x("110105", "1988-03-01", odd=True)  # man, check character X
ID_P3 = rid("420106", "1992-07-20", 4)  # woman

UNITS = (
    "unit_id,name,kind,head_name,liaison_name\n"
    "U1,办公室,section,张三,李四\n"
    "U2,福利院,affiliated,王五,赵六\n"
)
PERSONS_HEAD = "person_id,name,id_number,sex,birth_date,unit_id,category,hire_date,leave_date\n"


def fullwidth(s: str) -> str:
    """ASCII digits and letters -> their full-width forms (what a Chinese IME types)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in s)


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            zi = zipfile.ZipInfo(name, date_time=FIXED.timetuple()[:6])
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data)
    return buf.getvalue()


def workbook(
    sheets: dict[str, list[list]],
    merges: dict[str, list[str]] | None = None,
    formats: dict[str, dict[str, str]] | None = None,
) -> bytes:
    """An .xlsx with the given sheets (rows of cell values), merged ranges and number formats
    (sheet -> {cell: format}), fixed bytes. A value ``"=..."`` is a formula, saved (as a
    script saves it) with no cached value."""
    import openpyxl
    from openpyxl.writer.excel import ExcelWriter

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
        for rng in (merges or {}).get(title, []):
            ws.merge_cells(rng)
        for cell, fmt in (formats or {}).get(title, {}).items():
            ws[cell].number_format = fmt
    wb.properties.creator = "tests/make_hostile.py"
    wb.properties.created = FIXED
    wb.properties.modified = FIXED
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()  # not wb.save: it stamps the clock
    raw.seek(0)
    with zipfile.ZipFile(raw) as src:
        return _zip({i.filename: src.read(i.filename) for i in src.infolist()})


def garbage(n: int, seed: int = 7) -> bytes:
    """Deterministic bytes that are no text in any encoding (a linear congruential walk)."""
    out, x = bytearray(), seed
    for _ in range(n):
        x = (1103515245 * x + 12345) % 2**31
        out.append(x >> 16 & 0xFF)
    return bytes(out)


def cases() -> dict[str, dict[str, bytes]]:
    """folder -> {file name: bytes}."""
    u8 = lambda s: s.encode("utf-8")  # noqa: E731
    c: dict[str, dict[str, bytes]] = {}

    # --- files that are not a table at all
    c["empty_file"] = {"units.csv": b""}
    c["header_only"] = {"units.csv": u8(UNITS.split("\n")[0] + "\n")}
    c["garbage_csv"] = {"units.csv": garbage(600)}
    c["utf16_csv"] = {"units.csv": UNITS.replace(",", "\t").encode("utf-16")}
    c["garbage_parquet"] = {"units.parquet": garbage(300, seed=11)}
    c["garbage_xlsx"] = {"book.xlsx": garbage(700, seed=3)}
    c["empty_xlsx"] = {"book.xlsx": b""}
    c["zip_not_workbook"] = {"book.xlsx": _zip({"readme.txt": u8("这不是工作簿\n")})}
    c["xls_named_xlsx"] = {"book.xlsx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)}

    # --- delimiters
    c["semicolon"] = {
        "units.csv": u8("unit_id;name;kind\nU1;办公室,综合;section\nU2;福利院;affiliated\n")
    }
    c["tab"] = {"units.csv": u8(UNITS.replace(",", "\t"))}
    c["semicolon_gb18030_zh"] = {
        "单位.csv": "单位编号;单位名称;单位类型\nU1;办公室;股室\nU2;福利院;局属单位\n".encode(
            "gb18030"
        )
    }
    c["crlf_bom_trailing_commas"] = {
        "units.csv": b"\xef\xbb\xbf" + u8(UNITS.replace("\n", ",,\r\n"))
    }

    # --- headers
    c["missing_column"] = {
        "persons.csv": u8(
            f"person_id,name,id_number,birth_date,category\nP1,陈一,{ID_P1},1990-05-12,outside\n"
        )
    }
    c["duplicate_header_zh"] = {
        "persons.csv": u8(
            "人员编号,姓名,姓名,性别,出生日期,人员类别\nP1,陈一,陈壹,女,1990-05-12,系统外\n"
        )
    }
    c["duplicate_header_en_zh"] = {
        "persons.csv": u8(
            "person_id,name,姓名,sex,birth_date,category\nP1,陈一,陈壹,F,1990-05-12,outside\n"
        )
    }
    c["unknown_columns"] = {
        "units.csv": u8(
            "unit_id,name,kind,备注,Remarks\nU1,办公室,section,二楼,x\nU2,福利院,affiliated,,\n"
        )
    }
    c["title_row_csv"] = {"units.csv": u8("某县民政局计生单位名单（2025年）,,\n,,\n" + UNITS)}
    c["title_row_xlsx"] = {
        "book.xlsx": workbook(
            {
                "单位": [
                    ["某县民政局计生单位名单（2025年）", None, None],
                    [None, None, None],
                    ["单位编号", "单位名称", "单位类型"],
                    ["U1", "办公室", "股室"],
                    ["U2", "福利院", "局属单位"],
                ]
            },
            {"单位": ["A1:C1"]},
        )
    }
    c["merged_header_xlsx"] = {
        "book.xlsx": workbook(
            {
                "单位": [
                    ["单位编号", "基本情况", None, "责任人", None],
                    [None, "单位名称", "单位类型", "负责人", "计生联络员"],
                    ["U1", "办公室", "股室", "张三", "李四"],
                    ["U2", "福利院", "局属单位", "王五", "赵六"],
                ]
            },
            {"单位": ["A1:A2", "B1:C1", "D1:E1"]},
        )
    }
    c["no_header_xlsx"] = {
        "book.xlsx": workbook(
            {"单位": [[None, None, None], ["U1", "办公室", "股室"], ["U2", "福利院", "局属单位"]]}
        )
    }
    c["missing_sheet_xlsx"] = {
        "book.xlsx": workbook(
            {
                "填表说明": [["请按表头填写"]],
                "人员": [
                    ["人员编号", "姓名", "身份证号", "性别", "出生日期", "人员类别"],
                    ["P1", "陈一", ID_P1, "女", dt.date(1990, 5, 12), "系统外"],
                ],
            }
        )
    }

    # --- values to normalise
    c["id_fullwidth_lowercase_x"] = {
        "persons.csv": u8(
            PERSONS_HEAD
            + f"P1,陈一,{fullwidth(ID_P1)},F,1990-05-12,,outside,,\n"
            + f"P2,刘二,{ID_P2[:-1]}x,M,1988-03-01,,outside,,\n"
            + f"P3,周三, {ID_P3[:6]} {ID_P3[6:14]} {ID_P3[14:]} ,F,1992-07-20,,outside,,\n"
        )
    }
    c["id_other_script_digits"] = {
        "persons.csv": u8(
            PERSONS_HEAD
            # Arabic-Indic and Devanagari digits: Python's int() reads them
            + f"P1,陈一,{''.join(chr(0x660 + int(d)) for d in ID_P1)},F,1990-05-12,,outside,,\n"
            + f"P3,周三,{ID_P3[:6]}{''.join(chr(0x966 + int(d)) for d in ID_P3[6:])},"
            "F,1992-07-20,,outside,,\n"
        )
    }
    c["spaces_nbsp"] = {
        "units.csv": u8(
            "unit_id,name,kind\nU1 ,办公室 ,section\u00a0\nU2\u00a0,福利院,\u3000局属单位\u3000\n"
        ),
        "persons.csv": u8(
            PERSONS_HEAD
            + f"P1\u200b,陈一,{ID_P1}\u00a0,女 ,1990-05-12,\u00a0U1,staff ,2012-07-01,\n"
            + f"P2,刘二,{ID_P2},M\u00a0,1988-03-01,U2 ,Outside,,\n"
        ),
    }
    hh = "household_id,head_name,area,size,monthly_income,application_date\n"
    c["numbers_thousands"] = {
        "households.csv": u8(
            hh
            + 'H1,甲,rural,1,"1,200",2025-01-01\n'
            + "H2,乙,rural,1,1 200.50,2025-01-01\n"
            + "H3,丙,rural,1,１２００,2025-01-01\n"
            + "H4,丁,rural,1,1\u00a0200.50,2025-01-01\n"
            + "H5,戊,rural,1,1\u202f200,2025-01-01\n"
            + "H6,己,rural,1,１，２００．５０,2025-01-01\n"
            + 'H7,庚,rural,"1,000",12 345 678.9,2025-01-01\n'
        )
    }
    c["numbers_bad_grouping"] = {
        "households.csv": u8(
            hh + "H1,甲,rural,1,1 2 0 0,2025-01-01\n" + 'H2,乙,rural,1,"12,00",2025-01-01\n'
        )
    }
    c["excel_serial_csv"] = {
        "check_rounds.csv": u8(
            "round_id,start_date,end_date\nR1,45352,45366.0\nR2,45536.75,2024-09-15\n"
        )
    }
    c["excel_serial_xlsx"] = {
        "book.xlsx": workbook(
            {
                "环孕检轮次": [
                    ["轮次编号", "开始日期", "结束日期"],
                    ["R1", 45352, 45366],
                    ["R2", 45536.75, dt.datetime(2024, 9, 15)],
                ]
            }
        )
    }

    # --- impossible dates
    c["date_before_1900"] = {"persons.csv": u8(PERSONS_HEAD + "P1,陈一,,F,1899-12-31,,outside,,\n")}
    c["excel_zero_date"] = {"persons.csv": u8(PERSONS_HEAD + "P1,陈一,,F,0,,outside,,\n")}
    c["birth_in_future"] = {"persons.csv": u8(PERSONS_HEAD + "P1,陈一,,F,2100-01-01,,outside,,\n")}
    c["date_out_of_range"] = {
        "persons.csv": u8(
            PERSONS_HEAD + "P1,陈一,,F,2999-01-01,,outside,,\nP2,刘二,,M,9999-12-31,,outside,,\n"
        )
    }

    # --- formula text in the input (spreadsheet safety of --rejects and --out)
    c["formula_in_input"] = {
        "units.csv": u8(
            'unit_id,name,kind\nU1,"=HYPERLINK(""http://example.invalid"",""点我"")",section\n'
            "U1,@SUM(1+1),section\nU3,\uff1d1+1,=2+3\nU4,-5,section\n"
        )
    }

    # --- cells read as they say, or refused (rulebook, general conventions G4, G5)
    members = u8("member_id,household_id,relation,sex\nM1,H1,head,M\nM2,H2,head,F\n")
    c["formula_no_value_xlsx"] = {
        "book.xlsx": workbook(
            {
                "低保户": [
                    ["户编号", "户主姓名", "城乡", "家庭人口", "家庭月收入", "申请日期", "在保"],
                    ["H1", "甲", "农村", 1, 1200, dt.date(2025, 1, 1), "=TRUE()"],
                ],
                "家庭成员": [["成员编号", "户编号", "关系", "性别"], ["M1", "H1", "户主", "男"]],
            }
        )
    }
    c["bare_year_csv"] = {"persons.csv": u8(PERSONS_HEAD + "P1,陈一,,F,1995,,outside,,\n")}
    c["bare_year_xlsx"] = {
        "book.xlsx": workbook(
            {
                "人员": [
                    ["人员编号", "姓名", "性别", "出生日期", "人员类别"],
                    ["P1", "陈一", "女", 1995, "系统外"],
                ]
            },
            formats={"人员": {"D2": "yyyy-mm-dd"}},  # Excel shows 1905-06-17
        )
    }
    c["money_finer_than_fen"] = {
        "households.csv": u8(
            hh + "H1,甲,rural,1,2309.995,2025-01-01\n" + "H2,乙,rural,1,2309.990,2025-01-01\n"
        ),
        "household_members.csv": members,
    }
    c["money_too_large"] = {
        "households.csv": u8(
            hh
            + "H1,甲,rural,1,1234567890123456789012345678901,2025-01-01\n"
            + "H2,乙,rural,1,1200,2025-01-01\n"
        ),
        "household_members.csv": members,
    }

    # --- personal information in the input (rulebook §7)
    legacy = ID_P1[:6] + ID_P1[8:17]  # the 15-digit form of P1's number
    c["legacy_15_id"] = {
        "persons.csv": u8(PERSONS_HEAD + f"P1,陈一,{legacy},F,1990-05-12,,outside,,\n")
    }
    id_a, id_b = rid("110105", "1960-03-01", 11), rid("420106", "1971-09-30", 22)
    c["households_keyed_by_id"] = {
        "households.csv": u8(
            "household_id,head_name,head_id_number,area,size,monthly_income,application_date\n"
            f"{id_a},甲一,{id_a},rural,1,100,2025-01-01\n"
            f"{id_b},乙二,{id_b},rural,1,300,2025-02-01\n"
        ),
        "household_members.csv": u8(
            "member_id,household_id,relation,sex,birth_date\n"
            f"M1,{id_a},head,M,1960-03-01\nM2,{id_b},head,F,1971-09-30\n"
        ),
    }

    # --- --previous-round files, read by the dataset's readers
    c["previous_round"] = {
        "gb18030.csv": "户编号;拟纳入\nH0001;是\nH0002;否\n".encode("gb18030"),
        "garbage.xlsx": garbage(700, seed=5),
        "formula.xlsx": workbook({"低保户": [["户编号", "拟纳入"], ["H0001", "=TRUE()"]]}),
    }

    # --- parameter files
    c["params"] = {
        "unknown_key.yaml": u8("reward_monthly_yuan: 30\nreward_monthy_yuan: 40\n"),
        "wrong_type.yaml": u8("reward_monthly_yuan: 三十\n"),
        "same_date_twice.yaml": u8("reward_monthly_yuan:\n  2025-07-01: 30\n  '2025-07-01': 40\n"),
        "area_same_date_twice.yaml": u8(
            "dibao_standard_yuan:\n  urban:\n    2025-01-01: 700\n    2025-01-01: 710\n"
        ),
        "before_1900.yaml": u8("reward_monthly_yuan:\n  1025-07-01: 30\n"),
        "list_key.yaml": u8("? [reward_monthly_yuan, reward_age_cap]\n: 30\n"),
        "python_object.yaml": u8(
            "reward_monthly_yuan: !!python/object/apply:os.system ['echo owned']\n"
        ),
        "utf16.yaml": "reward_monthly_yuan: 30\n".encode("utf-16"),
        "deep_nesting.yaml": u8(
            "reward_monthly_yuan:\n"
            + "".join("  " * (i + 1) + "a:\n" for i in range(500))
            + "  " * 501
            + "1\n"
        ),
    }
    return c


def main() -> None:
    if HERE.exists():
        for d in HERE.iterdir():
            if d.is_dir():
                shutil.rmtree(d)
    HERE.mkdir(parents=True, exist_ok=True)
    for folder, files in cases().items():
        d = HERE / folder
        d.mkdir()
        for name, data in files.items():
            (d / name).write_bytes(data)
    print(f"wrote {len(cases())} fixture folders to {HERE}")


if __name__ == "__main__":
    main()
