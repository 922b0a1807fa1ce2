"""The relief notebook under papermill on the sample, names masked (rulebook §6, §7)."""

from __future__ import annotations

import json
import re

import nbformat
import openpyxl
import pandas as pd
import pytest
from nbrun import outputs_text, run_notebook

from fpanalysis.core import config
from fpanalysis.core.privacy import find_names, find_unmasked_ids

NOTEBOOK = config.NOTEBOOKS_DIR / "03_relief_ranking.ipynb"

pytestmark = [
    pytest.mark.notebook,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (config.SAMPLE_DIR / "households.csv").exists(), reason="sample data not generated"
    ),
]


def _head_names():
    h = pd.read_csv(config.SAMPLE_DIR / "households.csv", encoding="utf-8-sig", dtype=str)
    return list(h["head_name"].dropna())


def test_notebook_structure():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    for name in ("dataset", "as_of", "quota", "budget_yuan", "params_file", "lang"):
        assert f"{name} = " in tagged[0].source
    widget = [c for c in nb.cells if "cut_dashboard(" in c.source and c.cell_type == "code"]
    assert widget and all("nbval-ignore-output" in c.metadata.get("tags", []) for c in widget)


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"quota": 180}, id="quota-zh"),
        pytest.param({"budget_yuan": 185000, "lang": "en", "as_of": "2025-11-16"}, id="budget-en"),
    ],
)
def test_notebook_runs_and_masks(tmp_path, params):
    meeting = tmp_path / "meeting.xlsx"
    nb = run_notebook(NOTEBOOK, tmp_path, meeting_xlsx=str(meeting), **params)
    text = outputs_text(nb)
    assert '"output_type": "error"' not in text
    # a limit is read against current standards with no limit (应保尽保)
    assert "与现行标准、应保尽保相比" in text or "Against current standards with no limit" in text
    assert text.count("image/svg+xml") >= 2  # both charts rendered offline as static SVG
    assert find_unmasked_ids(text) == []
    assert find_names(text, _head_names()) == []
    ranked = next(c for c in nb.cells if c.cell_type == "code" and "result.output()" in c.source)
    html = "".join(o.get("data", {}).get("text/html", "") for o in ranked.outputs)
    # The first cell of each row is the rank: no index column (no lxml here for read_html).
    ranks = re.findall(r"<tr[^>]*><td[^>]*>([^<]*)</td>", html)
    assert ranks[:5] == ["1", "2", "3", "4", "5"]
    ws = openpyxl.load_workbook(meeting).active
    assert ws.freeze_panes == "A3" and ws.max_row > 3
    assert (
        find_names(
            json.dumps(
                [[c.value for c in r] for r in ws.iter_rows()], ensure_ascii=False, default=str
            ),
            _head_names(),
        )
        == []
    )
