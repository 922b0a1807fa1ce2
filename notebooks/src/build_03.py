"""Build notebooks/03_relief_ranking.ipynb (run: .venv/bin/python notebooks/src/build_03.py).

The notebook is thin: a parameters cell, calls into fpanalysis (relief,
charts.relief, widgets.relief), narration in Simplified Chinese with English
beside it. The widget cell is tagged ``nbval-ignore-output``. Written with
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

按工作计划第五部分（计生特困户救助制度，POLICY.md §6）：以基准日有效的城乡低保标准判断资格，
定困难档次，认定计生优先类型（独女户、二女结扎户、不育户），排序并在名额或预算内确定拟纳入名单，
再与上期比较，列出新纳入、继续、档次变动、退出和应复核的户。

Per POLICY.md §6: eligibility against the 低保 standard in force on the as-of date, the hardship
tier, the FP priority types, the ranking and the selection under a quota or a budget; then the
comparison with the previous period (enter, continue, tier change, exit) and who is due for review.

参数 / parameters: `dataset`（数据集，空 = 样例数据 / empty = the bundled sample），
`as_of`（基准日 YYYY-MM-DD；空 = 数据中最近的申请或复核日期 / empty = the data's last recorded date），
`quota`（名额，户 / households）或 `budget_yuan`（每月预算，元 / monthly budget）——都为空则应保尽保 /
both empty: all who qualify；`pool`（`all` 城乡合并、`urban`、`rural`），
`params_file`（参数覆盖文件 YAML / parameter override file），`previous`（上期数据集，空 = 与目前在保户比较 /
previous period's dataset; empty = compare with who receives relief now），
`meeting_xlsx`（写出评议会名单的路径；空 = 不写 / where to write the meeting list; empty = not written），
`register`（登记簿：SQLite 文件或 postgresql:// 地址；空 = 不读 / the decision register: an SQLite file or a
postgresql:// URL; empty = none），`lang`（`zh` / `en`），`reveal_pii`（`True` 显示完整姓名和身份证号，即 `--reveal-pii`；默认 `False` 脱敏 / full names and ID numbers; masked by default）。
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
""",
        tags=["parameters"],
    ),
    code(
        """
import altair as alt
import pandas as pd
from IPython.display import Markdown, display

from fpanalysis.core import config
from fpanalysis.charts import relief as charts
from fpanalysis.io import load_for_analysis, localize
from fpanalysis.core.params import load_params
from fpanalysis.core.privacy import mask_frame
from fpanalysis.io.exports import export_meeting_xlsx
from fpanalysis.rules.relief import RELIEF_TABLES, cut_line, rank_households, review

alt.renderers.enable("svg")  # static and offline: the saved notebook shows every chart
pd.set_option("display.max_rows", 80)
pd.set_option("display.max_colwidth", 200)

ds = load_for_analysis(dataset or config.SAMPLE_DIR, RELIEF_TABLES, lang=lang)
params = load_params(params_file or None)
for line in ds.messages:
    print(line)


def show(df, table="households"):
    \"\"\"Mask names (POLICY.md §7), then headers and labels in the chosen language.\"\"\"
    display(localize(mask_frame(df.reset_index(drop=True), reveal=reveal_pii), lang, table))


result = rank_households(ds, params, as_of or None, quota=quota, budget_yuan=budget_yuan, pool=pool)
day = result.as_of.strftime("%Y-%m-%d")
limit = (f"名额 quota {quota}" if quota is not None else "") + (f"预算 budget {budget_yuan} 元" if budget_yuan is not None else "")
display(Markdown(
    f"**基准日 as of {day}；资金池 pool {pool}；{limit or '应保尽保 all who qualify'}；"
    f"参数 parameters: {params.override_file or '默认 defaults'}**"
))
for a in ("urban", "rural"):
    print(f"{'城镇' if a == 'urban' else '农村'}低保标准 {a} standard: {params.dibao_standard(a, result.as_of)} 元/人/月 yuan per person per month")
"""
    ),
    md(
        """
## 1. 排序结果 / The ranked list

每户一行：排名（不符合条件的为空）、档次（评议评定或按收入比）、计生类型、人均月收入、月保障金
（标准 × 人数 − 家庭收入，向上取整到元）、是否拟纳入和理由。户主姓名已脱敏。
在保户复核仍符合条件的继续保障、先占名额或预算，不与新申请户重新排序；其余按排名依次纳入，
遇到第一户放不下即停止。

One row per household: rank (empty when not eligible), tier (assessed or from the income ratio),
FP type, per-capita income, the monthly entitlement (standard × size − income, rounded up to
whole yuan), whether selected, and the reason. Head names are masked. Households receiving
relief now that are still eligible continue and are paid first, without being re-ranked against
newcomers; the rest goes to newcomers in rank order, stopping at the first that does not fit.
"""
    ),
    code(
        """
for z, e in result.notes:
    print(f"注意 {z} / note: {e}")
if len(result.problems):
    print(f"{len(result.problems)} 户申报计生类型与成员不符（按成员认定） / declared FP types contradicted (the members decide)")
    show(result.problems[["household_id", "value", "message_zh", "message_en"]])
n = result.table["selection"].value_counts()
total = int(result.selected["entitlement_yuan"].astype("int64").sum())
print(
    f"{len(result.table)} 户 households；符合条件 eligible {int(result.table['eligible'].sum())}；"
    f"拟纳入 selected {len(result.selected)}（继续 continuing {n.get('continuing', 0)}，新纳入 admitted {n.get('admitted', 0)}）；"
    f"候补 waiting {n.get('waiting', 0)}；月保障金 {total} 元 yuan a month"
)
reason = "reason_zh" if lang == "zh" else "reason_en"
cols = [c for c in result.output().columns if c not in ("reason_zh", "reason_en")] + [reason]
show(result.output()[cols].head(60))
"""
    ),
    md(
        """
## 2. 分界线两侧 / Either side of the cut line

分界线上最后纳入的一户和线下第一户，以及区分它们的排序依据（或在保户先占名额）。
The last household admitted and the first left waiting, and what separates them (a ranking key,
or the continuing households using the quota).
"""
    ),
    code(
        """
cut = cut_line(result)
if cut.empty:
    print("没有候补户：所有符合条件的户均已纳入 / nobody waits: every eligible household is selected")
else:
    show(cut.drop(columns=["separated_by_en" if lang == "zh" else "separated_by_zh"]))
"""
    ),
    md(
        """
## 3. 图表 / Charts

左：各档次户数，按计生类型着色，分纳入情况；右：按支付顺序（在保户在前，再按排名）累计的月保障金，
红色虚线为分界线，蓝线为预算。

Households per tier, coloured by FP type, by selection status; and the monthly entitlements
accumulated in payment order (continuing first, then by rank), with the cut line (red, dashed)
and the budget (blue).
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
## 4. 调整名额、预算和标准 / Move the quota, the budget and the standard

选择限制方式，拖动名额或预算滑块，或改变城乡低保标准（自基准日起生效），分界线随即重画。
正式名单请用参数 `quota` / `budget_yuan` 和参数文件 `params_file`。

Choose the limit and move the quota or budget slider, or change the urban or rural standard
(in force from the as-of date); the cut line is redrawn. For the official list use the
`quota` / `budget_yuan` parameters and a parameter file.
"""
    ),
    code(
        """
from fpanalysis.register import open_register
from fpanalysis.widgets.relief import cut_dashboard

cut_dashboard(ds, params, result.as_of, quota=quota, budget_yuan=budget_yuan,
              pool=pool if pool != "separate" else "all", lang=lang, reveal=reveal_pii,
              procedure=open_register(register, create=False).procedure() if register else None)
""",
        tags=["nbval-ignore-output"],
    ),
    md(
        """
## 5. 动态管理 / Review: enter, continue, tier change, exit

与上期比较（未给出上期数据时，与目前在保户比较）：新纳入、继续、档次变动、退出（收入达到或超过标准，
或名册中已无此户——迁出或死亡），以及应复核的户（一般 6 个月；有残疾成员且收入未变的 12 个月，
收入是否变化须有上期数据）。

Against the previous period (or, without it, against who receives relief now): enter, continue,
tier change, exit (income at or above the standard, or no longer listed — moved or died), and who
is due for review (6 months; 12 with a disabled member whose income has not changed, which needs
the previous data).
"""
    ),
    code(
        """
prev = load_for_analysis(previous, RELIEF_TABLES, lang=lang) if previous else None
moves, _ = review(ds, params, result.as_of, previous=prev, quota=quota, budget_yuan=budget_yuan, pool=pool)
print(moves["transition"].value_counts().to_string())
changed = moves[moves["transition"].isin(["enter", "exit", "tier_change"])]
show(changed.drop(columns=["reason_en" if lang == "zh" else "reason_zh"]).head(40))
"""
    ),
    code(
        """
due = moves[moves["review_due"].fillna(False).astype(bool)].sort_values("next_review_date")
print(f"应复核 {len(due)} 户 / {len(due)} households due for review")
show(due[["household_id", "area", "township", "head_name", "tier", "review_months", "last_review_date", "next_review_date"]])
"""
    ),
    md(
        """
## 6. 评议会名单 / The committee's meeting list

给出 `meeting_xlsx` 时，把拟纳入名单（在保户在前，再按排名）写成格式化的 Excel 表（标题行、粗体表头、
冻结表头、固定文档属性；姓名脱敏）。

With `meeting_xlsx` set, the selected list (continuing first, then by rank) is written as a
formatted workbook (title row, bold frozen headers, fixed document properties; names masked).
"""
    ),
    code(
        """
if meeting_xlsx:
    path = export_meeting_xlsx(result, meeting_xlsx, lang=lang, reveal_pii=reveal_pii)
    print(f"已写到 written to {path.name}：{len(result.selected)} 户 households")
else:
    print("未设置 meeting_xlsx，未写出 / meeting_xlsx not set: nothing written")
"""
    ),
    md(
        """
## 7. 登记簿 / The decision register

给出 `register` 时：本期结果与登记簿中基准日之前最近一轮（未被更正的；有审批过的轮次时为最近审批的一轮）
低保记录比较——在该轮中已选中、仍符合条件的户继续保障（POLICY.md §6）；列出登记簿中的各轮及其阶段，
最近一轮在民主评议、公示和审批中的阶段（拟定、已评议、已公示、已审批）及偏离排序的评议决定和理由，
以及一户的历次记录（第一户有变动的户：新纳入、退出或档次变动）。

With `register` set: this period against the register's last relief round in force dated before
the as-of date (the last approved one once rounds are approved; households selected in it keep
relief while eligible, POLICY.md §6); the rounds recorded with their stages; where the last round
stands in the committee's procedure (proposed, decided, noticed, approved) with its departures
from the rank order and their reasons; and one household's history (the first household that
entered, exited or changed tier).
"""
    ),
    code(
        """
if register:
    from fpanalysis.register import open_register

    reg = open_register(register, create=False)
    prev_round, prev_id = reg.previous_selection(as_of=result.as_of)
    rounds = reg.rounds("relief")
    print(f"登记簿 register: {reg.where}；低保轮次 relief rounds: {len(rounds)}")
    show(rounds[["round_id", "as_of", "stage", "recorded_at", "params_sha256", "supersedes", "superseded_by", "note"]])
    from IPython.display import HTML
    from fpanalysis.widgets.relief import procedure_html

    display(Markdown("**评议、公示与审批 / the committee's procedure**"))
    display(HTML(procedure_html(reg.procedure(), lang=lang, reveal=reveal_pii)))
    if prev_id is None:
        print(f"登记簿中没有 {day} 之前的低保轮次 / no relief round recorded before {day}")
    else:
        since, _ = review(ds, params, result.as_of, previous_round=prev_round, quota=quota,
                          budget_yuan=budget_yuan, pool=pool)
        print(f"与登记簿轮次 {prev_id} 比较 / against register round {prev_id}")
        print(since["transition"].value_counts().to_string())
        moved = since[since["transition"].isin(["enter", "exit", "tier_change"])]
        show(moved[["household_id", "head_name", "transition", "previous_tier", "tier", "review_due", reason]])
        who = moved["household_id"].iloc[0] if len(moved) else since["household_id"].iloc[0]
        display(Markdown(f"**户 {who} 的历次记录 / household {who} over the recorded rounds**"))
        hist = reg.household_history(who)
        show(hist[["round_id", "as_of", "listed", "rank", "tier", "fp_type", "selected", "entitlement_yuan", reason]])
else:
    print("未给出登记簿（参数 register），不显示历次轮次 / no register given (parameter register): "
          "no rounds or history to show")
"""
    ),
]


if __name__ == "__main__":
    write(CELLS, OUT)
