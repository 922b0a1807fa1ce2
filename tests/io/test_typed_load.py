"""Parquet read typed (``fpanalysis.io.typed``) against the text path on the same files: the same
frames, the same problems with the same messages, rows, keys, values and files, the same rejected
rows as typed; and the vectorised per-column checks against the pandera schema they replace.

Data: the sample, the sample as Parquet parts, the fault-injected synthetic datasets (English and
Chinese headers and labels), every CSV fixture of ``tests/fixtures/bad`` and
``tests/fixtures/hostile`` converted to Parquet (as text columns, and as typed columns), and
Parquet files with typed oddities made here (infinite and huge numbers, dates out of range,
times of day, blank rows, padded and full-width identifiers, index columns, title rows).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fpanalysis import synth
from fpanalysis.core import schema
from fpanalysis.io import load_dataset
from fpanalysis.io.read import DATA_SUFFIXES, records_csv
from fpanalysis.io.validate import validate_dataset
from fpanalysis.io.validate.columns import column_problems, pandera_problems

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-01-01"
FIXTURES = [
    d
    for folder in ("bad", "hostile")
    for d in sorted((ROOT / "tests" / "fixtures" / folder).iterdir())
    if d.is_dir() and any(f.suffix.lower() in DATA_SUFFIXES for f in d.iterdir())
]


# --------------------------------------------------------------------------- writing Parquet


def _text_columns(src: Path, out: Path) -> Path:
    """Each CSV of ``src`` as a Parquet file of text columns (header = the CSV's first record)."""
    out.mkdir(parents=True, exist_ok=True)
    for f in sorted(src.iterdir()):
        if f.suffix.lower() == ".parquet":
            (out / f.name).write_bytes(f.read_bytes())
            continue
        if f.suffix.lower() != ".csv":
            continue
        try:
            records = records_csv(f)
        except Exception:  # noqa: BLE001 - an unreadable CSV has no Parquet twin
            continue
        if not records:
            continue
        header = records[0]
        rows = [(r + [""] * len(header))[: len(header)] for r in records[1:]]
        cols = [pa.array([r[j] for r in rows], type=pa.string()) for j in range(len(header))]
        pq.write_table(pa.Table.from_arrays(cols, names=header), out / f"{f.stem}.parquet")
    return out


def _arrow(df: pd.DataFrame, table: str) -> pa.Table:
    """A typed frame as Parquet writes it: timestamps, booleans, int64, float64, strings."""
    cols, names = [], []
    for c in schema.TABLES[table].columns:
        s = df[c.name]
        if c.type == "date":
            a = pa.array(s.to_numpy(dtype="datetime64[ns]"), type=pa.timestamp("ns"))
        elif c.type == "bool":
            a = pa.array(s.astype(object).where(s.notna(), None).tolist(), type=pa.bool_())
        elif c.type == "int":
            a = pa.array(s.astype(object).where(s.notna(), None).tolist(), type=pa.int64())
        elif c.type == "number":
            a = pa.array(s.to_numpy(dtype="float64"), type=pa.float64())
        else:
            a = pa.array(s.astype(object).where(s.notna(), None).tolist(), type=pa.string())
        cols.append(a)
        names.append(c.name)
    return pa.Table.from_arrays(cols, names=names)


def _typed_columns(src: Path, out: Path, parts: int = 1) -> Path:
    """The tables of ``src`` (read through text) as typed Parquet, in ``parts`` parts each."""
    ds = load_dataset(src, typed=False)
    out.mkdir(parents=True, exist_ok=True)
    for t, df in ds.items():
        table = _arrow(df, t)
        if parts == 1:
            pq.write_table(table, out / f"{t}.parquet")
            continue
        (out / t).mkdir()
        bounds = np.linspace(0, table.num_rows, parts + 1).astype(int)
        for k in range(parts):
            piece = table.slice(bounds[k], bounds[k + 1] - bounds[k])
            pq.write_table(piece, out / t / f"part-{k:05d}.parquet")
        pq.write_table(table.slice(0, 0), out / t / f"part-{parts:05d}.parquet")  # an empty part
    return out


def _faults(out: Path, lang: str) -> Path:
    tables = synth.generate(seed=11, faults=True)
    synth.write_dataset(tables, out, format="parquet", lang=lang)
    return out


# --------------------------------------------------------------------------- the comparison


def assert_same(path: Path) -> None:
    """The typed path reads ``path`` exactly as the text path does, problems included."""
    text = load_dataset(path, typed=False)
    typed = load_dataset(path)
    assert typed.problems == text.problems
    assert list(typed) == list(text)
    for t in text:
        pd.testing.assert_frame_equal(typed[t], text[t], check_exact=True)
    assert typed.headers == text.headers
    assert typed.parts == text.parts
    assert typed.files == text.files
    assert typed.absent == text.absent
    assert typed.sha256 == text.sha256
    assert sorted(typed.raw) == sorted(text.raw)
    for t in text.raw:
        assert list(typed.raw.index(t)) == list(text.raw.index(t))
        assert typed.raw.columns(t) == text.raw.columns(t)
    a = validate_dataset(text, as_of=AS_OF)
    b = validate_dataset(typed, as_of=AS_OF)
    assert [p.text("zh") for p in b.problems] == [p.text("zh") for p in a.problems]
    assert b.problems == a.problems
    assert (b.rows, b.rejected) == (a.rows, a.rejected)
    for t, rows in a.rejected.items():
        if t in text.raw:
            pd.testing.assert_frame_equal(typed.raw.rows(t, rows), text.raw[t].loc[rows])


def assert_same_column_checks(path: Path) -> None:
    """The vectorised per-column checks find what the pandera schema finds."""
    ds = load_dataset(path)
    for t, df in ds.items():
        assert sorted(column_problems(t, df)) == sorted(pandera_problems(t, df)), t


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda tmp: _typed_columns(ROOT / "data" / "sample", tmp), id="sample-typed"),
        pytest.param(lambda tmp: _text_columns(ROOT / "data" / "sample", tmp), id="sample-text"),
        pytest.param(
            lambda tmp: _typed_columns(ROOT / "data" / "sample", tmp, parts=3),
            id="sample-partitioned",
        ),
        pytest.param(lambda tmp: _faults(tmp, "en"), id="faults-en"),
        pytest.param(lambda tmp: _faults(tmp, "zh"), id="faults-zh"),
    ],
)
def test_typed_parquet_reads_as_the_text_path(make, tmp_path):
    path = make(tmp_path / "ds")
    assert_same(path)
    assert_same_column_checks(path)


@pytest.mark.parametrize(
    "fixture", [pytest.param(d, id=f"{d.parent.name}-{d.name}") for d in FIXTURES]
)
def test_fixture_as_parquet_reads_as_the_text_path(fixture, tmp_path):
    assert_same(_text_columns(fixture, tmp_path / "text"))
    try:
        typed = _typed_columns(fixture, tmp_path / "typed")
    except Exception:  # noqa: BLE001 - a dataset that cannot be read has no typed twin
        return
    assert_same(typed)
    assert_same_column_checks(typed)


def test_sample_tables_are_read_typed(tmp_path):
    path = _typed_columns(ROOT / "data" / "sample", tmp_path / "ds", parts=2)
    ds = load_dataset(path)
    assert ds.raw.on_demand == frozenset(ds)
    assert ds.parts["persons"][0][2] == "persons/part-00000.parquet"


# --------------------------------------------------------------------------- typed oddities

N = None
WEIRD: dict[str, dict[str, dict[str, pa.Array]]] = {
    "identifiers": {
        "units": {
            "unit_id": pa.array([" U1", "U2\u3000", "Ｕ３", "U\u200b4", "", N, "U5", "U5", "\tU6"]),
            "name": pa.array(["甲 ", "\u00a0乙", "丙", "丁", "戊", "己", "庚", "辛", "\u200b"]),
            "kind": pa.array(
                ["股室", "SECTION", "x", N, "affiliated", "局属单位", "", " 股室 ", "s"]
            ),
        }
    },
    "persons": {
        "persons": {
            "person_id": pa.array(["P1", "P2", "P3", "P4", "P5", "P6", "P6", N]),
            "name": pa.array(["甲", "乙", "丙", "丁", "戊", "己", "庚", "辛"]),
            "id_number": pa.array(
                [
                    "11010519491231002X",
                    "11010519491231002x",
                    "１１０１０５１９４９１２３１００２Ｘ",
                    "110105491231002",
                    " 11010519491231002X",
                    "\u0661\u0661\u0660\u0661\u0660\u0665\u0661\u0669\u0664\u0669\u0661\u0662"
                    "\u0663\u0661\u0660\u0660\u0662X",
                    "123",
                    N,
                ]
            ),
            "sex": pa.array(["F", "女", "M", "m", "X", N, "F", "F"]).dictionary_encode(),
            "birth_date": pa.array(
                [
                    dt.datetime(1949, 12, 31, 13, 30),
                    dt.datetime(1960, 5, 1, 23, 59),
                    dt.datetime(1677, 9, 22),
                    dt.datetime(2262, 1, 1),
                    N,
                    dt.datetime(1899, 12, 31),
                    dt.datetime(2030, 1, 1),
                    dt.datetime(2000, 1, 1),
                ],
                type=pa.timestamp("us"),
            ),
            "category": pa.array(["staff", "干部职工", "floating", "outside", "x", N, "staff", ""]),
            "hire_date": pa.array(
                [dt.date(2000, 1, 1), N, dt.date(1, 1, 1), dt.date(9999, 12, 31)] + [N] * 4,
                type=pa.date32(),
            ),
            "leave_date": pa.nulls(8),
        }
    },
    "numbers": {
        "pregnancies": {
            "pregnancy_id": pa.array([f"G{i}" for i in range(9)]),
            "couple_id": pa.array(["C1"] * 9),
            "detected_date": pa.array(
                ["2024-03-01", "2024/3/1", "45352", "bad", "", N, "2024年3月1日", "20240301"]
                + ["1995"]  # a bare year: no day
            ),
            "outcome": pa.array(["birth", "分娩", "ongoing", "x"] + ["termination"] * 5),
            "gestation_weeks": pa.array(
                [4.5, np.inf, np.nan, 2.0**60, -0.0, 50.0, 1e15, 2.0**53, 12.0]
            ),
            "county_approved": pa.array([True, N, False, True, N, N, False, True, True]),
            "designated_facility": pa.array(["是", "否", "y", "maybe", "", N, "1", "0.0", "TRUE"]),
        },
        "households": {
            "household_id": pa.array([f"H{i}" for i in range(8)]),
            "head_name": pa.array(["甲"] * 8),
            "area": pa.array(["urban", "农村", "rural", "x", "urban", "urban", "urban", "urban"]),
            "size": pa.array([1, 2, 0, -5, 10**16, N, 3, 4], type=pa.int64()),
            "monthly_income": pa.array([1.5, -np.inf, np.inf, np.nan, 1e20, -0.0, -3.0, 123.456]),
            "assessed_tier": pa.array([1, 2, 3, 4, 0, N, 200, 1], type=pa.uint8()),
            "special_groups": pa.array(
                ["寡、残", "orphan", "x", N, "", "widow;widower", "孤", "y"]
            ),
            "application_date": pa.array([dt.datetime(2024, 1, 1, tzinfo=dt.UTC)] * 8),
            "receiving": pa.array([True, False, N, True, True, True, True, False]),
            "infertile": pa.array([1, 0, N, 2, 1, 0, 0, 1], type=pa.int32()),
        },
    },
}


def _weird(case: str, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for table, cols in WEIRD[case].items():
        pq.write_table(pa.table(cols), out / f"{table}.parquet")
    return out


@pytest.mark.parametrize("case", [pytest.param(c, id=c) for c in WEIRD])
def test_typed_oddities_read_as_the_text_path(case, tmp_path):
    path = _weird(case, tmp_path / "ds")
    assert_same(path)
    assert_same_column_checks(path)


def _units(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit_id": [f"U{i}" for i in range(n)],
            "name": ["办公室"] * n,
            "kind": ["section"] * n,
        }
    )


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(
            lambda p: _units().set_index("unit_id").to_parquet(p / "units.parquet"),
            id="pandas-index-column",
        ),
        pytest.param(
            lambda p: _units().assign(备注="x").to_parquet(p / "units.parquet"), id="unknown-column"
        ),
        pytest.param(
            lambda p: pq.write_table(
                pa.table(
                    {
                        "unit_id": ["", "  ", None, "U1", "\u200b", "\u3000"],
                        "name": [None, " ", "", "a", None, None],
                        "kind": [None, None, "\t", "section", None, None],
                    }
                ),
                p / "units.parquet",
            ),
            id="blank-rows",
        ),
        pytest.param(
            lambda p: pq.write_table(
                pa.table(
                    {
                        "a": ["某县单位名单", "unit_id", "U1"],
                        "b": ["", "name", "x"],
                        "c": ["", "kind", "section"],
                    }
                ),
                p / "units.parquet",
            ),
            id="title-row",
        ),
        pytest.param(
            lambda p: _units().rename(columns={"name": "单位名称"}).to_parquet(p / "单位.parquet"),
            id="chinese-names",
        ),
        pytest.param(
            lambda p: _units().drop(columns="kind").to_parquet(p / "units.parquet"),
            id="missing-column",
        ),
        pytest.param(lambda p: _units(0).to_parquet(p / "units.parquet"), id="no-rows"),
    ],
)
def test_parquet_layouts_read_as_the_text_path(write, tmp_path):
    path = tmp_path / "ds"
    path.mkdir()
    write(path)
    assert_same(path)


def test_parts_with_other_columns_read_as_the_text_path(tmp_path):
    (tmp_path / "units").mkdir()
    _units().to_parquet(tmp_path / "units" / "part-00000.parquet")
    renamed = _units().rename(columns={"name": "单位名称"})
    renamed.to_parquet(tmp_path / "units" / "part-00001.parquet")
    assert_same(tmp_path)
    assert "part_columns" in {p.rule for p in load_dataset(tmp_path).problems}


def test_id_numbers_checked_in_chunks_find_the_same(tmp_path, monkeypatch):
    from fpanalysis.io.validate import idnumbers

    ds = load_dataset(_faults(tmp_path / "ds", "en"))
    whole = validate_dataset(ds, as_of=AS_OF).problems
    monkeypatch.setattr(idnumbers, "_CHUNK", 7)
    assert validate_dataset(ds, as_of=AS_OF).problems == whole
    assert any(p.rule.startswith("id_") for p in whole)


@pytest.mark.parametrize("lang", [pytest.param(x, id=f"faults-{x}") for x in ("en", "zh")])
def test_declared_fp_types_checked_as_over_every_household(lang, tmp_path):
    from fpanalysis.rules.relief import derive_fp_types, fp_type_problems

    ds = load_dataset(_faults(tmp_path / "ds", lang), ["households", "household_members"])
    h, m = ds["households"], ds["household_members"]
    whole = fp_type_problems(h, derive_fp_types(h, m))
    report = validate_dataset(ds, as_of=AS_OF)
    found = [(p.row, p.message_en) for p in report.problems if p.rule == "fp_type_contradicted"]
    assert found == list(zip(whole["row"].astype(int), whole["message_en"], strict=True))
    assert found


def test_blank_characters_are_every_space_python_strips():
    import sys

    from fpanalysis.io.typed import _SPACES

    every = "".join(f"\\x{{{cp:x}}}" for cp in range(sys.maxunicode + 1) if chr(cp).isspace())
    assert _SPACES == every


# Cells the bytes decide and cells they leave to the regular expressions: (id, cells).
_CELLS = [
    ("plain-ids", ["C1", "P00000_00000001", "a-b.c", "~"]),
    ("missing-and-empty", [None, "", "C1", None]),
    ("spaces-at-the-ends", [" C1", "C1 ", " ", "   ", "C 1"]),
    ("other-spaces", ["\u3000", "\xa0C1", "C1\u3000", "\x85", "\t", "\x1c", "\u2028x"]),
    ("control-and-format", ["\x00", "C\x7f", "\x7fC", "\u200bC", "C\u200b", "\ufeffC1"]),
    ("chinese", ["张三", "办公室 ", "　李四", "王\n五", "赵"]),
    ("beyond-the-plane", ["\U0001f600", "a\U0001f600", "\U000e0001a"]),
    (
        "id-numbers",
        [
            "110102200302145265",
            "11010220030214526X",
            "11010220030214526x",
            "1101022003021452",
            "1101022003021452651",
            "１１０１０２２００３０２１４５２６５",
            "11010220030214526\n",
            None,
        ],
    ),
]


def _hidden_bytes_under_a_missing_cell(hidden: bytes):
    """["AB", missing over the two bytes ``hidden``, "D"]: a missing cell that spans bytes."""
    data = pa.py_buffer(b"AB" + hidden + b"D")
    offsets = pa.py_buffer(np.array([0, 2, 4, 5], dtype=np.int64).tobytes())
    validity = pa.py_buffer(np.packbits([1, 0, 1], bitorder="little").tobytes())
    return pa.Array.from_buffers(pa.large_string(), 3, [validity, offsets, data], null_count=1)


@pytest.mark.parametrize(("cells"), [pytest.param(c, id=i) for i, c in _CELLS])
@pytest.mark.parametrize("column", ["couples.couple_id", "persons.name", "persons.id_number"])
def test_cells_decided_by_their_bytes_as_by_the_kernels(cells, column):
    from fpanalysis.io.typed import _BLANK, _blank, _clean, _clean_by_kernels

    col = schema.TABLES[column.split(".")[0]].column(column.split(".")[1])
    for arr in (
        pa.chunked_array([pa.array(cells[:2], pa.string()), pa.array(cells[2:], pa.string())]),
        pa.array(cells, pa.large_string()),
        pa.array(cells, pa.large_string()).slice(1),
    ):
        wide = arr.cast(pa.large_string())
        assert _clean(wide, col).tolist() == _clean_by_kernels(wide, col).tolist()
        regex = pa.compute.match_substring_regex(wide, _BLANK).fill_null(True)
        assert _blank(arr).tolist() == regex.to_pylist()


@pytest.mark.parametrize("hidden", [b"C\x01", b" D"], ids=["a-control", "printable"])
@pytest.mark.parametrize("column", ["couples.couple_id", "persons.name", "persons.id_number"])
def test_bytes_under_a_missing_cell_decide_nothing(column, hidden):
    from fpanalysis.io.typed import _blank, _clean, _clean_by_kernels

    col = schema.TABLES[column.split(".")[0]].column(column.split(".")[1])
    arr = _hidden_bytes_under_a_missing_cell(hidden)
    assert _clean(arr, col).tolist() == _clean_by_kernels(arr, col).tolist()
    assert _blank(arr).tolist() == [False, True, False]


def test_most_cells_undecided_are_read_in_one_pass():
    from fpanalysis.io.typed import _blank

    cells = ["张三", "李四", "王五", "A"] * 50 + ["\u3000", None]
    assert _blank(pa.array(cells)).tolist() == [False] * 200 + [True, True]


@pytest.mark.parametrize(
    "days",
    [
        pytest.param(["2024-01-01", "NaT", "1950-03-01"], id="midnights-and-a-gap"),
        pytest.param(["1678-01-01", "2261-12-31"], id="first-and-last-years-held"),
        pytest.param(["1677-12-31", "2000-01-01"], id="a-year-before"),
        pytest.param(["2262-01-01", "2000-01-01"], id="a-year-after"),
        pytest.param(["2024-01-01T10:00", "2024-01-02"], id="a-time-of-day"),
        pytest.param(["NaT", "NaT"], id="all-missing"),
        pytest.param([], id="empty"),
    ],
)
def test_timestamps_read_as_their_days(days):
    from fpanalysis.io.typed import _convert

    col = schema.TABLES["surveys"].column("survey_date")
    stamps = pa.chunked_array([pa.array(np.array(days, dtype="datetime64[ns]"))])
    got, bad = _convert(stamps, col, None, "survey_date")
    # the day of each stamp, read through the general path (dates as days)
    general = np.array(days, dtype="datetime64[D]")
    ok = ~np.isnat(general) & (general >= np.datetime64("1678-01-01"))
    ok &= general < np.datetime64("2262-01-01")
    want = np.where(ok, general.astype("datetime64[ns]"), np.datetime64("NaT"))
    assert got.to_numpy().tolist() == want.tolist()
    assert np.asarray(bad).tolist() == (~np.isnat(general) & ~ok).tolist()


# --------------------------------------------------------------------------- two at a time


def _plan(rows: int, read):
    from types import SimpleNamespace as N

    return N(parts=[N(rows=rows)], rows=rows, read=read)


def test_tables_read_two_at_a_time_keep_what_reading_each_raised_for_its_turn(monkeypatch):
    """Each table's outcome waits for the loader to take it in schema order: a table that
    failed to read raises only when taken, so the first failing table in schema order is the
    one reported, as on one thread."""
    from fpanalysis.core import ahead
    from fpanalysis.io import load

    def broken():
        raise OSError("part 2 is truncated")

    plans = {"persons": _plan(5, lambda: "PERSONS"), "couples": _plan(3, broken)}
    monkeypatch.setattr(ahead, "TWO_THREADS_ROWS", 20)
    got = load._read_typed_before(plans, 20)
    assert sorted(got) == ["couples", "persons"]
    assert got["persons"]() == "PERSONS"
    with pytest.raises(OSError, match="truncated"):
        got["couples"]()
    # 21 rows in the dataset (its tables read by parts too): each read alone, later
    assert load._read_typed_before(plans, 21) == {}
    assert load._read_typed_before({"persons": plans["persons"]}, 5) == {}  # one table


def test_the_faults_read_the_same_two_tables_at_a_time_or_one(tmp_path, monkeypatch):
    """The fault-injected dataset as Parquet: the same frames and problems either way."""
    from fpanalysis.core import ahead

    path = _faults(tmp_path / "ds", "en")
    shared: list[int] = []  # the tables each load handed to two threads
    real = ahead.both_ends
    monkeypatch.setattr(
        ahead, "both_ends", lambda pieces, **k: shared.append(len(pieces)) or real(pieces, **k)
    )
    got = {}
    for rows in (10**9, 0):
        monkeypatch.setattr(ahead, "TWO_THREADS_ROWS", rows)
        got[rows] = load_dataset(path)
    assert shared == [13]  # every table two at a time, then none: both ways were taken
    two, one = got[10**9], got[0]
    assert len(two.problems) > 0 and len(two) > 5
    assert one.problems == two.problems and list(one) == list(two)
    for t in two:
        pd.testing.assert_frame_equal(one[t], two[t], check_exact=True)
