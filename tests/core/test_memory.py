"""``no_huge_pages``: numpy's huge-page advice turned off for a command's process and the
processes it starts, unless the user chose for themselves (each case in a fresh process, since
the choice is process-wide)."""

from __future__ import annotations

import os
import subprocess
import sys

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
