"""The public notice (公示) of a relief round's decisions (rulebook §6, §7), as HTML printable on
A4, as PDF (Debian Chromium's print-to-PDF, headless, no network, the CJK fonts embedded) or as
a workbook. It shows only what a notice may: the head's name in the notice's masked form, the
township, the household size, the tier and the monthly amount, by category (admitted,
continued, tier changed, stopped); never ID numbers or incomes.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fpanalysis.core.clock import document_time
from fpanalysis.core.errors import FPError, UsageError
from fpanalysis.core.labels import labels
from fpanalysis.io import neutralize_text
from fpanalysis.io.guard import write_bytes
from fpanalysis.rules.relief import AREA_LABELS, NOTICE_CATEGORIES

NOTICE_SUFFIXES = (".html", ".htm", ".pdf", ".xlsx")
#: Chromium's flags wherever the project starts it (the notice, the briefing, the screenshots,
#: the browser tests): headless, no sandbox (root in CI), nothing fetched in the background
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--no-first-run",
)
#: printing a local page: no host resolves (IP literals included), no header or footer
PRINT_ARGS = (*CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND", "--no-pdf-header-footer")
DEFAULT_WHERE = (
    "乡镇人民政府（街道办事处）或县民政局",
    "the township government (sub-district office) or the county Civil Affairs Bureau",
)
#: the notice's columns (no ID number, no income: rulebook §7)
COLUMNS = labels(
    """
    no       | 序号           | No.
    head     | 户主           | head of household
    township | 乡镇（街道）   | township
    size     | 家庭人口       | household size
    tier     | 档次           | tier
    amount   | 月保障金（元） | monthly amount (yuan)
    """
)


@dataclass
class Notice:
    """What a notice says.

    Attributes:
        lists: :func:`fpanalysis.rules.relief.notice_lists` with a ``head`` column (the
            masked name) added.
        first_day, last_day, days: the posting period.
        where: where to object.
        round_id: the decided round the notice is of.
        lang: ``zh`` or ``en``.
    """

    lists: pd.DataFrame
    first_day: object
    last_day: object
    days: int
    where: str
    round_id: str
    lang: str = "zh"


def _day(d: object, zh: bool) -> str:
    t = pd.Timestamp(d)
    return f"{t.year} 年 {t.month} 月 {t.day} 日" if zh else t.strftime("%d %B %Y").lstrip("0")


def _cells(r: dict, zh: bool) -> list[str]:
    """One household's cells: name, township (or area), size, tier, amount (— when stopped)."""
    place = r.get("township")
    if place is None or pd.isna(place):
        place = AREA_LABELS.get(r.get("area"), ("", ""))[0 if zh else 1]
    tier = "—" if pd.isna(r.get("tier")) else str(int(r["tier"]))
    amount = "—" if pd.isna(r.get("entitlement_yuan")) else str(int(r["entitlement_yuan"]))
    size = "" if pd.isna(r.get("size")) else str(int(r["size"]))
    return [str(r.get("head") or ""), str(place), size, tier, amount]


def _text(notice: Notice) -> dict[str, object]:
    zh = notice.lang == "zh"
    where = notice.where or DEFAULT_WHERE[0 if zh else 1]
    start, end = _day(notice.first_day, zh), _day(notice.last_day, zh)
    if zh:
        return {
            "title": "最低生活保障民主评议结果公示",
            "lead": (
                "经入户调查和民主评议，拟对下列家庭的最低生活保障作如下处理，现予公示。"
                f"公示期自 {start}至 {end}，共 {notice.days} 天。公示期内，对公示对象有异议的，"
                f"请向{where}反映。"
            ),
            "none": "无",
            "foot": [f"公示日期：{start}", f"（轮次 {notice.round_id}）"],
        }
    return {
        "title": "Minimum-living relief: the committee's decisions (public notice)",
        "lead": (
            "After the household surveys and the democratic appraisal meeting, the minimum-living "
            "relief of the households below is to be settled as listed. This notice is posted "
            f"from {start} to {end} ({notice.days} days). Objections may be raised during "
            f"this time with {where}."
        ),
        "none": "none",
        "foot": [f"Posted {start}", f"(round {notice.round_id})"],
    }


def notice_html(notice: Notice) -> str:
    """The notice as one HTML page printable on A4 (fonts: Noto CJK, as Debian ships them)."""
    zh = notice.lang == "zh"
    t = _text(notice)
    e = html.escape
    heads = "".join(f"<th>{e(v[0 if zh else 1])}</th>" for v in COLUMNS.values())
    parts = []
    numerals = "一二三四"
    for k, (code, heading) in enumerate(NOTICE_CATEGORIES.items()):
        rows = notice.lists[notice.lists["category"].eq(code)]
        head = (
            f"{numerals[k]}、{heading[0]}（{len(rows)} 户）"
            if zh
            else f"{k + 1}. {heading[1].capitalize()} ({len(rows)})"
        )
        parts.append(f"<h2>{e(head)}</h2>")
        if rows.empty:
            parts.append(f"<p class='none'>{e(t['none'])}</p>")
            continue
        body = "".join(
            "<tr><td>"
            + str(i)
            + "</td>"
            + "".join(f"<td>{e(c)}</td>" for c in _cells(r, zh))
            + "</tr>"
            for i, r in enumerate(rows.to_dict("records"), start=1)
        )
        parts.append(f"<table><thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table>")
    return f"""<!DOCTYPE html>
<html lang="{"zh-CN" if zh else "en"}">
<head>
<meta charset="utf-8">
<title>{e(t["title"])}</title>
<style>
@page {{ size: A4; margin: 18mm 16mm; }}
html, body {{ margin: 0; }}
body {{ font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC",
  "WenQuanYi Micro Hei", sans-serif; font-size: 11pt; color: #000; }}
h1 {{ text-align: center; font-size: 18pt; margin: 0 0 5mm; letter-spacing: 0.1em; }}
h2 {{ font-size: 12.5pt; margin: 5mm 0 2mm; }}
p.lead {{ text-indent: 2em; line-height: 1.7; margin: 0 0 2mm; }}
p.none {{ margin: 0 0 0 2em; }}
table {{ width: 100%; border-collapse: collapse; }}
thead {{ display: table-header-group; }}
tr {{ page-break-inside: avoid; }}
th, td {{ border: 0.6pt solid #000; padding: 1.2mm 2mm; text-align: center; }}
th {{ background: #eee; }}
p.foot {{ margin-top: 8mm; text-align: right; line-height: 1.8; }}
</style>
</head>
<body>
<h1>{e(t["title"])}</h1>
<p class="lead">{e(t["lead"])}</p>
{"".join(parts)}
<p class="foot">{"<br>".join(e(x) for x in t["foot"])}</p>
</body>
</html>
"""


def chromium_path() -> str | None:
    """Debian's Chromium (``FPANALYSIS_CHROMIUM`` overrides), or None when it is missing."""
    given = os.environ.get("FPANALYSIS_CHROMIUM")
    if given:
        return given if Path(given).is_file() else None
    found = shutil.which("chromium") or "/usr/bin/chromium"
    return found if Path(found).is_file() else None


def check_chromium() -> str:
    """Chromium's path, or a clear error: the PDF needs it.

    Raises:
        FPError: Chromium is not installed (``rule=chromium-missing``).
    """
    path = chromium_path()
    if path is None:
        raise FPError(
            "找不到 Chromium（/usr/bin/chromium），无法生成 PDF：请安装 Debian 的 chromium 软件包"
            "（scripts/install-system-deps.sh），或写出 .html 后在浏览器中打印",
            "Chromium (/usr/bin/chromium) is not installed, so no PDF can be made: install "
            "Debian's chromium package (scripts/install-system-deps.sh), or write .html and "
            "print it from a browser",
            rule="chromium-missing",
        )
    return path


_PDF_DATES = re.compile(rb"(/(?:CreationDate|ModDate)\s*)\((D:[^)]*)\)")


def pdf_with_dates(pdf: bytes, when: dt.datetime) -> bytes:
    """``pdf`` with its creation and modification dates set to ``when`` (UTC): Chromium stamps
    the moment it prints, so this is what makes a reprint give the same bytes.

    Examples:
        >>> pdf_with_dates(b"/CreationDate (D:20261202083000+00'00')", dt.datetime(2000, 1, 1))
        b"/CreationDate (D:20000101000000+00'00')"
    """
    stamp = when.strftime("D:%Y%m%d%H%M%S+00'00'").encode()
    return _PDF_DATES.sub(lambda m: m.group(1) + b"(" + stamp + b")", pdf)


def html_to_pdf(text: str, out: Path, *, timeout: float = 120) -> Path:
    """Print an HTML page to PDF with headless Chromium (A4 by the page's CSS), atomically; its
    dates are the document time (``SOURCE_DATE_EPOCH``, else 2000-01-01), so a reprint gives the
    same bytes."""
    exe = check_chromium()
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="fpanalysis-notice-") as tmp:
        page = Path(tmp) / "notice.html"
        page.write_text(text, encoding="utf-8")
        pdf = Path(tmp) / "notice.pdf"
        cmd = [
            exe,
            *PRINT_ARGS,
            f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ]
        env = {**os.environ, "HOME": tmp}
        try:
            r = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout, check=False, env=env
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise FPError(
                f"Chromium 打印 PDF 失败：{exc}",
                f"Chromium failed to print the PDF: {exc}",
                file=str(out),
                rule="chromium-pdf",
            ) from None
        if r.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
            tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or [""]
            raise FPError(
                f"Chromium 打印 PDF 失败（退出码 {r.returncode}）：{tail[0]}",
                f"Chromium failed to print the PDF (exit code {r.returncode}): {tail[0]}",
                file=str(out),
                rule="chromium-pdf",
            )
        # the write guard's atomic write
        write_bytes(out, pdf_with_dates(pdf.read_bytes(), document_time()))
    return out


def notice_xlsx(notice: Notice, out: Path) -> Path:
    """The notice as a workbook (one sheet, A4 portrait, fixed document properties)."""
    import openpyxl
    from openpyxl.styles import Alignment, Font

    from fpanalysis.io.write import write_workbook

    zh = notice.lang == "zh"
    t = _text(notice)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "公示" if zh else "notice"
    width = len(COLUMNS) + 1
    ws.append([t["title"]])
    ws["A1"].font = Font(bold=True, size=16)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.append([neutralize_text(t["lead"])])
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    ws.row_dimensions[2].height = 64
    ws.append([])
    ws.append(["类别" if zh else "category", *[v[0 if zh else 1] for v in COLUMNS.values()]])
    for cell in ws[4]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    for code, heading in NOTICE_CATEGORIES.items():
        rows = notice.lists[notice.lists["category"].eq(code)]
        for i, r in enumerate(rows.to_dict("records"), start=1):
            cells = _cells(r, zh)
            ws.append(
                [heading[0 if zh else 1], i, *[neutralize_text(c) for c in cells[:2]]]
                + [int(c) if c.isdigit() else c for c in cells[2:]]
            )
    ws.append([])
    ws.append([neutralize_text(" ".join(t["foot"]))])
    for letter, w in zip("ABCDEFG", (12, 6, 12, 16, 10, 8, 16), strict=True):
        ws.column_dimensions[letter].width = w
    ws.freeze_panes = "A5"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "4:4"
    wb.properties.title = t["title"]
    write_workbook(wb, Path(out))
    return Path(out)


def check_notice_out(out: Path) -> None:
    """Refuse, before any work, an output that is not .html, .pdf or .xlsx."""
    if Path(out).suffix.lower() not in NOTICE_SUFFIXES:
        raise UsageError(
            f"公示文件应为 .html、.pdf 或 .xlsx：{out}",
            f"the notice must be an .html, .pdf or .xlsx file: {out}",
            file=str(out),
            rule="output-extension",
        )


def write_notice(notice: Notice, out: str | Path) -> Path:
    """Write the notice as the suffix of ``out`` asks: ``.html``, ``.pdf`` or ``.xlsx``."""
    out = Path(out)
    check_notice_out(out)
    suffix = out.suffix.lower()
    if suffix == ".xlsx":
        return notice_xlsx(notice, out)
    text = notice_html(notice)
    if suffix == ".pdf":
        return html_to_pdf(text, out)
    return write_bytes(out, text.encode("utf-8"))  # the write guard's atomic write
