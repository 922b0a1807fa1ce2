"""Build notebooks/02_bonus_budget.ipynb (run: .venv/bin/python notebooks/src/build_02.py).

The notebook is thin: a parameters cell, calls into fpanalysis (bonus,
charts.bonus, widgets.bonus), narration in Simplified Chinese with English
beside it. It opens with the conclusions (结论) and the dashboard (cells tagged
``dashboard``, left out of the static HTML report); the widget cell is tagged
``nbval-ignore-output``; the parameters' help closes it, collapsed. Written with
nbformat so that it is valid JSON; its outputs are left empty (papermill
fills them).
"""

from __future__ import annotations

from pathlib import Path

from nbcells import code, md, write  # notebooks/src/nbcells.py

OUT = Path(__file__).resolve().parents[1] / "02_bonus_budget.ipynb"



CELLS = [
    md(
        """
# 独生子女父母奖励金预算 / Only-child parents' reward: the budget

已发光荣证逐月应付的奖励金，将来新领证带来的新增支出（模拟 P10/P50/P90），各情景与现行政策的差额，
以及现有光荣证的剩余负债（rulebook §5）。
What today's certificates are owed, what new certificates may add (P10/P50/P90), each scenario
against current policy, and the remaining liability (rulebook §5).
"""
    ),
    code(
        """
dataset = ""
start = ""
months = 36
scenario_file = ""
params_file = ""
draws = 1000
seed = 0
lang = "zh"
reveal_pii = False
tables_dir = ""
""",
        tags=["parameters"],
    ),
    code(
        """
from fpanalysis.charts import bonus as charts
from fpanalysis.core import config
from fpanalysis.core.params import load_params
from fpanalysis.io import load_for_analysis
from fpanalysis.io.scenarios import load_scenarios
from fpanalysis.report import views
from fpanalysis.rules import bonus, findings

views.setup()
ds = load_for_analysis(dataset or config.SAMPLE_DIR, bonus.TABLES_NEEDED, lang=lang)
params = load_params(params_file or None)
for line in ds.messages:
    views.note(line, line, lang)
start = start or bonus.default_start(ds)
model = bonus.BonusModel.build(ds, params, start, max_months=max(months, 120))  # 120: the widget's longest horizon
projection = model.project(params, months=months, draws=draws, seed=seed)
names = dict(zip(ds["units"]["unit_id"], ds["units"]["name"].fillna("")))

day = bonus.month_start(model.start_m).isoformat()
scenarios = load_scenarios([scenario_file]) if scenario_file else {
    "amount_30": {"reward_monthly_yuan": {day: 30}},
    "age_cap_18": {"reward_age_cap": {day: 18}},
    "uptake_0.5": {"uptake": {day: 0.5}},
}
by_scenario = bonus.scenario_params(params, scenarios)
labels = {k: findings.change_label(findings.scenario_changes(v, params, day)) for k, v in scenarios.items()}
projected = {k: model.project(p, months=months, draws=draws, seed=seed) for k, p in by_scenario.items()
             if k != "baseline"}
views.box(findings.bonus_findings(
    projection, scenarios=[(f"{k}（{labels[k][0]}）", f"{k} ({labels[k][1]})", pr) for k, pr in projected.items()]
), lang, name="02_bonus_budget", tables_dir=tables_dir)
"""
    ),
    md(
        """
## 调整政策 / Try another policy

拖动滑块：月金额、发放年龄上限、领证率和预测月数（均从起始月起生效）；黑色虚线是现行政策，
上方一行写出与现行政策的差额。勾选“固定纵轴”后，纵轴不随设置缩放，便于比较。

Move the sliders (amount, age cap, uptake, horizon; each from the start month on): the dashed
black line is current policy and the line above the chart says what the setting costs against
it. Tick "fixed axis" to keep the y axis still while comparing.
""",
        tags=["dashboard"],
    ),
    code(
        """
from fpanalysis.widgets.bonus import budget_dashboard

budget_dashboard(model, params, months=months, draws=draws, seed=seed, lang=lang)
""",
        tags=["nbval-ignore-output", "dashboard"],
    ),
    md(
        """
## 1. 年度预算 / Yearly budget

已发证应付金额是确定数；新增按无子女夫妇的生育率、领证率和领证滞后模拟，P10/P50/P90 表示十次中有一次低于、
一半低于、九次低于该数；合计 = 已发证 + 新增，其百分位数取自合计后的模拟结果（rulebook §5.7）。
预测期只覆盖部分月份的年度已标出。

Committed amounts are certain; new certificates are simulated: P10/P50/P90 are the amounts one
draw in ten, half the draws and nine in ten stay below; the total's percentiles are those of
the summed draws. Years the horizon only partly covers are marked.
"""
    ),
    code(
        """
yt = findings.year_totals(projection)
views.table(
    yt.assign(year=[findings.year_label(y, m, lang) for y, m in zip(yt["year"], yt["months"])])
    [["year", "committed_fen", "total_p10_fen", "total_p50_fen", "total_p90_fen"]],
    lang,
    headers={"year": "年度" if lang == "zh" else "year",
             "committed_fen": "已发证应付" if lang == "zh" else "committed",
             "total_p10_fen": "合计 P10" if lang == "zh" else "total P10",
             "total_p50_fen": "合计 P50" if lang == "zh" else "total P50",
             "total_p90_fen": "合计 P90" if lang == "zh" else "total P90"},
)
"""
    ),
    md(
        """
## 2. 情景与现行政策比较 / Scenarios against current policy

每个情景只改它写明的参数，从写明的日期起生效，与现行政策用同一随机数种子模拟；差额的 P10–P90 取自逐次模拟的差。
Each scenario changes only what it names, drawn with the same seed as current policy; the
difference's P10–P90 is taken over the paired draws.
"""
    ),
    code(
        """
rows = []
for k, pr in projected.items():
    for y in findings.year_totals(pr)["year"]:
        v = findings.bonus.versus(projection, pr, int(y))
        rows.append({"scenario": labels[k][0] if lang == "zh" else labels[k][1], "year": int(y),
                     "base_p50_fen": v["base_p50_fen"], "other_p50_fen": v["other_p50_fen"],
                     "diff_p10_fen": v["diff_p10_fen"], "diff_p50_fen": v["diff_p50_fen"],
                     "diff_p90_fen": v["diff_p90_fen"]})
import pandas as pd

zh = lang == "zh"
views.table(pd.DataFrame(rows), lang, headers={
    "scenario": "情景" if zh else "scenario", "year": "年度" if zh else "year",
    "base_p50_fen": "现行政策 P50" if zh else "current policy P50",
    "other_p50_fen": "情景 P50" if zh else "scenario P50",
    "diff_p10_fen": "差额 P10" if zh else "difference P10",
    "diff_p50_fen": "差额 P50" if zh else "difference P50",
    "diff_p90_fen": "差额 P90" if zh else "difference P90"})
compare_month = bonus.compare_scenarios(model, by_scenario, months, draws, seed, by=("month",))
charts.scenario_chart(compare_month)
"""
    ),
    md(
        """
## 3. 预算扇形图 / Fan chart

灰线：已发证应付；蓝线：加上新增的 P50；蓝色带：P10–P90。
Grey: committed; blue line: committed plus new certificates at P50; band: P10–P90.
"""
    ),
    code("charts.fan_chart(projection)"),
    md(
        """
## 4. 各单位 / By unit

每年两根柱：已发证（实色）和新增的期望值（浅色，均值可以跨单位相加；百分位数不能）。表中为各单位各年合计。
Two bars a year: committed (solid) and expected new certificates (light). The table gives each unit's yearly totals.
"""
    ),
    code("charts.unit_chart(projection)"),
    code(
        """
by_unit = projection.table(("year", "unit_id"))
by_unit.insert(2, "unit_name", by_unit["unit_id"].map(names))
by_unit["year"] = by_unit["year"].astype(str)
views.table(by_unit, lang, top=20, name="02_bonus_by_unit_year", tables_dir=tables_dir)
"""
    ),
    md(
        """
## 5. 剩余负债 / Remaining liability

现有光荣证从起始月到各自期满还应支付的金额（假定在职领取人一直在职），按年贴现率逐月贴现；
预算外（领取人不在本局工资表上）的光荣证另列，不计入（rulebook §5.5–5.6）。

What today's certificates are still owed to the end of each entitlement, discounted monthly;
certificates outside the budget (payee not on the bureau's payroll) are listed apart.
"""
    ),
    code(
        """
liab = bonus.liability(ds, params, start)
total = sum(liab["liability_yuan"], start=0)
disc = sum(liab["liability_discounted_yuan"], start=0)
rate = params.at("discount_rate", day)
views.note(f"合计 {findings.money(total)}，按年贴现率 {rate:.0%} 折现为 {findings.money(disc)}。",
           f"{findings.money(total)} in all, {findings.money(disc)} discounted at {rate:.0%} a year.", lang)
liab.insert(1, "unit_name", liab["unit_id"].map(names))
views.table(liab[liab["certificates"] > 0], lang)
outside = bonus.outside_budget(ds, params, start, months)
views.note(f"预算外光荣证 {len(outside)} 张。", f"{len(outside)} certificates outside the budget.", lang)
views.table(outside, lang, reveal=reveal_pii)
"""
    ),
    md(
        """
## 6. 一张光荣证的逐月支付 / One certificate month by month

预算中每张证的每个月是否支付、由哪条规则决定、当月标准和支付单位（rulebook §5）。此处为预测期第一个月
领取奖励的第一张证；其他证用命令 `fpanalysis explain certificate 证号 --start 起始月 --months 月数`。

Each month of one certificate: paid or not, the clause that decided it, the amount in force and
the payer. Shown: the first certificate paid in the first month of the projection; any other
with `fpanalysis explain certificate ID --start MONTH --months N`.
"""
    ),
    code(
        """
from IPython.display import HTML

from fpanalysis.rules.explain import first_paid, trace_html

traced = first_paid(ds, params, bonus.month_label(model.start_m)) or min(ds["certificates"]["cert_id"])
display(HTML(trace_html(ds, params, "certificate", traced, start=bonus.month_label(model.start_m),
                        months=min(months, 24), lang=lang, reveal_pii=reveal_pii)))
"""
    ),
    code(
        """
views.audit("02_bonus_budget", dict(dataset=dataset, start=start, months=months, scenario_file=scenario_file,
            params_file=params_file, draws=draws, seed=seed, lang=lang, reveal_pii=reveal_pii,
            tables_dir=tables_dir), lang)
"""
    ),
]


if __name__ == "__main__":
    write(CELLS, OUT)
