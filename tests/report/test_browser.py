"""The dashboards in a real browser: headless Chromium against Voilà.

Starts one Voilà server over notebooks/ on a free 127.0.0.1 port, opens each
dashboard once (no retry), waits for its widgets and chart, moves the first
enabled slider with ArrowRight and checks that the chart or the figures change
(for the bonus and relief dashboards: that the widget's own inline-SVG chart is
redrawn), then saves a screenshot. The server is stopped by its PID. Skips when
Chromium or playwright is missing, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from fpanalysis.core import config

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DASHBOARDS = [
    pytest.param("01_unit_compliance.ipynb", id="compliance"),
    pytest.param("02_bonus_budget.ipynb", id="bonus"),
    pytest.param("03_relief_ranking.ipynb", id="relief"),
]
# the dashboards whose widget draws a chart
WIDGET_CHARTS = {"02_bonus_budget.ipynb", "03_relief_ranking.ipynb"}

pytestmark = [pytest.mark.slow]


def _need(ok: bool, reason: str) -> None:
    if not ok:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: the browser test must run)")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    _need(
        Path(CHROMIUM).exists(),
        "chromium not installed (run scripts/install-system-deps.sh as root)",
    )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "playwright not installed (pip install -e '.[dev]')")
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


def _chart_state(page) -> str:
    """Every chart on the page (the SVG sources): static outputs and the widgets' inline SVG."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.jp-RenderedSVG img, svg.marks'))
             .map(e => e.src || e.outerHTML).join('#')"""
    )


def _widget_chart_state(page) -> str:
    """The charts drawn by the dashboard's widgets only."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.widget-html svg.marks'))
             .map(e => e.outerHTML).join('#')"""
    )


def _widget_views(page) -> str:
    """What the dashboards' HTML widgets show (figures, tables, charts), not the sliders' own
    readouts."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.widget-html-content'))
             .map(e => e.innerHTML).join('#')"""
    )


@pytest.mark.parametrize("name", DASHBOARDS)
def test_dashboard_slider_changes_chart(browser, voila_url, name, tmp_path):
    nb = config.NOTEBOOKS_DIR / name
    _need(nb.exists(), f"{name} not written yet")
    page = browser.new_page(viewport={"width": 1280, "height": 2000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        # One attempt: Voilà runs the whole notebook before the page's load event. (The retry
        # that stood here covered a render that never finished about 1 run in 10 while the
        # bonus and relief dashboards drew through Output widgets; they now draw into HTML
        # widgets like the compliance ones.)
        page.goto(f"{voila_url}/voila/render/{name}", timeout=120_000)
        handle = page.locator(".widget-slider .noUi-handle").first
        handle.wait_for(state="visible", timeout=120_000)
        # Voilà shows the svg renderer's charts as <img src="data:image/svg+xml,..."> (like
        # JupyterLab).
        page.locator(".jp-RenderedSVG img").first.wait_for(timeout=60_000)
        if name in WIDGET_CHARTS:
            # the dashboard's own chart: inline SVG inside its HTML widget
            page.locator(".widget-html svg.marks").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)  # the widget's first drawing
        before = _chart_state(page)
        assert before, "no chart drawn"
        widget_before = _widget_chart_state(page)
        views_before = _widget_views(page)
        assert views_before, "no dashboard view drawn"
        changed = False
        handles = page.locator(".widget-slider .noUi-handle")
        # A slider may be disabled in the dashboard's starting state (the relief quota and
        # budget when "no limit" is chosen): skip those, and try the others in turn until one
        # changes the dashboard.
        for i in range(min(handles.count(), 4)):
            h = handles.nth(i)
            if h.evaluate("e => e.closest('[disabled]') !== null"):
                continue
            h.scroll_into_view_if_needed()
            h.click()
            for _ in range(5):
                h.press("ArrowRight")
            for _ in range(30):  # the kernel recomputes; give it up to 15 s
                page.wait_for_timeout(500)
                # what the kernel redrew, not the slider's readout (which changes at once)
                redrawn = (
                    _widget_chart_state(page) != widget_before
                    if name in WIDGET_CHARTS
                    else _widget_views(page) != views_before or _chart_state(page) != before
                )
                if redrawn:
                    changed = True
                    break
            if changed:
                break
        shot = tmp_path / f"{nb.stem}.png"
        page.screenshot(path=str(shot), full_page=True)
        if nb.stem == "02_bonus_budget" and os.environ.get("FPANALYSIS_SAVE_SCREENSHOT"):
            target = config.PROJ_ROOT / "docs" / "img" / "dashboard_bonus.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(target), full_page=False)
        assert changed, "moving a slider did not redraw the dashboard (its chart or its figures)"
        assert shot.stat().st_size > 10_000
        assert "Error loading script" not in page.inner_text("body")  # nothing from a CDN
    finally:
        page.close()
