"""Numbers as written and money to the fen (``fpanalysis.core.numbers``): cases a person can
check on paper, and the column form against the one-value rule."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pandas.testing as pt
import pytest

from fpanalysis.core.numbers import as_written, half_up, plain_text, yuan_to_fen, yuan_to_fen_column

# (id, value in yuan, fen)
FEN_CASES = [
    ("whole-yuan", 20, 2000),
    ("two-decimals", 1234.56, 123456),
    ("text", "0.1", 10),
    ("float-sum-is-its-shortest-text", 0.1 + 0.2, 30),  # 0.30000000000000004 yuan
    ("half-fen-up", "12.345", 1235),
    ("half-fen-up-float", 12.345, 1235),  # the float is a little below 12.345; its text is not
    ("half-fen-up-100.005", 100.005, 10001),
    ("below-half", "1234.5649", 123456),
    ("negative-half-away-from-zero", -0.005, -1),
    ("decimal-as-is", Decimal("7.705"), 771),
    ("numpy-float64", np.float64(0.1), 10),
    ("numpy-float32-its-own-text", np.float32(0.1), 10),
    ("numpy-int", np.int64(770), 77000),
    ("zero", 0.0, 0),
]


@pytest.mark.parametrize(
    ("value", "fen"), [c[1:] for c in FEN_CASES], ids=[c[0] for c in FEN_CASES]
)
def test_yuan_to_fen(value, fen):
    assert yuan_to_fen(value) == fen


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (2309.995, 2, "2310.00"),
        (-0.125, 2, "-0.13"),
        ("4800", 2, "4800.00"),
        (0.5, 0, "1"),
        (81.225, 2, "81.23"),
        (Decimal("1.0049"), 2, "1.00"),
    ],
    ids=["half-up", "negative", "text", "whole", "score", "decimal-below-half"],
)
def test_half_up(value, places, expected):
    assert half_up(value, places) == Decimal(expected)
    assert str(half_up(value, places)) == expected


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.25, "0.25"), (5.0, "5"), (1, "1"), (1e-7, "0.0000001"), (0.6, "0.6"), ("1.50", "1.5")],
    ids=["quarter", "float-whole", "int", "tiny", "band", "text"],
)
def test_plain_text(value, text):
    assert plain_text(value) == text


def test_as_written_keeps_the_shortest_text_of_a_float():
    assert as_written(0.1) == Decimal("0.1")
    assert as_written(np.float64(2.675)) == Decimal("2.675")
    assert as_written(Decimal("0.333333333333333333")) == Decimal("0.333333333333333333")


def test_the_column_form_is_the_one_value_rule():
    rng = np.random.default_rng(10)
    values = np.concatenate(
        [
            rng.integers(-(10**9), 10**9, 2000) / 100,
            rng.random(200) * 1e4,
            [0.1 + 0.2, 100.005, 1e-3, -0.0, 0.0, np.nan, 1e15, 2.675, 1.005, 1234.565, 5e-324],
        ]
    )
    s = pd.Series(values, index=np.arange(len(values)) + 2, name="monthly_income")
    expected = s.map(yuan_to_fen, na_action="ignore").astype("Int64")
    pt.assert_series_equal(yuan_to_fen_column(s), expected)


def test_the_column_form_by_hand():
    s = pd.Series([0.1 + 0.2, 1234.56, 100.005, 0.0, None, 12.345])
    assert yuan_to_fen_column(s).tolist() == [30, 123456, 10001, 0, pd.NA, 1235]
