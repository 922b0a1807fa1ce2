"""ipywidgets dashboards over unit compliance (rulebook §3), built from the drill-down
(:func:`fpanalysis.rules.compliance.compliance_detail`) so that they show exactly the scorecard's
figures: :func:`drilldown` (pick a unit and an indicator, see who misses a survey or a check, or
which events were counted, names masked as rulebook §7 asks) and :func:`reweight` (move the four
weights, scaled to sum to 1, and see every unit's score and grade recomputed); the pure helpers
:func:`missing_rows` and :func:`rescored` carry the logic and are tested without a browser."""

from __future__ import annotations

import html
from collections.abc import Mapping

import ipywidgets as w
import pandas as pd

from fpanalysis.core.params import Params
from fpanalysis.core.privacy import mask_frame
from fpanalysis.core.schema import OUTPUT_COLUMNS
from fpanalysis.rules.compliance import (
    INDICATOR_IDS,
    INDICATORS,
    RATE_INDICATORS,
    scorecard_from_detail,
)

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


def _html(title: str, df: pd.DataFrame) -> str:
    """A caption and a table as escaped HTML, for an HTML widget."""
    return f"<p>{html.escape(title)}</p>" + df.to_html(index=False, escape=True, na_rep="")


def drilldown(
    detail: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame] | None = None,
    unit: str | None = None,
    reveal: bool = False,
) -> w.Widget:
    """A unit picker and an indicator picker over the drill-down; shows who is missing what."""
    units = sorted(set(detail["unit_id"].dropna()))
    unit_dd = w.Dropdown(
        options=units,
        value=unit if unit in units else (units[0] if units else None),
        description="单位 unit",
    )
    ind_dd = w.Dropdown(
        options=[(f"{INDICATOR_IDS[k]} {OUTPUT_COLUMNS[k]} {k}", k) for k in INDICATORS],
        value="followup_coverage",
        description="指标",
        layout=w.Layout(width="420px"),
    )
    only = w.Checkbox(value=True, description="只看未达标 / only the missing or counted")
    # An HTML widget rather than an Output widget: nothing is captured from the kernel's
    # output stream, so a callback cannot race the notebook runner (an Output widget with
    # clear_output(wait=True) was seen to hang papermill now and then).
    out = w.HTML()

    def refresh(*_):
        rows = missing_rows(detail, unit_dd.value, ind_dd.value, tables, only.value, reveal)
        out.value = _html(f"{unit_dd.value} {ind_dd.value}: {len(rows)} 行 rows", rows)

    for c in (unit_dd, ind_dd, only):
        c.observe(refresh, names="value")
    refresh()
    return w.VBox([w.HBox([unit_dd, ind_dd, only]), out])


def reweight(
    detail: pd.DataFrame,
    params: Params,
    period: str,
    units: list[str] | None = None,
) -> w.Widget:
    """Four weight sliders; the table of scores and grades updates as they move."""
    units = units or sorted(set(detail["unit_id"].dropna()))
    current = params.at("compliance_weights", pd.Timestamp(period[:4] + "-12-31"))
    sliders = {
        k: w.FloatSlider(
            value=float(current[k]),
            min=0,
            max=1,
            step=0.05,
            description=INDICATOR_IDS[k],
            tooltip=OUTPUT_COLUMNS[k],
            continuous_update=False,
        )
        for k in RATE_INDICATORS
    }
    out = w.HTML()  # see drilldown: no Output widget

    def refresh(*_):
        weights = {k: s.value for k, s in sliders.items()}
        shown = normalised(weights)
        title = "权重 weights: " + ", ".join(
            f"{INDICATOR_IDS[k]} {v:.2f}" for k, v in shown.items()
        )
        card = rescored(detail, params, period, weights, units)
        out.value = _html(title, card[["unit_id", "period", "score", "grade", "veto"]])

    for s in sliders.values():
        s.observe(refresh, names="value")
    refresh()
    return w.VBox([w.HBox(list(sliders.values())[:2]), w.HBox(list(sliders.values())[2:]), out])
