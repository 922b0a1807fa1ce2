"""The look every workbook the tool writes shares: a title row over a bold header row, column
widths from the text they hold (a Chinese character counts double), number formats (percent,
money in yuan, whole numbers, dates), a frozen header, an autofilter, a bold total row, and the
print set-up (A4 landscape, all columns on one page wide, the header row on every page, the title,
period and page numbers in the page header and footer). Formatting only: the values come from the
callers (:mod:`fpanalysis.io.workbooks`, :mod:`fpanalysis.io.budget`, :mod:`fpanalysis.io.exports`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from copy import copy
from typing import TYPE_CHECKING, Any

from fpanalysis.io.write import neutralize_text

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "DATE_FORMAT",
    "DATETIME_FORMAT",
    "INTEGER_FORMAT",
    "LONG_WIDTH",
    "MAX_WIDTH",
    "MONTH_FORMAT",
    "PERCENT_FORMAT",
    "add_title_row",
    "fit_row_heights",
    "header_footer_text",
    "money_format",
    "set_widths",
    "style_header",
    "style_total_row",
    "print_setup",
    "text_width",
]

#: A rate: ``0.8333`` shows as ``83.3%``.
PERCENT_FORMAT = "0.0%"
#: A count or any whole number: ``1,234``.
INTEGER_FORMAT = "#,##0"
#: A day.
DATE_FORMAT = "yyyy-mm-dd"
#: A moment.
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
#: A month (a date cell on its first day).
MONTH_FORMAT = "yyyy-mm"
#: The font of titles, headers and totals (the body's default).
FONT = "Calibri"
#: Widest column, in characters; longer text wraps.
MAX_WIDTH = 48
#: Widest column of free text (a reason, a timeline), which wraps.
LONG_WIDTH = 80
#: Narrowest column, in characters.
MIN_WIDTH = 6


def money_format(lang: str = "zh") -> str:
    """The number format of an amount of money: two decimals, thousands separated, the unit.

    Examples:
        >>> money_format("zh"), money_format("en")
        ('#,##0.00 "元"', '#,##0.00 "yuan"')
    """
    return '#,##0.00 "元"' if lang == "zh" else '#,##0.00 "yuan"'


def text_width(value: Any) -> int:
    """How many columns ``value`` takes shown in a cell: a wide (CJK) character counts 2.

    The longest line counts when the text has several.

    Examples:
        >>> text_width("U01"), text_width("单位名称"), text_width("ab\\n单位"), text_width(None)
        (3, 8, 4, 0)
    """
    if value is None:
        return 0
    text = value if isinstance(value, str) else str(value)
    return max(
        (
            sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in line)
            for line in text.split("\n")
        ),
        default=0,
    )


def add_title_row(ws: Worksheet, title: str, n_columns: int) -> None:
    """Row 1: ``title`` in bold 14 pt, merged across ``n_columns`` columns (neutralised)."""
    from openpyxl.styles import Alignment, Font

    ws.append([neutralize_text(title)])
    ws["A1"].font = Font(name=FONT, bold=True, size=14)
    ws["A1"].alignment = Alignment(vertical="center")
    ws.row_dimensions[1].height = 24
    if n_columns > 1:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n_columns)


def style_header(ws: Worksheet, row: int, n_columns: int) -> None:
    """Bold, centred, wrapped, lightly shaded header cells in ``row``, with a border below."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    fill = PatternFill("solid", fgColor="DDE6F0")
    thin = Side(style="thin", color="808080")
    for j in range(1, n_columns + 1):
        cell = ws.cell(row=row, column=j)
        cell.font = Font(name=FONT, bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.fill = fill
        cell.border = Border(bottom=thin, top=thin)


def style_total_row(ws: Worksheet, row: int, n_columns: int) -> None:
    """A total row: bold, with a line above."""
    from openpyxl.styles import Border, Font, Side

    line = Side(style="thin", color="000000")
    for j in range(1, n_columns + 1):
        cell = ws.cell(row=row, column=j)
        cell.font = Font(name=FONT, bold=True)
        cell.border = Border(top=line, bottom=Side(style="double", color="000000"))


def set_widths(
    ws: Worksheet,
    columns: Sequence[Iterable[Any]],
    *,
    wrap: Iterable[int] = (),
    long: Iterable[int] = (),
    first_row: int = 1,
    max_width: int = MAX_WIDTH,
    header_row: int | None = None,
) -> None:
    """Set each column's width from the widest text it shows (header included), within limits.

    Args:
        columns: per column (1-based order), the values shown (header first).
        wrap: 1-based columns whose long text wraps (top-aligned).
        long: 1-based columns of free text (reasons, timelines): as wide as
            :data:`LONG_WIDTH`, and wrapped.
        first_row: the first data row, for the wrapped columns' alignment.
        max_width: the widest a column gets.
        header_row: the row of the headers (the first values): made tall enough for
            the longest header wrapped in its column.
    """
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    long = set(long)
    wrap = set(wrap) | long
    lines = 1
    for j, values in enumerate(columns, start=1):
        widths = [text_width(v) for v in values]
        head = widths[0] if widths else 0
        body = max(widths[1:], default=0)
        # a header wraps onto two lines before a column widens for it
        w = max(body, (head + 1) // 2 if head > 12 else head, MIN_WIDTH - 2) + 2
        w = min(w, LONG_WIDTH if j in long else max_width)
        ws.column_dimensions[get_column_letter(j)].width = w
        lines = max(lines, -(-head // max(w - 2, 1)))
        if j in wrap:
            for (cell,) in ws.iter_rows(min_row=first_row, min_col=j, max_col=j):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    if header_row is not None:
        ws.row_dimensions[header_row].height = 15 * min(lines, 4) + 3


def fit_row_heights(
    ws: Worksheet, columns: Iterable[int], first_row: int, last_row: int | None = None
) -> None:
    """Make rows ``first_row``..``last_row`` tall enough for the wrapped text of ``columns``.

    Spreadsheet programs do not all grow a row for wrapped text when they open
    a file (LibreOffice does not), so the height is set from the text's width
    in its column (:func:`text_width`), one line of 11-point text being 15 points;
    hidden columns do not count.
    """
    from openpyxl.utils import get_column_letter

    dims = [(j, ws.column_dimensions[get_column_letter(j)]) for j in columns]
    cols = [(j, d.width or 8.43) for j, d in dims if not d.hidden]
    if not cols:
        return
    last_row = ws.max_row if last_row is None else last_row
    for r in range(first_row, last_row + 1):
        lines = 1
        for j, width in cols:
            v = ws.cell(row=r, column=j).value
            if not isinstance(v, str):
                continue
            room = max(width - 1.5, 1.0)
            n = sum(-(-text_width(part) // int(room)) or 1 for part in v.split("\n"))
            lines = max(lines, n)
        if lines > 1:
            ws.row_dimensions[r].height = min(15 * lines + 2, 409)
            for cell in ws[r]:  # the row's other cells at the top, beside the text's first line
                if cell.alignment.vertical != "top":
                    top = copy(cell.alignment)
                    top.vertical = "top"
                    cell.alignment = top


def header_footer_text(text: str) -> str:
    """``text`` for a page header or footer: ``&`` doubled (a lone one starts a code).

    Examples:
        >>> header_footer_text("A&B 2024")
        'A&&B 2024'
    """
    return text.replace("&", "&&")


def print_setup(
    ws: Worksheet,
    *,
    title: str,
    when: str | None = None,
    source: str | None = None,
    header_rows: tuple[int, int] = (2, 2),
    lang: str = "zh",
) -> None:
    """A4 landscape, all columns on one page wide, the header rows on every page.

    The page header shows ``source`` (left), ``title`` (centre) and ``when``
    (the period, round or date; right); the footer the page number
    (``第 &P 页，共 &N 页``).

    Args:
        title: what the sheet is (short: the page header holds at most 255 characters).
        when: the period, round or as-of date.
        source: the dataset or register.
        header_rows: first and last row printed at the top of every page.
    """
    from openpyxl.worksheet.page import PageMargins

    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_rows[0]}:{header_rows[1]}"
    ws.print_options.horizontalCentered = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.75, bottom=0.6, header=0.3, footer=0.3)
    for part, text in (
        (ws.oddHeader.left, source),
        (ws.oddHeader.center, title),
        (ws.oddHeader.right, when),
    ):
        if text:
            part.text = header_footer_text(text[:120])
            part.size = 9
    ws.oddFooter.center.text = "第 &P 页，共 &N 页" if lang == "zh" else "Page &P of &N"
    ws.oddFooter.center.size = 9
