"""A table checked a part at a time (``io.load_by_part`` + ``validate_dataset(by_part=...)``)
gives exactly the problems of the same table read whole (``io.load_dataset`` +
``validate_dataset``): row numbers running on across parts, a duplicate key split across two
parts, references to keys of another table, a blank row, a type error standing for the
emptiness it causes, and the raw text and key of each problem's row."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from fpanalysis import io
from fpanalysis.core import ahead
from fpanalysis.io.validate import byparts, check, validate_dataset, write_rejects
from fpanalysis.io.validate.byparts import BY_PART_TABLES

AS_OF = "2026-01-01"


@pytest.fixture(autouse=True, params=[1, 3, 10**9], ids=["part-by-part", "3-rows", "all-at-once"])
def rows_at_once(request, monkeypatch):
    """Each part checked alone; parts taken together until 3 rows are held; every part at once."""
    monkeypatch.setattr(byparts, "ROWS_AT_ONCE", request.param)
    return request.param


@pytest.fixture(
    autouse=True,
    params=[(10**9, 10**9), (0, 10**9), (0, -1)],
    ids=["beside", "held-beside", "after"],
)
def beside_rows(request, monkeypatch):
    """The tables read by parts checked on a second thread beside the others (as at a county's
    scale); in the caller's thread while a second checks the tables held whole (a province's,
    within ``check.HELD_BESIDE_ROWS``); or after them in the caller's thread (a province's
    beyond it). Returns whether the parts may go on the second thread."""
    two_rows, held_rows = request.param
    monkeypatch.setattr(ahead, "TWO_THREADS_ROWS", two_rows)
    monkeypatch.setattr(check, "HELD_BESIDE_ROWS", held_rows)
    return bool(two_rows)


def test_the_parts_are_checked_beside_the_others_only_up_to_the_limit(dataset, beside_rows):
    """The second thread checks parts exactly when the parts' rows are within the limit (so
    the ways above are really taken; it starts before the caller's thread has checked the
    tables held whole, so it takes a table first), and each table's parts are all checked by
    one thread, in their order."""
    import threading

    seen: list[tuple[str, str, int]] = []
    parted, plans = io.load_by_part(dataset)

    def after_part(table, frame):
        seen.append((table, threading.current_thread().name, int(frame.index[0])))

    validate_dataset(parted, as_of=AS_OF, by_part=plans, after_part=after_part)
    me = threading.current_thread().name
    if beside_rows:
        assert "fpanalysis-beside" in {s[1] for s in seen}
    else:
        assert {s[1] for s in seen} == {me}
        assert list(dict.fromkeys(s[0] for s in seen)) == ["surveys", "check_attendance"]
    for table in ("surveys", "check_attendance"):
        mine = [s for s in seen if s[0] == table]
        assert len({s[1] for s in mine}) == 1
        assert [s[2] for s in mine] == sorted(s[2] for s in mine)


def test_a_province_checks_its_tables_held_whole_beside_only_within_the_limit(
    dataset, beside_rows, monkeypatch
):
    """Where two threads do not share the checks, the checks of the tables held whole run on
    the second thread within ``check.HELD_BESIDE_ROWS`` and on the caller's beyond it."""
    import threading

    ran: list[str] = []
    real = check.id_number_findings

    def recorded(ds):
        ran.append(threading.current_thread().name)
        return real(ds)

    monkeypatch.setattr(check, "id_number_findings", recorded)
    parted, plans = io.load_by_part(dataset)
    validate_dataset(parted, as_of=AS_OF, by_part=plans)
    assert len(ran) == 1  # once, on either thread where two share every check
    if not beside_rows:
        me = threading.current_thread().name
        assert ran == ["fpanalysis-beside" if check.HELD_BESIDE_ROWS > 0 else me]


HELD = ["columns", "references", "dates", "conditional", "id_numbers", "key_ids"]


def _pieces(log: list, wait_for: dict | None = None):
    """Work for ``check._run_checks``: each piece records (its name, its thread) and returns its
    name; a piece in ``wait_for`` first waits (at most 10 s) for that event."""
    import threading

    def piece(name):
        def work():
            if wait_for and name in wait_for:
                log.append((name, "waited", wait_for[name][0].wait(10)))
            log.append((name, threading.current_thread().name))
            if wait_for:
                for event, after in wait_for.values():
                    if after == name:
                        event.set()
            return name.upper()

        return work

    held = {n: piece(n) for n in HELD}
    parts = {t: piece(t) for t in ["permits", "surveys", "pregnancies"]}
    return held, parts


ROWS = {"permits": 5, "surveys": 8, "pregnancies": 1}


def test_on_one_thread_the_checks_run_in_their_order():
    """The tables held whole first, then those read by parts in schema order (a province)."""
    import threading

    log: list = []
    held, parts = _pieces(log)
    done = check._run_checks(held, parts, two=False, rows=ROWS)
    me = threading.current_thread().name
    assert log == [(n, me) for n in [*HELD, "permits", "surveys", "pregnancies"]]
    assert done == {n: n.upper() for n in [*HELD, *parts]}


def test_on_two_threads_the_largest_table_and_the_quickest_check_go_first():
    """The second thread starts with the largest table read by parts while the caller starts
    with the quickest check of the tables held whole: "surveys" waits until "dates" has run,
    which only ends if both run at once; every piece runs once, its result under its name."""
    import threading

    log: list = []
    held, parts = _pieces(log, wait_for={"surveys": (threading.Event(), "dates")})
    done = check._run_checks(held, parts, two=True, rows=ROWS)
    assert ("surveys", "waited", True) in log
    ran = dict(e for e in log if len(e) == 2)
    assert ran["surveys"] == "fpanalysis-beside"
    assert ran["dates"] == threading.current_thread().name
    assert sorted(ran) == sorted([*HELD, *parts])
    assert done == {n: n.upper() for n in [*HELD, *parts]}


def test_a_province_checks_the_tables_held_whole_beside_its_parts():
    """With ``held_beside`` (a province whose memory allows it) the caller's thread checks the
    tables read by parts in schema order while a second thread runs the checks of the tables
    held whole in their order: "surveys" waits until "dates" has run, which only ends if both
    run at once; every piece runs once, its result under its name."""
    import threading

    log: list = []
    held, parts = _pieces(log, wait_for={"surveys": (threading.Event(), "dates")})
    done = check._run_checks(held, parts, two=False, rows=ROWS, held_beside=True)
    assert ("surveys", "waited", True) in log
    me = threading.current_thread().name
    ran = [e for e in log if len(e) == 2]
    assert [n for n, t in ran if t == me] == ["permits", "surveys", "pregnancies"]
    assert [n for n, t in ran if t == "fpanalysis-beside"] == HELD
    assert done == {n: n.upper() for n in [*HELD, *parts]}


def test_a_part_that_fails_beside_the_held_checks_is_the_error_raised():
    """The caller's error is raised once the second thread has ended, not one of its own."""
    log: list = []
    held, parts = _pieces(log)

    def broken():
        raise OSError("part-00001.parquet: unreadable")

    parts["surveys"] = broken
    with pytest.raises(OSError, match="unreadable"):
        check._run_checks(held, parts, two=False, rows=ROWS, held_beside=True)
    assert sorted(n for n, *_ in log if n in HELD) == sorted(HELD)


def _write(folder: Path, parts: list[list[dict]]) -> None:
    folder.mkdir(parents=True)
    for k, rows in enumerate(parts):
        pd.DataFrame(rows).to_parquet(folder / f"part-{k:05d}.parquet", index=False)


def _survey(sid, couple="C1", unit="U1", kind="baseline", date="2024-02-01", reported=None):
    return {
        "survey_id": sid,
        "couple_id": couple,
        "unit_id": unit,
        "kind": kind,
        "survey_date": date,
        "problem_found": "否",
        "reported_date": reported,
    }


@pytest.fixture
def dataset(tmp_path) -> Path:
    """units U1; persons P1 (woman), P2 (man); couple C1; surveys in three parts (rows 2-3,
    4-6, 7-10) and check attendance in two parts (rows 2-3, 4-5)."""
    d = tmp_path / "ds"
    d.mkdir()
    pd.DataFrame([{"unit_id": "U1", "name": "办公室", "kind": "section"}]).to_csv(
        d / "units.csv", index=False
    )
    pd.DataFrame(
        [
            {"person_id": "P1", "name": "王芳", "sex": "F", "birth_date": "1980-01-01"},
            {"person_id": "P2", "name": "李强", "sex": "M", "birth_date": "1980-01-01"},
        ]
    ).assign(id_number=None, unit_id="U1", category="outside").to_csv(
        d / "persons.csv", index=False
    )
    pd.DataFrame(
        [{"couple_id": "C1", "wife_id": "P1", "husband_id": "P2", "marriage_date": "2000-01-01"}]
    ).to_csv(d / "couples.csv", index=False)
    _write(
        d / "surveys",
        [
            [_survey("S1"), _survey("S2", couple="C9")],  # rows 2, 3: C9 is no couple
            [
                _survey("S3", kind="weird"),  # row 4: not a kind
                _survey("S1"),  # row 5: S1 again, first seen in the part before (row 2)
                _survey("S5", date="not a date"),  # row 6: a type error, not also "required"
            ],
            [
                _survey("S6", unit="U7", date="2024-03-01", reported="2024-02-01"),  # row 7
                _survey("S7", couple=None),  # row 8: no couple
                _survey("S8", kind="followup"),  # row 9: valid
                _survey("S9"),  # row 10: valid
            ],
        ],
    )
    _write(
        d / "check_attendance",
        [
            [
                {"round_id": "R1", "person_id": "P1", "attended_date": "2024-03-01"},
                {"round_id": "R1", "person_id": "P2", "attended_date": "2024-03-01"},  # a man
            ],
            [
                {"round_id": "R1", "person_id": "P1", "attended_date": "2024-03-02"},  # again
                {"round_id": "R2", "person_id": "P9", "attended_date": "2024-03-02"},  # no P9
            ],
        ],
    )
    return d


def _both(path: Path):
    whole = io.load_dataset(path)
    a = validate_dataset(whole, as_of=AS_OF)
    parted, plans = io.load_by_part(path)
    b = validate_dataset(parted, as_of=AS_OF, by_part=plans)
    return (whole, a), (parted, plans, b)


def _facts(report):
    return [(p.table, p.row, p.column, p.rule, p.key, p.value, p.file) for p in report.problems]


def test_by_part_gives_the_problems_of_the_whole_table(dataset):
    (_, whole), (parted, plans, by_part) = _both(dataset)
    assert sorted(plans) == ["check_attendance", "surveys"]
    assert "surveys" not in parted  # never held whole
    assert by_part.problems == whole.problems
    assert by_part.rows == whole.rows
    assert by_part.rejected == whole.rejected


def test_rows_number_on_across_parts_and_name_their_part(dataset):
    (_, _), (_, _, report) = _both(dataset)
    surveys = [f for f in _facts(report) if f[0] == "surveys"]
    assert ("surveys", 3, "couple_id", "reference", "S2", "C9", "surveys/part-00000.parquet") in (
        surveys
    )
    assert ("surveys", 4, "kind", "enum", "S3", "weird", "surveys/part-00001.parquet") in surveys
    assert ("surveys", 7, "unit_id", "reference", "S6", "U7", "surveys/part-00002.parquet") in (
        surveys
    )
    assert ("surveys", 7, "reported_date", "date_order") in [f[:4] for f in surveys]
    assert ("surveys", 8, "couple_id", "required") in [f[:4] for f in surveys]
    # the bad date is a type error; the emptiness it causes is not reported again
    at6 = [f[2:4] for f in surveys if f[1] == 6]
    assert at6 == [("survey_date", "date")]


def test_a_duplicate_key_split_across_parts_rejects_both_copies(dataset):
    (_, _), (_, _, report) = _both(dataset)
    dup = [(p.row, p.key, p.file) for p in report.problems if p.rule == "unique"]
    assert ("surveys", 2) in [(p.table, p.row) for p in report.problems if p.rule == "unique"]
    assert (2, "S1", "surveys/part-00000.parquet") in dup
    assert (5, "S1", "surveys/part-00001.parquet") in dup
    # a composite key (round, person) repeated in the next part: both copies, named R1/P1
    assert (2, "R1/P1", "check_attendance/part-00000.parquet") in dup
    assert (4, "R1/P1", "check_attendance/part-00001.parquet") in dup


def test_checks_across_tables_see_the_other_tables_whole(dataset):
    (_, _), (_, _, report) = _both(dataset)
    facts = [(p.table, p.row, p.rule) for p in report.problems]
    assert ("check_attendance", 3, "attendance_woman") in facts  # P2 is a man in persons
    assert ("check_attendance", 5, "reference") in facts  # P9 is in no part of persons


def test_a_blank_row_keeps_the_numbers_of_the_rows_after_it(tmp_path):
    d = tmp_path / "ds"
    d.mkdir()
    blank = dict.fromkeys(_survey("x"))
    _write(d / "surveys", [[_survey("S1"), blank], [_survey("S1", kind="weird")]])
    (_, whole), (_, _, report) = _both(d)
    assert report.problems == whole.problems
    assert report.rows == whole.rows == {"surveys": 2}
    assert [(p.row, p.rule) for p in report.errors if p.table == "surveys"] == [
        (2, "unique"),
        (4, "unique"),
        (4, "enum"),
    ]


def test_rejects_of_a_table_checked_by_part_are_its_rows_as_typed(dataset, tmp_path):
    (whole_ds, whole), (parted, _, report) = _both(dataset)
    a = write_rejects(whole, whole_ds, tmp_path / "a", lang="en")
    b = write_rejects(report, parted, tmp_path / "b", lang="en")
    assert sorted(a) == sorted(b)
    for t in a:
        assert a[t].read_bytes() == b[t].read_bytes()


def test_by_part_tables_are_those_nothing_refers_to():
    assert "surveys" in BY_PART_TABLES and "check_attendance" in BY_PART_TABLES
    assert "persons" not in BY_PART_TABLES and "couples" not in BY_PART_TABLES
    assert "household_members" not in BY_PART_TABLES  # the households' checks read it whole


# --------------------------------------------------------------------------- analyses


def _as_one_file(src: Path, dst: Path) -> None:
    """The same dataset with each folder of parts written as one Parquet file (rows in the
    same order: the same row numbers), which is read whole."""
    dst.mkdir()
    for f in src.iterdir():
        if f.is_dir():
            parts = [pd.read_parquet(p) for p in sorted(f.iterdir())]
            pd.concat(parts, ignore_index=True).to_parquet(dst / f"{f.name}.parquet", index=False)
        else:
            (dst / f.name).write_bytes(f.read_bytes())


TABLES = ["units", "persons", "couples", "surveys", "check_attendance"]


def test_an_analysis_keeps_the_rows_of_the_whole_table_read(dataset, tmp_path):
    whole_path = tmp_path / "one"
    _as_one_file(dataset, whole_path)
    a = io.load_for_analysis(whole_path, TABLES, skip_invalid=True, lang="en")
    b = io.load_for_analysis(dataset, TABLES, skip_invalid=True, lang="en")
    assert a.skipped == b.skipped == {"surveys": 7, "check_attendance": 4}
    assert list(a) == list(b) == TABLES
    for t in TABLES:
        pd.testing.assert_frame_equal(a[t], b[t])
    assert b["surveys"]["survey_id"].tolist() == ["S8", "S9"]


def test_rows_kept_by_an_analysis_are_chosen_after_the_rows_left_out(dataset, tmp_path):
    def baseline(df):
        return df[df["kind"].eq("baseline").to_numpy(dtype=bool)]

    b = io.load_for_analysis(dataset, TABLES, skip_invalid=True, lang="en")
    c = io.load_for_analysis(
        dataset, TABLES, skip_invalid=True, lang="en", keep={"surveys": baseline}
    )
    assert c.skipped == b.skipped  # counted over the whole table, before the window
    assert c.messages == b.messages
    pd.testing.assert_frame_equal(c["surveys"], baseline(b["surveys"]))


def test_a_row_referring_to_a_left_out_row_is_left_out_too(tmp_path, dataset):
    # the couple C1 loses its husband (no such person): every survey of C1 refers to a
    # left-out row
    couples = dataset / "couples.csv"
    couples.write_text(couples.read_text().replace("P2", "P8"))
    whole_path = tmp_path / "one"
    _as_one_file(dataset, whole_path)
    a = io.load_for_analysis(whole_path, TABLES, skip_invalid=True, lang="en")
    b = io.load_for_analysis(dataset, TABLES, skip_invalid=True, lang="en")
    assert a.skipped == b.skipped
    assert b.skipped["surveys"] == 9  # every row: 7 rejected, 2 for their couple
    assert [m for m in a.messages if "left out" in m] == [m for m in b.messages if "left out" in m]
    for t in TABLES:
        pd.testing.assert_frame_equal(a[t], b[t])


def test_clean_parts_are_kept_as_checked(dataset, tmp_path):
    # only the valid surveys and attendances: no row is left out, each part's kept rows are
    # those of the table read whole
    shutil.rmtree(dataset / "check_attendance")
    for f in sorted((dataset / "surveys").iterdir()):
        if f.name != "part-00002.parquet":
            f.unlink()
    pd.DataFrame([_survey("S10", kind="followup"), _survey("S11")]).to_parquet(
        dataset / "surveys" / "part-00003.parquet", index=False
    )
    part2 = pd.read_parquet(dataset / "surveys" / "part-00002.parquet").iloc[2:]
    part2.to_parquet(dataset / "surveys" / "part-00002.parquet", index=False)
    whole_path = tmp_path / "one"
    _as_one_file(dataset, whole_path)

    def baseline(df):
        return df[df["kind"].eq("baseline").to_numpy(dtype=bool)]

    tables = ["units", "persons", "couples", "surveys"]
    a = io.load_for_analysis(whole_path, tables, lang="en", keep={"surveys": baseline})
    b = io.load_for_analysis(dataset, tables, lang="en", keep={"surveys": baseline})
    assert a.skipped == b.skipped == {}
    for t in tables:
        pd.testing.assert_frame_equal(a[t], b[t])
    assert b["surveys"]["survey_id"].tolist() == ["S9", "S11"]
    assert b["surveys"].index.tolist() == [3, 5]


@pytest.mark.parametrize(
    ("parts", "duplicates"),
    [
        ([["S1", "S2"], ["S3", "S4"]], []),  # in order: no key is held, none repeats
        ([["S1", "S2"], ["S2", "S3"]], [3, 4]),  # in order within parts, the boundary repeats
        ([["S1", "S3"], ["S2", "S4"], ["S5", "S3"]], [3, 7]),  # out of order from part 2 on
        ([["S1", None], ["S2", "S2"]], [4, 5]),  # a missing key: never a duplicate
    ],
)
def test_duplicate_keys_whether_or_not_the_parts_are_in_order(tmp_path, parts, duplicates):
    d = tmp_path / "ds"
    d.mkdir()
    _write(d / "surveys", [[_survey(sid) for sid in p] for p in parts])
    (_, whole), (_, _, report) = _both(d)
    assert report.problems == whole.problems
    assert [p.row for p in report.problems if p.rule == "unique"] == duplicates


def test_a_slice_read_in_pieces_holds_the_values_read_as_one_array(dataset):
    """A slice checked and let go is read without joining each text column into one Arrow
    array: the same values, dtypes and row numbers as the table read whole (one array)."""
    from fpanalysis.core import schema
    from fpanalysis.io.typed import plan_typed

    files = [(p, p.name) for p in sorted((dataset / "surveys").glob("*.parquet"))]
    plan = plan_typed(schema.TABLES["surveys"], files)
    one = plan.read().frame
    pieces = plan.read(one_chunk=False).frame
    pd.testing.assert_frame_equal(pieces, one)
    chunks = pd.Series({c: getattr(one[c].array, "_pa_array", None) for c in one.columns})
    assert all(a.num_chunks == 1 for a in chunks.dropna())
    assert pieces["survey_id"].array._pa_array.num_chunks == len(files) > 1
