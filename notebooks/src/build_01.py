"""Build notebooks/01_unit_compliance.ipynb (run: .venv/bin/python notebooks/src/build_01.py).

The notebook is thin: a parameters cell, calls into fpanalysis, narration in
Simplified Chinese with English beside it. It opens with the conclusions (结论) and the
dashboard (cells tagged ``dashboard``, left out of the static HTML report); widget cells
are tagged ``nbval-ignore-output``; the parameters' help closes it, collapsed. Written with nbformat so that it is valid JSON; its
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

各股室和局属单位的考核指标 C1–C8、得分、等次和一票否决，大月份引产与生育指标案件，责任追究清单（rulebook §3、§4）。
Each unit's indicators, score, grade and veto; the late-termination and birth-quota cases; the
accountability list (rulebook §3–§4).
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
tables_dir = ""
""",
        tags=["parameters"],
    ),
    code(
        """
from fpanalysis.charts import compliance as charts
from fpanalysis.core import config
from fpanalysis.core.params import load_params
from fpanalysis.io import load_for_analysis
from fpanalysis.report import views
from fpanalysis.rules import findings
from fpanalysis.rules.cases import case_list
from fpanalysis.rules.compliance import (
    TABLES_NEEDED, accountability_list, compliance_detail, compliance_scorecard,
    half_year_trend, latest_complete_year, parse_period,
)

views.setup()
ds = load_for_analysis(dataset or config.SAMPLE_DIR, TABLES_NEEDED, lang=lang)
params = load_params(weights_file or None)
period = parse_period(period).label if period else str(latest_complete_year(ds))
year = int(period[:4])
names = dict(zip(ds["units"]["unit_id"], ds["units"]["name"].fillna("")))
if unit and unit not in names:
    from fpanalysis.core.errors import UsageError

    raise UsageError(f"数据集中没有单位 {unit}", f"the dataset has no unit {unit}", column="unit", value=unit)
for line in ds.messages:
    views.note(line, line, lang)

detail = compliance_detail(ds, params, period)
card = compliance_scorecard(ds, params, period, detail=detail)
halves = half_year_trend(ds, params, [year - 1, year])
cases = case_list(ds, params)
thresholds = params.at("grade_thresholds", f"{year}-12-31")


def mine(df, col="unit_id"):
    return df[df[col] == unit] if unit else df


if unit:
    views.heading(f"{findings.unit_label(unit, names)} — {period}", 2)
    todo = findings.unit_todo(detail, unit, cases=cases, persons=ds["persons"], lang=lang, reveal=reveal_pii)
    views.box(findings.unit_findings(card[card["unit_id"] == unit].iloc[0], todo, names=names,
                                     detail=detail, halves=halves), lang)
else:
    # with a parameter file: which grades it changes against the current parameters
    baseline = compliance_scorecard(ds, load_params(), period) if weights_file else None
    views.box(findings.compliance_findings(card, names=names, detail=detail, halves=halves, baseline=baseline),
              lang, name="01_unit_compliance", tables_dir=tables_dir)
"""
    ),
    md(
        """
## 调整权重 / Re-weight the score

拖动滑块改变四项比率指标的权重（自动按比例使其合计为 1）：表中列出等次与现行权重不同的单位。
正式考核用参数文件 `weights_file`。

Move the sliders to change the four weights (scaled to sum to 1): the table lists the units
whose grade differs from the current weights'. For the official scorecard use a parameter file.
""",
        tags=["dashboard"],
    ),
    code(
        """
from fpanalysis.widgets.compliance import drilldown, reweight

reweight(detail, params, period, units=[unit] if unit else None, names=names, lang=lang)
""",
        tags=["nbval-ignore-output", "dashboard"],
    ),
    md(
        """
## 明细查询 / Drill-down

选择单位和指标，查看谁缺少调查、谁应检未检，或计入了哪些违规事件（姓名已脱敏），其下为该单位得分的来历。
Pick a unit and an indicator: who lacks a survey, who missed a check, which events were counted (names masked);
below, where the unit's score comes from.
""",
        tags=["dashboard"],
    ),
    code(
        """
drilldown(detail, ds, unit=unit or None, reveal=reveal_pii, names=names, lang=lang, params=params, period=period)
""",
        tags=["nbval-ignore-output", "dashboard"],
    ),
    md(
        """
## 1. 考核结果 / Scorecard

每个单位一行，按得分从高到低：C1–C4 为比率（分母为 0 时记为 1），C5–C8 为违规起数；得分 = 100 × 加权比率 − 扣分，
最低为 0；优秀 ≥ 90，合格 ≥ 70；计划外生育或选择性别引产一票否决（rulebook §3.4–3.7）。

One row per unit, best first: C1–C4 are rates, C5–C8 counts of violations; score = 100 × weighted
rates − penalties; excellent ≥ 90, pass ≥ 70; an out-of-plan birth or a sex-selective late
termination vetoes the unit.
"""
    ),
    code(
        """
shown = mine(card).sort_values(["score", "unit_id"], ascending=[False, True], kind="mergesort")
shown.insert(1, "unit_name", shown["unit_id"].map(names))
views.table(shown.drop(columns=["period"]), lang)
"""
    ),
    md(
        """
## 2. 图表 / Charts

得分从高到低，虚线为合格线（70）和优秀线（90），× 为一票否决；热力图中比率越高越绿、违规越多越红；
半年走势中灰线为其他单位，红点为不合格的半年。

Scores best first with the pass (70) and excellent (90) lines, × for a veto; the heatmap greener
for higher rates and redder for more violations; in the half-year trend peers are grey and a red
dot marks a failing half-year.
"""
    ),
    code(
        """
charts.score_bars(card, names=names, thresholds=thresholds, highlight=unit or None)
"""
    ),
    code(
        """
charts.trend(halves, unit or None, names=names, thresholds=thresholds)
"""
    ),
    code(
        """
charts.heatmap(mine(card), names=names)
"""
    ),
    md(
        """
## 3. 待办事项 / To do

单位报告列出本单位要做的事：要补做调查的夫妻、应检未检的妇女、要处理的案件（姓名已脱敏）。
A unit's report lists what it must do: the couples to survey, the women to check, the cases to act on (names masked).
"""
    ),
    code(
        """
if unit:
    views.table(todo.drop(columns=["task", "order"]), lang)
else:
    views.note("选择单位（参数 unit）后列出该单位的待办事项。",
               "Set the unit parameter for that unit's to-do list.", lang)
"""
    ),
    md(
        """
## 4. 大月份引产与生育指标案件 / Late-termination and birth-quota cases (§4)

每对有案件的夫妻一行：违规情形、生育指标注销日期、时间线和应采取的措施（rulebook §4）。姓名已脱敏。
One row per couple with a case: the violations, the quota cancellation, the timeline and the action. Names masked.
"""
    ),
    code(
        """
mc = mine(cases)
cols = ["couple_id", "wife_name", "husband_name", "unit_id", "first_date", "violations",
        "quota_cancelled_from", "cancellation_basis", f"timeline_{lang}", f"action_{lang}"]
views.note(f"{len(mc)} 对夫妻有案件。", f"{len(mc)} couples with a case.", lang)
views.table(mc[cols], lang, reveal=reveal_pii)
"""
    ),
    md(
        """
## 5. 责任追究清单 / Accountability list (§3)

考核期内每起违规一行：当事夫妻、责任单位、负责人和计生联络员、违反规定、日期。姓名已脱敏。
One row per violation in the period: the couple, the unit, its head and liaison, the rule, the date. Names masked.
"""
    ),
    code(
        """
acc = mine(accountability_list(ds, params, period, detail=detail))
views.note(f"{len(acc)} 起违规。", f"{len(acc)} violations.", lang)
views.table(acc[["date", "rule", "event_id", "couple_id", "wife_name", "husband_name", "unit_id", "unit_name",
                 "unit_head_name", "liaison_name", "penalty", "veto"]], lang, reveal=reveal_pii)
"""
    ),
    md(
        """
## 6. 登记簿中的历次考核 / Grades over the recorded rounds

给出 `register` 时，列出登记簿中每个单位历次考核的得分和等次，并比较最近两轮。
With `register` set: each unit's grades over the recorded rounds, and the change between the last two.
"""
    ),
    code(
        """
if register:
    from fpanalysis.io.workbooks import with_unit_names
    from fpanalysis.register import GRADE_LABELS, RegisterError, open_register, unit_transitions

    reg = open_register(register, create=False)
    # the register keeps no names: each unit's as this dataset has it ("" for one it lacks)
    grades = with_unit_names(mine(reg.unit_grades(unit or None)), names)
    grades["unit_name"] = grades["unit_name"].fillna("")
    views.note(f"登记簿 {reg.where}：考核轮次 {grades['round_id'].nunique()}。",
               f"Register {reg.where}: {grades['round_id'].nunique()} compliance rounds.", lang)
    if len(grades):
        k = 0 if lang == "zh" else 1
        wide = grades[grades["superseded_by"].isna()].assign(
            label=lambda g: g["grade"].map(lambda x: GRADE_LABELS[x][k]) + " " + g["score"].map("{:.2f}".format)
            + g["veto"].map({True: " ×", False: ""})
        ).pivot(index=["unit_id", "unit_name"], columns="period", values="label")
        wide.columns.name = None
        views.table(wide.reset_index(), lang)
    try:
        changes = with_unit_names(mine(unit_transitions(reg)), names)
    except RegisterError as e:  # fewer than two rounds in force
        views.note(e.text("zh"), e.text("en"), lang)
    else:
        views.table(changes[["unit_id", "unit_name", "previous_period", "period", "previous_grade", "grade", "transition",
                             "reason_zh" if lang == "zh" else "reason_en"]], lang)
else:
    views.note("未给出登记簿（参数 register），不显示历次考核。",
               "No register given (parameter register): no recorded rounds to show.", lang)
"""
    ),
    md(
        """
## 7. 一个单位的得分从何而来 / Where one unit's score comes from

每项指标的分子和分母、计入和不计入的夫妻及原因、每项扣分的事件、得分算式、等次和一票否决（rulebook §3）。
未指定单位时为得分最低的单位；其他单位用命令 `fpanalysis explain unit 单位编号 --period 考核期`。

Each indicator's numerator and denominator with the couples counted and left out (and why), each
penalty's event, the score's arithmetic, the grade and the veto. Without a `unit`, the lowest
scoring unit; any other with `fpanalysis explain unit UNIT --period PERIOD`.
"""
    ),
    code(
        """
from IPython.display import HTML

from fpanalysis.rules.explain import trace_html

traced = unit or card.sort_values(["score", "unit_id"], kind="mergesort")["unit_id"].iloc[0]
display(HTML(trace_html(ds, params, "unit", traced, period=period, detail=detail, lang=lang, reveal_pii=reveal_pii)))
"""
    ),
    code(
        """
views.audit("01_unit_compliance", dict(dataset=dataset, period=period, weights_file=weights_file, lang=lang,
            unit=unit, reveal_pii=reveal_pii, register=register, tables_dir=tables_dir), lang)
"""
    ),
]


if __name__ == "__main__":
    write(CELLS, OUT)
