"""``make notebooks``: the committed notebooks re-executed in place with their default
parameters, each in ``notebooks/``, normalised, and replaced only when it succeeded
(``python -m fpanalysis.report refresh [NOTEBOOK ...]``)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from fpanalysis.core import config
from fpanalysis.core.errors import FPError
from fpanalysis.report.execute import notebook_error, run_all
from fpanalysis.report.normalize import normalize_notebook
from fpanalysis.report.plan import Run, find_notebooks


def refresh_notebooks(
    paths: Sequence[str | os.PathLike] | None = None, *, jobs: int = 2, progress: bool = True
) -> list[Path]:
    """Re-execute the committed notebooks in place with their default parameters.

    Each runs in its own folder (``notebooks/``), is normalised (see
    :func:`~fpanalysis.report.normalize.normalize_notebook`) and replaces the
    file only when it succeeded.

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
            failed = run_all(jobs_list, jobs, lambda run: bar.update(1))
        finally:
            bar.close()
        if failed:
            name, err = next(iter(failed.items()))
            p = next(p for p in nbs if p.stem == name)
            raise notebook_error(Run(name, name, {}), nbformat.read(p, as_version=4), err)
        for p in nbs:
            nb = normalize_notebook(nbformat.read(tmp / p.name, as_version=4))
            nbformat.write(nb, tmp / p.name)
            (tmp / p.name).replace(p)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return nbs


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m fpanalysis.report refresh [NOTEBOOK ...]``, used by ``make notebooks``."""
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
