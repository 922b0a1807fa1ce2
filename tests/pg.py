"""A throwaway PostgreSQL server for the tests (Debian's ``postgresql`` binaries).

:func:`start_server` runs ``initdb`` and ``pg_ctl`` from ``/usr/lib/postgresql/*/bin``
in a fresh temporary folder, listening on 127.0.0.1 and a free port only (its
socket in the same folder), as the ``postgres`` user through ``runuser`` when we
are root (the server refuses to run as root; CI runs as root). :meth:`PgServer.stop`
stops it (``pg_ctl stop -m immediate``, then a kill of the postmaster's PID if
that fails) and removes the folder. :func:`pg_server_or_skip` is what a
session fixture calls: without the binaries the tests skip with the reason,
except under ``CI=true`` where they fail (``scripts/install-system-deps.sh``
installs Debian ``postgresql``).

Starting takes about 2 s, so a test process starts one server (:func:`acquire`,
shared by the test modules) and each test gets its own database
(:meth:`PgServer.new_database`).
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def find_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding initdb and pg_ctl."""
    found = []
    for p in Path("/usr/lib/postgresql").glob("*/bin"):
        if (p / "initdb").exists() and (p / "pg_ctl").exists():
            try:
                found.append((int(p.parent.name.split(".")[0]), p))
            except ValueError:
                continue
    return max(found)[1] if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres() -> list[str]:
    """The prefix that runs a command as the ``postgres`` user when we are root."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


@dataclass
class PgServer:
    """A running throwaway server."""

    bindir: Path
    root: Path
    port: int
    pid: int | None = None
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self, prefix: str = "t") -> str:
        """Create an empty database; return its ``postgresql://`` URL."""
        import psycopg

        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and remove its folder; kill the postmaster by PID if pg_ctl fails."""
        try:
            if self.datadir.exists():
                r = subprocess.run(
                    [
                        *_as_postgres(),
                        str(self.bindir / "pg_ctl"),
                        "-D",
                        str(self.datadir),
                        "-m",
                        "immediate",
                        "-w",
                        "-t",
                        "20",
                        "stop",
                    ],
                    capture_output=True,
                    text=True,
                    timeout=30,
                    check=False,
                )
                if r.returncode != 0 and self.pid:
                    _kill(self.pid)
        except (subprocess.SubprocessError, OSError):
            if self.pid:
                _kill(self.pid)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def start_server() -> PgServer:
    """Start a server in a new temporary folder (raises RuntimeError with the log on failure)."""
    bindir = find_bindir()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL server binaries (/usr/lib/postgresql/*/bin) not found")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        raise FileNotFoundError(
            "runuser not found (needed to run PostgreSQL as postgres when root)"
        )
    root = Path(tempfile.mkdtemp(prefix="fpanalysis-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres", group="postgres")
    server = PgServer(bindir=bindir, root=root, port=_free_port())
    run = [*_as_postgres()]
    try:
        r = subprocess.run(
            [
                *run,
                str(bindir / "initdb"),
                "-D",
                str(server.datadir),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed: {r.stderr or r.stdout}")
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {server.port} -k {root} "
            "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        log = root / "server.log"
        r = subprocess.run(
            [
                *run,
                str(bindir / "pg_ctl"),
                "-D",
                str(server.datadir),
                "-o",
                opts,
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "start",
            ],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        pidfile = server.datadir / "postmaster.pid"
        if pidfile.exists():
            server.pid = int(pidfile.read_text().splitlines()[0])
        if r.returncode != 0:
            text = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {r.stderr or r.stdout}\n{text}")
        deadline = time.monotonic() + 30
        while True:  # pg_ctl -w already waited; make sure TCP answers too
            try:
                with socket.create_connection(("127.0.0.1", server.port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the server does not answer on 127.0.0.1") from None
                time.sleep(0.1)
    except BaseException:
        server.stop()
        raise
    return server


def pg_server_or_skip() -> PgServer:
    """Start a server, or skip the test with the reason (fail instead when ``CI=true``)."""
    reason = None
    if find_bindir() is None:
        reason = "PostgreSQL server binaries not installed (Debian package postgresql)"
    else:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            reason = "psycopg is not installed (pip install 'psycopg[binary]')"
    if reason is None:
        try:
            return start_server()
        except (RuntimeError, FileNotFoundError, OSError, subprocess.SubprocessError) as exc:
            reason = f"could not start PostgreSQL: {exc}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: PostgreSQL tests may not skip)")
    pytest.skip(reason)


_SHARED: dict = {"server": None, "users": 0}


def acquire() -> PgServer:
    """The test process's one server, started on first use (skips/fails like
    :func:`pg_server_or_skip`).

    Each test module's session fixture calls this and :func:`release`, so two
    modules share one server; an ``atexit`` hook stops it if the process ends early.
    """
    if _SHARED["server"] is None:
        server = pg_server_or_skip()
        atexit.register(server.stop)
        _SHARED["server"] = server
    _SHARED["users"] += 1
    return _SHARED["server"]


def release() -> None:
    """Stop the shared server when its last user is done."""
    _SHARED["users"] -= 1
    if _SHARED["users"] <= 0 and _SHARED["server"] is not None:
        _SHARED["server"].stop()
        _SHARED["server"] = None
