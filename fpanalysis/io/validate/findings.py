"""A finding of the checks across fields and tables: the rows of one table that break one
rule, with the message (or a message per row), before it becomes one
:class:`~fpanalysis.core.dataset.Problem` per row; and the small helpers the checks share.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["Finding", "fmt_date", "map_values"]


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


def fmt_date(d) -> str:
    """A date as ``YYYY-MM-DD`` (empty when missing)."""
    return "" if pd.isna(d) else pd.Timestamp(d).strftime("%Y-%m-%d")


def map_values(values: pd.Series, ref: pd.Series) -> pd.Series:
    """``values.map(ref)`` for a uniquely indexed ``ref``, keeping ``ref``'s dtype.

    (pandas 3.1's ``Series.map`` fails on an empty datetime ``ref``.)
    """
    return pd.Series(ref.reindex(values.to_numpy()).to_numpy(), index=values.index, dtype=ref.dtype)
