"""The reward budget on Dask equals the pandas engine's, to the byte (rulebook §5).

A real LocalCluster (threads, for speed) is started once for the module and
stopped at its end; the CLI tests start their own (worker processes) through
``dask_client``. Partitioned fixtures are written by hand: DIR/<table>/part-NNNNN.parquet.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fpanalysis import io
from fpanalysis.cli import main
from fpanalysis.core.errors import DataError
from fpanalysis.core.params import load_params
from fpanalysis.core.schema import coerce
from fpanalysis.engines.dask import bonus as db
from fpanalysis.engines.dask.cluster import dask_client
from fpanalysis.rules import bonus

START, MONTHS, DRAWS = "2026-01", 6, 50


@pytest.fixture(scope="module")
def client():
    with dask_client(n_workers=2, processes=False, memory_limit="2GB") as c:
        yield c


# --------------------------------------------------------------------------- the hand dataset
#
# Three partitions, each holding whole couples.
#   part 0: C1  wife W1 staff of U1 since 2010, certificate G1 (child born 2015): U1 pays 20/month.
#   part 1: C2  husband H2 joins U2's payroll on 2026-03-15: G2 is paid from March (month of hire).
#           C3  wife W3 staff of U3, G3 revoked on 2026-04-10: paid Jan-Mar, not April (revoked).
#   part 2: C4  childless, wife staff of U1, 30 years old: new certificates only (Monte Carlo).
#           C5  payee W5 is floating: G5 is outside the budget (6 x 20 = 120 yuan, never added in).

UNITS = [
    {"unit_id": u, "name": n, "kind": k}
    for u, n, k in [
        ("U1", "办公室", "section"),
        ("U2", "救助站", "affiliated"),
        ("U3", "福利院", "affiliated"),
    ]
]


def _person(pid, sex, born, category, unit=None, hire=None):
    return {
        "person_id": pid,
        "name": "张" + pid,
        "sex": sex,
        "birth_date": born,
        "category": category,
        "unit_id": unit,
        "hire_date": hire,
    }


HAND = [
    {  # part 0
        "persons": [
            _person("W1", "F", "1985-03-01", "staff", "U1", "2010-01-01"),
            _person("H1", "M", "1983-01-01", "outside"),
        ],
        "couples": [
            {"couple_id": "C1", "wife_id": "W1", "husband_id": "H1", "marriage_date": "2012-01-01"}
        ],
        "children": [{"child_id": "K1", "couple_id": "C1", "birth_date": "2015-06-10", "sex": "F"}],
        "certificates": [
            {
                "cert_id": "G1",
                "couple_id": "C1",
                "child_id": "K1",
                "issue_date": "2015-08-01",
                "payee_id": "W1",
            }
        ],
    },
    {  # part 1
        "persons": [
            _person("W2", "F", "1990-01-01", "outside"),
            _person("H2", "M", "1988-01-01", "staff", "U2", "2026-03-15"),
            _person("W3", "F", "1980-01-01", "staff", "U3", "2005-01-01"),
            _person("H3", "M", "1979-01-01", "outside"),
        ],
        "couples": [
            {"couple_id": "C2", "wife_id": "W2", "husband_id": "H2", "marriage_date": "2018-01-01"},
            {"couple_id": "C3", "wife_id": "W3", "husband_id": "H3", "marriage_date": "2010-01-01"},
        ],
        "children": [
            {"child_id": "K2", "couple_id": "C2", "birth_date": "2019-05-01", "sex": "M"},
            {"child_id": "K3", "couple_id": "C3", "birth_date": "2016-02-29", "sex": "F"},
        ],
        "certificates": [
            {
                "cert_id": "G2",
                "couple_id": "C2",
                "child_id": "K2",
                "issue_date": "2020-01-01",
                "payee_id": "H2",
            },
            {
                "cert_id": "G3",
                "couple_id": "C3",
                "child_id": "K3",
                "issue_date": "2016-05-01",
                "payee_id": "W3",
                "revoked_date": "2026-04-10",
            },
        ],
    },
    {  # part 2
        "persons": [
            _person("W4", "F", "1995-06-01", "staff", "U1", "2020-01-01"),
            _person("H4", "M", "1994-01-01", "outside"),
            _person("W5", "F", "1984-01-01", "floating", "U2"),
            _person("H5", "M", "1982-01-01", "outside"),
        ],
        "couples": [
            {"couple_id": "C4", "wife_id": "W4", "husband_id": "H4", "marriage_date": "2021-01-01"},
            {"couple_id": "C5", "wife_id": "W5", "husband_id": "H5", "marriage_date": "2011-01-01"},
        ],
        "children": [{"child_id": "K5", "couple_id": "C5", "birth_date": "2013-01-01", "sex": "F"}],
        "certificates": [
            {
                "cert_id": "G5",
                "couple_id": "C5",
                "child_id": "K5",
                "issue_date": "2013-03-01",
                "payee_id": "W5",
            }
        ],
    },
]

TABLES = ["units", "persons", "couples", "children", "certificates"]


def write_partitioned(parts: list[dict[str, pd.DataFrame]], units: pd.DataFrame, out: Path) -> Path:
    """DIR/<table>/part-NNNNN.parquet, units as one shared part."""
    (out / "units").mkdir(parents=True)
    units.to_parquet(out / "units" / "part-00000.parquet", index=False)
    for t in TABLES[1:]:
        (out / t).mkdir()
        for k, p in enumerate(parts):
            p[t].to_parquet(out / t / f"part-{k:05d}.parquet", index=False)
    return out


def write_flat(tables: dict[str, pd.DataFrame], out: Path) -> Path:
    out.mkdir(parents=True)
    for t in TABLES:
        tables[t].to_parquet(out / f"{t}.parquet", index=False)
    return out


def hand_parts() -> list[dict[str, pd.DataFrame]]:
    return [{t: coerce(t, p[t]) for t in TABLES[1:]} for p in HAND]


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    d = tmp_path_factory.mktemp("hand")
    parts = hand_parts()
    units = coerce("units", UNITS)
    write_partitioned(parts, units, d / "parts")
    flat = {
        "units": units,
        **{t: pd.concat([p[t] for p in parts], ignore_index=True) for t in TABLES[1:]},
    }
    write_flat(flat, d / "flat")
    return d


@pytest.fixture(scope="module")
def sample_parts(
    tmp_path_factory,
):
    from fpanalysis.core import config

    d = tmp_path_factory.mktemp("sample")
    ds = io.load_for_analysis(config.SAMPLE_DIR, TABLES)
    tables = {t: ds[t] for t in TABLES}
    parts = db.split_by_couple(tables, 3)
    assert len(parts) == 3
    write_partitioned(parts, tables["units"], d / "parts")
    return d / "parts"


def pandas_engine(path, params, start=None, months=MONTHS):
    ds = io.load_for_analysis(path, TABLES)
    start = start or bonus.default_start(ds)
    model = bonus.BonusModel.build(ds, params, start, max_months=months)
    return (
        start,
        model,
        bonus.liability(ds, params, start),
        bonus.outside_budget(ds, params, start, months),
    )


def assert_same(res: db.DaskBudget, ref, params, months=MONTHS):
    start, model, liab, outside = ref
    assert res.start == start
    pd.testing.assert_frame_equal(
        res.model.project(params, months, DRAWS, 7).table(),
        model.project(params, months, DRAWS, 7).table(),
    )
    assert res.model.units == model.units
    for f in ("mode", "unit", "share", "first_m", "end_m", "birth_m", "count"):
        np.testing.assert_array_equal(getattr(res.model.cohorts, f), getattr(model.cohorts, f))
        assert getattr(res.model.cohorts, f).dtype == getattr(model.cohorts, f).dtype
    pd.testing.assert_frame_equal(res.model.groups, model.groups)
    pd.testing.assert_frame_equal(res.liability, liab)
    pd.testing.assert_frame_equal(res.outside, outside)


# --------------------------------------------------------------------------- hand-computed


def test_hand_dataset_paid_months_by_unit(client, hand):
    res = db.budget(client, hand / "parts", load_params(), start=START, months=MONTHS, outside=True)
    out = res.model.project(load_params(), MONTHS, DRAWS, 0).table()
    got = out.pivot(index="unit_id", columns="month", values="committed_yuan").map(str)
    assert got.loc["U1"].tolist() == ["20.00"] * 6
    assert got.loc["U2"].tolist() == [
        "0.00",
        "0.00",
        "20.00",
        "20.00",
        "20.00",
        "20.00",
    ]  # hired 15 March
    assert got.loc["U3"].tolist() == [
        "20.00",
        "20.00",
        "20.00",
        "0.00",
        "0.00",
        "0.00",
    ]  # revoked April
    assert res.outside[["cert_id", "months_due"]].values.tolist() == [["G5", 6]]
    assert str(res.outside["outside_yuan"].iloc[0]) == "120.00"
    # C4 is the one childless in-scope couple: one group of one couple, paid by U1
    assert res.model.groups[["payee_unit_id", "couples"]].values.tolist() == [["U1", 1]]
    assert res.partitions == 3 and not res.repartitioned
    assert res.rows == {"units": 9, "persons": 10, "couples": 5, "children": 4, "certificates": 4}


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param(None, id="default"),
        pytest.param({"reward_split": "half"}, id="split-half"),
        pytest.param(
            {"reward_monthly_yuan": {"2026-04-01": 30}, "reward_age_cap": 18},
            id="raise-from-april-and-cap-18",
        ),
    ],
)
@pytest.mark.parametrize(
    "validate", [pytest.param(True, id="validated"), pytest.param(False, id="fast-reader")]
)
def test_hand_dataset_equals_pandas_engine(client, hand, overrides, validate):
    params = load_params(overrides)
    res = db.budget(
        client,
        hand / "parts",
        params,
        start=START,
        months=MONTHS,
        liability=True,
        outside=True,
        validate=validate,
    )
    assert_same(res, pandas_engine(hand / "flat", params, START), params)


def test_default_start_is_taken_over_all_partitions(client, hand):
    # the last recorded date is G3's revocation, 2026-04-10, in part 1 only: the start is 2026-05
    # for all
    res = db.budget(
        client, hand / "parts", load_params(), months=MONTHS, liability=True, outside=True
    )
    assert res.start == "2026-05"
    assert_same(res, pandas_engine(hand / "flat", load_params()), load_params())


@pytest.mark.parametrize(
    "validate", [pytest.param(True, id="validated"), pytest.param(False, id="fast-reader")]
)
def test_sample_in_three_partitions_equals_pandas_engine(
    client, sample_parts, sample_dir, validate
):
    params = load_params()
    res = db.budget(
        client, sample_parts, params, months=36, liability=True, outside=True, validate=validate
    )
    assert res.partitions == 3
    assert_same(res, pandas_engine(sample_dir, params, months=36), params, months=36)


def test_csv_folder_is_split_by_couple_in_the_driver(client, sample_dir):
    params = load_params()
    # 20 parts: more than FAN_IN, so the partial cohorts are merged into a running total
    res = db.budget(
        client, sample_dir, params, months=36, liability=True, outside=True, partitions=20
    )
    assert res.repartitioned and res.partitions == 20 > db.FAN_IN
    assert_same(res, pandas_engine(sample_dir, params, months=36), params, months=36)


def test_partitions_that_split_a_couple_are_repartitioned_not_miscounted(client, hand, tmp_path):
    # G1 (couple C1, part 0) is written into part 2's certificates: part 2 does not hold its couple.
    parts = hand_parts()
    g1 = parts[0]["certificates"]
    parts[2]["certificates"] = pd.concat([parts[2]["certificates"], g1], ignore_index=True)
    parts[0]["certificates"] = g1.iloc[:0]
    d = write_partitioned(parts, coerce("units", UNITS), tmp_path / "parts")
    params = load_params()
    for validate in (True, False):
        res = db.budget(
            client,
            d,
            params,
            start=START,
            months=MONTHS,
            liability=True,
            outside=True,
            validate=validate,
        )
        assert res.repartitioned
        assert any("not aligned" in m or "未对齐" in m for m in res.messages)
        assert_same(res, pandas_engine(hand / "flat", params, START), params)


def test_part_counts_that_differ_are_not_aligned(client, hand, tmp_path):
    import shutil

    d = tmp_path / "parts"
    shutil.copytree(hand / "parts", d)
    # children in one part only: 3 parts elsewhere, 1 here
    kids = pd.concat([pd.read_parquet(p) for p in sorted((d / "children").glob("*.parquet"))])
    for p in (d / "children").glob("*.parquet"):
        p.unlink()
    kids.to_parquet(d / "children" / "part-00000.parquet", index=False)
    res = db.budget(
        client, d, load_params(), start=START, months=MONTHS, liability=True, outside=True
    )
    assert res.repartitioned
    assert_same(res, pandas_engine(hand / "flat", load_params(), START), load_params())


def test_a_key_repeated_across_partitions_is_refused(client, tmp_path):
    parts = hand_parts()
    # part 2 gets a second certificate G1 (for its own couple C5): each partition alone is valid
    extra = parts[2]["certificates"].copy()
    extra["cert_id"] = "G1"
    parts[2]["certificates"] = extra
    d = write_partitioned(parts, coerce("units", UNITS), tmp_path / "parts")
    with pytest.raises(DataError) as exc:
        db.budget(client, d, load_params(), start=START, months=MONTHS)
    assert exc.value.rule == "duplicate_key_across_partitions"
    assert "cert_id" in exc.value.text("en")


def test_invalid_partition_is_refused_naming_it(client, tmp_path):
    parts = hand_parts()
    parts[1]["certificates"].loc[parts[1]["certificates"]["cert_id"] == "G3", "issue_date"] = pd.NaT
    d = write_partitioned(parts, coerce("units", UNITS), tmp_path / "parts")
    with pytest.raises(DataError) as exc:
        db.budget(client, d, load_params(), start=START, months=MONTHS)
    assert "part-00001.parquet" in exc.value.text("en")
    assert "分区" in exc.value.text("zh")


# --------------------------------------------------------------------------- the reduce step


@pytest.mark.parametrize(
    "cuts",
    [
        pytest.param([0, 3, 7, 10], id="three-parts"),
        pytest.param([0, 10], id="one-part"),
        pytest.param([0, 0, 5, 10], id="an-empty-part"),
        pytest.param([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], id="one-segment-each"),
    ],
)
def test_merge_cohorts_equals_compress_on_the_whole(cuts):
    # ten segments, some in equal cohorts, units appearing in one part only
    seg = pd.DataFrame(
        {
            "cert_id": [f"G{i}" for i in range(10)],
            "mode": np.array([0, 0, 1, 1, 0, 0, 1, 0, 0, 1], np.int8),
            "unit_id": pd.Categorical(["U2", "U1", "U1", "U3", "U2", "U2", "U1", "U9", "U1", "U3"]),
            "share": np.array([0, 0, 1, 2, 0, 0, 0, 0, 0, 1], np.int8),
            "first_m": np.array(
                [24000, 24000, 24310, 24310, 24000, 24305, 24000, 24000, 24000, 24310]
            ),
            "end_m": np.array(
                [10**7, 10**7, 24320, 24320, 10**7, 10**7, 24290, 10**7, 10**7, 24320]
            ),
            "birth_m": np.array(
                [24200, 24200, 24250, 24250, 24200, 24200, 24200, 24100, 24201, 24250]
            ),
        }
    )
    whole = bonus.compress(seg, 24300, units=["U1", "U2", "U3"], max_months=24)
    parts = [
        bonus.compress(seg.iloc[a:b], 24300, units=["U1", "U2", "U3"], max_months=24)
        for a, b in zip(cuts, cuts[1:], strict=False)
    ]
    merged = db.merge_cohorts(parts, units=["U1", "U2", "U3"])
    assert merged.units == whole.units == ("U1", "U2", "U3", "U9")
    for f in ("mode", "unit", "share", "first_m", "end_m", "birth_m", "count"):
        np.testing.assert_array_equal(getattr(merged, f), getattr(whole, f), err_msg=f)
    assert merged.certificates == 9  # G6 ended before the start


@pytest.mark.parametrize(
    "far",
    [
        pytest.param(100, id="packed-key"),
        # 2**40: first and end months each span 2**40, so the six spans
        # (2 x 2 x 1 x 2**40 x 2**40 x 1) overflow an int64 and the rows are merged unpacked
        pytest.param(2**40, id="months-too-far-apart-to-pack"),
    ],
)
def test_merge_cohorts_sums_equal_cohorts_exactly(far):
    # Part A: cohort X (U1, first 24300, end 24300 + far) twice, cohort Y (U2, first 24300 + far,
    # end 24300) once; part B: X three times. Merged: X 5 then Y 1 (sorted by mode, unit, ...),
    # counts summed in integers.
    def part(units, unit, first, end, count):
        n = len(count)
        return bonus.Cohorts(
            units=units,
            mode=np.zeros(n, np.int8),
            unit=np.array(unit, np.int64),
            share=np.zeros(n, np.int8),
            first_m=np.array(first, np.int64),
            end_m=np.array(end, np.int64),
            birth_m=np.full(n, 24200, np.int64),
            count=np.array(count, np.int64),
            start_m=24300,
            max_months=None,
        )

    a = part(("U1", "U2"), [0, 1], [24300, 24300 + far], [24300 + far, 24300], [2, 1])
    b = part(("U1",), [0], [24300], [24300 + far], [3])
    m = db.merge_cohorts([a, b])
    assert m.units == ("U1", "U2")
    assert m.unit.tolist() == [0, 1] and m.count.tolist() == [5, 1]
    assert m.first_m.tolist() == [24300, 24300 + far] and m.end_m.tolist() == [24300 + far, 24300]
    assert m.count.dtype == np.int64 and m.mode.dtype == np.int8


def test_merge_cohorts_refuses_parts_of_different_starts():
    seg = pd.DataFrame(
        {
            "cert_id": ["A"],
            "mode": [0],
            "unit_id": ["U1"],
            "share": [0],
            "first_m": [1],
            "end_m": [10**7],
            "birth_m": [24200],
        }
    )
    with pytest.raises(ValueError):
        db.merge_cohorts([bonus.compress(seg, 24300), bonus.compress(seg, 24301)])


def test_split_by_couple_keeps_couples_whole_and_copies_a_person_married_twice():
    t = {
        "units": coerce("units", UNITS),
        "persons": coerce(
            "persons", [_person(p, "F", "1990-01-01", "outside") for p in ["W1", "H1", "W2", "Z"]]
        ),
        "couples": coerce(
            "couples",
            [
                {
                    "couple_id": "C1",
                    "wife_id": "W1",
                    "husband_id": "H1",
                    "marriage_date": "2010-01-01",
                    "divorce_date": "2012-01-01",
                },
                {
                    "couple_id": "C2",
                    "wife_id": "W2",
                    "husband_id": "H1",
                    "marriage_date": "2013-01-01",
                },
            ],
        ),
        "children": coerce(
            "children",
            [{"child_id": "K2", "couple_id": "C2", "birth_date": "2014-01-01", "sex": "F"}],
        ),
        "certificates": coerce(
            "certificates",
            [
                {
                    "cert_id": "G2",
                    "couple_id": "C2",
                    "child_id": "K2",
                    "issue_date": "2014-02-01",
                    "payee_id": "W2",
                }
            ],
        ),
    }
    p0, p1 = db.split_by_couple(t, 2)
    assert sorted(p0["persons"]["person_id"]) == ["H1", "W1", "Z"]
    assert sorted(p1["persons"]["person_id"]) == ["H1", "W2"]
    assert p1["certificates"]["cert_id"].tolist() == ["G2"] and p0["certificates"].empty
    assert db.alignment_problem(p0) is None and db.alignment_problem(p1) is None
    assert len(db.split_by_couple(t, 10)) == 2  # never more partitions than couples


# --------------------------------------------------------------------------- the command line


def _run(args, capsys):
    code = main(args)
    return code, capsys.readouterr()


def test_cli_dask_engine_writes_the_same_bytes(hand, tmp_path, capsys):
    files = {}
    for engine, src in [("pandas", hand / "flat"), ("dask", hand / "parts")]:
        out = tmp_path / engine
        out.mkdir()
        # both forms under one name: a workbook's title names the dataset it read
        (tmp_path / f"{engine}-in").mkdir()
        (link := tmp_path / f"{engine}-in" / "hand").symlink_to(src, target_is_directory=True)
        argv = [
            "bonus",
            str(link),
            "--start",
            START,
            "--months",
            "12",
            "--draws",
            "40",
            "--out",
            str(out / "budget.csv"),
            "--liability",
            str(out / "liab.xlsx"),
            "--outside",
            str(out / "outside.csv"),
            "--lang",
            "en",
        ]
        if engine == "dask":
            argv += [
                "--engine",
                "dask",
                "--workers",
                "1",
                "--worker-memory",
                "1GB",
            ]  # worker processes
        code, cap = _run(argv, capsys)
        assert code == 0, cap.err
        files[engine] = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    assert list(files["dask"]) == ["budget.csv", "liab.xlsx", "outside.csv"]
    assert files["dask"] == files["pandas"]


def test_cli_dask_engine_on_the_sample_csv_folder(tmp_path, capsys, sample_dir):
    outs = {}
    for engine in ("pandas", "dask"):
        out = tmp_path / f"{engine}.csv"
        argv = ["bonus", str(sample_dir), "--out", str(out), "--draws", "40", "--engine", engine]
        argv += ["--workers", "1"] if engine == "dask" else []
        code, cap = _run(argv, capsys)
        assert code == 0, cap.err
        outs[engine] = out.read_bytes()
    assert outs["dask"] == outs["pandas"]


def test_cli_unreachable_scheduler_exits_2_without_traceback(tmp_path, capsys, monkeypatch):
    import socket

    from fpanalysis.engines.dask import cluster

    monkeypatch.setattr(
        cluster, "CONNECT_TIMEOUT", 1
    )  # the 5 s default is tested in test_dask_cluster

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, cap = _run(
        [
            "bonus",
            "--engine",
            "dask",
            "--scheduler",
            f"tcp://127.0.0.1:{port}",
            "--out",
            str(tmp_path / "b.csv"),
            "--lang",
            "en",
        ],
        capsys,
    )
    assert code == 2
    assert "cannot reach the Dask scheduler" in cap.err and "Traceback" not in cap.err
    assert not (tmp_path / "b.csv").exists()


def test_cli_scheduler_without_dask_engine_exits_2(tmp_path, capsys):
    code, cap = _run(
        ["bonus", "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path / "b.csv")], capsys
    )
    assert code == 2 and "--engine dask" in cap.err


def test_province_generator_output_equals_pandas_engine(client, tmp_path):
    synth_scale = pytest.importorskip("fpanalysis.synth.scale")
    d = tmp_path / "province"
    synth_scale.generate_partitioned(
        d, 3000, seed=5, partition_people=1000, tables=TABLES, certificates_per_couple=1.5
    )
    params = load_params()
    res = db.budget(client, d, params, months=24, liability=True, outside=True)
    assert res.partitions == 3 and not res.repartitioned
    assert res.rows["certificates"] > 100  # a budget worth comparing
    assert_same(res, pandas_engine(d, params, months=24), params, months=24)


def _cohort_fields(c):
    return (
        c.units,
        *(
            getattr(c, f).tolist()
            for f in ("mode", "unit", "share", "first_m", "end_m", "birth_m", "count")
        ),
    )


@pytest.mark.parametrize(
    "damage",
    ["none", "payee-unknown", "person-listed-twice", "child-unknown", "missing-husband"],
)
def test_integer_coded_ids_give_the_same_cohorts_and_groups(damage):
    # encode_ids must resolve references exactly as the string look-ups do, also on damaged data
    t = {"units": coerce("units", UNITS)}
    for table in TABLES[1:]:
        t[table] = pd.concat([p[table] for p in hand_parts()], ignore_index=True)
    if damage == "payee-unknown":
        t["certificates"].loc[0, "payee_id"] = "NOBODY"
    elif damage == "person-listed-twice":  # the first copy wins in both
        twin = t["persons"][t["persons"]["person_id"] == "H2"].assign(category="outside")
        t["persons"] = pd.concat([t["persons"], twin], ignore_index=True)
    elif damage == "child-unknown":
        t["certificates"].loc[1, "child_id"] = "K404"
    elif damage == "missing-husband":
        t["couples"].loc[3, "husband_id"] = None
    coded = db.encode_ids(t)
    raw = bonus.compress(
        bonus.certificate_segments(t, with_info=False)[0],
        bonus.parse_month(START),
        units=["U1", "U2", "U3"],
    )
    enc = bonus.compress(
        bonus.certificate_segments(coded, with_info=False)[0],
        bonus.parse_month(START),
        units=["U1", "U2", "U3"],
    )
    assert _cohort_fields(enc) == _cohort_fields(raw)
    on = bonus.month_start(bonus.parse_month(START))
    pd.testing.assert_frame_equal(
        bonus.new_certificate_groups(db._childless_only(coded), load_params(), on),
        bonus.new_certificate_groups(t, load_params(), on),
    )
    # a missing value refers to nothing, so only unknown ids leave the partition
    assert (db.alignment_problem(t) is None) == (damage not in ("payee-unknown", "child-unknown"))


def test_half_split_liability_by_month_over_partitions(client):
    # rulebook §5.4-5.5, split = half, start 2026-05, 20 yuan a month, cap 14, two partitions.
    # GA (child born 2015-06-10: paid through 2029-06, 38 months from 2026-05): husband HA (U2)
    # leaves 2026-06-20, so May and June are 10 + 10, then the wife's U1 pays all 36 months:
    # U1 10 x 2 + 20 x 36 = 740, U2 10 x 2 = 20.
    # GB (child born 2016-03-01: through 2030-03, 47 months): wife WB (U1) alone until husband HB
    # (U1 too) is hired on 2026-09-01, then 10 + 10 in U1: U1 20 x 47 = 940.
    # U1 owes 740 + 940 = 1680 yuan for 2 certificates, U2 20 yuan for 1.
    def part(c, wife_hire, husband, born, issued):
        return {
            "persons": coerce(
                "persons",
                [
                    _person(f"W{c}", "F", "1985-01-01", "staff", "U1", wife_hire),
                    {**_person(f"H{c}", "M", "1984-01-01", "staff"), **husband},
                ],
            ),
            "couples": coerce(
                "couples", [{"couple_id": f"C{c}", "wife_id": f"W{c}", "husband_id": f"H{c}"}]
            ),
            "children": coerce(
                "children", [{"child_id": f"K{c}", "couple_id": f"C{c}", "birth_date": born}]
            ),
            "certificates": coerce(
                "certificates",
                [
                    {
                        "cert_id": f"G{c}",
                        "couple_id": f"C{c}",
                        "child_id": f"K{c}",
                        "issue_date": issued,
                        "payee_id": f"W{c}",
                    }
                ],
            ),
        }

    parts = [
        part(
            "A",
            "2000-01-01",
            {"unit_id": "U2", "hire_date": "2000-01-01", "leave_date": "2026-06-20"},
            "2015-06-10",
            "2016-01-05",
        ),
        part(
            "B",
            "2000-01-01",
            {"unit_id": "U1", "hire_date": "2026-09-01"},
            "2016-03-01",
            "2017-01-01",
        ),
    ]
    t = {"units": coerce("units", UNITS)}
    for table in TABLES[1:]:
        t[table] = pd.concat([p[table] for p in parts], ignore_index=True)
    params = load_params({"reward_split": "half", "discount_rate": 0})
    res = db.budget(
        client, None, params, start="2026-05", months=4, liability=True, tables=t, partitions=2
    )
    assert res.partitions == 2
    got = res.liability[["unit_id", "certificates", "liability_yuan"]].astype(str)
    assert got.values.tolist() == [
        ["U1", "2", "1680.00"],
        ["U2", "1", "20.00"],
        ["U3", "0", "0.00"],
    ]
    pd.testing.assert_frame_equal(res.liability, bonus.liability(t, params, "2026-05"))


def test_in_memory_tables_with_an_unknown_payee_equal_the_pandas_engine(client):
    # library callers may pass unvalidated tables: the pandas engine treats an unknown payee as
    # absent
    t = {"units": coerce("units", UNITS)}
    for table in TABLES[1:]:
        t[table] = pd.concat([p[table] for p in hand_parts()], ignore_index=True)
    t["certificates"].loc[0, "payee_id"] = "NOBODY"  # G1: now outside the budget
    params = load_params()
    res = db.budget(
        client,
        None,
        params,
        start=START,
        months=MONTHS,
        liability=True,
        outside=True,
        tables=t,
        partitions=3,
    )
    model = bonus.BonusModel.build(t, params, START, max_months=MONTHS)
    ref = (
        START,
        model,
        bonus.liability(t, params, START),
        bonus.outside_budget(t, params, START, MONTHS),
    )
    assert_same(res, ref, params)
    assert res.outside["cert_id"].tolist() == ["G1", "G5"]
