"""Running notebooks with papermill, on separate processes when more than one at a time
(papermill changes the process's working directory, so threads would race); a cell that hangs
is retried once; a failing notebook stops the run with a :class:`NotebookError` naming the
notebook, the cell and the line of the error."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fpanalysis.core.errors import FPError
from fpanalysis.report.plan import Run

#: seconds one cell may run before the run is stopped as hung (a report cell takes seconds).
CELL_TIMEOUT = int(os.environ.get("FPANALYSIS_CELL_TIMEOUT", "120"))
#: a run whose cell timed out, or whose kernel died while starting (:data:`KERNEL_DIED`), is
#: retried this many times in all: seen here, a widget cell of the compliance notebook sometimes
#: never reports "idle" to papermill (~1 run in 10).
TIMEOUT_RETRIES = 1
#: Seconds a notebook kernel may take to start: papermill's 60 s default was seen to run out on
#: 2 busy cores (CI runs two reports beside other commands), failing a report that had no fault.
KERNEL_START_TIMEOUT = 240
#: What jupyter_client says of a kernel that died while starting. Seen once in CI: two kernels
#: started at once by the parallel tests, and one found the port it had been given taken
#: (``zmq.error.ZMQError: Address already in use``); a new start picks new ports.
KERNEL_DIED = "Kernel died before replying to kernel_info"
_ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ARROW_RE = re.compile(r"^\s*-+>\s*(\d+)\s?(.*)$")

#: one notebook to run: the run, the input notebook, the output notebook, parameters, cwd
Job = tuple[Run, str, str, dict[str, Any], str]


class NotebookError(FPError):
    """A notebook failed while the report ran (the notebook, its cell, the error line)."""


def _error_line(traceback: Sequence[str]) -> str:
    """The line of the cell where the error happened, from an IPython traceback ('5: f(x)')."""
    text = _ANSI_RE.sub("", "\n".join(traceback or ()))
    for line in text.splitlines():
        m = _ARROW_RE.match(line)
        if m:
            return f"{m.group(1)}: {m.group(2).strip()}"
    return ""


def _quiet_worker() -> None:
    """Worker start-up: silence the kernels' chatter on stderr (it garbles the progress bar).

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
        except RuntimeError as exc:  # a kernel that died while starting is started once more
            if KERNEL_DIED in str(exc) and attempt < TIMEOUT_RETRIES:
                continue
            raise
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


def notebook_error(run: Run, original: Any, err: Mapping[str, Any]) -> NotebookError:
    """A NotebookError naming the notebook, the cell (1-based, in the original) and the line."""
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
        f"笔记本 {run.notebook}.ipynb{unit} {where_zh}出错{line_zh}：{err['ename']}: {evalue}。"
        "报告未生成，原有报告保持不变",
        f"notebook {run.notebook}.ipynb{unit_en} failed in {where_en}{line_en}: "
        f"{err['ename']}: {evalue}. No report was written; the previous report is unchanged",
        file=f"{run.notebook}.ipynb",
        row=cell_no,
        rule="notebook-failed",
    )


def run_all(
    jobs_list: Sequence[Job], jobs: int, on_done: Callable[[Run], None]
) -> dict[str, dict[str, Any]]:
    """Run the jobs on ``jobs`` processes; stop at the first error.

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
