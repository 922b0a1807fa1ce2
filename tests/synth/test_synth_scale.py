"""Province-scale generator (fpanalysis.synth.scale): layout, alignment, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from stdnum.cn import ric

from fpanalysis import io
from fpanalysis.cli import main
from fpanalysis.core import schema
from fpanalysis.core.errors import UsageError
from fpanalysis.io.guard import MARKER
from fpanalysis.io.validate import validate_dataset
from fpanalysis.synth import scale as synth_scale

PARTITIONED = [t for t in schema.TABLES if t not in synth_scale.REFERENCE_TABLES]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    """1,500 people in 3 partitions of 500 (seed 7)."""
    out = tmp_path_factory.mktemp("scale") / "d"
    counts = synth_scale.generate_partitioned(out, 1500, seed=7, partition_people=500)
    return out, counts


def _part(out: Path, table: str, k: int) -> pd.DataFrame:
    return pd.read_parquet(out / table / f"part-{k:05d}.parquet")


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


# --------------------------------------------------------------------------- layout and counts


def test_layout_a_folder_per_table(small):
    out, _ = small
    assert sorted(p.name for p in out.iterdir()) == sorted(schema.TABLES)
    for t in PARTITIONED:
        assert [p.name for p in sorted((out / t).iterdir())] == [
            "part-00000.parquet",
            "part-00001.parquet",
            "part-00002.parquet",
        ], t
    for t in synth_scale.REFERENCE_TABLES:
        assert [p.name for p in (out / t).iterdir()] == ["part-00000.parquet"], t


@pytest.mark.parametrize(
    ("people", "part", "persons", "couples", "units"),
    [
        # 1000 persons: couples = round(1000 / 2.2) = 455, singles 1000 - 910 = 90,
        # units round(455/15) = 30
        pytest.param(1000, 1000, [1000], [455], [30], id="1000-one-part"),
        # 1001 persons in parts of 500: 500 (227 couples, 15 units), 500, 1 (no couple, 1 unit)
        pytest.param(1001, 500, [500, 500, 1], [227, 227, 0], [15, 15, 1], id="1001-in-500s"),
        # 3 persons: one couple and one single staff member, one unit
        pytest.param(3, 10, [3], [1], [1], id="3-people"),
    ],
)
def test_row_counts_by_hand(tmp_path, people, part, persons, couples, units):
    counts = synth_scale.generate_partitioned(
        tmp_path,
        people,
        seed=1,
        partition_people=part,
        tables=["units", "persons", "couples", "households"],
    )
    assert counts["persons"] == people == sum(persons)
    for k, (n_p, n_c) in enumerate(zip(persons, couples, strict=True)):
        assert len(_part(tmp_path, "persons", k)) == n_p
        assert len(_part(tmp_path, "couples", k)) == n_c
        assert len(_part(tmp_path, "households", k)) == n_c  # as many households as couples
    assert counts["units"] == sum(units) == len(pd.read_parquet(tmp_path / "units"))
    # the units' single part has one row group per partition
    assert pq.ParquetFile(tmp_path / "units" / "part-00000.parquet").num_row_groups == len(persons)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "couples",
        "households",
        "persons",
        "units",
    ]


def test_counts_returned_match_the_files(small):
    out, counts = small
    for t, n in counts.items():
        assert len(pd.read_parquet(out / t)) == n, t


def test_ids_carry_the_partition_and_are_unique(small):
    out, _ = small
    for t in PARTITIONED:
        key = schema.TABLES[t].key
        df = pd.read_parquet(out / t)
        assert not df.duplicated(list(key)).any(), t
        if len(key) == 1:
            for k in range(3):
                ids = _part(out, t, k)[key[0]]
                assert ids.str[len(ids.iloc[0]) - 14 : len(ids.iloc[0]) - 9].eq(f"{k:05d}").all(), t
                assert ids.is_monotonic_increasing, t  # rows sorted by key


# --------------------------------------------------------------------------- aligned partitions


def _in(values: pd.Series, keys: pd.Series) -> bool:
    return bool(values.dropna().isin(set(keys)).all())


@pytest.mark.parametrize(
    "k", [pytest.param(0, id="part0"), pytest.param(1, id="part1"), pytest.param(2, id="part2")]
)
def test_partition_holds_whole_couples_and_households(small, k):
    out, _ = small
    p = {t: _part(out, t, k) for t in PARTITIONED}
    persons, couples = p["persons"]["person_id"], p["couples"]["couple_id"]
    assert _in(p["couples"]["wife_id"], persons) and _in(p["couples"]["husband_id"], persons)
    for t in ("children", "permits", "pregnancies", "surveys", "contraception", "certificates"):
        assert _in(p[t]["couple_id"], couples), t
    ce = p["certificates"]
    assert _in(ce["child_id"], p["children"]["child_id"])
    assert _in(ce["payee_id"], persons)
    assert _in(p["pregnancies"]["child_id"], p["children"]["child_id"])
    assert _in(p["contraception"]["person_id"], persons)
    assert _in(p["check_attendance"]["person_id"], persons)
    assert _in(p["household_members"]["household_id"], p["households"]["household_id"])
    # the only references out of the partition: units (this partition's) and check_rounds
    own_units = pd.read_parquet(out / "units")["unit_id"]
    own_units = own_units[own_units.str.startswith(f"U{k:05d}_")]
    assert _in(p["persons"]["unit_id"], own_units)
    assert _in(p["surveys"]["unit_id"], own_units)
    rounds = pd.read_parquet(out / "check_rounds")["round_id"]
    assert _in(p["check_attendance"]["round_id"], rounds)


def test_every_certificate_payee_is_a_spouse_of_its_couple(small):
    out, _ = small
    ce = pd.read_parquet(out / "certificates").merge(
        pd.read_parquet(out / "couples"), on="couple_id"
    )
    assert len(ce) > 0
    assert (ce["payee_id"].eq(ce["wife_id"]) | ce["payee_id"].eq(ce["husband_id"])).all()


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_bytes(tmp_path):
    a = synth_scale.generate_partitioned(tmp_path / "a", 900, seed=3, partition_people=400)
    b = synth_scale.generate_partitioned(tmp_path / "b", 900, seed=3, partition_people=400)
    assert a == b
    fa, fb = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert list(fa) == list(fb) and len(fa) == 11 * 3 + 2
    assert all(fa[k] == fb[k] for k in fa)


def test_other_seed_other_data(tmp_path):
    synth_scale.generate_partitioned(tmp_path / "a", 300, seed=3, tables=["persons"])
    synth_scale.generate_partitioned(tmp_path / "b", 300, seed=4, tables=["persons"])
    a = pd.read_parquet(tmp_path / "a" / "persons")
    b = pd.read_parquet(tmp_path / "b" / "persons")
    assert not a["id_number"].equals(b["id_number"])


def test_a_partition_does_not_depend_on_the_others(tmp_path):
    # partition 1 of a 2-part run and of a 3-part run: the same bytes (SeedSequence.spawn by index)
    synth_scale.generate_partitioned(tmp_path / "two", 800, seed=5, partition_people=400)
    synth_scale.generate_partitioned(tmp_path / "three", 1200, seed=5, partition_people=400)
    for t in PARTITIONED:
        assert (tmp_path / "two" / t / "part-00001.parquet").read_bytes() == (
            tmp_path / "three" / t / "part-00001.parquet"
        ).read_bytes(), t


def test_stale_parts_of_a_larger_run_are_removed(tmp_path):
    synth_scale.generate_partitioned(
        tmp_path, 900, seed=1, partition_people=300, tables=["persons"]
    )
    synth_scale.generate_partitioned(
        tmp_path, 500, seed=1, partition_people=300, tables=["persons"]
    )
    assert [p.name for p in sorted((tmp_path / "persons").iterdir())] == [
        "part-00000.parquet",
        "part-00001.parquet",
    ]
    assert len(pd.read_parquet(tmp_path / "persons")) == 500


# --------------------------------------------------------------------------- validity and shapes


def test_validate_finds_nothing(small):
    out, counts = small
    ds = io.load_dataset(out)
    assert {t: len(df) for t, df in ds.items()} == counts
    report = validate_dataset(ds)
    assert report.ok, [p.text("en") for p in report.errors[:5]]
    assert not report.warnings, [p.text("en") for p in report.warnings[:5]]


def test_id_numbers_are_valid_and_agree(small):
    out, _ = small
    p = pd.read_parquet(out / "persons")
    n = p["id_number"]
    assert n.is_unique
    for x in n.iloc[::97]:  # python-stdnum agrees on the check character
        assert ric.calc_check_digit(x) == x[-1]
    assert (n.str[6:14] == p["birth_date"].dt.strftime("%Y%m%d")).all()
    odd = n.str[16].astype(int) % 2 == 1
    assert (odd == p["sex"].eq("M")).all()


def test_id_numbers_differ_between_partitions_by_region():
    pools = [set(synth_scale.region_pool(k)) for k in range(50)]
    assert all(not (pools[i] & pools[j]) for i in range(50) for j in range(i + 1, 50))
    assert len(synth_scale.REGION_CODES) // synth_scale.REGIONS_PER_PARTITION >= 400


def test_shapes_comparable_to_the_county_sample(tmp_path):
    counts = synth_scale.generate_partitioned(tmp_path, 20_000, seed=11, partition_people=10_000)
    n = counts["persons"]
    assert counts["couples"] == counts["households"] == 2 * round(10_000 / 2.2)
    # the sample (seed 20241): 50 certificates, 368 children, 3,522 surveys per 660 persons
    assert 0.05 < counts["certificates"] / n < 0.11  # RATIOS["certificates"] = 0.078
    assert 0.4 < counts["children"] / n < 0.7
    assert 3 < counts["surveys"] / n < 7
    p = pd.read_parquet(tmp_path / "persons")
    assert 0.35 < p["category"].eq("staff").mean() < 0.65
    h = pd.read_parquet(tmp_path / "households")
    std = np.where(h["area"] == "urban", 770.0, 600.0)  # policy.yaml at 2025-11-28
    below = h["monthly_income"] / (std * h["size"]) < 1
    assert 0.62 < below.mean() < 0.82  # 72% below the 低保 standard


def test_certificates_heavy_mode(tmp_path):
    counts = synth_scale.generate_partitioned(
        tmp_path,
        2200,
        seed=2,
        certificates_per_couple=2.0,
        tables=["units", "persons", "couples", "children", "certificates"],
    )
    # 1000 couples × 2 certificates, less the couples married in the last year (about 8.5%)
    assert 1750 <= counts["certificates"] <= 2000
    ce = pd.read_parquet(tmp_path / "certificates")
    assert ce.groupby("couple_id").size().max() <= 3  # floor(2) or floor(2) + 1... never more
    ds = io.load_dataset(tmp_path)
    report = validate_dataset(ds)
    assert report.ok, [p.text("en") for p in report.errors[:5]]


@pytest.mark.parametrize(
    ("kwargs", "rule_text"),
    [
        pytest.param({"people": 0}, "people must be at least 1", id="no-people"),
        pytest.param(
            {"people": 10, "partition_people": 0},
            "partition_people must be between",
            id="no-partition",
        ),
        pytest.param(
            {"people": 10, "tables": ["persons", "nosuch"]},
            "unknown table: nosuch",
            id="unknown-table",
        ),
        pytest.param(
            {"people": 10, "certificates_per_couple": -1},
            "certificates_per_couple must be",
            id="negative-certificates",
        ),
    ],
)
def test_bad_arguments(tmp_path, kwargs, rule_text):
    people = kwargs.pop("people")
    with pytest.raises(UsageError) as e:
        synth_scale.generate_partitioned(tmp_path, people, **kwargs)
    assert rule_text in e.value.message_en


# --------------------------------------------------------------------------- the command line


def test_cli_then_validate_and_the_three_analyses(tmp_path, capsys):
    d = tmp_path / "p"
    assert (
        main(
            [
                "synth",
                "--people",
                "800",
                "--format",
                "parquet",
                "--out",
                str(d),
                "--partition-rows",
                "400",
                "--seed",
                "3",
            ]
        )
        == 0
    )
    assert "in 2 partition(s)" in capsys.readouterr().err
    assert main(["validate", str(d), "--lang", "en"]) == 0
    for cmd in ("bonus", "compliance", "relief"):
        out = tmp_path / f"{cmd}.csv"
        assert main([cmd, str(d), "--lang", "en", "--out", str(out)]) == 0, cmd
        assert len(pd.read_csv(out, encoding="utf-8-sig")) > 0, cmd


def test_cli_analyses_equal_on_partitioned_and_flat(tmp_path):
    d = tmp_path / "p"
    synth_scale.generate_partitioned(d, 600, seed=4, partition_people=300)
    flat = tmp_path / "flat"
    flat.mkdir()
    for t in schema.TABLES:
        pd.read_parquet(d / t).to_parquet(flat / f"{t}.parquet", index=False)
    for cmd in ("compliance", "relief"):
        a, b = tmp_path / f"{cmd}-p.csv", tmp_path / f"{cmd}-f.csv"
        assert main([cmd, str(d), "--lang", "en", "--out", str(a)]) == 0
        assert main([cmd, str(flat), "--lang", "en", "--out", str(b)]) == 0
        assert a.read_bytes() == b.read_bytes(), cmd


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["synth", "--format", "parquet", "--out", "{d}"], id="parquet-needs-people"),
        pytest.param(
            ["synth", "--people", "10", "--partition-rows", "5", "--out", "{d}"],
            id="partition-rows-only-parquet",
        ),
        pytest.param(
            ["synth", "--people", "10", "--format", "parquet", "--faults", "--out", "{d}"],
            id="no-faults-partitioned",
        ),
        pytest.param(
            [
                "synth",
                "--people",
                "10",
                "--format",
                "parquet",
                "--tables",
                "persons,nosuch",
                "--out",
                "{d}",
            ],
            id="unknown-table",
        ),
    ],
)
def test_cli_usage_errors(tmp_path, argv, capsys):
    assert main([a.format(d=tmp_path / "x") for a in argv]) == 2
    assert capsys.readouterr().err.strip()
    assert not (tmp_path / "x").exists()  # nothing written


def test_cli_parquet_flat_is_the_small_generators_parquet(tmp_path):
    from fpanalysis import synth

    assert (
        main(
            [
                "synth",
                "--people",
                "40",
                "--seed",
                "9",
                "--format",
                "parquet-flat",
                "--out",
                str(tmp_path / "cli"),
            ]
        )
        == 0
    )
    synth.write_dataset(synth.generate(seed=9, people=40), tmp_path / "lib", format="parquet")
    cli = _files(tmp_path / "cli")
    marker = json.loads(cli.pop(MARKER))  # the command's note of what synth wrote
    assert marker["command"] == "synth" and set(marker["files"]) == set(cli)
    assert cli == _files(tmp_path / "lib")
    assert sorted(cli)[0] == "certificates.parquet"


def test_asking_for_fewer_tables_does_not_change_the_others(tmp_path):
    synth_scale.generate_partitioned(tmp_path / "all", 600, seed=6, partition_people=300)
    synth_scale.generate_partitioned(
        tmp_path / "some", 600, seed=6, partition_people=300, tables=["persons", "households"]
    )
    assert sorted(p.name for p in (tmp_path / "some").iterdir()) == ["households", "persons"]
    for t in ("persons", "households"):
        for k in range(2):
            f = f"{t}/part-{k:05d}.parquet"
            assert (tmp_path / "all" / f).read_bytes() == (tmp_path / "some" / f).read_bytes(), f
