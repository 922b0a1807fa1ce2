"""ipywidgets dashboards over unit compliance (rulebook §3).

- :func:`drilldown` — pick a unit and an indicator, see who is missing a
  survey or a check (or which events were counted), with names masked (§7).
- :func:`reweight` — move the four weights and see which units change grade
  against the current weights ("U07 从 合格 降为 不合格") and every unit's
  score and grade recomputed live from the same drill-down (the weights are
  scaled to sum to 1, as ``compliance_weights`` requires).

Tables are in the chosen language (:func:`fpanalysis.charts.tables.table_html`).

Both are built from :func:`fpanalysis.rules.compliance.compliance_detail`, so they
show exactly the figures of the scorecard. The pure helpers
(:func:`missing_rows`, :func:`rescored`) carry the logic and are tested
without a browser.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import ipywidgets as w
import pandas as pd

from fpanalysis.charts.tables import table_html
from fpanalysis.core.params import Params
from fpanalysis.core.privacy import mask_frame
from fpanalysis.core.schema import OUTPUT_COLUMNS
from fpanalysis.rules.compliance import (
    INDICATOR_IDS,
    INDICATORS,
    RATE_INDICATORS,
    scorecard_from_detail,
)
from fpanalysis.rules.explain import trace_html
from fpanalysis.rules.findings import grade_changes, unit_label
from fpanalysis.widgets.common import LABEL_STYLE, Dashboard, busy_html, slider, with_style

DRILL_COLUMNS = [
    "part",
    "couple_id",
    "person_id",
    "wife_name",
    "event_id",
    "date",
    "in_numerator",
    "reason_zh",
    "reason_en",
]


def missing_rows(
    detail: pd.DataFrame,
    unit: str,
    indicator: str,
    tables: Mapping[str, pd.DataFrame] | None = None,
    only_missing: bool = True,
    reveal: bool = False,
) -> pd.DataFrame:
    """The drill-down rows of one unit and indicator, names masked unless ``reveal``.

    For a rate, ``only_missing`` keeps the couples or women in the denominator
    but not in the numerator (who lacks a survey, who missed a check); for a
    count it keeps the counted violations.

    Examples:
        >>> d = pd.DataFrame({"unit_id": ["U1", "U1"], "indicator": ["check_attendance"] * 2,
        ...     "part": ["R1", "R1"], "couple_id": ["C1", "C2"], "person_id": ["W1", "W2"],
        ...     "event_id": ["R1", "R1"], "date": pd.to_datetime([None, "2024-04-02"]),
        ...     "in_denominator": [True, True], "in_numerator": [False, True],
        ...     "reason_zh": ["应检未检", "已受检"], "reason_en": ["missed", "attended"]})
        >>> missing_rows(d, "U1", "check_attendance")["couple_id"].tolist()
        ['C1']
    """
    d = detail[(detail["unit_id"] == unit) & (detail["indicator"] == indicator)].copy()
    if only_missing:
        if indicator in RATE_INDICATORS:
            d = d[d["in_denominator"].fillna(False).astype(bool) & ~d["in_numerator"].astype(bool)]
        else:
            d = d[d["in_numerator"].astype(bool)]
    names = None
    if tables is not None and "persons" in tables:
        names = tables["persons"].drop_duplicates("person_id").set_index("person_id")["name"]
    d["wife_name"] = d["person_id"].map(names) if names is not None else pd.NA
    d = d[[c for c in DRILL_COLUMNS if c in d]].reset_index(drop=True)
    return mask_frame(d, reveal=reveal)


def normalised(raw: Mapping[str, float]) -> dict[str, float]:
    """Slider values scaled to sum to 1 (all zero -> equal weights).

    Examples:
        >>> normalised({"a": 1, "b": 3})
        {'a': 0.25, 'b': 0.75}
    """
    total = sum(raw.values())
    if total <= 0:
        return {k: 1 / len(raw) for k in raw}
    return {k: round(v / total, 6) for k, v in raw.items()}


def rescored(
    detail: pd.DataFrame,
    params: Params,
    period: str,
    weights: Mapping[str, float],
    units: list[str],
) -> pd.DataFrame:
    """The scorecard again with other weights (a scenario: only ``compliance_weights`` changes)."""
    w = normalised(dict(weights))
    # Absorb rounding so the weights sum to exactly 1 as the parameter check requires.
    last = RATE_INDICATORS[-1]
    w[last] = round(1 - sum(v for k, v in w.items() if k != last), 6)
    scenario = params.with_overrides({"compliance_weights": w})
    return scorecard_from_detail(detail, scenario, period, units)


def _html(title: str, df: pd.DataFrame, lang: str = "zh") -> str:
    """A caption and a table as escaped HTML, for an HTML widget."""
    return with_style(f"<p>{html.escape(title)}</p>" + table_html(df, lang))


def drilldown(
    detail: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame] | None = None,
    unit: str | None = None,
    reveal: bool = False,
    *,
    names: Mapping[str, str] | None = None,
    lang: str = "zh",
    params: Params | None = None,
    period: str | None = None,
) -> w.Widget:
    """A unit picker and an indicator picker over the drill-down; shows who is missing what.

    With ``params`` and ``period``, the picked unit's trace (its score from its rules and rows,
    :func:`~fpanalysis.rules.explain.trace_html`) follows the rows."""
    units = sorted(set(detail["unit_id"].dropna()))
    unit_dd = w.Dropdown(
        options=[(unit_label(u, names), u) for u in units],
        value=unit if unit in units else (units[0] if units else None),
        description="单位 unit",
        style=LABEL_STYLE,
    )
    ind_dd = w.Dropdown(
        options=[(f"{INDICATOR_IDS[k]} {OUTPUT_COLUMNS[k]}", k) for k in INDICATORS],
        value="followup_coverage",
        description="指标 indicator",
        style=LABEL_STYLE,
        layout=w.Layout(width="420px"),
    )
    only = w.Checkbox(value=True, description="只看未达标 / only the missing or counted")
    # An HTML widget rather than an Output widget: nothing is captured from the kernel's
    # output stream, so a callback cannot race the notebook runner (an Output widget with
    # clear_output(wait=True) was seen to hang papermill now and then).
    out = w.HTML()

    traces: dict[str, str] = {}  # a unit's trace depends on the unit only: made once

    def trace(unit: str) -> str:
        if unit not in traces:
            traces[unit] = trace_html(
                tables,
                params,
                "unit",
                unit,
                period=period,
                detail=detail,
                lang=lang,
                reveal_pii=reveal,
            )
        return traces[unit]

    def refresh(*_):
        rows = missing_rows(detail, unit_dd.value, ind_dd.value, tables, only.value, reveal)
        other = "reason_en" if lang == "zh" else "reason_zh"
        rows = rows.drop(columns=[other], errors="ignore")
        title = (
            f"{unit_label(unit_dd.value, names)} · {INDICATOR_IDS[ind_dd.value]} "
            f"{OUTPUT_COLUMNS[ind_dd.value]}：{len(rows)} 行 rows"
        )
        out.value = _html(title, rows, lang)
        if params is not None and period and tables is not None and unit_dd.value:
            out.value += trace(unit_dd.value)

    for c in (unit_dd, ind_dd, only):
        c.observe(refresh, names="value")
    refresh()
    return Dashboard([w.HBox([unit_dd, ind_dd, only]), out])


def reweight(
    detail: pd.DataFrame,
    params: Params,
    period: str,
    units: list[str] | None = None,
    *,
    names: Mapping[str, str] | None = None,
    lang: str = "zh",
) -> w.Widget:
    """Four weight sliders; the units whose grade changes against the current weights, then
    every unit's score and grade, update as they move."""
    units = units or sorted(set(detail["unit_id"].dropna()))
    current = params.at("compliance_weights", pd.Timestamp(period[:4] + "-12-31"))
    sliders = {
        k: slider(
            w.FloatSlider,
            f"{INDICATOR_IDS[k]} {OUTPUT_COLUMNS[k]}",
            float(current[k]),
            min=0,
            max=1,
            step=0.05,
            tooltip=OUTPUT_COLUMNS[k],
            layout=w.Layout(width="380px"),
        )
        for k in RATE_INDICATORS
    }
    out = w.HTML()  # see drilldown: no Output widget
    base = scorecard_from_detail(detail, params, period, units)

    def refresh(*_):
        out.value = busy_html(lang) + out.value
        weights = {k: s.value for k, s in sliders.items()}
        shown = normalised(weights)
        title = "权重 weights: " + ", ".join(
            f"{INDICATOR_IDS[k]} {v:.2f}" for k, v in shown.items()
        )
        card = rescored(detail, params, period, weights, units)
        changes = grade_changes(base, card, names)
        text = "text_zh" if lang == "zh" else "text_en"
        if len(changes):
            items = "".join(f"<li>{html.escape(t)}</li>" for t in changes[text])
            head = (
                f"与现行权重相比，{len(changes)} 个单位等次改变："
                if lang == "zh"
                else f"Against the current weights, {len(changes)} units change grade:"
            )
            versus = (
                f'<div class="fp-versus"><p><b>{html.escape(head)}</b></p><ul>{items}</ul></div>'
            )
        else:
            same = (
                "与现行权重相比，没有单位改变等次。"
                if lang == "zh"
                else ("Against the current weights, no unit changes grade.")
            )
            versus = f'<p class="fp-versus"><b>{html.escape(same)}</b></p>'
        table = card[["unit_id", "score", "grade", "veto"]].copy()
        table.insert(1, "unit_name", table["unit_id"].map(names or {}))
        table = table.sort_values(["score", "unit_id"], ascending=[False, True], kind="mergesort")
        out.value = versus + _html(title, table, lang)

    for s in sliders.values():
        s.observe(refresh, names="value")
    refresh()
    return Dashboard([w.HBox(list(sliders.values())[:2]), w.HBox(list(sliders.values())[2:]), out])
