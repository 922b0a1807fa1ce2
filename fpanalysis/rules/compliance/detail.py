"""The drill-down of unit compliance (rulebook §3): every row an indicator C1–C8 looked at, for
one period, in one frame and one order, so that every figure of a scorecard can be traced back to
the couples and events behind it."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from fpanalysis.core.params import Params
from fpanalysis.rules.compliance.events import event_rows
from fpanalysis.rules.compliance.indicators import (
    DETAIL_COLUMNS,
    INDICATORS,
    baseline_rows,
    check_rows,
    detail_rows,
    feedback_rows,
    followup_rows,
)
from fpanalysis.rules.compliance.period import Period, parse_period
from fpanalysis.rules.frames import Memo, as_dates, sort_rows

#: The tables an analysis of rulebook §3 reads (the CLI loads these).
TABLES_NEEDED = [
    "units",
    "persons",
    "couples",
    "children",
    "permits",
    "pregnancies",
    "surveys",
    "check_rounds",
    "check_attendance",
    "contraception",
]

#: The drill-down's text columns (the others are a date, flags and penalty points).
_TEXT_COLUMNS = [
    c
    for c in DETAIL_COLUMNS
    if c not in ("date", "in_denominator", "in_numerator", "penalty", "veto")
]


def compliance_detail(
    tables: Mapping[str, pd.DataFrame], params: Params, period: str | Period
) -> pd.DataFrame:
    """The drill-down behind every figure of the scorecard (rulebook §3).

    Args:
        tables: the dataset (``units``, ``persons``, ``couples`` and the event
            tables; absent event tables count as empty).
        params: parameters in force.
        period: ``2024``, ``2024H1``, ``2024H2`` or a :class:`Period`.

    Returns:
        Columns :data:`DETAIL_COLUMNS`, one row per couple / woman / event an
        indicator looked at: ``part`` is the half (C2) or round (C4);
        ``in_denominator`` (NA for the counts C5–C8), ``in_numerator`` (for a
        count: counted as a violation), ``penalty`` points, ``veto``, and the
        reason in Chinese and English. Sorted by unit, indicator (C1..C8),
        part, couple, event.
    """
    period = parse_period(period)
    tables = tables if isinstance(tables, Memo) else Memo(tables)  # keyed tables made once
    blocks = []
    if period.half in (None, 1):
        blocks.append(baseline_rows(tables, params, period))
    for h in period.halves:
        blocks.append(followup_rows(tables, params, h))
    blocks.append(feedback_rows(tables, params, period))
    blocks.append(check_rows(tables, params, period))
    blocks.extend(event_rows(tables, params, period))
    blocks = [b for b in blocks if len(b)]
    if not blocks:
        out = detail_rows(pd.RangeIndex(0))
    else:
        out = pd.concat(blocks, ignore_index=True)
    out["period"] = period.label
    for c in _TEXT_COLUMNS:
        out[c] = out[c].astype("str").where(out[c].notna())
    out["date"] = as_dates(out["date"])
    out["in_denominator"] = out["in_denominator"].astype("boolean")
    out["in_numerator"] = out["in_numerator"].astype("boolean").fillna(False)
    out["penalty"] = pd.to_numeric(out["penalty"]).astype("float64")
    out["veto"] = out["veto"].astype("boolean").fillna(False).astype(bool)
    return sort_detail(out)


def sort_detail(detail: pd.DataFrame) -> pd.DataFrame:
    """Detail rows in the drill-down's order: unit, indicator (C1..C8), part, couple, event, person.

    Stable, so rows of one couple keep their order: the drill-downs of parts
    holding whole couples, stacked and sorted, equal the drill-down of the whole.
    """
    out = detail.assign(_i=detail["indicator"].map({k: i for i, k in enumerate(INDICATORS)}))
    out = sort_rows(out, ["unit_id", "_i", "part", "couple_id", "event_id", "person_id"])
    return out.drop(columns="_i").reset_index(drop=True)[DETAIL_COLUMNS]
