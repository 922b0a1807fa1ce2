"""Loading a folder of Parquet parts per table, and validation at scale.

- ``io.load_dataset`` / ``load_for_analysis`` read ``DIR/<table>/part-*.parquet``
  in name order, numbering rows on across parts and naming the part file;
- ``io.partition_paths`` lists the parts for the Dask engine;
- the resident-ID checks of ``validate`` are vectorised and must give exactly
  the problems ``ids.check_id_number`` row by row gave before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fpanalysis import io, synth
from fpanalysis.core import config, ids, schema
from fpanalysis.core.errors import DataError
from fpanalysis.io import cells, read, validate
from fpanalysis.io.validate import findings, idnumbers

# --------------------------------------------------------------------------- helpers


def _persons(rows: list[dict]) -> pd.DataFrame:
    """A persons part as a clerk's export would hold it: text and dates."""
    df = pd.DataFrame(rows)
    for c in schema.TABLES["persons"].columns:
        if c.name not in df:
            df[c.name] = None
    return df[[c.name for c in schema.TABLES["persons"].columns]]


def _person(pid: str, sex: str = "F", birth: str = "1949-12-31", idn: str = "11010519491231002X"):
    return {
        "person_id": pid,
        "name": "王芳",
        "id_number": idn,
        "sex": sex,
        "birth_date": birth,
        "category": "outside",
    }


def _write_parts(folder: Path, parts: list[pd.DataFrame]) -> None:
    folder.mkdir(parents=True)
    for k, df in enumerate(parts):
        df.to_parquet(folder / f"part-{k:05d}.parquet", index=False)


# --------------------------------------------------------------------------- loading parts


@pytest.fixture
def two_parts(tmp_path) -> Path:
    """persons/ in two parts: 2 rows, then 3 rows; the 2nd row of part 1 has a bad date and sex."""
    b = "11010519491231003"  # a man born 1949-12-31: body of a valid number, check char below
    man = b + ids.check_chars([b])[0]
    _write_parts(
        tmp_path / "persons",
        [
            _persons([_person("P1"), _person("P2")]),
            _persons(
                [
                    _person("P3", "M", idn=man),
                    _person("P4", "M", birth="1949-02-30"),  # not a date; and a woman's ID number
                    _person("P5"),
                ]
            ),
        ],
    )
    return tmp_path


def test_rows_are_numbered_on_across_parts(two_parts):
    ds = io.load_dataset(two_parts)
    # part 0: rows 2, 3; part 1: rows 4, 5, 6 (as if one sheet)
    assert ds["persons"].index.tolist() == [2, 3, 4, 5, 6]
    assert ds["persons"]["person_id"].tolist() == ["P1", "P2", "P3", "P4", "P5"]
    assert ds.files["persons"] == "persons/"
    assert ds.parts["persons"] == [
        (2, 3, "persons/part-00000.parquet"),
        (4, 6, "persons/part-00001.parquet"),
    ]
    assert ds.file_of("persons", 3) == "persons/part-00000.parquet"
    assert ds.file_of("persons", 4) == "persons/part-00001.parquet"
    assert ds.file_of("persons") == "persons/"
    assert set(ds.sha256) == {"persons/part-00000.parquet", "persons/part-00001.parquet"}
    # each part's own hash (made beside the reading), as hashlib gives it for its bytes
    for name, digest in ds.sha256.items():
        assert digest == hashlib.sha256((two_parts / name).read_bytes()).hexdigest()


def test_a_problem_names_the_part_file_and_the_row(two_parts):
    ds = io.load_dataset(two_parts)
    # read time: the unparseable date
    (p,) = [p for p in ds.problems if p.column == "birth_date"]
    assert (p.file, p.row, p.value, p.rule) == (
        "persons/part-00001.parquet",
        5,
        "1949-02-30",
        "date",
    )
    # validation time: the ID number says F, the record says M
    report = validate.validate_dataset(ds)
    sex = [p for p in report.errors if p.rule == "id_sex_mismatch"]
    assert [(p.file, p.row, p.key) for p in sex] == [("persons/part-00001.parquet", 5, "P4")]
    assert "persons/part-00001.parquet row 5 [P4]" in sex[0].text("en")


def test_load_for_analysis_reads_parts(tmp_path):
    from fpanalysis.synth.scale import generate_partitioned

    generate_partitioned(tmp_path, 600, seed=2, partition_people=200)
    ds = io.load_for_analysis(tmp_path, ["units", "persons", "couples", "children", "certificates"])
    assert len(ds["persons"]) == 600
    assert ds["persons"].index[0] == 2 and ds["persons"].index[-1] == 601
    assert [s[2] for s in ds.parts["persons"]] == [
        f"persons/part-{k:05d}.parquet" for k in range(3)
    ]


def test_mixed_layout_is_refused(two_parts):
    _persons([_person("P9")]).to_parquet(two_parts / "persons.parquet", index=False)
    with pytest.raises(DataError) as e:
        io.load_dataset(two_parts)
    assert e.value.rule == "mixed_layout"
    assert "persons.parquet" in e.value.message_en and "persons/" in e.value.message_en


def test_two_folders_for_one_table_are_refused(two_parts):
    _write_parts(two_parts / "人员", [_persons([_person("P9")])])
    with pytest.raises(DataError) as e:
        io.load_dataset(two_parts)
    assert e.value.rule == "duplicate_table"


def test_parts_with_other_columns_make_the_table_unusable(two_parts):
    pd.DataFrame({"person_id": ["P7"], "name": ["李四"]}).to_parquet(
        two_parts / "persons" / "part-00002.parquet", index=False
    )
    ds = io.load_dataset(two_parts)
    assert "persons" not in ds
    rules = {(p.rule, p.file) for p in ds.problems if p.row is None}
    assert ("part_columns", "persons/part-00002.parquet") in rules


def test_an_unreadable_part_is_named(two_parts):
    (two_parts / "persons" / "part-00002.parquet").write_bytes(b"not parquet")
    ds = io.load_dataset(two_parts)
    assert "persons" not in ds
    (p,) = [p for p in ds.problems if p.rule == "unreadable_file"]
    assert p.file == "persons/part-00002.parquet"


def test_partition_paths(tmp_path, two_parts):
    (two_parts / "notes").mkdir()
    (two_parts / "notes" / "x.parquet").write_bytes(b"")
    (two_parts / "units").mkdir()  # a table folder without parts: not partitioned
    _persons([]).to_csv(two_parts / "couples.csv")  # a flat table is not listed
    got = io.partition_paths(two_parts)
    assert list(got) == ["persons"]
    assert [p.name for p in got["persons"]] == ["part-00000.parquet", "part-00001.parquet"]
    assert io.partition_paths(two_parts / "couples.csv") == {}


def test_parquet_text_is_the_cell_text(tmp_path):
    df = pd.DataFrame(
        {
            "s": pd.Series(["a", None, "＝1"], dtype="str"),
            "b": pd.array([True, None, False], dtype="boolean"),
            "nb": np.array([True, False, True]),
            "i": pd.array([1, None, -3], dtype="Int64"),
            "f": [1.5, np.nan, 2.0],
            "big": [1e16, 3.0, -0.25],
            "d": pd.to_datetime(["2024-03-01", None, "1949-12-31"]),
            "o": pd.Series([dt.date(2024, 3, 1), None, dt.date(1949, 12, 31)], dtype=object),
        }
    )
    df.to_parquet(tmp_path / "t.parquet", index=False)
    back = pd.read_parquet(tmp_path / "t.parquet")
    for c in back.columns:
        s = back[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            continue  # dates are written YYYY-MM-DD (unchanged path)
        expected = [cells.cell_text(None if pd.isna(v) else v) for v in s.astype(object)]
        assert read.parquet_text(s).tolist() == expected, c


def test_id_number_normalisation_keeps_canonical_numbers_and_tidies_the_rest():
    s = pd.Series(
        ["11010519491231002X", " 110105 19491231 002x", "１１０１０５", None], dtype="str"
    )
    got = cells._normalize_id_numbers(s)
    assert got.tolist()[:3] == ["11010519491231002X", "11010519491231002X", "110105"]
    assert pd.isna(got.iloc[3])


# --------------------------------------------------------------------------- vectorised ID checks


def _reference_id_findings(table, df, column, births, sexes, subject):
    """The row-by-row implementation the vectorised one replaces."""
    v = df[column]
    has = v.notna()
    out = set()
    for row, num, b, s in zip(df.index[has], v[has], births[has], sexes[has], strict=True):
        res = ids.check_id_number(
            num,
            birth_date=None if pd.isna(b) else pd.Timestamp(b).date(),
            sex=None if (s is None or pd.isna(s) or s not in ("F", "M")) else s,
        )
        for sev, items in (("error", res.errors), ("warning", res.warnings)):
            for code, zh, en in items:
                rule = code if str(code).startswith("id") else f"id_{code}"
                out.add((int(row), sev, rule, f"{subject[0]}{zh}", f"{subject[1]}{en}"))
    return out


def _vectorised(table, df, column, births, sexes, subject):
    out = set()
    for f in idnumbers._id_findings(table, df, column, births, sexes, subject):
        for r in f.rows:
            out.add(
                (
                    int(r),
                    f.severity,
                    f.rule,
                    f.messages.at[r, "message_zh"],
                    f.messages.at[r, "message_en"],
                )
            )
    return out


def _ok(body: str) -> str:
    return body + ids.check_chars([body])[0]


# id: (ID number, recorded birth date, recorded sex) -> rules expected, worked out by hand
TRICKY = {
    "valid": ("11010519491231002X", "1949-12-31", "F", set()),
    # expected X
    "wrong-check-char": ("110105194912310021", "1949-12-31", "F", {"id_bad_check_character"}),
    "legacy-15": ("110105491231002", "1949-12-31", "F", {"id_legacy_15"}),  # upgrades to ...002X
    # 002: even = woman
    "sex-mismatch": ("11010519491231002X", "1949-12-31", "M", {"id_sex_mismatch"}),
    "birth-mismatch": ("11010519491231002X", "1950-01-01", "F", {"id_birth_date_mismatch"}),
    "nothing-recorded": ("11010519491231002X", None, None, set()),  # nothing recorded to compare
    # an unknown sex code is not compared
    "unknown-sex-code": ("11010519491231002X", "1949-12-31", "X", set()),
    "30-feb": (_ok("11010519490230002"), "1949-12-31", "F", {"id_bad_birth_date"}),  # 30 Feb
    "leap-2000": (_ok("11010520000229001"), "2000-02-29", "M", set()),  # 2000 is a leap year
    # 1900 is not
    "no-leap-1900": (_ok("11010519000229001"), "1900-03-01", "M", {"id_bad_birth_date"}),
    "year-0": (_ok("11010500001231002"), None, "F", {"id_bad_birth_date"}),  # year 0
    "month-13": (_ok("11010519491331002"), None, "F", {"id_bad_birth_date"}),  # month 13
    "16-chars": ("1101051949123100", None, "F", {"id_bad_length"}),  # 16 characters
    "19-chars": ("11010519491231002X0", None, "F", {"id_bad_length"}),  # 19 characters
    "x-inside": ("110105194912310X2X", None, "F", {"id_bad_characters"}),  # X inside
    "15-with-x": ("110105491231X02", None, "F", {"id_bad_characters"}),  # 15 with an X
    # warning only
    "unknown-region": (_ok("99999919491231002"), "1949-12-31", "F", {"id_unknown_region"}),
    "legacy-unknown-region": (
        "999999491231002",
        "1949-12-31",
        "F",
        {"id_legacy_15", "id_unknown_region"},
    ),
    # tidied first (row by row)
    "spaces-lowercase": (" 110105 19491231 002x", "1949-12-31", "F", set()),
    "full-width": ("１１０１０５１９４９１２３１００２Ｘ", "1949-12-31", "M", {"id_sex_mismatch"}),
    "blank": ("   ", None, None, {"id_empty"}),
    "three-errors": (
        "110105194912310021",
        "1950-01-01",
        "M",
        {"id_bad_check_character", "id_birth_date_mismatch", "id_sex_mismatch"},
    ),
}


@pytest.fixture(scope="module")
def tricky_frame():
    cases = list(TRICKY.values())
    idx = pd.RangeIndex(2, 2 + len(cases), name="row")
    df = pd.DataFrame({"id_number": pd.array([t[0] for t in cases], dtype="str")}, index=idx)
    births = pd.Series(pd.to_datetime([t[1] for t in cases]), index=idx)
    sexes = pd.Series([t[2] for t in cases], index=idx, dtype="str")
    return df, births, sexes


@pytest.mark.parametrize("i", [pytest.param(i, id=name) for i, name in enumerate(TRICKY)])
def test_tricky_id_numbers(tricky_frame, i):
    df, births, sexes = tricky_frame
    got = _vectorised("persons", df, "id_number", births, sexes, ("", ""))
    ref = _reference_id_findings("persons", df, "id_number", births, sexes, ("", ""))
    row = 2 + i
    assert {r for (x, _s, r, _z, _e) in got if x == row} == list(TRICKY.values())[i][3]
    assert {g for g in got if g[0] == row} == {g for g in ref if g[0] == row}


def test_id_messages_as_before(tricky_frame):
    df, births, sexes = tricky_frame
    got = _vectorised("households", df, "id_number", births, sexes, ("户主成员：", "head member: "))
    assert (
        3,
        "error",
        "id_bad_check_character",
        "户主成员：校验码错误：末位为“1”，应为“X”",
        "head member: wrong check character '1'; expected 'X'",
    ) in got


def _report_rows(report):
    return [
        (p.severity, p.table, p.row, p.column, p.rule, p.message_zh, p.message_en, p.key, p.file)
        for p in report.problems
    ]


@pytest.mark.parametrize(
    "which",
    [
        pytest.param("sample", id="sample"),
        pytest.param("faults", id="synth-faults"),
        pytest.param("partitioned", id="synth-scale"),
    ],
)
def test_whole_report_unchanged(tmp_path, monkeypatch, which):
    if which == "sample":
        path = config.SAMPLE_DIR
    elif which == "faults":
        path = tmp_path / "f"
        synth.write_dataset(synth.generate(seed=3, people=120, faults=True), path)
    else:
        from fpanalysis.synth.scale import generate_partitioned

        path = tmp_path / "p"
        generate_partitioned(
            path,
            800,
            seed=8,
            partition_people=400,
            tables=["units", "persons", "households", "household_members"],
        )
    ds = io.load_dataset(path)
    new = _report_rows(validate.validate_dataset(ds))

    def reference(table, df, column, births, sexes, subject):
        by: dict = {}
        for row, sev, rule, zh, en in sorted(
            _reference_id_findings(table, df, column, births, sexes, subject)
        ):
            by.setdefault((sev, rule, zh, en), []).append(row)
        return [
            findings.Finding(table, pd.Index(r), column, rule, zh, en, sev)
            for (sev, rule, zh, en), r in by.items()
        ]

    monkeypatch.setattr(idnumbers, "_id_findings", reference)
    old = _report_rows(validate.validate_dataset(ds))
    assert new == old
    if which == "faults":
        assert {"id_bad_check_character", "id_sex_mismatch", "id_birth_date_mismatch"} <= {
            r[4] for r in new
        }


def test_rejects_of_a_partitioned_table(two_parts, tmp_path_factory):
    from fpanalysis.cli import main

    rej = tmp_path_factory.mktemp("out") / "rej"  # beside the dataset: never inside an input
    assert main(["validate", str(two_parts), "--rejects", str(rej), "--lang", "en"]) == 1
    back = pd.read_csv(rej / "persons.csv", encoding="utf-8-sig", dtype=str)
    assert back.iloc[:, 0].tolist() == ["5"]  # P4: the global row number, as the messages say
    assert back["person_id"].tolist() == ["P4"]


def test_id_checks_equal_the_row_by_row_rules_on_mutated_numbers():
    """3,000 valid numbers, most mutated (a digit, the check character, the length, an X, a space,
    the year to 15 digits): the vectorised checks give exactly the row-by-row problems."""
    rng = np.random.default_rng(20241)
    n = 3000
    born = pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.integers(0, 25000, n), unit="D")
    region = rng.choice(["110105", "412825", "411722", "999999", "000000"], n)
    seq = rng.integers(0, 1000, n)
    bodies = [f"{r}{b:%Y%m%d}{q:03d}" for r, b, q in zip(region, born, seq, strict=True)]
    nums = [b + c for b, c in zip(bodies, ids.check_chars(bodies), strict=True)]
    out = []
    for x, how in zip(nums, rng.integers(0, 9, n), strict=True):
        i = int(rng.integers(0, 18))
        if how == 1:  # one character changed
            x = x[:i] + str(rng.integers(0, 10)) + x[i + 1 :]
        elif how == 2:  # an X somewhere
            x = x[:i] + "X" + x[i + 1 :]
        elif how == 3:  # a character dropped or added
            x = x[:i] + x[i + 1 :] if rng.random() < 0.5 else x[:i] + "7" + x[i:]
        elif how == 4:  # the 15-digit form (1950-2018: some are not 19xx)
            x = x[:6] + x[8:17]
        elif how == 5:  # a space or a lowercase x
            x = (x[:i] + " " + x[i:]) if rng.random() < 0.5 else x[:17] + "x"
        elif how == 6:  # an impossible date
            x = x[:10] + rng.choice(["0230", "1301", "0431", "0000"]) + x[14:]
        out.append(x)
    idx = pd.RangeIndex(2, 2 + n, name="row")
    df = pd.DataFrame({"id_number": pd.array(out, dtype="str")}, index=idx)
    births = pd.Series(born.where(rng.random(n) < 0.9), index=idx)
    births = births.where(rng.random(n) < 0.9, births + pd.Timedelta(days=1))
    sexes = pd.Series(rng.choice(["F", "M", None], n, p=[0.45, 0.45, 0.1]), index=idx, dtype="str")
    got = _vectorised("persons", df, "id_number", births, sexes, ("", ""))
    ref = _reference_id_findings("persons", df, "id_number", births, sexes, ("", ""))
    assert got == ref
    assert {r for (_x, _s, r, _z, _e) in ref} >= {
        "id_bad_check_character",
        "id_bad_length",
        "id_bad_characters",
        "id_legacy_15",
        "id_bad_birth_date",
        "id_birth_date_mismatch",
        "id_sex_mismatch",
        "id_unknown_region",
    }


@pytest.mark.parametrize(
    ("columns", "expected_columns"),
    [
        # every schema column
        pytest.param(None, None, id="all-columns"),
        pytest.param(
            {"couples": ["couple_id", "marriage_date"]},
            ["couple_id", "marriage_date"],
            id="only-the-needed-columns",
        ),
    ],
)
def test_read_parts_types_dates_as_midnight_and_projects_columns(
    tmp_path, columns, expected_columns
):
    """A part written with a time of day on a date column and a column the schema does not know."""
    from fpanalysis.core import schema
    from fpanalysis.engines.dask.common import read_parts

    part = tmp_path / "part-00000.parquet"
    pd.DataFrame(
        {
            "couple_id": ["C1", "C2"],
            "wife_id": ["P1", "P3"],
            "marriage_date": [pd.Timestamp("2020-05-01 13:45"), pd.Timestamp("2021-01-02")],
            "not_in_schema": [1, 2],
        }
    ).to_parquet(part)
    got = read_parts({"couples": [part]}, ["couples"], columns=columns)["couples"]
    assert list(got.columns) == (expected_columns or schema.TABLES["couples"].names)
    assert got["marriage_date"].tolist() == [pd.Timestamp("2020-05-01"), pd.Timestamp("2021-01-02")]
    assert got.index.tolist() == [2, 3]
