"""Build notebooks/03_relief_ranking.ipynb (run: .venv/bin/python notebooks/src/build_03.py).

The notebook is thin: a parameters cell, calls into fpanalysis (relief,
charts.relief, widgets.relief), narration in Simplified Chinese with English
beside it. It opens with the conclusions (结论) and the dashboard (cells tagged
``dashboard``, left out of the static HTML report); the widget cell is tagged
``nbval-ignore-output``; the parameters' help closes it, collapsed. Written with
nbformat so that it is valid JSON; its outputs are left empty (papermill
fills them).
"""

from __future__ import annotations

from pathlib import Path

from nbcells import code, md, write  # notebooks/src/nbcells.py

OUT = Path(__file__).resolve().parents[1] / "03_relief_ranking.ipynb"



CELLS = [
    md(
        """
# 低保特困户排序与动态管理 / Minimum-living relief: ranking and review

以基准日有效的城乡低保标准判断资格，定困难档次和计生优先类型，排序并在名额或预算内确定拟纳入名单，
再与上期比较（rulebook §6）。
Eligibility against the standard in force on the as-of date, the tier and FP priority type, the
ranking and the selection under a quota or a budget, then the comparison with the previous period.
"""
    ),
    code(
        """
dataset = ""
as_of = ""
quota = None
budget_yuan = None
pool = "all"
params_file = ""
previous = ""
meeting_xlsx = ""
lang = "zh"
reveal_pii = False
register = ""
tables_dir = ""
""",
        tags=["parameters"],
    ),
    code(
        """
from fpanalysis.charts import relief as charts
from fpanalysis.charts.tables import code_text
from fpanalysis.core import config
from fpanalysis.core.params import load_params
from fpanalysis.io import load_for_analysis
from fpanalysis.io.exports import export_meeting_xlsx
from fpanalysis.report import views
from fpanalysis.rules import findings
from fpanalysis.rules.relief import RELIEF_TABLES, cut_line, rank_households, review

views.setup()
ds = load_for_analysis(dataset or config.SAMPLE_DIR, RELIEF_TABLES, lang=lang)
params = load_params(params_file or None)
for line in ds.messages:
    views.note(line, line, lang)
result = rank_households(ds, params, as_of or None, quota=quota, budget_yuan=budget_yuan, pool=pool)
day = result.as_of.strftime("%Y-%m-%d")
# a limit or other standards: what they change against current standards with no limit (应保尽保)
baseline = None
if quota is not None or budget_yuan is not None or params_file:
    baseline = rank_households(ds, load_params(), result.as_of, pool=pool)
views.box(findings.relief_findings(result, baseline=baseline,
                                   baseline_label=("现行标准、应保尽保", "current standards with no limit")),
          lang, name="03_relief_ranking", tables_dir=tables_dir)
views.note(*findings.QUOTA_MEANING, lang)
std = {a: params.dibao_standard(a, result.as_of) for a in ("urban", "rural")}
views.note(f"基准日 {day}；低保标准：城镇 {std['urban']} 元、农村 {std['rural']} 元/人/月。",
           f"As of {day}; standards: urban {std['urban']}, rural {std['rural']} yuan per person a month.", lang)
"""
    ),
    md(
        """
## 调整名额、预算和标准 / Move the quota, the budget and the standard

选择限制方式，拖动名额或预算滑块，或改变城乡低保标准（自基准日起生效）：上方一行写出与现行设置相比
纳入、候补和每月支出的变化，黑色虚线为现行设置。名额滑块从在保户数起：低于它时结果相同（在保户全部继续）。

Choose the limit and move the quota or budget slider, or change a standard (from the as-of
date): the line above the chart says what changes against the current settings, drawn dashed.
The quota slider starts at the continuing households: below that nothing changes.
""",
        tags=["dashboard"],
    ),
    code(
        """
from fpanalysis.register import open_register
from fpanalysis.widgets.relief import cut_dashboard

cut_dashboard(ds, params, result.as_of, quota=quota, budget_yuan=budget_yuan,
              pool=pool if pool != "separate" else "all", lang=lang, reveal=reveal_pii,
              procedure=open_register(register, create=False).procedure() if register else None)
""",
        tags=["nbval-ignore-output", "dashboard"],
    ),
    md(
        """
## 1. 排序结果 / The ranked list

每户一行：排名（不符合条件的为空）、档次、计生类型、人均月收入、月保障金（标准 × 人数 − 家庭收入，向上取整到元）、
纳入情况和理由。户主姓名已脱敏。表中为前 20 名和分界线两侧各户（红线为分界线）。

One row per household: rank, tier, FP type, per-capita income, the monthly entitlement, the
selection and the reason. Head names are masked. Shown: the first 20 and the households either
side of the cut line (the red line).
"""
    ),
    code(
        """
for z, e in result.notes:
    views.note(z, e, lang)
if len(result.problems):
    views.note(f"{len(result.problems)} 户申报计生类型与成员不符（按成员认定）。",
               f"{len(result.problems)} declared FP types contradicted by the members (the members decide).", lang)
    views.table(result.problems[["household_id", "value", f"message_{lang}"]], lang, table="households")
ranked = result.output()
reason = f"reason_{lang}"
ranked = ranked[[c for c in ranked.columns if c not in ("reason_zh", "reason_en", "selected")] + [reason]]
cut_at = [i for i, s in enumerate(ranked["selection"]) if s == "waiting"][:1]
near = [i for c in cut_at for i in range(c - 3, c + 3)]
views.table(ranked, lang, table="households", reveal=reveal_pii, keep=[*range(20), *near], mark=cut_at,
            name="03_relief_ranking", tables_dir=tables_dir)
"""
    ),
    md(
        """
## 2. 分界线两侧 / Either side of the cut line

最后纳入的一户和第一户候补，以及区分它们的排序依据（或在保户先占名额）。
The last household selected and the first left waiting, and what separates them.
"""
    ),
    code(
        """
cut = cut_line(result)
if cut.empty:
    views.note("没有候补户：所有符合条件的户均已纳入。", "Nobody waits: every eligible household is selected.", lang)
else:
    views.table(cut.drop(columns=["separated_by_en" if lang == "zh" else "separated_by_zh"]), lang,
                table="households", reveal=reveal_pii)
"""
    ),
    md(
        """
### 第一户候补为什么候补 / Why the first household waiting waits

人均收入、适用标准、档次及理由、计生类型由哪些成员认定、排序依据、排在其前后的户，以及为何纳入或候补
（rulebook §6）。没有候补户时为最后纳入的一户；其他户用命令
`fpanalysis explain household 户编号 --as-of 基准日 [--quota 名额 | --budget 预算]`。

Per-capita income, the standard in force, the tier and why, the FP type and the members it comes
from, the sort key, the households just above and below, and why it is selected or waits. Without
anyone waiting, the last household selected; any other with `fpanalysis explain household ID
--as-of DATE [--quota N | --budget Y]`.
"""
    ),
    code(
        """
from IPython.display import HTML

from fpanalysis.rules.explain import trace_html

order = result.output()
waiting = order.loc[order["selection"] == "waiting", "household_id"]
chosen = order.loc[order["selected"].fillna(False).astype(bool), "household_id"]
traced = waiting.iloc[0] if len(waiting) else (chosen.iloc[-1] if len(chosen) else order["household_id"].iloc[0])
display(HTML(trace_html(ds, params, "household", traced, as_of=result.as_of, quota=quota, budget_yuan=budget_yuan,
                        pool=pool, result=result, lang=lang, reveal_pii=reveal_pii)))
"""
    ),
    md(
        """
## 3. 图表 / Charts

各档次户数（按计生类型着色，分纳入情况）；按支付顺序（在保户在前，再按排名）累计的月保障金，
红色虚线为分界线，蓝线为预算。

Households per tier by FP type and selection; the monthly entitlements accumulated in payment
order (continuing first, then by rank), with the cut line (red) and the budget (blue).
"""
    ),
    code(
        """
charts.pool_chart(result)
"""
    ),
    code(
        """
charts.budget_chart(result)
"""
    ),
    md(
        """
## 4. 动态管理 / Review: enter, continue, tier change, exit

与上期比较（未给出上期数据时，与目前在保户比较）：新纳入、继续、档次变动、退出，以及应复核的户（rulebook §6.12–6.13）。
Against the previous period (or who receives relief now): enter, continue, tier change, exit, and who is due for review.
"""
    ),
    code(
        """
prev = load_for_analysis(previous, RELIEF_TABLES, lang=lang) if previous else None
moves, _ = review(ds, params, result.as_of, previous=prev, quota=quota, budget_yuan=budget_yuan, pool=pool)
counts = moves["transition"].value_counts()
views.note("；".join(f"{code_text('transition', k, 'zh')} {v} 户" for k, v in counts.items()),
           "; ".join(f"{code_text('transition', k, 'en')} {v}" for k, v in counts.items()), lang)
changed = moves[moves["transition"].isin(["enter", "exit", "tier_change"])]
views.table(changed.drop(columns=["reason_en" if lang == "zh" else "reason_zh"]), lang, table="households",
            reveal=reveal_pii, top=20, name="03_relief_changes", tables_dir=tables_dir)
"""
    ),
    code(
        """
due = moves[moves["review_due"].fillna(False).astype(bool)].sort_values("next_review_date")
views.note(f"应复核 {len(due)} 户。", f"{len(due)} households due for review.", lang)
views.table(due[["household_id", "area", "township", "head_name", "tier", "review_months", "last_review_date",
                 "next_review_date"]], lang, table="households", reveal=reveal_pii, top=20,
            name="03_relief_review_due", tables_dir=tables_dir)
"""
    ),
    md(
        """
## 5. 评议会名单 / The committee's meeting list

给出 `meeting_xlsx` 时，把拟纳入名单（在保户在前，再按排名）写成 Excel 表（姓名脱敏）。
With `meeting_xlsx` set, the selected list is written as a workbook (names masked).
"""
    ),
    code(
        """
if meeting_xlsx:
    path = export_meeting_xlsx(result, meeting_xlsx, lang=lang, reveal_pii=reveal_pii)
    views.note(f"已写到 {path.name}：{len(result.selected)} 户。",
               f"Written to {path.name}: {len(result.selected)} households.", lang)
else:
    views.note("未设置 meeting_xlsx，未写出。", "meeting_xlsx not set: nothing written.", lang)
"""
    ),
    md(
        """
## 6. 登记簿 / The decision register

给出 `register` 时：本期结果与登记簿中基准日之前最近一轮低保记录比较（有审批过的轮次时为最近审批的一轮；
rulebook §6.9、§6.12），列出登记簿中的各轮及其阶段，最近一轮在民主评议、公示和审批中的阶段
（拟定、已评议、已公示、已审批）及偏离排序的评议决定和理由，以及一户的历次记录。
With `register` set: this period against the register's last relief round before the as-of date
(the last approved one once rounds are approved), the rounds recorded with their stages, where the
last round stands in the committee's procedure (proposed, decided, noticed, approved) with its
departures from the rank order and their reasons, and one household's history.
"""
    ),
    code(
        """
if register:
    from functools import partial

    from fpanalysis.io.recorded import recorded_households
    from fpanalysis.register import open_register

    reg = open_register(register, create=False)
    # households numbered by an ID number get their ids back: this period's from this dataset,
    # those that have left from the dataset the previous round read
    prev_round, prev_id = reg.previous_selection(
        as_of=result.as_of, known=ds["households"]["household_id"],
        more_known=partial(recorded_households, lang=lang))
    rounds = reg.rounds("relief")
    views.note(f"登记簿 {reg.where}：低保轮次 {len(rounds)}。", f"Register {reg.where}: {len(rounds)} relief rounds.", lang)
    views.table(rounds[["round_id", "as_of", "stage", "recorded_at", "supersedes", "superseded_by", "note"]], lang)
    from IPython.display import HTML
    from fpanalysis.widgets.relief import procedure_html

    views.heading("评议、公示与审批 / the committee's procedure", 3)
    display(HTML(procedure_html(reg.procedure(), lang=lang, reveal=reveal_pii)))
    if prev_id is None:
        views.note(f"登记簿中没有 {day} 之前的低保轮次。", f"No relief round recorded before {day}.", lang)
    else:
        since, _ = review(ds, params, result.as_of, previous_round=prev_round, quota=quota,
                          budget_yuan=budget_yuan, pool=pool)
        views.note(f"与登记簿轮次 {prev_id} 比较。", f"Against register round {prev_id}.", lang)
        moved = since[since["transition"].isin(["enter", "exit", "tier_change"])]
        views.table(moved[["household_id", "head_name", "transition", "previous_tier", "tier", "review_due", reason]],
                    lang, table="households", reveal=reveal_pii, top=20)
        who = moved["household_id"].iloc[0] if len(moved) else since["household_id"].iloc[0]
        from fpanalysis.core.privacy import mask_text

        named = who if reveal_pii else mask_text(str(who))  # an ID number masked (rulebook §7)
        views.heading(f"户 {named} 的历次记录 / household {named} over the recorded rounds", 3)
        hist = reg.household_history(who)
        views.table(hist[["round_id", "as_of", "listed", "rank", "tier", "fp_type", "selected", "entitlement_yuan",
                          reason]], lang, table="households", reveal=reveal_pii)
else:
    views.note("未给出登记簿（参数 register），不显示历次轮次。",
               "No register given (parameter register): no rounds or history to show.", lang)
"""
    ),
    code(
        """
views.audit("03_relief_ranking", dict(dataset=dataset, as_of=day, quota=quota, budget_yuan=budget_yuan, pool=pool,
            params_file=params_file, previous=previous, meeting_xlsx=meeting_xlsx, lang=lang,
            reveal_pii=reveal_pii, register=register, tables_dir=tables_dir), lang)
"""
    ),
]


if __name__ == "__main__":
    write(CELLS, OUT)
