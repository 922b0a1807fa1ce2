"""A report's provenance: package and library versions, the run time (``SOURCE_DATE_EPOCH`` when
set, so reruns are byte-identical), the dataset's SHA-256 per file, the parameter override file
with its content and hash, the parameters in force, each run's parameters and whether personal
information was revealed; as JSON and as the markdown section appended to each notebook."""

from __future__ import annotations

import html
import json
import os
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fpanalysis import __version__
from fpanalysis.core import config
from fpanalysis.core.clock import now_source, now_utc
from fpanalysis.core.errors import DataError
from fpanalysis.io import sha256_file
from fpanalysis.report.labels import LABELS
from fpanalysis.report.plan import Run


def run_time() -> tuple[str, str]:
    """The report's time (UTC, ISO 8601 to the second) and where it came from.

    ``SOURCE_DATE_EPOCH`` (reproducible builds) wins over the clock.

    Examples:
        >>> os.environ["SOURCE_DATE_EPOCH"] = "0"; run_time()
        ('1970-01-01T00:00:00Z', 'SOURCE_DATE_EPOCH')
        >>> del os.environ["SOURCE_DATE_EPOCH"]
    """
    return now_utc().strftime("%Y-%m-%dT%H:%M:%SZ"), now_source()


def display_path(path: str | os.PathLike | None) -> str:
    """A path as shown in provenance: relative to the project when inside it."""
    if path is None:
        return ""
    p = Path(path).resolve()
    try:
        return p.relative_to(config.PROJ_ROOT).as_posix()
    except ValueError:
        return p.as_posix()


def _display_param(v: Any) -> Any:
    """A parameter value for provenance: project paths relative (stable across clones)."""
    if isinstance(v, str) and Path(v).is_absolute():
        return display_path(v)
    return v


def dataset_hashes(dataset: str | os.PathLike) -> dict[str, str]:
    """SHA-256 of every input file of ``dataset`` (a folder's files, or one workbook), by name."""
    p = Path(dataset)
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
        return {f.name: sha256_file(f) for f in files}
    if p.is_file():
        return {p.name: sha256_file(p)}
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
    drawn: Sequence[str] = (),
) -> dict[str, Any]:
    """Everything a reader needs to know where a report came from (JSON-able).

    ``drawn`` names the runs whose page the package draws (a unit's page): they have no
    executed notebook (``ipynb`` is None).
    """
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
            "path": display_path(p),
            "sha256": sha256_file(p),
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
            "path": display_path(ds_path),
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
                "ipynb": None if r.name in drawn else f"{r.name}.ipynb",
            }
            for r in runs
        ],
    }


def provenance_rows(prov: Mapping[str, Any], *, markdown: bool) -> list[tuple[str, str]]:
    """The provenance table's (label, value) rows, hashes in backticks for markdown.

    Markdown (a notebook's section) lists the overridden parameters only when
    there are any; the index page always shows the row.
    """
    L = LABELS[prov["lang"]]
    ds, pf = prov["dataset"], prov["params_file"]

    def code(s: str) -> str:
        return f"`{s}`" if markdown else s

    rows = [
        (
            L["version"],
            f"fpanalysis {prov['version']} (Python {prov['python']}, "
            + ", ".join(f"{k} {v}" for k, v in prov["packages"].items())
            + ")",
        ),
        (L["time"], f"{prov['run_time']} ({prov['run_time_source']})"),
        (L["dataset"], ds["path"] + (" " + L["sample"] if ds["sample"] else "")),
        *[(f"{L['file']} {name}", code(sha)) for name, sha in ds["sha256"].items()],
        (L["params_file"], f"{pf['path']} ({code(pf['sha256'])})" if pf else L["none"]),
        (L["params_sha"], code(prov["parameters_sha256"])),
    ]
    if prov["parameters_overridden"] or not markdown:
        rows.append((L["overridden"], ", ".join(prov["parameters_overridden"]) or "—"))
    rows.append((L["reveal"], L["yes"] if prov["reveal_pii"] else L["no"]))
    return rows


def _cell(v: Any) -> str:
    """A value for an HTML table cell (escaped; non-text as JSON)."""
    s = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
    return html.escape(s.replace("`", ""), quote=False)


def provenance_markdown(prov: Mapping[str, Any], run: Run) -> str:
    """The provenance section of one executed notebook: a collapsed ``<details>`` block (HTML,
    which a markdown cell shows as it is), in the report's language."""
    L = LABELS[prov["lang"]]
    pf = prov["params_file"]
    params = next(r["parameters"] for r in prov["runs"] if r["name"] == run.name)
    out = [
        "<details>",
        f"<summary>{html.escape(L['audit'])} · {html.escape(L['prov'])}</summary>",
        "",
        "<table>",
    ]
    out += [
        f"<tr><th>{_cell(k)}</th><td>{_cell(v)}</td></tr>"
        for k, v in provenance_rows(prov, markdown=True)
    ]
    out += ["</table>", f"<p><b>{html.escape(L['nb_params'])}</b></p>", "<table>"]
    out.append(f"<tr><th>{html.escape(L['name'])}</th><th>{html.escape(L['value'])}</th></tr>")
    out += [
        f"<tr><td><code>{_cell(k)}</code></td><td>{_cell(v)}</td></tr>" for k, v in params.items()
    ]
    out.append("</table>")
    if pf:
        out += [
            f"<p><b>{html.escape(L['content'])}</b></p>",
            f"<pre>{html.escape(pf['content'].rstrip(chr(10)))}</pre>",
        ]
    out.append("</details>")
    return "\n".join(out) + "\n"
