"""The report folder: built in a temporary folder beside ``out`` and swapped in at the end in one
atomic step where the system allows it, so a failed or interrupted run leaves the previous
report as it was; an existing ``out`` is replaced only when it is a previous report or empty."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from fpanalysis.io.guard import Target, check_writes

REPORT_MARKER = "provenance.json"


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text with ``\\n`` line ends on every system."""
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def report_target(out: Path) -> Target:
    """``out`` as the write guard sees a report folder: replaced only when it is a previous
    report (it holds :data:`REPORT_MARKER`) or empty."""
    return Target("--out", out, "report", marker=REPORT_MARKER)


def prepare_out(out: Path) -> None:
    """Refuse to replace a folder that is not a previous report (the write guard's rule,
    :func:`fpanalysis.io.guard.check_writes`); make the folder it goes into."""
    check_writes([report_target(out)])
    out.parent.mkdir(parents=True, exist_ok=True)


def swap_in(build: Path, out: Path) -> None:
    """Put the finished ``build`` folder at ``out``; the old report goes only after."""
    umask = os.umask(0)
    os.umask(umask)
    build.chmod(0o777 & ~umask)  # mkdtemp makes 0700
    if out.exists():
        if exchange(build, out):
            # one atomic step: a run killed at any moment leaves the old report or the new one
            shutil.rmtree(build, ignore_errors=True)
            return
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        out.replace(old / "report")
        build.replace(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        build.replace(out)


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False where that is not available (another OS, an old kernel or C
    library, a file system without it); the caller then renames twice, which
    leaves a moment with no report at ``out`` (the old one is kept under a
    ``.NAME.old-*`` folder until the new one is in place).
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    renameat2.restype = ctypes.c_int
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0
