"""The budget request of the only-child parents' reward (预算申请表, rulebook §5) as a workbook:
one sheet per scenario with units down and budget years across (calendar years, or fiscal years
from a chosen month; a year the horizon covers only in part is marked with its months), the
payments committed to today's certificates and the P50 and P90 of new certificates, a total row
and a total column; a sheet comparing each scenario with current policy (the difference per
year, with its P10 and P90 over the draws); and the monthly projection as a long table with the
month as a date cell, so that a pivot table can group it by year.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core.errors import UsageError
from fpanalysis.io import write as _write
from fpanalysis.io.sheets import (
    add_title_row,
    money_format,
    print_setup,
    set_widths,
    style_header,
    style_total_row,
)
from fpanalysis.io.workbooks import OUTPUTS, Book, fill_table, sheet_name, title_text
from fpanalysis.io.write import neutralize_text, write_workbook
from fpanalysis.rules.bonus import BonusProjection, month_label, parse_month
from fpanalysis.rules.bonus.draws import by_periods, percentiles

__all__ = [
    "BudgetYear",
    "budget_workbook",
    "budget_years",
    "scenario_label",
    "write_budget_workbook",
]

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class BudgetYear:
    """One budget year of a horizon.

    Attributes:
        key: the calendar year (``2026``), or the fiscal year (``"2025/26"``, the
            year it starts in and the next).
        zh, en: its label; a year the horizon covers in part names its months
            (``2028（1–11月）``).
        first: the horizon's month (0 = the first) it starts at.
        months: how many of its months the horizon covers.
    """

    key: int | str
    zh: str
    en: str
    first: int
    months: int

    @property
    def partial(self) -> bool:
        return self.months < 12


def budget_years(start: Any, months: int, fiscal_year_start: int = 1) -> list[BudgetYear]:
    """The budget years a horizon of ``months`` months from ``start`` covers, partial ones marked.

    Args:
        start: the first month (``YYYY-MM`` or a month index).
        months: the horizon.
        fiscal_year_start: the month (1-12) a budget year starts in; 1: calendar years.

    Raises:
        UsageError: ``fiscal_year_start`` is not a month.

    Examples:
        >>> [y.zh for y in budget_years("2025-12", 36)]
        ['2025（12月）', '2026', '2027', '2028（1–11月）']
        >>> [y.en for y in budget_years("2025-12", 6, fiscal_year_start=4)]
        ['FY2025/26 (2025-12 to 2026-03)', 'FY2026/27 (2026-04 to 2026-05)']
    """
    if not isinstance(fiscal_year_start, int) or not 1 <= fiscal_year_start <= 12:
        raise UsageError(
            f"预算年度起始月应为 1 至 12：{fiscal_year_start}",
            f"the budget year's first month must be 1 to 12: {fiscal_year_start}",
            value=str(fiscal_year_start),
            rule="fiscal-year-start",
        )
    start_m = start if isinstance(start, int) else parse_month(start)
    shift = fiscal_year_start - 1
    spans: list[list[int]] = []  # [year it starts in, first, months]
    for k in range(months):
        fy = (start_m + k - shift) // 12
        if not spans or spans[-1][0] != fy:
            spans.append([fy, k, 0])
        spans[-1][2] += 1
    out = []
    for fy, first, n in spans:
        a, b = start_m + first, start_m + first + n - 1
        if shift == 0:
            key: int | str = fy
            zh = en = str(fy)
            one = a % 12 == b % 12
            zh_part = f"{a % 12 + 1}月" if one else f"{a % 12 + 1}–{b % 12 + 1}月"
            en_part = _MONTHS_EN[a % 12] if one else f"{_MONTHS_EN[a % 12]}–{_MONTHS_EN[b % 12]}"
        else:
            key = f"{fy}/{(fy + 1) % 100:02d}"
            zh, en = f"{key}年度", f"FY{key}"
            zh_part = f"{month_label(a)}至{month_label(b)}"
            en_part = f"{month_label(a)} to {month_label(b)}"
        if n < 12:
            zh, en = f"{zh}（{zh_part}）", f"{en} ({en_part})"
        out.append(BudgetYear(key, zh, en, first, n))
    return out


def scenario_label(name: str, lang: str = "zh") -> str:
    """A scenario as people call it: ``baseline`` is current policy (现行政策)."""
    if name == "baseline":
        return "现行政策" if lang == "zh" else "current policy"
    return name


def _by_year(a: np.ndarray, years: Sequence[BudgetYear], axis: int) -> np.ndarray:
    """``a`` summed over each budget year's months along ``axis``, then the whole horizon."""
    return by_periods(a, [y.first for y in years], True, axis=axis)


def _yuan(fen: Any) -> float:
    return int(fen) / 100


def _texts(lang: str) -> dict[str, str]:
    if lang == "zh":
        return {
            "what": "独生子女父母奖励金预算申请表",
            "unit_id": "单位编号",
            "unit_name": "单位名称",
            "total": "合计",
            "county": "全县合计",
            "committed": "已发证应付",
            "p50": "新增 P50",
            "p90": "新增 P90",
            "compare": "独生子女父母奖励金各情景与现行政策比较",
            "scenario": "情景",
            "item": "项目",
            "spend": "预计支出（已发证 + 新增 P50）",
            "diff": "较现行政策增减",
            "diff50": "较现行政策增减 P50",
            "diff10": "增减 P10",
            "diff90": "增减 P90",
        }
    return {
        "what": "Only-child parents' reward: budget request",
        "unit_id": "unit_id",
        "unit_name": "unit_name",
        "total": "Total",
        "county": "County total",
        "committed": "committed",
        "p50": "new P50",
        "p90": "new P90",
        "compare": "Only-child parents' reward: scenarios against current policy",
        "scenario": "scenario",
        "item": "item",
        "spend": "expected spending (committed + new P50)",
        "diff": "change from current policy",
        "diff50": "change from current policy, P50",
        "diff10": "change, P10",
        "diff90": "change, P90",
    }


def _note(pr: BonusProjection, lang: str) -> str:
    draws, seed = pr.meta.get("draws", pr.new.n_draws), pr.meta.get("seed", 0)
    if lang == "zh":
        return (
            "金额单位：元。已发证应付：现有光荣证按所列期间的参数应付的金额；"
            f"新增：无子女的在册育龄夫妇将来领证后的支出，{draws} 次蒙特卡洛模拟（种子 {seed}）"
            "的中位数（P50）和第 90 百分位数（P90）。"
            "合计行、合计列的 P50、P90 取自各次模拟的合计，不等于其上各数之和。"
        )
    return (
        "Amounts in yuan. Committed: what today's certificates are owed under each month's "
        "parameters. New: certificates still to be issued to childless couples in scope, the "
        f"median (P50) and 90th percentile (P90) of {draws} Monte Carlo draws (seed {seed}). The "
        "P50 and P90 in the total row and column are taken over each draw's total: they are not "
        "the sums of the figures above them."
    )


def _write_row(ws, row: int, values: Sequence[Any], money_from: int, fmt: str) -> None:
    for j, v in enumerate(values, start=1):
        cell = ws.cell(row=row, column=j, value=neutralize_text(v))
        if j >= money_from and v is not None:
            cell.number_format = fmt


def _sheet_texts(
    lang: str, years: Sequence[BudgetYear]
) -> tuple[Mapping[str, str], bool, str, list[str]]:
    """A sheet's texts, whether it is Chinese, its money format and its column periods."""
    t = _texts(lang)
    zh = lang == "zh"
    return t, zh, money_format(lang), [y.zh if zh else y.en for y in years] + [t["total"]]


def _scenario_sheet(
    ws,
    pr: BonusProjection,
    years: Sequence[BudgetYear],
    *,
    lang: str,
    unit_names: Mapping[str, str],
    when: str,
    source: str | None,
) -> None:
    """Units down, budget years (and the total) across: committed, new P50, new P90."""
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    t, zh, fmt, periods = _sheet_texts(lang, years)
    label = scenario_label(pr.scenario, lang)
    ws.title = sheet_name(f"预算（{label}）" if zh else f"budget ({label})")
    committed = _by_year(pr.committed_fen, years, axis=1)  # (U, Y+1)
    # each unit's P50 and P90 over its yearly sums of each draw, a block of units at a time
    unit_p, _ = pr.new.unit_periods([y.first for y in years], True, (50, 90))  # (2, U, Y+1)
    county_c = committed.sum(axis=0)  # (Y+1,)
    county_p = percentiles(_by_year(pr.new.month_totals(), years, axis=1), (50, 90))  # (2, Y+1)
    n_cols = 2 + 3 * len(periods)
    add_title_row(ws, title_text(t["what"], label, when, source, lang=lang), n_cols)
    head = [t["unit_id"], t["unit_name"]]
    sub: list[str | None] = [None, None]
    for p in periods:
        head += [p, None, None]
        sub += [t["committed"], t["p50"], t["p90"]]
    ws.append([neutralize_text(h) for h in head])
    ws.append(sub)
    for c in (1, 2):
        ws.merge_cells(start_row=2, start_column=c, end_row=3, end_column=c)
    for k in range(len(periods)):
        c = 3 + 3 * k
        ws.merge_cells(start_row=2, start_column=c, end_row=2, end_column=c + 2)
    style_header(ws, 2, n_cols)
    style_header(ws, 3, n_cols)
    rows: list[list[Any]] = []
    for u, unit in enumerate(pr.units):
        row: list[Any] = [unit, unit_names.get(unit)]
        for k in range(len(periods)):
            row += [_yuan(committed[u, k]), _yuan(unit_p[0, u, k]), _yuan(unit_p[1, u, k])]
        rows.append(row)
    for i, row in enumerate(rows):
        _write_row(ws, 4 + i, row, 3, fmt)
    total_row = 4 + len(rows)
    total: list[Any] = [t["county"], None]
    for k in range(len(periods)):
        total += [_yuan(county_c[k]), _yuan(county_p[0, k]), _yuan(county_p[1, k])]
    _write_row(ws, total_row, total, 3, fmt)
    style_total_row(ws, total_row, n_cols)
    note_row = total_row + 2
    ws.cell(row=note_row, column=1, value=_note(pr, lang))
    ws.merge_cells(start_row=note_row, start_column=1, end_row=note_row, end_column=n_cols)
    ws.cell(row=note_row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[note_row].height = 48

    every = [*rows, total]
    shown = [
        [head[0], *(str(r[0]) for r in every)],
        [head[1], *((r[1] or "") for r in rows)],
        *([sub[j], *(_money_text(r[j], lang) for r in every)] for j in range(2, n_cols)),
    ]
    set_widths(ws, shown, header_row=3)
    ws.row_dimensions[2].height = 20
    ws.freeze_panes = "C4"
    ws.auto_filter.ref = f"A3:{get_column_letter(n_cols)}{max(total_row - 1, 3)}"
    print_setup(
        ws,
        title=t["what"],
        when=title_text(label, when, lang=lang),
        source=source,
        header_rows=(2, 3),
        lang=lang,
    )


def _money_text(v: Any, lang: str) -> str:
    """About what a money cell shows (for its column's width)."""
    return "" if v is None else f"{float(v):,.2f} " + ("元" if lang == "zh" else "yuan")


def _comparison_sheet(
    ws,
    projections: Sequence[BonusProjection],
    years: Sequence[BudgetYear],
    *,
    lang: str,
    when: str,
    source: str | None,
) -> None:
    """Each scenario's county spending per year and its difference from current policy."""
    t, zh, fmt, periods = _sheet_texts(lang, years)
    ws.title = sheet_name("情景比较" if zh else "scenarios")
    n_cols = 2 + len(periods)

    def spending(pr: BonusProjection) -> np.ndarray:  # (D, Y+1) fen: committed + each draw
        c = _by_year(pr.committed_fen.sum(axis=0), years, axis=0)
        n = _by_year(pr.new.month_totals(), years, axis=1)
        return c[None, :] + n

    base = projections[0]
    base_total = spending(base)
    draws = base_total.shape[0]
    rows: list[list[Any]] = [
        [scenario_label(base.scenario, lang), t["spend"], *percentiles(base_total, (50,))[0]]
    ]
    for pr in projections[1:]:
        total = spending(pr)
        diff = total - base_total  # the same seed: each draw against its twin
        name = scenario_label(pr.scenario, lang)
        rows.append([name, t["spend"], *percentiles(total, (50,))[0]])
        if draws > 1:
            p10, p50, p90 = percentiles(diff, (10, 50, 90))
            rows += [
                [name, t["diff50"], *p50],
                [name, t["diff10"], *p10],
                [name, t["diff90"], *p90],
            ]
        else:
            rows.append([name, t["diff"], *diff[0]])
    add_title_row(ws, title_text(t["compare"], when, source, lang=lang), n_cols)
    head = [t["scenario"], t["item"], *periods]
    ws.append([neutralize_text(h) for h in head])
    style_header(ws, 2, n_cols)
    for i, row in enumerate(rows):
        values = [row[0], row[1], *(_yuan(v) for v in row[2:])]
        _write_row(ws, 3 + i, values, 3, fmt)
    shown = [
        [head[j], *(str(r[j]) if j < 2 else _money_text(_yuan(r[j]), lang) for r in rows)]
        for j in range(n_cols)
    ]
    set_widths(ws, shown, header_row=2)
    ws.freeze_panes = "C3"
    from openpyxl.utils import get_column_letter

    ws.auto_filter.ref = f"A2:{get_column_letter(n_cols)}{2 + len(rows)}"
    print_setup(ws, title=t["compare"], when=when, source=source, lang=lang)


def budget_workbook(
    projections: Mapping[str, BonusProjection] | Sequence[BonusProjection],
    table: pd.DataFrame,
    *,
    lang: str = "zh",
    unit_names: Mapping[str, str] | None = None,
    fiscal_year_start: int = 1,
    source: str | None = None,
):
    """The budget request workbook (an ``openpyxl.Workbook``).

    Args:
        projections: current policy (``baseline``) first, then each scenario,
            over the same horizon, draws and seed.
        table: the long table ``bonus --out`` writes as ``.csv`` (a row per month
            and unit, and scenario when there are several): the monthly sheet
            holds its values row for row, the month as a date cell.
        lang: the language of the sheets.
        unit_names: unit id -> name.
        fiscal_year_start: the month a budget year starts in (1: calendar years).
        source: the dataset, as the titles show it.
    """
    import openpyxl

    prs = list(projections.values()) if isinstance(projections, Mapping) else list(projections)
    first = prs[0]
    n_months = first.committed_fen.shape[1]
    years = budget_years(first.start_m, n_months, fiscal_year_start)
    zh = lang == "zh"
    last = month_label(first.start_m + n_months - 1)
    when = (
        f"{month_label(first.start_m)} 至 {last}"
        if zh
        else f"{month_label(first.start_m)} to {last}"
    )
    names = dict(unit_names or {})
    wb = openpyxl.Workbook()
    taken: set[str] = set()
    for i, pr in enumerate(prs):
        ws = wb.active if i == 0 else wb.create_sheet()
        _scenario_sheet(ws, pr, years, lang=lang, unit_names=names, when=when, source=source)
        ws.title = _unique(ws.title, taken)
    if len(prs) > 1:
        ws = wb.create_sheet()
        _comparison_sheet(ws, prs, years, lang=lang, when=when, source=source)
        ws.title = _unique(ws.title, taken)
    if not monthly_fits(len(table)):  # a province's units x months: the budget sheets still fit
        ws = wb.create_sheet()
        _monthly_elsewhere(ws, len(table), lang=lang, when=when, source=source)
        ws.title = _unique(ws.title, taken)
        wb.properties.title = _texts(lang)["what"]
        return wb
    monthly = table.copy()
    if "month" in monthly:
        idx = monthly["month"].map(parse_month)
        key = {first.start_m + y.first + k: y.key for y in years for k in range(y.months)}
        year = idx.map(key)
        monthly.insert(
            list(monthly.columns).index("month") + 1,
            "budget_year",
            year.astype("int64") if fiscal_year_start == 1 else year.astype("str"),
        )
    ws = wb.create_sheet()
    fill_table(
        ws,
        monthly,
        Book("budget_monthly", when=when, source=source, unit_names=names),
        lang=lang,
        headers={"budget_year": ("预算年度", "budget year")},
    )
    ws.title = _unique(ws.title, taken)
    wb.properties.title = _texts(lang)["what"]
    return wb


def monthly_fits(n_rows: int) -> bool:
    """Whether the monthly table's ``n_rows`` fit one sheet (else the workbook says where)."""
    return n_rows <= _write.XLSX_MAX_ROWS


def monthly_elsewhere_text(n_rows: int, lang: str) -> str:
    """Why the workbook has no monthly rows, and how to get them (a sheet holds too few).

    Examples:
        >>> monthly_elsewhere_text(2_181_888, "en")[:60]
        'The monthly projection has 2,181,888 rows, more than an Exce'
    """
    if lang == "zh":
        return (
            f"逐月明细共 {n_rows:,} 行，超过 Excel 工作表的上限 {_write.XLSX_MAX_ROWS:,} 行，"
            "未放入本工作簿；前面各表按预算年度汇总，完整。"
            "逐月明细请用同一命令、--out 文件名.csv 或 .parquet 另行输出。"
        )
    return (
        f"The monthly projection has {n_rows:,} rows, more than an Excel sheet holds "
        f"({_write.XLSX_MAX_ROWS:,}), so it is not in this workbook; the sheets before this "
        "one, by budget year, are complete. For the monthly rows, run the same command with "
        "--out FILE.csv or .parquet."
    )


def _monthly_elsewhere(ws, n_rows: int, *, lang: str, when: str, source: str | None) -> None:
    """The monthly sheet of a projection too long for one: its title and why it is empty."""
    from openpyxl.styles import Alignment

    kind = OUTPUTS["budget_monthly"]
    zh = lang == "zh"
    ws.title = sheet_name(kind.sheet[0 if zh else 1])
    add_title_row(ws, title_text(kind.title[0 if zh else 1], when, source, lang=lang), 8)
    ws.cell(row=3, column=1, value=monthly_elsewhere_text(n_rows, lang))
    ws.merge_cells(start_row=3, start_column=1, end_row=3, end_column=8)
    ws.cell(row=3, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[3].height = 48


def _unique(name: str, taken: set[str]) -> str:
    out, k = name, 2
    while out in taken:
        suffix = f" {k}"
        out, k = name[: 31 - len(suffix)] + suffix, k + 1
    taken.add(out)
    return out


def write_budget_workbook(
    path: str | os.PathLike,
    projections: Mapping[str, BonusProjection] | Sequence[BonusProjection],
    table: pd.DataFrame,
    **options: Any,
) -> Path:
    """Write the budget request workbook (:func:`budget_workbook`, which takes the keyword
    ``options``) atomically, same bytes on rerun.

    Returns:
        The path written.
    """
    path = Path(path)
    wb = budget_workbook(projections, table, **options)
    return write_workbook(wb, path, title=wb.properties.title)
