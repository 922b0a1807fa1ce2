"""Altair charts of a relief (低保) round (rulebook §6): the pool and the budget line.

:func:`pool_chart` stacks the households by tier and FP priority type, one
bar per selection status; :func:`budget_chart` draws the monthly
entitlements consumed along the order money is paid, with the budget and the
cut line. Each is drawn from a small aggregated frame (:func:`pool_frame`,
:func:`budget_frame`, thinned to ``max_points``), so altair's 5,000-row limit
never bites; text is bilingual in ``Noto Sans CJK SC``.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from fpanalysis.core.privacy import mask_text

FONT = "Noto Sans CJK SC"
TIER_LABELS = {1: "一档 tier 1", 2: "二档 tier 2", 3: "三档 tier 3"}
NOT_ELIGIBLE = "不符合 not eligible"
FP_LABELS = {
    "only_daughter": "独女户 only-daughter",
    "two_daughters_sterilized": "二女结扎户 two daughters, sterilised",
    "infertile": "不育户 infertile",
}
NO_FP = "非优先 none"
SELECTION_LABELS = {
    "continuing": "继续保障 continuing",
    "admitted": "新纳入 admitted",
    "waiting": "候补未纳入 waiting",
    "not_eligible": "不符合条件 not eligible",
}
SELECTION_COLORS = {
    "continuing": "#2c7bb6",
    "admitted": "#1a9850",
    "waiting": "#fdae61",
    "not_eligible": "#bababa",
}


def _table(result: Any) -> pd.DataFrame:
    return result.table if hasattr(result, "table") else result


def pool_frame(result: Any) -> pd.DataFrame:
    """Households per tier, FP type and selection status (one row per combination present).

    Examples:
        >>> t = pd.DataFrame({"pool": ["all"] * 3, "tier": pd.array([1, 2, None], dtype="Int64"),
        ...     "fp_type": ["only_daughter", None, None],
        ...     "selection": ["continuing", "waiting", "not_eligible"]})
        >>> columns = ["tier_label", "fp_label", "selection_label", "households"]
        >>> pool_frame(t)[columns].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
        [['一档 tier 1', '独女户 only-daughter', '继续保障 continuing', 1],
         ['二档 tier 2', '非优先 none', '候补未纳入 waiting', 1],
         ['不符合 not eligible', '非优先 none', '不符合条件 not eligible', 1]]
    """
    t = _table(result)
    tier = t["tier"].where(t["selection"].ne("not_eligible"))
    f = pd.DataFrame(
        {
            "pool": t["pool"],
            "tier_label": tier.map(lambda v: TIER_LABELS.get(int(v), f"{v}"), na_action="ignore")
            .astype("str")
            .fillna(NOT_ELIGIBLE),
            "fp_label": t["fp_type"].map(FP_LABELS).astype("str").fillna(NO_FP),
            "selection": t["selection"],
        }
    )
    f["selection_label"] = f["selection"].map(SELECTION_LABELS)
    out = f.groupby(
        ["pool", "tier_label", "fp_label", "selection", "selection_label"], sort=False
    ).size()
    out = out.rename("households").reset_index()
    tier_order = [*TIER_LABELS.values(), NOT_ELIGIBLE]
    out["_t"] = out["tier_label"].map({v: i for i, v in enumerate(tier_order)})
    out["_s"] = out["selection"].map({v: i for i, v in enumerate(SELECTION_LABELS)})
    return (
        out.sort_values(["pool", "_t", "_s", "fp_label"], kind="mergesort")
        .drop(columns=["_t", "_s"])
        .reset_index(drop=True)
    )


def pool_chart(
    result: Any, title: str = "低保申请户：档次与计生类型 / Applicants by tier and FP type"
) -> alt.Chart:
    """Stacked bars: households per tier (x), FP type (colour), one row per selection status."""
    f = pool_frame(result)
    tier_order = [*TIER_LABELS.values(), NOT_ELIGIBLE]
    return (
        alt.Chart(f, title=title)
        .mark_bar()
        .encode(
            x=alt.X(
                "tier_label:N", sort=tier_order, title="档次 tier", axis=alt.Axis(labelAngle=-30)
            ),
            y=alt.Y("sum(households):Q", title="户数 households"),
            color=alt.Color(
                "fp_label:N", title="计生类型 FP type", sort=[*FP_LABELS.values(), NO_FP]
            ),
            column=alt.Column(
                "selection_label:N",
                sort=list(SELECTION_LABELS.values()),
                title="纳入情况 selection",
            ),
            tooltip=[
                "tier_label:N",
                "fp_label:N",
                "selection_label:N",
                alt.Tooltip("sum(households):Q", title="户数"),
            ],
        )
        .properties(width=150, height=220)
        .configure(font=FONT)
    )


def budget_frame(result: Any, pool: str | None = None, max_points: int = 2000) -> pd.DataFrame:
    """The cumulative monthly entitlement in the order money is paid, a row per eligible household.

    Continuing households come first (in rank order), then newcomers in rank
    order, waiting ones included (to show where the budget runs out).
    ``cumulative_yuan`` is whole yuan. Thinned to ``max_points`` rows, always
    keeping the last selected and the first waiting household.

    Examples:
        >>> t = pd.DataFrame({"pool": ["all"] * 3, "rank": pd.array([1, 2, None], dtype="Int64"),
        ...     "household_id": ["A", "B", "C"], "incumbent": [True, False, False],
        ...     "selection": ["continuing", "waiting", "not_eligible"],
        ...     "entitlement_yuan": pd.array([670, 470, None], dtype="Int64")})
        >>> budget_frame(t)[["order", "household_id", "cumulative_yuan"]].values.tolist()
        [[1, 'A', 670], [2, 'B', 1140]]
    """
    t = _table(result)
    if pool is None and "pool" in t and t["pool"].notna().any():
        pool = sorted(t["pool"].dropna().unique())[0]
    if pool is not None and "pool" in t:
        t = t[t["pool"].eq(pool)]
    e = t[t["rank"].notna()].copy()
    e["_new"] = ~e["incumbent"].astype(bool)
    e = e.sort_values(["_new", "rank"], kind="mergesort")
    ent = e["entitlement_yuan"].astype("int64")
    f = pd.DataFrame(
        {
            "order": np.arange(1, len(e) + 1),
            "rank": e["rank"].astype("int64").to_numpy(),
            # a household numbered by its head's ID is masked in a chart too (rulebook §7)
            "household_id": e["household_id"].map(mask_text).to_numpy(),
            "selection": e["selection"].to_numpy(),
            "entitlement_yuan": ent.to_numpy(),
            "cumulative_yuan": ent.cumsum().to_numpy(),
        }
    )
    f["selection_label"] = f["selection"].map(SELECTION_LABELS)
    if len(f) > max_points:
        step = int(np.ceil(len(f) / max_points))
        keep = (f.index % step == 0) | (f.index == len(f) - 1)
        sel = f["selection"].isin(["continuing", "admitted"])
        if sel.any():
            last = sel[sel].index[-1]
            keep |= f.index.isin([last, last + 1])
        f = f[keep]
    return f.reset_index(drop=True)


def budget_chart(
    result: Any,
    pool: str | None = None,
    budget_yuan: float | None = None,
    title: str = "月保障金累计与分界线 / Monthly entitlements along the ranking, and the cut line",
    *,
    baseline: Any = None,
    x_max: float | None = None,
    y_max: float | None = None,
) -> alt.LayerChart:
    """Cumulative entitlement along the payment order, the budget line and the cut line.

    Args:
        result: a :class:`fpanalysis.rules.relief.ReliefResult`.
        pool: which pool to draw (default: the first).
        budget_yuan: the budget line (default: the result's budget when it has a single one).
        baseline: another round (the current settings) drawn as a dashed black line.
        x_max, y_max: fixed ends of the axes, so that two settings compare by eye.
    """
    f = budget_frame(result, pool)
    if (
        budget_yuan is None
        and hasattr(result, "budget_yuan")
        and not isinstance(result.budget_yuan, dict)
    ):
        budget_yuan = result.budget_yuan
    base = alt.Chart(f, title=title)
    xs = alt.Scale(domain=[0, x_max]) if x_max else alt.Scale()
    ys = alt.Scale(domain=[0, y_max]) if y_max else alt.Scale()
    line = base.mark_line(color="#999999").encode(
        x=alt.X(
            "order:Q",
            title="支付顺序：先在保户，再按排名（提示中有排名） "
            "payment order: continuing first, then by rank (rank in the tooltip)",
            scale=xs,
        ),
        y=alt.Y("cumulative_yuan:Q", title="累计月保障金（元） cumulative yuan a month", scale=ys),
    )
    points = base.mark_circle(size=28).encode(
        x="order:Q",
        y="cumulative_yuan:Q",
        color=alt.Color(
            "selection_label:N",
            title="纳入情况 selection",
            scale=alt.Scale(
                domain=list(SELECTION_LABELS.values()), range=list(SELECTION_COLORS.values())
            ),
        ),
        tooltip=[
            alt.Tooltip("order:Q", title="支付顺序"),
            alt.Tooltip("rank:Q", title="排名"),
            alt.Tooltip("household_id:N", title="户编号"),
            alt.Tooltip("selection_label:N", title="纳入情况"),
            alt.Tooltip("entitlement_yuan:Q", title="月保障金（元）", format=",d"),
            alt.Tooltip("cumulative_yuan:Q", title="累计（元）", format=",d"),
        ],
    )
    layers: list[Any] = [line, points]
    if baseline is not None:
        b = budget_frame(baseline, pool)
        b = b[b["selection"].isin(["continuing", "admitted"])].assign(label="现行设置 baseline")
        layers.insert(
            0,
            alt.Chart(b)
            .mark_line(color="#000000", strokeDash=[6, 4])
            .encode(x="order:Q", y="cumulative_yuan:Q", tooltip=["label:N"]),
        )
    selected = f[f["selection"].isin(["continuing", "admitted"])]
    waiting = f[f["selection"].eq("waiting")]
    n_cont = int(f["selection"].eq("continuing").sum())
    if n_cont:
        block = pd.DataFrame(
            {"a": [0.5], "b": [n_cont + 0.5], "label": [f"在保户 {n_cont} 户 continuing"]}
        )
        layers.insert(
            0,
            alt.Chart(block)
            .mark_rect(color="#2c7bb6", opacity=0.08)
            .encode(x="a:Q", x2="b:Q", tooltip=["label:N"]),
        )
        layers.append(
            alt.Chart(block)
            .mark_text(align="left", baseline="top", dx=4, dy=4, color="#2c7bb6")
            .encode(x="a:Q", y=alt.value(0), text="label:N")
        )
    if not waiting.empty:
        cut_at = (selected["order"].max() if not selected.empty else 0) + 0.5
        first = int(waiting["rank"].iloc[0])
        label = f"分界线：排名第 {first} 名起候补 cut line: from rank {first} on, waiting"
        cut = pd.DataFrame({"order": [cut_at], "label": [label]})
        layers.append(
            alt.Chart(cut)
            .mark_rule(color="#d73027", strokeDash=[6, 3], strokeWidth=2)
            .encode(x="order:Q", tooltip=["label:N"])
        )
        layers.append(
            alt.Chart(cut)
            .mark_text(align="right", baseline="top", dx=-4, dy=20, color="#d73027")
            .encode(x="order:Q", y=alt.value(0), text="label:N")
        )
    if budget_yuan is not None:
        layers.append(
            alt.Chart(
                pd.DataFrame(
                    {
                        "cumulative_yuan": [float(budget_yuan)],
                        "label": [f"预算 budget {budget_yuan}"],
                    }
                )
            )
            .mark_rule(color="#2c7bb6")
            .encode(y="cumulative_yuan:Q", tooltip=["label:N"])
        )
    return alt.layer(*layers).properties(width=560, height=280).configure(font=FONT)
