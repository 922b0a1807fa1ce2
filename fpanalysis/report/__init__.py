"""One command to a browsable report: every notebook run on a dataset (issue 6).

``build_report`` runs each notebook in ``notebooks/`` with papermill — the
compliance notebook once for the whole bureau and once per unit of the
dataset's ``units`` table — and writes, into one folder:

- ``NAME.ipynb``: the executed notebook (with a provenance section at the end);
- ``NAME.html``: the same without code (nbconvert, inputs and prompts hidden);
- ``index.html``: links to every report and the provenance table;
- ``provenance.json``: the same provenance, for machines.

The report is built in a temporary folder next to ``out`` and swapped in at
the end, so a failed or interrupted run leaves the previous report as it was.
A failing notebook stops the run with an :class:`NotebookError` naming the
notebook, the cell and the error line.

Choices (the spec is silent; also in docs/design.md and docs/report.md):

- Provenance (package version, run time, the dataset's SHA-256 per file, the
  parameter override file with its content and hash, the parameters in force,
  each notebook's parameters, whether PII was revealed) is appended to every
  executed notebook as a markdown cell tagged ``provenance`` and listed in
  ``index.html``. The run time is ``SOURCE_DATE_EPOCH`` when set (reruns are
  then byte-identical), else the clock, in UTC to the second.
- Executed notebooks are normalised for stable bytes: papermill's timing
  metadata and the saved widget state are dropped and widget model ids
  renumbered (the state is not saved, so the ids point at nothing either way).
  In the HTML a widget's output is replaced by a note that the control is live
  in JupyterLab or Voilà (static HTML cannot run it, and its JavaScript would
  come from a CDN).
- Notebooks run in the report's build folder (a file a notebook writes, e.g.
  ``meeting_xlsx=meeting.xlsx``, lands in the report); relative paths given by
  the user are made absolute first. ``make notebooks`` runs them in
  ``notebooks/``.
- Parallel runs use separate processes (papermill changes the process's
  working directory, so threads would race).
- ``--reveal-pii`` passes ``reveal_pii=True`` to every notebook: each declares
  the parameter and masks names and ID numbers unless it is set (POLICY.md
  §7). A notebook that does not declare it would mask anyway, and a report
  claiming to reveal what it masks would be wrong, so such a run is refused.
  Provenance records it (each notebook's provenance cell, ``index.html``,
  ``provenance.json``).
- An existing ``out`` folder is replaced only when it is a previous report
  (it holds ``provenance.json``) or empty: anything else is refused.
"""

from __future__ import annotations

import concurrent.futures as cf
import copy
import hashlib
import html
import json
import multiprocessing
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fpanalysis import __version__
from fpanalysis.core import config
from fpanalysis.core.clock import now_source, now_utc
from fpanalysis.core.errors import DataError, FPError, UsageError
from fpanalysis.report.notebook_params import (
    PARAMS_FILE_PARAMETER,
    UNIT_PARAMETER,
    check_parameters,
    declared,
)

REPORT_MARKER = "provenance.json"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
REVEAL_PARAMETER = "reveal_pii"
#: seconds one cell may run before the run is stopped as hung (a report cell takes seconds).
CELL_TIMEOUT = int(os.environ.get("FPANALYSIS_CELL_TIMEOUT", "120"))
#: a run whose cell timed out is retried this many times: seen here, a widget cell of the
#: compliance notebook sometimes never reports "idle" to papermill (~1 run in 10).
TIMEOUT_RETRIES = 1
#: Seconds a notebook kernel may take to start: papermill's 60 s default was seen to run out on
#: 2 busy cores (CI runs two reports beside other commands), failing a report that had no fault.
KERNEL_START_TIMEOUT = 240
_ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ARROW_RE = re.compile(r"^\s*-+>\s*(\d+)\s?(.*)$")


class NotebookError(FPError):
    """A notebook failed while the report ran (the notebook, its cell, the error line)."""


@dataclass(frozen=True)
class Run:
    """One notebook execution of a report.

    Attributes:
        notebook: the notebook's file stem (``01_unit_compliance``).
        name: the output file stem (``01_unit_compliance`` or ``01_unit_compliance__U07``).
        parameters: the checked parameters passed to papermill.
        unit: the unit of a per-unit run, else None.
    """

    notebook: str
    name: str
    parameters: dict[str, Any] = field(default_factory=dict)
    unit: str | None = None


# --------------------------------------------------------------------------- planning


def find_notebooks(notebooks_dir: str | os.PathLike = config.NOTEBOOKS_DIR) -> list[Path]:
    """The report's notebooks: ``NN_name.ipynb`` in ``notebooks_dir``, sorted by name."""
    return sorted(Path(notebooks_dir).glob(NOTEBOOK_GLOB))


def _safe(s: str) -> str:
    """A file-name-safe form of a unit id.

    Examples:
        >>> _safe("U07"), _safe("单位/1")
        ('U07', '_1')
    """
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s)


def plan_runs(
    notebooks: Sequence[str],
    *,
    dataset: str | os.PathLike | None = None,
    lang: str = "zh",
    params_file: str | os.PathLike | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    units: Sequence[str] = (),
    reveal_pii: bool = False,
    base: str | os.PathLike | None = None,
) -> list[Run]:
    """Every run of a report, with parameters checked before anything runs.

    Args:
        notebooks: notebook stems, in report order.
        dataset: the dataset path; None = the notebooks' default (the sample).
        lang: ``zh`` or ``en``, passed to every notebook.
        params_file: the ``--params`` override file, passed to each notebook
            through its parameter in ``PARAMS_FILE_PARAMETER``.
        overrides: per notebook stem, extra parameter values (``-p``).
        units: the unit ids of the per-unit runs of notebooks with a ``unit``
            parameter (unless ``unit`` is set by an override).
        reveal_pii: pass ``reveal_pii=True`` (only if every notebook declares it).
        base: folder that relative paths are resolved against (default: cwd).

    Raises:
        ParamError: an unknown or ill-typed parameter.
        UsageError: ``reveal_pii`` with notebooks that always mask.

    Examples:
        >>> runs = plan_runs(["01_unit_compliance"], lang="en", units=["U01", "U02"])
        >>> [(r.name, r.parameters["unit"] if r.unit else None) for r in runs]
        [('01_unit_compliance', None), ('01_unit_compliance__U01', 'U01'), ('01_unit_compliance__U02', 'U02')]
    """
    overrides = overrides or {}
    if reveal_pii:
        lacking = [nb for nb in notebooks if REVEAL_PARAMETER not in declared(nb)]
        if lacking:
            raise UsageError(
                f"报告中的笔记本（{', '.join(lacking)}）始终对姓名和身份证号脱敏（POLICY.md §7），不能使用 --reveal-pii；"
                "需要完整信息时请用对应的分析命令加 --reveal-pii",
                f"the report's notebooks ({', '.join(lacking)}) always mask names and ID numbers "
                "(POLICY.md §7); --reveal-pii is not available for reports: use the analysis command "
                "with --reveal-pii for full details",
                rule="reveal-pii-report",
            )
    runs: list[Run] = []
    for nb in notebooks:
        decl = declared(nb)
        values: dict[str, Any] = {"lang": lang}
        if dataset is not None:
            values["dataset"] = os.fspath(dataset)
        if params_file is not None and nb in PARAMS_FILE_PARAMETER:
            values[PARAMS_FILE_PARAMETER[nb]] = os.fspath(params_file)
        if reveal_pii:
            values[REVEAL_PARAMETER] = True
        values.update(overrides.get(nb, {}))
        values = {k: v for k, v in values.items() if k in decl or k in overrides.get(nb, {})}
        checked = check_parameters(nb, values, base=base)
        runs.append(Run(nb, nb, checked))
        if UNIT_PARAMETER in decl and UNIT_PARAMETER not in overrides.get(nb, {}):
            for u in units:
                runs.append(Run(nb, f"{nb}__{_safe(u)}", {**checked, UNIT_PARAMETER: u}, unit=u))
    return runs


# --------------------------------------------------------------------------- provenance


def run_time() -> tuple[str, str]:
    """The report's time (UTC, ISO 8601 to the second) and where it came from.

    ``SOURCE_DATE_EPOCH`` (reproducible builds) wins over the clock.

    Examples:
        >>> os.environ["SOURCE_DATE_EPOCH"] = "0"; run_time()
        ('1970-01-01T00:00:00Z', 'SOURCE_DATE_EPOCH')
        >>> del os.environ["SOURCE_DATE_EPOCH"]
    """
    return now_utc().strftime("%Y-%m-%dT%H:%M:%SZ"), now_source()


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _display_path(path: str | os.PathLike | None) -> str:
    """A path as shown in provenance: relative to the project when inside it (stable across clones)."""
    if path is None:
        return ""
    p = Path(path).resolve()
    try:
        return p.relative_to(config.PROJ_ROOT).as_posix()
    except ValueError:
        return p.as_posix()


def dataset_hashes(dataset: str | os.PathLike) -> dict[str, str]:
    """SHA-256 of every input file of ``dataset`` (a folder's files, or one workbook), by name."""
    p = Path(dataset)
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
        return {f.name: _sha256_file(f) for f in files}
    if p.is_file():
        return {p.name: _sha256_file(p)}
    raise DataError(
        f"找不到数据集 {p}",
        f"dataset {p} not found",
        file=str(p),
        rule="dataset-exists",
    )


def dataset_units(dataset: str | os.PathLike) -> list[str]:
    """The unit ids of the dataset's ``units`` table, sorted (for the per-unit runs)."""
    from fpanalysis.io import load_dataset

    ds = load_dataset(dataset, tables=["units"])
    if "units" not in ds:
        return []
    ids = ds["units"]["unit_id"].dropna().astype(str).str.strip()
    return sorted(set(ids[ids != ""]))


def unit_names(dataset: str | os.PathLike) -> dict[str, str]:
    """unit id -> unit name (a department's name, not personal data)."""
    from fpanalysis.io import load_dataset

    ds = load_dataset(dataset, tables=["units"])
    if "units" not in ds:
        return {}
    u = ds["units"].dropna(subset=["unit_id"])
    return {
        str(k): ("" if v != v else str(v)) for k, v in zip(u["unit_id"], u["name"], strict=True)
    }


def provenance(
    *,
    dataset: str | os.PathLike | None,
    params_file: str | os.PathLike | None,
    lang: str,
    reveal_pii: bool,
    runs: Sequence[Run],
) -> dict[str, Any]:
    """Everything a reader needs to know where a report came from (JSON-able)."""
    import altair
    import nbconvert
    import pandas
    import papermill

    from fpanalysis.core.params import describe, load_params

    when, source = run_time()
    ds_path = Path(dataset) if dataset is not None else config.SAMPLE_DIR
    params = load_params(params_file)
    pf = None
    if params_file is not None:
        p = Path(params_file)
        pf = {
            "path": _display_path(p),
            "sha256": _sha256_file(p),
            "content": p.read_text(encoding="utf-8-sig"),
        }
    return {
        "generator": "fpanalysis report",
        "version": __version__,
        "python": platform.python_version(),
        "packages": {
            "pandas": pandas.__version__,
            "altair": altair.__version__,
            "papermill": papermill.__version__,
            "nbconvert": nbconvert.__version__,
        },
        "run_time": when,
        "run_time_source": source,
        "lang": lang,
        "reveal_pii": bool(reveal_pii),
        "dataset": {
            "path": _display_path(ds_path),
            "sample": dataset is None,
            "sha256": dataset_hashes(ds_path),
        },
        "params_file": pf,
        "parameters_sha256": params.sha256,
        "parameters_overridden": sorted(params.overrides),
        "parameters": describe(params, lang=lang),
        "runs": [
            {
                "name": r.name,
                "notebook": r.notebook,
                "unit": r.unit,
                "parameters": {k: _display_param(v) for k, v in r.parameters.items()},
                "html": f"{r.name}.html",
                "ipynb": f"{r.name}.ipynb",
            }
            for r in runs
        ],
    }


def _display_param(v: Any) -> Any:
    """A parameter value for provenance: project paths relative (stable across clones)."""
    if isinstance(v, str) and Path(v).is_absolute():
        return _display_path(v)
    return v


_L = {
    "zh": {
        "prov": "运行信息 / Provenance",
        "version": "软件版本 / package version",
        "time": "运行时间（UTC） / run time (UTC)",
        "dataset": "数据集 / dataset",
        "sample": "（自带样例数据 / the bundled sample）",
        "file": "文件 / file",
        "params_file": "参数覆盖文件 / parameter override file",
        "none": "无（默认参数） / none (defaults)",
        "params_sha": "参数指纹 / parameters SHA-256",
        "overridden": "被覆盖的参数 / overridden parameters",
        "reveal": "显示完整个人信息 / --reveal-pii",
        "yes": "是 / yes",
        "no": "否（姓名和身份证号已脱敏） / no (names and ID numbers masked)",
        "nb_params": "本笔记本的参数 / this notebook's parameters",
        "name": "名称 / name",
        "value": "值 / value",
        "title": "计划生育工作分析报告 / Family-planning work-plan report",
        "reports": "报告 / Reports",
        "bureau": "全局 / whole bureau",
        "per_unit": "各单位考核 / Per unit",
        "unit": "单位 / unit",
        "in_force": "生效参数 / Parameters in force",
        "from": "生效日期 / from",
        "unit_col": "单位 / unit",
        "clause": "条款 / clause",
        "content": "覆盖文件内容 / override file content",
        "notebook_file": "已执行的笔记本 / executed notebook",
        "widget": "（交互控件：在 JupyterLab 或 Voilà 中打开笔记本即可使用 / interactive control: open the "
        "notebook in JupyterLab or Voilà to use it）",
    },
    "en": {
        "prov": "Provenance",
        "version": "package version",
        "time": "run time (UTC)",
        "dataset": "dataset",
        "sample": "(the bundled sample)",
        "file": "file",
        "params_file": "parameter override file",
        "none": "none (defaults)",
        "params_sha": "parameters SHA-256",
        "overridden": "overridden parameters",
        "reveal": "--reveal-pii",
        "yes": "yes",
        "no": "no (names and ID numbers masked)",
        "nb_params": "this notebook's parameters",
        "name": "name",
        "value": "value",
        "title": "Family-planning work-plan report",
        "reports": "Reports",
        "bureau": "whole bureau",
        "per_unit": "Per unit",
        "unit": "unit",
        "in_force": "Parameters in force",
        "from": "from",
        "unit_col": "unit",
        "clause": "clause",
        "content": "override file content",
        "notebook_file": "executed notebook",
        "widget": "(interactive control: open the notebook in JupyterLab or Voilà to use it)",
    },
}


def _md(v: Any) -> str:
    """A value for a markdown table cell (pipes and newlines escaped, HTML escaped)."""
    s = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
    return html.escape(s, quote=False).replace("|", "\\|").replace("\n", " ")


def provenance_markdown(prov: Mapping[str, Any], run: Run) -> str:
    """The provenance section appended to one executed notebook (markdown, in the report's language)."""
    L = _L[prov["lang"]]
    ds = prov["dataset"]
    rows = [
        (
            L["version"],
            f"fpanalysis {prov['version']} (Python {prov['python']}, "
            + ", ".join(f"{k} {v}" for k, v in prov["packages"].items())
            + ")",
        ),
        (L["time"], f"{prov['run_time']} ({prov['run_time_source']})"),
        (L["dataset"], ds["path"] + (" " + L["sample"] if ds["sample"] else "")),
    ]
    rows += [(f"{L['file']} {name}", f"`{sha}`") for name, sha in ds["sha256"].items()]
    pf = prov["params_file"]
    rows.append((L["params_file"], f"{pf['path']} (`{pf['sha256']}`)" if pf else L["none"]))
    rows.append((L["params_sha"], f"`{prov['parameters_sha256']}`"))
    if prov["parameters_overridden"]:
        rows.append((L["overridden"], ", ".join(prov["parameters_overridden"])))
    rows.append((L["reveal"], L["yes"] if prov["reveal_pii"] else L["no"]))
    params = next(r["parameters"] for r in prov["runs"] if r["name"] == run.name)
    out = [f"## {L['prov']}", "", "| | |", "|---|---|"]
    out += [f"| {_md(k)} | {_md(v)} |" for k, v in rows]
    out += ["", f"**{L['nb_params']}**", "", f"| {L['name']} | {L['value']} |", "|---|---|"]
    out += [f"| `{k}` | {_md(v)} |" for k, v in params.items()]
    if pf:
        out += ["", f"**{L['content']}**", "", "```yaml", pf["content"].rstrip("\n"), "```"]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- executing


def normalize_notebook(nb: Any) -> Any:
    """Make an executed notebook's bytes stable across runs (in place; also returned).

    Drops papermill's timing metadata and the saved widget state, numbers
    widget model ids in order of appearance, and joins consecutive stream
    outputs of the same stream: the kernel sends ``print(x)`` as two writes
    (``x``, then the newline) that arrive as one output or two depending on
    timing, which made the same run's bytes differ now and then.

    Examples:
        >>> import nbformat
        >>> nb = nbformat.v4.new_notebook(metadata={"papermill": {"duration": 1.5}, "widgets": {}})
        >>> c = nbformat.v4.new_code_cell("w", metadata={"papermill": {"status": "completed"}})
        >>> c.outputs = [nbformat.v4.new_output("display_data", data={WIDGET_MIME: {"model_id": "9f3a"}})]
        >>> nb.cells = [c]
        >>> nb = normalize_notebook(nb)
        >>> sorted(nb.metadata), dict(nb.cells[0].metadata), nb.cells[0].outputs[0]["data"][WIDGET_MIME]
        ([], {}, {'model_id': '00000000000000000000000000000001'})
        >>> s = nbformat.v4.new_code_cell("print('a'); print('b')")
        >>> s.outputs = [nbformat.v4.new_output("stream", name="stdout", text=t) for t in ("a", "\\n", "b\\n")]
        >>> s.outputs.append(nbformat.v4.new_output("stream", name="stderr", text="w\\n"))
        >>> nb.cells = [s]
        >>> [(o["name"], o["text"]) for o in normalize_notebook(nb).cells[0].outputs]
        [('stdout', 'a\\nb\\n'), ('stderr', 'w\\n')]
    """
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    ids: dict[str, str] = {}
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.id = "injected-parameters"  # papermill gives it a random id
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = _join_streams(cell.outputs)
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            w = data.get(WIDGET_MIME)
            if isinstance(w, dict) and "model_id" in w:
                w["model_id"] = ids.setdefault(w["model_id"], f"{len(ids) + 1:032x}")
    return nb


def _join_streams(outputs: Sequence[Any]) -> list[Any]:
    """Consecutive stream outputs of one stream (stdout, stderr) as one output."""
    joined: list[Any] = []
    for out in outputs:
        prev = joined[-1] if joined else None
        if (
            out.get("output_type") == "stream"
            and prev is not None
            and prev.get("output_type") == "stream"
            and prev.get("name") == out.get("name")
        ):
            text = out.get("text", "")
            prev["text"] = "".join(prev.get("text", "")) + "".join(text)
        else:
            joined.append(out)
    return joined


def _error_line(traceback: Sequence[str]) -> str:
    """The line of the cell where the error happened, from an IPython traceback ('line 5: f(x)')."""
    text = _ANSI_RE.sub("", "\n".join(traceback or ()))
    for line in text.splitlines():
        m = _ARROW_RE.match(line)
        if m:
            return f"{m.group(1)}: {m.group(2).strip()}"
    return ""


def _quiet_worker() -> None:
    """Worker start-up: the kernels' chatter on stderr (TCP warnings) would garble the progress bar.

    Errors are not lost: papermill reports a failing cell through its exception.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


def _execute_one(
    input_nb: str, output_path: str, parameters: dict[str, Any], cwd: str
) -> dict[str, Any] | None:
    """Run one notebook with papermill (in a worker process); return None or the error's parts."""
    import logging

    import papermill
    from papermill.exceptions import PapermillExecutionError

    logging.getLogger("papermill").setLevel(logging.ERROR)
    for attempt in range(TIMEOUT_RETRIES + 1):
        try:
            papermill.execute_notebook(
                input_nb,
                output_path,
                parameters=parameters,
                kernel_name="python3",
                cwd=cwd,
                progress_bar=False,
                log_output=False,
                execution_timeout=CELL_TIMEOUT,
                start_timeout=KERNEL_START_TIMEOUT,
            )
        except TimeoutError as exc:  # nbclient's CellTimeoutError is a TimeoutError
            if attempt < TIMEOUT_RETRIES:
                continue
            return {
                "source": "",
                "ename": "CellTimeoutError",
                "evalue": f"{exc} (> {CELL_TIMEOUT} s)",
                "line": "",
                "exec_count": None,
            }
        except PapermillExecutionError as exc:
            return {
                "source": exc.source,
                "ename": exc.ename,
                "evalue": exc.evalue,
                "line": _error_line(exc.traceback),
                "exec_count": exc.exec_count,
            }
        return None
    return None


def _notebook_error(run: Run, original: Any, err: Mapping[str, Any]) -> NotebookError:
    """A NotebookError naming the notebook, the cell (1-based, in the original notebook) and the line."""
    cell_no = next(
        (
            i + 1
            for i, c in enumerate(original.cells)
            if c.cell_type == "code" and c.source == err["source"]
        ),
        None,
    )
    if cell_no:
        where_zh, where_en = f"第 {cell_no} 个单元格", f"cell {cell_no}"
    elif err["exec_count"] is not None:
        where_zh, where_en = (
            f"执行序号 {err['exec_count']} 的单元格",
            f"the cell executed as In [{err['exec_count']}]",
        )
    else:  # a timeout: nbclient does not say which cell
        where_zh, where_en = (
            f"某个单元格（超过 {CELL_TIMEOUT} 秒未完成）",
            f"a cell (still running after {CELL_TIMEOUT} s)",
        )
    line_zh = f"（第 {err['line']}）" if err["line"] else ""
    line_en = f" (line {err['line']})" if err["line"] else ""
    evalue = str(err["evalue"]).strip().splitlines()
    evalue = evalue[0] if evalue else ""
    unit = f"（单位 {run.unit}）" if run.unit else ""
    unit_en = f" (unit {run.unit})" if run.unit else ""
    return NotebookError(
        f"笔记本 {run.notebook}.ipynb{unit} {where_zh}出错{line_zh}：{err['ename']}: {evalue}。报告未生成，原有报告保持不变",
        f"notebook {run.notebook}.ipynb{unit_en} failed in {where_en}{line_en}: {err['ename']}: {evalue}. "
        "No report was written; the previous report is unchanged",
        file=f"{run.notebook}.ipynb",
        row=cell_no,
        rule="notebook-failed",
    )


def _run_all(
    jobs_list: Sequence[tuple[Run, str, str, dict[str, Any], str]],
    jobs: int,
    on_done: Callable[[Run], None],
) -> dict[str, dict[str, Any]]:
    """Run (run, input, output, parameters, cwd) jobs on ``jobs`` processes; stop at the first error.

    Returns {run name: error parts} for the failed runs (empty when all succeeded).
    """
    if jobs <= 1:
        for run, inp, out, params, cwd in jobs_list:
            err = _execute_one(inp, out, params, cwd)
            if err:
                return {run.name: err}
            on_done(run)
        return {}
    ctx = multiprocessing.get_context("spawn")  # fork after threads (zmq, tqdm) is unsafe
    failed: dict[str, dict[str, Any]] = {}
    with cf.ProcessPoolExecutor(
        max_workers=jobs, mp_context=ctx, initializer=_quiet_worker
    ) as pool:
        futures = {
            pool.submit(_execute_one, inp, out, params, cwd): run
            for run, inp, out, params, cwd in jobs_list
        }
        try:
            for fut in cf.as_completed(futures):
                run = futures[fut]
                err = fut.result()
                if err:
                    failed[run.name] = err
                    break
                on_done(run)
        finally:
            for f in futures:
                f.cancel()
    return failed


# --------------------------------------------------------------------------- HTML


def notebook_title(nb: Any, default: str) -> str:
    """The first markdown heading of a notebook (its title).

    Examples:
        >>> import nbformat
        >>> notebook_title(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 标题 / Title\\ntext")]), "x")
        '标题 / Title'
    """
    for c in nb.cells:
        if c.cell_type == "markdown":
            for line in c.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return default


def to_html(nb: Any, title: str, lang: str = "zh") -> str:
    """The notebook as a self-contained HTML page without code (inputs and prompts hidden).

    Widget outputs are replaced by a note (no widget state or CDN script in a
    static page); MathJax and require.js are not linked (nothing is loaded
    from the network).
    """
    from nbconvert import HTMLExporter

    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    note = _L[lang]["widget"]
    for cell in nb.cells:
        outs = []
        for out in cell.get("outputs", []):
            if WIDGET_MIME in out.get("data", {}):
                out = {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {
                        "text/html": f"<p><em>{html.escape(note)}</em></p>",
                        "text/plain": note,
                    },
                }
            outs.append(out)
        if cell.cell_type == "code":
            cell.outputs = outs
    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.mathjax_url = ""
    exporter.require_js_url = ""
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    body = re.sub(r'<script[^>]*src="https?://[^"]*"[^>]*>\s*</script>\s*', "", body)
    return body.replace("<html>", f'<html lang="{"zh-CN" if lang == "zh" else "en"}">', 1)


def render_index(
    prov: Mapping[str, Any], titles: Mapping[str, str], units: Mapping[str, str]
) -> str:
    """index.html: the reports, then the provenance table and the parameters in force."""
    lang = prov["lang"]
    L = _L[lang]
    e = html.escape
    main = [r for r in prov["runs"] if not r["unit"]]
    per_unit = [r for r in prov["runs"] if r["unit"]]
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="generator" content="fpanalysis report">',
        f"<title>{e(L['title'])}</title>",
        "<style>body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;max-width:60em;margin:2em auto;"
        "padding:0 1em;color:#222}table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #bbb;"
        "padding:.25em .6em;text-align:left;vertical-align:top}th{background:#eee}code,pre{font-size:.9em}"
        "pre{background:#f6f6f6;padding:.6em;overflow:auto}@media print{a{color:#000}}</style>",
        "</head>",
        "<body>",
        f"<h1>{e(L['title'])}</h1>",
        f"<p>{e(L['time'])}: {e(prov['run_time'])} · fpanalysis {e(prov['version'])} · "
        f"{e(L['dataset'])}: <code>{e(prov['dataset']['path'])}</code></p>",
        f"<h2>{e(L['reports'])}</h2>",
        "<ul>",
    ]
    for r in main:
        parts.append(
            f'<li><a href="{e(r["html"])}">{e(titles.get(r["notebook"], r["notebook"]))}</a> '
            f'(<a href="{e(r["ipynb"])}">{e(L["notebook_file"])}</a>)</li>'
        )
    parts.append("</ul>")
    if per_unit:
        parts += [
            f"<h3>{e(L['per_unit'])}</h3>",
            "<table>",
            f"<tr><th>{e(L['unit'])}</th><th>{e(L['name'])}</th><th>{e(L['reports'])}</th></tr>",
        ]
        for r in per_unit:
            parts.append(
                f"<tr><td>{e(r['unit'])}</td><td>{e(units.get(r['unit'], ''))}</td>"
                f'<td><a href="{e(r["html"])}">{e(titles.get(r["notebook"], r["notebook"]))}</a> '
                f'(<a href="{e(r["ipynb"])}">ipynb</a>)</td></tr>'
            )
        parts.append("</table>")
    ds = prov["dataset"]
    pf = prov["params_file"]
    rows = [
        (
            L["version"],
            f"fpanalysis {prov['version']} (Python {prov['python']}, "
            + ", ".join(f"{k} {v}" for k, v in prov["packages"].items())
            + ")",
        ),
        (L["time"], f"{prov['run_time']} ({prov['run_time_source']})"),
        (L["dataset"], ds["path"] + (" " + L["sample"] if ds["sample"] else "")),
        *[(f"{L['file']} {n}", s) for n, s in ds["sha256"].items()],
        (L["params_file"], f"{pf['path']} ({pf['sha256']})" if pf else L["none"]),
        (L["params_sha"], prov["parameters_sha256"]),
        (L["overridden"], ", ".join(prov["parameters_overridden"]) or "—"),
        (L["reveal"], L["yes"] if prov["reveal_pii"] else L["no"]),
    ]
    parts += [f"<h2>{e(L['prov'])}</h2>", "<table>"]
    parts += [f"<tr><th>{e(k)}</th><td><code>{e(v)}</code></td></tr>" for k, v in rows]
    parts.append("</table>")
    if pf:
        parts += [f"<h3>{e(L['content'])}</h3>", f"<pre>{e(pf['content'])}</pre>"]
    parts += [
        f"<h3>{e(L['nb_params'])}</h3>",
        "<table>",
        f"<tr><th>{e(L['reports'])}</th><th>{e(L['name'])}</th><th>{e(L['value'])}</th></tr>",
    ]
    for r in main:
        for k, v in r["parameters"].items():
            parts.append(
                f"<tr><td>{e(r['name'])}</td><td><code>{e(k)}</code></td>"
                f"<td><code>{e(json.dumps(v, ensure_ascii=False))}</code></td></tr>"
            )
    parts.append("</table>")
    parts += [
        f"<h3>{e(L['in_force'])}</h3>",
        "<table>",
        f"<tr><th>{e(L['name'])}</th><th>{e(L['from'])}</th><th>{e(L['value'])}</th>"
        f"<th>{e(L['unit_col'])}</th><th>{e(L['clause'])}</th></tr>",
    ]
    for p in prov["parameters"]:
        mark = " *" if p["overridden"] else ""
        parts.append(
            f"<tr><td><code>{e(p['name'])}</code>{mark}</td><td>{e(p['effective_from'])}</td>"
            f"<td><code>{e(p['value'])}</code></td><td>{e(str(p['unit']))}</td><td>{e(str(p['reference']))}</td></tr>"
        )
    parts += ["</table>", "</body>", "</html>", ""]
    return "\n".join(parts)


# --------------------------------------------------------------------------- the report


def _write_text(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def _prepare_out(out: Path) -> None:
    """Refuse to replace a folder that is not a previous report."""
    if out.exists():
        if not out.is_dir():
            raise UsageError(
                f"--out {out} 已存在且不是文件夹",
                f"--out {out} exists and is not a folder",
                file=str(out),
                rule="report-out",
            )
        if any(out.iterdir()) and not (out / REPORT_MARKER).is_file():
            raise UsageError(
                f"--out {out} 已存在且不是以前生成的报告（没有 {REPORT_MARKER}）：为免覆盖其他文件，请换一个文件夹",
                f"--out {out} exists and is not a previous report (no {REPORT_MARKER}): "
                "choose another folder so that nothing else is overwritten",
                file=str(out),
                rule="report-out",
            )
    out.parent.mkdir(parents=True, exist_ok=True)


def _swap_in(build: Path, out: Path) -> None:
    """Put the finished ``build`` folder at ``out``; the old report goes only once the new one is there."""
    umask = os.umask(0)
    os.umask(umask)
    build.chmod(0o777 & ~umask)  # mkdtemp makes 0700
    if out.exists():
        if _exchange(build, out):
            # one atomic step: a run killed at any moment leaves the old report or the new one at `out`
            shutil.rmtree(build, ignore_errors=True)
            return
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        out.replace(old / "report")
        build.replace(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        build.replace(out)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False where that is not available (another OS, an old kernel or C
    library, a file system without it); the caller then renames twice, which
    leaves a moment with no report at ``out`` (the old one is kept under a
    ``.NAME.old-*`` folder until the new one is in place).
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    renameat2.restype = ctypes.c_int
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


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

    Returns:
        The report folder.

    Raises:
        ParamError: unknown or ill-typed parameters (before anything runs).
        NotebookError: a notebook failed (the previous report is kept).
    """
    import nbformat
    from tqdm import tqdm

    from fpanalysis.report.notebook_params import parse_assignments

    out = Path(out)
    if lang not in ("zh", "en"):
        raise UsageError(
            f"语言应为 zh 或 en，而不是 {lang!r}",
            f"lang must be zh or en, not {lang!r}",
            value=lang,
            rule="lang",
        )
    if dataset is not None and not Path(dataset).exists():
        raise DataError(
            f"找不到数据集 {dataset}",
            f"dataset {dataset} not found",
            file=str(dataset),
            rule="dataset-exists",
        )
    if params_file is not None and not Path(params_file).is_file():
        raise UsageError(
            f"找不到参数文件 {params_file}",
            f"parameter file {params_file} not found",
            file=str(params_file),
            rule="params-file-exists",
        )
    paths = {p.stem: p for p in find_notebooks(notebooks_dir)}
    if notebooks is not None:
        wanted = []
        for n in notebooks:
            hit = [s for s in paths if s == n or s.split("_", 1)[0] == n]
            if not hit:
                raise UsageError(
                    f"没有笔记本 {n}；可选：{', '.join(paths)}",
                    f"no notebook {n}; choose from {', '.join(paths)}",
                    value=n,
                    rule="notebook-unknown",
                )
            wanted += [s for s in hit if s not in wanted]
        paths = {s: paths[s] for s in sorted(wanted)}
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
    runs = plan_runs(
        list(paths),
        dataset=dataset,
        lang=lang,
        params_file=params_file,
        overrides=overrides,
        units=units,
        reveal_pii=reveal_pii,
    )
    prov = provenance(
        dataset=dataset, params_file=params_file, lang=lang, reveal_pii=reveal_pii, runs=runs
    )
    _prepare_out(out)

    build = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        work = build / ".inputs"
        work.mkdir()
        originals = {s: nbformat.read(p, as_version=4) for s, p in paths.items()}
        jobs_list = []
        for run in runs:
            nb = copy.deepcopy(originals[run.notebook])
            cell = nbformat.v4.new_markdown_cell(provenance_markdown(prov, run))
            cell.metadata["tags"] = ["provenance"]
            cell.id = "provenance"  # a fixed id: stable bytes
            nb.cells.append(cell)
            inp = work / f"{run.name}.ipynb"
            nbformat.write(nb, inp)
            jobs_list.append(
                (run, str(inp), str(build / f"{run.name}.ipynb"), run.parameters, str(build))
            )
        bar = tqdm(
            total=len(runs),
            file=sys.stderr,
            disable=not progress,
            desc="报告 report",
            unit="nb",
            mininterval=0.5,
        )
        start = time.monotonic()

        def done(run: Run) -> None:
            bar.set_postfix_str(run.name, refresh=False)
            bar.update(1)

        try:
            failed = _run_all(jobs_list, jobs, done)
        finally:
            bar.close()
        if failed:
            name, err = next(iter(failed.items()))
            run = next(r for r in runs if r.name == name)
            raise _notebook_error(run, originals[run.notebook], err)
        shutil.rmtree(work)
        titles = {s: notebook_title(nb, s) for s, nb in originals.items()}
        for run in runs:
            path = build / f"{run.name}.ipynb"
            nb = normalize_notebook(nbformat.read(path, as_version=4))
            nbformat.write(nb, path)
            title = titles[run.notebook] + (f" — {run.unit}" if run.unit else "")
            _write_text(build / f"{run.name}.html", to_html(nb, title, lang))
        names = unit_names(ds_path) if units else {}
        _write_text(build / "index.html", render_index(prov, titles, names))
        _write_text(
            build / REPORT_MARKER,
            json.dumps(prov, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
        )
        prov_elapsed = time.monotonic() - start
        _swap_in(build, out)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    if progress:
        print(f"{len(runs)} 个笔记本 notebooks, {prov_elapsed:.0f} s", file=sys.stderr)
    return out


# --------------------------------------------------------------------------- make notebooks


def refresh_notebooks(
    paths: Sequence[str | os.PathLike] | None = None, *, jobs: int = 2, progress: bool = True
) -> list[Path]:
    """Re-execute the committed notebooks in place with their default parameters (``make notebooks``).

    Each runs in its own folder (``notebooks/``), is normalised (see
    :func:`normalize_notebook`) and replaces the file only when it succeeded.

    Raises:
        NotebookError: a notebook failed (that file is left unchanged).
    """
    import nbformat
    from tqdm import tqdm

    nbs = [Path(p).resolve() for p in paths] if paths else find_notebooks(config.NOTEBOOKS_DIR)
    tmp = Path(tempfile.mkdtemp(prefix=".refresh-", dir=nbs[0].parent)) if nbs else None
    try:
        jobs_list = []
        for p in nbs:
            run = Run(p.stem, p.stem, {})
            jobs_list.append((run, str(p), str(tmp / p.name), {}, str(p.parent)))
        bar = tqdm(
            total=len(nbs), file=sys.stderr, disable=not progress, desc="notebooks", unit="nb"
        )
        try:
            failed = _run_all(jobs_list, jobs, lambda run: bar.update(1))
        finally:
            bar.close()
        if failed:
            name, err = next(iter(failed.items()))
            p = next(p for p in nbs if p.stem == name)
            raise _notebook_error(Run(name, name, {}), nbformat.read(p, as_version=4), err)
        for p in nbs:
            nb = normalize_notebook(nbformat.read(tmp / p.name, as_version=4))
            nbformat.write(nb, tmp / p.name)
            (tmp / p.name).replace(p)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return nbs


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m fpanalysis.report refresh [NOTEBOOK ...]`` — used by ``make notebooks``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m fpanalysis.report")
    parser.add_argument("action", choices=["refresh"])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    try:
        refresh_notebooks(args.notebooks or None, jobs=args.jobs)
    except FPError as exc:
        print(f"错误 error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
