"""fpanalysis report: checked parameters, atomic swap, failing notebooks, provenance, PII.

Most tests use tests/fixtures/notebooks/90_fixture.ipynb (declared here with
monkeypatch) so that they take seconds; one runs the real notebooks.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from fpanalysis.core import config
from fpanalysis.core.errors import ParamError, UsageError
from fpanalysis.report import (
    NotebookError,
    build_report,
    normalize_notebook,
    notebook_params,
    plan_runs,
)
from fpanalysis.report.notebook_params import NotebookParam, check_parameters, parse_assignments

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks"
FIX = "90_fixture"


@pytest.fixture
def fixture_nbs(tmp_path, monkeypatch):
    d = tmp_path / "nbs"
    d.mkdir()
    shutil.copy(FIXTURES / f"{FIX}.ipynb", d)
    monkeypatch.setitem(
        notebook_params.NOTEBOOKS,
        FIX,
        {
            "dataset": NotebookParam(str, "", "数据集", "dataset", path=True),
            "lang": NotebookParam(str, "zh", "语言", "language", choices=("zh", "en")),
            "unit": NotebookParam(str, "", "单位", "unit"),
            "fail": NotebookParam(bool, False, "失败", "fail"),
            "months": NotebookParam(int, 3, "月数", "months"),
        },
    )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")
    return d


# ----------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param({"months": "24"}, {"months": 24}, id="int-from-text"),
        pytest.param({"months": 12.0}, {"months": 12}, id="whole-float-is-int"),
        pytest.param({"quota": "none"}, {"quota": None}, id="none-text"),
        pytest.param(
            {"quota": "urban=3,rural=5"}, {"quota": {"urban": 3, "rural": 5}}, id="per-area-quota"
        ),
        pytest.param({"budget_yuan": "1500.5"}, {"budget_yuan": 1500.5}, id="float-budget"),
        pytest.param({"pool": "urban"}, {"pool": "urban"}, id="choice"),
    ],
)
def test_check_parameters_converts(values, expected):
    nb = (
        "03_relief_ranking" if set(values) & {"quota", "budget_yuan", "pool"} else "02_bonus_budget"
    )
    assert check_parameters(nb, values) == expected


@pytest.mark.parametrize(
    ("nb", "values", "rule"),
    [
        pytest.param(
            "02_bonus_budget", {"draw": 10}, "notebook-parameter-unknown", id="unknown-name"
        ),
        pytest.param(
            "02_bonus_budget", {"months": "abc"}, "notebook-parameter-type", id="text-for-int"
        ),
        pytest.param(
            "02_bonus_budget", {"months": 2.5}, "notebook-parameter-type", id="fraction-for-int"
        ),
        pytest.param(
            "02_bonus_budget", {"seed": True}, "notebook-parameter-type", id="bool-for-int"
        ),
        pytest.param("02_bonus_budget", {"lang": "fr"}, "notebook-parameter-choice", id="bad-lang"),
        pytest.param(
            "03_relief_ranking", {"pool": "county"}, "notebook-parameter-choice", id="bad-pool"
        ),
        pytest.param("99_nothing", {}, "notebook-declared", id="undeclared-notebook"),
    ],
)
def test_check_parameters_refuses(nb, values, rule):
    with pytest.raises(ParamError) as e:
        check_parameters(nb, values)
    assert e.value.rule == rule
    assert e.value.message_zh and e.value.message_en


def test_path_parameter_made_absolute(tmp_path):
    got = check_parameters(
        "02_bonus_budget", {"scenario_file": "sc.yaml", "params_file": ""}, base=tmp_path
    )
    assert got == {"scenario_file": str(tmp_path / "sc.yaml"), "params_file": ""}


def test_parse_assignments_scoped_and_unknown():
    stems = ["01_unit_compliance", "02_bonus_budget", "03_relief_ranking"]
    got = parse_assignments(["lang=en", "02:draws=50"], stems)
    assert got == {
        "01_unit_compliance": {"lang": "en"},
        "02_bonus_budget": {"lang": "en", "draws": "50"},
        "03_relief_ranking": {"lang": "en"},
    }
    with pytest.raises(ParamError):
        parse_assignments(["draws"], stems)
    with pytest.raises(ParamError):
        parse_assignments(["01:draws=5"], stems)  # draws is the bonus notebook's
    with pytest.raises(ParamError):
        parse_assignments(["07:lang=en"], stems)


def test_plan_runs_per_unit_and_params_file(tmp_path):
    pf = tmp_path / "o.yaml"
    runs = plan_runs(
        ["01_unit_compliance", "02_bonus_budget"], lang="en", params_file=pf, units=["U01", "U02"]
    )
    assert [r.name for r in runs] == [
        "01_unit_compliance",
        "01_unit_compliance__U01",
        "01_unit_compliance__U02",
        "02_bonus_budget",
    ]
    assert runs[0].parameters == {"lang": "en", "weights_file": str(pf), "tables_dir": "tables"}
    assert runs[2].parameters["unit"] == "U02"
    assert runs[3].parameters == {"lang": "en", "params_file": str(pf), "tables_dir": "tables"}


def test_reveal_pii_passed_to_notebooks():
    runs = plan_runs(["02_bonus_budget"], reveal_pii=True)
    assert runs[0].parameters["reveal_pii"] is True
    assert "reveal_pii" not in plan_runs(["02_bonus_budget"])[0].parameters


def test_reveal_pii_refused_for_masking_notebooks(monkeypatch):
    """A notebook without a ``reveal_pii`` parameter would mask anyway: the report refuses to
    claim otherwise."""
    from fpanalysis.report import plan

    decl = {
        k: v for k, v in notebook_params.NOTEBOOKS["02_bonus_budget"].items() if k != "reveal_pii"
    }
    monkeypatch.setattr(plan, "declared", lambda nb: decl)
    with pytest.raises(UsageError) as e:
        plan_runs(["02_bonus_budget"], reveal_pii=True)
    assert e.value.rule == "reveal-pii-report"


# ----------------------------------------------------------------- normalising


def test_normalize_notebook_makes_ids_stable():
    nb = nbformat.v4.new_notebook(
        metadata={"papermill": {"start_time": "x"}, "widgets": {"state": {}}}
    )
    cells = []
    for mid in ("aa11", "bb22", "aa11"):
        c = nbformat.v4.new_code_cell("w", metadata={"papermill": {}, "execution": {}})
        c.outputs = [
            nbformat.v4.new_output(
                "display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": mid}}
            )
        ]
        cells.append(c)
    nb.cells = cells
    out = normalize_notebook(nb)
    ids = [
        c.outputs[0]["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
        for c in out.cells
    ]
    assert ids == [f"{1:032x}", f"{2:032x}", f"{1:032x}"]
    assert dict(out.metadata) == {}


# ----------------------------------------------------------------- the report on the fixture


@pytest.mark.notebook
def test_report_on_fixture_provenance_and_swap(fixture_nbs, tmp_path):
    out = tmp_path / "rep"
    pf = tmp_path / "override.yaml"
    pf.write_text("discount_rate: 0.05\n", encoding="utf-8")
    build_report(
        out,
        params_file=None,
        lang="en",
        parameters=["months=7"],
        units=["U01", "U02"],
        notebooks_dir=fixture_nbs,
        jobs=2,
        progress=False,
    )
    files = sorted(p.name for p in out.iterdir())
    assert files == [
        f"{FIX}.html",
        f"{FIX}.ipynb",
        f"{FIX}__U01.html",
        f"{FIX}__U01.ipynb",
        f"{FIX}__U02.html",
        f"{FIX}__U02.ipynb",
        "index.html",
        "provenance.json",
    ]
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert (
        prov["run_time"] == "2025-11-24T16:00:00Z"
        and prov["run_time_source"] == "SOURCE_DATE_EPOCH"
    )
    assert prov["reveal_pii"] is False
    assert set(prov["dataset"]["sha256"]) >= {"persons.csv", "units.csv"}
    assert prov["runs"][1]["parameters"] == {"lang": "en", "months": 7, "unit": "U01"}
    nb = nbformat.read(out / f"{FIX}__U02.ipynb", as_version=4)
    text = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "unit=U02 lang=en months=7" in text
    assert nb.cells[-1].id == "provenance" and "SHA-256" in nb.cells[-1].source
    page = (out / f"{FIX}.html").read_text(encoding="utf-8")
    assert "Provenance" in page and "from fpanalysis" not in page  # no code cells
    assert 'src="http' not in page  # nothing loaded from the network
    assert "IntSlider" not in page and "widget-view" not in page  # a static page has no widget
    index = (out / "index.html").read_text(encoding="utf-8")
    assert f'href="{FIX}__U01.html"' in index and "persons.csv" in index
    first = {p.name: p.read_bytes() for p in out.iterdir()}

    # A rerun with an override file replaces the report as a whole;
    # same epoch, same bytes elsewhere.
    build_report(
        out,
        params_file=pf,
        lang="en",
        parameters=["months=7"],
        units=["U01", "U02"],
        notebooks_dir=fixture_nbs,
        jobs=1,
        progress=False,
    )
    prov2 = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert prov2["params_file"]["content"] == "discount_rate: 0.05\n"
    assert prov2["parameters_overridden"] == ["discount_rate"]
    assert "discount_rate: 0.05" in (out / "index.html").read_text(encoding="utf-8")
    build_report(
        out,
        lang="en",
        parameters=["months=7"],
        units=["U01", "U02"],
        notebooks_dir=fixture_nbs,
        jobs=2,
        progress=False,
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first  # byte-identical rerun
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".rep.")]  # no temp folders left


@pytest.mark.notebook
def test_failing_notebook_keeps_previous_report(fixture_nbs, tmp_path):
    out = tmp_path / "rep"
    build_report(out, units=[], notebooks_dir=fixture_nbs, jobs=1, progress=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(NotebookError) as e:
        build_report(
            out,
            units=["U01"],
            parameters=["fail=true"],
            notebooks_dir=fixture_nbs,
            jobs=2,
            progress=False,
        )
    err = e.value
    assert err.row == 5 and err.file == f"{FIX}.ipynb"  # the fifth cell of the notebook
    assert "ValueError: fixture failure" in err.message_en and "line 3" in err.message_en
    assert "Traceback" not in err.text("en")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".rep.")]


@pytest.mark.parametrize(
    ("kw", "exc"),
    [
        pytest.param({"parameters": ["month=3"]}, ParamError, id="unknown-parameter"),
        pytest.param({"parameters": ["months=three"]}, ParamError, id="ill-typed-parameter"),
        pytest.param({"lang": "fr"}, UsageError, id="bad-lang"),
        pytest.param({"notebooks": ["77"]}, UsageError, id="unknown-notebook"),
    ],
)
def test_bad_arguments_fail_before_running(fixture_nbs, tmp_path, kw, exc):
    out = tmp_path / "rep"
    with pytest.raises(exc):
        build_report(out, units=[], notebooks_dir=fixture_nbs, progress=False, **kw)
    assert not out.exists()


def test_refuses_to_replace_a_folder_that_is_not_a_report(fixture_nbs, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_text("x")
    with pytest.raises(UsageError):
        build_report(out, units=[], notebooks_dir=fixture_nbs, progress=False)
    assert (out / "thesis.docx").exists()


def test_cli_reports_bad_parameter_in_both_languages(capsys):
    from fpanalysis.cli import main

    assert main(["report", "--out", "/nonexistent/x", "-p", "draw=5", "--lang", "en"]) == 1
    assert "no notebook declares a parameter draw" in capsys.readouterr().err


# ----------------------------------------------------------------- the real notebooks


def _pii_names() -> list[str]:
    names: list[str] = []
    for table, cols in {
        "persons": ["name"],
        "units": ["head_name", "liaison_name"],
        "households": ["head_name"],
        "household_members": ["name"],
    }.items():
        f = config.SAMPLE_DIR / f"{table}.csv"
        if f.exists():
            df = pd.read_csv(f, encoding="utf-8-sig", dtype=str)
            for c in cols:
                if c in df:
                    names += list(df[c].dropna())
    return names


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.skipif(
    not (config.NOTEBOOKS_DIR / "01_unit_compliance.ipynb").exists(),
    reason="notebooks not written yet",
)
def test_real_report_masks_pii_and_renders_offline(tmp_path, monkeypatch):
    """The three notebooks and one unit's run, in English: every output file is scanned for
    unmasked ID numbers (valid GB 11643 check character) and full names (rulebook §7)."""
    from fpanalysis.core.privacy import find_names, find_unmasked_ids

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")
    out = tmp_path / "rep"
    build_report(out, lang="en", units=["U07"], parameters=["02:draws=100"], jobs=2, progress=False)
    names = _pii_names()
    assert len(names) > 100
    # three notebooks (executed and HTML), the unit's page, the front page, the provenance,
    # and the full tables and conclusions under tables/
    assert len([f for f in out.iterdir() if f.is_file()]) == 2 * 3 + 3
    assert (out / "01_unit_compliance__U07.html").is_file()
    files = sorted(f for f in out.rglob("*") if f.is_file())
    assert len([f for f in files if f.parent.name == "tables"]) >= 5
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert find_unmasked_ids(text) == [], f.name
        assert find_names(text, names) == [], f.name
        if f.suffix == ".html":
            assert 'src="http' not in text and "cdn.jsdelivr" not in text, f.name
    for f in out.glob("*.ipynb"):
        nb = nbformat.read(f, as_version=4)
        assert not [
            o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"
        ], f.name
        assert (
            sum(
                "image/svg+xml" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])
            )
            >= 2
        ), f.name


@pytest.mark.parametrize(
    "units",
    [
        pytest.param(["办公室", "财务股", "福利院"], id="chinese-ids"),
        pytest.param(["U/1", "U_1", "U 1"], id="ids-alike-once-made-safe"),
        pytest.param(["U01", "u01"], id="ids-differing-by-case"),
    ],
)
def test_per_unit_report_names_are_unique_whatever_the_ids(units):
    from fpanalysis.report import plan_runs

    runs = [r for r in plan_runs(["01_unit_compliance"], units=units) if r.unit]
    names = [r.name for r in runs]
    assert len({n.lower() for n in names}) == len(units)
    assert all(n.startswith("01_unit_compliance__") for n in names)
