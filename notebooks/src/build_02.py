"""Build notebooks/02_bonus_budget.ipynb (run: .venv/bin/python notebooks/src/build_02.py).

The notebook is thin: a parameters cell, calls into fpanalysis (bonus,
charts.bonus, widgets.bonus), narration in Simplified Chinese with English
beside it. The widget cell is tagged ``nbval-ignore-output``. Written with
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

按工作计划第四部分（独生子女父母光荣证，POLICY.md §5）：已发光荣证逐月应付的奖励金（按单位），
无子女育龄夫妇将来领证带来的新增支出（蒙特卡洛模拟 P10/P50/P90），情景比较，以及现有光荣证的剩余负债。

Per POLICY.md §5: what today's certificates are owed month by month (by paying unit), what new
certificates from childless in-scope couples may add (Monte Carlo P10/P50/P90), scenarios side by
side, and the remaining liability of today's certificates.

参数 / parameters: `dataset`（数据集，空 = 样例数据 / empty = the bundled sample），
`start`（起始月份 YYYY-MM；空 = 数据最后记录日期的下一个月 / empty = the month after the data's last
recorded date），`months`（预测月数 / horizon in months），`scenario_file`（情景文件 YAML；空 = 两个示例情景 /
empty = two example scenarios），`params_file`（参数覆盖文件 / parameter override file），`draws`（模拟次数 /
Monte Carlo draws），`seed`（随机数种子 / random seed），`lang`（`zh` / `en`），`reveal_pii`（`True` 显示完整姓名和身份证号，即 `--reveal-pii`；默认 `False` 脱敏 / full names and ID numbers; masked by default）。
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
""",
        tags=["parameters"],
    ),
    code(
        """
import altair as alt
import pandas as pd
from IPython.display import Markdown, display

from fpanalysis.rules import bonus
from fpanalysis.core import config
from fpanalysis.charts import bonus as charts
from fpanalysis.io import load_for_analysis, localize
from fpanalysis.io.scenarios import load_scenarios
from fpanalysis.core.params import load_params
from fpanalysis.core.privacy import mask_frame

alt.renderers.enable("svg")  # static and offline: the saved notebook shows every chart
pd.set_option("display.max_rows", 60)

ds = load_for_analysis(dataset or config.SAMPLE_DIR, bonus.TABLES_NEEDED, lang=lang)
params = load_params(params_file or None)
for line in ds.messages:
    print(line)
start = start or bonus.default_start(ds)
model = bonus.BonusModel.build(ds, params, start, max_months=max(months, 120))  # 120: the widget's longest horizon
projection = model.project(params, months=months, draws=draws, seed=seed)


def show(df):
    \"\"\"Mask personal information (POLICY.md §7), then headers in the chosen language.\"\"\"
    display(localize(mask_frame(df.reset_index(drop=True), reveal=reveal_pii), lang))


display(Markdown(
    f"**起始 start {start}，{months} 个月 months；{draws} 次模拟 draws，种子 seed {seed}；"
    f"参数 parameters: {params.override_file or '默认 defaults'}；"
    f"光荣证 certificates {len(ds['certificates'])}，队列 cohorts {len(model.cohorts)}，"
    f"无子女在范围内夫妻 childless in-scope couples {int(model.groups['couples'].sum())}**"
))
"""
    ),
    md(
        """
## 1. 年度预算（按单位）/ Yearly budget by unit

已发证应付金额是确定数；新增是按无子女夫妇的生育率、领证率和领证滞后模拟的，P10/P50/P90 表示
十次中有一次低于、一半低于、九次低于该数。**每一层级（单位-月、年度、全局）的百分位数都是该层级
合计后的模拟结果的百分位数，不是下级百分位数之和。**

Committed amounts are certain; new certificates are simulated from the childless couples' birth
rates, uptake and the lag to issue: P10/P50/P90 are the amounts one draw in ten, half the draws
and nine in ten stay below. **Each level's percentiles (unit-month, year, bureau) are percentiles
of that level's summed draws, never sums of lower-level percentiles.**
"""
    ),
    code(
        """
show(projection.table(("year",)))
show(projection.table(("year", "unit_id")))
"""
    ),
    md(
        """
## 2. 月度预算 / Monthly budget

全局逐月合计，以及各单位逐月已发证应付金额（行 = 月份，列 = 单位）。
完整的单位 × 月份表（含新增百分位数）由 `fpanalysis bonus --out FILE` 写出。

The bureau's monthly totals, and each unit's committed payments by month (rows = months, columns
= units). The full unit × month table with the new-certificate percentiles is what
`fpanalysis bonus --out FILE` writes.
"""
    ),
    code(
        """
show(projection.table(("month",)))
by_unit = projection.table().pivot(index="month", columns="unit_id", values="committed_yuan")
by_unit.columns.name = None
show(by_unit.reset_index())
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
## 4. 各单位年度构成 / By unit, year by year

每年两根柱：已发证（实色）和新增的期望值（浅色，均值可以跨单位相加；百分位数不能）。

Two bars a year: committed (solid) and expected new certificates (light; means add up across
units, percentiles do not).
"""
    ),
    code("charts.unit_chart(projection)"),
    md(
        """
## 5. 情景比较 / Scenarios

每个情景只改它写明的参数，从写明的日期起生效，并与基准用同一随机数种子比较。没有给出情景文件时，
示例情景为：从起始月起每月 30 元、从起始月起发放到 18 周岁、领证率降至 0.5。

Each scenario changes only the parameters it names, from the dates it gives, and is drawn with the
same seed as the baseline. Without a scenario file the examples are: 30 yuan a month from the
start month, payment to age 18 from the start month, uptake down to 0.5.
"""
    ),
    code(
        """
day = bonus.month_start(model.start_m).isoformat()
scenarios = load_scenarios([scenario_file]) if scenario_file else {
    "amount_30": {"reward_monthly_yuan": {day: 30}},
    "age_cap_18": {"reward_age_cap": {day: 18}},
    "uptake_0.5": {"uptake": {day: 0.5}},
}
by_scenario = bonus.scenario_params(params, scenarios)
compare_year = bonus.compare_scenarios(model, by_scenario, months, draws, seed, by=("year",))
show(compare_year)
compare_month = bonus.compare_scenarios(model, by_scenario, months, draws, seed, by=("month",))
charts.scenario_chart(compare_month)
"""
    ),
    md(
        """
## 6. 剩余负债 / Remaining liability

现有光荣证从起始月到各自期满（孩子满上限年龄当月、收回前一月）还应支付的金额，假定在职的领取人
一直在职；按年贴现率 `discount_rate` 逐月贴现（第 k 个月除以 (1+r)^(k/12)）。预算外（领取人不在本局
工资表上）的光荣证另列，不计入。

What today's certificates are still owed from the start month to the end of each entitlement
(the month of the cap birthday, or the month before revocation), assuming payers on the payroll
stay on it; discounted monthly at the yearly `discount_rate` (month k divided by (1+r)^(k/12)).
Certificates outside the budget (payee not on the bureau's payroll) are listed apart, never added in.
"""
    ),
    code(
        """
liab = bonus.liability(ds, params, start)
print(f"折现率 discount rate: {params.at('discount_rate', day)}；合计 total {sum(liab['liability_yuan'], start=0)} 元 yuan，"
      f"现值 discounted {sum(liab['liability_discounted_yuan'], start=0)} 元 yuan")
show(liab)
outside = bonus.outside_budget(ds, params, start, months)
print(f"预算外光荣证 certificates outside the budget: {len(outside)}")
show(outside)
"""
    ),
    md(
        """
## 7. 交互调整 / Try it live

拖动滑块：月金额、发放年龄上限、领证率和预测月数（均从起始月起生效）；图表从压缩后的队列即时重算。
（保存的输出中不含交互图表；在 JupyterLab 或 Voilà 中打开时可用。）

Move the sliders: monthly amount, age cap, uptake and horizon (each from the start month on); the
chart re-projects at once from the compressed cohorts. (Saved output has no live widget; open the
notebook in JupyterLab or Voilà to use it.)
"""
    ),
    code(
        """
from fpanalysis.widgets.bonus import budget_dashboard

budget_dashboard(model, params, months=months, draws=draws, seed=seed)
""",
        tags=["nbval-ignore-output"],
    ),
]


if __name__ == "__main__":
    write(CELLS, OUT)
