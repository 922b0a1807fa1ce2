"""The committee's part of the meeting workbook (rulebook §6 民主评议), written and read back.

:func:`add_committee_parts` adds to the workbook :func:`fpanalysis.io.exports.export_meeting_xlsx`
builds: the decision columns (a drop-down of 同意 confirm / 不同意 reject / 调整档次 change tier,
the committee's reason, the decided tier), the waiting list (补充纳入 admit out of order), a
sheet naming the round and the SHA-256 of its proposal, hidden copies of the lists, and sheet
and workbook protection without a password, so that only the decision cells can be edited.
:func:`read_meeting_workbook` reads the decisions back with the cell each came from, and
reports every protected cell that no longer matches its hidden copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from fpanalysis.core import schema
from fpanalysis.core.errors import DataError
from fpanalysis.io import neutralize_text
from fpanalysis.rules.relief import (
    DECISION_LABELS,
    SHEET_DECISIONS,
    Problem,
    allowed_text,
    date_text,
    proposal_digest,
)

#: the lists' sheet names by language, and the round's sheet
SHEETS = {
    "selected": ("拟纳入名单", "selected"),
    "waiting": ("候补名单", "waiting"),
    "round": ("轮次", "round"),
}
#: the hidden, protected copies of the lists (the proposal as written)
HIDDEN = {"selected": "_selected", "waiting": "_waiting"}
#: the decision columns each list has, with their (zh, en) headers
DECISION_COLUMNS = {
    "decision": ("评议意见", "decision"),
    "decision_reason": ("评议理由", "decision_reason"),
    "decided_tier": ("调整后档次", "decided_tier"),
}
LIST_DECISION_COLUMNS = {
    "selected": ("decision", "decision_reason", "decided_tier"),
    "waiting": ("decision", "decision_reason"),
}
#: the rows of the round's sheet: code (column A), label (B), value (C)
ROUND_KEYS = ("round_id", "proposal_sha256", "as_of", "pool", "quota", "budget_yuan")
NOT_RECORDED = ("（未记入登记簿）", "(not recorded)")
WIDTHS = {"decision": 12, "decision_reason": 40, "decided_tier": 11}
#: A recorded round's column of the households' keys as the register stores them (an ID number
#: as its keyed hash, rulebook §7): hidden, and read back by ``fpanalysis decide``, so that the
#: household column shows the number masked, as the committee reads it everywhere else.
KEY_COLUMN = "register_key"


#: the instructions' parts, (zh, en): what to choose ({} the choices), what a change of tier
#: needs (the selected sheet only), the sheet's protection, a round not recorded, the round
INSTRUCTIONS = (
    (
        "评议：在“评议意见”列选择 {}；留空视为同意。除同意外须填写“评议理由”",
        "；调整档次须填写“调整后档次”",
        "。工作表已保护（未设密码），只有评议各列可以填写。",
        "未记入登记簿：fpanalysis decide 无法读回（请用 relief --record）",
        "轮次 ",
    ),
    (
        "Committee: choose {} in the decision column; blank = confirm. "
        "Any other decision needs the committee's reason",
        "; 'change tier' needs the decided tier",
        ". The sheet is protected (no password): only the decision columns can be edited. ",
        "not recorded: fpanalysis decide cannot read it back (use relief --record)",
        "Round ",
    ),
)


def instructions(sheet: str, round_id: str | None, zh: bool) -> str:
    """The title area's second line: what may be filled in, and that the sheet is protected."""
    lang = 0 if zh else 1
    choose, change_tier, protected, not_recorded, round_word = INSTRUCTIONS[lang]
    text = (
        choose.format(allowed_text(sheet)[lang])
        + (change_tier if sheet == "selected" else "")
        + protected
    )
    return f"{text}{round_word}{round_id or not_recorded}"


def _title_cell(ws, title: str, note: str, width: int) -> None:
    """The title area: the title (bold) and the instructions below it, in one merged cell."""
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont
    from openpyxl.styles import Alignment

    for rng in [r for r in ws.merged_cells.ranges if r.min_row == 1]:
        ws.unmerge_cells(rng.coord)
    ws["A1"].value = CellRichText(
        TextBlock(InlineFont(b=True, sz=14), neutralize_text(title)),
        TextBlock(InlineFont(sz=10), "\n" + neutralize_text(note)),
    )
    ws["A1"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.row_dimensions[1].height = 66


def _decision_columns(ws, sheet: str, n_rows: int, n_tiers: int, zh: bool) -> None:
    """Headers, unlocked cells and data validation of a list's decision columns."""
    from openpyxl.styles import Alignment, Font, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    first = ws.max_column + 1
    for k, name in enumerate(LIST_DECISION_COLUMNS[sheet]):
        j = first + k
        cell = ws.cell(row=2, column=j, value=DECISION_COLUMNS[name][0 if zh else 1])
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = WIDTHS[name]
        for r in range(3, 3 + n_rows):
            c = ws.cell(row=r, column=j)
            c.protection = Protection(locked=False)
            if name == "decision_reason":
                c.alignment = Alignment(wrap_text=True, vertical="top")
        if not n_rows:
            continue
        ref = f"{letter}3:{letter}{2 + n_rows}"
        if name == "decision":
            values = [DECISION_LABELS[c][0 if zh else 1] for c in SHEET_DECISIONS[sheet]]
            dv = DataValidation(
                type="list",
                formula1='"' + ",".join(values) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="评议意见" if zh else "decision",
                error=(
                    "请从下拉列表中选择；留空视为同意"
                    if zh
                    else "choose from the list; blank = confirm"
                ),
            )
        elif name == "decided_tier":
            dv = DataValidation(
                type="whole",
                operator="between",
                formula1="1",
                formula2=str(n_tiers),
                allow_blank=True,
                showErrorMessage=True,
                error=(f"档次为 1 至 {n_tiers}" if zh else f"a tier is 1 to {n_tiers}"),
            )
        else:
            continue
        ws.add_data_validation(dv)
        dv.add(ref)


def _protect(ws) -> None:
    """Protect a sheet without a password; columns and rows may still be resized."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.autoFilter = False  # the committee may still filter and sort its view
    ws.protection.sort = False


def _round_sheet(
    wb, result: Any, round_id: str | None, zh: bool, digest: str | None = None
) -> None:
    """The sheet naming the round: its id, the SHA-256 of its proposal, its date and limits."""
    from openpyxl.styles import Font

    ws = wb.create_sheet(SHEETS["round"][0 if zh else 1])
    ws.append(["key", "轮次 round", ""])
    ws["A1"].font = ws["B1"].font = Font(bold=True)
    labels = {
        "round_id": "轮次编号 round id",
        "proposal_sha256": "方案摘要 proposal SHA-256",
        "as_of": "基准日 as of",
        "pool": "资金池 pool",
        "quota": "名额 quota",
        "budget_yuan": "预算（元）budget (yuan)",
    }
    values = {
        "round_id": round_id or NOT_RECORDED[0 if zh else 1],
        "proposal_sha256": digest or proposal_digest(result.table),
        "as_of": date_text(result.as_of),
        "pool": result.pool,
        "quota": "" if result.quota is None else str(result.quota),
        "budget_yuan": "" if result.budget_yuan is None else str(result.budget_yuan),
    }
    for k in ROUND_KEYS:
        ws.append([k, labels[k], neutralize_text(values[k])])
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 28
    ws.column_dimensions["C"].width = 70
    from fpanalysis.io.sheets import print_setup

    print_setup(
        ws, title=SHEETS["round"][0 if zh else 1], header_rows=(1, 1), lang="zh" if zh else "en"
    )
    ws.page_setup.fitToHeight = 1  # seven lines: one page
    _protect(ws)


def add_committee_parts(
    wb,
    result: Any,
    waiting: pd.DataFrame,
    title: str,
    zh: bool,
    *,
    fill_sheet: Any,
    round_id: str | None = None,
    digest: str | None = None,
) -> None:
    """Add the committee's part to a meeting workbook whose first sheet is the selected list.

    ``waiting``: the eligible households left waiting, in rank order, with the columns to show
    (masked as the caller decided), written by ``fill_sheet(ws, rows, cols, title, zh)``
    like the selected list (:func:`fpanalysis.io.exports.fill_sheet`). See
    :func:`fpanalysis.io.exports.export_meeting_xlsx`.
    """
    from openpyxl.workbook.protection import WorkbookProtection

    n_tiers = len(result.bands) or 3
    ws_sel = wb.worksheets[0]
    ws_wait = wb.create_sheet(SHEETS["waiting"][0 if zh else 1])
    wait_title = (
        f"低保候补名单（符合条件、未拟纳入，按排名；共 {len(waiting)} 户）"
        if zh
        else f"Minimum-living relief: eligible households waiting, by rank ({len(waiting)})"
    )
    fill_sheet(ws_wait, waiting, list(waiting.columns), wait_title, zh)
    _round_sheet(wb, result, round_id, zh, digest)
    # the proposal as written: hidden copies, compared cell by cell when it is read back
    for key, ws in (("selected", ws_sel), ("waiting", ws_wait)):
        _decision_columns(ws, key, ws.max_row - 2, n_tiers, zh)
        copy = wb.copy_worksheet(ws)
        copy.title = HIDDEN[key]
        copy.sheet_state = "veryHidden"
        _protect(copy)
        note = instructions(key, round_id, zh)
        _title_cell(ws, title if key == "selected" else wait_title, note, ws.max_column)
        _protect(ws)
    wb.security = WorkbookProtection(lockStructure=True)
    wb.active = 0


# --------------------------------------------------------------------------- reading back


@dataclass
class MeetingWorkbook:
    """A meeting workbook read back.

    Attributes:
        round_id, digest: the round's sheet's values (None when absent).
        round_cells: ``{key: (sheet, cell)}`` of those values.
        marks: one row per listed household: ``household_id`` (as the register stores it:
            the hidden key when the workbook has one), ``household_shown`` (as the household
            column shows it: an ID number masked), ``sheet`` (``selected`` or ``waiting``),
            ``decision``, ``reason``, ``decided_tier`` and their cells.
        sheets: each list's sheet name as the workbook shows it.
        problems: protected cells that no longer match the proposal as written.
    """

    round_id: str | None
    digest: str | None
    round_cells: dict[str, tuple[str, str]]
    marks: pd.DataFrame
    sheets: dict[str, str]
    problems: list[Problem] = field(default_factory=list)


def _sheet(wb, key: str):
    for name in SHEETS.get(key, (HIDDEN.get(key),)):
        if name in wb.sheetnames:
            return wb[name]
    return None


def _text(v: Any) -> str:
    return "" if v is None else str(v)


def _header_columns(ws) -> dict[str, int]:
    """Column numbers of the household id, the register's key (a recorded round's, hidden) and
    the decision columns, by header (zh or en)."""
    named = {
        name: {schema.zh_header(name, "households"), name} for name in ("household_id", KEY_COLUMN)
    }
    out = {}
    for cell in ws[2]:
        v = _text(cell.value).strip()
        for name, headers in named.items():
            if v in headers:
                out[name] = cell.column
        for name, labels in DECISION_COLUMNS.items():
            if v in labels:
                out[name] = cell.column
    return out


def _compare(ws, hidden, skip: set[int], label: str) -> list[Problem]:
    """Protected cells of ``ws`` (header and list rows) that differ from the hidden copy."""
    out = []
    width = max(ws.max_column, hidden.max_column)
    for r in range(2, hidden.max_row + 1):
        for c in range(1, width + 1):
            if r >= 3 and c in skip:
                continue
            now, was = ws.cell(row=r, column=c).value, hidden.cell(row=r, column=c).value
            if now != was:
                out.append(
                    Problem(
                        f"受保护的单元格被改动：方案为“{_text(was)}”，现为“{_text(now)}”",
                        f"a protected cell was edited: the proposal has {_text(was)!r}, "
                        f"the workbook {_text(now)!r}",
                        "protected-cell",
                        now,
                        label,
                        ws.cell(row=r, column=c).coordinate,
                    )
                )
    return out


def read_meeting_workbook(path: str | Path) -> MeetingWorkbook:
    """Read the committee's decisions back from a meeting workbook (rulebook §6).

    Raises:
        DataError: not a readable ``.xlsx`` file, or not a meeting workbook (its lists,
            round sheet or hidden copies missing). Everything else wrong (edited protected
            cells, unknown households, bad decisions) is left to the caller as
            :class:`~fpanalysis.rules.relief.Problem` s.
    """
    import zipfile

    import openpyxl

    path = Path(path)
    if path.suffix.lower() != ".xlsx" or not path.is_file():
        raise DataError(
            "评议结果须为 relief --meeting 写出的 .xlsx 会议表",
            "the decisions must be the .xlsx meeting workbook relief --meeting wrote",
            file=str(path),
            rule="meeting-workbook",
        )
    try:
        wb = openpyxl.load_workbook(path)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise DataError(
            f"无法读取会议表：{exc}",
            f"cannot read the meeting workbook: {exc}",
            file=str(path),
            rule="meeting-workbook",
        ) from None
    found = {k: _sheet(wb, k) for k in ("selected", "waiting", "round")}
    found |= {f"_{k}": wb[v] if v in wb.sheetnames else None for k, v in HIDDEN.items()}
    missing = [k for k, ws in found.items() if ws is None]
    if missing:
        raise DataError(
            "这不是 relief --meeting 写出的会议表（缺少工作表：" + "、".join(missing) + "）",
            "this is not a meeting workbook written by relief --meeting (sheets missing: "
            + ", ".join(missing)
            + ")",
            file=str(path),
            rule="meeting-workbook",
        )
    meta, cells = {}, {}
    ws_round = found["round"]
    for row in ws_round.iter_rows(min_row=2):
        key = _text(row[0].value).strip()
        if key in ROUND_KEYS and len(row) >= 3:
            meta[key] = _text(row[2].value).strip()
            cells[key] = (ws_round.title, row[2].coordinate)
    marks, problems, sheets = [], [], {}
    for key in ("selected", "waiting"):
        ws, hidden = found[key], found[f"_{key}"]
        sheets[key] = ws.title
        cols = _header_columns(hidden)
        needed = ("household_id", *LIST_DECISION_COLUMNS[key])
        if any(n not in cols for n in needed):
            raise DataError(
                f"工作表“{ws.title}”缺少评议列",
                f"sheet {ws.title!r} lacks the decision columns",
                file=str(path),
                rule="meeting-workbook",
            )
        skip = {cols[n] for n in LIST_DECISION_COLUMNS[key]}
        problems += _compare(ws, hidden, skip, ws.title)
        # the household as the register stores it: the hidden key when the workbook has it
        # (a recorded round's), else the household column (an older workbook's)
        hid = KEY_COLUMN if KEY_COLUMN in cols else "household_id"
        for r in range(3, ws.max_row + 1):
            get = {n: ws.cell(row=r, column=cols[n]) for n in cols}
            if all(_text(c.value).strip() == "" for c in get.values()):
                continue
            marks.append(
                {
                    "household_id": _text(get[hid].value).strip(),
                    "household_shown": _text(get["household_id"].value).strip(),
                    "sheet": key,
                    "row": r,
                    "decision": get["decision"].value,
                    "reason": get["decision_reason"].value,
                    "decided_tier": get["decided_tier"].value if "decided_tier" in get else None,
                    "household_cell": get["household_id"].coordinate,
                    "decision_cell": get["decision"].coordinate,
                    "reason_cell": get["decision_reason"].coordinate,
                    "tier_cell": get["decided_tier"].coordinate if "decided_tier" in get else None,
                }
            )
    rid = meta.get("round_id") or None
    if rid in NOT_RECORDED:
        rid = None
    return MeetingWorkbook(
        round_id=rid,
        digest=meta.get("proposal_sha256") or None,
        round_cells=cells,
        marks=pd.DataFrame(
            marks,
            columns=[
                "household_id",
                "household_shown",
                "sheet",
                "row",
                "decision",
                "reason",
                "decided_tier",
                "household_cell",
                "decision_cell",
                "reason_cell",
                "tier_cell",
            ],
        ),
        sheets=sheets,
        problems=problems,
    )
