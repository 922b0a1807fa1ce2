"""Compliance on the Dask engine: the pandas engine's scorecard, from per-unit sums over partitions.

A real ``LocalCluster`` (threads, 2 workers) is started once for the module
and stopped at its end. The small bureau: units U1 and U2; couples (in table
order) C1 = W1 (staff of U1) + H1, C3 = W3 (staff of U2) + H3, C2 = W2 (staff
of U1) + H2, all married before 2024, wives born 1985–1992. Cut into two
partitions by position, C1 and C3 land in the first and C2 in the second, so
U1's couples are spread over two partitions: its sums must be added before it
is scored.
"""

from __future__ import annotations

import contextlib
import io

import pandas as pd
import pandas.testing as pt
import pytest

from fpanalysis.cli import main
from fpanalysis.core.params import load_params
from fpanalysis.core.schema import coerce
from fpanalysis.engines.dask import compliance as dc
from fpanalysis.engines.dask.cluster import dask_client
from fpanalysis.rules import compliance as cp

P = load_params()


@pytest.fixture(scope="module")
def client():
    with dask_client(n_workers=2, processes=False, memory_limit="2GB") as c:
        yield c


def person(pid, sex, birth, unit=None, category="outside"):
    return {
        "person_id": pid,
        "name": f"张{pid}",
        "sex": sex,
        "birth_date": birth,
        "unit_id": unit,
        "category": category,
        "hire_date": "2010-01-01" if category == "staff" else None,
    }


PERSONS = [
    person("W1", "F", "1990-06-01", "U1", "staff"),
    person("H1", "M", "1988-01-01"),
    person("W3", "F", "1985-03-01", "U2", "staff"),
    person("H3", "M", "1984-01-01"),
    person("W2", "F", "1992-02-01", "U1", "staff"),
    person("H2", "M", "1990-01-01"),
]
COUPLES = [
    {"couple_id": "C1", "wife_id": "W1", "husband_id": "H1", "marriage_date": "2015-05-01"},
    {"couple_id": "C3", "wife_id": "W3", "husband_id": "H3", "marriage_date": "2010-05-01"},
    {"couple_id": "C2", "wife_id": "W2", "husband_id": "H2", "marriage_date": "2016-05-01"},
]


def world(persons=(), couples=(), **tables):
    t = {
        "units": coerce(
            "units",
            [
                {"unit_id": "U1", "name": "办公室", "kind": "section"},
                {"unit_id": "U2", "name": "福利院", "kind": "affiliated"},
            ],
        ),
        "persons": coerce("persons", PERSONS + list(persons)),
        "couples": coerce("couples", COUPLES + list(couples)),
    }
    for name in cp.TABLES_NEEDED:
        if name not in t:
            t[name] = coerce(name, tables.get(name, []))
    return t


def followup(sid, couple, date, unit="U1"):
    return {
        "survey_id": sid,
        "couple_id": couple,
        "unit_id": unit,
        "kind": "followup",
        "survey_date": date,
        "problem_found": False,
    }


def falsified(rid, couple, person, found):
    return {
        "record_id": rid,
        "couple_id": couple,
        "person_id": person,
        "method": "iud",
        "start_date": "2020-01-01",
        "falsified_found_date": found,
    }


def both_engines(client, tables, period, partitions=2):
    got = dc.compliance(client, None, P, period, detail=True, partitions=partitions, tables=tables)
    detail = cp.compliance_detail(tables, P, period)
    want = cp.compliance_scorecard(tables, P, period, detail=detail)
    pt.assert_frame_equal(got.scorecard, want)
    pt.assert_frame_equal(got.detail, detail)
    return got


def test_the_split_spreads_u1_over_two_partitions():
    parts = dc.split_by_couple_group(world(), 2)
    assert [p["couples"]["couple_id"].tolist() for p in parts] == [["C1", "C3"], ["C2"]]
    assert [sorted(p["persons"]["person_id"]) for p in parts] == [
        ["H1", "H3", "W1", "W3"],
        ["H2", "W2"],
    ]
    assert all(len(p["units"]) == 2 for p in parts)  # the reference tables go everywhere


# Period 2024H2 (C1 dropped; weights C2 0.25, C3 0.15, C4 0.35 scaled by 1/0.75); no rounds, no
# problems found: C3 and C4 are 0/0 = 1. Penalty 5 points per falsification.
@pytest.mark.parametrize(
    ("tables", "followup_rate", "falsifications", "score", "grade"),
    [
        # C1 followed up, C2 not: U1 1/2 (one partition alone would say 1/1 or 0/1).
        # 100 × (0.25 × 1/2 + 0.15 + 0.35) / 0.75 = 83.33
        pytest.param(
            {"surveys": [followup("S1", "C1", "2024-08-01")]},
            0.5,
            0,
            83.33,
            "pass",
            id="half-followed-up-across-partitions",
        ),
        # Both followed up, one in each partition: 2/2 → 100.
        pytest.param(
            {"surveys": [followup("S1", "C1", "2024-08-01"), followup("S2", "C2", "2024-12-31")]},
            1.0,
            0,
            100.0,
            "excellent",
            id="all-followed-up",
        ),
        # A falsification in each partition: 2 counted, 10 points off: 83.33 − 10 = 73.33.
        pytest.param(
            {
                "surveys": [followup("S1", "C1", "2024-08-01")],
                "contraception": [
                    falsified("K1", "C1", "W1", "2024-09-01"),
                    falsified("K2", "C2", "W2", "2024-10-01"),
                ],
            },
            0.5,
            2,
            73.33,
            "pass",
            id="penalties-added-across-partitions",
        ),
        # Nobody followed up: 0/2; 100 × 0.5 / 0.75 = 66.67 → fail.
        pytest.param({}, 0.0, 0, 66.67, "fail", id="nobody-followed-up"),
    ],
)
def test_unit_spread_over_two_partitions(
    client, tables, followup_rate, falsifications, score, grade
):
    got = both_engines(client, world(**tables), "2024H2")
    u1 = got.scorecard.set_index("unit_id").loc["U1"]
    assert (u1["followup_coverage"], u1["falsifications"], u1["score"], u1["grade"]) == (
        followup_rate,
        falsifications,
        score,
        grade,
    )
    assert got.partitions == 2


def test_sums_of_parts_add_up_to_the_sums_of_the_whole():
    t = world(
        surveys=[followup("S1", "C1", "2024-08-01")],
        contraception=[
            falsified("K1", "C1", "W1", "2024-09-01"),
            falsified("K2", "C2", "W2", "2024-10-01"),
        ],
    )
    parts = [
        cp.unit_sums(cp.compliance_detail(p, P, "2024H2")) for p in dc.split_by_couple_group(t, 2)
    ]
    total = cp.add_unit_sums(parts).set_index(["unit_id", "indicator"])
    assert total.loc[("U1", "followup_coverage"), ["numerator", "denominator"]].tolist() == [1, 2]
    assert total.loc[("U1", "falsifications"), "penalty"] == 10
    pt.assert_frame_equal(
        cp.add_unit_sums(parts), cp.unit_sums(cp.compliance_detail(t, P, "2024H2"))
    )


def test_a_husband_married_twice_keeps_both_marriages_in_one_partition(client):
    """H5's vasectomy is recorded under his first marriage C0; it exempts his second wife W5 (C5)
    from a check."""
    t = world(
        persons=[
            person("W0", "F", "1980-01-01"),
            person("H5", "M", "1978-01-01"),
            person("W5", "F", "1986-01-01", "U2", "staff"),
        ],
        couples=[
            {"couple_id": "C5", "wife_id": "W5", "husband_id": "H5", "marriage_date": "2019-01-01"}
        ],
        contraception=[
            {
                "record_id": "K9",
                "couple_id": "C0",
                "person_id": "H5",
                "method": "male_sterilization",
                "start_date": "2017-01-01",
            }
        ],
        check_rounds=[{"round_id": "R1", "start_date": "2024-09-01", "end_date": "2024-09-30"}],
    )
    t["couples"] = coerce(
        "couples",
        [
            {
                "couple_id": "C0",
                "wife_id": "W0",
                "husband_id": "H5",
                "marriage_date": "2010-01-01",
                "divorce_date": "2018-01-01",
            },
            *COUPLES,
            {"couple_id": "C5", "wife_id": "W5", "husband_id": "H5", "marriage_date": "2019-01-01"},
        ],
    )
    parts = dc.split_by_couple_group(t, 2)
    with_c5 = next(p for p in parts if "C5" in set(p["couples"]["couple_id"]))
    assert "C0" in set(with_c5["couples"]["couple_id"]) and "K9" in set(
        with_c5["contraception"]["record_id"]
    )
    got = both_engines(client, t, "2024H2")
    w5 = got.detail[
        (got.detail["indicator"] == "check_attendance") & (got.detail["person_id"] == "W5")
    ]
    assert w5["in_denominator"].tolist() == [False]
    assert w5["reason_en"].tolist() == ["exempt: a spouse is sterilised (K9)"]


def test_default_period_from_every_partition(client):
    """No period: a first pass takes each partition's last recorded date; the latest, 2024-10-01
    (C2's falsification, in the second partition), is no 31 Dec, so the period is 2023."""
    t = FULL()
    got = dc.compliance(client, None, P, None, partitions=2, tables=t)
    assert got.period == str(cp.latest_complete_year(t)) == "2023"
    pt.assert_frame_equal(got.scorecard, cp.compliance_scorecard(t, P, "2023"))


def FULL():
    """The small bureau with a follow-up, a falsification and a check round (every kind of row)."""
    return world(
        surveys=[followup("S1", "C1", "2024-08-01"), followup("S2", "C3", "2024-03-01", unit="U2")],
        contraception=[falsified("K1", "C2", "W2", "2024-10-01")],
        check_rounds=[{"round_id": "R1", "start_date": "2024-09-01", "end_date": "2024-09-30"}],
        check_attendance=[{"round_id": "R1", "person_id": "W2", "attended_date": "2024-09-03"}],
    )


def write_parts(tables, out, n, *, break_alignment=False):
    """Write an aligned partitioned Parquet dataset DIR/<table>/part-N.parquet from ``tables``."""
    parts = dc.split_by_couple_group(tables, n)
    for t in cp.TABLES_NEEDED:
        (out / t).mkdir(parents=True)
        if t in dc.SHARED_TABLES:
            tables[t].to_parquet(out / t / "part-00000.parquet", index=False)
            continue
        frames = [p[t] for p in parts]
        if break_alignment and t == "persons":  # the second partition's spouses land in the first
            frames = [pd.concat([frames[0], frames[1]]), frames[1].iloc[0:0], *frames[2:]]
        for k, f in enumerate(frames):
            f.to_parquet(out / t / f"part-{k:05d}.parquet", index=False)
    return len(parts)


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(False, id="aligned-parts-read-in-workers"),
        pytest.param(True, id="not-aligned-repartitioned"),
    ],
)
def test_partitioned_parquet(client, tmp_path, broken):
    ds = FULL()
    n = write_parts(ds, tmp_path / "pq", 2, break_alignment=broken)
    got = dc.compliance(client, tmp_path / "pq", P, "2024", detail=True)
    detail = cp.compliance_detail(ds, P, "2024")
    pt.assert_frame_equal(got.scorecard, cp.compliance_scorecard(ds, P, "2024", detail=detail))
    pt.assert_frame_equal(got.detail, detail)
    assert got.repartitioned is broken
    assert (
        any("分区未对齐" in m for m in got.messages) is broken
    )  # the note says it was re-partitioned
    if not broken:
        assert got.partitions == n


def test_lean_detail_written_per_partition(client, tmp_path):
    ds = FULL()
    got = dc.compliance(
        client, None, P, "2024", detail_dir=tmp_path / "detail", partitions=2, tables=ds
    )
    assert got.detail is None
    files = sorted((tmp_path / "detail").glob("part-*.parquet"))
    assert [f.name for f in files] == ["part-00000.parquet", "part-00001.parquet"]
    back = [pd.read_parquet(f) for f in files]
    # Partition 0 holds C1 and C3, partition 1 holds C2 (with its falsification and its check).
    assert [sorted(set(b["couple_id"])) for b in back] == [["C1", "C3"], ["C2"]]
    assert sum(map(len, back)) == len(cp.compliance_detail(ds, P, "2024"))


def run_cli(argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue()


def test_cli_dask_equals_pandas_byte_for_byte(tmp_path):
    runs = {}
    for engine in ("pandas", "dask"):
        d = tmp_path / engine
        d.mkdir()
        extra = (
            ["--engine", "dask", "--workers", "1", "--worker-memory", "2GB"]
            if engine == "dask"
            else []
        )
        code, text = run_cli(
            [
                "compliance",
                "--out",
                str(d / "card.csv"),
                "--detail",
                str(d / "detail.xlsx"),
                "--lang",
                "en",
                *extra,
            ]
        )
        assert code == 0
        runs[engine] = (
            text.replace(str(d), "D"),
            (d / "card.csv").read_bytes(),
            (d / "detail.xlsx").read_bytes(),
        )
    assert runs["dask"] == runs["pandas"]


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--scheduler", "tcp://127.0.0.1:1"], id="scheduler-without-dask"),
        pytest.param(["--engine", "dask", "--record"], id="record-with-dask"),
    ],
)
def test_cli_refuses_engine_options_that_do_not_go_together(tmp_path, argv):
    code = main(["compliance", "--out", str(tmp_path / "c.csv"), *argv])
    assert code == 2
    assert not (tmp_path / "c.csv").exists()
