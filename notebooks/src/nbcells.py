"""Helpers shared by the notebook builders (build_01.py, build_02.py, build_03.py).

Each builder declares its cells with :func:`md` and :func:`code` and calls
:func:`write`. Notebooks are written with nbformat, so they are valid JSON, with
stable cell ids so that rebuilding gives the same file; outputs are left empty
(``make notebooks`` executes them).
"""

from __future__ import annotations

from pathlib import Path

import nbformat as nbf


def md(text: str, tags: list[str] | None = None) -> nbf.NotebookNode:
    """A markdown cell, with cell tags (``dashboard``) when given."""
    cell = nbf.v4.new_markdown_cell(text.strip())
    if tags:
        cell.metadata["tags"] = tags
    return cell


def code(text: str, tags: list[str] | None = None) -> nbf.NotebookNode:
    """A code cell, with cell tags (``parameters``, ``nbval-ignore-output``) when given."""
    cell = nbf.v4.new_code_cell(text.strip())
    if tags:
        cell.metadata["tags"] = tags
    return cell


def build(cells: list[nbf.NotebookNode]) -> nbf.NotebookNode:
    """A python3 notebook of ``cells`` with stable cell ids."""
    nb = nbf.v4.new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",  # what ipykernel reports: JupyterLab changes nothing
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    for i, c in enumerate(nb.cells):
        c["id"] = f"cell-{i:02d}"
    return nb


def write(cells: list[nbf.NotebookNode], out: Path) -> None:
    """Validate and write the notebook (unexecuted)."""
    nb = build(cells)
    nbf.validate(nb)
    out.write_text(nbf.writes(nb) + "\n", encoding="utf-8")
    print(f"wrote {out}")
