"""Output tables as workbooks to read, filter and print: :func:`write_table_workbook` writes the
table :func:`fpanalysis.io.write_table` would write (the same rows, values, headers and labels)
on a sheet named in the output's language, under a title row (what, the period or as-of date,
the dataset), with the unit's name beside each unit id, widths, number formats, dates as date
cells, an autofilter, a frozen header, a total row where the figures add up and an A4 print
set-up (:mod:`fpanalysis.io.sheets`). Identical bytes on every run; text a spreadsheet would run
as a formula is neutralised.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from fpanalysis.io.sheets import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    INTEGER_FORMAT,
    MAX_WIDTH,
    MONTH_FORMAT,
    PERCENT_FORMAT,
    add_title_row,
    fit_row_heights,
    money_format,
    print_setup,
    set_widths,
    style_header,
    style_total_row,
    text_width,
)
from fpanalysis.io.write import (
    check_xlsx_rows,
    localize,
    neutralize_formulas,
    prepare_frame,
    write_workbook,
    xlsx_value,
)

__all__ = [
    "OUTPUTS",
    "RATE_COLUMNS",
    "SUM_COLUMNS",
    "Book",
    "Output",
    "as_of_text",
    "dataset_text",
    "fill_table",
    "period_text",
    "register_text",
    "sheet_name",
    "table_workbook",
    "title_text",
    "unit_names_of",
    "with_unit_names",
    "write_table_workbook",
]


@dataclass(frozen=True)
class Output:
    """What an output table is, for its workbook: sheet name and title (Chinese, English).

    Attributes:
        sheet: the sheet's name (zh, en).
        title: what the table is (zh, en), the title row's first words.
        table: the schema table its headers and labels are looked up in first.
        totals: a total row where the figures add up (:data:`SUM_COLUMNS`).
        total_where: a yes/no column: only its "yes" rows are totalled.
        total_label: the total row's label (zh, en).
        dates: text holding days, moments or months becomes date cells (False: the
            table quotes input as typed, as the problem list does).
    """

    sheet: tuple[str, str]
    title: tuple[str, str]
    table: str | None = None
    totals: bool = True
    total_where: str | None = None
    total_label: tuple[str, str] = ("合计", "Total")
    dates: bool = True


#: Every output table the command line writes, by kind.
OUTPUTS: Mapping[str, Output] = {
    "scorecard": Output(
        ("考核结果", "scorecard"), ("单位计划生育工作考核结果", "Family-planning unit scorecard")
    ),
    "detail": Output(
        ("考核明细", "detail"),
        ("考核明细：计入各项指标的夫妻、妇女和事件", "Scorecard detail: what each figure counted"),
    ),
    "cases": Output(
        ("案件清单", "cases"),
        ("大月份引产与生育指标注销案件清单", "Late-termination and birth-quota cases"),
    ),
    "accountability": Output(
        ("责任追究清单", "accountability"), ("责任追究清单", "Accountability list")
    ),
    "liability": Output(
        ("剩余负债", "liability"),
        ("独生子女父母奖励金剩余负债", "Only-child parents' reward: remaining liability"),
    ),
    "outside": Output(
        ("预算外光荣证", "outside budget"),
        ("预算外的独生子女父母光荣证", "Only-child certificates outside the budget"),
    ),
    "relief": Output(
        ("低保排序", "relief ranking"),
        ("低保排序与拟纳入名单", "Minimum-living relief: ranking and selection"),
        table="households",
        total_where="selected",
        total_label=("拟纳入合计", "Total selected"),
    ),
    "review": Output(
        ("动态管理", "review"),
        ("低保动态管理：变动与到期复核", "Relief register review: transitions and reviews due"),
        table="households",
        totals=False,
    ),
    "unit_review": Output(
        ("等次变动", "grade changes"),
        ("单位考核等次变动", "Units' grades between compliance rounds"),
        totals=False,
    ),
    "household_history": Output(
        ("低保历史", "household history"),
        ("低保户历次评议记录", "A household's relief rounds"),
        totals=False,
    ),
    "unit_grades": Output(
        ("考核等次", "unit grades"), ("单位历次考核等次", "Units' compliance grades"), totals=False
    ),
    "rounds": Output(
        ("登记轮次", "rounds"), ("决定登记簿轮次", "Rounds in the decision register"), totals=False
    ),
    "budget_monthly": Output(
        ("逐月明细", "monthly"),
        ("独生子女父母奖励金逐月预测明细", "Only-child parents' reward: projection by month"),
        totals=False,
    ),
    "parameters": Output(("参数", "parameters"), ("现行参数", "Parameters in force"), totals=False),
    "parameter_changes": Output(
        ("参数变化", "parameter changes"),
        ("参数文件改变的参数", "Changes made by a parameter file"),
        totals=False,
    ),
    "problems": Output(
        ("问题清单", "problems"),
        ("数据集校验问题清单", "Dataset problems"),
        totals=False,
        dates=False,
    ),
}

#: Rates (a share of 1): shown as percentages, never totalled.
RATE_COLUMNS = frozenset(
    {"baseline_coverage", "followup_coverage", "feedback_timeliness", "check_attendance"}
)
#: Columns whose figures add up over rows (money and counts): the total row sums them.
SUM_COLUMNS = frozenset(
    {
        "falsifications",
        "out_of_plan_births",
        "pregnancies_without_permit",
        "unapproved_late_terminations",
        "penalty",
        "certificates",
        "liability_yuan",
        "liability_discounted_yuan",
        "months_due",
        "outside_yuan",
        "committed_yuan",
        "entitlement_yuan",
    }
)
#: Whole numbers shown without a thousands separator (ranks, tiers, years, months).
PLAIN_INTEGERS = frozenset(
    {
        "rank",
        "tier",
        "previous_tier",
        "assessed_tier",
        "ratio_tier",
        "above_rank",
        "review_months",
        "seq",
        "row",
        "year",
        "size",
        "budget_year",
    }
)
#: Free text that wraps in its column.
LONG_TEXT = re.compile(r"^(reason|timeline|action|message|separated_by|fp_evidence|why|note)")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


@dataclass(frozen=True)
class Book:
    """One output table's workbook: its kind (a key of :data:`OUTPUTS`) and its context.

    Attributes:
        kind: the output (``scorecard``, ``relief``...).
        when: the period, round or as-of date, as the title shows it (:func:`period_text`...).
        source: the dataset or register, as the title shows it (:func:`dataset_text`).
        unit_names: unit id -> the unit's name, shown beside every ``unit_id``.
    """

    kind: str
    when: str | None = None
    source: str | None = None
    unit_names: Mapping[str, str] = field(default_factory=dict)


def period_text(period: str, lang: str = "zh") -> str:
    """``考核期 2024`` / ``period 2024``."""
    return f"考核期 {period}" if lang == "zh" else f"period {period}"


def as_of_text(day: Any, lang: str = "zh", *, data: bool = False) -> str:
    """``基准日 2025-06-30`` / ``as of 2025-06-30``; ``data``: ``数据截至`` / ``data up to``.

    Examples:
        >>> as_of_text(pd.Timestamp("2025-06-30"), "en")
        'as of 2025-06-30'
    """
    text = pd.Timestamp(day).strftime("%Y-%m-%d")
    if lang == "zh":
        return f"{'数据截至' if data else '基准日'} {text}"
    return f"{'data up to' if data else 'as of'} {text}"


def dataset_text(path: str | os.PathLike | None, lang: str = "zh") -> str | None:
    """``数据集 sample`` / ``dataset sample``: the folder's or workbook's name, never the path."""
    if path is None:
        return None
    name = Path(path).name
    return f"数据集 {name}" if lang == "zh" else f"dataset {name}"


def register_text(where: str | None, lang: str = "zh") -> str | None:
    """``登记簿 register.sqlite`` / ``register fp``: the register's file or database name.

    Examples:
        >>> register_text("/data/register.sqlite"), register_text("postgresql://u:***@h/fp", "en")
        ('登记簿 register.sqlite', 'register fp')
    """
    if not where:
        return None
    name = where.rsplit("/", 1)[-1].split("?")[0] if "://" in where else Path(where).name
    return f"登记簿 {name}" if lang == "zh" else f"register {name}"


def unit_names_of(tables: Mapping[str, pd.DataFrame] | None) -> dict[str, str]:
    """Unit id -> unit name from the dataset's ``units`` table (empty without one)."""
    if not tables or "units" not in tables:
        return {}
    u = tables["units"]
    if "name" not in u:
        return {}
    pairs = u[["unit_id", "name"]].dropna()
    return dict(zip(pairs["unit_id"].astype(str), pairs["name"].astype(str), strict=True))


def sheet_name(text: str) -> str:
    """A name a sheet can take: no ``[]:*?/\\``, at most 31 characters.

    Examples:
        >>> sheet_name("预算申请（a/b）")
        '预算申请（a_b）'
    """
    return re.sub(r"[\[\]:*?/\\]", "_", text)[:31].strip("'") or "sheet"


def title_text(what: str, *parts: str | None, lang: str = "zh") -> str:
    """A title row: what, then the period, the dataset... (those given) in brackets.

    Examples:
        >>> title_text("考核结果", "考核期 2024", None, "数据集 sample")
        '考核结果（考核期 2024；数据集 sample）'
        >>> title_text("Scorecard", "period 2024", lang="en")
        'Scorecard (period 2024)'
    """
    given = [p for p in parts if p]
    if not given:
        return what
    return f"{what}（{'；'.join(given)}）" if lang == "zh" else f"{what} ({'; '.join(given)})"


def _as_dates(s: pd.Series) -> pd.Series | None:
    """A text column of days, moments or months as timestamps (None when it is not one)."""
    if not (s.dtype == "str" or s.dtype == object):
        return None
    v = s.dropna()
    if v.empty or not all(isinstance(x, str) for x in v):
        return None
    out = None
    for pattern, fmt in ((_DAY, "%Y-%m-%d"), (_MONTH, "%Y-%m")):
        if v.map(lambda x, p=pattern: bool(p.match(x))).all():
            out = pd.to_datetime(s, format=fmt, errors="coerce")
            break
    else:
        if v.map(lambda x: bool(_MOMENT.match(x))).all():
            out = pd.to_datetime(s.str.replace("T", " "), format="mixed", errors="coerce")
    if out is None or out[s.notna()].isna().any():  # not a date after all (2024-02-30)
        return None
    return out


def _number_format(name: str, s: pd.Series, lang: str, month: bool) -> str | None:
    """The number format of column ``name`` (English) holding ``s``; None: General."""
    if name in RATE_COLUMNS:
        return PERCENT_FORMAT
    if pd.api.types.is_datetime64_any_dtype(s):
        if month:
            return MONTH_FORMAT
        v = s.dropna()
        return DATE_FORMAT if v.eq(v.dt.normalize()).all() else DATETIME_FORMAT
    if pd.api.types.is_bool_dtype(s):
        return None
    if name.endswith("_yuan") or "yuan" in name.split("_"):
        return money_format(lang)
    if pd.api.types.is_integer_dtype(s):
        return "0" if name in PLAIN_INTEGERS else INTEGER_FORMAT
    if pd.api.types.is_float_dtype(s):
        return "0.00" if name == "score" else ("0.0" if name == "penalty" else "#,##0.00")
    if s.dtype == object and s.dropna().map(lambda x: isinstance(x, Decimal)).any():
        return money_format(lang)
    return None


def with_unit_names(df: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """``unit_name`` right after ``unit_id`` (when the table has the one and not the other)."""
    if not names or "unit_id" not in df.columns or "unit_name" in df.columns:
        return df
    pos = list(df.columns).index("unit_id") + 1
    out = df.copy()
    ids = out["unit_id"].astype(object)
    out.insert(
        pos, "unit_name", ids.map(lambda u: names.get(str(u)) if isinstance(u, str) else None)
    )
    out["unit_name"] = out["unit_name"].astype("str")
    return out


def _shown(v: Any, fmt: str | None) -> str:
    """About what a cell shows of ``v`` in format ``fmt`` (for its column's width).

    Examples:
        >>> _shown(0.9090909, "0.0%"), _shown(12345.5, '#,##0.00 "元"'), _shown(2024, "0")
        ('90.9%', '12,345.50 元', '2024')
    """
    if fmt is None or isinstance(v, str):
        return str(v)
    if fmt == PERCENT_FORMAT:
        return f"{float(v):.1%}"
    if fmt in (DATE_FORMAT, MONTH_FORMAT):
        return "2000-01-01"
    if fmt == DATETIME_FORMAT:
        return "2000-01-01 00:00:00"
    if fmt.startswith("#,##0.00"):
        return f"{float(v):,.2f}" + fmt[len("#,##0.00") :].replace('"', "")
    if fmt == INTEGER_FORMAT:
        return f"{int(v):,}"
    if fmt.startswith("0."):
        return f"{float(v):.{len(fmt) - 2}f}"
    return str(v)


def _total(s: pd.Series) -> Any:
    v = s.dropna()
    if v.empty:
        return 0
    if s.dtype == object:
        return sum(v, start=Decimal(0) if isinstance(v.iloc[0], Decimal) else 0)
    return v.sum().item() if hasattr(v.sum(), "item") else v.sum()


def table_workbook(
    df: pd.DataFrame,
    book: Book,
    *,
    lang: str = "zh",
    translate: bool = True,
    table: str | None = None,
    headers: Mapping[str, tuple[str, str]] | None = None,
):
    """The formatted workbook of an output table (an ``openpyxl.Workbook``).

    Row 1 is the title, row 2 the header (the headers and labels of
    :func:`fpanalysis.io.localize` in ``lang``), then the table's rows as
    :func:`fpanalysis.io.write_table` writes them, then a total row where the
    figures add up (:data:`SUM_COLUMNS`; never rates). Beside ``unit_id`` comes
    the unit's name (``book.unit_names``); text that is a day, a moment or a
    month becomes a date cell. In a table with both a Chinese and an English
    text column (``reason_zh``/``reason_en``) the other language's column is
    hidden (kept: it prints and filters out of the way).

    Args:
        df: the table (English column names).
        book: its kind and context.
        lang: the language of the sheet, title, headers and labels.
        translate: headers and labels translated (False: ``df`` is already in
            ``lang``, as the problem list is).
        table: the schema table headers are looked up in first (default: the kind's).
        headers: column -> (zh, en) header for columns the schema does not name.
    """
    import openpyxl

    wb = openpyxl.Workbook()
    title = fill_table(
        wb.active, df, book, lang=lang, translate=translate, table=table, headers=headers
    )
    wb.properties.title = title
    return wb


def fill_table(
    ws,
    df: pd.DataFrame,
    book: Book,
    *,
    lang: str = "zh",
    translate: bool = True,
    table: str | None = None,
    headers: Mapping[str, tuple[str, str]] | None = None,
) -> str:
    """Write the output table ``df`` into the empty sheet ``ws`` as :func:`table_workbook` does.

    ``headers``: column -> (zh, en) header for columns the schema does not name.

    Returns:
        The title row's text.
    """
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    out_kind = OUTPUTS[book.kind]
    zh = lang == "zh"
    table = table if table is not None else out_kind.table
    df = with_unit_names(prepare_frame(df), book.unit_names)
    names = [str(c) for c in df.columns]
    month_cols = set()
    for c in names if out_kind.dates else []:
        dates = _as_dates(df[c])
        if dates is not None:
            if df[c].dropna().map(lambda x: bool(_MONTH.match(x))).all():
                month_cols.add(c)
            df[c] = dates
    shown = localize(df, lang if translate else "en", table)
    if headers:
        shown.columns = [
            headers[c][0 if zh else 1] if c in headers else h
            for c, h in zip(names, shown.columns, strict=True)
        ]
    shown = neutralize_formulas(shown)
    what = out_kind.title[0 if zh else 1]
    title = title_text(what, book.when, book.source, lang=lang)
    n_cols = len(names)

    ws.title = sheet_name(out_kind.sheet[0 if zh else 1])
    add_title_row(ws, title, n_cols)
    ws.append([str(c) for c in shown.columns])
    style_header(ws, 2, n_cols)
    for row in shown.itertuples(index=False, name=None):
        ws.append([xlsx_value(v) for v in row])
    last = 2 + len(shown)
    formats = [_number_format(c, df[c], lang, c in month_cols) for c in names]
    for j, fmt in enumerate(formats, start=1):
        if fmt is not None:
            for (cell,) in ws.iter_rows(min_row=3, max_row=last, min_col=j, max_col=j):
                cell.number_format = fmt

    # a total row: money and counts that add up
    summed = [
        j
        for j, c in enumerate(names)
        if c in SUM_COLUMNS and formats[j] != PERCENT_FORMAT and len(df)
    ]
    if not out_kind.totals:
        summed = []
    if summed:
        rows = df
        if out_kind.total_where is not None and out_kind.total_where in df:
            rows = df[df[out_kind.total_where].fillna(False).astype(bool)]
        total: list[Any] = [None] * n_cols
        label_at = next((j for j in range(n_cols) if j not in summed), None)
        for j in summed:
            total[j] = xlsx_value(_total(rows[names[j]]))
        if label_at is not None:
            total[label_at] = out_kind.total_label[0 if zh else 1]
        ws.append(total)
        style_total_row(ws, last + 1, n_cols)
        for j in summed:
            ws.cell(row=last + 1, column=j + 1).number_format = formats[j] or INTEGER_FORMAT

    # widths from what the cells show, long text wrapping; the other language's text hidden
    sample = shown.head(2000)
    columns = [
        [shown.columns[j], *(_shown(v, formats[j]) for v in sample.iloc[:, j].dropna())]
        for j in range(n_cols)
    ]
    for j in summed:
        columns[j].append(_shown(ws.cell(row=last + 1, column=j + 1).value, formats[j]))
    long = {j for j, c in enumerate(names, start=1) if LONG_TEXT.match(c)}
    wrap = long | {
        j
        for j in range(1, n_cols + 1)
        if max(map(text_width, columns[j - 1]), default=0) > MAX_WIDTH
    }
    set_widths(ws, columns, wrap=wrap, long=long, first_row=3, header_row=2)
    center = Alignment(horizontal="center")
    for j, c in enumerate(names, start=1):
        if pd.api.types.is_bool_dtype(df[c]):
            for (cell,) in ws.iter_rows(min_row=3, max_row=last, min_col=j, max_col=j):
                cell.alignment = center
    other = "_en" if zh else "_zh"
    for j, c in enumerate(names, start=1):
        if c.endswith(other) and c[: -len(other)] + ("_zh" if zh else "_en") in names:
            ws.column_dimensions[get_column_letter(j)].hidden = True
    fit_row_heights(ws, wrap, 3, last)

    ws.freeze_panes = "A3"
    ws.auto_filter.ref = f"A2:{get_column_letter(n_cols)}{max(last, 2)}"
    print_setup(ws, title=what, when=book.when, source=book.source, lang=lang)
    return title


def write_table_workbook(
    df: pd.DataFrame,
    path: str | os.PathLike,
    book: Book,
    *,
    lang: str = "zh",
    translate: bool = True,
    table: str | None = None,
    headers: Mapping[str, tuple[str, str]] | None = None,
) -> Path:
    """Write an output table as a formatted ``.xlsx`` (:func:`table_workbook`), atomically.

    The data cells hold the values :func:`fpanalysis.io.write_table` writes to
    a ``.csv`` (row for row); identical bytes on every run (fixed document
    properties and zip times). Personal information is not masked here: the
    caller masks first (:func:`fpanalysis.core.privacy.mask_frame`).

    Returns:
        The path written.

    Raises:
        UsageError: more rows than an Excel sheet holds.

    Examples:
        >>> import tempfile, pathlib, openpyxl
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "liability.xlsx"
        >>> df = pd.DataFrame({"unit_id": ["U1", "U2"], "certificates": [1, 2]})
        >>> book = Book("liability", when="自 2025-12 起", unit_names={"U1": "办公室"})
        >>> ws = openpyxl.load_workbook(write_table_workbook(df, p, book)).active
        >>> ws.title, [c.value for c in ws[2]], [c.value for c in ws[5]]
        ('剩余负债', ['单位编号', '单位名称', '光荣证数'], ['合计', None, 3])
    """
    path = Path(path)
    check_xlsx_rows(len(df), path)
    wb = table_workbook(df, book, lang=lang, translate=translate, table=table, headers=headers)
    return write_workbook(wb, path, title=wb.properties.title)
