"""The notebooks as Voilà dashboards (``make dashboard``): one server for the ``notebooks/``
folder, each notebook an app with a live kernel on its default parameters, listening on
127.0.0.1 only (personal data never leaves the machine, even masked), without a token (local
use by the analyst), on ``--port`` (default 8866) and stopped by its PID. It uses the project's
template (``fpanalysis/report/jupyter/voila/templates/fpanalysis``), which loads nothing from
the network: the stock lab template fetches Font Awesome from a CDN."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from fpanalysis.core import config

#: The project's Jupyter data folder (the Voilà template), put first on ``JUPYTER_PATH``.
JUPYTER_DATA = Path(__file__).resolve().parent / "jupyter"
TEMPLATE = "fpanalysis"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def voila_command(target: str | os.PathLike, port: int) -> list[str]:
    """The command line of a Voilà server for ``target`` (a notebook or a folder) on ``port``.

    Examples:
        >>> for arg in voila_command("notebooks", 8870)[-5:]:
        ...     print(arg)
        --port=8870
        --Voila.ip=127.0.0.1
        --no-browser
        --Voila.tornado_settings={"allow_origin": ""}
        --template=fpanalysis
    """
    voila = Path(sys.executable).with_name("voila")
    exe = [str(voila)] if voila.exists() else [sys.executable, "-m", "voila"]
    return [
        *exe,
        str(target),
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--no-browser",
        '--Voila.tornado_settings={"allow_origin": ""}',
        f"--template={TEMPLATE}",
    ]


def voila_env() -> dict[str, str]:
    """The environment of a Voilà server: the project's Jupyter data folder first on
    ``JUPYTER_PATH`` (where its template is found)."""
    env = dict(os.environ)
    env["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(JUPYTER_DATA), env.get("JUPYTER_PATH", "")) if p
    )
    return env


def start_voila(
    target: str | os.PathLike = config.NOTEBOOKS_DIR,
    port: int | None = None,
    *,
    log=None,
    timeout: float = 60,
) -> tuple[subprocess.Popen, str]:
    """Start Voilà and wait until it answers; return the process and its base URL.

    The caller stops it with :func:`stop` (by PID).

    Raises:
        RuntimeError: the server did not answer within ``timeout`` seconds.
    """
    port = port or free_port()
    proc = subprocess.Popen(
        voila_command(target, port),
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        cwd=str(Path(target).parent if Path(target).is_file() else target),
        env=voila_env(),
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_up(proc, url, "/", timeout, "voila")
    return proc, url


def wait_until_up(proc: subprocess.Popen, url: str, path: str, timeout: float, what: str) -> None:
    """Wait until the server ``proc`` answers on ``url + path``; stop it and raise
    RuntimeError when it exits or stays silent for ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + path, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    stop(proc)
    raise RuntimeError(f"{what} did not answer on {url} within {timeout:.0f} s")


def stop(proc: subprocess.Popen) -> None:
    """Stop a server started here, by its PID (terminate, then kill)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def serve(proc: subprocess.Popen) -> int:
    """Let the server ``proc`` run until it ends or Ctrl-C, then stop it; the exit status 0."""
    try:
        proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop(proc)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fpanalysis.report.dashboard",
        description="笔记本仪表板（Voilà，仅本机） / "
        "the notebooks as Voilà dashboards (127.0.0.1 only)",
    )
    parser.add_argument("--port", type=int, default=8866)
    parser.add_argument("--notebooks", type=Path, default=config.NOTEBOOKS_DIR)
    args = parser.parse_args(argv)
    proc, url = start_voila(args.notebooks, args.port, log=sys.stderr)
    print(f"仪表板 dashboards: {url}/  (Ctrl-C 停止 / to stop)")
    for nb in sorted(Path(args.notebooks).glob("[0-9][0-9]_*.ipynb")):
        print(f"  {url}/voila/render/{nb.name}")
    return serve(proc)


if __name__ == "__main__":
    sys.exit(main())
