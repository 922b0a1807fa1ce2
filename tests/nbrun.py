"""Running a notebook under papermill in a test, and reading back its outputs."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill


def run_notebook(notebook: Path, tmp_path: Path, **parameters) -> nbformat.NotebookNode:
    """Execute ``notebook`` with ``parameters`` in ``tmp_path``; return the executed notebook."""
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(notebook),
        str(out),
        parameters=parameters,
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    return nbformat.read(out, as_version=4)


def outputs_text(nb: nbformat.NotebookNode) -> str:
    """Every output of every code cell, as text (HTML tables, streams, SVG)."""
    return json.dumps(
        [c.get("outputs", []) for c in nb.cells if c.cell_type == "code"], ensure_ascii=False
    )
