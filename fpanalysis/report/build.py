"""``build_report``: every notebook run on a dataset into one folder, each as ``NAME.ipynb``
(executed, with a provenance section at the end) and ``NAME.html`` (without code), each unit's
page drawn by the package meanwhile (:mod:`fpanalysis.report.unit_pages`, one computation
instead of a notebook run per unit), the full tables under ``tables/``, ``index.html`` (the
conclusions first) and ``provenance.json``; parameters are checked before anything runs and
the folder is swapped in only when every notebook succeeded."""

from __future__ import annotations

import concurrent.futures as cf
import copy
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fpanalysis.core import config
from fpanalysis.core.errors import DataError, UsageError
from fpanalysis.report import unit_pages
from fpanalysis.report.execute import Job, notebook_error, run_all
from fpanalysis.report.folders import REPORT_MARKER, prepare_out, swap_in, write_text
from fpanalysis.report.normalize import normalize_notebook
from fpanalysis.report.notebook_params import (
    REPORT_TABLES_DIR,
    UNIT_PARAMETER,
    declared,
    parse_assignments,
)
from fpanalysis.report.pages import notebook_title, render_index, to_html
from fpanalysis.report.plan import Run, find_notebooks, plan_runs, select_notebooks
from fpanalysis.report.provenance import (
    dataset_units,
    provenance,
    provenance_markdown,
)
from fpanalysis.report.views import findings_path, load_findings


def _check_inputs(
    lang: str, dataset: str | os.PathLike | None, params_file: str | os.PathLike | None
) -> None:
    if lang not in ("zh", "en"):
        raise UsageError(
            f"语言应为 zh 或 en，而不是 {lang!r}",
            f"lang must be zh or en, not {lang!r}",
            value=lang,
            rule="lang",
        )
    for path, found, error, zh, en, rule in (
        (dataset, Path.exists, DataError, "数据集", "dataset", "dataset-exists"),
        (params_file, Path.is_file, UsageError, "参数文件", "parameter file", "params-file-exists"),
    ):
        if path is not None and not found(Path(path)):
            raise error(f"找不到{zh} {path}", f"{en} {path} not found", file=str(path), rule=rule)


@dataclass(frozen=True)
class _Build:
    """A report being built: every run, the notebooks as read, the provenance and the folder."""

    runs: Sequence[Run]
    originals: Mapping[str, Any]
    prov: Mapping[str, Any]
    folder: Path


def _write_inputs(b: _Build, executed: Sequence[Run], work: Path) -> list[Job]:
    """Each executed run's input notebook, with its provenance cell appended, and its job."""
    import nbformat

    jobs_list = []
    for run in executed:
        nb = copy.deepcopy(b.originals[run.notebook])
        cell = nbformat.v4.new_markdown_cell(provenance_markdown(b.prov, run))
        cell.metadata["tags"] = ["provenance"]
        cell.id = "provenance"  # a fixed id: stable bytes
        nb.cells.append(cell)
        inp = work / f"{run.name}.ipynb"
        nbformat.write(nb, inp)
        out = b.folder / f"{run.name}.ipynb"
        jobs_list.append((run, str(inp), str(out), run.parameters, str(b.folder)))
    return jobs_list


def _run_with_bar(
    runs: Sequence[Run],
    jobs_list: Sequence[Job],
    jobs: int,
    progress: bool,
    originals: Mapping[str, Any],
) -> None:
    """Run the jobs under a progress bar; raise the first failure as a NotebookError."""
    from tqdm import tqdm

    bar = tqdm(
        total=len(runs),
        file=sys.stderr,
        disable=not progress,
        desc="报告 report",
        unit="nb",
        mininterval=0.5,
    )

    def done(run: Run) -> None:
        bar.set_postfix_str(run.name, refresh=False)
        bar.update(1)

    try:
        failed = run_all(jobs_list, jobs, done)
    finally:
        bar.close()
    if failed:
        name, err = next(iter(failed.items()))
        run = next(r for r in runs if r.name == name)
        raise notebook_error(run, originals[run.notebook], err)


def drawn_runs(runs: Sequence[Run]) -> list[Run]:
    """The runs whose page the package draws instead of running a notebook (each unit's)."""
    return [r for r in runs if r.unit and r.notebook == unit_pages.NOTEBOOK]


def _draw_units(
    runs: Sequence[Run], prov: Mapping[str, Any], title: str
) -> list[unit_pages.UnitPage]:
    """Every unit's page, from the bureau compliance run's parameters."""
    drawn = drawn_runs(runs)
    if not drawn:
        return []
    bureau = next(r for r in runs if r.notebook == unit_pages.NOTEBOOK and not r.unit)
    audits = {r.unit: provenance_markdown(prov, r) for r in drawn}
    return unit_pages.render_units(
        bureau.parameters, [r.unit for r in drawn], title=title, audits=audits
    )


def _write_outputs(b: _Build, lang: str, pages: Sequence[unit_pages.UnitPage]) -> None:
    """The normalised notebooks, their HTML pages, the units' pages, index.html and
    provenance.json."""
    import nbformat

    build = b.folder
    titles = {s: notebook_title(nb, s) for s, nb in b.originals.items()}
    drawn = {r.name for r in drawn_runs(b.runs)}
    for run in b.runs:
        if run.name in drawn:
            continue
        path = build / f"{run.name}.ipynb"
        nb = normalize_notebook(nbformat.read(path, as_version=4))
        nbformat.write(nb, path)
        title = titles[run.notebook] + (f" — {run.unit}" if run.unit else "")
        write_text(build / f"{run.name}.html", to_html(nb, title, lang))
    by_unit = {p.unit: p for p in pages}
    for run in b.runs:
        if run.name in drawn and run.unit in by_unit:
            write_text(build / f"{run.name}.html", by_unit[run.unit].html)
    conclusions = {}
    for stem in titles:
        path = findings_path(build / REPORT_TABLES_DIR, stem)
        if path.is_file():
            conclusions[stem] = load_findings(path)
    write_text(
        build / "index.html",
        render_index(b.prov, titles, {p.unit: p.row for p in pages}, conclusions),
    )
    write_text(
        build / REPORT_MARKER,
        json.dumps(b.prov, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
    )


def build_report(
    out: str | os.PathLike,
    dataset: str | os.PathLike | None = None,
    *,
    params_file: str | os.PathLike | None = None,
    lang: str = "zh",
    parameters: Iterable[str] = (),
    units: Sequence[str] | None = None,
    notebooks: Sequence[str] | None = None,
    notebooks_dir: str | os.PathLike = config.NOTEBOOKS_DIR,
    jobs: int = 2,
    reveal_pii: bool = False,
    progress: bool = True,
    pdf: bool = False,
) -> Path:
    """Run every notebook on ``dataset`` and write the browsable report to ``out``.

    Args:
        out: the report folder (replaced atomically when the run succeeds).
        dataset: dataset folder or workbook; None = the bundled sample.
        params_file: parameter override YAML (``--params``).
        lang: ``zh`` or ``en``.
        parameters: ``[NOTEBOOK:]NAME=VALUE`` overrides (``-p``), checked first.
        units: unit ids for the per-unit runs; None = every unit of the dataset.
        notebooks: notebook stems or number prefixes to run; None = all.
        notebooks_dir: where the notebooks are.
        jobs: notebooks run at the same time (processes).
        reveal_pii: show names and ID numbers (``reveal_pii=True`` to every notebook).
        progress: a tqdm progress bar on stderr.
        pdf: also print the briefing (``briefing.pdf``: the front page and the reports, A4;
            :mod:`fpanalysis.report.pdf`).

    Returns:
        The report folder.

    Raises:
        ParamError: unknown or ill-typed parameters (before anything runs).
        NotebookError: a notebook failed (the previous report is kept).
    """
    import nbformat

    out = Path(out)
    _check_inputs(lang, dataset, params_file)
    paths = select_notebooks({p.stem: p for p in find_notebooks(notebooks_dir)}, notebooks)
    if not paths:
        raise UsageError(
            f"{notebooks_dir} 中没有笔记本", f"no notebooks in {notebooks_dir}", rule="notebooks"
        )
    for stem in paths:
        declared(stem)  # every notebook must be declared (ParamError otherwise)
    overrides = parse_assignments(parameters, list(paths))
    ds_path = Path(dataset) if dataset is not None else config.SAMPLE_DIR
    if units is None:
        units = dataset_units(ds_path) if any(UNIT_PARAMETER in declared(s) for s in paths) else []
    inputs = {
        "dataset": dataset,
        "lang": lang,
        "params_file": params_file,
        "reveal_pii": reveal_pii,
    }
    runs = plan_runs(list(paths), overrides=overrides, units=units, **inputs)
    prov = provenance(runs=runs, drawn=[r.name for r in drawn_runs(runs)], **inputs)
    prepare_out(out)

    build = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        work = build / ".inputs"
        work.mkdir()
        originals = {s: nbformat.read(p, as_version=4) for s, p in paths.items()}
        drawn = {r.name for r in drawn_runs(runs)}
        executed = [r for r in runs if r.name not in drawn]
        b = _Build(runs, originals, prov, build)
        jobs_list = _write_inputs(b, executed, work)
        start = time.monotonic()
        nb01 = originals.get(unit_pages.NOTEBOOK)
        title = notebook_title(nb01, unit_pages.NOTEBOOK) if nb01 is not None else ""
        # the units' pages are drawn here while the notebooks run in their own processes
        with cf.ThreadPoolExecutor(max_workers=1) as pool:
            pages = pool.submit(_draw_units, runs, prov, title)
            _run_with_bar(executed, jobs_list, jobs, progress, originals)
            unit_page_list = pages.result()
        shutil.rmtree(work)
        _write_outputs(b, lang, unit_page_list)
        if pdf:
            from fpanalysis.report.pdf import write_briefing

            write_briefing(build)
        elapsed = time.monotonic() - start
        swap_in(build, out)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    if progress:
        n_drawn = len(drawn_runs(runs))
        print(
            f"{len(runs) - n_drawn} 个笔记本 notebooks, {n_drawn} 个单位页 unit pages, "
            f"{elapsed:.0f} s",
            file=sys.stderr,
        )
    return out
