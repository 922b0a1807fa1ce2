"""A finding of the checks across fields and tables: the rows of one table that break one
rule, with the message (or a message per row), before it becomes one
:class:`~fpanalysis.core.dataset.Problem` per row; and the small helpers the checks share.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fpanalysis.core import schema
from fpanalysis.core.dataset import Dataset, text_positions

__all__ = [
    "Finding",
    "fmt_date",
    "key_positions",
    "key_positions_each",
    "lookup",
    "map_values",
    "shared_lookups",
]


@dataclass(frozen=True)
class Finding:
    """The rows of ``table`` that break ``rule`` (one message, or one per row)."""

    table: str
    rows: pd.Index
    column: str
    rule: str
    zh: str
    en: str
    severity: str = "error"
    detail: pd.Series | None = None  # per-row extra text appended to both messages
    messages: pd.DataFrame | None = None  # per-row whole messages (message_zh, message_en)


def loaded_columns(ds: Dataset) -> Iterator[tuple[str, pd.DataFrame, schema.Column]]:
    """Every column the schema declares in every table ``ds`` holds: ``(table, frame, column)``."""
    for t in schema.TABLES_LIST:
        if t.name in ds:
            for c in t.columns:
                yield t.name, ds[t.name], c


def fmt_date(d) -> str:
    """A date as ``YYYY-MM-DD`` (empty when missing)."""
    return "" if pd.isna(d) else pd.Timestamp(d).strftime("%Y-%m-%d")


def map_values(values: pd.Series, ref: pd.Series) -> pd.Series:
    """``values.map(ref)`` for a uniquely indexed ``ref``, keeping ``ref``'s dtype.

    (pandas 3.1's ``Series.map`` fails on an empty datetime ``ref``.)
    """
    return pd.Series(ref.reindex(values.to_numpy()).to_numpy(), index=values.index, dtype=ref.dtype)


# The lookups of one validation (see :func:`shared_lookups`): (values, keys) -> positions, a
# stack per thread (the tables checked a part at a time may be checked on a thread of their own
# beside the others, :func:`~fpanalysis.io.validate.check.validate_dataset`).
_LOCAL = threading.local()


def _shared() -> list[dict]:
    """This thread's stack of look-ups."""
    stack = getattr(_LOCAL, "stack", None)
    if stack is None:
        stack = _LOCAL.stack = []
    return stack


@contextmanager
def shared_lookups(memo: dict | None = None) -> Iterator[None]:
    """Within: :func:`key_positions` of the same column in the same keys (the same arrays) is
    looked up once, the checks across tables asking again for what the references found.

    ``memo``: another thread's look-ups (:func:`callers_lookups`), shared with it (a lookup
    stored or read is one step of a dict); default: new ones, this thread's own."""
    stack = _shared()
    stack.append({} if memo is None else memo)
    try:
        yield
    finally:
        stack.pop()


def callers_lookups() -> Callable[[], AbstractContextManager[None]]:
    """For work handed to another thread (a pool's, the second thread of validation's checks):
    a context in which that thread shares this thread's look-ups, those of its innermost
    :func:`shared_lookups` (outside one: the other thread's own, let go at the end)."""
    stack = _shared()
    memo = stack[-1] if stack else None
    return lambda: shared_lookups(memo)


def key_positions(values: pd.Series, keys: pd.Series) -> np.ndarray:
    """The position of the first key equal to each value, -1 where none is (a missing value
    finds a missing key, as in pandas), as one hash lookup in pyarrow.

    Examples:
        >>> keys = pd.Series(["a", "b", "a", None], dtype="str")
        >>> key_positions(pd.Series(["a", "c", "b", None], dtype="str"), keys).tolist()
        [0, -1, 1, 3]
    """
    return key_positions_each([values], keys)[0]


def key_positions_each(columns: list[pd.Series], keys: pd.Series) -> list[np.ndarray]:
    """:func:`key_positions` of each of ``columns`` in the same ``keys``, with one hash of the
    keys for them all (building the hash of millions of keys takes longer than looking up a
    column in it): the columns are looked up as one, and the positions cut back apart. Within
    :func:`shared_lookups`, a column already looked up in the same keys is not looked up again.

    Examples:
        >>> keys = pd.Series(["a", "b", "a", None], dtype="str")
        >>> one, two = key_positions_each(
        ...     [pd.Series(["b", "c"], dtype="str"), pd.Series([None, "a", "b"], dtype="str")],
        ...     keys)
        >>> one.tolist(), two.tolist()
        ([1, -1], [3, 0, 1])
    """
    stack = _shared()
    memo = stack[-1] if stack else {}
    out: list[np.ndarray | None] = [None] * len(columns)
    for i, values in enumerate(columns):
        found = memo.get((id(values.array), id(keys.array)))
        if found is not None and found[0] is values.array and found[1] is keys.array:
            out[i] = found[2].astype("int64")
    todo = [i for i, at in enumerate(out) if at is None]
    if todo:
        together = _key_positions_together([columns[i] for i in todo], keys)
        for i, at in zip(todo, together, strict=True):
            if stack:  # held to the end of the check
                small = at.astype("int32") if len(keys) < 2**31 else at
                memo[(id(columns[i].array), id(keys.array))] = (columns[i].array, keys.array, small)
            out[i] = at
    return out  # type: ignore[return-value]


def _key_positions_together(columns: list[pd.Series], keys: pd.Series) -> list[np.ndarray]:
    """The positions of each column in ``keys``, by one lookup of their chunks taken as one
    column (:func:`~fpanalysis.core.dataset.text_positions`; no copy of their text unless their
    Arrow types differ)."""
    import pyarrow as pa

    from fpanalysis.core.dataset import arrow_text

    arrays = [arrow_text(v) for v in columns]
    if len({a.type for a in arrays}) > 1:
        arrays = [a.cast(pa.large_string()) for a in arrays]
    chunks = [c for a in arrays for c in (a.chunks if isinstance(a, pa.ChunkedArray) else [a])]
    whole = pa.chunked_array(chunks, type=arrays[0].type)
    at = text_positions(whole, arrow_text(keys))
    return np.split(at, np.cumsum([len(a) for a in arrays])[:-1])


def lookup(values: pd.Series, keys: pd.Series, column: pd.Series) -> pd.Series:
    """``column`` at the first row whose key equals each value (missing where none does):
    ``values.map(column.set_axis(keys)[~keys.duplicated()])``, without pandas' slow text index.

    Examples:
        >>> keys = pd.Series(["a", "b", "a"], dtype="str")
        >>> col = pd.Series(["x", "y", "z"], dtype="str")
        >>> lookup(pd.Series(["a", "c", "b"], dtype="str"), keys, col).tolist()
        ['x', nan, 'y']
    """
    pos = key_positions(values, keys)
    taken = column.reset_index(drop=True).array.take(pos, allow_fill=True)
    return pd.Series(taken, index=values.index, name=column.name)
