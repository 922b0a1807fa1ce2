"""ipywidgets dashboard over the reward budget (rulebook §5): amount, age cap, uptake, horizon.

:func:`budget_dashboard` shows four sliders and a fixed-axis switch; every change re-projects
from the compressed :class:`~fpanalysis.rules.bonus.BonusModel` (cohorts and new-certificate
groups, built once) and redraws, against current policy (drawn dashed), the line saying what
the setting costs more or less a year, a one-line summary and the fan chart. The pure helpers
:func:`slider_params` and :func:`reproject` carry the logic and are tested (and timed in
``benchmarks/bench_bonus.py``) without a browser.

The view is one ``ipywidgets.HTML`` widget (the chart as inline SVG made by vl-convert,
:func:`chart_svg`), never an ``Output`` widget, which hung papermill and Voilà now and then
when refreshed from a callback; it needs no renderer and no network.

A slider value applies from the projection's start month on (an override
dated the first day of the start month), exactly as a ``--params`` file with
that date would; a value equal to the one in force leaves the parameter alone.
"""

from __future__ import annotations

import html
import io
from typing import Any

import altair as alt
import ipywidgets as w

from fpanalysis.core.errors import FPError
from fpanalysis.core.params import Params
from fpanalysis.rules.bonus import DEFAULT_DRAWS, BonusModel, BonusProjection, month_start
from fpanalysis.rules.findings import bonus as bonus_findings
from fpanalysis.rules.findings import money
from fpanalysis.widgets.common import Dashboard, busy_html, slider

# the sliders, as keyword arguments of :func:`slider_params`, and the parameters they set
SLIDER_PARAMS = {
    "amount_yuan": "reward_monthly_yuan",
    "age_cap": "reward_age_cap",
    "uptake": "uptake",
}


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
        >>> from fpanalysis.core.params import load_params
        >>> from fpanalysis.rules.bonus import parse_month
        >>> p = slider_params(load_params(), parse_month("2026-01"), amount_yuan=30, age_cap=18)
        >>> p.at("reward_monthly_yuan", "2025-12-31"), p.at("reward_monthly_yuan", "2026-01-01")
        (20, 30)
        >>> p.at("reward_age_cap", "2026-01-01")
        18
    """
    day = month_start(start_m).isoformat()
    ov: dict[str, Any] = {}
    for name, value in zip(SLIDER_PARAMS.values(), (amount_yuan, age_cap, uptake), strict=True):
        if value is not None and value != params.at(name, day):
            ov[name] = {day: value}
    return params.with_overrides(ov) if ov else params


def reproject(
    model: BonusModel,
    params: Params,
    *,
    months: int = 36,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    **sliders: float | None,
) -> BonusProjection:
    """One widget change: new parameters, the projection re-run from the compressed model only.

    ``sliders``: ``amount_yuan``, ``age_cap``, ``uptake`` as in :func:`slider_params`."""
    p = slider_params(params, model.start_m, **sliders)
    return model.project(p, months=months, draws=draws, seed=seed)


def summary(projection: BonusProjection) -> str:
    """One line: the horizon's committed total and committed + new at P10/P50/P90 (bureau level).

    Examples:
        >>> import numpy as np
        >>> pr = BonusProjection(24300, ("U1",), np.array([[2000, 2000]]),
        ...                      np.array([[[0, 1000]], [[0, 3000]]]))
        >>> print(summary(pr).replace(" | ", "\\n"))
        2025-01–2025-02：已发证 ¥40.00；合计 P10 ¥50.00 / P50 ¥50.00 / P90 ¥70.00
        committed ¥40.00; with new certificates P10 ¥50.00 / P50 ¥50.00 / P90 ¥70.00
    """
    r = projection.table(()).iloc[0]
    c = r["committed_yuan"]
    p10, p50, p90 = (money(c + r[f"new_{q}_yuan"]) for q in ("p10", "p50", "p90"))
    months = projection.months
    return (
        f"{months[0]}–{months[-1]}：已发证 {money(c)}；合计 P10 {p10} / P50 {p50} / P90 {p90} | "
        f"committed {money(c)}; with new certificates P10 {p10} / P50 {p50} / P90 {p90}"
    )


def chart_svg(chart: alt.TopLevelMixin) -> str:
    """The chart as an SVG document (vl-convert, offline), for an HTML widget.

    The same chart gives the same bytes (no ids, no timestamps).

    Examples:
        >>> import pandas as pd
        >>> svg = chart_svg(alt.Chart(pd.DataFrame({"x": [1, 2]})).mark_bar().encode(x="x:Q"))
        >>> svg.startswith("<svg") and 'class="marks"' in svg
        True
    """
    buf = io.StringIO()
    chart.save(buf, format="svg")
    return buf.getvalue()


def error_html(exc: Exception) -> str:
    """A failed redraw as a short bilingual line (an :class:`FPError` in its own words), escaped.

    Examples:
        >>> for part in error_html(FPError("参数无效", "invalid parameter", value=-1)).split(" / "):
        ...     print(part)
        <p class="fp-error">无法重算 could not recompute: 参数无效 [值 -1]
        invalid parameter [value -1]</p>
    """
    if isinstance(exc, FPError):
        text = f"{exc.text('zh')} / {exc.text('en')}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return f'<p class="fp-error">无法重算 could not recompute: {html.escape(text)}</p>'


def versus_line(
    projection: BonusProjection, baseline: BonusProjection, changes: dict, lang: str = "zh"
) -> str:
    """The setting against current policy over the first calendar year the horizon covers in
    full: "每年多支出 ¥X（P10–P90 ¥A–¥B）", or that it is current policy."""
    if not changes:
        return "现行政策（未调整） / current policy (nothing changed)"
    zh, en = bonus_findings.change_label(changes)
    year = bonus_findings.quoted_year(projection)
    v = bonus_findings.versus(baseline, projection, year)
    line = bonus_findings.versus_sentence(v, zh, en)
    return line.text(lang)


def dashboard_html(
    projection: BonusProjection,
    *,
    baseline: BonusProjection | None = None,
    changes: dict | None = None,
    y_max: float | None = None,
    lang: str = "zh",
) -> str:
    """What the dashboard shows for one projection: the difference from current policy (when
    ``baseline`` is given), the summary line and the fan chart (SVG, current policy dashed)."""
    from fpanalysis.charts.bonus import fan_chart

    parts = []
    if baseline is not None:
        text = versus_line(projection, baseline, changes or {}, lang)
        parts.append(f'<p class="fp-versus"><b>{html.escape(text)}</b></p>')
    parts.append(f"<p>{html.escape(summary(projection))}</p>")
    chart = fan_chart(projection, baseline=baseline, y_max=y_max)
    return "".join(parts) + chart_svg(chart)


def budget_dashboard(
    model: BonusModel,
    params: Params,
    *,
    months: int = 36,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    lang: str = "zh",
) -> w.Widget:
    """Sliders for amount, age cap, uptake and horizon and a fixed-axis switch; the fan chart
    and the difference from current policy redraw as they move.

    Returns:
        ``Dashboard([HBox([amount, cap]), HBox([uptake, horizon, fixed]), view])``, where
        ``view`` is an ``ipywidgets.HTML`` holding :func:`dashboard_html` (the "computing…"
        line while it recomputes; :func:`error_html` when a setting cannot be projected, the
        sliders staying usable).
    """
    day = month_start(model.start_m)
    current = {
        "reward_monthly_yuan": float(params.at("reward_monthly_yuan", day)),
        "reward_age_cap": int(params.at("reward_age_cap", day)),
        "uptake": float(params.at("uptake", day)),
    }
    amount = slider(
        w.FloatSlider,
        "月金额（元） amount",
        current["reward_monthly_yuan"],
        min=0,
        max=200,
        step=5,
        readout_format=".0f",
    )
    cap = slider(w.IntSlider, "发放至孩子年龄 age cap", current["reward_age_cap"], min=10, max=22)
    uptake = slider(w.FloatSlider, "领证率 uptake", current["uptake"], min=0, max=1, step=0.05)
    longest = model.cohorts.max_months or 120
    horizon = slider(
        w.IntSlider, "预测月数 months", int(months), min=min(12, longest), max=longest, step=12
    )
    fixed = w.Checkbox(value=True, description="固定纵轴 fixed axis", indent=False)
    view = w.HTML()
    baselines: dict[int, BonusProjection] = {}

    def baseline_for(n: int) -> BonusProjection:
        if n not in baselines:
            baselines[n] = model.project(params, months=n, draws=draws, seed=seed)
        return baselines[n]

    def refresh(*_):
        view.value = busy_html(lang) + view.value
        try:
            sliders = {"amount_yuan": amount.value, "age_cap": cap.value, "uptake": uptake.value}
            pr = reproject(model, params, months=horizon.value, draws=draws, seed=seed, **sliders)
            base = baseline_for(horizon.value)
            values = {SLIDER_PARAMS[k]: v for k, v in sliders.items()}
            changes = {k: (current[k], v) for k, v in values.items() if v != current[k]}
            y_max = None
            if fixed.value:
                from fpanalysis.charts.bonus import fan_frame

                # still while a setting stays within 2.5 times current policy's top; never clips
                top = float(fan_frame(base)["p90"].max()) * 2.5
                y_max = max(top, float(fan_frame(pr)["p90"].max()) * 1.05) or 1.0
            view.value = dashboard_html(pr, baseline=base, changes=changes, y_max=y_max, lang=lang)
        except FPError as exc:
            # e.g. a parameter check refusing a slider value: say so instead of a stale chart
            view.value = error_html(exc)
        except Exception as exc:
            view.value = error_html(exc)
            raise  # a bug: also into the kernel's log

    for s in (amount, cap, uptake, horizon, fixed):
        s.observe(refresh, names="value")
    refresh()
    return Dashboard([w.HBox([amount, cap]), w.HBox([uptake, horizon, fixed]), view])
