"""JupyterLab for the analyst (``make lab``): on 127.0.0.1 only, in Simplified Chinese (the
``jupyterlab-language-pack-zh-cn`` pack installed with the environment), with autosave off so
that opening a committed notebook never rewrites it (a kernel reporting another Python version
marks a notebook changed, and autosave would then save it), and with its own settings and
workspaces under ``.jupyter-lab/`` (git-ignored; seeded with :data:`DEFAULT_SETTINGS` when
missing). Stopped by its PID."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from fpanalysis.core import config

#: The settings the project's JupyterLab starts with (plugin id -> settings).
DEFAULT_SETTINGS = {
    "@jupyterlab/translation-extension/plugin": {"locale": "zh_CN"},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}
STATE_DIR = config.PROJ_ROOT / ".jupyter-lab"


def seed_settings(settings_dir: Path) -> Path:
    """Write :data:`DEFAULT_SETTINGS` into a user-settings folder, keeping settings already
    there (the analyst's own choices win)."""
    for plugin, values in DEFAULT_SETTINGS.items():
        package, name = plugin.rsplit("/", 1)
        path = settings_dir / package / f"{name}.jupyterlab-settings"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values, indent=2) + "\n", encoding="utf-8")
    return settings_dir


def lab_command(port: int, root: Path, state: Path) -> list[str]:
    """The command line of the project's JupyterLab."""
    return [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        "--no-browser",
        "--allow-root",
        f"--ServerApp.root_dir={root}",
        "--IdentityProvider.token=",
        f"--LabApp.user_settings_dir={state / 'user-settings'}",
        f"--LabApp.workspaces_dir={state / 'workspaces'}",
    ]


def start_lab(
    port: int | None = None,
    *,
    root: Path = config.PROJ_ROOT,
    state: Path = STATE_DIR,
    log=None,
    timeout: float = 120,
) -> tuple[subprocess.Popen, str]:
    """Start the project's JupyterLab and wait until it answers; return it and its URL."""
    from fpanalysis.report.dashboard import free_port, wait_until_up

    port = port or free_port()
    seed_settings(state / "user-settings")
    (state / "workspaces").mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        lab_command(port, root, state),
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        cwd=str(root),
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_up(proc, url, "/lab", timeout, "jupyter lab")
    return proc, url


def main(argv: list[str] | None = None) -> int:
    """``python -m fpanalysis.report.lab [--port N]`` (``make lab``)."""
    from fpanalysis.report.dashboard import serve

    parser = argparse.ArgumentParser(
        prog="python -m fpanalysis.report.lab",
        description="JupyterLab（中文界面，仅本机） / JupyterLab in Chinese, 127.0.0.1 only",
    )
    parser.add_argument("--port", type=int, default=8888)
    args = parser.parse_args(argv)
    proc, url = start_lab(args.port, log=sys.stderr)
    print(f"JupyterLab: {url}/lab  (Ctrl-C 停止 / to stop)")
    return serve(proc)


if __name__ == "__main__":
    raise SystemExit(main())
