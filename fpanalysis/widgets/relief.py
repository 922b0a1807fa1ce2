"""ipywidgets dashboard over a relief (低保) round (POLICY.md §6): move the quota, the budget or the standard.

:func:`cut_dashboard` shows sliders for the quota or the monthly budget and
for the urban and rural standards; every change reruns the round
(:func:`scenario`) and redraws the budget chart with its cut line, the
households either side of the line and a one-line summary. Names are masked
(POLICY.md §7). The pure helper :func:`scenario` carries the logic and is
tested without a browser.

A standard moved on the slider applies from the round's as-of date on (an
override of ``dibao_standard_yuan`` dated the as-of date), exactly as a
``--params`` file with that date would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as w
import pandas as pd
from IPython.display import display

from fpanalysis.params import Params
from fpanalysis.relief import ReliefResult, cut_line, last_recorded_date, rank_households

MODES = [("名额 quota", "quota"), ("预算 budget", "budget"), ("不限 no limit", "none")]


def scenario(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    as_of: Any = None,
    *,
    mode: str = "none",
    quota: int | None = None,
    budget_yuan: float | None = None,
    standards: Mapping[str, float] | None = None,
    pool: str = "all",
    previous_round: Any = None,
) -> ReliefResult:
    """One round with the dashboard's settings (a scenario changes only what it names).

    Args:
        mode: ``quota``, ``budget`` or ``none`` — which limit applies.
        standards: ``{"urban": 800, "rural": 620}``: standards in force from ``as_of`` on.

    Examples:
        >>> from fpanalysis.params import load_params
        >>> from fpanalysis.schema import coerce
        >>> hh = coerce("households", [{"household_id": "H1", "head_name": "张三", "area": "urban", "size": 1,
        ...     "monthly_income": 780.0, "application_date": "2025-03-01"}])
        >>> mm = coerce("household_members", [{"member_id": "M1", "household_id": "H1", "relation": "head", "sex": "M"}])
        >>> t = {"households": hh, "household_members": mm}
        >>> bool(scenario(t, load_params(), "2025-06-30").table.loc[0, "eligible"])
        False
        >>> r = scenario(t, load_params(), "2025-06-30", standards={"urban": 800})
        >>> bool(r.table.loc[0, "eligible"]), int(r.table.loc[0, "entitlement_yuan"])
        (True, 20)
    """
    as_of = last_recorded_date(tables) if as_of is None else pd.Timestamp(as_of).normalize()
    if standards:
        day = as_of.strftime("%Y-%m-%d")
        params = params.with_overrides(
            {"dibao_standard_yuan": {a: {day: v} for a, v in standards.items()}}
        )
    return rank_households(
        tables,
        params,
        as_of,
        quota=quota if mode == "quota" else None,
        budget_yuan=budget_yuan if mode == "budget" else None,
        pool=pool,
        previous_round=previous_round,
    )


def summary(result: ReliefResult) -> str:
    """One line: selected (continuing, admitted), waiting, the monthly total."""
    n = result.table["selection"].value_counts()
    total = int(result.selected["entitlement_yuan"].astype("int64").sum())
    return (
        f"拟纳入 {len(result.selected)} 户（继续 {n.get('continuing', 0)}，新纳入 {n.get('admitted', 0)}），"
        f"候补 {n.get('waiting', 0)} 户，月保障金 {total} 元 / selected {len(result.selected)} "
        f"({n.get('continuing', 0)} continuing, {n.get('admitted', 0)} admitted), {n.get('waiting', 0)} waiting, "
        f"{total} yuan a month"
    )


def cut_dashboard(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    as_of: Any = None,
    *,
    quota: int | None = None,
    budget_yuan: float | None = None,
    pool: str = "all",
    lang: str = "zh",
) -> w.Widget:
    """Sliders for the quota / budget and the standards; the cut line redraws as they move."""
    from fpanalysis.charts.relief import budget_chart
    from fpanalysis.io import localize
    from fpanalysis.privacy import mask_frame

    if pool == "separate":
        pool = "all"  # one chart, one line: the dashboard explores a single pool
    as_of = last_recorded_date(tables) if as_of is None else pd.Timestamp(as_of).normalize()
    base = rank_households(tables, params, as_of, pool=pool)
    eligible = base.table[base.table["rank"].notna()]
    n_eligible = len(eligible)
    full_cost = int(eligible["entitlement_yuan"].astype("int64").sum()) if n_eligible else 0
    mode = w.ToggleButtons(
        options=MODES,
        value="quota" if quota is not None else ("budget" if budget_yuan is not None else "none"),
        description="限制 limit",
    )
    quota_s = w.IntSlider(
        value=int(quota if quota is not None else n_eligible),
        min=0,
        max=max(n_eligible, 1),
        description="名额 quota",
        continuous_update=False,
    )
    step = 100
    budget_max = max(int(full_cost * 1.2 // step * step + step), step)
    budget_s = w.IntSlider(
        value=int(budget_yuan if budget_yuan is not None else full_cost),
        min=0,
        max=budget_max,
        step=step,
        description="预算 budget",
        continuous_update=False,
        layout=w.Layout(width="480px"),
    )
    std = {a: params.dibao_standard(a, as_of) for a in ("urban", "rural")}
    std_s = {
        a: w.IntSlider(
            value=int(round(v)),
            min=0,
            max=int(round(v * 2)),
            step=10,
            description=("城镇标准 urban" if a == "urban" else "农村标准 rural"),
            continuous_update=False,
        )
        for a, v in std.items()
    }
    out = w.Output()

    def refresh(*_):
        out.clear_output(wait=True)
        with out:
            changed = {a: s.value for a, s in std_s.items() if s.value != int(round(std[a]))}
            r = scenario(
                tables,
                params,
                as_of,
                mode=mode.value,
                quota=quota_s.value,
                budget_yuan=budget_s.value,
                standards=changed or None,
                pool=pool,
            )
            print(summary(r))
            for z, e in r.notes:
                print(f"注意 {z} / note: {e}")
            display(budget_chart(r, budget_yuan=budget_s.value if mode.value == "budget" else None))
            cut = cut_line(r)
            if len(cut):
                display(localize(mask_frame(cut), lang))

    for c in (mode, quota_s, budget_s, *std_s.values()):
        c.observe(refresh, names="value")
    refresh()
    return w.VBox([mode, w.HBox([quota_s, budget_s]), w.HBox(list(std_s.values())), out])
