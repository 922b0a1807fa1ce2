"""Planning a report: the notebooks to run (``NN_name.ipynb``, chosen by stem or number prefix)
and every run of them, the compliance notebook once for the bureau and once per unit, with
parameters checked against their declaration before anything runs."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fpanalysis.core import config
from fpanalysis.core.errors import UsageError
from fpanalysis.report.notebook_params import (
    PARAMS_FILE_PARAMETER,
    REPORT_TABLES_DIR,
    UNIT_PARAMETER,
    check_parameters,
    declared,
    notebooks_named,
)

NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
REVEAL_PARAMETER = "reveal_pii"


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


def find_notebooks(notebooks_dir: str | os.PathLike = config.NOTEBOOKS_DIR) -> list[Path]:
    """The report's notebooks: ``NN_name.ipynb`` in ``notebooks_dir``, sorted by name."""
    return sorted(Path(notebooks_dir).glob(NOTEBOOK_GLOB))


def select_notebooks(paths: Mapping[str, Path], notebooks: Sequence[str] | None) -> dict[str, Path]:
    """The notebooks named (stems or number prefixes), in name order; None = all of them.

    Raises:
        UsageError: a name that designates no notebook.
    """
    if notebooks is None:
        return dict(paths)
    wanted: list[str] = []
    for n in notebooks:
        hit = notebooks_named(n, list(paths), error=UsageError)
        wanted += [s for s in hit if s not in wanted]
    return {s: paths[s] for s in sorted(wanted)}


def safe_name(s: str) -> str:
    """A file-name-safe form of a unit id, one per id whatever the ids are.

    An id of ASCII letters, digits, ``_``, ``.`` and ``-`` is its own name; any
    other (Chinese text, a ``/``, a name too long for a file system, one that
    differs from another only by case) keeps its safe characters (at most 40)
    and gets 10 hex digits of its SHA-256, so that two units never share a page.

    Examples:
        >>> safe_name("U07"), safe_name("单位/1")
        ('U07', '_1_cf478d9371')
        >>> safe_name("办公室") != safe_name("财务股")
        True
    """
    import hashlib

    if re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}", s) and s == s.upper():
        return s
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", s)[:40]
    return f"{stem}_{hashlib.sha256(s.encode('utf-8')).hexdigest()[:10]}"


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
        >>> for r in runs:
        ...     print(r.name, r.parameters["unit"] if r.unit else None)
        01_unit_compliance None
        01_unit_compliance__U01 U01
        01_unit_compliance__U02 U02
    """
    overrides = overrides or {}
    if reveal_pii:
        lacking = [nb for nb in notebooks if REVEAL_PARAMETER not in declared(nb)]
        if lacking:
            raise UsageError(
                f"报告中的笔记本（{', '.join(lacking)}）始终对姓名和身份证号脱敏（rulebook §7），"
                "不能使用 --reveal-pii；需要完整信息时请用对应的分析命令加 --reveal-pii",
                f"the report's notebooks ({', '.join(lacking)}) always mask names and ID numbers "
                "(rulebook §7); --reveal-pii is not available for reports: use the analysis "
                "command with --reveal-pii for full details",
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
        if "tables_dir" in decl:
            values["tables_dir"] = REPORT_TABLES_DIR
        values.update(overrides.get(nb, {}))
        values = {k: v for k, v in values.items() if k in decl or k in overrides.get(nb, {})}
        checked = check_parameters(nb, values, base=base)
        runs.append(Run(nb, nb, checked))
        if UNIT_PARAMETER in decl and UNIT_PARAMETER not in overrides.get(nb, {}):
            for u in units:
                runs.append(
                    Run(nb, f"{nb}__{safe_name(u)}", {**checked, UNIT_PARAMETER: u}, unit=u)
                )
    return runs
