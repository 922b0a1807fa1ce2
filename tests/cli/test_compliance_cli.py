"""The compliance, cases and accountability commands on the sample, in every input form
(rulebook §3, §4, §7)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fpanalysis import io
from fpanalysis.cli import main
from fpanalysis.core import config, schema
from fpanalysis.core.params import load_params
from fpanalysis.rules.cases import case_list
from fpanalysis.rules.compliance import (
    INDICATORS,
    SCORECARD_COLUMNS,
    TABLES_NEEDED,
    accountability_list,
    compliance_scorecard,
    latest_complete_year,
)

pytestmark = pytest.mark.skipif(
    not (config.SAMPLE_DIR / "units.csv").exists(), reason="sample data not generated"
)


@pytest.fixture(scope="module")
def sample():
    return io.load_for_analysis(config.SAMPLE_DIR, TABLES_NEEDED)


def test_default_period_is_latest_complete_year_from_data(sample, tmp_path, capsys):
    out = tmp_path / "card.csv"
    assert main(["compliance", "--out", str(out), "--lang", "en"]) == 0
    card = pd.read_csv(out, encoding="utf-8-sig", dtype={"unit_id": str, "period": str})
    year = latest_complete_year(sample)
    assert card["period"].unique().tolist() == [str(year)]
    assert list(card.columns) == SCORECARD_COLUMNS
    assert sorted(card["unit_id"]) == sorted(sample["units"]["unit_id"])
    assert set(card["grade"]) <= {"excellent", "pass", "fail"}
    assert f"period {year}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "period",
    [
        pytest.param("2024", id="year"),
        pytest.param("2024H1", id="h1"),
        pytest.param("2024H2", id="h2"),
    ],
)
def test_scorecard_and_detail_agree(sample, tmp_path, period):
    out, det = tmp_path / "card.csv", tmp_path / "detail.csv"
    assert (
        main(
            [
                "compliance",
                "--period",
                period,
                "--out",
                str(out),
                "--detail",
                str(det),
                "--lang",
                "en",
            ]
        )
        == 0
    )
    card = pd.read_csv(out, encoding="utf-8-sig", dtype={"period": str}).set_index("unit_id")
    d = pd.read_csv(det, encoding="utf-8-sig", dtype={"period": str})
    # Recompute C2 and the counts from the written drill-down alone.
    c2 = d[d["indicator"] == "followup_coverage"].groupby("unit_id")
    rate = c2["in_numerator"].sum() / c2["in_denominator"].sum()
    for u, r in rate.items():
        assert card.loc[u, "followup_coverage"] == pytest.approx(r)
    counted = d[d["indicator"].isin(INDICATORS[4:]) & d["in_numerator"]]
    counts = counted.groupby(["unit_id", "indicator"]).size()
    for (u, ind), n in counts.items():
        assert card.loc[u, ind] == n
    assert card[INDICATORS[4:]].to_numpy().sum() == len(counted)
    if period.endswith("H2"):
        assert card["baseline_coverage"].isna().all()


def _gb18030_copy(src: Path, dst: Path) -> None:
    """data/sample as a clerk's Excel would save it: GB18030, Chinese file names, headers and
    labels."""
    ds = io.load_dataset(src)
    dst.mkdir()
    for name, df in ds.items():
        t = schema.TABLES[name]
        io.localize(df, "zh", name).to_csv(
            dst / f"{t.zh}.csv", index=False, encoding="gb18030", date_format="%Y/%m/%d"
        )


def test_same_figures_from_csv_gb18030_and_workbook(sample, tmp_path):
    p = load_params()
    _gb18030_copy(config.SAMPLE_DIR, tmp_path / "zh")
    assert (tmp_path / "zh" / "夫妻.csv").read_bytes().decode("gb18030").startswith("夫妻编号")
    forms = {
        "csv": sample,
        "gb18030": io.load_for_analysis(tmp_path / "zh", TABLES_NEEDED),
        "xlsx": io.load_for_analysis(config.SAMPLE_WORKBOOK, TABLES_NEEDED),
    }
    cards = {k: compliance_scorecard(ds, p, "2024") for k, ds in forms.items()}
    pd.testing.assert_frame_equal(cards["csv"], cards["gb18030"])
    pd.testing.assert_frame_equal(cards["csv"], cards["xlsx"])
    acc = {k: accountability_list(ds, p, "2024") for k, ds in forms.items()}
    pd.testing.assert_frame_equal(acc["csv"], acc["gb18030"])
    pd.testing.assert_frame_equal(acc["csv"], acc["xlsx"])
    cases = {k: case_list(ds, p) for k, ds in forms.items()}
    pd.testing.assert_frame_equal(cases["csv"], cases["xlsx"])


def test_outputs_are_byte_identical_on_rerun(tmp_path):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    for f in (a, b):
        assert main(["compliance", "--period", "2024H1", "--out", str(f)]) == 0
    assert a.read_bytes() == b.read_bytes()


def test_chinese_output_headers_and_labels(tmp_path):
    out = tmp_path / "card.csv"
    assert main(["compliance", "--period", "2024", "--out", str(out), "--lang", "zh"]) == 0
    card = pd.read_csv(out, encoding="utf-8-sig")
    assert list(card.columns[:3]) == ["单位编号", "考核期", "年初摸底调查覆盖率"]
    assert set(card["等次"]) <= {"优秀", "合格", "不合格"}
    assert set(card["一票否决"]) <= {"是", "否"}


def _full_names():
    persons = pd.read_csv(config.SAMPLE_DIR / "persons.csv", encoding="utf-8-sig", dtype=str)
    units = pd.read_csv(config.SAMPLE_DIR / "units.csv", encoding="utf-8-sig", dtype=str)
    return {
        n
        for n in pd.concat([persons["name"], units["head_name"], units["liaison_name"]]).dropna()
        if len(n) > 1
    }


@pytest.mark.parametrize("command", ["accountability", "cases"])
def test_names_masked_unless_revealed(tmp_path, command):
    masked, shown = tmp_path / "m.csv", tmp_path / "s.csv"
    extra = ["--period", "2024"] if command == "accountability" else []
    assert main([command, *extra, "--out", str(masked), "--lang", "en"]) == 0
    assert main([command, *extra, "--out", str(shown), "--lang", "en", "--reveal-pii"]) == 0
    m = pd.read_csv(masked, encoding="utf-8-sig", dtype=str)
    s = pd.read_csv(shown, encoding="utf-8-sig", dtype=str)
    assert len(m) > 0
    names = _full_names()
    cols = [c for c in ("wife_name", "husband_name", "unit_head_name", "liaison_name") if c in m]
    assert cols
    for c in cols:
        assert m[c].dropna().str.contains(r"\*").all()
        assert not set(m[c].dropna()) & names
        assert set(s[c].dropna()) <= names
    assert not any(n in masked.read_text(encoding="utf-8-sig") for n in names)


@pytest.mark.parametrize(
    ("argv", "code", "text"),
    [
        pytest.param(
            ["compliance", "--period", "2024Q3", "--out", "x.csv"], 2, "2024H1", id="bad-period"
        ),
        pytest.param(
            ["compliance", "--period", "2024", "--out", "x.txt"], 2, ".csv", id="bad-extension"
        ),
        pytest.param(
            ["accountability", "--period", "H1", "--out", "x.csv"],
            2,
            "2024H1",
            id="accountability-bad-period",
        ),
        pytest.param(
            ["compliance", "/nonexistent/dataset", "--out", "x.csv"], 1, "", id="missing-dataset"
        ),
    ],
)
def test_errors_are_bilingual_and_have_exit_codes(tmp_path, capsys, monkeypatch, argv, code, text):
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--lang", "en"]) == code
    err = capsys.readouterr().err
    assert err.startswith("error:") and text in err and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()


def test_invalid_dataset_refused_then_skipped(tmp_path, capsys):
    src = tmp_path / "data"
    src.mkdir()
    for f in config.SAMPLE_DIR.glob("*.csv"):
        (src / f.name).write_bytes(f.read_bytes())
    lines = (src / "surveys.csv").read_text(encoding="utf-8-sig").splitlines()
    head = lines[0].split(",")
    row = lines[1].split(",")
    row[head.index("survey_date")] = "2024-13-45"
    lines[1] = ",".join(row)
    (src / "surveys.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "card.csv"
    assert (
        main(["compliance", str(src), "--period", "2024", "--out", str(out), "--lang", "en"]) == 1
    )
    assert "survey_date" in capsys.readouterr().err and not out.exists()
    assert (
        main(
            [
                "compliance",
                str(src),
                "--period",
                "2024",
                "--out",
                str(out),
                "--lang",
                "en",
                "--skip-invalid",
            ]
        )
        == 0
    )
    assert "1 rows left out" in capsys.readouterr().err
    assert out.exists()
