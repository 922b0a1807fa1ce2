"""Shared fixtures for the tests (numpy.seterr(all="raise"): a floating-point error is an error)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fpanalysis.core import config

# A silent NaN or overflow in numpy arithmetic becomes a failure (Tax-Calculator's habit).
np.seterr(all="raise")

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BAD = FIXTURES / "bad"


@pytest.fixture
def sample_dir() -> Path:
    """The committed sample dataset, data/sample (CSV, English headers)."""
    return config.SAMPLE_DIR


@pytest.fixture
def bad_dir() -> Path:
    """tests/fixtures/bad: small datasets, each broken in one way (make_fixtures.py)."""
    return BAD


def sample_available() -> bool:
    """Whether data/sample holds the generated sample yet."""
    return config.SAMPLE_DIR.is_dir() and any(config.SAMPLE_DIR.glob("*.csv"))


# --------------------------------------------------------------------------- the register


@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL server for the whole test process, stopped after its last user."""
    import pg

    server = pg.acquire()
    yield server
    pg.release()


@pytest.fixture(params=["sqlite", "postgresql"])
def register_url(request, tmp_path) -> str:
    """A fresh register target on each backend: an SQLite file path or a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "register.sqlite")
    return request.getfixturevalue("pg_server").new_database()


# --------------------------------------------------------------------------- Dask engines
def flatten(value: Any) -> Iterator[Any]:
    """The objects of a gathered result (lists, tuples and dicts opened)."""
    if isinstance(value, list | tuple):
        for v in value:
            yield from flatten(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from flatten(v)
    else:
        yield value


@pytest.fixture
def arrivals(monkeypatch) -> list[Any]:
    """Every object the driver receives from the workers, in order of arrival.

    ``Future.result`` and ``Client.gather`` both fetch through
    ``Client._gather``; the fixture records a shallow copy of what it
    returns (as it arrived: the driver may drop an attribute once used).
    """
    import distributed

    got: list[Any] = []
    gather = distributed.Client._gather

    async def recording(self, futures, *args, **kwargs):
        out = await gather(self, futures, *args, **kwargs)
        got.extend(copy.copy(o) for o in flatten(out))
        return out

    monkeypatch.setattr(distributed.Client, "_gather", recording)
    return got


#: The scorecard's default weights and grade thresholds (rulebook §3), written out for the
#: hand-computed scoring cases.
SCORE_WEIGHTS = {
    "baseline_coverage": 0.25,
    "followup_coverage": 0.25,
    "feedback_timeliness": 0.15,
    "check_attendance": 0.35,
}
GRADE_THRESHOLDS = {"excellent": 90, "pass": 70}


# --------------------------------------------------------------------------- pytest-xdist
# `make test` runs the suite on two worker processes (`-n 2`, pyproject's `--dist loadfile`):
# each test file goes whole to one worker, so its module fixtures (a Dask cluster, a Voilà
# server, a generated dataset) are built once, and a notebook's cells run in order in one kernel.

#: Files that share one per-process cache (tests/cmdruns.py: every command run twice, the
#: slowest set-up of the suite): they go to the same worker, so the commands run once.
SHARED_WORKER = {
    "tests/system/test_determinism.py": "cmdruns",
    "tests/system/test_pii_outputs.py": "cmdruns",
    "tests/system/test_nothing_lost.py": "cmdruns",
}

#: How long the slowest files (or groups) took, in seconds: the junit file of one
#: `pytest -n 2 --junitxml` run on a 2-core machine (5 December 2026; test_compliance's while a
#: second run of it shared the machine). A free worker takes the longest one left first, so
#: that no long file starts last and runs alone. Only the order depends on these figures; a
#: file missing here starts after them, in collection order.
SLOW_SECONDS: dict[str, float] = {
    "cmdruns": 576,  # test_determinism 388 (the commands' runs), test_pii_outputs, nothing_lost
    "tests/rules/test_compliance.py": 285,
    "tests/engines/test_dask_relief_held.py": 203,
    "tests/system/test_write_guard.py": 94,
    "tests/rules/test_explain.py": 91,
    "tests/system/test_fuzz.py": 88,
    "tests/system/test_bench_commands.py": 81,
    "tests/io/test_validate_by_part.py": 72,
    "tests/rules/test_relief_lean.py": 71,
    "tests/report/test_report.py": 69,
    "tests/report/test_browser.py": 69,
    "tests/report/test_notebook_compliance.py": 69,
    "tests/report/test_report_pages.py": 67,
    "tests/io/test_typed_load.py": 65,
    "tests/register/test_register.py": 63,
    "tests/cli/test_committee_cli.py": 57,
    "tests/rules/test_compliance_sums.py": 55,
    "tests/engines/test_dask_bonus.py": 53,
    "tests/cli/test_committee_guarded.py": 50,
}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile`` with the groups of :data:`SHARED_WORKER` and the longest file first."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class FileGroupScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return SHARED_WORKER.get(path, path)

        def _assign_work_unit(self, node) -> None:
            # max() keeps the first of equals: files not in SLOW_SECONDS stay in collection order
            longest = max(self.workqueue, key=lambda scope: SLOW_SECONDS.get(scope, 0.0))
            self.workqueue.move_to_end(longest, last=False)
            super()._assign_work_unit(node)

    return FileGroupScheduling(config, log)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):  # noqa: ARG001
    """Print the workers' trust figures (tests/cmdruns.py) in the controller's summary."""
    import cmdruns

    for key, text in getattr(node, "workeroutput", {}).get("fpanalysis_figures", {}).items():
        cmdruns.record_figure(node.config, key, text)
