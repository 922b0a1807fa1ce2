"""Altair charts of the only-child parents' reward budget (rulebook §5).

- :func:`fan_chart` — the bureau's monthly total: committed payments, and
  committed plus new certificates with the P10–P90 band and the P50 line.
- :func:`unit_chart` — yearly committed payments stacked by unit, with the
  expected (mean) new certificates per unit beside them. Means add up across
  units; percentiles do not (rulebook §5), so the stack uses means and the
  bands stay in the fan chart.
- :func:`scenario_chart` — committed + new P50 per month, one line per
  scenario, from :func:`fpanalysis.rules.bonus.compare_scenarios` at ``by=("month",)``.

Charts are drawn from small aggregated frames (bureau or unit × year), so
altair's 5,000-row limit never bites. Amounts are converted from exact fen to
float yuan only here, for drawing. Text is bilingual, font ``Noto Sans CJK SC``;
in notebooks enable the offline ``svg`` renderer.

Examples:
    >>> import numpy as np
    >>> from fpanalysis.rules.bonus import BonusProjection
    >>> pr = BonusProjection(24300, ("U1",), np.array([[2000, 2000]]),
    ...                      np.array([[[0, 1000]], [[0, 3000]]]))
    >>> fan_frame(pr)[["month", "committed", "p10", "p50", "p90"]].values.tolist()
    [['2025-01', 20.0, 20.0, 20.0, 20.0], ['2025-02', 20.0, 30.0, 30.0, 50.0]]
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from fpanalysis.rules.bonus import BonusProjection

FONT = "Noto Sans CJK SC"
COMMITTED = "已发证 committed"
NEW_MEAN = "新增（均值） new (mean)"


def _yuan(values) -> np.ndarray:
    return np.asarray([float(v) for v in values], dtype=float)


def fan_frame(projection: BonusProjection) -> pd.DataFrame:
    """Bureau-level monthly frame: ``month``, ``committed`` and committed + new
    ``p10``/``p50``/``p90`` (yuan)."""
    t = projection.table(("month",))
    c = _yuan(t["committed_yuan"])
    out = pd.DataFrame({"month": t["month"], "committed": c})
    for q in ("p10", "p50", "p90"):
        out[q] = c + _yuan(t[f"new_{q}_yuan"])
    return out


def fan_chart(
    projection: BonusProjection,
    title: str | None = None,
    width: int = 640,
    *,
    baseline: BonusProjection | None = None,
    y_max: float | None = None,
) -> alt.Chart:
    """Committed payments and committed + new certificates (P50 line, P10–P90 band), per month.

    Args:
        baseline: current policy's projection, drawn as a dashed black P50 line (a what-if
            is read against it).
        y_max: a fixed top of the y axis (yuan a month), so that two settings compare by eye.
    """
    f = fan_frame(projection)
    f["date"] = pd.to_datetime(f["month"] + "-01")
    x = alt.X("date:T", title="月份 month", axis=alt.Axis(format="%Y-%m"))
    scale = alt.Scale(domain=[0, y_max]) if y_max else alt.Scale(zero=True)
    band = (
        alt.Chart(f)
        .mark_area(opacity=0.25, color="#2c7bb6")
        .encode(
            x=x,
            y=alt.Y("p10:Q", title="元/月 yuan per month", scale=scale),
            y2="p90:Q",
            tooltip=[
                alt.Tooltip("month:N", title="月份 month"),
                alt.Tooltip("p10:Q", title="P10", format=",.2f"),
                alt.Tooltip("p90:Q", title="P90", format=",.2f"),
            ],
        )
    )
    long = f.melt(
        id_vars=["date", "month"],
        value_vars=["committed", "p50"],
        var_name="series",
        value_name="yuan",
    )
    long["series"] = long["series"].map(
        {"committed": COMMITTED, "p50": "已发证+新增 P50 committed + new P50"}
    )
    lines = (
        alt.Chart(long)
        .mark_line()
        .encode(
            x=x,
            y="yuan:Q",
            color=alt.Color(
                "series:N",
                title=None,
                legend=alt.Legend(orient="bottom"),
                scale=alt.Scale(range=["#555555", "#2c7bb6"]),
            ),
            tooltip=[
                alt.Tooltip("month:N", title="月份 month"),
                alt.Tooltip("series:N", title=""),
                alt.Tooltip("yuan:Q", title="元 yuan", format=",.2f"),
            ],
        )
    )
    layers: list = [band, lines]
    if baseline is not None:
        b = fan_frame(baseline)
        b["date"] = pd.to_datetime(b["month"] + "-01")
        b["series"] = "现行政策 P50 current policy"
        layers.append(
            alt.Chart(b)
            .mark_line(color="#000000", strokeDash=[6, 4], strokeWidth=1.5)
            .encode(
                x=x,
                y=alt.Y("p50:Q", scale=scale),
                tooltip=[
                    alt.Tooltip("month:N", title="月份 month"),
                    alt.Tooltip("series:N", title=""),
                    alt.Tooltip("p50:Q", title="元 yuan", format=",.2f"),
                ],
            )
        )
    return (
        alt.layer(*layers)
        .properties(
            title=title
            or "独生子女父母奖励金月度预算（P10–P90） monthly reward budget (P10–P90 band)",
            width=width,
            height=260,
        )
        .configure(font=FONT)
    )


def unit_frame(projection: BonusProjection) -> pd.DataFrame:
    """Per year and unit: ``committed`` and expected ``new`` (mean over draws), yuan, long form."""
    y = projection.table(("year", "unit_id"))
    years = np.array([int(v) for v in y["year"]]) if len(y) else np.array([], int)
    # Mean of new over draws per unit-year: exact sums in fen, one division at the end.
    months = (
        np.arange(projection.start_m, projection.start_m + projection.committed_fen.shape[1]) // 12
    )
    starts = np.flatnonzero(np.r_[True, months[1:] != months[:-1]][: len(months)])
    mean = np.zeros((len(starts), len(projection.units)))
    d = projection.new.n_draws
    if d:
        _, sums = projection.new.unit_periods(starts, qs=())  # (U, years)
        mean = sums.T / d / 100.0
    out = pd.DataFrame(
        {
            "year": years,
            "unit_id": y["unit_id"],
            "committed": _yuan(y["committed_yuan"]),
            "new": mean.reshape(-1) if len(y) else [],
        }
    )
    long = out.melt(
        id_vars=["year", "unit_id"],
        value_vars=["committed", "new"],
        var_name="kind",
        value_name="yuan",
    )
    long["kind"] = long["kind"].map({"committed": COMMITTED, "new": NEW_MEAN})
    return long[long["yuan"] > 0].reset_index(drop=True)


def unit_chart(
    projection: BonusProjection, title: str | None = None, width: int = 640
) -> alt.Chart:
    """Yearly payments stacked by unit: committed and expected new side by side for each year."""
    f = unit_frame(projection)
    f["year"] = f["year"].astype(str)
    return (
        alt.Chart(f)
        .mark_bar()
        .encode(
            x=alt.X("kind:N", title=None, axis=alt.Axis(labels=False, ticks=False)),
            y=alt.Y("sum(yuan):Q", title="元/年 yuan per year", stack="zero"),
            color=alt.Color("unit_id:N", title="单位 unit", scale=alt.Scale(scheme="tableau20")),
            opacity=alt.Opacity(
                "kind:N",
                title=None,
                scale=alt.Scale(domain=[COMMITTED, NEW_MEAN], range=[1.0, 0.5]),
            ),
            column=alt.Column("year:N", title="年度 year"),
            tooltip=[
                alt.Tooltip("year:N", title="年度 year"),
                alt.Tooltip("unit_id:N", title="单位 unit"),
                alt.Tooltip("kind:N", title=""),
                alt.Tooltip("sum(yuan):Q", title="元 yuan", format=",.2f"),
            ],
        )
        .properties(
            title=title
            or "各单位年度奖励金（已发证 + 新增均值） "
            "yearly reward by unit (committed + expected new)",
            width=max(60, width // 6),
            height=260,
        )
        .configure(font=FONT)
    )


def scenario_frame(compare: pd.DataFrame) -> pd.DataFrame:
    """``scenario``, ``month``, committed and committed + new P50 (yuan) from a bureau-level
    comparison."""
    c = _yuan(compare["committed_yuan"])
    return pd.DataFrame(
        {
            "scenario": compare["scenario"],
            "month": compare["month"],
            "committed": c,
            "total_p50": c + _yuan(compare["new_p50_yuan"]),
        }
    )


def scenario_chart(compare: pd.DataFrame, title: str | None = None, width: int = 640) -> alt.Chart:
    """Committed + new P50 per month, one line per scenario (baseline first)."""
    f = scenario_frame(compare)
    f["date"] = pd.to_datetime(f["month"] + "-01")
    order = list(dict.fromkeys(f["scenario"]))
    return (
        alt.Chart(f)
        .mark_line()
        .encode(
            x=alt.X("date:T", title="月份 month", axis=alt.Axis(format="%Y-%m")),
            y=alt.Y(
                "total_p50:Q", title="元/月（已发证+新增P50） yuan per month (committed + new P50)"
            ),
            color=alt.Color(
                "scenario:N", title="情景 scenario", sort=order, legend=alt.Legend(orient="bottom")
            ),
            tooltip=[
                alt.Tooltip("scenario:N", title="情景 scenario"),
                alt.Tooltip("month:N", title="月份 month"),
                alt.Tooltip("committed:Q", title="已发证 committed", format=",.2f"),
                alt.Tooltip("total_p50:Q", title="合计P50 total P50", format=",.2f"),
            ],
        )
        .properties(
            title=title or "情景比较 scenarios compared",
            width=width,
            height=260,
        )
        .configure(font=FONT)
    )
