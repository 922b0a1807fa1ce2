"""notebooks/01_unit_compliance.ipynb runs under papermill for the bureau and for one unit
(rulebook §3, §7): its conclusions first, the scorecard of every unit or of the one unit."""

from __future__ import annotations

import re

import nbformat
import pandas as pd
import pytest
from nbrun import outputs_text, run_notebook

from fpanalysis.core import config
from fpanalysis.core.privacy import find_names, find_unmasked_ids

NOTEBOOK = config.NOTEBOOKS_DIR / "01_unit_compliance.ipynb"

pytestmark = [
    pytest.mark.notebook,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (config.SAMPLE_DIR / "units.csv").exists(), reason="sample data not generated"
    ),
]


def _names():
    persons = pd.read_csv(config.SAMPLE_DIR / "persons.csv", encoding="utf-8-sig", dtype=str)
    units = pd.read_csv(config.SAMPLE_DIR / "units.csv", encoding="utf-8-sig", dtype=str)
    return list(pd.concat([persons["name"], units["head_name"], units["liaison_name"]]).dropna())


def test_notebook_structure():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    for name in ("dataset", "period", "weights_file", "lang", "unit"):
        assert f"{name} = " in tagged[0].source
    widget_cells = [c for c in nb.cells if "drilldown(" in c.source or "reweight(" in c.source]
    assert widget_cells and all(
        "nbval-ignore-output" in c.metadata.get("tags", [])
        for c in widget_cells
        if c.cell_type == "code"
    )


@pytest.mark.parametrize(
    ("params", "units"),
    [
        pytest.param({}, None, id="whole-bureau"),
        pytest.param({"unit": "U07", "period": "2024H1", "lang": "en"}, ["U07"], id="one-unit"),
    ],
)
def test_notebook_runs_and_masks(tmp_path, params, units):
    nb = run_notebook(NOTEBOOK, tmp_path, **params)
    text = outputs_text(nb)
    assert '"output_type": "error"' not in text
    assert "image/svg+xml" in text  # charts rendered offline as static SVG
    assert find_unmasked_ids(text) == []
    assert find_names(text, _names()) == []
    scorecard = next(
        c for c in nb.cells if c.cell_type == "code" and "shown = mine(card)" in c.source
    )
    html = "".join(o.get("data", {}).get("text/html", "") for o in scorecard.outputs)
    shown = sorted(set(re.findall(r"<td>(U\d+)</td>", html)))
    assert "结论" in text or "Conclusions" in text
    if units:
        assert shown == units
        assert "2024H1" in text
        assert "To do" in text or "Nothing left to do" in text  # the unit's to-do list
    else:
        assert len(shown) == 20


def test_notebook_shows_the_registers_grades_with_the_units_names(tmp_path):
    """With ``register``: each unit's grades over the recorded rounds and the change between the
    last two, each unit named as this dataset names it (the register keeps no names)."""
    import html
    import json

    from fpanalysis.cli import main

    url = str(tmp_path / "register.sqlite")
    for period in ("2023", "2024"):
        argv = ["compliance", "--period", period, "--record", "--register", url]
        assert main([*argv, "--out", str(tmp_path / f"c{period}.csv")]) == 0
    nb = run_notebook(NOTEBOOK, tmp_path, lang="en", register=url)
    assert '"output_type": "error"' not in outputs_text(nb)
    cell = next(
        c for c in nb.cells if c.cell_type == "code" and "unit_transitions(reg)" in c.source
    )
    out = html.unescape(json.dumps(cell.outputs, ensure_ascii=False))
    assert "2 compliance rounds" in out
    units = pd.read_csv(config.SAMPLE_DIR / "units.csv", encoding="utf-8-sig", dtype=str)
    # every unit's name, in the grades over the rounds and in the change between them
    for name in units["name"]:
        assert out.count(f"<td>{name}</td>") == 2, name
