"""The dashboards in a real browser: headless Chromium against Voilà.

Starts one Voilà server over notebooks/ (the project's template) on a free 127.0.0.1 port and
opens each dashboard once: its controls come before its tables, moving a control redraws the
difference from the starting settings (the ``fp-versus`` line: "U07 从 合格 降为 不合格",
"月金额 20 元 → 40 元：2026 年多支出 ¥…", "与基准相比：纳入多 N 户…"), and the page sends no
request to any host but 127.0.0.1 (the stock template fetched Font Awesome from a CDN). The
server is stopped by its PID. Skips when Chromium or playwright is missing, except under
CI=true, where that is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from fpanalysis.core import config
from fpanalysis.io.notice import CHROMIUM_ARGS, chromium_path

#: the package's Chromium and flags (what the notice and the briefing print with)
CHROMIUM = chromium_path() or "/usr/bin/chromium"
ARGS = list(CHROMIUM_ARGS)
#: notebook -> (the slider to move: its position among the sliders, presses of ArrowRight,
#: words the difference line must then hold)
DASHBOARDS = {
    "01_unit_compliance.ipynb": (2, 10, "降为"),  # C3 feedback weight up: U07 (0 %) falls
    "02_bonus_budget.ipynb": (0, 4, "多支出"),  # monthly amount 20 -> 40 yuan
    "03_relief_ranking.ipynb": (2, 3, "与基准相比"),  # urban standard up 30 yuan
}

pytestmark = [pytest.mark.slow]


def need(ok: bool, reason: str) -> None:
    """Skip (or, under CI=true, fail) when a browser test cannot run here."""
    if not ok:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: the browser test must run)")
        pytest.skip(reason)


def local_only(urls: list[str]) -> list[str]:
    """The requests that went anywhere but this machine (data: and blob: stay local)."""
    out = []
    for u in urls:
        p = urlparse(u)
        if p.scheme in ("data", "blob", "about", "file", "chrome-extension"):
            continue
        if p.hostname not in ("127.0.0.1",):
            out.append(u)
    return out


@pytest.fixture(scope="module")
def browser():
    need(
        Path(CHROMIUM).exists(),
        "chromium not installed (run scripts/install-system-deps.sh as root)",
    )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "playwright not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def voila_url(tmp_path_factory):
    from fpanalysis.report.dashboard import start_voila, stop

    log = (tmp_path_factory.mktemp("voila") / "voila.log").open("w")
    proc, url = start_voila(config.NOTEBOOKS_DIR, log=log)
    try:
        yield url
    finally:
        stop(proc)  # by PID, whatever happened
        log.close()


def _versus(page) -> str:
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.widget-html-content .fp-versus'))
             .map(e => e.innerText).join('#')"""
    )


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("01_unit_compliance.ipynb", id="compliance"),
        pytest.param("02_bonus_budget.ipynb", id="bonus"),
        pytest.param("03_relief_ranking.ipynb", id="relief"),
    ],
)
def test_dashboard_control_moves_the_difference_from_the_baseline(
    browser, voila_url, name, tmp_path
):
    nb = config.NOTEBOOKS_DIR / name
    need(nb.exists(), f"{name} not written yet")
    index, presses, words = DASHBOARDS[name]
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{voila_url}/voila/render/{name}", timeout=180_000)
        handles = page.locator(".widget-slider .noUi-handle")
        handles.first.wait_for(state="visible", timeout=180_000)
        page.locator(".widget-html-content .fp-versus").first.wait_for(timeout=60_000)
        # the controls come first: the slider sits above the report's first table
        slider_y = handles.first.bounding_box()["y"]
        first_table = page.locator("table.fp-table").first.bounding_box()["y"]
        assert slider_y < 1000 and slider_y < first_table
        before = _versus(page)
        assert before
        h = handles.nth(index)
        h.scroll_into_view_if_needed()
        h.click()
        for _ in range(presses):
            h.press("ArrowRight")
        after = before
        for _ in range(60):  # the kernel recomputes; give it up to 30 s
            page.wait_for_timeout(500)
            after = _versus(page)
            if after != before and "计算中" not in page.inner_text("body"):
                break
        page.screenshot(path=str(tmp_path / f"{nb.stem}.png"), full_page=False)
        assert after != before, "moving the control did not redraw the difference"
        assert words in after, after
        assert "Error loading script" not in page.inner_text("body")
        assert local_only(requests) == [], "requests left the machine"
    finally:
        page.close()
