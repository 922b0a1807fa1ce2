"""The report as a reader opens it: headless Chromium over the report folder served on
127.0.0.1. Each page opens with its 结论 box and the box's figures are the command line's for the
same data (grades from ``fpanalysis compliance``, the year's committed amount from
``fpanalysis bonus``, who continues, enters and waits and the monthly total from ``fpanalysis
relief``); no page sends a request off the machine and no HTML refers to an external URL outside
its text; the front page names every unit with its grade and links it distinctly; the A4
briefing's first page renders. Skips without Chromium or playwright (fails under CI=true).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_browser import ARGS, CHROMIUM, local_only, need

pytestmark = [pytest.mark.slow, pytest.mark.notebook]
UNITS = ["U07", "U10"]
EPOCH = "1764288000"
PAGES = [
    "index.html",
    "01_unit_compliance.html",
    "02_bonus_budget.html",
    "03_relief_ranking.html",
    "01_unit_compliance__U07.html",
]
URL_RE = re.compile(r"https?://", re.I)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The report on the sample (two units' pages, the briefing), built once."""
    out = tmp_path_factory.mktemp("report") / "rep"
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    r = subprocess.run(
        [sys.executable, "-m", "fpanalysis", "report", "--out", str(out), "--units",
         ",".join(UNITS), "--pdf", "--no-progress"],
        capture_output=True, text=True, timeout=900, env=env,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    return out


def _cli(tmp: Path, *args: str) -> list[dict]:
    out = tmp / "out.csv"
    r = subprocess.run(
        [sys.executable, "-m", "fpanalysis", *args, "--lang", "en", "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    with out.open(encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def served(report):
    """The report folder over HTTP on 127.0.0.1 (stopped by its PID)."""
    from fpanalysis.report.dashboard import free_port

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=report, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    import time
    import urllib.request

    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/index.html", timeout=2).close()
            break
        except OSError:
            time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def pages(served):
    """Each page's conclusion box text, its whole text and the requests it made."""
    need(Path(CHROMIUM).exists(), "chromium not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "playwright not installed")
    got = {}
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for name in PAGES:
                page = b.new_page(viewport={"width": 1280, "height": 900})
                requests: list[str] = []
                page.on("request", lambda r, acc=requests: acc.append(r.url))
                page.goto(f"{served}/{name}", wait_until="load")
                box = page.locator(".fp-box").first
                got[name] = {
                    "box": box.inner_text(),
                    "box_y": box.bounding_box()["y"],
                    "text": page.inner_text("body"),
                    "requests": requests,
                    "links": page.eval_on_selector_all("a", "es => es.map(e => e.innerText)"),
                }
                page.close()
        finally:
            b.close()
    return got


@pytest.mark.parametrize("name", PAGES)
def test_page_opens_with_its_conclusions_and_stays_local(pages, name):
    p = pages[name]
    assert p["box"].startswith("结论")
    assert p["box_y"] < 700, "the conclusions are on the first screen"
    assert local_only(p["requests"]) == []
    for bad in ("POLICY.md", "NaN", "NaT", "<NA>", "open in JupyterLab", "VBox(", "rows ×"):
        assert bad not in p["text"], bad


def test_compliance_box_matches_the_command_line(pages, tmp_path):
    rows = _cli(tmp_path, "compliance")
    n = {g: sum(r["grade"] == g for r in rows) for g in ("excellent", "pass", "fail")}
    box = pages["01_unit_compliance.html"]["box"]
    assert f"优秀 {n['excellent']} 个，合格 {n['pass']} 个，不合格 {n['fail']} 个" in box
    assert pages["index.html"]["box"].startswith("结论")
    assert f"优秀 {n['excellent']} 个" in pages["index.html"]["text"]
    grade = {r["unit_id"]: r for r in rows}["U07"]
    label = {"excellent": "优秀", "pass": "合格", "fail": "不合格"}[grade["grade"]]
    unit_box = pages["01_unit_compliance__U07.html"]["box"]
    assert f"{label}，得分 {float(grade['score']):.2f}" in unit_box
    # the front page: every unit by name with a link of its own
    links = [t for t in pages["index.html"]["links"] if "单位报告" in t]
    assert len(links) == len(UNITS) == len(set(links)) and links[0].startswith("U")


def test_bonus_box_matches_the_command_line(pages, tmp_path):
    rows = _cli(tmp_path, "bonus")
    box = pages["02_bonus_budget.html"]["box"]
    year = re.search(r"(\d{4}) 年预计支出", box).group(1)
    committed = sum(float(r["committed_yuan"]) for r in rows if r["month"].startswith(year))
    assert f"其中已发证应付 ¥{committed:,.2f}" in box


def test_relief_box_matches_the_command_line(pages, tmp_path):
    rows = _cli(tmp_path, "relief")
    n = {s: sum(r["selection"] == s for r in rows) for s in ("continuing", "admitted", "waiting")}
    monthly = sum(int(r["entitlement_yuan"]) for r in rows if r["selected"] in ("True", "true"))
    box = pages["03_relief_ranking.html"]["box"]
    assert (
        f"继续保障 {n['continuing']} 户，新纳入 {n['admitted']} 户，候补 {n['waiting']} 户" in box
    )
    assert f"每月保障金 ¥{monthly:,.2f}" in box
    assert "没有分界线" in box  # the default run: no quota, all who qualify are covered


class _Urls(HTMLParser):
    """External URLs in attributes, scripts and styles (text content may mention one)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._raw = None

    def handle_starttag(self, tag, attrs):
        self.found += [f"{tag}[{k}]={v}" for k, v in attrs if v and URL_RE.search(v)]
        self._raw = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag):
        self._raw = None

    def handle_data(self, data):
        if self._raw and URL_RE.search(data):
            self.found.append(f"<{self._raw}> {URL_RE.search(data).group(0)}")


def test_no_html_refers_to_an_external_url(report):
    pages = sorted(report.glob("*.html"))
    assert len(pages) == 3 + len(UNITS) + 1
    for page in pages:
        parser = _Urls()
        parser.feed(page.read_text(encoding="utf-8"))
        assert parser.found == [], (page.name, parser.found[:3])


def test_briefing_is_a4_with_fonts_and_renders(report, tmp_path):
    need(shutil.which("pdftoppm") is not None, "poppler-utils not installed (pdftoppm, pdffonts)")
    pdf = report / "briefing.pdf"
    assert pdf.stat().st_size > 50_000
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "A4" in info
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert fonts.count(" yes ") >= 1 and " no  no " not in fonts  # every font embedded
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
        check=True,
    )
    png = next(tmp_path.glob("p*.png"))
    assert png.stat().st_size > 5_000
