"""ipywidgets dashboard over the reward budget (POLICY.md §5): amount, age cap, uptake, horizon.

:func:`budget_dashboard` shows four sliders; every change re-projects from the
compressed :class:`~fpanalysis.bonus.BonusModel` (cohorts and new-certificate
groups, built once) and redraws the fan chart and a one-line summary. The pure
helpers :func:`slider_params` and :func:`reproject` carry the logic and are
tested (and timed in ``benchmarks/bench_bonus.py``) without a browser.

A slider value applies from the projection's start month on (an override
dated the first day of the start month), exactly as a ``--params`` file with
that date would; a value equal to the one in force leaves the parameter alone.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
from IPython.display import display

from fpanalysis.bonus import DEFAULT_DRAWS, BonusModel, BonusProjection, month_start
from fpanalysis.params import Params


def slider_params(
    params: Params,
    start_m: int,
    *,
    amount_yuan: float | None = None,
    age_cap: int | None = None,
    uptake: float | None = None,
) -> Params:
    """``params`` with the sliders' values in force from the start month on.

    Examples:
        >>> from fpanalysis.params import load_params
        >>> from fpanalysis.bonus import parse_month
        >>> p = slider_params(load_params(), parse_month("2026-01"), amount_yuan=30, age_cap=18)
        >>> p.at("reward_monthly_yuan", "2025-12-31"), p.at("reward_monthly_yuan", "2026-01-01")
        (20, 30)
        >>> p.at("reward_age_cap", "2026-01-01")
        18
    """
    day = month_start(start_m).isoformat()
    ov: dict[str, Any] = {}
    for name, value in (
        ("reward_monthly_yuan", amount_yuan),
        ("reward_age_cap", age_cap),
        ("uptake", uptake),
    ):
        if value is not None and value != params.at(name, day):
            ov[name] = {day: value}
    return params.with_overrides(ov) if ov else params


def reproject(
    model: BonusModel,
    params: Params,
    *,
    amount_yuan: float | None = None,
    age_cap: int | None = None,
    uptake: float | None = None,
    months: int = 36,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
) -> BonusProjection:
    """One widget change: new parameters, the projection re-run from the compressed model only."""
    p = slider_params(
        params, model.start_m, amount_yuan=amount_yuan, age_cap=age_cap, uptake=uptake
    )
    return model.project(p, months=months, draws=draws, seed=seed)


def summary(projection: BonusProjection) -> str:
    """One line: the horizon's committed total and committed + new at P10/P50/P90 (bureau level)."""
    t = projection.table(())
    r = t.iloc[0]
    c = r["committed_yuan"]
    months = projection.months
    return (
        f"{months[0]}–{months[-1]}：已发证 {c} 元；合计 P10 {c + r['new_p10_yuan']} / P50 "
        f"{c + r['new_p50_yuan']} / P90 {c + r['new_p90_yuan']} 元 | committed {c} yuan; with new "
        f"certificates P10 {c + r['new_p10_yuan']} / P50 {c + r['new_p50_yuan']} / P90 {c + r['new_p90_yuan']}"
    )


def budget_dashboard(
    model: BonusModel,
    params: Params,
    *,
    months: int = 36,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
) -> w.Widget:
    """Sliders for amount, age cap, uptake and horizon; the fan chart redraws as they move."""
    from fpanalysis.charts.bonus import fan_chart

    day = month_start(model.start_m)
    amount = w.FloatSlider(
        value=float(params.at("reward_monthly_yuan", day)),
        min=0,
        max=200,
        step=5,
        description="月金额 yuan",
        continuous_update=False,
        readout_format=".0f",
    )
    cap = w.IntSlider(
        value=int(params.at("reward_age_cap", day)),
        min=10,
        max=22,
        description="年龄上限 cap",
        continuous_update=False,
    )
    uptake = w.FloatSlider(
        value=float(params.at("uptake", day)),
        min=0,
        max=1,
        step=0.05,
        description="领证率 uptake",
        continuous_update=False,
    )
    longest = model.cohorts.max_months or 120
    horizon = w.IntSlider(
        value=int(months),
        min=min(12, longest),
        max=longest,
        step=12,
        description="月数 months",
        continuous_update=False,
    )
    out = w.Output()

    def refresh(*_):
        pr = reproject(
            model,
            params,
            amount_yuan=amount.value,
            age_cap=cap.value,
            uptake=uptake.value,
            months=horizon.value,
            draws=draws,
            seed=seed,
        )
        out.clear_output(wait=True)
        with out:
            print(summary(pr))
            display(fan_chart(pr))

    for s in (amount, cap, uptake, horizon):
        s.observe(refresh, names="value")
    refresh()
    return w.VBox([w.HBox([amount, cap]), w.HBox([uptake, horizon]), out])
