"""``fpanalysis bonus`` end to end: a tiny hand-made dataset, the sample, options and errors."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from conftest import sample_available

from fpanalysis.cli import main
from fpanalysis.core.ids import make_id_number
from fpanalysis.core.schema import coerce
from fpanalysis.io import write_table

HEADER = ["month", "unit_id", "committed_yuan", "new_p10_yuan", "new_p50_yuan", "new_p90_yuan"]


def write_tiny(tmp_path, issue="2013-01-05"):
    """Wife W (staff U1) is the payee of certificate G1 for K1, born 2012-03-15, so paid through
    2026-03."""
    d = tmp_path / "tiny"
    d.mkdir()
    frames = {
        "units": coerce(
            "units",
            [
                {"unit_id": "U1", "name": "办公室", "kind": "section"},
                {"unit_id": "U2", "name": "福利院", "kind": "affiliated"},
            ],
        ),
        "persons": coerce(
            "persons",
            [
                {
                    "person_id": "W",
                    "name": "王芳",
                    "id_number": make_id_number("110105", dt.date(1988, 1, 1), 2),
                    "sex": "F",
                    "birth_date": "1988-01-01",
                    "unit_id": "U1",
                    "category": "staff",
                    "hire_date": "2010-01-01",
                },
                {
                    "person_id": "H",
                    "name": "李强",
                    "id_number": make_id_number("110105", dt.date(1987, 1, 1), 1),
                    "sex": "M",
                    "birth_date": "1987-01-01",
                    "unit_id": "U2",
                    "category": "staff",
                    "hire_date": "2010-01-01",
                },
            ],
        ),
        "couples": coerce(
            "couples",
            [{"couple_id": "C1", "wife_id": "W", "husband_id": "H", "marriage_date": "2011-01-01"}],
        ),
        "children": coerce(
            "children",
            [{"child_id": "K1", "couple_id": "C1", "birth_date": "2012-03-15", "sex": "M"}],
        ),
        "certificates": coerce(
            "certificates",
            [
                {
                    "cert_id": "G1",
                    "couple_id": "C1",
                    "child_id": "K1",
                    "issue_date": issue,
                    "payee_id": "W",
                    "revoked_date": None,
                }
            ],
        ),
    }
    for name, df in frames.items():
        write_table(df, d / f"{name}.csv", table=name)
    return d


@pytest.fixture
def tiny(tmp_path):
    return write_tiny(tmp_path)


def read(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def test_tiny_dataset_hand_computed(tiny, tmp_path):
    out = tmp_path / "b.csv"
    rc = main(
        [
            "bonus",
            str(tiny),
            "--start",
            "2026-02",
            "--months",
            "3",
            "--draws",
            "20",
            "--lang",
            "en",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    df = read(out)
    assert list(df.columns) == HEADER
    assert df[["month", "unit_id", "committed_yuan"]].values.tolist() == [
        ["2026-02", "U1", "20.00"],
        ["2026-02", "U2", "0.00"],
        ["2026-03", "U1", "20.00"],
        ["2026-03", "U2", "0.00"],
        ["2026-04", "U1", "0.00"],
        ["2026-04", "U2", "0.00"],
    ]
    assert (
        (df[["new_p10_yuan", "new_p50_yuan", "new_p90_yuan"]] == "0.00").all().all()
    )  # nobody childless


def test_default_start_is_month_after_last_recorded_date(tiny, tmp_path):
    # The last recorded date is the certificate's issue, 2013-01-05, so the projection starts
    # 2013-02.
    out = tmp_path / "b.csv"
    assert (
        main(
            ["bonus", str(tiny), "--months", "2", "--draws", "5", "--lang", "en", "--out", str(out)]
        )
        == 0
    )
    assert read(out)["month"].unique().tolist() == ["2013-02", "2013-03"]


def test_scenarios_and_extra_outputs(tiny, tmp_path):
    sc = tmp_path / "sc.yaml"
    sc.write_text(
        "scenarios:\n  rise:\n    reward_monthly_yuan: {2026-03-01: 30}\n  half:\n"
        "    reward_split: half\n",
        encoding="utf-8",
    )
    out, liab, outside = tmp_path / "b.csv", tmp_path / "l.csv", tmp_path / "o.csv"
    rc = main(
        [
            "bonus",
            str(tiny),
            "--start",
            "2026-02",
            "--months",
            "2",
            "--draws",
            "5",
            "--lang",
            "en",
            "--scenario",
            str(sc),
            "--out",
            str(out),
            "--liability",
            str(liab),
            "--outside",
            str(outside),
        ]
    )
    assert rc == 0
    df = read(out)
    assert list(df.columns) == ["scenario", *HEADER]
    got = {(r.scenario, r.month, r.unit_id): r.committed_yuan for r in df.itertuples()}
    assert got == {
        ("baseline", "2026-02", "U1"): "20.00",
        ("baseline", "2026-02", "U2"): "0.00",
        ("baseline", "2026-03", "U1"): "20.00",
        ("baseline", "2026-03", "U2"): "0.00",
        ("rise", "2026-02", "U1"): "20.00",
        ("rise", "2026-02", "U2"): "0.00",
        ("rise", "2026-03", "U1"): "30.00",
        ("rise", "2026-03", "U2"): "0.00",
        ("half", "2026-02", "U1"): "10.00",
        ("half", "2026-02", "U2"): "10.00",
        ("half", "2026-03", "U1"): "10.00",
        ("half", "2026-03", "U2"): "10.00",
    }
    lt = read(liab)
    assert lt.values.tolist() == [["U1", "1", "40.00", "39.95"], ["U2", "0", "0.00", "0.00"]]
    assert len(read(outside)) == 0


def test_chinese_headers(tiny, tmp_path):
    out = tmp_path / "b.csv"
    assert (
        main(
            [
                "bonus",
                str(tiny),
                "--start",
                "2026-02",
                "--months",
                "1",
                "--draws",
                "5",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert list(read(out).columns) == [
        "月份",
        "单位编号",
        "已发证应付金额（元）",
        "新增预测P10（元）",
        "新增预测P50（元）",
        "新增预测P90（元）",
    ]


@pytest.mark.parametrize(
    "extra,code,text",
    [
        pytest.param(["--start", "2026-13"], 2, "YYYY-MM", id="bad-start-month"),
        pytest.param(["--months", "0"], 2, "at least 1", id="zero-months"),
        pytest.param(["--out-ext"], 2, "", id="unknown-option"),
    ],
)
def test_usage_errors(tiny, tmp_path, capsys, extra, code, text):
    argv = ["bonus", str(tiny), "--lang", "en", "--out", str(tmp_path / "b.csv"), *extra]
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse refuses the option itself
        rc = exc.code
    assert rc == code
    assert text in capsys.readouterr().err
    assert not (tmp_path / "b.csv").exists()


def test_bad_scenario_parameter_names_it(tiny, tmp_path, capsys):
    sc = tmp_path / "bad.yaml"
    sc.write_text("reward_monthy_yuan: 30\n", encoding="utf-8")
    rc = main(
        [
            "bonus",
            str(tiny),
            "--lang",
            "en",
            "--scenario",
            str(sc),
            "--out",
            str(tmp_path / "b.csv"),
        ]
    )
    assert rc == 1
    err = capsys.readouterr().err
    assert "reward_monthy_yuan" in err and "Traceback" not in err


def test_bad_output_extension(tiny, tmp_path, capsys):
    assert main(["bonus", str(tiny), "--lang", "en", "--out", str(tmp_path / "b.txt")]) == 2


def test_invalid_dataset_is_refused_or_skipped(tmp_path, capsys):
    # The certificate is dated 2011, before the child's birth in 2012: a validation error.
    bad = write_tiny(tmp_path, issue="2011-01-01")
    argv = [
        "bonus",
        str(bad),
        "--start",
        "2026-02",
        "--months",
        "2",
        "--draws",
        "5",
        "--lang",
        "en",
    ]
    assert main([*argv, "--out", str(tmp_path / "a.csv")]) == 1
    err = capsys.readouterr().err
    assert "certificates" in err and "Traceback" not in err
    assert not (tmp_path / "a.csv").exists()
    # --skip-invalid leaves the certificate out, says so, and the budget is empty.
    assert main([*argv, "--skip-invalid", "--out", str(tmp_path / "b.csv")]) == 0
    assert "certificates: 1 rows left out" in capsys.readouterr().err
    assert (read(tmp_path / "b.csv")["committed_yuan"] == "0.00").all()


@pytest.mark.skipif(not sample_available(), reason="data/sample not generated yet")
def test_sample_run_is_byte_identical(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    for out in (a, b):
        assert (
            main(
                [
                    "bonus",
                    "--months",
                    "12",
                    "--draws",
                    "100",
                    "--seed",
                    "5",
                    "--lang",
                    "en",
                    "--out",
                    str(out),
                ]
            )
            == 0
        )
    assert a.read_bytes() == b.read_bytes()
    df = read(a)
    assert list(df.columns) == HEADER
    assert df["month"].iloc[0] == "2025-12"  # the sample's last recorded date is in November 2025
    assert df["committed_yuan"].str.fullmatch(r"\d+\.\d\d").all()
