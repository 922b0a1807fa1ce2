"""Reports: every notebook run with papermill on a dataset into one browsable folder (executed
notebooks, their HTML without code, each unit's page, the full tables, ``index.html`` with the
conclusions first, ``provenance.json``, the A4 briefing), what the notebooks' cells call to show
their results (:mod:`fpanalysis.report.views`), the notebooks' declared parameters, ``make
notebooks`` (the committed notebooks re-executed), the Voilà dashboard server
(:mod:`fpanalysis.report.dashboard`) and the project's JupyterLab
(:mod:`fpanalysis.report.lab`). It may import every lower layer."""

from fpanalysis.report import notebook_params
from fpanalysis.report.build import build_report
from fpanalysis.report.execute import (
    CELL_TIMEOUT,
    KERNEL_START_TIMEOUT,
    TIMEOUT_RETRIES,
    NotebookError,
)
from fpanalysis.report.folders import REPORT_MARKER
from fpanalysis.report.lab import start_lab
from fpanalysis.report.normalize import WIDGET_MIME, normalize_notebook
from fpanalysis.report.notebook_params import (
    NOTEBOOKS,
    PARAMS_FILE_PARAMETER,
    UNIT_PARAMETER,
    NotebookParam,
    check_parameters,
    declared,
    defaults,
    parse_assignments,
)
from fpanalysis.report.pages import notebook_title, render_index, to_html
from fpanalysis.report.pdf import write_briefing
from fpanalysis.report.plan import (
    NOTEBOOK_GLOB,
    REVEAL_PARAMETER,
    Run,
    find_notebooks,
    plan_runs,
    select_notebooks,
)
from fpanalysis.report.provenance import (
    dataset_hashes,
    dataset_units,
    provenance,
    provenance_markdown,
    run_time,
    sha256_file,
    unit_names,
)
from fpanalysis.report.refresh import main, refresh_notebooks

__all__ = [
    "CELL_TIMEOUT",
    "KERNEL_START_TIMEOUT",
    "NOTEBOOKS",
    "NOTEBOOK_GLOB",
    "PARAMS_FILE_PARAMETER",
    "REPORT_MARKER",
    "REVEAL_PARAMETER",
    "TIMEOUT_RETRIES",
    "UNIT_PARAMETER",
    "WIDGET_MIME",
    "NotebookError",
    "NotebookParam",
    "Run",
    "build_report",
    "check_parameters",
    "dataset_hashes",
    "dataset_units",
    "declared",
    "defaults",
    "find_notebooks",
    "main",
    "normalize_notebook",
    "notebook_params",
    "notebook_title",
    "parse_assignments",
    "plan_runs",
    "provenance",
    "provenance_markdown",
    "refresh_notebooks",
    "render_index",
    "run_time",
    "select_notebooks",
    "sha256_file",
    "start_lab",
    "to_html",
    "unit_names",
    "write_briefing",
]
