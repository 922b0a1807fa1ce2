"""Tables and conclusion boxes as people read them, in static HTML: no index column and no
truncation marks, money as ``#,##0.00 元``, rates as percentages, ``—`` for a blank, codes,
grades and yes/no in the chosen language (the labels of :mod:`fpanalysis.core.schema`), long
tables cut to the rows that matter with the count of the rest and a link to the full file, and
the 结论 box of :class:`~fpanalysis.rules.findings.Findings`. The same bytes for the same
frame (no ids, no clock), so reports stay byte-identical; nothing is loaded from anywhere."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core import schema
from fpanalysis.rules.findings import BLANK, Findings, missing, money_cell, pct

#: Columns shown as percentages (rates 0–1).
PERCENT_COLUMNS = frozenset(
    {"baseline_coverage", "followup_coverage", "feedback_timeliness", "check_attendance", "uptake"}
)
#: Grade and selection codes coloured in a table (a class on the cell).
TONE_CELLS = {
    "grade": {"excellent": "good", "pass": "info", "fail": "bad"},
    "selection": {"continuing": "info", "admitted": "good", "waiting": "warn"},
}
#: The stylesheet of tables and boxes (inlined in every page and widget that shows them).
CSS = """
.fp-box{border:2px solid #2c7bb6;border-radius:6px;padding:.6em 1em;margin:1em 0;
 background:#f4f9fd;max-width:60em}
.fp-box h2{margin:.1em 0 .4em;font-size:1.25em;border:0}
.fp-box ul{margin:0;padding-left:1.2em}.fp-box li{margin:.25em 0;line-height:1.5}
.fp-box li.tone-bad{color:#a50f15;font-weight:600}.fp-box li.tone-warn{color:#8a4b08}
.fp-box li.tone-good{color:#1a6e2e}
table.fp-table{border-collapse:collapse;margin:.5em 0 1em;font-size:.92em;
 table-layout:auto!important;width:auto!important;max-width:100%}
table.fp-table th,table.fp-table td{border:1px solid #c8c8c8!important;
 padding:.25em .55em!important;vertical-align:top;text-align:left!important;
 white-space:normal;max-width:36em}
table.fp-table td{white-space:nowrap}
table.fp-table td.long{min-width:22em;white-space:normal}
table.fp-table th{min-width:3.5em}
table.fp-table th{background:#eef2f5;font-weight:600}
table.fp-table td.num{text-align:right!important;font-variant-numeric:tabular-nums;
 white-space:nowrap}
.fp-box,table.fp-table,p.fp-note{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif}
table.fp-table td.tone-good{background:#d9f0d3}table.fp-table td.tone-info{background:#fff7d6}
table.fp-table td.tone-bad{background:#f8d0cc;font-weight:600}
table.fp-table td.tone-warn{background:#fde3c3}
table.fp-table tr.fp-gap td{text-align:center;color:#666;background:#fafafa}
table.fp-table tr.fp-mark td{border-top:3px solid #d73027}
p.fp-note{color:#555;font-size:.9em;margin:.2em 0 1em}
.fp-busy{color:#8a4b08;font-weight:600}
""".strip()


def style_tag() -> str:
    """The stylesheet as a ``<style>`` element."""
    return f"<style>{CSS}</style>"


def _labels(column: str, table: str | None) -> Mapping[str, str]:
    """Code -> Chinese label of a column: output labels first, then ``table``, then any table."""
    if column in schema.OUTPUT_LABELS:
        return schema.OUTPUT_LABELS[column]
    tables = [schema.TABLES[table]] if table in schema.TABLES else []
    for t in [*tables, *schema.TABLES_LIST]:
        for c in t.columns:
            if c.name == column and c.labels:
                return c.labels
    return {}


#: Chinese headers of the columns that only the reports' own tables have.
EXTRA_HEADERS = {"order": "序号", "kind": "事项", "what": "说明", "task": "事项代码"}


def header(column: str, lang: str, table: str | None = None) -> str:
    """A column's header: Chinese from the schema, or the English name in words.

    Examples:
        >>> header("entitlement_yuan", "zh"), header("household_id", "en")
        ('月保障金（元）', 'household id')
    """
    if lang == "zh":
        return EXTRA_HEADERS.get(column) or schema.zh_header(column, table)
    return column.replace("_", " ")


def _is_set(column: str) -> bool:
    return any(c.name == column and c.type == "set" for t in schema.TABLES_LIST for c in t.columns)


def code_text(column: str, value: Any, lang: str, table: str | None = None) -> str:
    """A code in ``lang``: ``pass`` -> 合格, ``a;b`` -> ``甲、乙``; English codes in words.

    Examples:
        >>> code_text("grade", "fail", "zh"), code_text("grade", "fail", "en")
        ('不合格', 'fail')
        >>> code_text("violations", "out_of_plan_birth;pregnancy_without_permit", "en")
        'out of plan birth; pregnancy without permit'
    """
    labels = _labels(column, table) if lang == "zh" else {}
    parts = str(value).split(";") if ";" in str(value) else [str(value)]
    if lang == "zh":
        rule = schema.OUTPUT_LABELS["rule"]
        out = [labels.get(p, rule.get(p, rule.get(p + "s", p))) for p in parts]
        return "、".join(out)
    return "; ".join(p.replace("_", " ") for p in parts)


def cell_text(column: str, value: Any, lang: str, table: str | None = None) -> str:
    """One value as a reader sees it (see the module's docstring).

    Examples:
        >>> cell_text("committed_yuan", Decimal("4800.00"), "zh")
        '4,800.00 元'
        >>> cell_text("followup_coverage", 0.909091, "zh"), cell_text("veto", False, "zh")
        ('90.9%', '否')
        >>> cell_text("date", pd.Timestamp("2024-04-10"), "en"), cell_text("tier", pd.NA, "zh")
        ('2024-04-10', '—')
    """
    if missing(value):
        return BLANK
    if isinstance(value, bool | np.bool_):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    if column.endswith("_yuan") or column.endswith("_fen"):
        if column.endswith("_fen"):
            value = Decimal(int(value)).scaleb(-2)
        return money_cell(value, lang)
    if column in PERCENT_COLUMNS:
        return pct(value)
    if isinstance(value, str):
        if _labels(column, table) or ";" in value and _is_set(column) or column == "violations":
            return code_text(column, value, lang, table)
        return value
    if isinstance(value, float | np.floating):
        return f"{float(value):,.2f}"
    return str(value)


def _cls(column: str, value: Any, text: str) -> str:
    classes = []
    tone = TONE_CELLS.get(column, {}).get(value) if isinstance(value, str) else None
    if tone:
        classes.append(f"tone-{tone}")
    if isinstance(value, str) and len(text) > 40:
        classes.append("long")

    if (
        not isinstance(value, str | bool | np.bool_)
        and not missing(value)
        and text != BLANK
        and isinstance(value, int | float | Decimal | np.integer | np.floating)
    ):
        classes.append("num")
    return f' class="{" ".join(classes)}"' if classes else ""


def _gaps(keep: Sequence[int], n: int) -> list[int | tuple[int, int]]:
    """Row positions to show, with ``(start, count)`` for each run of rows left out."""
    rows = sorted({i for i in keep if 0 <= i < n})
    out: list[int | tuple[int, int]] = []
    prev = -1
    for i in rows:
        if i > prev + 1:
            out.append((prev + 1, i - prev - 1))
        out.append(i)
        prev = i
    if prev < n - 1:
        out.append((prev + 1, n - 1 - prev))
    return out


def table_html(
    df: pd.DataFrame,
    lang: str = "zh",
    *,
    table: str | None = None,
    keep: Sequence[int] | None = None,
    mark: Iterable[int] = (),
    full_file: str | None = None,
    headers: Mapping[str, str] | None = None,
    caption: str | None = None,
) -> str:
    """A frame as an HTML table (no index), each value through :func:`cell_text`.

    Args:
        table: the schema table whose labels and headers apply first.
        keep: positions of the rows to show (None: all); each run left out becomes one row
            saying how many rows it holds.
        mark: positions of rows drawn with a red line above them (a cut line).
        full_file: the file holding every row, linked under the table when rows are left out.
        headers: headers to use instead of the schema's, by column.
        caption: a line above the table.

    Examples:
        >>> df = pd.DataFrame({"unit_id": ["U1", "U2", "U3"], "grade": ["pass", "fail", "pass"]})
        >>> print(table_html(df, keep=[0], full_file="s.csv"))  # doctest: +NORMALIZE_WHITESPACE
        <table class="fp-table"><thead><tr><th>单位编号</th><th>等次</th></tr></thead>
        <tbody><tr><td>U1</td><td class="tone-info">合格</td></tr>
        <tr class="fp-gap"><td colspan="2">⋯ 省略 2 行 ⋯</td></tr></tbody></table>
        <p class="fp-note">共 3 行，显示 1 行；完整表：<a href="s.csv">s.csv</a></p>
    """
    e = html.escape
    cols = [str(c) for c in df.columns]
    heads = [e((headers or {}).get(c) or header(c, lang, table)) for c in cols]
    parts = []
    if caption:
        parts.append(f'<p class="fp-note">{e(caption)}</p>')
    parts.append('<table class="fp-table"><thead><tr>')
    parts.append("".join(f"<th>{h}</th>" for h in heads) + "</tr></thead>\n<tbody>")
    n = len(df)
    order = _gaps(range(n) if keep is None else keep, n)
    marks = set(mark)
    values = df.to_numpy(dtype=object)
    body = []
    for item in order:
        if isinstance(item, tuple):
            _, count = item
            gap = f"⋯ 省略 {count} 行 ⋯" if lang == "zh" else f"⋯ {count} rows not shown ⋯"
            body.append(f'<tr class="fp-gap"><td colspan="{len(cols)}">{gap}</td></tr>')
            continue
        row = values[item]
        cells = []
        for c, v in zip(cols, row, strict=True):
            text = cell_text(c, v, lang, table)
            cells.append(f"<td{_cls(c, v, text)}>{e(text)}</td>")
        tr = '<tr class="fp-mark">' if item in marks else "<tr>"
        body.append(tr + "".join(cells) + "</tr>")
    parts.append("\n".join(body) + "</tbody></table>")
    shown = sum(1 for i in order if not isinstance(i, tuple))
    if shown < n:
        link = f'<a href="{e(full_file)}">{e(full_file)}</a>' if full_file else ""
        if lang == "zh":
            note = f"共 {n} 行，显示 {shown} 行" + (f"；完整表：{link}" if link else "")
        else:
            note = f"{n} rows, {shown} shown" + (f"; every row: {link}" if link else "")
        parts.append(f'\n<p class="fp-note">{note}</p>')
    return "".join(parts)


def findings_html(findings: Findings, lang: str = "zh") -> str:
    """The 结论 box: the title and one list item per line, coloured by its tone.

    Examples:
        >>> from fpanalysis.rules.findings import Line
        >>> f = Findings("结论", "Conclusions", {}, (Line("甲 & 乙", "a & b", "bad"),))
        >>> print(findings_html(f, "zh").replace("<ul>", "\\n<ul>"))
        <section class="fp-box"><h2>结论</h2>
        <ul><li class="tone-bad">甲 &amp; 乙</li></ul></section>
    """
    items = "".join(
        f'<li class="tone-{ln.tone}">{html.escape(ln.text(lang))}</li>' for ln in findings.lines
    )
    return (
        f'<section class="fp-box"><h2>{html.escape(findings.title(lang))}</h2>'
        f"<ul>{items}</ul></section>"
    )
