"""A report's HTML pages: each executed notebook without code (nbconvert, inputs and prompts
hidden, the dashboard cells left out, nothing loaded from the network: no script or style from
a CDN, no mermaid) and ``index.html``, the front page: each analysis's 结论 box, the units with
their names and coloured grades, the links, and the provenance collapsed at the end."""

from __future__ import annotations

import copy
import html
import json
import re
from collections.abc import Mapping
from typing import Any

from fpanalysis.charts.tables import CSS, findings_html
from fpanalysis.report.labels import LABELS
from fpanalysis.report.normalize import WIDGET_MIME
from fpanalysis.report.provenance import provenance_rows
from fpanalysis.rules.findings import Findings, grade_label

#: Cells with this tag (the dashboards and their headings) are live only: not in the HTML pages.
DASHBOARD_TAG = "dashboard"
_PAGE_CSS = (
    "body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;max-width:64em;"
    "margin:2em auto;padding:0 1em;color:#222}table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left;vertical-align:top}"
    "th{background:#eee}code,pre{font-size:.9em}pre{background:#f6f6f6;padding:.6em;"
    "overflow:auto}details{margin:1.5em 0}summary{cursor:pointer;font-weight:600}"
    "@media print{a{color:#000}details>*{display:block}}"
    "@page{size:A4;margin:14mm 12mm}"
)
_STYLE = f"<style>{_PAGE_CSS}\n{CSS}</style>"
#: nbconvert's pages: the tables' stylesheet and print set-up (A4, nothing cut at the edge).
_NB_STYLE = (
    f"<style>{CSS}\n.jp-Notebook{{max-width:72em;margin:0 auto}}"
    "@page{size:A4;margin:12mm 10mm}@media print{.jp-OutputArea-output img{max-width:100%}}"
    "</style>"
)
_STYLE_BLOCK = re.compile(r"<style[^>]*>.*?</style>", re.S)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_MODULE_SCRIPT = re.compile(
    r'<script type="module">(?:(?!</script>).)*?mermaid.*?</script>\s*', re.S
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


def live_only(cell: Any) -> bool:
    """A cell that only makes sense with a kernel (tagged ``dashboard``)."""
    return DASHBOARD_TAG in cell.get("metadata", {}).get("tags", [])


def to_html(nb: Any, title: str, lang: str = "zh") -> str:
    """The notebook as a self-contained HTML page without code (inputs and prompts hidden).

    Dashboard cells (tagged ``dashboard``) and any other widget output are left out (a static
    page has no kernel); MathJax, require.js and mermaid are not linked (nothing is loaded
    from the network).
    """
    from nbconvert import HTMLExporter

    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    nb.cells = [c for c in nb.cells if not live_only(c)]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if WIDGET_MIME not in o.get("data", {})]
    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.mathjax_url = ""
    exporter.require_js_url = ""
    exporter.mermaid_js_url = ""
    exporter.mermaid_layout_elk_js_url = ""
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    body = re.sub(r'<script[^>]*src="https?://[^"]*"[^>]*>\s*</script>\s*', "", body)
    body = re.sub(r'<link[^>]*href="https?://[^"]*"[^>]*>\s*', "", body)
    body = _MODULE_SCRIPT.sub("", body)
    # the lab stylesheet's comments cite web pages; a page for an intranet names none
    body = _STYLE_BLOCK.sub(lambda m: _CSS_COMMENT.sub("", m.group(0)), body)
    body = body.replace("</head>", _NB_STYLE + "\n</head>", 1)
    return body.replace("<html>", f'<html lang="{_html_lang(lang)}">', 1)


def page(title: str, lang: str, body: str) -> str:
    """A standalone page of the report (the front page, a unit's page) around ``body``."""
    e = html.escape
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{_html_lang(lang)}">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="generator" content="fpanalysis report">',
            f"<title>{e(title)}</title>",
            _STYLE,
            "</head>",
            "<body>",
            body,
            "</body>",
            "</html>",
            "",
        ]
    )


def _unit_rows(units: Mapping[str, Mapping[str, Any]], per_unit: list, lang: str) -> list[str]:
    e = html.escape
    L = LABELS[lang]
    rows = [
        '<table class="fp-table">',
        f"<tr><th>{e(L['unit'])}</th><th>{e(L['name'])}</th><th>{e(L['grade'])}</th>"
        f"<th>{e(L['score'])}</th><th>{e(L['reports'])}</th></tr>",
    ]
    order = sorted(
        per_unit,
        key=lambda r: (-(units.get(r["unit"], {}).get("score") or 0.0), r["unit"]),
    )
    for r in order:
        u = units.get(r["unit"], {})
        name = u.get("name") or ""
        grade = u.get("grade")
        tone = {"excellent": "good", "pass": "info", "fail": "bad"}.get(grade, "")
        veto = " ×" if u.get("veto") else ""
        grade_text = (grade_label(grade, lang) + veto) if grade else "—"
        score = f"{u['score']:.2f}" if u.get("score") is not None else "—"
        link = f"{r['unit']} {name}".strip() + (" 单位报告" if lang == "zh" else " report")
        rows.append(
            f"<tr><td>{e(r['unit'])}</td><td>{e(name)}</td>"
            f'<td class="tone-{tone}">{e(grade_text)}</td><td class="num">{e(score)}</td>'
            f'<td><a href="{e(r["html"])}">{e(link)}</a></td></tr>'
        )
    rows.append("</table>")
    return rows


def render_index(
    prov: Mapping[str, Any],
    titles: Mapping[str, str],
    units: Mapping[str, Any],
    conclusions: Mapping[str, Findings] | None = None,
) -> str:
    """index.html: each analysis's 结论 box with its link, the units (name, coloured grade, score,
    a link each), then the provenance and the parameters in force, collapsed.

    Args:
        units: unit id -> ``{"name", "grade", "score", "veto"}`` (or just the name).
        conclusions: notebook stem -> its findings (the box at the top of its report).
    """
    lang = prov["lang"]
    L = LABELS[lang]
    e = html.escape
    conclusions = conclusions or {}
    units = {k: (v if isinstance(v, Mapping) else {"name": v}) for k, v in units.items()}
    main = [r for r in prov["runs"] if not r["unit"]]
    per_unit = [r for r in prov["runs"] if r["unit"]]
    parts = [
        f"<h1>{e(L['title'])}</h1>",
        f'<p class="fp-note">{e(L["time"])}: {e(prov["run_time"])} · '
        f"{e(L['dataset'])}: {e(prov['dataset']['path'])}</p>",
    ]
    for r in main:
        title = titles.get(r["notebook"], r["notebook"])
        parts.append(f'<h2><a href="{e(r["html"])}">{e(title)}</a></h2>')
        if r["notebook"] in conclusions:
            parts.append(findings_html(conclusions[r["notebook"]], lang))
        if per_unit and any(u["notebook"] == r["notebook"] for u in per_unit):
            parts.append(f"<h3>{e(L['per_unit'])}</h3>")
            parts += _unit_rows(
                units, [u for u in per_unit if u["notebook"] == r["notebook"]], lang
            )
        parts.append(
            f'<p class="fp-note"><a href="{e(r["html"])}">{e(L["open_report"])}</a> · '
            f'<a href="{e(r["ipynb"])}">{e(L["notebook_file"])}</a></p>'
        )
    pf = prov["params_file"]
    rows = provenance_rows(prov, markdown=False)
    parts += [
        f"<details><summary>{e(L['audit'])}</summary>",
        f"<h2>{e(L['prov'])}</h2>",
        "<table>",
    ]
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
    parts += ["</table>", "</details>"]
    return page(L["title"], lang, "\n".join(parts))
