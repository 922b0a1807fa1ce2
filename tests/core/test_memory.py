"""``no_huge_pages``: numpy's huge-page advice turned off for a command's process and the
processes it starts, unless the user chose for themselves (each case in a fresh process, since
the choice is process-wide)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fpanalysis.core.memory import HUGE_PAGES_SWITCH

ASK = "import numpy as np; print(np._core.multiarray._get_madvise_hugepage())"
PROBE = f"""
import os, subprocess, sys
import numpy as np
from fpanalysis.core.memory import no_huge_pages
no_huge_pages()
run = dict(capture_output=True, text=True, check=True)
child = subprocess.run([sys.executable, "-c", {ASK!r}], **run).stdout.strip()
here = np._core.multiarray._get_madvise_hugepage()
print(here, os.environ.get("NUMPY_MADVISE_HUGEPAGE"), child)
"""


@pytest.mark.parametrize(
    ("given", "want"),
    [
        pytest.param(None, "False 0 False", id="unset-turned-off-here-and-in-children"),
        pytest.param("1", "True 1 True", id="user-said-1-kept"),
        pytest.param("0", "False 0 False", id="user-said-0-kept"),
    ],
)
def test_huge_pages_off_unless_chosen(given, want):
    env = {k: v for k, v in os.environ.items() if k != HUGE_PAGES_SWITCH}
    if given is not None:
        env[HUGE_PAGES_SWITCH] = given
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == want


def test_every_command_turns_them_off(monkeypatch):
    """The command line calls it before anything else (``fpanalysis --version`` included)."""
    calls = []
    monkeypatch.setattr("fpanalysis.core.memory.no_huge_pages", lambda: calls.append(1))
    from fpanalysis.cli import main

    assert main([]) == 2  # no command: the help, exit 2
    assert calls == [1]


# --------------------------------------------------------------------------- keep_freed_memory

#: A process that frees a 400 MB array and says how much of it it still holds (glibc only).
KEEP_PROBE = """
import os, sys
import numpy as np
from fpanalysis.core.memory import keep_freed_memory, no_huge_pages
no_huge_pages()
took = keep_freed_memory() if sys.argv[1] == "keep" else None

def resident_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

before = resident_mb()
a = np.ones(50_000_000)  # 400 MB, every page touched
del a
print(took, round(resident_mb() - before))
"""


def _probe(mode: str, **env: str) -> tuple[str, int]:
    if not Path("/proc/self/statm").exists():
        pytest.skip("no /proc/self/statm to read the resident memory from")
    full = {**{k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}, **env}
    out = subprocess.run(
        [sys.executable, "-c", KEEP_PROBE, mode],
        capture_output=True,
        text=True,
        env=full,
        check=True,
    ).stdout.split()
    return out[0], int(out[1])


def test_freed_memory_is_kept_for_the_next_arrays():
    """Kept: the freed array's 400 MB stay resident for the next one. glibc's default: a large
    array is unmapped when freed, and the next one takes fresh pages."""
    import ctypes.util

    if "libc" not in (ctypes.util.find_library("c") or ""):
        pytest.skip("not glibc: its allocator is left to its own ways")
    took, kept_mb = _probe("keep")
    assert took == "True" and kept_mb > 300
    took, default_mb = _probe("default")
    assert took == "None" and default_mb < 100


@pytest.mark.parametrize("switch", ["MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_"])
def test_the_users_own_malloc_setting_stands(switch):
    took, _ = _probe("keep", **{switch: "65536"})
    assert took == "False"


@pytest.mark.parametrize(
    ("engine", "calls"),
    [
        pytest.param([], [1], id="pandas-engine-keeps"),
        pytest.param(["--engine", "dask"], [], id="dask-driver-does-not"),
    ],
)
def test_a_command_on_the_pandas_engine_keeps_freed_memory(monkeypatch, tmp_path, engine, calls):
    got = []
    monkeypatch.setattr("fpanalysis.core.memory.keep_freed_memory", lambda: got.append(1))
    from fpanalysis.cli import main

    # a dataset that is not there: the command stops at once, after the choice was made
    argv = ["compliance", str(tmp_path / "none"), *engine, "--out", str(tmp_path / "o.csv")]
    assert main(argv) == 1
    assert got == calls
