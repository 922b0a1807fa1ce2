"""What the notebooks' cells call to show their results to a reader: the page's stylesheet and
chart renderer (:func:`setup`), the 结论 box, tables through :func:`fpanalysis.charts.tables.
table_html` (names masked first, rulebook §7; a long table cut to its top rows, with the full
table written as CSV when the run has a tables folder), short notes, and the closing
"运行信息（审计用）/ run information (audit)" section with the parameters' help."""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from fpanalysis.charts.tables import findings_html, style_tag, table_html
from fpanalysis.core.privacy import mask_frame
from fpanalysis.rules.findings import Findings, Line

#: Rows a long table shows before it is cut.
TOP_ROWS = 20
AUDIT_TITLE = "运行信息（审计用）/ run information (audit)"


def _display(markup: str) -> None:
    from IPython.display import HTML, display

    display(HTML(markup))


def setup() -> None:
    """The notebook's chart renderer (SVG with a PNG beside it) and the tables' stylesheet."""
    from fpanalysis.charts import render

    render.enable()
    _display(style_tag())


def findings_path(tables_dir: str | Path, name: str) -> Path:
    """Where a run leaves its conclusion for the report's front page."""
    return Path(tables_dir) / f"{name}.findings.json"


def save_findings(findings: Findings, path: Path) -> None:
    """Write a conclusion as JSON (figures and both languages' lines; stable bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = dataclasses.asdict(findings)
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True, default=str)
    path.write_text(text + "\n", encoding="utf-8")


def load_findings(path: Path) -> Findings:
    """A conclusion written by :func:`save_findings`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    lines = tuple(Line(**ln) for ln in data.pop("lines"))
    return Findings(lines=lines, **data)


def box(findings: Findings, lang: str = "zh", *, name: str = "", tables_dir: str = "") -> None:
    """Show the 结论 box; with a tables folder, also leave it there for the front page."""
    if name and tables_dir:
        save_findings(findings, findings_path(tables_dir, name))
    _display(findings_html(findings, lang))


def note(zh: str, en: str, lang: str = "zh") -> None:
    """Show one short line in the chosen language."""
    _display(f'<p class="fp-note">{html.escape(zh if lang == "zh" else en)}</p>')


def heading(text: str, level: int = 2) -> None:
    """Show a heading computed by the notebook (a unit's name)."""
    _display(f"<h{level}>{html.escape(text)}</h{level}>")


def write_full(
    df: pd.DataFrame, name: str, tables_dir: str, lang: str, reveal: bool, table: str | None = None
) -> str:
    """Write every row of a table as CSV (UTF-8 with BOM, masked, headers in ``lang``) into
    ``tables_dir``; return the link relative to the notebook's folder."""
    from fpanalysis.io import write_table

    path = Path(tables_dir) / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_table(mask_frame(df.reset_index(drop=True), reveal=reveal), path, lang=lang, table=table)
    return Path(tables_dir, f"{name}.csv").as_posix()


def table(
    df: pd.DataFrame,
    lang: str = "zh",
    *,
    table: str | None = None,
    reveal: bool = False,
    top: int | None = None,
    keep: Sequence[int] | None = None,
    mark: Iterable[int] = (),
    name: str | None = None,
    tables_dir: str = "",
    headers: Mapping[str, str] | None = None,
    caption: str | None = None,
) -> None:
    """Show a table people read: masked (unless ``reveal``), no index, cut to ``top`` rows (or
    the positions in ``keep``) with every row written to ``tables_dir/name.csv`` when a tables
    folder is given."""
    df = df.reset_index(drop=True)
    if top is not None and keep is None and len(df) > top:
        keep = range(top)
    full = None
    if keep is not None and name and tables_dir and len(df) > len(list(keep)):
        full = write_full(df, name, tables_dir, lang, reveal, table)
    masked = mask_frame(df, reveal=reveal)
    _display(
        table_html(
            masked,
            lang,
            table=table,
            keep=keep,
            mark=mark,
            full_file=full,
            headers=headers,
            caption=caption,
        )
    )


def audit(notebook: str, values: Mapping[str, Any], lang: str = "zh") -> None:
    """The closing audit section: each parameter's value and what it means (collapsed)."""
    from fpanalysis.report.notebook_params import NOTEBOOKS

    e = html.escape
    rows = []
    for k, p in NOTEBOOKS.get(notebook, {}).items():
        v = values.get(k, p.default)
        shown = "—" if v in ("", None) else (v if isinstance(v, str) else repr(v))
        if isinstance(v, str) and Path(v).is_absolute():
            shown = Path(v).name
        helptext = p.help_zh if lang == "zh" else p.help_en
        rows.append(
            f"<tr><td><code>{e(k)}</code></td><td>{e(str(shown))}</td><td>{e(helptext)}</td></tr>"
        )
    head = "<tr><th>参数 parameter</th><th>值 value</th><th>说明 meaning</th></tr>"
    _display(
        f'<details class="fp-audit"><summary>{AUDIT_TITLE}</summary>'
        f'<table class="fp-table">{head}{"".join(rows)}</table></details>'
    )
