"""A report's HTML pages: each executed notebook without code (nbconvert, inputs and prompts
hidden, a widget replaced by a note that it is live in JupyterLab or Voilà, nothing loaded from
the network) and ``index.html``, the links to every report with the provenance table."""

from __future__ import annotations

import copy
import html
import json
import re
from collections.abc import Mapping
from typing import Any

from fpanalysis.report.labels import LABELS
from fpanalysis.report.normalize import WIDGET_MIME
from fpanalysis.report.provenance import provenance_rows

_STYLE = (
    "<style>body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;max-width:60em;"
    "margin:2em auto;padding:0 1em;color:#222}table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left;vertical-align:top}"
    "th{background:#eee}code,pre{font-size:.9em}pre{background:#f6f6f6;padding:.6em;"
    "overflow:auto}@media print{a{color:#000}}</style>"
)


def _html_lang(lang: str) -> str:
    return "zh-CN" if lang == "zh" else "en"


def notebook_title(nb: Any, default: str) -> str:
    """The first markdown heading of a notebook (its title).

    Examples:
        >>> import nbformat
        >>> cell = nbformat.v4.new_markdown_cell("# 标题 / Title\\ntext")
        >>> notebook_title(nbformat.v4.new_notebook(cells=[cell]), "x")
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
    note = LABELS[lang]["widget"]
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
    return body.replace("<html>", f'<html lang="{_html_lang(lang)}">', 1)


def render_index(
    prov: Mapping[str, Any], titles: Mapping[str, str], units: Mapping[str, str]
) -> str:
    """index.html: the reports, then the provenance table and the parameters in force."""
    lang = prov["lang"]
    L = LABELS[lang]
    e = html.escape
    main = [r for r in prov["runs"] if not r["unit"]]
    per_unit = [r for r in prov["runs"] if r["unit"]]
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{_html_lang(lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="generator" content="fpanalysis report">',
        f"<title>{e(L['title'])}</title>",
        _STYLE,
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
    pf = prov["params_file"]
    rows = provenance_rows(prov, markdown=False)
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
            f"<td><code>{e(p['value'])}</code></td><td>{e(str(p['unit']))}</td>"
            f"<td>{e(str(p['reference']))}</td></tr>"
        )
    parts += ["</table>", "</body>", "</html>", ""]
    return "\n".join(parts)
