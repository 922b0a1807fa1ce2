"""Altair charts of unit compliance (rulebook §3): the units × indicators heatmap, score bars and
the half-year trend, each drawn from an aggregated frame (a scorecard has one row per unit, so
altair's 5,000-row limit never bites), with bilingual text in ``Noto Sans CJK SC`` so that Chinese
renders in SVG/PNG export (install ``fonts-noto-cjk``; in notebooks enable the ``svg`` renderer)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from fpanalysis.core.schema import OUTPUT_COLUMNS, OUTPUT_LABELS
from fpanalysis.rules.compliance import INDICATOR_IDS, INDICATORS, RATE_INDICATORS

FONT = "Noto Sans CJK SC"
_SHORT_EN = {
    "baseline_coverage": "baseline",
    "followup_coverage": "follow-up",
    "feedback_timeliness": "feedback",
    "check_attendance": "checks",
    "falsifications": "falsified",
    "out_of_plan_births": "out-of-plan births",
    "pregnancies_without_permit": "no-permit pregnancies",
    "unapproved_late_terminations": "late terminations",
}
GRADE_COLORS = {"excellent": "#1a9850", "pass": "#fee08b", "fail": "#d73027"}


def _label(ind: str) -> str:
    return f"{INDICATOR_IDS[ind]} {OUTPUT_COLUMNS[ind]} {_SHORT_EN[ind]}"


def indicator_frame(card: pd.DataFrame) -> pd.DataFrame:
    """The scorecard in long form: unit_id, indicator, label, value, kind (rate/count), text.

    Examples:
        >>> card = pd.DataFrame({"unit_id": ["U1"], "period": ["2024"],
        ...     "baseline_coverage": [1.0], "followup_coverage": [0.5],
        ...     "feedback_timeliness": [1.0], "check_attendance": [0.75], "falsifications": [0],
        ...     "out_of_plan_births": [0], "pregnancies_without_permit": [1],
        ...     "unapproved_late_terminations": [0], "score": [81.25], "grade": ["pass"],
        ...     "veto": [False]})
        >>> indicator_frame(card)["label"].tolist()[:2]
        ['C1 年初摸底调查覆盖率 baseline', 'C2 半年跟踪调查覆盖率 follow-up']
        >>> [layer["mark"]["type"] for layer in heatmap(card).to_dict()["layer"]]
        ['rect', 'rect', 'text']
    """
    long = card.melt(
        id_vars=["unit_id", "period"],
        value_vars=INDICATORS,
        var_name="indicator",
        value_name="value",
    )
    long["label"] = long["indicator"].map(_label)
    long["kind"] = long["indicator"].map(lambda k: "rate" if k in RATE_INDICATORS else "count")
    rate = long["kind"] == "rate"
    long["text"] = long["value"].map(lambda v: "" if pd.isna(v) else f"{v:.0%}")
    long.loc[~rate, "text"] = long.loc[~rate, "value"].map(
        lambda v: "" if pd.isna(v) else str(int(v))
    )
    return long


def _cells(base: alt.Chart, kind: str, scale: alt.Scale, legend: alt.Legend) -> alt.Chart:
    """The heatmap's cells of one kind of indicator (``rate`` or ``count``), coloured by value."""
    return (
        base.transform_filter(alt.datum.kind == kind)
        .mark_rect()
        .encode(color=alt.Color("value:Q", scale=scale, legend=legend))
    )


def heatmap(card: pd.DataFrame, title: str | None = None) -> alt.Chart:
    """Units × indicators: rates coloured 0–100 %, violation counts in red, values in the cells."""
    long = indicator_frame(card)
    order = [_label(k) for k in INDICATORS]
    base = alt.Chart(long).encode(
        x=alt.X("label:N", sort=order, title=None, axis=alt.Axis(labelAngle=-40, labelLimit=260)),
        y=alt.Y("unit_id:N", sort="ascending", title="单位 unit"),
        tooltip=["unit_id:N", "label:N", "text:N"],
    )
    rates = _cells(
        base,
        "rate",
        alt.Scale(domain=[0, 1], scheme="redyellowgreen"),
        alt.Legend(title="比率 rate", format="%"),
    )
    counts = _cells(
        base,
        "count",
        alt.Scale(domain=[0, 3], range=["#f7f7f7", "#b2182b"], clamp=True),
        alt.Legend(title="违规数 violations"),
    )
    text = base.mark_text(fontSize=10).encode(text="text:N")
    period = ", ".join(sorted(set(card["period"].astype(str))))
    chart = (
        alt.layer(rates, counts, text)
        .resolve_scale(color="independent")
        .properties(
            title=title or f"单位考核指标 Unit indicators {period}",
            width=alt.Step(70),
            height=alt.Step(18),
        )
    )
    return chart.configure(font=FONT)


def score_bars(card: pd.DataFrame, title: str | None = None) -> alt.Chart:
    """Score per unit, coloured by grade, with the pass and excellent lines."""
    df = card[["unit_id", "score", "grade", "veto"]].copy()
    df["grade_label"] = df["grade"].map(lambda g: f"{OUTPUT_LABELS['grade'].get(g, g)} {g}")
    df["veto_text"] = df["veto"].map({True: "一票否决 veto", False: ""})
    period = ", ".join(sorted(set(card["period"].astype(str))))
    bars = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("unit_id:N", title="单位 unit", sort="ascending"),
            y=alt.Y("score:Q", title="得分 score", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color(
                "grade:N",
                scale=alt.Scale(domain=list(GRADE_COLORS), range=list(GRADE_COLORS.values())),
                legend=alt.Legend(title="等次 grade"),
            ),
            tooltip=["unit_id:N", "score:Q", "grade_label:N", "veto_text:N"],
        )
    )
    return bars.properties(
        title=title or f"得分与等次 Score and grade {period}", width=alt.Step(22), height=220
    ).configure(font=FONT)


def trend(cards: pd.DataFrame, unit: str | None = None, title: str | None = None) -> alt.Chart:
    """Score by half-year, one line per unit (or just ``unit``); vetoed halves marked."""
    df = cards[["unit_id", "period", "score", "grade", "veto"]].copy()
    if unit:
        df = df[df["unit_id"] == unit]
    df["veto_text"] = df["veto"].map({True: "一票否决 veto", False: ""})
    base = alt.Chart(df).encode(
        x=alt.X("period:O", title="半年 half-year", sort="ascending"),
        y=alt.Y("score:Q", title="得分 score", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("unit_id:N", title="单位 unit"),
        tooltip=["unit_id:N", "period:N", "score:Q", "grade:N", "veto_text:N"],
    )
    lines = base.mark_line(point=True)
    vetoed = base.transform_filter(alt.datum.veto).mark_point(
        shape="cross", size=120, color="#b2182b", filled=True
    )
    name = f"单位 {unit} " if unit else ""
    return (
        alt.layer(lines, vetoed)
        .properties(
            title=title or f"{name}半年得分走势 Half-year score trend", width=420, height=220
        )
        .configure(font=FONT)
    )
