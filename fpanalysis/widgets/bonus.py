"""ipywidgets dashboard over the reward budget (rulebook §5): sliders for amount, age cap, uptake
and horizon re-project the compressed :class:`~fpanalysis.rules.bonus.BonusModel` and redraw the fan
chart (inline SVG in an ``ipywidgets.HTML``, never an ``Output`` widget) and a one-line summary; a
slider value applies from the start month on, as a ``--params`` file dated that day would. The pure
helpers :func:`slider_params` and :func:`reproject` carry the logic and run without a browser."""

from __future__ import annotations

import html
import io
from typing import Any

import altair as alt
import ipywidgets as w

from fpanalysis.core.errors import FPError
from fpanalysis.core.params import Params
from fpanalysis.rules.bonus import DEFAULT_DRAWS, BonusModel, BonusProjection, month_start

# Bilingual slider labels in full (the default label width cuts "领证率 uptake" to "领证率 upt...").
LABEL_STYLE = {"description_width": "initial"}


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
    p10, p50, p90 = (c + r[f"new_{q}_yuan"] for q in ("p10", "p50", "p90"))
    return (
        f"{months[0]}–{months[-1]}：已发证 {c} 元；合计 P10 {p10} / P50 {p50} / P90 {p90} 元 | "
        f"committed {c} yuan; with new certificates P10 {p10} / P50 {p50} / P90 {p90}"
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
        >>> line = error_html(FPError("参数无效", "invalid parameter", value=-1))
        >>> line.removeprefix('<p class="fp-error">无法重算 could not recompute: ')
        '参数无效 [值 -1] / invalid parameter [value -1]</p>'
    """
    if isinstance(exc, FPError):
        text = f"{exc.text('zh')} / {exc.text('en')}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return f'<p class="fp-error">无法重算 could not recompute: {html.escape(text)}</p>'


def dashboard_html(projection: BonusProjection) -> str:
    """What the dashboard shows for one projection: the summary line and the fan chart (SVG)."""
    from fpanalysis.charts.bonus import fan_chart

    return f"<p>{html.escape(summary(projection))}</p>" + chart_svg(fan_chart(projection))


def _slider(kind: type, value: Any, description: str, **bounds: Any) -> w.Widget:
    """A slider that applies its value when released, with its bilingual label in full."""
    return kind(
        value=value,
        **bounds,
        description=description,
        continuous_update=False,
        style=LABEL_STYLE,
    )


def budget_dashboard(
    model: BonusModel,
    params: Params,
    *,
    months: int = 36,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
) -> w.Widget:
    """Sliders for amount, age cap, uptake and horizon; the fan chart redraws as they move.

    Returns:
        ``VBox([HBox([amount, cap]), HBox([uptake, horizon]), view])``, where
        ``view`` is an ``ipywidgets.HTML`` holding :func:`dashboard_html` (or
        :func:`error_html` when a setting cannot be projected; the sliders stay
        usable).
    """
    day = month_start(model.start_m)
    amount = _slider(
        w.FloatSlider,
        float(params.at("reward_monthly_yuan", day)),
        "月金额 yuan",
        min=0,
        max=200,
        step=5,
        readout_format=".0f",
    )
    cap = _slider(
        w.IntSlider, int(params.at("reward_age_cap", day)), "年龄上限 cap", min=10, max=22
    )
    uptake = _slider(
        w.FloatSlider, float(params.at("uptake", day)), "领证率 uptake", min=0, max=1, step=0.05
    )
    longest = model.cohorts.max_months or 120
    horizon = _slider(
        w.IntSlider, int(months), "月数 months", min=min(12, longest), max=longest, step=12
    )
    # An HTML widget, not an Output widget: the callback only assigns a string, so nothing
    # is captured from the kernel's output stream and no clear_output can hang the page.
    view = w.HTML()

    def refresh(*_):
        try:
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
            view.value = dashboard_html(pr)
        except FPError as exc:
            # e.g. a parameter check refusing a slider value: say so instead of a stale chart
            view.value = error_html(exc)
        except Exception as exc:
            view.value = error_html(exc)
            raise  # a bug: also into the kernel's log

    for s in (amount, cap, uptake, horizon):
        s.observe(refresh, names="value")
    refresh()
    return w.VBox([w.HBox([amount, cap]), w.HBox([uptake, horizon]), view])
