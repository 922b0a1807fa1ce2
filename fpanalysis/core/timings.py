"""Phase timings for measuring a command (docs/design.md, "Loading"): with the environment
variable ``FPANALYSIS_TIMINGS=1`` each phase (reading a table, validating, the command as a
whole) prints its wall time and the process's peak memory so far to stderr; otherwise nothing
is printed and nothing is measured.
"""

from __future__ import annotations

import contextlib
import os
import resource
import sys
import threading
import time
from collections.abc import Iterator

__all__ = ["enabled", "phase", "summary"]

#: Seconds spent so far per kind of phase (the first word of its name: ``read``, ``validate``).
_TOTALS: dict[str, float] = {}


def enabled() -> bool:
    """Whether ``FPANALYSIS_TIMINGS`` asks for timings (set and not ``0``)."""
    return os.environ.get("FPANALYSIS_TIMINGS", "") not in ("", "0")


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    """Time the block; print ``[timings] NAME: S s, peak M MB`` to stderr when enabled.

    A phase on a thread other than the main one (work done beside it) is shown as such and
    not added to the summary's sums, which split the main thread's wall time."""
    if not enabled():
        yield
        return
    t0 = time.perf_counter()
    try:
        yield
    finally:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        secs = time.perf_counter() - t0
        if threading.current_thread() is threading.main_thread():
            kind = name.split()[0]
            _TOTALS[kind] = _TOTALS.get(kind, 0.0) + secs
        else:  # beside the main thread's phases: shown, but its time is not theirs to add up
            name += " (second thread)"
        print(f"[timings] {name}: {secs:.2f} s, peak {peak:.0f} MB", file=sys.stderr, flush=True)


def summary(total: float) -> str:
    """One line: the seconds of each kind of phase and the rest of ``total`` (the analysis and
    writing its outputs)."""
    parts = [f"{k} {v:.2f} s" for k, v in _TOTALS.items() if k != "command"]
    rest = total - sum(v for k, v in _TOTALS.items() if k != "command")
    return "[timings] summary: " + ", ".join([*parts, f"analysis and outputs {rest:.2f} s"])
