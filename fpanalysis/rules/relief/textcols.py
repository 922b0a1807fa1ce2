"""Texts of whole columns at once: the column forms of :mod:`.texts`' one-value formatters.

A province's round writes millions of reasons; row by row (a Python f-string a household)
that is most of its time. These build a column's texts with Arrow's string kernels: numbers
as text (:func:`int_texts`, :func:`yuan_texts`, :func:`cents_texts`, :func:`ratio_texts`),
dates (:func:`date_texts`), a few-valued column through each distinct value's text
(:func:`by_value`), pieces joined per row (:func:`cat`) and rows of several branches put back
in place (:func:`assemble`). Each gives, value for value, what its one-value counterpart in
:mod:`.texts` gives (``tests/rules/test_relief_texts.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fpanalysis.core.textnumbers import one_array

TEXT = pa.large_string()


def lit(text: str) -> pa.Scalar:
    """A literal piece of a text."""
    return pa.scalar(text, TEXT)


def repeat(text: str, n: int) -> pa.Array:
    """One text ``n`` times."""
    return pa.array([text], TEXT).take(pa.array(np.zeros(n, np.int64)))


def cat(*parts: pa.Array | pa.Scalar | str) -> pa.Array:
    """The pieces joined per row (``str`` pieces are literals)."""
    args = [lit(p) if isinstance(p, str) else p for p in parts]
    if not any(isinstance(a, pa.Array | pa.ChunkedArray) for a in args):
        raise ValueError("cat needs at least one column")
    return pc.binary_join_element_wise(*args, lit(""))


def int_texts(v: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """``str(int(v))`` of each value (int64); null where not ``valid``."""
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(np.asarray(v, dtype=np.int64), mask=mask).cast(TEXT)


def yuan_texts(
    fen: np.ndarray, whole_if_round: bool = False, valid: np.ndarray | None = None
) -> pa.Array:
    """:func:`.texts.yuan_text` of each amount in fen (int64); null where not ``valid``."""
    fen = np.asarray(fen, dtype=np.int64)
    a = np.abs(fen)
    whole = int_texts(a // 100, valid)
    out = cat(whole, ".", pc.utf8_lpad(int_texts(a % 100), 2, "0"))
    if whole_if_round:
        out = pc.if_else(pa.array(a % 100 == 0), whole, out)
    neg = fen < 0
    if neg.any():
        out = pc.if_else(pa.array(neg), cat("-", out), out)
    return out


def ratio_texts(num: np.ndarray, den: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """:func:`.texts._ratio_text` of each pair (int64); null where not ``valid`` (and where
    ``den`` is zero)."""
    den = np.asarray(den, dtype=np.int64)
    valid = (den != 0) & (True if valid is None else np.asarray(valid, dtype=bool))
    r = (np.asarray(num, dtype=np.int64) * 10000) // np.where(valid, den, 1)
    return cat(int_texts(r // 10000, valid), ".", pc.utf8_lpad(int_texts(r % 10000), 4, "0"))


def date_texts(d: pd.Series) -> pa.Array:
    """:func:`.texts.date_text` of each date (``YYYY-MM-DD``, empty when missing)."""
    days = pd.to_datetime(d).to_numpy("datetime64[ns]").astype("datetime64[D]")
    return pc.fill_null(pa.array(days, from_pandas=True).cast(TEXT), lit(""))


def by_value(values: pd.Series | Sequence[pd.Series], text: Callable[..., Any]) -> Any:
    """``text(v)`` of each value, computed once per distinct value (few-valued columns).

    ``values`` may be several columns (``text`` then takes one value of each); missing
    values are passed to ``text`` as they are. When ``text`` gives a tuple of texts, so does
    this (a column for each).
    """
    if isinstance(values, pd.Series):
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        made = [text(u) for u in uniques.tolist()]
    else:  # each column's codes, combined into one number per row
        each = [
            (c, u.tolist()) for c, u in (pd.factorize(v, use_na_sentinel=False) for v in values)
        ]
        combined = np.zeros(len(values[0]), np.int64)
        for c, u in each:
            combined = combined * len(u) + c
        codes, uniques = pd.factorize(combined)
        made = []
        for k in uniques.tolist():
            parts = []
            for _, u in reversed(each):
                k, j = divmod(k, len(u))
                parts.append(u[j])
            made.append(text(*reversed(parts)))
    take = pa.array(np.asarray(codes, dtype=np.int64))
    if made and isinstance(made[0], tuple):
        return tuple(pa.array(list(col), TEXT).take(take) for col in zip(*made, strict=True))
    return pa.array(made, TEXT).take(take)


def ints(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A column of whole numbers as ``(int64 values, present)``: ``int(v)`` where present."""
    present = s.notna().to_numpy(bool)
    if pd.api.types.is_integer_dtype(s.dtype):
        return s.to_numpy(np.int64, na_value=0), present
    v = s.to_numpy(np.float64, na_value=np.nan)
    present &= np.isfinite(v)
    return np.where(present, v, 0).astype(np.int64), present


def texts_of(s: pd.Series) -> pa.Array:
    """A column of texts as an Arrow array, missing values null (the caller sets them aside)."""
    if s.dtype == "str":
        return one_array(pa.array(s)).cast(TEXT)  # the Arrow data itself
    try:
        return pa.array(s.to_numpy(object), TEXT, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not only texts: as an f-string shows them
        return by_value(s, lambda v: f"{v}")


def assemble(n: int, parts: Sequence[tuple[np.ndarray, pa.Array]]) -> pa.Array:
    """The rows of several branches put back in place: ``parts`` are ``(positions, texts)``,
    the positions of all parts together covering ``0..n-1`` once."""
    parts = [(p, t) for p, t in parts if len(p)]
    if not parts:
        return pa.array([], TEXT)
    if len(parts) == 1:
        return parts[0][1]
    where = np.concatenate([p for p, _ in parts])
    inverse = np.empty(n, dtype=np.int64)
    inverse[where] = np.arange(n, dtype=np.int64)
    return pa.concat_arrays([t.cast(TEXT) for _, t in parts]).take(pa.array(inverse))


def combine(
    n: int, branches: Sequence[pa.Array], fix: tuple[np.ndarray, pa.Array] | None = None
) -> pa.Array:
    """Each row's text from the branch that writes it (the others are null there), and the
    rows of ``fix`` (``(positions, texts)``) from it."""
    if not branches:
        out = pa.nulls(n, TEXT)
    elif len(branches) == 1:
        out = branches[0]
    else:
        out = pc.coalesce(*branches)
    if fix is not None:
        mask = np.zeros(n, bool)
        mask[fix[0]] = True
        out = pc.replace_with_mask(out, pa.array(mask), fix[1].cast(TEXT))
    return out


def as_series(texts: pa.Array, index: pd.Index) -> pd.Series:
    """Arrow texts as a ``str`` column, in one piece (as a column made from Python texts is:
    a Parquet file's pages are cut where its pieces end)."""
    return pd.Series(one_array(texts).cast(TEXT), index=index, dtype="str")
