"""nbval and the notebook parameter declarations stay in step with the notebooks."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from fpanalysis.core import config
from fpanalysis.report.notebook_params import NOTEBOOKS, PARAMS_FILE_PARAMETER

ROOT = config.PROJ_ROOT
FIXTURE = ROOT / "tests" / "fixtures" / "notebooks" / "nbval_volatile.ipynb"
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
REAL = sorted(config.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in REAL])
def test_declaration_matches_parameters_cell(path: Path):
    """Names, order and defaults of notebook_params.NOTEBOOKS equal the notebook's parameters
    cell."""
    papermill = pytest.importorskip("papermill")
    assert path.stem in NOTEBOOKS, (
        f"{path.name} has no declaration in fpanalysis/report/notebook_params.py"
    )
    found = papermill.inspect_notebook(str(path))
    decl = NOTEBOOKS[path.stem]
    assert list(found) == list(decl)
    for name, p in decl.items():
        assert ast.literal_eval(found[name]["default"]) == p.default, name


def test_every_declared_notebook_exists():
    assert sorted(NOTEBOOKS) == [p.stem for p in REAL]
    assert set(PARAMS_FILE_PARAMETER) <= set(NOTEBOOKS)


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in REAL])
def test_committed_executed_and_normalised(path: Path):
    """Committed with outputs (make notebooks), without papermill timings or widget state."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), "run `make notebooks`"
    assert "papermill" not in nb.metadata and "widgets" not in nb.metadata
    assert not any("papermill" in c.metadata or "execution" in c.metadata for c in nb.cells)
    for c in code:
        if any(
            "application/vnd.jupyter.widget-view+json" in o.get("data", {})
            for o in c.get("outputs", [])
        ):
            assert "nbval-ignore-output" in c.metadata.get("tags", []), c.source[:60]


def _nbval(*extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "--nbval",
            "--nbval-current-env",
            *extra,
            str(FIXTURE),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.notebook
@pytest.mark.parametrize(
    ("sanitize", "passes"),
    [
        pytest.param(True, True, id="sanitized-passes"),
        pytest.param(False, False, id="raw-fails"),
    ],
)
def test_sanitize_file_covers_volatile_outputs(sanitize, passes):
    """A notebook printing a timestamp, an address, a hash and an altair html chart:
    strict nbval passes only with tests/nbval_sanitize.cfg."""
    r = _nbval(*(["--nbval-sanitize-with", str(SANITIZE)] if sanitize else []))
    assert (r.returncode == 0) is passes, r.stdout[-2000:]
