"""Build notebooks/01_unit_compliance.ipynb (run: .venv/bin/python notebooks/src/build_01.py).

The notebook is thin: a parameters cell, calls into fpanalysis, narration in
Simplified Chinese with English beside it. Widget cells are tagged
``nbval-ignore-output``. Written with nbformat so that it is valid JSON; its
outputs are left empty (papermill fills them).
"""

from __future__ import annotations

from pathlib import Path

from nbcells import code, md, write  # notebooks/src/nbcells.py

OUT = Path(__file__).resolve().parents[1] / "01_unit_compliance.ipynb"



CELLS = [
    md(
        """
# 单位计划生育工作考核 / Unit family-planning compliance

按工作计划第三部分（POLICY.md §3、§4）计算各股室和局属单位的考核指标 C1–C8、得分、等次和一票否决，
并列出大月份引产与生育指标案件、责任追究清单。

Per POLICY.md §3–§4: each unit's indicators C1–C8, score, grade and veto; the
late-termination / birth-quota cases; the accountability list.

参数 / parameters: `dataset`（数据集，空 = 样例数据 / empty = the bundled sample），
`period`（`2024`、`2024H1`、`2024H2`；空 = 数据中最近一个完整年度 / empty = latest complete year），
`weights_file`（参数覆盖文件 YAML，可改权重 / parameter override file），
`register`（登记簿：SQLite 文件或 postgresql:// 地址；空 = 不读 / the decision register; empty = none），
`lang`（`zh` / `en`），`unit`（如 `"U07"` 只看该单位；空 = 全局 / one unit's own report; empty = the whole bureau），`reveal_pii`（`True` 显示完整姓名和身份证号，即 `--reveal-pii`；默认 `False` 脱敏 / full names and ID numbers; masked by default）。
"""
    ),
    code(
        """
dataset = ""
period = ""
weights_file = ""
lang = "zh"
unit = ""
reveal_pii = False
register = ""
""",
        tags=["parameters"],
    ),
    code(
        """
import altair as alt
import pandas as pd
from IPython.display import Markdown, display

from fpanalysis.core import config
from fpanalysis.rules.cases import case_list
from fpanalysis.charts import compliance as charts
from fpanalysis.rules.compliance import (
    TABLES_NEEDED, accountability_list, compliance_detail, compliance_scorecard,
    half_year_trend, latest_complete_year, parse_period,
)
from fpanalysis.io import load_for_analysis, localize
from fpanalysis.core.params import load_params
from fpanalysis.core.privacy import mask_frame

alt.renderers.enable("svg")  # static and offline: the saved notebook shows every chart
pd.set_option("display.max_rows", 60)

ds = load_for_analysis(dataset or config.SAMPLE_DIR, TABLES_NEEDED, lang=lang)
params = load_params(weights_file or None)
period = parse_period(period).label if period else str(latest_complete_year(ds))
year = int(period[:4])
if unit and unit not in set(ds["units"]["unit_id"]):
    from fpanalysis.core.errors import UsageError

    raise UsageError(f"数据集中没有单位 {unit}", f"the dataset has no unit {unit}", column="unit", value=unit)
for line in ds.messages:
    print(line)


def show(df, table=None):
    \"\"\"Mask names (POLICY.md §7), then headers and labels in the chosen language.\"\"\"
    display(localize(mask_frame(df.reset_index(drop=True), reveal=reveal_pii), lang, table))


def mine(df, col="unit_id"):
    return df[df[col] == unit] if unit else df


scope = f"单位 {unit}" if unit else "全局 whole bureau"
display(Markdown(f"**考核期 period: {period}；范围 scope: {scope}；参数 parameters: {params.override_file or '默认 defaults'}**"))
"""
    ),
    md(
        """
## 1. 考核结果 / Scorecard

每个单位一行：C1–C4 为比率（分母为 0 时记为 1），C5–C8 为违规起数；得分 = 100 × 加权比率 − 扣分，
最低为 0，四舍五入到两位小数后评定等次（优秀 ≥ 90，合格 ≥ 70）；计划外生育或选择性别引产一票否决。

One row per unit: C1–C4 are rates (a zero denominator counts as 1), C5–C8 are counts of
violations; score = 100 × weighted rates − penalties, floored at 0, rounded half up to 2
decimals, then graded; an out-of-plan birth or a sex-selective late termination vetoes the unit.
"""
    ),
    code(
        """
detail = compliance_detail(ds, params, period)
card = compliance_scorecard(ds, params, period, detail=detail)
show(mine(card))
grades = mine(card)["grade"].value_counts()
print(f"优秀 excellent {grades.get('excellent', 0)}, 合格 pass {grades.get('pass', 0)}, 不合格 fail {grades.get('fail', 0)}")
"""
    ),
    md(
        """
## 2. 指标热力图 / Indicators heatmap

行为单位，列为指标：比率越高越绿；违规起数越多越红。
Units × indicators: greener is a higher rate; redder is more violations.
"""
    ),
    code(
        """
charts.heatmap(mine(card))
"""
    ),
    code(
        """
charts.score_bars(mine(card))
"""
    ),
    md(
        """
## 3. 半年走势 / Half-year trend

本年度及上一年度每个半年的得分（上半年含 C1，下半年不含 C1、其余权重按比例放大）；叉号为一票否决。
Score for each half of this and the previous year (H1 includes C1; H2 leaves it out and
scales the other weights); a cross marks a veto.
"""
    ),
    code(
        """
halves = half_year_trend(ds, params, [year - 1, year])
charts.trend(halves, unit or None)
"""
    ),
    md(
        """
## 4. 大月份引产与生育指标案件 / Late-termination and birth-quota cases (§4)

每对有案件的夫妻一行：违规情形、生育指标注销日期（县注销日期，未记录时按引产日期）、时间线和应采取的措施。姓名已脱敏。
One row per couple with a case: the violations, the quota cancellation (the county's date, else
the termination date), the timeline and the action the bureau must take. Names are masked.
"""
    ),
    code(
        """
cases = mine(case_list(ds, params))
cols = ["couple_id", "wife_name", "husband_name", "unit_id", "first_date", "violations",
        "quota_cancelled_from", "cancellation_basis", f"timeline_{lang}", f"action_{lang}"]
print(f"{len(cases)} 对夫妻有案件 / couples with a case")
show(cases[cols])
"""
    ),
    md(
        """
## 5. 责任追究清单 / Accountability list (§3)

考核期内每起违规一行：当事夫妻、责任单位、负责人和计生联络员、违反规定、日期。姓名已脱敏。
One row per violation in the period: the couple, the unit, its head and liaison, the rule, the date. Names are masked.
"""
    ),
    code(
        """
acc = mine(accountability_list(ds, params, period, detail=detail))
print(f"{len(acc)} 起违规 / violations")
show(acc[["date", "rule", "event_id", "couple_id", "wife_name", "husband_name", "unit_id", "unit_name",
          "unit_head_name", "liaison_name", "penalty", "veto"]])
"""
    ),
    md(
        """
## 6. 明细查询 / Drill-down

选择单位和指标，查看谁缺少调查、谁应检未检，或计入了哪些违规事件（姓名已脱敏）。
Pick a unit and an indicator: who lacks a survey, who missed a check, which events were counted (names masked).
"""
    ),
    code(
        """
from fpanalysis.widgets.compliance import drilldown, reweight

drilldown(detail, ds, unit=unit or None, reveal=reveal_pii)
""",
        tags=["nbval-ignore-output"],
    ),
    md(
        """
## 7. 调整权重 / Re-weight the score

拖动滑块改变四项比率指标的权重（自动按比例使其合计为 1），得分和等次随即重算。正式考核用参数文件 `weights_file`。
Move the sliders to change the four weights (scaled to sum to 1); scores and grades are recomputed.
For the official scorecard use a parameter file (`weights_file`).
"""
    ),
    code(
        """
reweight(detail, params, period, units=[unit] if unit else None)
""",
        tags=["nbval-ignore-output"],
    ),
    md(
        """
## 8. 登记簿中的历次考核 / Grades over the recorded rounds

给出 `register` 时，列出登记簿中每个单位历次考核的得分、等次和一票否决（被更正的轮次注明更正轮次），
并比较最近两轮（上升、下降、未变）。

With `register` set: each unit's score, grade and veto over the compliance rounds recorded in the
register (a corrected round names its correction), and the change between the last two rounds.
"""
    ),
    code(
        """
if register:
    from fpanalysis.register import GRADE_LABELS, RegisterError, open_register, unit_transitions

    reg = open_register(register, create=False)
    grades = mine(reg.unit_grades(unit or None))
    print(f"登记簿 register: {reg.where}；考核轮次 compliance rounds: {grades['round_id'].nunique()}")
    if len(grades):
        k = 0 if lang == "zh" else 1
        wide = grades[grades["superseded_by"].isna()].assign(
            label=lambda g: g["grade"].map(lambda x: GRADE_LABELS[x][k]) + " " + g["score"].map("{:.2f}".format)
            + g["veto"].map({True: " ×", False: ""})
        ).pivot(index="unit_id", columns="period", values="label")
        display(wide)
    try:
        changes = mine(unit_transitions(reg))
    except RegisterError as e:  # fewer than two rounds in force
        print(e.text(lang))
    else:
        print(changes["transition"].value_counts().to_string())
        show(changes[["unit_id", "previous_period", "period", "previous_grade", "grade", "transition",
                      "reason_zh" if lang == "zh" else "reason_en"]])
else:
    print("未给出登记簿（参数 register），不显示历次考核 / no register given (parameter register): "
          "no recorded rounds to show")
"""
    ),
]


if __name__ == "__main__":
    write(CELLS, OUT)
