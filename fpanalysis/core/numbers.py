"""Numbers as they were written, and money to the fen: one copy of the rulebook's money
convention (amounts are exact; yuan become whole fen half up, through ``Decimal``).

A float read from a file or a parameter is the float nearest what was typed; its shortest
text (``repr``) is what was typed whenever that had at most 15 significant digits (any
amount to the fen below ten trillion yuan). So every conversion goes through that text, never
through the float's binary value: ``0.1 + 0.2`` is ``0.30000000000000004`` and becomes 30
fen, ``100.005`` becomes 10,001 fen (half up), not 10,000 (the float is a little below
``100.005``).

Used by the budget (the reward in fen), relief (incomes, standards and budgets in fen, band
texts), the findings' money texts, the explanations and the register's exact decimals.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "as_written",
    "half_up",
    "plain_text",
    "whole_fen",
    "yuan_to_fen",
    "yuan_to_fen_column",
]

#: Below this many fen (15 digits), an amount to the fen is the shortest text of the float
#: nearest it, so the float shows its two decimals exactly.
_EXACT_FEN = 10**15


def as_written(value: Any) -> Decimal:
    """The exact decimal of a number as it was written: a ``Decimal`` as it is, a float
    (``numpy.float64`` too) through its shortest text, anything else (an int, a text, a
    ``numpy.float32``, whose ``str`` is its own shortest text) through ``str``.

    Examples:
        >>> as_written(0.1), as_written(0.1 + 0.2), as_written("12.50"), as_written(7)
        (Decimal('0.1'), Decimal('0.30000000000000004'), Decimal('12.50'), Decimal('7'))
    """
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(float(value)))
    return Decimal(str(value))


def half_up(value: Any, places: int = 2) -> Decimal:
    """:func:`as_written` rounded to ``places`` decimals, half up.

    Examples:
        >>> half_up(2309.995), half_up(-0.125), half_up("4800"), half_up(0.5, 0)
        (Decimal('2310.00'), Decimal('-0.13'), Decimal('4800.00'), Decimal('1'))
    """
    return as_written(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def yuan_to_fen(value: Any) -> int:
    """An amount in yuan (a number or its text) as whole fen, half up.

    Examples:
        >>> yuan_to_fen(20), yuan_to_fen(12.345), yuan_to_fen("0.1"), yuan_to_fen(0.1 + 0.2)
        (2000, 1235, 10, 30)
        >>> yuan_to_fen("1234.565"), yuan_to_fen(100.005), yuan_to_fen(-0.005)
        (123457, 10001, -1)
    """
    return int(half_up(value, 2).scaleb(2))


def whole_fen(yuan: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Amounts in yuan (float64) that are whole fen, with numpy: ``(fen, exact)``.

    ``exact`` is where the amount is the float nearest ``fen / 100``, not a negative zero, and
    below :data:`_EXACT_FEN` fen: there ``fen`` is :func:`yuan_to_fen` of the amount and
    ``f"{v:.2f}"`` its text. Elsewhere ``fen`` means nothing.

    Examples:
        >>> fen, exact = whole_fen(np.array([1234.56, 0.1 + 0.2, -0.0, np.nan, 12.5]))
        >>> fen.tolist(), exact.tolist()
        ([123456, 30, 0, 0, 1250], [True, False, False, False, True])
    """
    v = np.asarray(yuan, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(v) & (np.abs(v) < _EXACT_FEN / 100)
        fen = np.where(finite, np.round(v * 100), 0).astype(np.int64)
        exact = finite & (fen / 100 == v) & ~((fen == 0) & np.signbit(v))
    return fen, exact


def yuan_to_fen_column(yuan: pd.Series) -> pd.Series:
    """:func:`yuan_to_fen` of each amount of a column (nullable ``Int64``; missing stays
    missing).

    Most amounts are whole fen (:func:`whole_fen`), converted with numpy; the rest (more
    decimals, huge, a negative zero) go through :func:`yuan_to_fen` itself.

    Examples:
        >>> yuan_to_fen_column(pd.Series([0.1 + 0.2, 1234.56, 100.005, 0.0, None])).tolist()
        [30, 123456, 10001, 0, <NA>]
    """
    fen, whole = whole_fen(yuan.to_numpy(np.float64, na_value=np.nan))
    out = pd.array(fen, dtype="Int64")
    rest = ~whole
    if rest.any():
        out[rest] = pd.array(
            yuan[rest].map(yuan_to_fen, na_action="ignore").astype("Int64"), dtype="Int64"
        )
    return pd.Series(out, index=yuan.index, name=yuan.name)


def plain_text(value: Any) -> str:
    """A number as written, without trailing zeros or an exponent (a band, a weight).

    Examples:
        >>> plain_text(0.25), plain_text(5.0), plain_text(1), plain_text(1e-7)
        ('0.25', '5', '1', '0.0000001')
    """
    return format(as_written(value).normalize(), "f")
