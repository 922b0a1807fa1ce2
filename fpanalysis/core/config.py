"""Paths in one place: the package and project folders, the bundled sample and its workbook,
the input templates, the notebooks and ``policy.yaml``; nothing else in the package spells a
path to the project's folders.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
PROJ_ROOT = PACKAGE_DIR.parent
DATA_DIR = PROJ_ROOT / "data"
SAMPLE_DIR = DATA_DIR / "sample"
SAMPLE_WORKBOOK = DATA_DIR / "sample_workbook.xlsx"
TEMPLATES_DIR = DATA_DIR / "templates"
NOTEBOOKS_DIR = PROJ_ROOT / "notebooks"
POLICY_FILE = PACKAGE_DIR / "core" / "policy.yaml"
