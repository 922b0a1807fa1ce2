"""Empty input templates and the data dictionary, built from :mod:`fpanalysis.core.schema` for
the clerks to fill in: ``fpanalysis_template.xlsx`` (one sheet per table, Chinese headers with
a comment each, drop-down lists and bounds), ``csv/<table>.csv`` (UTF-8 with BOM, Chinese
header only; the folder is itself a loadable empty dataset) and ``docs/data_dictionary.md``
(every table and column in both languages), all byte-identical when regenerated.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

from fpanalysis.core import config, schema
from fpanalysis.core.schema import Column, Table
from fpanalysis.io.guard import write_bytes
from fpanalysis.io.write import workbook_bytes

WORKBOOK_NAME = "fpanalysis_template.xlsx"
CSV_DIR = "csv"
DICTIONARY_PATH = config.PROJ_ROOT / "docs" / "data_dictionary.md"
_LAST_ROW = 10000
_BOOL_LABELS = ("是", "否")


def _width(text: str) -> int:
    """Display width: a CJK character takes two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _ref_text(col: Column) -> tuple[str, str] | None:
    if not col.references:
        return None
    t, c = col.references.split(".")
    table = schema.TABLES[t]
    return f"{table.zh}.{table.column(c).zh}", col.references


def _allowed(col: Column) -> tuple[str, str] | None:
    if col.type == "bool":
        return "是、否", "是 (yes), 否 (no)"
    if col.labels:
        return (
            "、".join(col.labels.values()),
            ", ".join(f"{zh} ({code})" for code, zh in col.labels.items()),
        )
    return None


def column_note(col: Column) -> str:
    """The text of the header comment for ``col`` (Chinese, then English).

    Examples:
        >>> print(column_note(schema.TABLES["persons"].column("sex")))
        英文名：sex
        类型：选项
        必填：是
        可选值：女、男
        说明：与身份证号一致
        ---
        Type: one of the listed values
        Required: yes
        Allowed: 女 (F), 男 (M)
        Note: agrees with id_number
    """
    tzh, ten = schema.TYPE_LABELS[col.type]
    zh = [f"英文名：{col.name}", f"类型：{tzh}", f"必填：{'是' if col.required else '否'}"]
    en = [f"Type: {ten}", f"Required: {'yes' if col.required else 'no'}"]
    allowed = _allowed(col)
    if allowed:
        zh.append(f"可选值：{allowed[0]}")
        en.append(f"Allowed: {allowed[1]}")
    ref = _ref_text(col)
    if ref:
        zh.append(f"引用：{ref[0]}")
        en.append(f"References: {ref[1]}")
    bounds = _bounds(col)
    if bounds:
        zh.append(f"范围：{bounds}")
        en.append(f"Range: {bounds}")
    if col.note_zh:
        zh.append(f"说明：{col.note_zh}")
    if col.note_en:
        en.append(f"Note: {col.note_en}")
    return "\n".join([*zh, "---", *en])


def _bounds(col: Column) -> str | None:
    def fmt(v: float) -> str:
        return str(int(v)) if float(v).is_integer() else str(v)

    if col.min is not None and col.max is not None:
        return f"{fmt(col.min)}–{fmt(col.max)}"
    if col.min is not None:
        return f"≥ {fmt(col.min)}"
    if col.max is not None:
        return f"≤ {fmt(col.max)}"
    return None


def _column_width(col: Column) -> float:
    by_type = {
        "date": 12,
        "bool": 8,
        "int": 10,
        "number": 12,
        "id": 12,
        "text": 14,
        "enum": 12,
        "set": 16,
    }
    w = max(_width(col.zh) + 4, by_type[col.type])
    if col.pii_kind == "id_number":
        w = max(w, 22)  # 18 characters must show whole for checking
    if col.labels:
        w = max(w, max(_width(v) for v in col.labels.values()) + 4)
    return float(w)


def _sheet(wb, table: Table) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    ws = wb.create_sheet(table.zh)
    bold = Font(bold=True)
    for j, col in enumerate(table.columns, start=1):
        letter = get_column_letter(j)
        cell = ws.cell(row=1, column=j, value=col.zh)
        cell.font = bold
        cell.alignment = Alignment(horizontal="center")
        note = column_note(col)
        comment = Comment(note, "fpanalysis")
        comment.width = 320
        comment.height = 24 * (note.count("\n") + 2)
        cell.comment = comment
        ws.column_dimensions[letter].width = _column_width(col)
        rng = f"{letter}2:{letter}{_LAST_ROW}"
        dv = None
        if col.type == "bool":
            dv = DataValidation(
                type="list", formula1='"' + ",".join(_BOOL_LABELS) + '"', allow_blank=True
            )
        elif col.type == "enum":
            dv = DataValidation(
                type="list", formula1='"' + ",".join(col.labels.values()) + '"', allow_blank=True
            )
        elif col.type in ("int", "number") and (col.min is not None or col.max is not None):
            kind = "whole" if col.type == "int" else "decimal"
            if col.min is not None and col.max is not None:
                dv = DataValidation(
                    type=kind, operator="between", formula1=str(col.min), formula2=str(col.max)
                )
            elif col.min is not None:
                dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=str(col.min))
            else:
                dv = DataValidation(type=kind, operator="lessThanOrEqual", formula1=str(col.max))
            dv.allow_blank = True
        if dv is not None:
            dv.errorStyle = "warning"
            dv.showErrorMessage = True
            dv.errorTitle = "请核对 / please check"
            allowed = _allowed(col)
            dv.error = (
                f"可选值：{allowed[0]} / allowed: {allowed[1]}"
                if allowed
                else f"范围 / range: {_bounds(col)}"
            )[:255]
            dv.add(rng)
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"


def build_workbook_bytes() -> bytes:
    """The template workbook as bytes (identical on every call)."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for table in schema.TABLES_LIST:
        _sheet(wb, table)
    return workbook_bytes(
        wb,
        title="计划生育数据录入模板 / family-planning data entry template",
        last_modified_by="fpanalysis",
        file_mode=0o644,
    )


def csv_template(table: Table) -> bytes:
    """The CSV template of ``table``: UTF-8 with BOM, the Chinese header line.

    Examples:
        >>> csv_template(schema.TABLES["couples"]).decode("utf-8-sig")
        '夫妻编号,女方编号,男方编号,结婚日期,离婚日期\\n'
    """
    return ("\ufeff" + ",".join(c.zh for c in table.columns) + "\n").encode("utf-8")


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def data_dictionary() -> str:
    """The data dictionary (Markdown) of every table and column in :mod:`fpanalysis.core.schema`.

    Examples:
        >>> md = data_dictionary()
        >>> "| `sex` | 性别 | 选项 / one of the listed values | 是 / yes |" in md
        True
    """
    lines = [
        "# 数据字典 / Data dictionary",
        "",
        "<!-- 由 `fpanalysis templates` 从 fpanalysis/core/schema.py 生成，请勿手改。"
        " Generated from fpanalysis/core/schema.py by `fpanalysis templates`; do not edit. -->",
        "",
        "输入文件可用英文或中文表头、英文代码或中文选项；日期写作 YYYY-MM-DD。"
        "空白模板见 `data/templates/`。",
        "Input files may use English or Chinese headers and English codes or Chinese labels;"
        " dates are YYYY-MM-DD. Blank templates are in `data/templates/`.",
        "",
        "| 表 table | 中文名 | 主键 key | 说明 |",
        "|---|---|---|---|",
    ]
    for t in schema.TABLES_LIST:
        desc = " / ".join(x for x in (t.description_zh, t.description_en) if x)
        keys = ", ".join(f"`{k}`" for k in t.key)
        lines.append(f"| [`{t.name}`](#{t.name}) | {t.zh} | {keys} | {_md(desc)} |")
    for t in schema.TABLES_LIST:
        lines += [
            "",
            f"## {t.name}",
            "",
            f"**{t.zh}**"
            + (f" — {t.description_zh} / {t.description_en}" if t.description_zh else ""),
            "",
        ]
        keys = ", ".join(f"`{k}`" for k in t.key)
        lines.append(f"文件 file: `{t.name}.csv` 或工作表 or sheet `{t.zh}`；主键 key: {keys}")
        lines += [
            "",
            "| column | 中文表头 | 类型 type | 必填 required | 可选值 allowed values "
            "| 引用 references | 说明 notes |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in t.columns:
            tzh, ten = schema.TYPE_LABELS[c.type]
            allowed = ""
            if c.type == "bool":
                allowed = "是 / 否 (yes / no)"
            elif c.labels:
                allowed = "; ".join(f"`{code}` {zh}" for code, zh in c.labels.items())
            bounds = _bounds(c)
            if bounds:
                allowed = (allowed + "; " if allowed else "") + bounds
            ref = f"`{c.references}`" if c.references else ""
            notes = [x for x in (c.note_zh, c.note_en) if x]
            if c.pii:
                notes.append(
                    "个人信息，输出时脱敏 / personal information, masked in outputs (rulebook §7)"
                )
            required = "是 / yes" if c.required else "否 / no"
            lines.append(
                f"| `{c.name}` | {c.zh} | {tzh} / {ten} | {required} "
                f"| {_md(allowed)} | {ref} | {_md('; '.join(notes))} |"
            )
    return "\n".join(lines) + "\n"


def _write_if_changed(path: Path, data: bytes) -> Path:
    if not (path.is_file() and path.read_bytes() == data):
        write_bytes(path, data)
    return path


def write_templates(
    out_dir: str | os.PathLike = config.TEMPLATES_DIR,
    dictionary: str | os.PathLike | None = DICTIONARY_PATH,
) -> list[Path]:
    """Write the workbook, the CSV templates and (unless None) the data dictionary.

    Returns:
        The paths written, workbook first.
    """
    out = Path(out_dir)
    paths = [_write_if_changed(out / WORKBOOK_NAME, build_workbook_bytes())]
    for t in schema.TABLES_LIST:
        paths.append(_write_if_changed(out / CSV_DIR / f"{t.name}.csv", csv_template(t)))
    if dictionary is not None:
        paths.append(_write_if_changed(Path(dictionary), data_dictionary().encode("utf-8")))
    return paths
