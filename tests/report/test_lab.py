"""The committed notebooks as an analyst meets them in JupyterLab (headless Chromium against the
project's JupyterLab on 127.0.0.1, fresh settings and workspace folders): the interface is in
Chinese, a notebook that was never run here (so not trusted) shows its charts as images and its
dashboards as a line saying to run it, not ``alt.Chart(...)`` or ``VBox(children=...)``, and
opening and closing it leaves the committed file byte for byte as it was. Skips without
Chromium or playwright (fails under CI=true)."""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
from pathlib import Path

import pytest
from test_browser import ARGS, CHROMIUM, local_only, need

from fpanalysis.core import config

pytestmark = [pytest.mark.slow]
NOTEBOOK = "02_bonus_budget.ipynb"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_open_notebook_in_lab_shows_charts_and_changes_nothing(tmp_path):
    need(Path(CHROMIUM).exists(), "chromium not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "playwright not installed")
    from fpanalysis.report.dashboard import stop
    from fpanalysis.report.lab import start_lab

    nb = config.NOTEBOOKS_DIR / NOTEBOOK
    has_pack = importlib.util.find_spec("jupyterlab_language_pack_zh_CN") is not None
    before = {p.name: _sha(p) for p in config.NOTEBOOKS_DIR.glob("*.ipynb")}
    log = (tmp_path / "lab.log").open("w")
    proc, url = start_lab(root=config.PROJ_ROOT, state=tmp_path / "state", log=log)
    requests: list[str] = []
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                page = b.new_page(viewport={"width": 1400, "height": 1000})
                page.on("request", lambda r: requests.append(r.url))
                page.goto(f"{url}/lab/tree/notebooks/{NOTEBOOK}", timeout=180_000)
                page.locator(".jp-Notebook").first.wait_for(timeout=180_000)
                img = page.locator(".jp-OutputArea-output img").first
                img.wait_for(state="visible", timeout=120_000)
                page.wait_for_timeout(8000)  # the kernel starts and reports its language
                text = page.inner_text("body")
                for bad in ("alt.Chart(", "alt.LayerChart(", "VBox(children"):
                    assert bad not in text, bad
                assert "运行笔记本后在此显示" in text  # the dashboard's line
                assert page.locator(".jp-mod-dirty").count() == 0, "the notebook became dirty"
                if has_pack:
                    assert "文件" in page.locator(".lm-MenuBar").first.inner_text()
                page.close()
            finally:
                b.close()
    finally:
        stop(proc)
        log.close()
    after = {p.name: _sha(p) for p in config.NOTEBOOKS_DIR.glob("*.ipynb")}
    assert after == before
    diff = subprocess.run(
        ["git", "diff", "--exit-code", "--stat", "--", str(nb)], cwd=config.PROJ_ROOT
    )
    assert diff.returncode == 0
    assert local_only(requests) == []
    need(has_pack, "jupyterlab-language-pack-zh-cn not installed (pip install -e '.[dev]')")
