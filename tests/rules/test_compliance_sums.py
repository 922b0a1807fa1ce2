"""The scorecard without drill-down (``compliance_sums``: each block of rows added up as it comes)
against the readable path (the whole drill-down, stacked, sorted and added up)."""

from __future__ import annotations

import pandas as pd
import pytest
from test_compliance import world

from fpanalysis.core.params import load_params
from fpanalysis.rules.compliance import compliance_detail, compliance_scorecard
from fpanalysis.rules.compliance.scoring import compliance_sums, unit_sums
from fpanalysis.rules.frames import Memo

PERIODS = ["2024", "2024H1", "2024H2", "2019"]


@pytest.mark.parametrize("period", PERIODS)
def test_sums_equal_the_drill_downs_sums_on_the_sample(sample_dir, period):
    from fpanalysis.io import load_for_analysis
    from fpanalysis.rules.compliance import TABLES_NEEDED

    ds = load_for_analysis(sample_dir, TABLES_NEEDED)
    params = load_params()
    readable = compliance_detail(ds, params, period)
    pd.testing.assert_frame_equal(compliance_sums(ds, params, period), unit_sums(readable))
    pd.testing.assert_frame_equal(
        compliance_scorecard(ds, params, period),
        compliance_scorecard(ds, params, period, detail=readable),
    )
    handed = Memo({t: ds[t] for t in TABLES_NEEDED}, handed_over=True)
    pd.testing.assert_frame_equal(
        compliance_scorecard(handed, params, period),
        compliance_scorecard(ds, params, period, detail=readable),
    )
    assert list(handed) == ["units"]  # let go of all it read


def test_sums_by_hand():
    """One staff couple of U1, surveyed at baseline in time: C1 1/1, U2 has nobody."""
    s = {
        "survey_id": "S1",
        "couple_id": "C1",
        "unit_id": "U1",
        "kind": "baseline",
        "survey_date": "2024-01-15",
        "problem_found": False,
        "reported_date": None,
    }
    t = world(surveys=[s])
    params = load_params()
    sums = compliance_sums(t, params, "2024").set_index(["unit_id", "indicator"])
    assert sums.loc[("U1", "baseline_coverage"), ["numerator", "denominator"]].tolist() == [1, 1]
    assert "U2" not in sums.index.get_level_values(0)
    pd.testing.assert_frame_equal(
        compliance_scorecard(t, params, "2024"),
        compliance_scorecard(t, params, "2024", detail=compliance_detail(t, params, "2024")),
    )


def test_sums_of_nothing():
    t = world(persons=[], couples=[])
    params = load_params()
    assert compliance_sums(t, params, "2024").empty
    card = compliance_scorecard(t, params, "2024")
    assert card["unit_id"].tolist() == ["U1", "U2"]


@pytest.mark.parametrize("period", PERIODS)
def test_scorecard_from_the_columns_it_reads(sample_dir, period):
    """Loaded with only the columns ``scorecard_columns`` keeps (no names, ID numbers nor sexes),
    the sample's scorecard is the one of the whole tables."""
    from fpanalysis.io import load_for_analysis
    from fpanalysis.rules.compliance import TABLES_NEEDED
    from fpanalysis.rules.compliance.detail import SCORECARD_COLUMNS_READ, scorecard_columns

    params = load_params()
    whole = load_for_analysis(sample_dir, TABLES_NEEDED)
    slim = load_for_analysis(sample_dir, TABLES_NEEDED, keep=scorecard_columns())
    for t, names in SCORECARD_COLUMNS_READ.items():
        assert list(slim[t].columns) == names
        assert "name" not in slim[t].columns and "sex" not in slim[t].columns
    pd.testing.assert_frame_equal(
        compliance_scorecard(slim, params, period), compliance_scorecard(whole, params, period)
    )


def test_adding_sums_of_parts_by_hand():
    """Three parts' sums added: counts add up, penalty points add exactly (1/2 + 1/3 = 5/6), a
    (unit, indicator) with none keeps nought, and the rows come out sorted by unit and indicator."""
    from fractions import Fraction

    from fpanalysis.rules.compliance.scoring import SUMS_COLUMNS, add_unit_sums

    def part(rows):
        return pd.DataFrame(rows, columns=SUMS_COLUMNS)

    a = part([["U2", "falsifications", 1, 0, Fraction(1, 2), 0]])
    b = part(
        [
            ["U1", "followup_coverage", 3, 4, Fraction(0), 0],
            ["U2", "falsifications", 2, 0, Fraction(1, 3), 1],
        ]
    )
    c = part([["U1", "followup_coverage", 1, 1, Fraction(0), 0]])
    got = add_unit_sums([a, b, c, part([])]).values.tolist()
    assert got == [
        ["U1", "followup_coverage", 4, 5, Fraction(0), 0],
        ["U2", "falsifications", 3, 0, Fraction(5, 6), 1],
    ]


@pytest.mark.parametrize("period", ["2024", "2024H2"])
def test_one_thread_and_two_give_the_same_drill_down_and_scorecard(sample_dir, period, monkeypatch):
    """C5-C8 and then C4 made on a second thread beside C1-C3 (a county's tables, the default);
    C5-C8 alone beside C1-C3 and C4 after them (a province's, where its memory allows); or all
    after one another on one thread (a province's without the memory): the same blocks in the
    same order, so the same frames; handed-over tables are let go every way."""
    import threading

    from fpanalysis.core import ahead
    from fpanalysis.io import load_for_analysis
    from fpanalysis.rules.compliance import TABLES_NEEDED
    from fpanalysis.rules.compliance import detail as detail_module

    ds = load_for_analysis(sample_dir, TABLES_NEEDED)
    params = load_params()
    threads: list[tuple[str, str]] = []

    def recorded(name, real):
        def made(*a, **k):
            threads.append((name, threading.current_thread().name))
            return real(*a, **k)

        return made

    for name in ("event_rows", "check_rows"):
        monkeypatch.setattr(detail_module, name, recorded(name, getattr(detail_module, name)))
    me, beside = threading.current_thread().name, "fpanalysis-beside"
    ways = {  # way: (ahead.TWO_THREADS_ROWS, whether the memory allows work beside, threads)
        "county": (10**9, True, [("event_rows", beside), ("check_rows", beside)]),
        "province": (0, True, [("check_rows", me), ("event_rows", beside)]),
        "province-no-room": (0, False, [("check_rows", me), ("event_rows", me)]),
    }
    got = {}
    for way, (rows, room, want) in ways.items():
        monkeypatch.setattr(ahead, "TWO_THREADS_ROWS", rows)
        monkeypatch.setattr(ahead, "fits_beside", lambda n, room=room: room)
        threads.clear()
        handed = Memo({t: ds[t] for t in TABLES_NEEDED}, handed_over=True)
        got[way] = (
            compliance_detail(ds, params, period),
            compliance_scorecard(handed, params, period),
        )
        assert list(handed) == ["units"]
        # so each way was taken (the two threads of a province's may begin in either order)
        if way == "province":
            assert sorted(threads) == sorted(want * 2)
        else:
            assert threads == want * 2
    for way in ("province", "province-no-room"):
        for one, other in zip(got[way], got["county"], strict=True):
            pd.testing.assert_frame_equal(one, other)


@pytest.mark.parametrize(
    ("given", "rows_weighed"),
    [
        pytest.param("memo-as-read", 5_000_000, id="memo-told-the-rows-read"),
        pytest.param("dataset", "report", id="dataset-its-validation-counted"),
        pytest.param("plain", "held", id="plain-mapping-the-rows-held"),
    ],
)
def test_the_rules_weigh_the_tables_as_read(sample_dir, given, rows_weighed, monkeypatch):
    """Whether C5-C8 go on a second thread is weighed on the tables as they were read, as their
    validation weighed them, not on the rows a period keeps of them (10M people's surveys,
    kept for 2024 only, came under the limit and two threads held 9.4 GB)."""
    from fpanalysis.core import ahead
    from fpanalysis.io import load_for_analysis
    from fpanalysis.rules.compliance import TABLES_NEEDED

    # a window of the surveys kept, as a period keeps them: fewer rows held than read
    ds = load_for_analysis(sample_dir, TABLES_NEEDED, keep={"surveys": lambda f: f.iloc[:10]})
    held = sum(len(ds[t]) for t in TABLES_NEEDED)
    assert held < sum(ds.report.rows.values())
    tables = {
        "memo-as-read": Memo({t: ds[t] for t in TABLES_NEEDED}, rows_read=5_000_000),
        "dataset": ds,
        "plain": {t: ds[t] for t in TABLES_NEEDED},
    }[given]
    weighed: list[int] = []
    real = ahead.two_threads
    monkeypatch.setattr(ahead, "two_threads", lambda rows: weighed.append(rows) or real(rows))
    compliance_scorecard(tables, load_params(), "2024")
    want = {"report": sum(ds.report.rows.values()), "held": held}.get(rows_weighed, rows_weighed)
    assert weighed[:1] == [want]


@pytest.mark.parametrize("ids", ["one-width", "mixed-widths"])
def test_sums_added_by_codes_as_by_the_group_by(ids):
    """The reduce's way for parts with every unit given (each (unit, indicator) as an integer,
    the counts added by numpy) gives the readable group-by's frame: the same rows in the same
    order, the same counts, the same exact penalties and the same types."""
    from fractions import Fraction

    import numpy as np

    from fpanalysis.rules.compliance import scoring

    rng = np.random.default_rng(5)
    unit = (lambda i: f"U{i:03d}") if ids == "one-width" else (lambda i: f"U{i}")
    kinds = ["baseline_coverage", "falsifications", "followup_coverage", "pregnancy_checks"]
    parts = []
    for _ in range(3):
        n = 400
        picks = [Fraction(0), Fraction(1, 2), Fraction(7, 20), Fraction(3)]
        parts.append(
            pd.DataFrame(
                {
                    "unit_id": pd.Series(
                        [unit(int(i)) for i in rng.integers(0, 150, n)], dtype="str"
                    ),
                    "indicator": pd.Series(
                        [kinds[int(i)] for i in rng.integers(0, 4, n)], dtype="str"
                    ),
                    "numerator": rng.integers(0, 5, n).astype("int64"),
                    "denominator": rng.integers(0, 9, n).astype("int64"),
                    "penalty": pd.Series(
                        [picks[int(i)] if i < 4 else scoring._ZERO for i in rng.integers(0, 40, n)],
                        dtype="object",
                    ),
                    "veto": rng.integers(0, 2, n).astype("int64"),
                }
            )
        )
    stacked = pd.concat(parts, ignore_index=True)
    want = scoring._added_by_groups(stacked)
    got = scoring.add_unit_sums(parts)
    pd.testing.assert_frame_equal(got, want)
    assert got["penalty"].map(type).eq(Fraction).all()
    assert (want["penalty"] != 0).sum() > 50  # points added, not only noughts
