"""The drill-down of unit compliance (rulebook §3): every row an indicator C1–C8 looked at, for
one period, in one frame and one order, so that every figure of a scorecard can be traced back to
the couples and events behind it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial

import numpy as np
import pandas as pd

from fpanalysis.core import ahead
from fpanalysis.core.params import Params
from fpanalysis.core.timings import phase
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
from fpanalysis.rules.compliance.period import Period, month_day_in, parse_period
from fpanalysis.rules.frames import Memo, as_dates, let_go, rows_where, sort_order, texts_at

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

#: The columns of the largest tables a scorecard's rules read (C1-C8 without reasons; an
#: accountability list reads the spouses' names as well): the loader may keep only these
#: (:func:`scorecard_columns`), the names, ID numbers and sexes let go as they are validated.
SCORECARD_COLUMNS_READ = {
    "persons": ["person_id", "birth_date", "unit_id", "category", "hire_date", "leave_date"],
    "children": ["child_id", "couple_id", "birth_date"],
}

#: The drill-down's text columns (the others are a date, flags and penalty points).
_TEXT_COLUMNS = [
    c
    for c in DETAIL_COLUMNS
    if c not in ("date", "in_denominator", "in_numerator", "penalty", "veto")
]


def compliance_detail(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    period: str | Period,
    *,
    reasons: bool = True,
) -> pd.DataFrame:
    """The drill-down behind every figure of the scorecard (rulebook §3).

    Args:
        tables: the dataset (``units``, ``persons``, ``couples`` and the event
            tables; absent event tables count as empty).
        params: parameters in force.
        period: ``2024``, ``2024H1``, ``2024H2`` or a :class:`Period`.
        reasons: False leaves ``reason_zh`` and ``reason_en`` missing (for a
            scorecard alone, which reads no reason): each block of rows then
            waits for the others without its texts.

    Returns:
        Columns :data:`DETAIL_COLUMNS`, one row per couple / woman / event an
        indicator looked at: ``part`` is the half (C2) or round (C4);
        ``in_denominator`` (NA for the counts C5–C8), ``in_numerator`` (for a
        count: counted as a violation), ``penalty`` points, ``veto``, and the
        reason in Chinese and English. Sorted by unit, indicator (C1..C8),
        part, couple, event.
    """
    period = parse_period(period)
    blocks = list(detail_blocks(tables, params, period, reasons=reasons))
    blocks = [b for b in blocks if len(b)]
    if not blocks:
        return sort_detail(_typed(detail_rows(pd.RangeIndex(0)), period=period, reasons=reasons))
    # Stacked and sorted a column at a time, each block's column let go once stacked and each
    # stacked column once taken in order: one copy of the drill-down, not three.
    with phase("rules drill-down stacked and sorted"):
        columns = {
            c: pd.concat([b.pop(c) for b in blocks], ignore_index=True) for c in DETAIL_COLUMNS
        }
        del blocks
        return _take_sorted(columns)


def detail_blocks(
    tables: Mapping[str, pd.DataFrame],
    params: Params,
    period: str | Period,
    *,
    reasons: bool = True,
) -> Iterator[pd.DataFrame]:
    """The drill-down's blocks of rows (C1, C2 per half, C3, C4, C5-C8), typed, one after
    another, unstacked and unsorted: :func:`compliance_detail` stacks and sorts them, a scorecard
    alone adds each up as it comes (``scoring.compliance_sums``). Tables handed over are let go
    as the rules are done with them, as in :func:`compliance_detail`. When
    :func:`~fpanalysis.core.ahead.two_threads` allows the rows in all, C5-C8 and then C4 are made
    on a second thread while C1-C3 are (the same blocks, in the same order), and the tables are
    let go once both are done. Beyond (a province), C5-C8 alone are made on a second thread
    where :func:`~fpanalysis.core.ahead.fits_beside` allows, and each table is let go once its
    rules are done."""
    period = parse_period(period)
    own = not isinstance(tables, Memo)
    tables = Memo(tables) if own else tables  # keyed tables made once; their rows as read
    _keep_dated_surveys(tables, params, period)
    typed = partial(_typed, period=period, reasons=reasons)

    def events() -> list[pd.DataFrame]:
        with phase("rules C5-C8 events"):
            return [typed(b) for b in event_rows(tables, params, period)]

    def check() -> pd.DataFrame:
        with phase("rules C4 check attendance"):
            return typed(check_rows(tables, params, period, reasons=reasons))

    # Up to a city's tables, C5-C8 and then C4 are made on a second thread while C1-C3 are
    # (the frames they derive alike, such as the couples' spouses, made once:
    # :func:`~fpanalysis.rules.frames.memo`), and no table is let go before both threads are
    # done (C4 still lets go of its own days' scopes, which the others never read); a
    # province's, one after the other, each table let go once read. The two threads' shares
    # are near even at 2M people (``benchmarks/README.md``: 6.9 s against 6.3 s). The tables are
    # weighed as read, as their validation weighed them: a period keeps a part of a province's
    # surveys, and two threads over it held 9.4 GB on 10M people.
    # A province's C5-C8, where its memory allows (:func:`~fpanalysis.core.ahead.fits_beside`),
    # are made on a second thread while C1-C3 are; C4, the largest, after C1-C3 on the
    # caller's. C5-C8 read none of the tables C1-C3 and C4 let go, and a derived frame let go
    # meanwhile is made again where C5-C8 still ask for it. At 10M people the rules took
    # 20.4 s instead of 25.3 s, the command's peak 7.33 GB instead of 7.16 GB (C4's either way).
    two = ahead.two_threads(tables.rows_read)
    later = ahead.beside(lambda: (events(), check())) if two else None
    events_later = (
        ahead.beside(events) if not two and ahead.fits_beside(tables.rows_read) else events
    )
    done_with = partial(let_go, tables) if not two else lambda *a, **k: None
    if period.half in (None, 1):
        with phase("rules C1 baseline coverage"):
            block = typed(baseline_rows(tables, params, period, reasons=reasons))
        yield block
        del block  # each block let go before the next is made, not held while it is
    for h in period.halves:
        with phase("rules C2 follow-up coverage"):
            block = typed(followup_rows(tables, params, h, reasons=reasons))
        yield block
        del block
    with phase("rules C3 feedback timeliness"):
        block = typed(feedback_rows(tables, params, period))
    yield block
    del block
    done_with(("surveys",), kept=("couples_in_scope",))  # read by C1-C3 only
    if later is None:
        block = check()
        yield block
        del block
        done_with(("check_rounds", "check_attendance"), kept=("couples_in_scope",))  # C4 only
        blocks = events_later()
    else:
        with phase("rules C4-C8 (waited for)"):
            blocks, block = later()
        yield block
        del block
    if own or tables.handed_over:
        tables.kept.clear()  # what the rules derived is not needed to stack and sort
    let_go(tables, tuple(t for t in tables if t != "units"))
    while blocks:
        yield blocks.pop(0)


def surveys_in_view(params: Params, period: Period) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The rows of a surveys table C1–C3 can look at in ``period``: dated from the first day any
    of them reads to the last (the period, and for C1 1 January to the baseline deadline). The
    rules select the same surveys in the same order from these as from the whole table, so the
    loader may keep only these (``load_for_analysis(keep=)``) and the rules let go of the rest."""
    first, last = period.start, period.end
    if period.half in (None, 1):
        jan1 = pd.Timestamp(period.year, 1, 1)
        deadline = month_day_in(period.year, params.at("baseline_deadline", jan1))
        first, last = min(first, jan1), max(last, deadline)

    def keep(surveys: pd.DataFrame) -> pd.DataFrame:
        d = as_dates(surveys["survey_date"])
        return rows_where(surveys, ((d >= first) & (d <= last)).to_numpy(dtype=bool))

    return keep


def scorecard_columns() -> dict[str, Callable[[pd.DataFrame], pd.DataFrame]]:
    """Table -> the columns of it a scorecard's rules read (:data:`SCORECARD_COLUMNS_READ`), for
    the loader to keep (``load_for_analysis(keep=)``) when no drill-down nor accountability list
    is asked for: the same scorecard from a smaller dataset."""

    def columns(names: list[str]) -> Callable[[pd.DataFrame], pd.DataFrame]:
        return lambda frame: frame[[c for c in names if c in frame.columns]]

    return {t: columns(names) for t, names in SCORECARD_COLUMNS_READ.items()}


def _keep_dated_surveys(tables: Memo, params: Params, period: Period) -> None:
    """Tables handed over: only :func:`surveys_in_view` are kept, the others let go before the
    couples in scope are found. What the Memo made of the surveys before (keyed, their dates,
    their kinds' codes) was made of other rows: :func:`let_go` lets it go with them."""
    if not tables.handed_over or "surveys" not in tables:
        return
    view = surveys_in_view(params, period)(tables["surveys"])
    let_go(tables, ("surveys",))
    tables["surveys"] = view


def _typed(block: pd.DataFrame, period: Period, reasons: bool = True) -> pd.DataFrame:
    """A block of drill-down rows with the drill-down's types (texts as ``str``, missing stays
    missing; dates; nullable flags; float penalties) and the period, typed as it is made so that
    the blocks wait to be stacked as compact columns rather than as Python objects."""
    out = block
    out["period"] = period.label
    if not reasons:  # missing texts typed at once (not 2 million NaN floats turned to text)
        missing = texts_at([], np.full(len(out), -1))
        out["reason_zh"] = pd.Series(missing, index=out.index)
        out["reason_en"] = pd.Series(missing.copy(), index=out.index)
    for c in _TEXT_COLUMNS:
        if out[c].dtype != "str":  # a text column already typed stays as it is (no copy)
            out[c] = out[c].astype("str").where(out[c].notna())
    out["date"] = as_dates(out["date"])
    out["in_denominator"] = out["in_denominator"].astype("boolean")
    out["in_numerator"] = out["in_numerator"].astype("boolean").fillna(False)
    out["penalty"] = pd.to_numeric(out["penalty"]).astype("float64")
    out["veto"] = out["veto"].astype("boolean").fillna(False).astype(bool)
    return out


_SORT_KEYS = ["unit_id", "_i", "part", "couple_id", "event_id", "person_id"]


def _take_sorted(columns: dict[str, pd.Series]) -> pd.DataFrame:
    """The drill-down's columns (on one ``RangeIndex``) taken in the drill-down's order, each let
    go from ``columns`` once taken."""
    order = {k: i for i, k in enumerate(INDICATORS)}
    keys = pd.DataFrame(
        {k: columns["indicator"].map(order) if k == "_i" else columns[k] for k in _SORT_KEYS},
        copy=False,
    )
    at = sort_order(keys, _SORT_KEYS)
    del keys
    out = {}
    for c in DETAIL_COLUMNS:
        out[c] = columns.pop(c).take(at).reset_index(drop=True)
    return pd.DataFrame(out, copy=False)


def sort_detail(detail: pd.DataFrame) -> pd.DataFrame:
    """Detail rows in the drill-down's order: unit, indicator (C1..C8), part, couple, event, person.

    Stable, so rows of one couple keep their order: the drill-downs of parts
    holding whole couples, stacked and sorted, equal the drill-down of the whole.
    """
    flat = detail.reset_index(drop=True)
    return _take_sorted({c: flat[c] for c in DETAIL_COLUMNS})
