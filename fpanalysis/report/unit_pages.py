"""Each unit's page of a report, drawn by the package from one computation instead of one
notebook run per unit: titled with the unit's name, it opens with the unit's 结论 box, shows its
scorecard row, its score among the others' and its half-years over grey peers, its cases and
violations, and ends with its to-do list (the couples to survey, the women to check, the cases
to act on; names masked, rulebook §7) and the collapsed run information. The same rules and
findings as the compliance notebook run with ``unit`` (rulebook §3, §4)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from fpanalysis.charts.tables import findings_html, table_html
from fpanalysis.core.privacy import mask_frame
from fpanalysis.rules.findings import Findings

#: The notebook whose per-unit runs are drawn here.
NOTEBOOK = "01_unit_compliance"
_CARD_COLUMNS = [
    "unit_id",
    "unit_name",
    "score",
    "grade",
    "veto",
    "baseline_coverage",
    "followup_coverage",
    "feedback_timeliness",
    "check_attendance",
    "falsifications",
    "out_of_plan_births",
    "pregnancies_without_permit",
    "unapproved_late_terminations",
]


@dataclass(frozen=True)
class UnitPage:
    """One unit's page: its HTML, its conclusion and its row of the front page's table."""

    unit: str
    html: str
    findings: Findings
    row: dict


@dataclass
class Compliance:
    """The compliance results every unit's page is drawn from (computed once)."""

    ds: Any
    params: Any
    period: str
    names: dict
    detail: pd.DataFrame
    card: pd.DataFrame
    halves: pd.DataFrame
    cases: pd.DataFrame
    accountability: pd.DataFrame


def compute(parameters: Mapping[str, Any]) -> Compliance:
    """The compliance notebook's computations for its parameters (``dataset``, ``period``,
    ``weights_file``, ``lang``)."""
    from fpanalysis.core import config
    from fpanalysis.core.params import load_params
    from fpanalysis.io import load_for_analysis
    from fpanalysis.rules.cases import case_list
    from fpanalysis.rules.compliance import (
        TABLES_NEEDED,
        accountability_list,
        compliance_detail,
        compliance_scorecard,
        half_year_trend,
        latest_complete_year,
        parse_period,
    )

    lang = parameters.get("lang", "zh")
    ds = load_for_analysis(parameters.get("dataset") or config.SAMPLE_DIR, TABLES_NEEDED, lang=lang)
    params = load_params(parameters.get("weights_file") or None)
    period = parameters.get("period") or ""
    period = parse_period(period).label if period else str(latest_complete_year(ds))
    year = int(period[:4])
    names = dict(zip(ds["units"]["unit_id"], ds["units"]["name"].fillna(""), strict=True))
    detail = compliance_detail(ds, params, period)
    card = compliance_scorecard(ds, params, period, detail=detail)
    return Compliance(
        ds=ds,
        params=params,
        period=period,
        names=names,
        detail=detail,
        card=card,
        halves=half_year_trend(ds, params, [year - 1, year]),
        cases=case_list(ds, params),
        accountability=accountability_list(ds, params, period, detail=detail),
    )


def _svg(chart: Any) -> str:
    """The chart as an SVG image in the page (a data URI, like the notebooks' pages)."""
    import base64

    import vl_convert as vlc

    data = base64.b64encode(vlc.vegalite_to_svg(chart.to_dict()).encode("utf-8")).decode("ascii")
    return f'<div class="fp-chart"><img alt="" src="data:image/svg+xml;base64,{data}"></div>'


def render_unit(
    c: Compliance,
    unit: str,
    *,
    lang: str = "zh",
    reveal: bool = False,
    title: str = "",
    audit: str = "",
) -> UnitPage:
    """One unit's page (see the module's docstring); ``audit`` is the closing provenance."""
    from fpanalysis.charts import compliance as charts
    from fpanalysis.report.pages import page
    from fpanalysis.rules import findings

    e = html.escape
    zh = lang == "zh"
    row = c.card[c.card["unit_id"] == unit].iloc[0]
    todo = findings.unit_todo(
        c.detail, unit, cases=c.cases, persons=c.ds["persons"], lang=lang, reveal=reveal
    )
    f = findings.unit_findings(row, todo, names=c.names, detail=c.detail, halves=c.halves)
    who = findings.unit_label(unit, c.names)
    thresholds = c.params.at("grade_thresholds", f"{c.period[:4]}-12-31")
    mine = c.card[c.card["unit_id"] == unit].assign(unit_name=c.names.get(unit, ""))
    cases = c.cases[c.cases["unit_id"] == unit]
    acc = c.accountability[c.accountability["unit_id"] == unit]

    def h2(zh_text: str, en_text: str) -> str:
        return f"<h2>{e(zh_text if zh else en_text)}</h2>"

    def note(zh_text: str, en_text: str) -> str:
        return f'<p class="fp-note">{e(zh_text if zh else en_text)}</p>'

    parts = [
        f"<h1>{e(who)}</h1>",
        f'<p class="fp-note">{e(title)} · {e(c.period)}</p>',
        findings_html(f, lang),
        h2("1. 考核结果", "1. Scorecard"),
        table_html(mine[_CARD_COLUMNS], lang),
        h2("2. 在全局中的位置", "2. Among the other units"),
        _svg(charts.score_bars(c.card, names=c.names, thresholds=thresholds, highlight=unit)),
        _svg(charts.trend(c.halves, unit, names=c.names, thresholds=thresholds)),
        h2("3. 案件与违规", "3. Cases and violations"),
    ]
    if len(cases):
        cols = ["couple_id", "wife_name", "husband_name", "first_date", "violations"]
        parts.append(table_html(mask_frame(cases[[*cols, f"action_{lang}"]], reveal=reveal), lang))
    else:
        parts.append(note("本单位没有大月份引产或生育指标案件。", "No case in this unit."))
    if len(acc):
        cols = ["date", "rule", "event_id", "couple_id", "wife_name", "penalty", "veto"]
        parts.append(table_html(mask_frame(acc[cols], reveal=reveal), lang))
    else:
        parts.append(note("考核期内没有违规。", "No violation in the period."))
    parts.append(h2("4. 待办事项", "4. To do"))
    if len(todo):
        parts.append(table_html(todo.drop(columns=["task"]), lang))
    else:
        parts.append(note("没有待办事项。", "Nothing left to do."))
    parts.append(audit)
    figures = {
        "unit": unit,
        "name": c.names.get(unit, ""),
        "grade": str(row["grade"]),
        "score": float(row["score"]),
        "veto": bool(row["veto"]),
    }
    return UnitPage(unit, page(f"{who} — {title}", lang, "\n".join(parts)), f, figures)


def render_units(
    parameters: Mapping[str, Any],
    units: Sequence[str],
    *,
    title: str,
    audits: Mapping[str, str],
) -> list[UnitPage]:
    """Every unit's page from one computation (``parameters``: the bureau run's)."""
    c = compute(parameters)
    lang = parameters.get("lang", "zh")
    reveal = bool(parameters.get("reveal_pii", False))
    known = set(c.card["unit_id"])
    return [
        render_unit(c, u, lang=lang, reveal=reveal, title=title, audit=audits.get(u, ""))
        for u in units
        if u in known
    ]
