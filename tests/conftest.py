"""Shared fixtures for the tests (numpy.seterr(all="raise"): a floating-point error is an error)."""

from __future__ import annotations

from pathlib import Path

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
