"""notebooks/02_bonus_budget.ipynb runs under papermill on the sample, offline, and masks PII
(rulebook §5, §7)."""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest
from nbrun import outputs_text, run_notebook

from fpanalysis.core import config
from fpanalysis.core.privacy import find_names, find_unmasked_ids

NOTEBOOK = config.NOTEBOOKS_DIR / "02_bonus_budget.ipynb"

pytestmark = [
    pytest.mark.notebook,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (config.SAMPLE_DIR / "certificates.csv").exists(), reason="sample data not generated"
    ),
]


def test_notebook_structure():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    for name in ("dataset", "start", "months", "scenario_file", "draws", "seed", "lang"):
        assert f"{name} = " in tagged[0].source
    widget = [c for c in nb.cells if c.cell_type == "code" and "budget_dashboard(" in c.source]
    assert widget and all("nbval-ignore-output" in c.metadata.get("tags", []) for c in widget)


def test_notebook_runs_offline_and_masks(tmp_path):
    sc = tmp_path / "sc.yaml"
    sc.write_text(
        "scenarios:\n  rise_2027:\n    reward_monthly_yuan: {2027-01-01: 40}\n", encoding="utf-8"
    )
    nb = run_notebook(
        NOTEBOOK, tmp_path, months=24, draws=100, seed=3, scenario_file=str(sc), lang="en"
    )
    text = outputs_text(nb)
    assert '"output_type": "error"' not in text
    assert text.count("image/svg+xml") >= 3  # fan, unit and scenario charts as static SVG
    assert "cdn.jsdelivr" not in text  # nothing loaded from the network
    assert "rise_2027" in text
    persons = pd.read_csv(config.SAMPLE_DIR / "persons.csv", encoding="utf-8-sig", dtype=str)
    assert find_unmasked_ids(text) == []
    assert find_names(text, list(persons["name"].dropna())) == []
