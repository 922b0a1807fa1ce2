"""The committee's meeting workbook of a relief round (rulebook §6, §7).

:func:`export_meeting_xlsx` writes the selected households in the order they
are paid (continuing first, then the admitted ones in rank order) under a
title row naming the round, with bold frozen headers, column widths, masked
names, every text cell neutralised against formulas, and fixed document
properties and zip entry times, so that reruns give identical bytes. The
committee's decision columns, the waiting list, the round's identity and the
sheets' protection are added by :mod:`fpanalysis.io.meeting`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fpanalysis.core import schema
from fpanalysis.core.errors import UsageError
from fpanalysis.core.privacy import mask_frame
from fpanalysis.io.meeting import KEY_COLUMN, add_committee_parts
from fpanalysis.io.sheets import fit_row_heights, money_format, print_setup
from fpanalysis.io.write import neutralize_text, write_workbook
from fpanalysis.rules.relief import (
    AREA_LABELS,
    FP_LABELS,
    RELIEF_COLUMNS,
    ReliefResult,
    date_text,
    proposal_digest,
    yuan_text,
)

#: The round's columns the meeting list leaves out (the reason in its language comes last).
NOT_SHOWN = (
    "monthly_income",
    "eligible",
    "tier_basis",
    "incumbent",
    "selected",
    "application_date",
    "reason_zh",
    "reason_en",
)
#: The round's columns the meeting list shows, in the table's order, before the reason.
MEETING_COLUMNS = [c for c in RELIEF_COLUMNS if c not in NOT_SHOWN]
#: Column widths in characters (others: 11).
WIDTHS = {"reason_zh": 80, "reason_en": 100, "township": 12, "head_name": 10, "household_id": 12}


def export_meeting_xlsx(
    result: ReliefResult,
    path: str | Path,
    *,
    lang: str = "zh",
    reveal_pii: bool = False,
    title: str | None = None,
    round_id: str | None = None,
    keys: Mapping[str, Any] | None = None,
) -> Path:
    """Write the selected list as a formatted workbook for the committee's meeting.

    A title row (the round, its date and limits), bold frozen headers, column
    widths, the selected households in rank order (continuing first, then the
    admitted ones) and fixed document properties and zip times, so reruns give
    identical bytes (``SOURCE_DATE_EPOCH`` when set, else 2000-01-01). Names are
    masked unless ``reveal_pii``. Written to a temporary name and renamed.

    The committee's part (:func:`fpanalysis.io.meeting.add_committee_parts`): a
    decision column with a drop-down, a reason column and a decided-tier column;
    a second sheet with the eligible households left waiting (which the committee
    may admit out of order); a sheet naming the round (``round_id``, the recorded
    round; None: not recorded, and ``fpanalysis decide`` cannot read it back) and
    the SHA-256 of its proposal; every sheet protected without a password so that
    only the decision cells can be edited.

    ``keys``: a recorded round's household ids as the register stores them (an ID number as
    its keyed hash, rulebook §7): the proposal's SHA-256 is computed over them, as over the
    recorded rows. When any of them is not the household's id (a household numbered by an ID
    number), a hidden column after the household's (:data:`KEY_COLUMN`) holds them, so that
    ``fpanalysis decide`` finds each household again without the workbook holding its number.
    The household column shows the number masked (``110105********0016``) unless
    ``reveal_pii``: the committee reads what every other output shows, never the hash.

    Returns:
        The path written.

    Raises:
        UsageError: ``path`` is not an ``.xlsx`` file.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise UsageError(
            "会议表须为 .xlsx 文件", "the meeting workbook must be an .xlsx file", file=str(path)
        )
    cols = [*MEETING_COLUMNS, "reason_zh" if lang == "zh" else "reason_en"]
    if result.pool != "separate":
        cols.remove("pool")  # one pool: the title says which
    result = result.with_texts()  # a lean round: its reasons now (the meeting list is a county's)
    sel = result.selected.copy()
    sel = sel.assign(_first=~sel["incumbent"]).sort_values(
        ["pool", "_first", "rank"], kind="mergesort"
    )[cols]
    t = result.table
    waiting = t[t["selection"].eq("waiting") & ~t["selected"].fillna(False).astype(bool)]
    wait_cols = [c for c in cols if c != "cumulative_yuan"]
    waiting = waiting.sort_values(["pool", "rank"], kind="mergesort")[wait_cols]
    digest = None
    if keys:
        stored = _stored(t["household_id"], keys)
        digest = proposal_digest(t.assign(household_id=stored))
        if not stored.equals(t["household_id"].astype(str).astype("object")):
            sel, waiting = _keyed(sel, keys), _keyed(waiting, keys)
    if not reveal_pii:
        sel = mask_frame(sel)
        waiting = mask_frame(waiting)
    zh = lang == "zh"
    if title is None:
        title = _title(result, len(sel), zh)
    wb = _workbook(sel, list(sel.columns), title, zh)
    add_committee_parts(
        wb, result, waiting, title, zh, fill_sheet=fill_sheet, round_id=round_id, digest=digest
    )
    write_workbook(wb, path)
    return path


def _stored(ids: pd.Series, keys: Mapping[str, Any]) -> pd.Series:
    return ids.map(lambda h: keys.get(str(h), h)).astype("object")


def _keyed(rows: pd.DataFrame, keys: Mapping[str, Any]) -> pd.DataFrame:
    """``rows`` with the register's key of each household in a column after its id
    (:data:`KEY_COLUMN`, hidden in the sheet)."""
    out = rows.copy()
    out.insert(
        out.columns.get_loc("household_id") + 1, KEY_COLUMN, _stored(rows["household_id"], keys)
    )
    return out


def _title(result: ReliefResult, n: int, zh: bool) -> str:
    """The title row: the round's date, pool and limits, the households and their money."""
    total = int(result.selected["entitlement_yuan"].astype("int64").sum()) * 100
    lim = []
    if result.quota is not None:
        lim.append((f"名额 {result.quota}", f"quota {result.quota}"))
    if result.budget_yuan is not None:
        lim.append((f"预算 {result.budget_yuan} 元", f"budget {result.budget_yuan} yuan"))
    limz = "，".join(x[0] for x in lim) or "应保尽保"
    lime = ", ".join(x[1] for x in lim) or "all who qualify"
    if result.pool in AREA_LABELS:
        limz = f"{AREA_LABELS[result.pool][0]}资金池；{limz}"
        lime = f"{AREA_LABELS[result.pool][1]} pool; {lime}"
    day = date_text(result.as_of)
    if zh:
        return (
            f"低保拟纳入名单（基准日 {day}；{limz}；共 {n} 户，月保障金合计 {yuan_text(total)} 元）"
        )
    return (
        f"Minimum-living relief: selected households (as of {day}; {lime}; "
        f"{n} households, {yuan_text(total)} yuan a month)"
    )


def _workbook(sel: pd.DataFrame, cols: list[str], title: str, zh: bool):
    """The formatted workbook of the selected rows ``sel`` (an ``openpyxl.Workbook``)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "拟纳入名单" if zh else "selected"
    fill_sheet(ws, sel, cols, title, zh)
    wb.properties.title = title
    return wb


def fill_sheet(ws, rows: pd.DataFrame, cols: list[str], title: str, zh: bool) -> None:
    """Write ``rows`` into the empty sheet ``ws``: a title row, bold frozen headers, the rows
    with labels, formats and widths, every text neutralised against formulas."""
    import openpyxl
    from openpyxl.styles import Alignment, Font

    sel = rows
    labels = (
        {**{c: schema.zh_header(c, "households") for c in cols}, "reason_zh": "理由"}
        if zh
        else {c: c for c in cols}
    )
    areas = {k: v[0 if zh else 1] for k, v in AREA_LABELS.items()} | {
        "all": "城乡合并" if zh else "all"
    }
    value_labels = {
        "area": areas,
        "pool": areas,
        "fp_type": {k: v[0 if zh else 1] for k, v in FP_LABELS.items()},
        "selection": ({"continuing": "继续保障", "admitted": "新纳入"} if zh else {}),
    }
    ws.append([neutralize_text(title)])
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(cols))
    ws.append([labels[c] for c in cols])
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for rec in sel.to_dict("records"):
        row = []
        for c in cols:
            v = rec[c]
            if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
                v = None
            elif c in value_labels:
                v = value_labels[c].get(v, v)
            elif isinstance(v, np.generic):
                v = v.item()
            v = neutralize_text(v)  # formula injection: text stays text
            row.append(v)
        ws.append(row)
    for j, c in enumerate(cols, start=1):
        ws.column_dimensions[openpyxl.utils.get_column_letter(j)].width = WIDTHS.get(c, 11)
        if c == KEY_COLUMN:
            ws.column_dimensions[openpyxl.utils.get_column_letter(j)].hidden = True
        if c.startswith("reason"):
            for (cell,) in ws.iter_rows(min_row=3, min_col=j, max_col=j):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        if c.endswith("_yuan"):
            ws.column_dimensions[openpyxl.utils.get_column_letter(j)].width = 15
            for (cell,) in ws.iter_rows(min_row=3, min_col=j, max_col=j):
                cell.number_format = money_format("zh" if zh else "en")
    fit_row_heights(ws, [j for j, c in enumerate(cols, start=1) if c.startswith("reason")], 3)
    ws.auto_filter.ref = f"A2:{openpyxl.utils.get_column_letter(len(cols))}{ws.max_row}"
    print_setup(ws, title=title, lang="zh" if zh else "en")
    ws.freeze_panes = "A3"
