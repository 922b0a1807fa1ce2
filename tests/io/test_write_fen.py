"""Money written from whole fen (``write_table(..., fen=...)``): the same bytes as the same table
with the money as yuan Decimals, in every format, from one row to several row groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fpanalysis.io.write import write_table
from fpanalysis.rules.bonus import fen_to_yuan


def _tables(fen: dict[str, np.ndarray], labels: dict[str, object]):
    """The frame with fen columns, and the same frame with yuan Decimals."""
    as_fen = pd.DataFrame({**labels, **fen})
    as_yuan = pd.DataFrame(labels)
    for c, v in fen.items():  # as the budget table takes its money
        as_yuan[c] = fen_to_yuan(v)
    return as_fen, as_yuan


def _same_bytes(tmp_path, as_fen, as_yuan, suffix, lang="en"):
    a, b = tmp_path / f"fen{suffix}", tmp_path / f"yuan{suffix}"
    write_table(as_fen, a, lang=lang, fen=[c for c in as_fen if c.endswith("_yuan")])
    write_table(as_yuan, b, lang=lang)
    return a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize(
    "fen",
    [
        pytest.param([0], id="one-zero"),
        pytest.param([1250, 0, 5, 2000], id="small-amounts"),
        pytest.param([-5, 3, -123456, 99], id="negative-amounts"),
        pytest.param([10**17, -(10**17), 7], id="eighteen-digits"),
        pytest.param([0, 0, 0], id="all-zero"),
    ],
)
@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".xlsx"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_fen_written_as_yuan_decimals(tmp_path, fen, suffix, lang):
    v = np.array(fen, dtype=np.int64)
    n = len(v)
    as_fen, as_yuan = _tables(
        {"committed_yuan": v, "new_p50_yuan": v[::-1].copy()},
        {
            "month": pd.array([f"2025-{k % 12 + 1:02d}" for k in range(n)], dtype="str"),
            "unit_id": pd.array([f"U{k}" for k in range(n)], dtype="str"),
            "n": np.arange(n),
        },
    )
    assert _same_bytes(tmp_path, as_fen, as_yuan, suffix, lang)


@pytest.mark.parametrize(
    "labels",
    [
        pytest.param({}, id="no-row"),
        pytest.param({"note": ["a", None]}, id="object-column"),
    ],
)
def test_fen_tables_the_fast_path_leaves_alone(tmp_path, labels):
    """No row, or a column of Python objects (typed by its values): through the Decimals."""
    n = len(next(iter(labels.values()))) if labels else 0
    note = pd.Series(labels.get("note", []), dtype=object)
    as_fen, as_yuan = _tables({"x_yuan": np.arange(n, dtype=np.int64)}, {"note": note})
    assert _same_bytes(tmp_path, as_fen, as_yuan, ".parquet")


@pytest.mark.slow
def test_fen_parquet_over_several_row_groups(tmp_path):
    """More rows than pyarrow puts in one row group: the same groups, the same bytes."""
    rng = np.random.default_rng(7)
    n = 1024 * 1024 + 1000
    fen = rng.integers(0, 10**6, size=n)
    fen[-3:] = [10**9, 0, 5]  # the largest amount in the last group
    units = pd.array([f"U{k % 997:04d}" for k in range(n)], dtype="str")
    as_fen, as_yuan = _tables({"committed_yuan": fen}, {"unit_id": units})
    assert _same_bytes(tmp_path, as_fen, as_yuan, ".parquet")


def test_fen_to_yuan_is_the_decimal_of_each_amount():
    """One Decimal per distinct amount, shared: the same values as one per cell."""
    rng = np.random.default_rng(3)
    fen = rng.integers(-(10**6), 10**6, size=500)
    fen[::7] = 0
    got = fen_to_yuan(fen)
    from decimal import Decimal

    want = [Decimal(int(v)).scaleb(-2) for v in fen]
    assert got == want
    assert [str(g) for g in got] == [str(w) for w in want]
    assert fen_to_yuan(iter([150, 2])) == [Decimal("1.50"), Decimal("0.02")]
    assert fen_to_yuan([]) == []
