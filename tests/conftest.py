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
