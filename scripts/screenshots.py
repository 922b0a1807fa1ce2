"""Screenshots for the README (``make screenshots``): the report's front page, each report's
first screen, one unit's page and each Voilà dashboard, taken by headless Chromium on
127.0.0.1 and written to ``docs/img/``.

    .venv/bin/python scripts/screenshots.py [--report DIR] [--out docs/img]

Without ``--report`` it builds the report on the sample first (about a minute). Every server
it starts (a static file server, Voilà) is stopped by its PID.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fpanalysis.core import config  # noqa: E402
from fpanalysis.io.notice import CHROMIUM_ARGS, chromium_path  # noqa: E402
from fpanalysis.report.dashboard import free_port, start_voila, stop  # noqa: E402

PAGES = {
    "report_index.png": "index.html",
    "report_compliance.png": "01_unit_compliance.html",
    "report_unit.png": "01_unit_compliance__U07.html",
    "report_bonus.png": "02_bonus_budget.html",
    "report_relief.png": "03_relief_ranking.html",
}
DASHBOARDS = {
    "dashboard_compliance.png": "01_unit_compliance.ipynb",
    "dashboard_bonus.png": "02_bonus_budget.ipynb",
    "dashboard_relief.png": "03_relief_ranking.ipynb",
}
VIEWPORT = {"width": 1280, "height": 900}


def serve(folder: Path) -> tuple[subprocess.Popen, str]:
    """A static file server for ``folder`` on 127.0.0.1 and its URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/", timeout=2).close()
            break
        except OSError:
            time.sleep(0.1)
    return proc, url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, help="an existing report folder")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        print("chromium not found (scripts/install-system-deps.sh)", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = None
    report = args.report
    if report is None:
        tmp = tempfile.TemporaryDirectory()
        report = Path(tmp.name) / "report"
        subprocess.run(
            [sys.executable, "-m", "fpanalysis", "report", "--out", str(report),
             "--units", "U07", "--no-progress"],
            check=True, cwd=ROOT,
        )  # fmt: skip
    server, url = serve(report)
    voila, vurl = start_voila(config.NOTEBOOKS_DIR, log=sys.stderr, timeout=120)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=exe, args=list(CHROMIUM_ARGS))
            try:
                for png, page_name in PAGES.items():
                    page = browser.new_page(viewport=VIEWPORT)
                    page.goto(f"{url}/{page_name}", wait_until="load")
                    page.screenshot(path=str(args.out / png))
                    page.close()
                    print(f"wrote {args.out / png}")
                for png, nb in DASHBOARDS.items():
                    page = browser.new_page(viewport=VIEWPORT)
                    page.goto(f"{vurl}/voila/render/{nb}", timeout=240_000)
                    page.locator(".widget-html-content .fp-versus").first.wait_for(timeout=240_000)
                    page.wait_for_timeout(1500)
                    page.screenshot(path=str(args.out / png))
                    page.close()
                    print(f"wrote {args.out / png}")
            finally:
                browser.close()
    finally:
        stop(voila)
        server.terminate()
        server.wait(10)
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
