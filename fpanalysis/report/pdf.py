"""The leadership briefing: the front page and the three reports in one A4 PDF
(``fpanalysis report --pdf``, ``briefing.pdf``), printed by Chromium through Playwright from one
page that joins them (each starting on a new sheet, the audit sections left folded), fonts
embedded by Chromium; nothing is loaded from the network, and the PDF's dates come from the
report's run time (``SOURCE_DATE_EPOCH``), so a rerun gives the same bytes."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from fpanalysis.core.clock import now_utc
from fpanalysis.io.notice import CHROMIUM_ARGS, chromium_path, pdf_with_dates

BRIEFING = "briefing.pdf"
_STYLE_RE = re.compile(r"<style[^>]*>.*?</style>", re.S)
_BODY_RE = re.compile(r"<body([^>]*)>(.*)</body>", re.S)
_SCRIPT_RE = re.compile(r"<script\b.*?</script>", re.S)


def briefing_html(report: Path, pages: Sequence[str]) -> str:
    """One HTML document holding ``pages`` of the report folder, each from a new sheet: the
    styles of every page once, then each page's body (scripts dropped)."""
    styles: list[str] = []
    bodies: list[str] = []
    for i, name in enumerate(pages):
        text = (report / name).read_text(encoding="utf-8")
        for st in _STYLE_RE.findall(text):
            if st not in styles:
                styles.append(st)
        m = _BODY_RE.search(text)
        attrs, body = (m.group(1), m.group(2)) if m else ("", text)
        body = _SCRIPT_RE.sub("", body)
        brk = ' style="break-before:page"' if i else ""
        bodies.append(f"<div{attrs}{brk}>{body}</div>")
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        "<title>简报 briefing</title>"
        + "".join(styles)
        + "<style>@page{size:A4;margin:12mm 10mm}details{display:none}"
        "body{max-width:none}.jp-Notebook{max-width:none}</style></head><body>"
        + "\n".join(bodies)
        + "</body></html>\n"
    )


def write_briefing(
    report: str | os.PathLike,
    pages: Sequence[str] = (
        "index.html",
        "01_unit_compliance.html",
        "02_bonus_budget.html",
        "03_relief_ranking.html",
    ),
    out: str | os.PathLike | None = None,
) -> Path:
    """Print the briefing of the report folder ``report`` to ``out`` (``briefing.pdf`` in it).

    Raises:
        RuntimeError: Chromium or playwright is missing.
    """
    from playwright.sync_api import sync_playwright

    report = Path(report)
    exe = chromium_path()
    if exe is None:
        raise RuntimeError("chromium not found (scripts/install-system-deps.sh installs it)")
    present = [p for p in pages if (report / p).is_file()]
    src = report / ".briefing.html"
    src.write_text(briefing_html(report, present), encoding="utf-8")
    out = Path(out) if out is not None else report / BRIEFING
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=exe, args=list(CHROMIUM_ARGS))
            try:
                page = browser.new_page()
                page.route(
                    re.compile(r"^https?://"), lambda route: route.abort()
                )  # nothing from the network
                page.goto(src.as_uri(), wait_until="load")
                pdf = page.pdf(
                    format="A4",
                    print_background=True,
                    prefer_css_page_size=True,
                    margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"},
                )
            finally:
                browser.close()
    finally:
        src.unlink(missing_ok=True)
    from fpanalysis.io.guard import write_bytes

    return write_bytes(out, pdf_with_dates(pdf, now_utc()))  # the write guard's atomic write
