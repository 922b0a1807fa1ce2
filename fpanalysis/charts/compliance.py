"""Altair charts of unit compliance (rulebook §3): heatmap, score bars, half-year trend.

Every chart takes an already aggregated frame (a scorecard has one row per
unit), so the 5,000-row limit of altair never bites. Text is bilingual and
uses ``Noto Sans CJK SC`` so that Chinese renders in SVG/PNG export (install
``fonts-noto-cjk``); in notebooks enable the offline ``svg`` renderer.

Examples:
    >>> import pandas as pd
    >>> card = pd.DataFrame({"unit_id": ["U1"], "period": ["2024"], "baseline_coverage": [1.0],
    ...     "followup_coverage": [0.5], "feedback_timeliness": [1.0], "check_attendance": [0.75],
    ...     "falsifications": [0], "out_of_plan_births": [0], "pregnancies_without_permit": [1],
    ...     "unapproved_late_terminations": [0], "score": [81.25], "grade": ["pass"],
    ...     "veto": [False]})
    >>> indicator_frame(card)["label"].tolist()[:2]
    ['C1 年初摸底调查覆盖率 baseline', 'C2 半年跟踪调查覆盖率 follow-up']
    >>> [layer["mark"]["type"] for layer in heatmap(card).to_dict()["layer"]]
    ['rect', 'rect', 'text']
"""

from __future__ import annotations

from collections.abc import Mapping

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
    """The scorecard in long form: unit_id, indicator, label, value, kind (rate/count), text."""
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


def heatmap(
    card: pd.DataFrame, title: str | None = None, *, names: Mapping[str, str] | None = None
) -> alt.Chart:
    """Units × indicators: rates coloured 0–100 %, violation counts in red, values in the cells."""
    long = indicator_frame(card)
    long["unit"] = _unit_axis(long, names)
    order = [_label(k) for k in INDICATORS]
    base = alt.Chart(long).encode(
        x=alt.X("label:N", sort=order, title=None, axis=alt.Axis(labelAngle=-40, labelLimit=260)),
        y=alt.Y("unit:N", sort="ascending", title="单位 unit", axis=alt.Axis(labelLimit=200)),
        tooltip=["unit:N", "label:N", "text:N"],
    )

    def cells(kind: str, scale: alt.Scale, legend: alt.Legend) -> alt.Chart:
        """The ``kind`` cells, coloured by value."""
        color = alt.Color("value:Q", scale=scale, legend=legend)
        return base.transform_filter(alt.datum.kind == kind).mark_rect().encode(color=color)

    rates = cells(
        "rate",
        alt.Scale(domain=[0, 1], scheme="redyellowgreen"),
        alt.Legend(title="比率 rate", format="%"),
    )
    counts = cells(
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


def _unit_axis(df: pd.DataFrame, names: Mapping[str, str] | None) -> pd.Series:
    return df["unit_id"].map(lambda u: f"{u} {(names or {}).get(u, '')}".strip())


def score_bars(
    card: pd.DataFrame,
    title: str | None = None,
    *,
    names: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    highlight: str | None = None,
) -> alt.Chart:
    """Score per unit, best first, coloured by grade (Chinese legend), with the pass (70) and
    excellent (90) lines; a vetoed unit is marked ``×``; ``highlight`` outlines one unit."""
    th = {"pass": 70, "excellent": 90, **(thresholds or {})}
    df = card[["unit_id", "score", "grade", "veto"]].copy()
    df["score"] = df["score"].astype(float)
    df["unit"] = _unit_axis(df, names)
    df["grade_label"] = df["grade"].map(lambda g: OUTPUT_LABELS["grade"].get(g, g))
    df["veto_text"] = df["veto"].map({True: "×", False: ""})
    df = df.sort_values(["score", "unit_id"], ascending=[False, True], kind="mergesort")
    order = df["unit"].tolist()
    period = ", ".join(sorted(set(card["period"].astype(str))))
    x = alt.X("unit:N", title=None, sort=order, axis=alt.Axis(labelAngle=-45, labelLimit=160))
    bars = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("score:Q", title="得分 score", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color(
                "grade_label:N",
                scale=alt.Scale(
                    domain=[OUTPUT_LABELS["grade"][g] for g in GRADE_COLORS],
                    range=list(GRADE_COLORS.values()),
                ),
                legend=alt.Legend(title="等次", orient="top"),
            ),
            stroke=alt.condition(
                alt.datum.unit_id == (highlight or ""), alt.value("#000000"), alt.value(None)
            ),
            strokeWidth=alt.value(2),
            tooltip=[
                alt.Tooltip("unit:N", title="单位"),
                alt.Tooltip("score:Q", title="得分", format=".2f"),
                alt.Tooltip("grade_label:N", title="等次"),
                alt.Tooltip("veto_text:N", title="一票否决"),
            ],
        )
    )
    veto = (
        alt.Chart(df)
        .mark_text(dy=-8, fontSize=14, color="#a50f15", fontWeight="bold")
        .encode(x=x, y="score:Q", text="veto_text:N")
    )
    lines = pd.DataFrame(
        {
            "y": [th["pass"], th["excellent"]],
            "label": [f"合格线 {th['pass']:g}", f"优秀线 {th['excellent']:g}"],
        }
    )
    rules = alt.Chart(lines).mark_rule(strokeDash=[5, 3], color="#444").encode(y="y:Q")
    labels = (
        alt.Chart(lines)
        .mark_text(align="left", dx=4, dy=-6, color="#444")
        .encode(y="y:Q", x=alt.value(0), text="label:N")
    )
    return (
        alt.layer(bars, veto, rules, labels)
        .properties(
            title=title or f"得分与等次（从高到低） Score and grade, best first {period}",
            width=alt.Step(28),
            height=240,
        )
        .configure(font=FONT)
    )


def trend_frame(cards: pd.DataFrame, unit: str | None = None) -> pd.DataFrame:
    """The half-year scores with ``role``: ``unit`` (the one highlighted), ``failed`` (a unit that
    failed in some half-year, when no unit is highlighted) or ``peer`` (drawn grey).

    Examples:
        >>> c = pd.DataFrame({"unit_id": ["U1", "U1", "U2", "U2"], "period": ["H1", "H2"] * 2,
        ...     "score": [80.0, 60.0, 90.0, 91.0], "grade": ["pass", "fail", "pass", "excellent"],
        ...     "veto": [False] * 4})
        >>> trend_frame(c)["role"].tolist(), trend_frame(c, "U2")["role"].tolist()
        (['failed', 'failed', 'peer', 'peer'], ['peer', 'peer', 'unit', 'unit'])
    """
    df = cards[["unit_id", "period", "score", "grade", "veto"]].copy()
    df["score"] = df["score"].astype(float)
    failed = set(df.loc[df["grade"].eq("fail") | df["veto"].astype(bool), "unit_id"])
    if unit:
        df["role"] = df["unit_id"].map(lambda u: "unit" if u == unit else "peer")
    else:
        df["role"] = df["unit_id"].map(lambda u: "failed" if u in failed else "peer")
    return df


def trend(
    cards: pd.DataFrame,
    unit: str | None = None,
    title: str | None = None,
    *,
    names: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> alt.Chart:
    """Score by half-year: ``unit`` in colour over its grey peers (or, for the bureau, the units
    that failed in some half-year in colour over the rest); each failing half-year a red dot
    with its score, the pass line dashed."""
    th = {"pass": 70, "excellent": 90, **(thresholds or {})}
    df = trend_frame(cards, unit)
    df["unit"] = _unit_axis(df, names)
    df["grade_label"] = df["grade"].map(lambda g: OUTPUT_LABELS["grade"].get(g, g))
    df["fail_text"] = [
        f"{s:.0f}" + ("×" if v else "") if (g == "fail" or v) and r != "peer" else ""
        for s, g, v, r in zip(df["score"], df["grade"], df["veto"], df["role"], strict=True)
    ]
    x = alt.X("period:O", title="半年 half-year", sort="ascending")
    y = alt.Y("score:Q", title="得分 score", scale=alt.Scale(domain=[0, 100]))
    tooltip = [
        alt.Tooltip("unit:N", title="单位"),
        alt.Tooltip("period:N", title="半年"),
        alt.Tooltip("score:Q", title="得分", format=".2f"),
        alt.Tooltip("grade_label:N", title="等次"),
    ]
    peers = (
        alt.Chart(df[df["role"] == "peer"])
        .mark_line(color="#c8c8c8", strokeWidth=1)
        .encode(x=x, y=y, detail="unit_id:N", tooltip=tooltip)
    )
    focus = df[df["role"] != "peer"]
    lines = (
        alt.Chart(focus)
        .mark_line(point=True, strokeWidth=2.5)
        .encode(
            x=x,
            y=y,
            color=alt.Color("unit:N", title="单位", legend=alt.Legend(orient="right")),
            tooltip=tooltip,
        )
    )
    bad = focus[focus["fail_text"] != ""]
    dots = (
        alt.Chart(bad)
        .mark_point(shape="circle", size=110, color="#d73027", filled=True)
        .encode(x=x, y=y, tooltip=tooltip)
    )
    dot_text = (
        alt.Chart(bad)
        .mark_text(dy=-12, color="#a50f15", fontWeight="bold")
        .encode(x=x, y=y, text="fail_text:N")
    )
    line = pd.DataFrame({"y": [th["pass"]], "label": [f"合格线 {th['pass']:g}"]})
    rule = alt.Chart(line).mark_rule(strokeDash=[5, 3], color="#444").encode(y="y:Q")
    who = (names or {}).get(unit, "") if unit else ""
    name = f"{unit} {who} ".replace("  ", " ") if unit else ""
    default = (
        f"{name}半年得分（灰线为其他单位） Half-year score, peers in grey"
        if unit
        else "半年得分：曾不合格的单位着色，其余为灰线 Half-year score: units that failed in colour"
    )
    return (
        alt.layer(peers, rule, lines, dots, dot_text)
        .properties(title=title or default, width=460, height=240)
        .configure(font=FONT)
    )
