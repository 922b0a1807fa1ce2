"""ipywidgets dashboard over a relief (低保) round (rulebook §6, §7).

:func:`cut_dashboard` shows sliders for the quota or the monthly budget and
for the urban and rural standards; every change reruns the round
(:func:`scenario`: a standard moved applies from the round's as-of date on)
and redraws, into one ``ipywidgets.HTML`` widget (:func:`dashboard_html`),
what changes against the starting settings ("N more households enter, ¥Y more
a month"), a one-line summary, the budget chart with its cut line and the
starting settings dashed, and the households either side of the line (names
masked). The quota slider starts at the continuing households: below them
every quota gives the same round (rulebook §6.9, :data:`QUOTA_MEANING`).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import ipywidgets as w
import pandas as pd

from fpanalysis.core.errors import FPError
from fpanalysis.core.params import Params
from fpanalysis.rules.findings import QUOTA_MEANING, money
from fpanalysis.rules.findings import relief as relief_findings
from fpanalysis.rules.relief import ReliefResult, cut_line, default_as_of, rank_households
from fpanalysis.widgets.bonus import chart_svg, error_html
from fpanalysis.widgets.common import Dashboard, busy_html, slider, with_style

MODES = [("名额 quota", "quota"), ("预算 budget", "budget"), ("不限（应保尽保） no limit", "none")]


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
        >>> from fpanalysis.core.params import load_params
        >>> from fpanalysis.core.schema import coerce
        >>> hh = coerce("households", [
        ...     {"household_id": "H1", "head_name": "张三", "area": "urban", "size": 1,
        ...      "monthly_income": 780.0, "application_date": "2025-03-01"}])
        >>> mm = coerce("household_members", [
        ...     {"member_id": "M1", "household_id": "H1", "relation": "head", "sex": "M"}])
        >>> t = {"households": hh, "household_members": mm}
        >>> bool(scenario(t, load_params(), "2025-06-30").table.loc[0, "eligible"])
        False
        >>> r = scenario(t, load_params(), "2025-06-30", standards={"urban": 800})
        >>> bool(r.table.loc[0, "eligible"]), int(r.table.loc[0, "entitlement_yuan"])
        (True, 20)
    """
    as_of = default_as_of(tables) if as_of is None else pd.Timestamp(as_of).normalize()
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
    chosen = len(result.selected)
    going, admitted, waiting = (n.get(k, 0) for k in ("continuing", "admitted", "waiting"))
    return (
        f"拟纳入 {chosen} 户（继续 {going}，新纳入 {admitted}），"
        f"候补 {waiting} 户，月保障金 {money(total)} / selected {chosen} "
        f"({going} continuing, {admitted} admitted), {waiting} waiting, "
        f"{money(total)} a month"
    )


def dashboard_html(
    result: ReliefResult,
    budget_yuan: float | None = None,
    lang: str = "zh",
    reveal: bool = False,
    *,
    baseline: ReliefResult | None = None,
    x_max: float | None = None,
    y_max: float | None = None,
) -> str:
    """What the dashboard shows for one round, as HTML: the difference from ``baseline`` (when
    given), the summary, notes, the budget chart (``baseline`` dashed) and the cut line.

    The households either side of the cut line are masked (rulebook §7) unless ``reveal``, with
    headers and labels in ``lang`` (:func:`fpanalysis.charts.tables.table_html`); every text is
    escaped and the chart is inline SVG (:func:`fpanalysis.widgets.bonus.chart_svg`).

    Args:
        budget_yuan: the budget line to draw (``None``: none).
    """
    from fpanalysis.charts.relief import budget_chart
    from fpanalysis.charts.tables import table_html
    from fpanalysis.core.privacy import mask_frame

    parts = []
    if baseline is not None:
        line = relief_findings.versus_sentence(relief_findings.versus(baseline, result))
        parts.append(f'<p class="fp-versus"><b>{html.escape(line.text(lang))}</b></p>')
    parts.append(f"<p>{html.escape(summary(result))}</p>")
    parts.append(
        f"<p>{html.escape(relief_findings.cut_sentence(relief_findings.round_figures(result)).text(lang))}</p>"
    )
    parts += [f"<p>注意 {html.escape(z)} / note: {html.escape(e)}</p>" for z, e in result.notes]
    chart = budget_chart(
        result, budget_yuan=budget_yuan, baseline=baseline, x_max=x_max, y_max=y_max
    )
    parts.append(chart_svg(chart))
    cut = cut_line(result)
    if len(cut):
        other = "separated_by_en" if lang == "zh" else "separated_by_zh"
        parts.append("<p>分界线两侧 either side of the cut line</p>")
        parts.append(table_html(mask_frame(cut.drop(columns=[other]), reveal=reveal), lang))
    return with_style("".join(parts))


STAGE_LABELS = {
    "proposed": ("拟定（排序方案，待评议）", "proposed (the ranking, awaiting the committee)"),
    "decided": ("已评议（待公示）", "decided by the committee (to be posted)"),
    "noticed": ("已公示（待审批）", "posted (awaiting approval)"),
    "approved": ("已审批", "approved"),
}


def procedure_html(proc: Mapping[str, Any] | None, lang: str = "zh", reveal: bool = False) -> str:
    """A relief round's stage in the committee's procedure and its departures, as HTML.

    Args:
        proc: what :meth:`fpanalysis.register.Register.procedure` returns for the round
            (None: the register holds no relief round).
        reveal: show the approver's name (masked by default, rulebook §7).

    The departures are the committee's decisions other than a plain confirmation (reject,
    change tier, admit out of order) with their reasons and the households an admission
    passed over; then the notice's period and the objections. Only keys are shown: the
    register holds no citizen's name.
    """
    from fpanalysis.core.privacy import mask_name
    from fpanalysis.io import localize
    from fpanalysis.rules.relief import DECISION_LABELS

    zh = lang == "zh"
    e = html.escape
    if proc is None:
        return (
            "<p>" + e("登记簿中没有低保轮次" if zh else "no relief round in the register") + "</p>"
        )
    chain = " → ".join(r for r in (proc["proposal"], proc["decided"], proc["approved"]) if r)
    stage = STAGE_LABELS[proc["stage"]][0 if zh else 1]
    parts = [
        f"<p><b>{e('阶段' if zh else 'stage')}</b>: {e(stage)}（{e(chain)}）</p>"
        if zh
        else f"<p><b>stage</b>: {e(stage)} ({e(chain)})</p>"
    ]
    dep = proc["departures"]
    if proc["decided"] is None:
        parts.append(
            "<p>"
            + e("尚未评议：名单即排序方案" if zh else "not decided yet: the list is the ranking")
            + "</p>"
        )
    elif dep.empty:
        parts.append(
            "<p>"
            + e(
                "评议会同意了全部方案，没有偏离排序"
                if zh
                else "the committee confirmed the whole proposal"
            )
            + "</p>"
        )
    else:
        shown = dep[
            [
                "household_id",
                "rank",
                "proposed_tier",
                "decision",
                "decided_tier",
                "reason",
                "passes_over",
            ]
        ].copy()
        shown["decision"] = shown["decision"].map(
            lambda c: DECISION_LABELS.get(c, (c, c))[0 if zh else 1]
        )
        shown = shown.rename(columns={"reason": "decision_reason"})
        shown = localize(shown, lang)
        shown = shown.astype(object).where(shown.notna(), "")
        title = "偏离排序的评议决定" if zh else "departures from the rank order"
        parts.append(f"<p>{e(title)}</p>" + shown.to_html(index=False, escape=True))
    n = proc["notices"]
    if len(n):
        x = n.iloc[-1]
        parts.append(
            "<p>"
            + e(
                f"公示：{x['first_day']} 至 {x['last_day']}（{x['days']} 天）"
                if zh
                else f"notice: {x['first_day']} to {x['last_day']} ({x['days']} days)"
            )
            + "</p>"
        )
    o = proc["objections"]
    if len(o):
        shown = o[["objection_id", "household_id", "raised_on", "outcome", "closed_on"]]
        shown = shown.astype(object).where(shown.notna(), "")
        parts.append(
            f"<p>{e('异议' if zh else 'objections')}</p>" + shown.to_html(index=False, escape=True)
        )
    a = proc["approval"]
    if a is not None:
        who = a["approved_by"] if reveal else mask_name(a["approved_by"])
        parts.append(
            "<p>"
            + e(
                f"审批：{a['approved_on']}，审批人 {who}"
                if zh
                else f"approved on {a['approved_on']} by {who}"
            )
            + "</p>"
        )
    return "".join(parts)


def cut_dashboard(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    as_of: Any = None,
    *,
    quota: int | None = None,
    budget_yuan: float | None = None,
    pool: str = "all",
    lang: str = "zh",
    reveal: bool = False,
    procedure: Mapping[str, Any] | None = None,
) -> w.Widget:
    """Sliders for the quota / budget and the standards and a fixed-axes switch; the cut line
    and the difference from the starting settings redraw as they move.

    Args:
        reveal: show names and ID numbers in the cut-line table (``--reveal-pii``);
            masked by default (rulebook §7).
        procedure: :meth:`fpanalysis.register.Register.procedure` of the register's last
            relief round: its stage and departures are shown below (:func:`procedure_html`).

    Returns:
        ``Dashboard([mode, HBox([quota, budget]), meaning, HBox([urban, rural, fixed]),
        view])``, where ``meaning`` says what a quota is (:data:`QUOTA_MEANING`) and ``view``
        is an ``ipywidgets.HTML`` holding :func:`dashboard_html` (the "computing…" line while it
        recomputes, or a bilingual error line when a setting cannot be run).
    """
    if pool == "separate":
        pool = "all"  # one chart, one line: the dashboard explores a single pool
    as_of = default_as_of(tables) if as_of is None else pd.Timestamp(as_of).normalize()
    base = rank_households(tables, params, as_of, pool=pool)
    eligible = base.table[base.table["rank"].notna()]
    n_eligible = len(eligible)
    n_continuing = int(base.table["selection"].eq("continuing").sum())
    full_cost = int(eligible["entitlement_yuan"].astype("int64").sum()) if n_eligible else 0
    start_mode = "quota" if quota is not None else ("budget" if budget_yuan is not None else "none")
    mode = w.ToggleButtons(options=MODES, value=start_mode, description="限制 limit")
    q_min = min(n_continuing, int(quota)) if quota is not None else n_continuing
    quota_s = slider(
        w.IntSlider,
        "名额（户） quota",
        int(quota if quota is not None else n_eligible),
        min=min(q_min, max(n_eligible, 1)),
        max=max(n_eligible, 1),
    )
    step = 100
    budget_max = max(int(full_cost * 1.2 // step * step + step), step)
    budget_s = slider(
        w.IntSlider,
        "每月预算（元） budget",
        int(budget_yuan if budget_yuan is not None else full_cost),
        min=0,
        max=budget_max,
        step=step,
        layout=w.Layout(width="480px"),
    )
    meaning = w.HTML(
        f'<p class="fp-note">{html.escape(QUOTA_MEANING[0] if lang == "zh" else QUOTA_MEANING[1])}'
        f"（在保户 {n_continuing} 户 / {n_continuing} continuing）</p>"
    )
    std = {a: params.dibao_standard(a, as_of) for a in ("urban", "rural")}
    # From 10 yuan, not 0: a standard of 0 makes no round (the ranking divides by it).
    std_s = {
        a: slider(
            w.IntSlider,
            "城镇标准（元） urban" if a == "urban" else "农村标准（元） rural",
            int(round(v)),
            min=10,
            max=int(round(v * 2)),
            step=10,
        )
        for a, v in std.items()
    }
    fixed = w.Checkbox(value=True, description="固定坐标轴 fixed axes", indent=False)
    view = w.HTML()
    start = scenario(
        tables, params, as_of, mode=start_mode, quota=quota, budget_yuan=budget_yuan, pool=pool
    )

    def refresh(*_):
        quota_s.disabled = mode.value != "quota"
        budget_s.disabled = mode.value != "budget"
        view.value = busy_html(lang) + view.value
        changed = {a: s.value for a, s in std_s.items() if s.value != int(round(std[a]))}
        try:
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
            x_max = y_max = None
            if fixed.value:
                # still unless a standard moved up adds households or money beyond the start's
                ranked = r.table[r.table["rank"].notna()]
                x_max = max(n_eligible, len(ranked)) + 1
                cost = int(ranked["entitlement_yuan"].astype("int64").sum()) if len(ranked) else 0
                y_max = max(full_cost, budget_max, cost) * 1.05 or 1.0
            view.value = dashboard_html(
                r,
                budget_yuan=budget_s.value if mode.value == "budget" else None,
                lang=lang,
                reveal=reveal,
                baseline=start,
                x_max=x_max,
                y_max=y_max,
            )
        except FPError as exc:
            # e.g. a standard of 0 refused by the parameter check: say so instead of a stale chart
            view.value = error_html(exc)
        except Exception as exc:
            view.value = error_html(exc)
            raise  # a bug: also into the kernel's log

    for c in (mode, quota_s, budget_s, fixed, *std_s.values()):
        c.observe(refresh, names="value")
    refresh()
    boxes = [mode, w.HBox([quota_s, budget_s]), meaning, w.HBox([*std_s.values(), fixed]), view]
    if procedure is not None:
        boxes.append(w.HTML(with_style(procedure_html(procedure, lang=lang, reveal=reveal))))
    return Dashboard(boxes)
